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
