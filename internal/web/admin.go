package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/connection"
	"github.com/gatehouse/gatehouse/internal/store"
)

func init() {
	registrations = append(registrations, func(r *auth.Router, h *handlers) {
		r.HandleFunc("GET", "/admin/connections", auth.Admin, h.connections)
		r.HandleFunc("GET", "/admin/connections/new", auth.Admin, h.newConnection)
		r.HandleFunc("POST", "/admin/connections", auth.Admin, h.createConnection)
		r.HandleFunc("GET", "/admin/connections/{id}", auth.Admin, h.editConnection)
		r.HandleFunc("POST", "/admin/connections/{id}", auth.Admin, h.updateConnection)
		r.HandleFunc("POST", "/admin/connections/{id}/delete", auth.Admin, h.deleteConnection)
	})
}

// secretLabels name the secrets of a connection, in connection.SecretFields order.
var secretLabels = map[string]string{
	"external_id":        "External ID",
	"member_external_id": "Member accounts' External ID",
	"scim_token":         "SCIM token",
	"secret_access_key":  "Secret access key",
}

// secretField is one secret of the form: never its value, only its mask.
type secretField struct {
	Name, Label, Mask string
}

// connectionsData is the connections list.
type connectionsData struct {
	Connections []*connection.View
	Flash       string
}

func (h *handlers) connectionService(w http.ResponseWriter, r *http.Request) *connection.Service {
	if h.app.Connections == nil {
		h.errorPage(w, r, http.StatusServiceUnavailable, "Connections are not available", "This server was started without its connections service.")
		return nil
	}
	return h.app.Connections
}

// connections lists the AWS connections with their secrets masked.
func (h *handlers) connections(w http.ResponseWriter, r *http.Request) {
	cs := h.connectionService(w, r)
	if cs == nil {
		return
	}
	list, err := cs.List(r.Context())
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	d := connectionsData{Connections: list}
	switch q := r.URL.Query(); {
	case q.Get("created") != "":
		d.Flash = "Connection " + q.Get("created") + " added. Its first sync runs on its schedule, or start one under Syncs."
	case q.Get("updated") != "":
		d.Flash = "Connection " + q.Get("updated") + " saved."
	case q.Get("deleted") != "":
		d.Flash = "Connection " + q.Get("deleted") + " deleted. Its syncs and inventory history are kept."
	}
	h.render(w, r, http.StatusOK, "connections", page{Title: "Connections", Section: "connections", Data: d})
}

// connectionForm is the add/edit form.
type connectionForm struct {
	New      bool
	ReadOnly bool // from the config file: changed there
	In       connection.Input
	Secrets  []secretField
	Errors   map[string]string
	Warnings []string
	Action   string
}

func secretFields(masks map[string]string) []secretField {
	var out []secretField
	for _, f := range connection.SecretFields {
		out = append(out, secretField{Name: f, Label: secretLabels[f], Mask: masks[f]})
	}
	return out
}

func (h *handlers) renderConnectionForm(w http.ResponseWriter, r *http.Request, status int, f connectionForm) {
	title := "Add a connection"
	if !f.New {
		title = "Connection " + f.In.ID
	}
	h.render(w, r, status, "connection", page{Title: title, Section: "connections", Data: f})
}

func (h *handlers) newConnection(w http.ResponseWriter, r *http.Request) {
	h.renderConnectionForm(w, r, http.StatusOK, connectionForm{New: true, Action: "/admin/connections",
		In: connection.Input{Settings: connection.Settings{Orgs: true, IdentityCenter: true}}, Secrets: secretFields(nil)})
}

func (h *handlers) editConnection(w http.ResponseWriter, r *http.Request) {
	cs := h.connectionService(w, r)
	if cs == nil {
		return
	}
	v, err := cs.Get(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		h.errorPage(w, r, http.StatusNotFound, "No such connection", "There is no connection "+r.PathValue("id")+".")
		return
	}
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	h.renderConnectionForm(w, r, http.StatusOK, connectionForm{
		Action: "/admin/connections/" + v.ID, ReadOnly: !v.Deletable(), Warnings: v.Warnings,
		In:      connection.Input{ID: v.ID, Name: v.Name, Schedule: v.Schedule, Settings: v.Settings},
		Secrets: secretFields(v.Secrets),
	})
}

// formInput reads the form. Secrets typed in are taken; an empty one keeps the stored
// value (clear_<name> removes it).
func formInput(r *http.Request) connection.Input {
	f := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	on := func(k string) bool { return r.PostFormValue(k) == "on" }
	conc, _ := strconv.Atoi(f("concurrency"))
	in := connection.Input{
		ID: f("id"), Name: f("name"), Schedule: f("schedule"),
		Settings: connection.Settings{
			Region: f("region"), Profile: f("profile"), EndpointURL: f("endpoint_url"), RoleARN: f("role_arn"),
			Orgs: on("orgs"), MemberRoleName: f("member_role_name"), IdentityCenter: on("identity_center"),
			IdentityCenterRegion: f("identity_center_region"), SyncSecrets: on("sync_secrets"),
			SCIMEndpoint: f("scim_endpoint"), AccessKeyID: f("access_key_id"), Concurrency: conc,
		},
		Secrets: connection.Secrets{
			ExternalID: r.PostFormValue("external_id"), MemberExternalID: r.PostFormValue("member_external_id"),
			SCIMToken: r.PostFormValue("scim_token"), SecretAccessKey: r.PostFormValue("secret_access_key"),
		},
	}
	for _, s := range connection.SecretFields {
		if on("clear_" + s) {
			in.ClearSecrets = append(in.ClearSecrets, s)
		}
	}
	return in
}

// formErrors maps a validation error to its fields, or nil for another error.
func formErrors(err error) map[string]string {
	var ve *connection.ValidationError
	if !errors.As(err, &ve) {
		return nil
	}
	out := map[string]string{}
	for _, f := range ve.Fields {
		if out[f.Field] != "" {
			out[f.Field] += " "
		}
		out[f.Field] += f.Message
	}
	return out
}

func (h *handlers) createConnection(w http.ResponseWriter, r *http.Request) {
	cs := h.connectionService(w, r)
	if cs == nil {
		return
	}
	in := formInput(r)
	v, err := cs.Create(r.Context(), auth.FromContext(r.Context()), in)
	if err != nil {
		errs := formErrors(err)
		if errs == nil && errors.Is(err, connection.ErrExists) {
			errs = map[string]string{"id": "A connection with this id exists; choose another id."}
		}
		if errs == nil {
			h.serverError(w, r, err)
			return
		}
		in.Secrets = connection.Secrets{} // never echo a secret back into the page
		h.renderConnectionForm(w, r, http.StatusUnprocessableEntity, connectionForm{New: true, Action: "/admin/connections", In: in, Errors: errs, Secrets: secretFields(nil)})
		return
	}
	http.Redirect(w, r, withQuery("/admin/connections", "created", v.ID), http.StatusSeeOther)
}

func (h *handlers) updateConnection(w http.ResponseWriter, r *http.Request) {
	cs := h.connectionService(w, r)
	if cs == nil {
		return
	}
	id := r.PathValue("id")
	in := formInput(r)
	in.ID = id
	v, err := cs.Update(r.Context(), auth.FromContext(r.Context()), id, in)
	switch {
	case errors.Is(err, store.ErrNotFound):
		h.errorPage(w, r, http.StatusNotFound, "No such connection", "There is no connection "+id+".")
		return
	case errors.Is(err, connection.ErrConfigManaged):
		h.errorPage(w, r, http.StatusConflict, "Set in the config file", "Connection "+id+" comes from the config file: change it there and restart, or the next start puts the file's settings back.")
		return
	case err != nil:
		errs := formErrors(err)
		if errs == nil {
			h.serverError(w, r, err)
			return
		}
		masks := map[string]string{}
		if cur, gerr := cs.Get(r.Context(), id); gerr == nil {
			masks = cur.Secrets
		}
		in.Secrets = connection.Secrets{}
		h.renderConnectionForm(w, r, http.StatusUnprocessableEntity, connectionForm{Action: "/admin/connections/" + id, In: in, Errors: errs, Secrets: secretFields(masks)})
		return
	}
	http.Redirect(w, r, withQuery("/admin/connections", "updated", v.ID), http.StatusSeeOther)
}

func (h *handlers) deleteConnection(w http.ResponseWriter, r *http.Request) {
	cs := h.connectionService(w, r)
	if cs == nil {
		return
	}
	id := r.PathValue("id")
	err := cs.Delete(r.Context(), auth.FromContext(r.Context()), id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		h.errorPage(w, r, http.StatusNotFound, "No such connection", "There is no connection "+id+".")
		return
	case errors.Is(err, connection.ErrConfigManaged):
		h.errorPage(w, r, http.StatusConflict, "Set in the config file", "Connection "+id+" comes from the config file: remove it there and restart.")
		return
	case err != nil:
		h.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, withQuery("/admin/connections", "deleted", id), http.StatusSeeOther)
}
