package api

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/jit"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Leases: the truth about each grant of temporary access (who, what, from when to when,
// and where its revoke is).

func init() {
	registrations = append(registrations, func(r *auth.Router, h *handlers) {
		r.HandleFunc("GET", "/api/v1/leases", auth.SignedIn, h.listLeases)
	})
}

// Lease is one grant of temporary access.
type Lease struct {
	ID            string `json:"id"`
	RequestID     string `json:"request_id"`
	Requester     string `json:"requester"`
	EntitlementID string `json:"entitlement_id"`
	DisplayName   string `json:"display_name"`
	AccountID     string `json:"account_id"`
	// State is pending, active, ending, ended or failed.
	State string `json:"state"`
	// StartsAt is when AWS confirmed the grant (null before); EndsAt when the access ends.
	StartsAt *string `json:"starts_at"`
	EndsAt   *string `json:"ends_at"`
	// EndedAt is when AWS confirmed the revoke; EndReason is expired, released or revoked.
	EndedAt   *string `json:"ended_at"`
	EndReason string  `json:"end_reason"`
	// Drift is what the reconciler found AWS to disagree with ("" when nothing).
	Drift string `json:"drift"`
	// Tasks are the owner's grant and revoke tasks of a lease in an application imported
	// from files (empty for AWS); Unverified says the lease is active because the owner
	// marked the grant done, and no import has shown it yet.
	Tasks      []OwnerTask `json:"tasks"`
	Unverified bool        `json:"unverified"`
}

func leaseJSON(l *jit.Lease) Lease {
	out := Lease{
		ID: l.ID, RequestID: l.RequestID, Requester: l.Requester, EntitlementID: l.Target.EntitlementID,
		DisplayName: l.Target.DisplayName, AccountID: l.Target.AccountID, State: string(l.State),
		StartsAt: timeOrNil(l.StartsAt), EndedAt: timeOrNil(l.EndedAt), EndReason: l.EndReason, Drift: l.Drift,
		Tasks: []OwnerTask{}, Unverified: l.Unverified,
	}
	for i := range l.Tasks {
		out.Tasks = append(out.Tasks, ownerTaskJSON(&l.Tasks[i]))
	}
	// A pending lease's end is only provisional (the end is counted from AWS's
	// confirmation), so it is shown once the lease has started.
	if l.StartsAt != nil {
		out.EndsAt = timeOrNil(&l.EndsAt)
	}
	return out
}

var leaseStates = []jit.LeaseState{jit.LeasePending, jit.LeaseActive, jit.LeaseEnding, jit.LeaseEnded, jit.LeaseFailed}

// listLeases lists leases.
//
// GET /api/v1/leases[?scope=mine|all][&state=active,ending][&page_size=&page_token=]
// (signed in; scope=all needs the auditor role): 200 {"items": [{"id", "request_id",
// "requester", "entitlement_id", "display_name", "account_id", "state", "starts_at",
// "ends_at", "ended_at", "end_reason", "drift"}], "next_page_token"}.
func (h *handlers) listLeases(w http.ResponseWriter, r *http.Request) {
	size, token, ok, detail := paging(r)
	if !ok {
		badRequest(w, detail)
		return
	}
	qv := r.URL.Query()
	scope := qv.Get("scope")
	switch scope {
	case "", "mine", "all":
	default:
		badRequest(w, "scope must be mine (your leases) or all (auditors and admins), got "+strconv.Quote(scope))
		return
	}
	var states []jit.LeaseState
	for _, v := range qv["state"] {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s == "" {
				continue
			}
			found := false
			for _, ls := range leaseStates {
				if string(ls) == s {
					states, found = append(states, ls), true
				}
			}
			if !found {
				badRequest(w, "state must be one of pending, active, ending, ended, failed (several separated by commas), got "+strconv.Quote(s))
				return
			}
		}
	}
	svc, ok := h.jitService(w)
	if !ok {
		return
	}
	leases, next, err := svc.Leases(r.Context(), auth.FromContext(r.Context()), jit.LeaseFilter{Scope: scope, States: states, Page: store.Page{Size: size, Token: token}})
	if err != nil {
		h.jitError(w, r, err)
		return
	}
	out := make([]Lease, len(leases))
	for i := range leases {
		out[i] = leaseJSON(&leases[i])
	}
	writeList(w, out, next)
}
