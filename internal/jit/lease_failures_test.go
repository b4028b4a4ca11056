package jit

import (
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/awssim"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// A grant AWS reports FAILED is retried, then the request fails with AWS's reason; a grant
// no retry can fix (no such user) fails at once. Nothing is left in AWS.
func TestGrantFailsWithAWSReason(t *testing.T) {
	defer func(n int) { maxGrantAttempts = n }(maxGrantAttempts)
	maxGrantAttempts = 2
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newSimEnv(t, st, nil)
		tg := e.target("alice", "Developer", simBroken)
		req := e.approve("alice", tg, time.Hour, "")
		r := e.waitState(req.ID, StateFailed, 20*time.Second)
		const reason = "Received a 404 status error: Not supported policy arn:aws:iam::aws:policy/DoesNotExist."
		if !strings.Contains(r.Error, reason) {
			t.Errorf("error %q, want AWS's reason %q", r.Error, reason)
		}
		h := history(r)
		if !strings.Contains(h, "provisioning>provisioning by gatehouse") || !strings.HasSuffix(h, "provisioning>failed by gatehouse") {
			t.Errorf("transitions %s: want one retry, then failed", h)
		}
		if got := r.Transitions[len(r.Transitions)-1].Reason; !strings.Contains(got, reason) {
			t.Errorf("the failed transition's reason %q lacks AWS's reason", got)
		}
		waitLease(t, e, req.ID, store.LeaseFailed)
		l := e.leaseRow(req.ID)
		if l.Attempts != 2 || l.EndReason != EndFailed || l.EndedAt == nil {
			t.Errorf("lease %+v", l)
		}
		if e.has(tg) {
			t.Error("a failed grant left the assignment in AWS")
		}
		if ev := e.ev.last("failed"); ev == nil || ev.RequestID != req.ID {
			t.Errorf("failed event %+v", ev)
		}

		// A user that does not exist: no retry can help.
		tu := e.target("bob", "Developer", simProd)
		tu.PrincipalID = "11111111-2222-3333-4444-555555555555"
		ru := e.approve("bob", tu, time.Hour, "")
		r = e.waitState(ru.ID, StateFailed, 10*time.Second)
		if !strings.Contains(r.Error, "no user 11111111-2222-3333-4444-555555555555 in identity store") || strings.Contains(history(r), "provisioning>provisioning") {
			t.Errorf("unknown user: error %q, transitions %s", r.Error, history(r))
		}
		if l := e.leaseRow(ru.ID); l.State != store.LeaseFailed || l.Attempts != 0 {
			t.Errorf("unknown user's lease %+v", l)
		}
	})
}

// waitLease waits until the request's lease is in state.
func waitLease(t *testing.T, e *simEnv, requestID, state string) *store.Lease {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		l := e.leaseRow(requestID)
		if l.State == state {
			return l
		}
		if time.Now().After(deadline) {
			t.Fatalf("lease of %s is %s, want %s (%+v)", requestID, l.State, state, l)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// A revoke that AWS fails leaves the lease ending and the request expiring (never done),
// and is retried until AWS confirms the deletion.
func TestFailedRevokeStaysExpiringUntilAWSConfirms(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newSimEnv(t, st, nil)
		tg := e.target("alice", "Developer", simStaging)
		req := e.approve("alice", tg, 2*time.Second, "")
		e.waitState(req.ID, StateActive, 10*time.Second)
		e.sim.Do(func(w *awssim.World) {
			w.SSO.FailAssignments[simStaging] = "An unexpected internal service exception was encountered"
		})
		e.waitState(req.ID, StateExpiring, 10*time.Second)
		deadline := time.Now().Add(4 * time.Second)
		sawError := false
		for time.Now().Before(deadline) {
			r := e.request(req.ID)
			l := e.leaseRow(req.ID)
			if r.State != StateExpiring || l.State != store.LeaseEnding || l.EndedAt != nil {
				t.Fatalf("while AWS fails the deletion: request %s, lease %+v", r.State, l)
			}
			if !e.has(tg) {
				t.Fatal("the assignment is gone although every deletion failed")
			}
			sawError = sawError || strings.Contains(l.LastError, "An unexpected internal service exception was encountered")
			time.Sleep(100 * time.Millisecond)
		}
		if !sawError {
			t.Error("the lease never recorded AWS's reason for the failed revoke")
		}
		e.sim.Do(func(w *awssim.World) { delete(w.SSO.FailAssignments, simStaging) })
		r := e.waitState(req.ID, StateExpired, 30*time.Second)
		if e.has(tg) {
			t.Fatal("expired, but the assignment is still in AWS")
		}
		failed, succeeded := 0, 0
		for _, op := range e.operations(tg) {
			if op.Delete && op.Status == "FAILED" {
				failed++
			}
			if op.Delete && op.Status == "SUCCEEDED" {
				succeeded++
				if r.Lease.EndedAt.Before(op.DoneAt) {
					t.Errorf("the lease ended at %s, before AWS confirmed the deletion at %s", r.Lease.EndedAt, op.DoneAt)
				}
			}
		}
		if failed < 2 || succeeded != 1 {
			t.Errorf("deletions: %d failed, %d succeeded; want retries, then one success", failed, succeeded)
		}
		audit := strings.Join(e.audit("lease:"+r.Lease.ID), ",")
		if !strings.Contains(audit, "lease.revoke_failed") || !strings.HasSuffix(audit, "lease.end") {
			t.Errorf("audit %s", audit)
		}
	})
}

// ConflictException (a creation of the same assignment in progress) is retried, not taken
// for a revoke: the lease ends only after the deletion AWS ran after the creation.
func TestConflictIsNotSuccess(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newSimEnv(t, st, startSim(t, awssim.Options{AssignmentDelay: 1500 * time.Millisecond}))
		tg := e.target("alice", "Developer", simProd)
		req := e.approve("alice", tg, 4*time.Second, "")
		r := e.waitState(req.ID, StateActive, 10*time.Second)
		time.Sleep(time.Until(r.EndsAt.Add(-300 * time.Millisecond)))
		e.outOfBand(tg, false) // someone creates it again, in progress for 1.5 s
		before := e.sim.Counters().Calls("sso", "DeleteAccountAssignment")
		r = e.waitState(req.ID, StateExpired, 20*time.Second)
		if e.has(tg) {
			t.Fatal("expired, but the assignment is in AWS")
		}
		ops := e.operations(tg)
		var creation, deletion *awssim.AssignmentOperation
		for i := range ops {
			if !ops[i].Delete {
				creation = &ops[i]
			} else {
				deletion = &ops[i]
			}
		}
		if len(ops) != 3 || creation == nil || deletion == nil {
			t.Fatalf("operations %+v: want Gatehouse's creation, the outside creation, one deletion", ops)
		}
		if started := deletion.DoneAt.Add(-1500 * time.Millisecond); started.Before(creation.DoneAt) || r.Lease.EndedAt.Before(deletion.DoneAt) {
			t.Errorf("deletion started %s (creation done %s), lease ended %s (deletion done %s)", started, creation.DoneAt, r.Lease.EndedAt, deletion.DoneAt)
		}
		if calls := e.sim.Counters().Calls("sso", "DeleteAccountAssignment") - before; calls < 2 {
			t.Errorf("%d DeleteAccountAssignment calls: want the ConflictException answered by a retry", calls)
		}
	})
}
