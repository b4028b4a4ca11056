package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"go.uber.org/zap/zaptest"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/awsfetch"
	"github.com/gatehouse/gatehouse/internal/awssim"
	"github.com/gatehouse/gatehouse/internal/jobs"
	"github.com/gatehouse/gatehouse/internal/metrics"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// conns is a fixed set of connections for the jobs.
type conns struct {
	mu    sync.Mutex
	list  []jobs.Connection
	fetch map[string]awsfetch.Config
}

func (c *conns) ListConnections(context.Context) ([]jobs.Connection, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]jobs.Connection(nil), c.list...), nil
}

func (c *conns) FetchConfig(_ context.Context, id string) (awsfetch.Config, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cfg, ok := c.fetch[id]
	if !ok {
		return cfg, errors.New("unknown connection " + id)
	}
	return cfg, nil
}

func (c *conns) add(id string, schedule time.Duration, cfg awsfetch.Config) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fetch == nil {
		c.fetch = map[string]awsfetch.Config{}
	}
	c.list = append(c.list, jobs.Connection{ID: id, Schedule: schedule})
	c.fetch[id] = cfg
}

// startSim serves the demo organization on loopback and returns it with the fetch
// configuration of its connector (as `gatehouse sync --orgs --identity-center` with the
// simulator's credentials).
func startSim(t *testing.T, opts awssim.Options) (*awssim.Sim, awsfetch.Config) {
	t.Helper()
	w, err := awssim.Preset("demo", 1)
	if err != nil {
		t.Fatal(err)
	}
	sim := awssim.New(w, opts)
	if _, err := sim.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	info := sim.Info()
	return sim, awsfetch.Config{
		EndpointURL: info.Endpoint, Region: info.Region, RoleARN: info.RoleARN, ExternalID: info.ExternalID,
		Orgs: true, MemberRoleName: info.MemberRoleName, IdentityCenter: true,
		Credentials:          credentials.NewStaticCredentialsProvider(info.AccessKeyID, info.SecretAccessKey, ""),
		CredentialReportPoll: 50 * time.Millisecond, MaxAttempts: 2, MaxBackoff: 10 * time.Millisecond,
		// The simulator here does not throttle: pacing at AWS's quotas (DescribePermissionSet
		// at 1 per second) would only make the tests slower.
		Quotas: awsfetch.DefaultQuotas().Scaled(100),
	}
}

// ingestRecorder stands in for the inventory's ingest and records what it was given.
type ingestRecorder struct {
	mu    sync.Mutex
	calls []jobs.IngestInput
	fail  int // fail this many calls first
}

func (r *ingestRecorder) ingest(_ context.Context, in jobs.IngestInput) (any, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, in)
	if r.fail > 0 {
		r.fail--
		return nil, errors.New("injected ingest failure")
	}
	return map[string]int{"added": 1}, nil
}

func (r *ingestRecorder) inputs() []jobs.IngestInput {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]jobs.IngestInput(nil), r.calls...)
}

func newService(t *testing.T, st *store.Store, cfg jobs.Config, start bool) *jobs.Service {
	t.Helper()
	cfg.Store = st
	if cfg.Log == nil {
		cfg.Log = zaptest.NewLogger(t)
	}
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	if cfg.RetryBackoff == 0 {
		cfg.RetryBackoff = 50 * time.Millisecond
	}
	if cfg.SchedulerInterval == 0 {
		cfg.SchedulerInterval = time.Hour // tests that want the scheduler set it
	}
	s, err := jobs.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if start {
		if err := s.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := s.Stop(ctx); err != nil {
				t.Errorf("stop jobs: %v", err)
			}
		})
	}
	return s
}

// waitFinal waits for the sync to reach a final state.
func waitFinal(t *testing.T, st *store.Store, id string, within time.Duration) *store.Sync {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		sy, err := st.GetSync(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if sy.Final() {
			return sy
		}
		if time.Now().After(deadline) {
			t.Fatalf("sync %s still %s after %s (attempts %d, error %q)", id, sy.State, within, sy.Attempts, sy.Error)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// expectedSkips derives from the simulated world which accounts a sync must skip: those
// not ACTIVE, and the ACTIVE members without the member role.
func expectedSkips(sim *awssim.Sim, memberRole string) (ids []string, suspended, noRole map[string]bool) {
	suspended, noRole = map[string]bool{}, map[string]bool{}
	sim.Do(func(w *awssim.World) {
		for _, id := range w.AccountIDs() {
			a := w.Accounts[id]
			switch {
			case a.Status != "ACTIVE":
				suspended[id] = true
			case id != w.ManagementAccountID && a.Roles[memberRole] == nil:
				noRole[id] = true
			default:
				continue
			}
			ids = append(ids, id)
		}
	})
	sort.Strings(ids)
	return ids, suspended, noRole
}

func admin() *auth.Caller {
	return &auth.Caller{Email: "admin@example.com", Roles: []string{auth.RoleAdmin}, RemoteAddr: "192.0.2.7"}
}

func TestStartSyncRunsToPartialWithSkippedAccounts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		sim, fcfg := startSim(t, awssim.Options{})
		c := &conns{}
		c.add("aws", 0, fcfg)
		rec := &ingestRecorder{}
		m := metrics.New()
		dataDir := t.TempDir()
		svc := newService(t, st, jobs.Config{Connections: c, Ingest: rec.ingest, Metrics: m, DataDir: dataDir}, true)

		sy, err := svc.StartSync(ctx, admin(), "aws")
		if err != nil {
			t.Fatal(err)
		}
		if sy.State != store.SyncQueued || sy.Trigger != store.TriggerManual || sy.RequestedBy != "admin@example.com" || sy.JobID == 0 {
			t.Fatalf("started sync = %+v, want queued, manual, by admin, with a job", sy)
		}
		done := waitFinal(t, st, sy.ID, 60*time.Second)

		wantIDs, suspended, noRole := expectedSkips(sim, fcfg.MemberRoleName)
		if len(suspended) == 0 || len(noRole) == 0 {
			t.Fatalf("the demo organization should have a suspended account and one without the member role: %v %v", suspended, noRole)
		}
		if done.State != store.SyncPartial {
			t.Fatalf("state %s (error %q), want partial: an ACTIVE account has no member role", done.State, done.Error)
		}
		var gotIDs []string
		for _, sk := range done.Skipped {
			gotIDs = append(gotIDs, sk.AccountID)
			switch {
			case suspended[sk.AccountID]:
				if sk.Reason != "the account is SUSPENDED" || !strings.Contains(sk.Fix, "nothing to fix") {
					t.Errorf("suspended account %s: reason %q fix %q", sk.AccountID, sk.Reason, sk.Fix)
				}
			case noRole[sk.AccountID]:
				if sk.Reason != "cannot assume role "+fcfg.MemberRoleName ||
					!strings.HasPrefix(sk.Fix, "check, in order: the role is missing in this account") {
					t.Errorf("account %s without the member role: reason %q fix %q", sk.AccountID, sk.Reason, sk.Fix)
				}
			}
		}
		sort.Strings(gotIDs)
		if strings.Join(gotIDs, ",") != strings.Join(wantIDs, ",") {
			t.Fatalf("skipped accounts %v, want %v", gotIDs, wantIDs)
		}

		// Calls: the sync's count is the simulator's.
		var simCalls int64
		for _, oc := range sim.Counters().Snapshot() {
			simCalls += oc.Calls
		}
		if done.APICalls == 0 || done.APICalls != simCalls {
			t.Errorf("api calls %d, simulator counted %d", done.APICalls, simCalls)
		}
		if done.Attempts != 1 || done.StartedAt == nil || done.FinishedAt == nil || done.Error != "" {
			t.Errorf("finished sync %+v: want 1 attempt, start and finish times, no error", done)
		}
		if done.Progress.AccountsTotal == 0 || done.Progress.AccountsDone != done.Progress.AccountsTotal {
			t.Errorf("progress %+v: want every account done", done.Progress)
		}

		// The .c1z is kept privately where the sync says.
		want := filepath.Join(dataDir, "syncs", "aws", sy.ID+".c1z")
		if done.C1ZPath != want {
			t.Fatalf("c1z path %q, want %q", done.C1ZPath, want)
		}
		for path, mode := range map[string]os.FileMode{want: 0o600, filepath.Dir(want): 0o700} {
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != mode {
				t.Errorf("%s mode %v, want %v", path, fi.Mode().Perm(), mode)
			}
		}

		// Ingest got the file and the skipped accounts.
		in := rec.inputs()
		if len(in) != 1 || in[0].C1ZPath != want || in[0].SyncID != sy.ID || in[0].ConnectionID != "aws" || len(in[0].Skipped) != len(wantIDs) {
			t.Fatalf("ingest inputs %+v", in)
		}

		// The audit log has the start (by the admin, from their address) and the finish.
		entries, err := st.ListAudit(ctx, store.AuditFilter{Action: "sync.", Target: "sync:" + sy.ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 2 || entries[0].Action != "sync.start" || entries[0].Actor != "admin@example.com" ||
			entries[0].RemoteAddr != "192.0.2.7" || entries[1].Action != "sync.finish" || entries[1].Actor != "system" ||
			!strings.Contains(entries[1].Detail, `"state":"partial"`) {
			t.Fatalf("audit entries %+v", entries)
		}

		// Metrics counted it.
		if got := counterValue(t, m, "gatehouse_syncs_total", map[string]string{"connection": "aws", "state": "partial"}); got != 1 {
			t.Errorf("gatehouse_syncs_total{partial} = %v, want 1", got)
		}
		if got := counterValue(t, m, "gatehouse_sync_api_calls_total", map[string]string{"connection": "aws"}); got != float64(simCalls) {
			t.Errorf("gatehouse_sync_api_calls_total = %v, want %d", got, simCalls)
		}
	})
}

func TestSecondStartSyncIsRefusedWhileOneIsActive(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		// Slow calls keep the sync running long enough to ask again.
		_, fcfg := startSim(t, awssim.Options{Latency: 40 * time.Millisecond})
		fcfg.Quotas = nil // paced at AWS's quotas: the sync lasts seconds
		c := &conns{}
		c.add("aws", 0, fcfg)
		svc := newService(t, st, jobs.Config{Connections: c}, true)

		first, err := svc.StartSync(ctx, admin(), "aws")
		if err != nil {
			t.Fatal(err)
		}
		// Queued, then running: refused either way.
		if _, err := svc.StartSync(ctx, admin(), "aws"); !errors.Is(err, jobs.ErrSyncRunning) {
			t.Fatalf("second StartSync while queued: %v, want ErrSyncRunning", err)
		}
		deadline := time.Now().Add(20 * time.Second)
		for {
			sy, err := st.GetSync(ctx, first.ID)
			if err != nil {
				t.Fatal(err)
			}
			if sy.State == store.SyncRunning {
				break
			}
			if sy.Final() || time.Now().After(deadline) {
				t.Fatalf("sync is %s, want it running for this test", sy.State)
			}
			time.Sleep(20 * time.Millisecond)
		}
		_, err = svc.StartSync(ctx, nil, "aws")
		if !errors.Is(err, jobs.ErrSyncRunning) {
			t.Fatalf("StartSync while running: %v, want ErrSyncRunning", err)
		}
		if _, err := svc.StartSync(ctx, admin(), "nope"); !errors.Is(err, jobs.ErrUnknownConnection) {
			t.Fatalf("StartSync of an unknown connection: %v", err)
		}
		waitFinal(t, st, first.ID, 60*time.Second)
		list, _, err := st.ListSyncs(ctx, "aws", store.Page{})
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 1 {
			t.Fatalf("%d syncs, want only the first", len(list))
		}
		// Once it is final, a new one may start.
		if _, err := svc.StartSync(ctx, admin(), "aws"); err != nil {
			t.Fatalf("StartSync after the first finished: %v", err)
		}
	})
}

// Two starts at the same moment (two replicas, or two admins) queue one sync.
func TestConcurrentStartSyncQueuesOne(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		c := &conns{}
		c.add("aws", 0, awsfetch.Config{})
		svc := newService(t, st, jobs.Config{Connections: c}, false)
		var wg sync.WaitGroup
		var mu sync.Mutex
		var ok, refused int
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := svc.StartSync(context.Background(), admin(), "aws")
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					ok++
				case errors.Is(err, jobs.ErrSyncRunning):
					refused++
				default:
					t.Errorf("StartSync: %v", err)
				}
			}()
		}
		wg.Wait()
		if ok != 1 || refused != 7 {
			t.Fatalf("%d started, %d refused; want 1 and 7", ok, refused)
		}
		entries, err := st.ListAudit(context.Background(), store.AuditFilter{Action: "sync.start"})
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 1 {
			t.Fatalf("%d sync.start audit entries, want 1 (a refused start writes none)", len(entries))
		}
	})
}

func TestFailedFetchFailsTheSyncAndLeavesTheInventory(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		_, fcfg := startSim(t, awssim.Options{})
		fcfg.ExternalID = "wrong-external-id" // the connector role refuses it
		c := &conns{}
		c.add("aws", 0, fcfg)
		rec := &ingestRecorder{}
		dataDir := t.TempDir()
		svc := newService(t, st, jobs.Config{Connections: c, Ingest: rec.ingest, DataDir: dataDir}, true)
		sy, err := svc.StartSync(ctx, admin(), "aws")
		if err != nil {
			t.Fatal(err)
		}
		done := waitFinal(t, st, sy.ID, 60*time.Second)
		if done.State != store.SyncFailed {
			t.Fatalf("state %s, want failed", done.State)
		}
		if !strings.Contains(done.Error, "AssumeRole") || !strings.Contains(done.Error, fcfg.RoleARN) {
			t.Fatalf("error %q should name the refused AssumeRole of %s", done.Error, fcfg.RoleARN)
		}
		if done.Attempts != 1 {
			t.Errorf("attempts %d: an AWS refusal is not retried by the job (the fetch retried its calls)", done.Attempts)
		}
		if n := len(rec.inputs()); n != 0 {
			t.Fatalf("ingest called %d times after a failed fetch: the inventory must not change", n)
		}
		if done.C1ZPath != "" {
			t.Errorf("a failed sync keeps no file, got %q", done.C1ZPath)
		}
		files, _ := filepath.Glob(filepath.Join(dataDir, "syncs", "aws", "*"))
		hidden, _ := filepath.Glob(filepath.Join(dataDir, "syncs", "aws", ".*"))
		if len(files)+len(hidden) != 0 {
			t.Errorf("files left by a failed sync: %v %v", files, hidden)
		}
		entries, err := st.ListAudit(ctx, store.AuditFilter{Action: "sync.finish"})
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 1 || !strings.Contains(entries[0].Detail, `"state":"failed"`) || !strings.Contains(entries[0].Detail, "AssumeRole") {
			t.Fatalf("sync.finish entries %+v", entries)
		}
	})
}

// An attempt that fails for a reason worth retrying (here the ingest) is retried by
// River; the sync row counts the attempts and ends succeeded.
func TestFailedAttemptIsRetried(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		_, fcfg := startSim(t, awssim.Options{})
		c := &conns{}
		c.add("aws", 0, fcfg)
		rec := &ingestRecorder{fail: 1}
		m := metrics.New()
		svc := newService(t, st, jobs.Config{Connections: c, Ingest: rec.ingest, Metrics: m}, true)
		sy, err := svc.StartSync(ctx, admin(), "aws")
		if err != nil {
			t.Fatal(err)
		}
		done := waitFinal(t, st, sy.ID, 60*time.Second)
		if done.State != store.SyncPartial || done.Attempts != 2 || done.Error != "" {
			t.Fatalf("sync %s after 2 attempts, error %q (attempts %d); want partial, 2 attempts, no error", done.State, done.Error, done.Attempts)
		}
		if n := len(rec.inputs()); n != 2 {
			t.Fatalf("ingest called %d times, want 2", n)
		}
		// River's failed-job event counted the failed attempt.
		deadline := time.Now().Add(5 * time.Second)
		for counterValue(t, m, "gatehouse_job_failures_total", map[string]string{"kind": "sync"}) != 1 {
			if time.Now().After(deadline) {
				t.Fatalf("gatehouse_job_failures_total{kind=sync} = %v, want 1",
					counterValue(t, m, "gatehouse_job_failures_total", map[string]string{"kind": "sync"}))
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

// The last attempt that fails fails the sync with the error.
func TestLastFailedAttemptFailsTheSync(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		_, fcfg := startSim(t, awssim.Options{})
		c := &conns{}
		c.add("aws", 0, fcfg)
		rec := &ingestRecorder{fail: 5}
		svc := newService(t, st, jobs.Config{Connections: c, Ingest: rec.ingest, SyncAttempts: 2}, true)
		sy, err := svc.StartSync(ctx, admin(), "aws")
		if err != nil {
			t.Fatal(err)
		}
		done := waitFinal(t, st, sy.ID, 60*time.Second)
		if done.State != store.SyncFailed || done.Attempts != 2 || !strings.Contains(done.Error, "gave up after 2 attempts") ||
			!strings.Contains(done.Error, "injected ingest failure") {
			t.Fatalf("sync %s, attempts %d, error %q", done.State, done.Attempts, done.Error)
		}
		if done.C1ZPath != "" {
			t.Errorf("a failed sync records no file, got %q", done.C1ZPath)
		}
	})
}

func TestSchedulerStartsDueConnectionsOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		_, fcfg := startSim(t, awssim.Options{})
		c := &conns{}
		c.add("never", 0, fcfg)            // never synced: due now
		c.add("recent", time.Hour, fcfg)   // synced a minute ago: not due
		c.add("old", 30*time.Minute, fcfg) // synced 40 minutes ago: due
		c.add("default", 0, fcfg)          // default schedule (2h), synced 1h ago: not due
		svc := newService(t, st, jobs.Config{Connections: c, DefaultSchedule: 2 * time.Hour}, false)

		now := time.Now()
		for id, ago := range map[string]time.Duration{"recent": time.Minute, "old": 40 * time.Minute, "default": time.Hour} {
			finishedSyncAt(t, st, id, now.Add(-ago))
		}
		started, err := svc.RunScheduler(ctx, now)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, sy := range started {
			got = append(got, sy.ConnectionID)
			if sy.Trigger != store.TriggerSchedule || sy.RequestedBy != "" {
				t.Errorf("scheduled sync %+v: want trigger schedule, requested by nobody", sy)
			}
		}
		sort.Strings(got)
		if strings.Join(got, ",") != "never,old" {
			t.Fatalf("scheduler started %v, want never and old", got)
		}
		// A second round right after starts nothing: the due ones are queued now.
		again, err := svc.RunScheduler(ctx, now.Add(time.Second))
		if err != nil || len(again) != 0 {
			t.Fatalf("second round started %d (%v), want none", len(again), err)
		}
		entries, err := st.ListAudit(ctx, store.AuditFilter{Action: "sync.start", Actor: "system"})
		if err != nil || len(entries) != 2 {
			t.Fatalf("sync.start by system: %d entries (%v), want 2", len(entries), err)
		}
	})
}

// finishedSyncAt records a finished sync of the connection queued at at, as an earlier
// run would have left it.
func finishedSyncAt(t *testing.T, st *store.Store, connectionID string, at time.Time) {
	t.Helper()
	ctx := context.Background()
	sy := &store.Sync{ID: store.NewSyncID(), ConnectionID: connectionID, Trigger: store.TriggerSchedule, QueuedAt: at}
	err := st.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.InsertSync(ctx, sy); err != nil {
			return err
		}
		_, err := tx.FinishSync(ctx, sy.ID, 0, store.SyncFinish{State: store.SyncSucceeded, At: at.Add(time.Second)})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// With River's periodic job, a connection that never synced is synced at start, and a
// schedule not yet due starts nothing more however often the scheduler runs.
func TestPeriodicSchedulerSyncsANewConnectionOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		_, fcfg := startSim(t, awssim.Options{})
		c := &conns{}
		c.add("aws", time.Hour, fcfg)
		newService(t, st, jobs.Config{Connections: c, SchedulerInterval: 300 * time.Millisecond}, true)
		deadline := time.Now().Add(30 * time.Second)
		var first *store.Sync
		for first == nil {
			sy, err := st.LatestSync(ctx, "aws")
			if err == nil {
				first = sy
				break
			}
			if !errors.Is(err, store.ErrNotFound) {
				t.Fatal(err)
			}
			if time.Now().After(deadline) {
				t.Fatal("no sync started by the scheduler")
			}
			time.Sleep(50 * time.Millisecond)
		}
		if first.Trigger != store.TriggerSchedule {
			t.Fatalf("first sync trigger %q, want schedule", first.Trigger)
		}
		waitFinal(t, st, first.ID, 60*time.Second)
		time.Sleep(1500 * time.Millisecond) // several scheduler rounds
		list, _, err := st.ListSyncs(ctx, "aws", store.Page{})
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 1 {
			t.Fatalf("%d syncs after several scheduler rounds, want 1 (schedule 1h)", len(list))
		}
	})
}

func TestRetentionKeepsTheNewestFiles(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		_, fcfg := startSim(t, awssim.Options{})
		c := &conns{}
		c.add("aws", 0, fcfg)
		dataDir := t.TempDir()
		svc := newService(t, st, jobs.Config{Connections: c, DataDir: dataDir, KeepSyncs: 2}, true)
		var ids []string
		for range 4 {
			sy, err := svc.StartSync(ctx, admin(), "aws")
			if err != nil {
				t.Fatal(err)
			}
			waitFinal(t, st, sy.ID, 60*time.Second)
			ids = append(ids, sy.ID)
		}
		want := []string{
			filepath.Join(dataDir, "syncs", "aws", ids[2]+".c1z"),
			filepath.Join(dataDir, "syncs", "aws", ids[3]+".c1z"),
		}
		sort.Strings(want)
		// Retention runs right after the last sync is final: the old files go, then their
		// syncs forget them. Wait (briefly) for both.
		var problems []string
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			problems = problems[:0]
			files, err := filepath.Glob(filepath.Join(dataDir, "syncs", "aws", "*.c1z"))
			if err != nil {
				t.Fatal(err)
			}
			sort.Strings(files)
			if strings.Join(files, " ") != strings.Join(want, " ") {
				problems = append(problems, fmt.Sprintf("kept %v, want the newest two %v", files, want))
			}
			for i, id := range ids {
				sy, err := st.GetSync(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				if kept := sy.C1ZPath != ""; kept != (i >= 2) {
					problems = append(problems, fmt.Sprintf("sync %d c1z path %q", i, sy.C1ZPath))
				}
			}
			if len(problems) == 0 || time.Now().After(deadline) {
				break
			}
		}
		for _, p := range problems {
			t.Error(p)
		}
	})
}

// counterValue reads one series of a counter from the registry.
func counterValue(t *testing.T, m *metrics.Metrics, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metric:
		for _, mt := range mf.GetMetric() {
			for _, lp := range mt.GetLabel() {
				if labels[lp.GetName()] != lp.GetValue() {
					continue metric
				}
			}
			if c := mt.GetCounter(); c != nil {
				return c.GetValue()
			}
		}
	}
	return -1
}

// A shutdown in the middle of a sync puts it back to queued; the next start (or another
// replica) runs it again from the start and finishes it.
func TestShutdownMidSyncResumesAtNextStart(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		_, fcfg := startSim(t, awssim.Options{Latency: 40 * time.Millisecond})
		fcfg.Quotas = nil // paced at AWS's quotas: the sync lasts seconds
		c := &conns{}
		c.add("aws", 0, fcfg)
		dataDir := t.TempDir()
		first := newService(t, st, jobs.Config{Connections: c, DataDir: dataDir}, false)
		if err := first.Start(ctx); err != nil {
			t.Fatal(err)
		}
		sy, err := first.StartSync(ctx, admin(), "aws")
		if err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(20 * time.Second)
		for {
			cur, err := st.GetSync(ctx, sy.ID)
			if err != nil {
				t.Fatal(err)
			}
			if cur.State == store.SyncRunning && cur.Progress.APICalls > 0 {
				break
			}
			if cur.Final() || time.Now().After(deadline) {
				t.Fatalf("sync %s before the shutdown, want it running", cur.State)
			}
			time.Sleep(20 * time.Millisecond)
		}
		stopCtx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		err = first.Stop(stopCtx)
		cancel()
		if err != nil {
			t.Fatalf("stop: %v", err)
		}
		cur, err := st.GetSync(ctx, sy.ID)
		if err != nil {
			t.Fatal(err)
		}
		if cur.State != store.SyncQueued || cur.Attempts != 1 || !strings.Contains(cur.Error, "interrupted by a shutdown") {
			t.Fatalf("after the shutdown: %s, attempts %d, error %q; want queued to be retried", cur.State, cur.Attempts, cur.Error)
		}
		// The shutdown used up none of the job's attempts.
		if n := riverAttempt(t, st, sy.JobID); n != 0 {
			t.Errorf("River job attempt %d after the shutdown, want 0 (snoozed, not failed)", n)
		}
		newService(t, st, jobs.Config{Connections: c, DataDir: dataDir}, true)
		done := waitFinal(t, st, sy.ID, 60*time.Second)
		if done.State != store.SyncPartial || done.Attempts != 2 || done.Error != "" {
			t.Fatalf("after the restart: %s, attempts %d, error %q; want partial after 2 attempts", done.State, done.Attempts, done.Error)
		}
		tmp, _ := filepath.Glob(filepath.Join(dataDir, "syncs", "aws", ".*"))
		if len(tmp) != 0 {
			t.Errorf("temporary files left: %v", tmp)
		}
	})
}

// A sync whose River job is over without finishing it (discarded after the attempts ran
// out, for example a replica that died each time) is failed by the scheduler, so that it
// does not block the connection's next sync.
func TestLostSyncIsFailedByTheScheduler(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		c := &conns{}
		c.add("aws", time.Hour, awsfetch.Config{})
		m := metrics.New()
		svc := newService(t, st, jobs.Config{Connections: c, Metrics: m}, false)
		sy, err := svc.StartSync(ctx, admin(), "aws")
		if err != nil {
			t.Fatal(err)
		}
		// River gives up on the job (as its rescuer does after the last attempt).
		const q = "UPDATE river_job SET state = 'discarded', finalized_at = CURRENT_TIMESTAMP WHERE id = "
		if st.Dialect() == store.SQLite {
			_, err = st.SQLiteDB().ExecContext(ctx, q+"?", sy.JobID)
		} else {
			_, err = st.PGXPool().Exec(ctx, q+"$1", sy.JobID)
		}
		if err != nil {
			t.Fatal(err)
		}
		started, err := svc.RunScheduler(ctx, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		lost, err := st.GetSync(ctx, sy.ID)
		if err != nil {
			t.Fatal(err)
		}
		if lost.State != store.SyncFailed || !strings.Contains(lost.Error, "stopped after") {
			t.Fatalf("lost sync: %s %q, want failed saying its job stopped", lost.State, lost.Error)
		}
		// Nothing new is started (schedule 1h, and the lost sync was queued just now),
		// but a new sync is no longer refused.
		if len(started) != 0 {
			t.Fatalf("scheduler started %d syncs", len(started))
		}
		if _, err := svc.StartSync(ctx, admin(), "aws"); err != nil {
			t.Fatalf("StartSync after the lost sync was closed: %v", err)
		}
		// Counted as failed, without a duration (nobody ran it to the end).
		if got := counterValue(t, m, "gatehouse_syncs_total", map[string]string{"connection": "aws", "state": "failed"}); got != 1 {
			t.Errorf("gatehouse_syncs_total{failed} = %v, want 1", got)
		}
		mfs, err := m.Registry.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() == "gatehouse_sync_duration_seconds" {
				t.Errorf("a lost sync observed a duration: %v", mf)
			}
		}
	})
}

// riverAttempt reads the attempt count of a River job.
func riverAttempt(t *testing.T, st *store.Store, jobID int64) int {
	t.Helper()
	var n int
	var err error
	const q = "SELECT attempt FROM river_job WHERE id = "
	if st.Dialect() == store.SQLite {
		err = st.SQLiteDB().QueryRowContext(context.Background(), q+"?", jobID).Scan(&n)
	} else {
		err = st.PGXPool().QueryRow(context.Background(), q+"$1", jobID).Scan(&n)
	}
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// A relative data directory (the default is ./gatehouse-data) still records an absolute
// .c1z path, right whatever the working directory of whoever reads it later.
func TestRelativeDataDirRecordsAbsolutePath(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	st := storetest.Open(t, store.SQLite)
	_, fcfg := startSim(t, awssim.Options{})
	c := &conns{}
	c.add("aws", 0, fcfg)
	svc := newService(t, st, jobs.Config{Connections: c, DataDir: "data"}, true)
	sy, err := svc.StartSync(context.Background(), admin(), "aws")
	if err != nil {
		t.Fatal(err)
	}
	done := waitFinal(t, st, sy.ID, 60*time.Second)
	want := filepath.Join(dir, "data", "syncs", "aws", sy.ID+".c1z")
	if done.C1ZPath != want {
		t.Fatalf("c1z path %q, want %q", done.C1ZPath, want)
	}
}

// The scheduler has its own queue: syncs that hold every worker do not hold it up, so a
// connection added meanwhile gets its first sync queued at once.
func TestSchedulerRunsWhileWorkersAreBusy(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		_, fcfg := startSim(t, awssim.Options{Latency: 100 * time.Millisecond})
		fcfg.Quotas = nil // paced at AWS's quotas: the sync lasts seconds
		c := &conns{}
		c.add("first", time.Hour, fcfg)
		newService(t, st, jobs.Config{Connections: c, Workers: 1, SchedulerInterval: 200 * time.Millisecond}, true)
		var first *store.Sync
		waitUntil(t, 30*time.Second, "the first connection's sync to run", func() bool {
			sy, err := st.LatestSync(ctx, "first")
			first = sy
			return err == nil && sy.State == store.SyncRunning
		})
		c.add("second", time.Hour, fcfg)
		waitUntil(t, 3*time.Second, "the scheduler to queue the new connection's sync while the only worker is busy", func() bool {
			_, err := st.LatestSync(ctx, "second")
			return err == nil
		})
		if sy, _ := st.GetSync(ctx, first.ID); sy.State != store.SyncRunning {
			t.Fatalf("the first sync is %s; it should still hold the only worker", sy.State)
		}
	})
}

func waitUntil(t *testing.T, within time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
