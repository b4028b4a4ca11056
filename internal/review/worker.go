package review

import (
	"context"
	"errors"
	"time"

	"github.com/riverqueue/river"
)

// QueueReview is the River queue of review jobs (remediation, the due date and reminders):
// its own workers, so that long syncs never hold up a revoke a reviewer asked for.
const QueueReview = "review"

// reviewWorkers is how many review jobs a replica runs at once. A remediation mostly waits
// for AWS; Identity Center's limits, shared with the leases through the provisioner, bound
// what they do together.
const reviewWorkers = 5

// remediateArgs are the arguments of a remediation job: the item (its row says the rest).
type remediateArgs struct {
	CampaignID string `json:"campaign_id"`
	ItemID     string `json:"item_id"`
}

// Kind names remediation jobs in River.
func (remediateArgs) Kind() string { return "review_remediate" }

// InsertOpts puts remediation jobs in the review queue, once per item, with attempts enough
// to outlast an AWS outage of a day (the waits grow to 10 minutes).
func (remediateArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueReview, MaxAttempts: 200, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

type remediateWorker struct {
	river.WorkerDefaults[remediateArgs]
	s *Service
}

func (w *remediateWorker) Work(ctx context.Context, job *river.Job[remediateArgs]) error {
	return w.s.remediate(ctx, job.Args.CampaignID, job.Args.ItemID)
}

// NextRetry tries a failed change again soon, then less often: 2 s doubling up to 10 minutes.
func (w *remediateWorker) NextRetry(job *river.Job[remediateArgs]) time.Time {
	d := 2 * time.Second << min(max(job.Attempt-1, 0), 9)
	return time.Now().Add(min(d, 10*time.Minute))
}

// Timeout lets a job wait for AWS as long as the provisioner does (an assignment deletion
// is asynchronous), and a little more.
func (w *remediateWorker) Timeout(*river.Job[remediateArgs]) time.Duration { return 10 * time.Minute }

// dueArgs are the arguments of the periodic job that applies due dates and sends reminders.
type dueArgs struct{}

// Kind names the due-date job in River.
func (dueArgs) Kind() string { return "review_due" }

// InsertOpts puts the due-date job in the review queue.
func (dueArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueReview, MaxAttempts: 3}
}

type dueWorker struct {
	river.WorkerDefaults[dueArgs]
	s *Service
}

// Work applies the undecided policy of campaigns past their due date, then reminds
// reviewers (due.go). Both are idempotent: a round repeated does nothing twice.
func (w *dueWorker) Work(ctx context.Context, _ *river.Job[dueArgs]) error {
	return errors.Join(w.s.HandleDue(ctx), w.s.SendReminders(ctx))
}

func (w *dueWorker) Timeout(*river.Job[dueArgs]) time.Duration { return 10 * time.Minute }

// DefaultDueInterval is how often the due-date job runs.
const DefaultDueInterval = 5 * time.Minute

// extension is the service's River work (jobs.Extension).
type extension struct{ s *Service }

// AddWorkers registers the remediation and due-date workers.
func (e extension) AddWorkers(w *river.Workers) {
	river.AddWorker(w, &remediateWorker{s: e.s})
	river.AddWorker(w, &dueWorker{s: e.s})
}

// Queues is the review queue.
func (e extension) Queues() map[string]river.QueueConfig {
	return map[string]river.QueueConfig{QueueReview: {MaxWorkers: reviewWorkers, FetchPollInterval: 250 * time.Millisecond}}
}

// PeriodicJobs is the due-date job, run by the leader replica every DefaultDueInterval and
// once when it starts (a due date passed while no replica ran is handled at once).
func (e extension) PeriodicJobs() []*river.PeriodicJob {
	return []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(DefaultDueInterval),
		func() (river.JobArgs, *river.InsertOpts) { return dueArgs{}, nil },
		&river.PeriodicJobOpts{ID: "review-due", RunOnStart: true})}
}

// Extension is the River work of the service, for jobs.Config.Extensions: the remediation
// jobs and the periodic due-date and reminder job (queue "review").
func (s *Service) Extension() interface {
	AddWorkers(w *river.Workers)
	Queues() map[string]river.QueueConfig
	PeriodicJobs() []*river.PeriodicJob
} {
	return extension{s: s}
}
