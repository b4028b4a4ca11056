package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gatehouse/gatehouse/internal/awssim"
	"github.com/gatehouse/gatehouse/internal/oidcdemo"
	"github.com/gatehouse/gatehouse/internal/server"
	"github.com/gatehouse/gatehouse/internal/web"
)

// TestUI drives the whole product in headless Chromium: the simulator with the demo
// organization, a real OpenID provider (oidcdemo) and `gatehouse serve` on loopback.
// An admin signs in through the provider's page, starts a sync and watches it reach its
// final state, browses to a person and an account, then the organization changes in the
// simulator (Dave joins the OnCall group), a second sync runs, and the change appears in
// the home page's change feed. With GATEHOUSE_SCREENSHOTS=dir it writes the screenshots
// of docs/screenshots.
func TestUI(t *testing.T) {
	b := web.NewBrowser(t) // skips (or fails, when required) without Chromium
	if testing.Short() {
		t.Skip("the UI test runs syncs; skipped with -short")
	}

	u := startDemoUI(t, []oidcdemo.Person{
		{Email: "ada@example.com", Name: "Ada Admin"},
		{Email: "alice@example.com", Name: "Alice Nguyen"},
	}, func(cfg *server.Config) {
		cfg.Admins = []string{"ada@example.com"}
	})
	world, sim, idp, base := u.world, u.sim, u.idp, u.base

	// Sign in: Gatehouse sends the browser to the provider, Ada picks herself.
	b.Open(base + "/")
	if loc := b.Location(); !strings.HasPrefix(loc, idp.Issuer()) {
		t.Fatalf("an anonymous visit to / went to %s, not to the provider's sign-in", loc)
	}
	b.ClickAndWait("#signin-ada")
	if got := b.WaitText(".user-name", "Ada Admin", 10*time.Second); got != "Ada Admin" {
		t.Fatalf("signed in as %q", got)
	}

	// The first sync: Sync now, then the sync's page until it is final.
	syncNow := func(label string) {
		t.Helper()
		b.Open(base + "/syncs")
		b.ClickAndWait("#sync-now")
		if !strings.Contains(b.Location(), "/syncs/s") {
			t.Fatalf("Sync now led to %s, not to the sync's page", b.Location())
		}
		// The page polls its progress until the sync is final, then reloads with the
		// summary. The demo organization has a suspended account and one whose member
		// role is missing: the sync is partial, and says which and why.
		state := b.WaitTextIn("#sync-state", 2*time.Minute, "succeeded", "partial", "failed")
		if state != "partial" {
			t.Fatalf("%s ended %q, want partial: %s", label, state, b.Text("main"))
		}
		skipped := b.WaitText("#skipped", "Fix:", 5*time.Second)
		if !strings.Contains(skipped, "sandbox") && !strings.Contains(skipped, "legacy") {
			t.Fatalf("the skipped accounts do not name the demo's unreadable accounts:\n%s", skipped)
		}
	}
	syncNow("the first sync")
	b.WaitText("#sync-accounts", "/", time.Second)
	b.Screenshot("sync-detail")
	b.Open(base + "/syncs")
	b.WaitText("#syncs-table", "partial", 5*time.Second)
	b.Screenshot("syncs")

	// A person: search the people, open Bob, see his access across accounts.
	b.Open(base + "/people")
	b.Type(`input[name="q"]`, "martinez")
	b.WaitCount("#people-table tbody tr", 1, 10*time.Second) // htmx swapped the results in
	b.WaitText("#people-table", "Bob Martinez", time.Second)
	if !strings.HasSuffix(b.Location(), "/people?q=martinez") {
		t.Fatalf("the search is not in the address bar: %s", b.Location())
	}
	b.ClickAndWait(`#people-table a[href="/people/bob@example.com"]`)
	got := b.WaitText("#access-table", "Developer on staging", 5*time.Second)
	for _, want := range []string{"ReadOnly on prod", "via Developers", "Developer on prod", "via OnCall"} {
		if !strings.Contains(got, want) {
			t.Fatalf("Bob's access lacks %q:\n%s", want, got)
		}
	}
	b.Screenshot("person")

	// "As of" a day before the first sync: the date picker submits itself (app.js) and
	// the page shows that day's access, which is none.
	b.Eval(`(() => { const d = document.querySelector('#asof'); d.value = '2020-01-31'; d.dispatchEvent(new Event('change', {bubbles: true})); return true })()`)
	b.WaitText("#asof-notice", "History: access on 2020-01-31 (end of day, UTC)", 10*time.Second)
	b.WaitText("main", "Bob Martinez held no access on 2020-01-31 (end of day, UTC).", time.Second)
	if !strings.HasSuffix(b.Location(), "/people/bob@example.com?at=2020-01-31") {
		t.Fatalf("as of: location %s", b.Location())
	}

	// On a phone the page fits the screen's width: the navigation wraps above, wide
	// tables scroll inside their card.
	b.Viewport(390, 844)
	b.Open(base + "/people/bob@example.com")
	if over := b.Eval(`document.documentElement.scrollWidth - window.innerWidth`); over.(float64) > 0 {
		t.Fatalf("on a phone the person page is %v px wider than the screen", over)
	}
	b.Screenshot("person-phone")
	b.Viewport(1360, 900)

	// An account: the accounts list, then prod.
	b.Open(base + "/inventory/account")
	b.WaitText("#ou-tree", "prod", 5*time.Second)
	b.Screenshot("accounts")
	prodID := ""
	for id, a := range world.Accounts {
		if a.Name == "prod" {
			prodID = id
		}
	}
	b.Open(base + "/inventory/account/" + prodID)
	got = b.WaitText("#grants-table", "AdministratorAccess on prod", 5*time.Second)
	for _, want := range []string{"Admins", "Developers", "ReadOnly on prod", "OnCall", "Developer on prod"} {
		if !strings.Contains(got, want) {
			t.Fatalf("prod's page lacks %q:\n%s", want, got)
		}
	}
	b.Screenshot("account")
	b.ClickAndWait(`#grants-table a[href^="/entitlements/"]`)
	b.WaitText("#holders-table", "direct", 5*time.Second)
	b.Screenshot("entitlement")

	// The organization changes: Dave joins OnCall. The next sync shows it on the home page.
	sim.Do(func(w *awssim.World) {
		var dave, oncall string
		for _, u := range w.SSO.Users {
			if u.UserName == "dave" {
				dave = u.ID
			}
		}
		for _, g := range w.SSO.Groups {
			if g.DisplayName == "OnCall" {
				oncall = g.ID
			}
		}
		w.AddMembership(oncall, dave)
	})
	syncNow("the second sync")
	b.Open(base + "/")
	feed := b.WaitText("#change-feed", "Dave Kim", 5*time.Second)
	for _, want := range []string{"Dave Kim got OnCall member", "Dave Kim got Developer on prod"} {
		if !strings.Contains(feed, want) {
			t.Fatalf("the change feed lacks %q:\n%s", want, feed)
		}
	}
	b.Screenshot("home")
	b.Open(base + "/history?by=person")
	b.WaitText("#changes-range", "added", 5*time.Second)
	b.Screenshot("changes")
	b.Open(base + "/audit")
	b.WaitText("#audit-table", "sync.start", 5*time.Second)
	b.Screenshot("audit")

	// The findings of the two syncs: root MFA (CIS 1.5) fails in every account the syncs
	// read, from GetAccountSummary; the trend of each control has a bar per sync.
	b.Open(base + "/findings?control=1.5")
	got = b.WaitText("#findings-table", "MFA is enabled for the root user", 5*time.Second)
	for _, want := range []string{"1.5", "v5 1.4", "fail", "the root user has no MFA device (GetAccountSummary AccountMFAEnabled = 0)"} {
		if !strings.Contains(got, want) {
			t.Fatalf("the findings page lacks %q:\n%s", want, got)
		}
	}
	b.Open(base + "/findings")
	b.WaitText("#trends-control", "1.5", 5*time.Second)
	bars, err := chromedp.Run(b.Ctx, chromedp.Evaluate[int](`document.querySelectorAll('#trends-control tr[data-key="1.5"] svg g').length`))
	if err != nil || bars != 2 {
		t.Fatalf("the 1.5 trend has %d bars (%v); want one per sync (2)", bars, err)
	}
	b.Screenshot("findings")

	// An evidence pack of today for the prod account, requested with the form: it is built
	// in the background and its row turns ready by itself; its summary maps the controls to
	// the pack's files and says the audit log's chain is intact.
	b.Open(base + "/evidence")
	today := time.Now().UTC().Format("2006-01-02")
	b.Eval(`document.querySelector('#evidence-from').value = '` + today + `'; document.querySelector('#evidence-to').value = '` + today + `'`)
	b.Type("#evidence-accounts", "prod")
	b.ClickAndWait(`#evidence-form button[type="submit"]`)
	b.WaitText("#evidence-requested", "requested", 5*time.Second)
	got = b.WaitText("#evidence-table tbody tr:first-child", "ready", time.Minute)
	for _, want := range []string{today, "prod", "audit log intact", "Download", "Summary"} {
		if !strings.Contains(got, want) {
			t.Fatalf("the pack's row lacks %q:\n%s", want, got)
		}
	}
	b.Screenshot("evidence")
	summary, _ := b.Eval(`document.querySelector('#evidence-table tbody tr:first-child a[href$="/summary"]').getAttribute('href')`).(string)
	if summary == "" {
		t.Fatal("the ready pack has no summary link")
	}
	b.Open(base + summary)
	got = b.WaitText("body", "A.8.2", 10*time.Second)
	for _, want := range []string{"CC6.1", "CC6.2", "CC6.3", "A.5.15", "A.5.18", "Audit log chain Intact"} {
		if !strings.Contains(got, want) {
			t.Fatalf("the pack's summary lacks %q:\n%s", want, got)
		}
	}
	b.Screenshot("evidence-summary")
}
