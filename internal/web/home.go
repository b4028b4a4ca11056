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

// homeFigures are the inventory part of the home page (it changes with ingestions only).
type homeFigures struct {
	Accounts, People, Grants, Stale int
	Changes                         []changeView
}

// yourAccess is the summary of the caller's own access.
type yourAccess struct {
	Access []grantView
	Total  int
	More   bool
}

func (h *handlers) home(w http.ResponseWriter, r *http.Request) {
	c := auth.FromContext(r.Context())
	ctx := r.Context()
	var d homeData
	version, err := h.app.Store.InventoryVersion(ctx)
	if err != nil {
		version = "" // build everything afresh
	}
	if c.CanAudit() {
		v, err := h.memo.get("home", version, func() (any, error) {
			var f homeFigures
			counts, err := h.app.Store.InventoryCounts(ctx)
			if err != nil {
				return nil, err
			}
			f.Accounts, f.People, f.Grants = counts["account"], counts["people"], counts["grants"]
			stale, err := h.staleAccounts(r)
			if err != nil {
				return nil, err
			}
			f.Stale = len(stale)
			cs, _, err := h.app.Store.Changes(ctx, store.ChangeFilter{From: time.Unix(0, 0).UTC(), To: now()}, store.Page{Size: homeFeedSize})
			if err != nil {
				return nil, err
			}
			for _, ch := range cs {
				f.Changes = append(f.Changes, changeOf(ch))
			}
			return f, nil
		})
		if err != nil {
			h.serverError(w, r, err)
			return
		}
		f := v.(homeFigures)
		d.Accounts, d.People, d.Grants, d.Stale, d.Changes = f.Accounts, f.People, f.Grants, f.Stale, f.Changes
		// The last sync is live (its state moves without an ingestion): read each time.
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
	}
	const shown = 6
	v, err := h.memo.get("access|"+c.Email, version, func() (any, error) {
		access, next, err := h.app.Store.PersonAccess(ctx, c.Email, nil, store.Page{Size: 100})
		if err != nil {
			return nil, err
		}
		y := yourAccess{Total: len(access), More: next != ""}
		for i, a := range access {
			if i == shown {
				break
			}
			y.Access = append(y.Access, accessOf(a))
		}
		return y, nil
	})
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	y := v.(yourAccess)
	d.Access, d.AccessTotal, d.AccessMore = y.Access, y.Total, y.More
	h.render(w, r, http.StatusOK, "home", page{Title: "Home", Section: "home", Data: d})
}
