package jit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse/internal/access"
	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Requests: create (the rules decide, the policy is snapshotted and its approvers resolved),
// decide (approve, deny), cancel, read. Every change is one transaction with its transition,
// audit entry and notification (transitions.go).

// leaseLoader fills in the lease (StartsAt, EndsAt, Lease) of requests; leases.go (helper L)
// sets it. Without it requests are shown without their lease.
var leaseLoader func(ctx context.Context, s *Service, reqs []*Request) error

// signedIn refuses a nil caller or one without an email.
func signedIn(c *auth.Caller) error {
	if c == nil || c.Email == "" {
		return Errorf(CodeForbidden, "sign in first: requests belong to a person")
	}
	return nil
}

// resolver answers the approval engine's questions for one request's target.
type resolver struct {
	s      *Service
	target Target
}

// connection is where the approvers' groups and managers are read: the target's own, or for
// an imported application (which has no groups or managers of its own) every connection.
func (r resolver) connection() string {
	if r.target.Kind == KindAppGrant {
		return ""
	}
	return r.target.ConnectionID
}

func (r resolver) GroupMembers(ctx context.Context, group string) ([]string, error) {
	return r.s.st.GroupMemberEmails(ctx, r.connection(), group)
}

func (r resolver) Manager(ctx context.Context, person string) (string, error) {
	return r.s.manager(ctx, r.connection(), person)
}

// Owners are the owners of the account, of the permission set and of the application (the
// connection), together.
func (r resolver) Owners(ctx context.Context) ([]string, error) {
	var out []string
	if r.target.Kind == KindAppGrant {
		// An imported application's owner (its page's), with any owners set for it.
		a, err := r.s.st.GetApp(ctx, r.target.ConnectionID)
		if err != nil {
			return nil, err
		}
		if a.Owner != "" {
			out = append(out, strings.ToLower(a.Owner))
		}
	}
	for _, sc := range [][2]string{{OwnerAccount, r.target.AccountID}, {OwnerPermissionSet, r.target.PermissionSetID}, {OwnerApplication, r.target.ConnectionID}} {
		if sc[1] == "" {
			continue
		}
		o, err := r.s.st.Owners(ctx, sc[0], sc[1])
		if err != nil {
			return nil, err
		}
		out = append(out, o...)
	}
	return out, nil
}

func (r resolver) Admins(ctx context.Context) ([]string, error) {
	return r.s.st.UsersWithRole(ctx, auth.RoleAdmin)
}

// Create makes a request: the entitlement must exist, a rule must let the caller request it,
// the caller must have an AWS identity for it, the duration must be within the rule's bounds,
// a reason given where the rule wants one, and the policy must be able to get its approvals
// (a step nobody can approve is refused here, with why, rather than skipped). A policy whose
// steps are all "nobody" approves at once; break-glass (where the rule allows it) is approved
// by the requester at once, alerts the approvers and waits for their review.
func (s *Service) Create(ctx context.Context, c *auth.Caller, in CreateInput) (*Request, error) {
	if err := signedIn(c); err != nil {
		return nil, err
	}
	requester := strings.ToLower(c.Email)
	if strings.TrimSpace(in.EntitlementID) == "" {
		return nil, Errorf(CodeInvalid, "say what you request: entitlement_id (the catalog lists them)")
	}
	cfg, _, err := s.config(ctx)
	if err != nil {
		return nil, err
	}
	info, err := s.resolveEntitlement(ctx, in.EntitlementID)
	if err != nil {
		return nil, err
	}
	who, err := s.identityFor(ctx, info.target, requester)
	if err != nil {
		return nil, err
	}
	d := cfg.Rules.Decide(info.rules, access.Requester{Email: requester, Groups: who.Groups})
	if !d.Requestable {
		return nil, Errorf(CodeForbidden, "%s", d.NotRequestableWhy)
	}
	if who.Why != "" {
		return nil, Errorf(CodeForbidden, "%s", who.Why)
	}
	if err := d.ValidateDuration(in.Duration); err != nil {
		return nil, Errorf(CodeInvalid, "%s", err.Error())
	}
	dur := in.Duration
	if dur == 0 {
		dur = d.DefaultDuration
	}
	reason := strings.TrimSpace(in.Reason)
	if reason == "" && (d.ReasonRequired || in.BreakGlass) {
		why := fmt.Sprintf("rule '%s' requires one", d.Rule.Name)
		if in.BreakGlass {
			why = "break-glass access is reviewed after the fact"
		}
		return nil, Errorf(CodeInvalid, "give a reason: say why you need %s (%s)", info.target.DisplayName, why)
	}
	if in.BreakGlass && !d.BreakGlass {
		return nil, Errorf(CodeForbidden, "rule '%s' does not allow break-glass access to %s; make an ordinary request, or ask an admin to set break_glass: true on a rule for it",
			d.Rule.Name, info.target.DisplayName)
	}
	pol := cfg.Policy(d.ApprovalPolicy)
	if pol == nil { // ParseConfig refuses such a document; DefaultConfig has the policy
		return nil, fmt.Errorf("jit: rule %q names policy %q, which does not exist", d.Rule.Name, d.ApprovalPolicy)
	}
	target := info.target
	target.PrincipalID, target.PrincipalName = who.PrincipalID, who.PrincipalName
	if target.Kind == KindAppGrant {
		target.Email = requester
	}

	planned, err := access.Plan(ctx, pol, requester, resolver{s: s, target: target})
	var planErr *access.PlanError
	switch {
	case errors.As(err, &planErr) && !in.BreakGlass:
		return nil, Errorf(CodeInvalid, "%s", planErr.Detail)
	case errors.As(err, &planErr):
		// Break-glass goes ahead; the review falls to the admins.
		planned = nil
	case err != nil:
		return nil, err
	}
	polDoc, err := json.Marshal(pol)
	if err != nil {
		return nil, err
	}
	now := s.now()
	req := &Request{
		ID: newID("req_"), State: StatePendingApproval, Requester: requester, Target: target, Reason: reason,
		Duration: dur, CreatedAt: now, UpdatedAt: now, Rule: d.Rule.Name,
		Policy:     PolicySnapshot{Name: pol.Name, Doc: polDoc},
		BreakGlass: in.BreakGlass, EndSessions: d.EndSessions,
	}
	for i, p := range planned {
		req.Steps = append(req.Steps, StepStatus{Index: i, Name: p.Name, Required: p.Required, Approvers: p.Approvers,
			Approvals: []Decision{}, State: "pending", UsesFallback: p.UsesFallback, Note: p.Note, Auto: p.Auto,
			Fallback: p.Fallback, Timeout: p.Timeout, OnTimeout: string(p.OnTimeout)})
	}
	st := s.syncSteps(req, pol.Distinct)

	var out *Request
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		// One open request per person and access: a second one would share the first's
		// assignment and confuse both; extending is the way to more time. The lock makes two
		// requests made at once see each other.
		if err := tx.LockRequestKey(ctx, "request|"+requester+"|"+target.AccessKey()); err != nil {
			return err
		}
		if id, state, err := tx.OpenRequestFor(ctx, requester, target.AccessKey(), []string{string(StatePendingApproval),
			string(StateApproved), string(StateProvisioning), string(StateActive)}); err != nil {
			return err
		} else if id != "" {
			return Errorf(CodeConflict, "you already have request %s for %s (%s); cancel it, or extend it once it is active",
				id, target.DisplayName, strings.ReplaceAll(state, "_", " "))
		}
		row, err := toRow(req)
		if err != nil {
			return err
		}
		if err := tx.InsertAccessRequest(ctx, row); err != nil {
			return err
		}
		if _, err := tx.AppendRequestTransition(ctx, store.RequestTransition{RequestID: req.ID, To: string(StatePendingApproval),
			Actor: requester, At: now, Reason: reason}); err != nil {
			return err
		}
		if _, err := tx.AppendAudit(ctx, requester, "request.create", "request:"+req.ID, map[string]any{
			"entitlement_id": target.EntitlementID, "duration": access.FormatDuration(dur), "reason": reason,
			"rule": d.Rule.Name, "policy": pol.Name, "break_glass": in.BreakGlass,
		}, c.RemoteAddr); err != nil {
			return err
		}
		if err := s.notifyTx(ctx, tx, s.event(req, "requested", requester, reason, nil)); err != nil {
			return err
		}
		switch {
		case in.BreakGlass:
			reviewers := access.AllApprovers(toEngine(req.Steps))
			// The steps are not decided: the access is granted now and reviewed afterwards.
			for i := range req.Steps {
				if req.Steps[i].State != "approved" {
					req.Steps[i].State, req.Steps[i].DueAt = "not_reached", nil
					req.Steps[i].Note = "break-glass: approved by the requester at once; an approver reviews it after the fact"
				}
			}
			if len(reviewers) == 0 {
				if reviewers, err = s.st.UsersWithRole(ctx, auth.RoleAdmin); err != nil {
					return err
				}
				reviewers = slices.DeleteFunc(reviewers, func(e string) bool { return e == requester })
			}
			if req, err = s.moveTx(ctx, tx, req, []State{StatePendingApproval}, StateApproved, requester,
				"break-glass: "+reason, "approved"); err != nil {
				return err
			}
			if err := tx.SetRequestApprovers(ctx, req.ID, reviewers, reviewers); err != nil {
				return err
			}
			if err := s.notifyTx(ctx, tx, s.event(req, "break_glass", requester, reason, reviewers)); err != nil {
				return err
			}
			if err := s.grantTx(ctx, tx, req); err != nil {
				return err
			}
		case st.Outcome == access.Approved:
			if req, err = s.moveTx(ctx, tx, req, []State{StatePendingApproval}, StateApproved, SystemActor,
				fmt.Sprintf("policy '%s' approves automatically", pol.Name), "approved"); err != nil {
				return err
			}
			if err := s.grantTx(ctx, tx, req); err != nil {
				return err
			}
		case st.Outcome == access.Waiting:
			if err := tx.SetRequestApprovers(ctx, req.ID, access.AllApprovers(toEngine(req.Steps)), st.Eligible); err != nil {
				return err
			}
			if err := s.notifyTx(ctx, tx, s.event(req, "approval_needed", requester, reason, st.Eligible)); err != nil {
				return err
			}
		default: // Plan makes sure every step can be approved
			return Errorf(CodeInvalid, "this request cannot be made: %s", st.Why)
		}
		out = req
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, c, out.ID)
}

// toEngine is the approval engine's view of steps.
func toEngine(steps []StepStatus) []access.StepState {
	out := make([]access.StepState, len(steps))
	for i, st := range steps {
		e := access.StepState{Name: st.Name, Required: st.Required, Approvers: st.Approvers, Fallback: st.Fallback,
			UsesFallback: st.UsesFallback, Note: st.Note, Auto: st.Auto, Timeout: st.Timeout, OnTimeout: access.OnTimeout(st.OnTimeout)}
		for _, d := range st.Approvals {
			if d.Approved {
				e.Approvals = append(e.Approvals, d.By)
			} else {
				e.Denied = true
			}
		}
		out[i] = e
	}
	return out
}

// syncSteps runs the engine on req's steps and writes back what it decided: approvers (a step
// handed to the fallback), each step's state, and the deadline of a step that starts waiting.
func (s *Service) syncSteps(req *Request, distinct bool) access.Status {
	eng := toEngine(req.Steps)
	st := access.Advance(eng, req.Requester, distinct)
	s.applyEngine(req, eng, st)
	return st
}

func (s *Service) applyEngine(req *Request, eng []access.StepState, st access.Status) {
	now := s.now()
	for i := range req.Steps {
		e, ss := eng[i], &req.Steps[i]
		ss.Approvers, ss.UsesFallback, ss.Note = e.Approvers, e.UsesFallback, e.Note
		switch {
		case e.Denied:
			ss.State = "denied"
		case e.Done():
			ss.State = "approved"
		case (st.Outcome == access.Waiting || st.Outcome == access.Stuck) && i == st.Current:
			if ss.State != "waiting" {
				ss.State = "waiting"
				// A step the fallback decides from the start still expires when the policy says
				// so; escalating it again would go nowhere.
				if ss.Timeout > 0 && (!ss.UsesFallback || ss.OnTimeout == string(access.Expire)) {
					due := now.Add(ss.Timeout)
					ss.DueAt = &due
				}
			}
		default:
			ss.State = "pending"
		}
	}
}

// policyOf is the policy snapshot of req.
func policyOf(req *Request) (*access.Policy, error) {
	var p access.Policy
	if err := json.Unmarshal(req.Policy.Doc, &p); err != nil {
		return nil, fmt.Errorf("request %s: policy snapshot: %w", req.ID, err)
	}
	return &p, nil
}

// canSee says whether c may see req: its requester, admins and auditors, and anyone who may
// decide (or decided, or reviews) it.
func (s *Service) canSee(ctx context.Context, tx *store.Tx, c *auth.Caller, req *Request) (bool, error) {
	if c.CanAudit() || strings.EqualFold(c.Email, req.Requester) {
		return true, nil
	}
	if req.Target.Kind == KindAppGrant {
		// The application's owner does its grant and revoke: they see the request.
		if ok, err := s.isAppOwner(ctx, tx, req.Target.ConnectionID, c.Email); err != nil || ok {
			return ok, err
		}
	}
	if tx != nil {
		return tx.IsRequestApprover(ctx, req.ID, strings.ToLower(c.Email))
	}
	return s.st.IsRequestApprover(ctx, req.ID, strings.ToLower(c.Email))
}

func notFound(id string) *Error {
	return Errorf(CodeNotFound, "no request %s that you may see", id)
}

// Get returns a request the caller may see, with its transitions and lease.
func (s *Service) Get(ctx context.Context, c *auth.Caller, id string) (*Request, error) {
	if err := signedIn(c); err != nil {
		return nil, err
	}
	row, err := s.st.GetAccessRequest(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound(id)
	}
	if err != nil {
		return nil, err
	}
	req, err := fromRow(row)
	if err != nil {
		return nil, err
	}
	if ok, err := s.canSee(ctx, nil, c, req); err != nil {
		return nil, err
	} else if !ok {
		return nil, notFound(id)
	}
	if err := s.complete(ctx, []*Request{req}); err != nil {
		return nil, err
	}
	return req, nil
}

// complete loads the transitions and leases of reqs.
func (s *Service) complete(ctx context.Context, reqs []*Request) error {
	if len(reqs) == 0 {
		return nil
	}
	ids := make([]string, len(reqs))
	for i, r := range reqs {
		ids[i] = r.ID
	}
	trs, err := s.st.RequestTransitions(ctx, ids...)
	if err != nil {
		return err
	}
	for _, r := range reqs {
		r.Transitions = []Transition{}
		for _, t := range trs[r.ID] {
			r.Transitions = append(r.Transitions, Transition{Seq: t.Seq, From: State(t.From), To: State(t.To), By: t.Actor, At: t.At, Reason: t.Reason})
		}
	}
	if leaseLoader != nil {
		return leaseLoader(ctx, s, reqs)
	}
	return nil
}

// List lists requests, newest first: the caller's own ("mine", the default), those waiting
// for the caller's decision or review ("to_approve"), those the caller may decide or decided
// ("decided"), or everyone's ("all": admins and auditors).
func (s *Service) List(ctx context.Context, c *auth.Caller, f ListFilter) ([]Request, string, error) {
	if err := signedIn(c); err != nil {
		return nil, "", err
	}
	me := strings.ToLower(c.Email)
	var sf store.AccessRequestFilter
	switch f.Scope {
	case "", "mine":
		if f.Requester != "" && !strings.EqualFold(f.Requester, me) {
			return nil, "", Errorf(CodeForbidden, "your requests are yours to list; to see %s's, use scope all (admins and auditors)", f.Requester)
		}
		sf.Requester = me
	case "to_approve":
		sf.Approver, sf.Current, sf.Requester = me, true, strings.ToLower(f.Requester)
	case "decided":
		sf.Approver, sf.Requester = me, strings.ToLower(f.Requester)
	case "all":
		if !c.CanAudit() {
			return nil, "", Errorf(CodeForbidden, "only admins and auditors see everyone's requests; use scope mine or to_approve")
		}
		sf.Requester = strings.ToLower(f.Requester)
	default:
		return nil, "", Errorf(CodeInvalid, "scope %q is not one of mine, to_approve, decided, all", f.Scope)
	}
	for _, st := range f.States {
		if _, known := verbs[st]; !known && st != StatePendingApproval {
			return nil, "", Errorf(CodeInvalid, "state %q is not a request state", st)
		}
		sf.States = append(sf.States, string(st))
	}
	rows, next, err := s.st.ListAccessRequests(ctx, sf, f.Page)
	if errors.Is(err, store.ErrBadPageToken) {
		return nil, "", Errorf(CodeInvalid, "the page token is not one this list gave; start from the first page")
	}
	if err != nil {
		return nil, "", err
	}
	out := make([]Request, 0, len(rows))
	ptrs := make([]*Request, 0, len(rows))
	for i := range rows {
		r, err := fromRow(&rows[i])
		if err != nil {
			return nil, "", err
		}
		out = append(out, *r)
	}
	for i := range out {
		ptrs = append(ptrs, &out[i])
	}
	if err := s.complete(ctx, ptrs); err != nil {
		return nil, "", err
	}
	return out, next, nil
}

// decide runs fn on request id in a transaction after checking the caller may see it, then
// returns the request as the caller now sees it.
func (s *Service) decide(ctx context.Context, c *auth.Caller, id string, fn func(tx *store.Tx, req *Request) error) (*Request, error) {
	if err := signedIn(c); err != nil {
		return nil, err
	}
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		req, err := s.loadRequestTx(ctx, tx, id)
		if CodeOf(err) == CodeNotFound {
			return notFound(id)
		}
		if err != nil {
			return err
		}
		if ok, err := s.canSee(ctx, tx, c, req); err != nil {
			return err
		} else if !ok {
			return notFound(id)
		}
		return fn(tx, req)
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, c, id)
}

// Approve records the caller's approval: of the current step of a pending request (approved
// when it was the last one needed, and then granted), of a pending extension, or the
// after-the-fact review of break-glass access.
func (s *Service) Approve(ctx context.Context, c *auth.Caller, id, reason string) (*Request, error) {
	return s.decide(ctx, c, id, func(tx *store.Tx, req *Request) error {
		me := strings.ToLower(c.Email)
		reason = strings.TrimSpace(reason)
		switch {
		case req.State == StatePendingApproval:
			return s.recordTx(ctx, tx, c, req, true, reason)
		case req.PendingExtension != nil && req.State == StateActive:
			if err := s.mayDecideAfter(ctx, tx, c, req, "approve its extension"); err != nil {
				return err
			}
			ext := *req.PendingExtension
			req.PendingExtension = nil
			req.UpdatedAt = s.now()
			if err := s.saveTx(ctx, tx, req, req.State); err != nil {
				return err
			}
			if err := tx.SetRequestApprovers(ctx, req.ID, nil, nil); err != nil {
				return err
			}
			if _, err := tx.AppendAudit(ctx, me, "request.extension_approved", "request:"+req.ID, map[string]any{
				"duration": access.FormatDuration(ext.Duration), "reason": reason}, c.RemoteAddr); err != nil {
				return err
			}
			return s.extendTx(ctx, tx, req, ext.Duration, me)
		case req.BreakGlass && req.ReviewedBy == "" && req.State != StatePendingApproval:
			if err := s.mayDecideAfter(ctx, tx, c, req, "review it"); err != nil {
				return err
			}
			now := s.now()
			req.ReviewedBy, req.ReviewedAt, req.UpdatedAt = me, &now, now
			if err := s.saveTx(ctx, tx, req, req.State); err != nil {
				return err
			}
			if err := tx.SetRequestApprovers(ctx, req.ID, nil, nil); err != nil {
				return err
			}
			if _, err := tx.AppendAudit(ctx, me, "request.break_glass_reviewed", "request:"+req.ID, map[string]any{"reason": reason}, c.RemoteAddr); err != nil {
				return err
			}
			return s.notifyTx(ctx, tx, s.event(req, "break_glass_reviewed", me, reason, []string{req.Requester}))
		default:
			return conflict(req.ID, req.State, "approved")
		}
	})
}

// mayDecideAfter checks that c may approve an extension of req or review its break-glass
// access: anyone who could approve its steps (fallback included) or an admin, never the
// requester.
func (s *Service) mayDecideAfter(ctx context.Context, tx *store.Tx, c *auth.Caller, req *Request, what string) error {
	me := strings.ToLower(c.Email)
	if me == req.Requester {
		return Errorf(CodeForbidden, "you made request %s, so you cannot %s; ask one of its approvers", req.ID, what)
	}
	if c.IsAdmin() || slices.Contains(access.AllApprovers(toEngine(req.Steps)), me) {
		return nil
	}
	if ok, err := tx.IsRequestApprover(ctx, req.ID, me); err != nil || ok {
		return err
	}
	return Errorf(CodeForbidden, "you are not among the approvers of request %s, so you cannot %s", req.ID, what)
}

// recordTx records c's decision on the current step of the pending request req.
func (s *Service) recordTx(ctx context.Context, tx *store.Tx, c *auth.Caller, req *Request, approve bool, reason string) error {
	pol, err := policyOf(req)
	if err != nil {
		return err
	}
	me := strings.ToLower(c.Email)
	eng := toEngine(req.Steps)
	st, err := access.Record(eng, req.Requester, pol.Distinct, me, approve)
	var ne *access.NotEligibleError
	if errors.As(err, &ne) {
		return Errorf(CodeForbidden, "you cannot decide request %s: %s", req.ID, ne.Detail)
	}
	if err != nil {
		return err
	}
	step := -1
	for i := range req.Steps {
		if req.Steps[i].State == "waiting" {
			step = i
			break
		}
	}
	if step < 0 {
		return fmt.Errorf("jit: request %s is pending with no waiting step", req.ID)
	}
	now := s.now()
	req.Steps[step].Approvals = append(req.Steps[step].Approvals, Decision{By: me, Approved: approve, Reason: reason, At: now})
	s.applyEngine(req, eng, st)
	req.UpdatedAt = now
	action := "request.approval"
	if !approve {
		action = "request.denial"
	}
	if _, err := tx.AppendAudit(ctx, me, action, "request:"+req.ID, map[string]any{"step": step + 1, "reason": reason}, c.RemoteAddr); err != nil {
		return err
	}
	switch st.Outcome {
	case access.Denied:
		_, err := s.moveTx(ctx, tx, req, []State{StatePendingApproval}, StateDenied, me, reason, "denied")
		return err
	case access.Approved:
		if req, err = s.moveTx(ctx, tx, req, []State{StatePendingApproval}, StateApproved, me, reason, "approved"); err != nil {
			return err
		}
		return s.grantTx(ctx, tx, req)
	case access.Waiting:
		if err := s.saveTx(ctx, tx, req, StatePendingApproval); err != nil {
			return err
		}
		if err := tx.SetRequestApprovers(ctx, req.ID, access.AllApprovers(eng), st.Eligible); err != nil {
			return err
		}
		if st.Current != step {
			return s.notifyTx(ctx, tx, s.event(req, "approval_needed", me, reason, st.Eligible))
		}
		return nil
	default: // Stuck: nobody is left who may approve; the request cannot go on.
		_, err := s.moveTx(ctx, tx, req, []State{StatePendingApproval}, StateExpired, SystemActor,
			"no eligible approver is left: "+st.Why, "expired")
		return err
	}
}

// Deny ends a pending request (one denial by an approver of its current step is enough), or
// turns down a pending extension of active access.
func (s *Service) Deny(ctx context.Context, c *auth.Caller, id, reason string) (*Request, error) {
	return s.decide(ctx, c, id, func(tx *store.Tx, req *Request) error {
		reason = strings.TrimSpace(reason)
		switch {
		case req.State == StatePendingApproval:
			return s.recordTx(ctx, tx, c, req, false, reason)
		case req.PendingExtension != nil && req.State == StateActive:
			if err := s.mayDecideAfter(ctx, tx, c, req, "deny its extension"); err != nil {
				return err
			}
			me := strings.ToLower(c.Email)
			req.PendingExtension = nil
			req.UpdatedAt = s.now()
			if err := s.saveTx(ctx, tx, req, req.State); err != nil {
				return err
			}
			if err := tx.SetRequestApprovers(ctx, req.ID, nil, nil); err != nil {
				return err
			}
			if _, err := tx.AppendAudit(ctx, me, "request.extension_denied", "request:"+req.ID, map[string]any{"reason": reason}, c.RemoteAddr); err != nil {
				return err
			}
			return s.notifyTx(ctx, tx, s.event(req, "extension_denied", me, reason, []string{req.Requester}))
		default:
			return conflict(req.ID, req.State, "denied")
		}
	})
}

// Cancel withdraws a request before it is granted: pending approval or approved (the grant job
// then finds it cancelled and grants nothing). The requester or an admin.
func (s *Service) Cancel(ctx context.Context, c *auth.Caller, id, reason string) (*Request, error) {
	return s.decide(ctx, c, id, func(tx *store.Tx, req *Request) error {
		me := strings.ToLower(c.Email)
		if me != req.Requester && !c.IsAdmin() {
			return Errorf(CodeForbidden, "only the requester (%s) or an admin can cancel request %s; to turn it down, deny it", req.Requester, req.ID)
		}
		if req.State == StateActive || req.State == StateProvisioning {
			return Errorf(CodeConflict, "request %s is %s, so it cannot be cancelled; release it instead (or, as an admin, revoke it)", req.ID, req.State)
		}
		_, err := s.moveTx(ctx, tx, req, []State{StatePendingApproval, StateApproved}, StateCancelled, me, strings.TrimSpace(reason), "cancelled")
		return err
	})
}

// setPendingExtensionTx records (ext) or clears (nil) an extension waiting for approval on
// request id (L's Extend calls it when the policy wants extensions approved). The approvers of
// the request are asked (the admins when its policy named nobody); when its policy approves
// everything automatically the extension is granted at once (extendTx).
func (s *Service) setPendingExtensionTx(ctx context.Context, tx *store.Tx, id string, ext *Extension) error {
	req, err := s.loadRequestTx(ctx, tx, id)
	if err != nil {
		return err
	}
	if ext != nil {
		// A policy nobody approves has nobody to ask for more time either: granted at once.
		if need, err := extensionNeedsApproval(req); err != nil {
			return err
		} else if !need {
			return s.extendTx(ctx, tx, req, ext.Duration, req.Requester)
		}
	}
	req.PendingExtension, req.UpdatedAt = ext, s.now()
	if err := s.saveTx(ctx, tx, req, req.State); err != nil {
		return err
	}
	if ext == nil {
		return tx.SetRequestApprovers(ctx, req.ID, nil, nil)
	}
	approvers := access.AllApprovers(toEngine(req.Steps))
	if len(approvers) == 0 {
		admins, err := s.st.UsersWithRole(ctx, auth.RoleAdmin)
		if err != nil {
			return err
		}
		approvers = slices.DeleteFunc(admins, func(e string) bool { return e == req.Requester })
	}
	if len(approvers) == 0 {
		return Errorf(CodeConflict, "nobody but you could approve more time on request %s; make a new request when it ends", req.ID)
	}
	if err := tx.SetRequestApprovers(ctx, req.ID, approvers, approvers); err != nil {
		return err
	}
	if _, err := tx.AppendAudit(ctx, req.Requester, "request.extension_requested", "request:"+req.ID, map[string]any{
		"duration": access.FormatDuration(ext.Duration), "reason": ext.Reason}, ""); err != nil {
		return err
	}
	return s.notifyTx(ctx, tx, s.event(req, "extension_requested", req.Requester, ext.Reason, approvers))
}

// extensionNeedsApproval says whether more time on req waits for an approver: not when its
// policy says extend: auto, nor when all its steps are approved by nobody.
func extensionNeedsApproval(req *Request) (bool, error) {
	pol, err := policyOf(req)
	if err != nil {
		return false, err
	}
	return pol.Extend != access.ExtendAuto && !pol.AutoApproved(), nil
}
