package web

import (
	"bytes"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/review"
)

var (
	dave  = &auth.Caller{Email: "dave@example.com", Name: "Dave Kim", Via: "session"}
	alice = &auth.Caller{Email: "alice@example.com", Name: "Alice Nguyen", Via: "session"}
)

// The inbox shows the reviewer exactly the items waiting for them, each with its context and
// what a revoke changes, and keep/revoke forms; the navigation counts them.
func TestReviewInbox(t *testing.T) {
	u := newTestUI(t)
	fake := reviewFixture()
	u.withReviews(fake)

	res := u.get(dave, "/reviews")
	if res.Status != 200 {
		t.Fatalf("inbox: status %d: %s", res.Status, text(res.Body))
	}
	cspSafe(t, res.Body)
	got := text(res.Body)
	mustContain(t, got, "Access reviews Reviews 2", // the navigation's count
		"Quarterly review: production access due",
		"bob@example.com", "Identity Center user", "ReadOnly on prod", "in prod (333333333333) · via group Developers",
		"Last used 20 days ago (console sign-in)", "MFA no MFA", "Active yes", "Last review keep by dave@example.com: “on call”",
		"Remove bob@example.com from the Identity Center group Developers (this removes every access bob holds through Developers)", "Keep", "Revoke",
		"erin@example.com", "Developer on prod admin-level", "direct", "Last used never or unknown (Identity Center does not report sign-ins per user)",
		"Active disabled in Identity Center", "Delete the account assignment Developer on prod of erin@example.com")
	// Alice's own access is carol's to decide: not in dave's inbox; neither are decided items.
	mustNotContain(t, got, "alice@example.com", "frank@example.com", "Campaigns")
	if n := strings.Count(res.Body, `name="item" value="cmp-q1/`); n != 2 {
		t.Fatalf("the inbox offers %d items to tick, want 2", n)
	}
	if !strings.Contains(res.Body, `placeholder="Reason (required to keep)"`) {
		t.Fatal("the admin-level item does not say that keeping it needs a reason")
	}
	// The revoke button asks first, saying what it changes.
	if !strings.Contains(res.Body, `data-confirm="Revoke ReadOnly on prod of bob@example.com? Remove bob@example.com from the Identity Center group Developers`) {
		t.Fatal("Revoke does not confirm with the plan")
	}

	// Someone with no items: no Reviews link, an empty inbox.
	mustNotContain(t, text(u.get(person, "/catalog").Body), "Reviews", "Campaigns")
	res = u.get(person, "/reviews")
	mustContain(t, text(res.Body), "Nothing to review")

	// Filters reach the service.
	u.get(dave, "/reviews?q=erin&admin_only=on&via=direct")
	if !slices.ContainsFunc(fake.inboxQueries, func(q review.ItemQuery) bool { return q.Q == "erin" && q.AdminOnly && q.Via == "direct" }) {
		t.Fatalf("the inbox filter did not reach the service: %+v", fake.inboxQueries)
	}
	res = u.get(dave, "/reviews?admin_only=on")
	got = text(res.Body)
	mustContain(t, got, "erin@example.com")
	mustNotContain(t, got, "bob@example.com")
}

// Keep and revoke from the inbox: each goes to the service with its reason, and the inbox
// says what happened; a refusal is shown with the service's words and status.
func TestReviewDecide(t *testing.T) {
	u := newTestUI(t)
	fake := reviewFixture()
	u.withReviews(fake)

	res := u.postForm(dave, "/campaigns/cmp-q1/items/it-bobread/decide", url.Values{"decision": {"revoke"}, "reason": {"moved to payments"}, "next": {"/reviews"}})
	if res.Status != http.StatusSeeOther || res.Header.Get("Location") != "/reviews?done=revoke" {
		t.Fatalf("revoke: %d %s", res.Status, res.Header.Get("Location"))
	}
	mustContain(t, text(u.get(dave, "/reviews?done=revoke").Body), "Revoked: the change is on its way to AWS")
	// Keeping admin-level access without a reason: the service's refusal, as it is.
	res = u.postForm(dave, "/campaigns/cmp-q1/items/it-erin/decide", url.Values{"decision": {"keep"}, "next": {"/reviews"}})
	if res.Status != http.StatusBadRequest {
		t.Fatalf("keep admin-level without reason: status %d", res.Status)
	}
	mustContain(t, text(res.Body), "That did not work", "Keeping admin-level access needs a reason.")
	if !strings.Contains(res.Body, `<a class="btn primary" href="/reviews" id="back">Back</a>`) {
		t.Fatal("the refusal offers no way back to the inbox")
	}
	// Dave may not decide alice's item (carol's); alice may not decide her own.
	res = u.postForm(alice, "/campaigns/cmp-q1/items/it-alice/decide", url.Values{"decision": {"keep"}, "reason": {"mine"}})
	if res.Status != http.StatusForbidden {
		t.Fatalf("own access: status %d", res.Status)
	}
	mustContain(t, text(res.Body), "Not allowed", "This is your own access: it goes to alice@example.com.")
	res = u.postForm(dave, "/campaigns/cmp-q1/items/it-erin/decide", url.Values{"decision": {"maybe"}})
	if res.Status != http.StatusBadRequest {
		t.Fatalf("decision maybe: status %d", res.Status)
	}
	want := []string{
		"decide cmp-q1/it-bobread revoke moved to payments by dave@example.com",
		"decide cmp-q1/it-erin keep  by dave@example.com",
		"decide cmp-q1/it-alice keep mine by alice@example.com",
	}
	if !slices.Equal(fake.calls, want) {
		t.Fatalf("calls:\n got %q\nwant %q", fake.calls, want)
	}
	// The item page now shows the decision and the queued remediation in its history.
	res = u.get(dave, "/campaigns/cmp-q1/items/it-bobread")
	mustContain(t, text(res.Body), "bob@example.com · ReadOnly on prod", "revocation pending",
		"If revoked Remove bob@example.com from the Identity Center group Developers", "Decided revoke by dave@example.com", "“moved to payments”",
		"Remediation Remove bob@example.com", "queued", "History 1", "decided revoke dave@example.com")
	mustNotContain(t, res.Body, `id="delegate"`)
}

// Bulk decisions: the ticked items one by one, or every item matching the filter through
// DecideBulk campaign by campaign; items left alone are listed with why.
func TestReviewBulk(t *testing.T) {
	u := newTestUI(t)
	fake := reviewFixture()
	u.withReviews(fake)

	res := u.postForm(dave, "/reviews/decide", url.Values{"scope": {"selected"}, "item": {"cmp-q1/it-bobread"}, "decision": {"keep"}, "reason": {"still on call"}})
	if res.Status != http.StatusSeeOther || res.Header.Get("Location") != "/reviews?decided=1&decision=keep" {
		t.Fatalf("bulk selected: %d %s", res.Status, res.Header.Get("Location"))
	}
	mustContain(t, text(u.get(dave, res.Header.Get("Location")).Body), "1 item decided (keep).")
	// Every item matching the filter: the filter sent with the form reaches DecideBulk;
	// erin's admin-level item is kept without a reason only if the service agrees: it does not.
	res = u.postForm(dave, "/reviews/decide", url.Values{"scope": {"filter"}, "q": {"prod"}, "decision": {"keep"}})
	if res.Status != 200 {
		t.Fatalf("bulk filter: status %d", res.Status)
	}
	mustContain(t, text(res.Body), "0 items decided (keep); 1 left alone: see why below.", "Left alone it-erin : keeping admin-level access needs a reason")
	if fake.lastQuery.Q != "prod" {
		t.Fatalf("DecideBulk got filter %+v", fake.lastQuery)
	}
	if last := fake.calls[len(fake.calls)-1]; last != "bulk cmp-q1 keep  by dave@example.com" {
		t.Fatalf("last call %q", last)
	}
	res = u.postForm(dave, "/reviews/decide", url.Values{"scope": {"selected"}, "decision": {"keep"}})
	if res.Status != http.StatusBadRequest {
		t.Fatalf("bulk with nothing ticked: %d", res.Status)
	}
	// On the campaign page, an auditor's bulk revoke of a filter with a reason.
	res = u.postForm(dave, "/campaigns/cmp-q1/decide", url.Values{"scope": {"filter"}, "admin_only": {"on"}, "decision": {"revoke"}, "reason": {"left"}})
	if res.Status != http.StatusSeeOther || res.Header.Get("Location") != "/campaigns/cmp-q1?admin_only=on&decided=1&decision=revoke" {
		t.Fatalf("campaign bulk: %d %s", res.Status, res.Header.Get("Location"))
	}
}

// The campaign page shows every state (pending, kept, revocation pending with its failed
// attempt, remediated, task open, access already gone), the progress by state and per
// reviewer, and for auditors start/close/export.
func TestCampaignPage(t *testing.T) {
	u := newTestUI(t)
	fake := reviewFixture()
	u.withReviews(fake)

	res := u.get(auditor, "/campaigns/cmp-q1")
	if res.Status != 200 {
		t.Fatalf("campaign: status %d: %s", res.Status, text(res.Body))
	}
	cspSafe(t, res.Body)
	got := text(res.Body)
	mustContain(t, got, "Quarterly review: production access", "active · due", "created by aud@example.com",
		"Close", "CSV", "JSON", "Printable report",
		"1 revocation not verified yet",
		"Progress 4 of 6 decided (66%)", "2 pending", "1 kept", "1 revocation pending", "1 task open", "1 remediated", "1 with access already gone",
		"Scope accounts 333333333333", "Reviewers dave@example.com · fallback carol@example.com", "Undecided at due keep",
		"By reviewer", "dave@example.com 1 4 / 5", "carol@example.com 1 0 / 1",
		"bob@example.com", "ReadOnly on prod", "pending",
		"alice@example.com", "AdministratorAccess on prod admin-level", "carol@example.com", "pending",
		"carol@example.com", "SecurityAudit on prod", "kept access already gone", "keep by dave@example.com “audits prod”",
		"frank@example.com", "revocation pending", "Remove frank@example.com from the Identity Center group Developers · last attempt failed: ThrottlingException: rate exceeded",
		"gina@example.com", "Billing on prod", "remediated", "revoke by dave@example.com “not needed”",
		"deploy-bot", "IAM user", "task open", "Gatehouse cannot detach a policy attached directly")
	// 1 of 6 is 16%: a 15% segment each.
	if !strings.Contains(res.Body, `class="seg-kept w-15"`) || !strings.Contains(res.Body, `class="seg-remediated w-15"`) {
		t.Fatal("the progress bar lacks its kept and remediated segments")
	}
	// Auditors are not reviewers here: no decide forms, no bulk form.
	mustNotContain(t, res.Body, `id="bulk-form"`, `/decide"`)

	// The reviewer sees the campaign with their items only, and decides there.
	res = u.get(dave, "/campaigns/cmp-q1")
	got = text(res.Body)
	mustContain(t, got, "bob@example.com", "erin@example.com", "frank@example.com")
	mustNotContain(t, got, "alice@example.com", "Close", "Printable report")
	if !strings.Contains(res.Body, `id="bulk-form"`) || strings.Count(res.Body, `name="item" value="it-`) != 2 {
		t.Fatal("the reviewer's campaign page lacks the bulk form over their two pending items")
	}

	// Filters reach the service; the reviewer filter is the auditor's.
	u.get(auditor, "/campaigns/cmp-q1?state=task_open&reviewer=dave@example.com&decision_filter=revoke")
	if q := fake.lastQuery; q.State != review.ItemTaskOpen || q.Reviewer != "dave@example.com" || q.Decision != "revoke" {
		t.Fatalf("campaign filter reached the service as %+v", q)
	}

	// The remediated item's page: verification and history.
	res = u.get(auditor, "/campaigns/cmp-q1/items/it-gone")
	mustContain(t, text(res.Body), "Remediation Delete the account assignment Billing on prod of gina@example.com", "verified", "(1 attempt)",
		"Verified by sync sync-6", "History 3", "decided revoke dave@example.com", "remediation done gatehouse", "AWS deleted the assignment",
		"verified gatehouse", "sync sync-6 no longer shows the access")
	// The owner task: its owner marks it done.
	res = u.get(dave, "/campaigns/cmp-q1/items/it-task")
	mustContain(t, text(res.Body), "Task for dave@example.com: Detach AmazonS3FullAccess from the IAM user deploy-bot in 333333333333", "Mark the task done")
	res = u.postForm(dave, "/campaigns/cmp-q1/items/it-task/complete", url.Values{"reason": {"detached"}})
	if res.Status != http.StatusSeeOther {
		t.Fatalf("complete: %d", res.Status)
	}
	// Reassign (auditor) of carol's item.
	res = u.get(auditor, "/campaigns/cmp-q1/items/it-alice")
	if !strings.Contains(res.Body, `id="reassign"`) || strings.Contains(res.Body, `id="delegate"`) {
		t.Fatal("the auditor's item page should offer reassign, not delegate")
	}
	res = u.postForm(auditor, "/campaigns/cmp-q1/items/it-alice/reassign", url.Values{"to": {"ada@example.com"}, "reason": {"carol is away"}})
	if res.Status != http.StatusSeeOther {
		t.Fatalf("reassign: %d", res.Status)
	}
	// Delegate (dave, his item).
	res = u.postForm(dave, "/campaigns/cmp-q1/items/it-erin/delegate", url.Values{"to": {"nobody"}})
	if res.Status != http.StatusBadRequest {
		t.Fatalf("delegate to a non-email: %d", res.Status)
	}
	res = u.postForm(dave, "/campaigns/cmp-q1/items/it-erin/delegate", url.Values{"to": {"erin.lead@example.com"}, "reason": {"her team"}})
	if res.Status != http.StatusSeeOther {
		t.Fatalf("delegate: %d", res.Status)
	}
	want := []string{
		"complete cmp-q1/it-task detached by dave@example.com",
		"reassign cmp-q1/it-alice to ada@example.com carol is away by aud@example.com",
		"delegate cmp-q1/it-erin to erin.lead@example.com her team by dave@example.com",
	}
	if !slices.Equal(fake.calls, want) {
		t.Fatalf("calls:\n got %q\nwant %q", fake.calls, want)
	}
	// Nobody else sees the item.
	if res := u.get(person, "/campaigns/cmp-q1/items/it-gone"); res.Status != http.StatusNotFound {
		t.Fatalf("a stranger opens an item: %d", res.Status)
	}
	// Start and close are for admins and auditors only.
	if res := u.postForm(dave, "/campaigns/cmp-q1/close", nil); res.Status != http.StatusForbidden {
		t.Fatalf("a reviewer closes the campaign: %d", res.Status)
	}
}

// The dashboard lists campaigns with progress and actions; the create form checks what it
// can and sends the campaign as typed; start and close go to the service.
func TestCampaignDashboard(t *testing.T) {
	u := newTestUI(t)
	u.ingestFixture(1)
	fake := reviewFixture()
	u.withReviews(fake)

	res := u.get(auditor, "/campaigns")
	if res.Status != 200 {
		t.Fatalf("dashboard: %d: %s", res.Status, text(res.Body))
	}
	cspSafe(t, res.Body)
	got := text(res.Body)
	mustContain(t, got, "Access reviews Campaigns",
		"Quarterly review: production access", "accounts 333333333333", "active", "4 of 6 decided · 1 revocation pending · 1 task open", "6", "aud@example.com", "Close", "CSV", "JSON", "Printable report",
		"Staging admins", "admin-level access only", "draft", "not started", "—", "ada@example.com", "Start",
		"New campaign", "Accounts", "prod (333333333333)", "Permission sets", "AdministratorAccess", "Due", "Undecided by then")
	// A reviewer sees the campaigns they have items in, without the form.
	got = text(u.get(dave, "/campaigns").Body)
	mustContain(t, got, "Quarterly review: production access")
	mustNotContain(t, got, "Staging admins", "New campaign", "Start")

	// Problems are shown beside their fields, with what was typed kept.
	res = u.postForm(auditor, "/campaigns", url.Values{"name": {""}, "due": {"2020-01-01"}, "people": {"dave"}, "account": {"333333333333"}})
	if res.Status != http.StatusUnprocessableEntity {
		t.Fatalf("bad form: %d", res.Status)
	}
	mustContain(t, text(res.Body), "Give the campaign a name", "Reviewers are people's emails: dave is not one.", "The due date has passed: choose a later one.")
	if !strings.Contains(res.Body, `<option value="333333333333" selected>`) {
		t.Fatal("the chosen account is not kept")
	}
	if fake.created != nil {
		t.Fatal("a bad form created a campaign")
	}
	due := now().Add(10 * 24 * time.Hour).Format("2006-01-02")
	res = u.postForm(auditor, "/campaigns", url.Values{"name": {"Quarterly review: production access"}, "account": {"333333333333"},
		"people": {"dave@example.com"}, "fallback": {"alice@example.com"}, "admin_only": {"on"}, "unused_days": {"90"},
		"due": {due}, "undecided": {"revoke"}, "sequence": {"manager, owner"}, "iam_policies": {"AdministratorAccess, arn:aws:iam::aws:policy/IAMFullAccess"}})
	if res.Status != http.StatusSeeOther || res.Header.Get("Location") != "/campaigns/cmp-new?done=created" {
		t.Fatalf("create: %d %s %s", res.Status, res.Header.Get("Location"), text(res.Body))
	}
	in := fake.created
	if in.Name != "Quarterly review: production access" || !slices.Equal(in.Scope.Accounts, []string{"333333333333"}) || !in.Scope.AdminOnly ||
		in.Scope.UnusedDays != 90 || !slices.Equal(in.Reviewers.People, []string{"dave@example.com"}) || !slices.Equal(in.Reviewers.Fallback, []string{"alice@example.com"}) ||
		!slices.Equal(in.Reviewers.Sequence, []string{"manager", "owner"}) || !slices.Equal(in.Scope.IAMPolicies, []string{"AdministratorAccess", "arn:aws:iam::aws:policy/IAMFullAccess"}) || in.Undecided != "revoke" || in.Due.Format("2006-01-02 15:04:05") != due+" 23:59:59" {
		t.Fatalf("created %+v", in)
	}
	got = text(u.get(auditor, "/campaigns/cmp-new?done=created").Body)
	mustContain(t, got, "Quarterly review: production access draft", "Start", "Campaign created as a draft", "not started", "Scope accounts 333333333333 · IAM policies AdministratorAccess, arn:aws:iam::aws:policy/IAMFullAccess · admin-level access only · not used in 90 days",
		"Reviewers in turn: manager, then owner · dave@example.com · fallback alice@example.com", "Shown once the campaign starts.")
	mustNotContain(t, got, "Printable report")
	res = u.postForm(auditor, "/campaigns/cmp-new/start", nil)
	if res.Status != http.StatusSeeOther || res.Header.Get("Location") != "/campaigns/cmp-new?done=start" {
		t.Fatalf("start: %d %s", res.Status, res.Header.Get("Location"))
	}
	mustContain(t, text(u.get(auditor, res.Header.Get("Location")).Body), "Started: the items are frozen")
	if last := fake.calls[len(fake.calls)-1]; last != "start cmp-new by aud@example.com" {
		t.Fatalf("last call %q", last)
	}
}

// Exports download with the service's content type, file name and SHA-256; a part of the
// service this build lacks is shown as what it is, never as made-up data.
func TestCampaignExportAndMissingParts(t *testing.T) {
	u := newTestUI(t)
	fake := reviewFixture()
	body := "item_id,decision\nit-gone,revoke\n"
	content := &closeRecorder{Reader: bytes.NewReader([]byte(body))}
	fake.export = &review.Export{Format: "csv", ContentType: "text/csv; charset=utf-8", FileName: "cmp-q1.csv", Content: content, Size: int64(len(body)), SHA256: "abc123"}
	u.withReviews(fake)
	res := u.get(auditor, "/campaigns/cmp-q1/export?format=csv")
	if res.Status != 200 || res.Body != body || res.Header.Get("Content-Type") != "text/csv; charset=utf-8" ||
		res.Header.Get("Content-Disposition") != `attachment; filename="cmp-q1.csv"` || res.Header.Get("X-Content-SHA256") != "abc123" ||
		res.Header.Get("Content-Length") != "32" {
		t.Fatalf("export: %d %v %q", res.Status, res.Header, res.Body)
	}
	if !content.closed {
		t.Errorf("the export's file was not closed (a temporary file left behind)")
	}
	if res := u.get(auditor, "/campaigns/cmp-q1/export?format=pdf"); res.Status != http.StatusBadRequest {
		t.Fatalf("export pdf: %d", res.Status)
	}
	if res := u.get(dave, "/campaigns/cmp-q1/export?format=csv"); res.Status != http.StatusForbidden {
		t.Fatalf("a reviewer exports: %d", res.Status)
	}
	fake.stubs["Export"] = true
	res = u.get(auditor, "/campaigns/cmp-q1/export?format=html")
	if res.Status != http.StatusNotImplemented {
		t.Fatalf("export not built: %d", res.Status)
	}
	mustContain(t, text(res.Body), "Not available yet", "This part of access reviews is not in this build of Gatehouse yet (the service answered: review: not built yet).")
	// Without an inbox, pages still render (no count), and the inbox says why.
	fake.stubs["Inbox"] = true
	res = u.get(dave, "/campaigns")
	if res.Status != 200 {
		t.Fatalf("campaigns without an inbox: %d", res.Status)
	}
	if res := u.get(dave, "/reviews"); res.Status != http.StatusNotImplemented {
		t.Fatalf("inbox not built: %d", res.Status)
	}
	// A server without the review service says so.
	u2 := newTestUI(t)
	res = u2.get(auditor, "/campaigns")
	if res.Status != http.StatusServiceUnavailable {
		t.Fatalf("no service: %d", res.Status)
	}
	mustContain(t, text(res.Body), "Access reviews are not available")
}

// A campaign with a previous one of the same scope shows what changed since: new access,
// access kept then and still here, access revoked then and back; a comparison the service
// cannot give is said, and the rest of the page stands.
func TestCampaignComparison(t *testing.T) {
	u := newTestUI(t)
	fake := reviewFixture()
	fake.camps[0].Previous = "cmp-q0"
	u.withReviews(fake)
	it := func(id string) review.Item {
		for _, x := range fake.items {
			if x.ID == id {
				return *x
			}
		}
		t.Fatalf("no item %s", id)
		return review.Item{}
	}
	fake.compare = &review.Comparison{Previous: "cmp-q0", New: []review.Item{it("it-erin")}, Kept: []review.Item{it("it-bobread"), it("it-kept")}, Returned: []review.Item{it("it-frank")}}
	res := u.get(auditor, "/campaigns/cmp-q1")
	mustContain(t, text(res.Body), "Since the previous campaign", "New access since (1) erin@example.com Developer on prod",
		"Kept then, still here (2) bob@example.com ReadOnly on prod via group Developers carol@example.com SecurityAudit on prod",
		"Revoked then, back again (1) frank@example.com ReadOnly on prod", "Items")
	if !strings.Contains(res.Body, `href="/campaigns/cmp-q0"`) {
		t.Fatal("no link to the previous campaign")
	}
	// Reviewers do not get the comparison (it covers every item).
	mustNotContain(t, text(u.get(dave, "/campaigns/cmp-q1").Body), "Since the previous campaign")
	fake.stubs["Compare"] = true
	res = u.get(auditor, "/campaigns/cmp-q1")
	if res.Status != 200 {
		t.Fatalf("campaign without a comparison: %d", res.Status)
	}
	mustContain(t, text(res.Body), "Progress", "The comparison with the previous campaign could not be read This build of Gatehouse does not compare campaigns yet (the service answered: review: not built yet).", "Items")
}

// closeRecorder is an export's content that remembers being closed.
type closeRecorder struct {
	*bytes.Reader
	closed bool
}

func (c *closeRecorder) Close() error { c.closed = true; return nil }
