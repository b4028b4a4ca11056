package web

import (
	"cmp"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/store"
)

func init() {
	registrations = append(registrations, func(r *auth.Router, h *handlers) {
		r.HandleFunc("GET", "/history", auth.Auditor, h.history)
		r.HandleFunc("GET", "/history/reach", auth.Auditor, h.reach)
	})
}

// maxChangesShown bounds the changes one history page loads.
const maxChangesShown = 500

// groupShown is how many changes each group shows; the rest are one click away, on the
// page narrowed to that account or person.
const groupShown = 10

// changeGroup is the changes of one account, one person, or (by time) all of them.
type changeGroup struct {
	Ref            ref
	Title          string
	Added, Removed int
	Changes        []changeView
	// Hidden is how many changes are not shown; More narrows the page to the group.
	Hidden int
	More   string
}

// historyData is the history page.
type historyData struct {
	Syncs            []store.Sync
	Accounts         []ref
	From, To, By     string
	Account, Person  string
	FromDate, ToDate string
	Today            string
	Range            string
	Added, Removed   int
	Changes          []changeView
	Groups           []changeGroup
	Truncated        bool
}

// history answers "what changed between two syncs" (or two days): the grants added and
// removed in (from, to], grouped per account, per person, or in time order.
func (h *handlers) history(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	d := historyData{From: q.Get("from"), To: q.Get("to"), By: cmp.Or(q.Get("by"), "account"),
		Account: q.Get("account"), Person: q.Get("person"),
		FromDate: q.Get("from_date"), ToDate: q.Get("to_date"), Today: now().Format("2006-01-02")}
	ck, hit := h.fromCache(w, r, "history", false)
	if hit {
		return
	}
	ctx := r.Context()
	syncs, _, err := h.app.Store.ListSyncs(ctx, "", store.Page{Size: 50})
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	for _, s := range syncs {
		if s.Final() && s.State != store.SyncFailed {
			d.Syncs = append(d.Syncs, s)
		}
	}
	accts, _, err := h.app.Store.ListResources(ctx, store.ResourceFilter{Type: "account"}, store.Page{Size: 1000})
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	for _, a := range accts {
		d.Accounts = append(d.Accounts, ref{Type: "account", ID: a.ID, Name: a.DisplayName})
	}
	// Without a range, show what the latest sync changed: from the one before it.
	if d.From == "" && d.To == "" && d.FromDate == "" && d.ToDate == "" && len(d.Syncs) >= 2 {
		d.From, d.To = d.Syncs[1].ID, d.Syncs[0].ID
	}
	from, fromLabel, err := h.point(r, d.From, d.FromDate, false)
	if err != nil {
		h.badRequest(w, r, "From: "+err.Error())
		return
	}
	to, toLabel, err := h.point(r, d.To, d.ToDate, true)
	if err != nil {
		h.badRequest(w, r, "To: "+err.Error())
		return
	}
	if from.IsZero() {
		from, fromLabel = time.Unix(0, 0).UTC(), "the beginning"
	}
	if to.IsZero() {
		to, toLabel = now(), "now"
	}
	if !to.After(from) {
		h.badRequest(w, r, "The end of the range ("+toLabel+") must come after its start ("+fromLabel+").")
		return
	}
	d.Range = "After " + fromLabel + ", up to " + toLabel
	token := ""
	for len(d.Changes) < maxChangesShown {
		cs, next, err := h.app.Store.Changes(ctx, store.ChangeFilter{From: from, To: to, AccountID: d.Account, Person: d.Person},
			store.Page{Size: 500, Token: token})
		if err != nil {
			h.serverError(w, r, err)
			return
		}
		for _, c := range cs {
			d.Changes = append(d.Changes, changeOf(c))
		}
		if token = next; token == "" {
			break
		}
	}
	if len(d.Changes) > maxChangesShown {
		d.Changes = d.Changes[:maxChangesShown]
	}
	d.Truncated = token != ""
	for _, c := range d.Changes {
		if c.Kind == store.ChangeAdded {
			d.Added++
		} else {
			d.Removed++
		}
	}
	d.Groups = groupChanges(d.Changes, d.By)
	narrowed := d.Account != "" || d.Person != ""
	for i := range d.Groups {
		g := &d.Groups[i]
		if narrowed || len(g.Changes) <= groupShown {
			continue
		}
		g.Hidden = len(g.Changes) - groupShown
		g.Changes = g.Changes[:groupShown]
		switch g.Ref.Type {
		case "account":
			g.More = withQuery(r.URL.RequestURI(), "account", g.Ref.ID, "from", d.From, "to", d.To)
		case "person":
			g.More = withQuery(r.URL.RequestURI(), "person", g.Ref.ID, "from", d.From, "to", d.To)
		}
	}
	h.renderCached(w, r, ck, "history", page{Title: "History", Section: "history", Data: d})
}

// point resolves one end of a range: a sync id (the time it was ingested), else a day
// (its start, or for the end of a range its end), else zero (open).
func (h *handlers) point(r *http.Request, syncID, day string, end bool) (time.Time, string, error) {
	if syncID != "" {
		at, err := h.app.Store.IngestAt(r.Context(), syncID)
		if errors.Is(err, store.ErrNotFound) {
			return time.Time{}, "", errors.New("sync " + syncID + " was never ingested (it failed, or is still running): pick another")
		}
		if err != nil {
			return time.Time{}, "", err
		}
		return at, "sync " + syncID + " (" + when(at) + ")", nil
	}
	if day == "" {
		return time.Time{}, "", nil
	}
	t, err := parseDay(day, end)
	if err != nil {
		return time.Time{}, "", errors.New("give a day such as 2026-01-31, got " + strconv.Quote(day))
	}
	if end {
		return *t, "the end of " + day, nil
	}
	return *t, "the start of " + day, nil
}

// changeOf is a change as the pages show it.
func changeOf(c store.Change) changeView {
	return changeView{
		Kind: c.Kind, At: c.At, SyncID: c.SyncID,
		Principal:   ref{Type: c.PrincipalType, ID: c.PrincipalID, Name: c.PrincipalName},
		Entitlement: ref{Type: "entitlement", ID: c.EntitlementID, Name: cmp.Or(c.EntitlementName, c.EntitlementID)},
		Account:     accountRef(c.AccountID, c.AccountName),
		Person:      c.Person,
		Initial:     c.Initial,
	}
}

// groupChanges groups changes by account or person (groups by name, changes in feed
// order), or keeps them as one group in time order.
func groupChanges(cs []changeView, by string) []changeGroup {
	if len(cs) == 0 {
		return nil
	}
	if by == "time" {
		g := changeGroup{Title: "All changes, newest first", Changes: cs}
		for _, c := range cs {
			count(&g, c)
		}
		return []changeGroup{g}
	}
	idx := map[string]int{}
	var out []changeGroup
	for _, c := range cs {
		var key string
		var r ref
		title := ""
		switch by {
		case "person":
			if c.Person != "" {
				key, r = "p:"+c.Person, ref{Type: "person", ID: c.Person}
			} else {
				key, title = "np", "Not linked to a person (roles, groups, users without an email)"
			}
		default:
			if c.Account.ID != "" {
				key, r = "a:"+c.Account.ID, c.Account
			} else {
				key, title = "na", "Organization-wide (Identity Center groups)"
			}
		}
		i, ok := idx[key]
		if !ok {
			i = len(out)
			idx[key] = i
			out = append(out, changeGroup{Ref: r, Title: title})
		}
		out[i].Changes = append(out[i].Changes, c)
		count(&out[i], c)
	}
	slices.SortStableFunc(out, func(a, b changeGroup) int {
		// Named groups by name; the catch-all group last.
		if (a.Ref.ID == "") != (b.Ref.ID == "") {
			if a.Ref.ID == "" {
				return 1
			}
			return -1
		}
		return cmp.Compare(a.Ref.Label(), b.Ref.Label())
	})
	return out
}

func count(g *changeGroup, c changeView) {
	if c.Kind == store.ChangeAdded {
		g.Added++
	} else {
		g.Removed++
	}
}

// reach answers "who could reach account X on day D" with the account's page as of D.
func (h *handlers) reach(w http.ResponseWriter, r *http.Request) {
	acct, at := r.URL.Query().Get("account"), r.URL.Query().Get("at")
	if acct == "" {
		h.badRequest(w, r, "Choose an account.")
		return
	}
	if _, err := time.Parse("2006-01-02", at); err != nil {
		h.badRequest(w, r, "Give the day as 2026-01-31, got "+strconv.Quote(at)+".")
		return
	}
	http.Redirect(w, r, withQuery("/inventory/account/"+escapeID(acct), "at", at), http.StatusSeeOther)
}
