package review

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
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

// exportBytes reads the whole export and closes it.
func exportBytes(t *testing.T, ex *Export) []byte {
	t.Helper()
	defer ex.Close()
	b, err := io.ReadAll(ex.Content)
	if err != nil {
		t.Fatalf("read the %s export: %v", ex.Format, err)
	}
	return b
}

// The JSON export, written an item at a time, is byte for byte the indented document
// (json.MarshalIndent and a newline), with items and without.
func TestExportJSONStreamedIsTheIndentedDocument(t *testing.T) {
	camp, items := exportFixture()
	at := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	for _, its := range [][]Item{items, nil} {
		doc := exportDocument(camp, its, "audrey@example.com", at)
		got, err := exportJSON(doc)
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.MarshalIndent(doc, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, '\n')
		if !bytes.Equal(got, want) {
			t.Errorf("%d items: streamed JSON differs from the document:\n--- got\n%s\n--- want\n%s", len(its), got, want)
		}
	}
}

// An export read in pages (three items a page here) is written to a private temporary file,
// gone from the directory as soon as it is created and closed by Close; it holds exactly
// the document of every item (the same bytes as rendered in memory), and its size and
// SHA-256 are the file's and the ones recorded with the export and in the audit log.
func TestExportStreamedInPagesToPrivateFile(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		ctx := context.Background()
		c := e.start("prod", Scope{Accounts: []string{prodID}}, Reviewers{People: []string{"dave@example.com"}})
		items := e.items(admin, c.ID, ItemQuery{})
		if len(items) <= 6 {
			t.Fatalf("%d items: the fixture should span more than two pages of three", len(items))
		}
		dave := caller("dave@example.com")
		audrey := caller("audrey@example.com", auth.RoleAuditor)
		if _, err := e.svc.Decide(ctx, dave, c.ID, items[0].ID, DecisionInput{Decision: DecisionKeep, Reason: "=still needed"}); err != nil {
			t.Fatal(err)
		}
		items = e.items(admin, c.ID, ItemQuery{})
		old := exportPage
		exportPage = 3
		defer func() { exportPage = old }()
		dir := t.TempDir()
		e.svc.cfg.TempDir = dir
		for _, format := range []string{FormatCSV, FormatJSON, FormatHTML} {
			ex, err := e.svc.Export(ctx, audrey, c.ID, format)
			if err != nil {
				t.Fatal(err)
			}
			f, ok := ex.Content.(*exportFile)
			if !ok {
				t.Fatalf("%s export content is a %T, want the temporary file", format, ex.Content)
			}
			fi, err := f.Stat()
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("%s export file mode %v, want 0600", format, fi.Mode().Perm())
			}
			if left, _ := os.ReadDir(dir); len(left) != 0 {
				t.Errorf("%s export: %d files left in the directory (%s), want none", format, len(left), left[0].Name())
			}
			body := exportBytes(t, ex)
			if _, err := ex.Content.Read(make([]byte, 1)); err == nil {
				t.Errorf("%s export still readable after Close", format)
			}
			checkHash(t, st, c.ID, ex, body)
			camp, err := e.svc.Campaign(ctx, audrey, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			want, err := render(newRenderer(format), exportDocument(camp, items, audrey.Email, e.clock.Now().Truncate(time.Second)))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(body, want) {
				t.Errorf("%s export read in pages differs from the whole document rendered at once:\n--- got\n%s\n--- want\n%s", format, body, want)
			}
			if n := strings.Count(string(body), items[len(items)-1].ID); n == 0 {
				t.Errorf("%s export lacks the last item %s", format, items[len(items)-1].ID)
			}
		}
	})
}
