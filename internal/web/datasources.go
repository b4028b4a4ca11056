package web

import (
	"context"
	"errors"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/datasource"
	"github.com/gatehouse/gatehouse/internal/setup"
	"github.com/gatehouse/gatehouse/internal/store"
)

func init() {
	registrations = append(registrations, func(r *auth.Router, h *handlers) {
		r.HandleFunc("GET", "/datasources", auth.Auditor, h.dataSourcesPage)
		r.HandleFunc("POST", "/datasources", auth.Admin, h.createDataSource)
		r.HandleFunc("GET", "/datasources/{id}", auth.Auditor, h.dataSourcePage)
		r.HandleFunc("GET", "/datasources/{id}/setup", auth.Auditor, h.dataSourceSetup)
		r.HandleFunc("GET", "/datasources/{id}/status", auth.Auditor, h.dataSourceStatus)
		r.HandleFunc("POST", "/datasources/{id}/test", auth.Admin, h.testDataSource)
		r.HandleFunc("POST", "/datasources/{id}/sync", auth.Admin, h.syncDataSource)
		r.HandleFunc("POST", "/datasources/{id}", auth.Admin, h.updateDataSource)
		r.HandleFunc("POST", "/datasources/{id}/delete", auth.Admin, h.deleteDataSource)
	})
	funcs["checkLabel"] = func(id string) string {
		if l, ok := checkLabels[id]; ok {
			return l
		}
		return id
	}
	funcs["checkTone"] = func(status string) string {
		switch status {
		case datasource.Pass:
			return "ok"
		case datasource.Fail:
			return "bad"
		}
		return "neutral"
	}
}

// checkLabels name the checks of "Test connection" as docs/imports.md does.
var checkLabels = map[string]string{
	"credentials":           "Credentials",
	"assume_role":           "Role + External ID",
	"get_bucket_location":   "Bucket location",
	"list_bucket":           "List files",
	"get_object_attributes": "File attributes",
	"get_object":            "Read files",
}

// readsShown is how many reads (newest first) a data source's page lists.
const readsShown = 50

// dataSourceForm is the add form: what was typed, and each field's problem.
type dataSourceForm struct {
	Name, RoleARN, Bucket, Prefix, Region, Schedule string
	Errors                                          map[string]string
}

// formOf is the form filled with source s's settings.
func formOf(s *datasource.Source) dataSourceForm {
	return dataSourceForm{Name: s.Name, RoleARN: s.RoleARN, Bucket: s.Bucket, Prefix: s.Prefix, Region: s.Region, Schedule: shortDuration(s.Schedule)}
}

// shortDuration writes a Go duration as people type it: "1h", "30m", "1h30m".
func shortDuration(s string) string {
	d, err := time.ParseDuration(s)
	if err != nil {
		return s
	}
	s = d.String()
	s = strings.TrimSuffix(s, "0s")
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// readForm reads the add or edit form.
func readForm(r *http.Request) dataSourceForm {
	f := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	return dataSourceForm{Name: f("name"), RoleARN: f("role_arn"), Bucket: f("bucket"), Prefix: r.PostFormValue("prefix"),
		Region: f("region"), Schedule: f("schedule")}
}

// input is the form as the service takes it (an empty schedule keeps the default).
func (form *dataSourceForm) input() datasource.Input {
	typ := datasource.TypeS3
	in := datasource.Input{Type: &typ, Name: &form.Name, RoleARN: &form.RoleARN, Bucket: &form.Bucket, Prefix: &form.Prefix,
		Region: &form.Region}
	if form.Schedule != "" {
		in.Schedule = &form.Schedule
	}
	return in
}

// fieldErrors maps the service's validation error to the form's fields, or nil for
// another error.
func fieldErrors(err error, name string) map[string]string {
	var ve *datasource.ValidationError
	switch {
	case errors.As(err, &ve):
		out := map[string]string{}
		for _, fe := range ve.Fields {
			out[fe.Field] = strings.TrimSpace(out[fe.Field] + " " + sentence(fe.Message))
		}
		return out
	case errors.Is(err, datasource.ErrExists):
		return map[string]string{"name": "A data source named “" + name + "” exists: choose another name."}
	}
	return nil
}

// dataSourcesData is the data sources list with its add form.
type dataSourcesData struct {
	Sources []*datasource.Source
	Form    dataSourceForm
	Flash   string
	// Available is false when the server runs without the data sources service.
	Available bool
}

// dataSourceService returns the service, or answers 503 when the server runs without one.
func (h *handlers) dataSourceService(w http.ResponseWriter, r *http.Request) *datasource.Service {
	if h.app.DataSources == nil {
		h.errorPage(w, r, http.StatusServiceUnavailable, "Data sources are not available",
			"This server runs without background jobs, so it cannot read S3 data sources. Start gatehouse serve with its jobs.")
		return nil
	}
	return h.app.DataSources
}

// dataSourcesPage lists the data sources: what each reads, its schedule and its last read;
// admins get the form that adds one.
func (h *handlers) dataSourcesPage(w http.ResponseWriter, r *http.Request) {
	flash := ""
	if n := r.URL.Query().Get("deleted"); n != "" {
		flash = "Data source “" + n + "” deleted. The provenance of its reads is kept."
	}
	h.renderDataSources(w, r, http.StatusOK, dataSourceForm{}, flash)
}

func (h *handlers) renderDataSources(w http.ResponseWriter, r *http.Request, status int, f dataSourceForm, flash string) {
	svc := h.dataSourceService(w, r)
	if svc == nil {
		return
	}
	list, err := svc.List(r.Context())
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	h.render(w, r, status, "datasources", page{Title: "Data sources", Section: "datasources",
		Data: dataSourcesData{Sources: list, Form: f, Available: true, Flash: flash}})
}

// createDataSource adds a data source from the form. A field that is wrong comes back
// beside the field with what to type, and nothing is saved; the new source's page shows its
// External ID.
func (h *handlers) createDataSource(w http.ResponseWriter, r *http.Request) {
	svc := h.dataSourceService(w, r)
	if svc == nil {
		return
	}
	form := readForm(r)
	src, err := svc.Create(r.Context(), auth.FromContext(r.Context()), form.input())
	if err != nil {
		if form.Errors = fieldErrors(err, form.Name); form.Errors == nil {
			h.serverError(w, r, err)
			return
		}
		h.renderDataSources(w, r, http.StatusUnprocessableEntity, form, "")
		return
	}
	http.Redirect(w, r, "/datasources/"+src.ID+"?created=1", http.StatusSeeOther)
}

// dataSourceImport is one import that reads files of a data source.
type dataSourceImport struct {
	AppID, AppName string
	Import         store.AppImport
	LastState      string
}

// dataSourceData is a data source's page.
type dataSourceData struct {
	Source *datasource.Source
	// SetupCommand is `gatehouse setup s3` for this source, without the trusted principal
	// (the setup fragment finds it).
	SetupCommand string
	Reads        []datasource.Object
	ReadsTotal   int
	Imports      []dataSourceImport
	Checks       []datasource.Check
	Tested       bool
	// Form is the settings form (admins): the source's settings, or what a refused save had.
	Form  dataSourceForm
	Flash string
	// Since is the time (Unix milliseconds) "Sync now" was asked: the status card polls
	// until the source has been read after it.
	Since int64
}

// Passed says no check failed.
func (d dataSourceData) Passed() bool { return datasource.Passed(d.Checks) }

// Waiting says a read asked with "Sync now" has not finished yet.
func (d dataSourceData) Waiting() bool {
	if d.Since == 0 {
		return false
	}
	return d.Source.LastSyncAt == nil || d.Source.LastSyncAt.UnixMilli() < d.Since
}

// setupCommand is the command that prints the role of source s (trusted principal p, or a
// placeholder).
func setupCommand(s *datasource.Source, principal string) string {
	cmd := "gatehouse setup s3 --bucket " + shellQuote(s.Bucket)
	if s.Prefix != "" {
		cmd += " --prefix " + shellQuote(s.Prefix)
	}
	if principal == "" {
		principal = "ARN_GATEHOUSE_RUNS_AS"
	}
	return cmd + " --external-id " + s.ExternalID + " --trusted-principal " + shellQuote(principal) + " --format json"
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=@+,", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// loadDataSource reads source id for its page, or answers (404, 500) and returns nil.
func (h *handlers) loadDataSource(w http.ResponseWriter, r *http.Request, svc *datasource.Service) *dataSourceData {
	ctx := r.Context()
	id := r.PathValue("id")
	src, err := svc.Get(ctx, id)
	if errors.Is(err, datasource.ErrNotFound) {
		h.errorPage(w, r, http.StatusNotFound, "No such data source", "There is no data source "+id+". The list is under Data sources.")
		return nil
	}
	if err != nil {
		h.serverError(w, r, err)
		return nil
	}
	d := &dataSourceData{Source: src, SetupCommand: setupCommand(src, ""), Form: formOf(src)}
	reads, total, err := h.app.Store.RecentDataSourceObjects(ctx, id, readsShown)
	if err != nil {
		h.serverError(w, r, err)
		return nil
	}
	d.ReadsTotal = total
	for _, o := range reads {
		d.Reads = append(d.Reads, datasource.Object{Key: o.Key, VersionID: o.VersionID, ETag: o.ETag, Size: o.Size, Checksum: o.Checksum,
			LastModified: o.LastModified, ReadAt: o.ReadAt, Note: o.Note})
	}
	if d.Imports, err = h.importsOf(ctx, id); err != nil {
		h.serverError(w, r, err)
		return nil
	}
	if s, err := strconv.ParseInt(r.URL.Query().Get("since"), 10, 64); err == nil && s > 0 {
		d.Since = s
	}
	return d
}

// importsOf lists the imports that read files of data source id, by application name.
func (h *handlers) importsOf(ctx context.Context, id string) ([]dataSourceImport, error) {
	apps, err := h.app.Store.ListApps(ctx)
	if err != nil {
		return nil, err
	}
	var out []dataSourceImport
	for _, a := range apps {
		ims, err := h.app.Store.ListAppImports(ctx, a.ID)
		if err != nil {
			return nil, err
		}
		for _, im := range ims {
			if im.DatasourceID != id {
				continue
			}
			di := dataSourceImport{AppID: a.ID, AppName: a.Name, Import: im}
			if last, err := h.app.Store.LatestAppRun(ctx, a.ID); err == nil {
				di.LastState = last.State
			} else if !errors.Is(err, store.ErrNotFound) {
				return nil, err
			}
			out = append(out, di)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].AppName < out[j].AppName })
	return out, nil
}

// dataSourcePage shows one data source: its External ID (the same forever) and the role
// to create with it, its last read, "Test connection" and "Sync now" for admins, the
// provenance of its recent reads and the imports that use it.
func (h *handlers) dataSourcePage(w http.ResponseWriter, r *http.Request) {
	svc := h.dataSourceService(w, r)
	if svc == nil {
		return
	}
	d := h.loadDataSource(w, r, svc)
	if d == nil {
		return
	}
	switch q := r.URL.Query(); {
	case q.Get("created") != "":
		d.Flash = "Data source added. Create its role with the External ID below (the command prints it), then test the connection."
	case q.Get("updated") != "":
		d.Flash = "Saved. The External ID is the same: the role's trust policy keeps working."
	case d.Since != 0 && !d.Waiting() && d.Source.LastState == datasource.StateSucceeded:
		// A failed read says so in the Last read card, with what to do.
		d.Flash = "The bucket was read " + ago(*d.Source.LastSyncAt) + "."
	}
	h.render(w, r, http.StatusOK, "datasource", page{Title: "Data source " + d.Source.Name, Section: "datasources", Data: *d})
}

// dataSourceStatus is the last-read card, which the page polls after "Sync now" until the
// read is done; then the whole page is loaded again (with the new reads).
func (h *handlers) dataSourceStatus(w http.ResponseWriter, r *http.Request) {
	svc := h.dataSourceService(w, r)
	if svc == nil {
		return
	}
	d := h.loadDataSource(w, r, svc)
	if d == nil {
		return
	}
	if !d.Waiting() {
		w.Header().Set("HX-Refresh", "true")
	}
	h.renderFragment(w, r, "datasource", "status", page{Title: "Data source " + d.Source.Name, Section: "datasources", Data: *d})
}

// dataSourceSetupData is the role to create for a data source.
type dataSourceSetupData struct {
	Source    *datasource.Source
	Principal string
	// PrincipalError says why the principal Gatehouse runs as could not be found.
	PrincipalError string
	Command        string
	Trust, Policy  string
}

// dataSourceSetup is the setup card, loaded after the page (it asks AWS who Gatehouse runs
// as, so that the page itself never waits for AWS): the `gatehouse setup s3` command with
// this source's External ID and the two policies as IAM takes them. Nothing secret.
func (h *handlers) dataSourceSetup(w http.ResponseWriter, r *http.Request) {
	svc := h.dataSourceService(w, r)
	if svc == nil {
		return
	}
	src, err := svc.Get(r.Context(), r.PathValue("id"))
	if errors.Is(err, datasource.ErrNotFound) {
		h.notFound(w, r)
		return
	}
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	d := dataSourceSetupData{Source: src}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	d.Principal, err = svc.Principal(ctx)
	if err != nil {
		d.PrincipalError = err.Error()
	}
	d.Command = setupCommand(src, d.Principal)
	trusted := d.Principal
	if trusted == "" {
		trusted = "arn:aws:iam::123456789012:role/ARN_GATEHOUSE_RUNS_AS"
	}
	b, err := setup.GenerateS3(setup.S3Options{Bucket: src.Bucket, Prefix: src.Prefix, ExternalID: src.ExternalID, TrustedPrincipal: trusted})
	if err != nil {
		d.PrincipalError = strings.TrimSpace(d.PrincipalError + " " + err.Error())
	} else {
		d.Trust, d.Policy = string(b.Trust.JSON()), string(b.Permissions.JSON())
	}
	h.renderFragment(w, r, "datasource", "setup", page{Title: "Data source " + src.Name, Section: "datasources", Data: d})
}

// testDataSource runs the checks of "Test connection" and shows each one, with what to
// fix; htmx swaps the result into the page, a plain form post gets the whole page.
func (h *handlers) testDataSource(w http.ResponseWriter, r *http.Request) {
	svc := h.dataSourceService(w, r)
	if svc == nil {
		return
	}
	d := h.loadDataSource(w, r, svc)
	if d == nil {
		return
	}
	checks, err := svc.Test(r.Context(), d.Source.ID)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	d.Checks, d.Tested = checks, true
	p := page{Title: "Data source " + d.Source.Name, Section: "datasources", Data: *d}
	if isHTMX(r) {
		h.renderFragment(w, r, "datasource", "checks", p)
		return
	}
	h.render(w, r, http.StatusOK, "datasource", p)
}

// syncDataSource reads the bucket now ("Sync now"): queued for the background jobs, so
// the page comes back at once and follows the read.
func (h *handlers) syncDataSource(w http.ResponseWriter, r *http.Request) {
	svc := h.dataSourceService(w, r)
	if svc == nil {
		return
	}
	id := r.PathValue("id")
	since := time.Now().UnixMilli()
	if _, err := svc.SyncNow(r.Context(), id); err != nil {
		if errors.Is(err, datasource.ErrNotFound) {
			h.errorPage(w, r, http.StatusNotFound, "No such data source", "There is no data source "+id+".")
			return
		}
		h.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, "/datasources/"+id+"?since="+strconv.FormatInt(since, 10), http.StatusSeeOther)
}

// updateDataSource saves the settings form. The External ID is not a field: it never
// changes. A wrong field comes back beside the field and nothing is saved.
func (h *handlers) updateDataSource(w http.ResponseWriter, r *http.Request) {
	svc := h.dataSourceService(w, r)
	if svc == nil {
		return
	}
	id := r.PathValue("id")
	form := readForm(r)
	if form.Schedule == "" {
		form.Schedule = datasource.DefaultSchedule.String()
	}
	_, err := svc.Update(r.Context(), auth.FromContext(r.Context()), id, form.input())
	switch {
	case errors.Is(err, datasource.ErrNotFound):
		h.errorPage(w, r, http.StatusNotFound, "No such data source", "There is no data source "+id+".")
		return
	case err != nil:
		errs := fieldErrors(err, form.Name)
		if errs == nil {
			h.serverError(w, r, err)
			return
		}
		d := h.loadDataSource(w, r, svc)
		if d == nil {
			return
		}
		form.Errors = errs
		d.Form = form
		h.render(w, r, http.StatusUnprocessableEntity, "datasource", page{Title: "Data source " + d.Source.Name, Section: "datasources", Data: *d})
		return
	}
	http.Redirect(w, r, "/datasources/"+id+"?updated=1", http.StatusSeeOther)
}

// deleteDataSource deletes a data source that no import uses (an import's files would no
// longer be read; the imports have to go first). The provenance of its reads is kept.
func (h *handlers) deleteDataSource(w http.ResponseWriter, r *http.Request) {
	svc := h.dataSourceService(w, r)
	if svc == nil {
		return
	}
	id := r.PathValue("id")
	src, err := svc.Get(r.Context(), id)
	if errors.Is(err, datasource.ErrNotFound) {
		h.errorPage(w, r, http.StatusNotFound, "No such data source", "There is no data source "+id+".")
		return
	}
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	ims, err := h.importsOf(r.Context(), id)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	if len(ims) > 0 {
		names := make([]string, len(ims))
		for i, im := range ims {
			names[i] = im.AppName
		}
		h.errorPage(w, r, http.StatusConflict, "The data source is in use",
			"Imports of "+strings.Join(names, ", ")+" read files of "+src.Name+": deleting it would stop them without a word. Keep it, or point those applications at another data source first.")
		return
	}
	if err := svc.Delete(r.Context(), auth.FromContext(r.Context()), id); err != nil && !errors.Is(err, datasource.ErrNotFound) {
		h.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, withQuery("/datasources", "deleted", src.Name), http.StatusSeeOther)
}
