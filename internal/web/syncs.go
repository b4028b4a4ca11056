package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/jobs"
	"github.com/gatehouse/gatehouse/internal/store"
)

func init() {
	registrations = append(registrations, func(r *auth.Router, h *handlers) {
		r.HandleFunc("GET", "/syncs", auth.Auditor, h.syncs)
		r.HandleFunc("POST", "/syncs", auth.Admin, h.syncNow)
		r.HandleFunc("GET", "/syncs/{id}", auth.Auditor, h.syncDetail)
	})
}

// syncsPageSize is how many syncs one page of the list shows.
const syncsPageSize = 25

// syncRow is one sync as the pages show it.
type syncRow struct {
	store.Sync
	ConnectionName string
}

// Final says the sync reached its final state (for templates, which see a syncRow value).
func (s syncRow) Final() bool { return s.Sync.Final() }

// Duration is how long the sync ran (until now while it runs).
func (s syncRow) Duration() time.Duration {
	if s.StartedAt == nil {
		return 0
	}
	end := now()
	if s.FinishedAt != nil {
		end = *s.FinishedAt
	}
	return end.Sub(*s.StartedAt)
}

// Calls is the API calls so far (the progress while running, the total once final).
func (s syncRow) Calls() int64 {
	if s.Final() || s.APICalls > s.Progress.APICalls {
		return s.APICalls
	}
	return s.Progress.APICalls
}

// Percent is how far the sync is, by accounts.
func (s syncRow) Percent() int {
	if s.Final() {
		return 100
	}
	return pct(s.Progress.AccountsDone, s.Progress.AccountsTotal)
}

// WidthClass is the progress bar's width in steps of 5% (no style="" under the CSP).
func (s syncRow) WidthClass() string {
	return fmt.Sprintf("w-%d", s.Percent()/5*5)
}

// SummaryFacts are the finished sync's summary as label/value pairs: what ingestion did,
// what was read, the calls per service, then any other scalar field. Figures the page
// shows elsewhere (calls, throttles, duration, attempts) are left out.
func (s syncRow) SummaryFacts() [][2]string {
	var m map[string]any
	if len(s.Summary) == 0 || json.Unmarshal(s.Summary, &m) != nil {
		return nil
	}
	var out [][2]string
	if ing, ok := m["ingest"].(map[string]any); ok {
		for _, k := range []string{"grants_added", "grants_removed", "grants_changed", "grants_unchanged", "resources_added", "resources_removed"} {
			if v, ok := ing[k]; ok {
				out = append(out, [2]string{factLabel(k), scalar(v)})
			}
		}
		if st, ok := ing["stale_accounts"].([]any); ok && len(st) > 0 {
			var ids []string
			for _, a := range st {
				ids = append(ids, scalar(a))
			}
			out = append(out, [2]string{"Stale accounts", strings.Join(ids, ", ")})
		}
	}
	if res, ok := m["resources"].(map[string]any); ok {
		var parts []string
		for _, rt := range resourceTypes {
			if v, ok := res[rt.Type]; ok {
				parts = append(parts, rt.Label+" "+scalar(v))
			}
		}
		out = append(out, [2]string{"Read", strings.Join(parts, " · ")})
	}
	if svcs, ok := m["services"].([]any); ok {
		var parts []string
		for _, sv := range svcs {
			if o, ok := sv.(map[string]any); ok {
				parts = append(parts, scalar(o["service"])+" "+scalar(o["calls"]))
			}
		}
		out = append(out, [2]string{"Calls per service", strings.Join(parts, " · ")})
	}
	var rest [][2]string
	for k, v := range m {
		switch k {
		case "ingest", "resources", "services", "api_calls", "throttles", "duration", "attempts":
			continue
		}
		switch v.(type) {
		case map[string]any, []any, nil:
			continue
		}
		rest = append(rest, [2]string{factLabel(k), scalar(v)})
	}
	sort.Slice(rest, func(i, j int) bool { return rest[i][0] < rest[j][0] })
	return append(out, rest...)
}

// scalar formats a JSON scalar: numbers grouped, whole numbers without decimals.
func scalar(v any) string {
	switch x := v.(type) {
	case float64:
		if x == float64(int64(x)) {
			return num(int64(x))
		}
		return fmt.Sprint(x)
	case string:
		return x
	case bool:
		return map[bool]string{true: "yes", false: "no"}[x]
	case nil:
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// syncsData is the syncs list page.
type syncsData struct {
	Syncs       []syncRow
	Connections []store.Connection
	// Active says a sync on this page is queued or running: the list refreshes itself.
	Active bool
	More   string
	First  bool
	Error  string
}

// syncs lists syncs newest first, with "Sync now" for admins. While one is active, the
// first page refreshes itself every 2 s.
func (h *handlers) syncs(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("page_token")
	list, next, err := h.app.Store.ListSyncs(r.Context(), "", store.Page{Size: syncsPageSize, Token: token})
	if errors.Is(err, store.ErrBadPageToken) {
		h.badRequest(w, r, "That page of syncs no longer exists: start again from the first page.")
		return
	}
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	conns, err := h.app.Store.ListConnections(r.Context())
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	d := syncsData{Connections: conns, First: token == "", Syncs: h.syncRows(list, conns)}
	for _, s := range d.Syncs {
		d.Active = d.Active || !s.Final()
	}
	if next != "" {
		d.More = withQuery("/syncs", "page_token", next)
	}
	p := page{Title: "Syncs", Section: "syncs", Data: d}
	switch {
	case isHTMX(r) && token != "":
		h.renderFragment(w, r, "syncs", "rows", p)
	case isHTMX(r):
		h.renderFragment(w, r, "syncs", "list", p)
	default:
		h.render(w, r, http.StatusOK, "syncs", p)
	}
}

func (h *handlers) syncRows(list []store.Sync, conns []store.Connection) []syncRow {
	names := map[string]string{}
	for _, c := range conns {
		names[c.ID] = c.Name
	}
	out := make([]syncRow, len(list))
	for i, s := range list {
		out[i] = syncRow{Sync: s, ConnectionName: names[s.ConnectionID]}
		if out[i].ConnectionName == "" {
			out[i].ConnectionName = s.ConnectionID
		}
	}
	return out
}

// syncDetailData is one sync's page.
type syncDetailData struct {
	Sync syncRow
	// Already says "Sync now" found this sync running and brought the admin here.
	Already bool
}

// syncDetail shows one sync: progress while it runs (htmx polls the progress card every
// second until the sync is final, then reloads the page for the summary), the summary,
// and the skipped accounts with their reason and fix.
func (h *handlers) syncDetail(w http.ResponseWriter, r *http.Request) {
	sy, err := h.app.Store.GetSync(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		h.errorPage(w, r, http.StatusNotFound, "No such sync", "There is no sync "+r.PathValue("id")+". It may have been from another installation; the list of syncs is under Syncs.")
		return
	}
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	conns, err := h.app.Store.ListConnections(r.Context())
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	row := h.syncRows([]store.Sync{*sy}, conns)[0]
	p := page{Title: "Sync " + sy.ID, Section: "syncs", Data: syncDetailData{Sync: row, Already: r.URL.Query().Get("already") == "1"}}
	if isHTMX(r) {
		if sy.Final() {
			// The sync ended while the page polled: reload it whole, with the summary.
			w.Header().Set("HX-Refresh", "true")
		}
		h.renderFragment(w, r, "sync", "progress", p)
		return
	}
	h.render(w, r, http.StatusOK, "sync", p)
}

// syncNow starts a sync of the connection named by the form ("Sync now"), then shows it.
// The form is a same-origin POST; the server's cross-origin protection refuses others.
func (h *handlers) syncNow(w http.ResponseWriter, r *http.Request) {
	if h.app.Syncs == nil {
		h.errorPage(w, r, http.StatusServiceUnavailable, "Syncs are not running", "This server runs no background jobs, so it cannot sync. Start gatehouse serve with its jobs.")
		return
	}
	id := r.PostFormValue("connection_id")
	if id == "" {
		conns, err := h.app.Store.ListConnections(r.Context())
		if err != nil {
			h.serverError(w, r, err)
			return
		}
		if len(conns) != 1 {
			h.badRequest(w, r, "Choose the connection to sync.")
			return
		}
		id = conns[0].ID
	}
	sy, err := h.app.Syncs.StartSync(r.Context(), auth.FromContext(r.Context()), id)
	if errors.Is(err, jobs.ErrSyncRunning) {
		if cur, lerr := h.app.Store.LatestSync(r.Context(), id); lerr == nil && cur != nil && !cur.Final() {
			http.Redirect(w, r, "/syncs/"+cur.ID+"?already=1", http.StatusSeeOther)
			return
		}
		h.errorPage(w, r, http.StatusConflict, "A sync is already running", "A sync of this connection is already queued or running. Wait for it to finish; its progress is under Syncs.")
		return
	}
	if errors.Is(err, jobs.ErrUnknownConnection) {
		h.badRequest(w, r, "There is no connection "+id+".")
		return
	}
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, "/syncs/"+sy.ID, http.StatusSeeOther)
}
