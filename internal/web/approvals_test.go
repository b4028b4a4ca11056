package web

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/jit"
)

// The approvals inbox shows each waiting request with the context to decide: the reason,
// the rule and the policy's current step, what the requester holds now (the inventory's
// PersonAccess) and who else holds the entitlement; Approve and Deny come back to the inbox.
func TestApprovalsInboxGivesTheContextToDecide(t *testing.T) {
	pinNow(t, t0)
	u, fake, ids := jitFixture(t)
	// Bob (Developers: ReadOnly on prod) asks for AdministratorAccess on prod, which alice
	// holds through Admins.
	r := activeRequest()
	r.ID, r.State, r.StartsAt, r.EndsAt, r.Transitions = "req_8", jit.StatePendingApproval, nil, nil, r.Transitions[:1]
	r.Target.EntitlementID = ids["AdministratorAccess on prod"]
	r.Steps = []jit.StepStatus{{Index: 0, Required: 1, Approvers: []string{"carol@example.com"}, State: "waiting"},
		{Index: 1, Required: 1, Approvers: []string{"ada@example.com"}, State: "waiting"}}
	mine := activeRequest() // carol's own request is never in her inbox
	mine.ID, mine.Requester, mine.State = "req_9", "carol@example.com", jit.StatePendingApproval
	mine.Steps[0].State, mine.Steps[0].Approvals = "waiting", nil
	fake.reqs = []*jit.Request{r, mine}

	res := u.get(carol, "/approvals")
	if res.Status != 200 {
		t.Fatalf("status %d: %s", res.Status, text(res.Body))
	}
	cspSafe(t, res.Body)
	if fake.lastList.Scope != "to_approve" {
		t.Fatalf("the inbox lists scope %q", fake.lastList.Scope)
	}
	mustContain(t, text(res.Body), "Approvals",
		"AdministratorAccess on prod (333333333333) pending approval",
		"Requester bob@example.com", "For 1 hour", "Reason INC-42: fix the deploy", "Rule accounts-everyone",
		"Policy default · step 1 of 2: 1 of carol@example.com",
		"What bob@example.com holds now", "ReadOnly on prod in prod via Developers",
		"Who else holds it", "Admins",
		"Approve", "Deny")
	mustNotContain(t, text(res.Body), "req_9")
	mustContain(t, res.Body, `<form method="post" action="/requests/req_8/approve" class="action-form"><input type="hidden" name="next" value="/approvals">`)

	res = u.postForm(carol, "/requests/req_8/approve", url.Values{"next": {"/approvals"}, "reason": {"fine"}})
	if res.Status != http.StatusSeeOther {
		t.Fatalf("approve: %d", res.Status)
	}
	r.Steps[0].State = "approved"
	r.Steps[0].Approvals = []jit.Decision{{By: "carol@example.com", Approved: true, Reason: "fine", At: t0}}
	res = u.get(carol, res.Header.Get("Location"))
	mustContain(t, text(res.Body), "You approved the request.", "Nothing to decide", "Requests that need your approval show here.")

	// The next step's approver sees it now.
	res = u.get(admin, "/approvals")
	mustContain(t, text(res.Body), "Policy default · step 2 of 2: 1 of ada@example.com")
}

// "My requests": the caller's active access with its countdown (refreshed by htmx), then
// their requests; /leases/mine is the card alone.
func TestMyRequestsWithActiveAccess(t *testing.T) {
	pinNow(t, t0.Add(10*time.Minute))
	r := activeRequest()
	start := t0
	fake := &fakeJIT{reqs: []*jit.Request{r}, leases: []jit.Lease{
		{ID: "lease_1", RequestID: "req_7", Requester: "bob@example.com", Target: r.Target, State: jit.LeaseActive, StartsAt: &start, EndsAt: t0.Add(time.Hour)},
		{ID: "lease_2", RequestID: "req_3", Requester: "someone@example.com", Target: r.Target, State: jit.LeaseActive, StartsAt: &start, EndsAt: t0.Add(time.Hour)},
	}}
	u := newJITUI(t, fake)
	res := u.get(bob, "/requests")
	if res.Status != 200 {
		t.Fatalf("status %d: %s", res.Status, text(res.Body))
	}
	cspSafe(t, res.Body)
	mustContain(t, text(res.Body), "My requests", "Request access",
		"Temporary access now 1", "Access State Started Time left", "AdministratorAccess on prod (333333333333) active 2026-03-02 09:00 UTC 50m 00s",
		"Requests", "Access Requester State For Lease Requested",
		"AdministratorAccess on prod (333333333333) req_7 bob@example.com active 1 hour ends in 50m 00s 15 min ago")
	mustContain(t, res.Body, `<div class="card" id="my-leases" hx-get="/leases/mine" hx-trigger="every 5s" hx-swap="outerHTML">`)
	if fake.lastLeases.Scope != "mine" || len(fake.lastLeases.States) != 3 {
		t.Fatalf("leases asked for %+v", fake.lastLeases)
	}
	res = u.get(bob, "/leases/mine", "HX-Request", "true")
	mustNotContain(t, res.Body, "<html")
	mustContain(t, text(res.Body), "Temporary access now 1", "50m 00s")

	res = u.get(carol, "/requests")
	mustContain(t, text(res.Body), "No temporary access", "No requests yet")
}

// Auditors and admins see every request and lease, filtered by state; others may not.
func TestAdminRequestsAndLeases(t *testing.T) {
	pinNow(t, t0.Add(10*time.Minute))
	r := activeRequest()
	start, ended := t0.Add(-2*time.Hour), t0.Add(-time.Hour)
	fake := &fakeJIT{reqs: []*jit.Request{r}, leases: []jit.Lease{
		{ID: "lease_1", RequestID: "req_7", Requester: "bob@example.com", Target: r.Target, State: jit.LeaseActive, StartsAt: &start, EndsAt: t0.Add(time.Hour)},
		{ID: "lease_0", RequestID: "req_2", Requester: "bob@example.com", Target: r.Target, State: jit.LeaseEnded, StartsAt: &start, EndsAt: ended, EndedAt: &ended, EndReason: "released",
			Drift: ""},
	}}
	u := newJITUI(t, fake)
	res := u.get(auditor, "/admin/requests?state=active")
	if res.Status != 200 {
		t.Fatalf("status %d: %s", res.Status, text(res.Body))
	}
	cspSafe(t, res.Body)
	if fake.lastList.Scope != "all" || len(fake.lastList.States) != 1 || fake.lastList.States[0] != jit.StateActive {
		t.Fatalf("list filter %+v", fake.lastList)
	}
	mustContain(t, text(res.Body), "All requests", "Leases", "All requests", "State all pending approval approved",
		"AdministratorAccess on prod (333333333333) req_7 bob@example.com active")
	mustContain(t, res.Body, `<option value="active" selected>active</option>`)

	res = u.get(admin, "/admin/leases")
	cspSafe(t, res.Body)
	mustContain(t, text(res.Body), "Leases", "Access Requester State Started Ends End",
		"AdministratorAccess on prod (333333333333) lease_1 bob@example.com active 2026-03-02 07:00:00 UTC 2026-03-02 10:00:00 UTC ends in 50m 00s",
		"AdministratorAccess on prod (333333333333) lease_0 bob@example.com ended 2026-03-02 07:00:00 UTC 2026-03-02 08:00:00 UTC ended 1 h ago (released)")
	res = u.get(admin, "/admin/leases?state=ended")
	if len(fake.lastLeases.States) != 1 || fake.lastLeases.States[0] != jit.LeaseEnded || fake.lastLeases.Scope != "all" {
		t.Fatalf("leases filter %+v", fake.lastLeases)
	}
	mustNotContain(t, text(res.Body), "lease_1")

	if res := u.get(admin, "/admin/leases?state=bogus"); res.Status != http.StatusBadRequest {
		t.Fatalf("bad state: %d", res.Status)
	} else {
		mustContain(t, text(res.Body), "There is no lease state “bogus”. Choose one of the list.")
	}
	for _, p := range []string{"/admin/requests", "/admin/leases", "/admin/rules"} {
		if res := u.get(person, p); res.Status != http.StatusForbidden {
			t.Fatalf("a person opens %s: status %d", p, res.Status)
		}
	}
	// The navigation: everyone has the catalog, requests and approvals; auditors the lists;
	// admins the rules.
	nav := func(c *auth.Caller) string { return text(u.get(c, "/requests").Body) }
	mustContain(t, nav(person), "Requests Catalog My requests Approvals Settings API tokens")
	mustContain(t, nav(auditor), "Requests Catalog My requests Approvals All requests Leases Access reviews Campaigns Inventory")
	mustContain(t, nav(admin), "Settings Connections Rules and policies API tokens")
	mustNotContain(t, nav(auditor), "Rules and policies")
}

// "My access" (the person's own page) loads their temporary access through htmx, so that
// the cached page stays current; someone else's page and a past day do not.
func TestOwnPersonPageLoadsTemporaryAccess(t *testing.T) {
	u := newJITUI(t, &fakeJIT{})
	u.ingestFixture(1)
	alice := &auth.Caller{Email: "alice@example.com", Name: "Alice Nguyen", Via: "session"}
	hook := `<div id="my-leases" hx-get="/leases/mine" hx-trigger="load" hx-swap="outerHTML"></div>`
	res := u.get(alice, "/people/alice@example.com")
	if res.Status != 200 {
		t.Fatalf("status %d", res.Status)
	}
	cspSafe(t, res.Body)
	mustContain(t, res.Body, hook)
	mustContain(t, text(u.get(alice, "/people/alice@example.com").Body), "Access across accounts") // from the cache: still there
	mustContain(t, u.get(alice, "/people/alice@example.com").Body, hook)
	mustNotContain(t, u.get(auditor, "/people/alice@example.com").Body, hook)
	mustNotContain(t, u.get(alice, "/people/alice@example.com?at=2026-02-01").Body, hook)
	// Without the service, no hook.
	mustNotContain(t, newTestUIWithFixture(t).get(alice, "/people/alice@example.com").Body, "/leases/mine")
}

func newTestUIWithFixture(t *testing.T) *testUI {
	u := newTestUI(t)
	u.ingestFixture(1)
	return u
}
