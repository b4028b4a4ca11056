package web_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/awssim"
	"github.com/gatehouse/gatehouse/internal/oidcdemo"
	"github.com/gatehouse/gatehouse/internal/server"
	"github.com/gatehouse/gatehouse/internal/web"
)

// jitRules is the document the admin applies in the rules editor: every permission set on
// every account, for everyone, approved by Ada.
const jitRules = `rules:
  - name: accounts-everyone
    description: Every permission set on every account, requestable by everyone signed in.
    match:
      application: aws
      resource_types: [account]
    requesters:
      everyone: true
    duration:
      default: 5m
      max: 1h
    reason_required: true
    approval_policy: ada-approves
policies:
  - name: ada-approves
    steps:
      - approvers:
          people: [ada@example.com]
`

// TestUIJustInTimeAccess drives the just-in-time flow in Chromium against a real server, the
// simulator and a real OpenID provider: Ada (admin) syncs and applies rules in the editor;
// Bob finds AdministratorAccess on prod in the catalog and requests it for 5 minutes with a
// reason; Ada approves it from her inbox; Bob's request page turns active by itself with
// the lease's countdown running, the assignment exists in the simulator; Bob releases it
// and the page shows it revoked once AWS has removed the assignment. With
// GATEHOUSE_SCREENSHOTS=dir it writes the screenshots of the pages.
func TestUIJustInTimeAccess(t *testing.T) {
	b := web.NewBrowser(t)
	if testing.Short() {
		t.Skip("the UI test runs a sync and a grant; skipped with -short")
	}
	u := startDemoUI(t, []oidcdemo.Person{
		{Email: "ada@example.com", Name: "Ada Admin"},
		{Email: "bob@example.com", Name: "Bob Martinez"},
	}, func(cfg *server.Config) {
		cfg.Admins = []string{"ada@example.com"}
	})
	sim, base := u.sim, u.base

	signIn := func(who, name string) {
		t.Helper()
		b.Open(base + "/login")
		b.ClickAndWait("#signin-" + who)
		b.WaitText(".user-name", name, 10*time.Second)
	}
	signOut := func() {
		t.Helper()
		b.ClickAndWait(`form[action="/logout"] button`)
	}
	var prodID, bobID, adminARN string
	sim.Do(func(w *awssim.World) {
		for id, a := range w.Accounts {
			if a.Name == "prod" {
				prodID = id
			}
		}
		for _, u := range w.SSO.Users {
			if u.UserName == "bob" {
				bobID = u.ID
			}
		}
		for _, p := range w.SSO.PermissionSets {
			if p.Name == "AdministratorAccess" {
				adminARN = p.ARN
			}
		}
	})
	bobHasAdmin := func() bool {
		found := false
		sim.Do(func(w *awssim.World) {
			for _, a := range w.SSO.Assignments {
				if a.AccountID == prodID && a.PermissionSetARN == adminARN && a.PrincipalType == "USER" && a.PrincipalID == bobID {
					found = true
				}
			}
		})
		return found
	}

	// Ada syncs the organization and applies the rules.
	signIn("ada", "Ada Admin")
	b.Open(base + "/syncs")
	b.ClickAndWait("#sync-now")
	b.WaitTextIn("#sync-state", 2*time.Minute, "succeeded", "partial")
	b.Open(base + "/admin/rules")
	b.Eval(`(() => { document.querySelector('#rules-doc').value = ` + "`" + jitRules + "`" + `; return true })()`)
	b.ClickAndWait("#apply-rules")
	b.WaitText("#flash", "Applied: version", 5*time.Second)
	b.Screenshot("rules")
	signOut()

	// Bob browses the catalog to prod and requests AdministratorAccess.
	signIn("bob", "Bob Martinez")
	b.Open(base + "/catalog")
	b.WaitText("#accounts-table", "prod", 5*time.Second)
	b.Screenshot("catalog")
	serverTime := func(page string) {
		t.Helper()
		ms := b.Eval(`(() => { const n = performance.getEntriesByType('navigation')[0]; return n.responseEnd - n.requestStart })()`)
		t.Logf("%s: answered in %.0f ms", page, ms)
	}
	serverTime("catalog overview")
	b.ClickAndWait(`#accounts-table a[href="/catalog/aws/` + prodID + `"]`)
	got := b.WaitText("#entry-AdministratorAccess", "Request", 5*time.Second)
	for _, want := range []string{"Rule accounts-everyone", "5 minutes by default, up to 1 hour", "Session duration PT1H", "AdministratorAccess"} {
		if !strings.Contains(got, want) {
			t.Fatalf("the catalog's AdministratorAccess on prod lacks %q:\n%s", want, got)
		}
	}
	serverTime("catalog of prod")
	b.Screenshot("catalog-account")
	b.ClickAndWait(`#entry-AdministratorAccess a.btn`)
	b.WaitVisible("#request-form")
	// No reason (past the browser's own check): the form comes back with the problem
	// beside the field.
	b.Eval(`(() => { document.querySelector('#f-reason').removeAttribute('required'); return true })()`)
	b.Allow("status of 422 (Unprocessable Entity) (" + base + "/requests)")
	b.ClickAndWait("#submit-request")
	b.WaitText("#reason-error", "Say why you need this access: rule accounts-everyone asks for a reason.", 5*time.Second)
	b.Type("#f-reason", "INC-42: fix the failed deploy")
	b.ClickAndWait("#submit-request")
	if !regexp.MustCompile(`/requests/req_[a-z0-9]+\?done=created$`).MatchString(b.Location()) {
		t.Fatalf("the request led to %s", b.Location())
	}
	reqURL := strings.TrimSuffix(b.Location(), "?done=created")
	b.WaitTextIn("#request-state", 10*time.Second, "pending approval")
	b.WaitText("#transitions-table", "bob@example.com", time.Second)
	b.Screenshot("request-pending")
	signOut()

	// Ada approves from her inbox, seeing the context.
	signIn("ada", "Ada Admin")
	b.Open(base + "/approvals")
	inbox := b.WaitText("#approvals", "bob@example.com", 5*time.Second)
	for _, want := range []string{"AdministratorAccess on prod", "INC-42: fix the failed deploy", "accounts-everyone", "ada-approves", "What bob@example.com holds now", "ReadOnly on prod", "Who else holds it"} {
		if !strings.Contains(inbox, want) {
			t.Fatalf("the approvals inbox lacks %q:\n%s", want, inbox)
		}
	}
	b.Screenshot("approvals")
	b.ClickAndWait(`#approvals .approval form[action$="/approve"] button`)
	b.WaitText("#flash", "You approved the request.", 5*time.Second)
	signOut()

	// Bob's request page turns active by itself; the countdown runs.
	signIn("bob", "Bob Martinez")
	b.Open(reqURL)
	b.WaitTextIn("#request-state", 60*time.Second, "active")
	if !bobHasAdmin() {
		t.Fatal("the request is active but the simulator has no assignment for Bob")
	}
	left1 := b.WaitText("#time-left", "m", 5*time.Second)
	if !regexp.MustCompile(`^[45]m \d\ds$`).MatchString(left1) {
		t.Fatalf("time left %q, want about 5 minutes", left1)
	}
	time.Sleep(2100 * time.Millisecond)
	if left2 := b.Text("#time-left"); left2 == left1 {
		t.Fatalf("the countdown does not run: still %q", left2)
	}
	b.WaitText("#lease-end", "UTC", time.Second)
	b.Screenshot("request-active")
	serverTime("request page")
	b.Open(base + "/requests")
	b.WaitText("#my-leases", "AdministratorAccess on prod", 5*time.Second)
	b.Screenshot("my-requests")
	// On a phone the request page fits the screen's width.
	b.Viewport(390, 844)
	b.Open(reqURL)
	if over := b.Eval(`document.documentElement.scrollWidth - window.innerWidth`); over.(float64) > 0 {
		t.Fatalf("on a phone the request page is %v px wider than the screen", over)
	}
	b.Viewport(1360, 900)

	// Bob releases it; the page shows it revoked once AWS confirmed.
	b.Open(reqURL)
	b.Eval(`(() => { window.confirm = () => true; return true })()`)
	b.ClickAndWait("#release")
	b.WaitTextIn("#request-state", 60*time.Second, "revoked")
	if bobHasAdmin() {
		t.Fatal("the request is revoked but Bob's assignment is still in the simulator")
	}
	hist := b.Text("#transitions-table")
	for _, want := range []string{"pending approval approved ada@example.com", "active expiring bob@example.com", "expiring revoked"} {
		if !strings.Contains(hist, want) {
			t.Fatalf("the request's history lacks %q:\n%s", want, hist)
		}
	}
}
