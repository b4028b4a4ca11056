package review

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/appimport"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// The access of an application imported from a file (internal/appimport, the server's
// parser) is reviewed like AWS access: the fixture organization is synced, then Payroll's
// CSV is imported through the data source's hook (OnObject), with the review service's
// AfterIngest as the import's AfterApply, as the server wires it.

const payrollCSV = `User ID,Email Address,Full Name,User Status,Manager,Last Login,Resource Type,Resource Name,Entitlement
alice,alice@example.com,Alice Nguyen,enabled,carol@example.com,2026-01-30T09:00:00Z,group,Billing,admin
alice,alice@example.com,Alice Nguyen,enabled,carol@example.com,2026-01-30T09:00:00Z,role,Reports,viewer
bob,Bob@Example.com,Bob Martinez,enabled,alice,2025-06-01,group,Billing,member
erin,erin@example.com,Erin Lee,suspended,nobody@elsewhere.example,,role,Reports,viewer
olga,owner@example.com,Olga Owner,enabled,,,role,Reports,editor
svc,,Payroll Bot,enabled,,,role,Reports,api
`

type appEnv struct {
	*env
	apps  *appimport.Service
	app   *store.App
	reads int
}

// newAppEnv is newEnv with Payroll (owner owner@example.com) imported from payrollCSV.
func newAppEnv(t *testing.T, st *store.Store) *appEnv {
	t.Helper()
	e := &appEnv{env: newEnv(t, st)}
	ctx := context.Background()
	svc, err := appimport.New(appimport.Config{Store: st, DataDir: t.TempDir(), Parse: appimport.ParseFiles, Now: e.clock.Now,
		AfterApply: e.svc.AfterIngest})
	if err != nil {
		t.Fatal(err)
	}
	e.apps = svc
	if e.app, err = svc.CreateApplication(ctx, "admin@example.com", "", appimport.AppInput{Name: "Payroll", Owner: "owner@example.com"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AttachImport(ctx, "admin@example.com", "", e.app.ID, appimport.ImportInput{DatasourceID: "ds_1", Files: []string{"apps/payroll.csv"}}); err != nil {
		t.Fatal(err)
	}
	if run := e.upload(t, payrollCSV); run.State != store.RunApplied {
		t.Fatalf("first import %s: %+v", run.State, run.Errors)
	}
	return e
}

// upload is the data source's read of a new version of the file, ten minutes later.
func (e *appEnv) upload(t *testing.T, body string) *store.AppRun {
	t.Helper()
	e.clock.Add(10 * time.Minute)
	e.reads++
	v := string(rune('0' + e.reads))
	err := e.apps.OnObject(context.Background(), "ds_1", appimport.Object{Key: "apps/payroll.csv", VersionID: "v" + v, ETag: `"e` + v + `"`,
		Size: int64(len(body)), ReadAt: e.clock.Now()}, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	run, err := e.st.LatestAppRun(context.Background(), e.app.ID)
	if err != nil {
		t.Fatal(err)
	}
	return run
}

func (e *appEnv) grant(typ, name, ent, user string) string {
	return appimport.GrantID(e.app.ID, typ, name, ent, user)
}

// payrollKeys are the items of Payroll's six grants, as keys() writes them.
func (e *appEnv) payrollKeys() []string {
	out := []string{
		e.grant("group", "Billing", "admin", "alice") + " | alice@example.com | direct",
		e.grant("role", "Reports", "viewer", "alice") + " | alice@example.com | direct",
		e.grant("group", "Billing", "member", "bob") + " | bob@example.com | direct",
		e.grant("role", "Reports", "viewer", "erin") + " | erin@example.com | direct",
		e.grant("role", "Reports", "editor", "olga") + " | owner@example.com | direct",
		e.grant("role", "Reports", "api", "svc") + " |  | direct",
	}
	slices.Sort(out)
	return out
}

// appKeys splits a campaign's items into Payroll's (keys) and how many others there are.
func (e *appEnv) appKeys(items []Item) ([]string, int) {
	var mine []Item
	others := 0
	for _, it := range items {
		if it.ConnectionID == e.app.ID {
			mine = append(mine, it)
		} else {
			others++
		}
	}
	return keys(mine), others
}

// A campaign freezes exactly the imported application's grants, with the file's context,
// and the scope's keys include or exclude them as their meaning says.
func TestAppFreezeAndScope(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newAppEnv(t, st)
		ctx := context.Background()
		importedAt := e.clock.Now()
		all := e.payrollKeys()
		c := e.start("payroll", Scope{Applications: []string{e.app.ID}}, Reviewers{Owner: true, Fallback: []string{"carol@example.com"}})
		if c.SnapshotSyncs[e.app.ID] == "" || len(c.SnapshotSyncs) != 1 {
			t.Fatalf("snapshot syncs %v, want Payroll's run only", c.SnapshotSyncs)
		}
		items := e.items(admin, c.ID, ItemQuery{})
		if got, others := e.appKeys(items); !reflect.DeepEqual(got, all) || others != 0 {
			t.Fatalf("frozen items differ from Payroll's grants (%d others):%s", others, diff(got, all))
		}
		it := e.find(items, e.grant("group", "Billing", "admin", "alice"), ViaDirect)
		task := "Remove alice@example.com (user ID alice) from admin on group Billing in Payroll"
		if it.Application != "Payroll" || it.AccountID != "" || it.AccountName != "" || it.EntitlementName != "admin on group Billing" ||
			it.ResourceName != "Billing" || it.ResourceType != "app_resource" || it.PrincipalName != "Alice Nguyen" ||
			it.PrincipalType != "app_user" || !it.Since.Equal(importedAt) || !it.AdminLevel ||
			it.Plan != "Gatehouse cannot make this change; the owner must: "+task {
			t.Errorf("alice's admin item: %+v", it)
		}
		cx := it.Context
		if cx.LastUsed == nil || !cx.LastUsed.Equal(time.Date(2026, 1, 30, 9, 0, 0, 0, time.UTC)) || cx.LastUsedSource != "last login, from Payroll's file" ||
			cx.Active == nil || !*cx.Active || cx.Status != "active" || cx.MFA != nil || cx.Application != "Payroll" {
			t.Errorf("alice's context: %+v", cx)
		}
		erinIt := e.find(items, e.grant("role", "Reports", "viewer", "erin"), ViaDirect)
		if a := erinIt.Context.Active; a == nil || *a || erinIt.Context.Status != "disabled in Payroll" ||
			erinIt.Context.LastUsed != nil || erinIt.Context.LastUsedSource != "Payroll's file gives no last login" {
			t.Errorf("erin's context: %+v", erinIt.Context)
		}
		if bobIt := e.find(items, e.grant("group", "Billing", "member", "bob"), ViaDirect); bobIt.AdminLevel || bobIt.Identity != "bob@example.com" {
			t.Errorf("bob's item: admin %v, identity %q", bobIt.AdminLevel, bobIt.Identity)
		}
		if svc := e.find(items, e.grant("role", "Reports", "api", "svc"), ViaDirect); svc.Identity != "" || svc.PrincipalName != "Payroll Bot" {
			t.Errorf("the service user's item: identity %q, name %q", svc.Identity, svc.PrincipalName)
		}

		for _, tc := range []struct {
			name   string
			scope  Scope
			want   []string // Payroll's items
			others bool     // AWS items too
		}{
			{"everything", Scope{}, all, true},
			{"by name", Scope{Applications: []string{"payroll"}}, all, false},
			{"aws only", Scope{Applications: []string{"aws"}}, nil, true},
			{"aws and payroll", Scope{Applications: []string{"aws", e.app.ID}}, all, true},
			{"an account", Scope{Accounts: []string{prodID}}, nil, true},
			{"a permission set", Scope{PermissionSets: []string{"ReadOnly"}}, nil, true},
			{"an OU", Scope{OUs: []string{"NonProd"}}, nil, true},
			{"an IAM policy", Scope{IAMPolicies: []string{"AdministratorAccess"}}, nil, true},
			{"aws resource types", Scope{ResourceTypes: []string{"account", "sso_group"}}, nil, true},
			{"application resources", Scope{ResourceTypes: []string{"app_resource"}}, all, false},
			{"admin only", Scope{Applications: []string{e.app.ID}, AdminOnly: true}, []string{e.grant("group", "Billing", "admin", "alice") + " | alice@example.com | direct"}, false},
			{"departed", Scope{Applications: []string{e.app.ID}, Departed: true}, []string{e.grant("role", "Reports", "viewer", "erin") + " | erin@example.com | direct"}, false},
			// bob last logged in on 2025-06-01; alice two days ago; the others' file gives none.
			{"unused 90 days", Scope{Applications: []string{e.app.ID}, UnusedDays: 90}, []string{e.grant("group", "Billing", "member", "bob") + " | bob@example.com | direct"}, false},
		} {
			c := e.start(tc.name, tc.scope, Reviewers{People: []string{"dave@example.com"}})
			got, others := e.appKeys(e.items(admin, c.ID, ItemQuery{}))
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") || (others > 0) != tc.others {
				t.Errorf("%s: %d other items (want some: %v); Payroll's:%s", tc.name, others, tc.others, diff(got, tc.want))
			}
		}

		// What cannot select anything is refused at the start, saying what to do.
		for _, tc := range []struct {
			scope Scope
			want  string
		}{
			{Scope{Applications: []string{e.app.ID}, Accounts: []string{prodID}},
				"the applications Payroll are imported from files, and the scope's accounts select AWS access only: nothing is in scope; leave those keys out to review the applications"},
			{Scope{Applications: []string{"salesforce"}},
				`no AWS connection or imported application is "salesforce"; use "aws" (every AWS connection), a connection's id, or an imported application's id (app_…; GET /api/v1/applications lists them)`},
		} {
			c, err := e.svc.CreateCampaign(ctx, admin, CampaignInput{Name: "refused", Scope: tc.scope, Due: e.clock.Now().Add(time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.svc.Start(ctx, admin, c.ID); CodeOf(err) != CodeInvalid || err.Error() != tc.want {
				t.Errorf("start over %+v: %v\nwant %s", tc.scope, err, tc.want)
			}
		}
		// A name two applications share is no longer a name: the id is.
		if _, err := e.apps.CreateApplication(ctx, "admin@example.com", "", appimport.AppInput{Name: "PAYROLL", Owner: "x@example.com"}); err != nil {
			t.Fatal(err)
		}
		c, err := e.svc.CreateCampaign(ctx, admin, CampaignInput{Name: "ambiguous", Scope: Scope{Applications: []string{"Payroll"}}, Due: e.clock.Now().Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Start(ctx, admin, c.ID); CodeOf(err) != CodeInvalid || !strings.HasPrefix(err.Error(), `2 imported applications are named "Payroll" (`) ||
			!strings.HasSuffix(err.Error(), "): name the one to review by its id") {
			t.Errorf("start over an ambiguous name: %v", err)
		}
	})
}

// The owner reviewer is the application's owner and the manager the file's manager column
// when it names a known person; nobody reviews their own access.
func TestAppReviewers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newAppEnv(t, st)
		ctx := context.Background()
		sc := Scope{Applications: []string{e.app.ID}}
		reviewers := func(c *Campaign) map[string]string {
			out := map[string]string{}
			for _, it := range e.items(admin, c.ID, ItemQuery{}) {
				out[strings.TrimPrefix(it.PrincipalID, e.app.ID+":")+" "+it.EntitlementName] = strings.Join(it.Reviewers, ",")
			}
			return out
		}
		owner := e.start("owner", sc, Reviewers{Owner: true, Fallback: []string{"carol@example.com"}})
		want := map[string]string{
			"alice admin on group Billing": "owner@example.com", "alice viewer on role Reports": "owner@example.com",
			"bob member on group Billing": "owner@example.com", "erin viewer on role Reports": "owner@example.com",
			"olga editor on role Reports": "carol@example.com", // the owner's own access
			"svc api on role Reports":     "owner@example.com",
		}
		if got := reviewers(owner); !reflect.DeepEqual(got, want) {
			t.Errorf("owner reviewers %v\nwant %v", got, want)
		}
		olga := e.find(e.items(admin, owner.ID, ItemQuery{}), e.grant("role", "Reports", "editor", "olga"), ViaDirect)
		full, err := e.svc.Item(ctx, admin, owner.ID, olga.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(full.Events) < 2 || full.Events[1].Detail != "goes to the fallback reviewers carol@example.com: owner@example.com would review their own access" {
			t.Errorf("olga's history: %+v", full.Events)
		}
		if _, err := e.svc.Decide(ctx, caller("owner@example.com"), owner.ID, olga.ID, DecisionInput{Decision: "keep", Reason: "mine"}); CodeOf(err) != CodeForbidden {
			t.Errorf("the owner decided their own access: %v", err)
		}
		// The next campaign of the same scope shows the owner's decision on the same grant.
		bobIt := e.find(e.items(admin, owner.ID, ItemQuery{}), e.grant("group", "Billing", "member", "bob"), ViaDirect)
		if _, err := e.svc.Decide(ctx, caller("owner@example.com"), owner.ID, bobIt.ID, DecisionInput{Decision: "keep", Reason: "payroll clerk"}); err != nil {
			t.Fatal(err)
		}
		e.clock.Add(time.Hour)
		again := e.start("owner again", sc, Reviewers{Owner: true, Fallback: []string{"carol@example.com"}})
		next := e.find(e.items(admin, again.ID, ItemQuery{}), bobIt.GrantID, ViaDirect)
		if again.Previous != owner.ID || next.ID != bobIt.ID || next.Context.PreviousDecision != "keep" || next.Context.PreviousReason != "payroll clerk" ||
			next.Context.PreviousBy != "owner@example.com" || next.Context.Application != "Payroll" {
			t.Errorf("the next campaign: previous %q, bob's item %s %+v", again.Previous, next.ID, next.Context)
		}

		mgr := e.start("manager", sc, Reviewers{Manager: true, Fallback: []string{"dave@example.com"}})
		want = map[string]string{
			"alice admin on group Billing": "carol@example.com", "alice viewer on role Reports": "carol@example.com",
			"bob member on group Billing": "alice@example.com", // the manager column names alice's user id
			"erin viewer on role Reports": "dave@example.com",  // nobody@elsewhere.example is no known person
			"olga editor on role Reports": "dave@example.com", "svc api on role Reports": "dave@example.com",
		}
		if got := reviewers(mgr); !reflect.DeepEqual(got, want) {
			t.Errorf("manager reviewers %v\nwant %v", got, want)
		}
		erinIt := e.find(e.items(admin, mgr.ID, ItemQuery{}), e.grant("role", "Reports", "viewer", "erin"), ViaDirect)
		full, err = e.svc.Item(ctx, admin, mgr.ID, erinIt.ID)
		if err != nil {
			t.Fatal(err)
		}
		if w := "goes to the fallback reviewers dave@example.com: the manager nobody@elsewhere.example that Payroll's file gives for erin@example.com is not a known person (no identity in the inventory has this email)"; len(full.Events) < 2 || full.Events[1].Detail != w {
			t.Errorf("erin's history: %+v", full.Events)
		}
	})
}

// A revoke is a task for the application's owner with the exact change; an import that
// still shows the grant keeps it open, a rejected import verifies nothing, and the import
// that no longer shows it (here a held one, approved) marks it remediated.
func TestAppRevokeOwnerTaskVerifiedByImport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newAppEnv(t, st)
		ctx := context.Background()
		c := e.start("payroll", Scope{Applications: []string{e.app.ID}}, Reviewers{Owner: true, Fallback: []string{"carol@example.com"}})
		ownerC := caller("owner@example.com")
		items := e.items(ownerC, c.ID, ItemQuery{})
		if len(items) != 5 {
			t.Fatalf("the owner sees %d items, want 5 (not their own)", len(items))
		}
		alice := e.find(items, e.grant("group", "Billing", "admin", "alice"), ViaDirect)
		if _, err := e.svc.Decide(ctx, ownerC, c.ID, alice.ID, DecisionInput{Decision: "keep"}); CodeOf(err) != CodeInvalid {
			t.Errorf("keeping admin-level access without a reason: %v", err)
		}
		got, err := e.svc.Decide(ctx, ownerC, c.ID, alice.ID, DecisionInput{Decision: "revoke", Reason: "moved to sales"})
		if err != nil {
			t.Fatal(err)
		}
		task := "Remove alice@example.com (user ID alice) from admin on group Billing in Payroll"
		r := got.Remediation
		if got.State != ItemTaskOpen || r == nil || r.Action != ActionOwnerTask || r.Owner != "owner@example.com" || r.Task != task ||
			r.State != RemediationTaskOpen {
			t.Fatalf("after the revoke: %s %+v", got.State, r)
		}
		if evs := e.ev.of("review_task"); len(evs) != 1 || !reflect.DeepEqual(evs[0].To, []string{"owner@example.com"}) || evs[0].Detail != task ||
			evs[0].Campaign != "payroll" || evs[0].URL != "https://gh.example.com/campaigns/"+c.ID {
			t.Errorf("review_task notifications: %+v", evs)
		}
		if kinds := e.queue.kinds(); len(kinds) != 0 {
			t.Errorf("an owner task queued jobs: %v", kinds)
		}
		bob := e.find(items, e.grant("group", "Billing", "member", "bob"), ViaDirect)
		if _, err := e.svc.Decide(ctx, ownerC, c.ID, bob.ID, DecisionInput{Decision: "keep", Reason: "payroll clerk"}); err != nil {
			t.Fatal(err)
		}
		state := func() (ItemState, *Remediation) {
			t.Helper()
			it, err := e.svc.Item(ctx, admin, c.ID, alice.ID)
			if err != nil {
				t.Fatal(err)
			}
			return it.State, it.Remediation
		}

		// A new import that still has the grant (bob's last login changed): still open.
		still := strings.Replace(payrollCSV, "2025-06-01", "2026-01-31", 2)
		if run := e.upload(t, still); run.State != store.RunApplied {
			t.Fatalf("second import %s", run.State)
		}
		if s, rem := state(); s != ItemTaskOpen || rem.State != RemediationTaskOpen || rem.VerifiedSync != "" {
			t.Errorf("after an import that still shows the grant: %s %+v", s, rem)
		}
		// The owner marks it done: still open until an import shows it.
		done, err := e.svc.CompleteTask(ctx, ownerC, c.ID, alice.ID, "removed in Payroll's admin console")
		if err != nil {
			t.Fatal(err)
		}
		if done.State != ItemTaskOpen || done.Remediation.State != RemediationDone {
			t.Errorf("after the owner marked it done: %s %+v", done.State, done.Remediation)
		}
		// A broken file is rejected: nothing changes, nothing is verified.
		if run := e.upload(t, strings.Replace(still, "enabled", "actv", 1)); run.State != store.RunRejected {
			t.Fatalf("a broken file was %s", run.State)
		}
		if s, rem := state(); s != ItemTaskOpen || rem.VerifiedSync != "" {
			t.Errorf("after a rejected import: %s %+v", s, rem)
		}
		// The file without alice's admin grant, and without two more (3 of 6: held for an
		// admin): nothing is verified until it is applied.
		var lines []string
		for _, l := range strings.SplitAfter(still, "\n") {
			if !strings.HasPrefix(l, "alice,") && !strings.HasPrefix(l, "bob,") {
				lines = append(lines, l)
			}
		}
		held := e.upload(t, strings.Join(lines, ""))
		if held.State != store.RunHeld {
			t.Fatalf("the import removing half the grants is %s", held.State)
		}
		if s, _ := state(); s != ItemTaskOpen {
			t.Errorf("after a held import: %s", s)
		}
		e.clock.Add(time.Minute)
		if _, err := e.apps.Approve(ctx, "admin@example.com", "", held.ID); err != nil {
			t.Fatal(err)
		}
		s, rem := state()
		if s != ItemRemediated || rem.State != RemediationVerified || rem.VerifiedSync != held.ID || rem.VerifiedAt == nil || rem.Task != task {
			t.Errorf("after the import without the grant: %s %+v", s, rem)
		}
		// bob's kept access is gone too: marked, not remediated.
		b, err := e.svc.Item(ctx, admin, c.ID, bob.ID)
		if err != nil {
			t.Fatal(err)
		}
		if b.State != ItemKept || b.AccessGoneSync != held.ID {
			t.Errorf("bob's kept item: %s, gone in %q", b.State, b.AccessGoneSync)
		}

		// The export names the application and the verification.
		ex, err := e.svc.Export(ctx, audr, c.ID, FormatCSV)
		if err != nil {
			t.Fatal(err)
		}
		defer ex.Close()
		raw, _ := io.ReadAll(ex.Content)
		rows, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		col := map[string]int{}
		for i, h := range rows[0] {
			col[h] = i
		}
		found := false
		for _, row := range rows[1:] {
			if row[col["item_id"]] != alice.ID {
				continue
			}
			found = true
			if row[col["application"]] != "Payroll" || row[col["account_id"]] != "" || row[col["entitlement_name"]] != "admin on group Billing" ||
				row[col["state"]] != "remediated" || row[col["task"]] != task || row[col["task_owner"]] != "owner@example.com" ||
				row[col["verified_sync"]] != held.ID || row[col["connection_id"]] != e.app.ID {
				t.Errorf("alice's CSV row: %q", row)
			}
		}
		if !found || len(rows) != 7 {
			t.Errorf("the CSV has %d rows, alice's found: %v", len(rows), found)
		}
		html, err := e.svc.Export(ctx, audr, c.ID, FormatHTML)
		if err != nil {
			t.Fatal(err)
		}
		defer html.Close()
		page, _ := io.ReadAll(html.Content)
		if !bytes.Contains(page, []byte("<td>Payroll (application)</td>")) {
			t.Errorf("the HTML report does not name the application where the account goes")
		}
	})
}
