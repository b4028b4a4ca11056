package jit

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// A lease released by its requester, or revoked by an admin, while its request is
// provisioning but before the grant job made its first attempt ends without any write to
// Identity Center: nothing is created to be deleted again. The grant job is held back by
// a connection whose AWS configuration cannot be read yet (its first run fails before any
// attempt and is retried).
func TestReleasedBeforeFirstAttemptGrantsNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newSimEnv(t, st, nil)
		var held atomic.Bool
		held.Store(true)
		e.fetchErr = func() error {
			if held.Load() {
				return errors.New("the connection's secret cannot be read right now")
			}
			return nil
		}
		ctx := context.Background()
		ta := e.target("alice", "Developer", simProd)
		tb := e.target("bob", "Developer", simProd)
		ra := e.approve("alice", ta, time.Hour, "")
		rb := e.approve("bob", tb, time.Hour, "")
		for _, id := range []string{ra.ID, rb.ID} {
			e.waitState(id, StateProvisioning, 10*time.Second)
			deadline := time.Now().Add(10 * time.Second)
			for l := e.leaseRow(id); l.LastError == ""; l = e.leaseRow(id) {
				if time.Now().After(deadline) {
					t.Fatalf("the grant job of %s never ran (lease %+v)", id, l)
				}
				time.Sleep(20 * time.Millisecond)
			}
			if l := e.leaseRow(id); l.State != store.LeasePending || l.Attempts != 0 {
				t.Fatalf("held-back lease %+v: want pending with no attempt", l)
			}
		}

		got, err := e.svc.Release(ctx, caller("alice@example.com"), ra.ID, "not needed after all")
		if err != nil {
			t.Fatal(err)
		}
		if got.State != StateProvisioning {
			t.Errorf("released request is %s right after the release, want provisioning until the job ends it", got.State)
		}
		if _, err := e.svc.Revoke(ctx, caller("admin@example.com", "admin"), rb.ID, "wrong person"); err != nil {
			t.Fatal(err)
		}
		held.Store(false)

		a := e.waitState(ra.ID, StateRevoked, 20*time.Second)
		b := e.waitState(rb.ID, StateRevoked, 20*time.Second)
		if got := history(a); !strings.HasSuffix(got, "provisioning>expiring by alice@example.com; expiring>revoked by gatehouse") {
			t.Errorf("released request's transitions %s", got)
		}
		if got := history(b); !strings.HasSuffix(got, "provisioning>expiring by admin@example.com; expiring>revoked by gatehouse") {
			t.Errorf("revoked request's transitions %s", got)
		}
		for _, c := range []struct {
			req                      *Request
			reason, by, note, audits string
		}{
			{a, EndReleased, "alice@example.com", "released before it was granted: nothing was granted in AWS", "lease.create,lease.release,lease.end"},
			{b, EndRevoked, "admin@example.com", "revoked by an admin before it was granted: nothing was granted in AWS", "lease.create,lease.revoke,lease.end"},
		} {
			l := e.leaseRow(c.req.ID)
			if l.State != store.LeaseEnded || l.EndReason != c.reason || l.EndedBy != c.by || l.EndedAt == nil || l.Attempts != 0 ||
				l.StartsAt != nil || l.EndNote != c.note {
				t.Errorf("lease of %s: %+v", c.req.ID, l)
			}
			if got := strings.Join(e.audit("lease:"+l.ID), ","); got != c.audits {
				t.Errorf("lease audit %s, want %s", got, c.audits)
			}
			reqAudit := strings.Join(e.audit("request:"+c.req.ID), ",")
			if !strings.HasSuffix(reqAudit, "request.provisioning,request.expiring,request.revoked") {
				t.Errorf("request audit %s", reqAudit)
			}
		}
		revoked := map[string]string{}
		for _, ev := range e.ev.all() {
			if ev.Kind == "revoked" {
				revoked[ev.RequestID] = ev.Actor
			}
			if ev.Kind == "granted" {
				t.Errorf("a granted event for %s, which was never granted", ev.RequestID)
			}
		}
		if revoked[ra.ID] != "alice@example.com" || revoked[rb.ID] != "admin@example.com" {
			t.Errorf("revoked events by request: %v", revoked)
		}

		// Identity Center was asked nothing that writes.
		c := e.sim.Counters()
		for _, op := range []string{"CreateAccountAssignment", "DeleteAccountAssignment"} {
			if n := c.Calls("sso", op); n != 0 {
				t.Errorf("%d %s calls, want none", n, op)
			}
		}
		if ops := append(e.operations(ta), e.operations(tb)...); len(ops) != 0 {
			t.Errorf("assignment operations %+v, want none", ops)
		}
		if e.has(ta) || e.has(tb) {
			t.Error("the assignment is in AWS")
		}
	})
}

// all is a copy of the events so far.
func (n *events) all() []Event {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]Event(nil), n.evs...)
}

// A request cancelled after its approval, before its grant job ran, ends its lease
// (cancelled, nothing granted) for good: the lease does not stay pending.
func TestCancelledBeforeGrantEndsLease(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newSimEnv(t, st, nil)
		ctx := context.Background()
		tg := e.target("alice", "Developer", simProd)
		// Hold the access's lock, so that the grant job waits before it does anything.
		key := tg.AccessKey()
		if ok, err := st.LockAccess(ctx, key, "test", time.Now(), time.Now().Add(time.Minute)); err != nil || !ok {
			t.Fatalf("lock %s: %v %v", key, ok, err)
		}
		req := e.approve("alice", tg, time.Hour, "")
		if _, err := e.svc.Cancel(ctx, caller("alice@example.com"), req.ID, "changed my mind"); err != nil {
			t.Fatal(err)
		}
		if err := st.UnlockAccess(ctx, key, "test"); err != nil {
			t.Fatal(err)
		}
		l := waitLease(t, e, req.ID, store.LeaseEnded)
		if l.EndReason != EndCancelled || l.Attempts != 0 || l.EndedAt == nil ||
			l.EndNote != "the request was cancelled before it was granted: nothing was granted" {
			t.Errorf("lease %+v", l)
		}
		if got := strings.Join(e.audit("lease:"+l.ID), ","); got != "lease.create,lease.end" {
			t.Errorf("lease audit %s", got)
		}
		if r := e.request(req.ID); r.State != StateCancelled {
			t.Errorf("request is %s, want cancelled", r.State)
		}
		if n := e.sim.Counters().Calls("sso", "CreateAccountAssignment"); n != 0 || e.has(tg) {
			t.Errorf("%d CreateAccountAssignment calls; in AWS: %v", n, e.has(tg))
		}
	})
}
