package web

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/jit"
)

// optionValues are the values of the <option>s of the select named name.
func optionValues(t *testing.T, body, name string) []string {
	t.Helper()
	m := regexp.MustCompile(`(?s)<select[^>]*name="` + name + `"[^>]*>(.*?)</select>`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no select %s in the page", name)
	}
	var out []string
	for _, o := range regexp.MustCompile(`<option value="([^"]*)"( selected)?`).FindAllStringSubmatch(m[1], -1) {
		out = append(out, o[1]+o[2])
	}
	return out
}

// The request form: durations bounded by the rule (default selected), a reason the rule
// requires; problems come back beside their field and nothing is requested; a good form
// makes the request and leads to its page.
func TestRequestFormValidatesAgainstTheRule(t *testing.T) {
	u, fake, ids := jitFixture(t)
	id := ids["AdministratorAccess on prod"]
	res := u.get(person, "/requests/new?entitlement="+url.QueryEscape(id))
	if res.Status != 200 {
		t.Fatalf("status %d: %s", res.Status, text(res.Body))
	}
	cspSafe(t, res.Body)
	mustContain(t, text(res.Body), "Catalog prod Request", "Request AdministratorAccess", "AdministratorAccess on prod (333333333333)",
		"For how long", "1 hour by default, at most 8 hours (rule accounts-everyone).", "Reason", "Required: approvers read it.",
		"Submit request", "What it grants", "Rule accounts-everyone", "Approval policy default", "Session duration PT1H")
	if got, want := strings.Join(optionValues(t, res.Body, "duration"), " "), "1m 5m 15m 30m 1h selected 2h 4h 8h"; got != want {
		t.Fatalf("duration choices %q, want %q", got, want)
	}

	post := func(d, reason string) response {
		return u.postForm(person, "/requests", url.Values{"entitlement": {id}, "duration": {d}, "reason": {reason}})
	}
	// Too long, and no reason: both fields say what is wrong; nothing is requested.
	res = post("9h", "")
	if res.Status != http.StatusUnprocessableEntity {
		t.Fatalf("9h without reason: status %d", res.Status)
	}
	cspSafe(t, res.Body)
	mustContain(t, text(res.Body), "For how long", "At most 8 hours: rule accounts-everyone allows no more.",
		"Reason", "Say why you need this access: rule accounts-everyone asks for a reason.")
	mustContain(t, res.Body, `id="f-duration" name="duration" aria-invalid="true" aria-describedby="duration-error"`, `<option value="9h" selected>`)
	res = post("soon", "deploy")
	mustContain(t, text(res.Body), "Give a duration such as 30m, 1h or 1h30m.")
	mustContain(t, res.Body, `>deploy</textarea>`)
	res = post("30s", "deploy")
	mustContain(t, text(res.Body), "At least 1 minute.")
	if len(fake.calls) != 0 {
		t.Fatalf("an invalid form reached the service: %q", fake.calls)
	}

	// The service refuses (the rules changed since): its reason shows beside the field.
	fake.refuse = jit.Errorf(jit.CodeInvalid, "duration 2h is longer than the 1h that rule 'accounts-everyone' allows; ask for 1h or less")
	res = post("2h", "deploy")
	if res.Status != http.StatusBadRequest {
		t.Fatalf("refused: status %d", res.Status)
	}
	mustContain(t, text(res.Body), "For how long", "Duration 2h is longer than the 1h that rule 'accounts-everyone' allows; ask for 1h or less.", "Reason")

	// A good form: the request is made and its page follows.
	res = post("2h", "deploy the fix for INC-42")
	if res.Status != http.StatusSeeOther || res.Header.Get("Location") != "/requests/req_1?done=created" {
		t.Fatalf("create: status %d location %q: %s", res.Status, res.Header.Get("Location"), text(res.Body))
	}
	want := []string{"create " + id + " by pat@example.com 2h0m0s duration 2h is longer", "create " + id + " by pat@example.com 2h0m0s deploy the fix for INC-42"}
	if len(fake.calls) != 2 || !strings.HasPrefix(fake.calls[0], "create "+id+" by pat@example.com 2h0m0s") || fake.calls[1] != want[1] {
		t.Fatalf("service calls %q", fake.calls)
	}

	// Not requestable: the form says why and offers no submit.
	res = u.get(person, "/requests/new?entitlement="+url.QueryEscape(ids["ReadOnly on prod"]))
	mustContain(t, text(res.Body), "You cannot request this", "no rule makes ReadOnly on prod requestable; ask an admin of Gatehouse to add one")
	mustNotContain(t, res.Body, "Submit request")
	res = u.postForm(person, "/requests", url.Values{"entitlement": {ids["ReadOnly on prod"]}, "duration": {"1h"}, "reason": {"x"}})
	if res.Status != http.StatusForbidden {
		t.Fatalf("posting a non-requestable entitlement: status %d", res.Status)
	}
	mustContain(t, text(res.Body), "No rule makes ReadOnly on prod requestable; ask an admin of Gatehouse to add one.")
}

// t0 is the pinned clock of the request page tests.
var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func pinNow(t *testing.T, at time.Time) {
	old := now
	now = func() time.Time { return at }
	t.Cleanup(func() { now = old })
}

// activeRequest is bob's request for AdministratorAccess on prod, approved by carol,
// active since t0 for an hour.
func activeRequest() *jit.Request {
	start, end := t0, t0.Add(time.Hour)
	return &jit.Request{ID: "req_7", State: jit.StateActive, Requester: "bob@example.com",
		Target: jit.Target{EntitlementID: "account:333333333333:ps-1", DisplayName: "AdministratorAccess on prod (333333333333)"},
		Reason: "INC-42: fix the deploy", Duration: time.Hour, CreatedAt: t0.Add(-5 * time.Minute),
		StartsAt: &start, EndsAt: &end, Rule: "accounts-everyone", Policy: jit.PolicySnapshot{Name: "default"},
		Steps: []jit.StepStatus{{Index: 0, Required: 1, Approvers: []string{"carol@example.com", "dan@example.com"}, State: "approved",
			Approvals: []jit.Decision{{By: "carol@example.com", Approved: true, Reason: "ok", At: t0.Add(-2 * time.Minute)}}}},
		Transitions: []jit.Transition{
			{From: "", To: jit.StatePendingApproval, By: "bob@example.com", At: t0.Add(-5 * time.Minute), Reason: "INC-42: fix the deploy"},
			{From: jit.StatePendingApproval, To: jit.StateApproved, By: "carol@example.com", At: t0.Add(-2 * time.Minute), Reason: "ok"},
			{From: jit.StateApproved, To: jit.StateProvisioning, By: "gatehouse", At: t0.Add(-2 * time.Minute)},
			{From: jit.StateProvisioning, To: jit.StateActive, By: "gatehouse", At: t0, Reason: "AWS confirmed the assignment"},
		}}
}

var (
	bob   = &auth.Caller{Email: "bob@example.com", Name: "Bob Martinez", Via: "session"}
	carol = &auth.Caller{Email: "carol@example.com", Name: "Carol Approver", Via: "session"}
)

// The request page: state, lease start and end, the countdown (polled by htmx), every
// transition, the approval steps, and only the buttons the viewer may use.
func TestRequestPageShowsLeaseHistoryAndTheViewersButtons(t *testing.T) {
	pinNow(t, t0.Add(25*time.Minute+30*time.Second))
	fake := &fakeJIT{reqs: []*jit.Request{activeRequest()}}
	u := newJITUI(t, fake)
	res := u.get(bob, "/requests/req_7")
	if res.Status != 200 {
		t.Fatalf("status %d: %s", res.Status, text(res.Body))
	}
	cspSafe(t, res.Body)
	mustContain(t, text(res.Body), "Requests req_7", "AdministratorAccess on prod (333333333333)",
		"Requested by bob@example.com 31 min ago for 1 hour · rule accounts-everyone · policy default",
		"Status active", "Access active", "Started 2026-03-02 09:00:00 UTC", "Ends 2026-03-02 10:00:00 UTC", "Time left 34m 30s",
		"What you can do", "1 minute more 5 minutes more 15 minutes more 30 minutes more 1 hour more Extend", "Release now",
		"Approval", "Step 1 approved 1 of carol@example.com, dan@example.com", "Approved by carol@example.com 28 min ago: “ok”",
		"Reason INC-42: fix the deploy",
		"History 4", "From To By At Reason",
		"— pending approval bob@example.com 2026-03-02 08:55:00 UTC INC-42: fix the deploy",
		"pending approval approved carol@example.com 2026-03-02 08:58:00 UTC ok",
		"approved provisioning gatehouse 2026-03-02 08:58:00 UTC",
		"provisioning active gatehouse 2026-03-02 09:00:00 UTC AWS confirmed the assignment")
	// The countdown ticks in app.js and the card is polled; no inline script.
	mustContain(t, res.Body, `hx-get="/requests/req_7/status?state=active" hx-trigger="every 3s" hx-swap="outerHTML"`,
		`<span class="countdown" data-countdown="2026-03-02T10:00:00Z">34m 30s</span>`,
		`<form method="post" action="/requests/req_7/extend"`, `<form method="post" action="/requests/req_7/release"`)
	mustNotContain(t, res.Body, "/requests/req_7/approve", "/requests/req_7/revoke", "/requests/req_7/cancel")

	// An admin may revoke, not release; an approver who is not an admin has no button once
	// the request is active; another person sees the service's refusal.
	res = u.get(admin, "/requests/req_7")
	mustContain(t, res.Body, `action="/requests/req_7/revoke"`)
	mustNotContain(t, res.Body, "/requests/req_7/release", "/requests/req_7/extend")
	res = u.get(carol, "/requests/req_7")
	mustNotContain(t, text(res.Body), "What you can do")

	// The status card alone, as htmx polls it; a state other than the page's reloads it.
	res = u.get(bob, "/requests/req_7/status?state=active", "HX-Request", "true")
	mustNotContain(t, res.Body, "<html")
	if res.Header.Get("HX-Refresh") != "" {
		t.Fatal("the page reloads although the state did not change")
	}
	mustContain(t, text(res.Body), "Status active", "Time left 34m 30s")
	res = u.get(bob, "/requests/req_7/status?state=provisioning", "HX-Request", "true")
	if res.Header.Get("HX-Refresh") != "true" {
		t.Fatal("the state changed and the page is not reloaded")
	}

	// Pending: the approvers of the waiting step may approve or deny, the requester cancel.
	r := activeRequest()
	r.ID, r.State, r.StartsAt, r.EndsAt, r.Transitions = "req_8", jit.StatePendingApproval, nil, nil, r.Transitions[:1]
	r.Steps[0].State, r.Steps[0].Approvals = "waiting", nil
	fake.reqs = append(fake.reqs, r)
	res = u.get(carol, "/requests/req_8")
	mustContain(t, text(res.Body), "Status pending approval", "Started —", "Ends —", "Time left —", "Approve", "Deny",
		"Step 1 waiting 1 of carol@example.com, dan@example.com")
	mustNotContain(t, res.Body, "/requests/req_8/cancel", "/requests/req_8/release")
	res = u.get(bob, "/requests/req_8")
	mustContain(t, res.Body, `action="/requests/req_8/cancel"`)
	mustNotContain(t, res.Body, "/requests/req_8/approve", "/requests/req_8/deny")

	// A final request is not polled.
	r2 := activeRequest()
	r2.ID, r2.State = "req_9", jit.StateRevoked
	fake.reqs = append(fake.reqs, r2)
	res = u.get(bob, "/requests/req_9")
	mustContain(t, text(res.Body), "Status revoked", "Time left —")
	mustNotContain(t, res.Body, "hx-trigger=\"every 3s\"", "What you can do")
}

// Every button is a POST that calls the service as the caller and comes back to the page
// with what happened; a refusal is shown with the service's status and reason.
func TestRequestActions(t *testing.T) {
	pinNow(t, t0)
	fake := &fakeJIT{reqs: []*jit.Request{activeRequest()}}
	u := newJITUI(t, fake)
	for _, c := range []struct {
		caller *auth.Caller
		action string
		form   url.Values
		call   string
		flash  string
	}{
		{carol, "approve", url.Values{"reason": {"looks right"}}, "approve req_7 by carol@example.com looks right", "You approved the request."},
		{carol, "deny", url.Values{"reason": {"not now"}}, "deny req_7 by carol@example.com not now", "You denied the request."},
		{bob, "cancel", nil, "cancel req_7 by bob@example.com ", "The request is cancelled."},
		{bob, "release", nil, "release req_7 by bob@example.com ", "You released the access. It is being removed in AWS."},
		{admin, "revoke", url.Values{"reason": {"left the team"}}, "revoke req_7 by ada@example.com left the team", "The access is revoked. It is being removed in AWS."},
		{bob, "extend", url.Values{"duration": {"30m"}, "reason": {"not done"}}, "extend 30m0s req_7 by bob@example.com not done", "The lease is extended: its new end is below."},
	} {
		fake.calls = nil
		res := u.postForm(c.caller, "/requests/req_7/"+c.action, c.form)
		if res.Status != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/requests/req_7?done=") {
			t.Fatalf("%s: status %d location %q", c.action, res.Status, res.Header.Get("Location"))
		}
		if len(fake.calls) != 1 || fake.calls[0] != c.call {
			t.Fatalf("%s: service calls %q, want %q", c.action, fake.calls, c.call)
		}
		res = u.get(c.caller, res.Header.Get("Location"))
		mustContain(t, text(res.Body), c.flash)
	}
	// An extension that waits for approval says so.
	fake.extendNeedsApproval = true
	res := u.postForm(bob, "/requests/req_7/extend", url.Values{"duration": {"1h"}})
	mustContain(t, text(u.get(bob, res.Header.Get("Location")).Body), "Extension asked for: the lease's end moves once it is approved.")

	// From the inbox, back to the inbox.
	res = u.postForm(carol, "/requests/req_7/approve", url.Values{"next": {"/approvals"}})
	if res.Header.Get("Location") != "/approvals?done=approved" {
		t.Fatalf("approve from the inbox leads to %q", res.Header.Get("Location"))
	}
	if res := u.postForm(carol, "/requests/req_7/approve", url.Values{"next": {"//evil.example"}}); res.Header.Get("Location") != "/requests/req_7?done=approved" {
		t.Fatalf("next may lead off the site: %q", res.Header.Get("Location"))
	}

	fake.refuse = jit.Errorf(jit.CodeForbidden, "you made this request: someone else must approve it")
	res = u.postForm(bob, "/requests/req_7/approve", nil)
	if res.Status != http.StatusForbidden {
		t.Fatalf("refused approve: status %d", res.Status)
	}
	cspSafe(t, res.Body)
	mustContain(t, text(res.Body), "403", "Not allowed", "You made this request: someone else must approve it.")
	fake.refuse = jit.Errorf(jit.CodeConflict, "the request is cancelled: only a request pending approval can be approved")
	res = u.postForm(carol, "/requests/req_7/approve", nil)
	if res.Status != http.StatusConflict {
		t.Fatalf("conflicting approve: status %d", res.Status)
	}
	mustContain(t, text(res.Body), "409", "Not possible now", "The request is cancelled: only a request pending approval can be approved.")

	if res := u.postForm(bob, "/requests/req_7/extend", url.Values{"duration": {"forever"}}); res.Status != http.StatusBadRequest {
		t.Fatalf("bad extension: status %d", res.Status)
	}
	if res := u.postForm(bob, "/requests/req_7/explode", nil); res.Status != http.StatusNotFound {
		t.Fatalf("unknown action: status %d", res.Status)
	}
	if res := u.get(bob, "/requests/req_404"); res.Status != http.StatusNotFound {
		t.Fatalf("unknown request: status %d", res.Status)
	} else {
		mustContain(t, text(res.Body), "There is no request req_404 you may see.")
	}
}

// An extension waiting for approval and break-glass access waiting for its review offer
// their own buttons to the approvers (and admins), never to the requester.
func TestExtensionAndBreakGlassReviewButtons(t *testing.T) {
	pinNow(t, t0.Add(10*time.Minute))
	ext := activeRequest()
	ext.PendingExtension = &jit.Extension{Duration: 30 * time.Minute, Reason: "the migration runs long", RequestedAt: t0.Add(9 * time.Minute)}
	bg := activeRequest()
	bg.ID, bg.BreakGlass, bg.Steps = "req_bg", true, []jit.StepStatus{{Index: 0, Required: 1, Approvers: []string{"carol@example.com"}, State: "approved", Auto: false}}
	fake := &fakeJIT{reqs: []*jit.Request{ext, bg}}
	u := newJITUI(t, fake)

	res := u.get(carol, "/requests/req_7")
	cspSafe(t, res.Body)
	mustContain(t, text(res.Body), "An extension of 30 minutes waits for approval: “the migration runs long”.", "Approve 30 minutes more", "Deny the extension")
	mustNotContain(t, text(u.get(bob, "/requests/req_7").Body), "Approve 30 minutes more")
	mustContain(t, text(u.get(admin, "/requests/req_7").Body), "Approve 30 minutes more")
	res = u.get(carol, "/approvals")
	mustContain(t, text(res.Body), "AdministratorAccess on prod (333333333333) extension of 30 minutes active", "Approve 30 minutes more", "Deny the extension")

	// Drift and ending live sessions are said on the page.
	ext.EndSessions = true
	ext.Lease = &jit.Lease{ID: "lease_1", State: jit.LeaseActive, EndsAt: t0.Add(time.Hour), Drift: "the assignment was removed in AWS outside Gatehouse at 09:05"}
	res = u.get(bob, "/requests/req_7")
	mustContain(t, text(res.Body), "AWS disagrees with the lease the assignment was removed in AWS outside Gatehouse at 09:05",
		"When this access ends, its live AWS sessions end too (rule accounts-everyone): credentials already issued stop working.")

	res = u.get(carol, "/requests/req_bg")
	mustContain(t, text(res.Body), "Break-glass access", "It waits for an approver's review after the fact.", "Mark reviewed")
	mustNotContain(t, text(res.Body), "Deny")
	reviewed := t0.Add(5 * time.Minute)
	bg.ReviewedBy, bg.ReviewedAt = "carol@example.com", &reviewed
	res = u.get(carol, "/requests/req_bg")
	mustContain(t, text(res.Body), "Reviewed by carol@example.com 5 min ago.")
	mustNotContain(t, text(res.Body), "Mark reviewed")
}

// Where the rule allows break-glass, the form offers it; it needs a reason and is passed to
// the service; elsewhere it is neither offered nor accepted.
func TestRequestFormBreakGlass(t *testing.T) {
	u, fake, ids := jitFixture(t)
	id := ids["AdministratorAccess on prod"]
	res := u.get(person, "/requests/new?entitlement="+url.QueryEscape(id))
	mustNotContain(t, res.Body, `name="break_glass"`)
	res = u.postForm(person, "/requests", url.Values{"entitlement": {id}, "duration": {"1h"}, "reason": {"fire"}, "break_glass": {"on"}})
	if res.Status != http.StatusUnprocessableEntity {
		t.Fatalf("break-glass where the rule does not allow it: status %d", res.Status)
	}
	mustContain(t, text(res.Body), "Rule accounts-everyone does not allow break-glass access: request it for approval.")

	fake.entries[id].Item.BreakGlass = true
	res = u.get(person, "/requests/new?entitlement="+url.QueryEscape(id))
	cspSafe(t, res.Body)
	mustContain(t, text(res.Body), "Emergency", "break-glass: granted at once without approval",
		"Only for emergencies: the approvers are alerted at once and review the access afterwards. A reason is required.")
	fake.entries[id].Item.ReasonRequired = false
	res = u.postForm(person, "/requests", url.Values{"entitlement": {id}, "duration": {"1h"}, "break_glass": {"on"}})
	mustContain(t, text(res.Body), "Say what the emergency is: break-glass access needs a reason.")
	mustContain(t, res.Body, `name="break_glass" checked>`)
	if len(fake.calls) != 0 {
		t.Fatalf("service called: %q", fake.calls)
	}
	res = u.postForm(person, "/requests", url.Values{"entitlement": {id}, "duration": {"1h"}, "reason": {"prod is down"}, "break_glass": {"on"}})
	if res.Status != http.StatusSeeOther || len(fake.calls) != 1 || fake.calls[0] != "create "+id+" by pat@example.com 1h0m0s prod is down break-glass" {
		t.Fatalf("status %d, calls %q", res.Status, fake.calls)
	}
}
