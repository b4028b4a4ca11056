// Package web is Gatehouse's browser UI: server-rendered html/template pages with htmx for
// the parts that update in place (search as you type, "Load more", a running sync's
// progress). Templates, CSS, htmx and the small app.js are embedded, so the binary needs
// nothing at run time and the build needs no Node.
//
// Handlers are thin and live one file per page group (home.go, syncs.go, inventory.go,
// people.go, history.go, audit.go, admin.go; for just-in-time access catalog.go,
// requests.go, approvals.go, leases.go, rules.go; for access reviews reviews.go (the
// reviewer's inbox, an item, the decisions) and campaigns.go (the dashboard, a campaign); for
// applications imported from files datasources.go (S3 data sources) and app_imports.go (an
// application, its imports and runs, the templates)):
// parse the request, narrow to what the caller may see, call the store or an app service,
// render. Every route is registered
// through auth.Router with the access it needs; handlers narrow further (a person sees
// only their own person page unless they may audit).
//
// The server's Content-Security-Policy allows scripts and styles from 'self' only: no
// inline <script>, no style="" attributes, no inline event handlers. htmx is configured
// through its <meta name="htmx-config"> tag and behaviour lives in static/app.js.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"sync"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/internal/app"
	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/problem"
	"github.com/gatehouse/gatehouse/internal/versioncache"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// handlers carries what every page handler needs.
type handlers struct {
	app   *app.App
	log   *zap.Logger
	pages map[string]*template.Template
	cache versioncache.Cache[pageEntry]
	memo  memo
	// jit is just-in-time access (a.JIT), nil when the server runs without it.
	jit jitAPI
	// reviews are the access reviews (a.Reviews), nil when the server runs without them.
	reviews reviewAPI
}

// registrations are the page groups' route registrations, one per file (each file's init
// appends its own), so that adding a page group touches only its file.
var registrations []func(r *auth.Router, h *handlers)

// Register adds every page and the static assets to r.
func Register(r *auth.Router, a *app.App) {
	register(r, newHandlers(a))
}

func register(r *auth.Router, h *handlers) {
	a := h.app
	r.Handle("GET", "/static/", auth.Public, staticHandler())
	r.SetForbiddenPage(func(w http.ResponseWriter, req *http.Request, detail string) {
		h.forbidden(w, req, strings.ToUpper(detail[:1])+detail[1:]+". An admin of Gatehouse gives roles (the admins and auditors settings).")
	})
	if a != nil && a.Auth != nil {
		// The sign-in routes' pages (refused, signed out, not configured) in the UI's look.
		a.Auth.Render = h.message
	}
	for _, reg := range registrations {
		reg(r, h)
	}
	// Anything no route matched: a styled 404 for pages, a problem document for the API.
	r.HandleFunc("GET", "/", auth.Public, h.notFound)
}

func newHandlers(a *app.App) *handlers {
	log := zap.NewNop()
	if a != nil && a.Log != nil {
		log = a.Log.Named("web")
	}
	h := &handlers{app: a, log: log, pages: mustParsePages()}
	if a != nil && a.JIT != nil {
		h.jit = a.JIT
	}
	if a != nil && a.Reviews != nil {
		h.reviews = a.Reviews
	}
	return h
}

// page is what the layout renders around every page's content.
type page struct {
	Title string
	// Section is the navigation entry to highlight ("home", "syncs", ...).
	Section string
	Caller  *auth.Caller
	// Path is the request's path, for "next" links.
	Path string
	// Bare renders the page without the navigation (sign-in pages), even for a caller.
	Bare bool
	// Content is the page's content rendered before (from the page cache).
	Content template.HTML
	Data    any
	// Reviews is the navigation's count of review items waiting for the caller.
	Reviews reviewNav
}

// mustParsePages parses each page template together with the layout and the shared
// partials. A template that does not parse is a programming error caught by every test.
func mustParsePages() map[string]*template.Template {
	base := template.Must(template.New("base").Funcs(funcs).ParseFS(templateFS, "templates/_*.html"))
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		file := path.Base(n)
		if strings.HasPrefix(file, "_") {
			continue
		}
		t := template.Must(template.Must(base.Clone()).ParseFS(templateFS, n))
		pages[strings.TrimSuffix(file, ".html")] = t
	}
	return pages
}

// bufPool holds render buffers: a page is rendered fully before anything is written, so
// that a template error becomes a 500 page and not half a page.
var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// render writes the page name (templates/<name>.html) in the layout with status.
func (h *handlers) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	h.execute(w, r, status, name, "layout", p)
}

// renderFragment writes one named template of a page on its own: the part an htmx
// request swaps in (table rows, a sync's progress card).
func (h *handlers) renderFragment(w http.ResponseWriter, r *http.Request, name, fragment string, p page) {
	h.execute(w, r, http.StatusOK, name, fragment, p)
}

func (h *handlers) execute(w http.ResponseWriter, r *http.Request, status int, name, tmpl string, p page) {
	t, ok := h.pages[name]
	if !ok {
		h.serverError(w, r, errors.New("no template "+name))
		return
	}
	if p.Caller == nil {
		p.Caller = auth.FromContext(r.Context())
	}
	p.Path = r.URL.RequestURI()
	if tmpl == "layout" && p.Caller != nil && !p.Bare {
		p.Reviews = h.reviewNavFor(r.Context(), p.Caller)
	}
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)
	if err := t.ExecuteTemplate(buf, tmpl, p); err != nil {
		if name == "error" {
			// The error page itself failed: plain text, no recursion.
			h.log.Error("render error page", zap.Error(err))
			http.Error(w, http.StatusText(status), status)
			return
		}
		h.serverError(w, r, err)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Cache-Control", "no-store")
	// htmx caches by URL; a fragment and its full page share one, so tell caches apart.
	hd.Add("Vary", "HX-Request")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// isHTMX says whether the request came from htmx (and wants a fragment, not a page).
func isHTMX(r *http.Request) bool {
	return r.Header.Get("HX-Request") == "true" && r.Header.Get("HX-History-Restore-Request") != "true"
}

// errorData is what the error page shows.
type errorData struct {
	Status  int
	Heading string
	Detail  string
	// Back is the page to go back to (the form's page), "" for none.
	Back string
}

// errorPage renders a styled error page; the API gets a problem document instead.
func (h *handlers) errorPage(w http.ResponseWriter, r *http.Request, status int, heading, detail string) {
	if auth.IsAPI(r) {
		problem.Write(w, status, detail)
		return
	}
	h.render(w, r, status, "error", page{Title: heading, Data: errorData{Status: status, Heading: heading, Detail: detail}})
}

// message renders a sign-in page (auth.Service.Render): centred, without navigation.
func (h *handlers) message(w http.ResponseWriter, r *http.Request, status int, m auth.Message) {
	h.render(w, r, status, "message", page{Title: m.Title, Bare: true, Data: m})
}

// notFound answers a page or record that does not exist.
func (h *handlers) notFound(w http.ResponseWriter, r *http.Request) {
	h.errorPage(w, r, http.StatusNotFound, "Page not found", "There is nothing at "+r.URL.Path+". It may have been removed, or the link is wrong.")
}

// forbidden answers a signed-in caller who may not see this page.
func (h *handlers) forbidden(w http.ResponseWriter, r *http.Request, detail string) {
	h.errorPage(w, r, http.StatusForbidden, "Not allowed", detail)
}

// badRequest answers input that cannot be used, saying what to fix.
func (h *handlers) badRequest(w http.ResponseWriter, r *http.Request, detail string) {
	h.errorPage(w, r, http.StatusBadRequest, "That did not work", detail)
}

// serverError logs err and answers a 500 page that does not leak it.
func (h *handlers) serverError(w http.ResponseWriter, r *http.Request, err error) {
	h.log.Error("page failed", zap.String("path", r.URL.Path), zap.Error(err))
	h.errorPage(w, r, http.StatusInternalServerError, "Something went wrong",
		"Gatehouse could not build this page. The error is in the server's log; try again in a moment.")
}

// assetVersions maps each static file to a short hash of its content: links carry it as
// ?v=, so browsers may cache assets for long and still see a new build at once.
var assetVersions = func() map[string]string {
	out := map[string]string{}
	_ = fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		out[strings.TrimPrefix(p, "static/")] = hex.EncodeToString(sum[:6])
		return nil
	})
	return out
}()

// assetURL is the versioned URL of a static file.
func assetURL(name string) string {
	if v, ok := assetVersions[name]; ok {
		return "/static/" + name + "?v=" + v
	}
	return "/static/" + name
}

// staticHandler serves the embedded assets; a versioned URL is cached for a year.
func staticHandler() http.Handler {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err)
	}
	files := http.StripPrefix("/static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/static/")
		if name == "" || strings.HasSuffix(name, "/") {
			http.NotFound(w, r) // no directory listings
			return
		}
		if v := r.URL.Query().Get("v"); v != "" && v == assetVersions[name] {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "no-cache")
		}
		files.ServeHTTP(w, r)
	})
}
