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

// dataSourcesData is the data sources list with its add form.
type dataSourcesData struct {
	Sources []*datasource.Source
	Form    dataSourceForm
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
	h.renderDataSources(w, r, http.StatusOK, dataSourceForm{})
}

func (h *handlers) renderDataSources(w http.ResponseWriter, r *http.Request, status int, f dataSourceForm) {
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
		Data: dataSourcesData{Sources: list, Form: f, Available: true}})
}

// createDataSource adds a data source from the form. A field that is wrong comes back
// beside the field with what to type, and nothing is saved; the new source's page shows its
// External ID.
func (h *handlers) createDataSource(w http.ResponseWriter, r *http.Request) {
	svc := h.dataSourceService(w, r)
	if svc == nil {
		return
	}
	f := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	form := dataSourceForm{Name: f("name"), RoleARN: f("role_arn"), Bucket: f("bucket"), Prefix: r.PostFormValue("prefix"),
		Region: f("region"), Schedule: f("schedule")}
	typ := datasource.TypeS3
	in := datasource.Input{Type: &typ, Name: &form.Name, RoleARN: &form.RoleARN, Bucket: &form.Bucket, Prefix: &form.Prefix,
		Region: &form.Region}
	if form.Schedule != "" {
		in.Schedule = &form.Schedule
	}
	src, err := svc.Create(r.Context(), auth.FromContext(r.Context()), in)
	var ve *datasource.ValidationError
	switch {
	case errors.As(err, &ve):
		form.Errors = map[string]string{}
		for _, fe := range ve.Fields {
			form.Errors[fe.Field] = strings.TrimSpace(form.Errors[fe.Field] + " " + sentence(fe.Message))
		}
		h.renderDataSources(w, r, http.StatusUnprocessableEntity, form)
		return
	case errors.Is(err, datasource.ErrExists):
		form.Errors = map[string]string{"name": "A data source named “" + form.Name + "” exists: choose another name."}
		h.renderDataSources(w, r, http.StatusUnprocessableEntity, form)
		return
	case err != nil:
		h.serverError(w, r, err)
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
	Flash        string
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
	d := &dataSourceData{Source: src, SetupCommand: setupCommand(src, "")}
	if d.Reads, err = svc.Reads(ctx, id); err != nil {
		h.serverError(w, r, err)
		return nil
	}
	// Newest first: the reads come by key, then time.
	sort.SliceStable(d.Reads, func(i, j int) bool { return d.Reads[i].ReadAt.After(d.Reads[j].ReadAt) })
	d.ReadsTotal = len(d.Reads)
	if len(d.Reads) > readsShown {
		d.Reads = d.Reads[:readsShown]
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
	case d.Since != 0 && !d.Waiting():
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
