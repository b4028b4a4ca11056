package awsfetch

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
)

// What may skip an account, and what must fail the sync.
//
// An account is skipped, and the sync goes on without its IAM, only when the account
// itself refuses Gatehouse: it is not ACTIVE (suspended and closed accounts refuse every
// call), the member role cannot be assumed (AssumeRole is denied), or a call made in it
// is denied. Those are answers about the account that a person fixes there, and the
// sync says which accounts and how (a sync with a skipped ACTIVE account is partial,
// see PartialError).
//
// Anything else (a 5xx, a throttle or a network error that outlasted the retries, an
// answer that cannot be read) says nothing about the account's access. Skipping the
// account would drop every user, role and grant in it from the file, which downstream
// reads as access removed; so it fails the whole sync instead, naming the account and
// the call.

// deniedCodes are the error codes that mean "you may not": IAM and STS answer
// AccessDenied, Organizations, SSO Admin and Identity Store AccessDeniedException.
var deniedCodes = map[string]bool{
	"AccessDenied":          true,
	"AccessDeniedException": true,
}

// isDenied reports whether err is AWS refusing the call.
func isDenied(err error) bool { return deniedCodes[errorCode(err)] }

// cannotAssume reports whether an AssumeRole error means the role cannot be assumed
// (rather than that STS could not be reached): a denial, or STS disabled in the region
// for that account.
func cannotAssume(err error) bool {
	return isDenied(err) || errorCode(err) == "RegionDisabledException"
}

// accountSkip is why an account is skipped: a short line with the likely causes in the
// order to check them, and what AWS said.
type accountSkip struct {
	reason, detail string
}

func (s *accountSkip) Error() string { return s.reason + ": " + s.detail }

// assumeSkip is the skip of a member account whose role cannot be assumed. AWS answers
// the same AccessDenied whatever the cause, so the line lists them, most likely first.
func assumeSkip(roleName, connector string, err error) *accountSkip {
	return &accountSkip{
		reason: fmt.Sprintf("cannot assume role %s; likely causes, in order: the role is missing in this account, its trust policy does not trust %s, the External ID does not match (--member-external-id), an SCP denies sts:AssumeRole",
			roleName, connector),
		detail: describe(err),
	}
}

// deniedSkip is the skip of an account in which a read was denied.
func deniedSkip(identity string, err error) *accountSkip {
	action := "a read"
	var oe *smithy.OperationError
	if errors.As(err, &oe) {
		action = strings.ToLower(serviceName(oe.ServiceID)) + ":" + oe.OperationName
	}
	return &accountSkip{
		reason: fmt.Sprintf("%s denied to %s; likely causes, in order: the role's policy lacks the action (see docs/setup.md), an SCP or a permissions boundary denies it",
			action, identity),
		detail: describe(err),
	}
}

// callFailure describes a call that failed for a reason other than a denial: which
// service and operation, after how many attempts, and AWS's answer or the network error.
func callFailure(err error) string {
	call := "a call"
	var oe *smithy.OperationError
	if errors.As(err, &oe) {
		call = oe.ServiceID + " " + oe.OperationName
	}
	how := "failed"
	var me *retry.MaxAttemptsError
	if errors.As(err, &me) {
		how = fmt.Sprintf("failed %d times", me.Attempt)
	}
	var apiErr smithy.APIError
	var ue *url.Error
	cause := err.Error()
	switch {
	case errors.As(err, &apiErr):
		cause = describe(err)
	case errors.As(err, &ue):
		cause = ue.Error()
	}
	return call + " " + how + ": " + cause
}

// SkippedAccount is an account whose IAM could not be fetched.
type SkippedAccount struct {
	ID     string
	Name   string
	Status string
	// Reason is one line: what was refused and the likely causes in the order to check
	// them. Detail is what AWS said.
	Reason string
	Detail string
}

// Active reports whether the account was ACTIVE: skipping it makes the sync partial.
// Suspended and closed accounts have no access to report.
func (a SkippedAccount) Active() bool { return a.Status == "" || a.Status == "ACTIVE" }

// PartialError is Fetch's error when ACTIVE accounts had to be skipped and
// Config.AllowPartial is off: a file without their IAM would show their access as
// removed. Skipped lists them (accounts that are not ACTIVE are left out).
type PartialError struct {
	Accounts int
	Skipped  []SkippedAccount
}

func (e *PartialError) Error() string {
	ids := make([]string, len(e.Skipped))
	for i, a := range e.Skipped {
		ids[i] = a.ID
	}
	return fmt.Sprintf("partial sync: %d of %d accounts could not be read (%s)", len(e.Skipped), e.Accounts, strings.Join(ids, ", "))
}
