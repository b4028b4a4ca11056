package jit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/internal/awsprovision"
	"github.com/gatehouse/gatehouse/internal/store"
)

// The lease's life in AWS. One job kind (jit_lease) does whatever a lease needs next: it
// grants a pending lease, waits for an active lease's end, and revokes an ending one. The
// job that grants a lease queues the next one at the lease's end in the same transaction
// that records the grant, so a committed grant always has its revoke scheduled.
//
// Work on one piece of access (a grant, a revoke) holds that access's lock in the store, so
// that across replicas two leases of the same access are never granted and revoked at the
// same time: the decision to keep or remove shared access sees every other lease as it is.
// A lock is renewed while its holder works and expires when the holder dies; a replica on
// the same host frees the locks of a process that no longer runs at once.

const (
	// lockTTL is how long an access lock lasts without renewal (renewed every lockTTL/3).
	lockTTL = 6 * time.Second
	// DefaultSweep is how often the sweeper looks for leases that need work at the most.
	DefaultSweep = 10 * time.Second
	// reminderLead is how long before its end a lease's expiry reminder goes out at the
	// most (a quarter of the lease for short ones).
	reminderLead = 15 * time.Minute
)

// maxGrantAttempts is how many times a grant is tried before the request fails (a
// variable, so that tests need not wait for five).
var maxGrantAttempts = 5

// errDone stops a transaction whose lease needs nothing more (it is not an error).
var errDone = errors.New("done")

// work does what the lease needs now. It is the body of every jit_lease job, so any job
// of a lease may do it: jobs that find nothing to do (another did it) end at once.
func (s *Service) work(ctx context.Context, leaseID string, jobID int64, attempt int) error {
	l, err := s.st.GetLease(ctx, leaseID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	switch l.State {
	case store.LeaseEnded, store.LeaseFailed:
		return nil
	case store.LeaseActive:
		if l.EndReason == "" && l.EndsAt != nil {
			if wait := l.EndsAt.Sub(s.cfg.Now()); wait > 0 {
				// Not due (extended since this job was scheduled): wait for the end.
				if err := s.noteJob(ctx, l.ID, jobID, *l.EndsAt); err != nil {
					return err
				}
				return river.JobSnooze(wait)
			}
		}
	}
	if isAppLease(l) {
		// An imported application's owner changes it, not Gatehouse: no lock, no AWS.
		return s.appWork(ctx, l.ID)
	}
	holder := s.holderName()
	ok, err := s.st.LockAccess(ctx, l.AccessKey, holder, time.Now(), time.Now().Add(lockTTL))
	if err != nil {
		return err
	}
	if !ok {
		// Another worker changes this access now; look again shortly.
		return river.JobSnooze(jittered(time.Second))
	}
	unlock := s.hold(func(ctx context.Context) (bool, error) {
		return s.st.RenewAccessLock(ctx, l.AccessKey, holder, time.Now().Add(lockTTL))
	}, lockTTL/3, func(ctx context.Context) error {
		return s.st.UnlockAccess(ctx, l.AccessKey, holder)
	})
	defer unlock()
	// Read again under the lock: whoever held it may have changed the lease.
	if l, err = s.st.GetLease(ctx, leaseID); err != nil {
		return err
	}
	switch l.State {
	case store.LeasePending:
		return s.grant(ctx, l, attempt)
	case store.LeaseActive:
		if l.EndReason == "" && l.EndsAt != nil && l.EndsAt.After(s.cfg.Now()) {
			return nil // extended meanwhile; its next job waits for the new end
		}
		if err := s.beginEnd(ctx, l.ID); err != nil {
			if errors.Is(err, errDone) {
				return nil
			}
			return err
		}
		fallthrough
	case store.LeaseEnding:
		return s.revoke(ctx, l.ID)
	}
	return nil
}

// noteJob records that job is the lease's live job, due at at (so that the sweeper leaves
// the lease to it).
func (s *Service) noteJob(ctx context.Context, leaseID string, jobID int64, at time.Time) error {
	return s.st.InTx(ctx, func(tx *store.Tx) error {
		l, err := tx.Lease(ctx, leaseID)
		if err != nil {
			return err
		}
		l.JobID, l.JobAt = jobID, &at
		return tx.UpdateLease(ctx, l)
	})
}

// grant makes the lease's access in AWS, under its access lock. The first attempt records,
// before any write, whether the access already exists without a lease (standing access,
// which no lease ever removes); a later attempt first waits for a creation an earlier one
// may have left in progress (its process died), so that nothing is created twice.
func (s *Service) grant(ctx context.Context, l *store.Lease, attempt int) error {
	var target Target
	if err := json.Unmarshal([]byte(l.Target), &target); err != nil {
		return fmt.Errorf("lease %s: target: %w", l.ID, err)
	}
	// The request moves to provisioning; a request cancelled meanwhile ends the lease.
	ended := false
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		req, err := s.loadRequestTx(ctx, tx, l.RequestID)
		if err != nil {
			return err
		}
		switch req.State {
		case StateApproved:
			_, err := s.transitionTx(ctx, tx, req.ID, []State{StateApproved}, StateProvisioning, SystemActor, "granting in AWS", "")
			return err
		case StateProvisioning:
			return nil
		}
		cur, err := tx.Lease(ctx, l.ID)
		if err != nil {
			return err
		}
		now := s.cfg.Now()
		cur.State, cur.EndedAt, cur.UpdatedAt = store.LeaseEnded, &now, now
		cur.EndReason, cur.EndedBy = EndCancelled, SystemActor
		cur.EndNote = "the request was " + string(req.State) + " before it was granted: nothing was granted"
		if err := tx.UpdateLease(ctx, cur); err != nil {
			return err
		}
		if _, err := tx.AppendAudit(ctx, SystemActor, "lease.end", "lease:"+l.ID, map[string]any{"note": cur.EndNote}, ""); err != nil {
			return err
		}
		ended = true // committed: errDone would roll the end back
		return nil
	})
	if err != nil || ended {
		return err
	}

	acc, err := accessOf(target)
	if err != nil {
		return s.grantFailed(ctx, l.ID, attempt, err, false)
	}
	p, err := s.provisioner(ctx, l.ConnectionID)
	if err != nil {
		return s.grantFailed(ctx, l.ID, attempt, err, true)
	}
	if aa, ok := acc.(awsprovision.AccountAssignment); ok {
		// Operations on this assignment that a process which died may have left in
		// flight: a deletion by the revoke of another lease that is ending (it would
		// remove the access just after this grant found it there), a creation by an
		// earlier attempt of this lease or of another pending one (a second Create
		// would create it twice).
		ending, tried, err := s.inFlightSuspects(ctx, l)
		if err != nil {
			return err
		}
		if ending {
			if _, err := p.AwaitDeletionInFlight(ctx, aa); err != nil {
				return s.grantFailed(ctx, l.ID, attempt, err, retryable(err))
			}
		}
		if tried {
			if _, err := p.AwaitCreationInFlight(ctx, aa); err != nil {
				return s.grantFailed(ctx, l.ID, attempt, err, retryable(err))
			}
		}
	}
	if l.Attempts == 0 {
		standing, err := s.standing(ctx, p, l, acc)
		if err != nil {
			return s.grantFailed(ctx, l.ID, attempt, err, retryable(err))
		}
		l.Standing = standing
	}
	// The attempt (and the standing decision) is recorded before AWS is asked to change
	// anything: a retry after a crash knows it may have to await a creation in flight.
	// A lease released or revoked before any attempt ends here, with nothing asked of
	// AWS: no attempt can have created its access, so there is nothing to take back.
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		// The request first, then the lease: the order endEarly locks them in.
		if _, err := s.loadRequestTx(ctx, tx, l.RequestID); err != nil {
			return err
		}
		cur, err := tx.Lease(ctx, l.ID)
		if err != nil {
			return err
		}
		if cur.State != store.LeasePending {
			return errDone // another job of the lease moved it on
		}
		if cur.Attempts == 0 && cur.EndReason != "" {
			ended = true
			return s.endUngrantedTx(ctx, tx, cur)
		}
		if cur.Attempts == 0 {
			cur.Standing = l.Standing
		}
		cur.Attempts++
		cur.UpdatedAt = s.cfg.Now()
		*l = *cur
		return tx.UpdateLease(ctx, cur)
	})
	if errors.Is(err, errDone) {
		return nil
	}
	if err != nil || ended {
		return err
	}
	res, err := p.Grant(ctx, acc)
	if err != nil {
		return s.grantFailed(ctx, l.ID, attempt, err, retryable(err))
	}

	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		cur, err := tx.Lease(ctx, l.ID)
		if err != nil {
			return err
		}
		now := s.cfg.Now()
		end := now.Add(cur.Duration)
		cur.State, cur.StartsAt, cur.EndsAt, cur.LastError, cur.UpdatedAt = store.LeaseActive, &now, &end, "", now
		ending := cur.EndReason != ""
		note := "granted in AWS (" + string(res.Outcome) + ")"
		if cur.Standing {
			note += "; the access existed before the lease and stays when it ends"
		}
		if ending {
			// Released or revoked while it was being granted: take it back at once.
			cur.State = store.LeaseEnding
			err = s.enqueueTx(ctx, tx, cur, time.Time{})
		} else {
			err = s.enqueueTx(ctx, tx, cur, end)
		}
		if err != nil {
			return err
		}
		if err := tx.UpdateLease(ctx, cur); err != nil {
			return err
		}
		if _, err := tx.AppendAudit(ctx, SystemActor, "lease.grant", "lease:"+cur.ID, map[string]any{
			"request_id": cur.RequestID, "outcome": string(res.Outcome), "standing": cur.Standing,
			"starts_at": now.UTC().Format(time.RFC3339Nano), "ends_at": end.UTC().Format(time.RFC3339Nano),
			"aws_requests": requestIDs(res)}, ""); err != nil {
			return err
		}
		if _, err := s.transitionTx(ctx, tx, cur.RequestID, []State{StateProvisioning}, StateActive, SystemActor, note, "granted"); err != nil {
			return err
		}
		if ending {
			_, err = s.transitionTx(ctx, tx, cur.RequestID, []State{StateActive}, StateExpiring, cur.EndedBy, cur.EndReason+" while it was being granted", "")
		}
		return err
	})
	if err != nil {
		return err
	}
	s.wakeSweeper()
	return nil
}

// endUngrantedTx ends, in tx, a pending lease that was released or revoked before its
// grant made any attempt: nothing was asked of AWS, so nothing is taken back. The request
// goes the way of every early end (provisioning > expiring > revoked), each move stored,
// audited and notified as a revoke's are.
func (s *Service) endUngrantedTx(ctx context.Context, tx *store.Tx, l *store.Lease) error {
	now := s.cfg.Now()
	word := l.EndReason
	if word == EndRevoked {
		word = "revoked by an admin"
	}
	note := word + " before it was granted: nothing was granted in AWS"
	l.State, l.EndedAt, l.EndNote, l.LastError, l.UpdatedAt = store.LeaseEnded, &now, note, "", now
	if err := tx.UpdateLease(ctx, l); err != nil {
		return err
	}
	if _, err := tx.AppendAudit(ctx, SystemActor, "lease.end", "lease:"+l.ID, map[string]any{
		"request_id": l.RequestID, "reason": l.EndReason, "note": note}, ""); err != nil {
		return err
	}
	if _, err := s.transitionTx(ctx, tx, l.RequestID, []State{StateProvisioning}, StateExpiring, l.EndedBy, l.EndReason+" before it was granted", ""); err != nil {
		return err
	}
	_, err := s.transitionTx(ctx, tx, l.RequestID, []State{StateExpiring}, StateRevoked, SystemActor, note, "revoked")
	return err
}

// standing decides whether the lease's access exists without any lease: another lease of
// the same access that Gatehouse may have granted (active, ending, or pending with an
// attempt made) passes on its own standing; otherwise AWS says whether the access is
// there already. AWS, not the inventory, decides: a sync may still show access that a
// lease just revoked, and adopting it as standing would make the next lease permanent.
func (s *Service) standing(ctx context.Context, p *awsprovision.Provisioner, l *store.Lease, acc awsprovision.Access) (bool, error) {
	var others []store.Lease
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		var err error
		others, err = tx.LeasesOfAccess(ctx, l.AccessKey, store.LeaseActive, store.LeaseEnding, store.LeasePending)
		return err
	})
	if err != nil {
		return false, err
	}
	held := false
	for _, o := range others {
		if o.ID == l.ID || (o.State == store.LeasePending && o.Attempts == 0) {
			continue
		}
		held = true
		if o.Standing {
			return true, nil
		}
	}
	if held {
		return false, nil
	}
	return p.Has(ctx, acc)
}

// inFlightSuspects says whether another lease of the same access is ending (its revoke
// may have a deletion in flight), and whether this lease or another pending one made a
// grant attempt that has not been recorded as done (a creation may be in flight).
func (s *Service) inFlightSuspects(ctx context.Context, l *store.Lease) (ending, tried bool, err error) {
	var others []store.Lease
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		var err error
		others, err = tx.LeasesOfAccess(ctx, l.AccessKey, store.LeaseEnding, store.LeasePending)
		return err
	})
	tried = l.Attempts > 0
	for _, o := range others {
		switch {
		case o.ID == l.ID:
		case o.State == store.LeaseEnding:
			ending = true
		case o.Attempts > 0:
			tried = true
		}
	}
	return ending, tried, err
}

// grantFailed records a failed grant attempt. A retryable failure is retried (River runs
// the job again) until maxGrantAttempts; then, or at once for a failure no retry can fix
// (an unknown user, a denied call), the request fails with AWS's reason, and a grant that
// may have reached AWS is cleaned up by a revoke.
func (s *Service) grantFailed(ctx context.Context, leaseID string, attempt int, cause error, canRetry bool) error {
	msg := cause.Error()
	retrying := false
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		l, err := tx.Lease(ctx, leaseID)
		if err != nil {
			return err
		}
		now := s.cfg.Now()
		l.LastError, l.UpdatedAt = msg, now
		if canRetry && l.Attempts < maxGrantAttempts && attempt < maxGrantAttempts {
			retrying = true
			if err := tx.UpdateLease(ctx, l); err != nil {
				return err
			}
			_, err := s.transitionTx(ctx, tx, l.RequestID, []State{StateProvisioning}, StateProvisioning, SystemActor,
				fmt.Sprintf("attempt %d failed, retrying: %s", l.Attempts, msg), "")
			return err
		}
		l.EndReason, l.EndedBy = EndFailed, SystemActor
		if l.Attempts > 0 {
			// An attempt reached AWS: whatever it made (a creation that completed after
			// its wait ran out) is removed before the lease is over.
			l.State = store.LeaseEnding
			if err := s.enqueueTx(ctx, tx, l, time.Time{}); err != nil {
				return err
			}
		} else {
			l.State, l.EndedAt = store.LeaseFailed, &now
		}
		if err := tx.UpdateLease(ctx, l); err != nil {
			return err
		}
		if _, err := tx.AppendAudit(ctx, SystemActor, "lease.grant_failed", "lease:"+l.ID, map[string]any{
			"request_id": l.RequestID, "error": msg, "attempts": l.Attempts}, ""); err != nil {
			return err
		}
		req, err := s.loadRequestTx(ctx, tx, l.RequestID)
		if err != nil {
			return err
		}
		req.Error = msg
		_, err = s.moveTx(ctx, tx, req, []State{StateProvisioning, StateApproved}, StateFailed, SystemActor, msg, "failed")
		return err
	})
	if err != nil {
		return errors.Join(cause, err)
	}
	if retrying {
		return cause
	}
	s.wakeSweeper()
	return nil
}

// retryable says whether trying a failed change again can help: not for a user, group,
// permission set or account that does not exist, a principal that cannot hold the access,
// or a call AWS denies (a person has to fix those); yes for the rest (AWS unavailable or
// slow, throttling, an assignment that AWS reported FAILED for an internal error).
func retryable(err error) bool {
	switch awsprovision.KindOf(err) {
	case awsprovision.KindUnknownPrincipal, awsprovision.KindUnknownTarget, awsprovision.KindWrongPrincipal, awsprovision.KindDenied:
		return false
	}
	return true
}

// beginEnd moves an active lease that is due (or was asked to end) to ending, and its
// request to expiring. errDone when there is nothing to do.
func (s *Service) beginEnd(ctx context.Context, leaseID string) error {
	return s.st.InTx(ctx, func(tx *store.Tx) error {
		l, err := tx.Lease(ctx, leaseID)
		if err != nil {
			return err
		}
		if l.State != store.LeaseActive {
			return errDone
		}
		now := s.cfg.Now()
		if l.EndReason == "" {
			if l.EndsAt != nil && l.EndsAt.After(now) {
				return errDone
			}
			l.EndReason, l.EndedBy = EndExpired, SystemActor
		}
		l.State, l.UpdatedAt = store.LeaseEnding, now
		if err := tx.UpdateLease(ctx, l); err != nil {
			return err
		}
		reason := "the lease ended"
		if l.EndsAt != nil {
			reason += " at " + l.EndsAt.UTC().Format(time.RFC3339)
		}
		_, err = s.transitionTx(ctx, tx, l.RequestID, []State{StateActive}, StateExpiring, SystemActor, reason, "")
		return err
	})
}

// revoke takes an ending lease's access away in AWS, under its access lock, unless another
// active lease of the same access or standing access still needs it. The lease ends only
// when AWS confirmed the deletion (or that nothing was there); a failed revoke leaves it
// ending and the job is retried.
func (s *Service) revoke(ctx context.Context, leaseID string) error {
	l, err := s.st.GetLease(ctx, leaseID)
	if err != nil {
		return err
	}
	if l.State != store.LeaseEnding {
		return nil
	}
	var target Target
	if err := json.Unmarshal([]byte(l.Target), &target); err != nil {
		return fmt.Errorf("lease %s: target: %w", l.ID, err)
	}
	var others []store.Lease
	if err := s.st.InTx(ctx, func(tx *store.Tx) error {
		others, err = tx.LeasesOfAccess(ctx, l.AccessKey, store.LeaseActive)
		return err
	}); err != nil {
		return err
	}
	var keptFor []string
	standing := l.Standing
	for _, o := range others {
		if o.ID != l.ID {
			keptFor = append(keptFor, o.ID)
			standing = standing || o.Standing
		}
	}
	var note string
	var res *awsprovision.Result
	switch {
	case standing:
		note = "kept in AWS: the access existed before any lease (standing access)"
	case len(keptFor) > 0:
		note = "kept in AWS: still needed by " + strings.Join(keptFor, ", ")
	default:
		acc, err := accessOf(target)
		if err != nil {
			return err
		}
		p, err := s.provisioner(ctx, l.ConnectionID)
		if err != nil {
			s.revokeFailed(ctx, l.ID, err)
			return err
		}
		// The grant resolved the user (target.PrincipalID), and the lease removes only its
		// own direct assignment: the revoke needs neither the user's lookup nor the note
		// of the groups that give the user the same access (Identity Center's rate bounds
		// how many leases can end at once; these were 2 of every 5 calls).
		name := target.PrincipalName
		if name == "" {
			name = target.PrincipalID
		}
		if res, err = p.RevokeWith(ctx, acc, awsprovision.RevokeOptions{PrincipalName: name, SkipGroupHolders: true}); err != nil {
			s.revokeFailed(ctx, l.ID, err)
			return err
		}
		note = "revoked in AWS (" + string(res.Outcome) + ")"
	}
	revokedAt := time.Now()
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		cur, err := tx.Lease(ctx, l.ID)
		if err != nil {
			return err
		}
		if cur.State != store.LeaseEnding {
			return errDone
		}
		now := s.cfg.Now()
		cur.State, cur.EndedAt, cur.EndNote, cur.LastError, cur.UpdatedAt = store.LeaseEnded, &now, note, "", now
		if cur.EndReason == EndFailed {
			cur.State = store.LeaseFailed
		}
		if err := tx.UpdateLease(ctx, cur); err != nil {
			return err
		}
		detail := map[string]any{"request_id": cur.RequestID, "reason": cur.EndReason, "note": note}
		if res != nil {
			detail["outcome"], detail["aws_requests"] = string(res.Outcome), requestIDs(res)
		}
		if _, err := tx.AppendAudit(ctx, SystemActor, "lease.end", "lease:"+cur.ID, detail, ""); err != nil {
			return err
		}
		for _, h := range revokedHooks {
			if err := h(ctx, s, tx, cur, target, res != nil && res.Outcome == awsprovision.Removed, revokedAt); err != nil {
				return err
			}
		}
		to, ev := StateRevoked, "revoked"
		switch cur.EndReason {
		case EndFailed:
			return nil // the request failed already
		case EndExpired:
			to, ev = StateExpired, "expired"
		}
		_, err = s.transitionTx(ctx, tx, cur.RequestID, []State{StateExpiring}, to, SystemActor, note, ev)
		return err
	})
	if errors.Is(err, errDone) {
		return nil
	}
	return err
}

// revokedHooks run in the transaction that ends a lease (after AWS confirmed the revoke):
// removed says whether this lease's revoke removed the access in AWS. Other files of the
// package add theirs (ending live sessions, sessions.go).
var revokedHooks []func(ctx context.Context, s *Service, tx *store.Tx, l *store.Lease, t Target, removed bool, at time.Time) error

// revokeFailed records a failed revoke on the lease (it stays ending; the job is retried).
func (s *Service) revokeFailed(ctx context.Context, leaseID string, cause error) {
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		l, err := tx.Lease(ctx, leaseID)
		if err != nil {
			return err
		}
		l.LastError, l.UpdatedAt = cause.Error(), s.cfg.Now()
		if err := tx.UpdateLease(ctx, l); err != nil {
			return err
		}
		_, err = tx.AppendAudit(ctx, SystemActor, "lease.revoke_failed", "lease:"+l.ID, map[string]any{
			"request_id": l.RequestID, "error": cause.Error()}, "")
		return err
	})
	if err != nil {
		s.log.Error("recording a failed revoke failed", zap.String("lease", leaseID), zap.Error(err))
	}
}

// requestIDs lists the AWS calls of a change with their request ids, for the audit log.
func requestIDs(res *awsprovision.Result) []string {
	if res == nil {
		return nil
	}
	out := make([]string, 0, len(res.Calls))
	for _, c := range res.Calls {
		out = append(out, c.Action()+"="+c.RequestID)
	}
	return out
}

// ---- The sweeper ----

// sweeper runs on every replica (River's periodic jobs run on the leader only, and a
// leader that died holds its term for several seconds): it gives a job to every lease that
// needs work and has no live job — a River job scheduled at a lease's end runs only when
// River's leader makes it available, and a job left running by a replica that died is not
// run again for a long time — and sends expiry reminders. It wakes at each lease's end,
// every second while leases are overdue, and every Config.Sweep otherwise.
func (s *Service) sweeper(ctx context.Context) {
	every := s.cfg.Sweep
	if every <= 0 {
		every = DefaultSweep
	}
	for {
		wait := every
		due, err := s.Sweep(ctx)
		if err != nil && ctx.Err() == nil {
			s.log.Error("lease sweep failed; retrying in a second", zap.Error(err))
			wait = time.Second
		}
		if due.Overdue > 0 {
			wait = min(wait, time.Second)
		}
		for _, at := range []*time.Time{due.NextEnd, due.NextReminder} {
			if at != nil {
				wait = min(wait, max(at.Sub(s.cfg.Now()), 10*time.Millisecond))
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-s.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// wakeSweeper makes the sweeper look again now (a lease changed its next end).
func (s *Service) wakeSweeper() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Sweep does one round of the sweeper and says when the next one is due.
func (s *Service) Sweep(ctx context.Context) (store.LeaseDue, error) {
	var errs []error
	if err := s.freeDeadHolders(ctx); err != nil {
		errs = append(errs, fmt.Errorf("free the locks of dead processes: %w", err))
	}
	now := s.cfg.Now()
	for {
		// A job scheduled for a time already past waits for River's leader to make it
		// available (every 5 s, and not at all while a dead leader's term runs out): the
		// lease gets a job that runs at once, and the late one finds nothing to do.
		list, err := s.st.LeasesNeedingJobs(ctx, now, now, 200)
		if err != nil {
			errs = append(errs, err)
			break
		}
		for i := range list {
			if err := s.requeue(ctx, &list[i]); err != nil {
				errs = append(errs, err)
			}
		}
		if len(list) < 200 || len(errs) > 0 {
			break
		}
	}
	if err := s.remind(ctx, now); err != nil {
		errs = append(errs, err)
	}
	if err := s.alertOverdueTasks(ctx); err != nil {
		errs = append(errs, fmt.Errorf("alert overdue owner tasks: %w", err))
	}
	due, err := s.st.LeasesDue(ctx, s.cfg.Now(), reminderLead)
	if err != nil {
		errs = append(errs, err)
	}
	return due, errors.Join(errs...)
}

// requeue gives a lease a new job, unless another sweeper did since it was listed.
func (s *Service) requeue(ctx context.Context, listed *store.Lease) error {
	return s.st.InTx(ctx, func(tx *store.Tx) error {
		l, err := tx.Lease(ctx, listed.ID)
		if err != nil {
			return err
		}
		if l.Gen != listed.Gen || l.State != listed.State {
			return nil
		}
		if err := s.enqueueTx(ctx, tx, l, time.Time{}); err != nil {
			return err
		}
		s.log.Info("lease given a new job", zap.String("lease", l.ID), zap.String("state", l.State), zap.Int("gen", l.Gen))
		return tx.UpdateLease(ctx, l)
	})
}

// remind sends the expiry reminder of the active leases ending soon.
func (s *Service) remind(ctx context.Context, now time.Time) error {
	soon := now.Add(reminderLead)
	list, _, err := s.st.ListLeases(ctx, store.LeaseFilter{States: []string{store.LeaseActive}, EndsBefore: &soon, NotReminded: true}, store.Page{Size: store.MaxPageSize})
	if err != nil {
		return err
	}
	var errs []error
	for _, l := range list {
		if l.RemindedAt != nil || l.EndsAt == nil || l.EndsAt.Sub(now) > min(reminderLead, l.Duration/4) || !l.EndsAt.After(now) {
			continue
		}
		err := s.st.InTx(ctx, func(tx *store.Tx) error {
			cur, err := tx.Lease(ctx, l.ID)
			if err != nil {
				return err
			}
			if cur.RemindedAt != nil || cur.State != store.LeaseActive {
				return nil
			}
			cur.RemindedAt = &now
			if err := tx.UpdateLease(ctx, cur); err != nil {
				return err
			}
			req, err := s.loadRequestTx(ctx, tx, cur.RequestID)
			if err != nil {
				return err
			}
			left := cur.EndsAt.Sub(now).Round(time.Second)
			return s.notifyTx(ctx, tx, s.leaseEvent(req, cur, "expiry_warning", SystemActor, "the access ends in "+left.String()+"; extend it if you need more time"))
		})
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
