package connector

import (
	"context"
	"strings"

	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/types/resource"

	"github.com/gatehouse/gatehouse/internal/inventory"
)

// ssoUserSyncer lists the users of the Identity Center identity store. They belong to the
// organization as a whole, not to an account, so they have no parent.
//
// Status: the Identity Store API's UserStatus (ENABLED or DISABLED), or SCIM's active
// where that API did not report it. A user whose status is not known (SCIM not
// configured, its token rejected, or SCIM did not return the user) is unspecified, with
// a detail saying why, rather than a default of "enabled" or "disabled" that a reviewer
// would take for a fact.
type ssoUserSyncer struct{ c *Connector }

func (s *ssoUserSyncer) ResourceType(context.Context) *v2.ResourceType { return ssoUserResourceType }

func (s *ssoUserSyncer) List(ctx context.Context, parent *v2.ResourceId, opts resource.SyncOpAttrs) ([]*v2.Resource, *resource.SyncOpResults, error) {
	x, err := s.c.index(ctx)
	if err != nil {
		return nil, nil, err
	}
	if parent != nil || x.ic == nil {
		return nil, &resource.SyncOpResults{}, nil
	}
	users := x.ic.users
	list, next, err := pageResources(s.c, opts.PageToken, len(users), func(i int) (*v2.Resource, error) {
		return x.ic.ssoUserResource(users[i])
	})
	return list, &resource.SyncOpResults{NextPageToken: next}, err
}

func (x *identityCenterIndex) ssoUserResource(u *inventory.SSOUser) (*v2.Resource, error) {
	status, details := v2.Status_RESOURCE_STATUS_UNSPECIFIED, u.StatusNote
	switch u.Status {
	case inventory.UserEnabled:
		status, details = v2.Status_RESOURCE_STATUS_ENABLED, ""
	case inventory.UserDisabled:
		status, details = v2.Status_RESOURCE_STATUS_DISABLED, "disabled in Identity Center"
	default:
		if details == "" {
			details = "unknown: not reported"
		}
	}

	p := profile{"user_id": u.ID, "identity_store_id": x.ic.IdentityStoreID}
	p.str("user_name", u.UserName)
	p.str("display_name", u.DisplayName)
	p.str("given_name", u.GivenName)
	p.str("family_name", u.FamilyName)
	p.str("email", u.Email)
	if u.Status != "" {
		p["status"] = strings.ToLower(u.Status)
		p["status_source"] = u.StatusSource
		p["active"] = u.Status == inventory.UserEnabled
	} else {
		p["status"] = "unknown"
		p["status_source"] = "none"
		p.str("status_note", details)
	}
	p.strs("groups", x.userGroups[u.ID])
	x.enterpriseProfile(p, u)

	traitOpts := []resource.UserTraitOption{
		resource.WithUserLogin(u.UserName),
		resource.WithEmail(u.Email, true),
		// Set explicitly because the trait's deprecated status otherwise defaults to enabled.
		resource.WithDetailedStatus(v2.UserTrait_Status_Status(status), details), //nolint:staticcheck // readers of older c1z files use it
	}
	if u.GivenName != "" || u.FamilyName != "" {
		traitOpts = append(traitOpts, resource.WithStructuredName(v2.UserTrait_StructuredName_builder{
			GivenName:  u.GivenName,
			FamilyName: u.FamilyName,
		}.Build()))
	}
	return resource.NewUserResource(ssoUserName(u), ssoUserResourceType, u.ID, traitOpts,
		resource.WithResourceProfile(p),
		resource.WithResourceStatus(status, details),
	)
}

// enterpriseProfile adds the user's title and enterprise attributes: manager_id (the
// manager's Identity Center user id, as AWS gives it) and, when the manager is a user of
// the same identity store, manager_email and manager_name, resolved within the users the
// sync read (no call of its own); then department, division, organization, cost_center
// and employee_number. Approval policies' "the requester's manager" reads manager_email,
// or manager_id when the manager has no email (docs/jit.md).
func (x *identityCenterIndex) enterpriseProfile(p profile, u *inventory.SSOUser) {
	p.str("title", u.Title)
	if u.ManagerID != "" {
		p["manager_id"] = u.ManagerID
		if m := x.userByID[u.ManagerID]; m != nil && m.ID != u.ID {
			p.str("manager_email", m.Email)
			p["manager_name"] = ssoUserName(m)
		}
	}
	p.str("department", u.Department)
	p.str("division", u.Division)
	p.str("organization", u.Organization)
	p.str("cost_center", u.CostCenter)
	p.str("employee_number", u.EmployeeNumber)
}

func ssoUserName(u *inventory.SSOUser) string {
	if u.DisplayName != "" {
		return u.DisplayName
	}
	if n := strings.TrimSpace(u.GivenName + " " + u.FamilyName); n != "" {
		return n
	}
	if u.UserName != "" {
		return u.UserName
	}
	return u.ID
}

func (s *ssoUserSyncer) Entitlements(context.Context, *v2.Resource, resource.SyncOpAttrs) ([]*v2.Entitlement, *resource.SyncOpResults, error) {
	return nil, &resource.SyncOpResults{}, nil
}

func (s *ssoUserSyncer) Grants(context.Context, *v2.Resource, resource.SyncOpAttrs) ([]*v2.Grant, *resource.SyncOpResults, error) {
	return nil, &resource.SyncOpResults{}, nil
}
