package jit

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
)

// SystemActor is the actor of the transitions that Gatehouse's jobs make.
const SystemActor = "gatehouse"

// transitions is the state machine: the states each state may move to. Anything else is a
// programming error (transitionTx refuses it); a move the machine allows from a state the
// request is no longer in is a 409 for the caller.
var transitions = map[State][]State{
	"":                   {StatePendingApproval},
	StatePendingApproval: {StateApproved, StateDenied, StateCancelled, StateExpired},
	StateApproved:        {StateProvisioning, StateCancelled},
	StateProvisioning:    {StateActive, StateFailed, StateProvisioning, StateExpiring},
	StateActive:          {StateExpiring},
	StateExpiring:        {StateExpired, StateRevoked},
}

// CanMove says whether the state machine allows from -> to.
func CanMove(from, to State) bool { return slices.Contains(transitions[from], to) }

// verbs name the move to a state, for refusals ("cannot be approved").
var verbs = map[State]string{
	StateApproved:     "approved",
	StateDenied:       "denied",
	StateCancelled:    "cancelled",
	StateExpired:      "expired",
	StateProvisioning: "provisioned",
	StateActive:       "activated",
	StateFailed:       "marked failed",
	StateExpiring:     "ended",
	StateRevoked:      "revoked",
}

// conflict is the 409 for a request that is not in a state allowing the move.
func conflict(id string, cur State, what string) *Error {
	why := ""
	switch {
	case cur.Final():
		why = " (its life is over; make a new request)"
	case cur == StateActive || cur == StateProvisioning:
		why = " (it is already granted; release or extend it instead)"
	case cur == StateApproved:
		why = " (it is already approved and about to be granted)"
	case cur == StateExpiring:
		why = " (its access is being taken away)"
	}
	return Errorf(CodeConflict, "request %s is %s, so it cannot be %s%s", id, strings.ReplaceAll(string(cur), "_", " "), what, why)
}

// transitionTx moves request id from one of from to to in tx: it checks the current state (a
// 409 *Error naming the current state otherwise), writes the state, the transition row, the
// audit entry (action "request.<to>") and the Event (if ev is not empty), and returns the
// updated request (without transitions loaded).
func (s *Service) transitionTx(ctx context.Context, tx *store.Tx, id string, from []State, to State, actor, reason string, ev string) (*Request, error) {
	req, err := s.loadRequestTx(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	return s.moveTx(ctx, tx, req, from, to, actor, reason, ev)
}

// moveTx is transitionTx for a request already loaded in tx (its other fields, such as Steps
// or Error, are written too).
func (s *Service) moveTx(ctx context.Context, tx *store.Tx, req *Request, from []State, to State, actor, reason string, ev string) (*Request, error) {
	cur := req.State
	if !slices.Contains(from, cur) {
		what := verbs[to]
		if what == "" {
			what = "moved to " + string(to)
		}
		return nil, conflict(req.ID, cur, what)
	}
	if !CanMove(cur, to) {
		return nil, fmt.Errorf("jit: the state machine has no move from %s to %s (request %s)", cur, to, req.ID)
	}
	now := s.now()
	req.State, req.UpdatedAt = to, now
	if to.Final() || to == StateExpiring {
		req.PendingExtension = nil // no access left to extend
	}
	if cur == StatePendingApproval && to != StateApproved {
		// The approval ends undecided: the waiting step says how, later ones were not reached.
		for i := range req.Steps {
			switch req.Steps[i].State {
			case "waiting":
				if to == StateExpired {
					req.Steps[i].State = "timed_out"
				} else if to == StateCancelled {
					req.Steps[i].State = "cancelled"
				}
			case "pending":
				req.Steps[i].State = "not_reached"
			}
		}
	}
	if err := s.saveTx(ctx, tx, req, cur); err != nil {
		return nil, err
	}
	if to.Final() || to == StateApproved || to == StateDenied {
		// Nobody needs to decide it any more, except the review of break-glass access, which
		// stays in the reviewers' inboxes until one of them has reviewed it, however it ended.
		if !req.BreakGlass || req.ReviewedBy != "" || cur == StatePendingApproval {
			if err := tx.SetRequestApprovers(ctx, req.ID, nil, nil); err != nil {
				return nil, err
			}
		}
	}
	seq, err := tx.AppendRequestTransition(ctx, store.RequestTransition{RequestID: req.ID, From: string(cur), To: string(to),
		Actor: actor, At: now, Reason: reason})
	if err != nil {
		return nil, err
	}
	if _, err := tx.AppendAudit(ctx, actor, "request."+string(to), "request:"+req.ID, map[string]any{
		"from": string(cur), "to": string(to), "reason": reason, "entitlement_id": req.Target.EntitlementID,
		"requester": req.Requester, "seq": seq,
	}, ""); err != nil {
		return nil, err
	}
	if ev != "" {
		if err := s.notifyTx(ctx, tx, s.event(req, ev, actor, reason, nil)); err != nil {
			return nil, err
		}
	}
	return req, nil
}

// loadRequestTx reads request id in tx (on PostgreSQL the row stays locked until the
// transaction ends). A missing request is a 404 *Error.
func (s *Service) loadRequestTx(ctx context.Context, tx *store.Tx, id string) (*Request, error) {
	row, err := tx.GetAccessRequest(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, Errorf(CodeNotFound, "no request %s", id)
	}
	if err != nil {
		return nil, err
	}
	return fromRow(row)
}

// saveTx writes req's changeable fields; the row must still be in state from.
func (s *Service) saveTx(ctx context.Context, tx *store.Tx, req *Request, from State) error {
	row, err := toRow(req)
	if err != nil {
		return err
	}
	if err := tx.UpdateAccessRequest(ctx, row, string(from)); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return Errorf(CodeConflict, "request %s changed meanwhile; reload it and try again", req.ID)
		}
		return err
	}
	return nil
}

// notifyTx hands ev to the Notifier in tx (nothing when there is none).
func (s *Service) notifyTx(ctx context.Context, tx *store.Tx, ev Event) error {
	if s.cfg.Notifier == nil {
		return nil
	}
	if ev.At.IsZero() {
		ev.At = s.now()
	}
	// The lease's transitions are made by its jobs (actor gatehouse) on a request that does not
	// carry the lease: the lease says when the access ends and, for an early end, who ended it
	// (the requester releasing it, an admin revoking it), which the notification should tell.
	if ev.RequestID != "" && (ev.Kind == "granted" || ev.Kind == "revoked" || ev.Kind == "expired") {
		l, err := tx.LeaseOfRequest(ctx, ev.RequestID)
		switch {
		case err == nil:
			if ev.EndsAt == nil {
				ev.EndsAt = l.EndsAt
			}
			if ev.Kind == "revoked" && ev.Actor == SystemActor && l.EndedBy != "" {
				ev.Actor = l.EndedBy
			}
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
	}
	if ev.URL == "" && ev.RequestID != "" && s.cfg.BaseURL != "" {
		ev.URL = strings.TrimSuffix(s.cfg.BaseURL, "/") + "/requests/" + ev.RequestID
	}
	return s.cfg.Notifier.NotifyTx(ctx, tx, ev)
}

// event builds the Event of kind for req.
func (s *Service) event(req *Request, kind, actor, reason string, to []string) Event {
	return Event{Kind: kind, RequestID: req.ID, Requester: req.Requester, To: to, Target: req.Target, State: req.State,
		Actor: actor, Reason: reason, RequestReason: req.Reason, EndsAt: req.EndsAt, At: s.now()}
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC() }

// newID returns prefix + 20 random base32 characters (lower case).
func newID(prefix string) string {
	var b [13]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return prefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))[:20]
}

// toRow is req as stored.
func toRow(req *Request) (store.AccessRequest, error) {
	target, err := json.Marshal(req.Target)
	if err != nil {
		return store.AccessRequest{}, err
	}
	policy, err := json.Marshal(req.Policy)
	if err != nil {
		return store.AccessRequest{}, err
	}
	steps, err := json.Marshal(req.Steps)
	if err != nil {
		return store.AccessRequest{}, err
	}
	var ext json.RawMessage
	if req.PendingExtension != nil {
		if ext, err = json.Marshal(req.PendingExtension); err != nil {
			return store.AccessRequest{}, err
		}
	}
	return store.AccessRequest{
		ID: req.ID, Requester: req.Requester, ConnectionID: req.Target.ConnectionID, EntitlementID: req.Target.EntitlementID,
		AccessKey: req.Target.AccessKey(), Target: target, Reason: req.Reason, Duration: req.Duration, State: string(req.State),
		Rule: req.Rule, Policy: policy, Steps: steps, StepDueAt: req.stepDue(), BreakGlass: req.BreakGlass,
		ReviewedBy: req.ReviewedBy, ReviewedAt: req.ReviewedAt, EndSessions: req.EndSessions, PendingExtension: ext,
		Error: req.Error, CreatedAt: req.CreatedAt, UpdatedAt: req.UpdatedAt,
	}, nil
}

// fromRow is the stored request as a Request (without transitions or lease).
func fromRow(row *store.AccessRequest) (*Request, error) {
	req := &Request{
		ID: row.ID, State: State(row.State), Requester: row.Requester, Reason: row.Reason, Duration: row.Duration,
		CreatedAt: row.CreatedAt, UpdatedAt: row.UpdatedAt, Rule: row.Rule, BreakGlass: row.BreakGlass,
		ReviewedBy: row.ReviewedBy, ReviewedAt: row.ReviewedAt, EndSessions: row.EndSessions, Error: row.Error,
	}
	if err := json.Unmarshal(row.Target, &req.Target); err != nil {
		return nil, fmt.Errorf("request %s: target: %w", row.ID, err)
	}
	if err := json.Unmarshal(row.Policy, &req.Policy); err != nil {
		return nil, fmt.Errorf("request %s: policy: %w", row.ID, err)
	}
	if err := json.Unmarshal(row.Steps, &req.Steps); err != nil {
		return nil, fmt.Errorf("request %s: steps: %w", row.ID, err)
	}
	if len(row.PendingExtension) > 0 {
		req.PendingExtension = &Extension{}
		if err := json.Unmarshal(row.PendingExtension, req.PendingExtension); err != nil {
			return nil, fmt.Errorf("request %s: pending extension: %w", row.ID, err)
		}
	}
	return req, nil
}

// stepDue is the deadline of the step waiting for approval (nil when none, or when the request
// is not pending).
func (req *Request) stepDue() *time.Time {
	if req.State != StatePendingApproval {
		return nil
	}
	for _, st := range req.Steps {
		if st.State == "waiting" {
			return st.DueAt
		}
	}
	return nil
}
