package web

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/jit"
)

// jitFixture is the fixture inventory (s1) with a fake service whose catalog has, on prod,
// AdministratorAccess requestable under rule accounts-everyone and ReadOnly not
// requestable (no rule), and AdministratorAccess on management requestable.
func jitFixture(t *testing.T) (*testUI, *fakeJIT, map[string]string) {
	t.Helper()
	fake := &fakeJIT{entries: map[string]*jit.CatalogEntry{}, doc: "rules: []\n", version: 3}
	u := newJITUI(t, fake)
	u.ingestFixture(1)
	ids := map[string]string{}
	for _, acct := range []struct{ id, name string }{{"333333333333", "prod"}, {"111111111111", "management"}} {
		ents, err := u.store.ResourceEntitlements(context.Background(), "account", acct.id, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			ids[e.DisplayName] = e.ID
		}
	}
	item := func(id, ps, acctID, acctName string) jit.CatalogItem {
		return jit.CatalogItem{EntitlementID: id, DisplayName: ps + " on " + acctName + " (" + acctID + ")", Application: "aws", ResourceType: "account",
			AccountID: acctID, AccountName: acctName, PermissionSetName: ps, DefaultDuration: time.Hour, MaxDuration: 8 * time.Hour,
			ReasonRequired: true, Rule: "accounts-everyone", Policy: "default",
			Why: "rule accounts-everyone makes every permission set on every account requestable by everyone signed in"}
	}
	admin := &jit.PermissionSetInfo{Name: "AdministratorAccess", SessionDuration: "PT1H", ManagedPolicies: []string{"arn:aws:iam::aws:policy/AdministratorAccess"},
		InlinePolicy: `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:CreateUser","Resource":"*"}]}`}
	prodAdmin, prodRO, mgmtAdmin := ids["AdministratorAccess on prod"], ids["ReadOnly on prod"], ids["AdministratorAccess on management"]
	if prodAdmin == "" || prodRO == "" || mgmtAdmin == "" {
		t.Fatalf("fixture entitlements: %v", ids)
	}
	fake.entries[prodAdmin] = &jit.CatalogEntry{Item: item(prodAdmin, "AdministratorAccess", "333333333333", "prod"), Requestable: true, PermissionSet: admin}
	fake.entries[mgmtAdmin] = &jit.CatalogEntry{Item: item(mgmtAdmin, "AdministratorAccess", "111111111111", "management"), Requestable: true, PermissionSet: admin}
	ro := item(prodRO, "ReadOnly", "333333333333", "prod")
	ro.Rule, ro.Why = "", ""
	fake.entries[prodRO] = &jit.CatalogEntry{Item: ro, NotRequestableWhy: "no rule makes ReadOnly on prod requestable; ask an admin of Gatehouse to add one",
		PermissionSet: &jit.PermissionSetInfo{Name: "ReadOnly", SessionDuration: "PT8H", ManagedPolicies: []string{"arn:aws:iam::aws:policy/ReadOnlyAccess"}}}
	fake.entries["group:oncall"] = &jit.CatalogEntry{Requestable: true, Item: jit.CatalogItem{EntitlementID: "group:oncall", DisplayName: "OnCall member",
		Application: "aws", ResourceType: "sso_group", GroupName: "OnCall", DefaultDuration: 4 * time.Hour, MaxDuration: 12 * time.Hour,
		Rule: "oncall", Why: "rule oncall makes group OnCall requestable by the Developers group"}}
	fake.entries["iamgroup:deployers"] = &jit.CatalogEntry{Requestable: true, Item: jit.CatalogItem{EntitlementID: "iamgroup:deployers", DisplayName: "deployers member in prod",
		Application: "aws", ResourceType: "iam_group", AccountID: "333333333333", AccountName: "prod", GroupName: "deployers", DefaultDuration: 30 * time.Minute, MaxDuration: time.Hour,
		Rule: "iam-deployers", Why: "rule iam-deployers makes IAM group deployers requestable by everyone signed in"}}
	return u, fake, ids
}

// The catalog: AWS, then the accounts with how many permission sets the person may request
// in each (requestable first); search shows the requestable entitlements with "Request".
func TestCatalogOverviewAndSearch(t *testing.T) {
	u, _, ids := jitFixture(t)
	res := u.get(person, "/catalog")
	if res.Status != 200 {
		t.Fatalf("status %d: %s", res.Status, text(res.Body))
	}
	cspSafe(t, res.Body)
	mustContain(t, text(res.Body), "Requests Catalog My requests Approvals Settings API tokens",
		"AWS 4 entitlements you can request",
		"Account You can request", "management 111111111111 1", "prod 333333333333 2", "staging 444444444444 none",
		"Identity Center groups you can join", "Group For Rule", "OnCall OnCall member 4 hours up to 12 hours oncall rule oncall makes group OnCall requestable by the Developers group Request")
	mustContain(t, res.Body, `href="/catalog/aws/333333333333"`)

	// Search, as htmx asks for it: the results only.
	res = u.get(person, "/catalog?q=prod", "HX-Request", "true")
	if res.Status != 200 {
		t.Fatalf("search: status %d", res.Status)
	}
	mustNotContain(t, res.Body, "<html")
	mustContain(t, text(res.Body), "Access Account For Rule",
		"AdministratorAccess AdministratorAccess on prod (333333333333) prod 1 hour up to 8 hours accounts-everyone rule accounts-everyone makes every permission set on every account requestable by everyone signed in Request")
	mustNotContain(t, text(res.Body), "management")
	mustContain(t, res.Body, requestNewHref(ids["AdministratorAccess on prod"]))

	res = u.get(person, "/catalog?q=nothing-like-this")
	mustContain(t, text(res.Body), "No matches", "Nothing you can request matches “nothing-like-this”.")
}

// An account's page: each permission set with what it grants (managed and inline policies,
// session duration), the rule that applies and why, or why the person cannot request it.
func TestCatalogAccountShowsGrantsAndWhy(t *testing.T) {
	u, _, ids := jitFixture(t)
	res := u.get(person, "/catalog/aws/333333333333")
	if res.Status != 200 {
		t.Fatalf("status %d: %s", res.Status, text(res.Body))
	}
	cspSafe(t, res.Body)
	mustContain(t, text(res.Body), "Catalog AWS prod", "AWS account 333333333333",
		"AdministratorAccess Request",
		"Rule accounts-everyone · rule accounts-everyone makes every permission set on every account requestable by everyone signed in",
		"1 hour by default, up to 8 hours · a reason is required · approval policy default",
		"Session duration PT1H", "Managed policies arn:aws:iam::aws:policy/AdministratorAccess",
		`Inline policy {"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:CreateUser","Resource":"*"}]}`,
		"ReadOnly not requestable",
		"no rule makes ReadOnly on prod requestable; ask an admin of Gatehouse to add one",
		"Session duration PT8H", "Managed policies arn:aws:iam::aws:policy/ReadOnlyAccess", "Inline policy none",
		"IAM groups you can join 1", "deployers deployers member in prod 30 minutes up to 1 hour iam-deployers rule iam-deployers makes IAM group deployers requestable by everyone signed in Request")
	mustContain(t, res.Body, requestNewHref(ids["AdministratorAccess on prod"]))
	mustNotContain(t, res.Body, requestNewHref(ids["ReadOnly on prod"]))

	res = u.get(person, "/catalog/aws/999999999999")
	if res.Status != http.StatusNotFound {
		t.Fatalf("unknown account: status %d", res.Status)
	}
	mustContain(t, text(res.Body), "No such account", "There is no account 999999999999 in the inventory.")
}

// A server without just-in-time access says so instead of failing.
func TestJITPagesWithoutTheService(t *testing.T) {
	u := newTestUI(t)
	for _, p := range []string{"/catalog", "/requests", "/approvals", "/requests/req_1"} {
		res := u.get(person, p)
		if res.Status != http.StatusServiceUnavailable {
			t.Fatalf("%s: status %d", p, res.Status)
		}
		mustContain(t, text(res.Body), "Access requests are not available", "This server was started without just-in-time access.")
	}
}

// requestNewHref is the link to the request form of entitlement id, as html/template
// writes it (":" escaped in the query).
func requestNewHref(id string) string {
	return `href="/requests/new?entitlement=` + strings.ReplaceAll(id, ":", "%3a") + `"`
}
