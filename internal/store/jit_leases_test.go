package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

func TestLeasesStoredAndListed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
		end := t0.Add(time.Hour)
		mk := func(id, req, who, state string, at time.Time) *store.Lease {
			return &store.Lease{ID: id, RequestID: req, Requester: who, ConnectionID: "aws", AccessKey: "k|" + who,
				Target: `{"kind":"account_assignment"}`, State: state, Duration: time.Hour, CreatedAt: at}
		}
		a := mk("lease_a", "req_a", "alice@example.com", store.LeaseActive, t0)
		a.StartsAt, a.EndsAt, a.Standing, a.Gen, a.EndSessions = &t0, &end, true, 2, true
		b := mk("lease_b", "req_b", "bob@example.com", store.LeasePending, t0.Add(time.Second))
		c := mk("lease_c", "req_c", "alice@example.com", store.LeaseEnded, t0.Add(2*time.Second))
		if err := s.InTx(ctx, func(tx *store.Tx) error {
			for _, l := range []*store.Lease{a, b, c} {
				if err := tx.InsertLease(ctx, l); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		got, err := s.LeaseOfRequest(ctx, "req_a")
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != "lease_a" || !got.Standing || !got.EndSessions || got.Gen != 2 || !got.EndsAt.Equal(end) || got.Duration != time.Hour || got.EndedAt != nil {
			t.Errorf("read back %+v", got)
		}
		// Update writes the changeable fields.
		ended := end.Add(2 * time.Second)
		got.State, got.EndedAt, got.EndReason, got.EndNote, got.Drift, got.LastError = store.LeaseEnded, &ended, "expired", "revoked in AWS (removed)", "d", "e"
		if err := s.InTx(ctx, func(tx *store.Tx) error { return tx.UpdateLease(ctx, got) }); err != nil {
			t.Fatal(err)
		}
		again, _ := s.GetLease(ctx, "lease_a")
		if again.State != store.LeaseEnded || !again.EndedAt.Equal(ended) || again.EndReason != "expired" || again.EndNote != "revoked in AWS (removed)" || again.Drift != "d" {
			t.Errorf("after update %+v", again)
		}
		if _, err := s.GetLease(ctx, "lease_x"); err != store.ErrNotFound {
			t.Errorf("missing lease: %v", err)
		}
		// Lists: newest first, by requester, by state, paged.
		list, next, err := s.ListLeases(ctx, store.LeaseFilter{Requester: "alice@example.com"}, store.Page{Size: 1})
		if err != nil || len(list) != 1 || list[0].ID != "lease_c" || next == "" {
			t.Fatalf("first page %v %q %v", list, next, err)
		}
		list, next, err = s.ListLeases(ctx, store.LeaseFilter{Requester: "alice@example.com"}, store.Page{Size: 1, Token: next})
		if err != nil || len(list) != 1 || list[0].ID != "lease_a" || next != "" {
			t.Fatalf("second page %v %q %v", list, next, err)
		}
		list, _, _ = s.ListLeases(ctx, store.LeaseFilter{States: []string{store.LeasePending}}, store.Page{})
		if len(list) != 1 || list[0].ID != "lease_b" {
			t.Errorf("pending %v", list)
		}
		byReq, err := s.LeasesOfRequests(ctx, "req_a", "req_b", "req_none")
		if err != nil || len(byReq) != 2 || byReq["req_b"].ID != "lease_b" {
			t.Errorf("leases of requests %v %v", byReq, err)
		}
		// The sweeper sees the pending lease (no job) and nothing else.
		due, err := s.LeasesNeedingJobs(ctx, t0, t0, 10)
		if err != nil || len(due) != 1 || due[0].ID != "lease_b" {
			t.Errorf("needing jobs %v %v", due, err)
		}
	})
}

func TestAccessLocks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		now := time.Now()
		ok, err := s.LockAccess(ctx, "k", "h1/1/1/a", now, now.Add(5*time.Second))
		if err != nil || !ok {
			t.Fatalf("first lock %v %v", ok, err)
		}
		if ok, _ := s.LockAccess(ctx, "k", "h2/2/2/b", now, now.Add(5*time.Second)); ok {
			t.Fatal("a held lock was taken by another holder")
		}
		if ok, _ := s.LockAccess(ctx, "k", "h1/1/1/a", now, now.Add(5*time.Second)); !ok {
			t.Error("the holder could not take its own lock again")
		}
		// Expired: another holder takes it, and the first cannot renew.
		later := now.Add(6 * time.Second)
		if ok, _ := s.LockAccess(ctx, "k", "h2/2/2/b", later, later.Add(5*time.Second)); !ok {
			t.Fatal("an expired lock could not be taken")
		}
		if ok, _ := s.RenewAccessLock(ctx, "k", "h1/1/1/a", later.Add(5*time.Second)); ok {
			t.Error("a holder renewed a lock it lost")
		}
		holders, err := s.LockHolders(ctx, now)
		if err != nil || len(holders) != 1 || holders[0] != "h2/2/2/b" {
			t.Errorf("holders %v %v", holders, err)
		}
		if err := s.DropLocksOf(ctx, "h2/2/2/"); err != nil {
			t.Fatal(err)
		}
		if ok, _ := s.LockAccess(ctx, "k", "h3/3/3/c", now, now.Add(time.Second)); !ok {
			t.Error("a dead holder's lock was not freed")
		}
		if err := s.UnlockAccess(ctx, "k", "h3/3/3/c"); err != nil {
			t.Fatal(err)
		}
		if ok, _ := s.LockAccess(ctx, "k", "h4/4/4/d", now, now.Add(time.Second)); !ok {
			t.Error("an unlocked lock could not be taken")
		}
	})
}

// Ten creation slots per scope across holders; an expired slot is free again.
func TestLimitSlots(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		now := time.Now()
		seen := map[int]bool{}
		for i := 0; i < 10; i++ {
			slot, ok, err := s.TryAcquireSlot(ctx, "creations:x", 10, "h/1/1/"+string(rune('a'+i)), now, now.Add(15*time.Second))
			if err != nil || !ok || seen[slot] {
				t.Fatalf("slot %d: %d %v %v", i, slot, ok, err)
			}
			seen[slot] = true
		}
		if _, ok, _ := s.TryAcquireSlot(ctx, "creations:x", 10, "h/1/1/z", now, now.Add(15*time.Second)); ok {
			t.Fatal("an eleventh slot was handed out")
		}
		if _, ok, _ := s.TryAcquireSlot(ctx, "creations:other", 10, "h/1/1/z", now, now.Add(15*time.Second)); !ok {
			t.Error("another instance's slots are not separate")
		}
		if n, _ := s.SlotsHeld(ctx, "creations:x", now); n != 10 {
			t.Errorf("held %d", n)
		}
		if err := s.ReleaseSlot(ctx, "creations:x", 3, "h/1/1/d"); err != nil {
			t.Fatal(err)
		}
		if slot, ok, _ := s.TryAcquireSlot(ctx, "creations:x", 10, "h/1/1/y", now, now.Add(15*time.Second)); !ok || slot != 3 {
			t.Errorf("freed slot: %d %v", slot, ok)
		}
		// Renewal keeps a slot past its first expiry; without it the slot is free again.
		if ok, _ := s.RenewSlot(ctx, "creations:x", 0, "h/1/1/a", now.Add(time.Minute)); !ok {
			t.Error("renew failed")
		}
		later := now.Add(20 * time.Second)
		if n, _ := s.SlotsHeld(ctx, "creations:x", later); n != 1 {
			t.Errorf("after expiry %d slots held, want the renewed one", n)
		}
		if slot, ok, _ := s.TryAcquireSlot(ctx, "creations:x", 10, "h/1/1/w", later, later.Add(15*time.Second)); !ok || slot == 0 {
			t.Errorf("after expiry: %d %v", slot, ok)
		}
	})
}

// The token bucket: 20 per second with a burst of 5 makes the 100th of 100 calls made at
// once wait (100-5)/20 = 4.75 s; time refills it.
func TestTokenBucket(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		now := time.Now().Truncate(time.Millisecond)
		var last time.Duration
		for i := 0; i < 100; i++ {
			w, err := s.TakeToken(ctx, "identitycenter:aws", 20, 5, now)
			if err != nil {
				t.Fatal(err)
			}
			if i < 5 && w != 0 {
				t.Fatalf("call %d of the burst waits %s", i, w)
			}
			if i >= 5 && w <= last {
				t.Fatalf("call %d waits %s, not longer than the call before (%s)", i, w, last)
			}
			last = w
		}
		if last != 4750*time.Millisecond {
			t.Errorf("the 100th call waits %s, want 4.75s", last)
		}
		// 10 s later the debt is paid and the bucket full again (5 tokens).
		later := now.Add(10 * time.Second)
		for i := 0; i < 5; i++ {
			if w, _ := s.TakeToken(ctx, "identitycenter:aws", 20, 5, later); w != 0 {
				t.Fatalf("after refilling, call %d waits %s", i, w)
			}
		}
		if w, _ := s.TakeToken(ctx, "identitycenter:aws", 20, 5, later); w != 50*time.Millisecond {
			t.Errorf("the sixth call after refilling waits %s, want 50ms", w)
		}
	})
}
