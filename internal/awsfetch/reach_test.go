package awsfetch

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// refused is the error a call to a closed port returns, as the SDK wraps it.
func refused() error {
	op := &net.OpError{Op: "dial", Net: "tcp", Addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}, Err: errors.New("connect: connection refused")}
	return &smithyhttp.RequestSendError{Err: &url.Error{Op: "Post", URL: "http://127.0.0.1:1/", Err: op}}
}

// apiError is an error response AWS sent, with its HTTP status.
func apiError(status int, code string) error {
	return &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
		Err:      &smithy.GenericAPIError{Code: code, Message: code},
	}
}

// The retry policy: an endpoint that never answered gets a short retry for connection
// failures; once it has answered, a connection failure, a 5xx and a throttle get the full
// policy; credential failures are never retried by the call that needed them.
func TestRetryPolicy(t *testing.T) {
	newR := func(reached bool) *retryer {
		reach := &reachability{}
		reach.begin()
		if reached {
			reach.answered(nil)
		}
		return newRetryer(10, 20*time.Second, reach)().(*retryer)
	}

	unproven := newR(false)
	if !unproven.IsErrorRetryable(refused()) {
		t.Fatal("a refused connection is not retried at all")
	}
	for attempt := 1; attempt < reachAttempts; attempt++ {
		if d, err := unproven.RetryDelay(attempt, refused()); err != nil || d != reachBackoff {
			t.Errorf("unproven endpoint, attempt %d: delay %s, %v; want %s", attempt, d, err, reachBackoff)
		}
	}
	if _, err := unproven.RetryDelay(reachAttempts, refused()); err == nil || err.Error() != refused().Error() {
		t.Errorf("unproven endpoint, attempt %d: %v, want the connection error itself (no more retries)", reachAttempts, err)
	}
	// A 5xx that AWS sent is an answer: the full policy, even before anything succeeded.
	if d, err := unproven.RetryDelay(reachAttempts, apiError(503, "ServiceUnavailable")); err != nil || d > 20*time.Second {
		t.Errorf("an AWS 503 at the start: %s, %v; want a standard backoff", d, err)
	}

	proven := newR(true)
	for _, e := range []error{refused(), apiError(500, "ServiceFailure"), apiError(400, "Throttling")} {
		if !proven.IsErrorRetryable(e) {
			t.Errorf("%v is not retried during a sync", e)
		}
		if _, err := proven.RetryDelay(8, e); err != nil {
			t.Errorf("%v: no retry at attempt 8 during a sync: %v", e, err)
		}
	}
	if proven.MaxAttempts() != 10 {
		t.Errorf("MaxAttempts = %d", proven.MaxAttempts())
	}

	creds := &credentialsError{role: "arn:aws:iam::1:role/R", err: refused()}
	if proven.IsErrorRetryable(creds) || unproven.IsErrorRetryable(creds) {
		t.Error("a credential failure is retried by the call that needed the credentials (retries inside retries)")
	}
	if unproven.reach.reached.Load() {
		t.Fatal("unproven became proven")
	}
	unproven.reach.answered(apiError(403, "AccessDenied"))
	if !unproven.reach.reached.Load() {
		t.Error("an AWS error response does not prove the endpoint")
	}
	notAWS := &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 404}},
		Err: &smithy.DeserializationError{Err: errors.New("XML syntax error")}}
	fresh := &reachability{}
	fresh.answered(notAWS)
	if fresh.reached.Load() {
		t.Error("a web page proves the endpoint")
	}
}

func TestUnreachableSaysWhy(t *testing.T) {
	cases := []struct {
		err  error
		want string
	}{
		{refused(), "connection refused to 127.0.0.1:1 (nothing listens there), calling http://127.0.0.1:1/"},
		{&smithyhttp.RequestSendError{Err: &url.Error{Op: "Post", URL: "http://nowhere.invalid/", Err: &net.OpError{Op: "dial", Net: "tcp",
			Err: &net.DNSError{Err: "no such host", Name: "nowhere.invalid", IsNotFound: true}}}}, "no such host nowhere.invalid, calling http://nowhere.invalid/"},
	}
	for _, c := range cases {
		if got, ok := Unreachable(c.err); !ok || got != c.want {
			t.Errorf("Unreachable(%v) = %q, %v; want %q", c.err, got, ok, c.want)
		}
	}
	for _, e := range []error{nil, context.Canceled, apiError(403, "AccessDenied"), apiError(500, "ServiceFailure")} {
		if got, ok := Unreachable(e); ok {
			t.Errorf("Unreachable(%v) = %q, want not unreachable", e, got)
		}
	}
}
