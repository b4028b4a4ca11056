package web

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/access"
	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/jit"
	"github.com/gatehouse/gatehouse/internal/store"
)

// The just-in-time access pages (catalog.go, requests.go, approvals.go, leases.go,
// rules.go) call jit.Service through jitAPI: the service decides who may see and do what,
// the pages only offer the buttons the viewer may use and show the service's refusals
// (*jit.Error) as they are, with the status they carry.

// jitAPI is the part of *jit.Service the pages use.
type jitAPI interface {
	Catalog(ctx context.Context, c *auth.Caller, q jit.CatalogQuery) ([]jit.CatalogItem, string, error)
	Entry(ctx context.Context, c *auth.Caller, entitlementID string) (*jit.CatalogEntry, error)
	Create(ctx context.Context, c *auth.Caller, in jit.CreateInput) (*jit.Request, error)
	Get(ctx context.Context, c *auth.Caller, id string) (*jit.Request, error)
	List(ctx context.Context, c *auth.Caller, f jit.ListFilter) ([]jit.Request, string, error)
	Approve(ctx context.Context, c *auth.Caller, id, reason string) (*jit.Request, error)
	Deny(ctx context.Context, c *auth.Caller, id, reason string) (*jit.Request, error)
	Cancel(ctx context.Context, c *auth.Caller, id, reason string) (*jit.Request, error)
	Release(ctx context.Context, c *auth.Caller, id, reason string) (*jit.Request, error)
	Revoke(ctx context.Context, c *auth.Caller, id, reason string) (*jit.Request, error)
	Extend(ctx context.Context, c *auth.Caller, id string, d time.Duration, reason string) (*jit.Request, error)
	MarkTaskDone(ctx context.Context, c *auth.Caller, id, note string) (*jit.Request, error)
	Leases(ctx context.Context, c *auth.Caller, f jit.LeaseFilter) ([]jit.Lease, string, error)
	Rules(ctx context.Context) ([]byte, int64, error)
	ApplyRules(ctx context.Context, c *auth.Caller, doc []byte) (int64, error)
}

var _ jitAPI = (*jit.Service)(nil)

func init() {
	registrations = append(registrations, func(r *auth.Router, h *handlers) {
		r.HandleFunc("GET", "/requests", auth.SignedIn, h.myRequests)
		r.HandleFunc("GET", "/requests/new", auth.SignedIn, h.newRequest)
		r.HandleFunc("POST", "/requests", auth.SignedIn, h.createRequest)
		r.HandleFunc("GET", "/requests/{id}", auth.SignedIn, h.requestPage)
		r.HandleFunc("GET", "/requests/{id}/status", auth.SignedIn, h.requestStatus)
		r.HandleFunc("POST", "/requests/{id}/{action}", auth.SignedIn, h.requestAction)
	})
}

// jitService is the service, or nil after answering that this server has none.
func (h *handlers) jitService(w http.ResponseWriter, r *http.Request) jitAPI {
	if h.jit == nil {
		h.errorPage(w, r, http.StatusServiceUnavailable, "Access requests are not available",
			"This server was started without just-in-time access. Run gatehouse serve with its background jobs.")
		return nil
	}
	return h.jit
}

// jitError answers err from the service: a refusal (*jit.Error) with its status and detail,
// anything else as a server error.
func (h *handlers) jitError(w http.ResponseWriter, r *http.Request, err error) {
	var e *jit.Error
	if !errors.As(err, &e) {
		if errors.Is(err, store.ErrBadPageToken) {
			h.badRequest(w, r, "That page no longer exists: start again from the first page.")
			return
		}
		h.serverError(w, r, err)
		return
	}
	status, heading := e.Code.Status(), e.Code.Heading()
	h.errorPage(w, r, status, heading, sentence(e.Detail))
}

// sentence starts s with a capital letter and ends it with a full stop.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") && !strings.HasSuffix(s, "?") && !strings.HasSuffix(s, "!") {
		s += "."
	}
	return s
}

// requestView is a request as one viewer sees it: which buttons they may use.
type requestView struct {
	*jit.Request
	viewer *auth.Caller
}

func viewRequests(list []jit.Request, c *auth.Caller) []requestView {
	out := make([]requestView, len(list))
	for i := range list {
		out[i] = requestView{Request: &list[i], viewer: c}
	}
	return out
}

// URL is the request's page.
func (v requestView) URL() string { return "/requests/" + escapeID(v.ID) }

// Mine says whether the viewer made the request.
func (v requestView) Mine() bool {
	return v.viewer != nil && strings.EqualFold(v.viewer.Email, v.Requester)
}

// CurrentStep is the approval step that waits for a decision, nil when none does.
func (v requestView) CurrentStep() *jit.StepStatus {
	for i := range v.Steps {
		if v.Steps[i].State == "waiting" {
			return &v.Steps[i]
		}
	}
	return nil
}

// decided says whether the viewer already decided in step s.
func (v requestView) decided(s *jit.StepStatus) bool {
	for _, d := range s.Approvals {
		if strings.EqualFold(d.By, v.viewer.Email) {
			return true
		}
	}
	return false
}

// Deciding is what an approval by the viewer would decide now: "request" (the waiting step
// of a pending request), "extension" (more time the requester asked for), "review" (the
// after-the-fact review of break-glass access), or "" when the viewer has nothing to decide.
// It mirrors the service's rules (jit.Service.Approve), which have the last word.
func (v requestView) Deciding() string {
	if v.viewer == nil || v.Mine() {
		return ""
	}
	switch {
	case v.State == jit.StatePendingApproval:
		if s := v.CurrentStep(); s != nil && containsFold(s.Approvers, v.viewer.Email) && !v.decided(s) {
			return "request"
		}
	case v.PendingExtension != nil && v.State == jit.StateActive:
		if v.viewer.IsAdmin() || v.approverOfAny() {
			return "extension"
		}
	case v.BreakGlass && v.ReviewedBy == "":
		if v.viewer.IsAdmin() || v.approverOfAny() {
			return "review"
		}
	}
	return ""
}

// CanDecide says whether the viewer may approve (or deny) something of the request now.
func (v requestView) CanDecide() bool { return v.Deciding() != "" }

// approverOfAny says whether the viewer is an approver of any step of the request, its
// fallback approvers included.
func (v requestView) approverOfAny() bool {
	for _, s := range v.Steps {
		if containsFold(s.Approvers, v.viewer.Email) || containsFold(s.Fallback, v.viewer.Email) {
			return true
		}
	}
	return false
}

// CanCancel: the requester (or an admin) before the access is active.
func (v requestView) CanCancel() bool {
	return (v.Mine() || v.viewer.IsAdmin()) && (v.State == jit.StatePendingApproval || v.State == jit.StateApproved)
}

// CanRelease: the requester, while the access is active or being granted.
func (v requestView) CanRelease() bool {
	return v.Mine() && (v.State == jit.StateActive || v.State == jit.StateProvisioning)
}

// CanExtend: the requester, while active and no extension waits already.
func (v requestView) CanExtend() bool {
	return v.Mine() && v.State == jit.StateActive && v.PendingExtension == nil
}

// CanRevoke: admins, while the access is active or being granted.
func (v requestView) CanRevoke() bool {
	return v.viewer.IsAdmin() && (v.State == jit.StateActive || v.State == jit.StateProvisioning)
}

// AppAccess says the request is for an application imported from files: its owner grants
// and revokes by hand, and imports show it (the page says what that means for the end).
func (v requestView) AppAccess() bool { return v.Target.Kind == jit.KindAppGrant }

// CanMarkTaskDone: the task's owner or an admin, while the owner's task is open.
func (v requestView) CanMarkTaskDone() bool {
	return v.Task != nil && v.Task.State == "open" && (strings.EqualFold(v.viewer.Email, v.Task.Owner) || v.viewer.IsAdmin())
}

// Live says whether the request can still change by itself (the page polls its status).
func (v requestView) Live() bool { return !v.State.Final() }

// Ends is when the access ends: the lease's end, or nil before it started.
func (v requestView) Ends() *time.Time {
	if v.EndsAt != nil {
		return v.EndsAt
	}
	if v.Lease != nil && !v.Lease.EndsAt.IsZero() && v.Lease.StartsAt != nil {
		return &v.Lease.EndsAt
	}
	return nil
}

// Starts is when the access started, nil before.
func (v requestView) Starts() *time.Time {
	if v.StartsAt != nil {
		return v.StartsAt
	}
	if v.Lease != nil {
		return v.Lease.StartsAt
	}
	return nil
}

// StateLabel is the state as people read it ("pending approval").
func (v requestView) StateLabel() string { return stateLabel(v.State) }

func stateLabel(s jit.State) string { return strings.ReplaceAll(string(s), "_", " ") }

func containsFold(list []string, s string) bool {
	return slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, s) })
}

// countdown is the time left until t, as a running clock reads it: "1h 04m 09s",
// "4m 09s", "9s"; "ended" once t has passed.
func countdown(t time.Time) string {
	d := t.Sub(now()).Round(time.Second)
	if d <= 0 {
		return "ended"
	}
	h, m, s := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	switch {
	case h > 0:
		return itoa(h) + "h " + pad2(m) + "m " + pad2(s) + "s"
	case m > 0:
		return itoa(m) + "m " + pad2(s) + "s"
	}
	return itoa(s) + "s"
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}

func pad2(n int) string {
	if n < 10 {
		return "0" + itoa(n)
	}
	return itoa(n)
}

// ---- My requests ----

// myRequestsData is "My requests": the caller's active access and their requests.
type myRequestsData struct {
	Leases   []leaseView
	Requests []requestView
	More     string
	Flash    string
}

// myRequests lists the caller's requests, newest first, with their active access above.
func (h *handlers) myRequests(w http.ResponseWriter, r *http.Request) {
	svc := h.jitService(w, r)
	if svc == nil {
		return
	}
	c := auth.FromContext(r.Context())
	token := r.URL.Query().Get("page_token")
	list, next, err := svc.List(r.Context(), c, jit.ListFilter{Scope: "mine", Page: store.Page{Size: listPageSize, Token: token}})
	if err != nil {
		h.jitError(w, r, err)
		return
	}
	d := myRequestsData{Requests: viewRequests(list, c)}
	if next != "" {
		d.More = withQuery(r.URL.RequestURI(), "page_token", next)
	}
	p := page{Title: "My requests", Section: "requests", Data: d}
	if isHTMX(r) && token != "" {
		h.renderFragment(w, r, "requests", "rows", p)
		return
	}
	leases, err := h.activeLeases(r.Context(), svc, c, "mine")
	if err != nil {
		h.jitError(w, r, err)
		return
	}
	d.Leases = leases
	p.Data = d
	h.render(w, r, http.StatusOK, "requests", p)
}

// ---- The request form ----

// requestForm is the form to request one entitlement.
type requestForm struct {
	Entry *jit.CatalogEntry
	// Durations are the choices, within the rule's bounds; Duration the one chosen.
	Durations []durationChoice
	Duration  string
	Reason    string
	// BreakGlass is the emergency checkbox (shown where the rule allows break-glass).
	BreakGlass bool
	// Errors are the problems by field ("duration", "reason", "" for the form).
	Errors map[string]string
}

// durationChoice is one option of the duration picker.
type durationChoice struct{ Value, Label string }

// durationSteps are the durations the picker offers, kept within the rule's bounds.
var durationSteps = []time.Duration{
	time.Minute, 5 * time.Minute, 15 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour,
	4 * time.Hour, 8 * time.Hour, 12 * time.Hour, 24 * time.Hour, 3 * 24 * time.Hour, 7 * 24 * time.Hour,
}

// durationChoices are the picker's options for a rule: the steps from the minimum up to
// the maximum, and the default and the maximum themselves.
func durationChoices(def, max time.Duration) []durationChoice {
	var ds []time.Duration
	for _, d := range durationSteps {
		if d >= access.MinDuration && d <= max {
			ds = append(ds, d)
		}
	}
	for _, d := range []time.Duration{def, max} {
		if d > 0 && !slices.Contains(ds, d) {
			ds = append(ds, d)
		}
	}
	slices.Sort(ds)
	out := make([]durationChoice, len(ds))
	for i, d := range ds {
		out[i] = durationChoice{Value: access.FormatDuration(d), Label: durationLabel(d)}
	}
	return out
}

// durationLabel reads a duration as people say it: "30 minutes", "1 hour", "1 hour 30 minutes".
func durationLabel(d time.Duration) string {
	unit := func(n int, one string) string {
		if n == 1 {
			return "1 " + one
		}
		return itoa(n) + " " + one + "s"
	}
	var parts []string
	if days := int(d / (24 * time.Hour)); days > 0 && d%(24*time.Hour) == 0 {
		return unit(days, "day")
	}
	if h := int(d / time.Hour); h > 0 {
		parts = append(parts, unit(h, "hour"))
	}
	if m := int(d/time.Minute) % 60; m > 0 {
		parts = append(parts, unit(m, "minute"))
	}
	if s := int(d/time.Second) % 60; s > 0 || len(parts) == 0 {
		parts = append(parts, unit(s, "second"))
	}
	return strings.Join(parts, " ")
}

// newRequest shows the form for the entitlement named by ?entitlement=.
func (h *handlers) newRequest(w http.ResponseWriter, r *http.Request) {
	svc := h.jitService(w, r)
	if svc == nil {
		return
	}
	id := r.URL.Query().Get("entitlement")
	if id == "" {
		h.badRequest(w, r, "Choose what to request in the catalog first.")
		return
	}
	e, err := svc.Entry(r.Context(), auth.FromContext(r.Context()), id)
	if err != nil {
		h.jitError(w, r, err)
		return
	}
	f := requestForm{Entry: e}
	if e.Requestable {
		f.Duration = access.FormatDuration(e.Item.DefaultDuration)
	}
	h.renderRequestForm(w, r, http.StatusOK, f)
}

func (h *handlers) renderRequestForm(w http.ResponseWriter, r *http.Request, status int, f requestForm) {
	if f.Entry.Requestable {
		f.Durations = durationChoices(f.Entry.Item.DefaultDuration, f.Entry.Item.MaxDuration)
		if f.Duration != "" && !slices.ContainsFunc(f.Durations, func(c durationChoice) bool { return c.Value == f.Duration }) {
			// Keep what was sent selectable, so that the error beside it makes sense.
			f.Durations = append(f.Durations, durationChoice{Value: f.Duration, Label: f.Duration})
		}
	}
	h.render(w, r, status, "request_new", page{Title: "Request " + f.Entry.Item.DisplayName, Section: "catalog", Data: f})
}

// createRequest checks the form against the rule's terms (problems shown beside their
// field), then asks the service to make the request and shows it.
func (h *handlers) createRequest(w http.ResponseWriter, r *http.Request) {
	svc := h.jitService(w, r)
	if svc == nil {
		return
	}
	c := auth.FromContext(r.Context())
	id := r.PostFormValue("entitlement")
	e, err := svc.Entry(r.Context(), c, id)
	if err != nil {
		h.jitError(w, r, err)
		return
	}
	f := requestForm{Entry: e, Duration: strings.TrimSpace(r.PostFormValue("duration")), Reason: strings.TrimSpace(r.PostFormValue("reason")),
		BreakGlass: r.PostFormValue("break_glass") == "on", Errors: map[string]string{}}
	if !e.Requestable {
		f.Errors[""] = sentence(e.NotRequestableWhy)
		h.renderRequestForm(w, r, http.StatusForbidden, f)
		return
	}
	var d time.Duration
	if f.Duration != "" {
		d, err = time.ParseDuration(f.Duration)
		switch {
		case err != nil:
			f.Errors["duration"] = "Give a duration such as 30m, 1h or 1h30m."
		case d < access.MinDuration:
			f.Errors["duration"] = "At least " + durationLabel(access.MinDuration) + "."
		case d > e.Item.MaxDuration:
			f.Errors["duration"] = "At most " + durationLabel(e.Item.MaxDuration) + ": rule " + e.Item.Rule + " allows no more."
		}
	}
	switch {
	case f.BreakGlass && !e.Item.BreakGlass:
		f.Errors[""] = "Rule " + e.Item.Rule + " does not allow break-glass access: request it for approval."
	case f.Reason == "" && f.BreakGlass:
		f.Errors["reason"] = "Say what the emergency is: break-glass access needs a reason."
	case f.Reason == "" && e.Item.ReasonRequired:
		f.Errors["reason"] = "Say why you need this access: rule " + e.Item.Rule + " asks for a reason."
	}
	if len(f.Errors) > 0 {
		h.renderRequestForm(w, r, http.StatusUnprocessableEntity, f)
		return
	}
	req, err := svc.Create(r.Context(), c, jit.CreateInput{EntitlementID: id, Duration: d, Reason: f.Reason, BreakGlass: f.BreakGlass})
	var je *jit.Error
	if errors.As(err, &je) && (je.Code == jit.CodeInvalid || je.Code == jit.CodeForbidden || je.Code == jit.CodeConflict) {
		// The service's own check (the rules may have changed since the page was shown).
		field := ""
		switch low := strings.ToLower(je.Detail); {
		case strings.Contains(low, "duration"):
			field = "duration"
		case strings.Contains(low, "reason"):
			field = "reason"
		}
		f.Errors[field] = sentence(je.Detail)
		h.renderRequestForm(w, r, int(je.Code), f)
		return
	}
	if err != nil {
		h.jitError(w, r, err)
		return
	}
	http.Redirect(w, r, "/requests/"+escapeID(req.ID)+"?done=created", http.StatusSeeOther)
}

// ---- One request ----

// requestData is a request's page.
type requestData struct {
	R     requestView
	Flash string
	// Extensions are the extend picker's choices.
	Extensions []durationChoice
}

// flashes are the notices after an action, by the ?done= value.
var flashes = map[string]string{
	"created":   "Request sent. This page follows it as it is decided and granted.",
	"approved":  "You approved the request.",
	"denied":    "You denied the request.",
	"cancel":    "The request is cancelled.",
	"release":   "You released the access. It is being removed in AWS.",
	"revoke":    "The access is revoked. It is being removed in AWS.",
	"extend":    "Extension asked for: the lease's end moves once it is approved.",
	"extended":  "The lease is extended: its new end is below.",
	"task_done": "The task is marked done. The next import of the application confirms it.",
}

func (h *handlers) loadRequest(w http.ResponseWriter, r *http.Request, svc jitAPI) (requestView, bool) {
	c := auth.FromContext(r.Context())
	req, err := svc.Get(r.Context(), c, r.PathValue("id"))
	if err != nil {
		h.jitError(w, r, err)
		return requestView{}, false
	}
	return requestView{Request: req, viewer: c}, true
}

// requestPage shows a request: its state, its lease with a live countdown, every
// transition, the approval steps, and the buttons the viewer may use.
func (h *handlers) requestPage(w http.ResponseWriter, r *http.Request) {
	svc := h.jitService(w, r)
	if svc == nil {
		return
	}
	v, ok := h.loadRequest(w, r, svc)
	if !ok {
		return
	}
	d := requestData{R: v, Flash: flashes[r.URL.Query().Get("done")]}
	if v.CanExtend() {
		// The extra time is bounded by the rule's maximum, as the request's own time was.
		max := v.Duration
		if e, err := svc.Entry(r.Context(), v.viewer, v.Target.EntitlementID); err == nil && e.Requestable {
			max = e.Item.MaxDuration
		}
		d.Extensions = durationChoices(0, max)
	}
	h.render(w, r, http.StatusOK, "request", page{Title: v.Target.DisplayName, Section: "requests", Data: d})
}

// requestStatus is the status card that the request page polls. When the state is no
// longer the one the page shows (?state=), the page reloads whole: the transitions and
// the buttons change with it.
func (h *handlers) requestStatus(w http.ResponseWriter, r *http.Request) {
	svc := h.jitService(w, r)
	if svc == nil {
		return
	}
	v, ok := h.loadRequest(w, r, svc)
	if !ok {
		return
	}
	if shown := r.URL.Query().Get("state"); shown != "" && shown != string(v.State) {
		w.Header().Set("HX-Refresh", "true")
	}
	h.renderFragment(w, r, "request", "status", page{Data: requestData{R: v}})
}

// requestAction runs one button of the request page: approve, deny, cancel, release,
// revoke, extend. Each is a same-origin POST (the server's cross-origin protection refuses
// others); the service checks that the caller may.
func (h *handlers) requestAction(w http.ResponseWriter, r *http.Request) {
	svc := h.jitService(w, r)
	if svc == nil {
		return
	}
	c := auth.FromContext(r.Context())
	id := r.PathValue("id")
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	var err error
	done := r.PathValue("action")
	switch done {
	case "approve":
		_, err = svc.Approve(r.Context(), c, id, reason)
		done = "approved"
	case "deny":
		_, err = svc.Deny(r.Context(), c, id, reason)
		done = "denied"
	case "cancel":
		_, err = svc.Cancel(r.Context(), c, id, reason)
	case "release":
		_, err = svc.Release(r.Context(), c, id, reason)
	case "revoke":
		_, err = svc.Revoke(r.Context(), c, id, reason)
	case "task_done":
		_, err = svc.MarkTaskDone(r.Context(), c, id, reason)
	case "extend":
		d, perr := time.ParseDuration(strings.TrimSpace(r.PostFormValue("duration")))
		if perr != nil || d <= 0 {
			h.badRequest(w, r, "Give the extra time as a duration such as 30m or 1h.")
			return
		}
		var req *jit.Request
		req, err = svc.Extend(r.Context(), c, id, d, reason)
		if err == nil && req != nil && req.PendingExtension == nil {
			done = "extended" // the policy extends at once
		}
	default:
		h.notFound(w, r)
		return
	}
	if err != nil {
		h.jitError(w, r, err)
		return
	}
	back := "/requests/" + escapeID(id)
	if next := r.PostFormValue("next"); strings.HasPrefix(next, "/") && !strings.HasPrefix(next, "//") {
		back = next
	}
	http.Redirect(w, r, withQuery(back, "done", done), http.StatusSeeOther)
}

func init() {
	funcs["countdown"] = func(t any) string {
		if x, ok := anyTime(t); ok {
			return countdown(x)
		}
		return ""
	}
	funcs["isoAny"] = func(t any) string {
		if x, ok := anyTime(t); ok {
			return isoTime(x)
		}
		return ""
	}
	funcs["stateLabel"] = func(s any) string { return strings.ReplaceAll(fmtString(s), "_", " ") }
	funcs["durationLabel"] = durationLabel
	funcs["leaseEnd"] = leaseEnd
}

// fmtString is a state (a jit.State, a jit.LeaseState or a string) as a string.
func fmtString(s any) string {
	switch x := s.(type) {
	case jit.State:
		return string(x)
	case jit.LeaseState:
		return string(x)
	case string:
		return x
	}
	return ""
}

// anyTime is t (a time.Time or a non-nil *time.Time).
func anyTime(t any) (time.Time, bool) {
	switch x := t.(type) {
	case time.Time:
		return x, !x.IsZero()
	case *time.Time:
		if x != nil {
			return *x, true
		}
	}
	return time.Time{}, false
}
