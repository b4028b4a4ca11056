package evidence_test

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/evidence"
	"github.com/gatehouse/gatehouse/internal/evidence/evidencetest"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

var (
	auditor = &auth.Caller{Email: "auditor@example.com", Roles: []string{auth.RoleAuditor}, RemoteAddr: "192.0.2.1"}
	person  = &auth.Caller{Email: "bob@example.com"}
)

// A request is audited, built into the data directory (0600), and its download is
// audited with the pack's SHA-256; people are refused; a file changed on disk is never
// served.
func TestServiceRequestBuildDownload(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := evidencetest.Seed(t, st)
		dir := t.TempDir()
		svc, err := evidence.New(evidence.Config{Store: st, DataDir: dir, Runner: "replica-1"})
		if err != nil {
			t.Fatal(err)
		}
		req, err := evidence.NewRequest(f.From.Format(time.RFC3339Nano), f.To.Format(time.RFC3339Nano), []string{"prod"}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Request(ctx, person, req); !errors.Is(err, evidence.ErrForbidden) {
			t.Fatalf("a person's request: %v, want ErrForbidden", err)
		}
		p, err := svc.Request(ctx, auditor, req)
		if err != nil {
			t.Fatal(err)
		}
		if p.State != store.EvidenceReady || len(p.SHA256) != 64 || p.Size == 0 || p.Summary == nil || p.Summary.Counts.EndGrants != 1 {
			t.Fatalf("pack: %+v", p)
		}
		fi, err := os.Stat(dir + "/evidence/" + p.ID + ".zip")
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("the pack's file: %v %v", fi, err)
		}
		if _, err := svc.Open(ctx, person, p.ID); !errors.Is(err, evidence.ErrForbidden) {
			t.Errorf("a person's download: %v", err)
		}
		d, err := svc.Open(ctx, auditor, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(d)
		d.Close()
		if int64(len(b)) != p.Size || d.SHA256 != p.SHA256 || !strings.HasPrefix(d.Name, "evidence-") {
			t.Errorf("download: %d bytes, %s, %s", len(b), d.SHA256, d.Name)
		}
		entries, err := st.ListAudit(ctx, store.AuditFilter{Action: "evidence."})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range entries {
			got = append(got, e.Action+" "+e.Actor+" "+e.Target)
			if e.Action != "evidence.request" && !strings.Contains(e.Detail, `"sha256":"`+p.SHA256+`"`) {
				t.Errorf("%s does not record the pack's hash: %s", e.Action, e.Detail)
			}
		}
		eq(t, "audit", got, []string{"evidence.request auditor@example.com evidence:" + p.ID, "evidence.build system evidence:" + p.ID,
			"evidence.download auditor@example.com evidence:" + p.ID})

		html, err := svc.SummaryHTML(ctx, auditor, p.ID)
		if err != nil || !strings.Contains(string(html), "<strong>CC6.1</strong>") {
			t.Errorf("summary: %v %.100s", err, html)
		}

		// The file changed on disk: refused, never served as the pack.
		if err := os.WriteFile(dir+"/evidence/"+p.ID+".zip", append(b, 0), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Open(ctx, auditor, p.ID); !errors.Is(err, evidence.ErrFileGone) || !strings.Contains(err.Error(), "was changed after it was built") {
			t.Errorf("changed file: %v", err)
		}
		if _, err := svc.Open(ctx, auditor, "ev-nope"); !errors.Is(err, evidence.ErrNotFound) {
			t.Errorf("unknown pack: %v", err)
		}

		// A pack whose scope no longer resolves fails for good, saying why.
		bad := req
		bad.Accounts = []string{"999999999999"}
		if _, err := svc.Request(ctx, auditor, bad); !evidence.IsInputError(err) {
			t.Errorf("unknown account: %v", err)
		}
		list, _, err := svc.List(ctx, store.Page{})
		if err != nil || len(list) != 1 || list[0].ID != p.ID {
			t.Errorf("list: %v %v", list, err)
		}
	})
}

// Scheduled packs cover the last complete month (or week), once per period however
// often the schedule runs and on however many replicas.
func TestScheduledPacks(t *testing.T) {
	now := time.Date(2026, 4, 15, 10, 0, 0, 0, time.UTC) // a Wednesday
	from, to, key := evidence.SchedulePeriod(evidence.EveryMonth, now)
	if from != time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC) || to != time.Date(2026, 3, 31, 23, 59, 59, 999e6, time.UTC) || key != "monthly:2026-03" {
		t.Errorf("monthly: %s %s %s", from, to, key)
	}
	from, to, key = evidence.SchedulePeriod(evidence.EveryWeek, now)
	if from != time.Date(2026, 4, 6, 0, 0, 0, 0, time.UTC) || to != time.Date(2026, 4, 12, 23, 59, 59, 999e6, time.UTC) || key != "weekly:2026-W15" {
		t.Errorf("weekly: %s %s %s", from, to, key)
	}
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		evidencetest.Seed(t, st)
		clock := func() time.Time { return now }
		var packs []*evidence.Pack
		for replica := range 2 {
			svc, err := evidence.New(evidence.Config{Store: st, DataDir: t.TempDir(), Now: clock, Runner: "r" + string(rune('0'+replica)),
				Schedule: evidence.Schedule{Every: evidence.EveryMonth, Accounts: []string{evidencetest.Prod}}})
			if err != nil {
				t.Fatal(err)
			}
			p, err := svc.QueueScheduled(ctx)
			if err != nil {
				t.Fatal(err)
			}
			packs = append(packs, p)
		}
		if packs[0] == nil || packs[1] != nil {
			t.Fatalf("two replicas' schedules queued %v and %v, want one pack", packs[0], packs[1])
		}
		p := packs[0]
		if !p.Scheduled || p.RequestedBy != evidence.ScheduleActor || p.State != store.EvidenceReady ||
			!p.From.Equal(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)) || strings.Join(p.Scope.Accounts, ",") != evidencetest.Prod {
			t.Errorf("scheduled pack: %+v", p)
		}
	})
	if _, err := evidence.New(evidence.Config{Store: &store.Store{}, DataDir: "x", Schedule: evidence.Schedule{Every: "daily"}}); err == nil ||
		err.Error() != `evidence.schedule "daily": want monthly, weekly or off` {
		t.Errorf("a bad schedule: %v", err)
	}
}

// A build that fails for good is recorded: state failed with the error, an evidence.fail
// audit entry, and a download says why (never a partial file).
func TestFailedBuildIsRecorded(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := evidencetest.Seed(t, st)
		dir := t.TempDir()
		// The packs' directory cannot be made: a file is in its place.
		if err := os.WriteFile(dir+"/evidence", []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		svc, err := evidence.New(evidence.Config{Store: st, DataDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		req, _ := evidence.NewRequest(f.From.Format(time.RFC3339Nano), f.To.Format(time.RFC3339Nano), nil, nil, nil)
		p, err := svc.Request(ctx, auditor, req)
		if err != nil {
			t.Fatal(err)
		}
		if p.State != store.EvidenceFailed || !strings.HasPrefix(p.Error, "evidence pack directory "+dir+"/evidence: ") || p.SHA256 != "" || p.Summary != nil {
			t.Fatalf("pack: %+v", p)
		}
		_, err = svc.Open(ctx, auditor, p.ID)
		if !errors.Is(err, evidence.ErrNotReady) || !strings.Contains(err.Error(), "its build failed (evidence pack directory ") ||
			!strings.HasSuffix(err.Error(), "): request a new pack") {
			t.Errorf("download of a failed pack: %v", err)
		}
		entries, err := st.ListAudit(ctx, store.AuditFilter{Action: "evidence.fail"})
		if err != nil || len(entries) != 1 || entries[0].Target != "evidence:"+p.ID || !strings.Contains(entries[0].Detail, "evidence pack directory") {
			t.Errorf("audit: %v %v", entries, err)
		}
	})
}
