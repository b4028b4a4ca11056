// Package versioncache keeps answers computed from the inventory for as long as the
// inventory does not change: an entry is valid for one inventory version
// (store.InventoryVersion, which every ingestion changes) and until its expiry. The web UI
// keeps rendered pages and page data in it, the API its JSON answers.
package versioncache

import (
	"sync"
	"time"
)

type entry[V any] struct {
	version string
	expires time.Time
	value   V
}

// Cache is a bounded map of entries; when full, expired entries and then arbitrary ones
// (Go's map order) make room, which is enough for entries that live seconds. The zero
// Cache is ready to use and keeps DefaultMax entries.
type Cache[V any] struct {
	// Max bounds the entries (DefaultMax when 0).
	Max     int
	mu      sync.Mutex
	entries map[string]entry[V]
}

// DefaultMax is the bound of a Cache whose Max is 0.
const DefaultMax = 512

// Get returns the value kept under key for version, if it has not expired at now.
func (c *Cache[V]) Get(key, version string, now time.Time) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || e.version != version || now.After(e.expires) {
		var zero V
		return zero, false
	}
	return e.value, true
}

// Put keeps v under key for version for ttl from now.
func (c *Cache[V]) Put(key, version string, v V, now time.Time, ttl time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	max := c.Max
	if max <= 0 {
		max = DefaultMax
	}
	if c.entries == nil {
		c.entries = map[string]entry[V]{}
	}
	if len(c.entries) >= max {
		for k, old := range c.entries {
			if now.After(old.expires) {
				delete(c.entries, k)
			}
		}
		for k := range c.entries {
			if len(c.entries) < max {
				break
			}
			delete(c.entries, k)
		}
	}
	c.entries[key] = entry[V]{version: version, expires: now.Add(ttl), value: v}
}

// Reset drops every entry.
func (c *Cache[V]) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries = nil
}

// Len is the number of entries kept.
func (c *Cache[V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
