package awssim

import (
	"sync"

	"golang.org/x/time/rate"
)

// Quota is a token bucket: Rate calls per second with bursts of up to Burst.
type Quota struct {
	Rate  float64
	Burst int
	// Source says where the number comes from.
	Source string
}

// Quotas maps a service signing name (iam, sts, organizations, sso, identitystore, s3), or
// "service:Operation" for an operation with its own, stricter quota, to its quota. SSO
// Admin and Identity Store share one bucket per Identity Center instance, Organizations
// one per organization; the others have one bucket per calling account.
type Quotas map[string]Quota

// DefaultQuotas are close to AWS's published or observed limits.
func DefaultQuotas() Quotas {
	return Quotas{
		"iam":                       {Rate: 15, Burst: 30, Source: "observed: IAM publishes no request rate; control-plane list/get calls throttle at roughly 10-20 per second per account"},
		"sts":                       {Rate: 600, Burst: 600, Source: "AWS STS quotas: 600 requests per second per account per region"},
		"organizations":             {Rate: 10, Burst: 20, Source: "observed: ListParents/ListRoots throttle above a few hundred per-account calls (shared/aws-facts.md); about 10 per second sustained"},
		"identitycenter":            {Rate: 20, Burst: 20, Source: "IAM Identity Center: about 20 requests per second shared by SSO Admin and Identity Store (shared/aws-facts.md)"},
		"sso:DescribePermissionSet": {Rate: 1, Burst: 5, Source: "observed throttled to about 1 per second in large instances (shared/aws-facts.md)"},
		"s3":                        {Rate: 3500, Burst: 3500, Source: "S3: 3,500 PUT and 5,500 GET requests per second per prefix"},
	}
}

// Scaled returns the quotas with every rate multiplied by f (0.5 halves them).
func (q Quotas) Scaled(f float64) Quotas {
	out := Quotas{}
	for k, v := range q {
		v.Rate *= f
		if b := int(float64(v.Burst) * f); b >= 1 {
			v.Burst = b
		} else {
			v.Burst = 1
		}
		out[k] = v
	}
	return out
}

// bucketKey returns the key in Quotas that governs a service (Identity Center services
// share one).
func bucketKey(service string) string {
	if service == "sso" || service == "identitystore" {
		return "identitycenter"
	}
	return service
}

type quotaState struct {
	quotas Quotas
	mu     sync.Mutex
	lims   map[string]*rate.Limiter
}

func newQuotaState(q Quotas) *quotaState {
	return &quotaState{quotas: q, lims: map[string]*rate.Limiter{}}
}

// allow takes a token from the service's bucket for the scope and from the operation's
// own bucket if it has one.
func (s *quotaState) allow(service, op, scope string) bool {
	if len(s.quotas) == 0 {
		return true
	}
	if !s.take(bucketKey(service), scope) {
		return false
	}
	return s.take(service+":"+op, scope)
}

func (s *quotaState) take(key, scope string) bool {
	q, ok := s.quotas[key]
	if !ok || q.Rate <= 0 {
		return true
	}
	s.mu.Lock()
	lim := s.lims[key+"|"+scope]
	if lim == nil {
		lim = rate.NewLimiter(rate.Limit(q.Rate), max(q.Burst, 1))
		s.lims[key+"|"+scope] = lim
	}
	s.mu.Unlock()
	return lim.Allow()
}
