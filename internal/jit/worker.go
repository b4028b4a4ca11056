package jit

import (
	"context"
	"time"

	"github.com/riverqueue/river"
)

// QueueJIT is the River queue of lease jobs. It has its own workers, so that syncs that
// take every worker of the default queue for hours never hold up a grant or a revoke.
const QueueJIT = "jit"

// jitWorkers is how many lease jobs a replica runs at once. A job mostly waits for AWS
// (an assignment takes seconds); Identity Center's limits, shared by the replicas, bound
// what they do together.
const jitWorkers = 20

// leaseArgs are the arguments of a lease's job: the lease and the job's generation (each
// new job of a lease is the next generation, and a generation is inserted once).
type leaseArgs struct {
	LeaseID string `json:"lease_id"`
	Gen     int    `json:"gen"`
}

// Kind names lease jobs in River.
func (leaseArgs) Kind() string { return "jit_lease" }

// InsertOpts puts lease jobs in their queue, unique per lease and generation, with
// attempts enough that a revoke is never given up on while AWS is down for hours (the
// sweeper gives a lease whose job River discarded a new one anyway).
func (leaseArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueJIT, MaxAttempts: 1000, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// leaseWorker runs lease jobs.
type leaseWorker struct {
	river.WorkerDefaults[leaseArgs]
	s *Service
}

func (w *leaseWorker) Work(ctx context.Context, job *river.Job[leaseArgs]) error {
	return w.s.work(ctx, job.Args.LeaseID, job.ID, job.Attempt)
}

// NextRetry retries soon (1 s, doubling up to 15 s): a revoke that failed must be tried
// again within seconds, not on the sync's schedule.
func (w *leaseWorker) NextRetry(job *river.Job[leaseArgs]) time.Time {
	d := time.Second << min(max(job.Attempt-1, 0), 4)
	return time.Now().Add(min(d, 15*time.Second))
}

// Timeout lets a job wait for AWS as long as the provisioner does (an assignment
// queued behind Identity Center's creation limit), and a little more.
func (w *leaseWorker) Timeout(*river.Job[leaseArgs]) time.Duration {
	return 10 * time.Minute
}

// reconcileArgs are the arguments of the reconciler's periodic job (none).
type reconcileArgs struct{}

// Kind names the reconciler's jobs in River.
func (reconcileArgs) Kind() string { return "jit_reconcile" }

// InsertOpts puts the reconciler in the lease queue.
func (reconcileArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueJIT, MaxAttempts: 3}
}

type reconcileWorker struct {
	river.WorkerDefaults[reconcileArgs]
	s *Service
}

func (w *reconcileWorker) Work(ctx context.Context, _ *river.Job[reconcileArgs]) error {
	_, err := w.s.Reconcile(ctx)
	return err
}

func (w *reconcileWorker) Timeout(*river.Job[reconcileArgs]) time.Duration { return 10 * time.Minute }

// DefaultReconcile is how often the reconciler compares AWS with the leases.
const DefaultReconcile = time.Minute

// extension is the service's River work (jobs.Extension).
type extension struct{ s *Service }

// AddWorkers registers the lease and reconciler workers, the request workers
// (worker_requests.go) and the workers that end live sessions (sessions.go).
func (e extension) AddWorkers(w *river.Workers) {
	river.AddWorker(w, &leaseWorker{s: e.s})
	river.AddWorker(w, &reconcileWorker{s: e.s})
	e.s.addRequestWorkers(w)
	e.s.addSessionWorkers(w) // sessions.go
}

// Queues is the lease queue. It looks for new jobs four times a second (River's default
// is once; PostgreSQL's notifications wake it sooner anyway): a revoke the sweeper queues
// at a lease's end starts within a quarter of a second.
func (e extension) Queues() map[string]river.QueueConfig {
	return map[string]river.QueueConfig{QueueJIT: {MaxWorkers: jitWorkers, FetchPollInterval: 250 * time.Millisecond}}
}

// PeriodicJobs are the reconciler and the request jobs (the sweeper runs on every
// replica: see Start).
func (e extension) PeriodicJobs() []*river.PeriodicJob {
	return append([]*river.PeriodicJob{
		river.NewPeriodicJob(river.PeriodicInterval(DefaultReconcile),
			func() (river.JobArgs, *river.InsertOpts) { return reconcileArgs{}, nil },
			&river.PeriodicJobOpts{ID: "jit-reconcile"}),
	}, e.s.requestPeriodicJobs()...)
}

// Extension is the River work of the service, for jobs.Config.Extensions: the lease jobs
// (queue "jit") and the reconciler.
func (s *Service) Extension() interface {
	AddWorkers(w *river.Workers)
	Queues() map[string]river.QueueConfig
	PeriodicJobs() []*river.PeriodicJob
} {
	return extension{s: s}
}

// Start runs the sweeper of this replica until the returned stop is called (after the
// jobs stopped, at shutdown). SetQueue must have been called.
func (s *Service) Start(ctx context.Context) (stop func(context.Context) error) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.sweeper(ctx)
	}()
	return func(stopCtx context.Context) error {
		cancel()
		select {
		case <-done:
		case <-stopCtx.Done():
		}
		s.closeProvisioners()
		return nil
	}
}
