package review

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/gatehouse/gatehouse/internal/store"
)

// Applications imported from files (internal/appimport) are reviewed like AWS access. Their
// inventory is ingested with the application's id (app_…) as the connection: users are
// app_user resources (linked to people by email), resources app_resource, and a grant is
// one user holding one entitlement of one resource. A campaign freezes one item per such
// grant; the application's owner (apps.owner) is its `owner` reviewer, the manager column of
// the file its `manager` (when it names a known person); a revoke is a task for the owner
// with the exact change, verified by the next import that no longer shows the grant (the
// import calls AfterIngest like a sync).

const (
	// kindFile is the connection kind of an imported application in the freeze.
	kindFile = "file"
	// appsAWS is the scope's name for every AWS connection.
	appsAWS = "aws"
	// appUserType and appResourceType are internal/appimport's resource types.
	appUserType     = "app_user"
	appResourceType = "app_resource"
)

// resolveApplications resolves the scope's applications to connection ids (appsAWS for
// every AWS connection); nil means no filter. An entry is "aws", an AWS connection's id, an
// imported application's id, or an imported application's name when exactly one
// application has it (ids are the contract; a name two applications share is refused).
func resolveApplications(want, ingested []string, configured []store.Connection, apps []store.App) (map[string]bool, error) {
	if len(want) == 0 {
		return nil, nil
	}
	out := map[string]bool{}
	var unknown []string
	for _, v := range want {
		v = strings.TrimSpace(v)
		if strings.EqualFold(v, appsAWS) {
			out[appsAWS] = true
			continue
		}
		known := slices.Contains(ingested, v) ||
			slices.ContainsFunc(configured, func(c store.Connection) bool { return c.ID == v }) ||
			slices.ContainsFunc(apps, func(a store.App) bool { return a.ID == v })
		if known {
			out[v] = true
			continue
		}
		var named []string
		for _, a := range apps {
			if strings.EqualFold(strings.TrimSpace(a.Name), v) {
				named = append(named, a.ID)
			}
		}
		switch len(named) {
		case 0:
			unknown = append(unknown, fmt.Sprintf("%q", v))
		case 1:
			out[named[0]] = true
		default:
			return nil, Errorf(CodeInvalid, "%d imported applications are named %q (%s): name the one to review by its id",
				len(named), v, strings.Join(named, ", "))
		}
	}
	if len(unknown) > 0 {
		return nil, Errorf(CodeInvalid, "no AWS connection or imported application is %s; use \"aws\" (every AWS connection), a connection's id, or an imported application's id (app_…; GET /api/v1/applications lists them)",
			strings.Join(unknown, ", "))
	}
	return out, nil
}

// awsOnlyKeys are the scope's keys that set a filter only AWS access has: an imported
// application has no accounts, OUs, permission sets, Identity Center or IAM groups or IAM
// policies, so a scope that sets any of them (or resource types without app_resource)
// selects none of its access.
func awsOnlyKeys(sc Scope) []string {
	var out []string
	for _, k := range []struct {
		name string
		set  bool
	}{{"accounts", len(sc.Accounts) > 0}, {"ous", len(sc.OUs) > 0}, {"permission_sets", len(sc.PermissionSets) > 0},
		{"sso_groups", len(sc.SSOGroups) > 0}, {"iam_groups", len(sc.IAMGroups) > 0}, {"iam_policies", len(sc.IAMPolicies) > 0},
		{"resource_types", len(sc.ResourceTypes) > 0 && !slices.Contains(sc.ResourceTypes, appResourceType)}} {
		if k.set {
			out = append(out, k.name)
		}
	}
	return out
}

// appScope says whether the scope can select access of imported applications.
func appScope(sc Scope) bool { return len(awsOnlyKeys(sc)) == 0 }

// isAppItem says whether the item is access in an imported application.
func isAppItem(it *Item) bool {
	return it.PrincipalType == appUserType || it.ResourceType == appResourceType
}

// appAdminWords make an application's access admin-level when the entitlement's or the
// resource's name has one of them as a word ("admin", "Billing Admins", "super-user" is
// not, "superuser" is): the file says nothing else about what an entitlement allows.
var appAdminWords = []string{"admin", "admins", "administrator", "administrators", "superadmin", "superuser", "superusers", "root", "owner", "owners"}

// appAdminLevel says whether an application's entitlement (or resource) name is admin-level.
func appAdminLevel(names ...string) bool {
	for _, n := range names {
		words := strings.FieldsFunc(strings.ToLower(n), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
		for _, w := range words {
			if slices.Contains(appAdminWords, w) {
				return true
			}
		}
	}
	return false
}

// selectAppItems appends the items of the imported application conn that camp's scope
// selects (the caller has checked that the scope can select application access).
func (s *Service) selectAppItems(ctx context.Context, tx *store.Tx, camp *Campaign, conn store.Connection, app *store.App, now time.Time,
	prev map[string]prevDecision, res *resolver, out *[]store.ReviewItem) error {
	sc := camp.Scope
	inv, err := tx.ReviewInventory(ctx, conn.ID, []string{appUserType, appResourceType}, []string{appUserType}, nil)
	if err != nil {
		return err
	}
	ci := &connInventory{conn: conn, inv: inv, res: map[string]*store.Resource{}, app: app}
	for i := range inv.Resources {
		r := &inv.Resources[i]
		ci.res[r.Type+"\x00"+r.ID] = r
	}
	res.inv[conn.ID] = ci
	name := conn.Name
	if app != nil {
		name = app.Name
	}
	for _, g := range inv.Grants {
		it, ictx := newAppItem(ci, name, camp, g, now)
		if sc.AdminOnly && !it.AdminLevel {
			continue
		}
		if sc.Departed && (ictx.Active == nil || *ictx.Active) {
			continue
		}
		if sc.UnusedDays > 0 && !unused(ictx, it.PrincipalType, now, sc.UnusedDays) {
			continue
		}
		if p, ok := prev[it.ConnectionID+"\x00"+it.GrantID+"\x00"+it.Via]; ok {
			ictx.PreviousCampaign, ictx.PreviousDecision, ictx.PreviousReason, ictx.PreviousBy = p.campaign, p.decision, p.reason, p.by
		}
		b, _ := json.Marshal(ictx)
		it.Context = string(b)
		it.Plan = planOf(it)
		*out = append(*out, *it)
	}
	ci.inv.Grants = nil
	return nil
}

// newAppItem is the item of the application's grant g (held directly: a file's grants
// are), with its context.
func newAppItem(ci *connInventory, appName string, camp *Campaign, g store.Grant, now time.Time) (*store.ReviewItem, ItemContext) {
	it := &store.ReviewItem{CampaignID: camp.ID, ID: itemID(ci.conn.ID, g.ID, ViaDirect), ConnectionID: ci.conn.ID, GrantID: g.ID,
		EntitlementID: g.EntitlementID, ResourceType: g.ResourceType, ResourceID: g.ResourceID, PrincipalType: g.PrincipalType,
		PrincipalID: g.PrincipalID, Via: ViaDirect, ViaName: "direct", Since: g.FirstSeen, State: string(ItemPending), UpdatedAt: now}
	kind, resName := "", g.ResourceID
	if r := ci.get(g.ResourceType, g.ResourceID); r != nil {
		resName = nameOr(r, g.ResourceID)
		kind = profileString(r.Profile, "kind")
	}
	it.ResourceName = resName
	ent := g.EntitlementName
	if ent == "" {
		ent = strings.TrimPrefix(g.EntitlementID, g.ResourceType+":"+g.ResourceID+":")
	}
	// "admin on group Billing": the entitlement says little without its resource.
	it.EntitlementName = strings.TrimSpace(ent + " on " + strings.TrimSpace(kind+" "+resName))
	p := ci.get(g.PrincipalType, g.PrincipalID)
	if p != nil {
		it.PrincipalName = p.DisplayName
		it.Identity = strings.ToLower(strings.TrimSpace(p.Email))
	}
	if it.PrincipalName == "" {
		it.PrincipalName = strings.TrimPrefix(g.PrincipalID, ci.conn.ID+":")
	}
	it.AdminLevel = appAdminLevel(ent, resName)
	return it, appContext(appName, p)
}

// appContext is what the application's file says of its user: the last login, and
// whether the user is still active (the file's status).
func appContext(app string, p *store.Resource) ItemContext {
	c := ItemContext{Application: app}
	if p == nil {
		c.Status = "the user is not in " + app + "'s latest file"
		return c
	}
	if ts := parseTime(profileString(p.Profile, "last_login")); ts != nil {
		c.LastUsed, c.LastUsedSource = ts, "last login, from "+app+"'s file"
	} else {
		c.LastUsedSource = app + "'s file gives no last login"
	}
	t, f := true, false
	raw := strings.TrimSpace(profileString(p.Profile, "status"))
	switch st := strings.ToLower(raw); st {
	case "enabled", "active":
		c.Active, c.Status = &t, "active"
	case "disabled", "inactive", "suspended", "deprovisioned":
		c.Active, c.Status = &f, "disabled in "+app
		if st != "disabled" {
			c.Status += " (" + raw + ")"
		}
	case "deleted":
		c.Active, c.Status = &f, "deleted in "+app
	case "":
		c.Status = app + "'s file gives no status"
	default:
		c.Status = fmt.Sprintf("status %q in %s", raw, app)
	}
	return c
}

// appName is the name of the item's application (its id when unknown).
func (r *resolver) appName(it *store.ReviewItem) string {
	if a := r.apps[it.ConnectionID]; a != nil {
		return a.Name
	}
	return it.ConnectionID
}

// appManager is the manager the application's file gives for the item's user: an email
// (or the user id of another user of the file with an email) of a person the inventory
// knows; else why there is none.
func (r *resolver) appManager(ctx context.Context, it *store.ReviewItem) (string, string, error) {
	app, who := r.appName(it), firstNonEmpty(it.Identity, it.PrincipalName)
	ci := r.inv[it.ConnectionID]
	if ci == nil {
		return "", fmt.Sprintf("%s's file gives no manager for %s", app, who), nil
	}
	ref := ""
	if p := ci.get(appUserType, it.PrincipalID); p != nil {
		ref = strings.TrimSpace(profileString(p.Profile, "manager"))
	}
	if ref == "" {
		return "", fmt.Sprintf("%s's file gives no manager for %s", app, who), nil
	}
	email := ""
	if strings.Contains(ref, "@") {
		email = strings.ToLower(ref)
	} else if m := ci.get(appUserType, it.ConnectionID+":"+ref); m != nil && m.Email != "" {
		email = strings.ToLower(m.Email)
	}
	if email == "" {
		return "", fmt.Sprintf("the manager %q that %s's file gives for %s is neither an email nor a user of the file with an email", ref, app, who), nil
	}
	known, ok := r.people[email]
	if !ok {
		_, err := r.s.st.GetPerson(ctx, email)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return "", "", err
		default:
			known = true
		}
		r.people[email] = known
	}
	if !known {
		return "", fmt.Sprintf("the manager %s that %s's file gives for %s is not a known person (no identity in the inventory has this email)", email, app, who), nil
	}
	return email, "", nil
}

// appOwner is the application's owner (apps.owner), else the owners set for the
// application (as for just-in-time access).
func (r *resolver) appOwner(ctx context.Context, it *store.ReviewItem) ([]string, error) {
	if a := r.apps[it.ConnectionID]; a != nil && a.Owner != "" {
		return []string{strings.ToLower(a.Owner)}, nil
	}
	key := store.OwnerApplication + "\x00" + it.ConnectionID
	o, ok := r.owners[key]
	if !ok {
		var err error
		if o, err = r.tx.Owners(ctx, store.OwnerApplication, it.ConnectionID); err != nil {
			return nil, err
		}
		r.owners[key] = o
	}
	return o, nil
}

// appTask is the exact change an application's owner makes to revoke the item:
// "Remove alice@example.com (user ID alice) from admin on group Billing in Payroll".
func appTask(it *Item) string {
	who := personOf(it)
	if uid := strings.TrimPrefix(it.PrincipalID, it.ConnectionID+":"); uid != "" && uid != who {
		who += " (user ID " + uid + ")"
	}
	app := firstNonEmpty(it.Application, it.Context.Application, it.ConnectionID, "its application")
	what := firstNonEmpty(it.EntitlementName, it.EntitlementID)
	return fmt.Sprintf("Remove %s from %s in %s", who, what, app)
}

// appTaskOwners is who does an application's owner task: its owner, else the owners set
// for the application; nil when neither.
func (s *Service) appTaskOwners(ctx context.Context, tx *store.Tx, it *Item) ([]string, error) {
	a, err := s.st.GetApp(ctx, it.ConnectionID)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return nil, err
	case a.Owner != "":
		return []string{strings.ToLower(a.Owner)}, nil
	}
	return tx.Owners(ctx, store.OwnerApplication, it.ConnectionID)
}
