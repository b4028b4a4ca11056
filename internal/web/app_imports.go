package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/internal/appfile"
	"github.com/gatehouse/gatehouse/internal/appimport"
	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/datasource"
	"github.com/gatehouse/gatehouse/internal/store"
)

func init() {
	registrations = append(registrations, func(r *auth.Router, h *handlers) {
		r.HandleFunc("POST", "/applications", auth.Admin, h.createApplication)
		r.HandleFunc("GET", "/applications/{id}", auth.Auditor, h.applicationPage)
		r.HandleFunc("POST", "/applications/{id}/imports", auth.Admin, h.attachImport)
		r.HandleFunc("POST", "/applications/{id}/runs/{run}/{action}", auth.Admin, h.decideRun)
		// The templates document the file formats: anyone signed in may read them (an
		// application's owner fills one in without being an admin or auditor).
		r.HandleFunc("GET", "/applications/templates/{format}", auth.SignedIn, h.appTemplate)
	})
}

// Page sizes of an application's page.
const (
	appRunsShown  = 50
	appUsersShown = 200
	appResShown   = 200
)

// templateTypes are the Content-Types of the downloadable templates.
var templateTypes = map[appfile.Format]string{
	appfile.FormatCSV:  "text/csv; charset=utf-8",
	appfile.FormatTSV:  "text/tab-separated-values; charset=utf-8",
	appfile.FormatXLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	appfile.FormatJSON: "application/json",
	appfile.FormatYAML: "application/yaml",
}

// appTemplate downloads the template of one format (appfile.Template): a file that
// imports as it is, with ConductorOne's column names.
func (h *handlers) appTemplate(w http.ResponseWriter, r *http.Request) {
	f := appfile.Format(strings.ToLower(r.PathValue("format")))
	ct, ok := templateTypes[f]
	if !ok {
		h.errorPage(w, r, http.StatusNotFound, "No such template", "There is a template per format: csv, tsv, xlsx, json and yaml.")
		return
	}
	b, name, err := appfile.Template(f)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", ct)
	hd.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	hd.Set("Content-Length", strconv.Itoa(len(b)))
	hd.Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(b)
}

// applicationForm is the new application form.
type applicationForm struct {
	Name, Owner, Threshold string
	Errors                 map[string]string
}

// importForm is the attach-an-import form.
type importForm struct {
	DatasourceID, File, Format, Mapping, Sheet string
	Errors                                     map[string]string
}

// invalidField maps an appimport.ErrInvalid message to the form field it is about, by
// the field the message starts with.
func invalidField(msg string, fields map[string]string) string {
	for prefix, field := range fields {
		if strings.HasPrefix(msg, prefix) {
			return field
		}
	}
	return ""
}

// invalidMessage is an appimport.ErrInvalid error as a sentence for the page.
func invalidMessage(err error) string {
	return sentence(strings.TrimPrefix(err.Error(), appimport.ErrInvalid.Error()+": "))
}

// applicationsService returns the imports service, or answers 503 without one.
func (h *handlers) applicationsService(w http.ResponseWriter, r *http.Request) *appimport.Service {
	if h.app.Applications == nil {
		h.errorPage(w, r, http.StatusServiceUnavailable, "Applications from files are not available",
			"This server runs without background jobs, so it cannot import files. Start gatehouse serve with its jobs.")
		return nil
	}
	return h.app.Applications
}

// createApplication creates an application whose access comes from files, then shows it
// (with the form that attaches its first import).
func (h *handlers) createApplication(w http.ResponseWriter, r *http.Request) {
	svc := h.applicationsService(w, r)
	if svc == nil {
		return
	}
	form := applicationForm{Name: strings.TrimSpace(r.PostFormValue("name")), Owner: strings.TrimSpace(r.PostFormValue("owner")),
		Threshold: strings.TrimSpace(r.PostFormValue("remove_threshold"))}
	in := appimport.AppInput{Name: form.Name, Owner: form.Owner}
	if form.Threshold != "" {
		n, err := strconv.Atoi(strings.TrimSuffix(form.Threshold, "%"))
		if err != nil {
			form.Errors = map[string]string{"remove_threshold": "The threshold is a whole percent from 0 to 100, such as 20."}
			h.renderApplications(w, r, http.StatusUnprocessableEntity, form)
			return
		}
		in.RemoveThreshold = &n
	}
	c := auth.FromContext(r.Context())
	app, err := svc.CreateApplication(r.Context(), c.Email, c.RemoteAddr, in)
	if errors.Is(err, appimport.ErrInvalid) {
		msg := strings.TrimPrefix(err.Error(), appimport.ErrInvalid.Error()+": ")
		field := invalidField(msg, map[string]string{"name": "name", "owner": "owner", "remove_threshold": "remove_threshold"})
		form.Errors = map[string]string{field: sentence(msg)}
		h.renderApplications(w, r, http.StatusUnprocessableEntity, form)
		return
	}
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, "/applications/"+app.ID+"?created=1", http.StatusSeeOther)
}

// parseMapping reads a column mapping as the form takes it: a JSON object, or one
// "Column = Header" per line.
func parseMapping(s string) (map[string]string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	out := map[string]string{}
	if strings.HasPrefix(s, "{") {
		if err := json.Unmarshal([]byte(s), &out); err != nil {
			return nil, fmt.Errorf("the mapping is not a JSON object of column names to headers (%v): write {\"User ID\": \"Login\"}, or one Column = Header per line", err)
		}
		return out, nil
	}
	for i, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		col, hdr, ok := strings.Cut(line, "=")
		col, hdr = strings.TrimSpace(col), strings.TrimSpace(hdr)
		if !ok || col == "" || hdr == "" {
			return nil, fmt.Errorf("line %d of the mapping, %q, is not Column = Header: write for example User ID = Login", i+1, line)
		}
		if _, dup := out[col]; dup {
			return nil, fmt.Errorf("line %d of the mapping maps %q again: map each column once", i+1, col)
		}
		out[col] = hdr
	}
	return out, nil
}

// attachImport attaches an import (a data source and a file) to the application and
// reads the file at once, so the page shows its data or its problems.
func (h *handlers) attachImport(w http.ResponseWriter, r *http.Request) {
	svc := h.applicationsService(w, r)
	if svc == nil {
		return
	}
	id := r.PathValue("id")
	f := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	form := importForm{DatasourceID: f("datasource_id"), File: f("file"), Format: f("format"), Mapping: r.PostFormValue("mapping"), Sheet: f("sheet")}
	mapping, err := parseMapping(form.Mapping)
	if err != nil {
		form.Errors = map[string]string{"mapping": sentence(err.Error())}
		h.renderApplication(w, r, http.StatusUnprocessableEntity, id, &form)
		return
	}
	var files []string
	for _, k := range strings.Split(form.File, ",") {
		if k = strings.TrimSpace(k); k != "" {
			files = append(files, k)
		}
	}
	c := auth.FromContext(r.Context())
	im, err := svc.AttachImport(r.Context(), c.Email, c.RemoteAddr, id, appimport.ImportInput{DatasourceID: form.DatasourceID,
		Files: files, Format: form.Format, Mapping: mapping, Sheet: form.Sheet})
	switch {
	case errors.Is(err, store.ErrNotFound):
		h.errorPage(w, r, http.StatusNotFound, "No such application", "There is no application "+id+" imported from files.")
		return
	case errors.Is(err, appimport.ErrInvalid):
		msg := strings.TrimPrefix(err.Error(), appimport.ErrInvalid.Error()+": ")
		field := invalidField(msg, map[string]string{"datasource_id": "datasource_id", "no data source": "datasource_id", "file": "file",
			"a .c1z": "file", "the format": "format", "format": "format"})
		form.Errors = map[string]string{field: sentence(msg)}
		h.renderApplication(w, r, http.StatusUnprocessableEntity, id, &form)
		return
	case err != nil:
		h.serverError(w, r, err)
		return
	}
	target := "/applications/" + id + "?attached=" + im.ID
	// The file may have been read before the import existed: read it now.
	if err := svc.ReadImport(r.Context(), im); err != nil {
		h.log.Warn("the file of a new import could not be read now", zap.String("import", im.ID), zap.Error(err))
		target = withQuery(target, "read_error", err.Error())
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// decideRun approves or rejects a held run (admins; the service audits it).
func (h *handlers) decideRun(w http.ResponseWriter, r *http.Request) {
	svc := h.applicationsService(w, r)
	if svc == nil {
		return
	}
	id, runID, action := r.PathValue("id"), r.PathValue("run"), r.PathValue("action")
	if action != "approve" && action != "reject" {
		h.notFound(w, r)
		return
	}
	run, err := h.app.Store.GetAppRun(r.Context(), runID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && run.AppID != id) {
		h.errorPage(w, r, http.StatusNotFound, "No such run", "Application "+id+" has no import run "+runID+".")
		return
	}
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	c := auth.FromContext(r.Context())
	if action == "approve" {
		_, err = svc.Approve(r.Context(), c.Email, c.RemoteAddr, runID)
	} else {
		_, err = svc.Reject(r.Context(), c.Email, c.RemoteAddr, runID)
	}
	if errors.Is(err, appimport.ErrState) {
		h.errorPage(w, r, http.StatusConflict, "Already decided", sentence(strings.TrimPrefix(err.Error(), appimport.ErrState.Error()+": ")))
		return
	}
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, "/applications/"+id+"?decided="+map[string]string{"approve": "approved", "reject": "rejected"}[action], http.StatusSeeOther)
}

// problemView is one problem of a rejected file, as the errors table shows it.
type problemView struct {
	store.AppProblem
}

// Where is the row's place in its file: "row 6", "sheet Grants row 6", "grants item 3".
func (p problemView) Where() string {
	switch {
	case p.Row == 0:
		return "the whole file"
	case p.Part != "":
		return p.Part + " row " + strconv.Itoa(p.Row)
	}
	return "row " + strconv.Itoa(p.Row)
}

// nearDupView is one group of near-duplicate entitlement spellings.
type nearDupView struct {
	Spellings []string `json:"spellings"`
	Rows      []string `json:"rows"`
}

// Pairs are each spelling with the row it is first on.
func (n nearDupView) Pairs() [][2]string {
	out := make([][2]string, len(n.Spellings))
	for i, s := range n.Spellings {
		out[i][0] = s
		if i < len(n.Rows) {
			out[i][1] = n.Rows[i]
		}
	}
	return out
}

// runView is one import run as the page shows it.
type runView struct {
	store.AppRun
	Files    []string
	NearDups []nearDupView
}

// Problems are the run's errors for the table.
func (v runView) Problems() []problemView {
	out := make([]problemView, len(v.Errors))
	for i, p := range v.Errors {
		out[i] = problemView{p}
	}
	return out
}

func (h *handlers) runView(run store.AppRun, imports map[string]store.AppImport) runView {
	v := runView{AppRun: run, Files: imports[run.ImportID].Files}
	if len(run.NearDuplicates) > 0 {
		_ = json.Unmarshal(run.NearDuplicates, &v.NearDups)
	}
	return v
}

// appImportView is one import with its data source's name.
type appImportView struct {
	store.AppImport
	SourceName string
}

// MappingPairs are the mapping's columns and headers, sorted by column.
func (v appImportView) MappingPairs() [][2]string {
	var out [][2]string
	for k, val := range v.Mapping {
		out = append(out, [2]string{k, val})
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

// appResourceView is one resource of the application with its entitlements.
type appResourceView struct {
	store.Resource
	Entitlements []ref
}

// Ref links the resource's inventory page.
func (v appResourceView) Ref() ref { return ref{Type: v.Type, ID: v.ID, Name: v.DisplayName} }

// appUserView is one user of the application.
type appUserView struct{ store.Resource }

// Ref links the user's inventory page.
func (v appUserView) Ref() ref { return ref{Type: v.Type, ID: v.ID, Name: v.DisplayName} }

// applicationData is a file application's page.
type applicationData struct {
	App        store.App
	Counts     map[string]int
	Imports    []appImportView
	Last       *runView
	Runs       []runView
	MoreRuns   bool
	Users      []appUserView
	MoreUsers  bool
	Resources  []appResourceView
	MoreRes    bool
	Sources    []*datasource.Source
	Form       importForm
	Flash      string
	ReadError  string
	Formats    []appfile.Format
	CanImport  bool
	IsHeldLast bool
}

// applicationPage shows an application imported from files: owner, imports, the last
// import (applied, rejected with its errors row by row, or held with Approve and Reject
// for admins), the provenance of the files it read, the run history with its diffs, and
// the application's users and resources as the inventory has them.
func (h *handlers) applicationPage(w http.ResponseWriter, r *http.Request) {
	h.renderApplication(w, r, http.StatusOK, r.PathValue("id"), nil)
}

func (h *handlers) renderApplication(w http.ResponseWriter, r *http.Request, status int, id string, form *importForm) {
	ctx := r.Context()
	app, err := h.app.Store.GetApp(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		detail := "There is no application " + id + " imported from files."
		if conns, cerr := h.app.Store.ListConnections(ctx); cerr == nil {
			for _, c := range conns {
				if c.ID == id {
					http.Redirect(w, r, "/applications#app-"+id, http.StatusSeeOther)
					return
				}
			}
		}
		h.errorPage(w, r, http.StatusNotFound, "No such application", detail+" The list is under Applications.")
		return
	}
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	d := applicationData{App: *app, Formats: appfile.Formats, CanImport: h.app.Applications != nil}
	if form != nil {
		d.Form = *form
	}
	counts, err := h.app.Store.InventoryCountsByConnection(ctx)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	d.Counts = counts[app.ID]
	ims, err := h.app.Store.ListAppImports(ctx, app.ID)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	names := map[string]string{}
	if h.app.DataSources != nil {
		if d.Sources, err = h.app.DataSources.List(ctx); err != nil {
			h.serverError(w, r, err)
			return
		}
		for _, s := range d.Sources {
			names[s.ID] = s.Name
		}
	}
	byID := map[string]store.AppImport{}
	for _, im := range ims {
		byID[im.ID] = im
		d.Imports = append(d.Imports, appImportView{AppImport: im, SourceName: names[im.DatasourceID]})
	}
	runs, next, err := h.app.Store.ListAppRuns(ctx, app.ID, store.Page{Size: appRunsShown})
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	d.MoreRuns = next != ""
	for _, run := range runs {
		d.Runs = append(d.Runs, h.runView(run, byID))
	}
	if len(d.Runs) > 0 {
		d.Last = &d.Runs[0]
		d.IsHeldLast = d.Last.State == store.RunHeld
	}
	users, next, err := h.app.Store.ListResources(ctx, store.ResourceFilter{ConnectionID: app.ID, Type: appimport.TypeAppUser}, store.Page{Size: appUsersShown})
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	d.MoreUsers = next != ""
	for _, us := range users {
		d.Users = append(d.Users, appUserView{us})
	}
	res, next, err := h.app.Store.ListResources(ctx, store.ResourceFilter{ConnectionID: app.ID, Type: appimport.TypeAppResource}, store.Page{Size: appResShown})
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	d.MoreRes = next != ""
	for _, rs := range res {
		ents, err := h.app.Store.ResourceEntitlements(ctx, rs.Type, rs.ID, nil)
		if err != nil {
			h.serverError(w, r, err)
			return
		}
		v := appResourceView{Resource: rs}
		for _, e := range ents {
			v.Entitlements = append(v.Entitlements, ref{Type: "entitlement", ID: e.ID, Name: entitlementLabel(e.DisplayName, e.Slug, e.ID),
				Extra: strconv.Itoa(e.Grants) + " holder" + plural(e.Grants)})
		}
		d.Resources = append(d.Resources, v)
	}
	switch q := r.URL.Query(); {
	case q.Get("created") != "":
		d.Flash = "Application created. Attach an import below: a file of a data source, read at once and at every new version."
	case q.Get("attached") != "":
		d.Flash = "Import attached."
		d.ReadError = q.Get("read_error")
		if d.ReadError == "" && d.Last != nil {
			d.Flash += " Its file was read: the last import is " + d.Last.State + "."
		}
	case q.Get("decided") == "approved":
		d.Flash = "The held import is approved and applied."
	case q.Get("decided") == "rejected":
		d.Flash = "The held import is rejected: nothing changed, the application keeps its data."
	}
	h.render(w, r, status, "application", page{Title: app.Name, Section: "applications", Data: d})
}
