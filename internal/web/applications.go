package web

import (
	"errors"
	"net/http"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/store"
)

func init() {
	registrations = append(registrations, func(r *auth.Router, h *handlers) {
		r.HandleFunc("GET", "/applications", auth.Auditor, h.applications)
	})
}

// appCount is one resource type's count on an application's card.
type appCount struct {
	Type, Label string
	N           int
}

// appRow is one application as the page shows it.
type appRow struct {
	ID, Name, Kind string
	Counts         []appCount
	Grants         int
	LastSync       *syncRow
}

// applications lists the applications: today one per AWS connection, with what its last
// ingested sync holds and the state of its last sync.
func (h *handlers) applications(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	conns, err := h.app.Store.ListConnections(ctx)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	counts, err := h.app.Store.InventoryCountsByConnection(ctx)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	var rows []appRow
	for _, c := range conns {
		row := appRow{ID: c.ID, Name: c.Name, Kind: "AWS", Grants: counts[c.ID]["grants"]}
		for _, rt := range resourceTypes {
			if n := counts[c.ID][rt.Type]; n > 0 {
				row.Counts = append(row.Counts, appCount{Type: rt.Type, Label: rt.Label, N: n})
			}
		}
		last, err := h.app.Store.LatestSync(ctx, c.ID)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			h.serverError(w, r, err)
			return
		default:
			sr := h.syncRows([]store.Sync{*last}, conns)[0]
			row.LastSync = &sr
		}
		rows = append(rows, row)
	}
	h.render(w, r, http.StatusOK, "applications", page{Title: "Applications", Section: "applications", Data: rows})
}
