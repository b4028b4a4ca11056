package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/store"
)

func init() {
	registrations = append(registrations, func(r *auth.Router, h *handlers) {
		r.HandleFunc("GET", "/audit", auth.Auditor, h.audit)
	})
}

// auditPageSize is how many entries one page (and each "Load more") shows.
const auditPageSize = 50

// auditData is what the audit log page shows.
type auditData struct {
	Actor, Action, Target, From, To string
	Entries                         []store.AuditEntry
	// More is the URL of the next (older) entries, empty on the last page.
	More string
}

// audit is the audit log, newest first, filterable by actor, action (exact, or a prefix
// such as "sync."), target and a date range. htmx asks for the next rows ("Load more").
func (h *handlers) audit(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	d := auditData{
		Actor: strings.TrimSpace(q.Get("actor")), Action: strings.TrimSpace(q.Get("action")),
		Target: strings.TrimSpace(q.Get("target")), From: q.Get("from"), To: q.Get("to"),
	}
	f := store.AuditFilter{Actor: d.Actor, Action: d.Action, Target: d.Target, Desc: true, Limit: auditPageSize + 1}
	var err error
	if f.From, err = parseDay(d.From, false); err != nil {
		h.badRequest(w, r, "From must be a date such as 2026-01-31 or an RFC 3339 time, got "+strconv.Quote(d.From)+".")
		return
	}
	if f.To, err = parseDay(d.To, true); err != nil {
		h.badRequest(w, r, "To must be a date such as 2026-01-31 or an RFC 3339 time, got "+strconv.Quote(d.To)+".")
		return
	}
	if b := q.Get("before"); b != "" {
		if f.BeforeSeq, err = strconv.ParseInt(b, 10, 64); err != nil || f.BeforeSeq < 1 {
			h.badRequest(w, r, "before must be an entry's sequence number, got "+strconv.Quote(b)+".")
			return
		}
	}
	entries, err := h.app.Store.ListAudit(r.Context(), f)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	if len(entries) > auditPageSize {
		entries = entries[:auditPageSize]
		d.More = withQuery(r.URL.RequestURI(), "before", strconv.FormatInt(entries[len(entries)-1].Seq, 10))
	}
	d.Entries = entries
	p := page{Title: "Audit log", Section: "audit", Data: d}
	if isHTMX(r) {
		h.renderFragment(w, r, "audit", "rows", p)
		return
	}
	h.render(w, r, http.StatusOK, "audit", p)
}

// parseDay reads a date (YYYY-MM-DD, UTC) or an RFC 3339 time. As the end of a range
// (end), a date means the end of that day.
func parseDay(s string, end bool) (*time.Time, error) {
	if s == "" {
		return nil, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		t = t.UTC()
		return &t, nil
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return nil, err
	}
	if end {
		t = t.Add(24 * time.Hour)
	}
	return &t, nil
}
