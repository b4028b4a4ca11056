package api

import (
	"net/http"

	"github.com/gatehouse/gatehouse/internal/auth"
)

func init() {
	registrations = append(registrations, func(r *auth.Router, h *handlers) {
		r.HandleFunc("GET", "/api/v1/me", auth.SignedIn, h.me)
	})
}

// Me is who the caller is.
type Me struct {
	Email string   `json:"email"`
	Name  string   `json:"name"`
	Roles []string `json:"roles"`
	// Via is "session" (signed in with a browser) or "token" (an API token).
	Via string `json:"via"`
}

// me answers who is calling.
//
// GET /api/v1/me (signed in): 200 {"email", "name", "roles": ["admin", "auditor", "approver",
// "reviewer"], "via"}: admin and auditor from the server's configuration, approver from the
// approval policies, reviewer from the access review campaigns.
func (h *handlers) me(w http.ResponseWriter, r *http.Request) {
	c := auth.FromContext(r.Context())
	roles := append([]string{}, c.Roles...)
	if h.app.JIT != nil {
		// Approver comes from the approval policies in force, not from the configuration.
		more, err := h.app.JIT.Roles(r.Context(), c)
		if err != nil {
			h.jitError(w, r, err)
			return
		}
		roles = append(roles, more...)
	}
	if h.app.Reviews != nil {
		// Reviewer comes from the campaigns: while the caller has items to decide in an
		// active campaign.
		more, err := h.app.Reviews.Roles(r.Context(), c.Email)
		if err != nil {
			h.reviewError(w, r, err)
			return
		}
		for _, role := range more {
			if !oneOf(role, roles) {
				roles = append(roles, role)
			}
		}
	}
	writeJSON(w, http.StatusOK, Me{Email: c.Email, Name: c.Name, Roles: roles, Via: c.Via})
}
