package findings

import (
	"encoding/json"
	"sort"
	"strings"
)

// Policies (1.16): every managed policy attached in an account (the benchmark lists them
// with list-policies --only-attached, which includes AWS-managed ones such as
// AdministratorAccess) must have no statement with Effect Allow, Action "*" and Resource
// "*"; one finding per (account, attached policy), whose resource is the policy's ARN.
// What is attached is read from the account's users, groups and roles (so a stale
// account's kept IAM still names its policies, judged unknown). Inline policies are not
// in the benchmark's list and are not judged.
//
// The support role (1.17): at least one role of the account has AWSSupportAccess
// attached; one finding per account.

func (e *eval) policyControls(a *account) {
	if a.inactive {
		return
	}
	arns := make([]string, 0, len(a.attached))
	for arn := range a.attached {
		arns = append(arns, arn)
	}
	sort.Strings(arns)
	for _, arn := range arns {
		p, ok := e.policies[arn]
		if !ok {
			ev := map[string]any{"arn": arn}
			if a.notRead != "" {
				e.unknown(FullAdminPolicy, a.id, arn, a.notRead, a.readFix(), ev)
			} else {
				e.unknown(FullAdminPolicy, a.id, arn, "the attached policy is not in the inventory", fixNewData, ev)
			}
			continue
		}
		arn := p.ID
		ev := pick(p.p, "policy_name", "policy_type", "default_version", "attachment_count")
		ev["arn"] = arn
		if a.notRead != "" {
			e.unknown(FullAdminPolicy, a.id, arn, a.notRead, a.readFix(), ev)
			continue
		}
		doc := str(p.p, "document")
		if doc == "" {
			e.unknown(FullAdminPolicy, a.id, arn, "the policy's document was not read", fixNewData, ev)
			continue
		}
		stmts, err := fullAdminStatements(doc)
		if err != nil {
			ev["document"] = doc
			e.unknown(FullAdminPolicy, a.id, arn, "the policy's document does not parse: "+err.Error(), fixNewData, ev)
			continue
		}
		if len(stmts) > 0 {
			ev["statements"] = stmts
			e.fail(FullAdminPolicy, a.id, arn, "the attached policy "+orText(str(p.p, "policy_name"), arn)+
				" has a statement with Effect Allow, Action \"*\" and Resource \"*\"", ev)
			continue
		}
		e.pass(FullAdminPolicy, a.id, arn, "no statement of the attached policy allows \"*\" on \"*\"", ev)
	}

	id := a.id
	if a.notRead != "" {
		e.unknown(SupportRole, id, id, a.notRead, a.readFix(), nil)
		return
	}
	var roles []string
	for _, r := range a.roles {
		for _, p := range strs(r.p, "attached_policies") {
			if strings.HasSuffix(p, ":iam::aws:policy/AWSSupportAccess") {
				roles = append(roles, r.ID)
			}
		}
	}
	sort.Strings(roles)
	ev := map[string]any{"policy": "arn:aws:iam::aws:policy/AWSSupportAccess", "source": "GetAccountAuthorizationDetails"}
	if len(roles) == 0 {
		e.fail(SupportRole, id, id, "no role of the account has AWSSupportAccess attached", ev)
		return
	}
	ev["roles"] = roles
	e.pass(SupportRole, id, id, "AWSSupportAccess is attached to "+strings.Join(roles, ", "), ev)
}

// fullAdminStatements returns the statements of doc with Effect Allow, Action "*" (alone
// or in a list) and Resource "*" (alone or in a list), as JSON objects.
func fullAdminStatements(doc string) ([]map[string]any, error) {
	var d struct {
		Statement json.RawMessage
	}
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		return nil, err
	}
	var list []map[string]any
	if len(d.Statement) > 0 && d.Statement[0] == '{' {
		var one map[string]any
		if err := json.Unmarshal(d.Statement, &one); err != nil {
			return nil, err
		}
		list = []map[string]any{one}
	} else if len(d.Statement) > 0 {
		if err := json.Unmarshal(d.Statement, &list); err != nil {
			return nil, err
		}
	}
	var out []map[string]any
	for _, s := range list {
		if eff, _ := s["Effect"].(string); eff != "Allow" {
			continue
		}
		if hasStar(s["Action"]) && hasStar(s["Resource"]) {
			out = append(out, s)
		}
	}
	return out, nil
}

func hasStar(v any) bool {
	switch x := v.(type) {
	case string:
		return x == "*"
	case []any:
		for _, it := range x {
			if s, _ := it.(string); s == "*" {
				return true
			}
		}
	}
	return false
}
