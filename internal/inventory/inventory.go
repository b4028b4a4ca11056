// Package inventory holds what Gatehouse knows about an AWS organization at one moment: a
// Snapshot of the organization tree, every account's IAM, and IAM Identity Center.
//
// A Snapshot is produced in bulk by the fetchers in internal/awsfetch and consumed by the
// baton connector in internal/connector, which pages over it. The types here are plain
// data with no AWS SDK types, so the connector and tests can build them by hand.
package inventory

import (
	"strings"
	"time"
)

// Snapshot is the inventory of one sync.
type Snapshot struct {
	FetchedAt time.Time
	// CallerARN is the identity the sync ran as.
	CallerARN string
	// CallerAccountID is the account of that identity (the management account with --orgs).
	CallerAccountID string
	// Org is nil when Organizations support is off.
	Org *Organization
	// Accounts are every account of the organization (or just the caller's), ordered by id.
	Accounts []*Account
	// IdentityCenter is nil when Identity Center support is off.
	IdentityCenter *IdentityCenter
}

// Organization is an AWS Organization's identity and tree.
type Organization struct {
	ID                  string
	ARN                 string
	ManagementAccountID string
	// Units are the roots and organizational units, parents before children.
	Units []*OrgUnit
}

// OrgUnit is an organization root or organizational unit.
type OrgUnit struct {
	ID       string // r-xxxx for a root, ou-xxxx-xxxxxxxx for an OU
	ARN      string
	Name     string
	ParentID string // "" for a root
	IsRoot   bool
	// Path is the names from the root, e.g. "Root/Workloads/Prod".
	Path string
}

// Account is one AWS account and, when it could be synced, its IAM.
type Account struct {
	ID       string
	ARN      string
	Name     string
	Email    string
	Status   string // ACTIVE, SUSPENDED, ...
	ParentID string // root or OU id; "" without Organizations
	// OUPath is the path of the parent unit, e.g. "Root/Workloads/Prod".
	OUPath   string
	JoinedAt time.Time
	// Synced is true when the account's IAM was fetched; otherwise SkipReason says why
	// (one line, with the likely causes in the order to check them) and SkipDetail what
	// AWS answered.
	Synced     bool
	SkipReason string
	SkipDetail string
	Aliases    []string
	IAM        *IAM
}

// IAM is one account's IAM, fetched in bulk.
type IAM struct {
	Users    []*User
	Groups   []*Group
	Roles    []*Role
	Policies []*ManagedPolicy // customer-managed policies and the AWS-managed ones attached here
	// CredentialReport is nil when the report could not be obtained (see CredentialReportError).
	CredentialReport      []*CredentialReportRow
	CredentialReportError string
	// CredentialReportGeneratedAt is when IAM generated the report (GetCredentialReport's
	// GeneratedTime). IAM reuses a report for four hours, so it can be that much older
	// than the sync: users and access keys created since are not in it.
	CredentialReportGeneratedAt time.Time
	// UserCredentials are rows in the report's shape, read with per-user calls, for the
	// users the report does not cover (created after it, or deleted and recreated since).
	// Where a user has both, this row is the current one.
	UserCredentials []*CredentialReportRow
	// AccessKeys are only fetched with secrets sync; nil otherwise.
	AccessKeys []*AccessKey
	MFADevices []*MFADevice
	// RootVirtualMFA are the serial numbers of the virtual MFA devices assigned to the
	// root user (ListVirtualMFADevices): a root MFA that is not among them is hardware.
	RootVirtualMFA []string
	// RootSummary is what GetAccountSummary says of the root user, as of the sync; nil
	// when it could not be read.
	RootSummary *RootSummary
	// PasswordPolicy is the account's password policy when PasswordPolicyState is
	// PasswordPolicySet; PasswordPolicyError says why it is PasswordPolicyUnread.
	PasswordPolicy      *PasswordPolicy
	PasswordPolicyState string
	PasswordPolicyError string
	// LastAccess is what the sync learnt of its users' and roles' service last accessed
	// details (jobs started, collected, failed), when asked to read them on a budget; it
	// covers a few entities per sync (awsfetch.LastAccessPlan).
	LastAccess []*LastAccessRead `json:",omitempty"`
}

// LastAccessRead is one step of reading an entity's service last accessed details
// (IAM's GenerateServiceLastAccessedDetails job). Kind is one of store.LastAccess*'s:
// started (JobID), pending, completed (CompletedAt, Services), failed, unread (Error: the
// read failed, the job if any is kept), expired (AWS no longer knows the job).
type LastAccessRead struct {
	EntityARN   string
	Kind        string
	JobID       string    `json:",omitempty"`
	At          time.Time // when the call was made
	CompletedAt time.Time `json:",omitempty"`
	Services    []ServiceAccess
	Error       string `json:",omitempty"`
}

// ServiceAccess is one service an entity's permissions policies allow and when the
// entity last used it (zero: not within IAM's tracking period).
type ServiceAccess struct {
	Namespace         string
	Name              string
	LastAuthenticated time.Time `json:",omitempty"`
	Entities          int
}

// Password policy states (IAM.PasswordPolicyState); "" means not read at all (a snapshot
// from before Gatehouse read it).
const (
	PasswordPolicySet    = "set"
	PasswordPolicyNone   = "none"   // IAM answered NoSuchEntity: the account has none
	PasswordPolicyUnread = "unread" // the read was denied or failed
)

// PasswordPolicy is an account's IAM password policy (GetAccountPasswordPolicy). Zero
// MaxPasswordAge and PasswordReusePrevention mean not set.
type PasswordPolicy struct {
	MinimumPasswordLength      int32
	PasswordReusePrevention    int32
	MaxPasswordAge             int32
	RequireSymbols             bool
	RequireNumbers             bool
	RequireUppercaseCharacters bool
	RequireLowercaseCharacters bool
	AllowUsersToChangePassword bool
	ExpirePasswords            bool
	HardExpiry                 bool
}

// RootSummary is GetAccountSummary's AccountMFAEnabled and AccountAccessKeysPresent.
type RootSummary struct {
	MFAEnabled        bool
	AccessKeysPresent bool
}

// User is an IAM user.
type User struct {
	ARN              string
	ID               string
	Name             string
	Path             string
	CreatedAt        time.Time
	Tags             map[string]string
	Groups           []string // group names in the same account
	AttachedPolicies []string // managed policy ARNs
	InlinePolicies   []InlinePolicy
	// PermissionsBoundary is the ARN of the managed policy that caps what the user's
	// policies can allow; "" when the user has none.
	PermissionsBoundary string
}

// Group is an IAM group.
type Group struct {
	ARN              string
	ID               string
	Name             string
	Path             string
	CreatedAt        time.Time
	AttachedPolicies []string
	InlinePolicies   []InlinePolicy
}

// Role is an IAM role.
type Role struct {
	ARN                string
	ID                 string
	Name               string
	Path               string
	CreatedAt          time.Time
	Description        string
	TrustPolicy        string // decoded JSON
	MaxSessionDuration int32
	Tags               map[string]string
	AttachedPolicies   []string
	InlinePolicies     []InlinePolicy
	LastUsedAt         time.Time
	LastUsedRegion     string
	// PermissionSetARN links an Identity Center reserved role (AWSReservedSSO_...) to its
	// permission set; "" for other roles or when it cannot be determined.
	PermissionSetARN string
	// PermissionsBoundary is the ARN of the managed policy that caps what the role's
	// policies can allow; "" when the role has none.
	PermissionsBoundary string
}

// ManagedPolicy is a customer-managed or AWS-managed policy.
type ManagedPolicy struct {
	ARN             string
	ID              string
	Name            string
	Path            string
	AWSManaged      bool
	Description     string
	DefaultVersion  string
	Document        string // decoded JSON of the default version
	AttachmentCount int32
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// InlinePolicy is a policy embedded in a user, group or role.
type InlinePolicy struct {
	Name     string
	Document string // decoded JSON
}

// CredentialReportRow is one user's row of the IAM credential report. Zero times mean
// "never" or "not applicable".
type CredentialReportRow struct {
	User                string // <root_account> for the root user
	ARN                 string
	CreatedAt           time.Time
	PasswordEnabled     bool
	PasswordLastUsed    time.Time
	PasswordLastChanged time.Time
	MFAActive           bool
	AccessKeys          [2]CredentialReportKey
	// Unread, in a row of IAM.UserCredentials, names what the per-user calls were denied
	// (e.g. "iam:GetLoginProfile"), whose columns are then unknown rather than empty.
	Unread []string
}

// CredentialReportKey is one access key's columns of the credential report.
type CredentialReportKey struct {
	Active          bool
	LastRotated     time.Time
	LastUsed        time.Time
	LastUsedRegion  string
	LastUsedService string
}

// AccessKey is an IAM user's access key (never its secret).
type AccessKey struct {
	ID              string
	UserName        string
	UserARN         string
	Status          string // Active or Inactive
	CreatedAt       time.Time
	LastUsedAt      time.Time
	LastUsedService string
	LastUsedRegion  string
}

// MFADevice is an MFA device assigned to a user: virtual, a hardware TOTP token, or a
// FIDO security key (whose serial is an ARN of the u2f resource type; see FIDO).
type MFADevice struct {
	Serial    string
	Virtual   bool
	UserName  string
	EnabledAt time.Time
}

// IdentityCenter is an IAM Identity Center instance and its identity store.
type IdentityCenter struct {
	InstanceARN     string
	IdentityStoreID string
	Region          string
	Users           []*SSOUser
	Groups          []*SSOGroup
	// Members maps a group id to its member user ids.
	Members        map[string][]string
	PermissionSets []*PermissionSet
	// Provisioned maps an account id to the ARNs of the permission sets provisioned to it.
	Provisioned map[string][]string
	Assignments []*Assignment
	// UserStatusNote, when not empty, says why the status of some users is unknown
	// (their Status is empty), in words a person can act on.
	UserStatusNote string
}

// User status values (SSOUser.Status) and where they came from (SSOUser.StatusSource).
const (
	UserEnabled  = "ENABLED"
	UserDisabled = "DISABLED"

	// StatusFromIdentityStore is the Identity Store API's UserStatus.
	StatusFromIdentityStore = "identitystore"
	// StatusFromSCIM is the SCIM API's active attribute, read only for users whose
	// UserStatus the Identity Store API did not report.
	StatusFromSCIM = "scim"
)

// SSOUser is an identity store user.
type SSOUser struct {
	ID          string
	UserName    string
	DisplayName string
	GivenName   string
	FamilyName  string
	Email       string
	// Status is UserEnabled or UserDisabled, or empty when unknown; StatusSource says
	// where it came from, StatusNote why it is unknown.
	Status       string
	StatusSource string
	StatusNote   string
	// Title is the core attribute title. ManagerID (the Identity Center user id of the
	// user's manager) and the rest are the enterprise extension (SCIM's
	// urn:ietf:params:scim:schemas:extension:enterprise:2.0:User, the Identity Store
	// API's aws:identitystore:enterprise), empty when the identity store has none.
	Title          string
	ManagerID      string
	EmployeeNumber string
	CostCenter     string
	Organization   string
	Division       string
	Department     string
}

// SSOGroup is an identity store group.
type SSOGroup struct {
	ID          string
	DisplayName string
	Description string
}

// PermissionSet is an Identity Center permission set.
type PermissionSet struct {
	ARN                     string
	Name                    string
	Description             string
	SessionDuration         string // ISO 8601, e.g. PT8H
	CreatedAt               time.Time
	ManagedPolicies         []string // AWS-managed policy ARNs
	CustomerManagedPolicies []string // "path/name" references
	InlinePolicy            string
}

// Assignment gives a principal a permission set in an account.
type Assignment struct {
	AccountID        string
	PermissionSetARN string
	PrincipalType    string // USER or GROUP
	PrincipalID      string
}

// FIDO reports whether the device is a FIDO security key: IAM names those with an ARN
// of the u2f resource type (arn:aws:iam::ACCOUNT:u2f/user/NAME/...), hardware TOTP
// tokens with their serial number and virtual devices with an ARN of the mfa type.
func (d *MFADevice) FIDO() bool {
	return strings.HasPrefix(d.Serial, "arn:") && strings.Contains(d.Serial, ":u2f/")
}
