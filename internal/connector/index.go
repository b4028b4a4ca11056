package connector

import (
	"cmp"
	"regexp"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse/internal/inventory"
)

// index is the snapshot sorted and cross-referenced once, so that every List, Entitlements
// and Grants call is a slice of an ordered list. Everything is sorted by resource id, which
// makes the offsets in page tokens stable and the output deterministic.
type index struct {
	snap     *inventory.Snapshot
	features Features

	accounts      []*inventory.Account
	accountByID   map[string]*inventory.Account
	accountParent map[string]string               // account id -> unit id, "" = listed without a parent
	accountsUnder map[string][]*inventory.Account // unit id ("" = no parent) -> accounts
	unitByID      map[string]*inventory.OrgUnit   // only with Organizations
	unitParent    map[string]string               // unit id -> parent unit id, "" = listed without a parent
	unitsUnder    map[string][]*inventory.OrgUnit // unit id ("" = no parent) -> units
	iam           map[string]*accountIAM          // synced accounts only
	policies      map[string]*policyInfo          // every iam_policy resource, by resource id
	awsManaged    []*policyInfo                   // AWS-managed policies, listed without a parent
	ic            *identityCenterIndex            // nil without Identity Center
	reservedRoles map[string]string               // role ARN -> permission set ARN
	groupByARN    map[string]iamGroupRef          // IAM group ARN -> group and its account
}

type iamGroupRef struct {
	ai    *accountIAM
	group *inventory.Group
}

// accountIAM is one synced account's IAM, sorted.
type accountIAM struct {
	account      *inventory.Account
	users        []*inventory.User
	groups       []*inventory.Group
	roles        []*inventory.Role
	policies     []*policyInfo // customer-managed and inline, sorted by resource id
	accessKeys   []*inventory.AccessKey
	groupByName  map[string]*inventory.Group
	groupMembers map[string][]*inventory.User // group name -> members
	report       map[string]*inventory.CredentialReportRow
	userCreds    map[string]*inventory.CredentialReportRow // users the report does not cover
	rootReport   *inventory.CredentialReportRow
	mfa          map[string][]*inventory.MFADevice // user name -> devices
	keys         map[string][]*inventory.AccessKey // user name -> keys (secret sync only)
	userByName   map[string]*inventory.User
}

// policyInfo is one iam_policy resource: a customer-managed policy of one account, an
// AWS-managed policy merged across every account it is attached in, or an inline policy
// of one user, group or role.
type policyInfo struct {
	arn       string                   // the resource id: the policy ARN, or inlinePolicyID for an inline policy
	policy    *inventory.ManagedPolicy // nil for an AWS-managed policy seen only in attachments, and for inline policies
	inline    *inlineInfo              // nil for managed policies
	accountID string                   // "" for AWS-managed
	accounts  []string                 // AWS-managed: the accounts it is attached in
	attached  int                      // attachment count, summed over accounts
	holders   []principalRef           // attached principals, sorted
}

// inlineInfo is an inline policy and the one principal it is embedded in. The document is
// the snapshot's string, not a copy.
type inlineInfo struct {
	name      string
	document  string
	owner     principalRef
	ownerName string
}

// inlinePolicySep separates the owner's ARN from the policy name in an inline policy's
// resource id. Inline policies have no ARN of their own; policy names cannot contain "/",
// so the last occurrence of the separator always splits the id correctly.
const inlinePolicySep = "/inline/"

// inlinePolicyID is the resource id of an inline policy: its owner's ARN, "/inline/" and
// its name, e.g. arn:aws:iam::111111111111:group/developers/inline/deny-iam-writes. It is
// stable for as long as the owner keeps its ARN (name and path) and the policy its name: IAM
// identifies an inline policy by exactly these.
func inlinePolicyID(ownerARN, name string) string { return ownerARN + inlinePolicySep + name }

// principalRef names a grant principal by resource type and id.
type principalRef struct {
	typ string
	id  string
}

// principalOrder sorts users before groups before roles, then by id, so that the grants of a
// policy read the way the IAM console lists them.
func principalOrder(a, b principalRef) int {
	rank := func(t string) int {
		switch t {
		case TypeIAMUser, TypeSSOUser:
			return 0
		case TypeIAMGroup, TypeSSOGroup:
			return 1
		default:
			return 2
		}
	}
	return cmp.Or(cmp.Compare(rank(a.typ), rank(b.typ)), cmp.Compare(a.id, b.id))
}

type identityCenterIndex struct {
	ic             *inventory.IdentityCenter
	users          []*inventory.SSOUser
	userByID       map[string]*inventory.SSOUser
	groups         []*inventory.SSOGroup
	groupByID      map[string]*inventory.SSOGroup
	members        map[string][]string // group id -> user ids that exist, sorted
	userGroups     map[string][]string // user id -> group ids, sorted
	permissionSets []*inventory.PermissionSet
	psByARN        map[string]*inventory.PermissionSet
	assignments    map[string][]*inventory.Assignment // account id -> assignments that resolve, sorted
	provisionedTo  map[string][]string                // permission set ARN -> account ids
}

func newIndex(s *inventory.Snapshot, f Features) *index {
	x := &index{
		snap:          s,
		features:      f,
		accountByID:   map[string]*inventory.Account{},
		accountParent: map[string]string{},
		accountsUnder: map[string][]*inventory.Account{},
		unitByID:      map[string]*inventory.OrgUnit{},
		unitParent:    map[string]string{},
		unitsUnder:    map[string][]*inventory.OrgUnit{},
		iam:           map[string]*accountIAM{},
		policies:      map[string]*policyInfo{},
		reservedRoles: map[string]string{},
		groupByARN:    map[string]iamGroupRef{},
	}

	if f.Organizations && s.Org != nil {
		units := sortedBy(s.Org.Units, func(u *inventory.OrgUnit) string { return u.ID })
		for _, u := range units {
			x.unitByID[u.ID] = u
		}
		// A unit whose parent is missing from the snapshot is listed at the top, so that
		// it is listed exactly once.
		for _, u := range units {
			parent := u.ParentID
			if _, ok := x.unitByID[parent]; !ok || parent == u.ID {
				parent = ""
			}
			x.unitParent[u.ID] = parent
			x.unitsUnder[parent] = append(x.unitsUnder[parent], u)
		}
	}

	x.accounts = sortedBy(s.Accounts, func(a *inventory.Account) string { return a.ID })
	for _, a := range x.accounts {
		x.accountByID[a.ID] = a
		parent := a.ParentID
		if _, ok := x.unitByID[parent]; !ok {
			parent = ""
		}
		x.accountParent[a.ID] = parent
		x.accountsUnder[parent] = append(x.accountsUnder[parent], a)
	}

	if s.IdentityCenter != nil && f.IdentityCenter {
		x.ic = newIdentityCenterIndex(s.IdentityCenter, x.accountByID)
	}

	for _, a := range x.accounts {
		if a.Synced && a.IAM != nil {
			x.iam[a.ID] = x.newAccountIAM(a)
		}
	}
	x.indexAttachments()
	return x
}

func (x *index) newAccountIAM(a *inventory.Account) *accountIAM {
	in := a.IAM
	ai := &accountIAM{
		account:      a,
		users:        sortedBy(in.Users, func(u *inventory.User) string { return u.ARN }),
		groups:       sortedBy(in.Groups, func(g *inventory.Group) string { return g.ARN }),
		roles:        sortedBy(in.Roles, func(r *inventory.Role) string { return r.ARN }),
		groupByName:  map[string]*inventory.Group{},
		groupMembers: map[string][]*inventory.User{},
		report:       map[string]*inventory.CredentialReportRow{},
		userCreds:    map[string]*inventory.CredentialReportRow{},
		mfa:          map[string][]*inventory.MFADevice{},
		keys:         map[string][]*inventory.AccessKey{},
		userByName:   map[string]*inventory.User{},
	}
	for _, g := range ai.groups {
		ai.groupByName[g.Name] = g
		x.groupByARN[g.ARN] = iamGroupRef{ai, g}
	}
	for _, u := range ai.users {
		ai.userByName[u.Name] = u
		for _, gname := range dedupe(u.Groups) {
			if _, ok := ai.groupByName[gname]; ok {
				ai.groupMembers[gname] = append(ai.groupMembers[gname], u)
			}
		}
	}
	for _, row := range in.CredentialReport {
		if row.User == "<root_account>" {
			ai.rootReport = row
			continue
		}
		ai.report[row.User] = row
	}
	for _, row := range in.UserCredentials {
		ai.userCreds[row.User] = row
	}
	for _, d := range sortedBy(in.MFADevices, func(d *inventory.MFADevice) string { return d.Serial }) {
		ai.mfa[d.UserName] = append(ai.mfa[d.UserName], d)
	}
	if x.features.AccessKeys {
		for _, k := range sortedBy(in.AccessKeys, func(k *inventory.AccessKey) string { return k.ID }) {
			// A key whose user is not in the snapshot would be a secret without an owner.
			if _, ok := ai.userByName[k.UserName]; !ok {
				continue
			}
			ai.accessKeys = append(ai.accessKeys, k)
			ai.keys[k.UserName] = append(ai.keys[k.UserName], k)
		}
	}
	for _, p := range sortedBy(in.Policies, func(p *inventory.ManagedPolicy) string { return p.ARN }) {
		if p.AWSManaged || isAWSManagedPolicyARN(p.ARN) {
			pi := x.awsManagedPolicy(p.ARN)
			if pi.policy == nil {
				pi.policy = p
			}
			pi.attached += int(p.AttachmentCount)
			if p.AttachmentCount > 0 {
				pi.accounts = appendOnce(pi.accounts, a.ID)
			}
			continue
		}
		if _, dup := x.policies[p.ARN]; dup {
			continue
		}
		pi := &policyInfo{arn: p.ARN, policy: p, accountID: a.ID, attached: int(p.AttachmentCount)}
		x.policies[p.ARN] = pi
		ai.policies = append(ai.policies, pi)
	}
	// Inline policies are resources too: what a user, group or role may do is as much in
	// them as in managed policies, and a group's inline policy reaches every member.
	for _, u := range ai.users {
		x.addInline(ai, principalRef{TypeIAMUser, u.ARN}, u.Name, u.InlinePolicies)
	}
	for _, g := range ai.groups {
		x.addInline(ai, principalRef{TypeIAMGroup, g.ARN}, g.Name, g.InlinePolicies)
	}
	for _, r := range ai.roles {
		x.addInline(ai, principalRef{TypeIAMRole, r.ARN}, r.Name, r.InlinePolicies)
	}
	slices.SortFunc(ai.policies, func(a, b *policyInfo) int { return cmp.Compare(a.arn, b.arn) })
	if x.ic != nil {
		for _, r := range ai.roles {
			if arn := x.ic.reservedRolePermissionSet(r); arn != "" {
				x.reservedRoles[r.ARN] = arn
			}
		}
	}
	return ai
}

// addInline makes each inline policy of one owner an iam_policy resource of the account,
// attached to its owner alone.
func (x *index) addInline(ai *accountIAM, owner principalRef, ownerName string, policies []inventory.InlinePolicy) {
	for _, ip := range policies {
		id := inlinePolicyID(owner.id, ip.Name)
		if _, dup := x.policies[id]; dup {
			continue
		}
		pi := &policyInfo{arn: id, accountID: ai.account.ID, attached: 1, holders: []principalRef{owner},
			inline: &inlineInfo{name: ip.Name, document: ip.Document, owner: owner, ownerName: ownerName}}
		x.policies[id] = pi
		ai.policies = append(ai.policies, pi)
	}
}

// awsManagedPolicy returns the one resource of an AWS-managed policy, creating it on first
// sight: the same ARN is attached in many accounts and must be listed once.
func (x *index) awsManagedPolicy(arn string) *policyInfo {
	if pi, ok := x.policies[arn]; ok {
		return pi
	}
	pi := &policyInfo{arn: arn}
	x.policies[arn] = pi
	return pi
}

// indexAttachments records who holds each policy. An AWS-managed policy referenced by an
// attachment but absent from the account's policy list still becomes a resource, so no
// attachment is lost to an incomplete fetch.
func (x *index) indexAttachments() {
	attach := func(accountID, policyARN string, holder principalRef) {
		pi, ok := x.policies[policyARN]
		if !ok {
			if !isAWSManagedPolicyARN(policyARN) {
				return // a customer-managed policy we did not fetch: nothing to grant on
			}
			pi = x.awsManagedPolicy(policyARN)
		}
		if pi.accountID == "" {
			pi.accounts = appendOnce(pi.accounts, accountID)
		}
		pi.holders = append(pi.holders, holder)
	}
	for _, a := range x.accounts {
		ai := x.iam[a.ID]
		if ai == nil {
			continue
		}
		for _, u := range ai.users {
			for _, arn := range dedupe(u.AttachedPolicies) {
				attach(a.ID, arn, principalRef{TypeIAMUser, u.ARN})
			}
		}
		for _, g := range ai.groups {
			for _, arn := range dedupe(g.AttachedPolicies) {
				attach(a.ID, arn, principalRef{TypeIAMGroup, g.ARN})
			}
		}
		for _, r := range ai.roles {
			for _, arn := range dedupe(r.AttachedPolicies) {
				attach(a.ID, arn, principalRef{TypeIAMRole, r.ARN})
			}
		}
	}
	for _, pi := range x.policies {
		slices.SortFunc(pi.holders, principalOrder)
		slices.Sort(pi.accounts)
		if pi.accountID == "" && (len(pi.holders) > 0 || pi.attached > 0) {
			x.awsManaged = append(x.awsManaged, pi)
		}
		if pi.accountID == "" && pi.attached < len(pi.holders) {
			// AttachmentCount is per account and may be missing; what we saw is a floor.
			pi.attached = len(pi.holders)
		}
	}
	slices.SortFunc(x.awsManaged, func(a, b *policyInfo) int { return cmp.Compare(a.arn, b.arn) })
}

func newIdentityCenterIndex(ic *inventory.IdentityCenter, accounts map[string]*inventory.Account) *identityCenterIndex {
	x := &identityCenterIndex{
		ic:            ic,
		users:         sortedBy(ic.Users, func(u *inventory.SSOUser) string { return u.ID }),
		userByID:      map[string]*inventory.SSOUser{},
		groups:        sortedBy(ic.Groups, func(g *inventory.SSOGroup) string { return g.ID }),
		groupByID:     map[string]*inventory.SSOGroup{},
		members:       map[string][]string{},
		userGroups:    map[string][]string{},
		psByARN:       map[string]*inventory.PermissionSet{},
		assignments:   map[string][]*inventory.Assignment{},
		provisionedTo: map[string][]string{},
	}
	for _, u := range x.users {
		x.userByID[u.ID] = u
	}
	for _, g := range x.groups {
		x.groupByID[g.ID] = g
	}
	for gid, uids := range ic.Members {
		if _, ok := x.groupByID[gid]; !ok {
			continue
		}
		var known []string
		for _, uid := range dedupe(uids) {
			if _, ok := x.userByID[uid]; ok {
				known = append(known, uid)
			}
		}
		slices.Sort(known)
		x.members[gid] = known
	}
	for _, g := range x.groups {
		for _, uid := range x.members[g.ID] {
			x.userGroups[uid] = append(x.userGroups[uid], g.ID)
		}
	}
	x.permissionSets = sortedBy(ic.PermissionSets, func(p *inventory.PermissionSet) string { return p.ARN })
	for _, p := range x.permissionSets {
		x.psByARN[p.ARN] = p
	}
	for accountID, arns := range ic.Provisioned {
		for _, arn := range dedupe(arns) {
			x.provisionedTo[arn] = append(x.provisionedTo[arn], accountID)
		}
	}
	for arn := range x.provisionedTo {
		slices.Sort(x.provisionedTo[arn])
	}
	seen := map[inventory.Assignment]bool{}
	for _, as := range ic.Assignments {
		if as == nil || seen[*as] {
			continue
		}
		seen[*as] = true
		// An assignment only becomes a grant when every end of it is a resource we list:
		// a grant to a principal or on an entitlement that does not exist is a dangling
		// reference in the .c1z.
		if _, ok := accounts[as.AccountID]; !ok {
			continue
		}
		if _, ok := x.psByARN[as.PermissionSetARN]; !ok {
			continue
		}
		if x.principal(as.PrincipalType, as.PrincipalID) == (principalRef{}) {
			continue
		}
		x.assignments[as.AccountID] = append(x.assignments[as.AccountID], as)
	}
	for _, list := range x.assignments {
		slices.SortFunc(list, func(a, b *inventory.Assignment) int {
			return cmp.Or(
				cmp.Compare(a.PermissionSetARN, b.PermissionSetARN),
				principalOrder(x.principal(a.PrincipalType, a.PrincipalID), x.principal(b.PrincipalType, b.PrincipalID)),
			)
		})
	}
	return x
}

// principal resolves an assignment's principal to its resource, or the zero value when the
// identity store has no such user or group.
func (x *identityCenterIndex) principal(principalType, id string) principalRef {
	switch principalType {
	case "USER":
		if _, ok := x.userByID[id]; ok {
			return principalRef{TypeSSOUser, id}
		}
	case "GROUP":
		if _, ok := x.groupByID[id]; ok {
			return principalRef{TypeSSOGroup, id}
		}
	}
	return principalRef{}
}

// reservedRoleName matches the roles Identity Center creates when it provisions a
// permission set into an account: AWSReservedSSO_<permission set name>_<16 hex>.
var reservedRoleName = regexp.MustCompile(`^AWSReservedSSO_(.+)_[0-9a-f]{16}$`)

// reservedRolePermissionSet links a reserved SSO role to its permission set. The fetcher's
// link wins; otherwise the permission set is found by the name embedded in the role name,
// which is unique within an instance.
func (x *identityCenterIndex) reservedRolePermissionSet(r *inventory.Role) string {
	if r.PermissionSetARN != "" {
		if _, ok := x.psByARN[r.PermissionSetARN]; ok {
			return r.PermissionSetARN
		}
		return ""
	}
	if !strings.HasPrefix(r.Path, "/aws-reserved/sso.amazonaws.com/") {
		return ""
	}
	m := reservedRoleName.FindStringSubmatch(r.Name)
	if m == nil {
		return ""
	}
	for _, p := range x.permissionSets {
		if p.Name == m[1] {
			return p.ARN
		}
	}
	return ""
}

// isAWSManagedPolicyARN reports whether arn names an AWS-managed policy
// (arn:<partition>:iam::aws:policy/...), in any partition.
func isAWSManagedPolicyARN(arn string) bool {
	parts := strings.SplitN(arn, ":", 6)
	return len(parts) == 6 && parts[2] == "iam" && parts[4] == "aws" && strings.HasPrefix(parts[5], "policy/")
}

// sortedBy returns a copy of items without nils, sorted by key; the snapshot is not mutated.
func sortedBy[T any](items []*T, key func(*T) string) []*T {
	out := make([]*T, 0, len(items))
	for _, it := range items {
		if it != nil {
			out = append(out, it)
		}
	}
	slices.SortStableFunc(out, func(a, b *T) int { return cmp.Compare(key(a), key(b)) })
	return out
}

func dedupe(items []string) []string {
	out := slices.Clone(items)
	slices.Sort(out)
	return slices.Compact(out)
}

func appendOnce(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}
