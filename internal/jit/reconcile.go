package jit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/internal/store"
)

const (
	// reconcileWindow is how long after a lease ended the reconciler still checks that its
	// access is gone from AWS (a creation that completed after its grant gave up, a person
	// who put the access back by hand).
	reconcileWindow = 15 * time.Minute
	// reconcileMax bounds the pieces of access one round checks (each costs an Identity
	// Center read or two, paced at the shared rate); active leases come first.
	reconcileMax = 300
)

// ReconcileResult is what one round of the reconciler found and did.
type ReconcileResult struct {
	// Checked counts the pieces of access compared with AWS; Busy those skipped because a
	// worker was changing them.
	Checked, Busy int
	// Drifted are the active leases whose access AWS no longer has (removed outside
	// Gatehouse): marked and alerted.
	Drifted []string
	// Revoked are the ended leases whose access AWS had again, revoked again.
	Revoked []string
}

// Reconcile compares what AWS has with the leases and acts: an active lease whose access
// is gone from AWS is marked with drift and alerted (event "drift"); access that ended
// leases granted and that AWS still (or again) has, with no active or standing holder, is
// revoked again. It takes each access's lock, so it never races a grant or a revoke.
func (s *Service) Reconcile(ctx context.Context) (*ReconcileResult, error) {
	now := s.cfg.Now()
	since := now.Add(-reconcileWindow)
	groups := map[string][]store.Lease{}
	var order []string
	add := func(f store.LeaseFilter) error {
		page := store.Page{Size: store.MaxPageSize}
		for {
			list, next, err := s.st.ListLeases(ctx, f, page)
			if err != nil {
				return err
			}
			for _, l := range list {
				if isAppLease(&l) {
					continue // an imported application: its imports check it (app_leases.go)
				}
				if _, seen := groups[l.AccessKey]; !seen {
					order = append(order, l.AccessKey)
				}
				groups[l.AccessKey] = append(groups[l.AccessKey], l)
			}
			if next == "" {
				return nil
			}
			page.Token = next
		}
	}
	if err := add(store.LeaseFilter{States: []string{store.LeaseActive}}); err != nil {
		return nil, err
	}
	if err := add(store.LeaseFilter{States: []string{store.LeaseEnded, store.LeaseFailed}, EndedAfter: &since}); err != nil {
		return nil, err
	}
	res := &ReconcileResult{}
	var errs []error
	for _, key := range order {
		if res.Checked >= reconcileMax {
			break
		}
		if err := s.reconcileAccess(ctx, key, res); err != nil {
			errs = append(errs, err)
		}
	}
	if len(res.Drifted)+len(res.Revoked) > 0 {
		s.log.Warn("the reconciler found AWS different from the leases", zap.Strings("drifted", res.Drifted), zap.Strings("revoked_again", res.Revoked))
	}
	return res, errors.Join(errs...)
}

// reconcileAccess checks one piece of access under its lock.
func (s *Service) reconcileAccess(ctx context.Context, key string, res *ReconcileResult) error {
	holder := s.holderName()
	ok, err := s.st.LockAccess(ctx, key, holder, time.Now(), time.Now().Add(lockTTL))
	if err != nil {
		return err
	}
	if !ok {
		res.Busy++
		return nil
	}
	unlock := s.hold(func(ctx context.Context) (bool, error) {
		return s.st.RenewAccessLock(ctx, key, holder, time.Now().Add(lockTTL))
	}, lockTTL/3, func(ctx context.Context) error { return s.st.UnlockAccess(ctx, key, holder) })
	defer unlock()

	// Read the leases again under the lock: a worker may have changed them.
	var leases []store.Lease
	if err := s.st.InTx(ctx, func(tx *store.Tx) error {
		leases, err = tx.LeasesOfAccess(ctx, key)
		return err
	}); err != nil {
		return err
	}
	var active, recent []store.Lease
	for _, l := range leases {
		switch {
		case l.State == store.LeasePending && l.Attempts > 0, l.State == store.LeaseEnding:
			return nil // a worker will act on it; the next round looks again
		case l.Standing && l.State != store.LeaseFailed:
			if l.State == store.LeaseActive {
				return nil // standing access: not the leases' to check
			}
		case l.State == store.LeaseActive && l.EndReason == "":
			active = append(active, l)
		case (l.State == store.LeaseEnded || l.State == store.LeaseFailed) && l.EndedAt != nil:
			recent = append(recent, l)
		}
	}
	if len(active) == 0 && len(recent) == 0 {
		return nil
	}
	for _, l := range leases {
		if l.Standing && l.State == store.LeaseEnded {
			// The access was there before these leases: it stays.
			return nil
		}
	}
	sample := leases[0]
	if len(active) > 0 {
		sample = active[0]
	} else if len(recent) > 0 {
		sample = recent[len(recent)-1]
	}
	var target Target
	if err := json.Unmarshal([]byte(sample.Target), &target); err != nil {
		return fmt.Errorf("lease %s: target: %w", sample.ID, err)
	}
	acc, err := accessOf(target)
	if err != nil {
		return err
	}
	p, err := s.provisioner(ctx, sample.ConnectionID)
	if err != nil {
		return err
	}
	has, err := p.Has(ctx, acc)
	res.Checked++
	if err != nil {
		return fmt.Errorf("check %s in AWS: %w", key, err)
	}
	now := s.cfg.Now()
	switch {
	case len(active) > 0 && !has:
		for _, l := range active {
			if l.Drift != "" {
				continue
			}
			drift := "removed in AWS outside Gatehouse (found " + now.UTC().Format(time.RFC3339) + ")"
			if err := s.markDrift(ctx, l.ID, drift, "lease.drift", "drift"); err != nil {
				return err
			}
			res.Drifted = append(res.Drifted, l.ID)
		}
	case len(active) == 0 && has:
		// Ended leases' access is back (or never left): take it away again.
		out, err := p.Revoke(ctx, acc)
		if err != nil {
			return fmt.Errorf("revoke %s again: %w", key, err)
		}
		sort.Slice(recent, func(i, j int) bool { return recent[i].EndedAt.Before(*recent[j].EndedAt) })
		last := recent[len(recent)-1]
		drift := "found in AWS after the lease ended; revoked again " + now.UTC().Format(time.RFC3339) + " (" + string(out.Outcome) + ")"
		if err := s.markDrift(ctx, last.ID, drift, "lease.revoke_again", ""); err != nil {
			return err
		}
		res.Revoked = append(res.Revoked, last.ID)
	}
	return nil
}

// markDrift records what the reconciler found on a lease, audits it and, with an event
// kind, alerts.
func (s *Service) markDrift(ctx context.Context, leaseID, drift, action, ev string) error {
	return s.st.InTx(ctx, func(tx *store.Tx) error {
		l, err := tx.Lease(ctx, leaseID)
		if err != nil {
			return err
		}
		l.Drift, l.UpdatedAt = drift, s.cfg.Now()
		if err := tx.UpdateLease(ctx, l); err != nil {
			return err
		}
		if _, err := tx.AppendAudit(ctx, SystemActor, action, "lease:"+l.ID, map[string]any{"request_id": l.RequestID, "drift": drift}, ""); err != nil {
			return err
		}
		if ev == "" {
			return nil
		}
		req, err := s.loadRequestTx(ctx, tx, l.RequestID)
		if err != nil {
			return err
		}
		return s.notifyTx(ctx, tx, s.leaseEvent(req, l, ev, SystemActor, drift))
	})
}
