package web

import (
	"net/http"
	"net/url"
	"testing"
)

// The rules editor shows the document in force; Apply with problems changes nothing and
// shows each problem with its line (and the document as sent, to fix in place); a good
// document is applied and its version shown.
func TestRulesEditor(t *testing.T) {
	good := "rules:\n  - name: accounts-everyone\n    match:\n      application: aws\n      resource_types: [account]\n    requesters: {everyone: true}\n    duration: {default: 1h, max: 8h}\n    approval_policy: default\n"
	fake := &fakeJIT{doc: good, version: 4}
	u := newJITUI(t, fake)
	res := u.get(admin, "/admin/rules")
	if res.Status != 200 {
		t.Fatalf("status %d: %s", res.Status, text(res.Body))
	}
	cspSafe(t, res.Body)
	mustContain(t, text(res.Body), "Rules and policies", "Document version 4 in force", "rules: - name: accounts-everyone", "Apply")

	bad := "rules:\n  - name: accounts-everyone\n    match:\n      application: aws\n      resource_types: [acount]\n    requesters: {everyone: true}\n    duration: {default: 1h, max: forever}\n"
	res = u.postForm(admin, "/admin/rules", url.Values{"doc": {bad}})
	if res.Status != http.StatusUnprocessableEntity {
		t.Fatalf("bad document: status %d", res.Status)
	}
	cspSafe(t, res.Body)
	mustContain(t, text(res.Body), "Nothing was changed: fix these 3 problems and apply again",
		"line 2, column 5 : rules[0].approval_policy : missing; name the approval policy requests under this rule go through (for example default) - name: accounts-everyone",
		`line 5, column 24 : rules[0].match.resource_types : unknown resource type "acount"; want account, sso_group, iam_group or app_resource (did you mean "account"?) resource_types: [acount]`,
		`line 7, column 34 : rules[0].duration.max : "forever" is not a duration; want a Go duration like 1h30m duration: {default: 1h, max: forever}`,
		"Document version 4 in force")
	mustContain(t, res.Body, "resource_types: [acount]\n    requesters: {everyone: true}\n") // the textarea keeps what was sent
	if fake.doc != good || fake.version != 4 {
		t.Fatalf("a bad document changed the rules: version %d", fake.version)
	}

	res = u.postForm(admin, "/admin/rules", url.Values{"doc": {good + "    reason_required: true\n"}})
	if res.Status != http.StatusSeeOther || res.Header.Get("Location") != "/admin/rules?applied=5" {
		t.Fatalf("apply: status %d location %q: %s", res.Status, res.Header.Get("Location"), text(res.Body))
	}
	res = u.get(admin, res.Header.Get("Location"))
	mustContain(t, text(res.Body), "Applied: version 5 is in force.", "version 5 in force", "reason_required: true")
}
