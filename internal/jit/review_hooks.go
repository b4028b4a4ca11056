package jit

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse/gatehouse/internal/awsprovision"
	"github.com/gatehouse/gatehouse/internal/store"
)

// What access reviews (internal/review) use of just-in-time access: the provisioners, so that
// a review's revoke shares the cached Identity Center lookups, member roles and the limits
// shared across replicas with every lease; and the early end of a lease that a review
// rejected, through the lease's own revoke path (its job makes the change and waits for AWS
// to confirm it, with the retries, the shared-access check and the audit every lease has).

// Provisioner returns the connection's provisioner, shared with the lease jobs (one per
// connection for the service's lifetime; a failed connection is tried again next time).
func (s *Service) Provisioner(ctx context.Context, connectionID string) (*awsprovision.Provisioner, error) {
	return s.provisioner(ctx, connectionID)
}

// RevokeLeaseForReview ends lease leaseID early because reviewer rejected it in campaign (a
// campaign's id or name) for reason. It returns once the revoke is queued: the lease's job
// removes the access and confirms it with AWS, as for an admin's revoke (the lease ends
// "revoked", by the reviewer). The audit entry (lease.revoke) names the campaign.
//
// It is idempotent, so that a review job retried after a crash asks once: a lease already
// ending, ended or failed is left as it is (nil). A lease still being granted is marked, and
// its grant job revokes it as soon as AWS confirms the grant.
func (s *Service) RevokeLeaseForReview(ctx context.Context, leaseID, campaign, reviewer, reason string) error {
	if leaseID == "" || reviewer == "" {
		return errors.New("jit: a lease id and the reviewer are required to revoke a lease for a review")
	}
	if s.queue == nil {
		return errors.New("jit: the service has no job queue yet (SetQueue)")
	}
	queued := false
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		l, err := tx.Lease(ctx, leaseID)
		if errors.Is(err, store.ErrNotFound) {
			return Errorf(CodeNotFound, "no lease %s", leaseID)
		}
		if err != nil {
			return err
		}
		if l.EndReason != "" || l.State == store.LeaseEnding || l.State == store.LeaseEnded || l.State == store.LeaseFailed {
			return nil // already on its way out (or gone): nothing to ask twice
		}
		req, err := s.loadRequestTx(ctx, tx, l.RequestID)
		if err != nil {
			return fmt.Errorf("the request of lease %s: %w", leaseID, err)
		}
		if req.State != StateActive && req.State != StateProvisioning {
			return nil // the request's life is over or not granted: no access to take
		}
		why := fmt.Sprintf("access review %s: %s", campaign, reason)
		now := s.cfg.Now()
		l.EndReason, l.EndedBy, l.UpdatedAt = EndRevoked, reviewer, now
		if isAppLease(l) {
			// The owner removes it: a revoke task (app_leases.go).
			if err := s.appEndTx(ctx, tx, l, reviewer, why); err != nil {
				return err
			}
			_, err = tx.AppendAudit(ctx, reviewer, "lease.revoke", "lease:"+l.ID, map[string]any{
				"request_id": req.ID, "reason": reason, "lease_state": l.State, "campaign": campaign, "by": "access review"}, "")
			return err
		}
		if l.State == store.LeaseActive {
			l.State = store.LeaseEnding
			if err := s.enqueueTx(ctx, tx, l, time.Time{}); err != nil {
				return err
			}
			if _, err := s.transitionTx(ctx, tx, req.ID, []State{StateActive}, StateExpiring, reviewer, why, ""); err != nil {
				return err
			}
		}
		if err := tx.UpdateLease(ctx, l); err != nil {
			return err
		}
		queued = true
		_, err = tx.AppendAudit(ctx, reviewer, "lease.revoke", "lease:"+l.ID, map[string]any{
			"request_id": req.ID, "reason": reason, "lease_state": l.State, "campaign": campaign, "by": "access review"}, "")
		return err
	})
	if err != nil {
		return err
	}
	if queued {
		s.wakeSweeper()
	}
	return nil
}
