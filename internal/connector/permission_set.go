package connector

import (
	"context"

	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/types/resource"

	"github.com/gatehouse/gatehouse/internal/inventory"
)

// permissionSetSyncer lists Identity Center permission sets, without a parent. A permission
// set grants nothing by itself: it is assigned to a principal in an account, and those
// assignments are the entitlements and grants of the account resources. The permission set
// resource carries what it allows (its policies) and where it is provisioned.
type permissionSetSyncer struct{ c *Connector }

func (s *permissionSetSyncer) ResourceType(context.Context) *v2.ResourceType {
	return permissionSetResourceType
}

func (s *permissionSetSyncer) List(ctx context.Context, parent *v2.ResourceId, opts resource.SyncOpAttrs) ([]*v2.Resource, *resource.SyncOpResults, error) {
	x, err := s.c.index(ctx)
	if err != nil {
		return nil, nil, err
	}
	if parent != nil || x.ic == nil {
		return nil, &resource.SyncOpResults{}, nil
	}
	sets := x.ic.permissionSets
	list, next, err := pageResources(s.c, opts.PageToken, len(sets), func(i int) (*v2.Resource, error) {
		return x.ic.permissionSetResource(sets[i])
	})
	return list, &resource.SyncOpResults{NextPageToken: next}, err
}

func (x *identityCenterIndex) permissionSetResource(ps *inventory.PermissionSet) (*v2.Resource, error) {
	p := profile{"arn": ps.ARN, "permission_set_id": PermissionSetSlug(ps.ARN), "instance_arn": x.ic.InstanceARN}
	p.str("name", ps.Name)
	p.str("description", ps.Description)
	p.str("session_duration", ps.SessionDuration)
	p.time("created", ps.CreatedAt)
	p.strs("managed_policies", dedupe(ps.ManagedPolicies))
	p.strs("customer_managed_policies", dedupe(ps.CustomerManagedPolicies))
	p.str("inline_policy", ps.InlinePolicy)
	p.strs("provisioned_to_accounts", x.provisionedTo[ps.ARN])
	opts := []resource.ResourceOption{resource.WithResourceProfile(p)}
	if ps.Description != "" {
		opts = append(opts, resource.WithDescription(ps.Description))
	}
	if !ps.CreatedAt.IsZero() {
		opts = append(opts, resource.WithResourceCreatedAt(ps.CreatedAt))
	}
	name := ps.Name
	if name == "" {
		name = PermissionSetSlug(ps.ARN)
	}
	return resource.NewRoleResource(name, permissionSetResourceType, ps.ARN, nil, opts...)
}

func (s *permissionSetSyncer) Entitlements(context.Context, *v2.Resource, resource.SyncOpAttrs) ([]*v2.Entitlement, *resource.SyncOpResults, error) {
	return nil, &resource.SyncOpResults{}, nil
}

func (s *permissionSetSyncer) Grants(context.Context, *v2.Resource, resource.SyncOpAttrs) ([]*v2.Grant, *resource.SyncOpResults, error) {
	return nil, &resource.SyncOpResults{}, nil
}
