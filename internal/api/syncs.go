package api

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/jobs"
	"github.com/gatehouse/gatehouse/internal/problem"
	"github.com/gatehouse/gatehouse/internal/store"
)

func init() {
	registrations = append(registrations, func(r *auth.Router, h *handlers) {
		r.HandleFunc("GET", "/api/v1/syncs", auth.Auditor, h.listSyncs)
		r.HandleFunc("POST", "/api/v1/syncs", auth.Admin, h.startSync)
		r.HandleFunc("GET", "/api/v1/syncs/{id}", auth.Auditor, h.getSync)
	})
}

// Sync is a sync as the API shows it.
type Sync struct {
	ID           string `json:"id"`
	ConnectionID string `json:"connection_id"`
	// State is queued, running, succeeded, partial or failed (the last three are final).
	State string `json:"state"`
	// Trigger is manual or schedule.
	Trigger     string  `json:"trigger"`
	RequestedBy string  `json:"requested_by,omitempty"`
	QueuedAt    string  `json:"queued_at"`
	StartedAt   *string `json:"started_at"`
	FinishedAt  *string `json:"finished_at"`
	APICalls    int64   `json:"api_calls"`
	Throttles   int64   `json:"throttles"`
	Attempts    int     `json:"attempts"`
	// Progress is how far a running sync is (accounts done of total, phase, calls).
	Progress        store.SyncProgress     `json:"progress"`
	SkippedAccounts []store.SkippedAccount `json:"skipped_accounts"`
	Error           string                 `json:"error,omitempty"`
	Summary         json.RawMessage        `json:"summary,omitempty"`
}

func syncJSON(s *store.Sync) Sync {
	out := Sync{
		ID: s.ID, ConnectionID: s.ConnectionID, State: s.State, Trigger: s.Trigger, RequestedBy: s.RequestedBy,
		QueuedAt: s.QueuedAt.UTC().Format(timeFormat), StartedAt: timeOrNil(s.StartedAt), FinishedAt: timeOrNil(s.FinishedAt),
		APICalls: s.APICalls, Throttles: s.Throttles, Attempts: s.Attempts, Progress: s.Progress,
		SkippedAccounts: s.Skipped, Error: s.Error, Summary: s.Summary,
	}
	if out.SkippedAccounts == nil {
		out.SkippedAccounts = []store.SkippedAccount{}
	}
	if !s.Final() && s.Progress.APICalls > out.APICalls {
		out.APICalls = s.Progress.APICalls
	}
	return out
}

const timeFormat = "2006-01-02T15:04:05Z07:00"

// listSyncs: GET /api/v1/syncs?connection_id=&page_size=&page_token= (auditor). Syncs
// newest first: {"items": [sync...], "next_page_token"}. A sync is {"id",
// "connection_id", "state" (queued|running|succeeded|partial|failed), "trigger"
// (manual|schedule), "requested_by", "queued_at", "started_at", "finished_at",
// "api_calls", "throttles", "attempts", "progress" {"accounts_done", "accounts_total",
// "phase", "api_calls"}, "skipped_accounts" [{"account_id", "name", "status", "reason",
// "fix"}], "error", "summary"}.
func (h *handlers) listSyncs(w http.ResponseWriter, r *http.Request) {
	size, token, ok, detail := paging(r)
	if !ok {
		badRequest(w, detail)
		return
	}
	syncs, next, err := h.app.Store.ListSyncs(r.Context(), r.URL.Query().Get("connection_id"), store.Page{Size: size, Token: token})
	if errors.Is(err, store.ErrBadPageToken) {
		badRequest(w, err.Error()+"; start again without page_token")
		return
	}
	if err != nil {
		problem.Write(w, http.StatusInternalServerError, "cannot list syncs: "+err.Error())
		return
	}
	items := make([]Sync, len(syncs))
	for i := range syncs {
		items[i] = syncJSON(&syncs[i])
	}
	writeList(w, items, next)
}

// getSync: GET /api/v1/syncs/{id} (auditor). One sync (see listSyncs); 404 when there is
// no such sync.
func (h *handlers) getSync(w http.ResponseWriter, r *http.Request) {
	sy, err := h.app.Store.GetSync(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		problem.Write(w, http.StatusNotFound, "no sync "+r.PathValue("id")+" (GET /api/v1/syncs lists them)")
		return
	}
	if err != nil {
		problem.Write(w, http.StatusInternalServerError, "cannot read the sync: "+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, syncJSON(sy))
}

// startSyncRequest is the body of POST /api/v1/syncs.
type startSyncRequest struct {
	ConnectionID string `json:"connection_id"`
}

// startSync: POST /api/v1/syncs (admin), body {"connection_id"} (optional when there is
// one connection). Starts a sync now and answers 202 with it (state queued); 409 when
// the connection already has one queued or running, 404 for an unknown connection.
func (h *handlers) startSync(w http.ResponseWriter, r *http.Request) {
	var req startSyncRequest
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<16))
	if err != nil {
		badRequest(w, "cannot read the request body: "+err.Error())
		return
	}
	if strings.TrimSpace(string(body)) != "" {
		dec := json.NewDecoder(strings.NewReader(string(body)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			badRequest(w, `the body must be JSON like {"connection_id": "aws"}: `+err.Error())
			return
		}
	}
	if h.app.Syncs == nil {
		problem.Write(w, http.StatusServiceUnavailable, "background jobs are not running on this server")
		return
	}
	if req.ConnectionID == "" {
		ids, err := h.app.Syncs.ConnectionIDs(r.Context())
		if err != nil {
			problem.Write(w, http.StatusInternalServerError, "cannot list connections: "+err.Error())
			return
		}
		switch len(ids) {
		case 0:
			problem.Write(w, http.StatusConflict, "there is no AWS connection to sync: add one first")
			return
		case 1:
			req.ConnectionID = ids[0]
		default:
			badRequest(w, "connection_id is required when there are several connections: one of "+strings.Join(ids, ", "))
			return
		}
	}
	sy, err := h.app.Syncs.StartSync(r.Context(), auth.FromContext(r.Context()), req.ConnectionID)
	switch {
	case errors.Is(err, jobs.ErrSyncRunning):
		problem.Write(w, http.StatusConflict, err.Error())
		return
	case errors.Is(err, jobs.ErrUnknownConnection):
		problem.Write(w, http.StatusNotFound, err.Error())
		return
	case err != nil:
		problem.Write(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, http.StatusAccepted, syncJSON(sy))
}
