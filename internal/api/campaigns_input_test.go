package api_test

import (
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/store"
)

// Bad input to the review routes is refused with 400 and a detail saying exactly what to
// fix, before anything is asked of the review service; no credential is 401; the admins'
// and auditors' actions are 403 for anyone else.
func TestCampaignAPIRefusesBadInput(t *testing.T) {
	s := newJITServer(t, store.SQLite, false)
	const good = `"name": "q", "scope": {"accounts": ["111111111111"]}, "reviewers": {"people": ["dave@example.com"]}, "due": "2030-01-31T17:00:00Z"`
	for _, c := range []struct {
		method, path, body, want string
	}{
		{"POST", "/api/v1/campaigns", `{` + good + `, "scope": {"acounts": ["111111111111"]}}`,
			`scope has no key "acounts": the keys are accounts, ous, permission_sets, applications, resource_types, sso_groups, iam_groups, iam_policies, admin_only, unused_days, departed`},
		{"POST", "/api/v1/campaigns", `{` + good + `, "scope": {"accounts": "111111111111"}}`, `scope.accounts must be a JSON array of strings`},
		{"POST", "/api/v1/campaigns", `{` + good + `, "scope": {"admin_only": "yes"}}`, `scope.admin_only must be a JSON boolean (true or false)`},
		{"POST", "/api/v1/campaigns", `{` + good + `, "reviewers": {"managers": true}}`,
			`reviewers has no key "managers": the keys are people, groups, manager, owner, sequence, fallback`},
		{"POST", "/api/v1/campaigns", `{` + good + `, "due": "next friday"}`, `due must be an RFC 3339 time such as 2026-01-31T17:00:00Z, got "next friday"`},
		{"POST", "/api/v1/campaigns", `{` + good + `, "due": "2030-01-31"}`, `due must be an RFC 3339 time such as 2026-01-31T17:00:00Z, got "2030-01-31"`},
		{"POST", "/api/v1/campaigns", `{` + good + `, "undecided": "ignore"}`,
			`undecided must be keep, revoke or escalate (what happens at the due date to items nobody decided), got "ignore"`},
		{"POST", "/api/v1/campaigns", `{"scope": {}, "due": "2030-01-31T17:00:00Z"}`, `name is required: say what the campaign reviews`},
		{"POST", "/api/v1/campaigns", `{"name": "q"}`, `due is required: an RFC 3339 time such as 2026-01-31T17:00:00Z`},
		{"POST", "/api/v1/campaigns", ``, `the body is empty; send {"name": "Quarterly review: production", "scope": {"accounts": ["111111111111"]`},
		{"POST", "/api/v1/campaigns", `{"nmae": "q"}`, `unknown field "nmae"`},
		{"PATCH", "/api/v1/campaigns/cmp-x", `{"undecided": "later"}`, `undecided must be keep, revoke or escalate`},
		{"GET", "/api/v1/campaigns?state=open", "", `state must be draft, active or closed, got "open"`},
		{"GET", "/api/v1/campaigns/cmp-x/items?state=done", "", `state must be pending, kept, revocation_pending, remediated or task_open, got "done"`},
		{"GET", "/api/v1/campaigns/cmp-x/items?via=role", "", `via must be direct, group or lease, got "role"`},
		{"GET", "/api/v1/campaigns/cmp-x/items?decision=maybe", "", `decision must be keep, revoke or none (undecided), got "maybe"`},
		{"GET", "/api/v1/campaigns/cmp-x/items?admin_only=yes", "", `admin_only must be true or false, got "yes"`},
		{"GET", "/api/v1/campaigns/cmp-x/items?page_size=0", "", `page_size must be a positive whole number`},
		{"GET", "/api/v1/reviews?state=waiting", "", `state must be pending, kept, revocation_pending, remediated or task_open, got "waiting"`},
		{"GET", "/api/v1/campaigns/cmp-x/export?format=pdf", "", `format must be csv, json or html (the printable report), got "pdf"`},
		{"POST", "/api/v1/campaigns/cmp-x/items/it-x/decision", `{"decision": "maybe", "reason": "x"}`, `decision must be keep or revoke, got "maybe"`},
		{"POST", "/api/v1/campaigns/cmp-x/items/it-x/decision", `{"reason": "x"}`, `decision is required: keep or revoke`},
		{"POST", "/api/v1/campaigns/cmp-x/items/it-x/decision", `{"decision": "keep", "why": "x"}`, `unknown field "why"`},
		{"POST", "/api/v1/campaigns/cmp-x/decisions", `{"filter": {"state": "open"}, "decision": "keep"}`, `filter.state must be pending, kept, revocation_pending, remediated or task_open, got "open"`},
		{"POST", "/api/v1/campaigns/cmp-x/decisions", `{"filter": {"colour": "red"}, "decision": "keep"}`, `unknown field "colour"`},
		{"POST", "/api/v1/campaigns/cmp-x/decisions", `{"filter": {}, "decision": "drop"}`, `decision must be keep or revoke, got "drop"`},
		{"POST", "/api/v1/campaigns/cmp-x/items/it-x/delegate", `{"reason": "holiday"}`, `to is required: the email of the person who reviews the item instead, got ""`},
	} {
		who := "carol"
		if strings.Contains(c.path, "/items/") || strings.Contains(c.path, "/decisions") || strings.HasPrefix(c.path, "/api/v1/reviews") {
			who = "dave"
		}
		if d := s.problem(who, c.method, c.path, c.body, 400); !strings.Contains(d, c.want) {
			t.Errorf("%s %s %s: detail %q, want it to say %q", c.method, c.path, c.body, d, c.want)
		}
	}
	for _, path := range []string{"/api/v1/campaigns", "/api/v1/reviews", "/api/v1/campaigns/cmp-x/items"} {
		s.problem("", "GET", path, "", 401)
	}
	// Creating, editing, starting, closing, exporting and reassigning are the auditors' and
	// admins': a person is refused before the service is asked.
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/api/v1/campaigns", `{` + good + `}`},
		{"PATCH", "/api/v1/campaigns/cmp-x", `{"name": "x"}`},
		{"POST", "/api/v1/campaigns/cmp-x/start", ``},
		{"POST", "/api/v1/campaigns/cmp-x/close", ``},
		{"GET", "/api/v1/campaigns/cmp-x/export?format=csv", ``},
		{"POST", "/api/v1/campaigns/cmp-x/items/it-x/reassign", `{"to": "bob@example.com"}`},
	} {
		if d := s.problem("dave", c.method, c.path, c.body, 403); !strings.Contains(d, "auditor") {
			t.Errorf("%s %s as a person: %q", c.method, c.path, d)
		}
	}
}
