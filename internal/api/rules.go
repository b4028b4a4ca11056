package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/gatehouse/gatehouse/internal/access"
	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/problem"
)

// The requestability rules and approval policies, as one YAML document (the same one
// gatehouse rules apply -f and export use, and the UI's rules editor shows).

func init() {
	registrations = append(registrations, func(r *auth.Router, h *handlers) {
		r.HandleFunc("GET", "/api/v1/rules", auth.Auditor, h.getRules)
		r.HandleFunc("PUT", "/api/v1/rules", auth.Admin, h.putRules)
	})
}

// RulesVersionHeader carries the version of the rules document in force.
const RulesVersionHeader = "X-Gatehouse-Rules-Version"

// RulesApplied is the answer to PUT /api/v1/rules.
type RulesApplied struct {
	// Version is the new version of the rules document.
	Version int64 `json:"version"`
}

// RulesProblem is one problem of a rules document, at its line and column (column 0 when
// only the line is known); field is the path of the field, like rules[1].duration.max.
type RulesProblem struct {
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

// RulesRejected is the 400 answer to a bad rules document: a problem document whose detail
// lists every problem, one per line, and the problems one by one.
type RulesRejected struct {
	problem.Problem
	Problems []RulesProblem `json:"problems"`
}

// getRules answers the rules and policies document in force.
//
// GET /api/v1/rules (auditors and admins): 200 with the YAML document
// (application/yaml), its version in the X-Gatehouse-Rules-Version header.
func (h *handlers) getRules(w http.ResponseWriter, r *http.Request) {
	svc, ok := h.jitService(w)
	if !ok {
		return
	}
	doc, version, err := svc.Rules(r.Context())
	if err != nil {
		h.jitError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/yaml")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set(RulesVersionHeader, strconv.FormatInt(version, 10))
	_, _ = w.Write(doc)
}

// putRules replaces the rules and policies with the YAML document in the body, after
// checking all of it: a bad document changes nothing.
//
// PUT /api/v1/rules (admins; body: the YAML document): 200 {"version"}; 400 with a
// problem document whose detail lists every problem as "rules.yaml:LINE:COL: FIELD:
// MESSAGE" and whose "problems" are [{"line", "column", "field", "message"}].
// Requests already made keep the rule and policy they were made under.
func (h *handlers) putRules(w http.ResponseWriter, r *http.Request) {
	doc, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		badRequest(w, jsonBodyProblem(err)+"; send the rules document (YAML), as GET /api/v1/rules answers it")
		return
	}
	if len(bytes.TrimSpace(doc)) == 0 {
		badRequest(w, "the body is empty; send the rules document (YAML, with rules: and policies:), as GET /api/v1/rules answers it")
		return
	}
	svc, ok := h.jitService(w)
	if !ok {
		return
	}
	version, err := svc.ApplyRules(r.Context(), auth.FromContext(r.Context()), doc)
	var pe *access.ParseError
	switch {
	case errors.As(err, &pe):
		out := RulesRejected{Problem: problem.Problem{Type: "about:blank", Title: http.StatusText(http.StatusBadRequest), Status: http.StatusBadRequest,
			Detail: "the rules document has " + plural(len(pe.Problems), "problem") + "; nothing was applied:\n" + pe.Error()}, Problems: []RulesProblem{}}
		for _, p := range pe.Problems {
			out.Problems = append(out.Problems, RulesProblem{Line: p.Line, Column: p.Column, Field: p.Field, Message: p.Message})
		}
		w.Header().Set("Content-Type", "application/problem+json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(out)
	case err != nil:
		h.jitError(w, r, err)
	default:
		writeJSON(w, http.StatusOK, RulesApplied{Version: version})
	}
}

// plural is "1 problem", "2 problems".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}
