package connector

import (
	"time"

	"github.com/gatehouse/gatehouse/internal/inventory"
)

// Snapshots built by hand, the way internal/awsfetch would produce them.

var (
	fetchedAt = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	day       = 24 * time.Hour
)

const (
	adminAccessARN = "arn:aws:iam::aws:policy/AdministratorAccess"
	readOnlyARN    = "arn:aws:iam::aws:policy/ReadOnlyAccess"
	instanceARN    = "arn:aws:sso:::instance/ssoins-7223c0ab9a1b2c3d"
	psAdminARN     = "arn:aws:sso:::permissionSet/ssoins-7223c0ab9a1b2c3d/ps-aaaaaaaaaaaaaaaa"
	psReadOnlyARN  = "arn:aws:sso:::permissionSet/ssoins-7223c0ab9a1b2c3d/ps-bbbbbbbbbbbbbbbb"
)

// singleAccountSnapshot is one account synced without Organizations or Identity Center:
// alice is in the admins group (which has AdministratorAccess), bob and the ci role have
// the customer-managed deploy policy.
func singleAccountSnapshot() *inventory.Snapshot {
	const acct = "111111111111"
	return &inventory.Snapshot{
		FetchedAt:       fetchedAt,
		CallerARN:       "arn:aws:iam::111111111111:user/gatehouse",
		CallerAccountID: acct,
		Accounts: []*inventory.Account{{
			ID:     acct,
			ARN:    "arn:aws:organizations::111111111111:account/o-none/111111111111",
			Name:   "solo",
			Status: "ACTIVE",
			Synced: true,
			IAM: &inventory.IAM{
				Users: []*inventory.User{
					{
						ARN: "arn:aws:iam::111111111111:user/bob", ID: "AIDABOB", Name: "bob", Path: "/",
						CreatedAt:        fetchedAt.Add(-100 * day),
						AttachedPolicies: []string{"arn:aws:iam::111111111111:policy/deploy"},
						InlinePolicies:   []inventory.InlinePolicy{{Name: "s3-read", Document: `{"Version":"2012-10-17","Statement":[]}`}},
					},
					{
						ARN: "arn:aws:iam::111111111111:user/alice", ID: "AIDAALICE", Name: "alice", Path: "/",
						CreatedAt: fetchedAt.Add(-400 * day),
						Tags:      map[string]string{"Email": "alice@example.com", "team": "platform"},
						Groups:    []string{"admins"},
					},
				},
				Groups: []*inventory.Group{{
					ARN: "arn:aws:iam::111111111111:group/admins", ID: "AGPAADMINS", Name: "admins", Path: "/",
					AttachedPolicies: []string{adminAccessARN},
				}},
				Roles: []*inventory.Role{{
					ARN: "arn:aws:iam::111111111111:role/ci", ID: "AROACI", Name: "ci", Path: "/",
					TrustPolicy:      `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"codebuild.amazonaws.com"},"Action":"sts:AssumeRole"}]}`,
					AttachedPolicies: []string{"arn:aws:iam::111111111111:policy/deploy"},
				}},
				Policies: []*inventory.ManagedPolicy{
					{ARN: "arn:aws:iam::111111111111:policy/deploy", ID: "ANPADEPLOY", Name: "deploy", Path: "/", DefaultVersion: "v2", Document: `{"Version":"2012-10-17","Statement":[]}`, AttachmentCount: 2},
					{ARN: adminAccessARN, ID: "ANPAADMIN", Name: "AdministratorAccess", Path: "/", AWSManaged: true, AttachmentCount: 1},
				},
				CredentialReport: []*inventory.CredentialReportRow{
					{User: "<root_account>", ARN: "arn:aws:iam::111111111111:root", MFAActive: true},
					{
						User: "alice", ARN: "arn:aws:iam::111111111111:user/alice",
						PasswordEnabled: true, PasswordLastUsed: fetchedAt.Add(-2 * day), MFAActive: true,
						AccessKeys: [2]inventory.CredentialReportKey{{Active: true, LastRotated: fetchedAt.Add(-90 * day), LastUsed: fetchedAt.Add(-1 * day), LastUsedService: "s3", LastUsedRegion: "eu-west-1"}},
					},
					{User: "bob", ARN: "arn:aws:iam::111111111111:user/bob"},
				},
				MFADevices: []*inventory.MFADevice{{Serial: "arn:aws:iam::111111111111:mfa/alice", Virtual: true, UserName: "alice", EnabledAt: fetchedAt.Add(-300 * day)}},
			},
		}},
	}
}

// orgSnapshot is an organization with Identity Center and member-account IAM: a group-held
// assignment, ReadOnlyAccess attached in two accounts, reserved SSO roles (one linked by the
// fetcher, one by name), a skipped account and an access key.
func orgSnapshot() *inventory.Snapshot {
	return &inventory.Snapshot{
		FetchedAt:       fetchedAt,
		CallerARN:       "arn:aws:sts::111111111111:assumed-role/gatehouse/sync",
		CallerAccountID: "111111111111",
		Org: &inventory.Organization{
			ID: "o-abcd1234", ARN: "arn:aws:organizations::111111111111:organization/o-abcd1234",
			ManagementAccountID: "111111111111",
			Units: []*inventory.OrgUnit{
				{ID: "r-abcd", Name: "Root", IsRoot: true, Path: "Root"},
				{ID: "ou-abcd-11111111", Name: "Workloads", ParentID: "r-abcd", Path: "Root/Workloads"},
				{ID: "ou-abcd-22222222", Name: "Prod", ParentID: "ou-abcd-11111111", Path: "Root/Workloads/Prod"},
			},
		},
		Accounts: []*inventory.Account{
			{
				ID: "111111111111", Name: "management", Email: "aws@example.com", Status: "ACTIVE",
				ParentID: "r-abcd", OUPath: "Root", Synced: true,
				IAM: &inventory.IAM{
					Users: []*inventory.User{{ARN: "arn:aws:iam::111111111111:user/breakglass", Name: "breakglass"}},
					Roles: []*inventory.Role{
						{
							ARN:  "arn:aws:iam::111111111111:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_AdminAccess_0123456789abcdef",
							Name: "AWSReservedSSO_AdminAccess_0123456789abcdef", Path: "/aws-reserved/sso.amazonaws.com/",
							PermissionSetARN: psAdminARN, AttachedPolicies: []string{adminAccessARN},
						},
						{ARN: "arn:aws:iam::111111111111:role/auditor", Name: "auditor", Path: "/", AttachedPolicies: []string{readOnlyARN}},
					},
					Policies: []*inventory.ManagedPolicy{
						{ARN: adminAccessARN, Name: "AdministratorAccess", AWSManaged: true, AttachmentCount: 1},
						{ARN: readOnlyARN, Name: "ReadOnlyAccess", AWSManaged: true, AttachmentCount: 1},
					},
				},
			},
			{
				ID: "333333333333", Name: "sandbox", Status: "ACTIVE", ParentID: "ou-abcd-11111111", OUPath: "Root/Workloads",
				SkipReason: "assume role OrganizationAccountAccessRole: AccessDenied",
			},
			{
				ID: "222222222222", Name: "prod", Status: "ACTIVE", ParentID: "ou-abcd-22222222", OUPath: "Root/Workloads/Prod", Synced: true,
				IAM: &inventory.IAM{
					Users: []*inventory.User{{ARN: "arn:aws:iam::222222222222:user/deployer", Name: "deployer", Groups: []string{"devs"}}},
					Groups: []*inventory.Group{{
						ARN: "arn:aws:iam::222222222222:group/devs", Name: "devs", AttachedPolicies: []string{readOnlyARN},
					}},
					Roles: []*inventory.Role{{
						ARN:  "arn:aws:iam::222222222222:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_ReadOnly_fedcba9876543210",
						Name: "AWSReservedSSO_ReadOnly_fedcba9876543210", Path: "/aws-reserved/sso.amazonaws.com/",
					}},
					Policies: []*inventory.ManagedPolicy{
						{ARN: readOnlyARN, Name: "ReadOnlyAccess", AWSManaged: true, AttachmentCount: 1},
						{ARN: "arn:aws:iam::222222222222:policy/unused", Name: "unused"},
					},
					AccessKeys: []*inventory.AccessKey{{
						ID: "AKIAPRODDEPLOYER0001", UserName: "deployer", UserARN: "arn:aws:iam::222222222222:user/deployer",
						Status: "Active", CreatedAt: fetchedAt.Add(-30 * day), LastUsedAt: fetchedAt.Add(-1 * day), LastUsedService: "ecr", LastUsedRegion: "us-east-1",
					}},
				},
			},
		},
		IdentityCenter: &inventory.IdentityCenter{
			InstanceARN: instanceARN, IdentityStoreID: "d-1234567890", Region: "us-east-1",
			Users: []*inventory.SSOUser{
				{ID: "u-2", UserName: "bob@example.com", DisplayName: "Bob", Email: "bob@example.com"},
				{ID: "u-1", UserName: "alice@example.com", DisplayName: "Alice", GivenName: "Alice", FamilyName: "A", Email: "alice@example.com"},
			},
			Groups:  []*inventory.SSOGroup{{ID: "g-1", DisplayName: "Admins"}},
			Members: map[string][]string{"g-1": {"u-1"}},
			PermissionSets: []*inventory.PermissionSet{
				{ARN: psReadOnlyARN, Name: "ReadOnly", SessionDuration: "PT1H", ManagedPolicies: []string{readOnlyARN}},
				{ARN: psAdminARN, Name: "AdminAccess", Description: "Full access", SessionDuration: "PT8H", ManagedPolicies: []string{adminAccessARN}},
			},
			Provisioned: map[string][]string{"111111111111": {psAdminARN}, "222222222222": {psReadOnlyARN}},
			Assignments: []*inventory.Assignment{
				{AccountID: "111111111111", PermissionSetARN: psAdminARN, PrincipalType: "GROUP", PrincipalID: "g-1"},
				{AccountID: "222222222222", PermissionSetARN: psReadOnlyARN, PrincipalType: "USER", PrincipalID: "u-2"},
				{AccountID: "333333333333", PermissionSetARN: psReadOnlyARN, PrincipalType: "GROUP", PrincipalID: "g-1"},
				// Dangling: a deleted user. It must not become a grant.
				{AccountID: "222222222222", PermissionSetARN: psReadOnlyARN, PrincipalType: "USER", PrincipalID: "u-deleted"},
			},
		},
	}
}
