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
	// File says the application's access comes from files (imports), with its owner, its
	// number of imports and its last import run.
	File       bool
	Owner      string
	Imports    int
	LastImport *store.AppRun
}

// applicationsData is the applications page: the list and, for admins, the form that
// creates an application imported from files.
type applicationsData struct {
	Apps []appRow
	Form applicationForm
}

// applications lists the applications: one per AWS connection, with what its last
// ingested sync holds and the state of its last sync, then the applications imported
// from files with their last import.
func (h *handlers) applications(w http.ResponseWriter, r *http.Request) {
	h.renderApplications(w, r, http.StatusOK, applicationForm{})
}

// fileAppCounts are the inventory counts an application imported from files shows.
var fileAppCounts = []struct{ Key, Label string }{
	{"app_user", "Users"},
	{"app_resource", "Resources"},
	{"entitlements", "Entitlements"},
}

func (h *handlers) renderApplications(w http.ResponseWriter, r *http.Request, status int, form applicationForm) {
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
	apps, err := h.app.Store.ListApps(ctx)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	for _, a := range apps {
		row := appRow{ID: a.ID, Name: a.Name, Kind: "File", File: true, Owner: a.Owner, Grants: counts[a.ID]["grants"]}
		for _, c := range fileAppCounts {
			if n := counts[a.ID][c.Key]; n > 0 {
				row.Counts = append(row.Counts, appCount{Type: c.Key, Label: c.Label, N: n})
			}
		}
		ims, err := h.app.Store.ListAppImports(ctx, a.ID)
		if err != nil {
			h.serverError(w, r, err)
			return
		}
		row.Imports = len(ims)
		last, err := h.app.Store.LatestAppRun(ctx, a.ID)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			h.serverError(w, r, err)
			return
		default:
			row.LastImport = last
		}
		rows = append(rows, row)
	}
	h.render(w, r, status, "applications", page{Title: "Applications", Section: "applications", Data: applicationsData{Apps: rows, Form: form}})
}
