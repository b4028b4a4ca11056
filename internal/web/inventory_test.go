package web

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The person page shows all of a person's access across accounts: what, where, through
// what (direct or which group) and through which identity; "as of" shows it on a past
// date from the history.
func TestPersonPage(t *testing.T) {
	u := newTestUI(t)
	u.ingestFixture(2)
	res := u.get(auditor, "/people/alice@example.com")
	if res.Status != 200 {
		t.Fatalf("status %d", res.Status)
	}
	cspSafe(t, res.Body)
	got := text(res.Body)
	// Sorted by account: management's rows, then staging's.
	mustContain(t, got, "Alice Nguyen", "alice@example.com",
		"Identities 2 linked by email", "alice IAM user in management", "Alice Nguyen Identity Center user",
		"Access across accounts", "3 grants",
		"operators member management direct alice IAM user",
		"ReadOnlyAccess attached management via operators alice IAM user",
		"ReadOnly on staging staging direct Alice Nguyen Identity Center user")
	mustNotContain(t, got, "AdministratorAccess")

	// Between the two syncs she was in Admins: AdministratorAccess on management and prod.
	res = u.get(auditor, "/people/alice@example.com?at=2026-02-01T10:30:00Z")
	got = text(res.Body)
	mustContain(t, got, "History: access on 2026-02-01 10:30 UTC", "5 grants",
		"Admins member — direct Alice Nguyen",
		"AdministratorAccess on management management via Admins Alice Nguyen Identity Center user",
		"operators member management direct",
		"ReadOnlyAccess attached management via operators",
		"AdministratorAccess on prod prod via Admins")
	mustNotContain(t, got, "ReadOnly on staging")

	// Sorted by what, descending, on the server.
	res = u.get(auditor, "/people/alice@example.com?sort=what&dir=desc")
	mustContain(t, text(res.Body), "ReadOnlyAccess attached", "ReadOnly on staging", "operators member")

	// A bad date says what to give.
	if res := u.get(auditor, "/people/alice@example.com?at=yesterday"); res.Status != http.StatusBadRequest ||
		!strings.Contains(text(res.Body), `The “as of” date must be a day such as 2026-01-31, got "yesterday".`) {
		t.Fatalf("bad at: %d %s", res.Status, text(res.Body))
	}
}

// A person sees their own page only; auditors and admins see anyone's.
func TestPersonPageNarrowsToYourself(t *testing.T) {
	u := newTestUI(t)
	u.ingestFixture(1)
	alice := &personCaller{"alice@example.com", "Alice Nguyen"}
	res := u.get(alice.caller(), "/people/alice@example.com")
	if res.Status != 200 {
		t.Fatalf("own page: status %d", res.Status)
	}
	got := text(res.Body)
	mustContain(t, got, "this is you", "AdministratorAccess on prod", "via Admins")
	// A person's view links to no auditor pages.
	if strings.Contains(res.Body, `href="/entitlements/`) || strings.Contains(res.Body, `href="/inventory/`) {
		t.Fatal("a person's own page links to inventory pages they may not open")
	}
	res = u.get(alice.caller(), "/people/bob@example.com")
	if res.Status != http.StatusForbidden {
		t.Fatalf("alice opens bob's page: status %d", res.Status)
	}
	mustContain(t, text(res.Body), "403", "Not allowed", "You can see your own access only.")
	mustNotContain(t, text(res.Body), "ReadOnly on prod")

	// Someone signed in whom the inventory does not know gets an empty page of their own.
	res = u.get(person, "/people/pat@example.com")
	if res.Status != 200 {
		t.Fatalf("unknown person's own page: %d", res.Status)
	}
	mustContain(t, text(res.Body), "Pat Person", "No access", "Pat Person held no access in the last sync.")
	// An auditor asking for an unknown email gets a 404 page.
	if res := u.get(auditor, "/people/nobody@example.com"); res.Status != http.StatusNotFound {
		t.Fatalf("unknown person for an auditor: %d", res.Status)
	}
}

// The account page: its facts, who can reach it through which permission set and group,
// and the stale marker when the latest sync could not read it.
func TestAccountPage(t *testing.T) {
	u := newTestUI(t)
	u.ingestFixture(3)
	res := u.get(auditor, "/inventory/account/333333333333")
	if res.Status != 200 {
		t.Fatalf("status %d", res.Status)
	}
	cspSafe(t, res.Body)
	got := text(res.Body)
	mustContain(t, got, "prod", "account · 333333333333",
		"Stale: last read 2026-02-01 11:00 UTC, iam:GetAccountAuthorizationDetails denied to role GatehouseMember",
		"Fix: give the member role its trust back",
		"Who can reach this account", "3 grants",
		"Admins Identity Center group AdministratorAccess on prod direct",
		"Bob Martinez bob@example.com Identity Center user ReadOnly on prod via Developers",
		"Developers Identity Center group ReadOnly on prod direct",
		"Parent Prod", "OU path Root/Workloads/Prod",
		"Entitlements 2", "AdministratorAccess on prod 1 holder", "ReadOnly on prod 2 holders")

	// Before the second sync alice held AdministratorAccess on prod through Admins.
	res = u.get(auditor, "/inventory/account/333333333333?at=2026-02-01T10:30:00Z")
	mustContain(t, text(res.Body), "History: as of 2026-02-01 10:30 UTC", "4 grants",
		"Admins Identity Center group AdministratorAccess on prod direct",
		"Alice Nguyen alice@example.com Identity Center user AdministratorAccess on prod via Admins")

	// An IAM user: the account it lives in, what it holds.
	res = u.get(auditor, "/inventory/iam_user/"+escapeID("arn:aws:iam::111111111111:user/alice"))
	if res.Status != 200 {
		t.Fatalf("IAM user page: status %d", res.Status)
	}
	mustContain(t, text(res.Body), "alice", "IAM user", "What it holds",
		"operators member management direct", "ReadOnlyAccess attached management via operators",
		"Account management", "Person alice@example.com")

	if res := u.get(auditor, "/inventory/account/999999999999"); res.Status != 404 ||
		!strings.Contains(text(res.Body), "There is no account 999999999999 in the inventory.") {
		t.Fatalf("unknown account: %d %s", res.Status, text(res.Body))
	}
	if res := u.get(auditor, "/inventory/widget/x"); res.Status != 404 {
		t.Fatalf("unknown type: %d", res.Status)
	}
}

// The entitlement page: who holds AdministratorAccess on prod, and through what.
func TestEntitlementPage(t *testing.T) {
	u := newTestUI(t)
	u.ingestFixture(2)
	ids := fixtureIDs(t)
	id := "account:333333333333:" + ids["ps:ReadOnly"]
	res := u.get(auditor, "/entitlements/"+escapeID(id))
	if res.Status != 200 {
		t.Fatalf("status %d", res.Status)
	}
	cspSafe(t, res.Body)
	mustContain(t, text(res.Body), "ReadOnly on prod", "Entitlement on prod (account) in prod", id,
		"Who holds it", "2 holders",
		"Developers Identity Center group direct",
		"Bob Martinez bob@example.com Identity Center user via Developers")

	admin := "account:333333333333:" + ids["ps:AdministratorAccess"]
	res = u.get(auditor, "/entitlements/"+escapeID(admin)+"?at=2026-02-01T10:30:00Z")
	mustContain(t, text(res.Body), "AdministratorAccess on prod", "Who could reach it on 2026-02-01 10:30 UTC", "2 holders",
		"Admins Identity Center group direct", "Alice Nguyen alice@example.com Identity Center user via Admins")
	res = u.get(auditor, "/entitlements/"+escapeID(admin))
	mustContain(t, text(res.Body), "1 holder", "Admins Identity Center group direct")
	mustNotContain(t, text(res.Body), "Alice Nguyen")
}

// Inventory lists: per type, the organization tree with accounts, search as you type
// (htmx gets the results alone), stale accounts marked.
func TestInventoryLists(t *testing.T) {
	u := newTestUI(t)
	u.ingestFixture(3)
	res := u.get(auditor, "/inventory/account")
	cspSafe(t, res.Body)
	got := text(res.Body)
	mustContain(t, got, "Accounts 3", "Organizational units 4", "IAM users 3", "Identity Center users 2", "Permission sets 2",
		"management 111111111111 current",
		"prod 333333333333 stale last read",
		"staging 444444444444 current",
		"Organization Root Workloads NonProd staging 444444444444 Prod prod 333333333333 stale management 111111111111")

	res = u.get(auditor, "/inventory/sso_user?q=bob")
	got = text(res.Body)
	mustContain(t, got, "Bob Martinez", "bob@example.com")
	mustNotContain(t, got, "Alice Nguyen")

	// As you type: htmx asks for the results only.
	frag := u.get(auditor, "/inventory/sso_user?q=ALI", "HX-Request", "true")
	if strings.Contains(frag.Body, "<html") || !strings.HasPrefix(strings.TrimSpace(frag.Body), `<div id="results">`) {
		t.Fatalf("search fragment is not the results alone:\n%s", frag.Body)
	}
	mustContain(t, text(frag.Body), "Alice Nguyen", "alice@example.com")
	mustNotContain(t, text(frag.Body), "Bob")

	res = u.get(auditor, "/inventory/iam_group?q=zzz")
	mustContain(t, text(res.Body), "No matches", "No IAM groups match “zzz”.")

	// Lists are for auditors.
	if res := u.get(person, "/inventory/account"); res.Status != http.StatusForbidden {
		t.Fatalf("a person lists accounts: %d", res.Status)
	}
}

// Lists page on the server: Load more asks for the next rows (htmx) until the last page,
// and every resource appears exactly once.
func TestInventoryPaging(t *testing.T) {
	u := newTestUI(t)
	u.ingestFixture(1)
	defer func(n int) { listPageSize = n }(listPageSize)
	listPageSize = 4
	counts, err := u.store.InventoryCounts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	roles := counts["iam_role"]
	if roles < 5 {
		t.Fatalf("the fixture has %d IAM roles; the test needs more than a page of 4", roles)
	}
	res := u.get(auditor, "/inventory/iam_role")
	seen := map[string]int{}
	body := res.Body
	for pages := 1; ; pages++ {
		for _, m := range regexp.MustCompile(`<tr(?: class="stale")?>\s*<td><a href="(/inventory/iam_role/[^"]+)"`).FindAllStringSubmatch(body, -1) {
			seen[m[1]]++
		}
		more := regexp.MustCompile(`(?s)class="more-row".*?hx-get="([^"]+)"`).FindStringSubmatch(body)
		if more == nil || !strings.Contains(more[1], "page_token") {
			if want := (roles + 3) / 4; pages != want {
				t.Fatalf("%d roles in pages of 4 took %d pages, want %d", roles, pages, want)
			}
			break
		}
		next := u.get(auditor, strings.ReplaceAll(more[1], "&amp;", "&"), "HX-Request", "true")
		if strings.Contains(next.Body, "<html") {
			t.Fatal("Load more got a whole page")
		}
		body = next.Body
	}
	if len(seen) != roles {
		t.Fatalf("paging showed %d distinct roles, want %d: %v", len(seen), roles, seen)
	}
	for r, n := range seen {
		if n != 1 {
			t.Fatalf("role %s shown %d times", r, n)
		}
	}
	// One account's roles only.
	got := text(u.get(auditor, "/inventory/iam_role?account=444444444444").Body)
	mustContain(t, got, "account 444444444444")
	mustNotContain(t, got, "management")
}

// People list and search.
func TestPeopleList(t *testing.T) {
	u := newTestUI(t)
	u.ingestFixture(1)
	res := u.get(auditor, "/people")
	cspSafe(t, res.Body)
	mustContain(t, text(res.Body), "People", "Alice Nguyen alice@example.com 2", "Bob Martinez bob@example.com 1")
	res = u.get(auditor, "/people?q=martinez", "HX-Request", "true")
	mustContain(t, text(res.Body), "Bob Martinez")
	mustNotContain(t, text(res.Body), "Alice")
	if res := u.get(person, "/people"); res.Status != http.StatusForbidden {
		t.Fatalf("a person lists people: %d", res.Status)
	}
}

// Sorting on the server: by who, what, account or since, either way.
func TestSortGrants(t *testing.T) {
	at := func(s int) time.Time { return time.Date(2026, 1, 1, 0, 0, s, 0, time.UTC) }
	gs := []grantView{
		{ID: "1", Principal: ref{ID: "u1", Name: "bob"}, Entitlement: ref{ID: "e1", Name: "ReadOnly"}, Account: ref{ID: "a", Name: "prod"}, Since: at(2)},
		{ID: "2", Principal: ref{ID: "u2", Name: "Alice"}, Entitlement: ref{ID: "e2", Name: "admin"}, Account: ref{ID: "b", Name: "Dev"}, Since: at(1).Add(500 * time.Millisecond)},
		{ID: "3", Principal: ref{ID: "u3", Name: "carol"}, Entitlement: ref{ID: "e3", Name: "Billing"}, Account: ref{ID: "c", Name: "audit"}, Since: at(1)},
	}
	ids := func() string {
		var s string
		for _, g := range gs {
			s += g.ID
		}
		return s
	}
	for _, c := range []struct{ key, dir, want string }{
		{"", "", "213"}, {"who", "desc", "312"}, {"what", "", "231"}, {"account", "", "321"},
		{"since", "", "321"}, {"since", "desc", "123"},
	} {
		sortGrants(gs, c.key, c.dir)
		if got := ids(); got != c.want {
			t.Errorf("sort %q %q: %s, want %s", c.key, c.dir, got, c.want)
		}
	}
}

// An entitlement's holders page on the server: Load more brings the next ones.
func TestEntitlementHoldersPaging(t *testing.T) {
	u := newTestUI(t)
	u.ingestFixture(1)
	defer func(n int) { listPageSize = n }(listPageSize)
	listPageSize = 1
	id := "account:333333333333:" + fixtureIDs(t)["ps:AdministratorAccess"] // Admins, and alice through it
	res := u.get(auditor, "/entitlements/"+escapeID(id))
	if n := strings.Count(res.Body, "<tr><td>"); n != 1 {
		t.Fatalf("first page shows %d holders, want 1", n)
	}
	more := regexp.MustCompile(`(?s)class="more-row".*?hx-get="([^"]+)"`).FindStringSubmatch(res.Body)
	if more == nil {
		t.Fatal("no Load more")
	}
	next := u.get(auditor, strings.ReplaceAll(more[1], "&amp;", "&"), "HX-Request", "true")
	if strings.Contains(next.Body, "<html") || strings.Count(next.Body, "<tr><td>") != 1 {
		t.Fatalf("Load more:\n%s", next.Body)
	}
	both := text(res.Body) + " " + text(next.Body)
	mustContain(t, both, "Admins Identity Center group direct")
	mustContain(t, both, "Alice Nguyen alice@example.com Identity Center user via Admins")
}
