package awsfetch

import (
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse/gatehouse/internal/inventory"
)

// Stats describe what a fetch cost and what it could not do.
type Stats struct {
	Started time.Time
	Wall    time.Duration

	// Calls counts every API call made (each attempt of each operation, as AWS counts
	// them against the quotas). Throttles are calls answered with a throttling error,
	// Errors calls that failed otherwise (5xx, dropped connections, denials), Retries the
	// attempts beyond the first of each operation.
	Calls, Throttles, Errors, Retries int64

	// Services and Operations break the counts down, sorted by name.
	Services   []ServiceStats
	Operations []OperationStats
	// Buckets are the calls charged to each quota bucket and scope, with the pace used;
	// Floor derives the quota floor from them.
	Buckets []BucketStats

	// Accounts is how many accounts were found, Synced how many had their IAM fetched.
	Accounts, Synced int
	// Skipped lists the accounts that could not be synced, by id.
	Skipped []SkippedAccount

	// Assignments records how Identity Center assignments were listed and why.
	Assignments AssignmentChoice
	// UserStatus counts Identity Center users by status and says why some are unknown.
	UserStatus UserStatusStats

	// CredentialReports summarises the synced accounts' IAM credential reports.
	CredentialReports CredentialReportStats
}

// UserStatusStats count Identity Center users by status. FromSCIM is how many of the
// known ones came from SCIM rather than the Identity Store API; Note says why the
// Unknown ones are unknown.
type UserStatusStats struct {
	Enabled, Disabled, Unknown, FromSCIM int
	Note                                 string
}

func userStatusStats(ic *inventory.IdentityCenter) UserStatusStats {
	s := UserStatusStats{Note: ic.UserStatusNote}
	for _, u := range ic.Users {
		switch u.Status {
		case inventory.UserEnabled:
			s.Enabled++
		case inventory.UserDisabled:
			s.Disabled++
		default:
			s.Unknown++
		}
		if u.StatusSource == inventory.StatusFromSCIM {
			s.FromSCIM++
		}
	}
	return s
}

// ServiceStats are one service's counts.
type ServiceStats struct {
	Service                           string
	Calls, Throttles, Errors, Retries int64
}

// OperationStats are one operation's counts.
type OperationStats struct {
	Service, Operation                string
	Calls, Throttles, Errors, Retries int64
}

// BucketStats are the calls charged to one quota bucket in one scope (an account id for
// IAM and STS; empty for organization-wide buckets) and the rate they were paced at.
type BucketStats struct {
	Bucket, Scope    string
	Calls, Throttles int64
	Rate             float64
}

// AssignmentChoice is the strategy used to list Identity Center assignments and the
// number of calls each strategy needed at least (one per provisioned account and
// permission set pair, or one per user and group).
type AssignmentChoice struct {
	Strategy       AssignmentStrategy
	PairCalls      int
	PrincipalCalls int
	// Note, when not empty, says why Strategy is not the cheaper one:
	// ListAccountAssignmentsForPrincipal is not allowed for this caller or instance, or
	// AWS refused it and the listing fell back to ListAccountAssignments.
	Note string
}

// Floor is the quota floor of the fetch at the rates it was paced at: for each bucket
// and scope, its calls divided by its rate; the largest, and which bucket it is.
func (s *Stats) Floor() (time.Duration, string) {
	return s.FloorAt(nil)
}

// FloorAt is Floor with other rates per bucket (such as a simulator's quotas); buckets
// missing from rates keep the rate they were paced at.
func (s *Stats) FloorAt(rates map[string]float64) (time.Duration, string) {
	var best time.Duration
	name := ""
	for _, b := range s.Buckets {
		r := b.Rate
		if v, ok := rates[b.Bucket]; ok {
			r = v
		}
		if d := floorOf(b.Calls, r); d > best {
			best, name = d, b.Bucket
			if b.Scope != "" {
				name += " (" + b.Scope + ")"
			}
		}
	}
	return best, name
}

// Live counts calls while a fetch runs, safe to read from another goroutine.
type Live struct {
	calls, throttles atomic.Int64
}

// Calls returns the API calls made so far.
func (l *Live) Calls() int64 { return l.calls.Load() }

// Throttles returns the throttling errors seen so far.
func (l *Live) Throttles() int64 { return l.throttles.Load() }

// recorder counts calls per service and operation as they happen.
type recorder struct {
	live *Live

	mu  sync.Mutex
	ops map[[2]string]*opCount
}

type opCount struct {
	operations, attempts, throttles, errors int64
}

func newRecorder(live *Live) *recorder {
	return &recorder{live: live, ops: map[[2]string]*opCount{}}
}

func (r *recorder) get(service, op string) *opCount {
	k := [2]string{service, op}
	c := r.ops[k]
	if c == nil {
		c = &opCount{}
		r.ops[k] = c
	}
	return c
}

// operation counts one operation started (its attempts are counted by attempt).
func (r *recorder) operation(service, op string) {
	r.mu.Lock()
	r.get(service, op).operations++
	r.mu.Unlock()
}

// attempt counts one API call and how it ended.
func (r *recorder) attempt(service, op string, err error, throttled bool) {
	r.mu.Lock()
	c := r.get(service, op)
	c.attempts++
	switch {
	case throttled:
		c.throttles++
	case err != nil:
		c.errors++
	}
	r.mu.Unlock()
	if r.live != nil {
		r.live.calls.Add(1)
		if throttled {
			r.live.throttles.Add(1)
		}
	}
}

// fill writes the counts into s.
func (r *recorder) fill(s *Stats) {
	r.mu.Lock()
	defer r.mu.Unlock()
	services := map[string]*ServiceStats{}
	s.Operations = s.Operations[:0]
	for k, c := range r.ops {
		retries := c.attempts - c.operations
		if retries < 0 {
			retries = 0
		}
		s.Operations = append(s.Operations, OperationStats{Service: k[0], Operation: k[1],
			Calls: c.attempts, Throttles: c.throttles, Errors: c.errors, Retries: retries})
		ss := services[k[0]]
		if ss == nil {
			ss = &ServiceStats{Service: k[0]}
			services[k[0]] = ss
		}
		ss.Calls += c.attempts
		ss.Throttles += c.throttles
		ss.Errors += c.errors
		ss.Retries += retries
		s.Calls += c.attempts
		s.Throttles += c.throttles
		s.Errors += c.errors
		s.Retries += retries
	}
	sort.Slice(s.Operations, func(i, j int) bool {
		if s.Operations[i].Service != s.Operations[j].Service {
			return s.Operations[i].Service < s.Operations[j].Service
		}
		return s.Operations[i].Operation < s.Operations[j].Operation
	})
	for _, ss := range services {
		s.Services = append(s.Services, *ss)
	}
	sort.Slice(s.Services, func(i, j int) bool { return s.Services[i].Service < s.Services[j].Service })
}
