package web

import (
	"errors"
	"net/http"
	"sort"
	"strings"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/jit"
	"github.com/gatehouse/gatehouse/internal/store"
)

// The catalog: what a person may request. AWS, then an account, then its permission sets,
// each with a "Request" button, what it grants, and which rule applies and why (or why the
// person cannot request it). Search looks through everything requestable at once.

func init() {
	registrations = append(registrations, func(r *auth.Router, h *handlers) {
		r.HandleFunc("GET", "/catalog", auth.SignedIn, h.catalog)
		r.HandleFunc("GET", "/catalog/aws/{account}", auth.SignedIn, h.catalogAccount)
	})
}

// maxCatalogPages bounds how many pages of the catalog the overview reads to count what
// each account offers (at 500 a page, 20,000 entitlements).
const maxCatalogPages = 40

// catalogAccount is one account of the overview.
type catalogAccount struct {
	ID, Name    string
	Requestable int
}

// URL is the account's catalog page.
func (a catalogAccount) URL() string { return "/catalog/aws/" + escapeID(a.ID) }

// catalogData is the catalog overview, or the search results when Q is set.
type catalogData struct {
	Q        string
	Accounts []catalogAccount
	Items    []jit.CatalogItem
	// Groups are the Identity Center groups the caller may request to join.
	Groups []jit.CatalogItem
	// Apps are the entitlements of applications imported from files the caller may request.
	Apps []jit.CatalogItem
	More string
	// Total is how many entitlements the caller may request; Partial says the count stopped
	// at maxCatalogPages.
	Total   int
	Partial bool
}

// catalog shows the accounts with what the caller may request in each, or the search
// results (htmx swaps them in as the person types).
func (h *handlers) catalog(w http.ResponseWriter, r *http.Request) {
	svc := h.jitService(w, r)
	if svc == nil {
		return
	}
	c := auth.FromContext(r.Context())
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	d := catalogData{Q: q}
	p := page{Title: "Catalog", Section: "catalog"}
	if q != "" {
		token := r.URL.Query().Get("page_token")
		items, next, err := svc.Catalog(r.Context(), c, jit.CatalogQuery{Q: q, Page: store.Page{Size: listPageSize, Token: token}})
		if err != nil {
			h.jitError(w, r, err)
			return
		}
		d.Items = items
		if next != "" {
			d.More = withQuery(r.URL.RequestURI(), "page_token", next)
		}
		p.Data = d
		switch {
		case isHTMX(r) && token != "":
			h.renderFragment(w, r, "catalog", "item-rows", p)
		case isHTMX(r):
			h.renderFragment(w, r, "catalog", "results", p)
		default:
			h.render(w, r, http.StatusOK, "catalog", p)
		}
		return
	}
	// The overview: every account of the inventory, with how many of its permission sets
	// the caller may request.
	counts := map[string]int{}
	token := ""
	for i := 0; ; i++ {
		if i == maxCatalogPages {
			d.Partial = true
			break
		}
		items, next, err := svc.Catalog(r.Context(), c, jit.CatalogQuery{Page: store.Page{Size: 500, Token: token}})
		if err != nil {
			h.jitError(w, r, err)
			return
		}
		for _, it := range items {
			switch it.ResourceType {
			case "sso_group":
				d.Groups = append(d.Groups, it)
			case "app_resource":
				d.Apps = append(d.Apps, it)
			default:
				counts[it.AccountID]++
			}
			d.Total++
		}
		if next == "" {
			break
		}
		token = next
	}
	accounts, err := h.allAccounts(r)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	for _, a := range accounts {
		d.Accounts = append(d.Accounts, catalogAccount{ID: a.ID, Name: a.DisplayName, Requestable: counts[a.ID]})
	}
	sort.SliceStable(d.Accounts, func(i, j int) bool {
		a, b := d.Accounts[i], d.Accounts[j]
		if (a.Requestable > 0) != (b.Requestable > 0) {
			return a.Requestable > 0
		}
		return strings.ToLower(a.Name) < strings.ToLower(b.Name)
	})
	p.Data = d
	if isHTMX(r) {
		h.renderFragment(w, r, "catalog", "results", p)
		return
	}
	h.render(w, r, http.StatusOK, "catalog", p)
}

// allAccounts lists the inventory's accounts (every page).
func (h *handlers) allAccounts(r *http.Request) ([]store.Resource, error) {
	var out []store.Resource
	token := ""
	for {
		list, next, err := h.app.Store.ListResources(r.Context(), store.ResourceFilter{Type: "account"}, store.Page{Size: 500, Token: token})
		if err != nil {
			return nil, err
		}
		out = append(out, list...)
		if next == "" {
			return out, nil
		}
		token = next
	}
}

// catalogAccountData is one account's permission sets, each as the caller sees it.
type catalogAccountData struct {
	Account store.Resource
	Entries []jit.CatalogEntry
	// Groups are the account's IAM groups the caller may request to join.
	Groups []jit.CatalogItem
	// Failed are the entitlements whose terms could not be read, with why.
	Failed [][2]string
}

// catalogAccount shows an account's permission sets: what each grants, and whether the
// caller may request it, under which rule and why, or why not.
func (h *handlers) catalogAccount(w http.ResponseWriter, r *http.Request) {
	svc := h.jitService(w, r)
	if svc == nil {
		return
	}
	c := auth.FromContext(r.Context())
	id := r.PathValue("account")
	acct, err := h.app.Store.GetResource(r.Context(), "account", id, nil)
	if errors.Is(err, store.ErrNotFound) {
		h.errorPage(w, r, http.StatusNotFound, "No such account", "There is no account "+id+" in the inventory. The catalog lists the accounts the last sync found.")
		return
	}
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	ents, err := h.app.Store.ResourceEntitlements(r.Context(), "account", id, nil)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	d := catalogAccountData{Account: *acct}
	for _, e := range ents {
		entry, err := svc.Entry(r.Context(), c, e.ID)
		if err != nil {
			if jit.CodeOf(err) == 0 {
				h.jitError(w, r, err)
				return
			}
			d.Failed = append(d.Failed, [2]string{e.DisplayName, sentence(err.Error())})
			continue
		}
		d.Entries = append(d.Entries, *entry)
	}
	items, _, err := svc.Catalog(r.Context(), c, jit.CatalogQuery{AccountID: id, Page: store.Page{Size: 500}})
	if err != nil {
		h.jitError(w, r, err)
		return
	}
	for _, it := range items {
		if it.ResourceType == "iam_group" {
			d.Groups = append(d.Groups, it)
		}
	}
	sort.SliceStable(d.Entries, func(i, j int) bool {
		a, b := d.Entries[i], d.Entries[j]
		if a.Requestable != b.Requestable {
			return a.Requestable
		}
		return strings.ToLower(entryName(a)) < strings.ToLower(entryName(b))
	})
	h.render(w, r, http.StatusOK, "catalog_account", page{Title: "Catalog: " + acct.DisplayName, Section: "catalog", Data: d})
}

// entryName is what an entry is called: its permission set's name, or its display name.
func entryName(e jit.CatalogEntry) string {
	if e.Item.PermissionSetName != "" {
		return e.Item.PermissionSetName
	}
	return e.Item.DisplayName
}
