package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/jit"
	"github.com/gatehouse/gatehouse/internal/problem"
	"github.com/gatehouse/gatehouse/internal/store"
)

// The catalog of just-in-time access: what the caller may request (internal/jit decides,
// with the requestability rules of internal/access).

func init() {
	registrations = append(registrations, func(r *auth.Router, h *handlers) {
		r.HandleFunc("GET", "/api/v1/catalog", auth.SignedIn, h.listCatalog)
		r.HandleFunc("GET", "/api/v1/catalog/{id...}", auth.SignedIn, h.getCatalogEntry)
	})
}

// CatalogItem is one entitlement the caller may request, with the rule that allows it.
type CatalogItem struct {
	// ID is the inventory's entitlement id, e.g. account:<account id>:<permission set id>.
	ID          string `json:"id"`
	DisplayName string `json:"display_name"`
	Application string `json:"application"`
	// ResourceType is account (a permission set on an account), sso_group, iam_group or
	// app_resource (an entitlement of an application imported from files).
	ResourceType      string `json:"resource_type"`
	AccountID         string `json:"account_id"`
	AccountName       string `json:"account_name"`
	PermissionSetARN  string `json:"permission_set_arn"`
	PermissionSetName string `json:"permission_set_name"`
	GroupName         string `json:"group_name"`
	// DefaultDuration and MaxDuration are the rule's, as Go durations ("1h0m0s").
	DefaultDuration string `json:"default_duration"`
	MaxDuration     string `json:"max_duration"`
	ReasonRequired  bool   `json:"reason_required"`
	// Rule is the name of the rule that applies, Policy its approval policy, and Why says
	// why that rule applies.
	Rule   string `json:"rule"`
	Policy string `json:"policy"`
	Why    string `json:"why"`
}

// CatalogEntry is one entitlement as the caller sees it, requestable or not.
type CatalogEntry struct {
	CatalogItem
	Requestable bool `json:"requestable"`
	// NotRequestableWhy says why the caller cannot request it and what to do.
	NotRequestableWhy string `json:"not_requestable_why"`
	// Note is what to know although it is requestable: an imported application with no user
	// of the caller's email yet (its owner creates one when granting).
	Note string `json:"note"`
	// PermissionSet is what the permission set grants (null for group memberships).
	PermissionSet *PermissionSet `json:"permission_set"`
}

// PermissionSet is what a permission set grants.
type PermissionSet struct {
	ARN  string `json:"arn"`
	Name string `json:"name"`
	// SessionDuration is the permission set's session duration (ISO 8601, as AWS gives it).
	SessionDuration string   `json:"session_duration"`
	ManagedPolicies []string `json:"managed_policies"`
	// InlinePolicy is the inline policy document (JSON text), empty when there is none.
	InlinePolicy string `json:"inline_policy"`
}

// durationText is a duration as the API writes it, "" for none.
func durationText(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	return d.String()
}

func catalogItemJSON(it *jit.CatalogItem) CatalogItem {
	return CatalogItem{
		ID: it.EntitlementID, DisplayName: it.DisplayName, Application: it.Application, ResourceType: it.ResourceType,
		AccountID: it.AccountID, AccountName: it.AccountName, PermissionSetARN: it.PermissionSetARN, PermissionSetName: it.PermissionSetName,
		GroupName: it.GroupName, DefaultDuration: durationText(it.DefaultDuration), MaxDuration: durationText(it.MaxDuration),
		ReasonRequired: it.ReasonRequired, Rule: it.Rule, Policy: it.Policy, Why: it.Why,
	}
}

// jitService is the server's just-in-time service; it answers 503 when the server runs
// without one (jit needs the jobs, which start with the server).
func (h *handlers) jitService(w http.ResponseWriter) (*jit.Service, bool) {
	if h.app == nil || h.app.JIT == nil {
		problem.Write(w, http.StatusServiceUnavailable, "just-in-time access is not running on this server yet; try again when it has started")
		return nil, false
	}
	return h.app.JIT, true
}

// jitError answers an error of the jit service: its refusals with their status and why
// (400, 403, 404, 409), a bad page token with 400, anything else with 500 (logged, never
// shown: it may hold store details).
func (h *handlers) jitError(w http.ResponseWriter, r *http.Request, err error) {
	if code := jit.CodeOf(err); code != 0 {
		problem.Write(w, int(code), err.Error())
		return
	}
	switch {
	case errors.Is(err, store.ErrBadPageToken):
		badRequest(w, err.Error())
	case errors.Is(err, store.ErrNotFound):
		problem.Write(w, http.StatusNotFound, "not found: "+err.Error())
	case errors.Is(err, context.Canceled):
		problem.Write(w, http.StatusServiceUnavailable, "the request was cancelled before it finished; try again")
	default:
		if h.app != nil && h.app.Log != nil {
			h.app.Log.Error("jit", zap.String("method", r.Method), zap.String("path", r.URL.Path), zap.Error(err))
		}
		problem.Write(w, http.StatusInternalServerError, "just-in-time access failed on the server; see the server log")
	}
}

// listCatalog lists what the caller may request.
//
// GET /api/v1/catalog[?q=&account_id=&page_size=&page_token=] (signed in): 200
// {"items": [{"id", "display_name", "application", "resource_type", "account_id",
// "account_name", "permission_set_arn", "permission_set_name", "group_name",
// "default_duration", "max_duration", "reason_required", "rule", "policy", "why"}],
// "next_page_token"}.
func (h *handlers) listCatalog(w http.ResponseWriter, r *http.Request) {
	size, token, ok, detail := paging(r)
	if !ok {
		badRequest(w, detail)
		return
	}
	svc, ok := h.jitService(w)
	if !ok {
		return
	}
	q := jit.CatalogQuery{Q: strings.TrimSpace(r.URL.Query().Get("q")), AccountID: strings.TrimSpace(r.URL.Query().Get("account_id")),
		Page: store.Page{Size: size, Token: token}}
	items, next, err := svc.Catalog(r.Context(), auth.FromContext(r.Context()), q)
	if err != nil {
		h.jitError(w, r, err)
		return
	}
	out := make([]CatalogItem, len(items))
	for i := range items {
		out[i] = catalogItemJSON(&items[i])
	}
	writeList(w, out, next)
}

// getCatalogEntry describes one entitlement for the caller: whether they may request it
// (and if not, why and what to do) and what the permission set grants.
//
// GET /api/v1/catalog/{id} (signed in): 200 {the catalog item's fields, "requestable",
// "not_requestable_why", "permission_set": {"arn", "name", "session_duration",
// "managed_policies", "inline_policy"} or null}; 404 when there is no such entitlement.
func (h *handlers) getCatalogEntry(w http.ResponseWriter, r *http.Request) {
	svc, ok := h.jitService(w)
	if !ok {
		return
	}
	e, err := svc.Entry(r.Context(), auth.FromContext(r.Context()), r.PathValue("id"))
	if err != nil {
		h.jitError(w, r, err)
		return
	}
	out := CatalogEntry{CatalogItem: catalogItemJSON(&e.Item), Requestable: e.Requestable, NotRequestableWhy: e.NotRequestableWhy, Note: e.Note}
	if ps := e.PermissionSet; ps != nil {
		managed := ps.ManagedPolicies
		if managed == nil {
			managed = []string{}
		}
		out.PermissionSet = &PermissionSet{ARN: ps.ARN, Name: ps.Name, SessionDuration: ps.SessionDuration, ManagedPolicies: managed, InlinePolicy: ps.InlinePolicy}
	}
	writeJSON(w, http.StatusOK, out)
}
