package awsfetch

import (
	"context"
	"errors"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/gatehouse/gatehouse/internal/inventory"
)

// Service last accessed details (IAM's access advisor) on a budget.
//
// GenerateServiceLastAccessedDetails starts an asynchronous job per entity and
// GetServiceLastAccessedDetails answers IN_PROGRESS until it completes; IAM throttles
// both. Waiting for jobs would stall the sync, and reading every entity on every sync
// would spend the account's IAM quota on data that changes slowly. So a sync only:
//   - collects the jobs earlier syncs started (one Get each, with its pages when
//     COMPLETED; IN_PROGRESS is left for the next sync, never waited for),
//   - starts jobs for at most Budget entities of the account whose last result is older
//     than Refresh (never read first, then the oldest), as soon as the account's
//     entities are read, and
//   - looks at each job it started once more at the end of the account's read (one Get),
//     in the same role session. AWS documents that a job id "must be used by the same
//     role within a session": if that binds a job to the session rather than the role,
//     this is the only look that can succeed; if not, a job still running is collected
//     by the next sync as before.
//
// Nothing here fails the account: a denial or a throttle that outlasts the few retries
// is recorded (kind "unread", the job kept) and the findings say the data is missing;
// it is never read as "unused".

// DefaultLastAccessBudget and DefaultLastAccessRefresh are LastAccessPlan's defaults.
const (
	DefaultLastAccessBudget  = 50
	DefaultLastAccessRefresh = 7 * 24 * time.Hour
)

// lastAccessAttempts bounds the SDK's attempts of one of these calls: a throttled call is
// left for the next sync rather than retried for minutes inside this one.
const lastAccessAttempts = 3

// LastAccessPlan asks the fetch to read service last accessed details on a budget.
type LastAccessPlan struct {
	// Budget is how many jobs are started per account per sync (DefaultLastAccessBudget
	// when 0).
	Budget int
	// Refresh: an entity whose last result completed longer ago than this is read again
	// (DefaultLastAccessRefresh when 0).
	Refresh time.Duration
	// Known is what earlier syncs left, by entity ARN.
	Known map[string]LastAccessKnown
	// Now is the clock (time.Now when nil), for the age of results and the time of the
	// reads.
	Now func() time.Time
}

// LastAccessKnown is an entity's state from earlier syncs.
type LastAccessKnown struct {
	// JobID is a job started and not collected yet.
	JobID string
	// CompletedAt is when the last collected job completed (zero: never collected).
	CompletedAt time.Time
}

// The kinds of inventory.LastAccessRead (the store's LastAccess* kinds).
const (
	lastAccessStarted   = "started"
	lastAccessPending   = "pending"
	lastAccessCompleted = "completed"
	lastAccessFailed    = "failed"
	lastAccessUnread    = "unread"
	lastAccessExpired   = "expired"
)

// lastAccessEntities are the users and roles whose details are read: every user and
// role but service-linked roles (AWS owns them; their permissions cannot be trimmed).
func lastAccessEntities(in *inventory.IAM) []string {
	var out []string
	for _, u := range in.Users {
		out = append(out, u.ARN)
	}
	for _, r := range in.Roles {
		if strings.HasPrefix(r.Path, "/aws-service-role/") {
			continue
		}
		out = append(out, r.ARN)
	}
	return out
}

// readLastAccess collects the pending jobs of the account's entities and starts new
// ones within the budget. It never fails: every outcome is a read of its entity.
func readLastAccess(ctx context.Context, client *iam.Client, plan *LastAccessPlan, in *inventory.IAM) []*inventory.LastAccessRead {
	budget, refresh, now := plan.Budget, plan.Refresh, plan.Now
	if budget <= 0 {
		budget = DefaultLastAccessBudget
	}
	if refresh <= 0 {
		refresh = DefaultLastAccessRefresh
	}
	if now == nil {
		now = time.Now
	}
	entities := lastAccessEntities(in)
	var pending, candidates []string
	for _, arn := range entities {
		k := plan.Known[arn]
		switch {
		case k.JobID != "":
			pending = append(pending, arn)
		case k.CompletedAt.IsZero() || now().Sub(k.CompletedAt) > refresh:
			candidates = append(candidates, arn)
		}
	}
	var out []*inventory.LastAccessRead
	reads := make([]*inventory.LastAccessRead, len(pending))
	_ = forEach(ctx, indexes(len(pending)), perUserWorkers, func(ctx context.Context, i int) error {
		reads[i] = collectLastAccess(ctx, client, pending[i], plan.Known[pending[i]].JobID, now().UTC())
		return nil
	})
	for _, r := range reads {
		if r == nil {
			continue // cancelled
		}
		out = append(out, r)
		if r.Kind == lastAccessExpired || r.Kind == lastAccessFailed {
			candidates = append(candidates, r.EntityARN)
		}
	}
	// Never read first, then the oldest result; the ARN settles ties.
	sort.SliceStable(candidates, func(i, j int) bool {
		a, b := plan.Known[candidates[i]].CompletedAt, plan.Known[candidates[j]].CompletedAt
		if !a.Equal(b) {
			return a.Before(b)
		}
		return candidates[i] < candidates[j]
	})
	if len(candidates) > budget {
		candidates = candidates[:budget]
	}
	started := make([]*inventory.LastAccessRead, len(candidates))
	_ = forEach(ctx, indexes(len(candidates)), perUserWorkers, func(ctx context.Context, i int) error {
		started[i] = startLastAccess(ctx, client, candidates[i], now().UTC())
		return nil
	})
	for _, r := range started {
		if r != nil {
			out = append(out, r)
		}
	}
	return out
}

// collectStartedLastAccess looks once at each job this sync started (reads of kind
// started): a job done since is collected now; one still running, or a look that failed,
// keeps the started read, so the next sync collects the job. Other reads are as they are.
func collectStartedLastAccess(ctx context.Context, client *iam.Client, plan *LastAccessPlan, reads []*inventory.LastAccessRead) []*inventory.LastAccessRead {
	now := plan.Now
	if now == nil {
		now = time.Now
	}
	var started []int
	for i, r := range reads {
		if r.Kind == lastAccessStarted && r.JobID != "" {
			started = append(started, i)
		}
	}
	_ = forEach(ctx, started, perUserWorkers, func(ctx context.Context, i int) error {
		r := reads[i]
		got := collectLastAccess(ctx, client, r.EntityARN, r.JobID, now().UTC())
		if got != nil && (got.Kind == lastAccessCompleted || got.Kind == lastAccessFailed) {
			reads[i] = got
		}
		return nil
	})
	return reads
}

func indexes(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// fewAttempts makes the SDK try a call at most lastAccessAttempts times.
func fewAttempts(o *iam.Options) { o.Retryer = retry.AddWithMaxAttempts(o.Retryer, lastAccessAttempts) }

// startLastAccess starts a SERVICE_LEVEL job for the entity.
func startLastAccess(ctx context.Context, client *iam.Client, arn string, at time.Time) *inventory.LastAccessRead {
	out, err := client.GenerateServiceLastAccessedDetails(ctx, &iam.GenerateServiceLastAccessedDetailsInput{
		Arn: aws.String(arn), Granularity: types.AccessAdvisorUsageGranularityTypeServiceLevel}, fewAttempts)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return &inventory.LastAccessRead{EntityARN: arn, Kind: lastAccessUnread, At: at, Error: lastAccessError("GenerateServiceLastAccessedDetails", err)}
	}
	return &inventory.LastAccessRead{EntityARN: arn, Kind: lastAccessStarted, JobID: aws.ToString(out.JobId), At: at}
}

// collectLastAccess reads a job once: its pages when COMPLETED, nothing more when still
// IN_PROGRESS.
func collectLastAccess(ctx context.Context, client *iam.Client, arn, jobID string, at time.Time) *inventory.LastAccessRead {
	r := &inventory.LastAccessRead{EntityARN: arn, JobID: jobID, At: at}
	var marker *string
	for {
		out, err := client.GetServiceLastAccessedDetails(withAnswers(ctx, "NoSuchEntity"), &iam.GetServiceLastAccessedDetailsInput{
			JobId: aws.String(jobID), MaxItems: aws.Int32(iamPageSize), Marker: marker}, fewAttempts)
		switch {
		case err != nil && ctx.Err() != nil:
			return nil
		case err != nil && errorCode(err) == "NoSuchEntity":
			// The job is gone (jobs do not last forever, and a job belongs to the
			// principal that started it): start another.
			r.Kind, r.Error = lastAccessExpired, describe(err)
			return r
		case err != nil:
			r.Kind, r.Error, r.Services = lastAccessUnread, lastAccessError("GetServiceLastAccessedDetails", err), nil
			return r
		}
		switch out.JobStatus {
		case types.JobStatusTypeInProgress:
			r.Kind = lastAccessPending
			return r
		case types.JobStatusTypeFailed:
			r.Kind = lastAccessFailed
			r.Error = "the job failed"
			if out.Error != nil {
				r.Error += ": " + aws.ToString(out.Error.Code) + ": " + aws.ToString(out.Error.Message)
			}
			return r
		}
		for _, s := range out.ServicesLastAccessed {
			r.Services = append(r.Services, inventory.ServiceAccess{Namespace: aws.ToString(s.ServiceNamespace), Name: aws.ToString(s.ServiceName),
				LastAuthenticated: aws.ToTime(s.LastAuthenticated).UTC(), Entities: int(aws.ToInt32(s.TotalAuthenticatedEntities))})
		}
		if !out.IsTruncated || aws.ToString(out.Marker) == "" {
			r.Kind, r.CompletedAt = lastAccessCompleted, aws.ToTime(out.JobCompletionDate).UTC()
			if r.Services == nil {
				r.Services = []inventory.ServiceAccess{}
			}
			return r
		}
		marker = out.Marker
	}
}

// lastAccessError says why a call failed, and for a denial what to do.
func lastAccessError(op string, err error) string {
	if isDenied(err) {
		return "iam:" + op + " denied: " + describe(err) + "; add it to the role's policy (gatehouse setup aws generates it)"
	}
	var me *retry.MaxAttemptsError
	if errors.As(err, &me) {
		return callFailure(err) + "; left for the next sync"
	}
	return callFailure(err)
}
