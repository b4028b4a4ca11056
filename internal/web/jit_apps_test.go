package web

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/jit"
)

// A request for an imported application's access: the page says that the owner grants and
// removes it by hand and that Gatehouse cannot make it end on time, shows the owner's task,
// and offers "Mark done" to the owner (and admins) only.
func TestRequestPageShowsTheOwnersTask(t *testing.T) {
	pinNow(t, t0.Add(10*time.Minute))
	r := activeRequest()
	r.ID, r.State, r.StartsAt, r.EndsAt, r.Transitions = "req_app", jit.StateProvisioning, nil, nil, r.Transitions[:3]
	r.Target = jit.Target{Kind: jit.KindAppGrant, ConnectionID: "app_1", Application: "app_1", AppName: "Payroll",
		EntitlementID: "app_resource:app_1:role:payroll admins:admin", DisplayName: "admin on role Payroll Admins in Payroll", Email: "bob@example.com"}
	r.Task = &jit.OwnerTask{ID: "task_1", Kind: "grant", Owner: "olga@example.com", State: "open",
		Instruction: `Grant entitlement "admin" on role "Payroll Admins" in Payroll to user bob (bob@example.com).`,
		CreatedAt:   t0.Add(-2 * time.Minute), DueAt: t0.Add(24 * time.Hour)}
	fake := &fakeJIT{reqs: []*jit.Request{r}}
	u := newJITUI(t, fake)
	olga := &auth.Caller{Email: "olga@example.com", Name: "Olga Owner", Via: "session"}

	res := u.get(olga, "/requests/req_app")
	if res.Status != 200 {
		t.Fatalf("status %d: %s", res.Status, text(res.Body))
	}
	cspSafe(t, res.Body)
	mustContain(t, text(res.Body),
		"Granted and removed by hand Payroll is an application imported from files: Gatehouse cannot change it. Its owner grants the access and removes it when the lease ends; the access starts when the owner has granted it, and ends only when an import of Payroll no longer shows it. Gatehouse asks the owner on time and alerts the admins when a removal is overdue, but it cannot make the access end on time.",
		"Grant by the owner open",
		`Grant entitlement "admin" on role "Payroll Admins" in Payroll to user bob (bob@example.com).`,
		"Owner olga@example.com · asked 12 min ago · due", "Mark done")
	mustContain(t, res.Body, `<form method="post" action="/requests/req_app/task_done"`)
	// The requester sees the task, not the button; an admin has it too.
	res = u.get(bob, "/requests/req_app")
	mustContain(t, text(res.Body), "Grant by the owner open")
	mustNotContain(t, res.Body, "/requests/req_app/task_done")
	mustContain(t, u.get(admin, "/requests/req_app").Body, "/requests/req_app/task_done")

	// The button calls the service as the owner, with what they did.
	res = u.postForm(olga, "/requests/req_app/task_done", url.Values{"reason": {"added bob"}})
	if res.Status != http.StatusSeeOther || res.Header.Get("Location") != "/requests/req_app?done=task_done" {
		t.Fatalf("task_done: %d %q", res.Status, res.Header.Get("Location"))
	}
	if len(fake.calls) != 1 || fake.calls[0] != "task_done req_app by olga@example.com added bob" {
		t.Fatalf("calls %q", fake.calls)
	}
	mustContain(t, text(u.get(olga, res.Header.Get("Location")).Body), "The task is marked done. The next import of the application confirms it.")
	// Done by the owner, not yet shown by an import.
	done := t0
	r.Task.State, r.Task.DoneBy, r.Task.DoneAt = "done", "olga@example.com", &done
	res = u.get(olga, "/requests/req_app")
	mustContain(t, text(res.Body), "Grant by the owner done, not yet shown by an import", "marked done by olga@example.com 10 min ago")
	mustNotContain(t, res.Body, "/requests/req_app/task_done")
	// AWS access has no such notice.
	fake.reqs = append(fake.reqs, activeRequest())
	mustNotContain(t, u.get(bob, "/requests/req_7").Body, "Granted and removed by hand", "owner-task")
}

// The catalog's overview lists the requestable entitlements of imported applications apart
// from AWS, with Request; the request form says the owner grants and removes them by hand.
func TestCatalogShowsImportedApplications(t *testing.T) {
	u, fake, _ := jitFixture(t)
	id := "app_resource:app_1:role:payroll admins:admin"
	fake.entries[id] = &jit.CatalogEntry{Requestable: true, Note: "Payroll has no user with your email person@example.com yet: its owner creates one when granting the access, so the grant may take longer.",
		Item: jit.CatalogItem{EntitlementID: id, DisplayName: "admin on role Payroll Admins in Payroll", Application: "app_1", ResourceType: "app_resource",
			DefaultDuration: time.Hour, MaxDuration: 8 * time.Hour, Rule: "payroll", Policy: "owner",
			Why: "Rule 'payroll' applies because it matches every entitlement of application Payroll; it allows everyone signed in."}}
	res := u.get(person, "/catalog")
	mustContain(t, text(res.Body), "AWS 5 entitlements you can request", "Applications imported from files",
		"Their owner grants and removes the access by hand; an import of the application shows when it is done.",
		"Entitlement For Rule", "admin on role Payroll Admins in Payroll admin on role Payroll Admins in Payroll 1 hour up to 8 hours payroll")
	mustContain(t, res.Body, `href="/requests/new?entitlement=app_resource%3aapp_1%3arole%3apayroll%20admins%3aadmin"`)
	res = u.get(person, "/requests/new?entitlement="+url.QueryEscape(id))
	if res.Status != 200 {
		t.Fatalf("request form: %d %s", res.Status, text(res.Body))
	}
	mustContain(t, text(res.Body), "Granted and removed by hand This is an application imported from files: its owner grants the access after the approval and removes it when your time is up. Your time starts when the owner has granted it; the access ends when an import of the application no longer shows it, which Gatehouse cannot enforce. Payroll has no user with your email person@example.com yet")
}
