package awssim

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// SimulatePrincipalPolicy: evaluates the identity policies of a user, group or role of the
// caller's account, and the permissions boundary of a user or role, for actions and
// resources, with the same evaluation the simulator enforces on callers (see policy.go for
// what it does not evaluate).

func init() {
	register("iam", map[string]opHandler{
		"SimulatePrincipalPolicy": iamSimulatePrincipalPolicy,
	})
}

type xmlEvaluationResult struct {
	EvalActionName       string            `xml:"EvalActionName"`
	EvalResourceName     string            `xml:"EvalResourceName"`
	EvalDecision         string            `xml:"EvalDecision"`
	MatchedStatements    xmlList[struct{}] `xml:"MatchedStatements"`
	MissingContextValues xmlList[string]   `xml:"MissingContextValues"`
	// PermissionsBoundaryDecisionDetail is present when the principal has a boundary.
	PermissionsBoundaryDecisionDetail *xmlBoundaryDetail `xml:"PermissionsBoundaryDecisionDetail,omitempty"`
}

type xmlBoundaryDetail struct {
	AllowedByPermissionsBoundary bool `xml:"AllowedByPermissionsBoundary"`
}

type simulateResult struct {
	EvaluationResults xmlList[xmlEvaluationResult] `xml:"EvaluationResults"`
	IsTruncated       bool                         `xml:"IsTruncated"`
	Marker            string                       `xml:"Marker,omitempty"`
}

// decisionName is the EvalDecision value of a decision.
func decisionName(d decision) string {
	switch d {
	case allowed:
		return "allowed"
	case explicitDeny:
		return "explicitDeny"
	}
	return "implicitDeny"
}

// principalPolicies returns the identity policy documents of the user, group or role
// with the ARN in the account, and its permissions boundary (has is false without one;
// groups have none).
func (w *World) principalPolicies(a *Account, arn string) (docs []string, boundary string, has bool, _ *apiError) {
	f := strings.SplitN(arn, ":", 6)
	if len(f) != 6 || f[0] != "arn" || f[2] != "iam" || f[4] == "" {
		return nil, "", false, &apiError{Status: 400, Code: "InvalidInput", Message: "Invalid ARN: " + arn}
	}
	kind, rest, _ := strings.Cut(f[5], "/")
	name := rest[strings.LastIndex(rest, "/")+1:]
	notFound := noSuchEntity(kind, name)
	if f[4] != a.ID {
		return nil, "", false, notFound
	}
	switch kind {
	case "user":
		if u := a.Users[name]; u != nil && u.ARN == arn {
			boundary, has := w.boundaryOf(a.ID, u, nil)
			return w.identityPolicies(&Principal{AccountID: a.ID, User: u}), boundary, has, nil
		}
	case "role":
		if r := a.Roles[name]; r != nil && r.ARN == arn {
			boundary, has := w.boundaryOf(a.ID, nil, r)
			return w.identityPolicies(&Principal{AccountID: a.ID, Role: r}), boundary, has, nil
		}
	case "group":
		if g := a.Groups[name]; g != nil && g.ARN == arn {
			var docs []string
			for _, n := range sortedKeys(g.InlinePolicies) {
				docs = append(docs, g.InlinePolicies[n])
			}
			for _, p := range g.AttachedPolicies {
				if pol := w.Policy(a, p); pol != nil {
					docs = append(docs, pol.Document())
				}
			}
			return docs, "", false, nil
		}
	default:
		return nil, "", false, &apiError{Status: 400, Code: "InvalidInput", Message: "PolicySourceArn must be the ARN of a user, group or role: " + arn}
	}
	return nil, "", false, notFound
}

// iamSimulatePrincipalPolicy returns one result per action and resource (resource "*"
// when ResourceArns is not given), paginated.
func iamSimulatePrincipalPolicy(q *request) (any, *apiError) {
	source, err := q.required("PolicySourceArn")
	if err != nil {
		return nil, err
	}
	actions := q.listParam("ActionNames")
	if len(actions) == 0 {
		return nil, iamValidation("1 validation error detected: Value null at 'actionNames' failed to satisfy constraint: Member must not be null")
	}
	resources := q.listParam("ResourceArns")
	if len(resources) == 0 {
		resources = []string{"*"}
	}
	docs, boundary, hasBoundary, err := q.w.principalPolicies(q.account(), source)
	if err != nil {
		return nil, err
	}
	// As in IAM, the simulator of policies knows only the condition keys the caller
	// passes as ContextEntries; a statement whose condition needs another key does not
	// apply, and the key is reported in MissingContextValues.
	ctx := map[string][]string{}
	for i := 1; ; i++ {
		prefix := fmt.Sprintf("ContextEntries.member.%d.", i)
		name := q.param(prefix + "ContextKeyName")
		if name == "" {
			break
		}
		ctx[strings.ToLower(name)] = q.listParam(prefix + "ContextKeyValues")
	}
	var results []xmlEvaluationResult
	for _, action := range actions {
		for _, resource := range resources {
			// Without ResourceArns the resource is "*" itself, which only a Resource
			// element of "*" matches, as in IAM.
			r := evalRequest{action: action, resource: resource, context: ctx}
			d := evaluate(docs, r)
			res := xmlEvaluationResult{EvalActionName: action, EvalResourceName: resource}
			if hasBoundary {
				b := evaluate([]string{boundary}, r)
				d = boundaryDecision(d, b)
				res.PermissionsBoundaryDecisionDetail = &xmlBoundaryDetail{AllowedByPermissionsBoundary: b == allowed}
				res.MissingContextValues = xmlListOf(missingContextKeys(append(slices.Clone(docs), boundary), r))
			} else {
				res.MissingContextValues = xmlListOf(missingContextKeys(docs, r))
			}
			res.EvalDecision = decisionName(d)
			results = append(results, res)
		}
	}
	pg, next, err := iamPage(q, results)
	if err != nil {
		return nil, err
	}
	return simulateResult{EvaluationResults: xmlListOf(pg), IsTruncated: next != "", Marker: next}, nil
}

// missingContextKeys lists the condition keys, as the policies write them, of the
// statements that apply to the action and resource but that the request's context lacks.
func missingContextKeys(docs []string, r evalRequest) []string {
	var out []string
	seen := map[string]bool{}
	for _, d := range docs {
		p, err := parsePolicy(d)
		if err != nil {
			continue
		}
		for _, st := range p.statements {
			conds := st.conditions
			st.conditions = nil
			if !st.matches(r) {
				continue
			}
			for _, c := range conds {
				k := strings.ToLower(c.key)
				if _, ok := r.context[k]; !ok && !seen[k] {
					seen[k] = true
					out = append(out, c.key)
				}
			}
		}
	}
	sort.Strings(out)
	return out
}
