package awsprovision

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/awssim"
)

// callCounts is every call the simulator counted, "service:Operation=n", in order.
func callCounts(sim *awssim.Sim) string {
	var parts []string
	for _, c := range sim.Counters().Snapshot() {
		if c.Calls > 0 {
			parts = append(parts, fmt.Sprintf("%s:%s=%d", c.Service, c.Operation, c.Calls))
		}
	}
	return strings.Join(parts, " ")
}

// A just-in-time lease's revoke (RevokeWith: the principal already resolved, no note of
// group holders) makes exactly the calls a revoke needs: the read that finds the
// assignment, the deletion, and one status poll for a deletion AWS finishes within the
// poll interval. A plain Revoke of the same assignment still looks the user up and notes
// the group that gives the user the same permission set.
func TestLeaseRevokeCallCounts(t *testing.T) {
	// Deletions take 450 ms; the first status poll waits at least the 500 ms interval.
	w := serve(t, awssim.Options{AssignmentDelay: 450 * time.Millisecond})
	p := w.provisioner(t, Options{PollInterval: 500 * time.Millisecond, MaxPollInterval: 2 * time.Second})
	ctx := context.Background()
	// bob is in Developers, which holds ReadOnly in prod too.
	a := AccountAssignment{AccountID: "222222222222", PermissionSet: w.ps["ReadOnly"], PrincipalType: PrincipalUser, PrincipalID: w.users["bob"]}

	grant := func() {
		t.Helper()
		if res, err := p.Grant(ctx, a); err != nil || res.Outcome != Created {
			t.Fatalf("grant: %v %+v", err, res)
		}
		w.sim.Counters().Reset()
	}

	grant()
	res, err := p.Revoke(ctx, a)
	if err != nil || res.Outcome != Removed {
		t.Fatalf("revoke: %v %+v", err, res)
	}
	if !strings.Contains(strings.Join(res.Notes, "; "), "the user still holds ReadOnly in this account through the group Developers") {
		t.Errorf("plain revoke's notes %q lack the group that keeps the access", res.Notes)
	}
	want := "identitystore:DescribeGroup=1 identitystore:DescribeUser=1 identitystore:IsMemberInGroups=1 " +
		"sso:DeleteAccountAssignment=1 sso:DescribeAccountAssignmentDeletionStatus=1 sso:ListAccountAssignments=1"
	if got := callCounts(w.sim); got != want {
		t.Errorf("plain revoke's calls:\n got %s\nwant %s", got, want)
	}

	grant()
	res, err = p.RevokeWith(ctx, a, RevokeOptions{PrincipalName: "bob", SkipGroupHolders: true})
	if err != nil || res.Outcome != Removed {
		t.Fatalf("lease revoke: %v %+v", err, res)
	}
	want = "sso:DeleteAccountAssignment=1 sso:DescribeAccountAssignmentDeletionStatus=1 sso:ListAccountAssignments=1"
	if got := callCounts(w.sim); got != want {
		t.Errorf("lease revoke's calls:\n got %s\nwant %s", got, want)
	}
	if !strings.Contains(res.Description, "for user bob") {
		t.Errorf("description %q does not name the user as the caller gave it", res.Description)
	}
	var has bool
	w.sim.Do(func(world *awssim.World) {
		psARN := ""
		for _, ps := range world.SSO.PermissionSets {
			if strings.HasSuffix(ps.ARN, "/"+w.ps["ReadOnly"]) {
				psARN = ps.ARN
			}
		}
		has = world.SSO.HasAssignment(awssim.Assignment{AccountID: a.AccountID, PermissionSetARN: psARN, PrincipalType: "USER", PrincipalID: a.PrincipalID})
	})
	if has {
		t.Error("the assignment is still in AWS after the revoke")
	}

	// Already gone: one read, nothing else.
	w.sim.Counters().Reset()
	res, err = p.RevokeWith(ctx, a, RevokeOptions{PrincipalName: "bob", SkipGroupHolders: true})
	if err != nil || res.Outcome != AlreadyAbsent {
		t.Fatalf("second lease revoke: %v %+v", err, res)
	}
	if got, want := callCounts(w.sim), "sso:ListAccountAssignments=1"; got != want {
		t.Errorf("revoke of what is gone: got %s, want %s", got, want)
	}
}

// The wait before the first status poll grows while first polls come too early, shrinks
// while they find operations done, and stays within [PollInterval, MaxPollInterval].
func TestFirstPollLearns(t *testing.T) {
	const lo, hi = time.Second, 2 * time.Second
	var f firstPoll
	if got := f.get(lo, hi); got != lo {
		t.Fatalf("initial wait %s, want the poll interval %s", got, lo)
	}
	f.observe(false, lo, hi)
	if got := f.get(lo, hi); got != 1200*time.Millisecond {
		t.Fatalf("after an early poll: %s, want 1.2s", got)
	}
	for range 10 {
		f.observe(false, lo, hi)
	}
	if got := f.get(lo, hi); got != hi {
		t.Fatalf("after many early polls: %s, want the cap %s", got, hi)
	}
	f.observe(true, lo, hi)
	if got := f.get(lo, hi); got != 1960*time.Millisecond {
		t.Fatalf("after a poll that found it done: %s, want 1.96s", got)
	}
	for range 100 {
		f.observe(true, lo, hi)
	}
	if got := f.get(lo, hi); got != lo {
		t.Fatalf("after many polls that found it done: %s, want the floor %s", got, lo)
	}
}

// Deletions that take longer than the poll interval: after a few revokes the first poll
// waits long enough, and revokes mostly make their three calls (the wait settles where
// about 9 first polls in 10 find the deletion done; without learning, every revoke here
// would poll twice).
func TestFirstPollAdaptsToSlowDeletions(t *testing.T) {
	w := serve(t, awssim.Options{AssignmentDelay: 700 * time.Millisecond})
	p := w.provisioner(t, Options{PollInterval: 400 * time.Millisecond, MaxPollInterval: 1500 * time.Millisecond})
	ctx := context.Background()
	a := AccountAssignment{AccountID: "333333333333", PermissionSet: w.ps["Developer"], PrincipalType: PrincipalUser, PrincipalID: w.users["erin"]}
	polls := 0
	for i := range 8 {
		if res, err := p.Grant(ctx, a); err != nil || res.Outcome != Created {
			t.Fatalf("grant %d: %v %+v", i, err, res)
		}
		w.sim.Counters().Reset()
		if res, err := p.RevokeWith(ctx, a, RevokeOptions{PrincipalName: "erin", SkipGroupHolders: true}); err != nil || res.Outcome != Removed {
			t.Fatalf("revoke %d: %v %+v", i, err, res)
		}
		c := w.sim.Counters()
		if n := c.Calls("sso", "DeleteAccountAssignment") + c.Calls("sso", "ListAccountAssignments"); n != 2 {
			t.Errorf("revoke %d: %s", i, callCounts(w.sim))
		}
		if i >= 4 {
			polls += int(c.Calls("sso", "DescribeAccountAssignmentDeletionStatus"))
		}
	}
	if d := p.firstPolls[1].get(400*time.Millisecond, 1500*time.Millisecond); d < 560*time.Millisecond {
		t.Errorf("first deletion poll waits %s after 8 deletions of 700 ms, want it grown past 560 ms (700 ms at 1.25 of it)", d)
	}
	if polls > 5 {
		t.Errorf("the last 4 revokes polled %d times, want at most 5 (one first poll too early at the most)", polls)
	}
}
