package review

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"time"
)

// exportFixture is a campaign of four items: kept, revoked and verified, revoked and
// waiting for a sync, and undecided.
func exportFixture() (*Campaign, []Item) {
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	decided := t0.Add(time.Hour)
	verified := t0.Add(2 * time.Hour)
	camp := &Campaign{ID: "camp_1", Name: "Quarterly <review>", State: CampaignActive, Scope: Scope{Accounts: []string{"222222222222"}},
		Reviewers: Reviewers{People: []string{"dave@example.com"}}, Due: t0.Add(7 * 24 * time.Hour), Undecided: UndecidedKeep,
		CreatedBy: "carol@example.com", CreatedAt: t0, StartedAt: &t0, SnapshotSyncs: map[string]string{"aws": "s1"},
		ByReviewer: []ReviewerProgress{{Reviewer: "dave@example.com", Total: 4, Decided: 3, Pending: 1}}}
	base := Item{CampaignID: "camp_1", ConnectionID: "aws", AccountID: "222222222222", AccountName: "prod", ResourceType: "account",
		ResourceID: "222222222222", PrincipalType: "sso_user", Via: ViaDirect, Since: t0.Add(-24 * time.Hour), Reviewer: "dave@example.com"}
	mk := func(id string, seq int, who, ent string, f func(*Item)) Item {
		it := base
		it.ID, it.Seq, it.Identity, it.PrincipalID, it.EntitlementID, it.EntitlementName = id, seq, who, "u-"+who, "account:222222222222:ps-"+ent, ent+" on prod"
		it.GrantID = it.EntitlementID + ":sso_user:" + it.PrincipalID
		it.State = ItemPending
		f(&it)
		return it
	}
	items := []Item{
		mk("it-1", 1, "alice@example.com", "Admin", func(it *Item) {
			it.AdminLevel, it.Decision, it.Reason, it.DecidedBy, it.DecidedAt, it.State = true, DecisionKeep, "=HYPERLINK(\"http://x\")", "dave@example.com", &decided, ItemKept
		}),
		mk("it-2", 2, "bob@example.com", "Dev", func(it *Item) {
			it.Decision, it.Reason, it.DecidedBy, it.DecidedAt, it.State = DecisionRevoke, "left <b>the</b> team", "dave@example.com", &decided, ItemRemediated
			it.Remediation = &Remediation{Action: ActionDeleteAssignment, Description: "Delete the account assignment", State: RemediationVerified,
				Attempts: 1, DoneAt: &decided, VerifiedSync: "s2", VerifiedAt: &verified}
			it.AccessGoneAt, it.AccessGoneSync = &verified, "s2"
		}),
		mk("it-3", 3, "erin@example.com", "Dev", func(it *Item) {
			it.Decision, it.Reason, it.DecidedBy, it.DecidedAt, it.State = DecisionRevoke, "no longer needed", "dave@example.com", &decided, ItemRevocationPending
			it.Remediation = &Remediation{Action: ActionDeleteAssignment, Description: "Delete the account assignment", State: RemediationFailed,
				Attempts: 3, Error: "ThrottlingException: Rate exceeded"}
		}),
		mk("it-4", 4, "frank@example.com", "Read", func(*Item) {}),
	}
	return camp, items
}

// The CSV has one row per item with its decision, reviewer, reason, time, remediation and
// verification, in the documented columns; a reason that a spreadsheet would run as a
// formula is neutralised.
func TestExportCSV(t *testing.T) {
	camp, items := exportFixture()
	doc := exportDocument(camp, items, "audrey@example.com", time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC))
	body, err := exportCSV(doc)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 5 {
		t.Fatalf("%d rows, want a header and 4 items", len(rows))
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	get := func(r int, c string) string { return rows[r][col[c]] }
	checks := []struct {
		row       int
		col, want string
	}{
		{1, "item_id", "it-1"}, {1, "decision", "keep"}, {1, "reason", `'=HYPERLINK("http://x")`}, {1, "admin_level", "true"},
		{1, "decided_at", "2026-12-01T10:00:00Z"}, {1, "state", "kept"}, {1, "remediation_state", ""},
		{2, "decision", "revoke"}, {2, "state", "remediated"}, {2, "remediation_action", ActionDeleteAssignment},
		{2, "remediation_state", "verified"}, {2, "verified_sync", "s2"}, {2, "verified_at", "2026-12-01T11:00:00Z"}, {2, "reviewer", "dave@example.com"},
		{3, "state", "revocation_pending"}, {3, "remediation_state", "failed"}, {3, "remediation_error", "ThrottlingException: Rate exceeded"},
		{3, "remediation_attempts", "3"}, {3, "verified_sync", ""},
		{4, "decision", ""}, {4, "state", "pending"}, {4, "identity", "frank@example.com"},
	}
	for _, c := range checks {
		if got := get(c.row, c.col); got != c.want {
			t.Errorf("row %d %s = %q, want %q", c.row, c.col, got, c.want)
		}
	}
	if s := doc.Summary; s.Complete || s.Statement != "NOT complete: 1 item without a decision; 1 revoke not yet verified by a sync (revocation pending)." {
		t.Errorf("summary %+v", s)
	}
}

// The HTML report satisfies the server's Content-Security-Policy (no <style>, style=""
// or script), escapes what people wrote, and shows the summary, the charts and every item.
func TestExportHTMLPrintableUnderCSP(t *testing.T) {
	camp, items := exportFixture()
	doc := exportDocument(camp, items, "audrey@example.com", time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC))
	body, err := exportHTML(doc)
	if err != nil {
		t.Fatal(err)
	}
	html := string(body)
	for _, bad := range []string{"<style", "style=", "<script", "javascript:", "onload=", "<b>the</b>", "Quarterly <review>"} {
		if strings.Contains(html, bad) {
			t.Errorf("the report contains %q", bad)
		}
	}
	for _, want := range []string{
		"Access review: Quarterly &lt;review&gt;",
		"NOT complete: 1 item without a decision; 1 revoke not yet verified by a sync (revocation pending).",
		"left &lt;b&gt;the&lt;/b&gt; team", "<svg", "kept: 1 (25.0%)", "revoke: 2 (50.0%)", "undecided: 1 (25.0%)",
		"dave@example.com: 3 of 4 decided", "verified by sync s2 at 2026-12-01T11:00:00Z", "last error: ThrottlingException: Rate exceeded",
		"it-1", "it-2", "it-3", "it-4", "(admin-level)",
	} {
		if !strings.Contains(html, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
}
