package review

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/appimport"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// BenchmarkAppCampaign measures a review of one imported application, run by hand, once:
//
//	go test -run '^$' -bench AppCampaign -benchtime 1x ./internal/review/
//
// It imports a CSV of GATEHOUSE_APP_REVIEW_BENCH_ROWS grants (default 20,000: one per user,
// over 50 resources with 3 entitlements each) into a fresh store
// (GATEHOUSE_BENCH_DIALECT=postgres: PostgreSQL), then times the start of a campaign over
// the application (owner reviews), the owner's revoke of 1% of the items one by one (each an
// owner task), and the import without those grants with its verification (AfterApply), which
// must mark exactly them remediated.
func BenchmarkAppCampaign(b *testing.B) {
	ctx := context.Background()
	rows := 20000
	if v, err := strconv.Atoi(os.Getenv("GATEHOUSE_APP_REVIEW_BENCH_ROWS")); err == nil && v > 0 {
		rows = v
	}
	st := storetest.Open(b, store.SQLite)
	if os.Getenv("GATEHOUSE_BENCH_DIALECT") == "postgres" {
		st = storetest.Open(b, store.Postgres)
	}
	ck := &clock{t: time.Now().UTC().Add(-time.Hour).Truncate(time.Millisecond)}
	svc, err := New(Config{Store: st, Now: ck.Now})
	if err != nil {
		b.Fatal(err)
	}
	svc.SetQueue(&fakeQueue{})
	var verify time.Duration
	apps, err := appimport.New(appimport.Config{Store: st, DataDir: b.TempDir(), Parse: appimport.ParseFiles, Now: ck.Now,
		AfterApply: func(ctx context.Context, appID, syncID string) error {
			t := time.Now()
			defer func() { verify = time.Since(t) }()
			return svc.AfterIngest(ctx, appID, syncID)
		}})
	if err != nil {
		b.Fatal(err)
	}
	app, err := apps.CreateApplication(ctx, "admin@example.com", "", appimport.AppInput{Name: "Payroll", Owner: "owner@example.com"})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := apps.AttachImport(ctx, "admin@example.com", "", app.ID, appimport.ImportInput{DatasourceID: "ds_1", Files: []string{"payroll.csv"}}); err != nil {
		b.Fatal(err)
	}
	file := func(skip map[int]bool) string {
		var sb strings.Builder
		sb.WriteString("User ID,Email Address,Full Name,User Status,Last Login,Resource Type,Resource Name,Entitlement\n")
		for i := range rows {
			if skip[i] {
				continue
			}
			fmt.Fprintf(&sb, "u%06d,user%06d@example.com,User %d,enabled,2026-01-%02dT09:00:00Z,group,Group %02d,%s\n",
				i, i, i, 1+i%28, i%50, []string{"member", "admin", "viewer"}[i%3])
		}
		return sb.String()
	}
	version := 0
	upload := func(body string) (*store.AppRun, time.Duration) {
		version++
		ck.Add(time.Minute)
		t := time.Now()
		v := strconv.Itoa(version)
		if err := apps.OnObject(ctx, "ds_1", appimport.Object{Key: "payroll.csv", VersionID: v, ETag: v, Size: int64(len(body)), ReadAt: ck.Now()},
			strings.NewReader(body)); err != nil {
			b.Fatal(err)
		}
		run, err := st.LatestAppRun(ctx, app.ID)
		if err != nil || run.State != store.RunApplied {
			b.Fatalf("import %s: %v %+v", v, err, run)
		}
		return run, time.Since(t)
	}
	_, took := upload(file(nil))
	b.Logf("imported %d grants in %s", rows, took.Round(time.Millisecond))
	for b.Loop() {
		t := time.Now()
		c, err := svc.CreateCampaign(ctx, admin, CampaignInput{Name: "payroll", Scope: Scope{Applications: []string{app.ID}},
			Reviewers: Reviewers{Owner: true}, Due: ck.Now().Add(14 * 24 * time.Hour)})
		if err != nil {
			b.Fatal(err)
		}
		if c, err = svc.Start(ctx, admin, c.ID); err != nil {
			b.Fatal(err)
		}
		b.Logf("started a campaign of %d items in %s", c.Progress.Total, time.Since(t).Round(time.Millisecond))
		owner := caller("owner@example.com")
		skip := map[int]bool{}
		t = time.Now()
		for i := 0; i < rows; i += 100 {
			ent := []string{"member", "admin", "viewer"}[i%3]
			id := itemID(app.ID, appimport.GrantID(app.ID, "group", fmt.Sprintf("Group %02d", i%50), ent, fmt.Sprintf("u%06d", i)), ViaDirect)
			if _, err := svc.Decide(ctx, owner, c.ID, id, DecisionInput{Decision: DecisionRevoke, Reason: "bench"}); err != nil {
				b.Fatal(err)
			}
			skip[i] = true
		}
		b.Logf("revoked %d items one by one (owner tasks) in %s", len(skip), time.Since(t).Round(time.Millisecond))
		run, took := upload(file(skip))
		c, err = svc.Campaign(ctx, admin, c.ID)
		if err != nil {
			b.Fatal(err)
		}
		if c.Progress.Remediated != len(skip) || c.Progress.TaskOpen != 0 {
			b.Fatalf("after the import %s: %+v", run.ID, c.Progress)
		}
		b.Logf("the import without them took %s, of which the verification %s: %d remediated", took.Round(time.Millisecond),
			verify.Round(time.Millisecond), c.Progress.Remediated)
	}
}
