package connector

import (
	"context"
	"strings"

	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/annotations"
	"github.com/conductorone/baton-sdk/pkg/types/entitlement"
	"github.com/conductorone/baton-sdk/pkg/types/resource"

	"github.com/gatehouse/gatehouse/internal/awsprovision"
	"github.com/gatehouse/gatehouse/internal/inventory"
)

// accountSyncer lists AWS accounts. An account's entitlements are the Identity Center
// permission sets, all of them: any permission set can be assigned in any account, so each
// one can be requested even before anybody holds it. Its grants are the account
// assignments, which Grant and Revoke create and delete in Identity Center.
type accountSyncer struct{ c *Connector }

func (s *accountSyncer) ResourceType(context.Context) *v2.ResourceType { return accountResourceType }

// List lists the accounts of one organizational unit, or, without a parent, the accounts
// that have none (every account when Organizations support is off), so that each account is
// listed exactly once.
func (s *accountSyncer) List(ctx context.Context, parent *v2.ResourceId, opts resource.SyncOpAttrs) ([]*v2.Resource, *resource.SyncOpResults, error) {
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
	accounts := x.accountsUnder[key]
	list, next, err := pageResources(s.c, opts.PageToken, len(accounts), func(i int) (*v2.Resource, error) {
		return x.accountResource(accounts[i])
	})
	return list, &resource.SyncOpResults{NextPageToken: next}, err
}

func (x *index) accountResource(a *inventory.Account) (*v2.Resource, error) {
	p := profile{"account_id": a.ID, "synced": a.Synced}
	p.str("arn", a.ARN)
	p.str("name", a.Name)
	p.str("email", a.Email)
	p.str("status", a.Status)
	p.str("ou_path", a.OUPath)
	p.str("parent_id", a.ParentID)
	p.str("skip_reason", a.SkipReason)
	p.time("joined_at", a.JoinedAt)
	p.strs("aliases", a.Aliases)
	if org := x.snap.Org; org != nil && org.ManagementAccountID == a.ID {
		p["management_account"] = true
	}
	if ai := x.iam[a.ID]; ai != nil {
		p.str("credential_report_error", a.IAM.CredentialReportError)
		// The report can be up to four hours old: say as of when its data is.
		p.time("credential_report_generated_at", a.IAM.CredentialReportGeneratedAt)
		if root := ai.rootReport; root != nil {
			// The root user is not an IAM user resource, but its hygiene is the first thing
			// an auditor asks about, so the account carries it.
			p["root_mfa_active"] = root.MFAActive
			p.time("root_password_last_used", root.PasswordLastUsed)
			active := 0
			for _, k := range root.AccessKeys {
				if k.Active {
					active++
				}
			}
			p["root_active_access_keys"] = active
			// Each root key's columns: root used recently (finding 1.7) reads their last use.
			var keys []map[string]any
			for i, k := range root.AccessKeys {
				if !k.Active && k.LastRotated.IsZero() {
					continue // no such key
				}
				m := profile{"slot": i + 1, "active": k.Active}
				m.time("last_rotated", k.LastRotated)
				m.time("last_used", k.LastUsed)
				m.str("last_used_service", k.LastUsedService)
				m.str("last_used_region", k.LastUsedRegion)
				keys = append(keys, m)
			}
			p.list("root_access_keys", keys)
		}
		iam := a.IAM
		// GetAccountSummary, read with the sync (fresher than the report): whether the
		// root user has MFA and access keys.
		if rs := iam.RootSummary; rs != nil {
			p["account_mfa_enabled"] = rs.MFAEnabled
			p["account_access_keys_present"] = rs.AccessKeysPresent
		}
		// The root user's virtual MFA devices (ListVirtualMFADevices): a root MFA that is not
		// among them is a hardware device. The count is always written for a synced account
		// so that "none" is told apart from "not read".
		p["root_virtual_mfa_count"] = len(iam.RootVirtualMFA)
		p.strs("root_virtual_mfa_devices", iam.RootVirtualMFA)
		p.str("password_policy_state", iam.PasswordPolicyState)
		p.str("password_policy_error", iam.PasswordPolicyError)
		if pp := iam.PasswordPolicy; pp != nil {
			m := map[string]any{
				"minimum_password_length":        pp.MinimumPasswordLength,
				"require_symbols":                pp.RequireSymbols,
				"require_numbers":                pp.RequireNumbers,
				"require_uppercase_characters":   pp.RequireUppercaseCharacters,
				"require_lowercase_characters":   pp.RequireLowercaseCharacters,
				"allow_users_to_change_password": pp.AllowUsersToChangePassword,
				"expire_passwords":               pp.ExpirePasswords,
				"hard_expiry":                    pp.HardExpiry,
			}
			if pp.PasswordReusePrevention > 0 {
				m["password_reuse_prevention"] = pp.PasswordReusePrevention
			}
			if pp.MaxPasswordAge > 0 {
				m["max_password_age"] = pp.MaxPasswordAge
			}
			p["password_policy"] = m
		}
	}

	opts := []resource.ResourceOption{
		resource.WithResourceProfile(p),
		resource.WithResourceStatus(accountStatus(a.Status), a.Status),
	}
	if parent := x.accountParent[a.ID]; parent != "" {
		opts = append(opts, resource.WithParentResourceID(resourceID(TypeOrganizationalUnit, parent)))
	}
	if x.iam[a.ID] != nil {
		children := []string{TypeIAMUser, TypeIAMGroup, TypeIAMRole, TypeIAMPolicy}
		if x.features.AccessKeys {
			children = append(children, TypeAccessKey)
		}
		opts = append(opts, resource.WithAnnotation(childTypes(children...)...))
	}
	if a.OUPath != "" {
		opts = append(opts, resource.WithDescription(a.OUPath))
	}
	return resource.NewAppResource(accountName(a), accountResourceType, a.ID, nil, opts...)
}

func accountName(a *inventory.Account) string {
	if a.Name != "" {
		return a.Name
	}
	return a.ID
}

func accountStatus(s string) v2.Status_ResourceStatus {
	switch s {
	case "ACTIVE":
		return v2.Status_RESOURCE_STATUS_ENABLED
	case "SUSPENDED", "PENDING_CLOSURE", "CLOSED":
		return v2.Status_RESOURCE_STATUS_DISABLED
	default:
		return v2.Status_RESOURCE_STATUS_UNSPECIFIED
	}
}

// PermissionSetSlug is the slug of the account entitlement for a permission set: the
// permission set's id (ps-...), the last element of its ARN. It is unique within an Identity
// Center instance and, unlike the name, never changes.
func PermissionSetSlug(permissionSetARN string) string {
	if i := strings.LastIndex(permissionSetARN, "/"); i >= 0 && i+1 < len(permissionSetARN) {
		return permissionSetARN[i+1:]
	}
	return permissionSetARN
}

// AccountEntitlementID is the id of the entitlement "permission set in account".
func AccountEntitlementID(accountID, permissionSetARN string) string {
	return entitlementID(TypeAccount, accountID, PermissionSetSlug(permissionSetARN))
}

func (s *accountSyncer) Entitlements(ctx context.Context, r *v2.Resource, opts resource.SyncOpAttrs) ([]*v2.Entitlement, *resource.SyncOpResults, error) {
	x, err := s.c.index(ctx)
	if err != nil {
		return nil, nil, err
	}
	if x.ic == nil {
		return nil, &resource.SyncOpResults{}, nil
	}
	name := r.GetDisplayName()
	if a := x.accountByID[r.GetId().GetResource()]; a != nil {
		name = accountName(a)
	}
	sets := x.ic.permissionSets
	w, err := s.c.window(opts.PageToken, len(sets))
	if err != nil {
		return nil, nil, err
	}
	out := make([]*v2.Entitlement, 0, w.end-w.start)
	for _, ps := range sets[w.start:w.end] {
		out = append(out, entitlement.NewAssignmentEntitlement(r, PermissionSetSlug(ps.ARN),
			entitlement.WithDisplayName(ps.Name+" on "+name),
			entitlement.WithDescription(ps.Description),
			entitlement.WithGrantableTo(ssoUserResourceType, ssoGroupResourceType),
		))
	}
	return out, &resource.SyncOpResults{NextPageToken: w.next}, nil
}

// Grants lists the account's assignments. A group's grant is expandable to the group's
// member entitlement: baton then grants the permission set to each member as well, which is
// what a user reaching the account through a group amounts to.
func (s *accountSyncer) Grants(ctx context.Context, r *v2.Resource, opts resource.SyncOpAttrs) ([]*v2.Grant, *resource.SyncOpResults, error) {
	x, err := s.c.index(ctx)
	if err != nil {
		return nil, nil, err
	}
	if x.ic == nil {
		return nil, &resource.SyncOpResults{}, nil
	}
	assignments := x.ic.assignments[r.GetId().GetResource()]
	w, err := s.c.window(opts.PageToken, len(assignments))
	if err != nil {
		return nil, nil, err
	}
	out := make([]*v2.Grant, 0, w.end-w.start)
	for _, as := range assignments[w.start:w.end] {
		p := x.ic.principal(as.PrincipalType, as.PrincipalID)
		slug := PermissionSetSlug(as.PermissionSetARN)
		if p.typ == TypeSSOGroup {
			out = append(out, newGrant(r, slug, p, expandableTo(entitlementID(TypeSSOGroup, p.id, EntitlementMember))))
			continue
		}
		out = append(out, newGrant(r, slug, p))
	}
	return out, &resource.SyncOpResults{NextPageToken: w.next}, nil
}

// Grant assigns the permission set in the account to the Identity Center user or group,
// waiting until AWS reports the assignment SUCCEEDED.
func (s *accountSyncer) Grant(ctx context.Context, principal *v2.Resource, e *v2.Entitlement) ([]*v2.Grant, annotations.Annotations, error) {
	return s.c.grant(ctx, principal, e)
}

// Revoke deletes the account assignment, waiting until AWS reports it SUCCEEDED.
func (s *accountSyncer) Revoke(ctx context.Context, g *v2.Grant) (annotations.Annotations, error) {
	return s.c.revoke(ctx, g)
}

// accountAccess is the assignment a permission-set entitlement of an account stands for;
// the slug is the permission set's id.
func accountAccess(ent EntitlementRef, principalType, principalID string) awsprovision.Access {
	pt := awsprovision.PrincipalUser
	if principalType == TypeSSOGroup {
		pt = awsprovision.PrincipalGroup
	}
	return awsprovision.AccountAssignment{AccountID: ent.ResourceID, PermissionSet: ent.Slug, PrincipalType: pt, PrincipalID: principalID}
}
