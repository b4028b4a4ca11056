// Package problem writes API errors as RFC 9457 problem details
// (application/problem+json: type, title, status, detail), the one error shape of
// Gatehouse's JSON API.
package problem

import (
	"encoding/json"
	"net/http"
)

// Problem is an RFC 9457 problem document.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	// Errors lists field-level problems of bad input, when there are several.
	Errors []FieldError `json:"errors,omitempty"`
}

// FieldError is one problem with one input field.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Write sends a problem with the standard title of status and detail saying what to do.
func Write(w http.ResponseWriter, status int, detail string) {
	WriteProblem(w, Problem{Status: status, Detail: detail})
}

// WriteProblem sends p, filling in its type and title from its status when empty.
func WriteProblem(w http.ResponseWriter, p Problem) {
	if p.Type == "" {
		p.Type = "about:blank"
	}
	if p.Title == "" {
		p.Title = http.StatusText(p.Status)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}
