package web

import (
	"cmp"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/store"
)

func init() {
	registrations = append(registrations, func(r *auth.Router, h *handlers) {
		r.HandleFunc("GET", "/inventory", auth.Auditor, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/inventory/account", http.StatusSeeOther)
		})
		r.HandleFunc("GET", "/inventory/{type}", auth.Auditor, h.inventoryList)
		r.HandleFunc("GET", "/inventory/{type}/{id...}", auth.Auditor, h.resource)
		r.HandleFunc("GET", "/entitlements/{id...}", auth.Auditor, h.entitlement)
	})
}

// listPageSize is how many rows an inventory list shows per page.
var listPageSize = 50

// rowsShown is how many rows of a long table (a person's access, an account's grants) a
// page renders at first, sorted; "Show all" (?all=1) renders the rest. Rendering is most of
// such a page's cost.
const rowsShown = 100

// maxGrantsShown bounds the grants one resource page loads (sorted server-side); past it
// the page says so and links to the entitlement pages, which page.
const maxGrantsShown = 2000

// typeCount is one tab of the inventory: a type and how many are current.
type typeCount struct {
	Type, Label string
	Count       int
}

// treeNode is one unit or account of the organization tree.
type treeNode struct {
	ref
	Stale    bool
	Children []*treeNode
}

// inventoryData is an inventory list page.
type inventoryData struct {
	Type, Q, AccountID, AccountName string
	Types                           []typeCount
	Rows                            []resourceRowView
	ShowEmail                       bool
	More                            string
	Tree                            []*treeNode
	At                              *time.Time
	AtLabel                         string
}

// inventoryList lists the current resources of one type, searched (q, as you type) and
// paged on the server (Load more); accounts come with the organization tree.
func (h *handlers) inventoryList(w http.ResponseWriter, r *http.Request) {
	typ := r.PathValue("type")
	if !knownType(typ) {
		h.notFound(w, r)
		return
	}
	q := r.URL.Query()
	d := inventoryData{Type: typ, Q: strings.TrimSpace(q.Get("q")), AccountID: q.Get("account"),
		ShowEmail: typ == "sso_user" || typ == "iam_user"}
	token := q.Get("page_token")
	ck, hit := h.fromCache(w, r, "inventory", false)
	if hit {
		return
	}
	ctx := r.Context()
	list, next, err := h.app.Store.ListResources(ctx, store.ResourceFilter{Type: typ, Q: d.Q, AccountID: d.AccountID},
		store.Page{Size: listPageSize, Token: token})
	if errors.Is(err, store.ErrBadPageToken) {
		h.badRequest(w, r, "That page no longer exists: start again from the first page.")
		return
	}
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	stale, err := h.staleAccounts(r)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	for _, res := range list {
		d.Rows = append(d.Rows, resourceRowView{
			ref: ref{Type: res.Type, ID: res.ID, Name: res.DisplayName}, Account: accountRef(res.AccountID, res.AccountName),
			Email: res.Email, Stale: stale[staleKey(res)],
		})
	}
	if next != "" {
		d.More = withQuery(r.URL.RequestURI(), "page_token", next)
	}
	p := page{Title: typeLabel(typ), Section: "inventory", Data: d}
	if isHTMX(r) {
		if token != "" {
			h.renderFragment(w, r, "inventory", "rows", p)
		} else {
			h.renderFragment(w, r, "inventory", "results", p)
		}
		return
	}
	counts, err := h.app.Store.InventoryCounts(ctx)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	for _, rt := range resourceTypes {
		d.Types = append(d.Types, typeCount{Type: rt.Type, Label: rt.Label, Count: counts[rt.Type]})
	}
	if d.AccountID != "" {
		if a, err := h.app.Store.GetResource(ctx, "account", d.AccountID, nil); err == nil {
			d.AccountName = a.DisplayName
		}
	}
	if typ == "account" && d.Q == "" {
		tree, err := h.app.Store.OUTree(ctx, "")
		if err != nil {
			h.serverError(w, r, err)
			return
		}
		d.Tree = buildTree(tree, stale)
	}
	p.Data = d
	h.renderCached(w, r, ck, "inventory", p)
}

// staleKey is where a resource's account-read state is found: the account it was read
// from (its scope), or the account itself.
func staleKey(res store.Resource) string {
	if res.Type == "account" {
		return res.ID
	}
	return res.Scope
}

// staleAccounts are the accounts whose IAM could not be read lately, by account id.
func (h *handlers) staleAccounts(r *http.Request) (map[string]*staleView, error) {
	reads, err := h.app.Store.AccountReads(r.Context(), "")
	if err != nil {
		return nil, err
	}
	out := map[string]*staleView{}
	for _, ar := range reads {
		if !ar.Stale {
			continue
		}
		v := &staleView{Reason: ar.StaleReason, Fix: ar.StaleFix}
		if ar.LastReadAt != nil {
			v.LastRead = *ar.LastReadAt
		}
		if ar.StaleSince != nil {
			v.Since = *ar.StaleSince
		}
		out[ar.AccountID] = v
	}
	return out, nil
}

// buildTree nests OUTree's list (parents first, with depths) into a tree.
func buildTree(list []store.Resource, stale map[string]*staleView) []*treeNode {
	var roots []*treeNode
	var path []*treeNode // path[d] is the last node at depth d
	for _, res := range list {
		n := &treeNode{ref: ref{Type: res.Type, ID: res.ID, Name: res.DisplayName}, Stale: stale[res.ID] != nil && res.Type == "account"}
		d := min(res.Depth, len(path))
		path = append(path[:d], n)
		if d == 0 {
			roots = append(roots, n)
		} else {
			path[d-1].Children = append(path[d-1].Children, n)
		}
	}
	return roots
}

// accountRef links to an account.
func accountRef(id, name string) ref {
	if id == "" {
		return ref{}
	}
	return ref{Type: "account", ID: id, Name: name}
}

// asOf reads the "as of" date (at=YYYY-MM-DD, the end of that day in UTC, or an RFC 3339
// time). ok is false when it is not one; the handler says so.
func asOf(r *http.Request) (at *time.Time, date string, ok bool) {
	s := r.URL.Query().Get("at")
	if s == "" {
		return nil, "", true
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		t = t.UTC()
		return &t, t.Format("2006-01-02"), true
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return nil, "", false
	}
	end := t.Add(24*time.Hour - time.Millisecond)
	return &end, s, true
}

// atLabel says which moment an "as of" page shows: "2026-01-31 (end of day, UTC)", or the
// exact time when one was given.
func atLabel(r *http.Request, at *time.Time) string {
	if at == nil {
		return ""
	}
	if strings.Contains(r.URL.Query().Get("at"), "T") {
		return when(*at)
	}
	return at.Format("2006-01-02") + " (end of day, UTC)"
}

func badAsOf(h *handlers, w http.ResponseWriter, r *http.Request) {
	h.badRequest(w, r, "The “as of” date must be a day such as 2026-01-31, got "+strconv.Quote(r.URL.Query().Get("at"))+".")
}

// resourceData is a resource's page.
type resourceData struct {
	AtLabel      string
	Resource     ref
	Account      ref
	Self         string
	AtDate       string
	Today        string
	Email        string
	Parent       ref
	FirstSeen    time.Time
	Removed      *time.Time
	Facts        [][2]string
	Stale        *staleView
	Entitlements []ref
	// Grants are the grants on the resource's entitlements (who can reach it); Held the
	// grants the resource holds as a principal (what it can reach).
	Grants    []grantView
	Held      []grantView
	Truncated bool
	Sort, Dir string
	// Total is how many grants there are; Grants holds the first rowsShown unless All.
	Total int
	All   string
}

// resource shows one resource: its key facts, its entitlements with who holds them and
// through what, what it holds itself, and a stale marker when its account could not be
// read. ?at= shows it as of a past day.
func (h *handlers) resource(w http.ResponseWriter, r *http.Request) {
	typ, id := r.PathValue("type"), r.PathValue("id")
	if !knownType(typ) {
		h.notFound(w, r)
		return
	}
	at, atDate, ok := asOf(r)
	if !ok {
		badAsOf(h, w, r)
		return
	}
	ck, hit := h.fromCache(w, r, "inventory", false)
	if hit {
		return
	}
	ctx := r.Context()
	res, err := h.app.Store.GetResource(ctx, typ, id, at)
	if errors.Is(err, store.ErrNotFound) {
		detail := "There is no " + typeNoun(typ) + " " + id + " in the inventory."
		if at != nil {
			detail = "There was no " + typeNoun(typ) + " " + id + " on " + atDate + "."
		}
		h.errorPage(w, r, http.StatusNotFound, "Not in the inventory", detail)
		return
	}
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	d := resourceData{
		Resource: ref{Type: res.Type, ID: res.ID, Name: res.DisplayName},
		Self:     "/inventory/" + typ + "/" + escapeID(id), AtDate: atDate, Today: now().Format("2006-01-02"), AtLabel: atLabel(r, at),
		Email: res.Email, FirstSeen: res.FirstSeen, Removed: res.RemovedAt, Facts: profileFacts(string(res.Profile)),
		Sort: r.URL.Query().Get("sort"), Dir: r.URL.Query().Get("dir"),
	}
	if res.Type != "account" {
		d.Account = accountRef(res.AccountID, res.AccountName)
	}
	if res.ParentID != "" {
		d.Parent = ref{Type: res.ParentType, ID: res.ParentID}
		if p, err := h.app.Store.GetResource(ctx, res.ParentType, res.ParentID, at); err == nil {
			d.Parent.Name = p.DisplayName
		}
	}
	// An account, and the IAM read from it, is stale when the latest syncs could not read
	// it: the page shows what was last read, and says when and why.
	stale, err := h.staleAccounts(r)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	d.Stale = stale[staleKey(*res)]
	if d.Stale == nil && res.Stale && res.LastReadAt != nil {
		d.Stale = &staleView{LastRead: *res.LastReadAt, Reason: "the account could not be read"}
	}
	ents, err := h.app.Store.ResourceEntitlements(ctx, typ, id, at)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	for _, e := range ents {
		d.Entitlements = append(d.Entitlements, ref{Type: "entitlement", ID: e.ID, Name: entitlementLabel(e.DisplayName, e.Slug, e.ID),
			Extra: strconv.Itoa(e.Grants) + " holder" + plural(e.Grants)})
		token := ""
		for len(d.Grants) < maxGrantsShown {
			gs, next, err := h.app.Store.EntitlementGrants(ctx, e.ID, at, store.Page{Size: 500, Token: token})
			if err != nil {
				h.serverError(w, r, err)
				return
			}
			for _, g := range gs {
				d.Grants = append(d.Grants, grantOf(g))
			}
			if token = next; token == "" {
				break
			}
		}
		if len(d.Grants) >= maxGrantsShown {
			d.Truncated = true
			break
		}
	}
	held, err := h.app.Store.PrincipalGrants(ctx, typ, id, at)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	for _, g := range held {
		d.Held = append(d.Held, grantOf(g))
	}
	sortGrants(d.Grants, d.Sort, d.Dir)
	sortGrants(d.Held, "what", "")
	d.Total = len(d.Grants)
	if r.URL.Query().Get("all") == "" && len(d.Grants) > rowsShown {
		d.Grants = d.Grants[:rowsShown]
		d.All = withQuery(r.URL.RequestURI(), "all", "1")
	}
	if r.URL.Query().Get("all") == "" && len(d.Held) > rowsShown {
		d.Held = d.Held[:rowsShown]
		d.All = withQuery(r.URL.RequestURI(), "all", "1")
	}
	h.renderCached(w, r, ck, "resource", page{Title: d.Resource.Label(), Section: "inventory", Data: d})
}

// entitlementLabel is what an entitlement is called: its display name, else its slug.
func entitlementLabel(name, slug, id string) string {
	return cmp.Or(name, slug, id)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// grantOf is a grant as the pages show it.
func grantOf(g store.Grant) grantView {
	v := grantView{
		ID:          g.ID,
		Principal:   ref{Type: g.PrincipalType, ID: g.PrincipalID, Name: g.PrincipalName, Extra: g.PrincipalEmail},
		Entitlement: ref{Type: "entitlement", ID: g.EntitlementID, Name: cmp.Or(g.EntitlementName, g.EntitlementID)},
		Resource:    ref{Type: g.ResourceType, ID: g.ResourceID},
		Account:     accountRef(g.AccountID, g.AccountName),
		Direct:      g.Direct || len(g.Via) == 0,
		Since:       g.FirstSeen, Removed: g.RemovedAt, Stale: g.Stale,
	}
	for i, via := range g.Via {
		name := via
		if i < len(g.ViaNames) && g.ViaNames[i] != "" {
			name = g.ViaNames[i]
		}
		v.Via = append(v.Via, ref{Type: "entitlement", ID: via, Name: name})
	}
	return v
}

// sortGrants orders grants by the column key ("who", "what", "account", "since"; default
// who) and direction ("desc" reverses). Names compare without case; each is lowered once.
func sortGrants(gs []grantView, key, dir string) {
	type keyed struct {
		a, b string
		g    grantView
	}
	ks := make([]keyed, len(gs))
	for i, g := range gs {
		who, what := strings.ToLower(g.Principal.Label()), strings.ToLower(g.Entitlement.Label())
		switch key {
		case "what":
			ks[i] = keyed{what, who, g}
		case "account":
			ks[i] = keyed{strings.ToLower(g.Account.Label()), what, g}
		case "since":
			ks[i] = keyed{g.Since.UTC().Format("2006-01-02T15:04:05.000000000"), g.ID, g} // fixed width: sorts as text
		default:
			ks[i] = keyed{who, what, g}
		}
	}
	slices.SortStableFunc(ks, func(x, y keyed) int {
		c := cmp.Or(strings.Compare(x.a, y.a), strings.Compare(x.b, y.b))
		if dir == "desc" {
			return -c
		}
		return c
	})
	for i := range ks {
		gs[i] = ks[i].g
	}
}

// entitlementData is an entitlement's page.
type entitlementData struct {
	ID, Name string
	AtLabel  string
	Resource ref
	Account  ref
	Self     string
	AtDate   string
	Today    string
	Stale    *staleView
	Grants   []grantView
	More     string
}

// entitlement shows who holds one entitlement (AdministratorAccess on prod) and through
// what, paged; ?at= shows who could reach it on a past day.
func (h *handlers) entitlement(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	at, atDate, ok := asOf(r)
	if !ok {
		badAsOf(h, w, r)
		return
	}
	ck, hit := h.fromCache(w, r, "inventory", false)
	if hit {
		return
	}
	ctx := r.Context()
	e, err := h.app.Store.GetEntitlement(ctx, id, at)
	if errors.Is(err, store.ErrNotFound) {
		h.errorPage(w, r, http.StatusNotFound, "Not in the inventory", "There is no entitlement "+id+" in the inventory"+map[bool]string{true: " on " + atDate, false: ""}[at != nil]+".")
		return
	}
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	token := r.URL.Query().Get("page_token")
	gs, next, err := h.app.Store.EntitlementGrants(ctx, id, at, store.Page{Size: listPageSize, Token: token})
	if errors.Is(err, store.ErrBadPageToken) {
		h.badRequest(w, r, "That page no longer exists: start again from the first page.")
		return
	}
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	d := entitlementData{
		ID: e.ID, Name: entitlementLabel(e.DisplayName, e.Slug, e.ID),
		Resource: ref{Type: e.ResourceType, ID: e.ResourceID, Name: e.ResourceName},
		Account:  accountRef(e.AccountID, e.AccountName),
		Self:     "/entitlements/" + escapeID(id), AtDate: atDate, Today: now().Format("2006-01-02"), AtLabel: atLabel(r, at),
	}
	for _, g := range gs {
		d.Grants = append(d.Grants, grantOf(g))
	}
	if next != "" {
		d.More = withQuery(r.URL.RequestURI(), "page_token", next)
	}
	if e.Scope != "" {
		if stale, err := h.staleAccounts(r); err == nil {
			d.Stale = stale[e.Scope]
		}
	}
	p := page{Title: d.Name, Section: "inventory", Data: d}
	if isHTMX(r) && token != "" {
		h.renderFragment(w, r, "entitlement", "rows", p)
		return
	}
	h.renderCached(w, r, ck, "entitlement", p)
}
