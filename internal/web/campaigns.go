package web

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/review"
	"github.com/gatehouse/gatehouse/internal/store"
)

// The campaign pages: the dashboard of every campaign with its progress and the form that
// creates one (admins and auditors), and a campaign's page: its scope and reviewers, the
// progress by state and per reviewer, the items with filters and bulk decisions, start,
// close and the exports. Reviewers reach a campaign's page too and see only their items
// there (the service narrows).

func init() {
	registrations = append(registrations, func(r *auth.Router, h *handlers) {
		r.HandleFunc("GET", "/campaigns", auth.SignedIn, h.campaigns)
		r.HandleFunc("POST", "/campaigns", auth.Auditor, h.createCampaign)
		r.HandleFunc("GET", "/campaigns/{id}", auth.SignedIn, h.campaignPage)
		r.HandleFunc("POST", "/campaigns/{id}/decide", auth.SignedIn, h.campaignBulk)
		r.HandleFunc("POST", "/campaigns/{id}/{action}", auth.Auditor, h.campaignAction)
		r.HandleFunc("GET", "/campaigns/{id}/export", auth.Auditor, h.campaignExport)
	})
	funcs["progressParts"] = progressParts
	funcs["decidedPct"] = func(p review.Progress) int { return pct(p.Total-p.Pending, p.Total) }
	funcs["scopeSummary"] = scopeSummary
	funcs["reviewersSummary"] = reviewersSummary
	funcs["campaignStateOptions"] = func() []option { return campaignStates }
	funcs["roundTo5"] = func(n int) int { return min(max(n, 0), 100) / 5 * 5 }
	funcs["day"] = func(t time.Time) string { return t.UTC().Format("2 Jan 2006") }
	funcs["overdue"] = func(t time.Time) bool { return !t.IsZero() && t.Before(now()) }
}

// ---- progress ----

// progressPart is one segment of a campaign's stacked progress bar.
type progressPart struct {
	Class, Label string
	N            int
	Width        string
}

// progressParts are the segments of a campaign's bar: kept, revocation pending, task open,
// remediated, each at least 5% wide when it has items (the CSS has widths in steps of 5%:
// no style="" under the CSP).
func progressParts(p review.Progress) []progressPart {
	parts := []progressPart{
		{Class: "seg-kept", Label: "kept", N: p.Kept},
		{Class: "seg-revoking", Label: "revocation pending", N: p.RevocationPending},
		{Class: "seg-task", Label: "task open", N: p.TaskOpen},
		{Class: "seg-remediated", Label: "remediated", N: p.Remediated},
	}
	out := parts[:0]
	for _, s := range parts {
		if s.N == 0 || p.Total == 0 {
			continue
		}
		w := (s.N*100/p.Total + 2) / 5 * 5
		s.Width = "w-" + strconv.Itoa(min(max(w, 5), 100))
		out = append(out, s)
	}
	return out
}

// scopeSummary says a campaign's scope in a line ("accounts 111122223333 · admin-level only").
func scopeSummary(s review.Scope) string {
	var parts []string
	add := func(label string, v []string) {
		if len(v) > 0 {
			parts = append(parts, label+" "+strings.Join(v, ", "))
		}
	}
	add("accounts", s.Accounts)
	add("OUs", s.OUs)
	add("permission sets", s.PermissionSets)
	add("applications", s.Applications)
	add("resource types", s.ResourceTypes)
	add("Identity Center groups", s.SSOGroups)
	add("IAM groups", s.IAMGroups)
	add("IAM policies", s.IAMPolicies)
	if s.AdminOnly {
		parts = append(parts, "admin-level access only")
	}
	if s.UnusedDays > 0 {
		parts = append(parts, "not used in "+strconv.Itoa(s.UnusedDays)+" days")
	}
	if s.Departed {
		parts = append(parts, "people who left")
	}
	if len(parts) == 0 {
		return "every current grant"
	}
	return strings.Join(parts, " · ")
}

// reviewersSummary says who reviews in a line ("dave@example.com · fallback alice@example.com").
func reviewersSummary(r review.Reviewers) string {
	var parts []string
	if len(r.Sequence) > 0 {
		parts = append(parts, "in turn: "+strings.Join(r.Sequence, ", then "))
	}
	if r.Manager {
		parts = append(parts, "the manager")
	}
	if r.Owner {
		parts = append(parts, "the owner")
	}
	if len(r.People) > 0 {
		parts = append(parts, strings.Join(r.People, ", "))
	}
	if len(r.Groups) > 0 {
		parts = append(parts, "members of "+strings.Join(r.Groups, ", "))
	}
	fb := "the admins"
	if len(r.Fallback) > 0 {
		fb = strings.Join(r.Fallback, ", ")
	}
	if len(parts) == 0 {
		return "fallback " + fb
	}
	return strings.Join(parts, " · ") + " · fallback " + fb
}

// campaignView is a campaign with its links.
type campaignView struct {
	*review.Campaign
	viewer *auth.Caller
}

// URL is the campaign's page.
func (v campaignView) URL() string { return "/campaigns/" + escapeID(v.ID) }

// Decided is how many items are decided.
func (v campaignView) Decided() int { return v.Progress.Total - v.Progress.Pending }

// CanStart, CanClose, CanExport: admins and auditors, by state.
func (v campaignView) CanStart() bool {
	return v.viewer.CanAudit() && v.State == review.CampaignDraft
}
func (v campaignView) CanClose() bool {
	return v.viewer.CanAudit() && v.State == review.CampaignActive
}
func (v campaignView) CanExport() bool {
	return v.viewer.CanAudit() && v.State != review.CampaignDraft
}

// Overdue says whether the due date passed while the campaign is active.
func (v campaignView) Overdue() bool {
	return v.State == review.CampaignActive && !v.Due.IsZero() && v.Due.Before(now())
}

// Exports are the export links (csv, json, html).
func (v campaignView) Exports() []option {
	base := "/campaigns/" + escapeID(v.ID) + "/export?format="
	return []option{{base + "csv", "CSV"}, {base + "json", "JSON"}, {base + "html", "Printable report"}}
}

// ---- the dashboard ----

// campaignsData is the dashboard.
type campaignsData struct {
	Campaigns []campaignView
	More      string
	State     string
	Flash     string
	// Form is the create form (admins and auditors), with its choices and problems.
	Form *campaignForm
}

// campaignForm is the form that creates a campaign.
type campaignForm struct {
	Name, Description string
	Accounts          []string
	PermissionSets    []string
	OUs               string
	Applications      string
	ResourceTypes     []string
	SSOGroups         string
	IAMGroups         string
	IAMPolicies       string
	AdminOnly         bool
	UnusedDays        string
	Departed          bool
	People            string
	Groups            string
	Manager, Owner    bool
	Sequence          string
	Fallback          string
	Due               string
	Undecided         string
	// Choices: the inventory's accounts and permission sets.
	AccountChoices []option
	PSChoices      []option
	TypeChoices    []option
	Errors         map[string]string
}

// Has says whether v is among the chosen values (for <option selected>).
func (f *campaignForm) Has(list []string, v string) bool { return slices.Contains(list, v) }

// reviewTypes are the resource types a scope can name.
var reviewTypes = []option{{"account", "AWS accounts (Identity Center assignments)"}, {"sso_group", "Identity Center groups"},
	{"iam_group", "IAM groups"}, {"iam_policy", "IAM policies"}, {"app_resource", "Imported applications"}}

// campaignStates are the dashboard's state filter.
var campaignStates = []option{{"draft", "draft"}, {"active", "active"}, {"closed", "closed"}}

// campaignFlashes are the notices after an action, by ?done=.
var campaignFlashes = map[string]string{
	"created": "Campaign created as a draft: check its scope and reviewers, then start it.",
	"start":   "Started: the items are frozen from the inventory and the reviewers are told.",
	"close":   "Closed: no more decisions. Items still pending stay pending in the report.",
}

// campaigns is the dashboard: every campaign (the caller's, for a reviewer) with progress.
func (h *handlers) campaigns(w http.ResponseWriter, r *http.Request) {
	svc := h.reviewService(w, r)
	if svc == nil {
		return
	}
	c := auth.FromContext(r.Context())
	var f *campaignForm
	if c.CanAudit() {
		f = &campaignForm{Due: now().Add(14 * 24 * time.Hour).Format("2006-01-02"), Undecided: review.UndecidedKeep}
	}
	h.renderCampaigns(w, r, svc, http.StatusOK, f, campaignFlashes[r.URL.Query().Get("done")])
}

func (h *handlers) renderCampaigns(w http.ResponseWriter, r *http.Request, svc reviewAPI, status int, f *campaignForm, flash string) {
	c := auth.FromContext(r.Context())
	state := r.URL.Query().Get("state")
	list, next, err := svc.Campaigns(r.Context(), c, review.CampaignQuery{State: review.CampaignState(state), Q: r.URL.Query().Get("q"),
		Page: store.Page{Size: listPageSize, Token: r.URL.Query().Get("page_token")}})
	if err != nil {
		h.reviewError(w, r, err)
		return
	}
	d := campaignsData{State: state, Flash: flash, Form: f}
	for i := range list {
		d.Campaigns = append(d.Campaigns, campaignView{Campaign: &list[i], viewer: c})
	}
	if next != "" {
		d.More = withQuery(r.URL.RequestURI(), "page_token", next)
	}
	if f != nil {
		if err := h.fillCampaignChoices(r.Context(), f); err != nil {
			h.serverError(w, r, err)
			return
		}
	}
	h.render(w, r, status, "campaigns", page{Title: "Campaigns", Section: "campaigns", Data: d})
}

// fillCampaignChoices reads the inventory's accounts and permission sets for the form.
func (h *handlers) fillCampaignChoices(ctx context.Context, f *campaignForm) error {
	f.TypeChoices = reviewTypes
	f.AccountChoices, f.PSChoices = nil, nil
	for _, t := range []string{"account", "permission_set"} {
		token := ""
		for {
			rs, next, err := h.app.Store.ListResources(ctx, store.ResourceFilter{Type: t}, store.Page{Size: 1000, Token: token})
			if err != nil {
				return err
			}
			for _, res := range rs {
				o := option{Value: res.ID, Label: res.DisplayName + " (" + res.ID + ")"}
				if t == "account" {
					f.AccountChoices = append(f.AccountChoices, o)
				} else {
					o.Label = res.DisplayName
					f.PSChoices = append(f.PSChoices, o)
				}
			}
			if next == "" {
				break
			}
			token = next
		}
	}
	return nil
}

// splitList reads a list typed in a text field: values separated by commas, spaces or lines.
func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' || r == ' ' || r == '\t' || r == ';' })
}

// splitNames splits a list of names that may hold spaces (an imported application's
// "Billing app"): on commas, semicolons and lines only.
func splitNames(s string) []string {
	var out []string
	for _, v := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' || r == ';' }) {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

var dateRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// createCampaign checks the form (problems shown beside their field), creates the draft
// campaign and shows it.
func (h *handlers) createCampaign(w http.ResponseWriter, r *http.Request) {
	svc := h.reviewService(w, r)
	if svc == nil {
		return
	}
	if err := r.ParseForm(); err != nil {
		h.badRequest(w, r, "The form could not be read: "+err.Error())
		return
	}
	v := r.PostForm
	get := func(k string) string { return strings.TrimSpace(v.Get(k)) }
	f := &campaignForm{Name: get("name"), Description: get("description"), Accounts: v["account"], PermissionSets: v["permission_set"],
		OUs: get("ous"), Applications: get("applications"), ResourceTypes: v["resource_type"], SSOGroups: get("sso_groups"),
		IAMGroups: get("iam_groups"), IAMPolicies: get("iam_policies"), AdminOnly: get("admin_only") == "on", UnusedDays: get("unused_days"), Departed: get("departed") == "on",
		People: get("people"), Groups: get("groups"), Manager: get("manager") == "on", Owner: get("owner") == "on",
		Sequence: get("sequence"), Fallback: get("fallback"), Due: get("due"), Undecided: get("undecided"), Errors: map[string]string{}}
	in := review.CampaignInput{Name: f.Name, Description: f.Description, Undecided: f.Undecided,
		Scope: review.Scope{Accounts: nonEmpty(f.Accounts), PermissionSets: nonEmpty(f.PermissionSets), OUs: splitList(f.OUs),
			Applications: splitNames(f.Applications), ResourceTypes: nonEmpty(f.ResourceTypes), SSOGroups: splitList(f.SSOGroups),
			IAMGroups: splitList(f.IAMGroups), IAMPolicies: splitList(f.IAMPolicies), AdminOnly: f.AdminOnly, Departed: f.Departed},
		Reviewers: review.Reviewers{People: splitList(f.People), Groups: splitList(f.Groups), Manager: f.Manager, Owner: f.Owner,
			Sequence: splitList(f.Sequence), Fallback: splitList(f.Fallback)}}
	if f.Name == "" {
		f.Errors["name"] = "Give the campaign a name, e.g. Quarterly review: production access."
	}
	if f.UnusedDays != "" {
		n, err := strconv.Atoi(f.UnusedDays)
		if err != nil || n < 1 {
			f.Errors["unused_days"] = "A whole number of days, at least 1 (or leave it empty)."
		}
		in.Scope.UnusedDays = n
	}
	switch {
	case f.Due == "":
		f.Errors["due"] = "Choose the date by which reviewers decide."
	case !dateRE.MatchString(f.Due):
		f.Errors["due"] = "Give the date as YYYY-MM-DD."
	default:
		d, err := time.Parse("2006-01-02", f.Due)
		if err != nil {
			f.Errors["due"] = "Give the date as YYYY-MM-DD."
		}
		// Due at the end of that day (UTC): reviewers have the whole day.
		in.Due = d.Add(24*time.Hour - time.Second)
		if err == nil && !in.Due.After(now()) {
			f.Errors["due"] = "The due date has passed: choose a later one."
		}
	}
	for _, p := range append(append([]string{}, in.Reviewers.People...), in.Reviewers.Fallback...) {
		if !strings.Contains(p, "@") {
			f.Errors["people"] = "Reviewers are people's emails: " + p + " is not one."
		}
	}
	if len(f.Errors) > 0 {
		h.renderCampaigns(w, r, svc, http.StatusUnprocessableEntity, f, "")
		return
	}
	camp, err := svc.CreateCampaign(r.Context(), auth.FromContext(r.Context()), in)
	if code := review.CodeOf(err); code == review.CodeInvalid || code == review.CodeConflict {
		// The service's own checks: shown on the form, with what was sent kept.
		f.Errors[""] = sentence(err.Error())
		h.renderCampaigns(w, r, svc, int(code), f, "")
		return
	}
	if err != nil {
		h.reviewError(w, r, err)
		return
	}
	http.Redirect(w, r, "/campaigns/"+escapeID(camp.ID)+"?done=created", http.StatusSeeOther)
}

func nonEmpty(list []string) []string {
	var out []string
	for _, s := range list {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// ---- a campaign ----

// campaignItemsPageSize is how many items a campaign's page shows at once.
const campaignItemsPageSize = 100

// campaignData is a campaign's page.
type campaignData struct {
	C       campaignView
	Items   []itemView
	More    string
	Filter  itemFilter
	Flash   string
	Skipped []review.BulkSkip
	// Decidable says whether any shown item is the viewer's to decide (the bulk form).
	Decidable bool
	States    []option
	Vias      []option
	Decisions []option
	Self      string
	// Compare is the campaign compared with the previous one of the same scope (nil when
	// there is none); CompareErr says why the comparison could not be read.
	Compare    *comparisonView
	CompareErr string
}

// comparisonView is a comparison with the previous campaign, each list cut to
// compareRows items.
type comparisonView struct {
	Previous               string
	New, Kept, Returned    []itemView
	NNew, NKept, NReturned int
}

// compareRows bounds each list of the comparison shown on a campaign's page.
const compareRows = 20

// campaignPage shows a campaign with its items (filtered), progress and actions.
func (h *handlers) campaignPage(w http.ResponseWriter, r *http.Request) {
	svc := h.reviewService(w, r)
	if svc == nil {
		return
	}
	q := r.URL.Query()
	flash := campaignFlashes[q.Get("done")]
	if flash == "" {
		flash = reviewFlash(q)
	}
	h.renderCampaign(w, r, svc, itemFilterFrom(q), flash, nil)
}

func (h *handlers) renderCampaign(w http.ResponseWriter, r *http.Request, svc reviewAPI, f itemFilter, flash string, skipped []review.BulkSkip) {
	c := auth.FromContext(r.Context())
	id := r.PathValue("id")
	camp, err := svc.Campaign(r.Context(), c, id)
	if err != nil {
		h.reviewError(w, r, err)
		return
	}
	self := "/campaigns/" + escapeID(camp.ID)
	d := campaignData{C: campaignView{Campaign: camp, viewer: c}, Filter: f, Flash: flash, Skipped: skipped,
		States: itemStateOptions, Vias: viaOptions, Decisions: decisionOptions, Self: self}
	if camp.State != review.CampaignDraft {
		iq := f.Query()
		iq.Page = store.Page{Size: campaignItemsPageSize, Token: r.URL.Query().Get("page_token")}
		items, next, err := svc.Items(r.Context(), c, camp.ID, iq)
		if err != nil {
			h.reviewError(w, r, err)
			return
		}
		d.Items = viewItems(items, c, map[string]*review.Campaign{camp.ID: camp})
		for _, it := range d.Items {
			d.Decidable = d.Decidable || it.CanDecide()
		}
		if next != "" {
			d.More = withQuery(self+"?"+f.Values().Encode(), "page_token", next)
		}
	}
	if camp.Previous != "" && c.CanAudit() {
		cmp, err := svc.Compare(r.Context(), c, camp.ID)
		if err != nil {
			// The rest of the page stands; the comparison's card says what went wrong.
			if review.CodeOf(err) == 0 && !notBuilt(err) {
				h.log.Warn("compare with the previous campaign", zap.String("campaign", camp.ID), zap.Error(err))
			}
			d.CompareErr = sentence(err.Error())
			if notBuilt(err) {
				d.CompareErr = "This build of Gatehouse does not compare campaigns yet (the service answered: " + err.Error() + ")."
			}
		} else {
			cut := func(list []review.Item) []itemView {
				return viewItems(list[:min(len(list), compareRows)], c, nil)
			}
			d.Compare = &comparisonView{Previous: cmp.Previous, New: cut(cmp.New), Kept: cut(cmp.Kept), Returned: cut(cmp.Returned),
				NNew: len(cmp.New), NKept: len(cmp.Kept), NReturned: len(cmp.Returned)}
		}
	}
	h.render(w, r, http.StatusOK, "campaign", page{Title: camp.Name, Section: reviewSection(c), Data: d})
}

// campaignBulk decides, with one reason, the items ticked on the campaign's page, or every
// item matching its filter (scope=filter) that the caller may decide.
func (h *handlers) campaignBulk(w http.ResponseWriter, r *http.Request) {
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
	id := r.PathValue("id")
	f := itemFilterFrom(r.PostForm)
	var decided int
	var skipped []review.BulkSkip
	if r.PostFormValue("scope") == "filter" {
		res, err := svc.DecideBulk(r.Context(), c, id, bulkQuery(c, f), in)
		if err != nil {
			h.reviewError(w, r, err)
			return
		}
		decided, skipped = res.Decided, res.Skipped
	} else {
		ids := r.PostForm["item"]
		if len(ids) == 0 {
			h.badRequest(w, r, "Tick the items to decide first, or choose every item matching the filter.")
			return
		}
		for _, ref := range ids {
			iid := ref
			if _, after, ok := strings.Cut(ref, "/"); ok {
				iid = after
			}
			if _, err := svc.Decide(r.Context(), c, id, iid, in); err != nil {
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
		flash := reviewFlash(url.Values{"decided": {itoa(decided)}, "decision": {in.Decision}, "skipped": {itoa(len(skipped))}})
		h.renderCampaign(w, r, svc, f, flash, skipped)
		return
	}
	back := "/campaigns/" + escapeID(id) + "?" + f.Values().Encode()
	http.Redirect(w, r, withQuery(back, "decided", itoa(decided), "decision", in.Decision), http.StatusSeeOther)
}

// campaignAction starts or closes a campaign (admins and auditors).
func (h *handlers) campaignAction(w http.ResponseWriter, r *http.Request) {
	svc := h.reviewService(w, r)
	if svc == nil {
		return
	}
	c := auth.FromContext(r.Context())
	id := r.PathValue("id")
	var err error
	action := r.PathValue("action")
	switch action {
	case "start":
		_, err = svc.Start(r.Context(), c, id)
	case "close":
		_, err = svc.Close(r.Context(), c, id)
	default:
		h.notFound(w, r)
		return
	}
	if err != nil {
		h.reviewError(w, r, err)
		return
	}
	http.Redirect(w, r, "/campaigns/"+escapeID(id)+"?done="+action, http.StatusSeeOther)
}

// campaignExport downloads the campaign as CSV or JSON, or opens the printable HTML report;
// the service records the export and its SHA-256 in the audit log, and the answer carries
// the hash (X-Content-SHA256) as the API's does.
func (h *handlers) campaignExport(w http.ResponseWriter, r *http.Request) {
	svc := h.reviewService(w, r)
	if svc == nil {
		return
	}
	format := r.URL.Query().Get("format")
	if format != "csv" && format != "json" && format != "html" {
		h.badRequest(w, r, "Choose the export's format: csv, json or html.")
		return
	}
	ex, err := svc.Export(r.Context(), auth.FromContext(r.Context()), r.PathValue("id"), format)
	if err != nil {
		h.reviewError(w, r, err)
		return
	}
	defer ex.Close() // removes the export's temporary file
	hd := w.Header()
	ct := ex.ContentType
	if ct == "" {
		ct = map[string]string{"csv": "text/csv; charset=utf-8", "json": "application/json", "html": "text/html; charset=utf-8"}[format]
	}
	hd.Set("Content-Type", ct)
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Content-SHA256", ex.SHA256)
	disp := "attachment"
	if format == "html" {
		disp = "inline" // opens in the browser, which prints it to PDF
	}
	if ex.FileName != "" {
		disp += "; filename=\"" + strings.NewReplacer(`"`, "", "\n", "", "\r", "").Replace(ex.FileName) + "\""
	}
	hd.Set("Content-Disposition", disp)
	hd.Set("Content-Length", strconv.FormatInt(ex.Size, 10))
	_, _ = io.Copy(w, ex.Content) // the file, not memory: a large campaign's export is hundreds of MiB
}
