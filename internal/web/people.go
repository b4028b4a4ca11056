package web

import (
	"cmp"
	"errors"
	"net/http"
	"strings"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/store"
)

func init() {
	registrations = append(registrations, func(r *auth.Router, h *handlers) {
		r.HandleFunc("GET", "/people", auth.Auditor, h.people)
		// Everyone signed in may open their own person page; the handler refuses others'.
		r.HandleFunc("GET", "/people/{email}", auth.SignedIn, h.person)
	})
}

// personRow is one line of the people list.
type personRow struct {
	Email, Name string
	Identities  int
}

// peopleData is the people list.
type peopleData struct {
	Q      string
	People []personRow
	More   string
}

// people lists the people (by email), searched as you type and paged.
func (h *handlers) people(w http.ResponseWriter, r *http.Request) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	token := r.URL.Query().Get("page_token")
	list, next, err := h.app.Store.ListPeople(r.Context(), q, store.Page{Size: listPageSize, Token: token})
	if errors.Is(err, store.ErrBadPageToken) {
		h.badRequest(w, r, "That page no longer exists: start again from the first page.")
		return
	}
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	d := peopleData{Q: q}
	for _, p := range list {
		d.People = append(d.People, personRow{Email: p.Email, Name: p.Name, Identities: p.IdentityCount})
	}
	if next != "" {
		d.More = withQuery(r.URL.RequestURI(), "page_token", next)
	}
	p := page{Title: "People", Section: "people", Data: d}
	switch {
	case isHTMX(r) && token != "":
		h.renderFragment(w, r, "people", "rows", p)
	case isHTMX(r):
		h.renderFragment(w, r, "people", "results", p)
	default:
		h.render(w, r, http.StatusOK, "people", p)
	}
}

// maxAccessShown bounds the access one person page loads (it sorts on the server).
const maxAccessShown = 5000

// personData is a person's page.
type personData struct {
	Email, Name string
	Own         bool
	Self        string
	AtDate      string
	AtPhrase    string
	AtLabel     string
	Today       string
	Identities  []ref
	Access      []grantView
	Truncated   bool
	More        string
	// Total is how many routes of access there are; Access holds the first rowsShown
	// unless All.
	Total     int
	All       string
	Sort, Dir string
	// Leases says the page loads the person's temporary access (their own page, now, on a
	// server with just-in-time access): htmx fetches it, so the cached page stays current.
	Leases bool
}

// person shows everything one person can reach across accounts (permission set, account,
// direct or through which group, since when), or could on a past day (?at=). A person may
// open only their own page unless they may audit.
func (h *handlers) person(w http.ResponseWriter, r *http.Request) {
	c := auth.FromContext(r.Context())
	email := strings.ToLower(strings.TrimSpace(r.PathValue("email")))
	own := email == strings.ToLower(c.Email)
	if !own && !c.CanAudit() {
		h.forbidden(w, r, "You can see your own access only. An auditor or an admin can see anyone's.")
		return
	}
	at, atDate, ok := asOf(r)
	if !ok {
		badAsOf(h, w, r)
		return
	}
	section := "people"
	if own {
		section = "me"
	}
	ck, hit := h.fromCache(w, r, section, own)
	if hit {
		return
	}
	ctx := r.Context()
	d := personData{Email: email, Own: own, Self: "/people/" + escapeID(email), AtDate: atDate, Today: now().Format("2006-01-02"),
		Sort: r.URL.Query().Get("sort"), Dir: r.URL.Query().Get("dir"), Leases: own && at == nil && h.jit != nil}
	if at != nil {
		d.AtLabel = atLabel(r, at)
		d.AtPhrase = "on " + d.AtLabel
	}
	person, err := h.app.Store.GetPerson(ctx, email)
	switch {
	case errors.Is(err, store.ErrNotFound):
		if !own {
			h.errorPage(w, r, http.StatusNotFound, "Nobody by that email", "No identity in the inventory has ever had the email "+email+".")
			return
		}
		d.Name = c.Name // your own page: empty, not an error
	case err != nil:
		h.serverError(w, r, err)
		return
	default:
		d.Name = person.Name
		for _, id := range person.Identities {
			d.Identities = append(d.Identities, ref{Type: id.Type, ID: id.ID, Name: id.DisplayName, Extra: cmp.Or(id.AccountName, id.AccountID)})
		}
	}
	token := ""
	for {
		list, next, err := h.app.Store.PersonAccess(ctx, email, at, store.Page{Size: 1000, Token: token})
		if err != nil {
			h.serverError(w, r, err)
			return
		}
		for _, a := range list {
			d.Access = append(d.Access, accessOf(a))
		}
		if token = next; token == "" {
			break
		}
		if len(d.Access) >= maxAccessShown {
			d.Truncated = true
			break
		}
	}
	sortGrants(d.Access, cmp.Or(d.Sort, "account"), d.Dir)
	d.Total = len(d.Access)
	if r.URL.Query().Get("all") == "" && len(d.Access) > rowsShown {
		d.Access = d.Access[:rowsShown]
		d.All = withQuery(r.URL.RequestURI(), "all", "1")
	}
	h.renderCached(w, r, ck, "person", page{Title: cmp.Or(d.Name, d.Email), Section: section, Data: d})
}

// accessOf is one route of a person's access as the pages show it.
func accessOf(a store.Access) grantView {
	v := grantView{
		ID:          a.GrantID,
		Principal:   ref{Type: a.PrincipalType, ID: a.PrincipalID, Name: a.PrincipalName},
		Entitlement: ref{Type: "entitlement", ID: a.EntitlementID, Name: cmp.Or(a.EntitlementName, a.EntitlementID)},
		Resource:    ref{Type: a.ResourceType, ID: a.ResourceID, Name: a.ResourceName},
		Account:     accountRef(a.AccountID, a.AccountName),
		Since:       a.Since, Removed: a.Until, Stale: a.Stale, LastUsed: a.LastUsed,
	}
	if a.Via == "direct" || a.Via == "" {
		v.Direct = true
	} else {
		v.Via = []ref{{Type: "entitlement", ID: a.Via, Name: cmp.Or(a.ViaName, a.Via)}}
	}
	return v
}
