package review

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/awsfetch"
	"github.com/gatehouse/gatehouse/internal/awssim"
	"github.com/gatehouse/gatehouse/internal/ingest"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
	"github.com/gatehouse/gatehouse/internal/syncrun"
)

// BenchmarkCampaign is the scale benchmark of access reviews (docs/performance.md, "Access
// reviews (issue 12)"), run by hand, once:
//
//	go test -run '^$' -bench Campaign -benchtime 1x -timeout 60m ./internal/review/
//
// It syncs the simulator's large preset (seed 1; no quotas or latency: the review is
// measured, not the sync) into GATEHOUSE_REVIEW_BENCH_DIR (default
// /tmp/gatehouse-review-bench) unless large.c1z is there already (GATEHOUSE_REVIEW_BENCH_C1Z
// names another file, e.g. the ingestion benchmark's), ingests it into a fresh store
// (GATEHOUSE_BENCH_DIALECT=postgres: PostgreSQL from GATEHOUSE_TEST_DATABASE_URL), gives each
// account one of enough owners that each has about 10,000 items, then measures: the start
// of a campaign over every account and every grant (owners review), a reviewer's inbox
// (first page, and every page), a campaign page filtered to admin-level items, a bulk keep
// of one reviewer's items, and the exports (time and size; GATEHOUSE_REVIEW_BENCH_NO_EXPORT=1
// leaves them out).
func BenchmarkCampaign(b *testing.B) {
	ctx := context.Background()
	file := os.Getenv("GATEHOUSE_REVIEW_BENCH_C1Z")
	if file == "" {
		dir := os.Getenv("GATEHOUSE_REVIEW_BENCH_DIR")
		if dir == "" {
			dir = "/tmp/gatehouse-review-bench"
		}
		file = filepath.Join(dir, "large.c1z")
		if _, err := os.Stat(file); err != nil {
			syncLarge(b, dir, file)
		}
	}
	st := storetest.Open(b, store.SQLite)
	if os.Getenv("GATEHOUSE_BENCH_DIALECT") == "postgres" {
		st = storetest.Open(b, store.Postgres)
	}
	t0 := time.Now()
	if _, err := ingest.Apply(ctx, st, ingest.Input{ConnectionID: "aws", SyncID: "s1", C1ZPath: file, At: time.Now().Add(-time.Hour)}); err != nil {
		b.Fatal(err)
	}
	b.Logf("ingested %s in %s", file, time.Since(t0).Round(time.Millisecond))
	counts, err := st.InventoryCounts(ctx)
	if err != nil {
		b.Fatal(err)
	}
	accounts, _, err := st.ListResources(ctx, store.ResourceFilter{Type: "account"}, store.Page{Size: store.MaxPageSize})
	if err != nil {
		b.Fatal(err)
	}
	sort.Slice(accounts, func(i, j int) bool { return accounts[i].ID < accounts[j].ID })
	owners := max(1, counts["grants"]/10000)
	err = st.InTx(ctx, func(tx *store.Tx) error {
		for i, a := range accounts {
			if err := tx.SetOwners(ctx, store.OwnerAccount, a.ID, []string{fmt.Sprintf("owner-%02d@example.com", i%owners)}, "bench", time.Now()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	if err := st.SetConfiguredRoles(ctx, map[string][]string{"admin@example.com": {auth.RoleAdmin}}); err != nil {
		b.Fatal(err)
	}
	svc, err := New(Config{Store: st})
	if err != nil {
		b.Fatal(err)
	}
	svc.SetQueue(&fakeQueue{})
	admin := caller("admin@example.com", auth.RoleAdmin)
	c, err := svc.CreateCampaign(ctx, admin, CampaignInput{Name: "everything", Reviewers: Reviewers{Owner: true, Fallback: []string{"fallback@example.com"}},
		Due: time.Now().Add(30 * 24 * time.Hour)})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	resetHWM()
	t0 = time.Now()
	c, err = svc.Start(ctx, admin, c.ID)
	startTime := time.Since(t0)
	if err != nil {
		b.Fatal(err)
	}
	startRSS := hwm()
	b.StopTimer()
	sort.Slice(c.ByReviewer, func(i, j int) bool { return c.ByReviewer[i].Total > c.ByReviewer[j].Total })
	b.Logf("start: %d items from %d current grants (%d accounts, %d owners) in %s, peak RSS %d MiB", c.Progress.Total, counts["grants"],
		len(accounts), owners, startTime.Round(time.Millisecond), startRSS>>20)
	b.ReportMetric(startTime.Seconds(), "start_s")
	b.ReportMetric(float64(c.Progress.Total), "items")

	// The reviewer whose share is closest to 10,000 items.
	best := c.ByReviewer[0]
	for _, r := range c.ByReviewer {
		if abs(r.Total-10000) < abs(best.Total-10000) {
			best = r
		}
	}
	rev := caller(best.Reviewer)
	median := func(n int, fn func()) time.Duration {
		var d []time.Duration
		for range n {
			t := time.Now()
			fn()
			d = append(d, time.Since(t))
		}
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		return d[n/2]
	}
	first := median(7, func() {
		items, _, err := svc.Inbox(ctx, rev, ItemQuery{})
		if err != nil || len(items) != 100 {
			b.Fatalf("inbox: %d items, %v", len(items), err)
		}
	})
	var pages, seen int
	all := median(3, func() {
		pages, seen = 0, 0
		q := ItemQuery{Page: store.Page{Size: store.MaxPageSize}}
		for {
			items, next, err := svc.Inbox(ctx, rev, q)
			if err != nil {
				b.Fatal(err)
			}
			pages++
			seen += len(items)
			if next == "" {
				break
			}
			q.Page.Token = next
		}
	})
	if seen != best.Total {
		b.Fatalf("the inbox of %s has %d items, the campaign says %d", best.Reviewer, seen, best.Total)
	}
	adminPage := median(7, func() {
		if _, _, err := svc.Items(ctx, admin, c.ID, ItemQuery{AdminOnly: true}); err != nil {
			b.Fatal(err)
		}
	})
	searchPage := median(7, func() {
		if _, _, err := svc.Items(ctx, admin, c.ID, ItemQuery{Q: "user-1"}); err != nil {
			b.Fatal(err)
		}
	})
	dashboard := median(5, func() {
		if _, err := svc.Campaign(ctx, admin, c.ID); err != nil {
			b.Fatal(err)
		}
	})
	counts1 := median(5, func() {
		if _, err := st.ReviewCampaignCounts(ctx, c.ID); err != nil {
			b.Fatal(err)
		}
	})
	counts2 := median(5, func() {
		if _, err := st.ReviewCampaignReviewerCounts(ctx, c.ID); err != nil {
			b.Fatal(err)
		}
	})
	b.Logf("progress by state %s, per reviewer %s", counts1.Round(time.Microsecond), counts2.Round(time.Microsecond))
	roles := median(7, func() {
		if r, err := svc.Roles(ctx, best.Reviewer); err != nil || len(r) != 1 {
			b.Fatalf("roles %v %v", r, err)
		}
	})
	b.Logf("inbox of %s (%d items): first page %s, all %d pages of 1,000 %s; campaign page admin-only %s, search %s; campaign with progress per reviewer %s; roles %s",
		best.Reviewer, best.Total, first.Round(time.Microsecond), pages, all.Round(time.Millisecond), adminPage.Round(time.Microsecond),
		searchPage.Round(time.Microsecond), dashboard.Round(time.Microsecond), roles.Round(time.Microsecond))
	b.ReportMetric(float64(first.Microseconds())/1000, "inbox_first_ms")

	resetHWM()
	t0 = time.Now()
	res, err := svc.DecideBulk(ctx, rev, c.ID, ItemQuery{}, DecisionInput{Decision: DecisionKeep, Reason: "quarterly review: still needed"})
	bulk := time.Since(t0)
	if err != nil || res.Decided != best.Total {
		b.Fatalf("bulk: %+v %v", res, err)
	}
	b.Logf("bulk keep of %d items in %s (%.0f items/s), peak RSS %d MiB", res.Decided, bulk.Round(time.Millisecond), float64(res.Decided)/bulk.Seconds(), hwm()>>20)
	b.ReportMetric(bulk.Seconds(), "bulk_s")
	b.ReportMetric(float64(res.Decided), "bulk_items")

	if os.Getenv("GATEHOUSE_REVIEW_BENCH_NO_EXPORT") != "" {
		return
	}
	for _, f := range []string{"csv", "json", "html"} {
		resetHWM()
		t0 = time.Now()
		ex, err := svc.Export(ctx, admin, c.ID, f)
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("export %s: %.1f MiB in %s, peak RSS %d MiB", f, float64(ex.Size)/(1<<20), time.Since(t0).Round(time.Millisecond), hwm()>>20)
		ex.Close()
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// resetHWM resets the process's resident high-water mark (Linux), so that hwm measures
// what follows.
func resetHWM() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// hwm is the process's peak resident memory in bytes (VmHWM), 0 when unknown.
func hwm() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n << 10
		}
	}
	return 0
}

// syncLarge syncs the simulator's large preset into file, without quotas or latency.
func syncLarge(b *testing.B, dir, file string) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	b.Setenv("AWS_CONFIG_FILE", "/dev/null")
	b.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	b.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	w, err := awssim.Preset("large", 1)
	if err != nil {
		b.Fatal(err)
	}
	sim := awssim.New(w, awssim.Options{})
	url, err := sim.Start("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer sim.Close()
	var cfg awsfetch.Config
	sim.Do(func(w *awssim.World) {
		cfg = awsfetch.Config{
			Region: w.Region, EndpointURL: url,
			Credentials: credentials.NewStaticCredentialsProvider(w.Connector.AccessKeyID, w.Connector.SecretAccessKey, ""),
			RoleARN:     w.Connector.RoleARN, ExternalID: w.Connector.ExternalID,
			Orgs: true, IdentityCenter: true, IdentityCenterRegion: w.SSO.Region, AllowPartial: true,
			Quotas:     awsfetch.Quotas{"iam": {}, "sts": {}, "organizations": {}, "identitycenter": {}, "sso:DescribePermissionSet": {}},
			MaxBackoff: 50 * time.Millisecond, CredentialReportPoll: 5 * time.Millisecond,
		}
	})
	t0 := time.Now()
	if _, err := syncrun.Run(context.Background(), cfg, file); err != nil {
		b.Fatal(err)
	}
	b.Logf("synced the large preset into %s in %s", file, time.Since(t0).Round(time.Second))
}
