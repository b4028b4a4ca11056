package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/review"
	"github.com/gatehouse/gatehouse/internal/store"
)

// The access review pages (reviews.go: the reviewer's inbox, one item, the decisions;
// campaigns.go: the campaign dashboard and a campaign's page) call review.Service through
// reviewAPI. As with just-in-time access, the service decides who may see and decide what:
// the pages offer the buttons the viewer may plausibly use and show the service's refusals
// (*review.Error) as they are, with their status.

// reviewAPI is the part of *review.Service the pages use.
type reviewAPI interface {
	CreateCampaign(ctx context.Context, c *auth.Caller, in review.CampaignInput) (*review.Campaign, error)
	Campaign(ctx context.Context, c *auth.Caller, id string) (*review.Campaign, error)
	Campaigns(ctx context.Context, c *auth.Caller, q review.CampaignQuery) ([]review.Campaign, string, error)
	Start(ctx context.Context, c *auth.Caller, id string) (*review.Campaign, error)
	Close(ctx context.Context, c *auth.Caller, id string) (*review.Campaign, error)
	Items(ctx context.Context, c *auth.Caller, campaignID string, q review.ItemQuery) ([]review.Item, string, error)
	Item(ctx context.Context, c *auth.Caller, campaignID, itemID string) (*review.Item, error)
	Inbox(ctx context.Context, c *auth.Caller, q review.ItemQuery) ([]review.Item, string, error)
	Decide(ctx context.Context, c *auth.Caller, campaignID, itemID string, in review.DecisionInput) (*review.Item, error)
	DecideBulk(ctx context.Context, c *auth.Caller, campaignID string, q review.ItemQuery, in review.DecisionInput) (*review.BulkResult, error)
	Delegate(ctx context.Context, c *auth.Caller, campaignID, itemID, to, reason string) (*review.Item, error)
	Reassign(ctx context.Context, c *auth.Caller, campaignID, itemID, to, reason string) (*review.Item, error)
	Export(ctx context.Context, c *auth.Caller, campaignID, format string) (*review.Export, error)
	Compare(ctx context.Context, c *auth.Caller, campaignID string) (*review.Comparison, error)
	CompleteTask(ctx context.Context, c *auth.Caller, campaignID, itemID, note string) (*review.Item, error)
}

var _ reviewAPI = (*review.Service)(nil)

func init() {
	registrations = append(registrations, func(r *auth.Router, h *handlers) {
		r.HandleFunc("GET", "/reviews", auth.SignedIn, h.inbox)
		r.HandleFunc("POST", "/reviews/decide", auth.SignedIn, h.inboxBulk)
		r.HandleFunc("GET", "/campaigns/{id}/items/{item}", auth.SignedIn, h.itemPage)
		r.HandleFunc("POST", "/campaigns/{id}/items/{item}/{action}", auth.SignedIn, h.itemAction)
	})
	funcs["itemTone"] = itemTone
	funcs["triState"] = triState
}

// reviewService is the service, or nil after answering that this server has none.
func (h *handlers) reviewService(w http.ResponseWriter, r *http.Request) reviewAPI {
	if h.reviews == nil {
		h.errorPage(w, r, http.StatusServiceUnavailable, "Access reviews are not available",
			"This server was started without access reviews. Run gatehouse serve with its background jobs.")
		return nil
	}
	return h.reviews
}

// reviewError answers err from the service: a refusal (*review.Error) with its status and
// detail; a part of the service this build does not have yet with what it said (never
// made-up data); anything else as a server error.
func (h *handlers) reviewError(w http.ResponseWriter, r *http.Request, err error) {
	var e *review.Error
	if !errors.As(err, &e) {
		switch {
		case errors.Is(err, store.ErrBadPageToken):
			h.badRequest(w, r, "That page no longer exists: start again from the first page.")
		case notBuilt(err):
			h.errorPage(w, r, http.StatusNotImplemented, "Not available yet",
				"This part of access reviews is not in this build of Gatehouse yet (the service answered: "+err.Error()+").")
		default:
			h.serverError(w, r, err)
		}
		return
	}
	status, heading := e.Code.Status(), e.Code.Heading()
	if auth.IsAPI(r) || r.Method == http.MethodGet {
		h.errorPage(w, r, status, heading, sentence(e.Detail))
		return
	}
	// A refused form (a keep without the reason it needs, an item decided meanwhile): back
	// to the page the form was on, to fix it there.
	h.render(w, r, status, "error", page{Title: heading, Data: errorData{Status: status, Heading: heading, Detail: sentence(e.Detail), Back: formPage(r)}})
}

// formPage is the page a posted form came from: its "next" field, else the Referer when it
// is this server's; "" when neither says.
func formPage(r *http.Request) string {
	if next := r.PostFormValue("next"); strings.HasPrefix(next, "/") && !strings.HasPrefix(next, "//") {
		return next
	}
	if ref, err := url.Parse(r.Referer()); err == nil && ref.Host == r.Host && strings.HasPrefix(ref.Path, "/") {
		return ref.RequestURI()
	}
	return ""
}

// notBuilt says whether err is the service's answer for a method this build lacks (the
// contract's stubs, while the feature is being built).
func notBuilt(err error) bool { return err != nil && strings.Contains(err.Error(), "not built yet") }

// ---- items as a viewer sees them ----

// itemView is one review item as one viewer sees it: the campaign it belongs to and what
// the viewer may do with it.
type itemView struct {
	review.Item
	viewer *auth.Caller
	// Campaign is the item's campaign (its name, state and due date), when known.
	Campaign *review.Campaign
}

// URL is the item's page (its context, plan and history).
func (v itemView) URL() string {
	return "/campaigns/" + escapeID(v.CampaignID) + "/items/" + escapeID(v.ID)
}

// Who is the identity as people read it: the person's email, else the principal's name.
func (v itemView) Who() string {
	if v.Identity != "" {
		return v.Identity
	}
	if v.PrincipalName != "" {
		return v.PrincipalName
	}
	return v.PrincipalID
}

// Own says whether the item is the viewer's own access (never theirs to decide).
func (v itemView) Own() bool {
	return v.viewer != nil && v.Identity != "" && strings.EqualFold(v.Identity, v.viewer.Email)
}

// Current says whether the viewer is among the reviewers of the item's current step.
func (v itemView) Current() bool {
	return v.viewer != nil && containsFold(v.Reviewers, v.viewer.Email)
}

// CanDecide says whether the viewer may decide the item now: it waits for a decision, the
// viewer reviews its current step, and it is not their own access. It mirrors the
// service's rules (review.Service.Decide), which have the last word.
func (v itemView) CanDecide() bool {
	if v.State != review.ItemPending || v.Own() || !v.Current() {
		return false
	}
	return v.Campaign == nil || v.Campaign.State == review.CampaignActive
}

// CanReassign: admins and auditors, while the item waits.
func (v itemView) CanReassign() bool {
	return v.viewer.CanAudit() && v.State == review.ItemPending && (v.Campaign == nil || v.Campaign.State == review.CampaignActive)
}

// CanCompleteTask: an owner task is open; its owner or an admin marks it done.
func (v itemView) CanCompleteTask() bool {
	if v.State != review.ItemTaskOpen || v.Remediation == nil || v.viewer == nil {
		return false
	}
	return v.viewer.IsAdmin() || strings.EqualFold(v.Remediation.Owner, v.viewer.Email)
}

// Via is how the access is held, for people: "direct", "via group Admins", "lease ...".
func (v itemView) ViaLabel() string {
	switch {
	case v.Via == "" || v.Via == review.ViaDirect:
		return "direct"
	case v.ViaName != "":
		return v.ViaName
	}
	return v.Via
}

// Direct says whether the access is held directly.
func (v itemView) Direct() bool { return v.Via == "" || v.Via == review.ViaDirect }

// StateLabel is the item's state as people read it ("revocation pending").
func (v itemView) StateLabel() string { return strings.ReplaceAll(string(v.State), "_", " ") }

// Due is the item's campaign's due date (zero when unknown).
func (v itemView) Due() time.Time {
	if v.Campaign == nil {
		return time.Time{}
	}
	return v.Campaign.Due
}

// CampaignURL is the item's campaign page.
func (v itemView) CampaignURL() string { return "/campaigns/" + escapeID(v.CampaignID) }

// itemTone is the badge colour of an item state.
func itemTone(s any) string {
	switch strings.ReplaceAll(strings.ToLower(strings.TrimSpace(toString(s))), " ", "_") {
	case string(review.ItemKept), string(review.ItemRemediated), "keep", "verified", "done", "active":
		return "ok"
	case string(review.ItemRevocationPending), string(review.ItemTaskOpen), "queued", "draft":
		return "warn"
	case "revoke", "failed", "gone":
		return "bad"
	case string(review.ItemPending):
		return "info"
	}
	return "neutral"
}

func toString(s any) string {
	switch x := s.(type) {
	case review.ItemState:
		return string(x)
	case review.CampaignState:
		return string(x)
	case string:
		return x
	}
	return ""
}

// triState reads an optional yes/no ("yes", "no", or "unknown").
func triState(b *bool) string {
	switch {
	case b == nil:
		return "unknown"
	case *b:
		return "yes"
	}
	return "no"
}

func viewItems(list []review.Item, c *auth.Caller, campaigns map[string]*review.Campaign) []itemView {
	out := make([]itemView, len(list))
	for i := range list {
		out[i] = itemView{Item: list[i], viewer: c, Campaign: campaigns[list[i].CampaignID]}
	}
	return out
}

// ---- filters ----

// itemFilter is the filter form of the inbox and of a campaign's items, as sent in the
// query string (and copied into the bulk form, so "every item matching the filter" is
// the filter shown).
type itemFilter struct {
	Q         string
	State     string
	Reviewer  string
	Account   string
	Via       string
	AdminOnly bool
	Decision  string
	Identity  string
	Type      string
}

// itemFilterFrom reads the filter from form values (a GET's query or a POST's body).
func itemFilterFrom(v url.Values) itemFilter {
	get := func(k string) string { return strings.TrimSpace(v.Get(k)) }
	return itemFilter{Q: get("q"), State: get("state"), Reviewer: get("reviewer"), Account: get("account"), Via: get("via"),
		AdminOnly: get("admin_only") == "on" || get("admin_only") == "true", Decision: get("decision_filter"),
		Identity: get("identity"), Type: get("type")}
}

// Query is the filter as the service takes it.
func (f itemFilter) Query() review.ItemQuery {
	return review.ItemQuery{Q: f.Q, State: review.ItemState(f.State), Reviewer: f.Reviewer, AccountID: f.Account, Via: f.Via,
		AdminOnly: f.AdminOnly, Decision: f.Decision, Identity: f.Identity, ResourceType: f.Type}
}

// Values is the filter as query parameters (empty ones left out).
func (f itemFilter) Values() url.Values {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	set("q", f.Q)
	set("state", f.State)
	set("reviewer", f.Reviewer)
	set("account", f.Account)
	set("via", f.Via)
	if f.AdminOnly {
		v.Set("admin_only", "on")
	}
	set("decision_filter", f.Decision)
	set("identity", f.Identity)
	set("type", f.Type)
	return v
}

// Pairs are the filter's set values as key, value pairs (hidden fields of the bulk form).
func (f itemFilter) Pairs() [][2]string {
	v := f.Values()
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([][2]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, [2]string{k, v.Get(k)})
	}
	return out
}

// Active says whether any filter is set.
func (f itemFilter) Active() bool { return len(f.Values()) > 0 }

// option is one choice of a filter's select.
type option struct{ Value, Label string }

// viaOptions are the "held" filter's choices.
var viaOptions = []option{{"direct", "directly"}, {"group", "through a group"}, {"lease", "through a lease"}}

// itemStateOptions are the state filter's choices.
var itemStateOptions = []option{
	{string(review.ItemPending), "pending"}, {string(review.ItemKept), "kept"},
	{string(review.ItemRevocationPending), "revocation pending"}, {string(review.ItemRemediated), "remediated"},
	{string(review.ItemTaskOpen), "task open"},
}

// decisionOptions are the decision filter's choices.
var decisionOptions = []option{{"none", "undecided"}, {"keep", "keep"}, {"revoke", "revoke"}}

// ---- the inbox ----

// inboxPageSize is how many items the inbox shows at once.
const inboxPageSize = 50

// inboxData is the reviewer's inbox.
type inboxData struct {
	Items  []itemView
	More   string
	Filter itemFilter
	// Campaigns are the active campaigns with items for the caller, due first.
	Campaigns []review.Campaign
	Flash     string
	// Skipped are the items a bulk decision left alone, with why.
	Skipped []review.BulkSkip
	Vias    []option
	// States and Decisions are the campaign page's extra filters (none in the inbox: every
	// item there waits for a decision).
	States, Decisions []option
	Self              string
}

// inboxFlashes are the notices after an action, by the ?done= value.
var inboxFlashes = map[string]string{
	"keep":      "Kept.",
	"revoke":    "Revoked: the change is on its way to AWS; the item is remediated once a sync no longer shows the access.",
	"delegated": "Delegated: the item is waiting for the person you chose.",
	"reassign":  "Reassigned.",
	"task":      "Marked done: the item is remediated once a sync no longer shows the access.",
}

// inbox lists the items waiting for the caller across active campaigns, due first.
func (h *handlers) inbox(w http.ResponseWriter, r *http.Request) {
	svc := h.reviewService(w, r)
	if svc == nil {
		return
	}
	h.renderInbox(w, r, svc, itemFilterFrom(r.URL.Query()), reviewFlash(r.URL.Query()), nil)
}

// renderInbox renders the inbox with filter f, a notice, and the items a bulk decision
// left alone (with why).
func (h *handlers) renderInbox(w http.ResponseWriter, r *http.Request, svc reviewAPI, f itemFilter, flash string, skipped []review.BulkSkip) {
	c := auth.FromContext(r.Context())
	q := f.Query()
	q.Page = store.Page{Size: inboxPageSize, Token: r.URL.Query().Get("page_token")}
	items, next, err := svc.Inbox(r.Context(), c, q)
	if err != nil {
		h.reviewError(w, r, err)
		return
	}
	camps, byID, err := h.activeCampaigns(r.Context(), svc, c)
	if err != nil {
		h.reviewError(w, r, err)
		return
	}
	d := inboxData{Items: viewItems(items, c, byID), Filter: f, Campaigns: camps, Vias: viaOptions, Self: "/reviews",
		Flash: flash, Skipped: skipped}
	if next != "" {
		d.More = withQuery("/reviews?"+f.Values().Encode(), "page_token", next)
	}
	h.render(w, r, http.StatusOK, "reviews", page{Title: "Reviews", Section: "reviews", Data: d})
}

func pluralS(n string) string {
	if n == "1" {
		return ""
	}
	return "s"
}

// reviewFlash is the notice after an action (?done=, and ?decided= with ?skipped= for a
// bulk decision).
func reviewFlash(q url.Values) string {
	if n := q.Get("decided"); n != "" {
		s := n + " item" + pluralS(n) + " decided (" + q.Get("decision") + ")"
		if sk := q.Get("skipped"); sk != "" && sk != "0" {
			s += "; " + sk + " left alone: see why below"
		}
		return s + "."
	}
	return inboxFlashes[q.Get("done")]
}

// activeCampaigns are the active campaigns the caller may see (with items for them, for a
// reviewer), due first, and the same by id.
func (h *handlers) activeCampaigns(ctx context.Context, svc reviewAPI, c *auth.Caller) ([]review.Campaign, map[string]*review.Campaign, error) {
	var all []review.Campaign
	token := ""
	for {
		list, next, err := svc.Campaigns(ctx, c, review.CampaignQuery{State: review.CampaignActive, Page: store.Page{Size: 100, Token: token}})
		if err != nil {
			return nil, nil, err
		}
		all = append(all, list...)
		if next == "" || len(all) >= 1000 {
			break
		}
		token = next
	}
	slices.SortStableFunc(all, func(a, b review.Campaign) int { return a.Due.Compare(b.Due) })
	byID := make(map[string]*review.Campaign, len(all))
	for i := range all {
		byID[all[i].ID] = &all[i]
	}
	return all, byID, nil
}

// inboxBulk decides, with one reason, the items ticked in the inbox, or every item of the
// caller's inbox that matches the filter shown (scope=filter), campaign by campaign.
func (h *handlers) inboxBulk(w http.ResponseWriter, r *http.Request) {
	svc := h.reviewService(w, r)
	if svc == nil {
		return
	}
	c := auth.FromContext(r.Context())
	if err := r.ParseForm(); err != nil {
		h.badRequest(w, r, "The form could not be read: "+err.Error())
		return
	}
	in, ok := h.decisionInput(w, r)
	if !ok {
		return
	}
	f := itemFilterFrom(r.PostForm)
	back := withQuery("/reviews?"+f.Values().Encode(), "done", "")
	var decided int
	var skipped []review.BulkSkip
	if r.PostFormValue("scope") == "filter" {
		camps, _, err := h.activeCampaigns(r.Context(), svc, c)
		if err != nil {
			h.reviewError(w, r, err)
			return
		}
		q := bulkQuery(c, f)
		for _, cp := range camps {
			res, err := svc.DecideBulk(r.Context(), c, cp.ID, q, in)
			if err != nil {
				h.reviewError(w, r, err)
				return
			}
			decided += res.Decided
			skipped = append(skipped, res.Skipped...)
		}
	} else {
		refs := r.PostForm["item"]
		if len(refs) == 0 {
			h.badRequest(w, r, "Tick the items to decide first, or choose every item matching the filter.")
			return
		}
		for _, ref := range refs {
			cid, iid, ok := strings.Cut(ref, "/")
			if !ok {
				h.badRequest(w, r, "The form names an item "+ref+" that is not campaign/item.")
				return
			}
			if _, err := svc.Decide(r.Context(), c, cid, iid, in); err != nil {
				if review.CodeOf(err) == 0 {
					h.reviewError(w, r, err)
					return
				}
				skipped = append(skipped, review.BulkSkip{ItemID: iid, Why: sentence(err.Error())})
				continue
			}
			decided++
		}
	}
	if len(skipped) > 0 {
		// Say why each was left alone: shown at once rather than lost in a redirect.
		flash := reviewFlash(url.Values{"decided": {itoa(decided)}, "decision": {in.Decision}, "skipped": {itoa(len(skipped))}})
		h.renderInbox(w, r, svc, f, flash, skipped)
		return
	}
	http.Redirect(w, r, withQuery(back, "decided", itoa(decided), "decision", in.Decision), http.StatusSeeOther)
}

// bulkQuery is the filter f narrowed to what a bulk decision by c can decide: the items
// waiting for a decision, and for admins and auditors (who see every item) their own
// items to review; the service narrows a reviewer's to theirs.
func bulkQuery(c *auth.Caller, f itemFilter) review.ItemQuery {
	q := f.Query()
	q.State = review.ItemPending
	q.Reviewer = ""
	if c.CanAudit() {
		q.Reviewer = c.Email
	}
	return q
}

// decisionInput reads decision and reason from the form (answering a bad request when the
// decision is neither keep nor revoke).
func (h *handlers) decisionInput(w http.ResponseWriter, r *http.Request) (review.DecisionInput, bool) {
	in := review.DecisionInput{Decision: strings.TrimSpace(r.PostFormValue("decision")), Reason: strings.TrimSpace(r.PostFormValue("reason"))}
	if in.Decision != review.DecisionKeep && in.Decision != review.DecisionRevoke {
		h.badRequest(w, r, "Choose keep or revoke.")
		return in, false
	}
	return in, true
}

// ---- one item ----

// itemData is an item's page.
type itemData struct {
	I     itemView
	Flash string
}

// itemPage shows one item: who holds what and how, the context (last used, MFA, active,
// the previous campaign's decision), what a revoke changes, the decision and remediation,
// and its history; with the decision, delegation and reassignment forms the viewer may use.
func (h *handlers) itemPage(w http.ResponseWriter, r *http.Request) {
	svc := h.reviewService(w, r)
	if svc == nil {
		return
	}
	c := auth.FromContext(r.Context())
	it, err := svc.Item(r.Context(), c, r.PathValue("id"), r.PathValue("item"))
	if err != nil {
		h.reviewError(w, r, err)
		return
	}
	camp, err := svc.Campaign(r.Context(), c, it.CampaignID)
	if err != nil {
		h.reviewError(w, r, err)
		return
	}
	v := itemView{Item: *it, viewer: c, Campaign: camp}
	h.render(w, r, http.StatusOK, "review_item", page{Title: v.Who() + " · " + v.EntitlementName, Section: reviewSection(c), Data: itemData{I: v, Flash: reviewFlash(r.URL.Query())}})
}

// reviewSection is the navigation entry of a review page: the campaigns for those who run
// them, the inbox for reviewers.
func reviewSection(c *auth.Caller) string {
	if c.CanAudit() {
		return "campaigns"
	}
	return "reviews"
}

// itemAction runs one form of an item: decide (keep or revoke), delegate, reassign,
// complete (an owner task). It goes back to the page the form was on (next).
func (h *handlers) itemAction(w http.ResponseWriter, r *http.Request) {
	svc := h.reviewService(w, r)
	if svc == nil {
		return
	}
	c := auth.FromContext(r.Context())
	cid, iid := r.PathValue("id"), r.PathValue("item")
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	var err error
	done := r.PathValue("action")
	switch done {
	case "decide":
		in, ok := h.decisionInput(w, r)
		if !ok {
			return
		}
		_, err = svc.Decide(r.Context(), c, cid, iid, in)
		done = in.Decision
	case "delegate", "reassign":
		to := strings.TrimSpace(r.PostFormValue("to"))
		if to == "" || !strings.Contains(to, "@") {
			h.badRequest(w, r, "Give the email of the person to hand the item to.")
			return
		}
		if done == "delegate" {
			_, err = svc.Delegate(r.Context(), c, cid, iid, to, reason)
			done = "delegated"
		} else {
			_, err = svc.Reassign(r.Context(), c, cid, iid, to, reason)
		}
	case "complete":
		_, err = svc.CompleteTask(r.Context(), c, cid, iid, reason)
		done = "task"
	default:
		h.notFound(w, r)
		return
	}
	if err != nil {
		h.reviewError(w, r, err)
		return
	}
	back := "/campaigns/" + escapeID(cid) + "/items/" + escapeID(iid)
	if next := r.PostFormValue("next"); strings.HasPrefix(next, "/") && !strings.HasPrefix(next, "//") {
		back = next
	}
	http.Redirect(w, r, withQuery(back, "done", done, "decided", ""), http.StatusSeeOther)
}

// ---- the navigation's count ----

// reviewNav is what the navigation shows of reviews for the caller: how many items wait for
// them (Waiting, with More when there are more than counted).
type reviewNav struct {
	Waiting int
	More    bool
}

// navCountLimit bounds the count the navigation reads (it shows "99+" beyond).
const navCountLimit = 99

// reviewNavFor counts the items waiting for c (one page of their inbox). A failure is
// logged and shows no count: the navigation must not break every page.
func (h *handlers) reviewNavFor(ctx context.Context, c *auth.Caller) reviewNav {
	if h.reviews == nil || c == nil {
		return reviewNav{}
	}
	items, next, err := h.reviews.Inbox(ctx, c, review.ItemQuery{Page: store.Page{Size: navCountLimit}})
	if err != nil {
		if !notBuilt(err) {
			h.log.Warn("count the caller's review items", zap.Error(err))
		}
		return reviewNav{}
	}
	return reviewNav{Waiting: len(items), More: next != ""}
}
