package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/problem"
	"github.com/gatehouse/gatehouse/internal/store"
)

func init() {
	registrations = append(registrations, func(r *auth.Router, h *handlers) {
		r.HandleFunc("GET", "/api/v1/resources", auth.Auditor, h.cachedInventory(h.listResources))
		r.HandleFunc("GET", "/api/v1/resources/{type}/{id...}", auth.Auditor, h.cachedInventory(h.getResource))
	})
}

// ResourceTypes are the connectors' resource types, the values `type` takes: the AWS
// connector's, and app_user and app_resource of applications imported from files.
var ResourceTypes = []string{"account", "organizational_unit", "iam_user", "iam_group", "iam_role", "iam_policy",
	"access_key", "sso_user", "sso_group", "permission_set", "app_user", "app_resource"}

// Resource is an inventory resource as the API shows it.
type Resource struct {
	ConnectionID string          `json:"connection_id"`
	Type         string          `json:"type"`
	ID           string          `json:"id"`
	DisplayName  string          `json:"display_name"`
	AccountID    string          `json:"account_id,omitempty"`
	AccountName  string          `json:"account_name,omitempty"`
	Scope        string          `json:"scope,omitempty"`
	ParentType   string          `json:"parent_type,omitempty"`
	ParentID     string          `json:"parent_id,omitempty"`
	Email        string          `json:"email,omitempty"`
	Profile      json.RawMessage `json:"profile,omitempty"`
	FirstSync    string          `json:"first_sync"`
	FirstSeen    string          `json:"first_seen"`
	RemovedSync  string          `json:"removed_sync,omitempty"`
	RemovedAt    *string         `json:"removed_at"`
	Stale        bool            `json:"stale"`
	LastReadAt   *string         `json:"last_read_at,omitempty"`
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func resourceJSON(r *store.Resource) Resource {
	out := Resource{
		ConnectionID: r.ConnectionID, Type: r.Type, ID: r.ID, DisplayName: r.DisplayName, AccountID: r.AccountID,
		AccountName: r.AccountName, Scope: r.Scope, ParentType: r.ParentType, ParentID: r.ParentID, Email: r.Email,
		FirstSync: r.FirstSync, FirstSeen: rfc3339(r.FirstSeen), RemovedSync: r.RemovedSync, RemovedAt: timeOrNil(r.RemovedAt),
		Stale: r.Stale,
	}
	if r.Stale {
		out.LastReadAt = timeOrNil(r.LastReadAt)
	}
	if len(r.Profile) > 0 {
		out.Profile = r.Profile
	}
	return out
}

// GrantVia is one group a grant comes through.
type GrantVia struct {
	EntitlementID string `json:"entitlement_id"`
	Name          string `json:"name"`
}

// Grant is a grant as the API shows it: who holds what, and through what.
type Grant struct {
	ID              string     `json:"id"`
	EntitlementID   string     `json:"entitlement_id"`
	EntitlementName string     `json:"entitlement_name"`
	ResourceType    string     `json:"resource_type"`
	ResourceID      string     `json:"resource_id"`
	PrincipalType   string     `json:"principal_type"`
	PrincipalID     string     `json:"principal_id"`
	PrincipalName   string     `json:"principal_name"`
	Person          string     `json:"person,omitempty"`
	AccountID       string     `json:"account_id,omitempty"`
	AccountName     string     `json:"account_name,omitempty"`
	Direct          bool       `json:"direct"`
	Via             []GrantVia `json:"via"`
	FirstSync       string     `json:"first_sync"`
	FirstSeen       string     `json:"first_seen"`
	RemovedAt       *string    `json:"removed_at"`
	Stale           bool       `json:"stale"`
}

func grantJSON(g *store.Grant) Grant {
	out := Grant{
		ID: g.ID, EntitlementID: g.EntitlementID, EntitlementName: g.EntitlementName, ResourceType: g.ResourceType,
		ResourceID: g.ResourceID, PrincipalType: g.PrincipalType, PrincipalID: g.PrincipalID, PrincipalName: g.PrincipalName,
		Person: g.PrincipalEmail, AccountID: g.AccountID, AccountName: g.AccountName, Direct: g.Direct, Via: []GrantVia{},
		FirstSync: g.FirstSync, FirstSeen: rfc3339(g.FirstSeen), RemovedAt: timeOrNil(g.RemovedAt), Stale: g.Stale,
	}
	for i, v := range g.Via {
		name := ""
		if i < len(g.ViaNames) {
			name = g.ViaNames[i]
		}
		out.Via = append(out.Via, GrantVia{EntitlementID: v, Name: name})
	}
	return out
}

func grantsJSON(gs []store.Grant) []Grant {
	out := make([]Grant, len(gs))
	for i := range gs {
		out[i] = grantJSON(&gs[i])
	}
	return out
}

// storeError answers a store error: 400 for a page token the list did not make, 404
// for what does not exist (notFound says what), 500 otherwise.
func storeError(w http.ResponseWriter, err error, notFound string) {
	switch {
	case errors.Is(err, store.ErrBadPageToken):
		badRequest(w, "page_token is not one this list returned: start again without it")
	case errors.Is(err, store.ErrNotFound):
		problem.Write(w, http.StatusNotFound, notFound)
	default:
		problem.Write(w, http.StatusInternalServerError, "cannot read the inventory: "+err.Error())
	}
}

// atParam reads the optional `at` (RFC 3339): the inventory as of then.
func atParam(w http.ResponseWriter, r *http.Request) (*time.Time, bool) {
	at, detail := parseTime(r, "at")
	if detail != "" {
		badRequest(w, detail+" (at asks for the inventory as of that time; leave it out for now)")
		return nil, false
	}
	return at, true
}

func checkType(w http.ResponseWriter, typ string) bool {
	if !slices.Contains(ResourceTypes, typ) {
		badRequest(w, "type must be one of "+strings.Join(ResourceTypes, ", ")+", got "+strconv.Quote(typ))
		return false
	}
	return true
}

// listResources lists the inventory's resources, sorted by type, display name and id.
//
// GET /api/v1/resources[?type=&q=&account_id=&connection_id=&at=RFC3339][&page_size=&page_token=]
// (auditor): 200 {"items": [{"connection_id", "type", "id", "display_name", "account_id",
// "account_name", "scope", "parent_type", "parent_id", "email", "first_sync", "first_seen",
// "removed_sync", "removed_at", "stale", "last_read_at"}], "next_page_token"}. type is one
// of the connector's resource types; q matches a substring of the display name, id or
// email (any case); at lists the resources that existed then. Profiles are left out
// (GET /api/v1/resources/{type}/{id} has them). 400 for a bad type, at or page.
func (h *handlers) listResources(w http.ResponseWriter, r *http.Request) {
	size, token, ok, detail := paging(r)
	if !ok {
		badRequest(w, detail)
		return
	}
	q := r.URL.Query()
	if typ := q.Get("type"); typ != "" && !checkType(w, typ) {
		return
	}
	at, ok := atParam(w, r)
	if !ok {
		return
	}
	rs, next, err := h.app.Store.ListResources(r.Context(), store.ResourceFilter{
		ConnectionID: q.Get("connection_id"), Type: q.Get("type"), Q: q.Get("q"), AccountID: q.Get("account_id"), At: at,
	}, store.Page{Size: size, Token: token})
	if err != nil {
		storeError(w, err, "")
		return
	}
	out := make([]Resource, len(rs))
	for i := range rs {
		out[i] = resourceJSON(&rs[i])
	}
	writeList(w, out, next)
}

// Entitlement is an entitlement as the API shows it.
type Entitlement struct {
	ConnectionID string  `json:"connection_id"`
	ID           string  `json:"id"`
	DisplayName  string  `json:"display_name"`
	Slug         string  `json:"slug"`
	ResourceType string  `json:"resource_type"`
	ResourceID   string  `json:"resource_id"`
	ResourceName string  `json:"resource_name"`
	AccountID    string  `json:"account_id,omitempty"`
	AccountName  string  `json:"account_name,omitempty"`
	GrantCount   int     `json:"grant_count"`
	FirstSync    string  `json:"first_sync"`
	FirstSeen    string  `json:"first_seen"`
	RemovedAt    *string `json:"removed_at"`
}

func entitlementJSON(e *store.Entitlement) Entitlement {
	return Entitlement{
		ConnectionID: e.ConnectionID, ID: e.ID, DisplayName: e.DisplayName, Slug: e.Slug, ResourceType: e.ResourceType,
		ResourceID: e.ResourceID, ResourceName: e.ResourceName, AccountID: e.AccountID, AccountName: e.AccountName,
		GrantCount: e.Grants, FirstSync: e.FirstSync, FirstSeen: rfc3339(e.FirstSeen), RemovedAt: timeOrNil(e.RemovedAt),
	}
}

// ResourceDetail is one resource with its entitlements and grants.
type ResourceDetail struct {
	Resource
	// Entitlements are the entitlements on the resource, each with its number of grants.
	Entitlements []Entitlement `json:"entitlements"`
	// Grants are the grants of those entitlements (who can reach the resource, and
	// through what): the first page; GrantsNextPageToken (as page_token) gives the next.
	Grants              []Grant `json:"grants"`
	GrantsNextPageToken string  `json:"grants_next_page_token,omitempty"`
	// Holds are the grants the resource itself holds as a principal (a user's, group's
	// or role's access).
	Holds []Grant `json:"holds"`
}

// getResource answers one resource with its profile, entitlements and grants.
//
// GET /api/v1/resources/{type}/{id}[?at=RFC3339][&page_size=&page_token=] (auditor); id
// is the connector's id and may hold slashes and colons (ARNs): 200 {resource fields,
// "profile", "entitlements": [{"id", "display_name", "slug", "resource_type",
// "resource_id", "resource_name", "account_id", "account_name", "grant_count",
// "first_sync", "first_seen", "removed_at"}], "grants": [{"id", "entitlement_id",
// "entitlement_name", "principal_type", "principal_id", "principal_name", "person",
// "account_id", "account_name", "direct", "via": [{"entitlement_id", "name"}],
// "first_sync", "first_seen", "removed_at", "stale"}], "grants_next_page_token", "holds":
// [grants]}. page_size and page_token page the grants. 404 when the resource did not
// exist (at that time).
func (h *handlers) getResource(w http.ResponseWriter, r *http.Request) {
	typ, id := r.PathValue("type"), r.PathValue("id")
	if !checkType(w, typ) {
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
	res, err := h.app.Store.GetResource(ctx, typ, id, at)
	if err != nil {
		storeError(w, err, notFoundDetail(typ+" "+id, at))
		return
	}
	ents, err := h.app.Store.ResourceEntitlements(ctx, typ, id, at)
	if err != nil {
		storeError(w, err, "")
		return
	}
	grants, next, err := h.app.Store.ResourceGrants(ctx, typ, id, at, store.Page{Size: size, Token: token})
	if err != nil {
		storeError(w, err, "")
		return
	}
	holds, err := h.app.Store.PrincipalGrants(ctx, typ, id, at)
	if err != nil {
		storeError(w, err, "")
		return
	}
	out := ResourceDetail{Resource: resourceJSON(res), Entitlements: make([]Entitlement, len(ents)),
		Grants: grantsJSON(grants), GrantsNextPageToken: next, Holds: grantsJSON(holds)}
	for i := range ents {
		out.Entitlements[i] = entitlementJSON(&ents[i])
	}
	writeJSON(w, http.StatusOK, out)
}

// notFoundDetail says what was not found, and when.
func notFoundDetail(what string, at *time.Time) string {
	if at != nil {
		return "the inventory has no " + what + " as of " + rfc3339(*at)
	}
	return "the inventory has no " + what + " (ids are the connector's: ARNs for IAM, account ids, Identity Center ids)"
}
