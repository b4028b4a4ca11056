package web

import (
	"bytes"
	"html/template"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/internal/auth"
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

const cacheEntries = 512

type cacheEntry struct {
	version string
	expires time.Time
	title   string
	content template.HTML
}

// pageCache is a small map of rendered page contents; when full, expired entries and
// then arbitrary ones make room (Go's map order), which is enough for a cache this short-lived.
type pageCache struct {
	mu      sync.Mutex
	entries map[string]cacheEntry
}

func (c *pageCache) get(key, version string) (cacheEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || e.version != version || now().After(e.expires) {
		return cacheEntry{}, false
	}
	return e, true
}

func (c *pageCache) put(key string, e cacheEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[string]cacheEntry{}
	}
	if len(c.entries) >= cacheEntries {
		t := now()
		for k, old := range c.entries {
			if t.After(old.expires) {
				delete(c.entries, k)
			}
		}
		for k := range c.entries {
			if len(c.entries) < cacheEntries {
				break
			}
			delete(c.entries, k)
		}
	}
	c.entries[key] = e
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
	e, ok := h.cache.get(k.key, v)
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
	h.cache.put(k.key, cacheEntry{version: k.version, expires: now().Add(cacheTTL), title: p.Title, content: content})
	p.Content = content
	h.render(w, r, http.StatusOK, "cached", p)
}

// memo keeps data (not pages) per inventory version for cacheTTL, for pages that mix
// inventory figures with live ones (the home page's counts and feed beside the last
// sync's state).
type memo struct {
	mu      sync.Mutex
	entries map[string]memoEntry
}

type memoEntry struct {
	version string
	expires time.Time
	value   any
}

// get returns the value under key for version, computing and keeping it when missing.
// An empty version (unknown) computes without keeping.
func (m *memo) get(key, version string, compute func() (any, error)) (any, error) {
	if version != "" {
		m.mu.Lock()
		e, ok := m.entries[key]
		m.mu.Unlock()
		if ok && e.version == version && !now().After(e.expires) {
			return e.value, nil
		}
	}
	v, err := compute()
	if err != nil || version == "" {
		return v, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.entries == nil || len(m.entries) >= cacheEntries {
		m.entries = map[string]memoEntry{} // short-lived: starting over is fine
	}
	m.entries[key] = memoEntry{version: version, expires: now().Add(cacheTTL), value: v}
	return v, nil
}
