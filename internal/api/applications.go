package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/internal/appimport"
	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/problem"
	"github.com/gatehouse/gatehouse/internal/store"
)

func init() {
	registrations = append(registrations, func(r *auth.Router, h *handlers) {
		r.HandleFunc("GET", "/api/v1/applications", auth.Auditor, h.listApplications)
		r.HandleFunc("POST", "/api/v1/applications", auth.Admin, h.createApplication)
		r.HandleFunc("GET", "/api/v1/applications/{id}", auth.Auditor, h.getApplication)
		r.HandleFunc("POST", "/api/v1/applications/{id}/imports", auth.Admin, h.createImport)
		r.HandleFunc("GET", "/api/v1/applications/{id}/runs", auth.Auditor, h.listImportRuns)
		r.HandleFunc("POST", "/api/v1/applications/{id}/runs/{run}/approve", auth.Admin, h.decideImportRun(true))
		r.HandleFunc("POST", "/api/v1/applications/{id}/runs/{run}/reject", auth.Admin, h.decideImportRun(false))
	})
}

// Application is a source of identities and access: an AWS organization read through a
// connection (kind "aws", id the connection's id) or an application imported from files
// (kind "file", id "app_..."; its inventory's connection id is its id). The fields after
// last_sync are a file application's.
type Application struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Kind         string `json:"kind"`
	ConnectionID string `json:"connection_id"`
	// Counts are the current resources per type and "grants", as of the last ingested
	// sync or import (empty before the first).
	Counts   map[string]int `json:"counts"`
	LastSync *Sync          `json:"last_sync"`

	Owner           string `json:"owner,omitempty"`
	RemoveThreshold *int   `json:"remove_threshold,omitempty"`
	CreatedAt       string `json:"created_at,omitempty"`
	// Imports are the application's imports (file applications).
	Imports []Import `json:"imports,omitempty"`
	// LastImport is the newest run of the application's imports (absent before the first).
	LastImport *ImportRun `json:"last_import,omitempty"`
}

// Import is one import of a file application: which files of which data source.
type Import struct {
	ID            string            `json:"id"`
	ApplicationID string            `json:"application_id"`
	DatasourceID  string            `json:"datasource_id"`
	File          string            `json:"file"`
	Files         []string          `json:"files"`
	Format        string            `json:"format"`
	Mapping       map[string]string `json:"mapping"`
	Sheet         string            `json:"sheet"`
	CreatedBy     string            `json:"created_by"`
	CreatedAt     string            `json:"created_at"`
	// ReadError (create only) says why the file could not be read at once; the import
	// stays attached and runs when the data source next reads a new version.
	ReadError string `json:"read_error,omitempty"`
}

// ImportRun is one run of an import: applied, rejected (with its errors) or held (until
// an admin approves or rejects it), with the provenance of the files it read.
type ImportRun struct {
	ID             string             `json:"id"`
	ImportID       string             `json:"import_id"`
	State          string             `json:"state"`
	Errors         []store.AppProblem `json:"errors"`
	Provenance     []ImportProvenance `json:"provenance"`
	Diff           store.AppDiff      `json:"diff"`
	NearDuplicates []any              `json:"near_duplicates"`
	HeldReason     string             `json:"held_reason,omitempty"`
	DecidedBy      string             `json:"decided_by,omitempty"`
	DecidedAt      *string            `json:"decided_at"`
	SyncID         string             `json:"sync_id,omitempty"`
	At             string             `json:"at"`
}

// ImportProvenance is one read of a file a run used.
type ImportProvenance struct {
	Key       string `json:"key"`
	VersionID string `json:"version_id"`
	ETag      string `json:"etag"`
	Size      int64  `json:"size"`
	Checksum  string `json:"checksum"`
	ReadAt    string `json:"read_at"`
}

func importJSON(im *store.AppImport) Import {
	m := im.Mapping
	if m == nil {
		m = map[string]string{}
	}
	return Import{ID: im.ID, ApplicationID: im.AppID, DatasourceID: im.DatasourceID, File: im.Files[0], Files: im.Files,
		Format: im.Format, Mapping: m, Sheet: im.Sheet, CreatedBy: im.CreatedBy, CreatedAt: rfc3339(im.CreatedAt)}
}

func importRunJSON(x *store.AppRun) ImportRun {
	out := ImportRun{ID: x.ID, ImportID: x.ImportID, State: x.State, Errors: x.Errors, Provenance: []ImportProvenance{},
		Diff: x.Diff, NearDuplicates: []any{}, HeldReason: x.HeldReason, DecidedBy: x.DecidedBy, DecidedAt: timeOrNil(x.DecidedAt),
		SyncID: x.SyncID, At: rfc3339(x.At)}
	if out.Errors == nil {
		out.Errors = []store.AppProblem{}
	}
	for _, p := range x.Provenance {
		out.Provenance = append(out.Provenance, ImportProvenance{Key: p.Key, VersionID: p.VersionID, ETag: p.ETag, Size: p.Size,
			Checksum: p.Checksum, ReadAt: rfc3339(p.ReadAt)})
	}
	if len(x.NearDuplicates) > 0 {
		_ = json.Unmarshal(x.NearDuplicates, &out.NearDuplicates)
		if out.NearDuplicates == nil {
			out.NearDuplicates = []any{}
		}
	}
	return out
}

// applications builds the applications: one per connection, then the file applications.
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
	apps, err := h.app.Store.ListApps(ctx)
	if err != nil {
		return nil, err
	}
	for i := range apps {
		a, err := h.fileApplication(ctx, &apps[i], counts)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// fileApplication is an imported application with its imports and last run.
func (h *handlers) fileApplication(ctx context.Context, app *store.App, counts map[string]map[string]int) (Application, error) {
	th := app.RemoveThreshold
	a := Application{ID: app.ID, Name: app.Name, Kind: "file", ConnectionID: app.ID, Counts: counts[app.ID],
		Owner: app.Owner, RemoveThreshold: &th, CreatedAt: rfc3339(app.CreatedAt), Imports: []Import{}}
	if a.Counts == nil {
		a.Counts = map[string]int{}
	}
	ims, err := h.app.Store.ListAppImports(ctx, app.ID)
	if err != nil {
		return a, err
	}
	for i := range ims {
		a.Imports = append(a.Imports, importJSON(&ims[i]))
	}
	last, err := h.app.Store.LatestAppRun(ctx, app.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return a, err
	default:
		r := importRunJSON(last)
		a.LastImport = &r
	}
	return a, nil
}

// listApplications: GET /api/v1/applications (auditor): {"items": [{"id", "name",
// "kind" ("aws" or "file"), "connection_id", "counts", "last_sync", and for files
// "owner", "remove_threshold", "created_at", "imports", "last_import"}]}: the
// connections by id, then the file applications by id.
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
// there is none with that id. A file application's last_import is {state ("applied",
// "rejected" or "held"), errors [{file, row, column, message}], provenance [{key,
// version_id, etag, size, checksum, read_at}], diff, held_reason, ...}.
func (h *handlers) getApplication(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if strings.HasPrefix(id, "app_") {
		app, err := h.app.Store.GetApp(r.Context(), id)
		if err == nil {
			var counts map[string]map[string]int
			if counts, err = h.app.Store.InventoryCountsByConnection(r.Context()); err == nil {
				var a Application
				if a, err = h.fileApplication(r.Context(), app, counts); err == nil {
					writeJSON(w, http.StatusOK, a)
					return
				}
			}
		}
		if !errors.Is(err, store.ErrNotFound) {
			h.app.Log.Error("read application", zap.Error(err))
			problem.Write(w, http.StatusInternalServerError, "the application could not be read; see the server log")
			return
		}
	}
	apps, err := h.applications(r.Context())
	if err != nil {
		h.app.Log.Error("read application", zap.Error(err))
		problem.Write(w, http.StatusInternalServerError, "the application could not be read; see the server log")
		return
	}
	for _, a := range apps {
		if a.ID == id {
			writeJSON(w, http.StatusOK, a)
			return
		}
	}
	problem.Write(w, http.StatusNotFound, "no application "+id+" (GET /api/v1/applications lists them)")
}

// ApplicationInput is the body of POST /api/v1/applications.
type ApplicationInput struct {
	Name  string `json:"name"`
	Owner string `json:"owner"`
	// RemoveThreshold is the percent of the application's grants an import may remove
	// before it is held for an admin (default 20).
	RemoveThreshold *int `json:"remove_threshold,omitempty"`
}

// ImportInput is the body of POST /api/v1/applications/{id}/imports: the data source and
// the file (its key in the bucket), or files (identities and grants apart).
type ImportInput struct {
	DatasourceID string            `json:"datasource_id"`
	File         string            `json:"file"`
	Files        []string          `json:"files,omitempty"`
	Format       string            `json:"format,omitempty"`
	Mapping      map[string]string `json:"mapping,omitempty"`
	Sheet        string            `json:"sheet,omitempty"`
}

// applicationsService answers 503 when the server runs without the imports service.
func (h *handlers) applicationsService(w http.ResponseWriter) *appimport.Service {
	if h.app.Applications == nil {
		problem.Write(w, http.StatusServiceUnavailable, "applications from files are not available on this server")
	}
	return h.app.Applications
}

func (h *handlers) applicationError(w http.ResponseWriter, err error, notFound string) {
	switch {
	case errors.Is(err, appimport.ErrInvalid):
		badRequest(w, strings.TrimPrefix(err.Error(), appimport.ErrInvalid.Error()+": "))
	case errors.Is(err, appimport.ErrState):
		problem.Write(w, http.StatusConflict, strings.TrimPrefix(err.Error(), appimport.ErrState.Error()+": "))
	case errors.Is(err, store.ErrNotFound):
		problem.Write(w, http.StatusNotFound, notFound)
	case errors.Is(err, store.ErrBadPageToken):
		badRequest(w, "page_token is not one this list returned: start again without it")
	default:
		h.app.Log.Error("applications", zap.Error(err))
		problem.Write(w, http.StatusInternalServerError, "the application could not be changed or read; see the server log")
	}
}

// createApplication: POST /api/v1/applications (admin), body {"name", "owner" (email),
// "remove_threshold" (percent, default 20)}: 201 with the application (kind "file");
// 400 saying what to fix. Audited as application.create.
func (h *handlers) createApplication(w http.ResponseWriter, r *http.Request) {
	svc := h.applicationsService(w)
	if svc == nil {
		return
	}
	var in ApplicationInput
	if !decodeJSONBody(w, r, &in) {
		return
	}
	c := auth.FromContext(r.Context())
	app, err := svc.CreateApplication(r.Context(), c.Email, c.RemoteAddr, appimport.AppInput{Name: in.Name, Owner: in.Owner, RemoveThreshold: in.RemoveThreshold})
	if err != nil {
		h.applicationError(w, err, "")
		return
	}
	a, err := h.fileApplication(r.Context(), app, nil)
	if err != nil {
		h.applicationError(w, err, "")
		return
	}
	writeJSON(w, http.StatusCreated, a)
}

// createImport: POST /api/v1/applications/{id}/imports (admin), body {"datasource_id",
// "file"} (or "files"; optional "format", "mapping", "sheet"): 201 with the import, once
// the file has been read and imported (GET the application for the run); "read_error"
// says why it could not be read now (it is imported at the data source's next read). 400 saying what to fix; 404 for
// an unknown application. Audited as application.import.create.
func (h *handlers) createImport(w http.ResponseWriter, r *http.Request) {
	svc := h.applicationsService(w)
	if svc == nil {
		return
	}
	var in ImportInput
	if !decodeJSONBody(w, r, &in) {
		return
	}
	files := in.Files
	if in.File != "" {
		files = append([]string{in.File}, files...)
	}
	c := auth.FromContext(r.Context())
	id := r.PathValue("id")
	im, err := svc.AttachImport(r.Context(), c.Email, c.RemoteAddr, id, appimport.ImportInput{DatasourceID: in.DatasourceID,
		Files: files, Format: in.Format, Mapping: in.Mapping, Sheet: in.Sheet})
	if err != nil {
		h.applicationError(w, err, "no application "+id+" (GET /api/v1/applications lists them)")
		return
	}
	out := importJSON(im)
	// The file may have been read already (scheduled reads take only changed files): read
	// it now, so that the application shows its data (or the file's problems) at once.
	if err := svc.ReadImport(r.Context(), im); err != nil {
		h.app.Log.Warn("the file of a new import could not be read now", zap.String("import", im.ID), zap.Error(err))
		out.ReadError = err.Error()
	}
	writeJSON(w, http.StatusCreated, out)
}

// listImportRuns: GET /api/v1/applications/{id}/runs (auditor): the application's import
// runs, newest first, paged.
func (h *handlers) listImportRuns(w http.ResponseWriter, r *http.Request) {
	size, token, ok, detail := paging(r)
	if !ok {
		badRequest(w, detail)
		return
	}
	id := r.PathValue("id")
	if _, err := h.app.Store.GetApp(r.Context(), id); err != nil {
		h.applicationError(w, err, "no application "+id+" imported from files (GET /api/v1/applications lists them)")
		return
	}
	runs, next, err := h.app.Store.ListAppRuns(r.Context(), id, store.Page{Size: size, Token: token})
	if err != nil {
		h.applicationError(w, err, "")
		return
	}
	out := make([]ImportRun, len(runs))
	for i := range runs {
		out[i] = importRunJSON(&runs[i])
	}
	writeList(w, out, next)
}

// decideImportRun: POST /api/v1/applications/{id}/runs/{run}/approve or /reject (admin):
// a held run is applied (approve) or dropped with the application's data unchanged
// (reject); 200 with the run; 409 when the run is not held (or a newer run exists, for
// approve); 404 for an unknown run. Audited as application.import.approve / reject.
func (h *handlers) decideImportRun(approve bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		svc := h.applicationsService(w)
		if svc == nil {
			return
		}
		id, runID := r.PathValue("id"), r.PathValue("run")
		notFound := "no run " + runID + " of application " + id + " (GET /api/v1/applications/" + id + "/runs lists them)"
		run, err := h.app.Store.GetAppRun(r.Context(), runID)
		if err == nil && run.AppID != id {
			err = store.ErrNotFound
		}
		if err != nil {
			h.applicationError(w, err, notFound)
			return
		}
		c := auth.FromContext(r.Context())
		if approve {
			run, err = svc.Approve(r.Context(), c.Email, c.RemoteAddr, runID)
		} else {
			run, err = svc.Reject(r.Context(), c.Email, c.RemoteAddr, runID)
		}
		if err != nil {
			h.applicationError(w, err, notFound)
			return
		}
		writeJSON(w, http.StatusOK, importRunJSON(run))
	}
}
