package jit

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/awssim"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// Two leases of the same access share one assignment: the first ending keeps it for the
// second, the second ending removes it.
func TestOverlappingLeasesShareOneAssignment(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newSimEnv(t, st, nil)
		tg := e.target("alice", "Developer", simProd)
		r1 := e.approve("alice", tg, 2*time.Second, "")
		e.waitState(r1.ID, StateActive, 10*time.Second)
		r2 := e.approve("alice", tg, 5*time.Second, "")
		a2 := e.waitState(r2.ID, StateActive, 10*time.Second)
		e.waitState(r1.ID, StateExpired, 10*time.Second)
		if !e.has(tg) {
			t.Fatal("the first lease's end removed access the second lease still holds")
		}
		if l := e.leaseRow(r1.ID); l.EndNote != "kept in AWS: still needed by "+a2.Lease.ID {
			t.Errorf("first lease's end note %q", l.EndNote)
		}
		for time.Until(*a2.EndsAt) > 100*time.Millisecond {
			if !e.has(tg) {
				t.Fatal("access disappeared during the second lease")
			}
			time.Sleep(50 * time.Millisecond)
		}
		e.waitState(r2.ID, StateExpired, 10*time.Second)
		if e.has(tg) {
			t.Fatal("both leases ended, but the assignment is still there")
		}
		var kinds []string
		for _, op := range e.operations(tg) {
			if op.Delete {
				kinds = append(kinds, "delete")
			} else {
				kinds = append(kinds, "create")
			}
		}
		if got := strings.Join(kinds, ","); got != "create,delete" {
			t.Errorf("operations %s, want one creation and one deletion", got)
		}
	})
}

// Access that existed before the lease (standing access) is never removed by the lease
// ending, nor by a lease that overlapped one that found it.
func TestStandingAccessIsNeverRemoved(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newSimEnv(t, st, nil)
		tg := e.target("alice", "Developer", simProd)
		e.sim.Do(func(w *awssim.World) { w.AddAssignment(tg.AccountID, tg.PermissionSetARN, "USER", tg.PrincipalID) })
		r1 := e.approve("alice", tg, 2*time.Second, "")
		e.waitState(r1.ID, StateActive, 10*time.Second)
		if l := e.leaseRow(r1.ID); !l.Standing {
			t.Fatalf("lease over existing access is not marked standing: %+v", l)
		}
		r2 := e.approve("alice", tg, 3*time.Second, "")
		e.waitState(r2.ID, StateActive, 10*time.Second)
		e.waitState(r1.ID, StateExpired, 10*time.Second)
		e.waitState(r2.ID, StateExpired, 10*time.Second)
		if !e.has(tg) {
			t.Fatal("standing access was removed by a lease ending")
		}
		if l := e.leaseRow(r2.ID); !l.Standing || l.EndNote != "kept in AWS: the access existed before any lease (standing access)" {
			t.Errorf("second lease %+v", l)
		}
		if ops := e.operations(tg); len(ops) != 0 {
			t.Errorf("operations on standing access: %+v", ops)
		}
	})
}

// extend: auto moves the end at once with no gap; other policies wait for approval, and
// the approval moves the end.
func TestExtend(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newSimEnv(t, st, nil)
		ctx := context.Background()
		tg := e.target("alice", "Developer", simProd)
		req := e.approve("alice", tg, 3*time.Second, `{"name":"auto","extend":"auto"}`)
		r := e.waitState(req.ID, StateActive, 10*time.Second)
		oldEnd := *r.EndsAt
		_, err := e.svc.Extend(ctx, caller("bob@example.com"), req.ID, time.Minute, "")
		wantCode(t, err, CodeNotFound, "no request")
		_, err = e.svc.Extend(ctx, caller("alice@example.com"), req.ID, 8*24*time.Hour, "")
		wantCode(t, err, CodeInvalid, "would exceed the rule's maximum")
		got, err := e.svc.Extend(ctx, caller("alice@example.com"), req.ID, 3*time.Second, "need more")
		if err != nil {
			t.Fatal(err)
		}
		if got.State != StateActive || got.EndsAt == nil || !got.EndsAt.Equal(oldEnd.Add(3*time.Second)) {
			t.Fatalf("extended: %s ends %v, want %v", got.State, got.EndsAt, oldEnd.Add(3*time.Second))
		}
		for time.Until(got.EndsAt.Add(-100*time.Millisecond)) > 0 {
			if !e.has(tg) {
				t.Fatalf("gap: the assignment disappeared at %s, before the extended end %s", time.Now(), got.EndsAt)
			}
			time.Sleep(50 * time.Millisecond)
		}
		e.waitState(req.ID, StateExpired, 10*time.Second)
		ops := e.operations(tg)
		if len(ops) != 2 || !ops[1].Delete || ops[1].DoneAt.Add(-300*time.Millisecond).Before(*got.EndsAt) {
			t.Errorf("operations %+v: want one creation and one deletion after the extended end", ops)
		}
		if ev := e.ev.last("extended"); ev == nil || ev.RequestID != req.ID {
			t.Errorf("extended event %+v", ev)
		}

		// approve_again: the extension waits for an approver.
		if err := st.SetConfiguredRoles(ctx, map[string][]string{"admin@example.com": {"admin"}}); err != nil {
			t.Fatal(err)
		}
		tb := e.target("bob", "Developer", simProd)
		rb := e.approve("bob", tb, time.Hour, "")
		b := e.waitState(rb.ID, StateActive, 10*time.Second)
		pending, err := e.svc.Extend(ctx, caller("bob@example.com"), rb.ID, 30*time.Minute, "longer")
		if err != nil {
			t.Fatal(err)
		}
		if pending.PendingExtension == nil || pending.PendingExtension.Duration != 30*time.Minute || !pending.EndsAt.Equal(*b.EndsAt) {
			t.Fatalf("pending extension %+v, ends %v (was %v)", pending.PendingExtension, pending.EndsAt, b.EndsAt)
		}
		_, err = e.svc.Extend(ctx, caller("bob@example.com"), rb.ID, 30*time.Minute, "again")
		wantCode(t, err, CodeConflict, "already has an extension")
		approved, err := e.svc.Approve(ctx, caller("admin@example.com", "admin"), rb.ID, "fine")
		if err != nil {
			t.Fatal(err)
		}
		if approved.PendingExtension != nil || !approved.EndsAt.Equal(b.EndsAt.Add(30*time.Minute)) {
			t.Errorf("after approval: pending %+v, ends %v, want %v", approved.PendingExtension, approved.EndsAt, b.EndsAt.Add(30*time.Minute))
		}
	})
}

// The reconciler marks an active lease whose access was removed outside Gatehouse, and
// revokes again access that came back after its lease ended.
func TestReconciler(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newSimEnv(t, st, nil)
		ctx := context.Background()
		ta := e.target("alice", "Developer", simProd)
		ra := e.approve("alice", ta, time.Hour, "")
		a := e.waitState(ra.ID, StateActive, 10*time.Second)
		e.sim.Do(func(w *awssim.World) {
			kept := w.SSO.Assignments[:0]
			for _, x := range w.SSO.Assignments {
				if x.PrincipalID != ta.PrincipalID || x.PermissionSetARN != ta.PermissionSetARN || x.AccountID != ta.AccountID {
					kept = append(kept, x)
				}
			}
			w.SSO.Assignments = kept
		})
		tb := e.target("bob", "Developer", simStaging)
		rb := e.approve("bob", tb, time.Second, "")
		b := e.waitState(rb.ID, StateExpired, 10*time.Second)
		// The access comes back (a late creation, someone in the console).
		e.sim.Do(func(w *awssim.World) { w.AddAssignment(tb.AccountID, tb.PermissionSetARN, "USER", tb.PrincipalID) })

		res, err := e.svc.Reconcile(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(res.Drifted, ",") != a.Lease.ID || strings.Join(res.Revoked, ",") != b.Lease.ID {
			t.Fatalf("reconcile %+v, want drift on %s and a revoke for %s", res, a.Lease.ID, b.Lease.ID)
		}
		if e.has(tb) {
			t.Error("the reconciler did not remove access whose lease had ended")
		}
		if l := e.leaseRow(ra.ID); !strings.HasPrefix(l.Drift, "removed in AWS outside Gatehouse") || l.State != store.LeaseActive {
			t.Errorf("drifted lease %+v", l)
		}
		if l := e.leaseRow(rb.ID); !strings.HasPrefix(l.Drift, "found in AWS after the lease ended; revoked again") {
			t.Errorf("revoked-again lease %+v", l)
		}
		if ev := e.ev.last("drift"); ev == nil || ev.RequestID != ra.ID {
			t.Errorf("drift event %+v", ev)
		}
		// A second round finds nothing new.
		res, err = e.svc.Reconcile(ctx)
		if err != nil || len(res.Drifted)+len(res.Revoked) != 0 {
			t.Errorf("second round %+v %v", res, err)
		}
		// A new lease of the re-revoked access is not standing: its end removes it.
		rc := e.approve("bob", tb, time.Second, "")
		e.waitState(rc.ID, StateExpired, 10*time.Second)
		if l := e.leaseRow(rc.ID); l.Standing || e.has(tb) {
			t.Errorf("new lease %+v; assignment still there: %v", l, e.has(tb))
		}
	})
}
