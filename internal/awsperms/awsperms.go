// Package awsperms is the one list of the IAM permissions Gatehouse needs, per feature.
//
// Each entry ties an IAM action to the features that need it, to the SDK operations
// that use it, to the role whose policy must hold it (the connector role that Gatehouse
// assumes, or the role it assumes in each member account) and to the narrowest
// resource AWS allows for it. Everything else derives from this list: the policies that
// `gatehouse setup aws` generates, the checks of `gatehouse doctor`, the table in
// docs/setup.md, and the hint the connector adds to an AccessDenied error, so that they
// cannot drift apart. Tests hold the list to what internal/awsfetch really calls.
package awsperms

import (
	"slices"
	"strings"
)

// Feature is something a person turns on with a flag; each needs its own permissions.
type Feature string

// The features, named as their flags are.
const (
	// Sync is the base inventory: the IAM of the connector's own account. Always on.
	Sync Feature = "sync"
	// Orgs reads the organization and every member account's IAM (--orgs).
	Orgs Feature = "orgs"
	// IdentityCenter reads IAM Identity Center (--identity-center).
	IdentityCenter Feature = "identity-center"
	// SyncSecrets reads access key metadata (--sync-secrets).
	SyncSecrets Feature = "sync-secrets"
	// SCIM reads Identity Center user status from its SCIM endpoint (--scim). It needs
	// no IAM action: the SCIM API takes a bearer token that Identity Center issues.
	SCIM Feature = "scim"
	// Provisioning grants and revokes access (--provisioning): the only feature with
	// write actions.
	Provisioning Feature = "provisioning"
	// Doctor lets each role read its own definition, so that `gatehouse doctor` can
	// check the trust policy and the write permissions. Always on; nothing else needs it.
	Doctor Feature = "doctor"
)

// FeatureInfo describes a feature for people.
type FeatureInfo struct {
	Feature Feature
	// Flag is the command-line flag that turns it on ("" when always on).
	Flag string
	// Summary says what the feature reads or changes.
	Summary string
	// NoIAM, when set, says why the feature needs no IAM permission.
	NoIAM string
}

// Features lists every feature, in the order the documentation presents them.
var Features = []FeatureInfo{
	{Feature: Sync, Summary: "IAM of the connector's account: users, groups, roles, policies, MFA devices, the credential report"},
	{Feature: Orgs, Flag: "--orgs", Summary: "the organization tree, and the IAM of every member account through a role assumed in it"},
	{Feature: IdentityCenter, Flag: "--identity-center", Summary: "IAM Identity Center users, groups, memberships, permission sets and account assignments"},
	{Feature: SyncSecrets, Flag: "--sync-secrets", Summary: "access key ids, status and last use (secret values are never read)"},
	{Feature: SCIM, Flag: "--scim", Summary: "Identity Center user status (active or not) from the Identity Center SCIM endpoint",
		NoIAM: "SCIM needs no IAM action: the SCIM API is authorised by a bearer token that IAM Identity Center issues with its SCIM endpoint (Settings > Identity source > Automatic provisioning). Pass the endpoint with --scim-endpoint and the token in GATEHOUSE_SCIM_TOKEN."},
	{Feature: Provisioning, Flag: "--provisioning", Summary: "grant and revoke: IAM group membership, Identity Center group membership and account assignments"},
	{Feature: Doctor, Summary: "lets each role read its own trust policy and simulate its own policies, for gatehouse doctor"},
}

// Names of the roles and policies `gatehouse setup aws` creates, which the rest of
// Gatehouse (the sync's defaults, doctor, the simulator's worlds) assumes by default.
const (
	// DefaultMemberRoleName is the read-only role created in every member account for
	// --orgs, holding MemberPolicyName: what Gatehouse assumes in member accounts unless
	// told otherwise.
	DefaultMemberRoleName = "GatehouseMember"
	// MemberPolicyName is the inline policy of the member role.
	MemberPolicyName = "GatehouseMemberAccess"
	// OrganizationAccessRole is the role AWS Organizations creates, with
	// AdministratorAccess, in accounts it creates. Gatehouse enters member accounts
	// through it only when told to (--member-role-name), with a warning: a read-only
	// tool holding administrator access in every account is not least privilege.
	OrganizationAccessRole = "OrganizationAccountAccessRole"
)

// OrganizationAccessRoleWarning is the warning printed when Gatehouse is told to enter
// member accounts through OrganizationAccessRole.
const OrganizationAccessRoleWarning = "warning: --member-role-name " + OrganizationAccessRole +
	" has AdministratorAccess in every member account, so whoever holds Gatehouse's connector role can change anything there; " +
	"create the read-only member role instead (gatehouse setup aws --orgs generates " + DefaultMemberRoleName + " with the " + MemberPolicyName +
	" policy) and leave --member-role-name at its default"

// Role says which role's policy must hold an action.
type Role string

const (
	// Connector is the role Gatehouse assumes (--role-arn), in the management account or
	// a delegated administrator. Its own account's IAM is read with it too.
	Connector Role = "connector"
	// Member is the role Gatehouse assumes from the connector role in every other
	// account of the organization (--member-role-name).
	Member Role = "member"
)

// Access says whether an action changes anything.
type Access string

const (
	// Read actions change nothing an access review would notice; `gatehouse doctor`
	// checks them with harmless calls.
	Read Access = "read"
	// Write actions change access; they are in a policy only with --provisioning, and
	// `gatehouse doctor` checks them without calling them.
	Write Access = "write"
)

// Resource is the kind of resource an action is granted on: the narrowest that AWS
// supports for the action and that still works in every account.
type Resource string

const (
	// AnyResource is "*": the action has no resource type (list calls, Organizations
	// and Identity Center reads), or one per call that Gatehouse cannot know in advance.
	AnyResource Resource = "*"
	// Users are the IAM users of the account.
	Users Resource = "users"
	// Groups are the IAM groups of the account.
	Groups Resource = "groups"
	// MemberRoles is the member-account role, in any account.
	MemberRoles Resource = "member-roles"
	// SelfRole is the role that holds the policy.
	SelfRole Resource = "self"
	// ReservedSSORoles are the roles IAM Identity Center creates for permission sets.
	ReservedSSORoles Resource = "reserved-sso-roles"
	// SSOSAMLProviders are the SAML providers IAM Identity Center creates.
	SSOSAMLProviders Resource = "sso-saml-providers"
)

// Permission is one use of one IAM action. An action that several features need has
// one entry per use; the policies merge them.
type Permission struct {
	// Action is the IAM action, "service:Name".
	Action string
	// Operations are the SDK operations of the action's service that need it. Empty for
	// actions AWS performs with Gatehouse's permissions on its behalf.
	Operations []string
	// Access is Read or Write.
	Access Access
	// Features must all be chosen for the permission to be needed.
	Features []Feature
	// Roles are the roles whose policies must hold it.
	Roles []Role
	// Resource is what the action is granted on.
	Resource Resource
	// Statement is the Sid of the policy statement the action goes in.
	Statement string
	// Why says what Gatehouse does with it, for people.
	Why string
}

// Service is the IAM service prefix of the action ("iam", "sso", ...).
func (p Permission) Service() string {
	s, _, _ := strings.Cut(p.Action, ":")
	return s
}

// Name is the action without its service prefix.
func (p Permission) Name() string {
	_, n, _ := strings.Cut(p.Action, ":")
	return n
}

// NeededFor reports whether the permission is needed in the role's policy with the
// chosen features.
func (p Permission) NeededFor(f Set, r Role) bool {
	if !slices.Contains(p.Roles, r) {
		return false
	}
	for _, x := range p.Features {
		if !f.Has(x) {
			return false
		}
	}
	return true
}

// Set is a choice of features. Sync and Doctor are always on.
type Set struct {
	Orgs, IdentityCenter, SyncSecrets, SCIM, Provisioning bool
}

// All is every feature.
var All = Set{Orgs: true, IdentityCenter: true, SyncSecrets: true, SCIM: true, Provisioning: true}

// Has reports whether the feature is chosen.
func (s Set) Has(f Feature) bool {
	switch f {
	case Sync, Doctor:
		return true
	case Orgs:
		return s.Orgs
	case IdentityCenter:
		return s.IdentityCenter
	case SyncSecrets:
		return s.SyncSecrets
	case SCIM:
		return s.SCIM
	case Provisioning:
		return s.Provisioning
	}
	return false
}

// List returns the chosen features in documentation order, Doctor left out.
func (s Set) List() []Feature {
	var out []Feature
	for _, fi := range Features {
		if fi.Feature != Doctor && s.Has(fi.Feature) {
			out = append(out, fi.Feature)
		}
	}
	return out
}

// Needed returns the permissions the role's policy must hold for the features, in list
// order, one entry per use.
func Needed(f Set, r Role) []Permission {
	var out []Permission
	for _, p := range List {
		if p.NeededFor(f, r) {
			out = append(out, p)
		}
	}
	return out
}

// Actions returns the distinct actions the role needs for the features, sorted.
func Actions(f Set, r Role) []string {
	var out []string
	for _, p := range Needed(f, r) {
		out = append(out, p.Action)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

var (
	both          = []Role{Connector, Member}
	connectorOnly = []Role{Connector}
)

// List is every permission Gatehouse uses. The read actions are exactly the operations
// internal/awsfetch calls (a test parses its code, and another runs full syncs against
// the simulator with a role holding only the generated policy); the write actions are
// those provisioning calls, plus the IAM actions Identity Center performs with the
// caller's permissions when it provisions a permission set into the management account.
var List = []Permission{
	// The IAM inventory of each account: the connector's own and every member account.
	{Action: "iam:GetAccountAuthorizationDetails", Operations: []string{"GetAccountAuthorizationDetails"}, Access: Read, Features: []Feature{Sync}, Roles: both, Resource: AnyResource, Statement: "ReadIAM",
		Why: "users, groups, roles, managed and inline policies and their attachments, in one paginated call per account"},
	{Action: "iam:ListRoles", Operations: []string{"ListRoles"}, Access: Read, Features: []Feature{Sync}, Roles: both, Resource: AnyResource, Statement: "ReadIAM",
		Why: "role descriptions and maximum session durations, which GetAccountAuthorizationDetails leaves out"},
	{Action: "iam:ListVirtualMFADevices", Operations: []string{"ListVirtualMFADevices"}, Access: Read, Features: []Feature{Sync}, Roles: both, Resource: AnyResource, Statement: "ReadIAM",
		Why: "the virtual MFA devices assigned to users and to the root user (a root MFA that is not virtual is hardware, finding 1.6)"},
	{Action: "iam:ListAccountAliases", Operations: []string{"ListAccountAliases"}, Access: Read, Features: []Feature{Sync}, Roles: both, Resource: AnyResource, Statement: "ReadIAM",
		Why: "the account alias, which names the account without Organizations"},
	{Action: "iam:GenerateCredentialReport", Operations: []string{"GenerateCredentialReport"}, Access: Read, Features: []Feature{Sync}, Roles: both, Resource: AnyResource, Statement: "ReadIAM",
		Why: "starts the credential report (IAM regenerates it at most every 4 hours); it changes no access"},
	{Action: "iam:GetCredentialReport", Operations: []string{"GetCredentialReport"}, Access: Read, Features: []Feature{Sync}, Roles: both, Resource: AnyResource, Statement: "ReadIAM",
		Why: "passwords, access keys and MFA of every user and of the root user, with their last use, in one call"},
	{Action: "iam:GetAccountSummary", Operations: []string{"GetAccountSummary"}, Access: Read, Features: []Feature{Sync}, Roles: both, Resource: AnyResource, Statement: "ReadIAM",
		Why: "the number of MFA devices in use, which tells whether users with a virtual device also hold a hardware or FIDO one; whether the root user has MFA and access keys, as of the sync (findings 1.4, 1.5)"},
	{Action: "iam:GetAccountPasswordPolicy", Operations: []string{"GetAccountPasswordPolicy"}, Access: Read, Features: []Feature{Sync}, Roles: both, Resource: AnyResource, Statement: "ReadIAM",
		Why: "the account's password policy (minimum length, reuse prevention), one call per account, for findings 1.8 and 1.9"},
	{Action: "iam:GenerateServiceLastAccessedDetails", Operations: []string{"GenerateServiceLastAccessedDetails"}, Access: Read, Features: []Feature{Sync}, Roles: both, Resource: AnyResource, Statement: "ReadIAM",
		Why: "starts IAM's service last accessed report of a user or role (a few per account per sync, finding gh.unused_services); it changes no access"},
	{Action: "iam:GetServiceLastAccessedDetails", Operations: []string{"GetServiceLastAccessedDetails"}, Access: Read, Features: []Feature{Sync}, Roles: both, Resource: AnyResource, Statement: "ReadIAM",
		Why: "collects, in a later sync, the services a user or role is granted and when it last used each (finding gh.unused_services)"},
	{Action: "iam:ListMFADevices", Operations: []string{"ListMFADevices"}, Access: Read, Features: []Feature{Sync}, Roles: both, Resource: Users, Statement: "ReadIAMUsers",
		Why: "hardware and FIDO MFA devices, only for users whose devices the credential report, the virtual device list and the count of devices in use do not account for"},
	// Users created after the credential report (IAM reuses a report for up to 4 hours).
	{Action: "iam:GetLoginProfile", Operations: []string{"GetLoginProfile"}, Access: Read, Features: []Feature{Sync}, Roles: both, Resource: Users, Statement: "ReadIAMUsers",
		Why: "whether a user created after the credential report has a console password"},
	{Action: "iam:GetUser", Operations: []string{"GetUser"}, Access: Read, Features: []Feature{Sync}, Roles: both, Resource: Users, Statement: "ReadIAMUsers",
		Why: "when a user created after the credential report last used its password"},
	{Action: "iam:ListAccessKeys", Operations: []string{"ListAccessKeys"}, Access: Read, Features: []Feature{Sync}, Roles: both, Resource: Users, Statement: "ReadIAMUsers",
		Why: "the access keys (status, age) of users created after the credential report"},
	{Action: "iam:GetAccessKeyLastUsed", Operations: []string{"GetAccessKeyLastUsed"}, Access: Read, Features: []Feature{Sync}, Roles: both, Resource: Users, Statement: "ReadIAMUsers",
		Why: "the last use of access keys created after the credential report, which it does not hold"},

	// Access key metadata.
	{Action: "iam:ListAccessKeys", Operations: []string{"ListAccessKeys"}, Access: Read, Features: []Feature{SyncSecrets}, Roles: both, Resource: Users, Statement: "ReadIAMUsers",
		Why: "access key ids and status, per user"},
	{Action: "iam:GetAccessKeyLastUsed", Operations: []string{"GetAccessKeyLastUsed"}, Access: Read, Features: []Feature{SyncSecrets}, Roles: both, Resource: Users, Statement: "ReadIAMUsers",
		Why: "the last use of keys the credential report does not hold (created after it); the report gives the others'"},

	// The organization, read once from the connector role.
	{Action: "organizations:DescribeOrganization", Operations: []string{"DescribeOrganization"}, Access: Read, Features: []Feature{Orgs}, Roles: connectorOnly, Resource: AnyResource, Statement: "ReadOrganization",
		Why: "the organization and its management account"},
	{Action: "organizations:ListRoots", Operations: []string{"ListRoots"}, Access: Read, Features: []Feature{Orgs}, Roles: connectorOnly, Resource: AnyResource, Statement: "ReadOrganization",
		Why: "the root of the organization tree"},
	{Action: "organizations:ListOrganizationalUnitsForParent", Operations: []string{"ListOrganizationalUnitsForParent"}, Access: Read, Features: []Feature{Orgs}, Roles: connectorOnly, Resource: AnyResource, Statement: "ReadOrganization",
		Why: "the organizational units, listed once per parent"},
	{Action: "organizations:ListAccountsForParent", Operations: []string{"ListAccountsForParent"}, Access: Read, Features: []Feature{Orgs}, Roles: connectorOnly, Resource: AnyResource, Statement: "ReadOrganization",
		Why: "the accounts, listed once per parent (cheaper than asking each account for its parent)"},
	{Action: "sts:AssumeRole", Operations: []string{"AssumeRole"}, Access: Read, Features: []Feature{Orgs}, Roles: connectorOnly, Resource: MemberRoles, Statement: "AssumeMemberRole",
		Why: "enters each member account through the member role; granted on that role's name only"},

	// IAM Identity Center, read from the connector role.
	{Action: "sso:ListInstances", Operations: []string{"ListInstances"}, Access: Read, Features: []Feature{IdentityCenter}, Roles: connectorOnly, Resource: AnyResource, Statement: "ReadIdentityCenter",
		Why: "finds the Identity Center instance and its identity store"},
	{Action: "sso:ListPermissionSets", Operations: []string{"ListPermissionSets"}, Access: Read, Features: []Feature{IdentityCenter}, Roles: connectorOnly, Resource: AnyResource, Statement: "ReadIdentityCenter",
		Why: "the permission sets"},
	{Action: "sso:DescribePermissionSet", Operations: []string{"DescribePermissionSet"}, Access: Read, Features: []Feature{IdentityCenter}, Roles: connectorOnly, Resource: AnyResource, Statement: "ReadIdentityCenter",
		Why: "each permission set's name, description and session duration"},
	{Action: "sso:ListManagedPoliciesInPermissionSet", Operations: []string{"ListManagedPoliciesInPermissionSet"}, Access: Read, Features: []Feature{IdentityCenter}, Roles: connectorOnly, Resource: AnyResource, Statement: "ReadIdentityCenter",
		Why: "the AWS-managed policies of each permission set"},
	{Action: "sso:ListCustomerManagedPolicyReferencesInPermissionSet", Operations: []string{"ListCustomerManagedPolicyReferencesInPermissionSet"}, Access: Read, Features: []Feature{IdentityCenter}, Roles: connectorOnly, Resource: AnyResource, Statement: "ReadIdentityCenter",
		Why: "the customer-managed policies each permission set refers to"},
	{Action: "sso:GetInlinePolicyForPermissionSet", Operations: []string{"GetInlinePolicyForPermissionSet"}, Access: Read, Features: []Feature{IdentityCenter}, Roles: connectorOnly, Resource: AnyResource, Statement: "ReadIdentityCenter",
		Why: "the inline policy of each permission set"},
	{Action: "sso:ListAccountsForProvisionedPermissionSet", Operations: []string{"ListAccountsForProvisionedPermissionSet"}, Access: Read, Features: []Feature{IdentityCenter}, Roles: connectorOnly, Resource: AnyResource, Statement: "ReadIdentityCenter",
		Why: "where each permission set is provisioned, which decides how assignments are listed"},
	{Action: "sso:ListAccountAssignments", Operations: []string{"ListAccountAssignments"}, Access: Read, Features: []Feature{IdentityCenter}, Roles: connectorOnly, Resource: AnyResource, Statement: "ReadIdentityCenter",
		Why: "account assignments per (account, permission set), when that needs fewer calls"},
	{Action: "sso:ListAccountAssignmentsForPrincipal", Operations: []string{"ListAccountAssignmentsForPrincipal"}, Access: Read, Features: []Feature{IdentityCenter}, Roles: connectorOnly, Resource: AnyResource, Statement: "ReadIdentityCenter",
		Why: "account assignments per user and group, when that needs fewer calls"},
	{Action: "identitystore:ListUsers", Operations: []string{"ListUsers"}, Access: Read, Features: []Feature{IdentityCenter}, Roles: connectorOnly, Resource: AnyResource, Statement: "ReadIdentityCenter",
		Why: "the Identity Center users"},
	{Action: "identitystore:ListGroups", Operations: []string{"ListGroups"}, Access: Read, Features: []Feature{IdentityCenter}, Roles: connectorOnly, Resource: AnyResource, Statement: "ReadIdentityCenter",
		Why: "the Identity Center groups"},
	{Action: "identitystore:ListGroupMemberships", Operations: []string{"ListGroupMemberships"}, Access: Read, Features: []Feature{IdentityCenter}, Roles: connectorOnly, Resource: AnyResource, Statement: "ReadIdentityCenter",
		Why: "the members of each group"},

	// Provisioning: IAM group membership, in whichever account the group lives.
	{Action: "iam:GetGroup", Operations: []string{"GetGroup"}, Access: Read, Features: []Feature{Provisioning}, Roles: both, Resource: Groups, Statement: "ManageIAMGroupMembership",
		Why: "checks that the group exists and whether the user is already a member"},
	{Action: "iam:GetUser", Operations: []string{"GetUser"}, Access: Read, Features: []Feature{Provisioning}, Roles: both, Resource: Users, Statement: "ReadIAMUsers",
		Why: "checks that the user to grant to exists"},
	{Action: "iam:ListGroupsForUser", Operations: []string{"ListGroupsForUser"}, Access: Read, Features: []Feature{Provisioning}, Roles: both, Resource: Users, Statement: "ReadIAMUsers",
		Why: "checks the user's current groups before a grant or revoke"},
	{Action: "iam:AddUserToGroup", Operations: []string{"AddUserToGroup"}, Access: Write, Features: []Feature{Provisioning}, Roles: both, Resource: Groups, Statement: "ManageIAMGroupMembership",
		Why: "grants an IAM group to an IAM user"},
	{Action: "iam:RemoveUserFromGroup", Operations: []string{"RemoveUserFromGroup"}, Access: Write, Features: []Feature{Provisioning}, Roles: both, Resource: Groups, Statement: "ManageIAMGroupMembership",
		Why: "revokes an IAM group from an IAM user"},

	// Provisioning in Identity Center: group membership and account assignments.
	{Action: "identitystore:DescribeUser", Operations: []string{"DescribeUser"}, Access: Read, Features: []Feature{Provisioning, IdentityCenter}, Roles: connectorOnly, Resource: AnyResource, Statement: "ReadIdentityCenter",
		Why: "checks the user to grant to and names it in the result"},
	{Action: "identitystore:DescribeGroup", Operations: []string{"DescribeGroup"}, Access: Read, Features: []Feature{Provisioning, IdentityCenter}, Roles: connectorOnly, Resource: AnyResource, Statement: "ReadIdentityCenter",
		Why: "checks the group to grant and names it in the result"},
	{Action: "identitystore:IsMemberInGroups", Operations: []string{"IsMemberInGroups"}, Access: Read, Features: []Feature{Provisioning, IdentityCenter}, Roles: connectorOnly, Resource: AnyResource, Statement: "ReadIdentityCenter",
		Why: "tells whether a revoked user keeps the access through one of its groups"},
	{Action: "organizations:DescribeAccount", Operations: []string{"DescribeAccount"}, Access: Read, Features: []Feature{Provisioning, IdentityCenter}, Roles: connectorOnly, Resource: AnyResource, Statement: "ReadOrganization",
		Why: "checks that the account of an assignment is in the organization and names it"},
	{Action: "identitystore:GetGroupMembershipId", Operations: []string{"GetGroupMembershipId"}, Access: Read, Features: []Feature{Provisioning, IdentityCenter}, Roles: connectorOnly, Resource: AnyResource, Statement: "ReadIdentityCenter",
		Why: "finds the membership to delete when a group is revoked"},
	{Action: "identitystore:CreateGroupMembership", Operations: []string{"CreateGroupMembership"}, Access: Write, Features: []Feature{Provisioning, IdentityCenter}, Roles: connectorOnly, Resource: AnyResource, Statement: "ManageIdentityCenter",
		Why: "grants an Identity Center group to a user"},
	{Action: "identitystore:DeleteGroupMembership", Operations: []string{"DeleteGroupMembership"}, Access: Write, Features: []Feature{Provisioning, IdentityCenter}, Roles: connectorOnly, Resource: AnyResource, Statement: "ManageIdentityCenter",
		Why: "revokes an Identity Center group from a user"},
	{Action: "sso:CreateAccountAssignment", Operations: []string{"CreateAccountAssignment"}, Access: Write, Features: []Feature{Provisioning, IdentityCenter}, Roles: connectorOnly, Resource: AnyResource, Statement: "ManageIdentityCenter",
		Why: "grants a permission set in an account to a user or group (provisioning the permission set there if needed)"},
	{Action: "sso:DeleteAccountAssignment", Operations: []string{"DeleteAccountAssignment"}, Access: Write, Features: []Feature{Provisioning, IdentityCenter}, Roles: connectorOnly, Resource: AnyResource, Statement: "ManageIdentityCenter",
		Why: "revokes a permission set in an account from a user or group"},
	{Action: "sso:DescribeAccountAssignmentCreationStatus", Operations: []string{"DescribeAccountAssignmentCreationStatus"}, Access: Read, Features: []Feature{Provisioning, IdentityCenter}, Roles: connectorOnly, Resource: AnyResource, Statement: "ReadIdentityCenter",
		Why: "polls an asynchronous grant until it succeeds or fails"},
	{Action: "sso:DescribeAccountAssignmentDeletionStatus", Operations: []string{"DescribeAccountAssignmentDeletionStatus"}, Access: Read, Features: []Feature{Provisioning, IdentityCenter}, Roles: connectorOnly, Resource: AnyResource, Statement: "ReadIdentityCenter",
		Why: "polls an asynchronous revoke until it succeeds or fails"},
	{Action: "sso:ListAccountAssignmentCreationStatus", Operations: []string{"ListAccountAssignmentCreationStatus"}, Access: Read, Features: []Feature{Provisioning, IdentityCenter}, Roles: connectorOnly, Resource: AnyResource, Statement: "ReadIdentityCenter",
		Why: "finds a grant still in progress after a crash, so that it is awaited instead of made twice"},
	{Action: "sso:ListAccountAssignmentDeletionStatus", Operations: []string{"ListAccountAssignmentDeletionStatus"}, Access: Read, Features: []Feature{Provisioning, IdentityCenter}, Roles: connectorOnly, Resource: AnyResource, Statement: "ReadIdentityCenter",
		Why: "finds a revoke still in progress after a crash, so that a grant of the same access waits for it"},
	{Action: "sso:ListPermissionSets", Operations: []string{"ListPermissionSets"}, Access: Read, Features: []Feature{Provisioning, IdentityCenter}, Roles: connectorOnly, Resource: AnyResource, Statement: "ReadIdentityCenter",
		Why: "resolves the permission set id of an account entitlement to the ARN Identity Center lists"},
	// Ending a revoked user's live sessions (AWS's documented deny in the permission set's
	// inline policy, provisioned to the accounts; see internal/awsprovision/sessions.go).
	// Reading the inline policy, the permission set and its accounts' provisioning status
	// is in the Identity Center reads above.
	{Action: "sso:PutInlinePolicyToPermissionSet", Operations: []string{"PutInlinePolicyToPermissionSet"}, Access: Write, Features: []Feature{Provisioning, IdentityCenter}, Roles: connectorOnly, Resource: AnyResource, Statement: "ManageIdentityCenter",
		Why: "adds (and later removes) the deny that ends a revoked user's live sessions, merged with the permission set's inline policy"},
	{Action: "sso:DeleteInlinePolicyFromPermissionSet", Operations: []string{"DeleteInlinePolicyFromPermissionSet"}, Access: Write, Features: []Feature{Provisioning, IdentityCenter}, Roles: connectorOnly, Resource: AnyResource, Statement: "ManageIdentityCenter",
		Why: "removes the inline policy again when the session deny was all of it"},
	{Action: "sso:ProvisionPermissionSet", Operations: []string{"ProvisionPermissionSet"}, Access: Write, Features: []Feature{Provisioning, IdentityCenter}, Roles: connectorOnly, Resource: AnyResource, Statement: "ManageIdentityCenter",
		Why: "applies the changed inline policy to the accounts the permission set is provisioned to (AWS applies it only then)"},
	{Action: "sso:DescribePermissionSetProvisioningStatus", Operations: []string{"DescribePermissionSetProvisioningStatus"}, Access: Read, Features: []Feature{Provisioning, IdentityCenter}, Roles: connectorOnly, Resource: AnyResource, Statement: "ReadIdentityCenter",
		Why: "polls the provisioning of a permission set until it succeeds or fails"},
	{Action: "sso:ListPermissionSetsProvisionedToAccount", Operations: []string{"ListPermissionSetsProvisionedToAccount"}, Access: Read, Features: []Feature{Provisioning, IdentityCenter}, Roles: connectorOnly, Resource: AnyResource, Statement: "ReadIdentityCenter",
		Why: "the permission sets already provisioned in an account"},
	{Action: "sso:ListAccountAssignments", Operations: []string{"ListAccountAssignments"}, Access: Read, Features: []Feature{Provisioning, IdentityCenter}, Roles: connectorOnly, Resource: AnyResource, Statement: "ReadIdentityCenter",
		Why: "checks whether another assignment still needs a (principal, permission set, account) tuple before revoking"},

	// Assigning a permission set in the management account: Identity Center creates and
	// maintains the AWSReservedSSO_* role there with the caller's own permissions (its
	// service-linked role does this only in member accounts).
	reserved("iam:CreateRole", "creates the permission set's role"),
	reservedRead("iam:GetRole", "reads the permission set's role"),
	reserved("iam:UpdateRole", "updates the permission set's role (session duration)"),
	reserved("iam:UpdateRoleDescription", "updates the permission set's role description"),
	reserved("iam:UpdateAssumeRolePolicy", "keeps the role's trust in the Identity Center SAML provider"),
	reserved("iam:DeleteRole", "deletes the role when the permission set leaves the account"),
	reserved("iam:AttachRolePolicy", "attaches the permission set's managed policies"),
	reserved("iam:DetachRolePolicy", "detaches managed policies removed from the permission set"),
	reserved("iam:PutRolePolicy", "writes the permission set's inline policy"),
	reserved("iam:DeleteRolePolicy", "removes the inline policy"),
	reservedRead("iam:ListAttachedRolePolicies", "reads the role's managed policies"),
	reservedRead("iam:ListRolePolicies", "reads the role's inline policies"),
	reserved("iam:PutRolePermissionsBoundary", "sets the permission set's permissions boundary"),
	reserved("iam:DeleteRolePermissionsBoundary", "removes the permissions boundary"),
	samlProvider("iam:CreateSAMLProvider", "creates the account's Identity Center SAML provider on the first assignment"),
	samlProviderRead("iam:GetSAMLProvider", "reads the account's Identity Center SAML provider"),
	samlProvider("iam:UpdateSAMLProvider", "renews the SAML provider's metadata"),

	// gatehouse doctor: each role may read itself, nothing else.
	{Action: "iam:GetRole", Operations: []string{"GetRole"}, Access: Read, Features: []Feature{Doctor}, Roles: connectorOnly, Resource: SelfRole, Statement: "DoctorSelfCheck",
		Why: "gatehouse doctor reads the connector role's trust policy to check that it requires the External ID"},
	{Action: "iam:SimulatePrincipalPolicy", Operations: []string{"SimulatePrincipalPolicy"}, Access: Read, Features: []Feature{Doctor}, Roles: connectorOnly, Resource: SelfRole, Statement: "DoctorSelfCheck",
		Why: "gatehouse doctor checks write actions (and reads it cannot probe) without calling them"},
	{Action: "iam:SimulatePrincipalPolicy", Operations: []string{"SimulatePrincipalPolicy"}, Access: Read, Features: []Feature{Doctor, Provisioning}, Roles: []Role{Member}, Resource: SelfRole, Statement: "DoctorSelfCheck",
		Why: "gatehouse doctor checks the member role's write actions without calling them, and grant and revoke --dry-run check that the member role may make the planned IAM change"},
	{Action: "iam:SimulatePrincipalPolicy", Operations: []string{"SimulatePrincipalPolicy"}, Access: Read, Features: []Feature{Provisioning}, Roles: connectorOnly, Resource: SelfRole, Statement: "DoctorSelfCheck",
		Why: "grant and revoke --dry-run check that the connector role may make the planned change, without making it"},
}

// reserved is an IAM action Identity Center performs on the AWSReservedSSO_* roles of
// the management account with the caller's permissions.
func reserved(action, why string) Permission {
	return Permission{Action: action, Access: Write, Features: []Feature{Provisioning, IdentityCenter}, Roles: connectorOnly,
		Resource: ReservedSSORoles, Statement: "ProvisionReservedSSORoles",
		Why: "assignments in the management account: Identity Center " + why + " with Gatehouse's permissions"}
}

// reservedRead is reserved for a read action.
func reservedRead(action, why string) Permission {
	p := reserved(action, why)
	p.Access = Read
	return p
}

// samlProviderRead is samlProvider for a read action.
func samlProviderRead(action, why string) Permission {
	p := samlProvider(action, why)
	p.Access = Read
	return p
}

// samlProvider is an IAM action Identity Center performs on its SAML provider in the
// management account with the caller's permissions.
func samlProvider(action, why string) Permission {
	return Permission{Action: action, Access: Write, Features: []Feature{Provisioning, IdentityCenter}, Roles: connectorOnly,
		Resource: SSOSAMLProviders, Statement: "ProvisionSSOSAMLProvider",
		Why: "assignments in the management account: Identity Center " + why + " with Gatehouse's permissions"}
}
