package findings_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/gatehouse/gatehouse/internal/awsfetch"
	"github.com/gatehouse/gatehouse/internal/awssim"
	"github.com/gatehouse/gatehouse/internal/findings"
	"github.com/gatehouse/gatehouse/internal/ingest"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
	"github.com/gatehouse/gatehouse/internal/syncrun"
)

// BenchmarkFindingsLarge is the cost of findings on the simulator's large preset (seed 1),
// run by hand, once (docs/findings.md, "Cost"):
//
//	go test -run '^$' -bench FindingsLarge -benchtime 1x -timeout 30m ./internal/findings/
//
// It syncs the preset (the simulator's default quotas and latency; the client's pacing
// off, as the other server benchmarks do), ingests the file into a fresh store
// (GATEHOUSE_BENCH_DIALECT=postgres: PostgreSQL from GATEHOUSE_TEST_DATABASE_URL), then
// judges the findings twice: the first sync (every finding opened) and the same sync
// again (nothing changes: the steady state of a sync that finds what the last one did).
// It reports the sync's time, the AWS calls the findings added (GetAccountPasswordPolicy,
// one per synced account; the root user's MFA and keys come from calls the sync already
// made), the findings' time and count, and the heap.
func BenchmarkFindingsLarge(b *testing.B) {
	ctx := context.Background()
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
	file := filepath.Join(b.TempDir(), "large.c1z")
	t0 := time.Now()
	res, err := syncrun.Run(ctx, cfg, file)
	if err != nil {
		b.Fatal(err)
	}
	fetchAndWrite := time.Since(t0)
	var calls, policyCalls int64
	for _, o := range res.Fetch.Operations {
		calls += o.Calls
		if o.Operation == "GetAccountPasswordPolicy" {
			policyCalls += o.Calls
		}
	}
	st := storetest.Open(b, store.SQLite)
	if os.Getenv("GATEHOUSE_BENCH_DIALECT") == "postgres" {
		st = storetest.Open(b, store.Postgres)
	}
	var skipped []ingest.SkippedAccount
	for _, s := range res.Fetch.Skipped {
		skipped = append(skipped, ingest.SkippedAccount{AccountID: s.ID, Reason: s.Reason})
	}
	t1 := time.Now()
	if _, err := ingest.Apply(ctx, st, ingest.Input{ConnectionID: "aws", SyncID: "s1", C1ZPath: file, At: time.Now(), Skipped: skipped}); err != nil {
		b.Fatal(err)
	}
	ingestTook := time.Since(t1)
	svc, err := findings.New(findings.Config{Store: st})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	first, err := svc.Evaluate(ctx, "aws", "s1")
	if err != nil {
		b.Fatal(err)
	}
	again, err := svc.Evaluate(ctx, "aws", "s1")
	if err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.Logf("large preset: sync (fetch + write) %s, %d AWS calls of which %d GetAccountPasswordPolicy (the findings' only extra calls); ingest %s",
		fetchAndWrite.Round(time.Millisecond), calls, policyCalls, ingestTook.Round(time.Millisecond))
	b.Logf("findings: %d judged; first evaluation %s (opened %d: %d fail, %d unknown); again %s (unchanged %d)",
		first.Findings, first.Took.Round(time.Millisecond), first.Applied.Opened, first.Applied.Statuses[store.FindingFail],
		first.Applied.Statuses[store.FindingUnknown], again.Took.Round(time.Millisecond), again.Applied.Unchanged)
	b.Logf("first: read %s, judge %s, write %s; again: read %s, judge %s, write %s; per control %v",
		first.Read.Round(time.Millisecond), first.Judge.Round(time.Millisecond), first.Write.Round(time.Millisecond),
		again.Read.Round(time.Millisecond), again.Judge.Round(time.Millisecond), again.Write.Round(time.Millisecond), first.PerControl)
	b.Logf("findings as a share of the sync: %.1f%% (first), %.1f%% (again); heap in use %d MiB",
		100*first.Took.Seconds()/(fetchAndWrite+ingestTook).Seconds(), 100*again.Took.Seconds()/(fetchAndWrite+ingestTook).Seconds(),
		ms.HeapInuse>>20)
}

// BenchmarkUnusedAccessLarge is the cost of the service last accessed reads on the large
// preset (seed 1), run by hand, once (docs/performance.md):
//
//	go test -run '^$' -bench UnusedAccessLarge -benchtime 1x -timeout 30m ./internal/findings/
//
// Two syncs with the default budget (50 jobs per account): the first starts jobs, the
// second collects them (the simulator's jobs complete at once) and starts the next. It
// reports each sync's GenerateServiceLastAccessedDetails and GetServiceLastAccessedDetails
// calls against the sync's other calls, and the fetch times.
func BenchmarkUnusedAccessLarge(b *testing.B) {
	ctx := context.Background()
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
	plan := &awsfetch.LastAccessPlan{Known: map[string]awsfetch.LastAccessKnown{}}
	b.ResetTimer()
	for n := 1; n <= 2; n++ {
		c := cfg
		c.LastAccess = plan
		t0 := time.Now()
		snap, stats, err := awsfetch.Fetch(ctx, c)
		if err != nil {
			b.Fatal(err)
		}
		took := time.Since(t0)
		var calls, starts, gets int64
		for _, o := range stats.Operations {
			calls += o.Calls
			switch o.Operation {
			case "GenerateServiceLastAccessedDetails":
				starts += o.Calls
			case "GetServiceLastAccessedDetails":
				gets += o.Calls
			}
		}
		entities, judged, unread := 0, 0, 0
		for _, a := range snap.Accounts {
			if a.IAM == nil {
				continue
			}
			entities += len(a.IAM.Users) + len(a.IAM.Roles)
			for _, r := range a.IAM.LastAccess {
				switch r.Kind {
				case "started":
					plan.Known[r.EntityARN] = awsfetch.LastAccessKnown{JobID: r.JobID}
				case "completed":
					plan.Known[r.EntityARN] = awsfetch.LastAccessKnown{CompletedAt: r.CompletedAt}
					judged++
				case "unread", "failed":
					unread++
				}
			}
		}
		b.Logf("sync %d: fetch %s, %d AWS calls of which %d GenerateServiceLastAccessedDetails and %d GetServiceLastAccessedDetails; %d users and roles in %d synced accounts, %d collected, %d unread",
			n, took.Round(time.Millisecond), calls, starts, gets, entities, stats.Synced, judged, unread)
	}
}
