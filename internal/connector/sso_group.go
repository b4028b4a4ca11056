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

// ssoGroupSyncer lists the groups of the Identity Center identity store, without a parent.
// Its member entitlement is held by Identity Center users; account assignments to a group
// expand through it. Grant and Revoke add and remove members in the identity store.
type ssoGroupSyncer struct{ c *Connector }

func (s *ssoGroupSyncer) ResourceType(context.Context) *v2.ResourceType { return ssoGroupResourceType }

func (s *ssoGroupSyncer) List(ctx context.Context, parent *v2.ResourceId, opts resource.SyncOpAttrs) ([]*v2.Resource, *resource.SyncOpResults, error) {
	x, err := s.c.index(ctx)
	if err != nil {
		return nil, nil, err
	}
	if parent != nil || x.ic == nil {
		return nil, &resource.SyncOpResults{}, nil
	}
	groups := x.ic.groups
	list, next, err := pageResources(s.c, opts.PageToken, len(groups), func(i int) (*v2.Resource, error) {
		return x.ic.ssoGroupResource(groups[i])
	})
	return list, &resource.SyncOpResults{NextPageToken: next}, err
}

func (x *identityCenterIndex) ssoGroupResource(g *inventory.SSOGroup) (*v2.Resource, error) {
	p := profile{"group_id": g.ID, "identity_store_id": x.ic.IdentityStoreID, "member_count": len(x.members[g.ID])}
	p.str("display_name", g.DisplayName)
	p.str("description", g.Description)
	opts := []resource.ResourceOption{resource.WithResourceProfile(p)}
	if g.Description != "" {
		opts = append(opts, resource.WithDescription(g.Description))
	}
	name := g.DisplayName
	if name == "" {
		name = g.ID
	}
	return resource.NewGroupResource(name, ssoGroupResourceType, g.ID, nil, opts...)
}

func (s *ssoGroupSyncer) Entitlements(ctx context.Context, r *v2.Resource, opts resource.SyncOpAttrs) ([]*v2.Entitlement, *resource.SyncOpResults, error) {
	return []*v2.Entitlement{
		entitlement.NewAssignmentEntitlement(r, EntitlementMember,
			entitlement.WithDisplayName(r.GetDisplayName()+" member"),
			entitlement.WithDescription("Member of the Identity Center group "+r.GetDisplayName()),
			entitlement.WithGrantableTo(ssoUserResourceType),
		),
	}, &resource.SyncOpResults{}, nil
}

func (s *ssoGroupSyncer) Grants(ctx context.Context, r *v2.Resource, opts resource.SyncOpAttrs) ([]*v2.Grant, *resource.SyncOpResults, error) {
	x, err := s.c.index(ctx)
	if err != nil {
		return nil, nil, err
	}
	if x.ic == nil {
		return nil, &resource.SyncOpResults{}, nil
	}
	members := x.ic.members[r.GetId().GetResource()]
	w, err := s.c.window(opts.PageToken, len(members))
	if err != nil {
		return nil, nil, err
	}
	out := make([]*v2.Grant, 0, w.end-w.start)
	for _, uid := range members[w.start:w.end] {
		out = append(out, newGrant(r, EntitlementMember, principalRef{TypeSSOUser, uid}))
	}
	return out, &resource.SyncOpResults{NextPageToken: w.next}, nil
}

// Grant makes the Identity Center user a member of the group.
func (s *ssoGroupSyncer) Grant(ctx context.Context, principal *v2.Resource, e *v2.Entitlement) ([]*v2.Grant, annotations.Annotations, error) {
	return s.c.grant(ctx, principal, e)
}

// Revoke removes the Identity Center user from the group.
func (s *ssoGroupSyncer) Revoke(ctx context.Context, g *v2.Grant) (annotations.Annotations, error) {
	return s.c.revoke(ctx, g)
}

// ssoGroupAccess is the membership the member entitlement of a group stands for.
func ssoGroupAccess(ent EntitlementRef, userID string) awsprovision.Access {
	return awsprovision.SSOGroupMembership{GroupID: ent.ResourceID, UserID: userID}
}
