package api

import (
	"errors"
	"net/http"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/datasource"
	"github.com/gatehouse/gatehouse/internal/problem"
)

func init() {
	registrations = append(registrations, func(r *auth.Router, h *handlers) {
		r.HandleFunc("GET", "/api/v1/datasources", auth.Auditor, h.listDataSources)
		r.HandleFunc("POST", "/api/v1/datasources", auth.Admin, h.createDataSource)
		r.HandleFunc("GET", "/api/v1/datasources/{id}", auth.Auditor, h.getDataSource)
		r.HandleFunc("PATCH", "/api/v1/datasources/{id}", auth.Admin, h.patchDataSource)
		r.HandleFunc("DELETE", "/api/v1/datasources/{id}", auth.Admin, h.deleteDataSource)
		r.HandleFunc("POST", "/api/v1/datasources/{id}/sync", auth.Admin, h.syncDataSource)
		r.HandleFunc("POST", "/api/v1/datasources/{id}/test", auth.Admin, h.testDataSource)
		r.HandleFunc("GET", "/api/v1/datasources/{id}/reads", auth.Auditor, h.dataSourceReads)
	})
}

// DataSourceTest is the answer of POST /api/v1/datasources/{id}/test.
type DataSourceTest struct {
	// OK is true when no check failed.
	OK     bool               `json:"ok"`
	Checks []datasource.Check `json:"checks"`
}

// dataSources returns the service, or answers 503 when the server runs without one.
func (h *handlers) dataSources(w http.ResponseWriter) *datasource.Service {
	if h.app.DataSources == nil {
		problem.Write(w, http.StatusServiceUnavailable, "data sources are not available on this server (it runs without background jobs)")
	}
	return h.app.DataSources
}

// listDataSources: GET /api/v1/datasources (admins, auditors). Every data source, by name.
func (h *handlers) listDataSources(w http.ResponseWriter, r *http.Request) {
	svc := h.dataSources(w)
	if svc == nil {
		return
	}
	items, err := svc.List(r.Context())
	if err != nil {
		h.dataSourceError(w, err)
		return
	}
	writeList(w, items, "")
}

// createDataSource: POST /api/v1/datasources (admin). Body {type: "s3", name, role_arn,
// bucket, prefix, region, schedule}; 201 with the data source, whose external_id Gatehouse
// generated (once: it never changes). external_id in the body is refused (400).
func (h *handlers) createDataSource(w http.ResponseWriter, r *http.Request) {
	svc := h.dataSources(w)
	if svc == nil {
		return
	}
	var in datasource.Input
	if !decodeJSONBody(w, r, &in) {
		return
	}
	src, err := svc.Create(r.Context(), auth.FromContext(r.Context()), in)
	if err != nil {
		h.dataSourceError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, src)
}

// getDataSource: GET /api/v1/datasources/{id} (admins, auditors): with the same external_id
// forever, and the last sync's state, error and summary.
func (h *handlers) getDataSource(w http.ResponseWriter, r *http.Request) {
	svc := h.dataSources(w)
	if svc == nil {
		return
	}
	src, err := svc.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		h.dataSourceError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, src)
}

// patchDataSource: PATCH /api/v1/datasources/{id} (admin). The fields in the body change;
// external_id cannot (400).
func (h *handlers) patchDataSource(w http.ResponseWriter, r *http.Request) {
	svc := h.dataSources(w)
	if svc == nil {
		return
	}
	var in datasource.Input
	if !decodeJSONBody(w, r, &in) {
		return
	}
	src, err := svc.Update(r.Context(), auth.FromContext(r.Context()), r.PathValue("id"), in)
	if err != nil {
		h.dataSourceError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, src)
}

// deleteDataSource: DELETE /api/v1/datasources/{id} (admin). 204; the provenance of its
// reads is kept.
func (h *handlers) deleteDataSource(w http.ResponseWriter, r *http.Request) {
	svc := h.dataSources(w)
	if svc == nil {
		return
	}
	if err := svc.Delete(r.Context(), auth.FromContext(r.Context()), r.PathValue("id")); err != nil {
		h.dataSourceError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// syncDataSource: POST /api/v1/datasources/{id}/sync (admin). Reads the bucket now, in the
// background: 202 with the data source as it is (GET it again for the result).
func (h *handlers) syncDataSource(w http.ResponseWriter, r *http.Request) {
	svc := h.dataSources(w)
	if svc == nil {
		return
	}
	src, err := svc.SyncNow(r.Context(), r.PathValue("id"))
	if err != nil {
		h.dataSourceError(w, err)
		return
	}
	writeJSON(w, http.StatusAccepted, src)
}

// testDataSource: POST /api/v1/datasources/{id}/test (admin). Checks each permission the
// role needs ("Test connection"); every failed check says what to fix.
func (h *handlers) testDataSource(w http.ResponseWriter, r *http.Request) {
	svc := h.dataSources(w)
	if svc == nil {
		return
	}
	checks, err := svc.Test(r.Context(), r.PathValue("id"))
	if err != nil {
		h.dataSourceError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, DataSourceTest{OK: datasource.Passed(checks), Checks: checks})
}

// dataSourceReads: GET /api/v1/datasources/{id}/reads (admins, auditors). The provenance of
// every read: key, version_id, etag, size, checksum, last_modified, read_at, note.
func (h *handlers) dataSourceReads(w http.ResponseWriter, r *http.Request) {
	svc := h.dataSources(w)
	if svc == nil {
		return
	}
	if _, err := svc.Get(r.Context(), r.PathValue("id")); err != nil {
		h.dataSourceError(w, err)
		return
	}
	reads, err := svc.Reads(r.Context(), r.PathValue("id"))
	if err != nil {
		h.dataSourceError(w, err)
		return
	}
	writeList(w, reads, "")
}

func (h *handlers) dataSourceError(w http.ResponseWriter, err error) {
	var ve *datasource.ValidationError
	switch {
	case errors.As(err, &ve):
		p := problem.Problem{Status: http.StatusBadRequest, Detail: ve.Error()}
		for _, f := range ve.Fields {
			p.Errors = append(p.Errors, problem.FieldError{Field: f.Field, Message: f.Message})
		}
		problem.WriteProblem(w, p)
	case errors.Is(err, datasource.ErrNotFound):
		problem.Write(w, http.StatusNotFound, err.Error())
	case errors.Is(err, datasource.ErrExists):
		problem.Write(w, http.StatusConflict, err.Error())
	default:
		h.app.Log.Error("data sources", zap.Error(err))
		problem.Write(w, http.StatusInternalServerError, "the data source could not be read or saved; see the server log")
	}
}
