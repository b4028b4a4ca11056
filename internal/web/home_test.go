package web

import (
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
)

// The home page: for auditors the inventory's counts, the last sync and the change feed
// (who got or lost what, where, when); for everyone their own access.
func TestHomePage(t *testing.T) {
	u := newTestUI(t)
	u.withSyncs()
	u.ingestFixture(3)
	u.addSync("s0009", store.SyncPartial, t3, 20*time.Second, store.SyncProgress{AccountsDone: 2, AccountsTotal: 3, APICalls: 77},
		[]store.SkippedAccount{{AccountID: "333333333333", Reason: "denied", Fix: "fix it"}}, nil)
	res := u.get(admin, "/")
	if res.Status != 200 {
		t.Fatalf("status %d", res.Status)
	}
	cspSafe(t, res.Body)
	got := text(res.Body)
	mustContain(t, got, "Hello, Ada Admin",
		"Accounts 3", "People 2", "Grants", "Stale accounts 1",
		"Latest changes", "Last sync", "partial", "s0009", "Connection Production organization", "API calls 77", "Skipped 1 account",
		"Sync now", "Your access")
	// The feed: the second sync's changes, newest first (their order within one sync is
	// the store's).
	feed := got[strings.Index(got, "Latest changes"):strings.Index(got, "Last sync")]
	for _, want := range []string{
		"Alice Nguyen got ReadOnly on staging in staging Identity Center user · alice@example.com",
		"Alice Nguyen lost AdministratorAccess on management in management",
		"Alice Nguyen lost AdministratorAccess on prod in prod",
		"Alice Nguyen lost Admins member",
	} {
		mustContain(t, feed, want)
	}
	// The first sync's additions come after (older), as access found rather than given.
	mustContain(t, feed, "Alice Nguyen lost Admins member", "Bob Martinez has Developers member Identity Center user · bob@example.com · found by the first sync")
	if !strings.Contains(res.Body, `href="/syncs/s0009"`) {
		t.Fatal("the last sync does not link to its page")
	}

	// Alice, signed in without roles: her access only, no inventory figures or feed.
	alice := (&personCaller{"alice@example.com", "Alice Nguyen"}).caller()
	res = u.get(alice, "/")
	got = text(res.Body)
	mustContain(t, got, "Hello, Alice Nguyen", "Your access across the AWS organization.", "Your access",
		"ReadOnly on staging in staging", "direct", "ReadOnlyAccess attached in management", "via operators",
		"3 grants", "Open your access page")
	mustNotContain(t, got, "Latest changes", "Stale accounts", "Last sync", "Audit log")
}

// History: what changed between two syncs, grouped per account or per person.
func TestHistoryPage(t *testing.T) {
	u := newTestUI(t)
	u.withSyncs()
	u.ingestFixture(2)
	res := u.get(auditor, "/history?from=s1&to=s2&by=account")
	if res.Status != 200 {
		t.Fatalf("status %d: %s", res.Status, text(res.Body))
	}
	cspSafe(t, res.Body)
	got := text(res.Body)
	mustContain(t, got, "What changed",
		"After sync s1 (2026-02-01 10:00 UTC), up to sync s2 (2026-02-01 11:00 UTC)", "2 added, 3 removed",
		"management 111111111111 +0 −1", "Alice Nguyen lost AdministratorAccess on management",
		"prod 333333333333 +0 −1", "Alice Nguyen lost AdministratorAccess on prod",
		"staging 444444444444 +2 −0",
		"Organization-wide (Identity Center groups) +0 −1", "Alice Nguyen lost Admins member")
	// Staging's two changes came with one sync; the store orders them.
	staging := got[strings.Index(got, "staging 444444444444 +2 −0"):strings.Index(got, "Organization-wide")]
	mustContain(t, staging, "Alice Nguyen got ReadOnly on staging in staging")
	mustContain(t, staging, "got ReadOnlyAccess attached in staging IAM role")

	// Without a range, the page shows what the latest sync changed.
	u.addSync("s1", store.SyncSucceeded, t1, time.Second, store.SyncProgress{}, nil, nil)
	u.addSync("s2", store.SyncSucceeded, t2, time.Second, store.SyncProgress{}, nil, nil)
	mustContain(t, text(u.get(auditor, "/history").Body),
		"After sync s1 (2026-02-01 10:00 UTC), up to sync s2 (2026-02-01 11:00 UTC)", "2 added, 3 removed")

	res = u.get(auditor, "/history?from=s1&to=s2&by=person")
	got = text(res.Body)
	mustContain(t, got, "alice@example.com +1 −3", "Alice Nguyen got ReadOnly on staging",
		"Not linked to a person (roles, groups, users without an email) +1 −0", "got ReadOnlyAccess attached")

	// Nothing changed in the first sync's own range after it.
	res = u.get(auditor, "/history?from=s2&to=s2")
	if res.Status != 400 {
		t.Fatalf("an empty range: %d", res.Status)
	}
	mustContain(t, text(res.Body), "The end of the range (sync s2 (2026-02-01 11:00 UTC)) must come after its start")
	res = u.get(auditor, "/history?from=nope")
	mustContain(t, text(res.Body), "From: sync nope was never ingested (it failed, or is still running): pick another")

	// Who could reach an account on a day: the account's page as of that day.
	res = u.get(auditor, "/history/reach?account=333333333333&at=2026-02-01")
	if res.Status != 303 || res.Header.Get("Location") != "/inventory/account/333333333333?at=2026-02-01" {
		t.Fatalf("reach: %d %q", res.Status, res.Header.Get("Location"))
	}
	if res := u.get(person, "/history"); res.Status != 403 {
		t.Fatalf("a person reads history: %d", res.Status)
	}
}
