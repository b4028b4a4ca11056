package api

import (
	"net/http"
	"strconv"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/problem"
	"github.com/gatehouse/gatehouse/internal/store"
)

func init() {
	registrations = append(registrations, func(r *auth.Router, h *handlers) {
		r.HandleFunc("GET", "/api/v1/audit", auth.Auditor, h.listAudit)
	})
}

// listAudit: GET /api/v1/audit (auditor or admin). The audit log, newest first, as
// {"items": [entry...], "next_page_token"}; an entry is {seq, at (RFC 3339, UTC, with
// milliseconds), actor, action, target, detail (object), remote_addr, prev_hash, hash},
// the same shape as a line of `gatehouse audit export`. Filters: actor (exact), action
// (exact, or a prefix ending in "." such as "connection."), target (exact), from
// (inclusive) and to (exclusive) as RFC 3339 times; page_size (default 100, at most
// 1000) and page_token (from the previous page).
func (h *handlers) listAudit(w http.ResponseWriter, r *http.Request) {
	size, token, ok, detail := paging(r)
	if !ok {
		badRequest(w, detail)
		return
	}
	q := r.URL.Query()
	f := store.AuditFilter{Actor: q.Get("actor"), Action: q.Get("action"), Target: q.Get("target"), Desc: true, Limit: size + 1}
	if f.From, detail = parseTime(r, "from"); detail != "" {
		badRequest(w, detail)
		return
	}
	if f.To, detail = parseTime(r, "to"); detail != "" {
		badRequest(w, detail)
		return
	}
	if token != "" {
		// The token is the seq of the last entry of the previous page: the next page is
		// what comes before it, however many entries were appended since.
		before, err := strconv.ParseInt(token, 10, 64)
		if err != nil || before < 1 {
			badRequest(w, "page_token "+strconv.Quote(token)+" is not one this API gave; start again without it")
			return
		}
		f.BeforeSeq = before
	}
	entries, err := h.app.Store.ListAudit(r.Context(), f)
	if err != nil {
		h.app.Log.Error("list audit log", zap.Error(err))
		problem.Write(w, http.StatusInternalServerError, "the audit log could not be read; see the server log")
		return
	}
	next := ""
	if len(entries) > size {
		entries = entries[:size]
		next = strconv.FormatInt(entries[size-1].Seq, 10)
	}
	items := make([]audit.Record, len(entries))
	for i, e := range entries {
		items[i] = audit.RecordOf(e)
	}
	writeList(w, items, next)
}
