package jit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/internal/awsprovision"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Ending live sessions on revoke (rules with end_sessions: true).
//
// Deleting an account assignment leaves role credentials already issued for the
// permission set valid for up to its session duration. When a lease of such a rule ends
// and its revoke removed the assignment, the transaction that ends the lease queues
// jit_end_sessions; that job adds AWS's documented deny of the user's sessions issued
// before the revoke to the permission set's inline policy and provisions it
// (awsprovision.Provisioner.EndSessions, see docs/jit.md "Ending live sessions"), audits
// lease.sessions_ended, and schedules jit_lift_session_deny for when every session the
// deny stops has expired anyway; that job removes exactly the statement it added
// (LiftSessionDeny) and audits lease.session_deny_lifted.
//
// The AWS calls are made by jobs, not in the transaction that ends the lease: they take
// seconds (provisioning the permission set to every account it is in), and the database
// must not stay locked meanwhile. The job is inserted in that transaction, so a crash
// leaves either the ended lease with its job or neither.

// sessionSkew is added to the revoke time to make the deny's time: sessions are issued by
// AWS's clock, and a session issued just before the revoke by a clock a little ahead of
// ours must be denied too. A session the user starts within it (only possible through
// another grant of the same access) just has to be started again.
//
// liftMargin is waited after the session duration before the deny is lifted, for the
// same clocks. Both are variables so that tests can shorten them.
var (
	sessionSkew = 5 * time.Second
	liftMargin  = time.Minute
)

// endSessionsArgs are the arguments of the job that ends a revoked lease's live sessions.
type endSessionsArgs struct {
	LeaseID string `json:"lease_id"`
	// IssuedBefore is the deny's time (unix milliseconds): the revoke plus sessionSkew.
	IssuedBefore int64 `json:"issued_before_ms"`
}

// Kind names the job in River.
func (endSessionsArgs) Kind() string { return "jit_end_sessions" }

// InsertOpts puts the job in the lease queue, once per lease and time. Retrying beyond
// the session duration (at most 12 hours) would end nothing, so the attempts stop within
// a few hours.
func (endSessionsArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueJIT, MaxAttempts: 12, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// liftSessionDenyArgs are the arguments of the job that removes a session deny once the
// sessions it stops have expired.
type liftSessionDenyArgs struct {
	LeaseID      string `json:"lease_id"`
	IssuedBefore int64  `json:"issued_before_ms"`
}

// Kind names the job in River.
func (liftSessionDenyArgs) Kind() string { return "jit_lift_session_deny" }

// InsertOpts puts the job in the lease queue, once per lease and time, with attempts
// enough that a deny is never left in a permission set for good because AWS was down:
// each statement left there takes room in the inline policy.
func (liftSessionDenyArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueJIT, MaxAttempts: 1000, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

func init() {
	revokedHooks = append(revokedHooks, func(ctx context.Context, s *Service, tx *store.Tx, l *store.Lease, t Target, removed bool, at time.Time) error {
		if !removed || !l.EndSessions || t.Kind != KindAccountAssignment {
			// Access another lease or standing access still gives was not taken away, so
			// its sessions are the user's by right; group memberships have no sessions of
			// their own to end by this method.
			return nil
		}
		return s.endSessionsTx(ctx, tx, l, at)
	})
}

// endSessionsTx queues, in the transaction that ends the lease, the job that ends the
// live sessions of the lease's access issued before revokedAt (plus sessionSkew).
func (s *Service) endSessionsTx(ctx context.Context, tx *store.Tx, l *store.Lease, revokedAt time.Time) error {
	if s.queue == nil {
		return errors.New("jit: no job queue (SetQueue was not called)")
	}
	_, err := s.queue.InsertTx(ctx, tx, endSessionsArgs{LeaseID: l.ID, IssuedBefore: revokedAt.Add(sessionSkew).UnixMilli()}, nil)
	return err
}

// addSessionWorkers registers the workers of the session jobs (worker.go calls it).
func (s *Service) addSessionWorkers(w *river.Workers) {
	river.AddWorker(w, &endSessionsWorker{s: s})
	river.AddWorker(w, &liftSessionDenyWorker{s: s})
}

// sessionAssignment reads the lease, its target and the assignment whose sessions it
// ends.
func (s *Service) sessionAssignment(ctx context.Context, leaseID string) (*store.Lease, Target, awsprovision.AccountAssignment, error) {
	var t Target
	l, err := s.st.GetLease(ctx, leaseID)
	if err != nil {
		return nil, t, awsprovision.AccountAssignment{}, fmt.Errorf("lease %s: %w", leaseID, err)
	}
	if err := json.Unmarshal([]byte(l.Target), &t); err != nil {
		return nil, t, awsprovision.AccountAssignment{}, fmt.Errorf("lease %s: target: %w", leaseID, err)
	}
	acc, err := accessOf(t)
	if err != nil {
		return nil, t, awsprovision.AccountAssignment{}, err
	}
	a, ok := acc.(awsprovision.AccountAssignment)
	if !ok {
		return nil, t, awsprovision.AccountAssignment{}, fmt.Errorf("lease %s grants %s, which has no sessions to end", leaseID, acc.Kind())
	}
	return l, t, a, nil
}

// noteOnRequestTx shows a step of ending sessions in the request's history, where the
// request page and the API show every other step: a transition from the request's state
// to itself (it has ended already) whose reason says what was done.
func (s *Service) noteOnRequestTx(ctx context.Context, tx *store.Tx, requestID, reason string) error {
	row, err := tx.GetAccessRequest(ctx, requestID)
	if err != nil {
		return err
	}
	_, err = tx.AppendRequestTransition(ctx, store.RequestTransition{RequestID: requestID, From: row.State, To: row.State,
		Actor: SystemActor, At: s.cfg.Now(), Reason: reason})
	return err
}

// utcTime writes a time for people, to the second, in UTC.
func utcTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }

type endSessionsWorker struct {
	river.WorkerDefaults[endSessionsArgs]
	s *Service
}

// Work ends the sessions, then, in one transaction, audits it and schedules the lift at
// the deny's time plus the permission set's session duration (read at the revoke) and
// liftMargin. A failure is audited and retried.
func (w *endSessionsWorker) Work(ctx context.Context, job *river.Job[endSessionsArgs]) error {
	s := w.s
	before := time.UnixMilli(job.Args.IssuedBefore).UTC()
	l, t, a, err := s.sessionAssignment(ctx, job.Args.LeaseID)
	if err != nil {
		return err
	}
	p, err := s.provisioner(ctx, l.ConnectionID)
	if err == nil {
		var res *awsprovision.Result
		if res, err = p.EndSessions(ctx, a, before); err == nil {
			liftAt := before.Add(res.SessionDuration + liftMargin)
			return s.st.InTx(ctx, func(tx *store.Tx) error {
				if _, err := s.queue.InsertTx(ctx, tx, liftSessionDenyArgs{LeaseID: l.ID, IssuedBefore: job.Args.IssuedBefore},
					&river.InsertOpts{ScheduledAt: liftAt}); err != nil {
					return err
				}
				if _, err := tx.AppendAudit(ctx, SystemActor, "lease.sessions_ended", "lease:"+l.ID, map[string]any{
					"request_id": l.RequestID, "outcome": string(res.Outcome), "issued_before": before.Format(time.RFC3339Nano),
					"session_duration": res.SessionDuration.String(), "lift_at": liftAt.Format(time.RFC3339),
					"aws_requests": requestIDs(res)}, ""); err != nil {
					return err
				}
				return s.noteOnRequestTx(ctx, tx, l.RequestID, fmt.Sprintf("live AWS sessions in account %s issued before %s ended: a deny is in the permission set %s until %s, when they would have expired",
					a.AccountID, utcTime(before), t.PermissionSetName, utcTime(liftAt)))
			})
		}
	}
	s.auditSessionFailure(ctx, l, "lease.sessions_end_failed", err, job.Attempt, job.MaxAttempts)
	return err
}

// Timeout lets the job wait for AWS as long as the provisioner does.
func (w *endSessionsWorker) Timeout(*river.Job[endSessionsArgs]) time.Duration {
	return 10 * time.Minute
}

type liftSessionDenyWorker struct {
	river.WorkerDefaults[liftSessionDenyArgs]
	s *Service
}

// Work removes the deny and audits it; a failure is audited and retried.
func (w *liftSessionDenyWorker) Work(ctx context.Context, job *river.Job[liftSessionDenyArgs]) error {
	s := w.s
	before := time.UnixMilli(job.Args.IssuedBefore).UTC()
	l, t, a, err := s.sessionAssignment(ctx, job.Args.LeaseID)
	if err != nil {
		return err
	}
	p, err := s.provisioner(ctx, l.ConnectionID)
	if err == nil {
		var res *awsprovision.Result
		if res, err = p.LiftSessionDeny(ctx, a, before); err == nil {
			return s.st.InTx(ctx, func(tx *store.Tx) error {
				if _, err := tx.AppendAudit(ctx, SystemActor, "lease.session_deny_lifted", "lease:"+l.ID, map[string]any{
					"request_id": l.RequestID, "outcome": string(res.Outcome), "issued_before": before.Format(time.RFC3339Nano),
					"aws_requests": requestIDs(res)}, ""); err != nil {
					return err
				}
				return s.noteOnRequestTx(ctx, tx, l.RequestID, "the deny that ended live AWS sessions was lifted from the permission set "+
					t.PermissionSetName+": every session it stopped has expired")
			})
		}
	}
	s.auditSessionFailure(ctx, l, "lease.session_deny_lift_failed", err, job.Attempt, job.MaxAttempts)
	return err
}

// NextRetry retries within minutes, never more than 15 apart.
func (w *liftSessionDenyWorker) NextRetry(job *river.Job[liftSessionDenyArgs]) time.Time {
	d := 10 * time.Second << min(max(job.Attempt-1, 0), 7)
	return time.Now().Add(min(d, 15*time.Minute))
}

// Timeout lets the job wait for AWS as long as the provisioner does.
func (w *liftSessionDenyWorker) Timeout(*river.Job[liftSessionDenyArgs]) time.Duration {
	return 10 * time.Minute
}

// auditSessionFailure records a failed attempt of a session job (the job is retried until
// its attempts run out; the last one says so).
func (s *Service) auditSessionFailure(ctx context.Context, l *store.Lease, action string, cause error, attempt, maxAttempts int) {
	if ctx.Err() != nil {
		return
	}
	final := attempt >= maxAttempts
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.AppendAudit(ctx, SystemActor, action, "lease:"+l.ID, map[string]any{
			"request_id": l.RequestID, "error": cause.Error(), "attempt": attempt, "final": final}, ""); err != nil {
			return err
		}
		if !final {
			return nil
		}
		what := "live AWS sessions could not be ended"
		if action == "lease.session_deny_lift_failed" {
			what = "the deny that ended live AWS sessions could not be lifted (remove it from the permission set's inline policy by hand)"
		}
		return s.noteOnRequestTx(ctx, tx, l.RequestID, what+": "+cause.Error())
	})
	if err != nil {
		s.log.Error("recording a failed session job failed", zap.String("lease", l.ID), zap.String("action", action), zap.Error(err))
	}
}
