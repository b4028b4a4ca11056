package connector

import (
	"context"

	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/annotations"
	"github.com/conductorone/baton-sdk/pkg/types/entitlement"
	"github.com/conductorone/baton-sdk/pkg/types/resource"

	"github.com/gatehouse/gatehouse/internal/awsprovision"
	"github.com/gatehouse/gatehouse/internal/inventory"
)

// iamGroupSyncer lists the IAM groups of each synced account, under the account. Its member
// entitlement is held by IAM users of the same account (IAM groups cannot hold users of
// another account). Grant and Revoke add and remove members, in the group's account.
type iamGroupSyncer struct{ c *Connector }

func (s *iamGroupSyncer) ResourceType(context.Context) *v2.ResourceType { return iamGroupResourceType }

func (s *iamGroupSyncer) List(ctx context.Context, parent *v2.ResourceId, opts resource.SyncOpAttrs) ([]*v2.Resource, *resource.SyncOpResults, error) {
	_, ai, err := s.c.accountIAM(ctx, parent)
	if err != nil || ai == nil {
		return nil, &resource.SyncOpResults{}, err
	}
	list, next, err := pageResources(s.c, opts.PageToken, len(ai.groups), func(i int) (*v2.Resource, error) {
		return iamGroupResource(ai, ai.groups[i])
	})
	return list, &resource.SyncOpResults{NextPageToken: next}, err
}

func iamGroupResource(ai *accountIAM, g *inventory.Group) (*v2.Resource, error) {
	p := profile{"arn": g.ARN, "account_id": ai.account.ID, "member_count": len(ai.groupMembers[g.Name])}
	p.str("group_id", g.ID)
	p.str("group_name", g.Name)
	p.str("path", g.Path)
	p.time("created", g.CreatedAt)
	p.strs("attached_policies", dedupe(g.AttachedPolicies))
	p.strs("inline_policies", inlinePolicyNames(g.InlinePolicies))
	opts := []resource.ResourceOption{
		resource.WithResourceProfile(p),
		resource.WithParentResourceID(resourceID(TypeAccount, ai.account.ID)),
	}
	if !g.CreatedAt.IsZero() {
		opts = append(opts, resource.WithResourceCreatedAt(g.CreatedAt))
	}
	return resource.NewGroupResource(g.Name, iamGroupResourceType, g.ARN, nil, opts...)
}

func (s *iamGroupSyncer) Entitlements(ctx context.Context, r *v2.Resource, opts resource.SyncOpAttrs) ([]*v2.Entitlement, *resource.SyncOpResults, error) {
	return []*v2.Entitlement{
		entitlement.NewAssignmentEntitlement(r, EntitlementMember,
			entitlement.WithDisplayName(r.GetDisplayName()+" member"),
			entitlement.WithDescription("Member of the IAM group "+r.GetDisplayName()),
			entitlement.WithGrantableTo(iamUserResourceType),
		),
	}, &resource.SyncOpResults{}, nil
}

func (s *iamGroupSyncer) Grants(ctx context.Context, r *v2.Resource, opts resource.SyncOpAttrs) ([]*v2.Grant, *resource.SyncOpResults, error) {
	x, err := s.c.index(ctx)
	if err != nil {
		return nil, nil, err
	}
	var members []*inventory.User
	if ref, ok := x.groupByARN[r.GetId().GetResource()]; ok {
		members = ref.ai.groupMembers[ref.group.Name]
	}
	w, err := s.c.window(opts.PageToken, len(members))
	if err != nil {
		return nil, nil, err
	}
	out := make([]*v2.Grant, 0, w.end-w.start)
	for _, u := range members[w.start:w.end] {
		out = append(out, newGrant(r, EntitlementMember, principalRef{TypeIAMUser, u.ARN}))
	}
	return out, &resource.SyncOpResults{NextPageToken: w.next}, nil
}

// Grant makes the IAM user a member of the group.
func (s *iamGroupSyncer) Grant(ctx context.Context, principal *v2.Resource, e *v2.Entitlement) ([]*v2.Grant, annotations.Annotations, error) {
	return s.c.grant(ctx, principal, e)
}

// Revoke removes the IAM user from the group.
func (s *iamGroupSyncer) Revoke(ctx context.Context, g *v2.Grant) (annotations.Annotations, error) {
	return s.c.revoke(ctx, g)
}

// iamGroupAccess is the membership the member entitlement of a group stands for; both
// ids are ARNs, which carry the account.
func iamGroupAccess(ent EntitlementRef, userARN string) awsprovision.Access {
	return awsprovision.IAMGroupMembership{GroupARN: ent.ResourceID, UserARN: userARN}
}
