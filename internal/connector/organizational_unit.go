package connector

import (
	"context"

	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/types/resource"

	"github.com/gatehouse/gatehouse/internal/inventory"
)

// organizationalUnitSyncer lists the organization tree: roots without a parent, each OU
// under its parent unit. Units carry ChildResourceType annotations for OUs and accounts, so
// baton walks the tree from the roots down and lists every account under its unit.
type organizationalUnitSyncer struct{ c *Connector }

func (s *organizationalUnitSyncer) ResourceType(context.Context) *v2.ResourceType {
	return organizationalUnitResourceType
}

func (s *organizationalUnitSyncer) List(ctx context.Context, parent *v2.ResourceId, opts resource.SyncOpAttrs) ([]*v2.Resource, *resource.SyncOpResults, error) {
	x, err := s.c.index(ctx)
	if err != nil {
		return nil, nil, err
	}
	key := ""
	if parent != nil {
		if parent.GetResourceType() != TypeOrganizationalUnit {
			return nil, &resource.SyncOpResults{}, nil
		}
		key = parent.GetResource()
	}
	units := x.unitsUnder[key]
	list, next, err := pageResources(s.c, opts.PageToken, len(units), func(i int) (*v2.Resource, error) {
		return x.unitResource(units[i])
	})
	return list, &resource.SyncOpResults{NextPageToken: next}, err
}

func (x *index) unitResource(u *inventory.OrgUnit) (*v2.Resource, error) {
	p := profile{"unit_id": u.ID, "root": u.IsRoot}
	p.str("arn", u.ARN)
	p.str("name", u.Name)
	p.str("path", u.Path)
	p.str("parent_id", u.ParentID)
	opts := []resource.ResourceOption{
		resource.WithResourceProfile(p),
		resource.WithAnnotation(childTypes(TypeOrganizationalUnit, TypeAccount)...),
	}
	if parent := x.unitParent[u.ID]; parent != "" {
		opts = append(opts, resource.WithParentResourceID(resourceID(TypeOrganizationalUnit, parent)))
	}
	if u.Path != "" {
		opts = append(opts, resource.WithDescription(u.Path))
	}
	name := u.Name
	if name == "" {
		name = u.ID
	}
	return resource.NewResource(name, organizationalUnitResourceType, u.ID, opts...)
}

// Entitlements: units grant nothing themselves (service control policies are out of scope).
func (s *organizationalUnitSyncer) Entitlements(context.Context, *v2.Resource, resource.SyncOpAttrs) ([]*v2.Entitlement, *resource.SyncOpResults, error) {
	return nil, &resource.SyncOpResults{}, nil
}

func (s *organizationalUnitSyncer) Grants(context.Context, *v2.Resource, resource.SyncOpAttrs) ([]*v2.Grant, *resource.SyncOpResults, error) {
	return nil, &resource.SyncOpResults{}, nil
}
