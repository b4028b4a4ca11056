package review

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// reviewersOf maps "grant | via" to the item's current reviewers.
func reviewersOf(items []Item) map[string][]string {
	out := map[string][]string{}
	for _, it := range items {
		out[it.GrantID+" | "+it.Via] = it.Reviewers
	}
	return out
}

// The manager reviews from the synced Identity Center manager attribute (bob's and erin's
// is dave, alice's carol); a group (no manager) goes to the fallback, and the history
// says why.
func TestReviewerManager(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		c := e.start("managers", Scope{Accounts: []string{prodID}, ResourceTypes: []string{"account"}},
			Reviewers{Manager: true, Fallback: []string{"audrey@example.com"}})
		items := e.items(admin, c.ID, ItemQuery{})
		admins, devs := e.ids["group:Admins"], e.ids["group:Developers"]
		got := reviewersOf(items)
		want := map[string][]string{
			e.assignment(prodID, "AdministratorAccess", "sso_group", admins) + " | direct":                          {"audrey@example.com"},
			e.assignment(prodID, "AdministratorAccess", "sso_user", e.ids["sso:alice"]) + " | " + ssoMember(admins): {"carol@example.com"},
			e.assignment(prodID, "ReadOnly", "sso_group", devs) + " | direct":                                       {"audrey@example.com"},
			e.assignment(prodID, "ReadOnly", "sso_user", e.ids["sso:bob"]) + " | direct":                            {"dave@example.com"},
			e.assignment(prodID, "ReadOnly", "sso_user", e.ids["sso:bob"]) + " | " + ssoMember(devs):                {"dave@example.com"},
			e.assignment(prodID, "ReadOnly", "sso_user", e.ids["sso:erin"]) + " | " + ssoMember(devs):               {"dave@example.com"},
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("reviewers %v\nwant %v", got, want)
		}
		group := e.find(items, e.assignment(prodID, "ReadOnly", "sso_group", devs), ViaDirect)
		full, err := e.svc.Item(context.Background(), audr, c.ID, group.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(full.Events) != 2 || full.Events[1].Detail != "goes to the fallback reviewers audrey@example.com: Developers is not a person, so has no manager" {
			t.Errorf("history %+v", full.Events)
		}
	})
}

// A sequence: the manager first, then the owner; a keep passes the item on, a revoke ends
// it. Without a fallback, an item nobody can review goes to the admins.
func TestReviewerSequence(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		ctx := context.Background()
		e.setOwners(prodID, "erin@example.com", "carol@example.com")
		c := e.start("sequence", Scope{Accounts: []string{prodID}, ResourceTypes: []string{"account"}}, Reviewers{Sequence: []string{"manager", "owner"}})
		items := e.items(admin, c.ID, ItemQuery{})
		bobRO := e.find(items, e.assignment(prodID, "ReadOnly", "sso_user", e.ids["sso:bob"]), ViaDirect)
		if !reflect.DeepEqual(bobRO.Reviewers, []string{"dave@example.com"}) || bobRO.Step != 0 {
			t.Fatalf("step 1 of bob's item: %v", bobRO.Reviewers)
		}
		// The group has no manager: step 1 goes to the admins.
		group := e.find(items, e.assignment(prodID, "ReadOnly", "sso_group", e.ids["group:Developers"]), ViaDirect)
		if !reflect.DeepEqual(group.Reviewers, []string{"admin@example.com"}) {
			t.Errorf("the group's step 1: %v", group.Reviewers)
		}
		// erin owns prod, but never reviews her own access: her item's step 2 is carol's only.
		it, err := e.svc.Decide(ctx, dave, c.ID, e.find(items, e.assignment(prodID, "ReadOnly", "sso_user", e.ids["sso:erin"]), ssoMember(e.ids["group:Developers"])).ID,
			DecisionInput{Decision: "keep"})
		if err != nil || it.State != ItemPending || it.Step != 1 || !reflect.DeepEqual(it.Reviewers, []string{"carol@example.com"}) {
			t.Fatalf("after dave's keep of erin's item: %+v %v", it, err)
		}
		it, err = e.svc.Decide(ctx, dave, c.ID, bobRO.ID, DecisionInput{Decision: "keep", Reason: "on the team"})
		if err != nil || it.State != ItemPending || it.Step != 1 || !reflect.DeepEqual(it.Reviewers, []string{"carol@example.com", "erin@example.com"}) ||
			it.Reviewer != "carol@example.com" {
			t.Fatalf("after dave's keep: %+v %v", it, err)
		}
		// dave is done with it; erin (an owner) decides step 2.
		if _, err := e.svc.Decide(ctx, dave, c.ID, bobRO.ID, DecisionInput{Decision: "keep"}); CodeOf(err) != CodeForbidden {
			t.Errorf("dave decides step 2: %v", err)
		}
		if roles, _ := e.svc.Roles(ctx, "erin@example.com"); !reflect.DeepEqual(roles, []string{"reviewer"}) {
			t.Errorf("erin's roles: %v", roles)
		}
		it, err = e.svc.Decide(ctx, erin, c.ID, bobRO.ID, DecisionInput{Decision: "revoke", Reason: "not needed"})
		if err != nil || it.State != ItemRevocationPending || it.DecidedBy != "erin@example.com" {
			t.Fatalf("erin revokes: %+v %v", it, err)
		}
		var steps []string
		for _, ev := range it.Events {
			if ev.Kind == "decided" {
				steps = append(steps, ev.By+" "+ev.Decision)
			}
		}
		if !reflect.DeepEqual(steps, []string{"dave@example.com keep", "erin@example.com revoke"}) {
			t.Errorf("decisions %v", steps)
		}
		// dave still sees the item he decided at step 1.
		if _, err := e.svc.Item(ctx, dave, c.ID, bobRO.ID); err != nil {
			t.Errorf("dave reads the item after step 1: %v", err)
		}
	})
}

// A group's members review (carol and dave, of Reviewers, named by the group's name).
func TestReviewerGroup(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		c := e.start("group", Scope{Accounts: []string{prodID}}, Reviewers{Groups: []string{"Reviewers"}})
		for _, it := range e.items(admin, c.ID, ItemQuery{}) {
			if !reflect.DeepEqual(it.Reviewers, []string{"carol@example.com", "dave@example.com"}) {
				t.Errorf("%s: reviewers %v", it.ID, it.Reviewers)
			}
		}
	})
}

// Every scope key selects what it says, on the fixture: the grant ids of each scope.
func TestScopeKeys(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		admins, devs := e.ids["group:Admins"], e.ids["group:Developers"]
		prodAdmins, staging := iamGroup(prodID, "prod-admins"), iamGroup(stagingID, "staging-ops")
		aliceIAM, frank := iamUser(prodID, "alice"), iamUser(stagingID, "frank")
		for _, tc := range []struct {
			name  string
			scope Scope
			want  []string // grant | via
		}{
			{"OU subtree by name (NonProd holds staging)", Scope{OUs: []string{"NonProd"}, ResourceTypes: []string{"account"}}, []string{
				e.assignment(stagingID, "ReadOnly", "sso_user", e.ids["sso:erin"]) + " | direct",
			}},
			{"OU subtree (Workloads holds Prod and NonProd)", Scope{OUs: []string{"Workloads"}, ResourceTypes: []string{"account"}, PermissionSets: []string{"ReadOnly"}}, []string{
				e.assignment(prodID, "ReadOnly", "sso_group", devs) + " | direct",
				e.assignment(prodID, "ReadOnly", "sso_user", e.ids["sso:bob"]) + " | direct",
				e.assignment(prodID, "ReadOnly", "sso_user", e.ids["sso:bob"]) + " | " + ssoMember(devs),
				e.assignment(prodID, "ReadOnly", "sso_user", e.ids["sso:erin"]) + " | " + ssoMember(devs),
				e.assignment(stagingID, "ReadOnly", "sso_user", e.ids["sso:erin"]) + " | direct",
			}},
			{"permission set by ARN", Scope{PermissionSets: []string{e.ids["psarn:AdministratorAccess"]}}, []string{
				e.assignment(mgmtID, "AdministratorAccess", "sso_group", admins) + " | direct",
				e.assignment(mgmtID, "AdministratorAccess", "sso_user", e.ids["sso:alice"]) + " | " + ssoMember(admins),
				e.assignment(prodID, "AdministratorAccess", "sso_group", admins) + " | direct",
				e.assignment(prodID, "AdministratorAccess", "sso_user", e.ids["sso:alice"]) + " | " + ssoMember(admins),
			}},
			{"Identity Center group by name", Scope{SSOGroups: []string{"Developers"}, Accounts: []string{prodID}}, []string{
				e.assignment(prodID, "ReadOnly", "sso_group", devs) + " | direct",
				e.assignment(prodID, "ReadOnly", "sso_user", e.ids["sso:bob"]) + " | " + ssoMember(devs),
				e.assignment(prodID, "ReadOnly", "sso_user", e.ids["sso:erin"]) + " | " + ssoMember(devs),
			}},
			{"IAM policy by name", Scope{IAMPolicies: []string{"ReadOnlyAccess"}}, []string{
				"iam_policy:" + policy("ReadOnlyAccess") + ":attached:iam_group:" + staging + " | direct",
				"iam_policy:" + policy("ReadOnlyAccess") + ":attached:iam_user:" + frank + " | " + member(staging),
			}},
			{"IAM group by ARN", Scope{IAMGroups: []string{prodAdmins}}, []string{
				member(prodAdmins) + ":iam_user:" + aliceIAM + " | direct",
				"iam_policy:" + policy("AdministratorAccess") + ":attached:iam_group:" + prodAdmins + " | direct",
				"iam_policy:" + policy("AdministratorAccess") + ":attached:iam_user:" + aliceIAM + " | " + member(prodAdmins),
			}},
			{"admin only in prod's IAM", Scope{AdminOnly: true, Accounts: []string{prodID}, ResourceTypes: []string{"iam_group", "iam_policy"}}, []string{
				member(prodAdmins) + ":iam_user:" + aliceIAM + " | direct",
				"iam_policy:" + policy("AdministratorAccess") + ":attached:iam_group:" + prodAdmins + " | direct",
				"iam_policy:" + policy("AdministratorAccess") + ":attached:iam_user:" + aliceIAM + " | " + member(prodAdmins),
			}},
			// alice's IAM user signed in on 2025-12-20, 43 days before; frank and the bot never.
			{"unused 30 days", Scope{UnusedDays: 30, Accounts: []string{prodID}, ResourceTypes: []string{"iam_group"}}, []string{
				member(iamGroup(prodID, "deployers")) + ":iam_user:" + iamUser(prodID, "deploy-bot") + " | direct",
				member(prodAdmins) + ":iam_user:" + aliceIAM + " | direct",
			}},
			{"unused 60 days", Scope{UnusedDays: 60, Accounts: []string{prodID}, ResourceTypes: []string{"iam_group"}}, []string{
				member(iamGroup(prodID, "deployers")) + ":iam_user:" + iamUser(prodID, "deploy-bot") + " | direct",
			}},
			{"the aws application", Scope{Applications: []string{"aws"}, OUs: []string{"NonProd"}, ResourceTypes: []string{"account"}}, []string{
				e.assignment(stagingID, "ReadOnly", "sso_user", e.ids["sso:erin"]) + " | direct",
			}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				c := e.start(tc.name, tc.scope, Reviewers{People: []string{"dave@example.com"}})
				var got []string
				for _, it := range e.items(admin, c.ID, ItemQuery{}) {
					got = append(got, it.GrantID+" | "+it.Via)
				}
				slices.Sort(got)
				slices.Sort(tc.want)
				if !reflect.DeepEqual(got, tc.want) {
					t.Errorf("%s:%s", tc.name, diff(got, tc.want))
				}
			})
		}
		// An application that is neither a connection nor an imported application is refused at
		// the start, saying what to use.
		c, err := e.svc.CreateCampaign(context.Background(), admin, CampaignInput{Name: "sf", Scope: Scope{Applications: []string{"salesforce"}},
			Due: e.clock.Now().Add(24 * 60 * 60 * 1e9)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Start(context.Background(), admin, c.ID); CodeOf(err) != CodeInvalid ||
			err.Error() != `no AWS connection or imported application is "salesforce"; use "aws" (every AWS connection), a connection's id, or an imported application's id (app_…; GET /api/v1/applications lists them)` {
			t.Errorf("start over salesforce: %v", err)
		}
	})
}

// A second campaign of the same scope shows the previous one's decision on each item.
func TestPreviousDecision(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		ctx := context.Background()
		sc := Scope{Accounts: []string{prodID}}
		first := e.start("q1", sc, Reviewers{People: []string{"dave@example.com"}})
		bobRO := e.find(e.items(dave, first.ID, ItemQuery{}), e.assignment(prodID, "ReadOnly", "sso_user", e.ids["sso:bob"]), ViaDirect)
		if _, err := e.svc.Decide(ctx, dave, first.ID, bobRO.ID, DecisionInput{Decision: "keep", Reason: "support rota"}); err != nil {
			t.Fatal(err)
		}
		e.clock.Add(24 * 60 * 60 * 1e9)
		second := e.start("q2", sc, Reviewers{People: []string{"dave@example.com"}})
		if second.Previous != first.ID {
			t.Fatalf("previous %q, want %s", second.Previous, first.ID)
		}
		again := e.find(e.items(dave, second.ID, ItemQuery{}), bobRO.GrantID, ViaDirect)
		if again.ID != bobRO.ID {
			t.Errorf("item ids are not stable across campaigns: %s then %s", bobRO.ID, again.ID)
		}
		cx := again.Context
		if cx.PreviousCampaign != first.ID || cx.PreviousDecision != "keep" || cx.PreviousReason != "support rota" || cx.PreviousBy != "dave@example.com" {
			t.Errorf("previous decision in the context: %+v", cx)
		}
		other := e.start("other scope", Scope{Accounts: []string{prodID, mgmtID}}, Reviewers{People: []string{"dave@example.com"}})
		if other.Previous != "" || !strings.HasPrefix(other.ID, "rc-") {
			t.Errorf("a different scope has previous %q", other.Previous)
		}
	})
}
