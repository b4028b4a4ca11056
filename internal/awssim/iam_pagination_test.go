package awssim

import (
	"sort"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// Every IAM list call, paged one item at a time by the SDK's paginators, returns exactly
// the full list.
func TestIAMPaginationAtEveryBoundary(t *testing.T) {
	s, c := newIAMTest(t, Options{PageSize: 1})
	var keyIDs, mfaSerials []string
	p1 := "arn:aws:iam::111111111111:policy/p1"
	ro, admin, audit := AWSManagedPolicyARN("ReadOnlyAccess"), AWSManagedPolicyARN("AdministratorAccess"), AWSManagedPolicyARN("SecurityAudit")
	s.Do(func(w *World) {
		a := w.Account(iamAccount)
		for _, n := range []string{"u1", "u2", "u3", "u4"} {
			a.AddUser(w, n, "/")
		}
		u1 := a.Users["u1"]
		u1.Tags = []Tag{{"a", "1"}, {"b", "2"}, {"c", "3"}}
		keyIDs = []string{a.AddAccessKey(w, u1).ID, a.AddAccessKey(w, u1).ID}
		mfaSerials = iamSorted(a.AddMFADevice(w, u1, true).Serial, a.AddMFADevice(w, u1, false).Serial)
		a.MFADevices["arn:aws:iam::111111111111:mfa/spare"] = &MFADevice{Serial: "arn:aws:iam::111111111111:mfa/spare", Virtual: true}
		for _, n := range []string{"i3", "i1", "i2"} {
			u1.InlinePolicies[n] = iamReadS3Doc
		}
		u1.AttachedPolicies = []string{ro, audit, p1}
		for _, n := range []string{"g1", "g2", "g3"} {
			a.AddGroup(w, n, "/")
		}
		for _, n := range []string{"u4", "u2", "u1", "u3"} {
			a.Groups["g1"].AddUserToGroup(n)
		}
		a.Groups["g2"].AddUserToGroup("u1")
		a.Groups["g3"].AddUserToGroup("u1")
		a.Groups["g1"].InlinePolicies["gi1"] = iamReadS3Doc
		a.Groups["g1"].InlinePolicies["gi2"] = iamReadS3Doc
		a.Groups["g1"].AttachedPolicies = []string{p1, ro}
		for _, n := range []string{"r1", "r2", "r3"} {
			a.AddRole(w, n, "/", iamEC2Trust)
		}
		r1 := a.Roles["r1"]
		r1.Tags = []Tag{{"x", "1"}, {"y", "2"}}
		r1.InlinePolicies["ri1"], r1.InlinePolicies["ri2"] = iamReadS3Doc, iamReadS3Doc
		r1.AttachedPolicies = []string{admin, p1}
		p := a.AddPolicy(w, "p1", "/", iamDocVersion(1))
		p.Versions = append(p.Versions, &PolicyVersion{ID: "v2", Document: iamDocVersion(2)}, &PolicyVersion{ID: "v3", Document: iamDocVersion(3)})
		a.AddPolicy(w, "p2", "/", iamDocVersion(1))
		a.AddPolicy(w, "p3", "/", iamDocVersion(1))
		a.Aliases = []string{"acme"}
	})
	str := aws.String
	name := func(p types.AttachedPolicy) *string { return p.PolicyName }

	iamEqual(t, "ListUsers", iamStrs(drainIAM(t, iam.NewListUsersPaginator(c, &iam.ListUsersInput{}), 1,
		func(o *iam.ListUsersOutput) []types.User { return o.Users }), func(u types.User) *string { return u.UserName }),
		[]string{"gatehouse-operator", "test-admin", "u1", "u2", "u3", "u4"})
	iamEqual(t, "ListGroups", iamStrs(drainIAM(t, iam.NewListGroupsPaginator(c, &iam.ListGroupsInput{}), 1,
		func(o *iam.ListGroupsOutput) []types.Group { return o.Groups }), func(g types.Group) *string { return g.GroupName }),
		[]string{"g1", "g2", "g3"})
	iamEqual(t, "GetGroup g1", iamStrs(drainIAM(t, iam.NewGetGroupPaginator(c, &iam.GetGroupInput{GroupName: str("g1")}), 1,
		func(o *iam.GetGroupOutput) []types.User { return o.Users }), func(u types.User) *string { return u.UserName }),
		[]string{"u4", "u2", "u1", "u3"})
	iamEqual(t, "ListGroupsForUser u1", iamStrs(drainIAM(t, iam.NewListGroupsForUserPaginator(c, &iam.ListGroupsForUserInput{UserName: str("u1")}), 1,
		func(o *iam.ListGroupsForUserOutput) []types.Group { return o.Groups }), func(g types.Group) *string { return g.GroupName }),
		[]string{"g1", "g2", "g3"})
	iamEqual(t, "ListRoles", iamStrs(drainIAM(t, iam.NewListRolesPaginator(c, &iam.ListRolesInput{}), 1,
		func(o *iam.ListRolesOutput) []types.Role { return o.Roles }), func(r types.Role) *string { return r.RoleName }),
		[]string{"GatehouseConnector", "r1", "r2", "r3"})

	policyNames := func(scope types.PolicyScopeType) []string {
		return iamStrs(drainIAM(t, iam.NewListPoliciesPaginator(c, &iam.ListPoliciesInput{Scope: scope}), 1,
			func(o *iam.ListPoliciesOutput) []types.Policy { return o.Policies }), func(p types.Policy) *string { return p.PolicyName })
	}
	iamEqual(t, "ListPolicies Local", policyNames(types.PolicyScopeTypeLocal), []string{"p1", "p2", "p3"})
	var awsNames []string
	for _, p := range awsManagedPolicies {
		awsNames = append(awsNames, p.name)
	}
	sort.Strings(awsNames)
	iamEqual(t, "ListPolicies AWS", policyNames(types.PolicyScopeTypeAws), awsNames)
	iamEqual(t, "ListPolicyVersions p1", iamStrs(drainIAM(t, iam.NewListPolicyVersionsPaginator(c, &iam.ListPolicyVersionsInput{PolicyArn: str(p1)}), 1,
		func(o *iam.ListPolicyVersionsOutput) []types.PolicyVersion { return o.Versions }), func(v types.PolicyVersion) *string { return v.VersionId }),
		[]string{"v3", "v2", "v1"})
	iamEqual(t, "ListEntitiesForPolicy p1", drainIAM(t, iam.NewListEntitiesForPolicyPaginator(c, &iam.ListEntitiesForPolicyInput{PolicyArn: str(p1)}), 1,
		func(o *iam.ListEntitiesForPolicyOutput) []string {
			var out []string
			for _, g := range o.PolicyGroups {
				out = append(out, "group:"+aws.ToString(g.GroupName))
			}
			for _, u := range o.PolicyUsers {
				out = append(out, "user:"+aws.ToString(u.UserName))
			}
			for _, r := range o.PolicyRoles {
				out = append(out, "role:"+aws.ToString(r.RoleName))
			}
			return out
		}), []string{"group:g1", "user:u1", "role:r1"})

	iamEqual(t, "ListAttachedUserPolicies u1", iamStrs(drainIAM(t, iam.NewListAttachedUserPoliciesPaginator(c, &iam.ListAttachedUserPoliciesInput{UserName: str("u1")}), 1,
		func(o *iam.ListAttachedUserPoliciesOutput) []types.AttachedPolicy { return o.AttachedPolicies }), name),
		[]string{"ReadOnlyAccess", "SecurityAudit", "p1"})
	iamEqual(t, "ListAttachedGroupPolicies g1", iamStrs(drainIAM(t, iam.NewListAttachedGroupPoliciesPaginator(c, &iam.ListAttachedGroupPoliciesInput{GroupName: str("g1")}), 1,
		func(o *iam.ListAttachedGroupPoliciesOutput) []types.AttachedPolicy { return o.AttachedPolicies }), name),
		[]string{"p1", "ReadOnlyAccess"})
	iamEqual(t, "ListAttachedRolePolicies r1", iamStrs(drainIAM(t, iam.NewListAttachedRolePoliciesPaginator(c, &iam.ListAttachedRolePoliciesInput{RoleName: str("r1")}), 1,
		func(o *iam.ListAttachedRolePoliciesOutput) []types.AttachedPolicy { return o.AttachedPolicies }), name),
		[]string{"AdministratorAccess", "p1"})
	iamEqual(t, "ListUserPolicies u1", drainIAM(t, iam.NewListUserPoliciesPaginator(c, &iam.ListUserPoliciesInput{UserName: str("u1")}), 1,
		func(o *iam.ListUserPoliciesOutput) []string { return o.PolicyNames }), []string{"i1", "i2", "i3"})
	iamEqual(t, "ListGroupPolicies g1", drainIAM(t, iam.NewListGroupPoliciesPaginator(c, &iam.ListGroupPoliciesInput{GroupName: str("g1")}), 1,
		func(o *iam.ListGroupPoliciesOutput) []string { return o.PolicyNames }), []string{"gi1", "gi2"})
	iamEqual(t, "ListRolePolicies r1", drainIAM(t, iam.NewListRolePoliciesPaginator(c, &iam.ListRolePoliciesInput{RoleName: str("r1")}), 1,
		func(o *iam.ListRolePoliciesOutput) []string { return o.PolicyNames }), []string{"ri1", "ri2"})

	iamEqual(t, "ListAccessKeys u1", iamStrs(drainIAM(t, iam.NewListAccessKeysPaginator(c, &iam.ListAccessKeysInput{UserName: str("u1")}), 1,
		func(o *iam.ListAccessKeysOutput) []types.AccessKeyMetadata { return o.AccessKeyMetadata }), func(k types.AccessKeyMetadata) *string { return k.AccessKeyId }),
		keyIDs)
	iamEqual(t, "ListMFADevices u1", iamStrs(drainIAM(t, iam.NewListMFADevicesPaginator(c, &iam.ListMFADevicesInput{UserName: str("u1")}), 1,
		func(o *iam.ListMFADevicesOutput) []types.MFADevice { return o.MFADevices }), func(d types.MFADevice) *string { return d.SerialNumber }),
		mfaSerials)
	iamEqual(t, "ListVirtualMFADevices", iamStrs(drainIAM(t, iam.NewListVirtualMFADevicesPaginator(c, &iam.ListVirtualMFADevicesInput{}), 1,
		func(o *iam.ListVirtualMFADevicesOutput) []types.VirtualMFADevice { return o.VirtualMFADevices }), func(d types.VirtualMFADevice) *string { return d.SerialNumber }),
		[]string{"arn:aws:iam::111111111111:mfa/spare", "arn:aws:iam::111111111111:mfa/u1"})
	iamEqual(t, "ListAccountAliases", drainIAM(t, iam.NewListAccountAliasesPaginator(c, &iam.ListAccountAliasesInput{}), 1,
		func(o *iam.ListAccountAliasesOutput) []string { return o.AccountAliases }), []string{"acme"})
	iamEqual(t, "ListUserTags u1", iamTagPairs(drainIAM(t, iam.NewListUserTagsPaginator(c, &iam.ListUserTagsInput{UserName: str("u1")}), 1,
		func(o *iam.ListUserTagsOutput) []types.Tag { return o.Tags })), []string{"a=1", "b=2", "c=3"})
	iamEqual(t, "ListRoleTags r1", iamTagPairs(drainIAM(t, iam.NewListRoleTagsPaginator(c, &iam.ListRoleTagsInput{RoleName: str("r1")}), 1,
		func(o *iam.ListRoleTagsOutput) []types.Tag { return o.Tags })), []string{"x=1", "y=2"})
	iamEqual(t, "SimulatePrincipalPolicy u1", drainIAM(t, iam.NewSimulatePrincipalPolicyPaginator(c, &iam.SimulatePrincipalPolicyInput{
		PolicySourceArn: str("arn:aws:iam::111111111111:user/u1"), ActionNames: []string{"s3:GetObject", "iam:CreateUser"},
		ResourceArns: []string{"arn:aws:s3:::reports/a", "arn:aws:s3:::other/b"}}), 1,
		func(o *iam.SimulatePrincipalPolicyOutput) []string {
			var out []string
			for _, r := range o.EvaluationResults {
				out = append(out, aws.ToString(r.EvalActionName)+" "+aws.ToString(r.EvalResourceName)+" "+string(r.EvalDecision))
			}
			return out
		}), []string{
		"s3:GetObject arn:aws:s3:::reports/a allowed", "s3:GetObject arn:aws:s3:::other/b allowed", // ReadOnlyAccess: s3:Get* on *
		"iam:CreateUser arn:aws:s3:::reports/a implicitDeny", "iam:CreateUser arn:aws:s3:::other/b implicitDeny"})
	authDetails := drainIAM(t, iam.NewGetAccountAuthorizationDetailsPaginator(c, &iam.GetAccountAuthorizationDetailsInput{}), 1,
		func(o *iam.GetAccountAuthorizationDetailsOutput) []string { return authDetailNames(o) })
	iamEqual(t, "GetAccountAuthorizationDetails", authDetails, []string{
		"user:gatehouse-operator", "user:test-admin", "user:u1", "user:u2", "user:u3", "user:u4",
		"group:g1", "group:g2", "group:g3",
		"role:GatehouseConnector", "role:r1", "role:r2", "role:r3",
		"policy:AdministratorAccess", "policy:ReadOnlyAccess", "policy:SecurityAudit", "policy:p1", "policy:p2", "policy:p3"})

	// Bad markers and page sizes.
	_, err := c.ListUsers(ctx(t), &iam.ListUsersInput{Marker: str("not-a-marker")})
	iamCode(t, err, "ValidationError")
	first := iamOut(c.ListGroups(ctx(t), &iam.ListGroupsInput{})).must(t)
	_, err = c.ListUsers(ctx(t), &iam.ListUsersInput{Marker: first.Marker}) // another operation's marker
	iamCode(t, err, "ValidationError")
	_, err = c.ListUsers(ctx(t), &iam.ListUsersInput{MaxItems: aws.Int32(0)})
	iamCode(t, err, "ValidationError")
	_, err = c.ListUsers(ctx(t), &iam.ListUsersInput{MaxItems: aws.Int32(1001)})
	iamCode(t, err, "ValidationError")
}

// authDetailNames lists the entities of a GetAccountAuthorizationDetails page.
func authDetailNames(o *iam.GetAccountAuthorizationDetailsOutput) []string {
	var out []string
	for _, u := range o.UserDetailList {
		out = append(out, "user:"+aws.ToString(u.UserName))
	}
	for _, g := range o.GroupDetailList {
		out = append(out, "group:"+aws.ToString(g.GroupName))
	}
	for _, r := range o.RoleDetailList {
		out = append(out, "role:"+aws.ToString(r.RoleName))
	}
	for _, p := range o.Policies {
		out = append(out, "policy:"+aws.ToString(p.PolicyName))
	}
	return out
}
