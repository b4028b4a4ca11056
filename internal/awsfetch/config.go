// Package awsfetch fetches an AWS organization's inventory in bulk.
//
// It owns everything that talks to AWS for a sync: credentials (the standard chain, an
// optional connector role with an External ID, and a role assumed in each member
// account), client-side pacing per service and quota scope, retries, call statistics,
// and the bulk fetchers (Organizations tree, GetAccountAuthorizationDetails, the IAM
// credential report, Identity Center, SCIM). Fetch returns a plain-data
// inventory.Snapshot; nothing downstream sees an SDK type.
//
// The cost of a sync is set by AWS's rate limits, so the package makes as few calls as
// the APIs allow (bulk calls, maximum page sizes, the cheaper of two ways to list
// Identity Center assignments) and keeps every service busy up to its quota while
// accounts are fetched in parallel.
package awsfetch

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/internal/awsperms"
)

// DefaultMemberRoleName is the read-only member role that `gatehouse setup aws --orgs`
// creates in every member account (GatehouseMember, with the GatehouseMemberAccess
// policy). OrganizationAccountAccessRole, which has AdministratorAccess, is used only
// when named explicitly.
const DefaultMemberRoleName = awsperms.DefaultMemberRoleName

// DefaultSessionName is the role session name of a sync.
const DefaultSessionName = "gatehouse-sync"

// DefaultCredentialExpiryWindow is Config.CredentialExpiryWindow's default: it covers a
// clock running minutes behind AWS's and the time one call spends in retries, and stays
// well below the shortest session STS issues (15 minutes).
const DefaultCredentialExpiryWindow = 5 * time.Minute

// credentialExpiryJitter is the share of the window taken off at random.
const credentialExpiryJitter = 0.2

// DefaultConcurrency is how many accounts are fetched at once by default. IAM quotas are
// per account, so parallel accounts do not compete with each other; the bound keeps
// memory, connections and STS calls reasonable for organizations with thousands of
// accounts.
const DefaultConcurrency = 32

// Config says what to fetch and how to reach AWS. The zero value (plus credentials in
// the environment) fetches the IAM of the caller's own account.
type Config struct {
	// Region is the region for regional clients (STS, Organizations). Empty: the standard
	// chain (AWS_REGION, the profile), then us-east-1.
	Region string
	// Profile is the shared configuration profile to load (credentials, region, role),
	// as the AWS CLI's --profile: it wins over AWS_PROFILE. Empty: AWS_PROFILE, then the
	// default profile.
	Profile string
	// EndpointURL points every client at another endpoint, such as the simulator.
	// AWS_ENDPOINT_URL (and AWS_ENDPOINT_URL_<SERVICE>) are honoured as well, through the
	// SDK's standard configuration loading.
	EndpointURL string

	// RoleARN, when set, is assumed (with ExternalID when set) from the standard credential
	// chain and becomes the connector's identity for everything that follows.
	RoleARN    string
	ExternalID string

	// SessionName names the role sessions (connector and member roles) in CloudTrail
	// (DefaultSessionName when empty). Provisioning uses its own name, so that changes
	// are told apart from reads in the audit trail.
	SessionName string

	// Orgs lists the organization's accounts and fetches each one's IAM.
	Orgs bool
	// MemberRoleName is the role assumed in each member account (DefaultMemberRoleName
	// when empty). It may carry a path: "path/Name".
	MemberRoleName string
	// MemberExternalID is passed when assuming MemberRoleName.
	MemberExternalID string

	// IdentityCenter fetches IAM Identity Center (SSO Admin and Identity Store) from
	// IdentityCenterRegion (Region when empty).
	IdentityCenter       bool
	IdentityCenterRegion string

	// SyncSecrets fetches access key metadata: ListAccessKeys per user, and the last use
	// from the credential report, or GetAccessKeyLastUsed for the keys it does not hold
	// (created after it). Secret values are never read.
	SyncSecrets bool

	// SCIMEndpoint and SCIMToken, when both set, read each Identity Center user's active
	// status from the Identity Center SCIM API.
	SCIMEndpoint string
	SCIMToken    string

	// AllowPartial returns a snapshot even when ACTIVE accounts had to be skipped
	// (their role cannot be assumed, or they deny a read). Without it such a fetch fails
	// with a *PartialError, so that a file missing their IAM never replaces a complete
	// one. Accounts that are not ACTIVE are skipped either way.
	AllowPartial bool

	// Concurrency is how many accounts are fetched in parallel (DefaultConcurrency when 0).
	Concurrency int

	// Quotas override the client-side pace of a bucket (keys as in DefaultQuotas); buckets
	// not named keep their defaults.
	Quotas Quotas

	// Progress, when set, is called each time an account is done (synced or skipped).
	Progress func(done, total int)
	// Live, when set, counts calls and throttles while the fetch runs, for a progress line.
	Live *Live
	// Logger receives progress and decisions; nil logs nothing.
	Logger *zap.Logger

	// Credentials, when set, replace the standard credential chain as the source identity
	// (RoleARN is still assumed from it). For embedding callers and tests.
	Credentials aws.CredentialsProvider

	// MaxAttempts is how many times one call is tried before its error is reported
	// (default 10). Throttling and 5xx errors and dropped connections are retried with
	// jittered exponential backoff up to MaxBackoff (default 20s).
	MaxAttempts int
	MaxBackoff  time.Duration

	// CredentialExpiryWindow is how long before they expire assumed-role credentials (the
	// connector role's, the member roles') and the standard chain's temporary credentials
	// are renewed (default 5 minutes, less up to a fifth of it at random so that the
	// accounts of a sync do not all renew at once). A clock behind AWS's, or a call
	// retried with the credentials it started with, would otherwise present credentials
	// AWS already considers expired: ExpiredToken in the middle of a long sync.
	CredentialExpiryWindow time.Duration

	// CredentialReportPoll is the first wait between polls of GenerateCredentialReport
	// (default 2s, about what IAM takes for a small account; it grows to 10s). CredentialReportTimeout bounds the wait for one
	// account's report (default 5m); past it the account keeps its IAM and records
	// CredentialReportError.
	CredentialReportPoll    time.Duration
	CredentialReportTimeout time.Duration

	// LastAccess, when set, reads the users' and roles' service last accessed details on
	// a budget (lastaccess.go): jobs started in one sync, collected in a later one.
	LastAccess *LastAccessPlan

	// AssignmentStrategy forces how Identity Center assignments are listed. Empty chooses
	// whichever needs fewer calls for this organization.
	AssignmentStrategy AssignmentStrategy
}

// AssignmentStrategy is a way to list Identity Center account assignments.
type AssignmentStrategy string

const (
	// ByAccount calls ListAccountAssignments once per provisioned (account, permission
	// set) pair.
	ByAccount AssignmentStrategy = "ListAccountAssignments"
	// ByPrincipal calls ListAccountAssignmentsForPrincipal once per user and group.
	ByPrincipal AssignmentStrategy = "ListAccountAssignmentsForPrincipal"
)

// withDefaults returns the config with defaults filled in, or an error for a config that
// cannot work.
func (c Config) withDefaults() (Config, error) {
	if c.MemberRoleName == "" {
		c.MemberRoleName = DefaultMemberRoleName
	}
	c.MemberRoleName = strings.TrimPrefix(c.MemberRoleName, "/")
	if c.SessionName == "" {
		c.SessionName = DefaultSessionName
	}
	if c.Concurrency <= 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 10
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 20 * time.Second
	}
	if c.CredentialExpiryWindow <= 0 {
		c.CredentialExpiryWindow = DefaultCredentialExpiryWindow
	}
	if c.CredentialReportPoll <= 0 {
		c.CredentialReportPoll = 2 * time.Second
	}
	if c.CredentialReportTimeout <= 0 {
		c.CredentialReportTimeout = 5 * time.Minute
	}
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
	c.Quotas = DefaultQuotas().merge(c.Quotas)

	var problems []string
	if c.ExternalID != "" && c.RoleARN == "" {
		problems = append(problems, "an External ID needs a role ARN to assume")
	}
	if c.RoleARN != "" && !strings.HasPrefix(c.RoleARN, "arn:") {
		problems = append(problems, fmt.Sprintf("role ARN %q is not an ARN (arn:aws:iam::ACCOUNT:role/NAME)", c.RoleARN))
	}
	if (c.SCIMEndpoint == "") != (c.SCIMToken == "") {
		problems = append(problems, "the SCIM endpoint and the SCIM token go together: set both or neither")
	}
	if c.SCIMEndpoint != "" && !c.IdentityCenter {
		problems = append(problems, "SCIM user status needs Identity Center to be fetched as well")
	}
	switch c.AssignmentStrategy {
	case "", ByAccount, ByPrincipal:
	default:
		problems = append(problems, fmt.Sprintf("unknown assignment strategy %q (use %s or %s)", c.AssignmentStrategy, ByAccount, ByPrincipal))
	}
	if len(problems) > 0 {
		return c, errors.New("invalid AWS fetch configuration: " + strings.Join(problems, "; "))
	}
	return c, nil
}

// scimEnabled reports whether SCIM status is to be read.
func (c Config) scimEnabled() bool { return c.SCIMEndpoint != "" && c.SCIMToken != "" }
