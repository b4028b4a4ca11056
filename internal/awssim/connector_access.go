package awssim

import "fmt"

// Names of the principals the simulator sets up for Gatehouse.
const (
	OperatorUserName      = "gatehouse-operator"
	ConnectorRoleName     = "GatehouseConnector"
	DefaultMemberRoleName = "OrganizationAccountAccessRole"
	connectorPolicyName   = "GatehouseConnectorAccess"
)

// ConnectorReadPolicy allows everything a read-only sync needs, and no writes.
const ConnectorReadPolicy = `{"Version":"2012-10-17","Statement":[{"Sid":"Read","Effect":"Allow","Action":["iam:Get*","iam:List*","iam:GenerateCredentialReport","organizations:Describe*","organizations:List*","sso:Describe*","sso:List*","sso:Get*","identitystore:Describe*","identitystore:List*","identitystore:Get*","identitystore:IsMemberInGroups","s3:GetObject","s3:ListBucket"],"Resource":"*"},{"Sid":"MemberAccounts","Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::*:role/*"}]}`

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

// AddMemberAccessRole creates, in a member account, the role the management account
// assumes into it (by default OrganizationAccountAccessRole, as AWS creates it for accounts
// created in the organization): trusted by the management account, with
// AdministratorAccess.
func (w *World) AddMemberAccessRole(a *Account, roleName string) *Role {
	if roleName == "" {
		roleName = DefaultMemberRoleName
	}
	r := a.AddRole(w, roleName, "/", TrustPolicy("arn:aws:iam::"+w.ManagementAccountID+":root", ""))
	r.AttachedPolicies = append(r.AttachedPolicies, AWSManagedPolicyARN("AdministratorAccess"))
	return r
}
