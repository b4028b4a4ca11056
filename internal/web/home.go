package web

import (
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/store"
)

func init() {
	registrations = append(registrations, func(r *auth.Router, h *handlers) {
		r.HandleFunc("GET", "/{$}", auth.SignedIn, h.home)
	})
}

// homeFeedSize is how many changes the home page's feed shows.
const homeFeedSize = 12

// homeData is the home page: for auditors the inventory's counts, the last sync and the
// change feed; for everyone a summary of their own access.
type homeData struct {
	Accounts, People, Grants, Stale int
	LastSync                        *syncRow
	CanSync                         bool
	Changes                         []changeView
	Access                          []grantView
	AccessTotal                     int
	AccessMore                      bool
}

func (h *handlers) home(w http.ResponseWriter, r *http.Request) {
	c := auth.FromContext(r.Context())
	ctx := r.Context()
	var d homeData
	if c.CanAudit() {
		counts, err := h.app.Store.InventoryCounts(ctx)
		if err != nil {
			h.serverError(w, r, err)
			return
		}
		d.Accounts, d.People, d.Grants = counts["account"], counts["people"], counts["grants"]
		stale, err := h.staleAccounts(r)
		if err != nil {
			h.serverError(w, r, err)
			return
		}
		d.Stale = len(stale)
		syncs, _, err := h.app.Store.ListSyncs(ctx, "", store.Page{Size: 1})
		if err != nil {
			h.serverError(w, r, err)
			return
		}
		conns, err := h.app.Store.ListConnections(ctx)
		if err != nil {
			h.serverError(w, r, err)
			return
		}
		d.CanSync = len(conns) == 1 && h.app.Syncs != nil
		if len(syncs) > 0 {
			row := h.syncRows(syncs, conns)[0]
			d.LastSync = &row
		}
		cs, _, err := h.app.Store.Changes(ctx, store.ChangeFilter{From: time.Unix(0, 0).UTC(), To: now()}, store.Page{Size: homeFeedSize})
		if err != nil {
			h.serverError(w, r, err)
			return
		}
		for _, ch := range cs {
			d.Changes = append(d.Changes, changeOf(ch))
		}
	}
	const shown = 6
	access, next, err := h.app.Store.PersonAccess(ctx, c.Email, nil, store.Page{Size: 100})
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	d.AccessTotal, d.AccessMore = len(access), next != ""
	for i, a := range access {
		if i == shown {
			break
		}
		d.Access = append(d.Access, accessOf(a))
	}
	h.render(w, r, http.StatusOK, "home", page{Title: "Home", Section: "home", Data: d})
}
