package datasource

import (
	"context"
	"errors"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/internal/store"
)

// QueueDataSource is the River queue of data source syncs.
const QueueDataSource = "datasource"

// SchedulerInterval is how often the scheduler looks for data sources due for a sync.
const SchedulerInterval = time.Minute

// Queue inserts jobs in a store transaction (jobs.Service).
type Queue interface {
	InsertTx(ctx context.Context, tx *store.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// SetQueue gives the service the River client its sync jobs go to (before jobs start).
func (s *Service) SetQueue(q Queue) { s.queue = q }

type syncArgs struct {
	DataSourceID string `json:"datasource_id" river:"unique"`
	// Requested is a "Sync now": never merged with a queued or running sync (which may have
	// listed the bucket before the file the admin just uploaded).
	Requested bool `json:"requested,omitempty"`
}

func (syncArgs) Kind() string { return "datasource_sync" }

// InsertOpts: one scheduled sync per data source queued or running at a time; a "Sync now"
// is always queued (the syncs of one source run one after the other). A failed sync is
// recorded on the source and not retried by River: the next schedule reads again.
func (a syncArgs) InsertOpts() river.InsertOpts {
	o := river.InsertOpts{Queue: QueueDataSource, MaxAttempts: 1}
	if !a.Requested {
		o.UniqueOpts = river.UniqueOpts{ByArgs: true,
			ByState: []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning, rivertype.JobStateScheduled}}
	}
	return o
}

type schedulerArgs struct{}

func (schedulerArgs) Kind() string { return "datasource_scheduler" }
func (schedulerArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueDataSource, MaxAttempts: 1}
}

type syncWorker struct {
	river.WorkerDefaults[syncArgs]
	s *Service
}

func (w *syncWorker) Work(ctx context.Context, job *river.Job[syncArgs]) error {
	_, err := w.s.Sync(ctx, job.Args.DataSourceID)
	if errors.Is(err, ErrNotFound) {
		return nil // deleted since
	}
	// An AWS failure is recorded on the source by Sync and is not an error here; err is
	// the store failing to record it.
	return err
}

func (w *syncWorker) Timeout(*river.Job[syncArgs]) time.Duration { return 30 * time.Minute }

type schedulerWorker struct {
	river.WorkerDefaults[schedulerArgs]
	s *Service
}

func (w *schedulerWorker) Work(ctx context.Context, _ *river.Job[schedulerArgs]) error {
	_, err := w.s.QueueDue(ctx)
	return err
}

// Due reports whether src is due for a scheduled sync at now.
func (src *Source) Due(now time.Time) bool {
	return src.LastSyncAt == nil || !now.Before(src.LastSyncAt.Add(src.ScheduleDuration()))
}

// QueueDue queues a sync of every data source due for one and returns their ids.
func (s *Service) QueueDue(ctx context.Context) ([]string, error) {
	srcs, err := s.List(ctx)
	if err != nil {
		return nil, err
	}
	now := s.cfg.Now()
	var queued []string
	for _, src := range srcs {
		if !src.Due(now) {
			continue
		}
		if err := s.enqueue(ctx, syncArgs{DataSourceID: src.ID}); err != nil {
			return queued, err
		}
		queued = append(queued, src.ID)
	}
	return queued, nil
}

func (s *Service) enqueue(ctx context.Context, args syncArgs) error {
	return s.cfg.Store.InTx(ctx, func(tx *store.Tx) error {
		_, err := s.queue.InsertTx(ctx, tx, args, nil)
		return err
	})
}

// SyncNow starts a sync of data source id in the background ("Sync now"); without a queue
// (tests, tools) it syncs at once. It returns the source as it is.
func (s *Service) SyncNow(ctx context.Context, id string) (*Source, error) {
	src, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if s.queue == nil {
		return s.Sync(ctx, id)
	}
	if err := s.enqueue(ctx, syncArgs{DataSourceID: id, Requested: true}); err != nil {
		return nil, err
	}
	s.cfg.Log.Info("data source sync queued", zap.String("datasource", id))
	return src, nil
}

type extension struct{ s *Service }

func (e extension) AddWorkers(w *river.Workers) {
	river.AddWorker(w, &syncWorker{s: e.s})
	river.AddWorker(w, &schedulerWorker{s: e.s})
}

// Queues is the data source queue: two syncs at a time (each streams files one by one).
func (e extension) Queues() map[string]river.QueueConfig {
	return map[string]river.QueueConfig{QueueDataSource: {MaxWorkers: 2}}
}

// PeriodicJobs is the scheduler, at start and then every SchedulerInterval.
func (e extension) PeriodicJobs() []*river.PeriodicJob {
	return []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(SchedulerInterval),
		func() (river.JobArgs, *river.InsertOpts) { return schedulerArgs{}, nil },
		&river.PeriodicJobOpts{ID: "datasource-scheduler", RunOnStart: true})}
}

// Extension is the River work of the service, for jobs.Config.Extensions: the scheduled and
// requested syncs (queue "datasource").
func (s *Service) Extension() interface {
	AddWorkers(w *river.Workers)
	Queues() map[string]river.QueueConfig
	PeriodicJobs() []*river.PeriodicJob
} {
	return extension{s: s}
}
