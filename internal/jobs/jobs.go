// Package jobs runs Gatehouse's background work on River (github.com/riverqueue/river):
// syncs (on demand and on each connection's schedule), with River's SQLite driver on the
// store's one writer connection, or its PostgreSQL driver on the store's pool.
//
// Every job finds its truth in the store and is idempotent: a sync's row says whether
// there is still work to do, and the job that runs it may run again (River retries a
// failed job, and another replica rescues a job whose replica died) and starts over.
// A sync is started by one transaction that writes the sync row, its River job
// (InsertTx) and the audit entry, so a crash cannot leave one without the others.
//
// With PostgreSQL and several replicas, River's leader election makes the periodic
// scheduler run on one replica at a time, and any replica may run a sync. The .c1z a
// sync writes stays in the data directory of the replica that ran it (the sync's Runner).
package jobs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"
	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/internal/awsfetch"
	"github.com/gatehouse/gatehouse/internal/metrics"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Defaults of Config.
const (
	DefaultWorkers           = 4
	DefaultSyncTimeout       = 2 * time.Hour
	DefaultSchedule          = time.Hour
	DefaultSchedulerInterval = time.Minute
	DefaultKeepSyncs         = 24
	// DefaultSyncAttempts is how many times River runs a sync job before giving up. An
	// AWS error does not use them up (the fetch already retried its calls, and the sync
	// fails with the error); a crash, a shutdown or a store error does.
	DefaultSyncAttempts = 3
)

// Connection is what the scheduler needs to know about a connection.
type Connection struct {
	ID string
	// Schedule is how often it is synced; 0 means Config.DefaultSchedule.
	Schedule time.Duration
}

// Connections gives the jobs the AWS connections and, for one, the configuration of its
// fetch (secrets unsealed, credentials built).
type Connections interface {
	ListConnections(ctx context.Context) ([]Connection, error)
	FetchConfig(ctx context.Context, id string) (awsfetch.Config, error)
}

// IngestInput is what a finished fetch hands to the inventory.
type IngestInput struct {
	ConnectionID, SyncID, C1ZPath string
	At                            time.Time
	Skipped                       []store.SkippedAccount
}

// Ingester loads a sync's .c1z into the store's inventory (ingest.Apply) and returns
// what changed, for the sync's summary.
type Ingester func(ctx context.Context, in IngestInput) (any, error)

// Config configures the jobs of one replica.
type Config struct {
	Store       *store.Store
	Log         *zap.Logger
	Connections Connections
	// Ingest, when set, is called with every written .c1z before the sync is final.
	Ingest Ingester
	// Metrics, when set, receive sync and job figures.
	Metrics *metrics.Metrics
	// DataDir holds the kept .c1z files: <DataDir>/syncs/<connection>/<sync id>.c1z.
	DataDir string
	// KeepSyncs is how many .c1z files are kept per connection (DefaultKeepSyncs).
	KeepSyncs int
	// Workers is how many jobs this replica runs at once (DefaultWorkers).
	Workers int
	// SyncTimeout bounds one sync attempt (DefaultSyncTimeout). RescueAfter is when a job
	// still marked running (its replica died) is run again; it must be longer than
	// SyncTimeout (default SyncTimeout + 15m).
	SyncTimeout, RescueAfter time.Duration
	// DefaultSchedule is how often a connection without its own schedule is synced.
	DefaultSchedule time.Duration
	// SchedulerInterval is how often the scheduler looks for due connections.
	SchedulerInterval time.Duration
	// SyncAttempts is how many times a sync job is run at most (DefaultSyncAttempts).
	SyncAttempts int
	// RetryBackoff is the wait before a job's second attempt; it grows with the square of
	// the attempt (default 5s).
	RetryBackoff time.Duration
	// ID names this replica's River client (default host_pid<pid>_<start time>); a sync's
	// Runner is it.
	ID string
	// Extensions add the background work of other features (just-in-time leases,
	// notifications) to the same River client: their workers, queues and periodic jobs.
	Extensions []Extension
	// LastAccess, when set, makes every sync read IAM's service last accessed details on
	// a budget (awsfetch.LastAccessPlan) and keep them in the store across syncs
	// (store.ApplyLastAccess), for the unused-access findings.
	LastAccess *LastAccessSettings
}

// LastAccessSettings are the budget of the service last accessed reads: jobs started per
// account per sync, and the age past which an entity's details are read again (zero:
// awsfetch's defaults).
type LastAccessSettings struct {
	Budget  int
	Refresh time.Duration
}

// Extension is the background work of a feature outside this package. Its jobs run on the
// same River client as syncs, so that they are inserted in the same transactions as the
// store rows they act on (Service.InsertTx) and survive crashes and replicas the same way.
type Extension interface {
	// AddWorkers registers the extension's workers.
	AddWorkers(w *river.Workers)
	// Queues are the extension's own queues (name to configuration); nil for none.
	Queues() map[string]river.QueueConfig
	// PeriodicJobs are run by the leader replica; nil for none.
	PeriodicJobs() []*river.PeriodicJob
}

// Service runs the jobs and starts syncs. app.App.Syncs is one.
type Service struct {
	cfg   Config
	log   *zap.Logger
	st    *store.Store
	queue queue

	stopOnce sync.Once
	stopSubs func()
}

// queue is the part of River's client the service uses. River's client is generic over
// its driver's transaction type (*sql.Tx for SQLite, pgx.Tx for PostgreSQL); riverClient
// hides that behind store.Tx.
type queue interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	StopAndCancel(ctx context.Context) error
	InsertTx(ctx context.Context, tx *store.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	Subscribe(kinds ...river.EventKind) (<-chan *river.Event, func())
	ID() string
}

type riverClient[TTx any] struct{ *river.Client[TTx] }

func (c riverClient[TTx]) InsertTx(ctx context.Context, tx *store.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	t, ok := tx.Driver().(TTx)
	if !ok {
		return nil, fmt.Errorf("jobs: a %T transaction cannot insert River jobs of this store", tx.Driver())
	}
	return c.Client.InsertTx(ctx, t, args, opts)
}

// New configures River on the store (it does not start it: see Start).
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Connections == nil {
		return nil, errors.New("jobs: a store and connections are required")
	}
	if cfg.Log == nil {
		cfg.Log = zap.NewNop()
	}
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.SyncTimeout <= 0 {
		cfg.SyncTimeout = DefaultSyncTimeout
	}
	if cfg.RescueAfter <= 0 {
		cfg.RescueAfter = cfg.SyncTimeout + 15*time.Minute
	}
	if cfg.RescueAfter <= cfg.SyncTimeout {
		return nil, fmt.Errorf("jobs: rescue_after (%s) must be longer than sync_timeout (%s), or a running sync would be started twice", cfg.RescueAfter, cfg.SyncTimeout)
	}
	if cfg.DefaultSchedule <= 0 {
		cfg.DefaultSchedule = DefaultSchedule
	}
	if cfg.SchedulerInterval <= 0 {
		cfg.SchedulerInterval = DefaultSchedulerInterval
	}
	if cfg.KeepSyncs <= 0 {
		cfg.KeepSyncs = DefaultKeepSyncs
	}
	if cfg.SyncAttempts <= 0 {
		cfg.SyncAttempts = DefaultSyncAttempts
	}
	if cfg.RetryBackoff <= 0 {
		cfg.RetryBackoff = 5 * time.Second
	}
	if cfg.ID == "" {
		host, _ := os.Hostname()
		cfg.ID = fmt.Sprintf("%s_pid%d_%s", host, os.Getpid(), time.Now().UTC().Format("20060102T150405"))
		if len(cfg.ID) > 100 {
			cfg.ID = cfg.ID[len(cfg.ID)-100:]
		}
	}
	// The sync rows keep the path of their .c1z: absolute, so that it stays right
	// whatever the working directory of whoever reads it.
	if cfg.DataDir != "" {
		abs, err := filepath.Abs(cfg.DataDir)
		if err != nil {
			return nil, fmt.Errorf("jobs: data directory %s: %w", cfg.DataDir, err)
		}
		cfg.DataDir = abs
	}
	s := &Service{cfg: cfg, log: cfg.Log.Named("jobs"), st: cfg.Store}

	workers := river.NewWorkers()
	river.AddWorker(workers, &syncWorker{s: s})
	river.AddWorker(workers, &schedulerWorker{s: s})
	rc := &river.Config{
		ID: cfg.ID,
		// Syncs run in the default queue; the scheduler has its own, so that syncs that
		// take every worker for hours never hold it up.
		Queues: map[string]river.QueueConfig{
			river.QueueDefault: {MaxWorkers: cfg.Workers},
			schedulerQueue:     {MaxWorkers: 1},
		},
		Workers: workers,
		// Short jobs (the scheduler) get a minute at most; the sync worker sets its own
		// timeout. River wants every timeout below RescueStuckJobsAfter.
		JobTimeout:           min(time.Minute, cfg.SyncTimeout),
		RescueStuckJobsAfter: cfg.RescueAfter,
		RetryPolicy:          retryPolicy{base: cfg.RetryBackoff},
		PeriodicJobs: []*river.PeriodicJob{
			river.NewPeriodicJob(river.PeriodicInterval(cfg.SchedulerInterval),
				func() (river.JobArgs, *river.InsertOpts) { return schedulerArgs{}, nil },
				// RunOnStart: a connection that never synced is synced as soon as a
				// leader is elected, not an interval later.
				&river.PeriodicJobOpts{ID: "sync-scheduler", RunOnStart: true}),
		},
		Logger: slogFor(s.log),
	}
	for _, ext := range cfg.Extensions {
		ext.AddWorkers(workers)
		for name, q := range ext.Queues() {
			if _, taken := rc.Queues[name]; taken {
				return nil, fmt.Errorf("jobs: queue %q is registered twice", name)
			}
			rc.Queues[name] = q
		}
		rc.PeriodicJobs = append(rc.PeriodicJobs, ext.PeriodicJobs()...)
	}
	var err error
	switch cfg.Store.Dialect() {
	case store.SQLite:
		var c *river.Client[*sqlTx]
		c, err = river.NewClient(riversqlite.New(cfg.Store.SQLiteDB()), rc)
		s.queue = riverClient[*sqlTx]{c}
	case store.Postgres:
		var c *river.Client[pgx.Tx]
		c, err = river.NewClient(riverpgxv5.New(cfg.Store.PGXPool()), rc)
		s.queue = riverClient[pgx.Tx]{c}
	default:
		err = fmt.Errorf("unknown store dialect %q", cfg.Store.Dialect())
	}
	if err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	return s, nil
}

// InsertTx inserts a job in the store transaction tx: the job exists if and only if the
// transaction commits. Extensions insert their jobs with it.
func (s *Service) InsertTx(ctx context.Context, tx *store.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	return s.queue.InsertTx(ctx, tx, args, opts)
}

// ID is this replica's River client id (a sync's Runner).
func (s *Service) ID() string { return s.cfg.ID }

// Start starts working jobs. It returns at once; Stop stops them. ctx's values are kept
// but not its cancellation: only Stop stops the jobs, so that a shutdown is graceful.
func (s *Service) Start(ctx context.Context) error {
	events, cancel := s.queue.Subscribe(river.EventKindJobFailed)
	s.stopSubs = cancel
	go func() {
		for ev := range events {
			if s.cfg.Metrics != nil && ev.Job != nil {
				s.cfg.Metrics.JobFailures.WithLabelValues(ev.Job.Kind).Inc()
			}
		}
	}()
	if err := s.queue.Start(context.WithoutCancel(ctx)); err != nil {
		cancel()
		return fmt.Errorf("start jobs: %w", err)
	}
	return nil
}

// Stop lets running jobs finish until shortly before ctx's deadline, then cancels them
// (a cancelled sync is put back to queued and run again by the next start or another
// replica).
func (s *Service) Stop(ctx context.Context) error {
	var err error
	s.stopOnce.Do(func() {
		soft := ctx
		if dl, ok := ctx.Deadline(); ok {
			var cancel context.CancelFunc
			soft, cancel = context.WithDeadline(ctx, dl.Add(-time.Until(dl)/5))
			defer cancel()
		}
		if err = s.queue.Stop(soft); err != nil && ctx.Err() == nil {
			s.log.Info("jobs still running at the shutdown timeout: cancelling them; they run again later")
			err = s.queue.StopAndCancel(ctx)
		}
		if s.stopSubs != nil {
			s.stopSubs()
		}
	})
	return err
}

// retryPolicy retries a failed job after base × attempt² (5s, 20s, 45s with the
// default base), short enough that a sync interrupted by a crash resumes soon.
type retryPolicy struct{ base time.Duration }

func (p retryPolicy) NextRetry(job *rivertype.JobRow) time.Time {
	n := max(job.Attempt, 1)
	return time.Now().Add(p.base * time.Duration(n*n))
}
