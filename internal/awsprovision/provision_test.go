package awsprovision

import (
	"context"
	"errors"

	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
	"github.com/aws/smithy-go"

	"github.com/gatehouse/gatehouse/internal/awsfetch"
	"github.com/gatehouse/gatehouse/internal/awssim"
)

// world is the provisioning fixture served on loopback, with the ids tests need.
type world struct {
	sim   *awssim.Sim
	info  awssim.Info
	users map[string]string // user name -> id
	group map[string]string // group name -> id
	ps    map[string]string // permission set name -> id (ps-...)
}

// serve starts the provisioning fixture with opts. The fixture's clock runs with the
// wall clock, so assignment delays elapse.
func serve(t *testing.T, opts awssim.Options) *world {
	t.Helper()
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	w, err := awssim.LoadFixture(filepath.Join("..", "awssim", "testdata", "provisioning.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	s := awssim.New(w, opts)
	if _, err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	out := &world{sim: s, info: s.Info(), users: map[string]string{}, group: map[string]string{}, ps: map[string]string{}}
	s.Do(func(w *awssim.World) {
		for _, u := range w.SSO.Users {
			out.users[u.UserName] = u.ID
		}
		for _, g := range w.SSO.Groups {
			out.group[g.DisplayName] = g.ID
		}
		for _, p := range w.SSO.PermissionSets {
			out.ps[p.Name] = p.ARN[strings.LastIndex(p.ARN, "/")+1:]
		}
	})
	return out
}

// config reaches the simulator as Gatehouse would, without client-side pacing so that
// the tests are bound by the simulator alone.
func (w *world) config() awsfetch.Config {
	return awsfetch.Config{
		Region: w.info.Region, EndpointURL: w.info.Endpoint, RoleARN: w.info.RoleARN, ExternalID: w.info.ExternalID,
		Credentials: credentials.NewStaticCredentialsProvider(w.info.AccessKeyID, w.info.SecretAccessKey, ""),
		Quotas:      awsfetch.Quotas{"iam": {}, "sts": {}, "organizations": {}, "identitycenter": {}, "sso:DescribePermissionSet": {}},
	}
}

func (w *world) provisioner(t *testing.T, opts Options) *Provisioner {
	t.Helper()
	if opts.PollInterval == 0 {
		opts.PollInterval = 50 * time.Millisecond
	}
	p, err := Connect(context.Background(), w.config(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// creations returns the creation operations the simulator ran, with when each started
// (its due time less the delay, on the world's clock).
func (w *world) creations(delay time.Duration) (ops []awssim.AssignmentOperation, starts []time.Time) {
	w.sim.Do(func(world *awssim.World) {
		for _, op := range world.SSO.Operations {
			if !op.Delete {
				ops = append(ops, *op)
				starts = append(starts, op.DoneAt.Add(-delay))
			}
		}
	})
	return ops, starts
}

// maxOverlap is the most operations in progress at once, each running [start, start+d).
func maxOverlap(starts []time.Time, d time.Duration) int {
	type edge struct {
		at    time.Time
		delta int
	}
	var edges []edge
	for _, s := range starts {
		edges = append(edges, edge{s, 1}, edge{s.Add(d), -1})
	}
	sort.Slice(edges, func(i, j int) bool {
		if !edges[i].at.Equal(edges[j].at) {
			return edges[i].at.Before(edges[j].at)
		}
		return edges[i].delta < edges[j].delta // an end frees its slot before a start takes one
	})
	cur, best := 0, 0
	for _, e := range edges {
		cur += e.delta
		best = max(best, cur)
	}
	return best
}

// twelveAssignments are twelve assignments the fixture does not have: every
// (principal, permission set) pair in staging and four in management.
func (w *world) twelveAssignments() []AccountAssignment {
	var out []AccountAssignment
	for _, ps := range []string{"AdministratorAccess", "ReadOnly", "Developer"} {
		for _, u := range []string{"alice", "bob", "erin"} {
			out = append(out, AccountAssignment{AccountID: "333333333333", PermissionSet: w.ps[ps], PrincipalType: PrincipalUser, PrincipalID: w.users[u]})
		}
	}
	for _, g := range []string{"Admins", "Developers"} {
		out = append(out, AccountAssignment{AccountID: "333333333333", PermissionSet: w.ps["Developer"], PrincipalType: PrincipalGroup, PrincipalID: w.group[g]})
	}
	out = append(out, AccountAssignment{AccountID: "111111111111", PermissionSet: w.ps["ReadOnly"], PrincipalType: PrincipalUser, PrincipalID: w.users["bob"]})
	return out
}

// Twelve grants at once: all succeed, the simulator never has more than ten creations in
// progress and never has to refuse one (so each creation is one call), and the queue
// is used to the full: ten run together while two wait.
func TestConcurrentCreationsQueueAtTen(t *testing.T) {
	const delay = 1500 * time.Millisecond
	w := serve(t, awssim.Options{AssignmentDelay: delay})
	p := w.provisioner(t, Options{})
	todo := w.twelveAssignments()

	start := time.Now()
	var wg sync.WaitGroup
	results := make([]*Result, len(todo))
	errs := make([]error, len(todo))
	for i, a := range todo {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = p.Grant(context.Background(), a)
		}()
	}
	wg.Wait()
	took := time.Since(start)

	for i, err := range errs {
		if err != nil {
			t.Fatalf("grant %v: %v", todo[i], err)
		}
		if results[i].Outcome != Created {
			t.Errorf("grant %v: outcome %q, want created", todo[i], results[i].Outcome)
		}
	}
	if n := w.sim.Counters().Calls("sso", "CreateAccountAssignment"); n != int64(len(todo)) {
		t.Errorf("CreateAccountAssignment was called %d times for %d grants: the simulator refused creations over the limit", n, len(todo))
	}
	ops, starts := w.creations(delay)
	if len(ops) != len(todo) {
		t.Fatalf("the simulator ran %d creations, want %d", len(ops), len(todo))
	}
	for _, op := range ops {
		if op.Status != "SUCCEEDED" {
			t.Errorf("creation %s ended %s %s", op.RequestID, op.Status, op.FailureReason)
		}
	}
	if m := maxOverlap(starts, delay); m != MaxCreationsInProgress {
		t.Errorf("at most %d creations were in progress at once, want exactly %d (never more, and the queue full)", m, MaxCreationsInProgress)
	}
	if took < 2*delay {
		t.Errorf("twelve creations took %s, less than two rounds of %s: the last two did not wait for a slot", took, delay)
	}
	w.sim.Do(func(world *awssim.World) {
		for _, a := range todo {
			psARN := ""
			for _, ps := range world.SSO.PermissionSets {
				if strings.HasSuffix(ps.ARN, "/"+a.PermissionSet) {
					psARN = ps.ARN
				}
			}
			if !world.SSO.HasAssignment(awssim.Assignment{AccountID: a.AccountID, PermissionSetARN: psARN, PrincipalType: string(a.PrincipalType), PrincipalID: a.PrincipalID}) {
				t.Errorf("AWS has no assignment %v", a)
			}
		}
	})
}

// Another tool spending the creation limit makes AWS answer ThrottlingException; the
// grant waits it out and succeeds once AWS has room again.
func TestThrottledCreationIsRetried(t *testing.T) {
	const delay = 700 * time.Millisecond
	w := serve(t, awssim.Options{AssignmentDelay: delay})
	p := w.provisioner(t, Options{})
	todo := w.twelveAssignments()

	// The other tool: ten creations straight through the SDK, outside Gatehouse's queue.
	sso := ssoadmin.NewFromConfig(p.Session().IdentityCenter())
	for _, a := range todo[:10] {
		_, err := sso.CreateAccountAssignment(context.Background(), &ssoadmin.CreateAccountAssignmentInput{
			InstanceArn: aws.String(w.info.InstanceARN), TargetId: aws.String(a.AccountID), TargetType: ssotypes.TargetTypeAwsAccount,
			PermissionSetArn: aws.String(strings.Replace(w.info.InstanceARN, ":instance/", ":permissionSet/", 1) + "/" + a.PermissionSet),
			PrincipalType:    ssotypes.PrincipalType(a.PrincipalType), PrincipalId: aws.String(a.PrincipalID)})
		if err != nil {
			t.Fatal(err)
		}
	}
	res, err := p.Grant(context.Background(), todo[11])
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != Created {
		t.Errorf("outcome %q, want created", res.Outcome)
	}
	throttled := 0
	for _, c := range res.Calls {
		if c.Operation == "CreateAccountAssignment" && c.ErrorCode == "ThrottlingException" {
			throttled++
		}
	}
	if calls := w.sim.Counters().Calls("sso", "CreateAccountAssignment"); calls <= 11 {
		t.Errorf("CreateAccountAssignment called %d times: the grant never met the limit, so the test proved nothing", calls)
	}
	t.Logf("%d calls to CreateAccountAssignment, %d throttled results seen after the SDK's retries", w.sim.Counters().Calls("sso", "CreateAccountAssignment"), throttled)
}

// A wait that runs out is a timeout error naming the request; running the grant again
// continues that request instead of starting a second one, and reports it created.
func TestTimeoutThenRetryContinuesTheSameRequest(t *testing.T) {
	const delay = 1200 * time.Millisecond
	w := serve(t, awssim.Options{AssignmentDelay: delay})
	p := w.provisioner(t, Options{AssignmentWait: 200 * time.Millisecond})
	a := w.twelveAssignments()[0]

	_, err := p.Grant(context.Background(), a)
	var pe *Error
	if !errors.As(err, &pe) || pe.Kind != KindTimeout || pe.RequestID == "" {
		t.Fatalf("first grant: %v, want a timeout naming the request", err)
	}
	if !strings.Contains(err.Error(), "request "+pe.RequestID+" is still IN_PROGRESS") {
		t.Errorf("timeout message %q does not name the request", err)
	}

	p.opts.AssignmentWait = 5 * time.Second
	res, err := p.Grant(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != Created {
		t.Errorf("second grant: outcome %q, want created", res.Outcome)
	}
	if want := "continued request " + pe.RequestID + ", which an earlier attempt started and AWS had not finished"; !contains(res.Notes, want) {
		t.Errorf("notes %q lack %q", res.Notes, want)
	}
	if ops, _ := w.creations(delay); len(ops) != 1 {
		t.Errorf("the simulator ran %d creations for one assignment, want 1", len(ops))
	}

	// Once done, granting again finds it and writes nothing.
	res, err = p.Grant(context.Background(), a)
	if err != nil || res.Outcome != AlreadyExisted {
		t.Fatalf("third grant: %v, %v; want already existed", res.Outcome, err)
	}
	if n := w.sim.Counters().Calls("sso", "CreateAccountAssignment"); n != 1 {
		t.Errorf("CreateAccountAssignment called %d times, want 1", n)
	}
}

// ConflictException (a create and a delete of one assignment racing) is retried until
// it clears; other errors are not.
func TestRetryBusy(t *testing.T) {
	conflict := &smithy.GenericAPIError{Code: "ConflictException", Message: "busy"}
	calls := 0
	out, err := retryBusy(context.Background(), time.Now().Add(10*time.Second), func() (int, error) {
		calls++
		if calls < 3 {
			return 0, conflict
		}
		return 42, nil
	})
	if err != nil || out != 42 || calls != 3 {
		t.Errorf("retryBusy = %d, %v after %d calls; want 42 after 3", out, err, calls)
	}

	calls = 0
	_, err = retryBusy(context.Background(), time.Now().Add(10*time.Second), func() (int, error) {
		calls++
		return 0, &smithy.GenericAPIError{Code: "ValidationException"}
	})
	if err == nil || calls != 1 {
		t.Errorf("a ValidationException was retried (%d calls, %v)", calls, err)
	}

	calls = 0
	_, err = retryBusy(context.Background(), time.Now().Add(300*time.Millisecond), func() (int, error) {
		calls++
		return 0, conflict
	})
	if !errors.Is(err, conflict) {
		t.Errorf("past the deadline retryBusy returned %v, want the conflict", err)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
