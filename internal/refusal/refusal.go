// Package refusal is the error a domain service (just-in-time access, access reviews) gives
// when it refuses what a person asked: a Code that the JSON API and the web UI turn into an
// HTTP status and a heading, and a Detail that says why and what to do instead. Anything
// else a service returns is a fault of the server, not of the request.
package refusal

import (
	"errors"
	"fmt"
	"net/http"
)

// Code classifies a refusal; its value is the HTTP status the API answers with.
type Code int

// The codes.
const (
	Invalid   Code = http.StatusBadRequest
	Forbidden Code = http.StatusForbidden
	NotFound  Code = http.StatusNotFound
	Conflict  Code = http.StatusConflict
)

// Error is a refusal a person can act on: Detail says why and what to do.
type Error struct {
	Code   Code
	Detail string
}

func (e *Error) Error() string { return e.Detail }

// Errorf returns a refusal with a formatted detail.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Detail: fmt.Sprintf(format, args...)}
}

// CodeOf is err's Code when err is (or wraps) a refusal, else 0.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return 0
}

// Status is the HTTP status of a refusal with this code: the code itself when it is a
// client error, 400 otherwise.
func (c Code) Status() int {
	if c < 400 || c > 499 {
		return http.StatusBadRequest
	}
	return int(c)
}

// Heading is what a page says above the refusal's detail.
func (c Code) Heading() string {
	switch c {
	case Forbidden:
		return "Not allowed"
	case NotFound:
		return "Not found"
	case Conflict:
		return "Not possible now"
	}
	return "That did not work"
}
