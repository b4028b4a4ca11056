package awsfetch

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/smithy-go"
	"golang.org/x/time/rate"
)

func TestPacerPaces(t *testing.T) {
	p := newPacer("iam", "111111111111", Quota{Rate: 50, Burst: 1})
	start := time.Now()
	for i := 0; i < 11; i++ {
		if err := p.wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	// 10 intervals of 20 ms after the first call.
	if d := time.Since(start); d < 180*time.Millisecond {
		t.Errorf("11 calls at 50/s took %s, want about 200ms", d)
	}
}

func TestPacerAdapts(t *testing.T) {
	p := newPacer("identitycenter", "", Quota{Rate: 20, Burst: 1})
	p.throttled()
	if got := p.lim.Limit(); got != rate.Limit(20*cutFactor) {
		t.Fatalf("after a throttle the rate is %v, want %v", got, 20*cutFactor)
	}
	// Throttles answered for calls already in flight do not cut again.
	p.throttled()
	if got := p.lim.Limit(); got != rate.Limit(20*cutFactor) {
		t.Errorf("a second throttle within a second cut the rate to %v", got)
	}
	// The rate comes back linearly, and never above the configured rate.
	p.mu.Lock()
	p.cutAt = time.Now().Add(-2 * time.Second)
	p.mu.Unlock()
	_ = p.wait(context.Background())
	want := rate.Limit(20*cutFactor + 20*recoverPerSecond*2)
	if got := p.lim.Limit(); got < want-0.1 || got > want+0.1 {
		t.Errorf("two seconds after the cut the rate is %v, want about %v", got, want)
	}
	p.mu.Lock()
	p.cutAt = time.Now().Add(-time.Minute)
	p.mu.Unlock()
	_ = p.wait(context.Background())
	if got := p.lim.Limit(); got != 20 {
		t.Errorf("long after the cut the rate is %v, want 20", got)
	}
	if p.throttle != 2 || p.calls != 2 {
		t.Errorf("counted %d throttles and %d calls, want 2 and 2", p.throttle, p.calls)
	}
}

func TestPacerFloor(t *testing.T) {
	p := newPacer("iam", "x", Quota{Rate: 10, Burst: 1})
	p.cur = 0.1
	for i := 0; i < 3; i++ {
		p.cutAt = time.Time{}
		p.throttled()
	}
	if got := p.lim.Limit(); got != rate.Limit(10*minShare) {
		t.Errorf("rate cut to %v, want the floor %v", got, 10*minShare)
	}
}

func TestUnpacedPacer(t *testing.T) {
	p := newPacer("scim", "", Quota{})
	start := time.Now()
	for i := 0; i < 1000; i++ {
		_ = p.wait(context.Background())
	}
	p.throttled() // must not panic without a limiter
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Errorf("1000 unpaced calls took %s", d)
	}
}

func TestPacerCancelled(t *testing.T) {
	p := newPacer("iam", "x", Quota{Rate: 0.001, Burst: 1})
	_ = p.wait(context.Background())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.wait(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestPacersFor(t *testing.T) {
	g := newPacing(DefaultQuotas(), newRecorder(nil))
	ps := g.pacersFor("sso", "DescribePermissionSet", "111111111111")
	if len(ps) != 2 || ps[0].bucket != "sso:DescribePermissionSet" || ps[1].bucket != "identitycenter" || ps[1].scope != "" {
		t.Errorf("DescribePermissionSet pacers = %+v", ps)
	}
	ps = g.pacersFor("identitystore", "ListUsers", "111111111111")
	if len(ps) != 1 || ps[0] != g.pacer("identitycenter", "") {
		t.Errorf("identity store pacers = %+v, want the shared Identity Center pacer", ps)
	}
	a, b := g.pacersFor("iam", "ListRoles", "111111111111"), g.pacersFor("iam", "ListRoles", "222222222222")
	if a[0] == b[0] {
		t.Error("two accounts share an IAM pacer; IAM quotas are per account")
	}
}

func TestStatsFloor(t *testing.T) {
	s := &Stats{Buckets: []BucketStats{
		{Bucket: "iam", Scope: "111111111111", Calls: 30, Rate: 15},
		{Bucket: "identitycenter", Calls: 100, Rate: 20},
		{Bucket: "sso:DescribePermissionSet", Calls: 4, Rate: 1},
	}}
	if d, name := s.Floor(); d != 5*time.Second || name != "identitycenter" {
		t.Errorf("floor = %s (%s), want 5s (identitycenter)", d, name)
	}
	if d, name := s.FloorAt(map[string]float64{"iam": 1}); d != 30*time.Second || name != "iam (111111111111)" {
		t.Errorf("floor at IAM 1/s = %s (%s), want 30s (iam (111111111111))", d, name)
	}
}

func TestWorkQueuePriorityAndErrors(t *testing.T) {
	q := newWorkQueue(context.Background(), 1)
	defer q.close()
	var mu sync.Mutex
	var order []string
	record := func(s string) func(context.Context) error {
		return func(context.Context) error {
			mu.Lock()
			order = append(order, s)
			mu.Unlock()
			return nil
		}
	}
	// Hold the only worker while the queue fills, so that priority decides the order.
	release := make(chan struct{})
	q.add(high, func(context.Context) error { <-release; return nil })
	q.add(low, record("low1"))
	q.add(high, record("high1"))
	q.add(low, record("low2"))
	q.add(high, func(context.Context) error {
		q.add(high, record("high3"))
		return record("high2")(context.Background())
	})
	close(release)
	if err := q.wait(); err != nil {
		t.Fatal(err)
	}
	want := []string{"high1", "high2", "high3", "low1", "low2"}
	if len(order) != len(want) {
		t.Fatalf("order = %v, want %v", order, want)
	}
	for i := range want {
		if order[i] != want[i] {
			t.Fatalf("order = %v, want %v", order, want)
		}
	}

	boom := errors.New("boom")
	q2 := newWorkQueue(context.Background(), 2)
	defer q2.close()
	var sawCancel bool
	q2.add(high, func(context.Context) error { return boom })
	var wg sync.WaitGroup
	wg.Add(1)
	q2.add(low, func(ctx context.Context) error {
		defer wg.Done()
		<-ctx.Done() // the failure cancels the rest
		sawCancel = true
		return ctx.Err()
	})
	if err := waitOrFail(&wg, q2); !errors.Is(err, boom) {
		t.Errorf("err = %v, want the first error", err)
	}
	if !sawCancel {
		t.Error("the remaining task was not cancelled")
	}
}

// Only the error codes a call marks as answers are kept out of the failed calls: the
// same code on another call, and other codes on that call, are still failures.
func TestAnswersAreNotFailedCalls(t *testing.T) {
	noSuch := &smithy.GenericAPIError{Code: "NoSuchEntity", Message: "The user with name x cannot be found."}
	denied := &smithy.GenericAPIError{Code: "AccessDenied", Message: "no"}
	marked := withAnswers(context.Background(), "NoSuchEntity")
	for _, c := range []struct {
		name string
		ctx  context.Context
		err  error
		want bool
	}{
		{"marked code", marked, noSuch, true},
		{"marked code, wrapped", marked, fmt.Errorf("operation error IAM: GetLoginProfile: %w", noSuch), true},
		{"other code", marked, denied, false},
		{"unmarked call", context.Background(), noSuch, false},
		{"no error", marked, nil, false},
	} {
		if got := isAnswer(c.ctx, c.err); got != c.want {
			t.Errorf("%s: isAnswer = %v, want %v", c.name, got, c.want)
		}
	}
}
