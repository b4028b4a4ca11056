package awsfetch

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// How a connection that fails before the endpoint has ever answered is retried. A wrong
// --endpoint-url, a closed port, a name that does not resolve or a machine without a
// network fail the same way on every attempt: ten attempts with up to 20 s between them
// (the full policy, right for a throttling storm) would keep a person waiting for
// minutes before saying what is wrong. A short, bounded retry still rides out a single
// dropped packet. Once the endpoint has answered like AWS, a failed connection is a
// blip in the middle of a sync and gets the full policy.
const (
	// reachAttempts is how many times a call is tried while the endpoint is unproven.
	reachAttempts = 3
	// reachBudget bounds the time spent retrying an unproven endpoint, from the first
	// call of the session.
	reachBudget = 5 * time.Second
	// reachBackoff is the pause between those attempts.
	reachBackoff = 250 * time.Millisecond
	// dialTimeout bounds one connection attempt, name resolution included. AWS endpoints
	// connect in milliseconds; the SDK's default of 30 s alone would use up the time a
	// person waits for an answer when packets to a wrong address are dropped.
	dialTimeout = 10 * time.Second
)

// reachability remembers whether the endpoint has answered like AWS in this session.
type reachability struct {
	reached atomic.Bool
	// started is when the session's first call was made (UnixNano), 0 before.
	started atomic.Int64
}

// answered records a call's outcome: a success or an AWS error proves the endpoint.
func (r *reachability) answered(err error) {
	if err == nil || isAWSAnswer(err) {
		r.reached.Store(true)
	}
}

// begin notes the time of the session's first call.
func (r *reachability) begin() { r.started.CompareAndSwap(0, time.Now().UnixNano()) }

// givenUp reports whether an unproven endpoint has had its short retry: reachAttempts
// attempts, or reachBudget since the session's first call.
func (r *reachability) givenUp(attempt int) bool {
	return attempt >= reachAttempts || time.Since(time.Unix(0, r.started.Load())) > reachBudget
}

// isAWSAnswer reports whether err is an error response that AWS (or the simulator) sent:
// one with an error code, not a body that could not be read as an AWS error (a web
// server, a proxy's page).
func isAWSAnswer(err error) bool {
	var de *smithy.DeserializationError
	if errors.As(err, &de) {
		return false
	}
	code := errorCode(err)
	return code != "" && code != "UnknownError"
}

// retryer is the SDK's standard retryer with two changes: an endpoint that has not yet
// answered gets the short retry above for connection failures and answers that are not
// AWS's, and errors that can never succeed on a retry are not retried: a failure to get
// credentials (the credential provider already retried its own calls: retrying the call
// that needed them would retry inside retries) and TLS certificate errors.
type retryer struct {
	std   aws.RetryerV2
	reach *reachability
}

// newRetryer is the retry policy of every client: the SDK's standard retryer (jittered
// exponential backoff; throttling, 5xx and connection errors are retried) with enough
// attempts to ride out a throttling storm and without the client-side retry quota,
// which would otherwise fail calls outright after a run of faults and lose data.
func newRetryer(maxAttempts int, maxBackoff time.Duration, reach *reachability) func() aws.Retryer {
	return func() aws.Retryer {
		std := retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = maxAttempts
			o.MaxBackoff = maxBackoff
			o.RateLimiter = ratelimit.None
		})
		return &retryer{std: std, reach: reach}
	}
}

func (r *retryer) IsErrorRetryable(err error) bool {
	var ce *credentialsError
	if errors.As(err, &ce) || isCertificateError(err) {
		return false
	}
	return r.std.IsErrorRetryable(err)
}

func (r *retryer) MaxAttempts() int { return r.std.MaxAttempts() }

// RetryDelay is the standard backoff, except for an unproven endpoint: there a failure
// that is not an AWS answer is retried reachAttempts times within reachBudget, and
// returning the error itself ends the retries with it (the SDK reports an error from
// RetryDelay as the call's error).
func (r *retryer) RetryDelay(attempt int, err error) (time.Duration, error) {
	if !r.reach.reached.Load() && !isAWSAnswer(err) {
		if r.reach.givenUp(attempt) {
			return 0, err
		}
		return reachBackoff, nil
	}
	return r.std.RetryDelay(attempt, err)
}

func (r *retryer) GetRetryToken(ctx context.Context, opErr error) (func(error) error, error) {
	return r.std.GetRetryToken(ctx, opErr)
}

func (r *retryer) GetInitialToken() func(error) error { return r.std.GetInitialToken() }

func (r *retryer) GetAttemptToken(ctx context.Context) (func(error) error, error) {
	return r.std.GetAttemptToken(ctx)
}

// isCertificateError reports a TLS failure that no retry fixes: the endpoint's
// certificate is not trusted or not for that name.
func isCertificateError(err error) bool {
	var unknown x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	var verify *tls.CertificateVerificationError
	return errors.As(err, &unknown) || errors.As(err, &hostname) || errors.As(err, &invalid) || errors.As(err, &verify)
}

// credentialsError is a failure to get credentials: from the standard chain, or from
// STS for an assumed role. It is never retried by the call that needed the credentials.
type credentialsError struct {
	// role is the role being assumed, "" for the standard chain.
	role string
	err  error
}

func (e *credentialsError) Error() string { return e.err.Error() }
func (e *credentialsError) Unwrap() error { return e.err }

// RetryableError tells the SDK's retryer not to retry the call that needed the
// credentials.
func (e *credentialsError) RetryableError() bool { return false }

// markedProvider marks its provider's failures as credentialsError.
type markedProvider struct {
	role string
	p    aws.CredentialsProvider
}

func (m markedProvider) Retrieve(ctx context.Context) (aws.Credentials, error) {
	c, err := m.p.Retrieve(ctx)
	if err != nil {
		return c, &credentialsError{role: m.role, err: err}
	}
	return c, nil
}

// Unreachable reports whether err is a failure to reach the endpoint (no connection, a
// name that does not resolve, a TLS failure, or an answer that is not AWS's) and, if so,
// says what happened in words a person can act on, with the address: "connection
// refused by 127.0.0.1:1", "no such host nonexistent.invalid", ...
func Unreachable(err error) (string, bool) {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return "", false
	}
	where := ""
	var ue *url.Error
	var resp *smithyhttp.ResponseError
	switch {
	case errors.As(err, &ue):
		where = ue.URL
	case errors.As(err, &resp) && resp.Response != nil && resp.Response.Request != nil && resp.Response.Request.URL != nil:
		where = resp.Response.Request.URL.String()
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		what := dns.Err
		if dns.IsNotFound {
			what = "no such host"
		}
		return what + " " + dns.Name + calling(where), true
	}
	if isCertificateError(err) {
		var verify *tls.CertificateVerificationError
		msg := err.Error()
		if errors.As(err, &verify) {
			msg = verify.Err.Error()
		}
		return "TLS certificate not accepted: " + msg + calling(where) + " (AWS_CA_BUNDLE names extra trusted certificates)", true
	}
	var op *net.OpError
	if errors.As(err, &op) {
		addr := ""
		if op.Addr != nil {
			addr = op.Addr.String()
		}
		inner := op.Err.Error()
		switch {
		case strings.Contains(inner, "connection refused"):
			return "connection refused to " + addr + " (nothing listens there)" + calling(where), true
		case op.Timeout():
			return "no answer from " + addr + " (" + op.Op + " timed out)" + calling(where), true
		case op.Op == "dial":
			return "cannot connect to " + addr + ": " + inner + calling(where), true
		}
	}
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) && re.HTTPStatusCode() > 0 && !isAWSAnswer(err) {
		return "HTTP " + strconv.Itoa(re.HTTPStatusCode()) + " with a body that is not an AWS API response (not an AWS endpoint?)" + calling(where), true
	}
	if ue != nil && where != "" {
		var conn interface{ ConnectionError() bool }
		if errors.As(err, &conn) && conn.ConnectionError() {
			return ue.Err.Error() + calling(where), true
		}
	}
	return "", false
}

// UnreachableFix is what to check when AWS cannot be reached at all (Unreachable): the
// sync's error and gatehouse doctor give the same advice.
const UnreachableFix = "check --endpoint-url (and AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_STS), the network and any proxy (HTTPS_PROXY)"

// calling names the URL that was called, when known.
func calling(u string) string {
	if u == "" {
		return ""
	}
	return ", calling " + u
}
