package review

import (
	"context"
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

// extension is the service's River work (jobs.Extension).
type extension struct{ s *Service }

// AddWorkers registers the remediation and due-date workers.
func (e extension) AddWorkers(w *river.Workers) {
	river.AddWorker(w, &remediateWorker{s: e.s})
}

// Queues is the review queue.
func (e extension) Queues() map[string]river.QueueConfig {
	return map[string]river.QueueConfig{QueueReview: {MaxWorkers: reviewWorkers, FetchPollInterval: 250 * time.Millisecond}}
}

// PeriodicJobs is the due-date job, run by the leader replica.
func (e extension) PeriodicJobs() []*river.PeriodicJob { return nil }

// Extension is the River work of the service, for jobs.Config.Extensions: the remediation
// jobs and the due-date job (queue "review").
func (s *Service) Extension() interface {
	AddWorkers(w *river.Workers)
	Queues() map[string]river.QueueConfig
	PeriodicJobs() []*river.PeriodicJob
} {
	return extension{s: s}
}
