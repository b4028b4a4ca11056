package connector

import (
	"context"

	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/types/resource"

	"github.com/gatehouse/gatehouse/internal/inventory"
)

// iamRoleSyncer lists the IAM roles of each synced account, under the account. Who may
// assume a role is written in its trust policy, which is kept verbatim on the profile:
// principals there may be other accounts, services or federated identities that are not
// resources of this connector, so they are not modelled as grants. The roles Identity
// Center creates for a permission set are linked to it (profile permission_set_arn).
type iamRoleSyncer struct{ c *Connector }

func (s *iamRoleSyncer) ResourceType(context.Context) *v2.ResourceType { return iamRoleResourceType }

func (s *iamRoleSyncer) List(ctx context.Context, parent *v2.ResourceId, opts resource.SyncOpAttrs) ([]*v2.Resource, *resource.SyncOpResults, error) {
	x, ai, err := s.c.accountIAM(ctx, parent)
	if err != nil || ai == nil {
		return nil, &resource.SyncOpResults{}, err
	}
	list, next, err := pageResources(s.c, opts.PageToken, len(ai.roles), func(i int) (*v2.Resource, error) {
		return x.iamRoleResource(ai, ai.roles[i])
	})
	return list, &resource.SyncOpResults{NextPageToken: next}, err
}

func (x *index) iamRoleResource(ai *accountIAM, r *inventory.Role) (*v2.Resource, error) {
	p := profile{"arn": r.ARN, "account_id": ai.account.ID}
	p.str("role_id", r.ID)
	p.str("role_name", r.Name)
	p.str("path", r.Path)
	p.str("description", r.Description)
	p.str("trust_policy", r.TrustPolicy)
	if r.MaxSessionDuration > 0 {
		p["max_session_duration"] = int(r.MaxSessionDuration)
	}
	p.time("created", r.CreatedAt)
	p.tags("tags", r.Tags)
	p.strs("attached_policies", dedupe(r.AttachedPolicies))
	p.strs("inline_policies", inlinePolicyNames(r.InlinePolicies))
	p.str("permissions_boundary", r.PermissionsBoundary)
	p.time("last_used", r.LastUsedAt)
	p.str("last_used_region", r.LastUsedRegion)
	if arn := x.reservedRoles[r.ARN]; arn != "" {
		p["permission_set_arn"] = arn
		if ps := x.ic.psByARN[arn]; ps != nil {
			p.str("permission_set_name", ps.Name)
		}
	}
	opts := []resource.ResourceOption{
		resource.WithResourceProfile(p),
		resource.WithParentResourceID(resourceID(TypeAccount, ai.account.ID)),
	}
	if r.Description != "" {
		opts = append(opts, resource.WithDescription(r.Description))
	}
	if !r.CreatedAt.IsZero() {
		opts = append(opts, resource.WithResourceCreatedAt(r.CreatedAt))
	}
	return resource.NewRoleResource(r.Name, iamRoleResourceType, r.ARN, nil, opts...)
}

func (s *iamRoleSyncer) Entitlements(context.Context, *v2.Resource, resource.SyncOpAttrs) ([]*v2.Entitlement, *resource.SyncOpResults, error) {
	return nil, &resource.SyncOpResults{}, nil
}

func (s *iamRoleSyncer) Grants(context.Context, *v2.Resource, resource.SyncOpAttrs) ([]*v2.Grant, *resource.SyncOpResults, error) {
	return nil, &resource.SyncOpResults{}, nil
}
