package connector

import (
	"context"
	"slices"
	"strings"
	"time"

	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/types/resource"

	"github.com/gatehouse/gatehouse/internal/inventory"
)

// iamUserSyncer lists the IAM users of each synced account, under the account. The
// credential report supplies what GetAccountAuthorizationDetails does not: console access,
// MFA, password and access key use. The report can be up to four hours old; users created
// after it have the same data read with per-user calls, and the profile says which
// (credentials_source). MFA devices are profile data on the user rather than resources of
// their own: nothing can be granted on them, and an auditor reads them as a property of
// the user.
type iamUserSyncer struct{ c *Connector }

func (s *iamUserSyncer) ResourceType(context.Context) *v2.ResourceType { return iamUserResourceType }

func (s *iamUserSyncer) List(ctx context.Context, parent *v2.ResourceId, opts resource.SyncOpAttrs) ([]*v2.Resource, *resource.SyncOpResults, error) {
	x, ai, err := s.c.accountIAM(ctx, parent)
	if err != nil || ai == nil {
		return nil, &resource.SyncOpResults{}, err
	}
	list, next, err := pageResources(s.c, opts.PageToken, len(ai.users), func(i int) (*v2.Resource, error) {
		return x.iamUserResource(ai, ai.users[i])
	})
	return list, &resource.SyncOpResults{NextPageToken: next}, err
}

// accountIAM resolves the parent of an IAM listing. IAM resources are only ever listed
// under their account, so a listing without an account parent is empty.
func (c *Connector) accountIAM(ctx context.Context, parent *v2.ResourceId) (*index, *accountIAM, error) {
	x, err := c.index(ctx)
	if err != nil {
		return nil, nil, err
	}
	if parent == nil || parent.GetResourceType() != TypeAccount {
		return x, nil, nil
	}
	return x, x.iam[parent.GetResource()], nil
}

func (x *index) iamUserResource(ai *accountIAM, u *inventory.User) (*v2.Resource, error) {
	row := ai.report[u.Name]
	keys := ai.keys[u.Name]
	if keys == nil && x.features.AccessKeys && ai.account.IAM.AccessKeys != nil {
		keys = []*inventory.AccessKey{} // secrets synced: the user has no key
	}
	devices := ai.mfa[u.Name]
	email := tagEmail(u.Tags)

	p := profile{"arn": u.ARN, "account_id": ai.account.ID}
	p.str("user_id", u.ID)
	p.str("user_name", u.Name)
	p.str("path", u.Path)
	p.str("email", email)
	p.time("created", u.CreatedAt)
	p.tags("tags", u.Tags)
	p.strs("groups", dedupe(u.Groups))
	p.strs("attached_policies", dedupe(u.AttachedPolicies))
	p.strs("inline_policies", inlinePolicyNames(u.InlinePolicies))
	p.str("permissions_boundary", u.PermissionsBoundary)

	var lastLogin []time.Time
	mfaActive := len(devices) > 0
	source := "credential_report"
	if r := ai.userCreds[u.Name]; r != nil {
		row, source = r, "user_calls"
	}
	if row != nil {
		p["credentials_source"] = source
		if source == "credential_report" {
			p.time("credential_report_generated_at", ai.account.IAM.CredentialReportGeneratedAt)
		}
		p.strs("credentials_unread", row.Unread)
		if !slices.Contains(row.Unread, "iam:GetLoginProfile") {
			p["console_access"] = row.PasswordEnabled
		}
		mfaActive = mfaActive || row.MFAActive
		p.time("password_last_used", row.PasswordLastUsed)
		p.time("password_last_changed", row.PasswordLastChanged)
		lastLogin = append(lastLogin, row.PasswordLastUsed)
		if keys == nil {
			// Without secrets sync the report's key columns are what is known.
			var reportKeys []map[string]any
			for i, k := range row.AccessKeys {
				if !k.Active && k.LastRotated.IsZero() {
					continue // the slot holds no key
				}
				m := profile{"slot": i + 1, "active": k.Active}
				m.time("last_rotated", k.LastRotated)
				x.keyAge(m, k.LastRotated)
				m.time("last_used", k.LastUsed)
				m.str("last_used_service", k.LastUsedService)
				m.str("last_used_region", k.LastUsedRegion)
				reportKeys = append(reportKeys, m)
				lastLogin = append(lastLogin, k.LastUsed)
			}
			p.list("access_keys", reportKeys)
		}
	} else {
		p["credential_report"] = "unavailable"
	}
	if keys != nil {
		// With secrets sync every key is known, those newer than the report included.
		var listed []map[string]any
		for _, k := range keys {
			m := profile{"access_key_id": k.ID, "active": strings.EqualFold(k.Status, "Active")}
			m.time("created", k.CreatedAt)
			x.keyAge(m, k.CreatedAt)
			m.time("last_used", k.LastUsedAt)
			m.str("last_used_service", k.LastUsedService)
			m.str("last_used_region", k.LastUsedRegion)
			listed = append(listed, m)
		}
		p.list("access_keys", listed)
	}
	p["mfa_active"] = mfaActive
	var mfa []map[string]any
	for _, d := range devices {
		m := profile{"serial": d.Serial, "type": "hardware"}
		switch {
		case d.Virtual:
			m["type"] = "virtual"
		case d.FIDO():
			m["type"] = "fido"
		}
		m.time("enabled_at", d.EnabledAt)
		mfa = append(mfa, m)
	}
	p.list("mfa_devices", mfa)
	var keyIDs []string
	for _, k := range keys {
		keyIDs = append(keyIDs, k.ID)
		lastLogin = append(lastLogin, k.LastUsedAt)
	}
	p.strs("access_key_ids", keyIDs)
	last := latest(lastLogin...)
	p.time("last_login", last)

	status, details := iamUserStatus(row, keys)
	p["status"] = iamUserStatusWord(status)

	traitOpts := []resource.UserTraitOption{
		resource.WithUserLogin(u.Name),
		resource.WithEmail(email, true),
		resource.WithMFAStatus(v2.UserTrait_MFAStatus_builder{MfaEnabled: mfaActive}.Build()),
		// The trait's own status is deprecated in favour of the resource's, but readers
		// of older c1z files still look at it, and it defaults to "enabled".
		resource.WithDetailedStatus(v2.UserTrait_Status_Status(status), details), //nolint:staticcheck // see above
	}
	if !last.IsZero() {
		traitOpts = append(traitOpts, resource.WithLastLogin(last))
	}
	opts := []resource.ResourceOption{
		resource.WithResourceProfile(p),
		resource.WithResourceStatus(status, details),
		resource.WithParentResourceID(resourceID(TypeAccount, ai.account.ID)),
	}
	if !u.CreatedAt.IsZero() {
		opts = append(opts, resource.WithResourceCreatedAt(u.CreatedAt))
	}
	return resource.NewUserResource(u.Name, iamUserResourceType, u.ARN, traitOpts, opts...)
}

// iamUserStatus says whether the user can authenticate at all. IAM users have no enabled
// flag; a user with neither a console password nor an active access key cannot sign in or
// call AWS, which is what "disabled" means to a reviewer. Without the credential report (or
// secret sync) nothing is known, and the status says so rather than guessing. With secret
// sync the keys are current, so the report's (older) key columns are not consulted.
func iamUserStatus(row *inventory.CredentialReportRow, keys []*inventory.AccessKey) (v2.Status_ResourceStatus, string) {
	for _, k := range keys {
		if strings.EqualFold(k.Status, "Active") {
			return v2.Status_RESOURCE_STATUS_ENABLED, ""
		}
	}
	if row == nil {
		if keys != nil {
			return v2.Status_RESOURCE_STATUS_DISABLED, "no active access key; console access unknown (no credential report)"
		}
		return v2.Status_RESOURCE_STATUS_UNSPECIFIED, "credential report unavailable"
	}
	if row.PasswordEnabled || keys == nil && (row.AccessKeys[0].Active || row.AccessKeys[1].Active) {
		return v2.Status_RESOURCE_STATUS_ENABLED, ""
	}
	if len(row.Unread) > 0 {
		return v2.Status_RESOURCE_STATUS_UNSPECIFIED, "IAM denied " + strings.Join(row.Unread, ", ") + "; add them to the role's policy (gatehouse setup aws generates it)"
	}
	return v2.Status_RESOURCE_STATUS_DISABLED, "no console password and no active access key"
}

// keyAge adds a key's age in whole days, against the snapshot time rather than the wall
// clock, so that the same snapshot always produces the same .c1z.
func (x *index) keyAge(m profile, created time.Time) {
	if !created.IsZero() && !x.snap.FetchedAt.IsZero() {
		m["age_days"] = int(x.snap.FetchedAt.Sub(created).Hours() / 24)
	}
}

func iamUserStatusWord(s v2.Status_ResourceStatus) string {
	switch s {
	case v2.Status_RESOURCE_STATUS_ENABLED:
		return "active"
	case v2.Status_RESOURCE_STATUS_DISABLED:
		return "inactive"
	default:
		return "unknown"
	}
}

// tagEmail reads a user's email from its tags: "email" or "Email", then any other spelling
// of the key, in key order so that the choice is stable.
func tagEmail(tags map[string]string) string {
	if v := tags["email"]; v != "" {
		return v
	}
	if v := tags["Email"]; v != "" {
		return v
	}
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if strings.EqualFold(k, "email") && tags[k] != "" {
			return tags[k]
		}
	}
	return ""
}

func (s *iamUserSyncer) Entitlements(context.Context, *v2.Resource, resource.SyncOpAttrs) ([]*v2.Entitlement, *resource.SyncOpResults, error) {
	return nil, &resource.SyncOpResults{}, nil
}

func (s *iamUserSyncer) Grants(context.Context, *v2.Resource, resource.SyncOpAttrs) ([]*v2.Grant, *resource.SyncOpResults, error) {
	return nil, &resource.SyncOpResults{}, nil
}
