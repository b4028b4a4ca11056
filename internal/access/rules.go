// Package access decides what can be requested just in time, by whom, for how long and under
// which approval policy. Requestability rules (a RuleSet, written by admins as YAML) are matched
// against a target entitlement; the most specific matching rule decides, and the Decision says in
// plain words which rule applies and why. Approval policies (policy.go) live in the same YAML
// document under policies:, and approval.go is the pure approval engine: who may approve which
// step of a request. The package talks to nothing (no store, no AWS); internal/jit does.
package access

import (
	"fmt"
	"strings"
	"time"
)

// ResourceType is the kind of access a rule can make requestable. The names are the connector's
// resource types.
type ResourceType string

// The three kinds of access Gatehouse provisions.
const (
	// ResourceAccount is an account + permission set assignment for an Identity Center user.
	ResourceAccount ResourceType = "account"
	// ResourceSSOGroup is membership of an Identity Center group.
	ResourceSSOGroup ResourceType = "sso_group"
	// ResourceIAMGroup is membership of an IAM group (for an IAM user in a member account).
	ResourceIAMGroup ResourceType = "iam_group"
	// ResourceAppResource is an entitlement of an application imported from files
	// (internal/appimport): granted and revoked by the application's owner, not by Gatehouse.
	ResourceAppResource ResourceType = "app_resource"
)

// resourceTypes lists the valid resource types in the order messages name them.
var resourceTypes = []ResourceType{ResourceAccount, ResourceSSOGroup, ResourceIAMGroup, ResourceAppResource}

// awsTypes are the resource types of AWS (application "aws").
var awsTypes = []ResourceType{ResourceAccount, ResourceSSOGroup, ResourceIAMGroup}

// DefaultApplication is the application a rule matches when it names none.
const DefaultApplication = "aws"

// Duration limits. MinDuration keeps a lease long enough to be provisioned and used (the demo
// relies on one-minute leases); MaxDurationLimit keeps just-in-time access temporary: access
// needed for more than a week is standing access and belongs in a review, not a lease.
const (
	MinDuration      = time.Minute
	MaxDurationLimit = 7 * 24 * time.Hour

	// DefaultDefaultDuration and DefaultMaxDuration apply when a rule omits them.
	DefaultDefaultDuration = time.Hour
	DefaultMaxDuration     = 8 * time.Hour
)

// Rule makes some access requestable by some people.
type Rule struct {
	// Name is unique within a RuleSet; the UI and messages use it.
	Name        string
	Description string
	Match       Match
	Requesters  Requesters
	Duration    Duration
	// ReasonRequired makes the requester write why they need the access.
	ReasonRequired bool
	// ApprovalPolicy names the approval policy a request under this rule goes through.
	ApprovalPolicy string
	// BreakGlass allows self-approved emergency access: granted at once, the approvers are
	// alerted, and an approver must review it after the fact.
	BreakGlass bool
	// EndSessions makes revoking also end the requester's live sessions (opt-in: it edits the
	// permission set's inline policy for a while).
	EndSessions bool

	// line is where the rule starts in its YAML file (0 when built in code); messages use it.
	line int
}

// Match says which targets a rule covers. Every list that is set must hold for the target (an
// empty list means "any"); a target without the attribute a list names (an Identity Center
// group has no account or permission set) does not match that list.
type Match struct {
	// Application is "aws" unless set.
	Application string
	// ResourceTypes is never empty after parsing: [account] unless set.
	ResourceTypes []ResourceType
	// Accounts holds account ids (12 digits) or account names.
	Accounts []string
	// OUs holds organizational unit ids (or the root id); each covers its whole subtree.
	OUs []string
	// PermissionSets holds permission set names (compared case-insensitively) or ids (ps-...).
	PermissionSets []string
	// Groups holds group names or ids, for group membership requests.
	Groups []string
	// Entitlements holds entitlements of an imported application (resource type
	// app_resource): "<resource type>/<resource name>/<entitlement>" as the application's
	// files spell them (compared normalised: any case, whitespace collapsed), or entitlement
	// ids (app_resource:...).
	Entitlements []string
}

// Requesters says who may request what a rule covers.
type Requesters struct {
	// Everyone means every signed-in person.
	Everyone bool
	// Groups holds Identity Center group names or ids; members may request.
	Groups []string
	// People holds email addresses, compared case-insensitively.
	People []string
}

// Duration bounds a lease under a rule.
type Duration struct {
	Default time.Duration
	Max     time.Duration
}

// RuleSet is an ordered list of rules. Order matters only to break ties between equally
// specific rules: the earlier rule wins.
type RuleSet struct {
	Rules []Rule
}

// Target is the access someone wants to request, described with what the inventory knows.
type Target struct {
	// Application is "aws" when empty; an imported application's id (app_...) otherwise.
	Application string
	// ApplicationName is an imported application's name (rules may name it instead of its id).
	ApplicationName string
	ResourceType    ResourceType
	// EntitlementID is the inventory's id (account:<account id>:<permission set id>, ...).
	EntitlementID string
	AccountID     string
	AccountName   string
	// OUPath holds OU ids from the root (which may be included) down to the account's parent.
	OUPath            []string
	PermissionSetID   string
	PermissionSetName string
	GroupID           string
	GroupName         string
	// AppEntitlement is an imported application's entitlement as
	// "<resource type>/<resource name>/<entitlement>", normalised (NormalizeAppEntitlement);
	// AppEntitlementName the same as the files spell it, for messages.
	AppEntitlement     string
	AppEntitlementName string
}

// Requester is the signed-in person asking.
type Requester struct {
	Email string
	// Groups holds the Identity Center groups the person is in, by name and by id.
	Groups []string
}

// Decision is the answer to "may this person request this target, and on which terms".
type Decision struct {
	Requestable bool
	// Rule is the rule that applies (it points into the RuleSet), nil when none does.
	Rule            *Rule
	DefaultDuration time.Duration
	MaxDuration     time.Duration
	ReasonRequired  bool
	ApprovalPolicy  string
	BreakGlass      bool
	EndSessions     bool
	// Why says which rule applies and why, in a sentence for the UI.
	Why string
	// NotRequestableWhy says, when Requestable is false, why not and what to do.
	NotRequestableWhy string
}

// DefaultRules is the seed flow "accounts, Everyone, default policy": every permission set on
// every account may be requested by everyone signed in, for 1h by default and 8h at most, with
// a reason, under the approval policy named "default".
func DefaultRules() *RuleSet {
	return &RuleSet{Rules: []Rule{{
		Name:        "accounts-everyone",
		Description: "Every permission set on every account, requestable by everyone signed in.",
		Match: Match{
			Application:   DefaultApplication,
			ResourceTypes: []ResourceType{ResourceAccount},
		},
		Requesters:     Requesters{Everyone: true},
		Duration:       Duration{Default: DefaultDefaultDuration, Max: DefaultMaxDuration},
		ReasonRequired: true,
		ApprovalPolicy: "default",
	}}}
}

// specificity ranks how precisely a rule matches one target. Fields compare in order; a larger
// value is more specific.
type specificity struct {
	entitlement int // 1 when the rule names the permission set or the group
	account     int // 1 when the rule names the account
	ouDepth     int // 1 + index in the target's OUPath of the deepest OU the rule names; 0 if none
	narrowTypes int // fewer resource types is narrower
}

func (s specificity) compare(o specificity) int {
	for _, d := range [...]int{s.entitlement - o.entitlement, s.account - o.account,
		s.ouDepth - o.ouDepth, s.narrowTypes - o.narrowTypes} {
		if d != 0 {
			return d
		}
	}
	return 0
}

// matches reports whether r covers t and, if it does, how specifically.
func (r *Rule) matches(t Target) (specificity, bool) {
	var s specificity
	app := t.Application
	if app == "" {
		app = DefaultApplication
	}
	if !strings.EqualFold(r.Match.application(), app) && (t.ApplicationName == "" || !strings.EqualFold(r.Match.application(), t.ApplicationName)) {
		return s, false
	}
	types := r.Match.types()
	found := false
	for _, rt := range types {
		if rt == t.ResourceType {
			found = true
		}
	}
	if !found {
		return s, false
	}
	s.narrowTypes = len(resourceTypes) - len(types)
	if len(r.Match.Entitlements) > 0 {
		if !matchesAppEntitlement(r.Match.Entitlements, t) {
			return s, false
		}
		s.entitlement = 1
	}
	if len(r.Match.Accounts) > 0 {
		if !containsExact(r.Match.Accounts, t.AccountID, t.AccountName) {
			return s, false
		}
		s.account = 1
	}
	if len(r.Match.OUs) > 0 {
		depth := 0
		for i, ou := range t.OUPath {
			if ou != "" && containsExact(r.Match.OUs, ou) {
				depth = i + 1
			}
		}
		if depth == 0 {
			return s, false
		}
		s.ouDepth = depth
	}
	if len(r.Match.PermissionSets) > 0 {
		if !matchesPermissionSet(r.Match.PermissionSets, t) {
			return s, false
		}
		s.entitlement = 1
	}
	if len(r.Match.Groups) > 0 {
		if !containsExact(r.Match.Groups, t.GroupID, t.GroupName) {
			return s, false
		}
		s.entitlement = 1
	}
	return s, true
}

func (m Match) application() string {
	if m.Application == "" {
		return DefaultApplication
	}
	return m.Application
}

func (m Match) types() []ResourceType {
	if len(m.ResourceTypes) == 0 {
		return []ResourceType{ResourceAccount}
	}
	return m.ResourceTypes
}

// containsExact reports whether list holds one of the non-empty values. Account and group names
// compare exactly: AWS keeps "Admins" and "admins" apart, and a loose match could make access
// requestable to the wrong group.
func containsExact(list []string, values ...string) bool {
	for _, v := range values {
		if v == "" {
			continue
		}
		for _, l := range list {
			if l == v {
				return true
			}
		}
	}
	return false
}

// matchesPermissionSet compares ids exactly and names case-insensitively (admins type
// "administratoraccess" and mean AdministratorAccess; permission set names are unique per
// Identity Center instance regardless of case).
func matchesPermissionSet(list []string, t Target) bool {
	for _, l := range list {
		if t.PermissionSetID != "" && l == t.PermissionSetID {
			return true
		}
		if t.PermissionSetName != "" && strings.EqualFold(l, t.PermissionSetName) {
			return true
		}
	}
	return false
}

// matchesAppEntitlement compares entitlement ids exactly and "<type>/<resource>/<entitlement>"
// normalised (any case, whitespace collapsed, as internal/appimport makes entitlement ids).
func matchesAppEntitlement(list []string, t Target) bool {
	for _, l := range list {
		if t.EntitlementID != "" && l == t.EntitlementID {
			return true
		}
		if t.AppEntitlement != "" && NormalizeAppEntitlement(l) == t.AppEntitlement {
			return true
		}
	}
	return false
}

// NormalizeAppEntitlement is how an imported application's entitlement compares in rules:
// "<resource type>/<resource name>/<entitlement>", each part trimmed, lower-cased and its inner
// whitespace collapsed to one space (internal/appfile's normalisation of names).
func NormalizeAppEntitlement(s string) string {
	parts := strings.Split(s, "/")
	for i, p := range parts {
		parts[i] = strings.ToLower(strings.Join(strings.Fields(p), " "))
	}
	return strings.Join(parts, "/")
}

// allows reports whether the rule lets q request, and says why in words.
func (r *Rule) allows(q Requester) (bool, string) {
	if r.Requesters.Everyone {
		return true, "it allows everyone signed in"
	}
	for _, p := range r.Requesters.People {
		if q.Email != "" && strings.EqualFold(p, q.Email) {
			return true, fmt.Sprintf("it names you (%s)", p)
		}
	}
	for _, g := range r.Requesters.Groups {
		if containsExact(q.Groups, g) {
			return true, fmt.Sprintf("you are in group %s, which it allows", g)
		}
	}
	return false, ""
}

// who describes a rule's requesters, for messages.
func (q Requesters) who() string {
	var parts []string
	if len(q.Groups) > 0 {
		parts = append(parts, plural(len(q.Groups), "group ", "groups ")+strings.Join(q.Groups, ", "))
	}
	if len(q.People) > 0 {
		parts = append(parts, strings.Join(q.People, ", "))
	}
	if len(parts) == 0 {
		return "nobody"
	}
	return strings.Join(parts, " and ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Decide finds the rule that applies to t and says whether q may request it. Among the rules
// that match t, the most specific wins (see docs/jit.md): a rule that names the permission set
// (or group) beats one that names the account, which beats one that names an OU (a deeper OU
// beats a shallower one), which beats one that covers fewer resource types. Between equally
// specific rules the one earlier in the RuleSet wins, and Why says so. Only the winning rule
// decides: a less specific rule never lets someone in whom the winning rule leaves out, so an
// admin can narrow who may request an account's admin access with one specific rule.
func (rs *RuleSet) Decide(t Target, q Requester) Decision {
	var best, runnerUp *Rule
	var bestSpec, runnerSpec specificity
	if rs != nil {
		for i := range rs.Rules {
			r := &rs.Rules[i]
			s, ok := r.matches(t)
			if !ok {
				continue
			}
			switch {
			case best == nil:
				best, bestSpec = r, s
			case s.compare(bestSpec) > 0:
				runnerUp, runnerSpec = best, bestSpec
				best, bestSpec = r, s
			case runnerUp == nil || s.compare(runnerSpec) > 0:
				runnerUp, runnerSpec = r, s
			}
		}
	}
	if best == nil {
		msg := fmt.Sprintf("No rule makes %s requestable; ask an admin to add a requestability rule for it.", describeTarget(t))
		return Decision{Why: msg, NotRequestableWhy: msg}
	}
	d := Decision{
		Rule:            best,
		DefaultDuration: best.Duration.Default,
		MaxDuration:     best.Duration.Max,
		ReasonRequired:  best.ReasonRequired,
		ApprovalPolicy:  best.ApprovalPolicy,
		BreakGlass:      best.BreakGlass,
		EndSessions:     best.EndSessions,
	}
	why := fmt.Sprintf("Rule '%s' applies because it %s", best.Name, best.reason(t))
	if runnerUp != nil {
		if runnerSpec.compare(bestSpec) == 0 {
			why += fmt.Sprintf(" (as specific as '%s', which %s; of equally specific rules the first in the file wins)",
				runnerUp.Name, runnerUp.reason(t))
		} else {
			why += fmt.Sprintf(" (more specific than '%s', which %s)", runnerUp.Name, runnerUp.reason(t))
		}
	}
	ok, how := best.allows(q)
	if ok {
		d.Requestable = true
		d.Why = why + "; " + how + "."
		return d
	}
	d.Why = why + "."
	d.NotRequestableWhy = fmt.Sprintf("You cannot request %s: rule '%s' allows only %s, and you are not among them; ask to be added, or ask an admin to change the rule.",
		describeTarget(t), best.Name, best.Requesters.who())
	return d
}

// reason says, for the UI, what about t the rule matches.
func (r *Rule) reason(t Target) string {
	var what string
	switch {
	case len(r.Match.PermissionSets) > 0:
		what = "names " + firstNonEmpty(t.PermissionSetName, t.PermissionSetID)
	case len(r.Match.Groups) > 0:
		what = "names group " + firstNonEmpty(t.GroupName, t.GroupID)
	case len(r.Match.Entitlements) > 0:
		what = "names " + firstNonEmpty(t.AppEntitlementName, t.EntitlementID)
	}
	var where string
	switch {
	case len(r.Match.Accounts) > 0:
		where = "account " + firstNonEmpty(t.AccountName, t.AccountID)
	case len(r.Match.OUs) > 0:
		deepest := ""
		for _, ou := range t.OUPath {
			if containsExact(r.Match.OUs, ou) {
				deepest = ou
			}
		}
		where = "OU " + deepest
	}
	switch {
	case what != "" && where != "":
		return what + " on " + where
	case what != "" && t.ResourceType == ResourceAccount:
		return what + " on every account"
	case what != "" && t.ResourceType == ResourceAppResource:
		return what + " in application " + firstNonEmpty(t.ApplicationName, t.Application)
	case what != "":
		return what
	case t.ResourceType == ResourceAppResource:
		return "matches every entitlement of application " + firstNonEmpty(t.ApplicationName, t.Application)
	case where != "" && len(r.Match.OUs) > 0 && len(r.Match.Accounts) == 0:
		return "matches every " + typesPhrase(r.Match.types()) + " under " + where
	case where != "":
		return "names " + where
	default:
		return "matches every " + typesPhrase(r.Match.types())
	}
}

func typesPhrase(types []ResourceType) string {
	names := make([]string, len(types))
	for i, t := range types {
		switch t {
		case ResourceAccount:
			names[i] = "account"
		case ResourceSSOGroup:
			names[i] = "Identity Center group"
		case ResourceIAMGroup:
			names[i] = "IAM group"
		case ResourceAppResource:
			names[i] = "application entitlement"
		default:
			names[i] = string(t)
		}
	}
	switch len(names) {
	case 1:
		return names[0]
	case 2:
		return names[0] + " and " + names[1]
	default:
		return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
	}
}

// describeTarget names the target for a person.
func describeTarget(t Target) string {
	switch t.ResourceType {
	case ResourceAccount:
		return fmt.Sprintf("permission set %s on account %s",
			firstNonEmpty(t.PermissionSetName, t.PermissionSetID, "?"), firstNonEmpty(t.AccountName, t.AccountID, "?"))
	case ResourceSSOGroup:
		return "membership of Identity Center group " + firstNonEmpty(t.GroupName, t.GroupID, "?")
	case ResourceIAMGroup:
		return fmt.Sprintf("membership of IAM group %s in account %s",
			firstNonEmpty(t.GroupName, t.GroupID, "?"), firstNonEmpty(t.AccountName, t.AccountID, "?"))
	case ResourceAppResource:
		return fmt.Sprintf("%s in application %s", firstNonEmpty(t.AppEntitlementName, t.EntitlementID, "?"),
			firstNonEmpty(t.ApplicationName, t.Application, "?"))
	default:
		return firstNonEmpty(t.EntitlementID, string(t.ResourceType), "this access")
	}
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// ValidateDuration checks a requested duration against the decision's terms: it must be
// requestable, at least MinDuration and at most the rule's maximum. A zero duration means
// "the default" and is accepted.
func (d Decision) ValidateDuration(want time.Duration) error {
	if !d.Requestable {
		return fmt.Errorf("%s", d.NotRequestableWhy)
	}
	if want == 0 {
		return nil
	}
	if want < MinDuration {
		return fmt.Errorf("duration %s is shorter than the minimum of %s; ask for %s or more",
			FormatDuration(want), FormatDuration(MinDuration), FormatDuration(MinDuration))
	}
	if want > d.MaxDuration {
		return fmt.Errorf("duration %s is longer than the %s that rule '%s' allows; ask for %s or less",
			FormatDuration(want), FormatDuration(d.MaxDuration), d.Rule.Name, FormatDuration(d.MaxDuration))
	}
	return nil
}

// FormatDuration writes d as a short Go duration ("1h", "1h30m", "90s" stays "1m30s") that
// time.ParseDuration reads back.
func FormatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
