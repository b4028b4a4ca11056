package api

import (
	"context"
	"errors"
	"net/http"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/problem"
	"github.com/gatehouse/gatehouse/internal/store"
)

func init() {
	registrations = append(registrations, func(r *auth.Router, h *handlers) {
		r.HandleFunc("GET", "/api/v1/applications", auth.Auditor, h.listApplications)
		r.HandleFunc("GET", "/api/v1/applications/{id}", auth.Auditor, h.getApplication)
	})
}

// Application is a source of identities and access. Today every application is an AWS
// organization read through a connection (kind "aws", id the connection's id); the S3 data
// source adds applications imported from files.
type Application struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Kind         string `json:"kind"`
	ConnectionID string `json:"connection_id"`
	// Counts are the current resources per type and "grants", as of the last ingested
	// sync (empty before the first).
	Counts   map[string]int `json:"counts"`
	LastSync *Sync          `json:"last_sync"`
}

// applications builds the applications, one per connection.
func (h *handlers) applications(ctx context.Context) ([]Application, error) {
	conns, err := h.app.Store.ListConnections(ctx)
	if err != nil {
		return nil, err
	}
	counts, err := h.app.Store.InventoryCountsByConnection(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Application, 0, len(conns))
	for _, c := range conns {
		a := Application{ID: c.ID, Name: c.Name, Kind: c.Kind, ConnectionID: c.ID, Counts: counts[c.ID]}
		if a.Counts == nil {
			a.Counts = map[string]int{}
		}
		last, err := h.app.Store.LatestSync(ctx, c.ID)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return nil, err
		default:
			s := syncJSON(last)
			a.LastSync = &s
		}
		out = append(out, a)
	}
	return out, nil
}

// listApplications: GET /api/v1/applications (auditor): {"items": [{"id", "name",
// "kind", "connection_id", "counts", "last_sync"}]}, by id.
func (h *handlers) listApplications(w http.ResponseWriter, r *http.Request) {
	apps, err := h.applications(r.Context())
	if err != nil {
		h.app.Log.Error("list applications", zap.Error(err))
		problem.Write(w, http.StatusInternalServerError, "the applications could not be read; see the server log")
		return
	}
	writeList(w, apps, "")
}

// getApplication: GET /api/v1/applications/{id} (auditor): one application; 404 when
// there is none with that id.
func (h *handlers) getApplication(w http.ResponseWriter, r *http.Request) {
	apps, err := h.applications(r.Context())
	if err != nil {
		h.app.Log.Error("read application", zap.Error(err))
		problem.Write(w, http.StatusInternalServerError, "the application could not be read; see the server log")
		return
	}
	for _, a := range apps {
		if a.ID == r.PathValue("id") {
			writeJSON(w, http.StatusOK, a)
			return
		}
	}
	problem.Write(w, http.StatusNotFound, "no application "+r.PathValue("id")+" (GET /api/v1/applications lists them)")
}
