package connector

import (
	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/annotations"
	"google.golang.org/protobuf/proto"
)

// Resource type ids. They are part of the .c1z contract (entitlement and grant ids embed
// them), so they never change spelling.
const (
	TypeAccount            = "account"
	TypeOrganizationalUnit = "organizational_unit"
	TypeIAMUser            = "iam_user"
	TypeIAMGroup           = "iam_group"
	TypeIAMRole            = "iam_role"
	TypeIAMPolicy          = "iam_policy"
	TypeAccessKey          = "access_key"
	TypeSSOUser            = "sso_user"
	TypeSSOGroup           = "sso_group"
	TypePermissionSet      = "permission_set"
)

// Entitlement slugs of the resource types whose entitlements are fixed. Account
// entitlements are one per permission set; their slug is the permission set's id.
const (
	EntitlementMember   = "member"   // iam_group and sso_group membership
	EntitlementAttached = "attached" // iam_policy attachment
)

// Types that never have entitlements carry SkipEntitlementsAndGrants, so the syncer does
// not make two empty calls for each of their (possibly many thousand) resources.
var skipEntitlementsAndGrants = annotations.New(&v2.SkipEntitlementsAndGrants{})

var (
	accountResourceType = v2.ResourceType_builder{
		Id:          TypeAccount,
		DisplayName: "AWS Account",
		Description: "An AWS account; its entitlements are the Identity Center permission sets that can be assigned in it.",
		Traits:      []v2.ResourceType_Trait{v2.ResourceType_TRAIT_APP},
	}.Build()

	organizationalUnitResourceType = v2.ResourceType_builder{
		Id:          TypeOrganizationalUnit,
		DisplayName: "Organizational Unit",
		Description: "An AWS Organizations root or organizational unit.",
		Annotations: skipEntitlementsAndGrants,
	}.Build()

	iamUserResourceType = v2.ResourceType_builder{
		Id:          TypeIAMUser,
		DisplayName: "IAM User",
		Description: "An IAM user of one account, with its credential report.",
		Traits:      []v2.ResourceType_Trait{v2.ResourceType_TRAIT_USER},
		Annotations: skipEntitlementsAndGrants,
	}.Build()

	iamGroupResourceType = v2.ResourceType_builder{
		Id:          TypeIAMGroup,
		DisplayName: "IAM Group",
		Description: "An IAM group of one account; its member entitlement is held by IAM users.",
		Traits:      []v2.ResourceType_Trait{v2.ResourceType_TRAIT_GROUP},
	}.Build()

	iamRoleResourceType = v2.ResourceType_builder{
		Id:          TypeIAMRole,
		DisplayName: "IAM Role",
		Description: "An IAM role of one account, with its trust policy.",
		Traits:      []v2.ResourceType_Trait{v2.ResourceType_TRAIT_ROLE},
		Annotations: skipEntitlementsAndGrants,
	}.Build()

	iamPolicyResourceType = v2.ResourceType_builder{
		Id:          TypeIAMPolicy,
		DisplayName: "IAM Policy",
		Description: "A customer-managed policy, an AWS-managed policy attached somewhere, or the inline policy of a user, group or role; its attached entitlement is held by users, groups and roles.",
	}.Build()

	accessKeyResourceType = v2.ResourceType_builder{
		Id:          TypeAccessKey,
		DisplayName: "IAM Access Key",
		Description: "An IAM user's access key (its id and usage, never its secret).",
		Traits:      []v2.ResourceType_Trait{v2.ResourceType_TRAIT_SECRET},
		Annotations: skipEntitlementsAndGrants,
	}.Build()

	ssoUserResourceType = v2.ResourceType_builder{
		Id:          TypeSSOUser,
		DisplayName: "Identity Center User",
		Description: "A user of the IAM Identity Center identity store.",
		Traits:      []v2.ResourceType_Trait{v2.ResourceType_TRAIT_USER},
		Annotations: skipEntitlementsAndGrants,
	}.Build()

	ssoGroupResourceType = v2.ResourceType_builder{
		Id:          TypeSSOGroup,
		DisplayName: "Identity Center Group",
		Description: "A group of the IAM Identity Center identity store; its member entitlement is held by Identity Center users.",
		Traits:      []v2.ResourceType_Trait{v2.ResourceType_TRAIT_GROUP},
	}.Build()

	permissionSetResourceType = v2.ResourceType_builder{
		Id:          TypePermissionSet,
		DisplayName: "Permission Set",
		Description: "An IAM Identity Center permission set; it is assigned through the account entitlements.",
		Traits:      []v2.ResourceType_Trait{v2.ResourceType_TRAIT_ROLE},
		Annotations: skipEntitlementsAndGrants,
	}.Build()
)

// childTypes returns the ChildResourceType annotations for the given types, so that the
// syncer lists those types under a resource (and only there).
func childTypes(typeIDs ...string) []proto.Message {
	msgs := make([]proto.Message, 0, len(typeIDs))
	for _, id := range typeIDs {
		msgs = append(msgs, v2.ChildResourceType_builder{ResourceTypeId: id}.Build())
	}
	return msgs
}
