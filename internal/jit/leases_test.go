package jit

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// A lease grants the exact assignment in AWS once approved, keeps it for the lease's
// duration, and removes it within seconds of the end; every step is a transition, an audit
// entry and an event.
func TestLeaseGrantedAndRevokedOnTime(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newSimEnv(t, st, nil)
		tg := e.target("alice", "Developer", simProd)
		if e.has(tg) {
			t.Fatal("the fixture already has the assignment")
		}
		approved := time.Now()
		req := e.approve("alice", tg, 3*time.Second, "")
		r := e.waitState(req.ID, StateActive, 10*time.Second)
		if !e.has(tg) {
			t.Fatal("active, but AWS has no assignment")
		}
		if r.Lease == nil || r.StartsAt == nil || r.EndsAt == nil || r.EndsAt.Sub(*r.StartsAt) != 3*time.Second {
			t.Fatalf("lease %+v starts %v ends %v", r.Lease, r.StartsAt, r.EndsAt)
		}
		if !strings.HasPrefix(r.Lease.ID, "lease_") || len(r.Lease.ID) != 26 || r.Lease.State != LeaseActive {
			t.Errorf("lease %+v", r.Lease)
		}
		if lat := r.StartsAt.Sub(approved); lat > 3*time.Second {
			t.Errorf("approved to active took %s", lat)
		}
		// Present for the whole lease.
		for time.Until(r.EndsAt.Add(-200*time.Millisecond)) > 0 {
			if !e.has(tg) {
				t.Fatalf("the assignment disappeared at %s, before the lease's end %s", time.Now(), r.EndsAt)
			}
			time.Sleep(50 * time.Millisecond)
		}
		r = e.waitState(req.ID, StateExpired, 10*time.Second)
		if e.has(tg) {
			t.Fatal("expired, but AWS still has the assignment")
		}
		ops := e.operations(tg)
		if len(ops) != 2 || ops[0].Delete || !ops[1].Delete || ops[1].Status != "SUCCEEDED" {
			t.Fatalf("operations %+v, want one creation then one deletion", ops)
		}
		if late := ops[1].DoneAt.Sub(*r.EndsAt); late < 0 || late > 3*time.Second {
			t.Errorf("the assignment was removed %s after the lease's end", late)
		}
		if got := history(r); got != ">approved by bob@example.com; approved>provisioning by gatehouse; provisioning>active by gatehouse; active>expiring by gatehouse; expiring>expired by gatehouse" {
			t.Errorf("transitions %s", got)
		}
		l := e.leaseRow(req.ID)
		if l.State != store.LeaseEnded || l.EndReason != EndExpired || l.EndedAt == nil || l.Standing || l.EndNote != "revoked in AWS (removed)" {
			t.Errorf("lease %+v", l)
		}
		if got := strings.Join(e.audit("lease:"+l.ID), ","); got != "lease.create,lease.grant,lease.end" {
			t.Errorf("audit %s", got)
		}
		if got := strings.Join(e.ev.kinds(), ","); got != "granted,expiry_warning,expired" {
			t.Errorf("events %s", got)
		}
	})
}

// Release (the requester) and revoke (an admin) end access at once; nobody else may.
func TestReleaseAndRevoke(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newSimEnv(t, st, nil)
		ctx := context.Background()
		ta := e.target("alice", "Developer", simProd)
		tb := e.target("bob", "Developer", simProd)
		ra := e.approve("alice", ta, time.Hour, "")
		rb := e.approve("bob", tb, time.Hour, "")
		e.waitState(ra.ID, StateActive, 10*time.Second)
		e.waitState(rb.ID, StateActive, 10*time.Second)

		_, err := e.svc.Release(ctx, caller("bob@example.com"), ra.ID, "mine now")
		wantCode(t, err, CodeNotFound, "no request "+ra.ID)
		_, err = e.svc.Release(ctx, caller("admin@example.com", "admin"), ra.ID, "")
		wantCode(t, err, CodeForbidden, "only the requester (alice@example.com) may release")
		_, err = e.svc.Revoke(ctx, caller("alice@example.com"), ra.ID, "")
		wantCode(t, err, CodeForbidden, "only admins revoke access; release your own request")

		got, err := e.svc.Release(ctx, caller("alice@example.com"), ra.ID, "done early")
		if err != nil {
			t.Fatal(err)
		}
		if got.State != StateExpiring {
			t.Errorf("released request is %s, want expiring", got.State)
		}
		_, err = e.svc.Release(ctx, caller("alice@example.com"), ra.ID, "again")
		wantCode(t, err, CodeConflict, "cannot be released")
		if _, err := e.svc.Revoke(ctx, caller("admin@example.com", "admin"), rb.ID, "left the team"); err != nil {
			t.Fatal(err)
		}
		a := e.waitState(ra.ID, StateRevoked, 10*time.Second)
		e.waitState(rb.ID, StateRevoked, 10*time.Second)
		if e.has(ta) || e.has(tb) {
			t.Fatal("released/revoked access is still in AWS")
		}
		if !strings.Contains(history(a), "active>expiring by alice@example.com; expiring>revoked by gatehouse") {
			t.Errorf("transitions %s", history(a))
		}
		if l := e.leaseRow(ra.ID); l.EndReason != EndReleased || l.EndedBy != "alice@example.com" {
			t.Errorf("released lease %+v", l)
		}
		if l := e.leaseRow(rb.ID); l.EndReason != EndRevoked || l.EndedBy != "admin@example.com" {
			t.Errorf("revoked lease %+v", l)
		}
		// Leases: mine for alice, all only for admins and auditors.
		mine, _, err := e.svc.Leases(ctx, caller("alice@example.com"), LeaseFilter{})
		if err != nil || len(mine) != 1 || mine[0].RequestID != ra.ID || mine[0].State != LeaseEnded || mine[0].EndReason != EndReleased {
			t.Errorf("alice's leases %+v %v", mine, err)
		}
		_, _, err = e.svc.Leases(ctx, caller("alice@example.com"), LeaseFilter{Scope: "all"})
		wantCode(t, err, CodeForbidden, "only admins and auditors")
		all, _, err := e.svc.Leases(ctx, caller("audrey@example.com", "auditor"), LeaseFilter{Scope: "all", States: []LeaseState{LeaseEnded}})
		if err != nil || len(all) != 2 {
			t.Errorf("all leases %+v %v", all, err)
		}
	})
}
