package review

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/ingest"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// BenchmarkExport measures the exports of a campaign over the simulator's large organization
// (every account, every grant: one item per grant and way it is held), decided: everything
// kept with a reason by the reviewer in one bulk decision, then the items of three accounts
// revoked. It reports, per format, the time to export (read every item, render, hash, record
// the export and its audit entry), the file's size, the heap in use at its highest (sampled
// every 5 ms) and the process's peak resident memory during the export (VmHWM, reset before
// each); then, with large-2.c1z ingested as the
// next sync, the time of the verification (AfterIngest) over the campaign. A measurement run
// by hand, once:
//
//	GATEHOUSE_INGEST_BENCH=generate go test -run '^$' -bench IngestLarge -benchtime 1x -timeout 30m ./internal/ingest/
//	go test -run '^$' -bench Export -benchtime 1x -timeout 30m -v ./internal/review/
//
// It reads large-1.c1z from GATEHOUSE_REVIEW_BENCH (default the ingestion benchmark's
// /tmp/gatehouse-ingest-bench); GATEHOUSE_REVIEW_BENCH_POSTGRES=1 uses a new database on the
// server of GATEHOUSE_TEST_DATABASE_URL instead of SQLite.
func BenchmarkExport(b *testing.B) {
	dir := os.Getenv("GATEHOUSE_REVIEW_BENCH")
	if dir == "" {
		dir = "/tmp/gatehouse-ingest-bench"
	}
	file := filepath.Join(dir, "large-1.c1z")
	if _, err := os.Stat(file); err != nil {
		b.Fatalf("%v: generate the large inventory first (GATEHOUSE_INGEST_BENCH=generate go test -run '^$' -bench IngestLarge -benchtime 1x ./internal/ingest/), or set GATEHOUSE_REVIEW_BENCH to its directory", err)
	}
	ctx := context.Background()
	d := store.SQLite
	if os.Getenv("GATEHOUSE_REVIEW_BENCH_POSTGRES") == "1" {
		d = store.Postgres
	}
	st := storetest.Open(b, d)
	start := time.Now()
	if _, err := ingest.Apply(ctx, st, ingest.Input{ConnectionID: "aws", SyncID: "s1", C1ZPath: file, At: time.Now().Add(-time.Hour)}); err != nil {
		b.Fatal(err)
	}
	b.Logf("ingested the large organization (%s) in %s", d, time.Since(start).Round(time.Millisecond))
	admin := &auth.Caller{Email: "admin@example.com", Roles: []string{auth.RoleAdmin}}
	if err := st.SetConfiguredRoles(ctx, map[string][]string{admin.Email: {auth.RoleAdmin}}); err != nil {
		b.Fatal(err)
	}
	svc, err := New(Config{Store: st})
	if err != nil {
		b.Fatal(err)
	}
	svc.SetQueue(&fakeQueue{}) // the revokes' jobs are recorded, not run
	reviewer := &auth.Caller{Email: "reviewer@example.com"}
	camp, err := svc.CreateCampaign(ctx, admin, CampaignInput{Name: "Every grant of the large organization",
		Reviewers: Reviewers{People: []string{reviewer.Email}}, Due: time.Now().Add(30 * 24 * time.Hour), Undecided: UndecidedKeep})
	if err != nil {
		b.Fatal(err)
	}
	start = time.Now()
	if camp, err = svc.Start(ctx, admin, camp.ID); err != nil {
		b.Fatal(err)
	}
	b.Logf("started: %d items in %s", camp.Progress.Total, time.Since(start).Round(time.Millisecond))
	start = time.Now()
	// The first three accounts in the campaign's order (by account; items without an
	// account, such as Identity Center group memberships, come first): their items are
	// revoked.
	var accounts []string
	for token := ""; len(accounts) < 3; {
		page, next, err := svc.Items(ctx, admin, camp.ID, ItemQuery{Page: store.Page{Size: 1000, Token: token}})
		if err != nil {
			b.Fatal(err)
		}
		for _, it := range page {
			if it.AccountID != "" && !slices.Contains(accounts, it.AccountID) && len(accounts) < 3 {
				accounts = append(accounts, it.AccountID)
			}
		}
		if token = next; next == "" {
			break
		}
	}
	revoked := 0
	for _, a := range accounts {
		res, err := svc.DecideBulk(ctx, reviewer, camp.ID, ItemQuery{AccountID: a}, DecisionInput{Decision: DecisionRevoke, Reason: "no longer needed (quarterly review)"})
		if err != nil {
			b.Fatal(err)
		}
		revoked += res.Decided
	}
	if revoked == 0 {
		b.Fatalf("no item of accounts %v was revoked", accounts)
	}
	res, err := svc.DecideBulk(ctx, reviewer, camp.ID, ItemQuery{Decision: "none"}, DecisionInput{Decision: DecisionKeep, Reason: "still needed for the quarter's work"})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("decided: %d revoked, %d kept, %d skipped in %s", revoked, res.Decided, len(res.Skipped), time.Since(start).Round(time.Millisecond))
	for _, format := range []string{FormatCSV, FormatJSON, FormatHTML} {
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		resetHWM()
		rssBefore := hwm()
		peakHeap := sampleHeapInuse()
		start := time.Now()
		ex, err := svc.Export(ctx, admin, camp.ID, format)
		if err != nil {
			b.Fatal(err)
		}
		took := time.Since(start)
		heap := peakHeap()
		rss := hwm()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		b.Logf("export %s: %d items, %.1f MiB in %s (%.0f items/s), %.0f MiB allocated, peak heap in use %.0f MiB (%.0f MiB before), peak RSS %.0f MiB (%.0f MiB before); sha256 %s",
			format, camp.Progress.Total, float64(ex.Size)/(1<<20), took.Round(time.Millisecond), float64(camp.Progress.Total)/took.Seconds(),
			float64(after.TotalAlloc-before.TotalAlloc)/(1<<20), float64(heap)/(1<<20), float64(before.HeapInuse)/(1<<20),
			float64(rss)/(1<<20), float64(rssBefore)/(1<<20), ex.SHA256[:12])
		b.ReportMetric(took.Seconds(), format+"-s")
		b.ReportMetric(float64(ex.Size)/(1<<20), format+"-MiB")
		b.ReportMetric(float64(heap)/(1<<20), format+"-peak-heap-MiB")
		b.ReportMetric(float64(rss)/(1<<20), format+"-peak-RSS-MiB")
		if err := ex.Close(); err != nil {
			b.Fatal(err)
		}
	}
	// The verification after the next sync (large-2.c1z: 1.3% of the grants changed) looks
	// at every item of the campaign.
	if file2 := filepath.Join(dir, "large-2.c1z"); fileExists(file2) {
		if _, err := ingest.Apply(ctx, st, ingest.Input{ConnectionID: "aws", SyncID: "s2", C1ZPath: file2, At: time.Now()}); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if err := svc.AfterIngest(ctx, "aws", "s2"); err != nil {
			b.Fatal(err)
		}
		took := time.Since(start)
		c, err := svc.Campaign(ctx, admin, camp.ID)
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("verification after sync s2: %s; %d remediated, %d access gone", took.Round(time.Millisecond), c.Progress.Remediated, c.Progress.AccessGone)
		b.ReportMetric(took.Seconds(), "verify-s")
	}
}

// sampleHeapInuse samples the heap in use every 5 ms until the returned function is called,
// which returns the highest sample.
func sampleHeapInuse() func() uint64 {
	stop := make(chan struct{})
	done := make(chan uint64)
	go func() {
		var peak uint64
		var m runtime.MemStats
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapInuse)
			select {
			case <-stop:
				done <- peak
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 { close(stop); return <-done }
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
