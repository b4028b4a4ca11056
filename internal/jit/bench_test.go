package jit

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/awsfetch"
	"github.com/gatehouse/gatehouse/internal/awssim"
	"github.com/gatehouse/gatehouse/internal/jobs"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// The benchmarks of just-in-time access run by hand (docs/performance.md, "Just-in-time
// access"), once each (-benchtime 1x), on the simulator's large organization with AWS's
// quotas and the simulator's latency model, with the provisioner's and the sessions'
// production settings (status polled from 1 s, client-side pacing at AWS's quotas):
//
//	go test -run '^$' -bench 'RevocationStorm|GrantLatency' -benchtime 1x ./internal/jit/
//
// GATEHOUSE_BENCH_DIALECT=postgres runs them on PostgreSQL (GATEHOUSE_TEST_DATABASE_URL).

// benchReplica is one replica on the store, against the simulator, as the server runs it.
func benchReplica(b *testing.B, st *store.Store, sim *awssim.Sim) *Service {
	info := sim.Info()
	cfg := simConfig(info)
	cfg.Quotas = nil // the sessions pace at AWS's quotas, as in production
	svc, err := New(Config{Store: st, FetchConfig: func(context.Context, string) (awsfetch.Config, error) { return cfg, nil }})
	if err != nil {
		b.Fatal(err)
	}
	j, err := jobs.New(jobs.Config{Store: st, Connections: noConnections{}, Extensions: []jobs.Extension{svc.Extension()}, DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	svc.SetQueue(j)
	ctx := context.Background()
	if err := j.Start(ctx); err != nil {
		b.Fatal(err)
	}
	stop := svc.Start(ctx)
	b.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = j.Stop(sctx)
		_ = stop(sctx)
	})
	return svc
}

func benchStore(b *testing.B) *store.Store {
	if os.Getenv("GATEHOUSE_BENCH_DIALECT") == "postgres" {
		return storetest.Open(b, store.Postgres)
	}
	return storetest.Open(b, store.SQLite)
}

// benchSim serves the large organization with AWS's quotas and the latency model.
func benchSim(b *testing.B, opts awssim.Options) (*awssim.Sim, *awssim.World) {
	b.Setenv("AWS_CONFIG_FILE", "/dev/null")
	b.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	b.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	w, err := awssim.PresetAt("large", 1, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	// The connector holds what `gatehouse setup aws --provisioning` generates.
	w.SetConnectorPolicy(awssim.GeneratedConnectorPolicy(true))
	opts.Now = time.Now
	sim := awssim.New(w, opts)
	if _, err := sim.Start("127.0.0.1:0"); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = sim.Close() })
	return sim, w
}

// freeTargets picks n user assignments of the large organization that do not exist yet.
func freeTargets(sim *awssim.Sim, n int) []Target {
	var out []Target
	sim.Do(func(w *awssim.World) {
		var accounts []string
		for id, a := range w.Accounts {
			if a.Status == "ACTIVE" && id != w.ManagementAccountID {
				accounts = append(accounts, id)
			}
		}
		sort.Strings(accounts)
		for i := 0; len(out) < n && i < len(w.SSO.Users)*4; i++ {
			u := w.SSO.Users[i%len(w.SSO.Users)]
			ps := w.SSO.PermissionSets[(i*7)%len(w.SSO.PermissionSets)]
			acct := accounts[(i*13)%len(accounts)]
			a := awssim.Assignment{AccountID: acct, PermissionSetARN: ps.ARN, PrincipalType: "USER", PrincipalID: u.ID}
			dup := false
			for _, t := range out {
				dup = dup || (t.AccountID == acct && t.PermissionSetARN == ps.ARN && t.PrincipalID == u.ID)
			}
			if dup || w.SSO.HasAssignment(a) {
				continue
			}
			psID := ps.ARN[strings.LastIndex(ps.ARN, "/")+1:]
			out = append(out, Target{ConnectionID: simConn, EntitlementID: "account:" + acct + ":" + psID, Kind: KindAccountAssignment,
				AccountID: acct, PermissionSetARN: ps.ARN, PermissionSetID: psID, PermissionSetName: ps.Name, PrincipalID: u.ID, PrincipalName: u.UserName})
		}
	})
	return out
}

// BenchmarkRevocationStorm: 1,000 active leases, their assignments in AWS, all ending within
// the same minute. Reports the latest revoke's lateness (AWS's deletion done, after the
// lease's end), the median, the creations and calls, and AWS's throttles.
func BenchmarkRevocationStorm(b *testing.B) {
	const n = 1000
	st := benchStore(b)
	sim, _ := benchSim(b, awssim.DefaultOptions())
	targets := freeTargets(sim, n)
	if len(targets) != n {
		b.Fatalf("found %d free assignments, want %d", len(targets), n)
	}
	sim.Do(func(w *awssim.World) {
		for _, t := range targets {
			w.AddAssignment(t.AccountID, t.PermissionSetARN, "USER", t.PrincipalID)
		}
	})
	svc := benchReplica(b, st, sim)
	ctx := context.Background()
	// The leases started an hour ago; they end over one minute from 20 s from now.
	now := time.Now()
	first := now.Add(20 * time.Second)
	ends := map[string]time.Time{} // access key -> end
	for i := 0; i < n; i += 100 {
		err := st.InTx(ctx, func(tx *store.Tx) error {
			for k := i; k < min(i+100, n); k++ {
				t := targets[k]
				start, end := now.Add(-time.Hour), first.Add(time.Duration(k)*time.Minute/n)
				req := &Request{ID: fmt.Sprintf("req_storm%015d", k), State: StateActive, Requester: t.PrincipalName, Target: t,
					Reason: "storm", Duration: end.Sub(start), CreatedAt: start, UpdatedAt: start, Rule: "accounts",
					Policy: PolicySnapshot{Name: "test", Doc: json.RawMessage(`{"name":"test"}`)}}
				row, err := toRow(req)
				if err != nil {
					return err
				}
				if err := tx.InsertAccessRequest(ctx, row); err != nil {
					return err
				}
				target, _ := json.Marshal(t)
				l := &store.Lease{ID: fmt.Sprintf("lease_storm%015d", k), RequestID: req.ID, Requester: t.PrincipalName, ConnectionID: simConn,
					AccessKey: t.AccessKey(), Target: string(target), State: store.LeaseActive, Duration: end.Sub(start),
					CreatedAt: start, UpdatedAt: start, StartsAt: &start, EndsAt: &end, RemindedAt: &start, Attempts: 1}
				if err := svc.enqueueTx(ctx, tx, l, end); err != nil {
					return err
				}
				if err := tx.InsertLease(ctx, l); err != nil {
					return err
				}
				ends[l.AccessKey] = end
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	svc.wakeSweeper()
	sim.Counters().Reset()
	b.ResetTimer()
	deadline := time.Now().Add(30 * time.Minute)
	for {
		open, _, err := st.ListLeases(ctx, store.LeaseFilter{States: []string{store.LeaseActive, store.LeaseEnding}}, store.Page{Size: 1})
		if err != nil {
			b.Fatal(err)
		}
		if len(open) == 0 {
			break
		}
		if time.Now().After(deadline) {
			b.Fatal("the storm was not over in 30 minutes")
		}
		time.Sleep(time.Second)
	}
	b.StopTimer()
	var late []time.Duration
	var deletions []time.Time
	sim.Do(func(w *awssim.World) {
		for _, op := range w.SSO.Operations {
			if !op.Delete || op.Status != "SUCCEEDED" {
				continue
			}
			a := op.Assignment
			key := Target{Kind: KindAccountAssignment, AccountID: a.AccountID, PermissionSetID: a.PermissionSetARN[strings.LastIndex(a.PermissionSetARN, "/")+1:], PrincipalID: a.PrincipalID}.AccessKey()
			if end, ok := ends[key]; ok {
				late = append(late, op.DoneAt.Sub(end))
				deletions = append(deletions, op.DoneAt)
			}
		}
		for _, t := range targets {
			if w.SSO.HasAssignment(awssim.Assignment{AccountID: t.AccountID, PermissionSetARN: t.PermissionSetARN, PrincipalType: "USER", PrincipalID: t.PrincipalID}) {
				b.Errorf("%s still has %s in %s", t.PrincipalName, t.PermissionSetName, t.AccountID)
			}
		}
	})
	if len(late) != n {
		b.Fatalf("%d deletions for %d leases", len(late), n)
	}
	sort.Slice(late, func(i, j int) bool { return late[i] < late[j] })
	var ic, throttled int64
	var byOp []string
	for _, c := range sim.Counters().Snapshot() {
		if c.Service == "sso" || c.Service == "identitystore" {
			ic += c.Calls
			throttled += c.Throttled
			byOp = append(byOp, fmt.Sprintf("%s %d", c.Operation, c.Calls))
		}
	}
	b.Logf("Identity Center calls by operation: %s", strings.Join(byOp, ", "))
	b.ReportMetric(late[len(late)-1].Seconds(), "latest_late_s")
	b.ReportMetric(late[len(late)/2].Seconds(), "p50_late_s")
	b.ReportMetric(float64(ic), "ic_calls")
	b.ReportMetric(float64(throttled), "throttled")
	b.Logf("%d leases ending %s..%s: all revoked; lateness p50 %s, p99 %s, latest %s; %d Identity Center calls (%.1f per revoke), %d throttled",
		n, first.Format("15:04:05"), first.Add(time.Minute).Format("15:04:05"), late[len(late)/2].Round(time.Millisecond),
		late[len(late)*99/100].Round(time.Millisecond), late[len(late)-1].Round(time.Millisecond), ic, float64(ic)/n, throttled)
}

// BenchmarkGrantLatency: 100 approvals arriving one a second on the large organization
// (Identity Center creates at most 10 assignments at once, 2 to 5 s each: about 3 a second
// at most);
// reports approved-to-usable (AWS's creation done) and approved-to-active (Gatehouse
// confirmed it) p50 and p99, with assignment operations taking 2 to 5 s.
func BenchmarkGrantLatency(b *testing.B) {
	const n = 100
	st := benchStore(b)
	opts := awssim.DefaultOptions()
	opts.AssignmentJitter = 3 * time.Second
	sim, _ := benchSim(b, opts)
	targets := freeTargets(sim, n+1)
	svc := benchReplica(b, st, sim)
	env := &simEnv{svc: svc, st: st, sim: sim} // for operations()
	ctx := context.Background()
	approve := func(t Target) (*Request, time.Time) {
		req := &Request{ID: "req_" + leaseID()[6:], State: StateApproved, Requester: t.PrincipalName, Target: t, Reason: "bench",
			Duration: time.Hour, CreatedAt: time.Now(), UpdatedAt: time.Now(), Rule: "accounts",
			Policy: PolicySnapshot{Name: "test", Doc: json.RawMessage(`{"name":"test"}`)}}
		err := st.InTx(ctx, func(tx *store.Tx) error {
			row, err := toRow(req)
			if err != nil {
				return err
			}
			if err := tx.InsertAccessRequest(ctx, row); err != nil {
				return err
			}
			return svc.grantTx(ctx, tx, req)
		})
		if err != nil {
			b.Fatal(err)
		}
		return req, time.Now()
	}
	// A first grant warms the provisioner's caches (instance, permission sets).
	warmAt := time.Now()
	warm, _ := approve(targets[n])
	for {
		l, err := st.LeaseOfRequest(ctx, warm.ID)
		if err != nil {
			b.Fatal(err)
		}
		if l.State == store.LeaseActive {
			break
		}
		if l.State != store.LeasePending {
			b.Fatalf("the first grant: lease %s (%s)", l.State, l.LastError)
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.Logf("first grant (cold caches) done in %s", time.Since(warmAt).Round(time.Millisecond))
	b.ResetTimer()
	approvedAt := map[string]time.Time{}
	for _, t := range targets[:n] {
		r, at := approve(t)
		approvedAt[r.ID] = at
		time.Sleep(time.Second)
	}
	var toActive, toUsable []time.Duration
	deadline := time.Now().Add(5 * time.Minute)
	for id, at := range approvedAt {
		for {
			l, err := st.LeaseOfRequest(ctx, id)
			if err != nil {
				b.Fatal(err)
			}
			if l.State == store.LeaseActive {
				toActive = append(toActive, l.StartsAt.Sub(at))
				var tg Target
				_ = json.Unmarshal([]byte(l.Target), &tg)
				for _, op := range env.operations(tg) {
					if !op.Delete && op.Status == "SUCCEEDED" {
						toUsable = append(toUsable, op.DoneAt.Sub(at))
					}
				}
				break
			}
			if l.State == store.LeaseFailed || time.Now().After(deadline) {
				b.Fatalf("lease of %s: %s (%s)", id, l.State, l.LastError)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	b.StopTimer()
	pct := func(d []time.Duration, p int) time.Duration {
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		return d[min(len(d)-1, len(d)*p/100)]
	}
	b.ReportMetric(pct(toActive, 50).Seconds(), "p50_active_s")
	b.ReportMetric(pct(toActive, 99).Seconds(), "p99_active_s")
	b.ReportMetric(pct(toUsable, 50).Seconds(), "p50_usable_s")
	b.ReportMetric(pct(toUsable, 99).Seconds(), "p99_usable_s")
	b.Logf("%d grants: approved to usable in AWS p50 %s p99 %s; approved to active (confirmed) p50 %s p99 %s",
		n, pct(toUsable, 50).Round(time.Millisecond), pct(toUsable, 99).Round(time.Millisecond),
		pct(toActive, 50).Round(time.Millisecond), pct(toActive, 99).Round(time.Millisecond))
}
