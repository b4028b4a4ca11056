package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/evidence"
	"github.com/gatehouse/gatehouse/internal/store"
)

// The evidence page (auditors and admins): the packs, requested and scheduled, with their
// state and download links (the API's download and summary routes, which the session
// cookie reaches), and the form that requests one.

func init() {
	registrations = append(registrations, func(r *auth.Router, h *handlers) {
		r.HandleFunc("GET", "/evidence", auth.Auditor, h.evidencePage)
		r.HandleFunc("POST", "/evidence", auth.Auditor, h.requestEvidence)
	})
}

// evidenceData is what the evidence page shows.
type evidenceData struct {
	Packs []evidenceRow
	// Working says a pack is queued or building: the list refreshes itself.
	Working bool
	// Requested is the pack just requested.
	Requested string
	// The form, as sent (on an error), and the error.
	From, To, Accounts, OUs, Applications, Error string
	// Unavailable says the evidence service is not running on this server.
	Unavailable bool
}

type evidenceRow struct {
	evidence.Pack
	Tone string
}

func packTone(state string) string {
	switch state {
	case store.EvidenceReady:
		return "ok"
	case store.EvidenceFailed:
		return "bad"
	}
	return "info"
}

func (h *handlers) evidencePage(w http.ResponseWriter, r *http.Request) {
	now := time.Now().UTC()
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	h.renderEvidence(w, r, http.StatusOK, evidenceData{Requested: r.URL.Query().Get("requested"),
		From: first.AddDate(0, -1, 0).Format("2006-01-02"), To: first.AddDate(0, 0, -1).Format("2006-01-02")})
}

func (h *handlers) renderEvidence(w http.ResponseWriter, r *http.Request, status int, d evidenceData) {
	if h.app.Evidence == nil {
		d.Unavailable = true
	} else {
		packs, _, err := h.app.Evidence.List(r.Context(), store.Page{Size: 100})
		if err != nil {
			h.serverError(w, r, err)
			return
		}
		for _, p := range packs {
			d.Packs = append(d.Packs, evidenceRow{Pack: p, Tone: packTone(p.State)})
			d.Working = d.Working || p.State == store.EvidenceQueued || p.State == store.EvidenceBuilding
		}
	}
	h.render(w, r, status, "evidence", page{Title: "Evidence packs", Section: "evidence", Data: d})
}

// requestEvidence requests a pack from the form: dates (a day's start, and the end of
// the last day) or RFC 3339 times, and comma-separated accounts, OUs and applications.
func (h *handlers) requestEvidence(w http.ResponseWriter, r *http.Request) {
	d := evidenceData{From: strings.TrimSpace(r.PostFormValue("from")), To: strings.TrimSpace(r.PostFormValue("to")),
		Accounts: r.PostFormValue("accounts"), OUs: r.PostFormValue("ous"), Applications: r.PostFormValue("applications")}
	if h.app.Evidence == nil {
		h.renderEvidence(w, r, http.StatusServiceUnavailable, d)
		return
	}
	from, to := formTime(d.From, false), formTime(d.To, true)
	req, err := evidence.NewRequest(from, to, splitComma(d.Accounts), splitComma(d.OUs), splitComma(d.Applications))
	var p *evidence.Pack
	if err == nil {
		p, err = h.app.Evidence.Request(r.Context(), auth.FromContext(r.Context()), req)
	}
	switch {
	case evidence.IsInputError(err):
		d.Error = err.Error()
		h.renderEvidence(w, r, http.StatusBadRequest, d)
		return
	case errors.Is(err, evidence.ErrForbidden):
		h.errorPage(w, r, http.StatusForbidden, "Not allowed", "Evidence packs are for auditors and admins.")
		return
	case err != nil:
		h.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, withQuery("/evidence", "requested", p.ID), http.StatusSeeOther)
}

// formTime turns a form's date into RFC 3339: the day's start, or for the end of a
// period (end) the day's last millisecond, so that the period includes the whole day.
// Anything else is left for evidence.NewRequest to judge.
func formTime(s string, end bool) string {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return s
	}
	if end {
		t = t.Add(24*time.Hour - time.Millisecond)
	}
	return t.Format(time.RFC3339Nano)
}

func splitComma(s string) []string {
	var out []string
	for _, p := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' || r == ' ' }) {
		out = append(out, p)
	}
	return out
}

// sizeText is a file size for people.
func sizeText(n int64) string {
	switch {
	case n >= 1<<20:
		return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MiB"
	case n >= 1<<10:
		return strconv.FormatFloat(float64(n)/(1<<10), 'f', 1, 64) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " B"
}

// Size is the pack's size for people.
func (r evidenceRow) SizeText() string { return sizeText(r.Size) }

// ScopeText says the pack's scope in words.
func (r evidenceRow) ScopeText() string {
	var parts []string
	if len(r.Scope.Accounts) > 0 {
		parts = append(parts, "accounts "+strings.Join(r.Scope.Accounts, ", "))
	}
	if len(r.Scope.OUs) > 0 {
		parts = append(parts, "OUs "+strings.Join(r.Scope.OUs, ", "))
	}
	if len(r.Scope.Applications) > 0 {
		parts = append(parts, "applications "+strings.Join(r.Scope.Applications, ", "))
	}
	if len(parts) == 0 {
		return "everything"
	}
	return strings.Join(parts, "; ")
}
