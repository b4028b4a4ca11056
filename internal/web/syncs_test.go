package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/awsfetch"
	"github.com/gatehouse/gatehouse/internal/jobs"
	"github.com/gatehouse/gatehouse/internal/store"
)

// oneConnection is the jobs' view of a store with one connection, "aws"; syncs are only
// queued in these tests (no worker runs them), so FetchConfig is never called.
type oneConnection struct{}

func (oneConnection) ListConnections(context.Context) ([]jobs.Connection, error) {
	return []jobs.Connection{{ID: "aws"}}, nil
}

func (oneConnection) FetchConfig(context.Context, string) (awsfetch.Config, error) {
	return awsfetch.Config{}, errors.New("not in these tests")
}

// withSyncs gives the test UI the jobs service (not started: syncs stay queued) and the
// connection "aws".
func (u *testUI) withSyncs() {
	u.t.Helper()
	svc := u.withConnections()
	if err := u.store.UpsertConnection(context.Background(), store.Connection{
		ID: "aws", Name: "Production organization", Kind: "aws", Source: store.SourceConfig, Schedule: "1h", Config: []byte("{}"),
	}); err != nil {
		u.t.Fatal(err)
	}
	_ = svc
	s, err := jobs.New(jobs.Config{Store: u.store, Connections: oneConnection{}, DataDir: u.t.TempDir()})
	if err != nil {
		u.t.Fatal(err)
	}
	u.app.Syncs = s
}

// addSync records a sync of "aws" that ran from start for d and ended in state.
func (u *testUI) addSync(id, state string, start time.Time, d time.Duration, p store.SyncProgress, skipped []store.SkippedAccount, summary any) {
	u.t.Helper()
	ctx := context.Background()
	if err := u.store.InTx(ctx, func(tx *store.Tx) error {
		return tx.InsertSync(ctx, &store.Sync{ID: id, ConnectionID: "aws", Trigger: store.TriggerManual, RequestedBy: "ada@example.com", QueuedAt: start.Add(-time.Second)})
	}); err != nil {
		u.t.Fatal(err)
	}
	if state == store.SyncQueued {
		return
	}
	if _, err := u.store.StartSyncAttempt(ctx, id, "test", start); err != nil {
		u.t.Fatal(err)
	}
	if err := u.store.UpdateSyncProgress(ctx, id, 1, p); err != nil {
		u.t.Fatal(err)
	}
	if state == store.SyncRunning {
		return
	}
	if err := u.store.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.FinishSync(ctx, id, 1, store.SyncFinish{State: state, At: start.Add(d), APICalls: p.APICalls, Progress: p, Skipped: skipped, Summary: summary})
		return err
	}); err != nil {
		u.t.Fatal(err)
	}
}

// The syncs list and a finished sync's page: state, trigger, duration, API calls, and
// the skipped accounts with their reason and fix.
func TestSyncPages(t *testing.T) {
	u := newTestUI(t)
	u.withSyncs()
	start := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	u.addSync("s0001", store.SyncSucceeded, start, 42*time.Second, store.SyncProgress{AccountsDone: 7, AccountsTotal: 7, APICalls: 1234}, nil, map[string]any{
		"api_calls": 1234, "accounts": 7,
		"ingest":    map[string]any{"grants_added": 12, "grants_removed": 3, "grants_changed": 0, "grants_unchanged": 100, "resources_added": 4, "resources_removed": 1, "stale_accounts": []string{}},
		"resources": map[string]any{"account": 7, "iam_role": 36},
		"services":  []map[string]any{{"service": "iam", "calls": 41}, {"service": "sso", "calls": 37}},
	})
	u.addSync("s0002", store.SyncPartial, start.Add(time.Hour), 3*time.Minute+5*time.Second, store.SyncProgress{AccountsDone: 6, AccountsTotal: 7, APICalls: 987},
		[]store.SkippedAccount{{AccountID: "333333333333", Name: "prod", Status: "ACTIVE", Reason: "AssumeRole into GatehouseMember was denied", Fix: "give the member role its trust policy back"}}, nil)

	res := u.get(auditor, "/syncs")
	if res.Status != 200 {
		t.Fatalf("status %d", res.Status)
	}
	cspSafe(t, res.Body)
	mustContain(t, text(res.Body), "Syncs",
		"partial s0002 Production organization manual ada@example.com", "3 min 05 s", "987", "1",
		"succeeded s0001 Production organization manual", "42.0 s", "1,234", "0")
	// Nothing is running: the list does not poll. An auditor gets no Sync now.
	if strings.Contains(res.Body, `hx-trigger="every 2s"`) || strings.Contains(res.Body, "Sync now") {
		t.Fatal("the list polls or offers Sync now to an auditor")
	}
	if !strings.Contains(u.get(admin, "/syncs").Body, `id="sync-now"`) {
		t.Fatal("an admin gets no Sync now")
	}

	res = u.get(auditor, "/syncs/s0002")
	cspSafe(t, res.Body)
	got := text(res.Body)
	mustContain(t, got, "Sync of Production organization partial", "Started by ada@example.com",
		"Accounts 6 / 7", "API calls 987",
		"Summary", "Started 2026-03-01 10:00 UTC", "Finished 2026-03-01 10:03 UTC", "Duration 3 min 05 s",
		"Skipped accounts 1", "prod 333333333333 ACTIVE AssumeRole into GatehouseMember was denied",
		"Fix: give the member role its trust policy back",
		"Their last known access is kept and marked stale")
	if strings.Contains(res.Body, `hx-trigger="every 1s"`) {
		t.Fatal("a final sync's page still polls")
	}
	got = text(u.get(auditor, "/syncs/s0001").Body)
	mustContain(t, got, "Took 42.0 s", "API calls 1,234",
		"Grants added 12", "Grants removed 3", "Grants changed 0", "Grants unchanged 100", "Resources added 4", "Resources removed 1",
		"Read Accounts 7 · IAM roles 36", "Calls per service iam 41 · sso 37", "Accounts 7", "Every account was read")
	mustNotContain(t, got, "Stale accounts", `{"`)

	if res := u.get(auditor, "/syncs/nope"); res.Status != 404 || !strings.Contains(text(res.Body), "There is no sync nope.") {
		t.Fatalf("unknown sync: %d", res.Status)
	}
	if res := u.get(person, "/syncs"); res.Status != http.StatusForbidden {
		t.Fatalf("a person lists syncs: %d", res.Status)
	}
}

// A running sync's page polls its progress card every second; once the sync is final,
// the poll answers HX-Refresh so the browser reloads the page with the summary.
func TestSyncProgressPolling(t *testing.T) {
	u := newTestUI(t)
	u.withSyncs()
	start := time.Now().UTC().Add(-10 * time.Second)
	u.addSync("s0003", store.SyncRunning, start, 0, store.SyncProgress{AccountsDone: 3, AccountsTotal: 7, Phase: "fetch", APICalls: 321}, nil, nil)
	res := u.get(auditor, "/syncs/s0003")
	if !strings.Contains(res.Body, `hx-get="/syncs/s0003" hx-trigger="every 1s" hx-swap="outerHTML"`) {
		t.Fatalf("a running sync's page does not poll:\n%s", res.Body)
	}
	mustContain(t, text(res.Body), "running", "Accounts 3 / 7", "API calls 321", "Phase fetch")
	if !strings.Contains(res.Body, `class="w-40"`) { // 3 of 7 accounts: 42%, drawn as 40%
		t.Fatal("the progress bar is not at 40%")
	}
	// The list polls too while something runs.
	if !strings.Contains(u.get(auditor, "/syncs").Body, `hx-trigger="every 2s"`) {
		t.Fatal("the syncs list does not refresh while a sync runs")
	}

	poll := u.get(auditor, "/syncs/s0003", "HX-Request", "true")
	if strings.Contains(poll.Body, "<html") || poll.Header.Get("HX-Refresh") != "" {
		t.Fatalf("a poll of a running sync: refresh %q, whole page %v", poll.Header.Get("HX-Refresh"), strings.Contains(poll.Body, "<html"))
	}
	mustContain(t, text(poll.Body), "Accounts 3 / 7")

	ctx := context.Background()
	if err := u.store.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.FinishSync(ctx, "s0003", 1, store.SyncFinish{State: store.SyncSucceeded, At: time.Now().UTC(), APICalls: 700,
			Progress: store.SyncProgress{AccountsDone: 7, AccountsTotal: 7, APICalls: 700}})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	poll = u.get(auditor, "/syncs/s0003", "HX-Request", "true")
	if poll.Header.Get("HX-Refresh") != "true" {
		t.Fatal("the poll after the sync ended does not reload the page")
	}
	mustContain(t, text(poll.Body), "succeeded", "Accounts 7 / 7", "API calls 700")
}

// Sync now: an admin's same-origin form post queues a sync and shows it; a second one
// while it is queued shows the one already there; others may not.
func TestSyncNow(t *testing.T) {
	u := newTestUI(t)
	u.withSyncs()
	res := u.postForm(admin, "/syncs", url.Values{"connection_id": {"aws"}})
	if res.Status != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/syncs/s") {
		t.Fatalf("Sync now: status %d location %q %s", res.Status, res.Header.Get("Location"), text(res.Body))
	}
	first := res.Header.Get("Location")
	page := u.get(admin, first)
	mustContain(t, text(page.Body), "queued", "Started by ada@example.com", "Phase waiting")

	res = u.postForm(admin, "/syncs", nil) // one connection: no need to name it
	if res.Status != http.StatusSeeOther || res.Header.Get("Location") != first+"?already=1" {
		t.Fatalf("second Sync now: status %d location %q", res.Status, res.Header.Get("Location"))
	}
	mustContain(t, text(u.get(admin, first+"?already=1").Body), "A sync was already running.")

	entries, err := u.store.ListAudit(context.Background(), store.AuditFilter{Action: "sync.start"})
	if err != nil || len(entries) != 1 || entries[0].Actor != "ada@example.com" || entries[0].Target != "sync:"+strings.TrimPrefix(first, "/syncs/") {
		t.Fatalf("audit of Sync now: %v %+v", err, entries)
	}
	if res := u.postForm(auditor, "/syncs", nil); res.Status != http.StatusForbidden {
		t.Fatalf("an auditor starts a sync: %d", res.Status)
	}
	if res := u.postForm(admin, "/syncs", url.Values{"connection_id": {"nope"}}); res.Status != http.StatusBadRequest ||
		!strings.Contains(text(res.Body), "There is no connection nope.") {
		t.Fatalf("unknown connection: %d %s", res.Status, text(res.Body))
	}
}
