package evidence

import (
	"context"
	"errors"
	"time"

	"github.com/riverqueue/river"
)

// QueueEvidence is the River queue of evidence pack builds: its own workers, so that a
// long build never holds up syncs, leases or reviews.
const QueueEvidence = "evidence"

// buildAttempts is how many times a build is run before the pack is marked failed (a
// replica that dies mid-build is one attempt).
const buildAttempts = 3

// buildArgs are the arguments of a build job.
type buildArgs struct {
	PackID string `json:"pack_id"`
}

// Kind names build jobs in River.
func (buildArgs) Kind() string { return "evidence_build" }

// InsertOpts puts builds in the evidence queue, one job per pack.
func (buildArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueEvidence, MaxAttempts: buildAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

type buildWorker struct {
	river.WorkerDefaults[buildArgs]
	s *Service
}

func (w *buildWorker) Work(ctx context.Context, job *river.Job[buildArgs]) error {
	err := w.s.build(ctx, job.Args.PackID, job.Attempt >= job.MaxAttempts)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// Timeout bounds one build: the large preset's packs take seconds; a year of a much
// larger organization, minutes.
func (w *buildWorker) Timeout(*river.Job[buildArgs]) time.Duration { return time.Hour }

// scheduleArgs are the arguments of the periodic job that queues scheduled packs.
type scheduleArgs struct{}

// Kind names the schedule job in River.
func (scheduleArgs) Kind() string { return "evidence_schedule" }

// InsertOpts puts the schedule job in the evidence queue.
func (scheduleArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueEvidence, MaxAttempts: 3}
}

type scheduleWorker struct {
	river.WorkerDefaults[scheduleArgs]
	s *Service
}

// Work queues the pack of the last complete period if nobody has (idempotent: the
// period's key is unique).
func (w *scheduleWorker) Work(ctx context.Context, _ *river.Job[scheduleArgs]) error {
	_, err := w.s.QueueScheduled(ctx)
	return err
}

// ScheduleInterval is how often the leader looks for a period to build a pack of.
const ScheduleInterval = time.Hour

type extension struct{ s *Service }

// AddWorkers registers the build and schedule workers.
func (e extension) AddWorkers(w *river.Workers) {
	river.AddWorker(w, &buildWorker{s: e.s})
	river.AddWorker(w, &scheduleWorker{s: e.s})
}

// Queues is the evidence queue: one build at a time per replica (a build reads the whole
// inventory twice; two at once would only compete for the database).
func (e extension) Queues() map[string]river.QueueConfig {
	return map[string]river.QueueConfig{QueueEvidence: {MaxWorkers: 1, FetchPollInterval: 250 * time.Millisecond}}
}

// PeriodicJobs is the schedule job (only when packs are scheduled), at start and then
// every ScheduleInterval.
func (e extension) PeriodicJobs() []*river.PeriodicJob {
	if e.s.cfg.Schedule.Every == "" {
		return nil
	}
	return []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(ScheduleInterval),
		func() (river.JobArgs, *river.InsertOpts) { return scheduleArgs{}, nil },
		&river.PeriodicJobOpts{ID: "evidence-schedule", RunOnStart: true})}
}

// Extension is the River work of the service, for jobs.Config.Extensions: the builds and
// the schedule (queue "evidence").
func (s *Service) Extension() interface {
	AddWorkers(w *river.Workers)
	Queues() map[string]river.QueueConfig
	PeriodicJobs() []*river.PeriodicJob
} {
	return extension{s: s}
}
