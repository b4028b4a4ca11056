package api

import (
	"net/http"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/store"
)

func init() {
	registrations = append(registrations, func(r *auth.Router, h *handlers) {
		r.HandleFunc("GET", "/api/v1/entitlements/{id...}", auth.Auditor, h.cachedInventory(h.getEntitlement))
	})
}

// EntitlementDetail is an entitlement with who holds it.
type EntitlementDetail struct {
	Entitlement
	// Grants are its holders and through what (one page; next_page_token for more).
	Grants        []Grant `json:"grants"`
	NextPageToken string  `json:"next_page_token,omitempty"`
}

// getEntitlement answers an entitlement (for example AdministratorAccess on prod,
// account:<account id>:<permission set id>) with its holders and through what.
//
// GET /api/v1/entitlements/{id}[?at=RFC3339][&page_size=&page_token=] (auditor); id is the
// .c1z's entitlement id and may hold slashes and colons: 200 {"id", "display_name",
// "slug", "resource_type", "resource_id", "resource_name", "account_id", "account_name",
// "grant_count", "first_sync", "first_seen", "removed_at", "grants": [grant, as in
// GET /api/v1/resources/{type}/{id}], "next_page_token"}. 404 when it did not exist (at
// that time).
func (h *handlers) getEntitlement(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	size, token, ok, detail := paging(r)
	if !ok {
		badRequest(w, detail)
		return
	}
	at, ok := atParam(w, r)
	if !ok {
		return
	}
	e, err := h.app.Store.GetEntitlement(r.Context(), id, at)
	if err != nil {
		storeError(w, err, notFoundDetail("entitlement "+id, at))
		return
	}
	grants, next, err := h.app.Store.EntitlementGrants(r.Context(), id, at, store.Page{Size: size, Token: token})
	if err != nil {
		storeError(w, err, "")
		return
	}
	writeJSON(w, http.StatusOK, EntitlementDetail{Entitlement: entitlementJSON(e), Grants: grantsJSON(grants), NextPageToken: next})
}
