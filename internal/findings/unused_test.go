package findings_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/gatehouse/gatehouse/internal/awsfetch"
	"github.com/gatehouse/gatehouse/internal/awssim"
	"github.com/gatehouse/gatehouse/internal/connector"
	"github.com/gatehouse/gatehouse/internal/findings"
	"github.com/gatehouse/gatehouse/internal/ingest"
	"github.com/gatehouse/gatehouse/internal/jobs"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// gh.unused_services over syncs, as the server runs them (jobs.LastAccessPlan before the
// fetch, store.ApplyLastAccess after it): with a budget of 2 jobs per account, the first
// sync starts 2 jobs per account and judges nothing but unknown; the second (an hour
// later: the jobs are done) collects them, starts the rest, and those findings become
// pass or fail exactly as testdata/unused.yaml says; the third, with
// GetServiceLastAccessedDetails throttled in the management account, leaves the pending
// entities unknown with the reason (never "unused") and keeps their jobs, which the
// fourth collects. The calls are counted: never more starts than the budget.
func TestUnusedServicesOverSyncs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w, err := awssim.LoadFixture(filepath.Join("testdata", "unused.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		now := fixtureNow
		sim := awssim.New(w, awssim.Options{Now: func() time.Time { return now }, AccessJobDelay: 30 * time.Minute})
		url, err := sim.Start("127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = sim.Close() })
		var cfg awsfetch.Config
		sim.Do(func(w *awssim.World) {
			cfg = awsfetch.Config{
				Region: w.Region, EndpointURL: url,
				Credentials: credentials.NewStaticCredentialsProvider(w.Connector.AccessKeyID, w.Connector.SecretAccessKey, ""),
				RoleARN:     w.Connector.RoleARN, ExternalID: w.Connector.ExternalID, Orgs: true,
				Quotas:     awsfetch.Quotas{"iam": {}, "sts": {}, "organizations": {}},
				MaxBackoff: 5 * time.Millisecond, CredentialReportPoll: 5 * time.Millisecond, MaxAttempts: 3,
			}
		})
		svc, err := findings.New(findings.Config{Store: st, Options: findings.Options{UnusedServices: true}})
		if err != nil {
			t.Fatal(err)
		}
		calls := func() map[string]int64 {
			out := map[string]int64{}
			for _, oc := range sim.Counters().Snapshot() {
				out[oc.Operation] = oc.Calls
			}
			return out
		}
		sync := func(id string) map[string]store.Finding {
			t.Helper()
			sim.Counters().Reset()
			plan, err := jobs.LastAccessPlan(ctx, st, conn, jobs.LastAccessSettings{Budget: 2})
			if err != nil {
				t.Fatal(err)
			}
			plan.Now = func() time.Time { return now }
			c := cfg
			c.LastAccess = plan
			snap, _, err := awsfetch.Fetch(ctx, c)
			if err != nil {
				t.Fatalf("sync %s: %v", id, err)
			}
			if err := st.ApplyLastAccess(ctx, conn, id, jobs.LastAccessUpdates(snap)); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), id+".c1z")
			if _, err := connector.WriteC1Z(ctx, connector.NewFromSnapshot(snap), path); err != nil {
				t.Fatal(err)
			}
			if _, err := ingest.Apply(ctx, st, ingest.Input{ConnectionID: conn, SyncID: id, C1ZPath: path, At: now}); err != nil {
				t.Fatal(err)
			}
			if _, err := svc.Evaluate(ctx, conn, id); err != nil {
				t.Fatal(err)
			}
			fs, err := st.ListFindings(ctx, store.FindingFilter{ConnectionID: conn, Control: findings.UnusedServices.ID})
			if err != nil {
				t.Fatal(err)
			}
			out := map[string]store.Finding{}
			for _, f := range fs {
				out[f.Resource] = f
			}
			return out
		}
		arn := func(account, kind, name string) string { return "arn:aws:iam::" + account + ":" + kind + "/" + name }
		active, app, fresh := arn(mgmtID, "user", "active"), arn(mgmtID, "role", "app"), arn(mgmtID, "role", "fresh")
		connRole, operator := arn(mgmtID, "role", "GatehouseConnector"), arn(mgmtID, "user", "gatehouse-operator")
		old, member, oaar := arn(prodID, "user", "old"), arn(prodID, "role", "GatehouseMember"), arn(prodID, "role", "OrganizationAccountAccessRole")
		all := []string{active, app, fresh, connRole, operator, old, member, oaar}
		// The final verdicts (the fixture's; "" where only "judged" is asserted: the
		// simulator's own roles and operator user).
		want := map[string]struct{ status, reason string }{
			active: {"pass", "no service unused for 90 days: 2 of the 2 services its policies grant used in that time"},
			app:    {"fail", "2 of the 3 services its policies grant not used in 90 days: dynamodb, sqs"},
			fresh:  {"pass", "no service unused for 90 days: 0 of the 1 service its policies grant used in that time, 1 not used yet by a role created 2026-02-20T00:00:00Z, less than 90 days before the sync"},
			old:    {"fail", "10 of the 11 services its policies grant not used in 90 days: cloudwatch, dynamodb, ec2, iam, kms, lambda, logs, s3, sso, support"},
		}
		const generating = "are being generated (job started at "
		check := func(name string, fs map[string]store.Finding, judged, pending []string) {
			t.Helper()
			if len(fs) != len(all) {
				t.Fatalf("%s: %d findings, want %d", name, len(fs), len(all))
			}
			isJudged, isPending := map[string]bool{}, map[string]bool{}
			for _, r := range judged {
				isJudged[r] = true
			}
			for _, r := range pending {
				isPending[r] = true
			}
			for _, r := range all {
				f := fs[r]
				switch {
				case isJudged[r]:
					w := want[r]
					if f.Status == store.FindingUnknown || (w.status != "" && (f.Status != w.status || f.Reason != w.reason)) {
						t.Errorf("%s %s: %s %q, want %s %q", name, r, f.Status, f.Reason, orDash(w.status), w.reason)
					}
				case isPending[r]:
					if f.Status != store.FindingUnknown || !strings.Contains(f.Reason, generating) {
						t.Errorf("%s %s: %s %q, want a job being generated", name, r, f.Status, f.Reason)
					}
				default:
					if f.Status != store.FindingUnknown || f.Reason != "the service last accessed details of "+r+" have not been read yet" {
						t.Errorf("%s %s: %s %q, want not read yet", name, r, f.Status, f.Reason)
					}
				}
			}
		}
		wantCalls := func(name string, starts, gets int64) {
			t.Helper()
			got := calls()
			if got["GenerateServiceLastAccessedDetails"] != starts || got["GetServiceLastAccessedDetails"] != gets {
				t.Fatalf("%s calls: %d starts, %d gets; want %d and %d", name, got["GenerateServiceLastAccessedDetails"],
					got["GetServiceLastAccessedDetails"], starts, gets)
			}
		}

		// Sync 1: 2 jobs per account (never read: by ARN), each looked at once more at the
		// end of its account's read (in the same role session); they take 30 minutes, so
		// none is collected.
		s1 := sync("s1")
		wantCalls("sync 1", 4, 4)
		check("sync 1", s1, nil, []string{connRole, app, member, oaar})
		if f := s1[app]; f.Reason != "the service last accessed details of "+app+" are being generated (job started at 2026-03-01T00:00:00Z); the next sync collects them" ||
			f.Evidence["job_started_at"] != "2026-03-01T00:00:00Z" {
			t.Errorf("sync 1 app: %q %v", f.Reason, f.Evidence)
		}

		// Sync 2, an hour later (the jobs took 30 minutes): the 4 are collected and
		// judged; the next 2 of the management account and the last of dev start (and are
		// looked at once: 4 + 3 gets).
		now = now.Add(time.Hour)
		s2 := sync("s2")
		wantCalls("sync 2", 3, 4+3)
		check("sync 2", s2, []string{connRole, app, member, oaar}, []string{fresh, active, old})
		f := s2[app]
		unused, _ := f.Evidence["unused_services"].([]any)
		if len(unused) != 2 || unused[0].(map[string]any)["namespace"] != "dynamodb" ||
			unused[0].(map[string]any)["last_authenticated"] != "2025-10-01T00:00:00Z" || unused[1].(map[string]any)["last_authenticated"] != nil ||
			f.Evidence["job_completed_at"] != "2026-03-01T00:30:00Z" {
			t.Errorf("app's evidence: %v", f.Evidence)
		}
		if !strings.HasPrefix(f.Fix, "Remove the unused services") {
			t.Errorf("app's fix %q", f.Fix)
		}

		// Sync 3: GetServiceLastAccessedDetails throttled in the management account past
		// the retries (3 attempts each). Its two pending entities stay unknown with why,
		// never "unused", and keep their jobs; dev's is collected; the management
		// account's last entity gets its job, whose look at the end is throttled too (it
		// keeps its job for the next sync).
		sim.Do(func(w *awssim.World) {
			w.Accounts[mgmtID].Faults = map[string]awssim.Fault{"GetServiceLastAccessedDetails": awssim.FaultThrottle}
		})
		now = now.Add(time.Hour)
		s3 := sync("s3")
		wantCalls("sync 3", 1, 2*3+1+3)
		for _, r := range []string{fresh, active} {
			if f := s3[r]; f.Status != store.FindingUnknown || !strings.HasPrefix(f.Reason, "the service last accessed details of "+r+
				" could not be read: IAM GetServiceLastAccessedDetails failed 3 times: Throttling: Rate exceeded") {
				t.Errorf("sync 3 %s: %s %q", r, f.Status, f.Reason)
			}
		}
		check("sync 3", map[string]store.Finding{connRole: s3[connRole], app: s3[app], member: s3[member], oaar: s3[oaar], old: s3[old],
			operator: s3[operator], fresh: s2[fresh], active: s2[active]}, []string{connRole, app, member, oaar, old}, []string{operator, fresh, active})

		// Sync 4: the throttling is over; the kept jobs and the last one are collected.
		sim.Do(func(w *awssim.World) { w.Accounts[mgmtID].Faults = nil })
		now = now.Add(time.Hour)
		s4 := sync("s4")
		wantCalls("sync 4", 0, 3)
		check("sync 4", s4, all, nil)
	})
}
