package awsprovision

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"

	"github.com/gatehouse/gatehouse/internal/awsperms"
)

// ErrorKind says what went wrong in terms of what a person can do about it.
type ErrorKind int

// The kinds of error.
const (
	// KindOther is anything else: AWS unavailable after retries, an unexpected answer.
	KindOther ErrorKind = iota
	// KindUnknownPrincipal: the user or group to grant to does not exist (or its id is
	// not one).
	KindUnknownPrincipal
	// KindUnknownTarget: the group, permission set or account does not exist.
	KindUnknownTarget
	// KindWrongPrincipal: the principal cannot hold this access (an IAM user of another
	// account, a group where only users may be members).
	KindWrongPrincipal
	// KindDenied: AWS denied a call; the message names the IAM action and the role.
	KindDenied
	// KindCannotAssume: the member-account role could not be assumed.
	KindCannotAssume
	// KindFailed: AWS ran the change and reported FAILED, with its reason.
	KindFailed
	// KindTimeout: AWS had not finished within the wait; the change may still complete.
	KindTimeout
)

// Error is a provisioning error with a message meant for people.
type Error struct {
	Kind ErrorKind
	Msg  string
	// RequestID is the AWS request id of the call that failed, when there is one.
	RequestID string
	Err       error
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the kind of a provisioning error (KindOther for other errors).
func KindOf(err error) ErrorKind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindOther
}

func errorf(kind ErrorKind, format string, args ...any) *Error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

// awsError returns err as an *Error: as it is when it already is one (an explained
// AccessDenied), otherwise "<what>: Code: message (request id ...)".
func awsError(ctx context.Context, err error, what string) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	id := requestIDOf(err)
	msg := what + ": " + describe(err)
	if id != "" {
		msg += " (request id " + id + ")"
	}
	return &Error{Kind: KindOther, Msg: msg, RequestID: id, Err: err}
}

// describe turns an SDK error into "Code: message"; other errors keep their text.
func describe(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		if msg := apiErr.ErrorMessage(); msg != "" {
			return apiErr.ErrorCode() + ": " + msg
		}
		return apiErr.ErrorCode()
	}
	return err.Error()
}

// errorCode returns AWS's error code, or "".
func errorCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

func hasCode(err error, codes ...string) bool {
	c := errorCode(err)
	for _, want := range codes {
		if c == want {
			return true
		}
	}
	return false
}

// requestIDOf returns the AWS request id an error response carried, or "".
func requestIDOf(err error) string {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.ServiceRequestID()
	}
	return ""
}

// isAccessDenied reports whether AWS refused the call for lack of permission: IAM and
// STS say AccessDenied, the JSON services AccessDeniedException.
func isAccessDenied(err error) bool {
	return hasCode(err, "AccessDenied", "AccessDeniedException")
}

// deniedAction finds the action in AWS's message ("... is not authorized to perform:
// sso:CreateAccountAssignment on resource ..."). AWS names the action it evaluated, which
// is not always the operation's own (a call can need a second action).
var deniedAction = regexp.MustCompile(`not authorized to perform: ([A-Za-z0-9-]+:[A-Za-z0-9*]+)`)

// explainDenied turns an AccessDenied of a call into a message naming the IAM action and
// the role that lacks it (the role, not the session: the session's ARN names the
// session, and policies are fixed on the role).
func explainDenied(c Call, err error) *Error {
	// The action comes from awsperms, the one list of the actions Gatehouse needs,
	// unless AWS names another one it evaluated; an operation missing from the list
	// falls back to service:Operation, which is how IAM names most actions.
	action := c.Action()
	if a, _, ok := awsperms.ForOperation(c.Service, c.Operation); ok {
		action = a
	}
	var apiErr smithy.APIError
	msg := ""
	if errors.As(err, &apiErr) {
		msg = apiErr.ErrorMessage()
		if m := deniedAction.FindStringSubmatch(msg); m != nil {
			action = m[1]
		}
	}
	fix := "allow " + action + " in that role's permissions policy"
	if strings.Contains(msg, "explicit deny") {
		fix = "an explicit Deny applies (in the role's policies, a permissions boundary or a service control policy); remove it for " + action
	}
	text := fmt.Sprintf("AWS denied %s to %s: %s", action, c.Role, fix)
	if msg != "" {
		text += " (AWS: " + msg + ")"
	}
	return &Error{Kind: KindDenied, Msg: text, RequestID: c.RequestID, Err: err}
}
