package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/jit"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Requests for just-in-time access and the actions on them. The shapes are the stable
// contract of issue 11 (scripts rely on them): a request has id, state, requester,
// entitlement_id, reason, starts_at and ends_at (the lease's), and every transition.

func init() {
	registrations = append(registrations, func(r *auth.Router, h *handlers) {
		r.HandleFunc("GET", "/api/v1/requests", auth.SignedIn, h.listRequests)
		r.HandleFunc("POST", "/api/v1/requests", auth.SignedIn, h.createRequest)
		r.HandleFunc("GET", "/api/v1/requests/{id}", auth.SignedIn, h.getRequest)
		for _, a := range requestActions {
			r.HandleFunc("POST", "/api/v1/requests/{id}/"+a.name, a.access, h.requestAction(a))
		}
		r.HandleFunc("POST", "/api/v1/requests/{id}/extend", auth.SignedIn, h.extendRequest)
		r.HandleFunc("POST", "/api/v1/requests/{id}/task_done", auth.SignedIn, h.requestTaskDone)
	})
}

// Request is a request for just-in-time access as the API shows it.
type Request struct {
	ID    string `json:"id"`
	State string `json:"state"`
	// Requester is the requester's email.
	Requester     string `json:"requester"`
	EntitlementID string `json:"entitlement_id"`
	DisplayName   string `json:"display_name"`
	Application   string `json:"application"`
	AccountID     string `json:"account_id"`
	Reason        string `json:"reason"`
	// Duration is the length of access asked for (a Go duration).
	Duration string `json:"duration"`
	// StartsAt and EndsAt are the lease's start and end (null until AWS confirmed the
	// grant); nothing else is called ends_at.
	StartsAt *string `json:"starts_at"`
	EndsAt   *string `json:"ends_at"`
	// Rule is the rule that allowed the request; Policy the approval policy as it was
	// when the request was made.
	Rule   string        `json:"rule"`
	Policy RequestPolicy `json:"policy"`
	// Steps is the approval progress, one per step of the policy.
	Steps       []ApprovalStep      `json:"steps"`
	Transitions []RequestTransition `json:"transitions"`
	Lease       *Lease              `json:"lease"`
	// Error is AWS's reason when the request failed (or a failed attempt being retried).
	Error string `json:"error"`
	// BreakGlass marks self-approved emergency access, which needs a review after the fact.
	BreakGlass bool `json:"break_glass"`
	// EndSessions means ending the access also ends live sessions.
	EndSessions bool `json:"end_sessions"`
	// ReviewedBy and ReviewedAt are the after-the-fact review of break-glass access.
	ReviewedBy string  `json:"reviewed_by"`
	ReviewedAt *string `json:"reviewed_at"`
	// PendingExtension is a request for more time waiting for approval.
	PendingExtension *PendingExtension `json:"pending_extension"`
	// Task is what the owner of an imported application must do now (its lease's latest
	// task; the lease lists them all), null for AWS access.
	Task      *OwnerTask `json:"task"`
	CreatedAt string     `json:"created_at"`
	UpdatedAt string     `json:"updated_at"`
}

// OwnerTask is a grant or revoke that the owner of an application imported from files makes
// by hand; an import of the application that shows it closes it.
type OwnerTask struct {
	ID string `json:"id"`
	// Kind is grant or revoke.
	Kind  string `json:"kind"`
	Owner string `json:"owner"`
	// State is open, done (the owner says so; no import has shown it yet: unverified),
	// verified (an import showed it: verified_run) or cancelled (closed_note says why).
	State string `json:"state"`
	// Instruction is exactly what to change in the application.
	Instruction string  `json:"instruction"`
	CreatedAt   string  `json:"created_at"`
	DueAt       string  `json:"due_at"`
	Overdue     bool    `json:"overdue"`
	DoneAt      *string `json:"done_at"`
	DoneBy      string  `json:"done_by"`
	DoneNote    string  `json:"done_note"`
	VerifiedAt  *string `json:"verified_at"`
	VerifiedRun string  `json:"verified_run"`
	ClosedNote  string  `json:"closed_note"`
}

func ownerTaskJSON(t *jit.OwnerTask) OwnerTask {
	return OwnerTask{ID: t.ID, Kind: t.Kind, Owner: t.Owner, State: t.State, Instruction: t.Instruction,
		CreatedAt: rfc3339(t.CreatedAt), DueAt: rfc3339(t.DueAt), Overdue: t.Overdue, DoneAt: timeOrNil(t.DoneAt),
		DoneBy: t.DoneBy, DoneNote: t.DoneNote, VerifiedAt: timeOrNil(t.VerifiedAt), VerifiedRun: t.VerifiedRun, ClosedNote: t.ClosedNote}
}

// RequestPolicy is the approval policy snapshotted onto a request.
type RequestPolicy struct {
	Name string `json:"name"`
	// Definition is the policy as it was when the request was made (null when none).
	Definition json.RawMessage `json:"definition"`
}

// ApprovalStep is one approval step's progress.
type ApprovalStep struct {
	Index int `json:"index"`
	// Name is the step's name in the policy ("" when it has none).
	Name     string `json:"name"`
	Required int    `json:"required"`
	// Approvers are the emails of who may approve this step.
	Approvers []string           `json:"approvers"`
	Approvals []ApprovalDecision `json:"approvals"`
	// State is pending (an earlier step is not approved yet), waiting, approved, denied,
	// timed_out (the request expired) or cancelled.
	State string  `json:"state"`
	DueAt *string `json:"due_at"`
	// UsesFallback says the policy's fallback approvers decide this step, and Note why
	// (nobody eligible among the step's approvers, or the step timed out and escalated).
	UsesFallback bool   `json:"uses_fallback"`
	Note         string `json:"note"`
	// Auto says nobody approves this step: it was approved at once.
	Auto bool `json:"auto"`
}

// ApprovalDecision is one approver's decision.
type ApprovalDecision struct {
	By       string `json:"by"`
	Approved bool   `json:"approved"`
	Reason   string `json:"reason"`
	At       string `json:"at"`
}

// RequestTransition is one change of a request's state: from ("" for its creation), to,
// by whom (an email, or "gatehouse" for the jobs), when and why.
type RequestTransition struct {
	From   string `json:"from"`
	To     string `json:"to"`
	By     string `json:"by"`
	At     string `json:"at"`
	Reason string `json:"reason"`
}

// PendingExtension is more time asked for and not approved yet.
type PendingExtension struct {
	Duration    string `json:"duration"`
	Reason      string `json:"reason"`
	RequestedAt string `json:"requested_at"`
}

func requestJSON(q *jit.Request) Request {
	out := Request{
		ID: q.ID, State: string(q.State), Requester: q.Requester, EntitlementID: q.Target.EntitlementID,
		DisplayName: q.Target.DisplayName, Application: q.Target.Application, AccountID: q.Target.AccountID,
		Reason: q.Reason, Duration: durationText(q.Duration), StartsAt: timeOrNil(q.StartsAt), EndsAt: timeOrNil(q.EndsAt),
		Rule: q.Rule, Policy: RequestPolicy{Name: q.Policy.Name}, Steps: []ApprovalStep{}, Transitions: []RequestTransition{},
		Error: q.Error, BreakGlass: q.BreakGlass, EndSessions: q.EndSessions, ReviewedBy: q.ReviewedBy, ReviewedAt: timeOrNil(q.ReviewedAt),
		CreatedAt: rfc3339(q.CreatedAt), UpdatedAt: rfc3339(q.UpdatedAt),
	}
	if len(q.Policy.Doc) > 0 {
		out.Policy.Definition = q.Policy.Doc
	}
	for _, s := range q.Steps {
		st := ApprovalStep{Index: s.Index, Name: s.Name, Required: s.Required, Approvers: s.Approvers, Approvals: []ApprovalDecision{}, State: s.State,
			DueAt: timeOrNil(s.DueAt), UsesFallback: s.UsesFallback, Note: s.Note, Auto: s.Auto}
		if st.Approvers == nil {
			st.Approvers = []string{}
		}
		for _, d := range s.Approvals {
			st.Approvals = append(st.Approvals, ApprovalDecision{By: d.By, Approved: d.Approved, Reason: d.Reason, At: rfc3339(d.At)})
		}
		out.Steps = append(out.Steps, st)
	}
	for _, t := range q.Transitions {
		out.Transitions = append(out.Transitions, RequestTransition{From: string(t.From), To: string(t.To), By: t.By, At: rfc3339(t.At), Reason: t.Reason})
	}
	if q.Lease != nil {
		l := leaseJSON(q.Lease)
		out.Lease = &l
		// The request's times are the lease's, whichever of the two the service filled.
		if out.StartsAt == nil {
			out.StartsAt = l.StartsAt
		}
		if out.EndsAt == nil && q.Lease.StartsAt != nil {
			out.EndsAt = l.EndsAt
		}
	}
	if e := q.PendingExtension; e != nil {
		out.PendingExtension = &PendingExtension{Duration: durationText(e.Duration), Reason: e.Reason, RequestedAt: rfc3339(e.RequestedAt)}
	}
	if q.Task != nil {
		t := ownerTaskJSON(q.Task)
		out.Task = &t
	}
	return out
}

// The body of task_done is TaskDoneBody, as for a review's owner task (campaigns.go).

// requestTaskDone records that the owner of an imported application did the request's open
// task.
//
// POST /api/v1/requests/{id}/task_done {"note"} (the application's owner or an admin): 200
// with the request; a grant marked done makes the access active at once (the lease counts
// from now, unverified until an import shows it), a revoke marked done changes only the
// task (the access ends when an import no longer shows it). 403 for anyone else who may see
// the request, 404 for those who may not, 409 when there is no open task.
func (h *handlers) requestTaskDone(w http.ResponseWriter, r *http.Request) {
	var body TaskDoneBody
	if !decodeJSONBodyAs(w, r, &body, `{"note": "what you did"}`, true) {
		return
	}
	svc, ok := h.jitService(w)
	if !ok {
		return
	}
	req, err := svc.MarkTaskDone(r.Context(), auth.FromContext(r.Context()), r.PathValue("id"), body.Note)
	if err != nil {
		h.jitError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, requestJSON(req))
}

// CreateRequestBody is the body of POST /api/v1/requests.
type CreateRequestBody struct {
	// EntitlementID is the catalog item's id.
	EntitlementID string `json:"entitlement_id"`
	// Duration is a Go duration ("1h30m"); empty for the rule's default.
	Duration string `json:"duration"`
	Reason   string `json:"reason"`
	// BreakGlass asks for self-approved emergency access, where the rule allows it.
	BreakGlass bool `json:"break_glass,omitempty"`
}

// ActionBody is the body of approve, deny, cancel, release and revoke (it may be empty).
type ActionBody struct {
	Reason string `json:"reason"`
}

// ExtendBody is the body of extend.
type ExtendBody struct {
	// Duration is how much more time, a Go duration ("30m").
	Duration string `json:"duration"`
	Reason   string `json:"reason"`
}

const createRequestShape = `{"entitlement_id": "account:111111111111:ps-0123456789abcdef", "duration": "1h30m", "reason": "why you need it"}`

// parseDuration reads a request's Go duration; empty is 0 when allowEmpty.
func parseDuration(field, s string, allowEmpty bool, example string) (time.Duration, string) {
	s = strings.TrimSpace(s)
	if s == "" {
		if allowEmpty {
			return 0, ""
		}
		return 0, field + " is required: a Go duration such as " + example
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, field + " must be a positive Go duration such as " + example + " (h, m, s), got " + strconv.Quote(s)
	}
	return d, ""
}

// createRequest asks for access.
//
// POST /api/v1/requests {"entitlement_id", "duration" (Go duration; empty for the rule's
// default), "reason", "break_glass"} (signed in): 201 with the request; 400 for bad input
// (a duration over the rule's maximum, a missing required reason), 403 when no rule lets
// the caller request it (the detail says why), 404 for an unknown entitlement.
func (h *handlers) createRequest(w http.ResponseWriter, r *http.Request) {
	var body CreateRequestBody
	if !decodeJSONBodyAs(w, r, &body, createRequestShape, false) {
		return
	}
	if strings.TrimSpace(body.EntitlementID) == "" {
		badRequest(w, "entitlement_id is required: the id of an item of GET /api/v1/catalog; send "+createRequestShape)
		return
	}
	d, bad := parseDuration("duration", body.Duration, true, "1h30m")
	if bad != "" {
		badRequest(w, bad)
		return
	}
	svc, ok := h.jitService(w)
	if !ok {
		return
	}
	req, err := svc.Create(r.Context(), auth.FromContext(r.Context()),
		jit.CreateInput{EntitlementID: strings.TrimSpace(body.EntitlementID), Duration: d, Reason: body.Reason, BreakGlass: body.BreakGlass})
	if err != nil {
		h.jitError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, requestJSON(req))
}

// listRequests lists requests.
//
// GET /api/v1/requests[?scope=mine|to_approve|decided|all][&state=a,b][&requester=][&page_size=&page_token=]
// (signed in; scope=all needs the auditor role): 200 {"items": [request...], "next_page_token"}.
func (h *handlers) listRequests(w http.ResponseWriter, r *http.Request) {
	size, token, ok, detail := paging(r)
	if !ok {
		badRequest(w, detail)
		return
	}
	qv := r.URL.Query()
	scope := qv.Get("scope")
	switch scope {
	case "", "mine", "to_approve", "decided", "all":
	default:
		badRequest(w, "scope must be mine (your requests), to_approve (waiting for your decision), decided (those you decided) or all (auditors and admins), got "+strconv.Quote(scope))
		return
	}
	states, bad := parseRequestStates(qv["state"])
	if bad != "" {
		badRequest(w, bad)
		return
	}
	svc, ok := h.jitService(w)
	if !ok {
		return
	}
	reqs, next, err := svc.List(r.Context(), auth.FromContext(r.Context()), jit.ListFilter{
		Scope: scope, States: states, Requester: strings.TrimSpace(qv.Get("requester")), Page: store.Page{Size: size, Token: token},
	})
	if err != nil {
		h.jitError(w, r, err)
		return
	}
	out := make([]Request, len(reqs))
	for i := range reqs {
		out[i] = requestJSON(&reqs[i])
	}
	writeList(w, out, next)
}

// requestStates are the states as the API spells them.
var requestStates = []jit.State{jit.StatePendingApproval, jit.StateApproved, jit.StateProvisioning, jit.StateActive, jit.StateExpiring,
	jit.StateRevoked, jit.StateExpired, jit.StateDenied, jit.StateCancelled, jit.StateFailed}

// parseRequestStates reads state filters (repeated, or comma-separated).
func parseRequestStates(values []string) ([]jit.State, string) {
	var out []jit.State
	for _, v := range values {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s == "" {
				continue
			}
			found := false
			for _, st := range requestStates {
				if string(st) == s {
					out = append(out, st)
					found = true
				}
			}
			if !found {
				names := make([]string, len(requestStates))
				for i, st := range requestStates {
					names[i] = string(st)
				}
				return nil, "state must be one of " + strings.Join(names, ", ") + " (several separated by commas), got " + strconv.Quote(s)
			}
		}
	}
	return out, ""
}

// getRequest shows one request with its lease, approval steps and every transition.
//
// GET /api/v1/requests/{id} (signed in: the requester, its approvers, auditors and
// admins): 200 with the request; 403 for anyone else; 404 when there is no such request.
func (h *handlers) getRequest(w http.ResponseWriter, r *http.Request) {
	svc, ok := h.jitService(w)
	if !ok {
		return
	}
	req, err := svc.Get(r.Context(), auth.FromContext(r.Context()), r.PathValue("id"))
	if err != nil {
		h.jitError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, requestJSON(req))
}

// requestAction is one action on a request that takes a reason.
type requestAction struct {
	name    string
	access  auth.Access
	summary string
	call    func(s *jit.Service) func(ctx context.Context, c *auth.Caller, id, reason string) (*jit.Request, error)
}

// The actions with a reason: who may take each is the service's to say (403 with why),
// except revoke, which the router keeps to admins.
var requestActions = []requestAction{
	{"approve", auth.SignedIn, "Approve the current step of a request (or its pending extension, or the review of break-glass access); never your own request",
		func(s *jit.Service) func(context.Context, *auth.Caller, string, string) (*jit.Request, error) {
			return s.Approve
		}},
	{"deny", auth.SignedIn, "Deny a request (one denial ends it)",
		func(s *jit.Service) func(context.Context, *auth.Caller, string, string) (*jit.Request, error) {
			return s.Deny
		}},
	{"cancel", auth.SignedIn, "Withdraw a request before it is active (the requester, or an admin)",
		func(s *jit.Service) func(context.Context, *auth.Caller, string, string) (*jit.Request, error) {
			return s.Cancel
		}},
	{"release", auth.SignedIn, "End your active access early",
		func(s *jit.Service) func(context.Context, *auth.Caller, string, string) (*jit.Request, error) {
			return s.Release
		}},
	{"revoke", auth.Admin, "End someone's active access early (admins)",
		func(s *jit.Service) func(context.Context, *auth.Caller, string, string) (*jit.Request, error) {
			return s.Revoke
		}},
}

// requestAction answers POST /api/v1/requests/{id}/<action> {"reason"} (the body may be
// empty): 200 with the updated request; 403 when the caller may not take the action, 409
// when the request's state does not allow it, both with a problem saying why.
func (h *handlers) requestAction(a requestAction) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var body ActionBody
		if !decodeJSONBodyAs(w, r, &body, `{"reason": "why"}`, true) {
			return
		}
		svc, ok := h.jitService(w)
		if !ok {
			return
		}
		req, err := a.call(svc)(r.Context(), auth.FromContext(r.Context()), r.PathValue("id"), body.Reason)
		if err != nil {
			h.jitError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, requestJSON(req))
	}
}

// extendRequest asks for more time on active access.
//
// POST /api/v1/requests/{id}/extend {"duration": "30m", "reason"} (the requester): 200 with
// the request, its end moved at once (the policy says extend: auto) or its
// pending_extension waiting for approval; 400 for a bad duration (or one past the rule's
// maximum), 403, 409 when the access is not active.
func (h *handlers) extendRequest(w http.ResponseWriter, r *http.Request) {
	var body ExtendBody
	if !decodeJSONBodyAs(w, r, &body, `{"duration": "30m", "reason": "why you need more time"}`, false) {
		return
	}
	d, bad := parseDuration("duration", body.Duration, false, "30m")
	if bad != "" {
		badRequest(w, bad)
		return
	}
	svc, ok := h.jitService(w)
	if !ok {
		return
	}
	req, err := svc.Extend(r.Context(), auth.FromContext(r.Context()), r.PathValue("id"), d, body.Reason)
	if err != nil {
		h.jitError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, requestJSON(req))
}

// decodeJSONBodyAs reads a JSON object into v like decodeJSONBody, and says in a 400 which
// shape to send. An empty body is an empty object when allowEmpty.
func decodeJSONBodyAs(w http.ResponseWriter, r *http.Request, v any, shape string, allowEmpty bool) bool {
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		badRequest(w, jsonBodyProblem(err)+"; send "+shape)
		return false
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		if allowEmpty {
			return true
		}
		badRequest(w, "the body is empty; send "+shape)
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		badRequest(w, jsonBodyProblem(err)+"; send "+shape)
		return false
	}
	if dec.More() {
		badRequest(w, "the body must be one JSON object, with nothing after it; send "+shape)
		return false
	}
	return true
}
