package awsfetch

import (
	"context"
	"math"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go/middleware"
	"golang.org/x/time/rate"
)

// Quota is a client-side pace: Rate calls per second with bursts of up to Burst calls.
// A Rate of zero or less leaves the bucket unpaced.
type Quota struct {
	Rate  float64
	Burst int
}

// Quotas maps a bucket to its pace. Keys are service signing names ("iam", "sts",
// "organizations", "scim"), "identitycenter" for SSO Admin and Identity Store together
// (they share one quota in AWS), and "service:Operation" for an operation with its own,
// stricter quota on top of its service's ("sso:DescribePermissionSet"). The keys are the
// simulator's (awssim.Quotas), so the quota floor of a sync can be computed from Stats
// against either.
type Quotas map[string]Quota

// DefaultQuotas pace each service at AWS's quota:
//   - IAM: about 15 calls per second per account (observed; IAM publishes no rate).
//   - STS: 600 per second per account and region (AWS STS quotas).
//   - Organizations: about 10 per second for the organization.
//   - IAM Identity Center (SSO Admin and Identity Store together): about 20 per second
//     per instance, not adjustable; DescribePermissionSet alone about 1 per second.
//   - SCIM: 20 per second (the SCIM API throttles with 429; its rate is not published).
//
// Bursts are kept below the services' own so that arrival jitter on the network never
// turns a paced call into a throttled one.
func DefaultQuotas() Quotas {
	return Quotas{
		"iam":                       {Rate: 15, Burst: 10},
		"sts":                       {Rate: 600, Burst: 50},
		"organizations":             {Rate: 10, Burst: 5},
		"identitycenter":            {Rate: 20, Burst: 5},
		"sso:DescribePermissionSet": {Rate: 1, Burst: 2},
		"scim":                      {Rate: 20, Burst: 5},
	}
}

// merge returns q with the buckets of override replacing its own.
func (q Quotas) merge(override Quotas) Quotas {
	out := Quotas{}
	for k, v := range q {
		out[k] = v
	}
	for k, v := range override {
		if v.Burst <= 0 {
			v.Burst = 1
		}
		out[k] = v
	}
	return out
}

// Scaled returns the quotas with every rate multiplied by f.
func (q Quotas) Scaled(f float64) Quotas {
	out := Quotas{}
	for k, v := range q {
		v.Rate *= f
		out[k] = v
	}
	return out
}

// bucketOf returns the quota bucket of a service (signing name): SSO Admin and Identity
// Store share one.
func bucketOf(service string) string {
	if service == "sso" || service == "identitystore" {
		return "identitycenter"
	}
	return service
}

// scoped reports whether a bucket is per calling account (IAM, STS) rather than per
// organization or Identity Center instance.
func scoped(bucket string) bool { return bucket == "iam" || bucket == "sts" }

// pacer paces the calls of one bucket in one scope. It starts at the configured rate,
// cuts the rate when AWS throttles anyway (someone else may be spending the same
// quota: other tools, the console, a second sync), and recovers linearly over a few
// seconds, never above the configured rate.
type pacer struct {
	bucket, scope string
	max           rate.Limit
	lim           *rate.Limiter // nil: unpaced

	mu       sync.Mutex
	cur      rate.Limit
	cutAt    time.Time
	cutRate  rate.Limit
	calls    int64
	throttle int64
}

const (
	// cutFactor is the rate kept after a throttle.
	cutFactor = 0.7
	// recoverPerSecond is the share of the configured rate regained per second after a cut.
	recoverPerSecond = 0.05
	// minShare is the lowest share of the configured rate a pacer is cut to.
	minShare = 0.05
)

func newPacer(bucket, scope string, q Quota) *pacer {
	p := &pacer{bucket: bucket, scope: scope}
	if q.Rate > 0 {
		p.max = rate.Limit(q.Rate)
		p.cur = p.max
		p.lim = rate.NewLimiter(p.max, max(q.Burst, 1))
	}
	return p
}

// wait blocks until the pacer allows one call.
func (p *pacer) wait(ctx context.Context) error {
	p.mu.Lock()
	p.calls++
	if p.lim != nil && p.cur < p.max {
		r := p.cutRate + rate.Limit(float64(p.max)*recoverPerSecond*time.Since(p.cutAt).Seconds())
		if r > p.max {
			r = p.max
		}
		p.cur = r
		p.lim.SetLimit(r)
	}
	lim := p.lim
	p.mu.Unlock()
	if lim == nil {
		return nil
	}
	if err := lim.Wait(ctx); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return err
	}
	return nil
}

// throttled records a throttling error and cuts the rate, at most once per second:
// the calls in flight when the first throttle came back would otherwise cut it again
// for the same overload.
func (p *pacer) throttled() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.throttle++
	if p.lim == nil || time.Since(p.cutAt) < time.Second {
		return
	}
	r := p.cur * cutFactor
	if floor := p.max * minShare; r < floor {
		r = floor
	}
	p.cur, p.cutRate, p.cutAt = r, r, time.Now()
	p.lim.SetLimit(r)
}

// pacing holds every pacer of a fetch and the statistics they feed.
type pacing struct {
	quotas Quotas
	rec    *recorder
	// reach learns from every attempt whether the endpoint answers like AWS.
	reach *reachability

	mu     sync.Mutex
	pacers map[string]*pacer // bucket|scope
}

func newPacing(q Quotas, rec *recorder) *pacing {
	return &pacing{quotas: q, rec: rec, reach: &reachability{}, pacers: map[string]*pacer{}}
}

func (g *pacing) pacer(bucket, scope string) *pacer {
	if !scoped(bucket) {
		scope = ""
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	k := bucket + "|" + scope
	p := g.pacers[k]
	if p == nil {
		p = newPacer(bucket, scope, g.quotas[bucket])
		g.pacers[k] = p
	}
	return p
}

// pacersFor returns the pacers a call waits on: the operation's own (if it has a quota of
// its own) first, then its service's.
func (g *pacing) pacersFor(service, op, scope string) []*pacer {
	var out []*pacer
	if _, ok := g.quotas[service+":"+op]; ok {
		out = append(out, g.pacer(service+":"+op, ""))
	}
	return append(out, g.pacer(bucketOf(service), scope))
}

// buckets returns the calls counted by every pacer, for the quota floor.
func (g *pacing) buckets() []BucketStats {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]BucketStats, 0, len(g.pacers))
	for _, p := range g.pacers {
		p.mu.Lock()
		out = append(out, BucketStats{Bucket: p.bucket, Scope: p.scope, Calls: p.calls, Throttles: p.throttle, Rate: float64(p.max)})
		p.mu.Unlock()
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Bucket != out[j].Bucket {
			return out[i].Bucket < out[j].Bucket
		}
		return out[i].Scope < out[j].Scope
	})
	return out
}

// serviceNames maps SDK service ids to signing names, which are what quotas, the
// simulator and people use.
var serviceNames = map[string]string{
	"IAM":           "iam",
	"STS":           "sts",
	"Organizations": "organizations",
	"SSO Admin":     "sso",
	"identitystore": "identitystore",
}

func serviceName(serviceID string) string {
	if n, ok := serviceNames[serviceID]; ok {
		return n
	}
	return serviceID
}

// instrument returns the API option that paces and counts every call of a client whose
// calls are charged to scope (the account whose credentials sign them).
//
// The pacing step sits right after the SDK's retry loop, so every attempt, retries
// included, waits for its token and is counted: that is what AWS counts against the
// quota. It sits before signing, so a long wait never makes a signature stale.
func (g *pacing) instrument(scope func() string) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		count := middleware.InitializeMiddlewareFunc("GatehouseCountOperation", func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			g.rec.operation(serviceName(middleware.GetServiceID(ctx)), middleware.GetOperationName(ctx))
			return next.HandleInitialize(ctx, in)
		})
		if err := stack.Initialize.Add(count, middleware.After); err != nil {
			return err
		}
		pace := middleware.FinalizeMiddlewareFunc("GatehousePacing", func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			service, op := serviceName(middleware.GetServiceID(ctx)), middleware.GetOperationName(ctx)
			pacers := g.pacersFor(service, op, scope())
			for _, p := range pacers {
				if err := p.wait(ctx); err != nil {
					return middleware.FinalizeOutput{}, middleware.Metadata{}, err
				}
			}
			g.reach.begin()
			out, md, err := next.HandleFinalize(ctx, in)
			g.reach.answered(err)
			throttled := isThrottle(err)
			if throttled {
				// The operation's own quota is the likelier culprit when it has one.
				pacers[0].throttled()
			}
			counted := err
			if isAnswer(ctx, err) {
				// An error code the caller takes as an answer is not a failed call.
				counted = nil
			}
			g.rec.attempt(service, op, counted, throttled)
			return out, md, err
		})
		if err := stack.Finalize.Insert(pace, "Retry", middleware.After); err != nil {
			// A client without the retry step still gets paced and counted.
			return stack.Finalize.Add(pace, middleware.Before)
		}
		return nil
	}
}

// answersKey is the context key of the error codes that answer a call rather than fail it.
type answersKey struct{}

// withAnswers marks the calls made with the returned context: the error codes given are
// answers to them, not failures, and are not counted as failed calls. GetLoginProfile's
// NoSuchEntity, for one, means the user has no console password.
func withAnswers(ctx context.Context, codes ...string) context.Context {
	return context.WithValue(ctx, answersKey{}, codes)
}

// isAnswer reports whether err is an error code that ctx marks as an answer.
func isAnswer(ctx context.Context, err error) bool {
	if err == nil {
		return false
	}
	code := errorCode(err)
	codes, _ := ctx.Value(answersKey{}).([]string)
	for _, c := range codes {
		if c == code {
			return true
		}
	}
	return false
}

// isThrottle reports whether an error is AWS saying "slow down".
func isThrottle(err error) bool {
	if err == nil {
		return false
	}
	return retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err) == aws.TrueTernary
}

// floorOf returns calls / rate as a duration.
func floorOf(calls int64, ratePerSecond float64) time.Duration {
	if ratePerSecond <= 0 || calls == 0 {
		return 0
	}
	return time.Duration(math.Round(float64(calls) / ratePerSecond * float64(time.Second)))
}
