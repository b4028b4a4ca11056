package api

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/findings"
	"github.com/gatehouse/gatehouse/internal/problem"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Findings (docs/findings.md): the compliance controls judged after every sync, for
// auditors and admins.

func init() {
	registrations = append(registrations, func(r *auth.Router, h *handlers) {
		r.HandleFunc("GET", "/api/v1/findings", auth.Auditor, h.listFindings)
		r.HandleFunc("GET", "/api/v1/findings/{id}", auth.Auditor, h.getFinding)
	})
	operations = append(operations,
		operation{Method: "GET", Path: "/api/v1/findings", Summary: "Compliance findings (CIS AWS Foundations IAM controls and Gatehouse's own), by account, control and resource",
			Access: auth.Auditor,
			Params: []param{query("account", "AWS account id"), query("control", "CIS v3/v4 number such as 1.10, or a gh. control"),
				query("status", "pass, fail or unknown"), query("connection", "connection id"), pageSize, pageToken},
			Status: 200, Response: List[Finding]{}, Errors: map[int]string{400: "a bad filter, with what is allowed"}},
		operation{Method: "GET", Path: "/api/v1/findings/{id}", Summary: "One finding with its history (opened, changed, resolved at which sync)",
			Access: auth.Auditor, Params: []param{pathParam("id", "finding id")},
			Status: 200, Response: FindingDetail{}, Errors: map[int]string{404: "no such finding"}},
	)
}

// Finding is one finding as the API gives it.
type Finding struct {
	ID string `json:"id"`
	// Control is the CIS AWS Foundations Benchmark v3.0/v4.0 number ("1.10"), or a
	// Gatehouse control ("gh.standing_admin"); CISv5 the v5.0 number ("" for Gatehouse's).
	Control    string `json:"control"`
	CISv5      string `json:"cis_v5"`
	Title      string `json:"title"`
	Connection string `json:"connection"`
	// Account is the AWS account id ("" for organization-wide findings such as a
	// permission set's).
	Account string `json:"account"`
	// Resource is the ARN (or Identity Center id) judged, or the account id for
	// account-level controls.
	Resource string         `json:"resource"`
	Status   string         `json:"status"`
	Reason   string         `json:"reason"`
	Evidence map[string]any `json:"evidence"`
	// Fix is what to do: for a failure, the remediation; for an unknown, how to get the data.
	Fix string `json:"fix,omitempty"`
	// Since is when the status last changed; SyncID and EvaluatedAt the sync that judged
	// it last and when that sync read AWS.
	Since       string `json:"since"`
	SyncID      string `json:"sync_id"`
	EvaluatedAt string `json:"evaluated_at"`
}

// FindingEvent is one change of a finding's status: from "" is opened, to "" closed
// (the resource is gone).
type FindingEvent struct {
	SyncID string `json:"sync_id"`
	At     string `json:"at"`
	From   string `json:"from"`
	To     string `json:"to"`
}

// FindingDetail is a finding with its history, oldest first.
type FindingDetail struct {
	Finding
	History []FindingEvent `json:"history"`
}

func findingOf(f store.Finding) Finding {
	ev := f.Evidence
	if ev == nil {
		ev = map[string]any{}
	}
	return Finding{ID: f.ID, Control: f.Control, CISv5: f.CISv5, Title: f.Title, Connection: f.ConnectionID, Account: f.Account,
		Resource: f.Resource, Status: f.Status, Reason: f.Reason, Evidence: ev, Fix: f.Fix,
		Since: f.Since.UTC().Format(time.RFC3339), SyncID: f.SyncID, EvaluatedAt: f.EvaluatedAt.UTC().Format(time.RFC3339)}
}

// listFindings: GET /api/v1/findings (auditor or admin). Filters account, control,
// status, connection; sorted by account, control, resource.
func (h *handlers) listFindings(w http.ResponseWriter, r *http.Request) {
	size, token, ok, detail := paging(r)
	if !ok {
		badRequest(w, detail)
		return
	}
	q := r.URL.Query()
	f := store.FindingFilter{ConnectionID: q.Get("connection"), Account: q.Get("account"), Control: q.Get("control"), Status: q.Get("status")}
	switch f.Status {
	case "", store.FindingPass, store.FindingFail, store.FindingUnknown:
	default:
		badRequest(w, "status must be pass, fail or unknown, got "+strconv.Quote(f.Status))
		return
	}
	if f.Control != "" {
		if _, known := findings.ControlByID(f.Control); !known {
			ids := make([]string, len(findings.Controls))
			for i, c := range findings.Controls {
				ids[i] = c.ID
			}
			badRequest(w, "control "+strconv.Quote(f.Control)+" is not one Gatehouse judges; use one of "+strings.Join(ids, ", "))
			return
		}
	}
	if f.Account != "" && !isAccountID(f.Account) {
		badRequest(w, "account must be a 12-digit AWS account id, got "+strconv.Quote(f.Account))
		return
	}
	page, next, err := h.app.Store.ListFindingsPage(r.Context(), f, store.Page{Size: size, Token: token})
	if errors.Is(err, store.ErrBadPageToken) {
		badRequest(w, "page_token is not one this API gave; start again without it")
		return
	}
	if err != nil {
		h.app.Log.Error("list findings", zap.Error(err))
		problem.Write(w, http.StatusInternalServerError, "the findings could not be read; see the server log")
		return
	}
	items := make([]Finding, len(page))
	for i, fd := range page {
		items[i] = findingOf(fd)
	}
	writeList(w, items, next)
}

// getFinding: GET /api/v1/findings/{id} (auditor or admin): the finding and its history.
func (h *handlers) getFinding(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	f, err := h.app.Store.GetFinding(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		problem.Write(w, http.StatusNotFound, "no finding "+strconv.Quote(id))
		return
	}
	if err != nil {
		h.app.Log.Error("get finding", zap.Error(err))
		problem.Write(w, http.StatusInternalServerError, "the finding could not be read; see the server log")
		return
	}
	evs, err := h.app.Store.FindingEvents(r.Context(), store.FindingEventFilter{FindingID: id})
	if err != nil {
		h.app.Log.Error("finding history", zap.Error(err))
		problem.Write(w, http.StatusInternalServerError, "the finding's history could not be read; see the server log")
		return
	}
	out := FindingDetail{Finding: findingOf(*f), History: []FindingEvent{}}
	for _, e := range evs {
		out.History = append(out.History, FindingEvent{SyncID: e.SyncID, At: e.At.UTC().Format(time.RFC3339), From: e.From, To: e.To})
	}
	writeJSON(w, http.StatusOK, out)
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
