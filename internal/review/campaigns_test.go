package review

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// A campaign over one account freezes exactly the grants the inventory has there: every
// person's and group's grant in prod, one item per way it is held (bob holds ReadOnly both
// directly and through Developers: two items), and no role's.
func TestFreezeOneAccount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		c := e.start("prod", Scope{Accounts: []string{prodID}}, Reviewers{People: []string{"dave@example.com"}})
		if c.State != CampaignActive || c.SnapshotSyncs[conn] != "s1" {
			t.Fatalf("campaign %s, snapshot %v; want active from s1", c.State, c.SnapshotSyncs)
		}
		ids := e.ids
		admins, devs := ids["group:Admins"], ids["group:Developers"]
		deployers, prodAdmins := iamGroup(prodID, "deployers"), iamGroup(prodID, "prod-admins")
		bot, aliceIAM := iamUser(prodID, "deploy-bot"), iamUser(prodID, "alice")
		want := []string{
			e.assignment(prodID, "AdministratorAccess", "sso_group", admins) + " |  | direct",
			e.assignment(prodID, "AdministratorAccess", "sso_user", ids["sso:alice"]) + " | alice@example.com | " + ssoMember(admins),
			e.assignment(prodID, "ReadOnly", "sso_group", devs) + " |  | direct",
			e.assignment(prodID, "ReadOnly", "sso_user", ids["sso:bob"]) + " | bob@example.com | direct",
			e.assignment(prodID, "ReadOnly", "sso_user", ids["sso:bob"]) + " | bob@example.com | " + ssoMember(devs),
			e.assignment(prodID, "ReadOnly", "sso_user", ids["sso:erin"]) + " | erin@example.com | " + ssoMember(devs),
			member(deployers) + ":iam_user:" + bot + " |  | direct",
			member(prodAdmins) + ":iam_user:" + aliceIAM + " | alice@example.com | direct",
			"iam_policy:" + policy("AdministratorAccess") + ":attached:iam_group:" + prodAdmins + " |  | direct",
			"iam_policy:" + policy("AdministratorAccess") + ":attached:iam_user:" + aliceIAM + " | alice@example.com | " + member(prodAdmins),
			"iam_policy:" + policy("AmazonS3FullAccess") + ":attached:iam_group:" + deployers + " |  | direct",
			"iam_policy:" + policy("AmazonS3FullAccess") + ":attached:iam_user:" + bot + " |  | " + member(deployers),
		}
		slices.Sort(want)
		items := e.items(admin, c.ID, ItemQuery{})
		if got := keys(items); !reflect.DeepEqual(got, want) {
			t.Fatalf("frozen items differ from prod's grants:%s", diff(got, want))
		}
		if c.Progress.Total != 12 || c.Progress.Pending != 12 {
			t.Errorf("progress %+v, want 12 pending", c.Progress)
		}
		// The admin-level ones: AdministratorAccess (the set, the policy) and membership of
		// the group holding it.
		var admin []string
		for _, it := range items {
			if it.AdminLevel {
				admin = append(admin, it.GrantID+" | "+it.Via)
			}
			if it.Reviewer != "dave@example.com" || !reflect.DeepEqual(it.Reviewers, []string{"dave@example.com"}) {
				t.Errorf("item %s: reviewer %q %v, want dave", it.ID, it.Reviewer, it.Reviewers)
			}
			if it.AccountID != prodID || it.AccountName != "prod" {
				t.Errorf("item %s: account %s %q", it.ID, it.AccountID, it.AccountName)
			}
		}
		slices.Sort(admin)
		wantAdmin := []string{
			e.assignment(prodID, "AdministratorAccess", "sso_group", admins) + " | direct",
			e.assignment(prodID, "AdministratorAccess", "sso_user", ids["sso:alice"]) + " | " + ssoMember(admins),
			member(prodAdmins) + ":iam_user:" + aliceIAM + " | direct",
			"iam_policy:" + policy("AdministratorAccess") + ":attached:iam_group:" + prodAdmins + " | direct",
			"iam_policy:" + policy("AdministratorAccess") + ":attached:iam_user:" + aliceIAM + " | " + member(prodAdmins),
		}
		slices.Sort(wantAdmin)
		if !reflect.DeepEqual(admin, wantAdmin) {
			t.Errorf("admin-level items:%s", diff(admin, wantAdmin))
		}
		// How it is held, and what a revoke would do, are said before deciding.
		viaGroup := e.find(items, e.assignment(prodID, "AdministratorAccess", "sso_user", ids["sso:alice"]), ssoMember(admins))
		if viaGroup.ViaName != "group Admins" || !strings.Contains(viaGroup.Plan, "Remove alice@example.com from the Identity Center group Admins") {
			t.Errorf("via group: %q, plan %q", viaGroup.ViaName, viaGroup.Plan)
		}
		iamUserItem := e.find(items, member(prodAdmins)+":iam_user:"+aliceIAM, ViaDirect)
		if iamUserItem.Context.MFA == nil || !*iamUserItem.Context.MFA || iamUserItem.Context.LastUsed == nil ||
			iamUserItem.Context.LastUsedSource != "console sign-in" || iamUserItem.Context.LastUsed.Format("2006-01-02") != "2025-12-20" {
			t.Errorf("alice's IAM user context: %+v", iamUserItem.Context)
		}
		// Items are ordered by account, entitlement, identity: seq follows the list.
		for i, it := range items {
			if it.Seq != i+1 {
				t.Fatalf("item %d has seq %d", i, it.Seq)
			}
		}
		// The reviewer was told.
		if evs := e.ev.of("review_started"); len(evs) != 1 || evs[0].To[0] != "dave@example.com" || evs[0].Pending != 12 {
			t.Errorf("review_started events: %+v", evs)
		}
	})
}

// Freezing ignores later syncs: the items stay as frozen after bob leaves Developers and
// staging becomes unreadable; a campaign started afterwards sees the new inventory, and
// staging's IAM, kept by the inventory as last read, is still frozen but flagged.
func TestFreezeIgnoresLaterSyncs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		ctx := context.Background()
		before := e.start("before", Scope{Accounts: []string{prodID, stagingID}}, Reviewers{People: []string{"dave@example.com"}})
		frozen := keys(e.items(admin, before.ID, ItemQuery{}))
		// s2: bob left Developers; staging refuses Gatehouse.
		if _, err := ingestOne(st, 1); err != nil {
			t.Fatal(err)
		}
		if got := keys(e.items(admin, before.ID, ItemQuery{})); !reflect.DeepEqual(got, frozen) {
			t.Fatalf("a later sync changed the frozen items:%s", diff(got, frozen))
		}
		bobViaDevs := e.assignment(prodID, "ReadOnly", "sso_user", e.ids["sso:bob"]) + " | bob@example.com | " + ssoMember(e.ids["group:Developers"])
		if !slices.Contains(frozen, bobViaDevs) {
			t.Fatalf("the first campaign lacks %s", bobViaDevs)
		}
		e.clock.Add(2 * 60 * 60 * 1e9)
		after := e.start("after", Scope{Accounts: []string{prodID, stagingID}}, Reviewers{People: []string{"dave@example.com"}})
		if after.SnapshotSyncs[conn] != "s2" {
			t.Errorf("snapshot %v, want s2", after.SnapshotSyncs)
		}
		items := e.items(admin, after.ID, ItemQuery{})
		if slices.Contains(keys(items), bobViaDevs) {
			t.Errorf("the second campaign still has %s", bobViaDevs)
		}
		// What the inventory knows of staging: stale since s2, its IAM as read by s1.
		reads, err := st.AccountReads(ctx, conn)
		if err != nil {
			t.Fatal(err)
		}
		stale := false
		for _, r := range reads {
			if r.AccountID == stagingID {
				stale = r.Stale
			}
		}
		if !stale {
			t.Fatalf("the inventory does not say staging is stale: %+v", reads)
		}
		frank := e.find(items, member(iamGroup(stagingID, "staging-ops"))+":iam_user:"+iamUser(stagingID, "frank"), ViaDirect)
		if !strings.Contains(frank.Context.Status, "account 444444444444 could not be read by the latest sync") {
			t.Errorf("frank's item in stale staging is not flagged: %q", frank.Context.Status)
		}
		// An Identity Center assignment is read from the management account: not stale.
		erin := e.find(items, e.assignment(stagingID, "ReadOnly", "sso_user", e.ids["sso:erin"]), ViaDirect)
		if strings.Contains(erin.Context.Status, "could not be read") {
			t.Errorf("erin's assignment flagged stale: %q", erin.Context.Status)
		}
	})
}

// Departed keeps the people who left: erin (disabled in Identity Center) and frank (no
// Identity Center user), and nobody else.
func TestScopeDeparted(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		c := e.start("departed", Scope{Departed: true}, Reviewers{People: []string{"dave@example.com"}})
		staging := iamGroup(stagingID, "staging-ops")
		frank := iamUser(stagingID, "frank")
		devs := e.ids["group:Developers"]
		want := []string{
			e.assignment(prodID, "ReadOnly", "sso_user", e.ids["sso:erin"]) + " | erin@example.com | " + ssoMember(devs),
			e.assignment(stagingID, "ReadOnly", "sso_user", e.ids["sso:erin"]) + " | erin@example.com | direct",
			ssoMember(devs) + ":sso_user:" + e.ids["sso:erin"] + " | erin@example.com | direct",
			member(staging) + ":iam_user:" + frank + " | frank@example.com | direct",
			"iam_policy:" + policy("ReadOnlyAccess") + ":attached:iam_user:" + frank + " | frank@example.com | " + member(staging),
		}
		slices.Sort(want)
		items := e.items(admin, c.ID, ItemQuery{})
		if got := keys(items); !reflect.DeepEqual(got, want) {
			t.Fatalf("departed items:%s", diff(got, want))
		}
		for _, it := range items {
			if it.Context.Active == nil || *it.Context.Active {
				t.Errorf("%s: active %v", it.ID, it.Context.Active)
			}
		}
		if got := e.find(items, member(staging)+":iam_user:"+frank, ViaDirect).Context.Status; got != "no Identity Center user has this email (left?)" {
			t.Errorf("frank's status %q", got)
		}
	})
}

// Only admins and auditors create and start campaigns; a campaign needs a name and a due
// date in the future.
func TestCreateCampaignChecks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		ctx := context.Background()
		due := e.clock.Now().Add(24 * 60 * 60 * 1e9)
		if _, err := e.svc.CreateCampaign(ctx, bob, CampaignInput{Name: "x", Due: due}); CodeOf(err) != CodeForbidden ||
			err.Error() != "only admins and auditors create access review campaigns" {
			t.Errorf("bob creates: %v", err)
		}
		for _, tc := range []struct {
			in   CampaignInput
			want string
		}{
			{CampaignInput{Due: due}, "a campaign needs a name"},
			{CampaignInput{Name: "x"}, "a campaign needs a due date (due, RFC 3339)"},
			{CampaignInput{Name: "x", Due: e.clock.Now().Add(-1e9)}, "is in the past"},
			{CampaignInput{Name: "x", Due: due, Undecided: "ignore"}, `undecided is "ignore"; use keep, revoke or escalate`},
			{CampaignInput{Name: "x", Due: due, Scope: Scope{Accounts: []string{"prod"}}}, `account "prod" is not a 12-digit AWS account id`},
			{CampaignInput{Name: "x", Due: due, Reviewers: Reviewers{Sequence: []string{"boss"}}}, `sequence step "boss" is unknown`},
		} {
			_, err := e.svc.CreateCampaign(ctx, audr, tc.in)
			if CodeOf(err) != CodeInvalid || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%+v: %v, want 400 %q", tc.in, err, tc.want)
			}
		}
		c, err := e.svc.CreateCampaign(ctx, audr, CampaignInput{Name: "q1", Due: due})
		if err != nil || c.State != CampaignDraft || c.Undecided != UndecidedKeep || c.CreatedBy != "audrey@example.com" {
			t.Fatalf("auditor creates: %+v %v", c, err)
		}
		if _, err := e.svc.Start(ctx, bob, c.ID); CodeOf(err) != CodeForbidden {
			t.Errorf("bob starts: %v", err)
		}
		if _, err := e.svc.Start(ctx, audr, c.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Start(ctx, audr, c.ID); CodeOf(err) != CodeConflict {
			t.Errorf("second start: %v", err)
		}
		list, _, err := e.svc.Campaigns(ctx, admin, CampaignQuery{})
		if err != nil || len(list) != 1 || list[0].ID != c.ID || list[0].State != CampaignActive {
			t.Errorf("admin's list: %+v %v", list, err)
		}
		entries, err := st.ListAudit(ctx, store.AuditFilter{Target: "campaign:" + c.ID, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, a := range entries {
			actions = append(actions, a.Action+" by "+a.Actor)
		}
		slices.Sort(actions)
		if want := []string{"review.create by audrey@example.com", "review.start by audrey@example.com"}; !reflect.DeepEqual(actions, want) {
			t.Errorf("audit %v, want %v", actions, want)
		}
	})
}

// Access held through an active just-in-time lease is reviewed as such: the item's via is
// the lease, its context names it, and the plan ends the lease.
func TestFreezeLease(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st)
		ctx := context.Background()
		grant := e.assignment(prodID, "ReadOnly", "sso_user", e.ids["sso:bob"])
		start, end := t1, t1.Add(4*time.Hour)
		target := `{"connection_id":"aws","entitlement_id":"account:` + prodID + `:` + e.ids["ps:ReadOnly"] + `","principal_id":"` + e.ids["sso:bob"] + `"}`
		err := st.InTx(ctx, func(tx *store.Tx) error {
			return tx.InsertLease(ctx, &store.Lease{ID: "lease_bob1", RequestID: "req_bob1", Requester: "bob@example.com", ConnectionID: conn,
				AccessKey: "k", Target: target, State: store.LeaseActive, Duration: 4 * time.Hour, CreatedAt: start, StartsAt: &start, EndsAt: &end})
		})
		if err != nil {
			t.Fatal(err)
		}
		c := e.start("prod", Scope{Accounts: []string{prodID}}, Reviewers{People: []string{"dave@example.com"}})
		items := e.items(admin, c.ID, ItemQuery{})
		it := e.find(items, grant, "lease:lease_bob1")
		if it.ViaName != "just-in-time lease until 2026-02-01 14:00 UTC" || it.Context.LeaseID != "lease_bob1" || it.Context.LeaseEndsAt == nil ||
			!strings.HasPrefix(it.Plan, "End the just-in-time lease lease_bob1 early") {
			t.Errorf("lease item: %q %+v %q", it.ViaName, it.Context, it.Plan)
		}
		// The same grant through Developers is still its own item; no direct item is left.
		e.find(items, grant, ssoMember(e.ids["group:Developers"]))
		for _, x := range items {
			if x.GrantID == grant && x.Via == ViaDirect {
				t.Errorf("the leased grant is also a direct item")
			}
		}
		if got := e.items(admin, c.ID, ItemQuery{Via: "lease"}); len(got) != 1 || got[0].ID != it.ID {
			t.Errorf("via=lease filter: %v", keys(got))
		}
	})
}
