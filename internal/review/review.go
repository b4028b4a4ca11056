// Package review runs user access reviews (certification campaigns) on the live inventory:
// an admin or auditor scopes a campaign, starting it freezes one item per grant in scope,
// reviewers decide keep or revoke with a reason, a revoke goes through the same provisioner
// as everything else (or becomes a task for the owner when Gatehouse cannot make the change),
// and an item is remediated only when a later sync no longer shows the access. Exports (CSV,
// JSON, a printable HTML report) carry a SHA-256 over their content, recorded in the audit log.
//
// Every change (create, start, decide, delegate, remediation, verification, close, export) is
// one store transaction with its audit entry and the jobs it starts, as in internal/jit.
//
// The files: review.go (types, states, errors), service.go (the Service), campaigns.go
// (create, start and the freeze, close, list, progress), scope.go (which grants a scope
// selects), reviewers.go (who reviews an item: owner, named people, group, manager, a
// sequence, the fallback; never the person themself), decisions.go (decide, bulk, delegate,
// reassign, the inbox), due.go (undecided items at the due date, reminders), remediate.go
// (revoke through the provisioner or a lease, owner tasks), verify.go (after each ingest:
// remediated, access gone), export.go (CSV, JSON, HTML, SHA-256), compare.go (the previous
// campaign of the same scope), worker.go (River).
package review

import (
	"context"
	"io"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/internal/awsprovision"
	"github.com/gatehouse/gatehouse/internal/refusal"
	"github.com/gatehouse/gatehouse/internal/store"
)

// CampaignState is where a campaign is. The spellings are the API's.
type CampaignState string

// The campaign states.
const (
	CampaignDraft  CampaignState = "draft"  // created; scope and reviewers can still change
	CampaignActive CampaignState = "active" // started: items frozen, reviewers deciding
	CampaignClosed CampaignState = "closed" // closed by an admin or auditor; no more decisions
)

// ItemState is where an item is. The spellings are the API's.
type ItemState string

// The item states.
const (
	ItemPending           ItemState = "pending"            // waiting for a decision
	ItemKept              ItemState = "kept"               // decided keep
	ItemRevocationPending ItemState = "revocation_pending" // decided revoke; the change is under way or done but not yet verified by a sync
	ItemRemediated        ItemState = "remediated"         // a later sync or import no longer shows the access
	ItemTaskOpen          ItemState = "task_open"          // Gatehouse cannot make the change: a task for the owner, open until a sync shows it done
)

// Decision values.
const (
	DecisionKeep   = "keep"
	DecisionRevoke = "revoke"
)

// Undecided values: what happens to items nobody decided by the due date.
const (
	UndecidedKeep     = "keep"
	UndecidedRevoke   = "revoke"
	UndecidedEscalate = "escalate" // the item goes to the fallback reviewers, with a new due date
)

// Via values besides a group's membership entitlement id.
const (
	ViaDirect = "direct"
	// ViaLeasePrefix starts the Via of access held through a just-in-time lease ("lease:<id>").
	ViaLeasePrefix = "lease:"
)

// Scope selects the grants a campaign reviews. Every key is optional; the keys combine with
// AND, the values of one key with OR. An empty scope is every current grant.
type Scope struct {
	Accounts       []string `json:"accounts,omitempty"`        // account ids
	OUs            []string `json:"ous,omitempty"`             // OU or root ids: the whole subtree
	PermissionSets []string `json:"permission_sets,omitempty"` // ids (ps-…) or ARNs
	// Applications are "aws" (every AWS connection), an AWS connection's id, or imported
	// applications' ids (or names, when one application has the name).
	Applications  []string `json:"applications,omitempty"`
	ResourceTypes []string `json:"resource_types,omitempty"` // account, sso_group, iam_group, iam_policy, app_resource
	// SSOGroups and IAMGroups select access held through, or granted to, these groups
	// (Identity Center group ids or names; IAM group ARNs or names).
	SSOGroups   []string `json:"sso_groups,omitempty"`
	IAMGroups   []string `json:"iam_groups,omitempty"`
	IAMPolicies []string `json:"iam_policies,omitempty"` // policy ARNs or names
	// AdminOnly keeps admin-level access only (see AdminLevel).
	AdminOnly bool `json:"admin_only"`
	// UnusedDays keeps access whose identity was not used in that many days (or never).
	UnusedDays int `json:"unused_days,omitempty"`
	// Departed keeps people who left: disabled in Identity Center (or SCIM), or no longer
	// in the identity provider.
	Departed bool `json:"departed,omitempty"`
}

// Reviewers says who reviews the items.
type Reviewers struct {
	People []string `json:"people,omitempty"` // emails
	// Groups are Identity Center groups (ids or names) whose members may review.
	Groups  []string `json:"groups,omitempty"`
	Manager bool     `json:"manager"` // the identity's manager (Identity Center manager attribute)
	Owner   bool     `json:"owner"`   // the account, permission set or application owner (jit owners)
	// Sequence is an ordered review ("manager", "owner", "people", "groups"): each item is
	// reviewed by each step in turn; keep passes it to the next step, revoke ends it.
	Sequence []string `json:"sequence,omitempty"`
	// Fallback are the people who review items nobody else can (their own access, no
	// manager, no owner); empty means the admins.
	Fallback []string `json:"fallback,omitempty"`
}

// CampaignInput creates (or, while a draft, edits) a campaign.
type CampaignInput struct {
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	Scope       Scope     `json:"scope"`
	Reviewers   Reviewers `json:"reviewers"`
	Due         time.Time `json:"due"`
	Undecided   string    `json:"undecided"` // keep (default), revoke, escalate
	// ConnectionID limits the campaign to one connection or imported application ("" means
	// every one).
	ConnectionID string `json:"connection_id,omitempty"`
}

// Campaign is a campaign with its progress.
type Campaign struct {
	ID          string
	Name        string
	Description string
	State       CampaignState
	Scope       Scope
	Reviewers   Reviewers
	Due         time.Time
	Undecided   string
	// ConnectionID is "" for every connection.
	ConnectionID string
	CreatedBy    string
	CreatedAt    time.Time
	StartedAt    *time.Time
	ClosedAt     *time.Time
	ClosedBy     string
	// SnapshotSync is, per connection, the ingested sync whose inventory the items were
	// frozen from.
	SnapshotSyncs map[string]string
	// Previous is the last campaign of the same scope that started before this one ("" if none).
	Previous string
	Progress Progress
	// ByReviewer is the progress per reviewer (admins and auditors see it).
	ByReviewer []ReviewerProgress
}

// Progress counts a campaign's items by state.
type Progress struct {
	Total             int `json:"total"`
	Pending           int `json:"pending"`
	Kept              int `json:"kept"`
	RevocationPending int `json:"revocation_pending"`
	Remediated        int `json:"remediated"`
	TaskOpen          int `json:"task_open"`
	// AccessGone counts pending or kept items whose access a later sync no longer shows.
	AccessGone int `json:"access_gone"`
}

// ReviewerProgress is one reviewer's share of a campaign.
type ReviewerProgress struct {
	Reviewer string `json:"reviewer"`
	Total    int    `json:"total"`
	Decided  int    `json:"decided"`
	Pending  int    `json:"pending"`
}

// Item is one frozen grant of a campaign: who (the identity), what (the entitlement), through
// what (Via), since when, with the context a reviewer needs, its decision and remediation.
type Item struct {
	ID         string
	CampaignID string
	Seq        int
	// The frozen grant, as the inventory had it when the campaign started.
	ConnectionID    string
	GrantID         string
	EntitlementID   string
	EntitlementName string
	ResourceType    string
	ResourceID      string
	ResourceName    string
	AccountID       string
	AccountName     string
	PrincipalType   string
	PrincipalID     string
	PrincipalName   string
	// Identity is the person's email where one is known.
	Identity string
	// Application is the name of the imported application the access is in ("" for AWS
	// access): it stands where an AWS item shows its account (connection_id is its id).
	Application string
	// Via is ViaDirect, the group membership entitlement the access comes through, or
	// ViaLeasePrefix+lease id; ViaName says it for people ("group Admins", "lease until 15:00").
	Via     string
	ViaName string
	Since   time.Time
	// AdminLevel marks admin-level access (AdministratorAccess, IAMFullAccess, a policy that
	// allows * on *, ...): keeping it needs a reason.
	AdminLevel bool
	Context    ItemContext
	// Step is the index of the current review step (Sequence), 0 without a sequence.
	Step int
	// Reviewer is the current reviewer shown on the item (the first of Reviewers);
	// Reviewers are everyone who may decide the current step.
	Reviewer  string
	Reviewers []string
	// Decision is "", keep or revoke: the final decision (or the last step's so far).
	Decision  string
	Reason    string
	DecidedBy string
	DecidedAt *time.Time
	State     ItemState
	// Remediation is the change a revoke makes (set when the item is decided revoke; the
	// planned change is also shown before deciding, in Plan).
	Remediation *Remediation
	Plan        string
	// AccessGoneAt is when a sync first no longer showed the access (for any state).
	AccessGoneAt   *time.Time
	AccessGoneSync string
	UpdatedAt      time.Time
	// Events are the item's history (decisions, delegations, remediation steps), oldest first;
	// filled by Item, not by lists.
	Events []ItemEvent
}

// ItemContext is what a reviewer sees to decide.
type ItemContext struct {
	// LastUsed is when AWS last saw the identity use its credentials (console sign-in, access
	// key last used, credential report); LastUsedSource says which, or why it is unknown
	// ("Identity Center does not report sign-ins per user").
	LastUsed       *time.Time `json:"last_used,omitempty"`
	LastUsedSource string     `json:"last_used_source,omitempty"`
	MFA            *bool      `json:"mfa,omitempty"`
	// Active is false for a disabled or departed person; Status says which.
	Active *bool  `json:"active,omitempty"`
	Status string `json:"status,omitempty"`
	// LeaseID and LeaseEndsAt are set for access held through a just-in-time lease.
	LeaseID     string     `json:"lease_id,omitempty"`
	LeaseEndsAt *time.Time `json:"lease_ends_at,omitempty"`
	// Previous is the previous campaign's decision on the same grant (same identity, access
	// and path), if any.
	PreviousCampaign string `json:"previous_campaign,omitempty"`
	PreviousDecision string `json:"previous_decision,omitempty"`
	PreviousReason   string `json:"previous_reason,omitempty"`
	PreviousBy       string `json:"previous_by,omitempty"`
	// Application is the name of the imported application (internal/appimport) the access
	// is in, frozen with the item; empty for AWS access.
	Application string `json:"application,omitempty"`
}

// Remediation actions.
const (
	ActionDeleteAssignment    = "delete_account_assignment" // Identity Center account assignment (user or group principal)
	ActionRemoveSSOMember     = "remove_sso_group_member"   // remove the user from the Identity Center group the access comes through
	ActionRemoveIAMMember     = "remove_iam_group_member"   // remove the IAM user from the IAM group
	ActionRevokeLease         = "revoke_lease"              // end the just-in-time lease (internal/jit)
	ActionOwnerTask           = "owner_task"                // Gatehouse cannot change it: a task for the owner
	RemediationQueued         = "queued"
	RemediationDone           = "done"   // AWS confirmed the change (or the task was marked done); waiting for a sync to verify
	RemediationFailed         = "failed" // the last attempt failed; retried (Error says AWS's reason)
	RemediationVerified       = "verified"
	RemediationTaskOpen       = "task_open"
	RemediationNotNeededState = "not_needed" // the access was already gone when the revoke was decided
)

// Remediation is the change a revoke decision makes and its verification.
type Remediation struct {
	Action string `json:"action"`
	// Description says the change for people, e.g. "Remove bob@example.com from the Identity
	// Center group Admins (this removes every access bob holds through Admins)".
	Description string `json:"description"`
	// Owner is who must do an owner task; Task the exact change to make.
	Owner    string     `json:"owner,omitempty"`
	Task     string     `json:"task,omitempty"`
	State    string     `json:"state"`
	Error    string     `json:"error,omitempty"`
	Attempts int        `json:"attempts"`
	DoneAt   *time.Time `json:"done_at,omitempty"`
	// VerifiedSync and VerifiedAt are the sync that no longer showed the access.
	VerifiedSync string     `json:"verified_sync,omitempty"`
	VerifiedAt   *time.Time `json:"verified_at,omitempty"`
}

// ItemEvent is one entry of an item's history.
type ItemEvent struct {
	Seq    int       `json:"-"`
	Kind   string    `json:"kind"` // decided, delegated, reassigned, escalated, auto_decided, remediation_started, remediation_done, remediation_failed, verified, access_gone, task_opened
	By     string    `json:"by"`   // an email, or "gatehouse" for the jobs
	At     time.Time `json:"at"`
	Detail string    `json:"detail"`
	// Decision and Step are set for decisions.
	Decision string `json:"decision,omitempty"`
	Step     int    `json:"step,omitempty"`
}

// ItemQuery filters items (a campaign's, or the caller's inbox across campaigns).
type ItemQuery struct {
	// Q searches the identity, principal, entitlement and account names.
	Q            string
	State        ItemState // "" for any
	Reviewer     string    // an email; admins and auditors only ("" for any)
	AccountID    string
	Via          string // "direct", "group", "lease", or "" for any
	AdminOnly    bool
	Decision     string // "", keep, revoke, or "none" for undecided
	Identity     string // an email
	ResourceType string
	Page         store.Page
}

// DecisionInput is one decision.
type DecisionInput struct {
	Decision string `json:"decision"` // keep or revoke
	Reason   string `json:"reason"`
}

// BulkResult is what a bulk decision did.
type BulkResult struct {
	Decided int `json:"decided"`
	// Skipped are items the filter matched that the caller may not decide (not theirs, their
	// own access, already decided, admin-level keep without a reason), with why.
	Skipped []BulkSkip `json:"skipped,omitempty"`
}

// BulkSkip is one item a bulk decision left alone.
type BulkSkip struct {
	ItemID string `json:"item_id"`
	Why    string `json:"why"`
}

// Export is an exported file.
type Export struct {
	Format      string // csv, json, html
	ContentType string
	FileName    string
	// Content is the file, positioned at its start: a private temporary file that Close
	// removes (the export is never held in memory; a large campaign's runs to hundreds of
	// MiB). Size is its length in bytes.
	Content io.ReadSeekCloser
	Size    int64
	// SHA256 is the hex SHA-256 of Content, recorded in the audit log.
	SHA256 string
}

// Comparison is a campaign compared with the previous campaign of the same scope.
type Comparison struct {
	Previous string `json:"previous"`
	// New is access in this campaign that the previous one did not have; Kept is access the
	// previous one kept and that is still here; Revoked is access the previous one revoked
	// that is back.
	New      []Item `json:"-"`
	Kept     []Item `json:"-"`
	Returned []Item `json:"-"`
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

// Notifier receives review events inside the transaction that made them (internal/notify
// writes an outbox), so a notification is sent if and only if the change committed.
type Notifier interface {
	NotifyReviewTx(ctx context.Context, tx *store.Tx, ev Event) error
}

// Event is one notable moment of a campaign.
type Event struct {
	// Kind is review_started (to every reviewer), review_reminder, review_due_soon,
	// review_escalated, review_task (an owner task), review_closed.
	Kind       string
	CampaignID string
	Campaign   string // the campaign's name
	To         []string
	// Pending is how many items are waiting for the recipient(s).
	Pending int
	Due     time.Time
	Actor   string
	Detail  string
	At      time.Time
	URL     string
}

// Provisioners gives the provisioner of a connection (internal/jit shares its cache).
type Provisioners interface {
	Provisioner(ctx context.Context, connectionID string) (*awsprovision.Provisioner, error)
}

// Leases ends a just-in-time lease (internal/jit.Service.RevokeLease).
type Leases interface {
	// RevokeLeaseForReview ends lease id early because a review rejected it; it returns once
	// the revoke is queued (the lease's own job makes and confirms the change).
	RevokeLeaseForReview(ctx context.Context, leaseID, campaign, reviewer, reason string) error
}

// Config configures the service.
type Config struct {
	Store *store.Store
	Log   *zap.Logger
	// Provisioners and Leases make the changes; nil in tests that do not remediate.
	Provisioners Provisioners
	Leases       Leases
	Notifier     Notifier
	// BaseURL is the server's public URL, for links in notifications.
	BaseURL string
	// Now is the clock (tests).
	Now func() time.Time
	// ReminderEvery is how often reviewers with pending items are reminded (default 72h);
	// DueSoon how long before the due date the last reminder goes (default 24h).
	ReminderEvery time.Duration
	DueSoon       time.Duration
	// TempDir is where exports are written before they are sent (default os.TempDir; the
	// server may give its data directory).
	TempDir string
}
