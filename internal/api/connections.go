package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/connection"
	"github.com/gatehouse/gatehouse/internal/problem"
	"github.com/gatehouse/gatehouse/internal/secrets"
	"github.com/gatehouse/gatehouse/internal/store"
)

func init() {
	registrations = append(registrations, func(r *auth.Router, h *handlers) {
		r.HandleFunc("GET", "/api/v1/connections", auth.Admin, h.listConnections)
		r.HandleFunc("POST", "/api/v1/connections", auth.Admin, h.createConnection)
		r.HandleFunc("GET", "/api/v1/connections/{id}", auth.Admin, h.getConnection)
		r.HandleFunc("PUT", "/api/v1/connections/{id}", auth.Admin, h.putConnection)
		r.HandleFunc("PATCH", "/api/v1/connections/{id}", auth.Admin, h.patchConnection)
		r.HandleFunc("DELETE", "/api/v1/connections/{id}", auth.Admin, h.deleteConnection)
	})
}

// connectionJSON is a connection in the API: its settings in full (flattened, named as
// in the config file) and its secrets masked.
type connectionJSON struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Kind      string `json:"kind"`
	Source    string `json:"source"`
	Schedule  string `json:"schedule"`
	Deletable bool   `json:"deletable"`
	CreatedAt string `json:"created_at"`
	UpdatedAt string `json:"updated_at"`
	connection.Settings
	Secrets  map[string]string `json:"secrets"`
	Warnings []string          `json:"warnings"`
}

func toConnectionJSON(v *connection.View) connectionJSON {
	w := v.Warnings
	if w == nil {
		w = []string{}
	}
	return connectionJSON{
		ID: v.ID, Name: v.Name, Kind: v.Kind, Source: v.Source, Schedule: v.Schedule, Deletable: v.Deletable(),
		CreatedAt: *timeOrNil(&v.CreatedAt), UpdatedAt: *timeOrNil(&v.UpdatedAt),
		Settings: v.Settings, Secrets: v.Secrets, Warnings: w,
	}
}

// listConnections: GET /api/v1/connections (admin). Every connection, by id, as
// {"items": [connection...]}; a connection is {id, name, kind ("aws"), source ("config"
// or "ui"), schedule (Go duration), deletable, created_at, updated_at, region, profile,
// endpoint_url, role_arn, orgs, member_role_name, identity_center,
// identity_center_region, sync_secrets, scim_endpoint, access_key_id, concurrency,
// secrets: {external_id, member_external_id, scim_token, secret_access_key} each "" (not
// set), "set" or "•••• " and the last 4 characters, warnings: [string]}. Secrets are
// never returned in full.
func (h *handlers) listConnections(w http.ResponseWriter, r *http.Request) {
	views, err := h.app.Connections.List(r.Context())
	if err != nil {
		h.connectionError(w, err)
		return
	}
	items := make([]connectionJSON, len(views))
	for i, v := range views {
		items[i] = toConnectionJSON(v)
	}
	writeList(w, items, "")
}

// getConnection: GET /api/v1/connections/{id} (admin). One connection (shape as in the
// list); 404 when there is none.
func (h *handlers) getConnection(w http.ResponseWriter, r *http.Request) {
	v, err := h.app.Connections.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		h.connectionError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, toConnectionJSON(v))
}

// createConnection: POST /api/v1/connections (admin). Body: {id (required, lowercase
// letters, digits, - and _), name, schedule, the settings as in the list, and the
// secrets external_id, member_external_id, scim_token, secret_access_key in clear}.
// 201 with the connection (secrets masked); 400 with "errors": [{field, message}] for bad
// input; 409 when the id is taken. Audited as connection.create.
func (h *handlers) createConnection(w http.ResponseWriter, r *http.Request) {
	var in connection.Input
	if !decodeJSONBody(w, r, &in) {
		return
	}
	v, err := h.app.Connections.Create(r.Context(), auth.FromContext(r.Context()), in)
	if err != nil {
		h.connectionError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, toConnectionJSON(v))
}

// putConnection: PUT /api/v1/connections/{id} (admin). Body as for create, replacing
// every setting; a secret left empty keeps the stored one, and "clear_secrets": [names]
// removes secrets. 200 with the connection; 400 with field errors; 404; 409 for a
// connection from the config file (change it there). Audited as connection.update.
func (h *handlers) putConnection(w http.ResponseWriter, r *http.Request) {
	var in connection.Input
	if !decodeJSONBody(w, r, &in) {
		return
	}
	h.updateConnection(w, r, in)
}

// patchConnection: PATCH /api/v1/connections/{id} (admin). Like PUT, but only the
// fields in the body change.
func (h *handlers) patchConnection(w http.ResponseWriter, r *http.Request) {
	in, err := h.app.Connections.Current(r.Context(), r.PathValue("id"))
	if err != nil {
		h.connectionError(w, err)
		return
	}
	if !decodeJSONBody(w, r, &in) {
		return
	}
	h.updateConnection(w, r, in)
}

func (h *handlers) updateConnection(w http.ResponseWriter, r *http.Request, in connection.Input) {
	v, err := h.app.Connections.Update(r.Context(), auth.FromContext(r.Context()), r.PathValue("id"), in)
	if err != nil {
		h.connectionError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, toConnectionJSON(v))
}

// deleteConnection: DELETE /api/v1/connections/{id} (admin). 204; 404; 409 for a
// connection from the config file (remove it from the file). Its syncs and history stay.
// Audited as connection.delete.
func (h *handlers) deleteConnection(w http.ResponseWriter, r *http.Request) {
	if err := h.app.Connections.Delete(r.Context(), auth.FromContext(r.Context()), r.PathValue("id")); err != nil {
		h.connectionError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// connectionError answers err of the connection service with its status. The messages
// never hold a secret: the service's errors name fields, not values.
func (h *handlers) connectionError(w http.ResponseWriter, err error) {
	var ve *connection.ValidationError
	switch {
	case errors.As(err, &ve):
		p := problem.Problem{Status: http.StatusBadRequest, Detail: ve.Error()}
		for _, f := range ve.Fields {
			p.Errors = append(p.Errors, problem.FieldError{Field: f.Field, Message: f.Message})
		}
		problem.WriteProblem(w, p)
	case errors.Is(err, store.ErrNotFound):
		problem.Write(w, http.StatusNotFound, err.Error())
	case errors.Is(err, connection.ErrExists), errors.Is(err, connection.ErrConfigManaged),
		errors.Is(err, secrets.ErrWrongKey), errors.Is(err, secrets.ErrTampered):
		problem.Write(w, http.StatusConflict, err.Error())
	default:
		h.app.Log.Error("connections", zap.Error(err))
		problem.Write(w, http.StatusInternalServerError, "the connection could not be read or saved; see the server log")
	}
}

// maxBody bounds a JSON request body.
const maxBody = 1 << 20

// decodeJSONBody reads a JSON object into v, answering 400 (naming the unknown field or the
// position of the syntax error) when it cannot.
func decodeJSONBody(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		badRequest(w, jsonBodyProblem(err))
		return false
	}
	if dec.More() {
		badRequest(w, "the body must be one JSON object, with nothing after it")
		return false
	}
	return true
}

// jsonBodyProblem says what is wrong with a JSON body that did not decode.
func jsonBodyProblem(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var tooBig *http.MaxBytesError
	detail := "the body must be one JSON object"
	switch {
	case errors.Is(err, io.EOF):
		detail = "the body is empty; send a JSON object"
	case errors.Is(err, io.ErrUnexpectedEOF):
		detail = "the body is not valid JSON (it ends before the object does)"
	case errors.As(err, &syn):
		detail = fmt.Sprintf("the body is not valid JSON (at byte %d)", syn.Offset)
	case errors.As(err, &typ):
		detail = fmt.Sprintf("%s must be a JSON %s", typ.Field, typ.Type.Kind())
		if typ.Field == "" {
			detail = "the body must be one JSON object"
		}
	case errors.As(err, &tooBig):
		detail = fmt.Sprintf("the body is larger than %d bytes", maxBody)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		detail = "unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field ") + "; see /api/v1/openapi.json for the fields"
	}
	return detail
}
