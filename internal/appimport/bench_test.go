package appimport_test

import (
	"bytes"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/appimport"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// benchCSV is a ConductorOne-style CSV of rows grant rows: 10,000 users, each holding
// rows/10,000 entitlements among 100 resources of 5 entitlements. shift moves the
// entitlement of every 100th row (1% of the grants change: one removed, one added).
func benchCSV(rows int, shift bool) []byte {
	var b bytes.Buffer
	b.WriteString("User ID,Email Address,Full Name,User Status,Resource Type,Resource Name,Entitlement\n")
	users := 10000
	for i := 0; i < rows; i++ {
		u := i % users
		k := i / users // the user's k-th grant
		ent := (u + k) % 500
		if shift && i%100 == 0 {
			ent = (ent + 250) % 500
		}
		fmt.Fprintf(&b, "u%05d,user%05d@example.com,User %05d,active,Group,Group %03d,Role %d\n", u, u, u, ent/5, ent%5)
	}
	return b.Bytes()
}

// BenchmarkImport100k imports a 100,000-row CSV into an application (parse and validate,
// .c1z, ingest), then the same file with 1% of its grants changed. Run with
// go test ./internal/appimport -run '^$' -bench Import100k -benchtime 1x.
func BenchmarkImport100k(b *testing.B) {
	first, second := benchCSV(100000, false), benchCSV(100000, true)
	for i := 0; i < b.N; i++ {
		st := storetest.Open(b, store.SQLite)
		svc, err := appimport.New(appimport.Config{Store: st, DataDir: b.TempDir(), Parse: appimport.ParseFiles})
		if err != nil {
			b.Fatal(err)
		}
		ctx := b.Context()
		app, err := svc.CreateApplication(ctx, "admin@example.com", "", appimport.AppInput{Name: "Big", Owner: "o@example.com"})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := svc.AttachImport(ctx, "admin@example.com", "", app.ID, appimport.ImportInput{DatasourceID: "ds", Files: []string{"big.csv"}}); err != nil {
			b.Fatal(err)
		}
		for n, body := range [][]byte{first, second} {
			runtime.GC()
			var before runtime.MemStats
			runtime.ReadMemStats(&before)
			start := time.Now()
			if err := svc.OnObject(ctx, "ds", appimport.Object{Key: "big.csv", ETag: fmt.Sprint(n), Size: int64(len(body))}, bytes.NewReader(body)); err != nil {
				b.Fatal(err)
			}
			d := time.Since(start)
			var after runtime.MemStats
			runtime.ReadMemStats(&after)
			run, err := st.LatestAppRun(ctx, app.ID)
			if err != nil || run.State != store.RunApplied {
				b.Fatalf("run %d: %+v %v", n, run, err)
			}
			name := []string{"first", "reimport_1pct"}[n]
			b.ReportMetric(d.Seconds(), name+"_s")
			b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/(1<<20), name+"_alloc_MiB")
			b.Logf("%s: %s, grants +%d -%d (before %d), %.0f MiB allocated, heap in use after %.0f MiB",
				name, d.Round(time.Millisecond), run.Diff.GrantsAdded, run.Diff.GrantsRemoved, run.Diff.GrantsBefore,
				float64(after.TotalAlloc-before.TotalAlloc)/(1<<20), float64(after.HeapInuse)/(1<<20))
		}
	}
}
