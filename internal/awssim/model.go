package awssim

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// World is the whole simulated state. It is guarded by the Sim's lock: read and change it
// only inside Sim.Do (or from the service handlers, which hold the lock).
type World struct {
	// Region is the region of the management account's Identity Center instance and the
	// default region reported by the simulator.
	Region string
	// ManagementAccountID is the account that owns the organization (or the only account
	// when there is no organization).
	ManagementAccountID string
	// Accounts by 12-digit id.
	Accounts map[string]*Account
	// Org is nil when the management account is not part of an organization.
	Org *Organization
	// SSO is nil when Identity Center is not enabled.
	SSO *SSOInstance
	// AWSManagedPolicies are the policies under arn:aws:iam::aws:policy/, shared by all
	// accounts. Attachments are per account.
	AWSManagedPolicies map[string]*Policy
	// Buckets by name.
	Buckets map[string]*Bucket
	// Sessions are temporary credentials issued by STS or the access portal, by access
	// key id.
	Sessions map[string]*Session
	// PortalTokens are the AWS access portal's access tokens of signed-in Identity
	// Center users, by token (see portal.go).
	PortalTokens map[string]*PortalToken
	// Connector describes the principal and role that `gatehouse sim` advertises. Empty
	// fields mean "not set up".
	Connector ConnectorInfo

	seq int64 // feeds deterministic ids
	now func() time.Time
}

// ConnectorInfo is what a client needs to reach the simulator as Gatehouse would.
type ConnectorInfo struct {
	AccessKeyID     string
	SecretAccessKey string
	RoleARN         string
	ExternalID      string
	SCIMToken       string
}

// Account is one AWS account with its own IAM.
type Account struct {
	ID           string
	Name         string
	Email        string
	Status       string // ACTIVE, SUSPENDED, PENDING_CLOSURE
	ParentID     string // root or OU id; empty without an organization
	JoinedMethod string // INVITED or CREATED
	JoinedAt     time.Time
	Aliases      []string

	Users    map[string]*User  // by user name
	Groups   map[string]*Group // by group name
	Roles    map[string]*Role  // by role name
	Policies map[string]*Policy
	// MFADevices by serial number; a virtual device may be unassigned (UserName "").
	MFADevices map[string]*MFADevice

	CredentialReport CredentialReport
	// PasswordPolicy is the account's IAM password policy; nil when none is set (IAM then
	// answers NoSuchEntity to GetAccountPasswordPolicy).
	PasswordPolicy *PasswordPolicy
	// Root is the root user's credentials, as the credential report and GetAccountSummary
	// show them.
	Root RootUser
	// DenyAll makes every call authenticated in this account fail with AccessDenied,
	// as an SCP denying everything would.
	DenyAll bool
	// Faults make calls made in this account fail every time, for tests of what a sync
	// does when AWS keeps failing for one account: an operation name
	// ("GetAccountAuthorizationDetails", or "*" for every operation) maps to the fault
	// each of its calls gets. A call counts as made in the account when its caller's
	// credentials belong to it, and sts:AssumeRole when the role it assumes is there.
	Faults map[string]Fault
	// AccessJobs are the GenerateServiceLastAccessedDetails jobs, by JobId.
	AccessJobs map[string]*AccessJob
}

// Fault is a failure the simulator injects on purpose (see Account.Faults and
// Options.FaultRate).
type Fault string

const (
	// FaultServerError answers with the service's 500 error.
	FaultServerError Fault = "server-error"
	// FaultThrottle answers with the service's throttling error.
	FaultThrottle Fault = "throttle"
	// FaultDrop closes the connection without a response.
	FaultDrop Fault = "drop"
)

// Tag is an IAM or Identity Center tag.
type Tag struct {
	Key   string `yaml:"key" json:"Key"`
	Value string `yaml:"value" json:"Value"`
}

// User is an IAM user.
type User struct {
	Name       string
	ID         string
	Path       string
	ARN        string
	CreateDate time.Time
	Tags       []Tag
	// LoginProfile is nil when the user has no console password.
	LoginProfile     *LoginProfile
	PasswordLastUsed time.Time
	AttachedPolicies []string          // policy ARNs
	InlinePolicies   map[string]string // name -> JSON document
	AccessKeys       []*AccessKey
	// PermissionsBoundary is the ARN of the managed policy that caps the user's
	// permissions; "" when the user has none.
	PermissionsBoundary string
	// ServiceLastAccessed is when the user last used each service (by namespace), for
	// GetServiceLastAccessedDetails.
	ServiceLastAccessed map[string]time.Time
}

// LoginProfile is a console password.
type LoginProfile struct {
	CreateDate            time.Time
	PasswordResetRequired bool
}

// AccessKey is an IAM user's long-term access key.
type AccessKey struct {
	ID              string
	Secret          string
	UserName        string
	Status          string // Active or Inactive
	CreateDate      time.Time
	LastUsedDate    time.Time
	LastUsedService string
	LastUsedRegion  string
}

// Group is an IAM group.
type Group struct {
	Name             string
	ID               string
	Path             string
	ARN              string
	CreateDate       time.Time
	Members          []string // user names, in the order they were added
	AttachedPolicies []string
	InlinePolicies   map[string]string
}

// Role is an IAM role.
type Role struct {
	Name               string
	ID                 string
	Path               string
	ARN                string
	CreateDate         time.Time
	Description        string
	AssumeRolePolicy   string // JSON trust policy
	MaxSessionDuration int32
	Tags               []Tag
	AttachedPolicies   []string
	InlinePolicies     map[string]string
	LastUsedDate       time.Time
	LastUsedRegion     string
	// PermissionsBoundary is the ARN of the managed policy that caps the role's
	// permissions; "" when the role has none.
	PermissionsBoundary string
	// ServiceLastAccessed is when the role last used each service (by namespace), for
	// GetServiceLastAccessedDetails.
	ServiceLastAccessed map[string]time.Time
}

// Policy is a managed policy: customer-managed (in an account) or AWS-managed.
type Policy struct {
	Name           string
	ID             string
	Path           string
	ARN            string
	Description    string
	CreateDate     time.Time
	UpdateDate     time.Time
	DefaultVersion string
	Versions       []*PolicyVersion
}

// PolicyVersion is one version of a managed policy.
type PolicyVersion struct {
	ID         string // v1, v2, ...
	Document   string
	CreateDate time.Time
}

// Document returns the default version's document.
func (p *Policy) Document() string {
	for _, v := range p.Versions {
		if v.ID == p.DefaultVersion {
			return v.Document
		}
	}
	return ""
}

// MFADevice is a virtual MFA device, a hardware TOTP token or a FIDO security key (see
// AddFIDODevice).
type MFADevice struct {
	Serial     string
	Virtual    bool
	UserName   string // empty when unassigned
	EnableDate time.Time
}

// PasswordPolicy is an account's IAM password policy (GetAccountPasswordPolicy's
// fields; zero MaxPasswordAge and PasswordReusePrevention mean not set).
type PasswordPolicy struct {
	MinimumPasswordLength      int
	RequireSymbols             bool
	RequireNumbers             bool
	RequireUppercaseCharacters bool
	RequireLowercaseCharacters bool
	AllowUsersToChangePassword bool
	MaxPasswordAge             int
	PasswordReusePrevention    int
	HardExpiry                 bool
}

// RootUser is the root user's credentials. Its MFA device, when it has one, is in the
// account's MFADevices with UserName RootMFAUser (so GetAccountSummary counts it);
// AccessKeys are at most two.
type RootUser struct {
	PasswordLastUsed time.Time
	AccessKeys       []*AccessKey
}

// RootMFAUser is the UserName of the root user's MFA device in Account.MFADevices.
const RootMFAUser = "<root_account>"

// RootMFA is the root user's MFA device, or nil.
func (a *Account) RootMFA() *MFADevice {
	for _, serial := range sortedKeys(a.MFADevices) {
		if d := a.MFADevices[serial]; d.UserName == RootMFAUser {
			return d
		}
	}
	return nil
}

// SetRootMFA gives the root user an MFA device ("virtual" or "hardware") enabled at at,
// replacing the one it had; kind "" removes it.
func (a *Account) SetRootMFA(w *World, kind string, at time.Time) {
	if d := a.RootMFA(); d != nil {
		delete(a.MFADevices, d.Serial)
	}
	switch kind {
	case "virtual":
		d := &MFADevice{Serial: "arn:aws:iam::" + a.ID + ":mfa/root-account-mfa-device", Virtual: true, UserName: RootMFAUser, EnableDate: at}
		a.MFADevices[d.Serial] = d
	case "hardware":
		d := &MFADevice{Serial: "GAHT" + strings.ToUpper(w.hexID(8)), UserName: RootMFAUser, EnableDate: at}
		a.MFADevices[d.Serial] = d
	}
}

// CredentialReport tracks the asynchronous IAM credential report of one account.
type CredentialReport struct {
	RequestedAt time.Time // zero: never requested
	ReadyAt     time.Time
	Content     []byte
}

// Organization is an AWS Organization.
type Organization struct {
	ID       string
	ARN      string
	RootID   string
	RootName string
	// OUs by id.
	OUs map[string]*OU
	// DelegatedAdmins are member accounts allowed to call Organizations read APIs.
	DelegatedAdmins map[string]bool
}

// OU is an organizational unit.
type OU struct {
	ID       string
	ARN      string
	Name     string
	ParentID string
}

// SSOInstance is an IAM Identity Center instance with its identity store.
type SSOInstance struct {
	ARN             string
	IdentityStoreID string
	Region          string
	OwnerAccountID  string
	Name            string
	CreatedDate     time.Time

	PermissionSets []*PermissionSet
	// Provisioned[accountID][permissionSetARN] records permission sets provisioned to accounts.
	Provisioned map[string]map[string]bool
	Assignments []*Assignment
	Operations  []*AssignmentOperation
	// Provisionings are ProvisionPermissionSet requests; their Assignment carries only the
	// account (empty for ALL_PROVISIONED_ACCOUNTS) and the permission set.
	Provisionings []*AssignmentOperation
	// AssignmentDelay is how long an assignment creation or deletion stays IN_PROGRESS.
	AssignmentDelay time.Duration
	// AssignmentJitter is the most a single operation takes beyond AssignmentDelay
	// (deterministic per operation; see Options.AssignmentJitter).
	AssignmentJitter time.Duration
	// FailAssignments maps an account id to a failure reason: operations on it end FAILED.
	FailAssignments map[string]string

	Users       []*SSOUser
	Groups      []*SSOGroup
	Memberships []*Membership
}

// PermissionSet is an Identity Center permission set.
type PermissionSet struct {
	ARN              string
	Name             string
	Description      string
	SessionDuration  string // ISO 8601, e.g. PT1H
	RelayState       string
	CreatedDate      time.Time
	ManagedPolicies  []string // AWS-managed policy ARNs
	InlinePolicy     string
	CustomerPolicies []CustomerPolicyRef
	Tags             []Tag
}

// CustomerPolicyRef references a customer-managed policy by name and path in each account.
type CustomerPolicyRef struct {
	Name string
	Path string
}

// Assignment is an account assignment: a principal holds a permission set in an account.
type Assignment struct {
	AccountID        string
	PermissionSetARN string
	PrincipalType    string // USER or GROUP
	PrincipalID      string
}

// AssignmentOperation is an asynchronous creation or deletion of an assignment.
type AssignmentOperation struct {
	RequestID     string
	Delete        bool
	Assignment    Assignment
	Status        string // IN_PROGRESS, SUCCEEDED, FAILED
	FailureReason string
	CreatedDate   time.Time
	DoneAt        time.Time
}

// SSOUser is an identity store user.
type SSOUser struct {
	ID          string
	UserName    string
	DisplayName string
	GivenName   string
	FamilyName  string
	Email       string
	Active      bool // UserStatus ENABLED in the Identity Store API, active in SCIM
	ExternalID  string
	// Title is the core attribute title (User.Title in the Identity Store API).
	Title string
	// Enterprise holds the SCIM enterprise extension's attributes: the Identity Store
	// API returns them only to a ListUsers or DescribeUser that asks for the extension
	// aws:identitystore:enterprise.
	Enterprise Enterprise
}

// Enterprise is the enterprise extension of a user (RFC 7643 section 4.3): the manager,
// by the Identity Center user id of another user, and the organisation attributes.
type Enterprise struct {
	ManagerID      string
	EmployeeNumber string
	CostCenter     string
	Organization   string
	Division       string
	Department     string
}

// IsZero reports whether no enterprise attribute is set: AWS then leaves the extension
// out of the user even when asked for it.
func (e Enterprise) IsZero() bool { return e == Enterprise{} }

// SSOGroup is an identity store group.
type SSOGroup struct {
	ID          string
	DisplayName string
	Description string
}

// Membership is an identity store group membership.
type Membership struct {
	ID      string
	GroupID string
	UserID  string
}

// Bucket is an S3 bucket.
type Bucket struct {
	Name       string
	AccountID  string
	Region     string
	CreateDate time.Time
	Objects    map[string]*Object
	// Versioning is the bucket's versioning status: "" (never enabled), "Enabled" or
	// "Suspended" (see s3_versioning.go).
	Versioning string
}

// Object is an S3 object.
type Object struct {
	Key          string
	Data         []byte
	ETag         string // quoted hex MD5, as S3 returns it
	ContentType  string
	LastModified time.Time
	// VersionID is the object's version id: "" in a bucket whose versioning was never
	// enabled, "null" while it is suspended.
	VersionID string
	// ChecksumAlgorithm (CRC32, CRC32C, CRC64NVME, SHA1, SHA256) and Checksum (base64)
	// are the full-object checksum S3 keeps: the one the upload sent, or the CRC64NVME
	// S3 computes for an upload that sent none.
	ChecksumAlgorithm string
	Checksum          string
}

// Session is a set of temporary credentials issued by AssumeRole, or by the AWS access
// portal's GetRoleCredentials for an Identity Center user (see portal.go).
type Session struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	AccountID       string
	RoleName        string
	SessionName     string
	Expiration      time.Time
	// IssuedAt is when the credentials were issued: the request context's
	// aws:TokenIssueTime.
	IssuedAt time.Time
	// IdentityStoreUserID is the Identity Center user a permission set's role session
	// belongs to (its requests carry identitystore:UserId); empty for AssumeRole.
	IdentityStoreUserID string
	// PermissionSetARN is the permission set of an Identity Center role session.
	PermissionSetARN string
}

// Principal is the authenticated caller of a request.
type Principal struct {
	AccountID string
	// ARN is the caller's ARN as GetCallerIdentity reports it: a user ARN, an assumed-role
	// session ARN (arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION) or the account root.
	ARN string
	// UserID is the caller's unique id as GetCallerIdentity reports it.
	UserID string
	// User is set for an IAM user's long-term key.
	User *User
	// Role is set for an assumed-role session.
	Role *Role
	// Session is set for temporary credentials.
	Session *Session
	// Root is true for the account root user.
	Root bool
	// AccessKey is the access key id that signed the request.
	AccessKey string
}

// IdentityARN is the ARN that trust policies match: the user ARN, the role ARN for an
// assumed-role session, or the account root.
func (p *Principal) IdentityARN() string {
	switch {
	case p.Role != nil:
		return p.Role.ARN
	case p.User != nil:
		return p.User.ARN
	default:
		return "arn:aws:iam::" + p.AccountID + ":root"
	}
}

// Now is the world's clock.
func (w *World) Now() time.Time { return w.now().UTC().Truncate(time.Second) }

// nextSeq returns a new number for deterministic ids.
func (w *World) nextSeq() int64 { w.seq++; return w.seq }

// uniqueID returns an IAM-style unique id with the given prefix (AIDA, AGPA, AROA, ANPA,
// AKIA, ASIA): the prefix and 17 upper-case letters and digits.
func (w *World) uniqueID(prefix string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	n := uint64(w.nextSeq())*0x9E3779B97F4A7C15 ^ 0xC2B2AE3D27D4EB4F
	var b strings.Builder
	b.WriteString(prefix)
	for i := 0; i < 16; i++ {
		b.WriteByte(alphabet[n%32])
		n = n/32 ^ (n << 59) ^ uint64(i)*0x632BE59BD9B4E019
	}
	return b.String()
}

// hexID returns n lower-case hex characters, deterministic from the sequence.
func (w *World) hexID(n int) string {
	var b strings.Builder
	for b.Len() < n {
		x := uint64(w.nextSeq())*0x9E3779B97F4A7C15 ^ 0xD6E8FEB86659FD93
		x ^= x >> 31
		fmt.Fprintf(&b, "%016x", x)
	}
	return b.String()[:n]
}

// uuid returns a deterministic RFC 4122-shaped id.
func (w *World) uuid() string {
	h := w.hexID(32)
	return h[0:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:32]
}

// Account returns the account with the id, or nil.
func (w *World) Account(id string) *Account { return w.Accounts[id] }

// AccountIDs returns every account id in ascending order.
func (w *World) AccountIDs() []string { return sortedKeys(w.Accounts) }

// ManagementAccount returns the management account.
func (w *World) ManagementAccount() *Account { return w.Accounts[w.ManagementAccountID] }

// AddAccount creates an account with an empty IAM. In an organization the account is
// placed under parentID (the root when empty).
func (w *World) AddAccount(id, name, email string, parentID string) *Account {
	a := &Account{
		ID: id, Name: name, Email: email, Status: "ACTIVE",
		JoinedMethod: "CREATED", JoinedAt: w.Now(),
		Users: map[string]*User{}, Groups: map[string]*Group{}, Roles: map[string]*Role{},
		Policies: map[string]*Policy{}, MFADevices: map[string]*MFADevice{},
	}
	if w.Org != nil {
		if parentID == "" {
			parentID = w.Org.RootID
		}
		a.ParentID = parentID
	}
	if id == w.ManagementAccountID {
		a.JoinedMethod = "CREATED"
	}
	w.Accounts[id] = a
	return a
}

// AddUser creates an IAM user.
func (a *Account) AddUser(w *World, name, path string) *User {
	path = normPath(path)
	u := &User{Name: name, Path: path, ID: w.uniqueID("AIDA"), CreateDate: w.Now(),
		ARN: "arn:aws:iam::" + a.ID + ":user" + path + name, InlinePolicies: map[string]string{}}
	a.Users[name] = u
	return u
}

// AddGroup creates an IAM group.
func (a *Account) AddGroup(w *World, name, path string) *Group {
	path = normPath(path)
	g := &Group{Name: name, Path: path, ID: w.uniqueID("AGPA"), CreateDate: w.Now(),
		ARN: "arn:aws:iam::" + a.ID + ":group" + path + name, InlinePolicies: map[string]string{}}
	a.Groups[name] = g
	return g
}

// AddRole creates an IAM role with the trust policy.
func (a *Account) AddRole(w *World, name, path, trustPolicy string) *Role {
	path = normPath(path)
	r := &Role{Name: name, Path: path, ID: w.uniqueID("AROA"), CreateDate: w.Now(),
		ARN:              "arn:aws:iam::" + a.ID + ":role" + path + name,
		AssumeRolePolicy: trustPolicy, MaxSessionDuration: 3600, InlinePolicies: map[string]string{}}
	a.Roles[name] = r
	return r
}

// AddPolicy creates a customer-managed policy with one version.
func (a *Account) AddPolicy(w *World, name, path, document string) *Policy {
	path = normPath(path)
	now := w.Now()
	p := &Policy{Name: name, Path: path, ID: w.uniqueID("ANPA"), CreateDate: now, UpdateDate: now,
		ARN: "arn:aws:iam::" + a.ID + ":policy" + path + name, DefaultVersion: "v1",
		Versions: []*PolicyVersion{{ID: "v1", Document: document, CreateDate: now}}}
	a.Policies[p.ARN] = p
	return p
}

// AddAccessKey creates an access key for the user.
func (a *Account) AddAccessKey(w *World, u *User) *AccessKey {
	k := &AccessKey{ID: w.uniqueID("AKIA"), Secret: w.hexID(40), UserName: u.Name, Status: "Active", CreateDate: w.Now()}
	u.AccessKeys = append(u.AccessKeys, k)
	return k
}

// AddMFADevice creates an MFA device enabled for the user (virtual or hardware).
func (a *Account) AddMFADevice(w *World, u *User, virtual bool) *MFADevice {
	d := &MFADevice{Virtual: virtual, UserName: u.Name, EnableDate: w.Now()}
	if virtual {
		d.Serial = "arn:aws:iam::" + a.ID + ":mfa/" + u.Name
		if _, taken := a.MFADevices[d.Serial]; taken {
			d.Serial += "-" + w.hexID(4)
		}
	} else {
		d.Serial = "GAHT" + strings.ToUpper(w.hexID(8))
	}
	a.MFADevices[d.Serial] = d
	return d
}

// AddFIDODevice registers a FIDO security key for the user. IAM names it with an ARN of
// the u2f resource type, which is how its serial differs from a hardware TOTP token's;
// like a hardware token, only ListMFADevices shows it.
func (a *Account) AddFIDODevice(w *World, u *User) *MFADevice {
	d := &MFADevice{UserName: u.Name, EnableDate: w.Now()}
	d.Serial = "arn:aws:iam::" + a.ID + ":u2f/user/" + u.Name + "/fidosecuritykey-" + strings.ToUpper(w.hexID(26))
	a.MFADevices[d.Serial] = d
	return d
}

// AddUserToGroup adds the user to the group unless it is already a member.
func (g *Group) AddUserToGroup(userName string) {
	for _, m := range g.Members {
		if m == userName {
			return
		}
	}
	g.Members = append(g.Members, userName)
}

// GroupsOf returns the groups the user belongs to, by name.
func (a *Account) GroupsOf(userName string) []*Group {
	var out []*Group
	for _, name := range sortedKeys(a.Groups) {
		g := a.Groups[name]
		for _, m := range g.Members {
			if m == userName {
				out = append(out, g)
				break
			}
		}
	}
	return out
}

// MFAOf returns the MFA devices enabled for the user.
func (a *Account) MFAOf(userName string) []*MFADevice {
	var out []*MFADevice
	for _, serial := range sortedKeys(a.MFADevices) {
		if d := a.MFADevices[serial]; d.UserName == userName {
			out = append(out, d)
		}
	}
	return out
}

// Policy returns the managed policy with the ARN: customer-managed in this account or
// AWS-managed.
func (w *World) Policy(a *Account, arn string) *Policy {
	if p, ok := a.Policies[arn]; ok {
		return p
	}
	return w.AWSManagedPolicies[arn]
}

// AttachmentCount counts the users, groups and roles of the account the policy is attached to.
func (a *Account) AttachmentCount(arn string) int {
	n := 0
	for _, u := range a.Users {
		n += countOf(u.AttachedPolicies, arn)
	}
	for _, g := range a.Groups {
		n += countOf(g.AttachedPolicies, arn)
	}
	for _, r := range a.Roles {
		n += countOf(r.AttachedPolicies, arn)
	}
	return n
}

// BoundaryUsageCount counts the users and roles of the account whose permissions boundary
// is the policy (AWS's PermissionsBoundaryUsageCount).
func (a *Account) BoundaryUsageCount(arn string) int {
	n := 0
	for _, u := range a.Users {
		if u.PermissionsBoundary == arn {
			n++
		}
	}
	for _, r := range a.Roles {
		if r.PermissionsBoundary == arn {
			n++
		}
	}
	return n
}

// UserByAccessKey finds the account and user owning a long-term access key.
func (w *World) UserByAccessKey(id string) (*Account, *User, *AccessKey) {
	for _, a := range w.Accounts {
		for _, u := range a.Users {
			for _, k := range u.AccessKeys {
				if k.ID == id {
					return a, u, k
				}
			}
		}
	}
	return nil, nil, nil
}

// Organization helpers.

// AddOU creates an organizational unit under parentID (root or OU).
func (w *World) AddOU(name, parentID string) *OU {
	id := "ou-" + w.Org.RootID[2:] + "-" + w.hexID(8)
	ou := &OU{ID: id, Name: name, ParentID: parentID,
		ARN: "arn:aws:organizations::" + w.ManagementAccountID + ":ou/" + w.Org.ID + "/" + id}
	w.Org.OUs[id] = ou
	return ou
}

// EnableOrganization creates an organization owned by the management account.
func (w *World) EnableOrganization() *Organization {
	id := "o-" + w.hexID(10)
	root := "r-" + w.hexID(4)
	w.Org = &Organization{ID: id, ARN: "arn:aws:organizations::" + w.ManagementAccountID + ":organization/" + id,
		RootID: root, RootName: "Root", OUs: map[string]*OU{}, DelegatedAdmins: map[string]bool{}}
	for _, a := range w.Accounts {
		if a.ParentID == "" {
			a.ParentID = root
		}
	}
	return w.Org
}

// RootARN returns the ARN of the organization root.
func (o *Organization) RootARN(mgmt string) string {
	return "arn:aws:organizations::" + mgmt + ":root/" + o.ID + "/" + o.RootID
}

// AccountARN returns the organizations ARN of an account.
func (w *World) AccountARN(id string) string {
	return "arn:aws:organizations::" + w.ManagementAccountID + ":account/" + w.Org.ID + "/" + id
}

// Identity Center helpers.

// EnableIdentityCenter creates the Identity Center instance in the management account.
func (w *World) EnableIdentityCenter(region string) *SSOInstance {
	if region == "" {
		region = w.Region
	}
	w.SSO = &SSOInstance{
		ARN:             "arn:aws:sso:::instance/ssoins-" + w.hexID(16),
		IdentityStoreID: "d-" + w.hexID(10),
		Region:          region, OwnerAccountID: w.ManagementAccountID, CreatedDate: w.Now(),
		Provisioned: map[string]map[string]bool{}, FailAssignments: map[string]string{},
	}
	return w.SSO
}

// AddPermissionSet creates a permission set.
func (w *World) AddPermissionSet(name, description, sessionDuration string) *PermissionSet {
	if sessionDuration == "" {
		sessionDuration = "PT1H"
	}
	ps := &PermissionSet{Name: name, Description: description, SessionDuration: sessionDuration,
		CreatedDate: w.Now(),
		ARN:         "arn:aws:sso:::permissionSet/" + strings.TrimPrefix(w.SSO.ARN, "arn:aws:sso:::instance/") + "/ps-" + w.hexID(16)}
	w.SSO.PermissionSets = append(w.SSO.PermissionSets, ps)
	return ps
}

// PermissionSet returns the permission set with the ARN, or nil.
func (s *SSOInstance) PermissionSet(arn string) *PermissionSet {
	for _, ps := range s.PermissionSets {
		if ps.ARN == arn {
			return ps
		}
	}
	return nil
}

// AddSSOUser creates an identity store user.
func (w *World) AddSSOUser(userName, given, family, email string) *SSOUser {
	u := &SSOUser{ID: w.ssoPrincipalID(), UserName: userName, GivenName: given, FamilyName: family,
		DisplayName: strings.TrimSpace(given + " " + family), Email: email, Active: true}
	w.SSO.Users = append(w.SSO.Users, u)
	return u
}

// AddSSOGroup creates an identity store group.
func (w *World) AddSSOGroup(name, description string) *SSOGroup {
	g := &SSOGroup{ID: w.ssoPrincipalID(), DisplayName: name, Description: description}
	w.SSO.Groups = append(w.SSO.Groups, g)
	return g
}

// AddMembership adds a user to an identity store group (no-op when already a member).
func (w *World) AddMembership(groupID, userID string) *Membership {
	for _, m := range w.SSO.Memberships {
		if m.GroupID == groupID && m.UserID == userID {
			return m
		}
	}
	m := &Membership{ID: w.uuid(), GroupID: groupID, UserID: userID}
	w.SSO.Memberships = append(w.SSO.Memberships, m)
	return m
}

// ssoPrincipalID returns an identity store id: a 10-hex prefix, a dash and a UUID.
func (w *World) ssoPrincipalID() string { return w.hexID(10) + "-" + w.uuid() }

// SSOUser returns the identity store user with the id, or nil.
func (s *SSOInstance) SSOUser(id string) *SSOUser {
	for _, u := range s.Users {
		if u.ID == id {
			return u
		}
	}
	return nil
}

// SSOGroup returns the identity store group with the id, or nil.
func (s *SSOInstance) SSOGroup(id string) *SSOGroup {
	for _, g := range s.Groups {
		if g.ID == id {
			return g
		}
	}
	return nil
}

// AddAssignment records an assignment immediately (out of band, as if made in the console
// long ago), provisioning the permission set to the account.
func (w *World) AddAssignment(accountID, psARN, principalType, principalID string) {
	asg := Assignment{AccountID: accountID, PermissionSetARN: psARN, PrincipalType: principalType, PrincipalID: principalID}
	if w.SSO.HasAssignment(asg) {
		return
	}
	w.ProvisionPermissionSet(accountID, psARN)
	w.SSO.Assignments = append(w.SSO.Assignments, &asg)
}

// HasAssignment reports whether the assignment exists.
func (s *SSOInstance) HasAssignment(a Assignment) bool {
	for _, x := range s.Assignments {
		if *x == a {
			return true
		}
	}
	return false
}

// ProvisionPermissionSet provisions the permission set to the account: it records the
// provisioning and creates the AWSReservedSSO_ role in the account, as Identity Center does.
func (w *World) ProvisionPermissionSet(accountID, psARN string) {
	if w.SSO.Provisioned[accountID] == nil {
		w.SSO.Provisioned[accountID] = map[string]bool{}
	}
	if w.SSO.Provisioned[accountID][psARN] {
		return
	}
	w.SSO.Provisioned[accountID][psARN] = true
	a := w.Accounts[accountID]
	ps := w.SSO.PermissionSet(psARN)
	if a == nil || ps == nil {
		return
	}
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::` + a.ID +
		`:saml-provider/AWSSSO_` + w.hexID(16) + `_DO_NOT_DELETE"},"Action":["sts:AssumeRoleWithSAML","sts:TagSession"],"Condition":{"StringEquals":{"SAML:aud":"https://signin.aws.amazon.com/saml"}}}]}`
	r := a.AddRole(w, ReservedSSORoleName(ps.Name, psARN), "/aws-reserved/sso.amazonaws.com/"+w.SSO.Region+"/", trust)
	r.Description = ""
	r.AttachedPolicies = append(r.AttachedPolicies, ps.ManagedPolicies...)
	if ps.InlinePolicy != "" {
		r.InlinePolicies["AwsSSOInlinePolicy"] = ps.InlinePolicy
	}
	r.MaxSessionDuration = int32(isoDurationSeconds(ps.SessionDuration))
}

// ReservedSSORoleName is the name of the role Identity Center creates for a permission set
// in each account: AWSReservedSSO_<name>_<16 hex>. The suffix is derived from the permission
// set ARN so that it is the same in every account, as in AWS.
func ReservedSSORoleName(psName, psARN string) string {
	var h uint64 = 1469598103934665603
	for i := 0; i < len(psARN); i++ {
		h ^= uint64(psARN[i])
		h *= 1099511628211
	}
	return fmt.Sprintf("AWSReservedSSO_%s_%016x", psName, h)
}

// isoDurationSeconds parses the subset of ISO 8601 durations permission sets use (PT#H#M).
func isoDurationSeconds(d string) int {
	d = strings.TrimPrefix(d, "PT")
	total, n := 0, 0
	for _, c := range d {
		switch {
		case c >= '0' && c <= '9':
			n = n*10 + int(c-'0')
		case c == 'H':
			total, n = total+n*3600, 0
		case c == 'M':
			total, n = total+n*60, 0
		case c == 'S':
			total, n = total+n, 0
		}
	}
	if total == 0 {
		return 3600
	}
	return total
}

// normPath returns an IAM path that starts and ends with "/".
func normPath(p string) string {
	if p == "" {
		return "/"
	}
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	if !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func countOf(list []string, s string) int {
	n := 0
	for _, x := range list {
		if x == s {
			n++
		}
	}
	return n
}
