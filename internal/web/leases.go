package web

import (
	"context"
	"net/http"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/jit"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Leases: "My access" (the caller's running leases with a live countdown, on their person
// page and on "My requests") and the admins' views of every request and every lease.

func init() {
	registrations = append(registrations, func(r *auth.Router, h *handlers) {
		r.HandleFunc("GET", "/leases/mine", auth.SignedIn, h.myLeases)
		r.HandleFunc("GET", "/admin/requests", auth.Auditor, h.allRequests)
		r.HandleFunc("GET", "/admin/leases", auth.Auditor, h.allLeases)
	})
}

// leaseView is a lease as the pages show it.
type leaseView struct{ jit.Lease }

// RequestURL is the page of the request the lease grants.
func (l leaseView) RequestURL() string { return "/requests/" + escapeID(l.RequestID) }

// Running says the access is there and its end is ahead (the countdown runs).
func (l leaseView) Running() bool { return l.State == jit.LeaseActive && l.EndsAt.After(now()) }

// activeLeases are the leases of scope that are pending, active or ending.
func (h *handlers) activeLeases(ctx context.Context, svc jitAPI, c *auth.Caller, scope string) ([]leaseView, error) {
	list, _, err := svc.Leases(ctx, c, jit.LeaseFilter{Scope: scope, States: []jit.LeaseState{jit.LeasePending, jit.LeaseActive, jit.LeaseEnding}, Page: store.Page{Size: 200}})
	if err != nil {
		return nil, err
	}
	out := make([]leaseView, len(list))
	for i, l := range list {
		out[i] = leaseView{l}
	}
	return out, nil
}

// myLeases is the caller's current access card (htmx polls it on the person page and on
// "My requests", so that a lease appears, counts down and goes without a reload).
func (h *handlers) myLeases(w http.ResponseWriter, r *http.Request) {
	svc := h.jitService(w, r)
	if svc == nil {
		return
	}
	leases, err := h.activeLeases(r.Context(), svc, auth.FromContext(r.Context()), "mine")
	if err != nil {
		h.jitError(w, r, err)
		return
	}
	h.renderFragment(w, r, "requests", "leases", page{Data: myRequestsData{Leases: leases}})
}

// stateFilter is one choice of a state filter.
type stateFilter struct{ Value, Label string }

// allRequestsData is the admins' list of every request.
type allRequestsData struct {
	State    string
	States   []stateFilter
	Requests []requestView
	More     string
}

var requestStates = []jit.State{
	jit.StatePendingApproval, jit.StateApproved, jit.StateProvisioning, jit.StateActive, jit.StateExpiring,
	jit.StateExpired, jit.StateRevoked, jit.StateDenied, jit.StateCancelled, jit.StateFailed,
}

// allRequests lists every request, optionally of one state (auditors and admins).
func (h *handlers) allRequests(w http.ResponseWriter, r *http.Request) {
	svc := h.jitService(w, r)
	if svc == nil {
		return
	}
	c := auth.FromContext(r.Context())
	state := r.URL.Query().Get("state")
	d := allRequestsData{State: state}
	f := jit.ListFilter{Scope: "all", Page: store.Page{Size: listPageSize, Token: r.URL.Query().Get("page_token")}}
	known := false
	for _, s := range requestStates {
		d.States = append(d.States, stateFilter{string(s), stateLabel(s)})
		known = known || string(s) == state
	}
	if state != "" {
		if !known {
			h.badRequest(w, r, "There is no request state “"+state+"”. Choose one of the list.")
			return
		}
		f.States = []jit.State{jit.State(state)}
	}
	list, next, err := svc.List(r.Context(), c, f)
	if err != nil {
		h.jitError(w, r, err)
		return
	}
	d.Requests = viewRequests(list, c)
	if next != "" {
		d.More = withQuery(r.URL.RequestURI(), "page_token", next)
	}
	p := page{Title: "All requests", Section: "all-requests", Data: d}
	if isHTMX(r) && f.Page.Token != "" {
		h.renderFragment(w, r, "admin_requests", "rows", p)
		return
	}
	h.render(w, r, http.StatusOK, "admin_requests", p)
}

// allLeasesData is the admins' list of every lease.
type allLeasesData struct {
	State  string
	States []stateFilter
	Leases []leaseView
	More   string
}

var leaseStates = []jit.LeaseState{jit.LeasePending, jit.LeaseActive, jit.LeaseEnding, jit.LeaseEnded, jit.LeaseFailed}

// allLeases lists every lease, optionally of one state (auditors and admins).
func (h *handlers) allLeases(w http.ResponseWriter, r *http.Request) {
	svc := h.jitService(w, r)
	if svc == nil {
		return
	}
	c := auth.FromContext(r.Context())
	state := r.URL.Query().Get("state")
	d := allLeasesData{State: state}
	f := jit.LeaseFilter{Scope: "all", Page: store.Page{Size: listPageSize, Token: r.URL.Query().Get("page_token")}}
	known := false
	for _, s := range leaseStates {
		d.States = append(d.States, stateFilter{string(s), string(s)})
		known = known || string(s) == state
	}
	if state != "" {
		if !known {
			h.badRequest(w, r, "There is no lease state “"+state+"”. Choose one of the list.")
			return
		}
		f.States = []jit.LeaseState{jit.LeaseState(state)}
	}
	list, next, err := svc.Leases(r.Context(), c, f)
	if err != nil {
		h.jitError(w, r, err)
		return
	}
	for _, l := range list {
		d.Leases = append(d.Leases, leaseView{l})
	}
	if next != "" {
		d.More = withQuery(r.URL.RequestURI(), "page_token", next)
	}
	p := page{Title: "Leases", Section: "all-leases", Data: d}
	if isHTMX(r) && f.Page.Token != "" {
		h.renderFragment(w, r, "admin_leases", "rows", p)
		return
	}
	h.render(w, r, http.StatusOK, "admin_leases", p)
}

// leaseEnd says how a lease's end reads: "ends in 4m 09s", "ended 5 min ago (released)".
func leaseEnd(l jit.Lease) string {
	switch {
	case l.EndedAt != nil:
		s := "ended " + ago(*l.EndedAt)
		if l.EndReason != "" {
			s += " (" + l.EndReason + ")"
		}
		return s
	case l.State == jit.LeasePending:
		return "not started"
	case l.EndsAt.After(now()):
		return "ends in " + countdown(l.EndsAt)
	}
	return "ending: being removed in AWS"
}
