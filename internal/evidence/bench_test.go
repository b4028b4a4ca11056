package evidence_test

import (
	"archive/zip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/evidence"
	"github.com/gatehouse/gatehouse/internal/ingest"
	"github.com/gatehouse/gatehouse/internal/jit"
	"github.com/gatehouse/gatehouse/internal/review"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// BenchmarkEvidenceLarge measures a pack of the large preset: the two syncs of the ingest
// benchmark (internal/ingest, GATEHOUSE_INGEST_BENCH=generate writes them), 1,000
// just-in-time requests with their approvals and leases, a campaign of 5,000 items and
// 20,000 audit entries, then the pack of the period that holds sync 2 (the inventory at
// its start and end, sync 2's changes and all of the above), and its verify.
//
//	GATEHOUSE_EVIDENCE_BENCH=1 [GATEHOUSE_TEST_DATABASE_URL=postgres://...] \
//	  go test -run '^$' -bench EvidenceLarge -benchtime 1x -timeout 30m -v ./internal/evidence/
func BenchmarkEvidenceLarge(b *testing.B) {
	if os.Getenv("GATEHOUSE_EVIDENCE_BENCH") == "" {
		b.Skip("set GATEHOUSE_EVIDENCE_BENCH=1 (and generate the ingest benchmark's files first)")
	}
	dir := os.Getenv("GATEHOUSE_INGEST_BENCH_DIR")
	if dir == "" {
		dir = "/tmp/gatehouse-ingest-bench"
	}
	file1, file2 := filepath.Join(dir, "large-1.c1z"), filepath.Join(dir, "large-2.c1z")
	for _, f := range []string{file1, file2} {
		if _, err := os.Stat(f); err != nil {
			b.Fatalf("%v: run GATEHOUSE_INGEST_BENCH=generate go test -run '^$' -bench IngestLarge -benchtime 1x ./internal/ingest/ first", err)
		}
	}
	dialects := []store.Dialect{store.SQLite}
	if os.Getenv(storetest.EnvURL) != "" {
		dialects = append(dialects, store.Postgres)
	}
	ctx := context.Background()
	t1 := time.Now().UTC().Add(-3 * time.Hour).Truncate(time.Second)
	for _, d := range dialects {
		st := storetest.Open(b, d)
		for i, f := range []string{file1, file2} {
			if _, err := ingest.Apply(ctx, st, ingest.Input{ConnectionID: "aws", SyncID: "s" + strconv.Itoa(i+1), C1ZPath: f,
				At: t1.Add(time.Duration(i) * time.Hour)}); err != nil {
				b.Fatal(err)
			}
		}
		seedActivity(b, st, t1.Add(90*time.Minute))
		from, to := t1.Add(30*time.Minute), time.Now().UTC()
		req, err := evidence.NewRequest(from.Format(time.RFC3339Nano), to.Format(time.RFC3339Nano), nil, nil, nil)
		if err != nil {
			b.Fatal(err)
		}
		res, err := evidence.Resolve(ctx, st, req)
		if err != nil {
			b.Fatal(err)
		}
		path := filepath.Join(b.TempDir(), "pack.zip")
		debug.FreeOSMemory()
		_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) // resets VmHWM
		start := time.Now()
		built, err := evidence.BuildFile(ctx, st, req, res, evidence.Options{ID: "ev-bench"}, path)
		if err != nil {
			b.Fatal(err)
		}
		took := time.Since(start)
		hwm := peakRSS()
		start = time.Now()
		rep, err := evidence.VerifyFile(path)
		if err != nil || !rep.OK() {
			b.Fatalf("verify: %+v %v", rep, err)
		}
		c := built.Summary.Counts
		b.Logf("%s: pack built in %.2fs, %.1f MiB, peak RSS %d MiB (verify %.2fs); start %d resources %d grants, end %d resources %d grants, "+
			"%d grants added %d removed, %d requests, %d review items, %d audit entries, chain ok %v",
			d, took.Seconds(), float64(built.Size)/(1<<20), hwm>>20, time.Since(start).Seconds(), c.StartResources, c.StartGrants,
			c.EndResources, c.EndGrants, c.GrantsAdded, c.GrantsRemoved, c.Requests, c.ReviewItems, c.AuditEntries, built.Summary.Chain.OK)
		for _, f := range []string{evidence.FileStartResources, evidence.FileEndGrants, evidence.FileDecisions, evidence.FileAuditLog} {
			for _, mf := range manifestOf(b, path) {
				if mf.Path == f {
					b.Logf("  %-32s %8d rows %8.1f MiB uncompressed", f, *mf.Rows, float64(mf.Size)/(1<<20))
				}
			}
		}
	}
}

func manifestOf(b *testing.B, path string) []evidence.ManifestFile {
	p := readPackB(b, path)
	var m evidence.Manifest
	if err := json.Unmarshal(p[evidence.ManifestName], &m); err != nil {
		b.Fatal(err)
	}
	return m.Files
}

func readPackB(b *testing.B, path string) pack {
	zr, err := zip.OpenReader(path)
	if err != nil {
		b.Fatal(err)
	}
	defer zr.Close()
	out := pack{}
	for _, f := range zr.File {
		if f.Name != evidence.ManifestName {
			continue
		}
		rc, _ := f.Open()
		out[f.Name], _ = io.ReadAll(rc)
		rc.Close()
	}
	return out
}

// seedActivity adds 1,000 requests (approved, leased, ended), a campaign of 5,000 items
// and 20,000 audit entries at around at.
func seedActivity(b *testing.B, st *store.Store, at time.Time) {
	ctx := context.Background()
	err := st.InTx(ctx, func(tx *store.Tx) error {
		for i := range 1000 {
			id := fmt.Sprintf("req-%04d", i)
			acct := fmt.Sprintf("%012d", 100000000000+i%300)
			target, _ := json.Marshal(jit.Target{Kind: jit.KindAccountAssignment, AccountID: acct, DisplayName: "ReadOnly on " + acct, PrincipalID: "u"})
			steps, _ := json.Marshal([]jit.StepStatus{{Index: 0, Name: "Manager", Required: 1,
				Approvals: []jit.Decision{{By: "mgr@example.com", Approved: true, Reason: "ok", At: at}}, State: "approved"}})
			if err := tx.InsertAccessRequest(ctx, store.AccessRequest{ID: id, Requester: "p@example.com", ConnectionID: "aws",
				EntitlementID: "e", AccessKey: id, Target: target, State: "expired", Steps: steps, CreatedAt: at, UpdatedAt: at}); err != nil {
				return err
			}
			for _, tr := range []store.RequestTransition{{From: "", To: "pending_approval"}, {From: "pending_approval", To: "approved"},
				{From: "approved", To: "provisioning"}, {From: "provisioning", To: "active"}, {From: "active", To: "expiring"}, {From: "expiring", To: "expired"}} {
				tr.RequestID, tr.Actor, tr.At = id, "gatehouse", at
				if _, err := tx.AppendRequestTransition(ctx, tr); err != nil {
					return err
				}
			}
			ends, ended := at.Add(time.Hour), at.Add(time.Hour+2*time.Second)
			if err := tx.InsertLease(ctx, &store.Lease{ID: "l-" + id, RequestID: id, Requester: "p@example.com", ConnectionID: "aws",
				AccessKey: id, Target: string(target), State: store.LeaseEnded, CreatedAt: at, StartsAt: &at, EndsAt: &ends, EndedAt: &ended,
				EndReason: jit.EndExpired}); err != nil {
				return err
			}
		}
		if err := tx.InsertReviewCampaign(ctx, &store.ReviewCampaign{ID: "rc-bench", Name: "bench", State: "active", Scope: "{}",
			Reviewers: "{}", CreatedAt: at, StartedAt: &at, DueAt: at.Add(time.Hour)}); err != nil {
			return err
		}
		items := make([]store.ReviewItem, 5000)
		for i := range items {
			items[i] = store.ReviewItem{CampaignID: "rc-bench", ID: fmt.Sprintf("it-%05d", i), Seq: i + 1, ConnectionID: "aws",
				GrantID: fmt.Sprintf("g-%d", i), AccountID: fmt.Sprintf("%012d", 100000000000+i%300), Identity: "p@example.com",
				Decision: review.DecisionKeep, Reason: "needed", DecidedBy: "r@example.com", DecidedAt: &at, State: string(review.ItemKept), UpdatedAt: at}
		}
		return tx.InsertReviewItems(ctx, items)
	})
	if err != nil {
		b.Fatal(err)
	}
	for batch := range 20 {
		err := st.InTx(ctx, func(tx *store.Tx) error {
			for i := range 1000 {
				if _, err := tx.AppendAudit(ctx, "bench@example.com", "bench.entry", "x", map[string]any{"i": batch*1000 + i,
					"detail": strings.Repeat("d", 100)}, ""); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// peakRSS is the process's VmHWM in bytes (0 where /proc is not there).
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return 0
}
