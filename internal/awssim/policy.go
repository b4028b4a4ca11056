package awssim

import (
	"fmt"
	"strings"

	"github.com/gatehouse/gatehouse/internal/iampolicy"
)

// Policy evaluation, the subset AWS clients meet in practice:
//   - identity-based policies of the caller (user inline and attached, the user's groups'
//     inline and attached; role inline and attached for assumed-role sessions);
//   - Effect Allow/Deny, Action/NotAction, Resource/NotResource with * and ? wildcards;
//     an explicit Deny wins, no Allow is an implicit deny;
//   - trust policies: Principal (AWS account, root, user and role ARNs, "*"), and the
//     sts:ExternalId condition with StringEquals / StringLike.
// Not evaluated (documented in docs/simulator.md): Condition blocks in identity policies
// (a statement with a Condition never matches), permissions boundaries, SCPs (see
// Account.DenyAll for a whole-account deny), resource-based policies other than trust
// policies, session policies.

// parsePolicy parses a policy document, reporting a MalformedPolicyDocument error.
func parsePolicy(doc string) (*iampolicy.Document, *apiError) {
	p, err := iampolicy.Parse(doc)
	if err != nil {
		return nil, &apiError{Status: 400, Code: "MalformedPolicyDocument", Message: "The policy document is not valid JSON: " + err.Error()}
	}
	if len(p.Statement) == 0 {
		return nil, &apiError{Status: 400, Code: "MalformedPolicyDocument", Message: "Policy document must contain at least one Statement."}
	}
	for _, st := range p.Statement {
		if st.Effect != "Allow" && st.Effect != "Deny" {
			return nil, &apiError{Status: 400, Code: "MalformedPolicyDocument", Message: fmt.Sprintf("Statement Effect must be Allow or Deny, got %q.", st.Effect)}
		}
	}
	return p, nil
}

type decision int

const (
	implicitDeny decision = iota
	allowed
	explicitDeny
)

// evaluate applies identity policies to an action on a resource.
func evaluate(docs []string, action, resource string) decision {
	result := implicitDeny
	for _, d := range docs {
		p, err := parsePolicy(d)
		if err != nil {
			continue
		}
		for _, st := range p.Statement {
			if len(st.Condition) > 0 {
				continue
			}
			if !st.Applies(action, resource) {
				continue
			}
			if st.Effect == "Deny" {
				return explicitDeny
			}
			result = allowed
		}
	}
	return result
}

// identityPolicies returns every identity-based policy document that applies to the caller.
func (w *World) identityPolicies(p *Principal) []string {
	a := w.Accounts[p.AccountID]
	if a == nil {
		return nil
	}
	var docs []string
	addManaged := func(arns []string) {
		for _, arn := range arns {
			if pol := w.Policy(a, arn); pol != nil {
				docs = append(docs, pol.Document())
			}
		}
	}
	switch {
	case p.Role != nil:
		for _, name := range sortedKeys(p.Role.InlinePolicies) {
			docs = append(docs, p.Role.InlinePolicies[name])
		}
		addManaged(p.Role.AttachedPolicies)
	case p.User != nil:
		for _, name := range sortedKeys(p.User.InlinePolicies) {
			docs = append(docs, p.User.InlinePolicies[name])
		}
		addManaged(p.User.AttachedPolicies)
		for _, g := range a.GroupsOf(p.User.Name) {
			for _, name := range sortedKeys(g.InlinePolicies) {
				docs = append(docs, g.InlinePolicies[name])
			}
			addManaged(g.AttachedPolicies)
		}
	}
	return docs
}

// authorize checks the caller's identity policies for the action on the resource.
func (q *request) authorize(action, resource string) *apiError {
	if action == "" || q.caller.Root {
		return nil
	}
	if evaluate(q.w.identityPolicies(q.caller), action, resource) == allowed {
		return nil
	}
	return accessDenied(q.caller, action, resource)
}

// accessDenied is the error AWS returns when an identity policy does not allow an action;
// like AWS's, its message names the caller, the action and the resource.
func accessDenied(p *Principal, action, resource string) *apiError {
	if resource == "" {
		resource = "*"
	}
	return &apiError{Status: 403, Code: "AccessDenied",
		Message: fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s because no identity-based policy allows the %s action", p.ARN, action, resource, action)}
}

// trustAllows evaluates a role's trust policy for AssumeRole by the caller with the
// given external id (empty when none was sent).
func trustAllows(trustPolicy string, caller *Principal, externalID string) (bool, string) {
	p, err := parsePolicy(trustPolicy)
	if err != nil {
		return false, "the role's trust policy is malformed"
	}
	allowedBy := false
	for _, st := range p.Statement {
		if !iampolicy.AnyMatch(st.Action, "sts:AssumeRole", true) {
			continue
		}
		if !principalMatches(st.Principal, caller) {
			continue
		}
		if !conditionsHold(st.Condition, externalID) {
			continue
		}
		if st.Effect == "Deny" {
			return false, "an explicit deny in the trust policy"
		}
		allowedBy = true
	}
	if !allowedBy {
		return false, "the trust policy does not allow it"
	}
	return true, ""
}

func principalMatches(pb iampolicy.Principal, caller *Principal) bool {
	if pb.Any {
		return true
	}
	for _, want := range pb.AWS {
		switch {
		case want == "*":
			return true
		case want == caller.AccountID, want == "arn:aws:iam::"+caller.AccountID+":root":
			return true
		case want == caller.IdentityARN():
			return true
		}
	}
	return false
}

// conditionsHold evaluates the condition keys a trust policy for Gatehouse uses. An
// unsupported condition key makes the statement not match (fail closed).
func conditionsHold(cond map[string]map[string]iampolicy.StringList, externalID string) bool {
	for op, kv := range cond {
		for key, values := range kv {
			if !strings.EqualFold(key, "sts:ExternalId") {
				return false
			}
			ok := false
			for _, v := range values {
				switch op {
				case "StringEquals":
					ok = ok || (externalID != "" && v == externalID)
				case "StringLike":
					ok = ok || (externalID != "" && iampolicy.Match(v, externalID))
				default:
					return false
				}
			}
			if !ok {
				return false
			}
		}
	}
	return true
}
