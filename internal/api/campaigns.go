package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/problem"
	"github.com/gatehouse/gatehouse/internal/review"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Access review campaigns and their items. The shapes are the stable contract of issue 12:
// POST /api/v1/campaigns takes {"name", "scope", "reviewers", "due", "undecided"} and answers
// 201 with the campaign; items carry id, grant_id, identity, entitlement, via, reviewer,
// decision and state; POST .../items/{item}/decision takes {"decision", "reason"} and is 403
// for anyone but the item's reviewer, and for one's own access. Who may do what is the
// review service's to say; the router only keeps the admins' and auditors' actions (create,
// edit, start, close, export, compare, reassign) to them.

func init() {
	registrations = append(registrations, func(r *auth.Router, h *handlers) {
		r.HandleFunc("GET", "/api/v1/campaigns", auth.SignedIn, h.listCampaigns)
		r.HandleFunc("POST", "/api/v1/campaigns", auth.Auditor, h.createCampaign)
		r.HandleFunc("GET", "/api/v1/campaigns/{id}", auth.SignedIn, h.getCampaign)
		r.HandleFunc("PATCH", "/api/v1/campaigns/{id}", auth.Auditor, h.updateCampaign)
		r.HandleFunc("POST", "/api/v1/campaigns/{id}/start", auth.Auditor, h.campaignAction(func(s *review.Service) campaignCall { return s.Start }))
		r.HandleFunc("POST", "/api/v1/campaigns/{id}/close", auth.Auditor, h.campaignAction(func(s *review.Service) campaignCall { return s.Close }))
		r.HandleFunc("GET", "/api/v1/campaigns/{id}/export", auth.Auditor, h.exportCampaign)
		r.HandleFunc("GET", "/api/v1/campaigns/{id}/compare", auth.Auditor, h.compareCampaign)
		r.HandleFunc("GET", "/api/v1/campaigns/{id}/items", auth.SignedIn, h.listCampaignItems)
		r.HandleFunc("GET", "/api/v1/campaigns/{id}/items/{item}", auth.SignedIn, h.getCampaignItem)
		r.HandleFunc("POST", "/api/v1/campaigns/{id}/items/{item}/decision", auth.SignedIn, h.decideItem)
		r.HandleFunc("POST", "/api/v1/campaigns/{id}/items/{item}/delegate", auth.SignedIn, h.handOverItem(false))
		r.HandleFunc("POST", "/api/v1/campaigns/{id}/items/{item}/reassign", auth.Auditor, h.handOverItem(true))
		r.HandleFunc("POST", "/api/v1/campaigns/{id}/items/{item}/task_done", auth.SignedIn, h.completeItemTask)
		r.HandleFunc("POST", "/api/v1/campaigns/{id}/decisions", auth.SignedIn, h.decideBulk)
	})
}

// Campaign is an access review campaign as the API shows it.
type Campaign struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	// State is draft, active or closed.
	State     string           `json:"state"`
	Scope     review.Scope     `json:"scope"`
	Reviewers review.Reviewers `json:"reviewers"`
	Due       *string          `json:"due"`
	// Undecided is what happens at the due date to items nobody decided: keep, revoke or
	// escalate.
	Undecided string `json:"undecided"`
	// ConnectionID is the one connection the campaign reviews ("" for every connection).
	ConnectionID string  `json:"connection_id"`
	CreatedBy    string  `json:"created_by"`
	CreatedAt    string  `json:"created_at"`
	StartedAt    *string `json:"started_at"`
	ClosedAt     *string `json:"closed_at"`
	ClosedBy     string  `json:"closed_by"`
	// SnapshotSyncs are, per connection, the sync whose inventory the items were frozen from.
	SnapshotSyncs map[string]string `json:"snapshot_syncs"`
	// Previous is the last campaign of the same scope before this one ("" when none).
	Previous   string                    `json:"previous"`
	Progress   review.Progress           `json:"progress"`
	ByReviewer []review.ReviewerProgress `json:"by_reviewer"`
}

func campaignJSON(c *review.Campaign) Campaign {
	out := Campaign{
		ID: c.ID, Name: c.Name, Description: c.Description, State: string(c.State), Scope: c.Scope, Reviewers: c.Reviewers,
		Due: timeOrNil(&c.Due), Undecided: c.Undecided, ConnectionID: c.ConnectionID, CreatedBy: c.CreatedBy, CreatedAt: rfc3339(c.CreatedAt),
		StartedAt: timeOrNil(c.StartedAt), ClosedAt: timeOrNil(c.ClosedAt), ClosedBy: c.ClosedBy, SnapshotSyncs: c.SnapshotSyncs,
		Previous: c.Previous, Progress: c.Progress, ByReviewer: c.ByReviewer,
	}
	if out.SnapshotSyncs == nil {
		out.SnapshotSyncs = map[string]string{}
	}
	if out.ByReviewer == nil {
		out.ByReviewer = []review.ReviewerProgress{}
	}
	return out
}

// ReviewItem is one frozen grant of a campaign, with its context, decision and remediation.
type ReviewItem struct {
	ID         string `json:"id"`
	CampaignID string `json:"campaign_id"`
	// Seq orders a campaign's items (account, entitlement, identity).
	Seq          int    `json:"seq"`
	ConnectionID string `json:"connection_id"`
	// GrantID is the inventory's grant id.
	GrantID string `json:"grant_id"`
	// Identity is the person's email where one is known ("" for a group's own grant).
	Identity    string            `json:"identity"`
	Principal   ReviewPrincipal   `json:"principal"`
	Entitlement ReviewEntitlement `json:"entitlement"`
	AccountID   string            `json:"account_id"`
	AccountName string            `json:"account_name"`
	// Application is the name of the imported application the access is in (its id is
	// connection_id); left out for AWS access.
	Application string `json:"application,omitempty"`
	// Via is how the access is held: direct, the group membership entitlement it comes
	// through, or lease:<id>; ViaName says it for people.
	Via     string  `json:"via"`
	ViaName string  `json:"via_name"`
	Since   *string `json:"since"`
	// AdminLevel marks admin-level access: keeping it needs a reason.
	AdminLevel bool              `json:"admin_level"`
	Context    ReviewItemContext `json:"context"`
	// Step is the current step of a sequence of reviews (0 without one).
	Step int `json:"step"`
	// Reviewer is the item's current reviewer (email); Reviewers everyone who may decide
	// its current step.
	Reviewer  string   `json:"reviewer"`
	Reviewers []string `json:"reviewers"`
	// Decision is "", keep or revoke.
	Decision  string  `json:"decision"`
	Reason    string  `json:"reason"`
	DecidedBy string  `json:"decided_by"`
	DecidedAt *string `json:"decided_at"`
	// State is pending, kept, revocation_pending, remediated or task_open.
	State string `json:"state"`
	// Plan is the change a revoke would make, shown before deciding.
	Plan        string             `json:"plan"`
	Remediation *ReviewRemediation `json:"remediation"`
	// AccessGoneAt is when a sync first no longer showed the access.
	AccessGoneAt   *string `json:"access_gone_at"`
	AccessGoneSync string  `json:"access_gone_sync"`
	UpdatedAt      *string `json:"updated_at"`
	// Events are the item's history, oldest first (on one item; empty in lists).
	Events []ReviewItemEvent `json:"events"`
}

// ReviewPrincipal is who holds the access.
type ReviewPrincipal struct {
	// Type is sso_user, iam_user, sso_group or iam_group.
	Type string `json:"type"`
	ID   string `json:"id"`
	Name string `json:"name"`
}

// ReviewEntitlement is the access held.
type ReviewEntitlement struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	ResourceType string `json:"resource_type"`
	ResourceID   string `json:"resource_id"`
	ResourceName string `json:"resource_name"`
}

// ReviewItemContext is what a reviewer sees to decide.
type ReviewItemContext struct {
	LastUsed       *string `json:"last_used"`
	LastUsedSource string  `json:"last_used_source"`
	MFA            *bool   `json:"mfa"`
	// Active is false for a disabled or departed person; Status says which.
	Active      *bool   `json:"active"`
	Status      string  `json:"status"`
	LeaseID     string  `json:"lease_id"`
	LeaseEndsAt *string `json:"lease_ends_at"`
	// The previous campaign's decision on the same grant, if any.
	PreviousCampaign string `json:"previous_campaign"`
	PreviousDecision string `json:"previous_decision"`
	PreviousReason   string `json:"previous_reason"`
	PreviousBy       string `json:"previous_by"`
}

// ReviewRemediation is the change a revoke decision makes and its verification.
type ReviewRemediation struct {
	Action      string  `json:"action"`
	Description string  `json:"description"`
	Owner       string  `json:"owner"`
	Task        string  `json:"task"`
	State       string  `json:"state"`
	Error       string  `json:"error"`
	Attempts    int     `json:"attempts"`
	DoneAt      *string `json:"done_at"`
	// VerifiedSync and VerifiedAt are the sync that no longer showed the access.
	VerifiedSync string  `json:"verified_sync"`
	VerifiedAt   *string `json:"verified_at"`
}

// ReviewItemEvent is one entry of an item's history.
type ReviewItemEvent struct {
	Kind     string `json:"kind"`
	By       string `json:"by"`
	At       string `json:"at"`
	Detail   string `json:"detail"`
	Decision string `json:"decision"`
	Step     int    `json:"step"`
}

func reviewItemJSON(it *review.Item) ReviewItem {
	since := timeOrNil(&it.Since)
	out := ReviewItem{
		ID: it.ID, CampaignID: it.CampaignID, Seq: it.Seq, ConnectionID: it.ConnectionID, GrantID: it.GrantID, Identity: it.Identity,
		Principal: ReviewPrincipal{Type: it.PrincipalType, ID: it.PrincipalID, Name: it.PrincipalName},
		Entitlement: ReviewEntitlement{ID: it.EntitlementID, Name: it.EntitlementName, ResourceType: it.ResourceType,
			ResourceID: it.ResourceID, ResourceName: it.ResourceName},
		AccountID: it.AccountID, AccountName: it.AccountName, Application: it.Application, Via: it.Via, ViaName: it.ViaName, Since: since, AdminLevel: it.AdminLevel,
		Context: ReviewItemContext{
			LastUsed: timeOrNil(it.Context.LastUsed), LastUsedSource: it.Context.LastUsedSource, MFA: it.Context.MFA,
			Active: it.Context.Active, Status: it.Context.Status, LeaseID: it.Context.LeaseID, LeaseEndsAt: timeOrNil(it.Context.LeaseEndsAt),
			PreviousCampaign: it.Context.PreviousCampaign, PreviousDecision: it.Context.PreviousDecision,
			PreviousReason: it.Context.PreviousReason, PreviousBy: it.Context.PreviousBy,
		},
		Step: it.Step, Reviewer: it.Reviewer, Reviewers: it.Reviewers, Decision: it.Decision, Reason: it.Reason, DecidedBy: it.DecidedBy,
		DecidedAt: timeOrNil(it.DecidedAt), State: string(it.State), Plan: it.Plan, AccessGoneAt: timeOrNil(it.AccessGoneAt),
		AccessGoneSync: it.AccessGoneSync, UpdatedAt: timeOrNil(&it.UpdatedAt), Events: []ReviewItemEvent{},
	}
	if out.Reviewers == nil {
		out.Reviewers = []string{}
	}
	if m := it.Remediation; m != nil {
		out.Remediation = &ReviewRemediation{Action: m.Action, Description: m.Description, Owner: m.Owner, Task: m.Task, State: m.State,
			Error: m.Error, Attempts: m.Attempts, DoneAt: timeOrNil(m.DoneAt), VerifiedSync: m.VerifiedSync, VerifiedAt: timeOrNil(m.VerifiedAt)}
	}
	for _, e := range it.Events {
		out.Events = append(out.Events, ReviewItemEvent{Kind: e.Kind, By: e.By, At: rfc3339(e.At), Detail: e.Detail, Decision: e.Decision, Step: e.Step})
	}
	return out
}

func reviewItemsJSON(items []review.Item) []ReviewItem {
	out := make([]ReviewItem, len(items))
	for i := range items {
		out[i] = reviewItemJSON(&items[i])
	}
	return out
}

// reviewService is the review service, or a 503 saying it is not running.
func (h *handlers) reviewService(w http.ResponseWriter) (*review.Service, bool) {
	if h.app == nil || h.app.Reviews == nil {
		problem.Write(w, http.StatusServiceUnavailable, "access reviews are not running on this server yet; try again when it has started")
		return nil, false
	}
	return h.app.Reviews, true
}

// reviewError answers an error of the review service: its refusals with their status and
// why (400, 403, 404, 409), a bad page token with 400, anything else with 500 (logged,
// never shown: it may hold store details).
func (h *handlers) reviewError(w http.ResponseWriter, r *http.Request, err error) {
	if code := review.CodeOf(err); code != 0 {
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
			h.app.Log.Error("review", zap.String("method", r.Method), zap.String("path", r.URL.Path), zap.Error(err))
		}
		problem.Write(w, http.StatusInternalServerError, "access reviews failed on the server; see the server log")
	}
}

// CampaignBody is the body of POST /api/v1/campaigns, and of PATCH (where every key is
// optional and only the keys sent change).
type CampaignBody struct {
	Name        *string `json:"name"`
	Description *string `json:"description,omitempty"`
	// Scope selects the grants (every key optional; keys combine with AND, values of one
	// key with OR): accounts, ous, permission_sets, applications, resource_types,
	// sso_groups, iam_groups, iam_policies, admin_only, unused_days, departed.
	Scope *json.RawMessage `json:"scope"`
	// Reviewers: people, groups, manager, owner, sequence, fallback.
	Reviewers *json.RawMessage `json:"reviewers"`
	// Due is an RFC 3339 time.
	Due *string `json:"due"`
	// Undecided is keep (the default), revoke or escalate.
	Undecided    *string `json:"undecided"`
	ConnectionID *string `json:"connection_id,omitempty"`
}

const campaignShape = `{"name": "Quarterly review: production", "scope": {"accounts": ["111111111111"], "admin_only": false}, ` +
	`"reviewers": {"people": ["reviewer@example.com"], "manager": false, "owner": false}, "due": "2026-01-31T17:00:00Z", "undecided": "keep"}`

// scopeKeys and reviewerKeys are the keys a scope and reviewers take, for messages.
const (
	scopeKeys    = "accounts, ous, permission_sets, applications, resource_types, sso_groups, iam_groups, iam_policies, admin_only, unused_days, departed"
	reviewerKeys = "people, groups, manager, owner, sequence, fallback"
)

// decodeStrict reads raw into v refusing unknown keys; the message names the object.
func decodeStrict(raw json.RawMessage, v any, what, keys string) string {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		msg := err.Error()
		if k, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
			return what + " has no key " + k + ": the keys are " + keys
		}
		var typ *json.UnmarshalTypeError
		if errors.As(err, &typ) && typ.Field != "" {
			return what + "." + typ.Field + " must be a JSON " + jsonKind(typ.Type.Kind().String())
		}
		return what + " must be a JSON object with the keys " + keys
	}
	return ""
}

func jsonKind(goKind string) string {
	switch goKind {
	case "slice":
		return "array of strings"
	case "bool":
		return "boolean (true or false)"
	case "int":
		return "whole number"
	}
	return goKind
}

// apply overlays the keys of b onto in; it answers what is wrong with them ("" when
// nothing).
func (b *CampaignBody) apply(in *review.CampaignInput) string {
	if b.Name != nil {
		in.Name = strings.TrimSpace(*b.Name)
	}
	if b.Description != nil {
		in.Description = *b.Description
	}
	if b.Scope != nil {
		var s review.Scope
		if bad := decodeStrict(*b.Scope, &s, "scope", scopeKeys); bad != "" {
			return bad
		}
		if s.UnusedDays < 0 {
			return "scope.unused_days must be a positive number of days, got " + strconv.Itoa(s.UnusedDays)
		}
		in.Scope = s
	}
	if b.Reviewers != nil {
		var rv review.Reviewers
		if bad := decodeStrict(*b.Reviewers, &rv, "reviewers", reviewerKeys); bad != "" {
			return bad
		}
		in.Reviewers = rv
	}
	if b.Due != nil {
		due, err := time.Parse(time.RFC3339, strings.TrimSpace(*b.Due))
		if err != nil {
			return "due must be an RFC 3339 time such as 2026-01-31T17:00:00Z, got " + strconv.Quote(*b.Due)
		}
		in.Due = due.UTC()
	}
	if b.Undecided != nil {
		switch u := strings.TrimSpace(*b.Undecided); u {
		case "", review.UndecidedKeep, review.UndecidedRevoke, review.UndecidedEscalate:
			in.Undecided = u
		default:
			return "undecided must be keep, revoke or escalate (what happens at the due date to items nobody decided), got " + strconv.Quote(*b.Undecided)
		}
	}
	if b.ConnectionID != nil {
		in.ConnectionID = strings.TrimSpace(*b.ConnectionID)
	}
	return ""
}

// createCampaign creates a draft campaign.
//
// POST /api/v1/campaigns {"name", "description", "scope": {...}, "reviewers": {...},
// "due": RFC 3339, "undecided": keep|revoke|escalate} (admins and auditors): 201 with the
// campaign; 400 for bad input saying what to fix.
func (h *handlers) createCampaign(w http.ResponseWriter, r *http.Request) {
	var body CampaignBody
	if !decodeJSONBodyAs(w, r, &body, campaignShape, false) {
		return
	}
	var in review.CampaignInput
	if bad := body.apply(&in); bad != "" {
		badRequest(w, bad)
		return
	}
	if in.Name == "" {
		badRequest(w, "name is required: say what the campaign reviews, e.g. \"Quarterly review: production\"")
		return
	}
	if body.Due == nil {
		badRequest(w, "due is required: an RFC 3339 time such as 2026-01-31T17:00:00Z, by when reviewers decide")
		return
	}
	svc, ok := h.reviewService(w)
	if !ok {
		return
	}
	c, err := svc.CreateCampaign(r.Context(), auth.FromContext(r.Context()), in)
	if err != nil {
		h.reviewError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, campaignJSON(c))
}

// updateCampaign edits a draft campaign: only the keys sent change.
//
// PATCH /api/v1/campaigns/{id} {any keys of the create body} (admins and auditors): 200
// with the campaign; 400 for bad input, 404, 409 once the campaign has started.
func (h *handlers) updateCampaign(w http.ResponseWriter, r *http.Request) {
	var body CampaignBody
	if !decodeJSONBodyAs(w, r, &body, `{"due": "2026-01-31T17:00:00Z"} (any keys of `+campaignShape+`)`, false) {
		return
	}
	// The keys sent are checked before the campaign is read, so bad input is 400 whatever
	// the campaign.
	if bad := body.apply(&review.CampaignInput{}); bad != "" {
		badRequest(w, bad)
		return
	}
	svc, ok := h.reviewService(w)
	if !ok {
		return
	}
	c := auth.FromContext(r.Context())
	cur, err := svc.Campaign(r.Context(), c, r.PathValue("id"))
	if err != nil {
		h.reviewError(w, r, err)
		return
	}
	in := review.CampaignInput{Name: cur.Name, Description: cur.Description, Scope: cur.Scope, Reviewers: cur.Reviewers,
		Due: cur.Due, Undecided: cur.Undecided, ConnectionID: cur.ConnectionID}
	if bad := body.apply(&in); bad != "" {
		badRequest(w, bad)
		return
	}
	if in.Name == "" {
		badRequest(w, "name cannot be empty")
		return
	}
	updated, err := svc.UpdateCampaign(r.Context(), c, cur.ID, in)
	if err != nil {
		h.reviewError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, campaignJSON(updated))
}

var campaignStates = []review.CampaignState{review.CampaignDraft, review.CampaignActive, review.CampaignClosed}

// listCampaigns lists campaigns, newest first.
//
// GET /api/v1/campaigns[?state=draft|active|closed][&q=][&page_size=&page_token=] (signed
// in: every campaign for admins and auditors, the ones with items for the caller
// otherwise): 200 {"items": [campaign...], "next_page_token"}.
func (h *handlers) listCampaigns(w http.ResponseWriter, r *http.Request) {
	size, token, ok, detail := paging(r)
	if !ok {
		badRequest(w, detail)
		return
	}
	qv := r.URL.Query()
	state := review.CampaignState(strings.TrimSpace(qv.Get("state")))
	if state != "" && !oneOf(state, campaignStates) {
		badRequest(w, "state must be draft, active or closed, got "+strconv.Quote(string(state)))
		return
	}
	svc, ok := h.reviewService(w)
	if !ok {
		return
	}
	cs, next, err := svc.Campaigns(r.Context(), auth.FromContext(r.Context()),
		review.CampaignQuery{State: state, Q: strings.TrimSpace(qv.Get("q")), Page: store.Page{Size: size, Token: token}})
	if err != nil {
		h.reviewError(w, r, err)
		return
	}
	out := make([]Campaign, len(cs))
	for i := range cs {
		out[i] = campaignJSON(&cs[i])
	}
	writeList(w, out, next)
}

// getCampaign shows a campaign with its progress.
//
// GET /api/v1/campaigns/{id} (admins, auditors and its reviewers): 200 with the campaign;
// 404 when there is no such campaign (or not one the caller may see).
func (h *handlers) getCampaign(w http.ResponseWriter, r *http.Request) {
	svc, ok := h.reviewService(w)
	if !ok {
		return
	}
	c, err := svc.Campaign(r.Context(), auth.FromContext(r.Context()), r.PathValue("id"))
	if err != nil {
		h.reviewError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, campaignJSON(c))
}

type campaignCall = func(ctx context.Context, c *auth.Caller, id string) (*review.Campaign, error)

// campaignAction answers POST /api/v1/campaigns/{id}/start and /close (admins and
// auditors; no body): 200 with the campaign; 409 when its state does not allow it.
func (h *handlers) campaignAction(call func(s *review.Service) campaignCall) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var body struct{}
		if !decodeJSONBodyAs(w, r, &body, `nothing (or {})`, true) {
			return
		}
		svc, ok := h.reviewService(w)
		if !ok {
			return
		}
		c, err := call(svc)(r.Context(), auth.FromContext(r.Context()), r.PathValue("id"))
		if err != nil {
			h.reviewError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, campaignJSON(c))
	}
}

// exportFormats are the formats of an export.
var exportFormats = map[string]string{"csv": "text/csv; charset=utf-8", "json": "application/json", "html": "text/html; charset=utf-8"}

// exportCampaign downloads the campaign's evidence: every item with its decision,
// reviewer, reason, time, remediation and verification.
//
// GET /api/v1/campaigns/{id}/export?format=csv|json|html (admins and auditors): 200 with
// the file as an attachment; X-Content-SHA256 is the hex SHA-256 of the body, which the
// audit log records with the export.
func (h *handlers) exportCampaign(w http.ResponseWriter, r *http.Request) {
	format := strings.ToLower(strings.TrimSpace(r.URL.Query().Get("format")))
	if format == "" {
		format = "csv"
	}
	if _, ok := exportFormats[format]; !ok {
		badRequest(w, "format must be csv, json or html (the printable report), got "+strconv.Quote(r.URL.Query().Get("format")))
		return
	}
	svc, ok := h.reviewService(w)
	if !ok {
		return
	}
	e, err := svc.Export(r.Context(), auth.FromContext(r.Context()), r.PathValue("id"), format)
	if err != nil {
		h.reviewError(w, r, err)
		return
	}
	defer e.Close() // removes the export's temporary file
	ctype := e.ContentType
	if ctype == "" {
		ctype = exportFormats[format]
	}
	name := exportFileName(e.FileName)
	if name == "" {
		name = exportFileName("campaign-" + r.PathValue("id") + "." + format)
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("X-Content-SHA256", e.SHA256)
	w.Header().Set("Content-Length", strconv.FormatInt(e.Size, 10))
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_, _ = io.Copy(w, e.Content) // the file, not memory: a large campaign's export is hundreds of MiB
}

// exportFileName keeps the characters of an export's file name that need no quoting in a header.
func exportFileName(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			b.WriteRune(r)
		case r == ' ' || r == ':' || r == '/':
			b.WriteRune('-')
		}
	}
	return strings.Trim(b.String(), ".-")
}

// CampaignComparison is a campaign compared with the previous campaign of the same scope.
type CampaignComparison struct {
	// Previous is the previous campaign's id ("" when there is none).
	Previous string `json:"previous"`
	// New is access the previous campaign did not have; Kept access it kept that is still
	// here; Returned access it revoked that is back.
	New      []ReviewItem `json:"new"`
	Kept     []ReviewItem `json:"kept"`
	Returned []ReviewItem `json:"returned"`
}

// compareCampaign compares a campaign with the previous one of the same scope.
//
// GET /api/v1/campaigns/{id}/compare (admins and auditors): 200 {"previous", "new",
// "kept", "returned"}.
func (h *handlers) compareCampaign(w http.ResponseWriter, r *http.Request) {
	svc, ok := h.reviewService(w)
	if !ok {
		return
	}
	cmp, err := svc.Compare(r.Context(), auth.FromContext(r.Context()), r.PathValue("id"))
	if err != nil {
		h.reviewError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, CampaignComparison{Previous: cmp.Previous, New: reviewItemsJSON(cmp.New),
		Kept: reviewItemsJSON(cmp.Kept), Returned: reviewItemsJSON(cmp.Returned)})
}

var itemStates = []review.ItemState{review.ItemPending, review.ItemKept, review.ItemRevocationPending, review.ItemRemediated, review.ItemTaskOpen}

func oneOf[T comparable](v T, list []T) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// ItemFilter is the filter of a bulk decision: the same keys as the items query.
type ItemFilter struct {
	State        string `json:"state,omitempty"`
	Reviewer     string `json:"reviewer,omitempty"`
	Account      string `json:"account,omitempty"`
	Via          string `json:"via,omitempty"`
	AdminOnly    bool   `json:"admin_only,omitempty"`
	Decision     string `json:"decision,omitempty"`
	Identity     string `json:"identity,omitempty"`
	ResourceType string `json:"resource_type,omitempty"`
	Q            string `json:"q,omitempty"`
}

// query checks the filter and makes the service's query of it.
func (f ItemFilter) query() (review.ItemQuery, string) {
	q := review.ItemQuery{State: review.ItemState(strings.TrimSpace(f.State)), Reviewer: strings.TrimSpace(f.Reviewer),
		AccountID: strings.TrimSpace(f.Account), Via: strings.TrimSpace(f.Via), AdminOnly: f.AdminOnly, Decision: strings.TrimSpace(f.Decision),
		Identity: strings.TrimSpace(f.Identity), ResourceType: strings.TrimSpace(f.ResourceType), Q: strings.TrimSpace(f.Q)}
	if q.State != "" && !oneOf(q.State, itemStates) {
		return q, "state must be pending, kept, revocation_pending, remediated or task_open, got " + strconv.Quote(f.State)
	}
	switch q.Via {
	case "", review.ViaDirect, "group", "lease":
	default:
		return q, "via must be direct, group or lease, got " + strconv.Quote(f.Via)
	}
	switch q.Decision {
	case "", review.DecisionKeep, review.DecisionRevoke, "none":
	default:
		return q, "decision must be keep, revoke or none (undecided), got " + strconv.Quote(f.Decision)
	}
	return q, ""
}

// itemQuery reads the items' filters and paging from the query string.
func itemQuery(r *http.Request) (review.ItemQuery, string) {
	size, token, ok, detail := paging(r)
	if !ok {
		return review.ItemQuery{}, detail
	}
	qv := r.URL.Query()
	f := ItemFilter{State: qv.Get("state"), Reviewer: qv.Get("reviewer"), Account: qv.Get("account"), Via: qv.Get("via"),
		Decision: qv.Get("decision"), Identity: qv.Get("identity"), ResourceType: qv.Get("resource_type"), Q: qv.Get("q")}
	if f.Account == "" {
		f.Account = qv.Get("account_id")
	}
	switch s := qv.Get("admin_only"); s {
	case "", "false", "0":
	case "true", "1":
		f.AdminOnly = true
	default:
		return review.ItemQuery{}, "admin_only must be true or false, got " + strconv.Quote(s)
	}
	q, bad := f.query()
	q.Page = store.Page{Size: size, Token: token}
	return q, bad
}

// listCampaignItems lists a campaign's items the caller may see, in campaign order.
//
// GET /api/v1/campaigns/{id}/items[?state=][&reviewer=][&account=][&via=direct|group|lease]
// [&admin_only=true][&decision=keep|revoke|none][&identity=][&resource_type=][&q=]
// [&page_size=&page_token=] (admins and auditors see every item, a reviewer theirs): 200
// {"items": [item...], "next_page_token"}.
func (h *handlers) listCampaignItems(w http.ResponseWriter, r *http.Request) {
	q, bad := itemQuery(r)
	if bad != "" {
		badRequest(w, bad)
		return
	}
	svc, ok := h.reviewService(w)
	if !ok {
		return
	}
	items, next, err := svc.Items(r.Context(), auth.FromContext(r.Context()), r.PathValue("id"), q)
	if err != nil {
		h.reviewError(w, r, err)
		return
	}
	writeList(w, reviewItemsJSON(items), next)
}

// getCampaignItem shows one item with its history.
//
// GET /api/v1/campaigns/{id}/items/{item}: 200 with the item and its events; 404 when
// there is no such item or the caller may not see it.
func (h *handlers) getCampaignItem(w http.ResponseWriter, r *http.Request) {
	svc, ok := h.reviewService(w)
	if !ok {
		return
	}
	it, err := svc.Item(r.Context(), auth.FromContext(r.Context()), r.PathValue("id"), r.PathValue("item"))
	if err != nil {
		h.reviewError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, reviewItemJSON(it))
}

// DecisionBody is the body of POST .../items/{item}/decision.
type DecisionBody struct {
	// Decision is keep or revoke.
	Decision string `json:"decision"`
	// Reason is why; required to keep admin-level access.
	Reason string `json:"reason"`
}

const decisionShape = `{"decision": "keep", "reason": "still on the team"}`

func checkDecision(d string) string {
	switch d {
	case review.DecisionKeep, review.DecisionRevoke:
		return ""
	case "":
		return "decision is required: keep or revoke"
	}
	return "decision must be keep or revoke, got " + strconv.Quote(d)
}

// decideItem records the caller's decision on an item.
//
// POST /api/v1/campaigns/{id}/items/{item}/decision {"decision": "keep|revoke", "reason"}
// (the item's reviewer): 200 with the item (a revoke starts its remediation); 400 for a
// bad decision or a keep of admin-level access without a reason; 403 when the caller is
// not the item's reviewer or it is their own access; 409 when the item is already decided
// or the campaign is not active.
func (h *handlers) decideItem(w http.ResponseWriter, r *http.Request) {
	var body DecisionBody
	if !decodeJSONBodyAs(w, r, &body, decisionShape, false) {
		return
	}
	body.Decision = strings.TrimSpace(body.Decision)
	if bad := checkDecision(body.Decision); bad != "" {
		badRequest(w, bad)
		return
	}
	svc, ok := h.reviewService(w)
	if !ok {
		return
	}
	it, err := svc.Decide(r.Context(), auth.FromContext(r.Context()), r.PathValue("id"), r.PathValue("item"),
		review.DecisionInput{Decision: body.Decision, Reason: strings.TrimSpace(body.Reason)})
	if err != nil {
		h.reviewError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, reviewItemJSON(it))
}

// BulkDecisionBody is the body of POST /api/v1/campaigns/{id}/decisions.
type BulkDecisionBody struct {
	// Filter selects the items, with the keys of the items query.
	Filter   ItemFilter `json:"filter"`
	Decision string     `json:"decision"`
	Reason   string     `json:"reason"`
}

// BulkDecisionResult is what a bulk decision did.
type BulkDecisionResult struct {
	Decided int `json:"decided"`
	// Skipped are the items the filter matched that the caller may not decide, with why.
	Skipped []review.BulkSkip `json:"skipped"`
}

// decideBulk decides every item matching a filter that the caller may decide.
//
// POST /api/v1/campaigns/{id}/decisions {"filter": {"state", "reviewer", "account", "via",
// "admin_only", "decision", "identity", "resource_type", "q"}, "decision", "reason"}: 200
// {"decided", "skipped": [{"item_id", "why"}]}; 409 when the campaign is not active.
func (h *handlers) decideBulk(w http.ResponseWriter, r *http.Request) {
	var body BulkDecisionBody
	if !decodeJSONBodyAs(w, r, &body, `{"filter": {"account": "111111111111", "decision": "none"}, "decision": "revoke", "reason": "left the team"}`, false) {
		return
	}
	body.Decision = strings.TrimSpace(body.Decision)
	if bad := checkDecision(body.Decision); bad != "" {
		badRequest(w, bad)
		return
	}
	q, bad := body.Filter.query()
	if bad != "" {
		badRequest(w, "filter."+bad)
		return
	}
	svc, ok := h.reviewService(w)
	if !ok {
		return
	}
	res, err := svc.DecideBulk(r.Context(), auth.FromContext(r.Context()), r.PathValue("id"), q,
		review.DecisionInput{Decision: body.Decision, Reason: strings.TrimSpace(body.Reason)})
	if err != nil {
		h.reviewError(w, r, err)
		return
	}
	out := BulkDecisionResult{Decided: res.Decided, Skipped: res.Skipped}
	if out.Skipped == nil {
		out.Skipped = []review.BulkSkip{}
	}
	writeJSON(w, http.StatusOK, out)
}

// HandOverBody is the body of delegate and reassign.
type HandOverBody struct {
	// To is the new reviewer's email.
	To     string `json:"to"`
	Reason string `json:"reason"`
}

// handOverItem answers POST .../items/{item}/delegate (the item's reviewer hands it to
// someone else) and /reassign (admins and auditors give it to another reviewer): {"to":
// email, "reason"}: 200 with the item; 400 without to, 403, 409.
func (h *handlers) handOverItem(reassign bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var body HandOverBody
		if !decodeJSONBodyAs(w, r, &body, `{"to": "reviewer@example.com", "reason": "she owns this account now"}`, false) {
			return
		}
		to := strings.ToLower(strings.TrimSpace(body.To))
		if to == "" || !strings.Contains(to, "@") {
			badRequest(w, "to is required: the email of the person who reviews the item instead, got "+strconv.Quote(body.To))
			return
		}
		svc, ok := h.reviewService(w)
		if !ok {
			return
		}
		call := svc.Delegate
		if reassign {
			call = svc.Reassign
		}
		it, err := call(r.Context(), auth.FromContext(r.Context()), r.PathValue("id"), r.PathValue("item"), to, strings.TrimSpace(body.Reason))
		if err != nil {
			h.reviewError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, reviewItemJSON(it))
	}
}

// TaskDoneBody is the body of task_done.
type TaskDoneBody struct {
	// Note says what was done.
	Note string `json:"note"`
}

// completeItemTask marks an owner task done (the task's owner or an admin); the item stays
// task_open until a sync shows the change.
//
// POST /api/v1/campaigns/{id}/items/{item}/task_done {"note"}: 200 with the item; 403, 409
// when the item has no open task.
func (h *handlers) completeItemTask(w http.ResponseWriter, r *http.Request) {
	var body TaskDoneBody
	if !decodeJSONBodyAs(w, r, &body, `{"note": "detached the policy"}`, true) {
		return
	}
	svc, ok := h.reviewService(w)
	if !ok {
		return
	}
	it, err := svc.CompleteTask(r.Context(), auth.FromContext(r.Context()), r.PathValue("id"), r.PathValue("item"), strings.TrimSpace(body.Note))
	if err != nil {
		h.reviewError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, reviewItemJSON(it))
}
