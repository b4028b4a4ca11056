package jit

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/gatehouse/gatehouse/internal/access"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Approval step timeouts: a periodic River job finds the requests whose waiting step is past
// its deadline and, as the policy says, hands the step to the fallback approvers (escalate) or
// ends the request (expire). A request past its deadline is found by every run until it is
// handled, so a replica that dies mid-run loses nothing.

// StepTimeoutInterval is how often the step-timeout job runs. Approval deadlines are minutes
// or hours; being up to this late is fine.
const StepTimeoutInterval = 30 * time.Second

// stepTimeoutArgs are the arguments of the periodic step-timeout job (none).
type stepTimeoutArgs struct{}

// Kind names the job in River.
func (stepTimeoutArgs) Kind() string { return "jit_step_timeouts" }

// InsertOpts: a few attempts; the next run picks up whatever this one left.
func (stepTimeoutArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queueRequests, MaxAttempts: 3}
}

// queueRequests is the queue of the request jobs: the lease queue, whose workers syncs never
// occupy.
const queueRequests = "jit"

type stepTimeoutWorker struct {
	river.WorkerDefaults[stepTimeoutArgs]
	s *Service
}

func (w *stepTimeoutWorker) Work(ctx context.Context, _ *river.Job[stepTimeoutArgs]) error {
	_, err := w.s.TimeoutSteps(ctx)
	return err
}

// addRequestWorkers registers the request workers (the Extension's AddWorkers calls it).
func (s *Service) addRequestWorkers(w *river.Workers) {
	river.AddWorker(w, &stepTimeoutWorker{s: s})
}

// requestPeriodicJobs are the request jobs that run on a schedule (the Extension's
// PeriodicJobs includes them).
func (s *Service) requestPeriodicJobs() []*river.PeriodicJob {
	return []*river.PeriodicJob{
		river.NewPeriodicJob(river.PeriodicInterval(StepTimeoutInterval),
			func() (river.JobArgs, *river.InsertOpts) { return stepTimeoutArgs{}, nil },
			&river.PeriodicJobOpts{ID: "jit-step-timeouts", RunOnStart: true}),
	}
}

// TimeoutSteps handles every pending request whose waiting approval step is past its
// deadline, and returns how many it handled. Escalate hands the step to the fallback
// approvers (who are notified; the step has no further deadline); expire, or escalate with no
// fallback approver left, ends the request as expired with the reason.
func (s *Service) TimeoutSteps(ctx context.Context) (int, error) {
	n := 0
	for {
		ids, err := s.st.DueAccessRequests(ctx, string(StatePendingApproval), s.now(), 100)
		if err != nil {
			return n, err
		}
		for _, id := range ids {
			if err := s.st.InTx(ctx, func(tx *store.Tx) error { return s.timeoutStepTx(ctx, tx, id) }); err != nil {
				if CodeOf(err) == CodeConflict {
					continue // decided meanwhile
				}
				return n, fmt.Errorf("approval timeout of %s: %w", id, err)
			}
			n++
		}
		if len(ids) < 100 {
			return n, nil
		}
	}
}

func (s *Service) timeoutStepTx(ctx context.Context, tx *store.Tx, id string) error {
	req, err := s.loadRequestTx(ctx, tx, id)
	if err != nil {
		return err
	}
	now := s.now()
	due := req.stepDue()
	if req.State != StatePendingApproval || due == nil || due.After(now) {
		return nil // decided, or already escalated, meanwhile
	}
	pol, err := policyOf(req)
	if err != nil {
		return err
	}
	i := -1
	for j := range req.Steps {
		if req.Steps[j].State == "waiting" {
			i = j
			break
		}
	}
	step := &req.Steps[i]
	waited := access.FormatDuration(step.Timeout)
	if step.OnTimeout == string(access.Expire) {
		_, err := s.moveTx(ctx, tx, req, []State{StatePendingApproval}, StateExpired, SystemActor,
			fmt.Sprintf("approval step %d was not decided within %s (the policy expires the request then)", i+1, waited), "expired")
		return err
	}
	eng := toEngine(req.Steps)
	why := fmt.Sprintf("not decided within %s; escalated to the fallback approvers (%s)", waited, pol.Fallback.Describe())
	if !access.EscalateStep(eng, i, why) {
		_, err := s.moveTx(ctx, tx, req, []State{StatePendingApproval}, StateExpired, SystemActor,
			fmt.Sprintf("approval step %d was not decided within %s and has no fallback approver to escalate to", i+1, waited), "expired")
		return err
	}
	st := access.Advance(eng, req.Requester, pol.Distinct)
	if st.Outcome != access.Waiting {
		_, err := s.moveTx(ctx, tx, req, []State{StatePendingApproval}, StateExpired, SystemActor,
			fmt.Sprintf("approval step %d was not decided within %s, and %s", i+1, waited, st.Why), "expired")
		return err
	}
	s.applyEngine(req, eng, st)
	step.DueAt = nil // the fallback approvers have no deadline
	req.UpdatedAt = now
	if err := s.saveTx(ctx, tx, req, StatePendingApproval); err != nil {
		return err
	}
	if err := tx.SetRequestApprovers(ctx, req.ID, access.AllApprovers(eng), st.Eligible); err != nil {
		return err
	}
	if _, err := tx.AppendAudit(ctx, SystemActor, "request.escalated", "request:"+req.ID, map[string]any{
		"step": i + 1, "to": st.Eligible, "reason": why}, ""); err != nil {
		return err
	}
	return s.notifyTx(ctx, tx, s.event(req, "approval_needed", SystemActor, "escalated: "+why, st.Eligible))
}
