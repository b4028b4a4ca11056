package api

import (
	"bytes"
	"fmt"
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/versioncache"
)

// The inventory's answers (a person's access, a resource, an entitlement, the lists, the
// changes) change only when a sync is ingested, and are the API's heaviest to build. They
// are kept, as the web UI keeps its pages, per inventory version (store.InventoryVersion,
// which every ingestion changes) for at most cacheTTL, keyed by the whole request URI and
// by who may see what: auditors share entries, anyone else has their own. A handler runs
// (and authorizes) whenever the entry is missing; only 200 answers are kept.

// cacheTTL bounds an entry's life (a variable so benchmarks can turn the cache off).
var cacheTTL = 30 * time.Second

var inventoryCache = versioncache.Cache[[]byte]{Max: 1024}

// recorder keeps what a handler writes, to store a 200 answer.
type recorder struct {
	http.ResponseWriter
	status int
	buf    bytes.Buffer
}

func (r *recorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	r.buf.Write(p)
	return r.ResponseWriter.Write(p)
}

// cachedInventory serves next's answer from the cache when it holds one for the current
// inventory version, and otherwise runs next and keeps a 200 answer.
func (h *handlers) cachedInventory(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if cacheTTL <= 0 {
			next(w, r)
			return
		}
		version, err := h.app.Store.InventoryVersion(r.Context())
		if err != nil {
			next(w, r) // the handler reports the store's trouble itself
			return
		}
		c := auth.FromContext(r.Context())
		viewer := "audit"
		if !c.CanAudit() {
			viewer = "self:" + c.Email
		}
		// The store is part of the key: tests run several stores in one process.
		key := fmt.Sprintf("%p %s %s", h.app.Store, viewer, r.URL.RequestURI())
		if body, ok := inventoryCache.Get(key, version, time.Now()); ok {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Cache-Control", "no-store")
			_, _ = w.Write(body)
			return
		}
		rec := &recorder{ResponseWriter: w}
		next(rec, r)
		if rec.status == http.StatusOK && rec.Header().Get("Content-Type") == "application/json" {
			inventoryCache.Put(key, version, bytes.Clone(rec.buf.Bytes()), time.Now(), cacheTTL)
		}
	}
}

// SetCacheTTL changes how long inventory answers are kept (0: not at all) and returns
// the function that restores it; for benchmarks and tests.
func SetCacheTTL(d time.Duration) (restore func()) {
	old := cacheTTL
	cacheTTL = d
	inventoryCache.Reset()
	return func() { cacheTTL = old }
}
