// Package api is Gatehouse's JSON API under /api/v1: one file per resource, each handler
// three short steps (parse, authorize and call the store or a domain service, render).
// Errors are RFC 9457 problem documents (internal/problem); lists are
// {"items": [...], "next_page_token": "..."} with page_size and page_token. The OpenAPI
// document served at /api/v1/openapi.json describes every route registered here, and a
// test keeps the two in step. Shapes follow ../shared/api-conventions.md.
package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/gatehouse/gatehouse/internal/app"
	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/problem"
)

// Paging limits.
const (
	DefaultPageSize = 100
	MaxPageSize     = 1000
)

// handlers carries what every handler needs.
type handlers struct {
	app *app.App
}

// registrations are the per-resource route registrations, one per file (each file's
// init appends its own), so that adding a resource touches only its file.
var registrations []func(r *auth.Router, h *handlers)

// Register adds every API route to r.
func Register(r *auth.Router, a *app.App) {
	h := &handlers{app: a}
	for _, reg := range registrations {
		reg(r, h)
	}
}

// List is the envelope of every list answer.
type List[T any] struct {
	Items         []T    `json:"items"`
	NextPageToken string `json:"next_page_token,omitempty"`
}

// writeJSON sends v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeList sends a list, never "items": null.
func writeList[T any](w http.ResponseWriter, items []T, next string) {
	if items == nil {
		items = []T{}
	}
	writeJSON(w, http.StatusOK, List[T]{Items: items, NextPageToken: next})
}

// paging reads page_size (default 100, clamped to 1000) and page_token.
func paging(r *http.Request) (size int, token string, ok bool, detail string) {
	size = DefaultPageSize
	if s := r.URL.Query().Get("page_size"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return 0, "", false, "page_size must be a positive whole number (at most 1000), got " + strconv.Quote(s)
		}
		size = min(n, MaxPageSize)
	}
	return size, r.URL.Query().Get("page_token"), true, ""
}

// badRequest answers 400 with detail saying what to fix.
func badRequest(w http.ResponseWriter, detail string) {
	problem.Write(w, http.StatusBadRequest, detail)
}

// parseTime reads an optional RFC 3339 query parameter.
func parseTime(r *http.Request, name string) (*time.Time, string) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return nil, ""
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return nil, name + " must be an RFC 3339 time such as 2026-01-02T15:04:05Z, got " + strconv.Quote(s)
	}
	t = t.UTC()
	return &t, ""
}

// timeOrNil formats an optional time for JSON (RFC 3339 in UTC).
func timeOrNil(t *time.Time) *string {
	if t == nil || t.IsZero() {
		return nil
	}
	s := t.UTC().Format(time.RFC3339)
	return &s
}
