package awssim

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/gatehouse/gatehouse/internal/awsperms"
)

// Names of the principals the simulator sets up for Gatehouse.
const (
	OperatorUserName  = "gatehouse-operator"
	ConnectorRoleName = "GatehouseConnector"
	// DefaultMemberRoleName is the read-only member role that `gatehouse setup aws --orgs`
	// creates in every member account and that Gatehouse assumes by default.
	DefaultMemberRoleName = awsperms.DefaultMemberRoleName
	// OrganizationAccessRoleName is the administrator role AWS Organizations creates in
	// the accounts it creates; the simulator creates it too, so that opting in to it
	// (--member-role-name OrganizationAccountAccessRole) can be tried.
	OrganizationAccessRoleName = awsperms.OrganizationAccessRole
	connectorPolicyName        = "GatehouseConnectorAccess"
)

// ConnectorReadPolicy allows everything a read-only sync needs, and no writes.
const ConnectorReadPolicy = `{"Version":"2012-10-17","Statement":[{"Sid":"Read","Effect":"Allow","Action":["iam:Get*","iam:List*","iam:GenerateCredentialReport","iam:GenerateServiceLastAccessedDetails","organizations:Describe*","organizations:List*","sso:Describe*","sso:List*","sso:Get*","identitystore:Describe*","identitystore:List*","identitystore:Get*","identitystore:IsMemberInGroups","s3:GetObject","s3:ListBucket"],"Resource":"*"},{"Sid":"MemberAccounts","Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::*:role/*"}]}`

// AddConnectorAccess sets up Gatehouse's access in the management account the way an
// administrator would: an operator user with an access key, allowed to assume the
// connector role, and the connector role trusting that user with the External ID and
// holding the permissions document (ConnectorReadPolicy when empty). It records the
// details in w.Connector.
func (w *World) AddConnectorAccess(externalID, permissions string) {
	if permissions == "" {
		permissions = ConnectorReadPolicy
	}
	mgmt := w.ManagementAccount()
	op := mgmt.Users[OperatorUserName]
	if op == nil {
		op = mgmt.AddUser(w, OperatorUserName, "/")
		op.InlinePolicies["AssumeGatehouseConnector"] = fmt.Sprintf(
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::%s:role/%s"}]}`, mgmt.ID, ConnectorRoleName)
	}
	key := mgmt.AddAccessKey(w, op)
	role := mgmt.AddRole(w, ConnectorRoleName, "/", TrustPolicy(op.ARN, externalID))
	role.Description = "Assumed by Gatehouse to read (and, when enabled, change) access"
	role.InlinePolicies[connectorPolicyName] = permissions
	w.Connector = ConnectorInfo{AccessKeyID: key.ID, SecretAccessKey: key.Secret, RoleARN: role.ARN, ExternalID: externalID, SCIMToken: w.Connector.SCIMToken}
}

// TrustPolicy returns a trust policy that lets principalARN assume the role, requiring the
// External ID when it is not empty.
func TrustPolicy(principalARN, externalID string) string {
	if externalID == "" {
		return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":%q},"Action":"sts:AssumeRole"}]}`, principalARN)
	}
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":%q},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":%q}}}]}`, principalARN, externalID)
}

// AddMemberAccessRole creates, in a member account, the role the connector assumes into
// it: roleName (DefaultMemberRoleName when empty) as `gatehouse setup aws --orgs` creates
// it (see AddGatehouseMemberRole), or, when roleName is OrganizationAccessRoleName, that
// role as AWS creates it (see AddOrganizationAccessRole).
func (w *World) AddMemberAccessRole(a *Account, roleName string) *Role {
	if roleName == "" {
		roleName = DefaultMemberRoleName
	}
	if roleName == OrganizationAccessRoleName {
		return w.AddOrganizationAccessRole(a)
	}
	return w.AddGatehouseMemberRole(a, roleName)
}

// AddMemberRoles gives a member account the roles a real member account of an
// organization set up for Gatehouse has: OrganizationAccountAccessRole, as AWS
// Organizations creates it, and the read-only GatehouseMember role that setup creates.
func (w *World) AddMemberRoles(a *Account) {
	w.AddOrganizationAccessRole(a)
	w.AddGatehouseMemberRole(a, DefaultMemberRoleName)
}

// AddOrganizationAccessRole creates OrganizationAccountAccessRole as AWS Organizations
// creates it in the accounts it creates: trusted by the management account (any of its
// principals that its own policies allow), with AdministratorAccess.
func (w *World) AddOrganizationAccessRole(a *Account) *Role {
	r := a.AddRole(w, OrganizationAccessRoleName, "/", TrustPolicy("arn:aws:iam::"+w.ManagementAccountID+":root", ""))
	r.AttachedPolicies = append(r.AttachedPolicies, AWSManagedPolicyARN("AdministratorAccess"))
	return r
}

// AddGatehouseMemberRole creates the member role as `gatehouse setup aws --orgs` creates
// it: trusted by the connector role alone (not its account), holding exactly the member
// policy that setup generates for every feature (MemberPolicy).
func (w *World) AddGatehouseMemberRole(a *Account, roleName string) *Role {
	connector := "arn:aws:iam::" + w.ManagementAccountID + ":role/" + ConnectorRoleName
	r := a.AddRole(w, roleName, "/", TrustPolicy(connector, ""))
	r.Description = "Assumed by Gatehouse's connector role to read this account's IAM (and, when enabled, change group membership)"
	r.InlinePolicies[awsperms.MemberPolicyName] = MemberPolicy(roleName)
	return r
}

// MemberPolicy is the member-role policy `gatehouse setup aws` generates with every
// feature on (reads, access key metadata, IAM group membership) for a role named
// roleName, as compact JSON.
func MemberPolicy(roleName string) string {
	pol := awsperms.PolicyFor(awsperms.All, awsperms.Member, awsperms.Names{MemberRole: roleName})
	var buf bytes.Buffer
	if err := json.Compact(&buf, pol.JSON()); err != nil {
		panic("awssim: member policy: " + err.Error())
	}
	return buf.String()
}

// GeneratedConnectorPolicy returns the connector role's policy that `gatehouse setup aws
// --orgs --identity-center --sync-secrets` generates (from internal/awsperms, the one
// list of the permissions Gatehouse needs), with --provisioning when provisioning is
// true, for the simulator's connector role and member role names.
func GeneratedConnectorPolicy(provisioning bool) string {
	features := awsperms.Set{Orgs: true, IdentityCenter: true, SyncSecrets: true, Provisioning: provisioning}
	names := awsperms.Names{ConnectorRole: ConnectorRoleName, MemberRole: DefaultMemberRoleName}
	return string(awsperms.PolicyFor(features, awsperms.Connector, names).JSON())
}

// SetConnectorPolicy replaces the permissions of the connector role that
// AddConnectorAccess created. It does nothing in a world without one.
func (w *World) SetConnectorPolicy(permissions string) {
	mgmt := w.ManagementAccount()
	if mgmt == nil {
		return
	}
	if role := mgmt.Roles[ConnectorRoleName]; role != nil {
		role.InlinePolicies[connectorPolicyName] = permissions
	}
}
