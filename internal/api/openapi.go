package api

import (
	"encoding/json"
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/connection"
	"github.com/gatehouse/gatehouse/internal/datasource"
	"github.com/gatehouse/gatehouse/internal/problem"
)

// The OpenAPI 3 document is built from the operations below and from the Go types the
// handlers encode, by reflection, so a field added to a response is documented by the
// same change. TestOpenAPICoversEveryRoute keeps the operations and the registered
// routes in step.

// param is one parameter of an operation.
type param struct {
	Name, In, Description string
	Required              bool
}

// operation documents one route.
type operation struct {
	Method, Path, Summary string
	Access                auth.Access
	Params                []param
	// Body is the request body's type (nil: none).
	Body any
	// Status is the success status and Response its body's type (nil: no body).
	Status   int
	Response any
	// Binary says the success body is a file (application/octet-stream).
	Binary bool
	// Files are the media types of a success body that is a file in one of several
	// formats (an export).
	Files []string
	// TextBody and TextResponse are the media types of a body and a success body that are
	// text, not JSON (the rules document is YAML).
	TextBody, TextResponse string
	// Errors are the other statuses the operation answers, with when.
	Errors map[int]string
	// ErrorBodies are the types of error bodies that carry more than a Problem (each
	// status must be in Errors too).
	ErrorBodies map[int]any
}

var (
	pageSize  = param{Name: "page_size", In: "query", Description: "items per page: default 100, above 1000 is taken as 1000"}
	pageToken = param{Name: "page_token", In: "query", Description: "next_page_token of the previous page"}
	at        = param{Name: "at", In: "query", Description: "RFC 3339 time: as of then (history); default now"}
)

func pathParam(name, desc string) param {
	return param{Name: name, In: "path", Description: desc, Required: true}
}

func query(name, desc string) param { return param{Name: name, In: "query", Description: desc} }

// itemParams are the filters of review items (reviewer only for a campaign's items).
func itemParams(reviewer bool) []param {
	ps := []param{query("state", "pending, kept, revocation_pending, remediated or task_open")}
	if reviewer {
		ps = append(ps, query("reviewer", "only this reviewer's items (email; auditors and admins)"))
	}
	return append(ps, query("account", "only this account's items (account id)"), query("via", "direct, group or lease"),
		query("admin_only", "true: admin-level access only"), query("decision", "keep, revoke or none (undecided)"),
		query("identity", "only this person's items (email)"), query("resource_type", "account, sso_group, iam_group, iam_policy"),
		query("q", "search in identity, principal, entitlement and account names"), pageSize, pageToken)
}

// operations are every /api/v1 route.
var operations = []operation{
	{Method: "GET", Path: "/api/v1/me", Summary: "Who is calling, with their roles", Access: auth.SignedIn, Status: 200, Response: Me{}},

	{Method: "GET", Path: "/api/v1/syncs", Summary: "Syncs, newest first", Access: auth.Auditor,
		Params: []param{query("connection_id", "only this connection's syncs"), pageSize, pageToken}, Status: 200, Response: List[Sync]{}},
	{Method: "POST", Path: "/api/v1/syncs", Summary: "Start a sync now", Access: auth.Admin, Body: startSyncRequest{}, Status: 202, Response: Sync{},
		Errors: map[int]string{404: "no such connection", 409: "a sync of the connection is already queued or running"}},
	{Method: "GET", Path: "/api/v1/syncs/{id}", Summary: "One sync, with its progress while it runs", Access: auth.Auditor,
		Params: []param{pathParam("id", "the sync's id")}, Status: 200, Response: Sync{}, Errors: map[int]string{404: "no such sync"}},

	{Method: "GET", Path: "/api/v1/syncs/{id}/c1z", Summary: "The sync's .c1z (baton file of the organization at that sync), for gatehouse inspect or any baton tool; audited", Access: auth.Auditor,
		Params: []param{pathParam("id", "the sync's id")}, Status: 200, Binary: true, Errors: map[int]string{404: "no such sync, or its file is not kept (failed, deleted by keep_syncs, or on another replica)"}},

	{Method: "GET", Path: "/api/v1/applications", Summary: "Applications: each AWS connection (kind aws) and each application imported from files (kind file), with resource counts and last sync or import", Access: auth.Auditor,
		Status: 200, Response: List[Application]{}},
	{Method: "POST", Path: "/api/v1/applications", Summary: "Create an application whose access is imported from files", Access: auth.Admin,
		Body: ApplicationInput{}, Status: 201, Response: Application{}, Errors: map[int]string{400: "bad input (the detail says what to fix)"}},
	{Method: "GET", Path: "/api/v1/applications/{id}", Summary: "One application; a file application has its imports and last_import (state, errors, provenance)", Access: auth.Auditor,
		Params: []param{pathParam("id", "application id (the connection's id, or app_... for a file application)")}, Status: 200, Response: Application{}, Errors: map[int]string{404: "no such application"}},
	{Method: "POST", Path: "/api/v1/applications/{id}/imports", Summary: "Attach an import (a data source and a file) to a file application", Access: auth.Admin,
		Params: []param{pathParam("id", "application id (app_...)")}, Body: ImportInput{}, Status: 201, Response: Import{},
		Errors: map[int]string{400: "bad input (the detail says what to fix)", 404: "no such application"}},
	{Method: "GET", Path: "/api/v1/applications/{id}/runs", Summary: "The runs of a file application's imports, newest first", Access: auth.Auditor,
		Params: []param{pathParam("id", "application id (app_...)"), pageSize, pageToken}, Status: 200, Response: List[ImportRun]{},
		Errors: map[int]string{400: "bad page_token", 404: "no such application"}},
	{Method: "POST", Path: "/api/v1/applications/{id}/runs/{run}/approve", Summary: "Apply a held import run", Access: auth.Admin,
		Params: []param{pathParam("id", "application id (app_...)"), pathParam("run", "run id")}, Status: 200, Response: ImportRun{},
		Errors: map[int]string{404: "no such run", 409: "the run is not held, or a newer run exists"}},
	{Method: "POST", Path: "/api/v1/applications/{id}/runs/{run}/reject", Summary: "Reject a held import run: the application keeps its data", Access: auth.Admin,
		Params: []param{pathParam("id", "application id (app_...)"), pathParam("run", "run id")}, Status: 200, Response: ImportRun{},
		Errors: map[int]string{404: "no such run", 409: "the run is not held"}},

	{Method: "GET", Path: "/api/v1/resources", Summary: "Resources of the inventory, searched and paged", Access: auth.Auditor,
		Params: []param{query("type", "resource type: account, organizational_unit, iam_user, iam_group, iam_role, iam_policy, access_key, sso_user, sso_group, permission_set"),
			query("q", "case-insensitive search in name, id and email"), query("account_id", "only this account's resources"),
			query("connection_id", "only this connection's resources"), at, pageSize, pageToken}, Status: 200, Response: List[Resource]{}},
	{Method: "GET", Path: "/api/v1/resources/{type}/{id}", Summary: "One resource with its entitlements and their grants (who holds them, through what)", Access: auth.Auditor,
		Params: []param{pathParam("type", "resource type"), pathParam("id", "resource id (an ARN may contain slashes)"), at}, Status: 200, Response: ResourceDetail{},
		Errors: map[int]string{404: "no such resource (at that time)"}},
	{Method: "GET", Path: "/api/v1/entitlements/{id}", Summary: "One entitlement and who holds it (who could reach it on date D with at)", Access: auth.Auditor,
		Params: []param{pathParam("id", "entitlement id, e.g. account:222222222222:ps-0123456789abcdef"), at, pageSize, pageToken}, Status: 200, Response: EntitlementDetail{},
		Errors: map[int]string{404: "no such entitlement (at that time)"}},
	{Method: "GET", Path: "/api/v1/people", Summary: "People (identities linked by email)", Access: auth.Auditor,
		Params: []param{query("q", "search in email and name"), pageSize, pageToken}, Status: 200, Response: List[Person]{}},
	{Method: "GET", Path: "/api/v1/people/{email}", Summary: "One person and their identities (your own, or anyone's for auditors)", Access: auth.SignedIn,
		Params: []param{pathParam("email", "the person's email")}, Status: 200, Response: Person{}, Errors: map[int]string{403: "another person's page needs the auditor role", 404: "no such person"}},
	{Method: "GET", Path: "/api/v1/people/{email}/access", Summary: "Everything a person can reach, directly or through a group (your own, or anyone's for auditors)", Access: auth.SignedIn,
		Params: []param{pathParam("email", "the person's email"), at, pageSize, pageToken}, Status: 200, Response: List[Access]{},
		Errors: map[int]string{403: "another person's access needs the auditor role"}},
	{Method: "GET", Path: "/api/v1/changes", Summary: "Grants added and removed between two points in history", Access: auth.Auditor,
		Params: []param{query("from", "RFC 3339 time or a sync id (exclusive)"), query("to", "RFC 3339 time or a sync id (inclusive); default now"),
			query("account_id", "only changes in this account"), query("person", "only changes of this person (email)"), pageSize, pageToken},
		Status: 200, Response: List[Change]{}},

	{Method: "GET", Path: "/api/v1/audit", Summary: "The audit log, newest first", Access: auth.Auditor,
		Params: []param{query("actor", "who acted (email, or system)"), query("action", "exact action, or a prefix ending in a dot (sync.)"),
			query("target", "what was acted on, e.g. connection:aws"), query("from", "RFC 3339 time (inclusive)"), query("to", "RFC 3339 time (exclusive)"), pageSize, pageToken},
		Status: 200, Response: List[audit.Record]{}},

	{Method: "POST", Path: "/api/v1/evidence", Summary: "Request an evidence pack of a period and scope (built by a job); audited", Access: auth.Auditor,
		Body: EvidenceBody{}, Status: 202, Response: EvidencePack{},
		Errors: map[int]string{400: "a time that is not RFC 3339, from after to, an unknown account, OU, application or key"}},
	{Method: "GET", Path: "/api/v1/evidence", Summary: "Evidence packs, newest first (requested and scheduled)", Access: auth.Auditor,
		Params: []param{pageSize, pageToken}, Status: 200, Response: List[EvidencePack]{}},
	{Method: "GET", Path: "/api/v1/evidence/{id}", Summary: "An evidence pack: its state, summary and download link", Access: auth.Auditor,
		Params: []param{pathParam("id", "the pack's id (ev-...)")}, Status: 200, Response: EvidencePack{}, Errors: map[int]string{404: "no such pack"}},
	{Method: "GET", Path: "/api/v1/evidence/{id}/download", Summary: "The pack's ZIP, with its SHA-256 in X-Content-SHA256; audited", Access: auth.Auditor,
		Params: []param{pathParam("id", "the pack's id")}, Status: 200, Files: []string{"application/zip"},
		Errors: map[int]string{404: "no such pack", 409: "the pack is not ready, failed, or its file is not on this replica"}},
	{Method: "GET", Path: "/api/v1/evidence/{id}/summary", Summary: "The pack's printable summary (summary.html from the ZIP); audited", Access: auth.Auditor,
		Params: []param{pathParam("id", "the pack's id")}, Status: 200, TextResponse: "text/html",
		Errors: map[int]string{404: "no such pack", 409: "the pack is not ready, failed, or its file is not on this replica"}},

	{Method: "GET", Path: "/api/v1/connections", Summary: "AWS connections, secrets masked", Access: auth.Admin, Status: 200, Response: List[connectionJSON]{}},
	{Method: "POST", Path: "/api/v1/connections", Summary: "Add an AWS connection", Access: auth.Admin, Body: connection.Input{}, Status: 201, Response: connectionJSON{},
		Errors: map[int]string{400: "bad settings, with errors per field", 409: "the id is taken"}},
	{Method: "GET", Path: "/api/v1/connections/{id}", Summary: "One connection, secrets masked", Access: auth.Admin,
		Params: []param{pathParam("id", "connection id")}, Status: 200, Response: connectionJSON{}, Errors: map[int]string{404: "no such connection"}},
	{Method: "PUT", Path: "/api/v1/connections/{id}", Summary: "Replace a connection's settings (an empty secret keeps the stored one)", Access: auth.Admin,
		Params: []param{pathParam("id", "connection id")}, Body: connection.Input{}, Status: 200, Response: connectionJSON{},
		Errors: map[int]string{400: "bad settings", 404: "no such connection", 409: "the connection comes from the config file"}},
	{Method: "PATCH", Path: "/api/v1/connections/{id}", Summary: "Change some of a connection's settings", Access: auth.Admin,
		Params: []param{pathParam("id", "connection id")}, Body: connection.Input{}, Status: 200, Response: connectionJSON{},
		Errors: map[int]string{400: "bad settings", 404: "no such connection", 409: "the connection comes from the config file"}},
	{Method: "DELETE", Path: "/api/v1/connections/{id}", Summary: "Delete a connection added in the UI or API", Access: auth.Admin,
		Params: []param{pathParam("id", "connection id")}, Status: 204, Errors: map[int]string{404: "no such connection", 409: "the connection comes from the config file"}},

	{Method: "GET", Path: "/api/v1/datasources", Summary: "S3 data sources of application access files", Access: auth.Auditor, Status: 200, Response: List[datasource.Source]{}},
	{Method: "POST", Path: "/api/v1/datasources", Summary: "Add an S3 data source; Gatehouse generates its External ID once", Access: auth.Admin,
		Body: datasource.Input{}, Status: 201, Response: datasource.Source{},
		Errors: map[int]string{400: "bad settings (or an external_id, which Gatehouse generates), with errors per field", 409: "the name is taken", 503: "no data sources on this server"}},
	{Method: "GET", Path: "/api/v1/datasources/{id}", Summary: "One data source: the same external_id forever, and its last sync", Access: auth.Auditor,
		Params: []param{pathParam("id", "data source id")}, Status: 200, Response: datasource.Source{}, Errors: map[int]string{404: "no such data source", 503: "no data sources on this server"}},
	{Method: "PATCH", Path: "/api/v1/datasources/{id}", Summary: "Change some of a data source's settings (never its External ID)", Access: auth.Admin,
		Params: []param{pathParam("id", "data source id")}, Body: datasource.Input{}, Status: 200, Response: datasource.Source{},
		Errors: map[int]string{400: "bad settings, or external_id", 404: "no such data source", 409: "the name is taken", 503: "no data sources on this server"}},
	{Method: "DELETE", Path: "/api/v1/datasources/{id}", Summary: "Delete a data source (the provenance of its reads stays)", Access: auth.Admin,
		Params: []param{pathParam("id", "data source id")}, Status: 204, Errors: map[int]string{404: "no such data source", 503: "no data sources on this server"}},
	{Method: "POST", Path: "/api/v1/datasources/{id}/sync", Summary: "Read the bucket now (in the background)", Access: auth.Admin,
		Params: []param{pathParam("id", "data source id")}, Status: 202, Response: datasource.Source{}, Errors: map[int]string{404: "no such data source", 503: "no data sources on this server"}},
	{Method: "POST", Path: "/api/v1/datasources/{id}/test", Summary: "Check each permission of the data source's role; failures say what to fix", Access: auth.Admin,
		Params: []param{pathParam("id", "data source id")}, Status: 200, Response: DataSourceTest{}, Errors: map[int]string{404: "no such data source", 503: "no data sources on this server"}},
	{Method: "GET", Path: "/api/v1/datasources/{id}/reads", Summary: "Provenance of every read: key, version, ETag, size, checksum, time", Access: auth.Auditor,
		Params: []param{pathParam("id", "data source id")}, Status: 200, Response: List[datasource.Object]{}, Errors: map[int]string{404: "no such data source", 503: "no data sources on this server"}},

	{Method: "GET", Path: "/api/v1/catalog", Summary: "Just-in-time access: what you may request, with the rule that allows it and why", Access: auth.SignedIn,
		Params: []param{query("q", "search in display names, account names and ids, permission set names"), query("account_id", "only this account's entitlements"), pageSize, pageToken},
		Status: 200, Response: List[CatalogItem]{}},
	{Method: "GET", Path: "/api/v1/catalog/{id}", Summary: "One entitlement for you: requestable or not (and why), and what its permission set grants", Access: auth.SignedIn,
		Params: []param{pathParam("id", "entitlement id, e.g. account:222222222222:ps-0123456789abcdef")}, Status: 200, Response: CatalogEntry{},
		Errors: map[int]string{404: "no such entitlement"}},
	{Method: "GET", Path: "/api/v1/requests", Summary: "Requests for just-in-time access, newest first", Access: auth.SignedIn,
		Params: []param{query("scope", "mine (default: your requests), to_approve (waiting for your decision), decided (those you decided), all (auditors and admins)"),
			query("state", "only these states, separated by commas: pending_approval, approved, provisioning, active, expiring, revoked, expired, denied, cancelled, failed"),
			query("requester", "only this requester's requests (email)"), pageSize, pageToken},
		Status: 200, Response: List[Request]{}, Errors: map[int]string{403: "scope=all needs the auditor role"}},
	{Method: "POST", Path: "/api/v1/requests", Summary: "Request access (201 with the request, which goes to approval under the rule's policy)", Access: auth.SignedIn,
		Body: CreateRequestBody{}, Status: 201, Response: Request{},
		Errors: map[int]string{400: "bad input: no entitlement_id, a bad duration or one over the rule's maximum, a missing required reason", 403: "no rule lets you request it (the detail says why)", 404: "no such entitlement", 409: "you already have a request in flight for it"}},
	{Method: "GET", Path: "/api/v1/requests/{id}", Summary: "One request: its state, the lease's starts_at and ends_at, its approval steps and every transition", Access: auth.SignedIn,
		Params: []param{pathParam("id", "the request's id (req_...)")}, Status: 200, Response: Request{},
		Errors: map[int]string{404: "no such request, or not one you may see (yours, one you may decide, or any for auditors)"}},
	{Method: "POST", Path: "/api/v1/requests/{id}/approve", Summary: "Approve a request's current step (or its pending extension, or break-glass access after the fact); never your own request", Access: auth.SignedIn,
		Params: []param{pathParam("id", "the request's id")}, Body: ActionBody{}, Status: 200, Response: Request{},
		Errors: map[int]string{404: "no such request", 409: "the request is not waiting for approval (e.g. cancelled)", 403: "you may not approve it (your own request, not an approver of the current step, or approved an earlier step)"}},
	{Method: "POST", Path: "/api/v1/requests/{id}/deny", Summary: "Deny a request (one denial ends it)", Access: auth.SignedIn,
		Params: []param{pathParam("id", "the request's id")}, Body: ActionBody{}, Status: 200, Response: Request{},
		Errors: map[int]string{404: "no such request", 409: "the request is not waiting for approval", 403: "you are not an approver of its current step"}},
	{Method: "POST", Path: "/api/v1/requests/{id}/cancel", Summary: "Withdraw a request before it is active (the requester, or an admin)", Access: auth.SignedIn,
		Params: []param{pathParam("id", "the request's id")}, Body: ActionBody{}, Status: 200, Response: Request{},
		Errors: map[int]string{404: "no such request", 409: "the request is already active or final", 403: "not your request"}},
	{Method: "POST", Path: "/api/v1/requests/{id}/release", Summary: "End your active access early (the access is revoked in AWS)", Access: auth.SignedIn,
		Params: []param{pathParam("id", "the request's id")}, Body: ActionBody{}, Status: 200, Response: Request{},
		Errors: map[int]string{404: "no such request", 409: "the access is not active", 403: "not your request"}},
	{Method: "POST", Path: "/api/v1/requests/{id}/revoke", Summary: "End someone's access early (admins; the access is revoked in AWS)", Access: auth.Admin,
		Params: []param{pathParam("id", "the request's id")}, Body: ActionBody{}, Status: 200, Response: Request{},
		Errors: map[int]string{404: "no such request", 409: "the access is not active"}},
	{Method: "POST", Path: "/api/v1/requests/{id}/extend", Summary: "Ask for more time on active access; the policy says whether it needs approval again (pending_extension) or applies at once", Access: auth.SignedIn,
		Params: []param{pathParam("id", "the request's id")}, Body: ExtendBody{}, Status: 200, Response: Request{},
		Errors: map[int]string{400: "a bad duration, or one past the rule's maximum", 403: "not your request", 404: "no such request", 409: "the access is not active, or an extension is already waiting"}},
	{Method: "POST", Path: "/api/v1/requests/{id}/task_done", Summary: "Mark the open owner task of a request in an application imported from files done (its owner or an admin): a grant makes the access active at once (unverified until an import shows it); a revoke waits for an import that no longer shows the access", Access: auth.SignedIn,
		Params: []param{pathParam("id", "the request's id")}, Body: TaskDoneBody{}, Status: 200, Response: Request{},
		Errors: map[int]string{403: "not the application's owner or an admin", 404: "no such request", 409: "the request has no open task (AWS access, or the task is done already)"}},
	{Method: "GET", Path: "/api/v1/leases", Summary: "Leases of just-in-time access (yours, or everyone's for auditors)", Access: auth.SignedIn,
		Params: []param{query("scope", "mine (default) or all (auditors and admins)"), query("state", "only these states, separated by commas: pending, active, ending, ended, failed"), pageSize, pageToken},
		Status: 200, Response: List[Lease]{}, Errors: map[int]string{403: "scope=all needs the auditor role"}},
	{Method: "GET", Path: "/api/v1/rules", Summary: "The requestability rules and approval policies in force (YAML; the version in the X-Gatehouse-Rules-Version header)", Access: auth.Auditor,
		Status: 200, TextResponse: "application/yaml"},
	{Method: "PUT", Path: "/api/v1/rules", Summary: "Replace the rules and policies with a YAML document; a bad one changes nothing and every problem is listed with its line", Access: auth.Admin,
		TextBody: "application/yaml", Status: 200, Response: RulesApplied{},
		Errors: map[int]string{400: "the document has problems: each with its line, column, field and message"}, ErrorBodies: map[int]any{400: RulesRejected{}}},

	{Method: "GET", Path: "/api/v1/campaigns", Summary: "Access review campaigns, newest first (every campaign for auditors and admins; the ones you review otherwise)", Access: auth.SignedIn,
		Params: []param{query("state", "draft, active or closed"), query("q", "search in the name"), pageSize, pageToken}, Status: 200, Response: List[Campaign]{}},
	{Method: "POST", Path: "/api/v1/campaigns", Summary: "Create a draft campaign: name, scope, reviewers, due date and what happens to undecided items", Access: auth.Auditor,
		Body: CampaignBody{}, Status: 201, Response: Campaign{},
		Errors: map[int]string{400: "bad input: an unknown scope or reviewers key, a due date that is no RFC 3339 time, undecided not keep, revoke or escalate"}},
	{Method: "GET", Path: "/api/v1/campaigns/{id}", Summary: "One campaign with its progress (and progress per reviewer)", Access: auth.SignedIn,
		Params: []param{pathParam("id", "the campaign's id")}, Status: 200, Response: Campaign{}, Errors: map[int]string{404: "no such campaign, or not one you review"}},
	{Method: "PATCH", Path: "/api/v1/campaigns/{id}", Summary: "Edit a draft campaign: only the keys sent change", Access: auth.Auditor,
		Params: []param{pathParam("id", "the campaign's id")}, Body: CampaignBody{}, Status: 200, Response: Campaign{},
		Errors: map[int]string{404: "no such campaign", 409: "the campaign has started: it can no longer be edited"}},
	{Method: "POST", Path: "/api/v1/campaigns/{id}/start", Summary: "Start a campaign: freeze one item per grant in scope from the inventory, assign reviewers and notify them", Access: auth.Auditor,
		Params: []param{pathParam("id", "the campaign's id")}, Status: 200, Response: Campaign{}, Errors: map[int]string{404: "no such campaign", 409: "the campaign is not a draft"}},
	{Method: "POST", Path: "/api/v1/campaigns/{id}/close", Summary: "Close an active campaign: no more decisions (pending items stay pending and the report says so)", Access: auth.Auditor,
		Params: []param{pathParam("id", "the campaign's id")}, Status: 200, Response: Campaign{}, Errors: map[int]string{404: "no such campaign", 409: "the campaign is not active"}},
	{Method: "GET", Path: "/api/v1/campaigns/{id}/export", Summary: "The campaign's evidence as a file (CSV, JSON or a printable HTML report), with its SHA-256 in X-Content-SHA256; audited", Access: auth.Auditor,
		Params: []param{pathParam("id", "the campaign's id"), query("format", "csv (default), json or html")}, Status: 200,
		Files: []string{"text/csv", "application/json", "text/html"}, Errors: map[int]string{404: "no such campaign"}},
	{Method: "GET", Path: "/api/v1/campaigns/{id}/compare", Summary: "Compare a campaign with the previous campaign of the same scope: access new since, access kept, revoked access that is back", Access: auth.Auditor,
		Params: []param{pathParam("id", "the campaign's id")}, Status: 200, Response: CampaignComparison{}, Errors: map[int]string{404: "no such campaign"}},
	{Method: "GET", Path: "/api/v1/campaigns/{id}/items", Summary: "A campaign's items (every item for auditors and admins, yours for a reviewer), in campaign order", Access: auth.SignedIn,
		Params: append([]param{pathParam("id", "the campaign's id")}, itemParams(true)...), Status: 200, Response: List[ReviewItem]{},
		Errors: map[int]string{404: "no such campaign, or not one you review"}},
	{Method: "GET", Path: "/api/v1/campaigns/{id}/items/{item}", Summary: "One item with its context, plan, remediation and history", Access: auth.SignedIn,
		Params: []param{pathParam("id", "the campaign's id"), pathParam("item", "the item's id (it-...)")}, Status: 200, Response: ReviewItem{},
		Errors: map[int]string{404: "no such item, or not one you review"}},
	{Method: "POST", Path: "/api/v1/campaigns/{id}/items/{item}/decision", Summary: "Decide an item: keep or revoke, with a reason (required to keep admin-level access); a revoke starts its remediation", Access: auth.SignedIn,
		Params: []param{pathParam("id", "the campaign's id"), pathParam("item", "the item's id")}, Body: DecisionBody{}, Status: 200, Response: ReviewItem{},
		Errors: map[int]string{400: "decision not keep or revoke, or keeping admin-level access without a reason", 403: "you are not the item's reviewer, or it is your own access",
			404: "no such item", 409: "the item is already decided, or the campaign is not active"}},
	{Method: "POST", Path: "/api/v1/campaigns/{id}/items/{item}/delegate", Summary: "Hand an item you review to someone else (never the person whose access it is)", Access: auth.SignedIn,
		Params: []param{pathParam("id", "the campaign's id"), pathParam("item", "the item's id")}, Body: HandOverBody{}, Status: 200, Response: ReviewItem{},
		Errors: map[int]string{403: "you are not the item's reviewer, or the person is the item's identity", 404: "no such item", 409: "the item is decided, or the campaign is not active"}},
	{Method: "POST", Path: "/api/v1/campaigns/{id}/items/{item}/reassign", Summary: "Give an item to another reviewer (auditors and admins)", Access: auth.Auditor,
		Params: []param{pathParam("id", "the campaign's id"), pathParam("item", "the item's id")}, Body: HandOverBody{}, Status: 200, Response: ReviewItem{},
		Errors: map[int]string{404: "no such item", 409: "the item is decided, or the campaign is not active"}},
	{Method: "POST", Path: "/api/v1/campaigns/{id}/items/{item}/task_done", Summary: "Mark an owner task done (its owner or an admin); the item stays task_open until a sync shows the change", Access: auth.SignedIn,
		Params: []param{pathParam("id", "the campaign's id"), pathParam("item", "the item's id")}, Body: TaskDoneBody{}, Status: 200, Response: ReviewItem{},
		Errors: map[int]string{403: "not the task's owner", 404: "no such item", 409: "the item has no open task"}},
	{Method: "POST", Path: "/api/v1/campaigns/{id}/decisions", Summary: "Decide in bulk every item matching a filter that you may decide; the others are listed with why", Access: auth.SignedIn,
		Params: []param{pathParam("id", "the campaign's id")}, Body: BulkDecisionBody{}, Status: 200, Response: BulkDecisionResult{},
		Errors: map[int]string{400: "a bad filter, or decision not keep or revoke", 404: "no such campaign", 409: "the campaign is not active"}},
	{Method: "GET", Path: "/api/v1/reviews", Summary: "Your inbox: the items waiting for your decision across active campaigns, due first", Access: auth.SignedIn,
		Params: itemParams(false), Status: 200, Response: List[ReviewItem]{}},

	{Method: "GET", Path: "/api/v1/tokens", Summary: "Your API tokens (all tokens for admins with all=true)", Access: auth.SignedIn,
		Params: []param{query("all", "true: every person's tokens (admins only)"), pageSize, pageToken}, Status: 200, Response: List[Token]{}},
	{Method: "POST", Path: "/api/v1/tokens", Summary: "Create an API token acting as you; the secret is in this answer only", Access: auth.SignedIn,
		Body: CreateTokenRequest{}, Status: 201, Response: Token{}, Errors: map[int]string{400: "bad name or expires_in"}},
	{Method: "DELETE", Path: "/api/v1/tokens/{id}", Summary: "Revoke an API token (yours, or anyone's for admins)", Access: auth.SignedIn,
		Params: []param{pathParam("id", "token id")}, Status: 200, Response: Token{}, Errors: map[int]string{404: "no such token of yours", 409: "already revoked"}},
}

var (
	specOnce sync.Once
	specJSON []byte
)

// openAPI serves the document. It is public: it describes the API, not its data.
func openAPI(w http.ResponseWriter, r *http.Request) {
	specOnce.Do(func() { specJSON, _ = json.MarshalIndent(Spec(), "", "  ") })
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(specJSON)
}

func init() {
	registrations = append(registrations, func(r *auth.Router, h *handlers) {
		r.HandleFunc("GET", "/api/v1/openapi.json", auth.Public, openAPI)
	})
}

// Spec is the OpenAPI 3 document of the API.
func Spec() map[string]any {
	schemas := map[string]any{}
	paths := map[string]map[string]any{}
	for _, op := range operations {
		path := op.Path
		o := map[string]any{
			"summary":     op.Summary,
			"operationId": operationID(op),
			"description": "Requires: " + accessText(op.Access) + ".",
		}
		if op.Access != auth.Public {
			o["security"] = []map[string][]string{{"bearer": {}}, {"session": {}}}
		}
		var params []map[string]any
		for _, p := range op.Params {
			params = append(params, map[string]any{"name": p.Name, "in": p.In, "description": p.Description, "required": p.Required, "schema": map[string]string{"type": "string"}})
		}
		if params != nil {
			o["parameters"] = params
		}
		if op.TextBody != "" {
			o["requestBody"] = map[string]any{"required": true, "content": map[string]any{op.TextBody: map[string]any{"schema": map[string]string{"type": "string"}}}}
		}
		if op.Body != nil {
			o["requestBody"] = map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": schemaOf(reflect.TypeOf(op.Body), schemas)}}}
		}
		responses := map[string]any{}
		ok := map[string]any{"description": http.StatusText(op.Status)}
		if op.Binary {
			ok["content"] = map[string]any{"application/octet-stream": map[string]any{"schema": map[string]string{"type": "string", "format": "binary"}}}
		}
		if len(op.Files) > 0 {
			content := map[string]any{}
			for _, m := range op.Files {
				content[m] = map[string]any{"schema": map[string]string{"type": "string", "format": "binary"}}
			}
			ok["content"] = content
			ok["headers"] = map[string]any{
				"Content-Disposition": map[string]any{"description": "attachment, with the file's name", "schema": map[string]string{"type": "string"}},
				"X-Content-SHA256":    map[string]any{"description": "hex SHA-256 of the body, as the audit log records it", "schema": map[string]string{"type": "string"}},
			}
		}
		if op.TextResponse != "" {
			ok["content"] = map[string]any{op.TextResponse: map[string]any{"schema": map[string]string{"type": "string"}}}
		}
		if op.Response != nil {
			ok["content"] = map[string]any{"application/json": map[string]any{"schema": schemaOf(reflect.TypeOf(op.Response), schemas)}}
		}
		responses[itoa(op.Status)] = ok
		problemRef := map[string]any{"application/problem+json": map[string]any{"schema": map[string]string{"$ref": "#/components/schemas/Problem"}}}
		errs := map[int]string{}
		for k, v := range op.Errors {
			errs[k] = v
		}
		if len(op.Params) > 0 || op.Body != nil || op.TextBody != "" {
			if _, set := errs[400]; !set {
				errs[400] = "bad input: the detail says what to fix"
			}
		}
		if op.Access != auth.Public {
			errs[401] = "no credential, or a bad one"
		}
		if op.Access == auth.Auditor || op.Access == auth.Admin {
			errs[403] = "needs the " + op.Access.String() + " role"
		}
		for code, when := range errs {
			responses[itoa(code)] = map[string]any{"description": when, "content": problemRef}
		}
		for code, t := range op.ErrorBodies {
			responses[itoa(code)].(map[string]any)["content"] = map[string]any{"application/problem+json": map[string]any{"schema": schemaOf(reflect.TypeOf(t), schemas)}}
		}
		o["responses"] = responses
		if paths[path] == nil {
			paths[path] = map[string]any{}
		}
		paths[path][strings.ToLower(op.Method)] = o
	}
	schemaOf(reflect.TypeOf(problem.Problem{}), schemas) // registers "Problem"
	return map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{
			"title":   "Gatehouse API",
			"version": "1",
			"description": "Who can reach what across an AWS organization, and how that changed. " +
				"Authenticate with an API token (gatehouse token create) as Authorization: Bearer, or a browser session. " +
				"Lists answer {items, next_page_token}; errors are RFC 9457 problem documents; times are RFC 3339 in UTC.",
		},
		"paths": paths,
		"components": map[string]any{
			"schemas": schemas,
			"securitySchemes": map[string]any{
				"bearer":  map[string]string{"type": "http", "scheme": "bearer"},
				"session": map[string]string{"type": "apiKey", "in": "cookie", "name": "gatehouse_session"},
			},
		},
	}
}

func accessText(a auth.Access) string {
	switch a {
	case auth.Public:
		return "nothing (public)"
	case auth.SignedIn:
		return "any signed-in caller"
	default:
		return "the " + a.String() + " role (admins have every role)"
	}
}

func operationID(op operation) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(op.Method))
	for _, part := range strings.Split(strings.TrimPrefix(op.Path, "/api/v1/"), "/") {
		part = strings.Trim(part, "{}")
		for _, w := range strings.Split(part, "_") {
			if w != "" {
				b.WriteString(strings.ToUpper(w[:1]) + w[1:])
			}
		}
	}
	return b.String()
}

func itoa(n int) string { return strconv.Itoa(n) }

// schemaOf returns the JSON schema of t (named structs become components).
func schemaOf(t reflect.Type, schemas map[string]any) any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return map[string]string{"type": "string"}
	case reflect.Bool:
		return map[string]string{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]string{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]string{"type": "number"}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 { // json.RawMessage: any JSON value
			return map[string]any{}
		}
		return map[string]any{"type": "array", "items": schemaOf(t.Elem(), schemas)}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": schemaOf(t.Elem(), schemas)}
	case reflect.Interface:
		return map[string]any{}
	case reflect.Struct:
		name := schemaName(t)
		if _, done := schemas[name]; !done {
			schemas[name] = nil // placeholder against recursion
			props := map[string]any{}
			var required []string
			addFields(t, props, &required, schemas)
			sort.Strings(required)
			s := map[string]any{"type": "object", "properties": props}
			if len(required) > 0 {
				s["required"] = required
			}
			schemas[name] = s
		}
		return map[string]string{"$ref": "#/components/schemas/" + name}
	}
	return map[string]any{}
}

func addFields(t reflect.Type, props map[string]any, required *[]string, schemas map[string]any) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				addFields(ft, props, required, schemas)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		s := schemaOf(f.Type, schemas)
		if f.Type.Kind() == reflect.Pointer {
			s = map[string]any{"allOf": []any{s}, "nullable": true}
		}
		props[name] = s
		if !strings.Contains(opts, "omitempty") && f.Type.Kind() != reflect.Pointer {
			*required = append(*required, name)
		}
	}
}

// schemaName names a struct's schema: List[T] becomes TList, unexported names are
// capitalised, the JSON suffix dropped.
func schemaName(t reflect.Type) string {
	n := t.Name()
	if i := strings.Index(n, "["); i >= 0 {
		// List[github.com/.../internal/<pkg>.<Type>]
		inner := n[i+1 : len(n)-1]
		pkg, typ := "", inner
		if j := strings.LastIndex(inner, "."); j >= 0 {
			pkg, typ = inner[:j], inner[j+1:]
			pkg = pkg[strings.LastIndex(pkg, "/")+1:]
		}
		name := strings.TrimSuffix(exportName(typ), "JSON")
		if pkg != "" && pkg != "api" {
			name = exportName(pkg) + name
		}
		return name + "List"
	}
	n = strings.TrimSuffix(n, "JSON")
	if t.PkgPath() != "" && !strings.HasSuffix(t.PkgPath(), "/api") {
		pkg := t.PkgPath()[strings.LastIndex(t.PkgPath(), "/")+1:]
		if strings.EqualFold(pkg, n) { // problem.Problem
			return exportName(n)
		}
		return exportName(pkg) + exportName(n)
	}
	return exportName(n)
}

func exportName(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
