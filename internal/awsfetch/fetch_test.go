package awsfetch

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/gatehouse/gatehouse/internal/awssim"
	"github.com/gatehouse/gatehouse/internal/inventory"
)

// orgFixture is an organization with nested OUs, IAM in member accounts and Identity
// Center with SCIM: groups, a user assigned directly, a permission set provisioned
// without assignments, customer-managed policy references, and an inactive user.
const orgFixture = `
now: 2026-01-01T00:00:00Z
region: us-east-1
management_account: "111111111111"
organization:
  ous:
    - name: Security
    - name: Workloads
      ous:
        - name: Prod
        - name: NonProd
accounts:
  - id: "111111111111"
    name: management
    email: aws-management@example.com
    iam:
      users:
        - name: alice
          console_password: true
          mfa: [virtual]
  - id: "222222222222"
    name: security
    email: aws-security@example.com
    ou: Security
    joined: 2024-05-01T00:00:00Z
    joined_method: INVITED
  - id: "333333333333"
    name: prod
    email: aws-prod@example.com
    ou: Workloads/Prod
    aliases: [example-prod]
    iam:
      groups:
        - name: deployers
          attached_policies: [AmazonS3FullAccess]
      users:
        - name: deploy-bot
          path: /service/
          groups: [deployers]
      roles:
        - name: ci-deploy
          trust: {aws: [arn:aws:iam::111111111111:root]}
          attached_policies: [PowerUserAccess]
  - id: "444444444444"
    name: staging
    email: aws-staging@example.com
    ou: Workloads/NonProd
identity_center:
  users:
    - {user_name: alice, given_name: Alice, family_name: Nguyen, email: alice@example.com}
    - {user_name: bob, given_name: Bob, family_name: Martinez, email: bob@example.com}
    - {user_name: erin, given_name: Erin, family_name: Schulz, email: erin@example.com, active: false}
    - {user_name: zoe, given_name: Zoe, family_name: Park, email: zoe@example.com}
  groups:
    - {name: Admins, members: [alice]}
    - {name: Developers, description: Product engineers, members: [bob, erin]}
    - {name: Empty}
  permission_sets:
    - name: AdministratorAccess
      session_duration: PT1H
      managed_policies: [AdministratorAccess]
    - name: ReadOnly
      description: Read-only access
      session_duration: PT8H
      managed_policies: [ReadOnlyAccess]
    - name: Developer
      session_duration: PT4H
      managed_policies: [PowerUserAccess]
      customer_policies:
        - {name: team-boundary, path: /teams/}
        - {name: app-data-rw}
      inline_policy: '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:*","Resource":"*"}]}'
      provisioned_to: [staging]
  assignments:
    - {account: management, permission_set: AdministratorAccess, group: Admins}
    - {account: prod, permission_set: AdministratorAccess, group: Admins}
    - {account: prod, permission_set: ReadOnly, group: Developers}
    - {account: prod, permission_set: Developer, user: bob}
    - {account: security, permission_set: ReadOnly, user: zoe}
connector:
  external_id: example-external-id
scim_token: example-scim-token
`

// orgIDs are the generated ids of orgFixture's world.
type orgIDs struct {
	orgID, rootID   string
	ou              map[string]string // name -> id
	instance, store string
	user, group, ps map[string]string // name -> id or ARN
	reservedRole    map[string]string // account|permission set name -> role name
}

func readOrgIDs(env *testEnv) orgIDs {
	ids := orgIDs{ou: map[string]string{}, user: map[string]string{}, group: map[string]string{}, ps: map[string]string{}, reservedRole: map[string]string{}}
	env.sim.Do(func(w *awssim.World) {
		ids.orgID, ids.rootID = w.Org.ID, w.Org.RootID
		for id, ou := range w.Org.OUs {
			ids.ou[ou.Name] = id
		}
		ids.instance, ids.store = w.SSO.ARN, w.SSO.IdentityStoreID
		for _, u := range w.SSO.Users {
			ids.user[u.UserName] = u.ID
		}
		for _, g := range w.SSO.Groups {
			ids.group[g.DisplayName] = g.ID
		}
		for _, ps := range w.SSO.PermissionSets {
			ids.ps[ps.Name] = ps.ARN
		}
		for _, id := range w.AccountIDs() {
			for name := range w.Accounts[id].Roles {
				if ps, ok := reservedPermissionSetName("/aws-reserved/sso.amazonaws.com/", name); ok {
					ids.reservedRole[id+"|"+ps] = name
				}
			}
		}
	})
	return ids
}

// TestFetchOrganizationWithIdentityCenter fetches an organization with member-account
// IAM and Identity Center together, and checks the tree, the accounts, Identity Center
// with SCIM status, and the links from reserved roles to permission sets.
func TestFetchOrganizationWithIdentityCenter(t *testing.T) {
	env := startSim(t, fixture(t, orgFixture), awssim.Options{})
	var progress []string
	var mu sync.Mutex
	cfg := env.cfg
	cfg.Progress = func(done, total int) {
		mu.Lock()
		progress = append(progress, fmt.Sprintf("%d/%d", done, total))
		mu.Unlock()
	}
	cfg.Live = &Live{}
	snap, stats := fetch(t, cfg)
	ids := readOrgIDs(env)
	created := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

	orgARN := "arn:aws:organizations::111111111111:"
	unit := func(name, parent, path string) *inventory.OrgUnit {
		id := ids.ou[name]
		return &inventory.OrgUnit{ID: id, ARN: orgARN + "ou/" + ids.orgID + "/" + id, Name: name, ParentID: parent, Path: path}
	}
	wantOrg := &inventory.Organization{
		ID: ids.orgID, ARN: orgARN + "organization/" + ids.orgID, ManagementAccountID: "111111111111",
		Units: []*inventory.OrgUnit{
			{ID: ids.rootID, ARN: orgARN + "root/" + ids.orgID + "/" + ids.rootID, Name: "Root", IsRoot: true, Path: "Root"},
			unit("Security", ids.rootID, "Root/Security"),
			unit("Workloads", ids.rootID, "Root/Workloads"),
			unit("NonProd", ids.ou["Workloads"], "Root/Workloads/NonProd"),
			unit("Prod", ids.ou["Workloads"], "Root/Workloads/Prod"),
		},
	}
	assertEqual(t, "organization", wantOrg, snap.Org)

	type accountHead struct {
		ID, ARN, Name, Email, Status, ParentID, OUPath string
		JoinedAt                                       time.Time
		Synced                                         bool
		Aliases                                        []string
	}
	head := func(id, name, email, parent, path string, joined time.Time, aliases ...string) accountHead {
		return accountHead{ID: id, ARN: orgARN + "account/" + ids.orgID + "/" + id, Name: name, Email: email, Status: "ACTIVE",
			ParentID: parent, OUPath: path, JoinedAt: joined, Synced: true, Aliases: aliases}
	}
	wantHeads := []accountHead{
		head("111111111111", "management", "aws-management@example.com", ids.rootID, "Root", created),
		head("222222222222", "security", "aws-security@example.com", ids.ou["Security"], "Root/Security", time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)),
		head("333333333333", "prod", "aws-prod@example.com", ids.ou["Prod"], "Root/Workloads/Prod", created, "example-prod"),
		head("444444444444", "staging", "aws-staging@example.com", ids.ou["NonProd"], "Root/Workloads/NonProd", created),
	}
	var gotHeads []accountHead
	for _, a := range snap.Accounts {
		gotHeads = append(gotHeads, accountHead{a.ID, a.ARN, a.Name, a.Email, a.Status, a.ParentID, a.OUPath, a.JoinedAt, a.Synced, a.Aliases})
	}
	assertEqual(t, "accounts", wantHeads, gotHeads)

	// Member-account IAM, fetched through the default member role GatehouseMember with Identity
	// Center on, and the reserved roles linked to their permission sets.
	prod := account(t, snap, "333333333333").IAM
	assertEqual(t, "prod users", []string{"deploy-bot"}, names(prod.Users, func(u *inventory.User) string { return u.Name }))
	assertEqual(t, "prod deploy-bot groups", []string{"deployers"}, prod.Users[0].Groups)
	assertEqual(t, "prod groups", []string{"deployers"}, names(prod.Groups, func(g *inventory.Group) string { return g.Name }))
	type roleLink struct{ Name, PermissionSetARN string }
	links := func(a *inventory.Account) []roleLink {
		var out []roleLink
		for _, r := range a.IAM.Roles {
			out = append(out, roleLink{r.Name, r.PermissionSetARN})
		}
		return out
	}
	rr := func(account, ps string) roleLink { return roleLink{ids.reservedRole[account+"|"+ps], ids.ps[ps]} }
	wantLinks := map[string][]roleLink{
		"111111111111": {rr("111111111111", "AdministratorAccess"), {"GatehouseConnector", ""}},
		"222222222222": {rr("222222222222", "ReadOnly"), {"GatehouseMember", ""}, {"OrganizationAccountAccessRole", ""}},
		"333333333333": {rr("333333333333", "AdministratorAccess"), rr("333333333333", "Developer"), rr("333333333333", "ReadOnly"),
			{"GatehouseMember", ""}, {"OrganizationAccountAccessRole", ""}, {"ci-deploy", ""}},
		"444444444444": {rr("444444444444", "Developer"), {"GatehouseMember", ""}, {"OrganizationAccountAccessRole", ""}},
	}
	for id, want := range wantLinks {
		assertEqual(t, "roles of "+id, want, links(account(t, snap, id)))
	}

	wantIC := &inventory.IdentityCenter{
		InstanceARN: ids.instance, IdentityStoreID: ids.store, Region: "us-east-1",
		Users: []*inventory.SSOUser{
			{ID: ids.user["alice"], UserName: "alice", DisplayName: "Alice Nguyen", GivenName: "Alice", FamilyName: "Nguyen", Email: "alice@example.com", Status: inventory.UserEnabled, StatusSource: inventory.StatusFromIdentityStore},
			{ID: ids.user["bob"], UserName: "bob", DisplayName: "Bob Martinez", GivenName: "Bob", FamilyName: "Martinez", Email: "bob@example.com", Status: inventory.UserEnabled, StatusSource: inventory.StatusFromIdentityStore},
			{ID: ids.user["erin"], UserName: "erin", DisplayName: "Erin Schulz", GivenName: "Erin", FamilyName: "Schulz", Email: "erin@example.com", Status: inventory.UserDisabled, StatusSource: inventory.StatusFromIdentityStore},
			{ID: ids.user["zoe"], UserName: "zoe", DisplayName: "Zoe Park", GivenName: "Zoe", FamilyName: "Park", Email: "zoe@example.com", Status: inventory.UserEnabled, StatusSource: inventory.StatusFromIdentityStore},
		},
		Groups: []*inventory.SSOGroup{
			{ID: ids.group["Admins"], DisplayName: "Admins"},
			{ID: ids.group["Developers"], DisplayName: "Developers", Description: "Product engineers"},
			{ID: ids.group["Empty"], DisplayName: "Empty"},
		},
		Members: map[string][]string{
			ids.group["Admins"]:     {ids.user["alice"]},
			ids.group["Developers"]: sorted(ids.user["bob"], ids.user["erin"]),
			ids.group["Empty"]:      {},
		},
		PermissionSets: []*inventory.PermissionSet{
			{ARN: ids.ps["AdministratorAccess"], Name: "AdministratorAccess", SessionDuration: "PT1H", CreatedAt: created,
				ManagedPolicies: []string{"arn:aws:iam::aws:policy/AdministratorAccess"}},
			{ARN: ids.ps["Developer"], Name: "Developer", SessionDuration: "PT4H", CreatedAt: created,
				ManagedPolicies:         []string{"arn:aws:iam::aws:policy/PowerUserAccess"},
				CustomerManagedPolicies: []string{"app-data-rw", "teams/team-boundary"},
				InlinePolicy:            `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:*","Resource":"*"}]}`},
			{ARN: ids.ps["ReadOnly"], Name: "ReadOnly", Description: "Read-only access", SessionDuration: "PT8H", CreatedAt: created,
				ManagedPolicies: []string{"arn:aws:iam::aws:policy/ReadOnlyAccess"}},
		},
		Provisioned: map[string][]string{
			"111111111111": {ids.ps["AdministratorAccess"]},
			"222222222222": {ids.ps["ReadOnly"]},
			"333333333333": sorted(ids.ps["AdministratorAccess"], ids.ps["Developer"], ids.ps["ReadOnly"]),
			"444444444444": {ids.ps["Developer"]},
		},
	}
	asg := func(account, ps, kind, principal string) *inventory.Assignment {
		id := ids.group[principal]
		if kind == "USER" {
			id = ids.user[principal]
		}
		return &inventory.Assignment{AccountID: account, PermissionSetARN: ids.ps[ps], PrincipalType: kind, PrincipalID: id}
	}
	wantIC.Assignments = []*inventory.Assignment{
		asg("111111111111", "AdministratorAccess", "GROUP", "Admins"),
		asg("222222222222", "ReadOnly", "USER", "zoe"),
		asg("333333333333", "AdministratorAccess", "GROUP", "Admins"),
		asg("333333333333", "Developer", "USER", "bob"),
		asg("333333333333", "ReadOnly", "GROUP", "Developers"),
	}
	sortAssignments(wantIC.Assignments)
	assertEqual(t, "identity center", wantIC, snap.IdentityCenter)

	// Progress is reported once per account, counting up.
	sort.Strings(progress)
	assertEqual(t, "progress", []string{"1/4", "2/4", "3/4", "4/4"}, progress)
	if cfg.Live.Calls() != stats.Calls || stats.Calls == 0 {
		t.Errorf("live calls %d, stats calls %d; want equal and positive", cfg.Live.Calls(), stats.Calls)
	}
	// The tree is listed once per parent, never per account.
	for _, o := range stats.Operations {
		if o.Operation == "ListParents" || o.Operation == "ListAccounts" {
			t.Errorf("%s called %d times", o.Operation, o.Calls)
		}
		if o.Operation == "DescribePermissionSet" && o.Calls != 3 {
			t.Errorf("DescribePermissionSet called %d times, want once per permission set", o.Calls)
		}
	}
	assertEqual(t, "calls per service (fetch vs simulator)", simCalls(env.sim), statsCalls(stats))
	// The Identity Store API reports every user's status: SCIM, though configured,
	// would add nothing and is not called.
	if n := simCalls(env.sim)["scim"]; n != 0 {
		t.Errorf("%d SCIM calls, want none", n)
	}
	if want := (UserStatusStats{Enabled: 3, Disabled: 1}); stats.UserStatus != want {
		t.Errorf("user status stats %+v, want %+v", stats.UserStatus, want)
	}
}

func sorted(s ...string) []string {
	sort.Strings(s)
	return s
}

// TestFetchPageSizeOne checks that every paginated call is followed to its end: with
// one item per page the snapshot is the same as with full pages.
func TestFetchPageSizeOne(t *testing.T) {
	clean, _ := fetch(t, startSim(t, fixture(t, orgFixture), awssim.Options{}).cfg)
	paged := startSim(t, fixture(t, orgFixture), awssim.Options{PageSize: 1})
	got, stats := fetch(t, paged.cfg)
	assertEqual(t, "snapshot with page size 1", comparable(clean), comparable(got))
	if stats.Calls <= 0 {
		t.Fatal("no calls counted")
	}
}

// TestFetchFaultsAndThrottling checks that injected faults (5% of calls answered with a
// 5xx or a dropped connection) and quotas at half of what the client paces at (so that
// AWS throttles) change nothing in the snapshot: every failed call is retried, nothing
// is dropped or duplicated.
func TestFetchFaultsAndThrottling(t *testing.T) {
	clean, _ := fetch(t, startSim(t, fixture(t, orgFixture), awssim.Options{}).cfg)
	for _, c := range []struct {
		name string
		opts awssim.Options
	}{
		{"faults", awssim.Options{FaultRate: 0.05, Seed: 7}},
		{"halved quotas", awssim.Options{Quotas: awssim.DefaultQuotas().Scaled(0.5)}},
		{"both", awssim.Options{FaultRate: 0.05, Seed: 11, Quotas: awssim.DefaultQuotas().Scaled(0.5)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			env := startSim(t, fixture(t, orgFixture), c.opts)
			cfg := env.cfg
			// AWS's rates, and bursts bigger than the halved quotas': the simulator
			// throttles, and the pacers have to adapt.
			cfg.Quotas = Quotas{"organizations": {Rate: 10, Burst: 20}, "identitycenter": {Rate: 20, Burst: 20}, "iam": {Rate: 15, Burst: 30},
				"sts": {Rate: 600, Burst: 600}, "sso:DescribePermissionSet": {Rate: 1, Burst: 5}}
			got, stats := fetch(t, cfg)
			assertEqual(t, "snapshot", comparable(clean), comparable(got))
			var faults, throttles int64
			for _, oc := range env.sim.Counters().Snapshot() {
				faults += oc.Faults
				throttles += oc.Throttled
			}
			t.Logf("%d calls, %d retries, %d throttles seen (simulator: %d faults, %d throttled)", stats.Calls, stats.Retries, stats.Throttles, faults, throttles)
			if c.opts.FaultRate > 0 && faults == 0 {
				t.Error("no fault was injected; the test proves nothing")
			}
			if c.opts.Quotas != nil && throttles == 0 {
				t.Error("nothing was throttled; the test proves nothing")
			}
			if stats.Throttles != throttles {
				t.Errorf("throttles seen %d, simulator throttled %d", stats.Throttles, throttles)
			}
			if stats.Retries < faults+throttles {
				t.Errorf("retries %d, fewer than the %d failed calls", stats.Retries, faults+throttles)
			}
			assertEqual(t, "calls per service (fetch vs simulator)", simCalls(env.sim), statsCalls(stats))
		})
	}
}

// TestFetchAssignmentStrategies checks that both ways of listing assignments give the
// same assignments, and that the automatic choice is the cheaper one.
func TestFetchAssignmentStrategies(t *testing.T) {
	var snaps []*inventory.Snapshot
	for _, s := range []AssignmentStrategy{ByAccount, ByPrincipal, ""} {
		env := startSim(t, fixture(t, orgFixture), awssim.Options{})
		cfg := env.cfg
		cfg.AssignmentStrategy = s
		snap, stats := fetch(t, cfg)
		snaps = append(snaps, snap)
		calls := operationCalls(stats)
		choice := stats.Assignments
		// 6 provisioned pairs; 4 users and 3 groups.
		if choice.PairCalls != 6 || choice.PrincipalCalls != 7 {
			t.Errorf("%q: estimates %d pair calls, %d principal calls; want 6 and 7", s, choice.PairCalls, choice.PrincipalCalls)
		}
		switch s {
		case ByAccount, "":
			if choice.Strategy != ByAccount || calls["ListAccountAssignments"] != 6 || calls["ListAccountAssignmentsForPrincipal"] != 0 {
				t.Errorf("%q: strategy %s, calls %v", s, choice.Strategy, calls)
			}
		case ByPrincipal:
			if choice.Strategy != ByPrincipal || calls["ListAccountAssignmentsForPrincipal"] != 7 || calls["ListAccountAssignments"] != 0 {
				t.Errorf("%q: strategy %s, calls %v", s, choice.Strategy, calls)
			}
		}
	}
	assertEqual(t, "assignments by principal", snaps[0].IdentityCenter.Assignments, snaps[1].IdentityCenter.Assignments)
	assertEqual(t, "snapshot by principal", comparable(snaps[0]), comparable(snaps[1]))
}

// unassumableFixture has member accounts a sync cannot get into: one without the member
// role, one that denies every call (as an SCP would), one suspended.
const unassumableFixture = `
now: 2026-01-01T00:00:00Z
management_account: "111111111111"
organization:
  ous:
    - name: Workloads
accounts:
  - id: "222222222222"
    name: prod
    ou: Workloads
    iam:
      users:
        - name: dave
  - id: "333333333333"
    name: sandbox
    member_role: none
  - id: "444444444444"
    name: restricted
    ou: Workloads
    deny_all: true
  - id: "555555555555"
    name: legacy
    status: SUSPENDED
  - id: "666666666666"
    name: partner
    member_role_external_id: partner-secret
connector:
  external_id: unassumable-test
`

// TestFetchUnassumableAccounts checks that accounts that refuse Gatehouse are skipped
// with a one-line reason naming the likely causes in order, and what AWS said apart;
// that a skipped ACTIVE account makes the fetch partial (an error unless AllowPartial)
// and a suspended one does not.
func TestFetchUnassumableAccounts(t *testing.T) {
	env := startSim(t, fixture(t, unassumableFixture), awssim.Options{})
	cfg := env.cfg
	cfg.AllowPartial = true
	snap, stats := fetch(t, cfg)
	connector := "arn:aws:sts::111111111111:assumed-role/GatehouseConnector/gatehouse-sync"
	role := func(id string) string { return "arn:aws:iam::" + id + ":role/GatehouseMember" }
	assume := "cannot assume role GatehouseMember; likely causes, in order: the role is missing in this account, its trust policy does not trust arn:aws:iam::111111111111:role/GatehouseConnector, the External ID does not match (--member-external-id), an SCP denies sts:AssumeRole"
	want := []SkippedAccount{
		{"333333333333", "sandbox", "ACTIVE", assume,
			"AccessDenied: User: " + connector + " is not authorized to perform: sts:AssumeRole on resource: " + role("333333333333")},
		{"444444444444", "restricted", "ACTIVE", "iam:GetAccountAuthorizationDetails denied to role GatehouseMember; likely causes, in order: the role's policy lacks the action (see docs/setup.md), an SCP or a permissions boundary denies it",
			"AccessDenied: User: arn:aws:sts::444444444444:assumed-role/GatehouseMember/gatehouse-sync is not authorized to perform: iam:GetAccountAuthorizationDetails"},
		{"555555555555", "legacy", "SUSPENDED", "the account is SUSPENDED", ""},
		{"666666666666", "partner", "ACTIVE", assume, "AccessDenied: User: " + connector + " is not authorized to perform: sts:AssumeRole on resource: " + role("666666666666")},
	}
	if len(stats.Skipped) != len(want) {
		t.Fatalf("skipped = %+v, want %d accounts", stats.Skipped, len(want))
	}
	for i, w := range want {
		got := stats.Skipped[i]
		if got.ID != w.ID || got.Name != w.Name || got.Status != w.Status || got.Reason != w.Reason || !strings.HasPrefix(got.Detail, w.Detail) || (w.Detail == "") != (got.Detail == "") {
			t.Errorf("skipped[%d] = %+v,\nwant %+v (detail as a prefix)", i, got, w)
		}
		a := account(t, snap, w.ID)
		if a.Synced || a.IAM != nil || a.SkipReason != got.Reason || a.SkipDetail != got.Detail {
			t.Errorf("account %s: synced %v, IAM %v, reason %q, detail %q; want not synced, no IAM, the reason", a.ID, a.Synced, a.IAM != nil, a.SkipReason, a.SkipDetail)
		}
	}
	for _, id := range []string{"111111111111", "222222222222"} {
		if a := account(t, snap, id); !a.Synced || a.IAM == nil {
			t.Errorf("account %s not synced: %q", id, a.SkipReason)
		}
	}
	assertEqual(t, "prod users", []string{"dave"}, names(account(t, snap, "222222222222").IAM.Users, func(u *inventory.User) string { return u.Name }))
	if stats.Accounts != 6 || stats.Synced != 2 {
		t.Errorf("accounts %d, synced %d; want 6 and 2", stats.Accounts, stats.Synced)
	}

	// Without AllowPartial the same fetch fails, naming the ACTIVE accounts only.
	snap, stats, err := Fetch(context.Background(), env.cfg)
	var pe *PartialError
	if !errors.As(err, &pe) || snap != nil {
		t.Fatalf("Fetch without AllowPartial: snapshot %v, err %v; want no snapshot and a *PartialError", snap != nil, err)
	}
	if got := err.Error(); got != "partial sync: 3 of 6 accounts could not be read (333333333333, 444444444444, 666666666666)" {
		t.Errorf("error = %q", got)
	}
	if len(stats.Skipped) != 4 || stats.Synced != 2 {
		t.Errorf("stats of the partial fetch: synced %d, skipped %d; want 2 and 4", stats.Synced, len(stats.Skipped))
	}

	// A suspended account alone does not make a fetch partial.
	onlySuspended := strings.Replace(strings.Replace(strings.Replace(unassumableFixture, "    member_role: none\n", "", 1),
		"    deny_all: true\n", "", 1), "    member_role_external_id: partner-secret\n", "", 1)
	env2 := startSim(t, fixture(t, onlySuspended), awssim.Options{})
	snap, stats = fetch(t, env2.cfg)
	if stats.Synced != 5 || len(stats.Skipped) != 1 || stats.Skipped[0].ID != "555555555555" {
		t.Errorf("with only a suspended account skipped: synced %d, skipped %+v; want 5 and the suspended one", stats.Synced, stats.Skipped)
	}

	// With the member External ID the partner account is synced; the ones without the
	// condition still accept it (an External ID the trust policy does not ask for is
	// ignored, as in AWS).
	cfg.MemberExternalID = "partner-secret"
	snap, _ = fetch(t, cfg)
	if a := account(t, snap, "666666666666"); !a.Synced {
		t.Errorf("partner account with its External ID: not synced: %q", a.SkipReason)
	}
	if a := account(t, snap, "222222222222"); !a.Synced {
		t.Errorf("prod account with an External ID it does not require: not synced: %q", a.SkipReason)
	}
}

// TestFetchMemberAccountRole checks the error for a connector that lives in a member
// account with Organizations on: it says where the role must be, not a raw 400.
func TestFetchMemberAccountRole(t *testing.T) {
	env := startSim(t, fixture(t, orgFixture), awssim.Options{})
	cfg := env.cfg
	cfg.RoleARN, cfg.ExternalID = "", ""
	env.sim.Do(func(w *awssim.World) {
		a := w.Accounts["222222222222"]
		u := a.AddUser(w, "gatehouse-in-member", "/")
		u.InlinePolicies["read"] = awssim.ConnectorReadPolicy
		k := a.AddAccessKey(w, u)
		cfg.Credentials = credentials.NewStaticCredentialsProvider(k.ID, k.Secret, "")
	})
	_, stats, err := Fetch(context.Background(), cfg)
	if !errors.Is(err, ErrNotManagementAccount) {
		t.Fatalf("err = %v, want ErrNotManagementAccount", err)
	}
	for _, part := range []string{"management account", "member account 222222222222", "111111111111", "delegated administrator"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q does not mention %q", err, part)
		}
	}
	if stats == nil || stats.Calls == 0 {
		t.Errorf("stats = %+v, want the calls made before the error", stats)
	}

	// Without Organizations the same identity syncs its own account.
	cfg.Orgs, cfg.IdentityCenter, cfg.SCIMEndpoint, cfg.SCIMToken = false, false, "", ""
	snap, _ := fetch(t, cfg)
	if len(snap.Accounts) != 1 || snap.Accounts[0].ID != "222222222222" || !snap.Accounts[0].Synced {
		t.Errorf("accounts = %+v, want the member account, synced", snap.Accounts)
	}
}

// TestFetchNotInOrganization checks the error for --orgs in an account outside any
// organization.
func TestFetchNotInOrganization(t *testing.T) {
	env := startSim(t, fixture(t, singleAccountFixture), awssim.Options{})
	cfg := env.cfg
	cfg.Orgs = true
	_, _, err := Fetch(context.Background(), cfg)
	if !errors.Is(err, ErrNotManagementAccount) || !strings.Contains(err.Error(), "not part of an organization") {
		t.Fatalf("err = %v, want ErrNotManagementAccount saying the account is not in an organization", err)
	}
}

// TestFetchDelegatedAdministrator checks a connector in a delegated administrator
// account: the organization is listed and the caller's own account is read with its own
// credentials. The other accounts are skipped: the management account has no member
// role, and the member roles trust only the management account's connector role and the
// management account, as in AWS.
func TestFetchDelegatedAdministrator(t *testing.T) {
	yaml := strings.Replace(orgFixture, "organization:\n", "organization:\n  delegated_admins: [security]\n", 1)
	env := startSim(t, fixture(t, yaml), awssim.Options{})
	cfg := env.cfg
	cfg.RoleARN, cfg.ExternalID, cfg.IdentityCenter, cfg.SCIMEndpoint, cfg.SCIMToken = "", "", false, "", ""
	cfg.AllowPartial = true
	env.sim.Do(func(w *awssim.World) {
		a := w.Accounts["222222222222"]
		u := a.AddUser(w, "gatehouse-delegated", "/")
		u.InlinePolicies["read"] = awssim.ConnectorReadPolicy
		k := a.AddAccessKey(w, u)
		cfg.Credentials = credentials.NewStaticCredentialsProvider(k.ID, k.Secret, "")
	})
	snap, stats := fetch(t, cfg)
	if snap.Org == nil || len(snap.Accounts) != 4 {
		t.Fatalf("org %v, %d accounts; want the organization and 4 accounts", snap.Org, len(snap.Accounts))
	}
	if a := account(t, snap, "222222222222"); !a.Synced {
		t.Errorf("the delegated administrator's own account is not synced: %q", a.SkipReason)
	}
	if a := account(t, snap, "111111111111"); a.Synced || !strings.HasPrefix(a.SkipReason, "cannot assume role GatehouseMember;") || !strings.Contains(a.SkipDetail, "role/GatehouseMember") {
		t.Errorf("management account: synced %v, reason %q; want skipped, cannot assume", a.Synced, a.SkipReason)
	}
	if a := account(t, snap, "333333333333"); a.Synced || !strings.Contains(a.SkipDetail, "AccessDenied") {
		t.Errorf("member account: synced %v, reason %q; want skipped, AccessDenied", a.Synced, a.SkipReason)
	}
	if stats.Synced != 1 {
		t.Errorf("synced %d, want 1", stats.Synced)
	}
}

// TestFetchBadCredentials checks the first error a user sees with a wrong key or role.
func TestFetchBadCredentials(t *testing.T) {
	env := startSim(t, fixture(t, singleAccountFixture), awssim.Options{})
	cfg := env.cfg
	cfg.ExternalID = "wrong"
	_, _, err := Fetch(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "cannot assume the connector role "+cfg.RoleARN) || !strings.Contains(err.Error(), "External ID") {
		t.Errorf("wrong External ID: err = %v", err)
	}
	cfg = env.cfg
	cfg.Credentials = credentials.NewStaticCredentialsProvider("AKIANOTAKEY000000000", "nope", "")
	cfg.RoleARN, cfg.ExternalID = "", ""
	_, _, err = Fetch(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "InvalidClientTokenId") {
		t.Errorf("unknown key: err = %v", err)
	}
}

func TestConfigValidation(t *testing.T) {
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{ExternalID: "x"}, "needs a role ARN"},
		{Config{RoleARN: "GatehouseConnector"}, "is not an ARN"},
		{Config{SCIMEndpoint: "https://scim.example"}, "set both or neither"},
		{Config{SCIMEndpoint: "https://scim.example", SCIMToken: "t"}, "needs Identity Center"},
		{Config{AssignmentStrategy: "fastest"}, "unknown assignment strategy"},
	} {
		_, _, err := Fetch(context.Background(), c.cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: err = %v, want %q", c.cfg, err, c.want)
		}
	}
}

// TestFetchCancelled checks that a cancelled fetch returns the cancellation promptly.
func TestFetchCancelled(t *testing.T) {
	env := startSim(t, fixture(t, orgFixture), awssim.Options{Latency: 20 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _, err := Fetch(ctx, env.cfg)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the context's error", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("returned after %s", d)
	}
}

// TestFetchStandardChain fetches with nothing in Config but the role: the key comes
// from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY and the endpoint from AWS_ENDPOINT_URL,
// through the SDK's standard configuration loading.
func TestFetchStandardChain(t *testing.T) {
	env := startSim(t, fixture(t, singleAccountFixture), awssim.Options{})
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", dir+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", dir+"/none")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_ENDPOINT_URL", env.url)
	t.Setenv("AWS_REGION", "us-east-1")
	env.sim.Do(func(w *awssim.World) {
		t.Setenv("AWS_ACCESS_KEY_ID", w.Connector.AccessKeyID)
		t.Setenv("AWS_SECRET_ACCESS_KEY", w.Connector.SecretAccessKey)
	})
	t.Setenv("AWS_SESSION_TOKEN", "")
	cfg := Config{RoleARN: env.cfg.RoleARN, ExternalID: env.cfg.ExternalID, CredentialReportPoll: 5 * time.Millisecond}
	snap, _ := fetch(t, cfg)
	if len(snap.Accounts) != 1 || !snap.Accounts[0].Synced || snap.CallerAccountID != "111111111111" {
		t.Errorf("accounts = %+v", snap.Accounts)
	}
}

// TestFetchIdentityCenterDenied checks that a connector without Identity Center
// permissions fails the fetch with Identity Center's error, not with the cancellation it
// causes in the rest of the fetch.
func TestFetchIdentityCenterDenied(t *testing.T) {
	yaml := strings.Replace(orgFixture, "  external_id: example-external-id\n",
		"  external_id: example-external-id\n  permissions: '{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"iam:*\",\"organizations:*\",\"sts:AssumeRole\"],\"Resource\":\"*\"}]}'\n", 1)
	env := startSim(t, fixture(t, yaml), awssim.Options{Latency: 5 * time.Millisecond})
	_, _, err := Fetch(context.Background(), env.cfg)
	if err == nil || !strings.Contains(err.Error(), "Identity Center") || !strings.Contains(err.Error(), "AccessDenied") {
		t.Errorf("err = %v, want Identity Center's AccessDenied", err)
	}
}

// TestFetchUserStatusFromSCIM: when the Identity Store API does not report UserStatus,
// SCIM supplies it, paged with a cursor through every page (one user a page here).
func TestFetchUserStatusFromSCIM(t *testing.T) {
	env := startSim(t, fixture(t, orgFixture), awssim.Options{NoUserStatus: true, PageSize: 1})
	snap, stats := fetch(t, env.cfg)
	got := map[string]string{}
	for _, u := range snap.IdentityCenter.Users {
		got[u.UserName] = u.Status + " from " + u.StatusSource + u.StatusNote
	}
	want := map[string]string{"alice": "ENABLED from scim", "bob": "ENABLED from scim", "erin": "DISABLED from scim", "zoe": "ENABLED from scim"}
	assertEqual(t, "user status", want, got)
	if n := simCalls(env.sim)["scim"]; n != 4 {
		t.Errorf("%d SCIM calls, want 4 (4 users, one a page)", n)
	}
	if w := (UserStatusStats{Enabled: 3, Disabled: 1, FromSCIM: 4}); stats.UserStatus != w {
		t.Errorf("user status stats %+v, want %+v", stats.UserStatus, w)
	}
}

// TestFetchSCIMTokenRejected: a wrong or expired SCIM token does not fail the sync; the
// users whose status only SCIM could give are unknown, with the reason and the fix.
func TestFetchSCIMTokenRejected(t *testing.T) {
	env := startSim(t, fixture(t, orgFixture), awssim.Options{NoUserStatus: true})
	cfg := env.cfg
	cfg.SCIMToken = "expired-token"
	snap, stats := fetch(t, cfg)
	reason := "SCIM token rejected (401): create a new token in Identity Center > Settings > Automatic provisioning (tokens expire after a year) and pass it with --scim-token or GATEHOUSE_SCIM_TOKEN"
	for _, u := range snap.IdentityCenter.Users {
		if u.Status != "" || u.StatusNote != "unknown: "+reason {
			t.Errorf("%s: status %q, note %q", u.UserName, u.Status, u.StatusNote)
		}
	}
	if w := (UserStatusStats{Unknown: 4, Note: "unknown for 4 of 4 users: " + reason}); stats.UserStatus != w {
		t.Errorf("user status stats %+v, want %+v", stats.UserStatus, w)
	}
	if len(snap.IdentityCenter.Assignments) != 5 || account(t, snap, "333333333333").IAM == nil {
		t.Error("the rest of the sync is incomplete")
	}

	// Without SCIM configured at all, the same users are unknown, saying so.
	cfg.SCIMEndpoint, cfg.SCIMToken = "", ""
	snap, _ = fetch(t, cfg)
	if u := snap.IdentityCenter.Users[0]; u.Status != "" || !strings.Contains(u.StatusNote, "no SCIM endpoint is configured") {
		t.Errorf("without SCIM: status %q, note %q", u.Status, u.StatusNote)
	}
}

// TestFetchFailsOnPersistentErrors checks that an account whose reads keep failing for a
// reason other than a denial (a 5xx, a throttle or a dropped connection outlasting the
// retries) fails the whole fetch with an error naming the account and the call, instead
// of being skipped: a skipped account's access would look removed downstream.
func TestFetchFailsOnPersistentErrors(t *testing.T) {
	const (
		failure = "ServiceFailure: The request processing has failed because of an unknown error, exception or failure."
		role    = "arn:aws:iam::222222222222:role/GatehouseMember"
	)
	cases := []struct {
		op    string
		fault awssim.Fault
		want  string // with PORT for the simulator's port
	}{
		{"GetAccountAuthorizationDetails", awssim.FaultServerError, "read account 222222222222 (prod): IAM GetAccountAuthorizationDetails failed 3 times: " + failure},
		{"GetAccountAuthorizationDetails", awssim.FaultThrottle, "read account 222222222222 (prod): IAM GetAccountAuthorizationDetails failed 3 times: Throttling: Rate exceeded"},
		{"ListRoles", awssim.FaultDrop, `read account 222222222222 (prod): IAM ListRoles failed 3 times: Post "http://127.0.0.1:PORT/": EOF`},
		{"AssumeRole", awssim.FaultServerError, "read account 222222222222 (prod): assume " + role + ": STS AssumeRole failed 3 times: " + failure},
		{"AssumeRole", awssim.FaultDrop, "read account 222222222222 (prod): assume " + role + `: STS AssumeRole failed 3 times: Post "http://127.0.0.1:PORT/": EOF`},
	}
	for _, c := range cases {
		t.Run(c.op+" "+string(c.fault), func(t *testing.T) {
			env := startSim(t, fixture(t, unassumableFixture), awssim.Options{})
			env.sim.Do(func(w *awssim.World) { w.Accounts["222222222222"].Faults = map[string]awssim.Fault{c.op: c.fault} })
			cfg := env.cfg
			cfg.MaxAttempts = 3
			// Even with partial syncs allowed: this is no answer about the account.
			cfg.AllowPartial = true
			snap, _, err := Fetch(context.Background(), cfg)
			if err == nil || snap != nil {
				t.Fatalf("Fetch: snapshot %v, err %v; want no snapshot and an error", snap != nil, err)
			}
			want := strings.ReplaceAll(c.want, "127.0.0.1:PORT", strings.TrimPrefix(env.url, "http://"))
			if err.Error() != want {
				t.Errorf("error:\n got %q\nwant %q", err, want)
			}
			var pe *PartialError
			if errors.As(err, &pe) {
				t.Errorf("a persistent failure is reported as a partial sync")
			}
			var calls int64
			for _, oc := range env.sim.Counters().Snapshot() {
				if oc.Operation == c.op {
					calls += oc.Calls
				}
			}
			if calls < 3 {
				t.Errorf("%s was called %d times; want the 3 attempts", c.op, calls)
			}
		})
	}
}

// byPrincipalCheaperFixture is orgFixture with ReadOnly provisioned to two more accounts:
// 8 provisioned pairs against 7 principals, so listing per principal is cheaper.
func byPrincipalCheaperFixture() string {
	yaml := strings.Replace(orgFixture, "      managed_policies: [ReadOnlyAccess]\n",
		"      managed_policies: [ReadOnlyAccess]\n      provisioned_to: [management, staging]\n", 1)
	return strings.Replace(yaml, "organization:\n", "organization:\n  delegated_admins: [security]\n", 1)
}

// callerIn returns env's config calling from a user of the account with the read-only
// connector policy, without Organizations (only that account's IAM is read).
func callerIn(t *testing.T, env *testEnv, accountID string) Config {
	cfg := env.cfg
	cfg.RoleARN, cfg.ExternalID, cfg.Orgs, cfg.SCIMEndpoint, cfg.SCIMToken = "", "", false, "", ""
	env.sim.Do(func(w *awssim.World) {
		a := w.Accounts[accountID]
		u := a.AddUser(w, "gatehouse-"+accountID, "/")
		u.InlinePolicies["read"] = awssim.ConnectorReadPolicy
		k := a.AddAccessKey(w, u)
		cfg.Credentials = credentials.NewStaticCredentialsProvider(k.ID, k.Secret, "")
	})
	return cfg
}

func operationCalls(stats *Stats) map[string]int64 {
	calls := map[string]int64{}
	for _, o := range stats.Operations {
		calls[o.Operation] = o.Calls
	}
	return calls
}

// TestFetchAssignmentsByPrincipalOnlyWhereAllowed: the management account lists
// assignments per principal when that is cheaper; a delegated administrator, which
// ListAccountAssignmentsForPrincipal is not documented for, lists them per account from
// the start and says why. Both find exactly the same assignments.
func TestFetchAssignmentsByPrincipalOnlyWhereAllowed(t *testing.T) {
	env := startSim(t, fixture(t, byPrincipalCheaperFixture()), awssim.Options{})
	mgmt, stats := fetch(t, env.cfg)
	if want := (AssignmentChoice{Strategy: ByPrincipal, PairCalls: 8, PrincipalCalls: 7}); stats.Assignments != want {
		t.Errorf("management: choice %+v, want %+v", stats.Assignments, want)
	}
	if c := operationCalls(stats); c["ListAccountAssignmentsForPrincipal"] != 7 || c["ListAccountAssignments"] != 0 {
		t.Errorf("management: calls %v", c)
	}

	delegated, stats := fetch(t, callerIn(t, env, "222222222222"))
	choice := stats.Assignments
	if choice.Strategy != ByAccount || choice.Note != "ListAccountAssignmentsForPrincipal is for the management account only, and the caller's account 222222222222 is a delegated administrator of the instance of 111111111111" {
		t.Errorf("delegated administrator: choice %+v, want ListAccountAssignments with the reason", choice)
	}
	if c := operationCalls(stats); c["ListAccountAssignmentsForPrincipal"] != 0 || c["ListAccountAssignments"] != 8 {
		t.Errorf("delegated administrator: calls %v, want 8 ListAccountAssignments and no ListAccountAssignmentsForPrincipal", c)
	}
	if len(mgmt.IdentityCenter.Assignments) != 5 {
		t.Fatalf("%d assignments, want 5", len(mgmt.IdentityCenter.Assignments))
	}
	assertEqual(t, "assignments (delegated administrator vs management)", mgmt.IdentityCenter.Assignments, delegated.IdentityCenter.Assignments)
}

// TestFetchAssignmentsFallBackWhenRefused: where AWS refuses
// ListAccountAssignmentsForPrincipal (a delegated administrator that asked for it, an
// account instance the fetch could not recognise without Organizations), the listing
// falls back to ListAccountAssignments and finds exactly the same assignments.
func TestFetchAssignmentsFallBackWhenRefused(t *testing.T) {
	want, _ := fetch(t, startSim(t, fixture(t, byPrincipalCheaperFixture()), awssim.Options{}).cfg)
	for _, c := range []struct {
		name, code string
		setup      func(env *testEnv) Config
	}{
		{"delegated administrator", "AccessDeniedException", func(env *testEnv) Config {
			cfg := callerIn(t, env, "222222222222")
			cfg.AssignmentStrategy = ByPrincipal
			return cfg
		}},
		{"account instance", "ValidationException", func(env *testEnv) Config {
			env.sim.Do(func(w *awssim.World) { w.SSO.OwnerAccountID, w.Org.DelegatedAdmins = "222222222222", nil })
			return callerIn(t, env, "222222222222")
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			env := startSim(t, fixture(t, byPrincipalCheaperFixture()), awssim.Options{PageSize: 1})
			snap, stats := fetch(t, c.setup(env))
			choice := stats.Assignments
			if choice.Strategy != ByAccount || !strings.HasPrefix(choice.Note, "AWS refused ListAccountAssignmentsForPrincipal ("+c.code) ||
				!strings.HasSuffix(choice.Note, "listed with ListAccountAssignments instead") {
				t.Errorf("choice %+v, want the fallback to ListAccountAssignments with %s", choice, c.code)
			}
			calls := operationCalls(stats)
			if calls["ListAccountAssignmentsForPrincipal"] == 0 || calls["ListAccountAssignments"] < 8 {
				t.Errorf("calls %v, want a refused ListAccountAssignmentsForPrincipal, then ListAccountAssignments per pair", calls)
			}
			assertEqual(t, "assignments after the fallback", want.IdentityCenter.Assignments, snap.IdentityCenter.Assignments)
		})
	}
}

func TestByPrincipalAllowed(t *testing.T) {
	for _, c := range []struct {
		caller, owner, management string
		want                      bool
	}{
		{"111111111111", "111111111111", "111111111111", true},  // management account, organization instance
		{"111111111111", "111111111111", "", true},              // without Organizations: tried, falls back if refused
		{"222222222222", "111111111111", "111111111111", false}, // delegated administrator
		{"222222222222", "222222222222", "111111111111", false}, // account instance of a member account
	} {
		if got, why := byPrincipalAllowed(c.caller, c.owner, c.management); got != c.want || (why == "") != c.want {
			t.Errorf("byPrincipalAllowed(%s, %s, %s) = %v %q, want %v", c.caller, c.owner, c.management, got, why, c.want)
		}
	}
}
