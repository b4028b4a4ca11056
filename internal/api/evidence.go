package api

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/evidence"
	"github.com/gatehouse/gatehouse/internal/problem"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Evidence packs (issue 14): POST /api/v1/evidence with {"from", "to", "accounts", "ous",
// "applications"} queues a pack (a job) and answers 202; GET /api/v1/evidence/{id} gives
// its state and download link. Auditors and admins only; every request, build and
// download is audited with the pack's SHA-256.

func init() {
	registrations = append(registrations, func(r *auth.Router, h *handlers) {
		r.HandleFunc("POST", "/api/v1/evidence", auth.Auditor, h.requestEvidence)
		r.HandleFunc("GET", "/api/v1/evidence", auth.Auditor, h.listEvidence)
		r.HandleFunc("GET", "/api/v1/evidence/{id}", auth.Auditor, h.getEvidence)
		r.HandleFunc("GET", "/api/v1/evidence/{id}/download", auth.Auditor, h.downloadEvidence)
		r.HandleFunc("GET", "/api/v1/evidence/{id}/summary", auth.Auditor, h.evidenceSummary)
	})
}

// EvidenceBody is the body of POST /api/v1/evidence.
type EvidenceBody struct {
	// From and To bound the period (RFC 3339; both included).
	From string `json:"from"`
	To   string `json:"to"`
	// Accounts (ids or names), OUs (ids or names; with their subtrees) and Applications
	// ("aws", a connection's id, an imported application's id): empty means every.
	Accounts     []string `json:"accounts"`
	OUs          []string `json:"ous"`
	Applications []string `json:"applications"`
}

const evidenceKeys = "from, to, accounts, ous, applications"

// EvidencePack is a pack as the API shows it.
type EvidencePack struct {
	ID    string `json:"id"`
	State string `json:"state"` // queued, building, ready or failed
	From  string `json:"from"`
	To    string `json:"to"`
	// Scope is what was asked for: accounts, ous, applications.
	Scope       evidence.Scope `json:"scope"`
	RequestedBy string         `json:"requested_by"`
	RequestedAt string         `json:"requested_at"`
	StartedAt   *string        `json:"started_at"`
	FinishedAt  *string        `json:"finished_at"`
	// Error says why the build failed (state failed).
	Error string `json:"error"`
	// SHA256 and Size are the ZIP's (ready), as the audit log records them.
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
	// Scheduled says the pack was built on the schedule (evidence.schedule).
	Scheduled bool `json:"scheduled"`
	// DownloadURL and SummaryURL are set once the pack is ready.
	DownloadURL string `json:"download_url"`
	SummaryURL  string `json:"summary_url"`
	// Summary is the pack's counts, audit chain check and controls (ready).
	Summary *evidence.Summary `json:"summary"`
}

func evidenceJSON(p *evidence.Pack) EvidencePack {
	out := EvidencePack{ID: p.ID, State: p.State, From: p.From.UTC().Format(timeFormatMS), To: p.To.UTC().Format(timeFormatMS),
		Scope: p.Scope, RequestedBy: p.RequestedBy, RequestedAt: rfc3339(p.RequestedAt), StartedAt: timeOrNil(p.StartedAt),
		FinishedAt: timeOrNil(p.FinishedAt), Error: p.Error, SHA256: p.SHA256, Size: p.Size, Scheduled: p.Scheduled, Summary: p.Summary}
	if p.State == store.EvidenceReady {
		out.DownloadURL = "/api/v1/evidence/" + p.ID + "/download"
		out.SummaryURL = "/api/v1/evidence/" + p.ID + "/summary"
	}
	return out
}

// timeFormatMS is RFC 3339 with milliseconds: a period's bounds keep their precision.
const timeFormatMS = "2006-01-02T15:04:05.999Z07:00"

func (h *handlers) evidenceService(w http.ResponseWriter) (*evidence.Service, bool) {
	if h.app == nil || h.app.Evidence == nil {
		problem.Write(w, http.StatusServiceUnavailable, "evidence packs are not running on this server yet; try again when it has started")
		return nil, false
	}
	return h.app.Evidence, true
}

// evidenceError answers an error of the evidence service.
func (h *handlers) evidenceError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case evidence.IsInputError(err):
		badRequest(w, err.Error())
	case errors.Is(err, evidence.ErrForbidden):
		problem.Write(w, http.StatusForbidden, "this needs the auditor role")
	case errors.Is(err, evidence.ErrNotFound):
		problem.Write(w, http.StatusNotFound, err.Error())
	case errors.Is(err, evidence.ErrNotReady), errors.Is(err, evidence.ErrFileGone):
		problem.Write(w, http.StatusConflict, err.Error())
	case errors.Is(err, store.ErrBadPageToken):
		badRequest(w, err.Error())
	case errors.Is(err, context.Canceled):
		problem.Write(w, http.StatusServiceUnavailable, "the request was cancelled before it finished; try again")
	default:
		if h.app != nil && h.app.Log != nil {
			h.app.Log.Error("evidence", zap.String("method", r.Method), zap.String("path", r.URL.Path), zap.Error(err))
		}
		problem.Write(w, http.StatusInternalServerError, "evidence packs failed on the server; see the server log")
	}
}

// requestEvidence queues a pack.
//
// POST /api/v1/evidence (auditor) {"from", "to", "accounts", "ous", "applications"}: 202
// with the pack (state queued); 400 with what to fix for a time that is not RFC 3339, from
// after to, an unknown account, OU or application, or an unknown key.
func (h *handlers) requestEvidence(w http.ResponseWriter, r *http.Request) {
	svc, ok := h.evidenceService(w)
	if !ok {
		return
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		badRequest(w, "cannot read the body: "+err.Error())
		return
	}
	var body EvidenceBody
	if msg := decodeStrict(raw, &body, "the body", evidenceKeys); msg != "" {
		badRequest(w, msg)
		return
	}
	req, err := evidence.NewRequest(body.From, body.To, body.Accounts, body.OUs, body.Applications)
	if err != nil {
		h.evidenceError(w, r, err)
		return
	}
	p, err := svc.Request(r.Context(), auth.FromContext(r.Context()), req)
	if err != nil {
		h.evidenceError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/evidence/"+p.ID)
	writeJSON(w, http.StatusAccepted, evidenceJSON(p))
}

// listEvidence lists packs, newest first.
//
// GET /api/v1/evidence[?page_size=&page_token=] (auditor).
func (h *handlers) listEvidence(w http.ResponseWriter, r *http.Request) {
	svc, ok := h.evidenceService(w)
	if !ok {
		return
	}
	size, token, ok, detail := paging(r)
	if !ok {
		badRequest(w, detail)
		return
	}
	packs, next, err := svc.List(r.Context(), store.Page{Size: size, Token: token})
	if err != nil {
		h.evidenceError(w, r, err)
		return
	}
	out := make([]EvidencePack, len(packs))
	for i := range packs {
		out[i] = evidenceJSON(&packs[i])
		out[i].Summary = nil // lists stay small: GET /api/v1/evidence/{id} has it
	}
	writeList(w, out, next)
}

// getEvidence gives a pack's state and, once ready, its download link.
//
// GET /api/v1/evidence/{id} (auditor).
func (h *handlers) getEvidence(w http.ResponseWriter, r *http.Request) {
	svc, ok := h.evidenceService(w)
	if !ok {
		return
	}
	p, err := svc.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		h.evidenceError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, evidenceJSON(p))
}

// downloadEvidence sends a ready pack's ZIP with its SHA-256 (X-Content-SHA256); audited.
//
// GET /api/v1/evidence/{id}/download (auditor): 409 while the pack is not ready.
func (h *handlers) downloadEvidence(w http.ResponseWriter, r *http.Request) {
	svc, ok := h.evidenceService(w)
	if !ok {
		return
	}
	d, err := svc.Open(r.Context(), auth.FromContext(r.Context()), r.PathValue("id"))
	if err != nil {
		h.evidenceError(w, r, err)
		return
	}
	defer d.Close()
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="`+exportFileName(d.Name)+`"`)
	w.Header().Set("X-Content-SHA256", d.SHA256)
	w.Header().Set("Content-Length", strconv.FormatInt(d.Size, 10))
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_, _ = io.Copy(w, d) // the file, not memory
}

// evidenceSummary sends a ready pack's printable summary (summary.html as the pack holds
// it); audited.
//
// GET /api/v1/evidence/{id}/summary (auditor).
func (h *handlers) evidenceSummary(w http.ResponseWriter, r *http.Request) {
	svc, ok := h.evidenceService(w)
	if !ok {
		return
	}
	b, err := svc.SummaryHTML(r.Context(), auth.FromContext(r.Context()), r.PathValue("id"))
	if err != nil {
		h.evidenceError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Disposition", `inline; filename="evidence-summary-`+exportFileName(r.PathValue("id"))+`.html"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}
