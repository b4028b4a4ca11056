package review

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
)

// The freeze: a campaign's scope selects grants from each connection's current inventory,
// read in the start's transaction (the inventory lock keeps an ingestion out meanwhile),
// and every grant becomes one item per way it is held (directly, through each group, or
// through a just-in-time lease), with the names, context and plan copied so that a later
// sync changes nothing of what is reviewed.

// reviewedPrincipals are the principals whose grants are reviewed: people's identities
// and groups (a group's own grant is reviewed as such). Roles are not people: their
// policies are the account owner's business, not a review's.
var reviewedPrincipals = []string{"sso_user", "iam_user", "sso_group", "iam_group"}

// inventoryTypes are the resources the freeze reads with their profiles.
var inventoryTypes = []string{"account", "organizational_unit", "permission_set", "sso_user", "sso_group", "iam_user", "iam_group"}

// adminPolicies are the AWS managed policies that make access admin-level.
var adminPolicies = []string{"arn:aws:iam::aws:policy/AdministratorAccess", "arn:aws:iam::aws:policy/IAMFullAccess"}

// adminSetNames are permission set names that are admin-level by name.
var adminSetNames = []string{"AdministratorAccess", "PowerUserAccess"}

// frozen is what a start writes.
type frozen struct {
	items     []store.ReviewItem
	reviewers []store.ReviewItemReviewer
	events    []store.ReviewItemEvent
	snapshots map[string]string
	previous  string
}

// pendingBy counts the items waiting for each current reviewer.
func (f *frozen) pendingBy() map[string]int {
	out := map[string]int{}
	for _, r := range f.reviewers {
		if r.Current {
			out[r.Email]++
		}
	}
	return out
}

// connInventory is one connection's inventory as the freeze reads it, indexed.
type connInventory struct {
	conn      store.Connection
	inv       *store.ReviewInventory
	res       map[string]*store.Resource // type + "\x00" + id
	ssoByMail map[string][]*store.Resource
	hasSSO    bool
	// adminGroups are the groups (sso_group ids, iam_group ARNs) holding admin-level access.
	adminGroups map[string]bool
	// policies are the iam_policy resources read (lazily) for admin-level checks.
	policies map[string]*store.Resource
	// sets are the permission sets by id (ps-...); adminSets caches whether each is
	// admin-level, and contexts each principal's context (per account read), so that a
	// large freeze reads every profile once.
	sets      map[string]*store.Resource
	adminSets map[string]bool
	contexts  map[string]string
	// app is the imported application this inventory is (nil for AWS).
	app *store.App
}

func (ci *connInventory) get(typ, id string) *store.Resource { return ci.res[typ+"\x00"+id] }

// freeze selects camp's items from the inventory of every connection it covers.
func (s *Service) freeze(ctx context.Context, tx *store.Tx, camp *Campaign, now time.Time) (*frozen, error) {
	// The connections reviewed are those with an inventory (a connection's kind comes
	// from its configuration; one removed since keeps its inventory and is "aws").
	ingested, err := tx.IngestedConnections(ctx)
	if err != nil {
		return nil, err
	}
	configured, err := tx.ListConnections(ctx)
	if err != nil {
		return nil, err
	}
	// Applications imported from files are ingested with their id as the connection.
	apps, err := s.st.ListApps(ctx)
	if err != nil {
		return nil, err
	}
	appByID := map[string]*store.App{}
	for i := range apps {
		appByID[apps[i].ID] = &apps[i]
	}
	var conns []store.Connection
	for _, id := range ingested {
		c := store.Connection{ID: id, Kind: "aws"}
		if a := appByID[id]; a != nil {
			c = store.Connection{ID: id, Name: a.Name, Kind: kindFile}
		}
		for _, k := range configured {
			if k.ID == id {
				c = k
			}
		}
		conns = append(conns, c)
	}
	wanted, err := resolveApplications(camp.Scope.Applications, ingested, configured, apps)
	if err != nil {
		return nil, err
	}
	fr := &frozen{snapshots: map[string]string{}}
	fr.previous, err = tx.PreviousReviewCampaign(ctx, scopeKey(camp.Scope, camp.ConnectionID), camp.ID, now)
	if err != nil {
		return nil, err
	}
	prev, err := s.previousDecisions(ctx, tx, fr.previous)
	if err != nil {
		return nil, err
	}
	res := newResolver(s, tx, camp)
	res.apps = appByID
	var excluded []string
	for _, conn := range conns {
		if camp.ConnectionID != "" && conn.ID != camp.ConnectionID {
			continue
		}
		if wanted != nil && !wanted[conn.ID] && !(conn.Kind == "aws" && wanted[appsAWS]) {
			continue
		}
		if conn.Kind == kindFile && !appScope(camp.Scope) {
			excluded = append(excluded, conn.Name)
			continue // the scope filters on what only AWS has (accounts, permission sets, ...)
		}
		if err := tx.LockInventory(ctx, conn.ID); err != nil {
			return nil, err
		}
		syncID, _, ok, err := tx.LatestIngest(ctx, conn.ID)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue // never synced: nothing to review there
		}
		fr.snapshots[conn.ID] = syncID
		if conn.Kind == kindFile {
			if err := s.selectAppItems(ctx, tx, camp, conn, appByID[conn.ID], now, prev, res, &fr.items); err != nil {
				return nil, err
			}
			continue
		}
		if err := s.selectItems(ctx, tx, camp, conn, now, prev, res, &fr.items); err != nil {
			return nil, err
		}
	}
	if len(fr.snapshots) == 0 {
		if len(excluded) > 0 && wanted != nil {
			return nil, Errorf(CodeInvalid, "the applications %s are imported from files, and the scope's %s select AWS access only: nothing is in scope; leave those keys out to review the applications",
				strings.Join(excluded, ", "), strings.Join(awsOnlyKeys(camp.Scope), ", "))
		}
		if len(camp.Scope.Applications) > 0 {
			return nil, Errorf(CodeInvalid, "nothing was synced or imported yet for the applications %s: sync the AWS connection or import the application's file first, then start the campaign",
				strings.Join(camp.Scope.Applications, ", "))
		}
		if camp.ConnectionID != "" {
			return nil, Errorf(CodeConflict, "connection %s has no inventory yet: sync it first, then start the campaign", camp.ConnectionID)
		}
		return nil, Errorf(CodeConflict, "there is no inventory to review yet: sync a connection first, then start the campaign")
	}
	// seq orders the items by account (an imported application's items by its name),
	// entitlement, identity (then principal and path).
	where := func(it *store.ReviewItem) string {
		if a := appByID[it.ConnectionID]; a != nil && it.AccountName == "" {
			return a.Name
		}
		return it.AccountName
	}
	slices.SortFunc(fr.items, func(a, b store.ReviewItem) int {
		for _, k := range [...][2]string{{where(&a), where(&b)}, {a.AccountID, b.AccountID}, {a.EntitlementName, b.EntitlementName},
			{a.EntitlementID, b.EntitlementID}, {a.Identity, b.Identity}, {a.PrincipalName, b.PrincipalName}, {a.PrincipalID, b.PrincipalID},
			{a.Via, b.Via}, {a.ConnectionID, b.ConnectionID}} {
			if c := strings.Compare(k[0], k[1]); c != 0 {
				return c
			}
		}
		return 0
	})
	for i := range fr.items {
		it := &fr.items[i]
		it.Seq = i + 1
		steps, notes, err := res.steps(ctx, it)
		if err != nil {
			return nil, err
		}
		b, _ := json.Marshal(steps)
		it.Steps = string(b)
		if len(steps) > 0 && len(steps[0]) > 0 {
			it.Reviewer = steps[0][0]
		}
		for st, emails := range steps {
			for _, e := range emails {
				fr.reviewers = append(fr.reviewers, store.ReviewItemReviewer{CampaignID: camp.ID, ItemID: it.ID, Email: e, Step: st, Current: st == 0})
			}
		}
		seq := 1
		fr.events = append(fr.events, store.ReviewItemEvent{CampaignID: camp.ID, ItemID: it.ID, Seq: seq, Kind: "frozen", Actor: SystemActor, At: now,
			Detail: fmt.Sprintf("frozen from sync %s; reviewers: %s", fr.snapshots[it.ConnectionID], describeSteps(steps))})
		for _, n := range notes {
			seq++
			fr.events = append(fr.events, store.ReviewItemEvent{CampaignID: camp.ID, ItemID: it.ID, Seq: seq, Kind: "reviewer_fallback", Actor: SystemActor, At: now, Detail: n})
		}
	}
	return fr, nil
}

// describeSteps says who reviews each step.
func describeSteps(steps [][]string) string {
	if len(steps) == 0 {
		return "nobody"
	}
	parts := make([]string, len(steps))
	for i, st := range steps {
		who := strings.Join(st, ", ")
		if who == "" {
			who = "nobody"
		}
		if len(steps) > 1 {
			who = fmt.Sprintf("step %d: %s", i+1, who)
		}
		parts[i] = who
	}
	return strings.Join(parts, "; ")
}

// itemID is the item's stable id: the same grant, path and connection always have the
// same id (so that campaigns can be compared and links stay valid).
func itemID(conn, grantID, via string) string {
	sum := sha256.Sum256([]byte(conn + "\x00" + grantID + "\x00" + via))
	return "it-" + hex.EncodeToString(sum[:8])
}

// scopeAccounts resolves the scope's accounts and OUs (whole subtrees) to the accounts of
// ci; nil means no account filter.
func scopeAccounts(sc Scope, ci *connInventory) map[string]bool {
	if len(sc.Accounts) == 0 && len(sc.OUs) == 0 {
		return nil
	}
	out := map[string]bool{}
	for _, a := range sc.Accounts {
		out[a] = true
	}
	if len(sc.OUs) == 0 {
		return out
	}
	ous := map[string]bool{}
	for _, o := range sc.OUs {
		ous[o] = true
		// An OU may be named by its name too.
		for _, r := range ci.inv.Resources {
			if r.Type == "organizational_unit" && strings.EqualFold(r.DisplayName, o) {
				ous[r.ID] = true
			}
		}
	}
	for _, r := range ci.inv.Resources {
		if r.Type != "account" {
			continue
		}
		// Walk up the tree from the account: in scope when an ancestor is.
		parent, seen := r.ParentID, 0
		for parent != "" && seen < 64 {
			if ous[parent] {
				out[r.ID] = true
				break
			}
			p := ci.get("organizational_unit", parent)
			if p == nil {
				break
			}
			parent, seen = p.ParentID, seen+1
		}
	}
	return out
}

// loadInventory reads conn's inventory for the freeze.
func loadInventory(ctx context.Context, tx *store.Tx, conn store.Connection, accounts map[string]bool, filter bool) (*connInventory, error) {
	var accts []string
	if filter {
		for a := range accounts {
			accts = append(accts, a)
		}
		sort.Strings(accts)
		if len(accts) == 0 {
			accts = []string{"-"} // the scope's OUs hold no account: no grant is in scope
		}
	}
	inv, err := tx.ReviewInventory(ctx, conn.ID, inventoryTypes, reviewedPrincipals, accts)
	if err != nil {
		return nil, err
	}
	ci := &connInventory{conn: conn, inv: inv, res: map[string]*store.Resource{}, ssoByMail: map[string][]*store.Resource{},
		adminGroups: map[string]bool{}, policies: map[string]*store.Resource{}, sets: map[string]*store.Resource{},
		adminSets: map[string]bool{}, contexts: map[string]string{}}
	for i := range inv.Resources {
		r := &inv.Resources[i]
		ci.res[r.Type+"\x00"+r.ID] = r
		if r.Type == "permission_set" {
			ci.sets[r.ID[strings.LastIndex(r.ID, "/")+1:]] = r
		}
		if r.Type == "sso_user" {
			ci.hasSSO = true
			if r.Email != "" {
				ci.ssoByMail[strings.ToLower(r.Email)] = append(ci.ssoByMail[strings.ToLower(r.Email)], r)
			}
			if un := strings.ToLower(profileString(r.Profile, "user_name")); strings.Contains(un, "@") && un != strings.ToLower(r.Email) {
				ci.ssoByMail[un] = append(ci.ssoByMail[un], r)
			}
		}
	}
	return ci, nil
}

// selectItems reads conn's inventory and appends the items camp's scope selects to out.
func (s *Service) selectItems(ctx context.Context, tx *store.Tx, camp *Campaign, conn store.Connection, now time.Time, prev map[string]prevDecision, res *resolver, out *[]store.ReviewItem) error {
	sc := camp.Scope
	// A first read of the resources (no grants) resolves the OUs to accounts, so that the
	// grants are read for those accounts only.
	var accounts map[string]bool
	if len(sc.OUs) > 0 {
		pre, err := loadInventory(ctx, tx, conn, nil, true)
		if err != nil {
			return err
		}
		accounts = scopeAccounts(sc, pre)
	} else {
		accounts = scopeAccounts(sc, nil)
	}
	ci, err := loadInventory(ctx, tx, conn, accounts, accounts != nil)
	if err != nil {
		return err
	}
	if err := s.findAdminGroups(ctx, tx, ci); err != nil {
		return err
	}
	res.inv[conn.ID] = ci
	leases, err := s.activeLeases(ctx, conn.ID)
	if err != nil {
		return err
	}
	psIDs := permissionSetIDs(sc.PermissionSets, ci)
	ssoGroups := groupIDs(sc.SSOGroups, ci, "sso_group")
	iamGroups := groupIDs(sc.IAMGroups, ci, "iam_group")
	for _, g := range ci.inv.Grants {
		if len(sc.ResourceTypes) > 0 && !slices.Contains(sc.ResourceTypes, g.ResourceType) {
			continue
		}
		if psIDs != nil && (g.ResourceType != "account" || !psIDs[setOf(g.EntitlementID)]) {
			continue
		}
		if len(sc.IAMPolicies) > 0 && (g.ResourceType != "iam_policy" || !matchPolicy(sc.IAMPolicies, g.ResourceID)) {
			continue
		}
		var paths []string
		if g.Direct || len(g.Via) == 0 {
			paths = append(paths, ViaDirect)
		}
		paths = append(paths, g.Via...)
		for _, via := range paths {
			if ssoGroups != nil || iamGroups != nil {
				if !throughGroup(g, via, ssoGroups, iamGroups) {
					continue
				}
			}
			it := s.newItem(ci, camp, g, via, now)
			if lid, l := leaseOf(leases, g, via); lid != "" {
				it.Via, it.ViaName = ViaLeasePrefix+lid, "just-in-time lease"
				if l.EndsAt != nil {
					it.ViaName = "just-in-time lease until " + l.EndsAt.UTC().Format("2006-01-02 15:04 UTC")
				}
				it.ID = itemID(ci.conn.ID, g.ID, it.Via)
				it.Plan = planOf(it)
				var ctxv ItemContext
				_ = json.Unmarshal([]byte(it.Context), &ctxv)
				ctxv.LeaseID, ctxv.LeaseEndsAt = lid, l.EndsAt
				b, _ := json.Marshal(ctxv)
				it.Context = string(b)
			}
			var ictx ItemContext
			_ = json.Unmarshal([]byte(it.Context), &ictx)
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
				b, _ := json.Marshal(ictx)
				it.Context = string(b)
			}
			*out = append(*out, *it)
		}
	}
	// The grants are not needed any more: let a large freeze's memory go before the writes.
	ci.inv.Grants = nil
	return nil
}

// unused says whether an identity was not used in days: AWS reports a last use (or that
// there was none) for IAM users; Identity Center reports no sign-ins per user, so its
// users, and groups, are never selected as unused. An imported application's user is
// unused when its file gives a last login that old: a file without one says nothing.
func unused(c ItemContext, principalType string, now time.Time, days int) bool {
	if principalType == appUserType {
		return c.LastUsed != nil && c.LastUsed.Before(now.AddDate(0, 0, -days))
	}
	if principalType != "iam_user" {
		return false
	}
	return c.LastUsed == nil || c.LastUsed.Before(now.AddDate(0, 0, -days))
}

// setOf is the permission set id of an account entitlement (account:<id>:<ps id>).
func setOf(entitlementID string) string {
	return entitlementID[strings.LastIndex(entitlementID, ":")+1:]
}

// permissionSetIDs resolves the scope's permission sets (ids, ARNs or names) to ids; nil
// means no filter.
func permissionSetIDs(in []string, ci *connInventory) map[string]bool {
	if len(in) == 0 {
		return nil
	}
	out := map[string]bool{}
	for _, v := range in {
		out[v[strings.LastIndex(v, "/")+1:]] = true
		for _, r := range ci.inv.Resources {
			if r.Type == "permission_set" && r.DisplayName == v {
				out[r.ID[strings.LastIndex(r.ID, "/")+1:]] = true
			}
		}
	}
	return out
}

// groupIDs resolves group ids, ARNs or names of typ to ids; nil means no filter.
func groupIDs(in []string, ci *connInventory, typ string) map[string]bool {
	if len(in) == 0 {
		return nil
	}
	out := map[string]bool{}
	for _, v := range in {
		out[v] = true
		for _, r := range ci.inv.Resources {
			if r.Type == typ && strings.EqualFold(r.DisplayName, v) {
				out[r.ID] = true
			}
		}
	}
	return out
}

// matchPolicy says whether the policy ARN is one of want (ARNs or names).
func matchPolicy(want []string, arn string) bool {
	name := arn[strings.LastIndex(arn, "/")+1:]
	for _, w := range want {
		if w == arn || strings.EqualFold(w, name) {
			return true
		}
	}
	return false
}

// groupOfVia is the group behind a membership entitlement (sso_group:<id>:member,
// iam_group:<arn>:member) and its type.
func groupOfVia(via string) (typ, id string) {
	for _, t := range []string{"sso_group", "iam_group"} {
		if strings.HasPrefix(via, t+":") && strings.HasSuffix(via, ":member") {
			return t, strings.TrimSuffix(strings.TrimPrefix(via, t+":"), ":member")
		}
	}
	return "", ""
}

// throughGroup says whether the access is held through, granted to, or is membership of
// one of the groups.
func throughGroup(g store.Grant, via string, sso, iam map[string]bool) bool {
	in := func(typ, id string) bool {
		return (typ == "sso_group" && sso[id]) || (typ == "iam_group" && iam[id])
	}
	if t, id := groupOfVia(via); t != "" && in(t, id) {
		return true
	}
	return in(g.PrincipalType, g.PrincipalID) || in(g.ResourceType, g.ResourceID)
}

// newItem makes the item of grant g held through via.
func (s *Service) newItem(ci *connInventory, camp *Campaign, g store.Grant, via string, now time.Time) *store.ReviewItem {
	it := &store.ReviewItem{CampaignID: camp.ID, ID: itemID(ci.conn.ID, g.ID, via), ConnectionID: ci.conn.ID, GrantID: g.ID,
		EntitlementID: g.EntitlementID, EntitlementName: g.EntitlementName, ResourceType: g.ResourceType, ResourceID: g.ResourceID,
		AccountID: g.AccountID, PrincipalType: g.PrincipalType, PrincipalID: g.PrincipalID, Via: via, Since: g.FirstSeen,
		State: string(ItemPending), UpdatedAt: now}
	if r := ci.get(g.ResourceType, g.ResourceID); r != nil {
		it.ResourceName = r.DisplayName
	} else if g.ResourceType == "iam_policy" {
		it.ResourceName = g.ResourceID[strings.LastIndex(g.ResourceID, "/")+1:]
	}
	if a := ci.get("account", g.AccountID); a != nil {
		it.AccountName = a.DisplayName
	}
	if it.EntitlementName == "" {
		it.EntitlementName = g.EntitlementID
	}
	p := ci.get(g.PrincipalType, g.PrincipalID)
	if p != nil {
		it.PrincipalName = p.DisplayName
		if g.PrincipalType == "sso_user" || g.PrincipalType == "iam_user" {
			it.Identity = strings.ToLower(p.Email)
		}
	}
	if it.PrincipalName == "" {
		it.PrincipalName = g.PrincipalID[strings.LastIndex(g.PrincipalID, "/")+1:]
	}
	switch t, id := groupOfVia(via); t {
	case "sso_group":
		it.ViaName = "group " + nameOr(ci.get(t, id), id)
	case "iam_group":
		it.ViaName = "group " + nameOr(ci.get(t, id), id[strings.LastIndex(id, "/")+1:])
	default:
		it.ViaName = "direct"
	}
	it.AdminLevel = s.adminLevel(ci, g, via)
	key := g.PrincipalType + "\x00" + g.PrincipalID + "\x00" + g.Scope
	if c, ok := ci.contexts[key]; ok {
		it.Context = c
	} else {
		b, _ := json.Marshal(itemContext(ci, g, p, it.Identity))
		it.Context = string(b)
		ci.contexts[key] = it.Context
	}
	it.Plan = planOf(it)
	return it
}

// planOf says what a revoke of the item would change (remediate.go), shown before deciding.
func planOf(it *store.ReviewItem) string {
	var app string
	if it.PrincipalType == appUserType {
		var c ItemContext
		_ = json.Unmarshal([]byte(it.Context), &c)
		app = c.Application
	}
	return planRemediation(&Item{Application: app, ConnectionID: it.ConnectionID, GrantID: it.GrantID, EntitlementID: it.EntitlementID,
		EntitlementName: it.EntitlementName, ResourceType: it.ResourceType, ResourceID: it.ResourceID, ResourceName: it.ResourceName,
		AccountID: it.AccountID, AccountName: it.AccountName, PrincipalType: it.PrincipalType, PrincipalID: it.PrincipalID,
		PrincipalName: it.PrincipalName, Identity: it.Identity, Via: it.Via, ViaName: it.ViaName}).Description
}

func nameOr(r *store.Resource, def string) string {
	if r != nil && r.DisplayName != "" {
		return r.DisplayName
	}
	return def
}

// itemContext is what the reviewer sees of the identity: last use, MFA, whether the person
// is still active.
func itemContext(ci *connInventory, g store.Grant, p *store.Resource, identity string) ItemContext {
	var c ItemContext
	t := true
	f := false
	switch g.PrincipalType {
	case "sso_user":
		c.LastUsedSource = "Identity Center does not report sign-ins per user"
		if p != nil {
			if active, ok := profileBool(p.Profile, "active"); ok && !active {
				c.Active, c.Status = &f, "disabled in Identity Center"
			} else {
				c.Active, c.Status = &t, "active"
			}
		}
	case "iam_user":
		if p == nil {
			break
		}
		if v, ok := profileBool(p.Profile, "mfa_active"); ok {
			c.MFA = &v
		}
		var last *time.Time
		source := "never used (credential report)"
		if ts := parseTime(profileString(p.Profile, "password_last_used")); ts != nil {
			last, source = ts, "console sign-in"
		}
		for _, k := range profileObjects(p.Profile, "access_keys") {
			if ts := parseTime(stringOf(k["last_used"])); ts != nil && (last == nil || ts.After(*last)) {
				last, source = ts, "access key last used"
			}
		}
		c.LastUsed, c.LastUsedSource = last, source
		c.Active, c.Status = &t, "active"
		if identity == "" {
			c.Status = "no person: the IAM user carries no email"
			break
		}
		// The person behind the IAM user: gone from (or disabled in) Identity Center means
		// they left.
		if users := ci.ssoByMail[identity]; len(users) > 0 {
			if active, ok := profileBool(users[0].Profile, "active"); ok && !active {
				c.Active, c.Status = &f, "disabled in Identity Center"
			}
		} else if ci.hasSSO {
			c.Active, c.Status = &f, "no Identity Center user has this email (left?)"
		}
	}
	if r, ok := ci.inv.Reads[g.Scope]; ok && g.Scope != "" && r.Stale {
		msg := "account " + g.Scope + " could not be read by the latest sync: this is its access as last read"
		if r.LastReadAt != nil {
			msg += " (" + r.LastReadAt.UTC().Format(time.RFC3339) + ")"
		}
		if c.Status != "" {
			c.Status += "; "
		}
		c.Status += msg
	}
	return c
}

func parseTime(s string) *time.Time {
	if s == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return nil
	}
	t = t.UTC()
	return &t
}

func stringOf(v any) string { s, _ := v.(string); return s }

func profileString(p json.RawMessage, key string) string {
	var m map[string]any
	if json.Unmarshal(p, &m) != nil {
		return ""
	}
	return stringOf(m[key])
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
	var out []string
	for _, v := range asSlice(m[key]) {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func profileObjects(p json.RawMessage, key string) []map[string]any {
	var m map[string]any
	if json.Unmarshal(p, &m) != nil {
		return nil
	}
	var out []map[string]any
	for _, v := range asSlice(m[key]) {
		if o, ok := v.(map[string]any); ok {
			out = append(out, o)
		}
	}
	return out
}

func asSlice(v any) []any { s, _ := v.([]any); return s }

// adminLevel says whether the access is admin-level: an admin permission set, an admin
// policy, or membership of a group holding such.
func (s *Service) adminLevel(ci *connInventory, g store.Grant, via string) bool {
	switch g.ResourceType {
	case "account":
		id := setOf(g.EntitlementID)
		if v, ok := ci.adminSets[id]; ok {
			return v
		}
		ps := ci.permissionSet(id)
		ci.adminSets[id] = ps != nil && adminSet(ps)
		return ci.adminSets[id]
	case "iam_policy":
		return ci.adminPolicy(g.ResourceID)
	case "sso_group", "iam_group":
		return ci.adminGroups[g.ResourceID]
	}
	return false
}

// permissionSet finds a permission set by id.
func (ci *connInventory) permissionSet(id string) *store.Resource { return ci.sets[id] }

// adminSet says whether a permission set is admin-level.
func adminSet(ps *store.Resource) bool {
	if slices.Contains(adminSetNames, ps.DisplayName) {
		return true
	}
	for _, p := range profileStrings(ps.Profile, "managed_policies") {
		if slices.Contains(adminPolicies, p) {
			return true
		}
	}
	return allowsEverything(profileString(ps.Profile, "inline_policy"))
}

// adminPolicy says whether the IAM policy arn is admin-level: AdministratorAccess,
// IAMFullAccess, or a policy whose document (in its inventory profile) allows * on *.
func (ci *connInventory) adminPolicy(arn string) bool {
	if slices.Contains(adminPolicies, arn) {
		return true
	}
	p := ci.policies[arn]
	if p == nil {
		return false
	}
	return allowsEverything(profileString(p.Profile, "document")) || allowsEverything(profileString(p.Profile, "policy_document"))
}

// allowsEverything says whether a policy document has a statement allowing every action
// on every resource.
func allowsEverything(doc string) bool {
	if doc == "" {
		return false
	}
	var d struct {
		Statement json.RawMessage
	}
	if json.Unmarshal([]byte(doc), &d) != nil {
		return false
	}
	var stmts []map[string]any
	if json.Unmarshal(d.Statement, &stmts) != nil {
		var one map[string]any
		if json.Unmarshal(d.Statement, &one) != nil {
			return false
		}
		stmts = []map[string]any{one}
	}
	has := func(v any, want string) bool {
		switch x := v.(type) {
		case string:
			return x == want
		case []any:
			for _, e := range x {
				if s, _ := e.(string); s == want {
					return true
				}
			}
		}
		return false
	}
	for _, st := range stmts {
		if stringOf(st["Effect"]) == "Allow" && (has(st["Action"], "*") || has(st["Action"], "*:*")) && has(st["Resource"], "*") {
			return true
		}
	}
	return false
}

// findAdminGroups marks the groups holding admin-level access among the grants read, and
// reads the profiles of the customer policies granted (for their documents).
func (s *Service) findAdminGroups(ctx context.Context, tx *store.Tx, ci *connInventory) error {
	var arns []string
	for _, g := range ci.inv.Grants {
		if g.ResourceType == "iam_policy" && !slices.Contains(adminPolicies, g.ResourceID) && !strings.HasPrefix(g.ResourceID, "arn:aws:iam::aws:policy/") {
			arns = append(arns, g.ResourceID)
		}
	}
	if len(arns) > 0 {
		pols, err := tx.ReviewResources(ctx, ci.conn.ID, "iam_policy", arns)
		if err != nil {
			return err
		}
		for i := range pols {
			ci.policies[pols[i].ID] = &pols[i]
		}
	}
	for _, g := range ci.inv.Grants {
		if g.PrincipalType != "sso_group" && g.PrincipalType != "iam_group" {
			continue
		}
		if s.adminLevel(ci, g, ViaDirect) {
			ci.adminGroups[g.PrincipalID] = true
		}
	}
	return nil
}

// prevDecision is the previous campaign's decision on one item.
type prevDecision struct{ campaign, decision, reason, by string }

// previousDecisions reads the decided items of the previous campaign, by connection,
// grant and path.
func (s *Service) previousDecisions(ctx context.Context, tx *store.Tx, campaignID string) (map[string]prevDecision, error) {
	out := map[string]prevDecision{}
	if campaignID == "" {
		return out, nil
	}
	p := store.Page{Size: store.MaxPageSize}
	for {
		items, next, err := tx.ListReviewItems(ctx, store.ReviewItemFilter{CampaignID: campaignID}, p)
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			if it.Decision != "" {
				out[it.ConnectionID+"\x00"+it.GrantID+"\x00"+it.Via] = prevDecision{campaignID, it.Decision, it.Reason, it.DecidedBy}
			}
		}
		if next == "" {
			return out, nil
		}
		p.Token = next
	}
}

// activeLeases are the connection's active just-in-time leases.
func (s *Service) activeLeases(ctx context.Context, connectionID string) ([]store.Lease, error) {
	var out []store.Lease
	p := store.Page{Size: store.MaxPageSize}
	for {
		ls, next, err := s.st.ListLeases(ctx, store.LeaseFilter{States: []string{store.LeaseActive}}, p)
		if err != nil {
			return nil, err
		}
		for _, l := range ls {
			if l.ConnectionID == connectionID && !l.Standing {
				out = append(out, l)
			}
		}
		if next == "" {
			return out, nil
		}
		p.Token = next
	}
}

// leaseOf finds the active lease behind a directly held grant: its target names the
// grant's entitlement and principal.
func leaseOf(leases []store.Lease, g store.Grant, via string) (string, *store.Lease) {
	if via != ViaDirect {
		return "", nil
	}
	for i := range leases {
		var t struct {
			EntitlementID string `json:"entitlement_id"`
			PrincipalID   string `json:"principal_id"`
		}
		if json.Unmarshal([]byte(leases[i].Target), &t) == nil && t.EntitlementID == g.EntitlementID && t.PrincipalID == g.PrincipalID {
			return leases[i].ID, &leases[i]
		}
	}
	return "", nil
}
