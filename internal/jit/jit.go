// Package jit is just-in-time access: requests for access that the requestability rules
// (internal/access) allow, their approval under a snapshotted approval policy, and leases that
// grant the access in AWS through internal/awsprovision and take it away when they end.
//
// The lease is the truth. Expiry has three independent paths: a River job scheduled at the
// lease's end (unique per lease), a periodic sweeper that re-enqueues anything overdue, and a
// reconciler that compares what AWS has with the leases and acts. A lease is revoked only when
// AWS confirms the deletion; overlapping leases and standing access share one assignment and a
// lease ending never removes access another lease or standing access still needs.
//
// Every state change of a request is one store transaction that writes the new state, its
// transition row, its audit entry, any job it starts (jobs.Service.InsertTx) and its
// notification, so that a crash leaves either all of it or none.
//
// A request's policy and its approvers are resolved when it is made and kept on it, so that
// editing a policy, a group or the owners never changes a request in flight; the approval
// engine itself (who may approve which step, the fallback, distinct) is internal/access's.
//
// The files: config.go (the rules and policies document with its versions, the seed, owners),
// identity.go (entitlement to AWS ids, person to AWS principal), catalog.go, requests.go
// (create, decide, cancel, list, break-glass, pending extensions), transitions.go (the state
// machine), worker_requests.go (approval step timeouts), leases.go, provision.go, expiry.go,
// reconcile.go, ratelimit.go, sessions.go, worker.go (River), app_leases.go (leases in
// applications imported from files: the owner's grant and revoke tasks, closed by imports).
package jit

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/internal/awsfetch"
	"github.com/gatehouse/gatehouse/internal/awsprovision"
	"github.com/gatehouse/gatehouse/internal/refusal"
	"github.com/gatehouse/gatehouse/internal/store"
)

// State is where a request is in its life. The spellings are the API's.
type State string

// The states. Final states are Expired, Revoked, Denied, Cancelled and Failed.
const (
	StatePendingApproval State = "pending_approval"
	StateApproved        State = "approved"     // approved; the lease's grant job is queued
	StateProvisioning    State = "provisioning" // the grant is being made in AWS
	StateActive          State = "active"       // AWS confirmed the access; the lease runs
	StateExpiring        State = "expiring"     // the lease ended (or was ended); the revoke is under way
	StateExpired         State = "expired"      // revoked in AWS at the lease's end
	StateRevoked         State = "revoked"      // revoked early: released by the requester or revoked by an admin
	StateDenied          State = "denied"
	StateCancelled       State = "cancelled"
	StateFailed          State = "failed" // with AWS's reason (Request.Error)
)

// Final says whether no further transition can leave s.
func (s State) Final() bool {
	switch s {
	case StateExpired, StateRevoked, StateDenied, StateCancelled, StateFailed:
		return true
	}
	return false
}

// Kind is the kind of access a request is for (awsprovision's Access.Kind()).
type Kind string

// The kinds.
const (
	KindAccountAssignment  Kind = "account_assignment"   // account + permission set, Identity Center user
	KindSSOGroupMembership Kind = "sso_group_membership" // Identity Center group membership
	KindIAMGroupMembership Kind = "iam_group_membership" // IAM user in an IAM group
	// KindAppGrant is an entitlement of an application imported from files: its owner
	// grants and revokes it by hand (tasks), an import shows that it is done (app_leases.go).
	KindAppGrant Kind = "app_grant"
)

// Target is what a request grants, resolved at creation: the entitlement and the AWS ids the
// provisioner needs. It is stored with the request (JSON) and never re-resolved.
type Target struct {
	ConnectionID  string `json:"connection_id"`
	EntitlementID string `json:"entitlement_id"`
	Kind          Kind   `json:"kind"`
	DisplayName   string `json:"display_name"` // "AdministratorAccess on prod (111111111111)"
	Application   string `json:"application"`  // "aws"
	AccountID     string `json:"account_id,omitempty"`
	AccountName   string `json:"account_name,omitempty"`
	// PermissionSetARN and PermissionSetID are set for account assignments.
	PermissionSetARN  string `json:"permission_set_arn,omitempty"`
	PermissionSetID   string `json:"permission_set_id,omitempty"`
	PermissionSetName string `json:"permission_set_name,omitempty"`
	// GroupID is the Identity Center group id, or the IAM group's ARN.
	GroupID   string `json:"group_id,omitempty"`
	GroupName string `json:"group_name,omitempty"`
	// PrincipalID is the requester's Identity Center user id, or IAM user ARN for IAM groups.
	PrincipalID   string `json:"principal_id"`
	PrincipalName string `json:"principal_name,omitempty"`

	// For an imported application (KindAppGrant; Application and ConnectionID are its id):
	// its name, the resource's type and name and the entitlement as the files spell them,
	// and Email, the requester's email, which links the application's user who holds the
	// grant (PrincipalID is that user, empty when the application has none with that email
	// yet: the owner creates it when granting).
	AppName      string `json:"app_name,omitempty"`
	ResourceKind string `json:"resource_kind,omitempty"`
	ResourceName string `json:"resource_name,omitempty"`
	Entitlement  string `json:"entitlement,omitempty"`
	Email        string `json:"email,omitempty"`
}

// AccessKey identifies the AWS access itself (not the request): two leases with the same key
// share one assignment or membership.
func (t Target) AccessKey() string {
	switch t.Kind {
	case KindAccountAssignment:
		return fmt.Sprintf("%s|%s|%s|USER|%s", t.Kind, t.AccountID, t.PermissionSetID, t.PrincipalID)
	case KindAppGrant:
		// The person, not the application's user: the user may not exist yet.
		return fmt.Sprintf("%s|%s|%s", t.Kind, t.EntitlementID, t.Email)
	default:
		return fmt.Sprintf("%s|%s|%s", t.Kind, t.GroupID, t.PrincipalID)
	}
}

// Transition is one stored state change.
type Transition struct {
	Seq    int       `json:"-"`
	From   State     `json:"from"` // "" for the creation
	To     State     `json:"to"`
	By     string    `json:"by"` // an email, or "gatehouse" for the jobs
	At     time.Time `json:"at"`
	Reason string    `json:"reason"`
}

// Request is a request with its lease and history, as the API and UI show it.
type Request struct {
	ID        string
	State     State
	Requester string // email
	Target    Target
	Reason    string
	Duration  time.Duration
	CreatedAt time.Time
	UpdatedAt time.Time
	// StartsAt and EndsAt are the lease's (nil before it starts).
	StartsAt, EndsAt *time.Time
	// Rule is the name of the rule that applied; Policy the approval policy snapshot.
	Rule   string
	Policy PolicySnapshot
	// Steps is the approval progress, one per policy step.
	Steps []StepStatus
	// BreakGlass marks self-approved emergency access (it needs a review after the fact);
	// ReviewedBy and ReviewedAt are that review (an approver's Approve while it is active).
	BreakGlass bool
	ReviewedBy string
	ReviewedAt *time.Time
	// EndSessions means revoking also ends live sessions (opt-in per rule).
	EndSessions bool
	// PendingExtension is an extension waiting for approval.
	PendingExtension *Extension
	// Error is AWS's reason when State is failed (or when a step failed and is retried).
	Error       string
	Transitions []Transition
	Lease       *Lease
	// Task is what the owner of an imported application must do now for this request (the
	// lease's latest task), nil for AWS access and before the approval.
	Task *OwnerTask
}

// PolicySnapshot is the approval policy as it was when the request was made (stored JSON).
type PolicySnapshot struct {
	Name string          `json:"name"`
	Doc  json.RawMessage `json:"doc"` // the policy, as internal/access marshals it (JSON)
}

// StepStatus is one approval step's progress.
type StepStatus struct {
	Index    int    `json:"index"`
	Name     string `json:"name,omitempty"`
	Required int    `json:"required"`
	// Approvers are the people who may approve the step (never the requester), as resolved
	// when the request was made; when UsesFallback, the policy's fallback approvers.
	Approvers []string   `json:"approvers"`
	Approvals []Decision `json:"approvals"` // approvals and the denial, if any
	// State is pending (an earlier step is not approved yet), waiting, approved, denied,
	// timed_out (the request expired), cancelled, or not_reached (the request ended, or was
	// approved as break-glass, before this step).
	State string     `json:"state"`
	DueAt *time.Time `json:"due_at,omitempty"`
	// UsesFallback says the fallback approvers decide this step, and Note why (nobody
	// eligible among the step's approvers, or the step timed out and escalated).
	UsesFallback bool   `json:"uses_fallback,omitempty"`
	Note         string `json:"note,omitempty"`
	// Auto says nobody approves this step: it was approved at once.
	Auto bool `json:"auto,omitempty"`
	// Fallback are the fallback approvers as resolved (for escalation).
	Fallback  []string      `json:"fallback,omitempty"`
	Timeout   time.Duration `json:"timeout,omitempty"`
	OnTimeout string        `json:"on_timeout,omitempty"`
}

// Decision is one approver's decision.
type Decision struct {
	By       string    `json:"by"`
	Approved bool      `json:"approved"`
	Reason   string    `json:"reason"`
	At       time.Time `json:"at"`
}

// Extension is a pending request for more time.
type Extension struct {
	Duration    time.Duration `json:"duration"`
	Reason      string        `json:"reason"`
	RequestedAt time.Time     `json:"requested_at"`
}

// LeaseState is where a lease is.
type LeaseState string

// The lease states.
const (
	LeasePending LeaseState = "pending" // not granted yet
	LeaseActive  LeaseState = "active"  // AWS confirmed the grant
	LeaseEnding  LeaseState = "ending"  // past its end or ended early; revoke under way
	LeaseEnded   LeaseState = "ended"   // AWS confirmed the revoke (or another holder keeps the access)
	LeaseFailed  LeaseState = "failed"  // the grant failed for good
)

// Lease is the truth about one grant of temporary access.
type Lease struct {
	ID        string
	RequestID string
	Requester string
	Target    Target
	State     LeaseState
	StartsAt  *time.Time
	EndsAt    time.Time
	// EndedAt is when AWS confirmed the revoke; EndReason is expired, released or revoked.
	EndedAt   *time.Time
	EndReason string
	// Drift is what the reconciler found AWS to disagree with (empty when none).
	Drift string
	// Tasks are the owner's tasks of a lease in an imported application (grant, then
	// revoke), oldest first; Unverified says the lease is active because the owner marked
	// the grant done, and no import has shown the grant yet.
	Tasks      []OwnerTask
	Unverified bool
}

// Code classifies an Error for the API (status) and the UI (internal/refusal).
type Code = refusal.Code

// The codes.
const (
	CodeInvalid   = refusal.Invalid
	CodeForbidden = refusal.Forbidden
	CodeNotFound  = refusal.NotFound
	CodeConflict  = refusal.Conflict
)

// Error is a refusal a person can act on: Detail says why and what to do.
type Error = refusal.Error

// Errorf returns a refusal.
func Errorf(code Code, format string, args ...any) *Error {
	return refusal.Errorf(code, format, args...)
}

// CodeOf is err's Code, 0 when err is no refusal.
func CodeOf(err error) Code { return refusal.CodeOf(err) }

// Queue inserts River jobs in store transactions (jobs.Service).
type Queue interface {
	InsertTx(ctx context.Context, tx *store.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// Notifier receives every event of a request, inside the transaction that made it, so that a
// notification is sent if and only if the change committed (internal/notify writes an outbox).
type Notifier interface {
	NotifyTx(ctx context.Context, tx *store.Tx, ev Event) error
}

// Event is one notable moment of a request.
type Event struct {
	Kind      string // requested, approval_needed, approved, denied, granted, expiry_warning, revoked, expired, failed, break_glass, cancelled, extended, app_task, app_task_cancelled, app_task_overdue
	RequestID string
	Requester string
	// To are the people the event is for (approvers of the current step for
	// approval_needed); webhooks receive every event regardless.
	To     []string
	Target Target
	State  State
	Actor  string
	Reason string
	EndsAt *time.Time
	At     time.Time
	URL    string // the request's page in the UI

	// RequestReason is the requester's reason for the request, shown with every event
	// (Reason is this event's own: the requester's for requested and break_glass, the
	// approver's for approved and denied, the admin's for revoked, AWS's for failed).
	RequestReason string
}

// Config configures the service.
type Config struct {
	Store *store.Store
	Log   *zap.Logger
	// FetchConfig gives a connection's AWS configuration (connection.Service.FetchConfig).
	FetchConfig func(ctx context.Context, connectionID string) (awsfetch.Config, error)
	Notifier    Notifier
	// BaseURL is the server's public URL, for links in notifications.
	BaseURL string
	// Now is the clock (time.Now when nil); tests move it.
	Now func() time.Time
	// Provision are the base options of the provisioners that grant and revoke leases
	// (AssignmentWait, PollInterval); the service sets their Limiter and Logger.
	Provision awsprovision.Options
	// Sweep is how often the sweeper looks for leases that need work at the most
	// (DefaultSweep); it also wakes at each lease's end.
	Sweep time.Duration
	// GrantTaskDue and RevokeTaskDue are how long an imported application's owner has for
	// a grant task (DefaultGrantTaskDue) and a revoke task (DefaultRevokeTaskDue) before
	// the task is overdue and alerted (app_leases.go).
	GrantTaskDue, RevokeTaskDue time.Duration
}
