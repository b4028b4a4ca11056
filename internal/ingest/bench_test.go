package ingest_test

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/gatehouse/gatehouse/internal/awsfetch"
	"github.com/gatehouse/gatehouse/internal/awssim"
	"github.com/gatehouse/gatehouse/internal/ingest"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
	"github.com/gatehouse/gatehouse/internal/syncrun"
)

// The ingestion benchmark of docs/performance.md ("Ingest"), run by hand, not in CI:
//
//	GATEHOUSE_INGEST_BENCH=generate go test -run '^$' -bench IngestLarge -benchtime 1x -timeout 30m ./internal/ingest/
//	GATEHOUSE_INGEST_BENCH=measure  go test -run '^$' -bench IngestLarge -benchtime 1x -timeout 30m ./internal/ingest/
//
// Without GATEHOUSE_INGEST_BENCH it generates the files when they are missing, then
// measures. generate syncs the simulator's large preset (seed 1) into large-1.c1z, then removes 1%
// of the Identity Center group memberships and 0.5% of the account assignments and syncs
// again into large-2.c1z, in GATEHOUSE_INGEST_BENCH_DIR (default /tmp/gatehouse-ingest-bench).
// measure ingests both files into a fresh SQLite store (and PostgreSQL with
// GATEHOUSE_TEST_DATABASE_URL), then the second file again, and reports wall time, peak
// resident memory (reset before each step through /proc/self/clear_refs), rows written,
// and a few read paths on the result. Two steps so that the memory measured is the
// ingestion's, not the simulator's.
func BenchmarkIngestLarge(b *testing.B) {
	var t testing.TB = b
	mode := os.Getenv("GATEHOUSE_INGEST_BENCH")
	dir := os.Getenv("GATEHOUSE_INGEST_BENCH_DIR")
	if dir == "" {
		dir = "/tmp/gatehouse-ingest-bench"
	}
	file1, file2 := filepath.Join(dir, "large-1.c1z"), filepath.Join(dir, "large-2.c1z")
	if mode == "" {
		mode = "measure"
		if _, err := os.Stat(file2); err != nil {
			generateLarge(t, dir, file1, file2)
		}
	}
	switch mode {
	case "generate":
		generateLarge(t, dir, file1, file2)
	case "measure":
		measureLarge(t, file1, file2)
	default:
		t.Fatalf("GATEHOUSE_INGEST_BENCH=%s: want generate or measure", mode)
	}
}

func generateLarge(t testing.TB, dir, file1, file2 string) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	w, err := awssim.Preset("large", 1)
	if err != nil {
		t.Fatal(err)
	}
	sim := awssim.New(w, awssim.Options{}) // no quotas, no latency: the ingestion is measured, not the sync
	url, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	var cfg awsfetch.Config
	sim.Do(func(w *awssim.World) {
		cfg = awsfetch.Config{
			Region: w.Region, EndpointURL: url,
			Credentials: credentials.NewStaticCredentialsProvider(w.Connector.AccessKeyID, w.Connector.SecretAccessKey, ""),
			RoleARN:     w.Connector.RoleARN, ExternalID: w.Connector.ExternalID,
			Orgs: true, IdentityCenter: true, IdentityCenterRegion: w.SSO.Region,
			Quotas:               awsfetch.Quotas{"iam": {}, "sts": {}, "organizations": {}, "identitycenter": {}, "sso:DescribePermissionSet": {}},
			MaxBackoff:           50 * time.Millisecond,
			CredentialReportPoll: 5 * time.Millisecond,
		}
	})
	ctx := context.Background()
	start := time.Now()
	if _, err := syncrun.Run(ctx, cfg, file1); err != nil {
		t.Fatal(err)
	}
	t.Logf("sync 1: %s", time.Since(start))
	var memberships, assignments int
	sim.Do(func(w *awssim.World) {
		kept := w.SSO.Memberships[:0]
		for i, m := range w.SSO.Memberships {
			if i%100 == 0 {
				memberships++
				continue
			}
			kept = append(kept, m)
		}
		w.SSO.Memberships = kept
		ka := w.SSO.Assignments[:0]
		for i, a := range w.SSO.Assignments {
			if i%200 == 0 {
				assignments++
				continue
			}
			ka = append(ka, a)
		}
		w.SSO.Assignments = ka
	})
	start = time.Now()
	if _, err := syncrun.Run(ctx, cfg, file2); err != nil {
		t.Fatal(err)
	}
	t.Logf("sync 2 (%d memberships and %d assignments removed): %s", memberships, assignments, time.Since(start))
}

// resetPeakRSS returns freed memory to the system and makes the kernel's peak resident
// size (VmHWM) start again from now, so that a step's peak is its own.
func resetPeakRSS() {
	debug.FreeOSMemory()
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// peakRSS is VmHWM in bytes.
func peakRSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

func measureLarge(t testing.TB, file1, file2 string) {
	for _, f := range []string{file1, file2} {
		if _, err := os.Stat(f); err != nil {
			t.Fatalf("%v: run with GATEHOUSE_INGEST_BENCH=generate first", err)
		}
	}
	dialects := []store.Dialect{store.SQLite}
	if os.Getenv(storetest.EnvURL) != "" {
		dialects = append(dialects, store.Postgres)
	}
	t1 := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	for _, d := range dialects {
		func() {
			t.Logf("--- %s", d)
			st := storetest.Open(t, d)
			if keep := os.Getenv("GATEHOUSE_INGEST_BENCH_KEEP"); keep != "" && d == store.SQLite {
				// Keep the SQLite database, to look at its plans afterwards.
				_ = os.RemoveAll(keep)
				var err error
				if st, err = store.Open(context.Background(), store.Config{DataDir: keep}); err != nil {
					t.Fatal(err)
				}
				defer st.Close()
				if _, err := st.Migrate(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			ctx := context.Background()
			step := func(name, sync, file string, at time.Time) *ingest.Result {
				resetPeakRSS()
				start := time.Now()
				res, err := ingest.Apply(ctx, st, ingest.Input{ConnectionID: "aws", SyncID: sync, C1ZPath: file, At: at})
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				t.Logf("%-28s %8.2fs  peak RSS %4d MiB  rows written %7d  grants +%d -%d ~%d =%d  resources +%d -%d",
					name, time.Since(start).Seconds(), peakRSS()>>20, res.RowsWritten, res.Added, res.Removed, res.Changed,
					res.Unchanged, res.ResourcesAdded, res.ResourcesRemoved)
				return res
			}
			step("first ingest (large-1)", "s1", file1, t1)
			r2 := step("re-sync, changes (large-2)", "s2", file2, t1.Add(time.Hour))
			r3 := step("same file again (large-2)", "s3", file2, t1.Add(2*time.Hour))
			if r3.RowsWritten != 0 {
				t.Errorf("an identical file wrote %d rows", r3.RowsWritten)
			}
			counts, err := st.InventoryCounts(ctx)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("inventory: %v; %.2f%% of grants changed by sync 2", counts,
				100*float64(r2.Added+r2.Removed+r2.Changed)/float64(counts["grants"]+r2.Removed))

			// Each read is run 7 times; the median is reported (single runs on a shared
			// machine are noise).
			timed := func(name string, fn func() (int, error)) {
				var ds []time.Duration
				n := 0
				for range 7 {
					start := time.Now()
					var err error
					if n, err = fn(); err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					ds = append(ds, time.Since(start))
				}
				slices.Sort(ds)
				t.Logf("  %-44s %7.1f ms  %d items", name, float64(ds[len(ds)/2].Microseconds())/1000, n)
			}
			people, _, err := st.ListPeople(ctx, "", store.Page{Size: 1})
			if err != nil || len(people) == 0 {
				t.Fatalf("no people: %v", err)
			}
			email := people[0].Email
			before := t1.Add(30 * time.Minute)
			timed("PersonAccess (now)", func() (int, error) { a, _, err := st.PersonAccess(ctx, email, nil, store.Page{}); return len(a), err })
			timed("PersonAccess (as of sync 1)", func() (int, error) {
				a, _, err := st.PersonAccess(ctx, email, &before, store.Page{})
				return len(a), err
			})
			timed("ListPeople (first page)", func() (int, error) { p, _, err := st.ListPeople(ctx, "", store.Page{}); return len(p), err })
			timed("ListPeople q=user-1", func() (int, error) { p, _, err := st.ListPeople(ctx, "user-1", store.Page{}); return len(p), err })
			timed("ListResources iam_role (first page)", func() (int, error) {
				r, _, err := st.ListResources(ctx, store.ResourceFilter{Type: "iam_role"}, store.Page{})
				return len(r), err
			})
			timed("ListResources q=admin (first page)", func() (int, error) {
				r, _, err := st.ListResources(ctx, store.ResourceFilter{Q: "admin"}, store.Page{})
				return len(r), err
			})
			var acct string
			timed("OUTree", func() (int, error) {
				r, err := st.OUTree(ctx, "aws")
				for _, x := range r {
					if x.Type == "account" && acct == "" {
						acct = x.ID
					}
				}
				return len(r), err
			})
			timed("ResourceGrants account (first page)", func() (int, error) {
				g, _, err := st.ResourceGrants(ctx, "account", acct, nil, store.Page{})
				return len(g), err
			})
			timed("Changes sync 1..2 (first page)", func() (int, error) {
				c, _, err := st.Changes(ctx, store.ChangeFilter{From: t1, To: t1.Add(time.Hour)}, store.Page{})
				return len(c), err
			})
			timed("Changes all time (first page)", func() (int, error) {
				c, _, err := st.Changes(ctx, store.ChangeFilter{To: t1.Add(3 * time.Hour)}, store.Page{})
				return len(c), err
			})
			timed("InventoryCounts", func() (int, error) { c, err := st.InventoryCounts(ctx); return len(c), err })
		}()
	}
}
