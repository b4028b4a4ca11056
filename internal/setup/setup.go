// Package setup generates what an administrator needs to connect Gatehouse to an AWS
// organization (`gatehouse setup aws`): the connector role's trust policy with its
// External ID, the least-privilege permissions policy for exactly the chosen features,
// the member-account role and its policy, Terraform and CloudFormation (with a
// service-managed StackSet for the member role) that create them, and the commands to
// run afterwards. The permissions come from internal/awsperms, the list the connector
// and `gatehouse doctor` use too.
//
// Everything here is a pure function of Options, so the output is reviewable in golden
// files; the External ID's state file and the caller's identity are the only inputs
// from outside, and the command resolves them before calling Generate.
package setup

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/gatehouse/gatehouse/internal/awsperms"
)

// Defaults.
const (
	// DefaultRoleName is the connector role's name.
	DefaultRoleName = "GatehouseConnector"
	// DefaultRegion is where the StackSet instances go: the member role is global (IAM),
	// so one region is enough, and us-east-1 is where IAM itself lives.
	DefaultRegion = "us-east-1"
	// OrganizationAccessRole is the role AWS Organizations creates, with
	// AdministratorAccess, in accounts created in the organization. Setup never creates
	// it; naming it with --member-role-name is an explicit opt-in, with a warning.
	OrganizationAccessRole = awsperms.OrganizationAccessRole
	// DefaultMemberRoleName is the read-only role setup creates in every member account
	// with --orgs; it is also what gatehouse sync assumes there by default.
	DefaultMemberRoleName = awsperms.DefaultMemberRoleName
	// StackSetName is the name of the StackSet that creates the member role.
	StackSetName = "gatehouse-member-role"
	// ConnectorPolicyName and MemberPolicyName are the inline policies' names.
	ConnectorPolicyName = "GatehouseConnectorAccess"
	MemberPolicyName    = awsperms.MemberPolicyName
)

// MissingOrgID is the error for --orgs without an organization id.
const MissingOrgID = "--orgs needs the organization's id, so that the connector role may assume the member role only in the organization's accounts (condition aws:ResourceOrgID): pass --org-id o-... (aws organizations describe-organization --query Organization.Id --output text prints it), or run setup with credentials of an account of the organization to read it"

// Options say what to generate.
type Options struct {
	// Features are the features the role must support.
	Features awsperms.Set
	// RoleName is the connector role's name (DefaultRoleName when empty).
	RoleName string
	// MemberRoleName is the role Gatehouse assumes in every member account (needs
	// Features.Orgs; DefaultMemberRoleName when empty), created by the generated
	// templates with the least-privilege member policy. OrganizationAccessRole is the
	// exception: it already exists (with AdministratorAccess) and is only named, never
	// created; Bundle.Warning then says why that is not least privilege.
	MemberRoleName string
	// OrgID is the organization's id (o-...), required with Features.Orgs: the
	// connector's policy allows sts:AssumeRole on the member role only in accounts of
	// that organization (condition aws:ResourceOrgID).
	OrgID string
	// TrustedPrincipal is the IAM user or role (or account root) that assumes the
	// connector role: the identity Gatehouse runs as.
	TrustedPrincipal string
	// AccountID is the account the connector role is created in (default: the trusted
	// principal's account).
	AccountID string
	// ExternalID is required by the trust policy.
	ExternalID string
	// Region is passed to gatehouse sync and is where the StackSet instances go
	// (DefaultRegion when empty).
	Region string
	// IdentityCenterRegion, when set, is passed to gatehouse sync.
	IdentityCenterRegion string
	// Profile and EndpointURL, when set, are how setup reached AWS (--profile,
	// --endpoint-url); the commands it prints carry them, so that they work as printed.
	Profile, EndpointURL string
}

// Bundle is everything Generate produces, before it is written in a format.
type Bundle struct {
	Options
	// Partition is the ARN partition, from the trusted principal.
	Partition string
	// ConnectorRoleARN is the ARN the connector role will have.
	ConnectorRoleARN string
	// Trust and Permissions are the connector role's policies.
	Trust, Permissions awsperms.Policy
	// MemberTrust and MemberPermissions are the member role's policies; nil without
	// a member role to create.
	MemberTrust, MemberPermissions *awsperms.Policy
	// MemberNeeds is what the member role must allow even when it is not created here
	// (OrganizationAccountAccessRole already allows it); nil without --orgs.
	MemberNeeds *awsperms.Policy
	// Warning, when set, is to be shown on stderr whatever the output format: member
	// accounts are entered through OrganizationAccountAccessRole.
	Warning string
}

var (
	externalIDPattern = regexp.MustCompile(`^[\w+=,.@:/-]+$`)
	roleNamePattern   = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	pathPartPattern   = regexp.MustCompile(`^[\x21-\x7E]{1,512}$`)
	accountIDPattern  = regexp.MustCompile(`^\d{12}$`)
	orgIDPattern      = regexp.MustCompile(`^o-[a-z0-9]{10,32}$`)
	principalPattern  = regexp.MustCompile(`^arn:(aws[a-z-]*):(iam|sts)::(\d{12}):(.+)$`)
)

// NormalizePrincipal turns what a person may pass as the trusted principal into what a
// trust policy can name, with a note when it changed or has consequences:
//   - an IAM user or role ARN is kept;
//   - an STS assumed-role ARN (what `aws sts get-caller-identity` prints for a role
//     session) becomes its role's ARN, since a session cannot be a principal;
//   - an account id or root ARN trusts every principal of that account that its own
//     policies allow to assume the role.
func NormalizePrincipal(s string) (arn, note string, err error) {
	if accountIDPattern.MatchString(s) {
		return "arn:aws:iam::" + s + ":root", "the whole account " + s + " is trusted: any of its users and roles whose policies allow sts:AssumeRole on the role may assume it", nil
	}
	m := principalPattern.FindStringSubmatch(s)
	if m == nil {
		return "", "", fmt.Errorf("--trusted-principal must be an IAM user or role ARN (arn:aws:iam::123456789012:role/NAME), got %q", s)
	}
	partition, service, account, resource := m[1], m[2], m[3], m[4]
	iam := "arn:" + partition + ":iam::" + account + ":"
	switch {
	case service == "iam" && resource == "root":
		return s, "the whole account " + account + " is trusted: any of its users and roles whose policies allow sts:AssumeRole on the role may assume it", nil
	case service == "iam" && (strings.HasPrefix(resource, "user/") || strings.HasPrefix(resource, "role/")):
		return s, "", nil
	case service == "sts" && strings.HasPrefix(resource, "assumed-role/"):
		parts := strings.Split(resource, "/")
		if len(parts) >= 2 && parts[1] != "" {
			return iam + "role/" + parts[1], "the role session " + s + " was turned into its role; if the role has a path, pass --trusted-principal with its full ARN", nil
		}
	}
	return "", "", fmt.Errorf("--trusted-principal must be an IAM user or role ARN (arn:aws:iam::123456789012:role/NAME), got %q", s)
}

// Validate checks the options and fills in defaults. Its errors name the flags of
// `gatehouse setup aws` and say what to do. An empty TrustedPrincipal or ExternalID
// passes (the command resolves them afterwards); Generate requires both.
func (o *Options) Validate() error {
	if o.RoleName == "" {
		o.RoleName = DefaultRoleName
	}
	if o.Region == "" {
		o.Region = DefaultRegion
	}
	switch {
	case !roleNamePattern.MatchString(o.RoleName):
		return fmt.Errorf("--role-name must be 1 to 64 letters, digits and +=,.@_-, got %q", o.RoleName)
	case o.MemberRoleName != "" && !o.Features.Orgs:
		return fmt.Errorf("--member-role-name names the role created in every member account; it needs --orgs")
	case o.OrgID != "" && !o.Features.Orgs:
		return fmt.Errorf("--org-id limits entering member accounts to the organization; it needs --orgs")
	case o.OrgID != "" && !orgIDPattern.MatchString(o.OrgID):
		return fmt.Errorf("--org-id must be an organization id, o- and 10 to 32 lowercase letters or digits (aws organizations describe-organization --query Organization.Id), got %q", o.OrgID)
	case o.Features.SCIM && !o.Features.IdentityCenter:
		return fmt.Errorf("--scim reads Identity Center user status; add --identity-center")
	case o.ExternalID != "" && (len(o.ExternalID) < 2 || len(o.ExternalID) > 1224 || !externalIDPattern.MatchString(o.ExternalID)):
		return fmt.Errorf("--external-id must be 2 to 1224 letters, digits and +=,.@:/-_, got %q", o.ExternalID)
	case o.AccountID != "" && !accountIDPattern.MatchString(o.AccountID):
		return fmt.Errorf("--account-id must be the 12 digits of the account the role is created in, got %q", o.AccountID)
	}
	if o.Features.Orgs && o.MemberRoleName == "" {
		o.MemberRoleName = DefaultMemberRoleName
	}
	if o.MemberRoleName != "" {
		if err := checkMemberRoleName(o.MemberRoleName); err != nil {
			return err
		}
	}
	if o.TrustedPrincipal == "" {
		// The command finds the caller's identity after this check, which is cheap.
		return nil
	}
	arn, _, err := NormalizePrincipal(o.TrustedPrincipal)
	if err != nil {
		return err
	}
	o.TrustedPrincipal = arn
	if o.AccountID == "" {
		o.AccountID = principalPattern.FindStringSubmatch(arn)[3]
	}
	return nil
}

// checkMemberRoleName accepts "Name" or "path/Name", as awsfetch does.
func checkMemberRoleName(s string) error {
	path, name := "", s
	if i := strings.LastIndex(s, "/"); i >= 0 {
		path, name = s[:i], s[i+1:]
	}
	if !roleNamePattern.MatchString(name) || (path != "" && !pathPartPattern.MatchString(path)) || strings.HasPrefix(s, "/") {
		return fmt.Errorf("--member-role-name must be a role name (1 to 64 letters, digits and +=,.@_-), optionally after a path (path/Name), got %q", s)
	}
	return nil
}

// Generate builds the policies for the options.
func Generate(o Options) (*Bundle, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	switch {
	case o.TrustedPrincipal == "":
		return nil, fmt.Errorf("no trusted principal: pass --trusted-principal with the ARN of the IAM user or role Gatehouse runs as")
	case o.ExternalID == "":
		return nil, fmt.Errorf("no External ID: pass --external-id, or let setup generate one")
	case o.Features.Orgs && o.OrgID == "":
		return nil, fmt.Errorf(MissingOrgID)
	}
	partition := principalPattern.FindStringSubmatch(o.TrustedPrincipal)[1]
	b := &Bundle{Options: o, Partition: partition}
	b.ConnectorRoleARN = "arn:" + partition + ":iam::" + o.AccountID + ":role/" + o.RoleName

	names := awsperms.Names{Partition: partition, ConnectorRole: o.RoleName, MemberRole: o.MemberRoleName, OrgID: o.OrgID}
	b.Trust = awsperms.Policy{Version: awsperms.PolicyVersion, Statement: []awsperms.Statement{{
		Sid: "TrustGatehouse", Effect: "Allow",
		Principal: map[string]any{"AWS": o.TrustedPrincipal},
		Action:    awsperms.Strings{"sts:AssumeRole"},
		// The External ID is the defence against the confused deputy: only a caller that
		// knows it can make Gatehouse's principal act in this account.
		Condition: awsperms.Conditions{"StringEquals": {"sts:ExternalId": {o.ExternalID}}},
	}}}
	b.Permissions = awsperms.PolicyFor(o.Features, awsperms.Connector, names)
	if o.Features.Orgs {
		needs := awsperms.PolicyFor(o.Features, awsperms.Member, names)
		b.MemberNeeds = &needs
	}
	if o.Features.Orgs && o.MemberRoleName == OrganizationAccessRole {
		b.Warning = awsperms.OrganizationAccessRoleWarning + "; setup does not create it and generates no member role"
	}
	if o.Features.Orgs && o.MemberRoleName != OrganizationAccessRole {
		// The member role trusts the connector role itself, not its account: nothing
		// else in the management account can enter member accounts through it. No
		// External ID: the principal is Gatehouse's own role, not a third party.
		trust := b.MemberTrustFor(b.ConnectorRoleARN)
		b.MemberTrust = &trust
		b.MemberPermissions = b.MemberNeeds
	}
	return b, nil
}

// MemberTrustFor returns the member role's trust policy naming the connector role; the
// value is any so that CloudFormation can pass an intrinsic function.
func (b *Bundle) MemberTrustFor(connectorRole any) awsperms.Policy {
	return awsperms.Policy{Version: awsperms.PolicyVersion, Statement: []awsperms.Statement{{
		Sid: "TrustGatehouseConnector", Effect: "Allow",
		Principal: map[string]any{"AWS": connectorRole},
		Action:    awsperms.Strings{"sts:AssumeRole"},
	}}}
}

// FeatureList names the chosen features for people ("sync, --orgs, ...").
func (b *Bundle) FeatureList() string {
	var out []string
	for _, f := range b.Features.List() {
		if f == awsperms.Sync {
			out = append(out, "sync")
			continue
		}
		out = append(out, awsperms.FeatureNames([]awsperms.Feature{f}))
	}
	return strings.Join(out, ", ")
}

// memberPath splits the member role name into the IAM path and the name.
func (b *Bundle) memberPath() (path, name string) {
	s := b.MemberRoleName
	if i := strings.LastIndex(s, "/"); i >= 0 {
		return "/" + s[:i] + "/", s[i+1:]
	}
	return "/", s
}
