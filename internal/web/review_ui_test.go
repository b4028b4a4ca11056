package web_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/awssim"
	"github.com/gatehouse/gatehouse/internal/jobs"
	"github.com/gatehouse/gatehouse/internal/oidcdemo"
	"github.com/gatehouse/gatehouse/internal/review"
	"github.com/gatehouse/gatehouse/internal/server"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/web"
)

// TestUIReviews drives an access review in Chromium against a real server, the simulator's
// demo organization and a real OpenID provider: Carol (auditor) creates a campaign over the
// prod account in the dashboard's form, reviewed by Dave with Alice as fallback, and starts
// it; Dave signs in, finds the count in the navigation and exactly his items in his inbox
// (never his own access, which went to Alice, and which the service refuses him; the inbox
// fits a phone's screen), revokes Bob's ReadOnly on prod with a reason (the plan says what the
// revoke changes), keeps Bob's Developer on prod, keeps deploy-bot's items in one bulk
// decision and delegates Frank's ReadOnly to Alice; Carol's campaign page shows the states,
// reasons and progress, per reviewer too. The revoke removes Bob from Developers in the
// simulator and nothing else; after the next sync the item is remediated, its history ending
// with the verification. Carol downloads the CSV (its SHA-256 checked, and found in the audit
// log), opens the printable report under the CSP, and reassigns an item. With
// GATEHOUSE_SCREENSHOTS=dir it writes the screenshots of docs/reviews.md.
func TestUIReviews(t *testing.T) {
	b := web.NewBrowser(t)
	if testing.Short() {
		t.Skip("the UI test runs a sync; skipped with -short")
	}
	u := startDemoUI(t, []oidcdemo.Person{
		{ID: "alice", Email: "alice@example.com", Name: "Alice Nguyen"},
		{ID: "carol", Email: "carol@example.com", Name: "Carol Okafor"},
		{ID: "dave", Email: "dave@example.com", Name: "Dave Kim"},
	}, func(cfg *server.Config) {
		cfg.Admins = []string{"alice@example.com"}
		cfg.Auditors = []string{"carol@example.com"}
	})
	world, sim, srv, base := u.world, u.sim, u.srv, u.base
	ctx := context.Background()

	// The inventory: a sync of the demo organization (the sync pages have their own test).
	syncOnce := func() {
		t.Helper()
		sync, err := srv.App.Syncs.StartSync(ctx, nil, "demo")
		if errors.Is(err, jobs.ErrSyncRunning) {
			sync, err = srv.App.Store.LatestSync(ctx, "demo")
		}
		if err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(2 * time.Minute); !sync.Final(); time.Sleep(200 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the sync is still %s after 2 minutes", sync.State)
			}
			if sync, err = srv.App.Store.GetSync(ctx, sync.ID); err != nil {
				t.Fatal(err)
			}
		}
		if sync.State == store.SyncFailed {
			t.Fatalf("sync %s failed: %s", sync.ID, sync.Error)
		}
	}
	syncOnce()
	var prodID string
	for id, a := range world.Accounts {
		if a.Name == "prod" {
			prodID = id
		}
	}

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
	// serverTime logs how long the server took to answer the page shown (request to last byte).
	serverTime := func(page string) {
		t.Helper()
		ms := b.Eval(`(() => { const n = performance.getEntriesByType('navigation')[0]; return n.responseEnd - n.requestStart })()`)
		t.Logf("%s: answered in %.0f ms", page, ms)
	}
	yes := func() { b.Eval(`(() => { window.confirm = () => true; return true })()`) }

	// Carol creates the campaign in the dashboard's form and starts it.
	signIn("carol", "Carol Okafor")
	b.Open(base + "/campaigns")
	b.WaitVisible("#new-campaign")
	b.Type("#c-name", "Quarterly review: production access")
	b.Eval(`(() => { for (const o of document.querySelectorAll('#c-accounts option')) { o.selected = o.value === '` + prodID + `' } return true })()`)
	b.Type("#c-people", "dave@example.com")
	b.Type("#c-fallback", "alice@example.com")
	b.ClickAndWait("#create-campaign")
	b.WaitText("#flash", "Campaign created as a draft", 5*time.Second)
	campURL := strings.TrimSuffix(b.Location(), "?done=created")
	campID := campURL[strings.LastIndex(campURL, "/")+1:]
	if got := b.Text("#campaign-scope"); got != "accounts "+prodID {
		t.Fatalf("the campaign's scope reads %q", got)
	}
	if got := b.Text("#campaign-reviewers"); got != "dave@example.com · fallback alice@example.com" {
		t.Fatalf("the campaign's reviewers read %q", got)
	}
	yes()
	b.ClickAndWait("#start-campaign")
	b.WaitText("#flash", "Started: the items are frozen", 10*time.Second)

	// What the service says Dave and Alice have to decide (the page must show exactly that).
	carol := &auth.Caller{Email: "carol@example.com", Roles: []string{auth.RoleAuditor}}
	all, _, err := srv.App.Reviews.Items(ctx, carol, campID, review.ItemQuery{Page: store.Page{Size: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	var daves, own []string
	var bobRead, bobDev, frankRead *review.Item
	var bots []string
	for i, it := range all {
		if it.AccountID != prodID {
			t.Errorf("item %s (%s of %s) is outside the campaign's account", it.ID, it.EntitlementName, it.Identity)
		}
		if it.Identity == "dave@example.com" {
			own = append(own, it.ID)
			if slices.Contains(it.Reviewers, "dave@example.com") {
				t.Errorf("Dave reviews his own access: item %s %s", it.ID, it.EntitlementName)
			}
			continue
		}
		if slices.Contains(it.Reviewers, "dave@example.com") {
			daves = append(daves, it.ID)
		}
		if it.Identity == "bob@example.com" && it.EntitlementName == "ReadOnly on prod" {
			bobRead = &all[i]
		}
		if it.Identity == "bob@example.com" && it.EntitlementName == "Developer on prod" {
			bobDev = &all[i]
		}
		if it.Identity == "frank@example.com" && it.EntitlementName == "ReadOnly on prod" {
			frankRead = &all[i]
		}
		if it.PrincipalName == "deploy-bot" && slices.Contains(it.Reviewers, "dave@example.com") {
			bots = append(bots, it.ID)
		}
	}
	if len(daves) == 0 || len(own) == 0 || bobRead == nil || bobDev == nil || frankRead == nil || len(bots) < 2 {
		t.Fatalf("the campaign over prod lacks Dave's items (%d), his own access (%d), Bob's ReadOnly and Developer on prod, Frank's ReadOnly, or deploy-bot's items (%d): %+v", len(daves), len(own), len(bots), all)
	}
	b.Open(campURL)
	b.WaitText("#campaign-progress", "0 of "+itoa(len(all))+" decided", 5*time.Second)
	signOut()

	// Dave: the navigation counts his items, the inbox lists exactly them.
	signIn("dave", "Dave Kim")
	nav := b.WaitText("#nav-reviews", "Reviews", 5*time.Second)
	if nav != "Reviews"+itoa(len(daves)) && nav != "Reviews "+itoa(len(daves)) {
		t.Fatalf("the navigation reads %q, want Reviews with %d", nav, len(daves))
	}
	if b.Count("#nav-campaigns") != 0 {
		t.Fatal("a reviewer is offered the campaign dashboard")
	}
	b.ClickAndWait("#nav-reviews")
	b.WaitVisible("#inbox-table")
	serverTime("the inbox (" + itoa(len(daves)) + " items)")
	shown := b.Eval(`[...document.querySelectorAll('#inbox-table tr.item-row')].map(r => r.id.slice(5)).sort().join(' ')`).(string)
	slices.Sort(daves)
	if shown != strings.Join(daves, " ") {
		t.Fatalf("Dave's inbox shows items\n%s\nwant exactly\n%s", shown, strings.Join(daves, " "))
	}
	row := b.Text("#item-" + bobRead.ID)
	for _, want := range []string{"bob@example.com", "ReadOnly on prod", "via", "Developers", "Last used", "MFA", "Active", bobRead.Plan} {
		if !strings.Contains(row, want) {
			t.Fatalf("Bob's ReadOnly row lacks %q:\n%s", want, row)
		}
	}
	if bobRead.Plan == "" || !strings.Contains(bobRead.Plan, "Developers") {
		t.Fatalf("the plan of a revoke through the group Developers does not say so: %q", bobRead.Plan)
	}
	// The search narrows the inbox to Bob's items; the decisions below are made there.
	b.Open(base + "/reviews?q=bob%40example.com")
	b.WaitVisible("#inbox-table")
	if rows := b.Eval(`[...document.querySelectorAll('#inbox-table tr.item-row strong')].map(s => s.textContent).join(' ')`).(string); !strings.Contains(rows, "bob@example.com") || strings.Contains(rows, "frank@example.com") {
		t.Fatalf("the inbox searched for bob@example.com shows %q", rows)
	}
	b.Screenshot("reviews-inbox")
	// On a phone the inbox fits the screen's width (the table scrolls inside its card).
	b.Viewport(390, 844)
	b.Open(base + "/reviews")
	if over := b.Eval(`document.documentElement.scrollWidth - window.innerWidth`); over.(float64) > 0 {
		t.Fatalf("on a phone the inbox is %v px wider than the screen", over)
	}
	b.Viewport(1360, 900)
	b.Open(base + "/reviews?q=bob%40example.com")
	b.WaitVisible("#inbox-table")

	// His own access is not his to decide: the service refuses it, saying who decides.
	b.Allow("403 (Forbidden)")
	status, err := chromedp.Run(b.Ctx, chromedp.Evaluate[string](`fetch('/campaigns/`+campID+`/items/`+own[0]+`/decide', {method: 'POST', headers: {'Content-Type': 'application/x-www-form-urlencoded'}, body: 'decision=keep&reason=mine'}).then(r => r.text().then(t => r.status + ' ' + t))`, chromedp.EvalAwaitPromise))
	if err != nil || !strings.HasPrefix(status, "403 ") || !strings.Contains(status, "This is your own access: it goes to alice@example.com") {
		t.Fatalf("Dave deciding his own access got %.300q (%v)", status, err)
	}

	// Revoke Bob's ReadOnly with a reason, keep his Developer access with one.
	b.Type("#decide-"+bobRead.ID+` input[name="reason"]`, "Moved to payments; no longer reads prod")
	yes()
	b.ClickAndWait("#decide-" + bobRead.ID + " button.revoke")
	b.WaitText("#flash", "Revoked", 5*time.Second)
	b.Type("#decide-"+bobDev.ID+` input[name="reason"]`, "On call this quarter")
	b.ClickAndWait("#decide-" + bobDev.ID + " button.keep")
	b.WaitText("#flash", "Kept.", 5*time.Second)
	if b.Count("#item-"+bobRead.ID)+b.Count("#item-"+bobDev.ID) != 0 {
		t.Fatal("decided items are still in the inbox")
	}
	b.WaitText("#nav-reviews", itoa(len(daves)-2), 5*time.Second)

	// Bulk: every item of the CI user deploy-bot, kept with one reason.
	b.Open(base + "/reviews?q=deploy-bot")
	b.WaitVisible("#inbox-table")
	if n := b.Count("#inbox-table tr.item-row"); n != len(bots) {
		t.Fatalf("the inbox searched for deploy-bot shows %d items, want %d", n, len(bots))
	}
	b.Click("#bulk-filter")
	b.Type("#bulk-reason", "CI user, reviewed with the platform team")
	b.ClickAndWait("#bulk-keep")
	b.WaitText("#flash", itoa(len(bots))+" items decided (keep).", 5*time.Second)
	// Delegate Frank's ReadOnly to Alice from the item's page.
	b.Open(campURL + "/items/" + frankRead.ID)
	b.Type(`#delegate-form input[name="to"]`, "alice@example.com")
	b.Type(`#delegate-form input[name="reason"]`, "Alice knows Frank's team")
	b.ClickAndWait("#delegate")
	b.WaitText("#flash", "Delegated", 5*time.Second)
	if b.Count("#item-"+frankRead.ID) != 0 {
		t.Fatal("the delegated item is still in Dave's inbox")
	}
	b.WaitText("#nav-reviews", itoa(len(daves)-3-len(bots)), 5*time.Second)
	signOut()

	// Carol's campaign page: the two states, who decided with which reason, the progress.
	signIn("carol", "Carol Okafor")
	b.Open(campURL)
	got := b.WaitText("#item-"+bobRead.ID, "revoke", 5*time.Second)
	if !strings.Contains(got, "revocation pending") {
		t.Fatalf("Bob's revoked ReadOnly reads %q", got)
	}
	if !strings.Contains(got, "Moved to payments; no longer reads prod") || !strings.Contains(got, "dave@example.com") {
		t.Fatalf("Bob's revoked ReadOnly lacks the reason or the reviewer: %q", got)
	}
	got = b.Text("#item-" + bobDev.ID)
	if !strings.Contains(got, "kept") || !strings.Contains(got, "On call this quarter") {
		t.Fatalf("Bob's kept Developer reads %q", got)
	}
	for _, id := range bots {
		if got := b.Text("#item-" + id); !strings.Contains(got, "kept") || !strings.Contains(got, "CI user, reviewed with the platform team") {
			t.Fatalf("deploy-bot's item %s reads %q after the bulk keep", id, got)
		}
	}
	if got := b.Text("#item-" + frankRead.ID); !strings.Contains(got, "alice@example.com") || !strings.Contains(got, "pending") {
		t.Fatalf("Frank's delegated item reads %q", got)
	}
	b.WaitText("#campaign-progress", itoa(2+len(bots))+" of "+itoa(len(all))+" decided", 5*time.Second)
	// Per reviewer: Dave's items wait, are done (decided, or delegated) out of all he had;
	// Alice has his own access and Frank's ReadOnly, all waiting.
	want := "alice@example.com " + itoa(len(own)+1) + " 0 / " + itoa(len(own)+1) + " dave@example.com " + itoa(len(daves)-3-len(bots)) + " " + itoa(3+len(bots)) + " / " + itoa(len(daves))
	if got := b.Text("#reviewers-table tbody"); got != want {
		t.Fatalf("the progress per reviewer reads %q, want %q", got, want)
	}

	// The revoke removes Bob from Developers in AWS (the simulator) and nothing else; the
	// next sync no longer shows the access and the item turns remediated.
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(200 * time.Millisecond) {
		it, err := srv.App.Reviews.Item(ctx, carol, campID, bobRead.ID)
		if err != nil {
			t.Fatal(err)
		}
		if it.Remediation != nil && it.Remediation.State == review.RemediationDone {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the revoke's remediation is still %+v after a minute", it.Remediation)
		}
	}
	inGroup := func(user, group string) bool {
		found := false
		sim.Do(func(w *awssim.World) {
			var uid, gid string
			for _, u := range w.SSO.Users {
				if u.UserName == user {
					uid = u.ID
				}
			}
			for _, g := range w.SSO.Groups {
				if g.DisplayName == group {
					gid = g.ID
				}
			}
			for _, m := range w.SSO.Memberships {
				found = found || (m.GroupID == gid && m.UserID == uid)
			}
		})
		return found
	}
	if inGroup("bob", "Developers") {
		t.Fatal("the revoke is done but Bob is still in Developers in the simulator")
	}
	if !inGroup("bob", "OnCall") || !inGroup("frank", "Developers") || !inGroup("dave", "Developers") {
		t.Fatal("the revoke removed more than Bob's membership of Developers")
	}
	serverTime("the campaign page (" + itoa(len(all)) + " items)")
	b.Screenshot("reviews-campaign")
	syncOnce()
	b.Open(campURL)
	got = b.WaitText("#item-"+bobRead.ID, "remediated", 10*time.Second)
	if !strings.Contains(got, "Moved to payments; no longer reads prod") {
		t.Fatalf("Bob's remediated ReadOnly reads %q", got)
	}
	if got := b.Text("#item-" + bobDev.ID); !strings.Contains(got, "kept") {
		t.Fatalf("Bob's kept Developer reads %q after the sync", got)
	}
	b.WaitText("#campaign-progress", "1 remediated", 5*time.Second)
	// Bob's revoked item's page: its history, from the decision to the verification.
	b.Open(campURL + "/items/" + bobRead.ID)
	hist := b.WaitText("#item-history", "dave@example.com", 5*time.Second)
	if !strings.Contains(hist, "verified") {
		t.Fatalf("the history of Bob's revoked item lacks its verification:\n%s", hist)
	}
	b.Screenshot("reviews-item")
	// The exports: the CSV downloads with its SHA-256 (the audit log records it), and the
	// printable report opens in the browser under the server's CSP.
	exp, err := chromedp.Run(b.Ctx, chromedp.Evaluate[[]string](`fetch('/campaigns/`+campID+`/export?format=csv').then(r => r.text().then(t => [String(r.status), r.headers.get('Content-Type'), r.headers.get('Content-Disposition'), r.headers.get('X-Content-SHA256'), t]))`, chromedp.EvalAwaitPromise))
	if err != nil || len(exp) != 5 {
		t.Fatalf("the CSV export: %q (%v)", exp, err)
	}
	sum := sha256.Sum256([]byte(exp[4]))
	if exp[0] != "200" || exp[1] != "text/csv; charset=utf-8" || !strings.HasPrefix(exp[2], "attachment; filename=") || exp[3] != hex.EncodeToString(sum[:]) {
		t.Fatalf("the CSV export answered %q", exp[:4])
	}
	csvRows := strings.Split(strings.TrimSpace(exp[4]), "\n")
	if len(csvRows) != len(all)+1 {
		t.Fatalf("the CSV export has %d rows, want a header and %d items", len(csvRows), len(all))
	}
	bobRow := ""
	for _, l := range csvRows {
		if strings.HasPrefix(l, bobRead.ID+",") {
			bobRow = l
		}
	}
	for _, want := range []string{"bob@example.com", "revoke", "Moved to payments; no longer reads prod", "remediated"} {
		if !strings.Contains(bobRow, want) {
			t.Fatalf("the CSV row of Bob's revoked ReadOnly lacks %q: %s", want, bobRow)
		}
	}
	b.Open(base + "/audit?action=review.export")
	b.WaitText("#audit-table", exp[3], 5*time.Second)
	b.Open(campURL + "/export?format=html")
	b.WaitText("body", "Access review: Quarterly review: production access", 5*time.Second)
	b.Screenshot("reviews-report")
	b.Open(base + "/campaigns")
	b.WaitText("#campaign-"+campID, itoa(2+len(bots))+" of "+itoa(len(all))+" decided", 5*time.Second)
	serverTime("the campaign dashboard")
	b.Screenshot("reviews-campaigns")

	// Carol reassigns one of Dave's own items from Alice (the fallback) to herself.
	b.Open(campURL + "/items/" + own[0])
	b.Type(`#reassign-form input[name="to"]`, "carol@example.com")
	b.Type(`#reassign-form input[name="reason"]`, "Alice is away")
	b.ClickAndWait("#reassign")
	b.WaitText("#flash", "Reassigned.", 5*time.Second)
	if it, err := srv.App.Reviews.Item(ctx, carol, campID, own[0]); err != nil || it.Reviewer != "carol@example.com" {
		t.Fatalf("after the reassignment the item's reviewer is %+v (%v)", it, err)
	}
	b.WaitText("#item-history", "Alice is away", 5*time.Second)
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	s := ""
	for ; n > 0; n /= 10 {
		s = string(rune('0'+n%10)) + s
	}
	return s
}
