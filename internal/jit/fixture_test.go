package jit

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/store"
)

// The test organization: connection "aws", account prod (111111111111) under OU ou-prod under
// root r-root, account dev (222222222222) directly under the root, permission sets
// AdministratorAccess and ReadOnly, Identity Center users alice, bob, carol, dave, erin (no
// frank: he has no user), groups Approvers {bob, carol} and Security {dave}, and an IAM group
// ops in prod with IAM user alice-iam tagged alice's email.
const (
	conn      = "aws"
	prodID    = "111111111111"
	devID     = "222222222222"
	psAdmin   = "ps-aaaaaaaaaaaaaaaa"
	psRead    = "ps-bbbbbbbbbbbbbbbb"
	instance  = "arn:aws:sso:::instance/ssoins-1111111111111111"
	adminARN  = "arn:aws:sso:::permissionSet/ssoins-1111111111111111/" + psAdmin
	readARN   = "arn:aws:sso:::permissionSet/ssoins-1111111111111111/" + psRead
	opsARN    = "arn:aws:iam::111111111111:group/ops"
	entAdmin  = "account:" + prodID + ":" + psAdmin
	entRead   = "account:" + prodID + ":" + psRead
	entDevAdm = "account:" + devID + ":" + psAdmin
	entOps    = "iam_group:" + opsARN + ":member"
	entAppr   = "sso_group:g-approvers:member"
)

var users = map[string]string{ // email -> user id
	"alice@example.com": "u-alice",
	"bob@example.com":   "u-bob",
	"carol@example.com": "u-carol",
	"dave@example.com":  "u-dave",
	"erin@example.com":  "u-erin",
}

func profile(m map[string]any) string {
	b, _ := json.Marshal(m)
	return string(b)
}

func seed(t testing.TB, st *store.Store) {
	t.Helper()
	ctx := context.Background()
	d := &store.InventoryDiff{ConnectionID: conn, Sync: "s1", At: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	res := func(r store.ResourceRow) { d.InsertResources = append(d.InsertResources, r) }
	res(store.ResourceRow{Type: "organizational_unit", ID: "r-root", DisplayName: "Root", Profile: "{}"})
	res(store.ResourceRow{Type: "organizational_unit", ID: "ou-prod", ParentType: "organizational_unit", ParentID: "r-root", DisplayName: "Prod", Profile: "{}"})
	res(store.ResourceRow{Type: "account", ID: prodID, AccountID: prodID, ParentType: "organizational_unit", ParentID: "ou-prod", DisplayName: "prod", Profile: "{}"})
	res(store.ResourceRow{Type: "account", ID: devID, AccountID: devID, ParentType: "organizational_unit", ParentID: "r-root", DisplayName: "dev", Profile: "{}"})
	res(store.ResourceRow{Type: "permission_set", ID: adminARN, DisplayName: "AdministratorAccess", Profile: profile(map[string]any{
		"arn": adminARN, "permission_set_id": psAdmin, "instance_arn": instance, "name": "AdministratorAccess",
		"session_duration": "PT1H", "managed_policies": []string{"arn:aws:iam::aws:policy/AdministratorAccess"},
		"inline_policy": `{"Version":"2012-10-17","Statement":[]}`})})
	res(store.ResourceRow{Type: "permission_set", ID: readARN, DisplayName: "ReadOnly", Profile: profile(map[string]any{
		"arn": readARN, "permission_set_id": psRead, "instance_arn": instance, "name": "ReadOnly", "session_duration": "PT8H",
		"managed_policies": []string{"arn:aws:iam::aws:policy/ReadOnlyAccess"}})})
	for email, id := range users {
		p := map[string]any{"user_id": id, "user_name": email, "email": email, "active": true}
		if email == "alice@example.com" {
			p["manager_email"] = "carol@example.com"
		}
		res(store.ResourceRow{Type: "sso_user", ID: id, DisplayName: email[:len(email)-len("@example.com")], Email: email, Profile: profile(p)})
	}
	// greg's user has no email, only his email as user name; hank's user is disabled.
	res(store.ResourceRow{Type: "sso_user", ID: "u-greg", DisplayName: "Greg", Profile: profile(map[string]any{
		"user_id": "u-greg", "user_name": "Greg@Example.com", "active": true})})
	res(store.ResourceRow{Type: "sso_user", ID: "u-hank", DisplayName: "Hank", Email: "hank@example.com", Profile: profile(map[string]any{
		"user_id": "u-hank", "user_name": "hank", "email": "hank@example.com", "active": false})})
	res(store.ResourceRow{Type: "sso_group", ID: "g-approvers", DisplayName: "Approvers", Profile: "{}"})
	res(store.ResourceRow{Type: "sso_group", ID: "g-security", DisplayName: "Security", Profile: "{}"})
	res(store.ResourceRow{Type: "iam_group", ID: opsARN, AccountID: prodID, Scope: prodID, DisplayName: "ops", Profile: "{}"})
	res(store.ResourceRow{Type: "iam_user", ID: "arn:aws:iam::111111111111:user/alice-iam", AccountID: prodID, Scope: prodID,
		DisplayName: "alice-iam", Email: "alice@example.com", Profile: "{}"})
	ent := func(e store.EntitlementRow) { d.InsertEntitlements = append(d.InsertEntitlements, e) }
	ent(store.EntitlementRow{ID: entAdmin, ResourceType: "account", ResourceID: prodID, Slug: psAdmin, DisplayName: "AdministratorAccess on prod", AccountID: prodID})
	ent(store.EntitlementRow{ID: entRead, ResourceType: "account", ResourceID: prodID, Slug: psRead, DisplayName: "ReadOnly on prod", AccountID: prodID})
	ent(store.EntitlementRow{ID: entDevAdm, ResourceType: "account", ResourceID: devID, Slug: psAdmin, DisplayName: "AdministratorAccess on dev", AccountID: devID})
	ent(store.EntitlementRow{ID: entAppr, ResourceType: "sso_group", ResourceID: "g-approvers", Slug: "member", DisplayName: "Approvers member"})
	ent(store.EntitlementRow{ID: "sso_group:g-security:member", ResourceType: "sso_group", ResourceID: "g-security", Slug: "member", DisplayName: "Security member"})
	ent(store.EntitlementRow{ID: entOps, ResourceType: "iam_group", ResourceID: opsARN, Slug: "member", DisplayName: "ops member", AccountID: prodID, Scope: prodID})
	member := func(group, user string) {
		d.InsertGrants = append(d.InsertGrants, store.GrantRow{ID: "sso_group:" + group + ":member:sso_user:" + user,
			EntitlementID: "sso_group:" + group + ":member", ResourceType: "sso_group", ResourceID: group,
			PrincipalType: "sso_user", PrincipalID: user, Direct: true})
	}
	member("g-approvers", "u-bob")
	member("g-approvers", "u-carol")
	member("g-security", "u-dave")
	if err := st.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.ApplyInventoryDiff(ctx, d)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := st.SetConfiguredRoles(ctx, map[string][]string{"admin@example.com": {auth.RoleAdmin}, "audrey@example.com": {auth.RoleAuditor}}); err != nil {
		t.Fatal(err)
	}
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// events records the notifications.
type events struct {
	mu  sync.Mutex
	evs []Event
}

func (n *events) NotifyTx(_ context.Context, _ *store.Tx, ev Event) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.evs = append(n.evs, ev)
	return nil
}

func (n *events) kinds() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []string
	for _, e := range n.evs {
		out = append(out, e.Kind)
	}
	return out
}

func (n *events) last(kind string) *Event {
	n.mu.Lock()
	defer n.mu.Unlock()
	for i := len(n.evs) - 1; i >= 0; i-- {
		if n.evs[i].Kind == kind {
			e := n.evs[i]
			return &e
		}
	}
	return nil
}

type env struct {
	svc   *Service
	st    *store.Store
	clock *clock
	ev    *events
}

func newEnv(t *testing.T, st *store.Store, doc string) *env {
	t.Helper()
	seed(t, st)
	ck := &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	ev := &events{}
	svc, err := New(Config{Store: st, Now: ck.Now, Notifier: ev, BaseURL: "https://gh.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	svc.SetQueue(&fakeQueue{}) // an approval starts a lease and queues its grant job
	if doc != "" {
		if _, err := svc.ApplyRules(context.Background(), caller("admin@example.com", auth.RoleAdmin), []byte(doc)); err != nil {
			t.Fatalf("apply rules: %v", err)
		}
	}
	return &env{svc: svc, st: st, clock: ck, ev: ev}
}

func caller(email string, roles ...string) *auth.Caller {
	return &auth.Caller{Email: email, Roles: roles, Via: "session"}
}

var (
	alice = caller("alice@example.com")
	bob   = caller("bob@example.com")
	carol = caller("carol@example.com")
	dave  = caller("dave@example.com")
	erin  = caller("erin@example.com")
	frank = caller("frank@example.com")
	admin = caller("admin@example.com", auth.RoleAdmin)
	audr  = caller("audrey@example.com", auth.RoleAuditor)
)

// testDoc is the rules and policies most tests use.
const testDoc = `rules:
  - name: accounts
    requesters: {everyone: true}
    duration: {default: 1h, max: 4h}
    reason_required: true
    approval_policy: approvers
  - name: readonly
    match: {permission_sets: [ReadOnly]}
    requesters: {everyone: true}
    duration: {default: 1h, max: 8h}
    approval_policy: auto
  - name: dev
    match: {accounts: ["222222222222"]}
    requesters: {everyone: true}
    approval_policy: two-step
    break_glass: true
    end_sessions: true
  - name: groups
    match: {resource_types: [sso_group, iam_group]}
    requesters: {everyone: true}
    approval_policy: manager
policies:
  - name: approvers
    steps:
      - approvers: {groups: [Approvers]}
  - name: auto
    steps:
      - approvers: {nobody: true}
  - name: two-step
    distinct: true
    steps:
      - name: Team
        approvers: {groups: [Approvers]}
      - name: Second
        approvers: {people: [bob@example.com, dave@example.com]}
  - name: manager
    steps:
      - approvers: {manager: true}
    fallback: {groups: [Security]}
`
