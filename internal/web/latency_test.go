package web_test

import (
	"context"
	"encoding/base64"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/ingest"
	"github.com/gatehouse/gatehouse/internal/loadtest"
	"github.com/gatehouse/gatehouse/internal/server"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
	"github.com/gatehouse/gatehouse/internal/web"

	"net/http/httptest"
	"net/url"
)

// BenchmarkPageLatency measures the pages people wait for (a person's access, an account's
// grants, the home page's change feed, the history of the latest sync) on a large
// inventory, with 50 concurrent clients over HTTP through the whole server (sign-in by API
// token, routing, the store). It is a measurement run by hand (once, whatever b.N is):
//
//	GATEHOUSE_INGEST_BENCH=generate go test -run '^$' -bench IngestLarge -benchtime 1x -timeout 30m ./internal/ingest/
//	go test -run '^$' -bench PageLatency -benchtime 1x -timeout 30m -v ./internal/web/
//
// It reads large-1.c1z and large-2.c1z (the large preset, then 1% of its grants changed)
// from GATEHOUSE_WEB_BENCH (default the ingestion benchmark's /tmp/gatehouse-ingest-bench)
// and ingests both as two syncs. With
// GATEHOUSE_WEB_BENCH_POSTGRES=1 the store is a new database on the PostgreSQL server of
// GATEHOUSE_TEST_DATABASE_URL instead of SQLite; GATEHOUSE_WEB_BENCH_DATA keeps a SQLite
// store between runs; GATEHOUSE_WEB_BENCH_DURATION (default 15s) is the time per page and
// GATEHOUSE_WEB_BENCH_PATHS (comma-separated) replaces the pages measured;
// GATEHOUSE_WEB_BENCH_NOCACHE=1 builds every page afresh (no page cache).
func BenchmarkPageLatency(b *testing.B) {
	t := b
	dir := os.Getenv("GATEHOUSE_WEB_BENCH")
	if dir == "" {
		dir = "/tmp/gatehouse-ingest-bench"
	}
	for _, f := range []string{"large-1.c1z", "large-2.c1z"} {
		if _, err := os.Stat(dir + "/" + f); err != nil {
			t.Fatalf("%v: generate the large inventory first (GATEHOUSE_INGEST_BENCH=generate go test -run '^$' -bench IngestLarge -benchtime 1x ./internal/ingest/), or set GATEHOUSE_WEB_BENCH to its directory", err)
		}
	}
	ctx := context.Background()
	if os.Getenv("GATEHOUSE_WEB_BENCH_NOCACHE") == "1" {
		defer web.SetCacheTTL(0)()
	}
	cfg, err := server.Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Listen, cfg.DataDir = "127.0.0.1:0", t.TempDir()
	// GATEHOUSE_WEB_BENCH_DATA keeps the SQLite store between runs: ingested once.
	reuse := false
	if keep := os.Getenv("GATEHOUSE_WEB_BENCH_DATA"); keep != "" {
		_, err := os.Stat(keep + "/" + store.SQLiteFile)
		cfg.DataDir, reuse = keep, err == nil
	}
	if os.Getenv("GATEHOUSE_WEB_BENCH_POSTGRES") == "1" {
		cfg.DatabaseURL = storetest.NewDatabase(t)                          // a new database on GATEHOUSE_TEST_DATABASE_URL's server
		cfg.SecretKey = base64.StdEncoding.EncodeToString(make([]byte, 32)) // required on PostgreSQL; no secret is stored here
	}
	cfg.Auditors = []string{"bench@example.com"}
	srv, err := server.New(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown(ctx)
	st := srv.App.Store
	t0 := time.Now().UTC().Add(-2 * time.Hour).Truncate(time.Second)
	for i, f := range []string{"large-1.c1z", "large-2.c1z"} {
		if reuse {
			break
		}
		start := time.Now()
		res, err := ingest.Apply(ctx, st, ingest.Input{ConnectionID: "aws", SyncID: "bench" + string(rune('1'+i)), C1ZPath: dir + "/" + f, At: t0.Add(time.Duration(i) * time.Hour)})
		if err != nil {
			t.Fatalf("ingest %s: %v", f, err)
		}
		t.Logf("ingested %s in %s: %+v", f, time.Since(start).Round(time.Millisecond), *res)
	}
	token, _, err := auth.CreateToken(ctx, st, auth.NewToken{Email: "bench@example.com", Name: "bench", TTL: time.Hour, Roles: []string{auth.RoleAuditor}, Actor: "bench"})
	if err != nil {
		t.Fatal(err)
	}

	// The person with the most access among the first people, and the account with the
	// most grants: the heaviest pages of their kind.
	people, _, err := st.ListPeople(ctx, "", store.Page{Size: 200})
	if err != nil {
		t.Fatal(err)
	}
	person, most := "", -1
	for _, p := range people {
		acc, _, err := st.PersonAccess(ctx, p.Email, nil, store.Page{Size: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(acc) > most {
			person, most = p.Email, len(acc)
		}
	}
	accounts, _, err := st.ListResources(ctx, store.ResourceFilter{Type: "account"}, store.Page{Size: 1000})
	if err != nil {
		t.Fatal(err)
	}
	account, grants := "", -1
	for _, a := range accounts {
		ents, err := st.ResourceEntitlements(ctx, "account", a.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range ents {
			n += e.Grants
		}
		if n > grants {
			account, grants = a.ID, n
		}
	}
	counts, _ := st.InventoryCounts(ctx)
	t.Logf("inventory: %d accounts, %d grants, %d people; person %s has %d routes of access; account %s has %d grants",
		counts["account"], counts["grants"], counts["people"], person, most, account, grants)

	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	d := 15 * time.Second
	if s := os.Getenv("GATEHOUSE_WEB_BENCH_DURATION"); s != "" {
		if d, err = time.ParseDuration(s); err != nil {
			t.Fatal(err)
		}
	}
	var report strings.Builder
	paths := []string{
		"/api/v1/me", // the baseline: identifying the caller by API token, no page
		"/people/" + url.PathEscape(person),
		"/inventory/account/" + account,
		"/",
		"/history",
	}
	if only := os.Getenv("GATEHOUSE_WEB_BENCH_PATHS"); only != "" {
		paths = strings.Split(only, ",")
	}
	for _, path := range paths {
		res, err := loadtest.Run(ctx, loadtest.Config{BaseURL: hs.URL, Token: token, Paths: []string{path}, Clients: 50, Duration: d, Warmup: true})
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		res.Write(&report)
		for _, p := range res.Paths {
			if p.Errors > 0 {
				t.Errorf("%s: %d errors, first %s", p.Path, p.Errors, p.FirstError)
			}
			name := strings.Trim(strings.SplitN(strings.TrimPrefix(p.Path, "/"), "/", 2)[0], "/")
			if name == "" {
				name = "home"
			}
			b.ReportMetric(float64(p.P99.Microseconds())/1000, name+"-p99-ms")
		}
	}
	t.Logf("%s: 50 clients, %s per page\n%s", st.Describe(), d, report.String())
}
