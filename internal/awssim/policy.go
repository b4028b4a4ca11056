package awssim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Policy evaluation, the simulator's own. It does not share code with the evaluator of
// `gatehouse doctor` (internal/iampolicy): the simulator plays AWS in the tests of that
// evaluator, so the two must not be one piece of code checking itself. Both are held to
// the same table of cases from AWS's documentation (TestEvaluationFollowsAWSDocumentation
// in internal/doctor).
//
// What is evaluated:
//   - identity-based policies of the caller (user inline and attached, the user's groups'
//     inline and attached; role inline and attached for assumed-role sessions);
//   - Effect Allow/Deny, Action/NotAction (case-insensitive), Resource/NotResource
//     (case-sensitive) with the wildcards * and ?; an explicit Deny wins, no Allow is an
//     implicit deny;
//   - Condition blocks with the operators StringEquals, StringNotEquals,
//     StringEqualsIgnoreCase, StringNotEqualsIgnoreCase, StringLike, StringNotLike,
//     DateEquals, DateNotEquals, DateLessThan, DateLessThanEquals, DateGreaterThan,
//     DateGreaterThanEquals (each also with IfExists), Bool and Null, on the keys of the
//     request context the simulator knows (requestContextKeys); a condition on any other
//     key, or with any other operator, never holds, so its statement never applies;
//   - trust policies: Principal ("*", an AWS account, account root, user and role ARNs),
//     with the same conditions and sts:ExternalId.
//   - permissions boundaries of users and roles (assumed-role sessions included): an
//     action must be allowed by the identity policies and by the boundary, and a Deny in
//     either wins (boundaryDecision).
// Not evaluated (documented in docs/simulator.md): SCPs (see
// Account.DenyAll for a whole-account deny), resource-based policies other than trust
// policies, session policies, NotPrincipal, policy variables.

// simPolicy is a policy document as the simulator reads it.
type simPolicy struct {
	statements []simStatement
}

// simStatement is one statement. The has* fields tell an absent element from an empty
// one, as the grammar does.
type simStatement struct {
	effect       string
	principal    simPrincipal
	hasPrincipal bool
	notPrincipal bool
	actions      []string
	notActions   []string
	hasNotAction bool
	resources    []string
	notResources []string
	hasResource  bool
	hasNotRes    bool
	conditions   []simCondition
}

// simPrincipal is the Principal element: "*" or {"AWS"|"Service"|"Federated": ...}.
type simPrincipal struct {
	anyone                  bool
	aws, service, federated []string
}

// simCondition is one (operator, key, values) triple of a Condition block.
type simCondition struct {
	operator string
	key      string
	values   []string
}

// parsePolicy reads a policy document, reporting a MalformedPolicyDocument error as IAM
// does for what it cannot read.
func parsePolicy(doc string) (*simPolicy, *apiError) {
	malformed := func(format string, args ...any) *apiError {
		return &apiError{Status: 400, Code: "MalformedPolicyDocument", Message: fmt.Sprintf(format, args...)}
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal([]byte(doc), &top); err != nil {
		return nil, malformed("The policy document is not valid JSON: %v", err)
	}
	raw, ok := top["Statement"]
	if !ok {
		return nil, malformed("Policy document must contain at least one Statement.")
	}
	var rawStatements []json.RawMessage
	if t := bytes.TrimSpace(raw); len(t) > 0 && t[0] == '{' {
		rawStatements = []json.RawMessage{t}
	} else if err := json.Unmarshal(raw, &rawStatements); err != nil {
		return nil, malformed("The policy document is not valid JSON: Statement must be an object or a list of objects")
	}
	if len(rawStatements) == 0 {
		return nil, malformed("Policy document must contain at least one Statement.")
	}
	p := &simPolicy{}
	for _, rs := range rawStatements {
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(rs, &fields); err != nil {
			return nil, malformed("The policy document is not valid JSON: a statement is not an object")
		}
		var st simStatement
		if err := json.Unmarshal(fields["Effect"], &st.effect); err != nil || (st.effect != "Allow" && st.effect != "Deny") {
			return nil, malformed("Statement Effect must be Allow or Deny, got %s.", strconv.Quote(st.effect))
		}
		var err error
		list := func(name string, dst *[]string, has *bool) {
			v, ok := fields[name]
			if !ok || err != nil {
				return
			}
			if has != nil {
				*has = true
			}
			*dst, err = textList(v)
			if err != nil {
				err = fmt.Errorf("%s: %v", name, err)
			}
		}
		var hasAction bool
		list("Action", &st.actions, &hasAction)
		list("NotAction", &st.notActions, &st.hasNotAction)
		list("Resource", &st.resources, &st.hasResource)
		list("NotResource", &st.notResources, &st.hasNotRes)
		if err != nil {
			return nil, malformed("The policy document is not valid JSON: %v", err)
		}
		if v, ok := fields["Principal"]; ok {
			st.hasPrincipal = true
			if st.principal, err = readPrincipal(v); err != nil {
				return nil, malformed("The policy document is not valid JSON: Principal: %v", err)
			}
		}
		_, st.notPrincipal = fields["NotPrincipal"]
		if v, ok := fields["Condition"]; ok {
			if st.conditions, err = readConditions(v); err != nil {
				return nil, malformed("The policy document is not valid JSON: Condition: %v", err)
			}
		}
		p.statements = append(p.statements, st)
	}
	return p, nil
}

// textList reads a string or a list of strings; numbers and booleans (which condition
// values may be) become their JSON text.
func textList(raw json.RawMessage) ([]string, error) {
	var items []json.RawMessage
	if t := bytes.TrimSpace(raw); len(t) > 0 && t[0] == '[' {
		if err := json.Unmarshal(t, &items); err != nil {
			return nil, err
		}
	} else {
		items = []json.RawMessage{raw}
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		it = bytes.TrimSpace(it)
		switch {
		case len(it) > 0 && it[0] == '"':
			var s string
			if err := json.Unmarshal(it, &s); err != nil {
				return nil, err
			}
			out = append(out, s)
		case string(it) == "true" || string(it) == "false":
			out = append(out, string(it))
		default:
			var n json.Number
			if err := json.Unmarshal(it, &n); err != nil {
				return nil, fmt.Errorf("expected a string or a list of strings, got %s", it)
			}
			out = append(out, n.String())
		}
	}
	return out, nil
}

func readPrincipal(raw json.RawMessage) (simPrincipal, error) {
	var p simPrincipal
	if string(bytes.TrimSpace(raw)) == `"*"` {
		p.anyone = true
		return p, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return p, fmt.Errorf(`must be "*" or an object`)
	}
	var err error
	for k, v := range m {
		var vals []string
		if vals, err = textList(v); err != nil {
			return p, err
		}
		switch k {
		case "AWS":
			p.aws = vals
		case "Service":
			p.service = vals
		case "Federated":
			p.federated = vals
		}
	}
	return p, nil
}

func readConditions(raw json.RawMessage) ([]simCondition, error) {
	var block map[string]map[string]json.RawMessage
	if err := json.Unmarshal(raw, &block); err != nil {
		return nil, fmt.Errorf("must map operators to keys to values")
	}
	var out []simCondition
	for op, keys := range block {
		for key, v := range keys {
			vals, err := textList(v)
			if err != nil {
				return nil, err
			}
			out = append(out, simCondition{operator: op, key: key, values: vals})
		}
	}
	return out, nil
}

// wildcardMatch reports whether s matches the pattern, where "*" stands for any run of
// characters (slashes and colons included) and "?" for exactly one. It fills a table of
// which prefixes of the pattern match which prefixes of s, one row per pattern byte.
func wildcardMatch(pattern, s string) bool {
	// prev[j] is true when the pattern so far matches s[:j].
	prev := make([]bool, len(s)+1)
	cur := make([]bool, len(s)+1)
	prev[0] = true
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		cur[0] = c == '*' && prev[0]
		for j := 1; j <= len(s); j++ {
			switch c {
			case '*':
				cur[j] = prev[j] || cur[j-1]
			case '?':
				cur[j] = prev[j-1]
			default:
				cur[j] = prev[j-1] && s[j-1] == c
			}
		}
		prev, cur = cur, prev
	}
	return prev[len(s)]
}

// actionMatches compares an action with a policy's action pattern: IAM action names are
// case-insensitive ("IAM:listusers" is iam:ListUsers).
func actionMatches(pattern, action string) bool {
	return wildcardMatch(strings.ToLower(pattern), strings.ToLower(action))
}

// resourceMatches compares a resource ARN with a policy's resource pattern: ARNs are
// case-sensitive.
func resourceMatches(pattern, arn string) bool { return wildcardMatch(pattern, arn) }

func anyOf(patterns []string, s string, match func(p, s string) bool) bool {
	for _, p := range patterns {
		if match(p, s) {
			return true
		}
	}
	return false
}

// evalRequest is what a statement is checked against.
type evalRequest struct {
	action string
	// resource is the resource ARN, or "" when the simulator does not model it (then
	// every Resource element matches and no NotResource excludes it).
	resource string
	// context holds the request's condition keys, lower-cased, and their values.
	context map[string][]string
}

// requestContextKeys are the condition keys the simulator puts in request contexts.
var requestContextKeys = map[string]bool{
	"aws:principalaccount": true, "aws:principalarn": true, "aws:principalorgid": true,
	"aws:resourceaccount": true, "aws:resourceorgid": true, "sts:externalid": true,
	// Present for temporary credentials only (see requestContext).
	"aws:tokenissuetime": true,
	// Present for the role sessions of IAM Identity Center users (see portal.go).
	"identitystore:userid": true,
	// Present for s3:ListBucket requests that send a prefix (see s3Context).
	"s3:prefix": true,
}

// matches reports whether the statement's Action/NotAction, Resource/NotResource and
// Condition all apply to the request.
func (st *simStatement) matches(r evalRequest) bool {
	if st.hasNotAction {
		if anyOf(st.notActions, r.action, actionMatches) {
			return false
		}
	} else if !anyOf(st.actions, r.action, actionMatches) {
		return false
	}
	if r.resource != "" {
		switch {
		case st.hasNotRes:
			if anyOf(st.notResources, r.resource, resourceMatches) {
				return false
			}
		case st.hasResource:
			if !anyOf(st.resources, r.resource, resourceMatches) {
				return false
			}
		}
	}
	for _, c := range st.conditions {
		if !c.holds(r.context) {
			return false
		}
	}
	return true
}

// holds evaluates one condition against the request context, as IAM's documentation
// describes the operators: a key with several policy values holds when any value
// matches (OR); a missing key fails every operator but the negated ones, IfExists and
// Null. Unsupported operators and keys the simulator does not know never hold.
func (c simCondition) holds(ctx map[string][]string) bool {
	key := strings.ToLower(c.key)
	if !requestContextKeys[key] {
		return false
	}
	got, present := ctx[key]
	op := c.operator
	ifExists := strings.HasSuffix(op, "IfExists")
	op = strings.TrimSuffix(op, "IfExists")
	if op == "Null" {
		// {"Null": {"key": "true"}} holds when the key is absent.
		for _, v := range c.values {
			if (v == "true") == !present {
				return true
			}
		}
		return false
	}
	var eq func(policy, request string) bool
	negated := false
	switch op {
	case "StringEquals":
		eq = func(p, r string) bool { return p == r }
	case "StringNotEquals":
		eq, negated = func(p, r string) bool { return p == r }, true
	case "StringEqualsIgnoreCase":
		eq = strings.EqualFold
	case "StringNotEqualsIgnoreCase":
		eq, negated = strings.EqualFold, true
	case "StringLike":
		eq = wildcardMatch
	case "StringNotLike":
		eq, negated = wildcardMatch, true
	case "Bool":
		eq = strings.EqualFold
	case "DateEquals", "DateNotEquals", "DateLessThan", "DateLessThanEquals", "DateGreaterThan", "DateGreaterThanEquals":
		eq, negated = dateOperator(op)
	default:
		return false
	}
	if !present {
		return ifExists || negated
	}
	matched := false
	for _, p := range c.values {
		for _, r := range got {
			if eq(p, r) {
				matched = true
			}
		}
	}
	return matched != negated
}

// dateOperator returns the comparison of a Date condition operator, as (policy value,
// request value) -> holds, and whether the operator is negated. A value that is not a
// date (ISO 8601, or epoch seconds, the two forms IAM accepts) never compares.
func dateOperator(op string) (func(p, r string) bool, bool) {
	cmp := func(want func(policy, request time.Time) bool) func(p, r string) bool {
		return func(p, r string) bool {
			pt, ok1 := parsePolicyDate(p)
			rt, ok2 := parsePolicyDate(r)
			return ok1 && ok2 && want(pt, rt)
		}
	}
	switch op {
	case "DateEquals":
		return cmp(func(p, r time.Time) bool { return r.Equal(p) }), false
	case "DateNotEquals":
		return cmp(func(p, r time.Time) bool { return r.Equal(p) }), true
	case "DateLessThan":
		return cmp(func(p, r time.Time) bool { return r.Before(p) }), false
	case "DateLessThanEquals":
		return cmp(func(p, r time.Time) bool { return !r.After(p) }), false
	case "DateGreaterThan":
		return cmp(func(p, r time.Time) bool { return r.After(p) }), false
	}
	return cmp(func(p, r time.Time) bool { return !r.Before(p) }), false // DateGreaterThanEquals
}

// parsePolicyDate reads a date condition value: ISO 8601 date-times with or without
// fractional seconds, a plain date, or epoch seconds.
func parsePolicyDate(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02T15:04Z07:00", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0), true
	}
	return time.Time{}, false
}

type decision int

const (
	implicitDeny decision = iota
	allowed
	explicitDeny
)

// evaluate applies identity policies to a request: an explicit Deny wins, then any
// Allow; otherwise the request is implicitly denied. A document that does not parse
// grants nothing.
func evaluate(docs []string, r evalRequest) decision {
	result := implicitDeny
	for _, d := range docs {
		p, err := parsePolicy(d)
		if err != nil {
			continue
		}
		for i := range p.statements {
			st := &p.statements[i]
			if st.hasPrincipal || st.notPrincipal || !st.matches(r) {
				continue
			}
			if st.effect == "Deny" {
				return explicitDeny
			}
			result = allowed
		}
	}
	return result
}

// EvaluateIdentityPolicies is the simulator's decision for identity policy documents on
// an action and a resource ("" when not known), with the request's condition keys
// (context, keys as AWS writes them): "allowed", "explicitDeny" or "implicitDeny", the
// EvalDecision values of SimulatePrincipalPolicy. It is what every call to the
// simulator is authorized with.
func EvaluateIdentityPolicies(docs []string, action, resource string, context map[string][]string) string {
	ctx := map[string][]string{}
	for k, v := range context {
		ctx[strings.ToLower(k)] = v
	}
	return decisionName(evaluate(docs, evalRequest{action: action, resource: resource, context: ctx}))
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

// orgIDOf returns the id of the organization the account belongs to, or "".
func (w *World) orgIDOf(accountID string) string {
	if a := w.Accounts[accountID]; a != nil && w.Org != nil && a.ParentID != "" {
		return w.Org.ID
	}
	return ""
}

// tokenIssueTimeLayout is how aws:TokenIssueTime is written into a request context: UTC
// with milliseconds, as the IAM console writes it into its deny.
const tokenIssueTimeLayout = "2006-01-02T15:04:05.000Z"

// requestContext builds the condition keys of a request by the principal on the
// resource (an ARN, or "" when not modelled: then the resource is taken to be in the
// caller's account, as every Organizations and Identity Center resource of the
// simulator is). Keys that do not apply (an organization id outside an organization)
// are absent, as in AWS.
func (w *World) requestContext(p *Principal, resource string) map[string][]string {
	ctx := map[string][]string{}
	if p != nil {
		ctx["aws:principalaccount"] = []string{p.AccountID}
		ctx["aws:principalarn"] = []string{p.IdentityARN()}
		if org := w.orgIDOf(p.AccountID); org != "" {
			ctx["aws:principalorgid"] = []string{org}
		}
		if s := p.Session; s != nil {
			// AWS sets aws:TokenIssueTime for temporary credentials alone: the IAM
			// console's "Revoke active sessions" denies with it, and so does Gatehouse
			// when it ends a permission set's sessions.
			ctx["aws:tokenissuetime"] = []string{s.IssuedAt.UTC().Format(tokenIssueTimeLayout)}
			if s.IdentityStoreUserID != "" {
				ctx["identitystore:userid"] = []string{s.IdentityStoreUserID}
			}
		}
	}
	account := ""
	if p != nil {
		account = p.AccountID
	}
	if f := strings.SplitN(resource, ":", 6); len(f) == 6 && f[0] == "arn" {
		account = f[4]
	}
	if account != "" {
		ctx["aws:resourceaccount"] = []string{account}
		if org := w.orgIDOf(account); org != "" {
			ctx["aws:resourceorgid"] = []string{org}
		}
	}
	return ctx
}

// authorize checks the caller's identity policies, and its permissions boundary if it
// has one, for the action on the resource.
func (q *request) authorize(action, resource string) *apiError {
	if action == "" || q.caller.Root {
		return nil
	}
	r := evalRequest{action: action, resource: resource, context: q.w.requestContext(q.caller, resource)}
	for k, v := range q.serviceContext() {
		r.context[k] = v
	}
	switch evaluate(q.w.identityPolicies(q.caller), r) {
	case explicitDeny:
		return accessDeniedWhy(q.caller, action, resource, "with an explicit deny in an identity-based policy")
	case implicitDeny:
		return accessDenied(q.caller, action, resource)
	}
	boundary, has := q.w.boundaryOf(q.caller.AccountID, q.caller.User, q.caller.Role)
	if !has {
		return nil
	}
	switch evaluate([]string{boundary}, r) {
	case allowed:
		return nil
	case explicitDeny:
		return accessDeniedWhy(q.caller, action, resource, "with an explicit deny in a permissions boundary")
	}
	return accessDeniedWhy(q.caller, action, resource, "because no permissions boundary allows the "+action+" action")
}

// boundaryOf returns the permissions boundary document of a user or role (one of them is
// set) and whether it has a boundary. A boundary whose policy no longer exists allows
// nothing, so it is the empty document.
func (w *World) boundaryOf(accountID string, u *User, r *Role) (string, bool) {
	arn := ""
	switch {
	case u != nil:
		arn = u.PermissionsBoundary
	case r != nil:
		arn = r.PermissionsBoundary
	}
	if arn == "" {
		return "", false
	}
	if a := w.Accounts[accountID]; a != nil {
		if pol := w.Policy(a, arn); pol != nil {
			return pol.Document(), true
		}
	}
	return `{"Version":"2012-10-17","Statement":[]}`, true
}

// boundaryDecision combines the decision of the identity policies with the boundary's, as
// IAM does: the request is allowed only when both allow it, and a Deny in either is an
// explicit deny.
func boundaryDecision(identity, boundary decision) decision {
	switch {
	case identity == explicitDeny || boundary == explicitDeny:
		return explicitDeny
	case identity == allowed && boundary == allowed:
		return allowed
	}
	return implicitDeny
}

// accessDenied is the error AWS returns when an identity policy does not allow an action;
// like AWS's, its message names the caller, the action and the resource.
func accessDenied(p *Principal, action, resource string) *apiError {
	return accessDeniedWhy(p, action, resource, "because no identity-based policy allows the "+action+" action")
}

// accessDeniedWhy is AWS's AccessDenied with the reason it gives at the end.
func accessDeniedWhy(p *Principal, action, resource, why string) *apiError {
	if resource == "" {
		resource = "*"
	}
	return &apiError{Status: 403, Code: "AccessDenied",
		Message: fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s %s", p.ARN, action, resource, why)}
}

// trustAllows evaluates a role's trust policy for AssumeRole of the role by the caller
// with the given external id (empty when none was sent).
func (w *World) trustAllows(role *Role, caller *Principal, externalID string) (bool, string) {
	p, err := parsePolicy(role.AssumeRolePolicy)
	if err != nil {
		return false, "the role's trust policy is malformed"
	}
	r := evalRequest{action: "sts:AssumeRole", context: w.requestContext(caller, role.ARN)}
	if externalID != "" {
		r.context["sts:externalid"] = []string{externalID}
	}
	allowedBy := false
	for i := range p.statements {
		st := &p.statements[i]
		if !st.hasPrincipal || !principalMatches(st.principal, caller) || !st.matches(r) {
			continue
		}
		if st.effect == "Deny" {
			return false, "an explicit deny in the trust policy"
		}
		allowedBy = true
	}
	if !allowedBy {
		return false, "the trust policy does not allow it"
	}
	return true, ""
}

// principalMatches reports whether the Principal element names the caller: anyone, its
// account (by id or root ARN), or its own user or role ARN.
func principalMatches(pb simPrincipal, caller *Principal) bool {
	if pb.anyone {
		return true
	}
	for _, want := range pb.aws {
		switch want {
		case "*", caller.AccountID, "arn:aws:iam::" + caller.AccountID + ":root", caller.IdentityARN():
			return true
		}
	}
	return false
}
