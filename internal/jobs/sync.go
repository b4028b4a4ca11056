package jobs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"
	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/awsfetch"
	"github.com/gatehouse/gatehouse/internal/connector"
	"github.com/gatehouse/gatehouse/internal/inventory"
	"github.com/gatehouse/gatehouse/internal/store"
)

// ErrSyncRunning is StartSync's error when the connection already has a sync queued or
// running (the API answers 409).
var ErrSyncRunning = errors.New("a sync of this connection is already queued or running")

// ErrUnknownConnection is StartSync's error for a connection id that does not exist.
var ErrUnknownConnection = errors.New("no such connection")

// SyncArgs are the arguments of a sync job: the sync row says everything else.
type SyncArgs struct {
	SyncID       string `json:"sync_id"`
	ConnectionID string `json:"connection_id"`
}

// Kind names sync jobs in River.
func (SyncArgs) Kind() string { return "sync" }

// StartSync starts a sync of the connection now: one transaction inserts the queued
// sync, its River job and the audit entry (sync.start). caller is who asked (nil: the
// scheduler, recorded as "system" with trigger "schedule"). It returns ErrSyncRunning
// when the connection already has a queued or running sync, and ErrUnknownConnection
// for an id that is not a connection.
func (s *Service) StartSync(ctx context.Context, caller *auth.Caller, connectionID string) (*store.Sync, error) {
	conns, err := s.cfg.Connections.ListConnections(ctx)
	if err != nil {
		return nil, fmt.Errorf("list connections: %w", err)
	}
	known := false
	for _, c := range conns {
		known = known || c.ID == connectionID
	}
	if !known {
		return nil, fmt.Errorf("%w: %q", ErrUnknownConnection, connectionID)
	}
	sy := &store.Sync{
		ID: store.NewSyncID(), ConnectionID: connectionID, Trigger: store.TriggerSchedule,
		QueuedAt: time.UnixMilli(time.Now().UnixMilli()).UTC(),
	}
	actor, remote := "system", ""
	if caller != nil {
		sy.Trigger, sy.RequestedBy, actor, remote = store.TriggerManual, caller.Email, caller.Email, caller.RemoteAddr
	}
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.InsertSync(ctx, sy); err != nil {
			return err
		}
		res, err := s.queue.InsertTx(ctx, tx, SyncArgs{SyncID: sy.ID, ConnectionID: connectionID},
			&river.InsertOpts{MaxAttempts: s.cfg.SyncAttempts})
		if err != nil {
			return fmt.Errorf("queue the sync job: %w", err)
		}
		sy.JobID = res.Job.ID
		if err := tx.SetSyncJob(ctx, sy.ID, sy.JobID); err != nil {
			return fmt.Errorf("record the sync job: %w", err)
		}
		_, err = tx.AppendAudit(ctx, actor, "sync.start", "sync:"+sy.ID,
			map[string]string{"connection": connectionID, "trigger": sy.Trigger}, remote)
		return err
	})
	if errors.Is(err, store.ErrSyncActive) {
		return nil, fmt.Errorf("%w (connection %s): wait for it to finish", ErrSyncRunning, connectionID)
	}
	if err != nil {
		return nil, fmt.Errorf("start a sync of %s: %w", connectionID, err)
	}
	s.log.Info("sync queued", zap.String("sync", sy.ID), zap.String("connection", connectionID), zap.String("trigger", sy.Trigger), zap.String("by", actor))
	return sy, nil
}

// syncWorker runs one attempt of a sync: fetch, write the .c1z, ingest, final state.
type syncWorker struct {
	river.WorkerDefaults[SyncArgs]
	s *Service
}

// Timeout bounds one attempt by jobs.sync_timeout.
func (w *syncWorker) Timeout(*river.Job[SyncArgs]) time.Duration { return w.s.cfg.SyncTimeout }

// Work runs the attempt. It is idempotent: a sync already final is left alone, and
// every attempt starts over (a new fetch into a new temporary file), so a job rescued
// after its replica died, or retried after a failure, runs cleanly.
func (w *syncWorker) Work(ctx context.Context, job *river.Job[SyncArgs]) error {
	s := w.s
	log := s.log.With(zap.String("sync", job.Args.SyncID), zap.String("connection", job.Args.ConnectionID), zap.Int("attempt", job.Attempt))
	sy, err := s.st.StartSyncAttempt(ctx, job.Args.SyncID, s.cfg.ID, time.Now())
	if errors.Is(err, store.ErrNotFound) {
		// Nothing to run: the job outlived its sync row.
		return river.JobCancel(fmt.Errorf("sync %s does not exist", job.Args.SyncID))
	}
	if err != nil {
		return err
	}
	if sy.Final() {
		log.Info("sync already finished; nothing to do", zap.String("state", sy.State))
		return nil
	}
	log.Info("sync started", zap.Int("sync_attempt", sy.Attempts))
	r := &syncRun{s: s, sy: sy, log: log, started: time.Now()}
	err = r.run(ctx)
	if err == nil {
		return nil
	}
	// The attempt did not reach a final state. Worth another attempt: a shutdown
	// (cancelled), a store error, a failed ingest. The last attempt fails the sync.
	bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if errors.Is(ctx.Err(), context.Canceled) {
		// A shutdown uses up no attempt: the job is snoozed, to run again as soon as
		// this replica starts again or another one takes it.
		log.Info("sync interrupted by the shutdown; it runs again at the next start or on another replica")
		if rerr := s.st.RequeueSync(bg, sy.ID, sy.Attempts, "interrupted by a shutdown; it runs again from the start at the next start or on another replica"); rerr != nil {
			log.Error("cannot record the interrupted attempt", zap.Error(rerr))
		}
		return river.JobSnooze(0)
	}
	if job.Attempt >= job.MaxAttempts {
		msg := fmt.Sprintf("gave up after %d attempts: %v", job.Attempt, err)
		if ferr := r.finish(bg, store.SyncFailed, msg, nil, nil); ferr != nil {
			log.Error("cannot record the failed sync", zap.Error(ferr))
		}
		return err
	}
	log.Warn("sync attempt failed; it will be retried", zap.Error(err))
	if rerr := s.st.RequeueSync(bg, sy.ID, sy.Attempts, fmt.Sprintf("attempt %d failed and will be retried: %v", job.Attempt, err)); rerr != nil {
		log.Error("cannot record the failed attempt", zap.Error(rerr))
	}
	return err
}

// syncRun is one attempt of one sync.
type syncRun struct {
	s       *Service
	sy      *store.Sync
	log     *zap.Logger
	started time.Time

	live              awsfetch.Live
	done, total       atomic.Int64
	phase             atomic.Value // string
	apiCalls, throttl int64
}

// c1zDir is where a connection's .c1z files are kept.
func (s *Service) c1zDir(connectionID string) string {
	return filepath.Join(s.cfg.DataDir, "syncs", safeName(connectionID))
}

// safeName keeps a connection id usable as one path element.
func safeName(id string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '_'
	}, strings.TrimLeft(id, "."))
}

// run returns nil once the sync is final (whatever the state), or the error that
// interrupted it before (to be retried).
func (r *syncRun) run(ctx context.Context) error {
	s, sy := r.s, r.sy
	r.phase.Store("starting")
	cfg, err := s.cfg.Connections.FetchConfig(ctx, sy.ConnectionID)
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		return r.finishFailed(ctx, "connection "+sy.ConnectionID+": "+err.Error())
	}
	dir := s.c1zDir(sy.ConnectionID)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	path := filepath.Join(dir, sy.ID+".c1z")
	// A killed attempt may have left its temporary directory (see connector.WriteC1Z).
	if old, _ := filepath.Glob(filepath.Join(dir, "."+sy.ID+".c1z.*.tmp")); len(old) > 0 {
		for _, o := range old {
			_ = os.RemoveAll(o)
		}
	}

	// A partial file is written on purpose: the store keeps the last known IAM of the
	// accounts that were skipped (marked stale), so their access does not vanish.
	cfg.AllowPartial = true
	if la := s.cfg.LastAccess; la != nil {
		if cfg.LastAccess, err = LastAccessPlan(ctx, s.st, sy.ConnectionID, *la); err != nil {
			return err // the store: retried
		}
	}
	cfg.Live = &r.live
	cfg.Progress = func(done, total int) { r.done.Store(int64(done)); r.total.Store(int64(total)) }
	if cfg.Logger == nil {
		cfg.Logger = r.log
	}

	progressCtx, stopProgress := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); r.reportProgress(progressCtx) }()
	defer func() { stopProgress(); wg.Wait() }()

	r.phase.Store("fetch")
	snap, stats, err := awsfetch.Fetch(ctx, cfg)
	if stats != nil {
		r.apiCalls, r.throttl = stats.Calls, stats.Throttles
	}
	if err != nil {
		return r.fetchFailed(ctx, err)
	}
	if s.cfg.LastAccess != nil {
		// The jobs started and collected are AWS's state, whatever happens to the rest of
		// the sync: kept now, so that the next sync collects what this one started.
		if err := s.st.ApplyLastAccess(ctx, sy.ConnectionID, sy.ID, LastAccessUpdates(snap)); err != nil {
			r.log.Error("the service last accessed details could not be kept; the next sync starts their jobs again", zap.Error(err))
		}
	}
	r.phase.Store("write")
	sum, err := connector.WriteC1Z(ctx, connector.NewFromSnapshot(snap), path, connector.WithReleaseSnapshot())
	snap = nil
	if err != nil {
		return r.fetchFailed(ctx, fmt.Errorf("write the .c1z: %w", err))
	}
	skipped, active := skippedAccounts(stats.Skipped)
	state := store.SyncSucceeded
	if active > 0 {
		state = store.SyncPartial
	}
	summary := syncSummary{
		Accounts: stats.Accounts, Synced: stats.Synced, Resources: sum.Resources, Entitlements: sum.Entitlements,
		Grants: sum.Grants, APICalls: stats.Calls, Throttles: stats.Throttles, Retries: stats.Retries,
		Duration: time.Since(r.started).Round(time.Millisecond).String(), Attempts: sy.Attempts,
	}
	for _, svc := range stats.Services {
		summary.Services = append(summary.Services, serviceCalls{Service: svc.Service, Calls: svc.Calls, Throttles: svc.Throttles})
	}
	if s.cfg.Ingest != nil {
		r.phase.Store("ingest")
		res, err := s.cfg.Ingest(ctx, IngestInput{
			ConnectionID: sy.ConnectionID, SyncID: sy.ID, C1ZPath: path, At: r.started.UTC(), Skipped: skipped,
		})
		if err != nil {
			return fmt.Errorf("ingest %s: %w", path, err)
		}
		summary.Ingest = res
	}
	stopProgress()
	wg.Wait()
	if err := r.finish(ctx, state, "", skipped, &finishExtra{summary: summary, path: path}); err != nil {
		return err
	}
	s.keepNewest(ctx, sy.ConnectionID, path)
	return nil
}

// fetchFailed ends the sync failed with the fetch's error, unless the attempt was cancelled
// (a shutdown: returned, so that the job is retried). The inventory is not touched.
func (r *syncRun) fetchFailed(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return r.finishFailed(ctx, fmt.Sprintf("the sync did not finish within jobs.sync_timeout (%s); raise it for an organization this large, or lower the connection's concurrency if AWS throttles", r.s.cfg.SyncTimeout))
		}
		return err
	}
	return r.finishFailed(ctx, err.Error())
}

func (r *syncRun) finishFailed(ctx context.Context, msg string) error {
	bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	return r.finish(bg, store.SyncFailed, msg, nil, nil)
}

type finishExtra struct {
	summary syncSummary
	path    string
}

// finish writes the final state and the audit entry sync.finish in one transaction, and
// counts the sync in the metrics. Another attempt that has taken over the sync since
// wins: this one then changes nothing.
func (r *syncRun) finish(ctx context.Context, state, errMsg string, skipped []store.SkippedAccount, extra *finishExtra) error {
	sy := r.sy
	f := store.SyncFinish{
		State: state, At: time.Now(), APICalls: r.apiCalls, Throttles: r.throttl, Skipped: skipped, Error: errMsg,
		Progress: r.progress(),
	}
	if extra != nil {
		f.Summary, f.C1ZPath = extra.summary, extra.path
	}
	f.Progress.Phase = "done"
	var won bool
	err := r.s.st.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if won, err = tx.FinishSync(ctx, sy.ID, sy.Attempts, f); err != nil || !won {
			return err
		}
		detail := map[string]any{"connection": sy.ConnectionID, "state": state, "api_calls": f.APICalls, "skipped_accounts": len(skipped)}
		if errMsg != "" {
			detail["error"] = errMsg
		}
		_, err = tx.AppendAudit(ctx, "system", "sync.finish", "sync:"+sy.ID, detail, "")
		return err
	})
	if err != nil {
		return fmt.Errorf("record the final state: %w", err)
	}
	if !won {
		r.log.Warn("another attempt took this sync over; this attempt's result is dropped")
		if extra != nil {
			_ = os.Remove(extra.path)
		}
		return nil
	}
	if m := r.s.cfg.Metrics; m != nil {
		if !r.started.IsZero() {
			m.SyncDuration.WithLabelValues(sy.ConnectionID, state).Observe(time.Since(r.started).Seconds())
		}
		m.SyncAPICalls.WithLabelValues(sy.ConnectionID).Add(float64(f.APICalls))
		m.SyncThrottles.WithLabelValues(sy.ConnectionID).Add(float64(f.Throttles))
		m.Syncs.WithLabelValues(sy.ConnectionID, state).Inc()
	}
	fields := []zap.Field{zap.String("state", state), zap.Int64("api_calls", f.APICalls)}
	if !r.started.IsZero() {
		fields = append(fields, zap.Duration("took", time.Since(r.started)))
	}
	if errMsg != "" {
		r.log.Warn("sync failed", append(fields, zap.String("error", errMsg))...)
	} else {
		r.log.Info("sync finished", append(fields, zap.Int("skipped_accounts", len(skipped)))...)
	}
	return nil
}

func (r *syncRun) progress() store.SyncProgress {
	phase, _ := r.phase.Load().(string)
	calls, thr := r.live.Calls(), r.live.Throttles()
	if r.apiCalls > calls {
		calls, thr = r.apiCalls, r.throttl
	}
	return store.SyncProgress{
		AccountsDone: int(r.done.Load()), AccountsTotal: int(r.total.Load()), Phase: phase,
		APICalls: calls, Throttles: thr,
	}
}

// progressInterval is how often a running sync writes its progress (at most).
var progressInterval = time.Second

// reportProgress writes the progress to the sync row while it changes, at most once
// per progressInterval, until ctx is done.
func (r *syncRun) reportProgress(ctx context.Context) {
	t := time.NewTicker(progressInterval)
	defer t.Stop()
	var last store.SyncProgress
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		p := r.progress()
		if p == last {
			continue
		}
		if err := r.s.st.UpdateSyncProgress(ctx, r.sy.ID, r.sy.Attempts, p); err != nil {
			if ctx.Err() == nil {
				r.log.Warn("cannot record the sync's progress", zap.Error(err))
			}
			continue
		}
		last = p
	}
}

// syncSummary is the summary of a finished sync, kept as JSON with the sync.
type syncSummary struct {
	Accounts     int            `json:"accounts"`
	Synced       int            `json:"synced"`
	Resources    map[string]int `json:"resources"`
	Entitlements int            `json:"entitlements"`
	Grants       int            `json:"grants"`
	APICalls     int64          `json:"api_calls"`
	Throttles    int64          `json:"throttles"`
	Retries      int64          `json:"retries"`
	Services     []serviceCalls `json:"services,omitempty"`
	Duration     string         `json:"duration"`
	Attempts     int            `json:"attempts"`
	Ingest       any            `json:"ingest,omitempty"`
}

type serviceCalls struct {
	Service   string `json:"service"`
	Calls     int64  `json:"calls"`
	Throttles int64  `json:"throttles,omitempty"`
}

// likelyCauses separates what was refused from its likely causes in awsfetch's reasons.
const likelyCauses = "; likely causes, in order: "

// skippedAccounts turns the fetch's skipped accounts into the sync's, each with its
// reason and the fix to try, and counts the ACTIVE ones (which make the sync partial).
func skippedAccounts(in []awsfetch.SkippedAccount) ([]store.SkippedAccount, int) {
	out := make([]store.SkippedAccount, 0, len(in))
	active := 0
	for _, a := range in {
		sk := store.SkippedAccount{AccountID: a.ID, Name: a.Name, Status: a.Status, Reason: a.Reason}
		if a.Active() {
			active++
			if reason, causes, ok := strings.Cut(a.Reason, likelyCauses); ok {
				sk.Reason, sk.Fix = reason, "check, in order: "+causes
			} else {
				sk.Fix = "check the connector's access to this account (gatehouse doctor)"
			}
		} else {
			sk.Fix = "nothing to fix: AWS refuses every call in a " + a.Status + " account, so it has no access to read"
		}
		out = append(out, sk)
	}
	return out, active
}

// ConnectionIDs lists the ids of the connections that can be synced.
func (s *Service) ConnectionIDs(ctx context.Context) ([]string, error) {
	conns, err := s.cfg.Connections.ListConnections(ctx)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(conns))
	for i, c := range conns {
		ids[i] = c.ID
	}
	return ids, nil
}

// LastAccessPlan is what a sync of the connection reads of the service last accessed
// details: the budget, and what earlier syncs left in the store (jobs to collect, the
// age of each entity's last result).
func LastAccessPlan(ctx context.Context, st *store.Store, connectionID string, la LastAccessSettings) (*awsfetch.LastAccessPlan, error) {
	known, err := st.LastAccessOf(ctx, connectionID)
	if err != nil {
		return nil, err
	}
	plan := &awsfetch.LastAccessPlan{Budget: la.Budget, Refresh: la.Refresh, Known: make(map[string]awsfetch.LastAccessKnown, len(known))}
	for arn, k := range known {
		kk := awsfetch.LastAccessKnown{JobID: k.JobID}
		if k.CompletedAt != nil {
			kk.CompletedAt = *k.CompletedAt
		}
		plan.Known[arn] = kk
	}
	return plan, nil
}

// LastAccessUpdates are the service last accessed reads of the snapshot's accounts, for
// store.ApplyLastAccess.
func LastAccessUpdates(snap *inventory.Snapshot) []store.LastAccessUpdate {
	var out []store.LastAccessUpdate
	for _, a := range snap.Accounts {
		if a.IAM == nil {
			continue
		}
		for _, r := range a.IAM.LastAccess {
			u := store.LastAccessUpdate{EntityARN: r.EntityARN, AccountID: a.ID, Kind: r.Kind, JobID: r.JobID, At: r.At,
				CompletedAt: r.CompletedAt, Error: r.Error}
			for _, sv := range r.Services {
				x := store.ServiceAccess{Namespace: sv.Namespace, Name: sv.Name, Entities: sv.Entities}
				if !sv.LastAuthenticated.IsZero() {
					t := sv.LastAuthenticated
					x.LastAuthenticated = &t
				}
				u.Services = append(u.Services, x)
			}
			out = append(out, u)
		}
	}
	return out
}
