package jit

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/gatehouse/gatehouse/internal/awsfetch"
	"github.com/gatehouse/gatehouse/internal/awsprovision"
	"github.com/gatehouse/gatehouse/internal/awssim"
	"github.com/gatehouse/gatehouse/internal/jobs"
	"github.com/gatehouse/gatehouse/internal/store"
)

// The lease tests run the real thing: River jobs on the store, the provisioner through the
// real AWS SDK clients over HTTP on loopback, against the simulator's provisioning fixture
// (Identity Center users alice, bob, erin; permission sets AdministratorAccess, ReadOnly,
// Developer; accounts prod 222222222222, staging 333333333333 and broken 444444444444,
// whose assignments fail).
const (
	simConn    = "aws"
	simProd    = "222222222222"
	simStaging = "333333333333"
	simBroken  = "444444444444"
)

// simEnv is a replica of the server's just-in-time access (service, River jobs, sweeper)
// on a store, against a simulator.
type simEnv struct {
	t    *testing.T
	svc  *Service
	st   *store.Store
	sim  *awssim.Sim
	ev   *events
	jobs *jobs.Service
	// fetchErr, when it returns an error, makes reading the connection's AWS
	// configuration fail (a grant job then fails before it asks AWS anything).
	fetchErr func() error
	users    map[string]string // user name -> id
	ps       map[string]string // permission set name -> ARN
	stop     func()
}

// noConnections gives the jobs no connection to sync (the lease tests need none).
type noConnections struct{}

func (noConnections) ListConnections(context.Context) ([]jobs.Connection, error) { return nil, nil }
func (noConnections) FetchConfig(context.Context, string) (awsfetch.Config, error) {
	return awsfetch.Config{}, fmt.Errorf("no connections in this test")
}

// startSim serves the provisioning fixture with opts, on the wall clock. An operation's
// CreatedDate is truncated to the second (as AWS's); its start is DoneAt less the
// AssignmentDelay.
func startSim(t *testing.T, opts awssim.Options) *awssim.Sim {
	t.Helper()
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	w, err := awssim.LoadFixture(filepath.Join("..", "awssim", "testdata", "provisioning.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// The simulator's clock is the wall clock, so that its operations' times compare
	// with the leases'.
	opts.Now = time.Now
	sim := awssim.New(w, opts)
	if _, err := sim.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	return sim
}

// simConfig reaches the simulator as a connection would, without client-side pacing (the
// shared limiter paces Identity Center).
func simConfig(info awssim.Info) awsfetch.Config {
	return awsfetch.Config{
		Region: info.Region, EndpointURL: info.Endpoint, RoleARN: info.RoleARN, ExternalID: info.ExternalID,
		Credentials: credentials.NewStaticCredentialsProvider(info.AccessKeyID, info.SecretAccessKey, ""),
		Quotas:      awsfetch.Quotas{"iam": {}, "sts": {}, "organizations": {}, "identitycenter": {}, "sso:DescribePermissionSet": {}},
	}
}

// newSimEnv starts a replica on st against sim (a new simulator when nil).
func newSimEnv(t *testing.T, st *store.Store, sim *awssim.Sim) *simEnv {
	t.Helper()
	if sim == nil {
		sim = startSim(t, awssim.Options{AssignmentDelay: 300 * time.Millisecond})
	}
	info := sim.Info()
	e := &simEnv{t: t, st: st, sim: sim, ev: &events{}, users: map[string]string{}, ps: map[string]string{}}
	sim.Do(func(w *awssim.World) {
		for _, u := range w.SSO.Users {
			e.users[u.UserName] = u.ID
		}
		for _, p := range w.SSO.PermissionSets {
			e.ps[p.Name] = p.ARN
		}
	})
	svc, err := New(Config{Store: st, Notifier: e.ev, BaseURL: "https://gh.example.com",
		FetchConfig: func(ctx context.Context, id string) (awsfetch.Config, error) {
			if id != simConn {
				return awsfetch.Config{}, fmt.Errorf("unknown connection %s", id)
			}
			if e.fetchErr != nil {
				if err := e.fetchErr(); err != nil {
					return awsfetch.Config{}, err
				}
			}
			return simConfig(info), nil
		},
		Provision: awsprovision.Options{PollInterval: 50 * time.Millisecond, AssignmentWait: 30 * time.Second},
	})
	if err != nil {
		t.Fatal(err)
	}
	j, err := jobs.New(jobs.Config{Store: st, Connections: noConnections{}, Extensions: []jobs.Extension{svc.Extension()},
		DataDir: t.TempDir(), RetryBackoff: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	svc.SetQueue(j)
	if err := j.Start(ctx); err != nil {
		t.Fatal(err)
	}
	stopSweeper := svc.Start(ctx)
	var once sync.Once
	e.stop = func() {
		once.Do(func() {
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = j.Stop(sctx)
			_ = stopSweeper(sctx)
		})
	}
	t.Cleanup(e.stop)
	e.svc, e.jobs = svc, j
	return e
}

// target is user's assignment of the permission set in the account.
func (e *simEnv) target(user, psName, account string) Target {
	arn := e.ps[psName]
	if arn == "" || e.users[user] == "" {
		e.t.Fatalf("no permission set %q or user %q in the fixture", psName, user)
	}
	psID := arn[strings.LastIndex(arn, "/")+1:]
	return Target{ConnectionID: simConn, EntitlementID: "account:" + account + ":" + psID, Kind: KindAccountAssignment,
		DisplayName: psName + " on " + account, Application: "aws", AccountID: account, PermissionSetARN: arn,
		PermissionSetID: psID, PermissionSetName: psName, PrincipalID: e.users[user], PrincipalName: user}
}

// approve stores a request for target by user's email, approved now with the policy doc
// (JSON; "" for approve_again), and starts its lease as an approval does (grantTx in the
// approval's transaction).
func (e *simEnv) approve(user string, target Target, d time.Duration, policy string) *Request {
	e.t.Helper()
	if policy == "" {
		policy = `{"name":"test","extend":"approve_again"}`
	}
	now := time.Now()
	req := &Request{ID: "req_" + leaseID()[6:], State: StateApproved, Requester: user + "@example.com", Target: target,
		Reason: "test", Duration: d, CreatedAt: now, UpdatedAt: now, Rule: "accounts",
		Policy: PolicySnapshot{Name: "test", Doc: json.RawMessage(policy)}}
	ctx := context.Background()
	err := e.st.InTx(ctx, func(tx *store.Tx) error {
		row, err := toRow(req)
		if err != nil {
			return err
		}
		if err := tx.InsertAccessRequest(ctx, row); err != nil {
			return err
		}
		if _, err := tx.AppendRequestTransition(ctx, store.RequestTransition{RequestID: req.ID, To: string(StateApproved),
			Actor: "bob@example.com", At: now, Reason: "ok"}); err != nil {
			return err
		}
		return e.svc.grantTx(ctx, tx, req)
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return req
}

// request reads a request with its lease and transitions.
func (e *simEnv) request(id string) *Request {
	e.t.Helper()
	r, err := e.svc.Get(context.Background(), caller("admin@example.com", "admin"), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

// waitState waits until the request is in state (and fails the test after timeout).
func (e *simEnv) waitState(id string, want State, timeout time.Duration) *Request {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		r := e.request(id)
		if r.State == want {
			return r
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("request %s is %s after %s, want %s (lease %+v, error %q; transitions %s)", id, r.State, timeout, want, r.Lease, r.Error, history(r))
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// has says whether AWS has the target's assignment now.
func (e *simEnv) has(t Target) bool {
	var ok bool
	e.sim.Do(func(w *awssim.World) {
		ok = w.SSO.HasAssignment(awssim.Assignment{AccountID: t.AccountID, PermissionSetARN: t.PermissionSetARN, PrincipalType: "USER", PrincipalID: t.PrincipalID})
	})
	return ok
}

// operations lists the simulator's operations on the target's assignment (creations and
// deletions), in order.
func (e *simEnv) operations(t Target) []awssim.AssignmentOperation {
	var out []awssim.AssignmentOperation
	e.sim.Do(func(w *awssim.World) {
		for _, op := range w.SSO.Operations {
			a := op.Assignment
			if a.AccountID == t.AccountID && a.PermissionSetARN == t.PermissionSetARN && a.PrincipalID == t.PrincipalID {
				out = append(out, *op)
			}
		}
	})
	return out
}

// adminSSO is an SSO Admin client acting as the organization's own administrator (changes
// made outside Gatehouse).
func (e *simEnv) adminSSO() (*ssoadmin.Client, string) {
	info := e.sim.Info()
	cfg := aws.Config{Region: info.Region, Credentials: credentials.NewStaticCredentialsProvider(info.Admin.AccessKeyID, info.Admin.SecretAccessKey, ""),
		BaseEndpoint: aws.String(info.Endpoint)}
	return ssoadmin.NewFromConfig(cfg), info.InstanceARN
}

// outOfBand creates (or deletes) the target's assignment as the administrator, without
// waiting for AWS to finish.
func (e *simEnv) outOfBand(t Target, del bool) {
	e.t.Helper()
	c, instance := e.adminSSO()
	ctx := context.Background()
	var err error
	if del {
		_, err = c.DeleteAccountAssignment(ctx, &ssoadmin.DeleteAccountAssignmentInput{InstanceArn: &instance, TargetId: &t.AccountID,
			TargetType: ssotypes.TargetTypeAwsAccount, PermissionSetArn: &t.PermissionSetARN, PrincipalType: ssotypes.PrincipalTypeUser, PrincipalId: &t.PrincipalID})
	} else {
		_, err = c.CreateAccountAssignment(ctx, &ssoadmin.CreateAccountAssignmentInput{InstanceArn: &instance, TargetId: &t.AccountID,
			TargetType: ssotypes.TargetTypeAwsAccount, PermissionSetArn: &t.PermissionSetARN, PrincipalType: ssotypes.PrincipalTypeUser, PrincipalId: &t.PrincipalID})
	}
	if err != nil {
		e.t.Fatal(err)
	}
}

// leaseRow reads the stored lease of a request.
func (e *simEnv) leaseRow(requestID string) *store.Lease {
	e.t.Helper()
	l, err := e.st.LeaseOfRequest(context.Background(), requestID)
	if err != nil {
		e.t.Fatal(err)
	}
	return l
}

// audit lists the audit actions on a target ("lease:<id>"), in order.
func (e *simEnv) audit(target string) []string {
	e.t.Helper()
	entries, err := e.st.ListAudit(context.Background(), store.AuditFilter{Target: target, Limit: 100})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, a := range entries {
		out = append(out, a.Action)
	}
	return out
}

// fakeQueue stands in for River where a test needs no job to run (the request tests): it
// records the jobs inserted.
type fakeQueue struct {
	mu   sync.Mutex
	jobs []river.JobArgs
}

func (q *fakeQueue) InsertTx(_ context.Context, _ *store.Tx, args river.JobArgs, _ *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.jobs = append(q.jobs, args)
	return &rivertype.JobInsertResult{Job: &rivertype.JobRow{ID: int64(len(q.jobs)), Kind: args.Kind()}}, nil
}
