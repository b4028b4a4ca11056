package awsprovision

import (
	"time"

	"go.uber.org/zap"
)

// Outcome is how a Grant or Revoke ended.
type Outcome string

// The outcomes. A dry run ends with WouldCreate or WouldRemove when it would write, with
// AlreadyExisted or AlreadyAbsent when it would not, and with WouldBeDenied or WouldFail
// when its checks found that the write would not succeed (Result.Problems says why).
const (
	Created        Outcome = "created"
	AlreadyExisted Outcome = "already existed"
	Removed        Outcome = "removed"
	AlreadyAbsent  Outcome = "already absent"
	WouldCreate    Outcome = "would create"
	WouldRemove    Outcome = "would remove"
	WouldBeDenied  Outcome = "would be denied"
	WouldFail      Outcome = "would fail"
)

// Blocked reports whether a dry run found that the change would not succeed.
func (o Outcome) Blocked() bool { return o == WouldBeDenied || o == WouldFail }

// Changed reports whether the outcome is a change made in AWS.
func (o Outcome) Changed() bool { return o == Created || o == Removed }

// Result is what a Grant or Revoke did.
type Result struct {
	Action  Action
	Access  Access
	DryRun  bool
	Outcome Outcome
	// Description names the access for people, with names where AWS gave them:
	// "user bob in IAM Identity Center group Developers".
	Description string
	// Account is the account the access lives in: the IAM group's account, or the account
	// of an assignment; empty for Identity Center group memberships.
	Account string
	// Role is the IAM role (or user) the writes are made as.
	Role string
	// Notes are what a person should know besides the outcome: a permission set this
	// assignment provisioned, sessions that outlive a revoke, access that remains through
	// a group, an external identity provider that may undo the change.
	Notes []string
	// Calls are the AWS calls made, in order, each with AWS's request id.
	Calls []Call
	// Evidence are the calls that settled the outcome: the write and its confirmation, or
	// the read that found there was nothing to do.
	Evidence []Call
	// Planned are, in a dry run, the writes that would have been made, in order.
	Planned []Call
	// Problems are, in a dry run, why the planned writes would be denied or fail (the
	// outcome is then WouldBeDenied or WouldFail).
	Problems []string
	// SessionDuration is, for EndSessions and LiftSessionDeny, the permission set's
	// session duration as AWS described it during the call: how long after the revoke a
	// session issued before it can still be valid, hence when the deny can be lifted.
	SessionDuration time.Duration
	Duration        time.Duration
}

// Call is one AWS API call, made or planned.
type Call struct {
	// Service is the service's IAM action prefix (iam, sso, identitystore,
	// organizations, sts) and Operation the API operation, so Service:Operation is the
	// IAM action that allows the call.
	Service, Operation string
	// Account is the account whose credentials sign the call; Role the role (or user)
	// it is made as.
	Account, Role string
	// Params are the parameters of a planned call.
	Params []Param
	// RequestID is AWS's request id; ErrorCode is AWS's error code, empty on success.
	RequestID, ErrorCode string
	// Note says what a planned call is for when it is not obvious.
	Note string
}

// Action is the IAM action of the call, e.g. sso:CreateAccountAssignment.
func (c Call) Action() string { return c.Service + ":" + c.Operation }

// Param is one parameter of a planned call.
type Param struct {
	Name, Value string
}

// note adds a note to the result.
func (r *Result) note(s string) { r.Notes = append(r.Notes, s) }

// settle records the outcome and the calls that settled it.
func (r *Result) settle(o Outcome, evidence ...Call) {
	r.Outcome = o
	r.Evidence = append(r.Evidence, evidence...)
}

// requestIDs lists every call as "service:Operation=request-id" for the log.
func (r *Result) requestIDs() []string {
	out := make([]string, 0, len(r.Calls))
	for _, c := range r.Calls {
		s := c.Action() + "=" + c.RequestID
		if c.ErrorCode != "" {
			s += " (" + c.ErrorCode + ")"
		}
		out = append(out, s)
	}
	return out
}

// logResult writes the one log entry of a Grant or Revoke: who asked, as whom it ran,
// what access, where, the outcome and AWS's request ids.
func (p *Provisioner) logResult(res *Result, err error) {
	fields := []zap.Field{
		zap.String("action", string(res.Action)),
		zap.String("kind", res.Access.Kind()),
	}
	fields = append(fields, res.Access.logFields()...)
	if res.Description != "" {
		fields = append(fields, zap.String("description", res.Description))
	}
	if res.Account != "" {
		fields = append(fields, zap.String("account", res.Account))
	}
	fields = append(fields, zap.String("connector", p.sess.CallerARN()))
	if res.Role != "" {
		fields = append(fields, zap.String("role", res.Role))
	}
	fields = append(fields,
		zap.Bool("dry_run", res.DryRun),
		zap.Strings("request_ids", res.requestIDs()),
		zap.Duration("duration", res.Duration),
	)
	if p.opts.RequestedBy != "" {
		fields = append(fields, zap.String("requested_by", p.opts.RequestedBy))
	}
	if len(res.Notes) > 0 {
		fields = append(fields, zap.Strings("notes", res.Notes))
	}
	if len(res.Problems) > 0 {
		fields = append(fields, zap.Strings("problems", res.Problems))
	}
	if err != nil {
		p.log.Error(string(res.Action)+" failed", append(fields, zap.String("error", err.Error()))...)
		return
	}
	fields = append(fields, zap.String("outcome", string(res.Outcome)))
	msg := "access granted"
	switch {
	case res.DryRun:
		msg = "dry run of " + string(res.Action)
	case res.Action == ActionRevoke:
		msg = "access revoked"
	case res.Action == ActionEndSessions:
		msg = "sessions ended"
	case res.Action == ActionLiftSessionDeny:
		msg = "session deny lifted"
	}
	if !res.Outcome.Changed() && !res.DryRun {
		msg = string(res.Action) + ": nothing to change"
	}
	p.log.Info(msg, fields...)
}
