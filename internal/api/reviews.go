package api

import (
	"net/http"

	"github.com/gatehouse/gatehouse/internal/auth"
)

// The reviewer's inbox: the items waiting for the caller across every active campaign.

func init() {
	registrations = append(registrations, func(r *auth.Router, h *handlers) {
		r.HandleFunc("GET", "/api/v1/reviews", auth.SignedIn, h.listReviews)
	})
}

// listReviews lists the items waiting for the caller's decision, across active campaigns,
// due first.
//
// GET /api/v1/reviews[?state=][&account=][&via=][&admin_only=][&decision=][&identity=]
// [&resource_type=][&q=][&page_size=&page_token=] (signed in): 200 {"items": [item...],
// "next_page_token"}.
func (h *handlers) listReviews(w http.ResponseWriter, r *http.Request) {
	q, bad := itemQuery(r)
	if bad != "" {
		badRequest(w, bad)
		return
	}
	svc, ok := h.reviewService(w)
	if !ok {
		return
	}
	items, next, err := svc.Inbox(r.Context(), auth.FromContext(r.Context()), q)
	if err != nil {
		h.reviewError(w, r, err)
		return
	}
	writeList(w, reviewItemsJSON(items), next)
}
