package web

import (
	"context"
	"net/http"
	"strings"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/jit"
	"github.com/gatehouse/gatehouse/internal/store"
)

// The approvals inbox: the requests waiting for the caller's decision, each with what an
// approver needs to decide: the reason, the rule and policy, the requester's current
// access, and who else holds the same access.

func init() {
	registrations = append(registrations, func(r *auth.Router, h *handlers) {
		r.HandleFunc("GET", "/approvals", auth.SignedIn, h.approvals)
	})
}

// maxContextRows bounds each context list of an approval (current access, other holders).
const maxContextRows = 25

// approvalView is one request of the inbox with its context.
type approvalView struct {
	requestView
	// Access is what the requester holds now (from the inventory), More that there is more.
	Access     []store.Access
	AccessMore bool
	// Holders are the others who hold the requested entitlement now.
	Holders     []store.Grant
	HoldersMore bool
}

// approvalsData is the inbox.
type approvalsData struct {
	Items []approvalView
	More  string
	Flash string
}

// approvals lists the requests waiting for the caller's decision.
func (h *handlers) approvals(w http.ResponseWriter, r *http.Request) {
	svc := h.jitService(w, r)
	if svc == nil {
		return
	}
	c := auth.FromContext(r.Context())
	token := r.URL.Query().Get("page_token")
	list, next, err := svc.List(r.Context(), c, jit.ListFilter{Scope: "to_approve", Page: store.Page{Size: 20, Token: token}})
	if err != nil {
		h.jitError(w, r, err)
		return
	}
	d := approvalsData{Flash: flashes[r.URL.Query().Get("done")]}
	for _, v := range viewRequests(list, c) {
		a, err := h.approvalContext(r.Context(), v)
		if err != nil {
			h.serverError(w, r, err)
			return
		}
		d.Items = append(d.Items, a)
	}
	if next != "" {
		d.More = withQuery("/approvals", "page_token", next)
	}
	h.render(w, r, http.StatusOK, "approvals", page{Title: "Approvals", Section: "approvals", Data: d})
}

// approvalContext reads what the approver of v needs to decide from the inventory.
func (h *handlers) approvalContext(ctx context.Context, v requestView) (approvalView, error) {
	a := approvalView{requestView: v}
	acc, next, err := h.app.Store.PersonAccess(ctx, v.Requester, nil, store.Page{Size: maxContextRows})
	if err != nil {
		return a, err
	}
	a.Access, a.AccessMore = acc, next != ""
	if v.Target.EntitlementID != "" {
		gs, next, err := h.app.Store.EntitlementGrants(ctx, v.Target.EntitlementID, nil, store.Page{Size: maxContextRows + 1})
		if err != nil {
			return a, err
		}
		for _, g := range gs {
			if strings.EqualFold(g.PrincipalEmail, v.Requester) {
				continue
			}
			if len(a.Holders) == maxContextRows {
				a.HoldersMore = true
				break
			}
			a.Holders = append(a.Holders, g)
		}
		a.HoldersMore = a.HoldersMore || next != ""
	}
	return a, nil
}

// View is the request itself, for the shared templates.
func (a approvalView) View() requestView { return a.requestView }
