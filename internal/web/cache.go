package web

import (
	"bytes"
	"html/template"
	"net/http"
	"strconv"
	"time"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/versioncache"
)

// The inventory pages (a person's access, a resource, an entitlement, the lists, the
// history) change only when a sync is ingested, yet are the heaviest to build: their
// rendered content is kept for a short while, per inventory version (store
// InventoryVersion, which changes with every ingestion). An entry lives at most cacheTTL
// so that relative times ("5 min ago") stay right; the layout around it (who is signed
// in) is rendered for each request. htmx fragments are not cached.

// cacheTTL is how long a kept page lives (a variable so the latency measurement can turn
// the cache off).
var cacheTTL = 30 * time.Second

// pageEntry is a kept page: its title and rendered content.
type pageEntry struct {
	title   string
	content template.HTML
}

// cached is a cacheable page request: its key and the inventory version it was looked up at.
type cached struct {
	key, version string
}

// fromCache serves the page from the cache when it holds it for the current inventory
// version (true: done). Otherwise it returns what renderCached needs to store the page.
// own says the page shows the caller's own things (their person page).
func (h *handlers) fromCache(w http.ResponseWriter, r *http.Request, section string, own bool) (cached, bool) {
	if isHTMX(r) {
		return cached{}, false
	}
	v, err := h.app.Store.InventoryVersion(r.Context())
	if err != nil {
		return cached{}, false // not cached, not an error: the page is built as usual
	}
	c := auth.FromContext(r.Context())
	k := cached{key: r.URL.RequestURI() + "|" + strconv.FormatBool(c.CanAudit()) + "|" + strconv.FormatBool(own), version: v}
	e, ok := h.cache.Get(k.key, v, now())
	if !ok {
		return k, false
	}
	h.render(w, r, http.StatusOK, "cached", page{Title: e.title, Section: section, Content: e.content})
	return k, true
}

// renderCached renders the page name, keeping its content for the next requests.
func (h *handlers) renderCached(w http.ResponseWriter, r *http.Request, k cached, name string, p page) {
	if k.key == "" {
		h.render(w, r, http.StatusOK, name, p)
		return
	}
	t, ok := h.pages[name]
	if !ok {
		h.render(w, r, http.StatusOK, name, p)
		return
	}
	if p.Caller == nil {
		p.Caller = auth.FromContext(r.Context())
	}
	p.Path = r.URL.RequestURI()
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "content", p); err != nil {
		h.serverError(w, r, err)
		return
	}
	content := template.HTML(buf.String()) // our own template's output, escaped by it
	h.cache.Put(k.key, k.version, pageEntry{title: p.Title, content: content}, now(), cacheTTL)
	p.Content = content
	h.render(w, r, http.StatusOK, "cached", p)
}

// memo keeps data (not pages) per inventory version for cacheTTL, for pages that mix
// inventory figures with live ones (the home page's counts and feed beside the last
// sync's state).
type memo struct {
	c versioncache.Cache[any]
}

// get returns the value under key for version, computing and keeping it when missing.
// An empty version (unknown) computes without keeping.
func (m *memo) get(key, version string, compute func() (any, error)) (any, error) {
	if version != "" {
		if v, ok := m.c.Get(key, version, now()); ok {
			return v, nil
		}
	}
	v, err := compute()
	if err != nil || version == "" {
		return v, err
	}
	m.c.Put(key, version, v, now(), cacheTTL)
	return v, nil
}
