package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/store"
)

func init() {
	registrations = append(registrations, func(r *auth.Router, h *handlers) {
		r.HandleFunc("GET", "/api/v1/people", auth.Auditor, h.cachedInventory(h.listPeople))
		r.HandleFunc("GET", "/api/v1/people/{email}", auth.SignedIn, h.cachedInventory(h.getPerson))
		r.HandleFunc("GET", "/api/v1/people/{email}/access", auth.SignedIn, h.cachedInventory(h.personAccess))
	})
}

// Person is a person as the API shows it: an email and the identities linked to it.
type Person struct {
	Email         string     `json:"email"`
	Name          string     `json:"name"`
	IdentityCount int        `json:"identity_count"`
	Identities    []Resource `json:"identities,omitempty"`
}

// Access is one way a person reaches an entitlement.
type Access struct {
	GrantID         string `json:"grant_id"`
	EntitlementID   string `json:"entitlement_id"`
	EntitlementName string `json:"entitlement_name"`
	ResourceType    string `json:"resource_type"`
	ResourceID      string `json:"resource_id"`
	ResourceName    string `json:"resource_name"`
	AccountID       string `json:"account_id,omitempty"`
	AccountName     string `json:"account_name,omitempty"`
	PrincipalType   string `json:"principal_type"`
	PrincipalID     string `json:"principal_id"`
	PrincipalName   string `json:"principal_name"`
	// Via is "direct", or the display name of the group the access comes through
	// (ViaEntitlementID is that group's membership entitlement).
	Via              string  `json:"via"`
	ViaEntitlementID string  `json:"via_entitlement_id,omitempty"`
	Since            string  `json:"since"`
	Until            *string `json:"until,omitempty"`
	Stale            bool    `json:"stale"`
	// LastUsed is when AWS last saw the identity in use, where AWS tells it (IAM users:
	// last sign-in or access key use); absent for Identity Center users.
	LastUsed *string `json:"last_used,omitempty"`
}

// listPeople lists the people behind the inventory's identities (Identity Center users,
// IAM users with an email tag), by email.
//
// GET /api/v1/people[?q=][&page_size=&page_token=] (auditor): 200 {"items": [{"email",
// "name", "identity_count"}], "next_page_token"}. q matches a substring of the email or
// of a name, any case.
func (h *handlers) listPeople(w http.ResponseWriter, r *http.Request) {
	size, token, ok, detail := paging(r)
	if !ok {
		badRequest(w, detail)
		return
	}
	ps, next, err := h.app.Store.ListPeople(r.Context(), r.URL.Query().Get("q"), store.Page{Size: size, Token: token})
	if err != nil {
		storeError(w, err, "")
		return
	}
	out := make([]Person, len(ps))
	for i, p := range ps {
		out[i] = Person{Email: p.Email, Name: p.Name, IdentityCount: p.IdentityCount}
	}
	writeList(w, out, next)
}

// mayRead says whether the caller may read email's access: their own, or anyone's with
// the auditor (or admin) role; it answers 403 otherwise.
func mayRead(w http.ResponseWriter, r *http.Request, email string) bool {
	c := auth.FromContext(r.Context())
	if c.CanAudit() || strings.EqualFold(strings.TrimSpace(c.Email), strings.TrimSpace(email)) {
		return true
	}
	auth.Forbidden(w, r, "you may read your own access ("+c.Email+"); reading someone else's needs the auditor role")
	return false
}

// getPerson answers a person with their identities.
//
// GET /api/v1/people/{email} (signed in: your own email; anyone's with the auditor
// role): 200 {"email", "name", "identity_count", "identities": [resource, as in
// GET /api/v1/resources]}. 404 when no identity of the inventory ever had the email.
func (h *handlers) getPerson(w http.ResponseWriter, r *http.Request) {
	email := r.PathValue("email")
	if !mayRead(w, r, email) {
		return
	}
	p, err := h.app.Store.GetPerson(r.Context(), email)
	if err != nil {
		storeError(w, err, "no identity in the inventory has the email "+email+
			" (people are linked by the email of their Identity Center user or the email tag of their IAM user)")
		return
	}
	out := Person{Email: p.Email, Name: p.Name, IdentityCount: p.IdentityCount, Identities: make([]Resource, len(p.Identities))}
	for i := range p.Identities {
		out.Identities[i] = resourceJSON(&p.Identities[i])
	}
	writeJSON(w, http.StatusOK, out)
}

// personAccess lists everything a person can reach (or could, as of at): every grant
// of their identities, directly or through a group, one item per route.
//
// GET /api/v1/people/{email}/access[?at=RFC3339][&page_size=&page_token=] (signed in:
// your own email; anyone's with the auditor role): 200 {"items": [{"grant_id",
// "entitlement_id", "entitlement_name", "resource_type", "resource_id", "resource_name",
// "account_id", "account_name", "principal_type", "principal_id", "principal_name",
// "via" ("direct" or the group's name), "via_entitlement_id", "since", "until", "stale",
// "last_used"}],
// "next_page_token"}. 404 when no identity ever had the email (your own email answers an
// empty list).
func (h *handlers) personAccess(w http.ResponseWriter, r *http.Request) {
	email := r.PathValue("email")
	if !mayRead(w, r, email) {
		return
	}
	size, token, ok, detail := paging(r)
	if !ok {
		badRequest(w, detail)
		return
	}
	at, ok := atParam(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	if _, err := h.app.Store.GetPerson(ctx, email); err != nil {
		self := strings.EqualFold(auth.FromContext(ctx).Email, email)
		if errors.Is(err, store.ErrNotFound) && self {
			writeList(w, []Access{}, "")
			return
		}
		storeError(w, err, "no identity in the inventory has the email "+email)
		return
	}
	items, next, err := h.app.Store.PersonAccess(ctx, email, at, store.Page{Size: size, Token: token})
	if err != nil {
		storeError(w, err, "")
		return
	}
	out := make([]Access, len(items))
	for i, a := range items {
		out[i] = Access{
			GrantID: a.GrantID, EntitlementID: a.EntitlementID, EntitlementName: a.EntitlementName,
			ResourceType: a.ResourceType, ResourceID: a.ResourceID, ResourceName: a.ResourceName,
			AccountID: a.AccountID, AccountName: a.AccountName,
			PrincipalType: a.PrincipalType, PrincipalID: a.PrincipalID, PrincipalName: a.PrincipalName,
			Via: "direct", Since: rfc3339(a.Since), Until: timeOrNil(a.Until), Stale: a.Stale,
			LastUsed: timeOrNil(a.LastUsed),
		}
		if a.Via != "direct" {
			out[i].Via, out[i].ViaEntitlementID = a.ViaName, a.Via
		}
	}
	writeList(w, out, next)
}
