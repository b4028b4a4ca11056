package jit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/gatehouse/gatehouse/internal/access"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Who and what a request is about, from the inventory: the entitlement asked for (resolved to
// the AWS ids the provisioner needs) and the requester's AWS identity. A person is their
// email; their Identity Center user is the one whose email (or user name) is that email, and
// for IAM group membership their IAM user in the group's account is the one whose email tag is
// that email (docs/model.md: how people link to identities).

// entitlementInfo is an entitlement resolved for rules and requests.
type entitlementInfo struct {
	target Target        // without the principal
	rules  access.Target // what the rules match against
	// permissionSet is the permission set resource (account access only), with its profile.
	permissionSet *store.Resource
}

// resolveEntitlement looks entitlement id up in the current inventory. Entitlements that
// cannot be requested (IAM policies, ...) and ones that no longer exist are 400/404 *Errors.
func (s *Service) resolveEntitlement(ctx context.Context, id string) (*entitlementInfo, error) {
	ent, err := s.st.GetEntitlement(ctx, id, nil)
	if errors.Is(err, store.ErrNotFound) {
		return nil, Errorf(CodeNotFound, "no entitlement %s in the inventory (it may have been removed; the catalog lists what exists)", id)
	}
	if err != nil {
		return nil, err
	}
	return newLookups(s).info(ctx, ent)
}

// lookups caches, for one call, what resolving many entitlements needs per connection: the
// permission sets by id and the organization tree.
type lookups struct {
	s       *Service
	sets    map[string]map[string]*store.Resource // connection -> permission set id -> resource
	parents map[string]map[string][2]string       // connection -> type\x00id -> parent type, id
	apps    map[string]*store.App                 // imported applications by id
}

func newLookups(s *Service) *lookups {
	return &lookups{s: s, sets: map[string]map[string]*store.Resource{}, parents: map[string]map[string][2]string{},
		apps: map[string]*store.App{}}
}

// app is the imported application id (cached for the call).
func (l *lookups) app(ctx context.Context, id string) (*store.App, error) {
	if a, ok := l.apps[id]; ok {
		return a, nil
	}
	a, err := l.s.st.GetApp(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, Errorf(CodeNotFound, "application %s is not in Gatehouse any more", id)
	}
	if err != nil {
		return nil, err
	}
	l.apps[id] = a
	return a, nil
}

func (l *lookups) permissionSet(ctx context.Context, conn, id string) (*store.Resource, error) {
	m, ok := l.sets[conn]
	if !ok {
		rs, err := l.s.st.FindResources(ctx, store.ResourceQuery{ConnectionID: conn, Type: "permission_set"})
		if err != nil {
			return nil, err
		}
		m = map[string]*store.Resource{}
		for i := range rs {
			slug := rs[i].ID
			if j := strings.LastIndex(slug, "/"); j >= 0 {
				slug = slug[j+1:]
			}
			m[slug] = &rs[i]
		}
		l.sets[conn] = m
	}
	return m[id], nil
}

// ouPath lists the OUs (root first) above an account, for rules that name OUs.
func (l *lookups) ouPath(ctx context.Context, conn, accountID string) ([]string, error) {
	m, ok := l.parents[conn]
	if !ok {
		tree, err := l.s.st.OUTree(ctx, conn)
		if err != nil {
			return nil, err
		}
		m = map[string][2]string{}
		for _, r := range tree {
			m[r.Type+"\x00"+r.ID] = [2]string{r.ParentType, r.ParentID}
		}
		l.parents[conn] = m
	}
	var path []string
	key := "account\x00" + accountID
	for range 12 { // AWS nests OUs at most 5 deep under the root
		p, ok := m[key]
		if !ok || p[1] == "" {
			break
		}
		path = append([]string{p[1]}, path...)
		key = p[0] + "\x00" + p[1]
	}
	return path, nil
}

// info resolves one entitlement for the rules and for a request.
func (l *lookups) info(ctx context.Context, ent *store.Entitlement) (*entitlementInfo, error) {
	var err error
	id := ent.ID
	info := &entitlementInfo{}
	t := Target{ConnectionID: ent.ConnectionID, EntitlementID: ent.ID, Application: access.DefaultApplication}
	at := access.Target{Application: access.DefaultApplication, EntitlementID: ent.ID}
	switch ent.ResourceType {
	case "account":
		t.Kind, t.AccountID, t.PermissionSetID = KindAccountAssignment, ent.ResourceID, ent.Slug
		t.AccountName = firstNonEmpty(ent.AccountName, ent.ResourceName)
		ps, err := l.permissionSet(ctx, ent.ConnectionID, ent.Slug)
		if err != nil {
			return nil, err
		}
		if ps == nil {
			return nil, Errorf(CodeNotFound, "permission set %s of %s is not in the inventory any more; sync the connection and try again", ent.Slug, id)
		}
		info.permissionSet = ps
		t.PermissionSetARN, t.PermissionSetName = ps.ID, ps.DisplayName
		t.DisplayName = fmt.Sprintf("%s on %s (%s)", t.PermissionSetName, t.AccountName, t.AccountID)
		at.ResourceType, at.AccountID, at.AccountName = access.ResourceAccount, t.AccountID, t.AccountName
		at.PermissionSetID, at.PermissionSetName = t.PermissionSetID, t.PermissionSetName
		if at.OUPath, err = l.ouPath(ctx, ent.ConnectionID, t.AccountID); err != nil {
			return nil, err
		}
	case "sso_group":
		t.Kind, t.GroupID, t.GroupName = KindSSOGroupMembership, ent.ResourceID, firstNonEmpty(ent.ResourceName, ent.ResourceID)
		t.DisplayName = "member of Identity Center group " + t.GroupName
		at.ResourceType, at.GroupID, at.GroupName = access.ResourceSSOGroup, t.GroupID, t.GroupName
	case "iam_group":
		t.Kind, t.GroupID, t.GroupName = KindIAMGroupMembership, ent.ResourceID, firstNonEmpty(ent.ResourceName, ent.ResourceID)
		t.AccountID, t.AccountName = ent.AccountID, ent.AccountName
		t.DisplayName = fmt.Sprintf("member of IAM group %s in %s (%s)", t.GroupName, firstNonEmpty(t.AccountName, t.AccountID), t.AccountID)
		at.ResourceType, at.GroupID, at.GroupName = access.ResourceIAMGroup, t.GroupID, t.GroupName
		at.AccountID, at.AccountName = t.AccountID, t.AccountName
		if at.OUPath, err = l.ouPath(ctx, ent.ConnectionID, t.AccountID); err != nil {
			return nil, err
		}
	case "app_resource":
		app, err := l.app(ctx, ent.ConnectionID)
		if err != nil {
			return nil, err
		}
		// The resource's type as the files spell it is in its profile ("kind"); its id has
		// it normalised.
		kind := ""
		if r, err := l.s.st.GetResource(ctx, "app_resource", ent.ResourceID, nil); err == nil {
			kind = profileString(r.Profile, "kind")
		} else if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		if kind == "" {
			if parts := strings.SplitN(strings.TrimPrefix(ent.ResourceID, app.ID+":"), ":", 2); len(parts) == 2 {
				kind = parts[0]
			}
		}
		t.Kind, t.Application, t.AppName = KindAppGrant, app.ID, app.Name
		t.ResourceKind, t.ResourceName = kind, firstNonEmpty(ent.ResourceName, ent.ResourceID)
		t.Entitlement = firstNonEmpty(ent.DisplayName, ent.Slug)
		t.DisplayName = fmt.Sprintf("%s on %s %s in %s", t.Entitlement, t.ResourceKind, t.ResourceName, app.Name)
		at.Application, at.ApplicationName, at.ResourceType = app.ID, app.Name, access.ResourceAppResource
		at.AppEntitlement = access.NormalizeAppEntitlement(t.ResourceKind + "/" + t.ResourceName + "/" + t.Entitlement)
		at.AppEntitlementName = t.ResourceKind + " / " + t.ResourceName + " / " + t.Entitlement
	default:
		return nil, Errorf(CodeInvalid, "%s cannot be requested: just-in-time access covers permission sets on accounts, Identity Center groups, IAM groups and the entitlements of applications imported from files", id)
	}
	info.target, info.rules = t, at
	return info, nil
}

// identity is the requester's AWS principal for a target, or why there is none.
type identity struct {
	PrincipalID, PrincipalName string
	// Groups are the Identity Center groups (ids and names) of the person's user, for rules.
	Groups []string
	// Why says, when the person cannot request, why and what to do (an empty PrincipalID
	// with no Why is an imported application's user that does not exist yet).
	Why string
	// Note says what the requester should know although they may request (an imported
	// application has no user with their email yet: its owner creates it).
	Note string
}

// identityFor finds email's principal for t (account assignments and Identity Center groups:
// their Identity Center user; IAM groups: their IAM user in the group's account).
func (s *Service) identityFor(ctx context.Context, t Target, email string) (*identity, error) {
	if t.Kind == KindAppGrant {
		return s.appIdentity(ctx, t, email)
	}
	id := &identity{}
	user, why, err := s.ssoUser(ctx, t.ConnectionID, email)
	if err != nil {
		return nil, err
	}
	if user != nil {
		groups, err := s.st.UserGroups(ctx, t.ConnectionID, user.ID)
		if err != nil {
			return nil, err
		}
		for _, g := range groups {
			id.Groups = append(id.Groups, g[0], g[1])
		}
	}
	switch t.Kind {
	case KindAccountAssignment, KindSSOGroupMembership:
		if user == nil {
			id.Why = why
			return id, nil
		}
		id.PrincipalID, id.PrincipalName = user.ID, user.DisplayName
	case KindIAMGroupMembership:
		users, err := s.st.FindResources(ctx, store.ResourceQuery{ConnectionID: t.ConnectionID, Type: "iam_user", Email: email, AccountID: t.AccountID})
		if err != nil {
			return nil, err
		}
		switch len(users) {
		case 0:
			id.Why = fmt.Sprintf("You have no IAM user in account %s with an email tag of %s, so there is nobody to add to IAM group %s; ask an admin to tag your IAM user there with your email.",
				firstNonEmpty(t.AccountName, t.AccountID), email, t.GroupName)
		case 1:
			id.PrincipalID, id.PrincipalName = users[0].ID, users[0].DisplayName
		default:
			id.Why = fmt.Sprintf("%d IAM users in account %s carry your email %s (%s); ask an admin to leave the tag on one only.",
				len(users), firstNonEmpty(t.AccountName, t.AccountID), email, resourceIDs(users))
		}
	}
	return id, nil
}

// ssoUser is the Identity Center user of email in connectionID: by email, else by user name.
// When there is none (or several, or it is disabled) it says why instead.
func (s *Service) ssoUser(ctx context.Context, connectionID, email string) (*store.Resource, string, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	users, err := s.st.FindResources(ctx, store.ResourceQuery{ConnectionID: connectionID, Type: "sso_user", Email: email})
	if err != nil {
		return nil, "", err
	}
	if len(users) == 0 {
		// No email match: the user name (often the email) may be.
		cands, err := s.st.FindResources(ctx, store.ResourceQuery{ConnectionID: connectionID, Type: "sso_user", ProfileContains: email})
		if err != nil {
			return nil, "", err
		}
		for _, u := range cands {
			if strings.EqualFold(profileString(u.Profile, "user_name"), email) {
				users = append(users, u)
			}
		}
	}
	switch len(users) {
	case 0:
		return nil, fmt.Sprintf("You have no Identity Center user with the email or user name %s, so Gatehouse has nobody to give access to; ask an admin to create your user in Identity Center (or fix its email), then wait for the next sync.", email), nil
	case 1:
	default:
		return nil, fmt.Sprintf("%d Identity Center users have the email or user name %s (%s); ask an admin to keep one, so that access goes to the right user.", len(users), email, resourceIDs(users)), nil
	}
	u := users[0]
	if active, ok := profileBool(u.Profile, "active"); ok && !active {
		return nil, fmt.Sprintf("Your Identity Center user %s is disabled; ask an admin to enable it.", firstNonEmpty(u.DisplayName, u.ID)), nil
	}
	return &u, "", nil
}

func resourceIDs(rs []store.Resource) string {
	ids := make([]string, len(rs))
	for i, r := range rs {
		ids[i] = r.ID
	}
	return strings.Join(ids, ", ")
}

func profileString(p json.RawMessage, key string) string {
	var m map[string]any
	if json.Unmarshal(p, &m) != nil {
		return ""
	}
	v, _ := m[key].(string)
	return v
}

func profileBool(p json.RawMessage, key string) (bool, bool) {
	var m map[string]any
	if json.Unmarshal(p, &m) != nil {
		return false, false
	}
	v, ok := m[key].(bool)
	return v, ok
}

func profileStrings(p json.RawMessage, key string) []string {
	var m map[string]any
	if json.Unmarshal(p, &m) != nil {
		return nil
	}
	list, _ := m[key].([]any)
	var out []string
	for _, v := range list {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// manager is the email of email's manager: the Identity Center user's manager attribute
// (SCIM's enterprise extension), read from the inventory profile as manager_email, or as
// manager / manager_id naming another user by id or email. The sync reads it with ListUsers'
// extension aws:identitystore:enterprise and sets manager_id (and manager_email when the
// manager is a user of the same identity store); a user whose identity store has no manager
// for them has neither, and the step goes to the policy's fallback approvers (docs/jit.md).
func (s *Service) manager(ctx context.Context, connectionID, email string) (string, error) {
	user, _, err := s.ssoUser(ctx, connectionID, email)
	if err != nil || user == nil {
		return "", err
	}
	if m := profileString(user.Profile, "manager_email"); m != "" {
		return strings.ToLower(m), nil
	}
	ref := firstNonEmpty(profileString(user.Profile, "manager"), profileString(user.Profile, "manager_id"))
	if ref == "" {
		return "", nil
	}
	if strings.Contains(ref, "@") {
		return strings.ToLower(ref), nil
	}
	ms, err := s.st.FindResources(ctx, store.ResourceQuery{ConnectionID: connectionID, Type: "sso_user", ID: ref})
	if err != nil || len(ms) == 0 {
		return "", err
	}
	return ms[0].Email, nil
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}
