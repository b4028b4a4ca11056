package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/gatehouse/gatehouse/internal/awsfetch"
	"github.com/gatehouse/gatehouse/internal/awssim"
	"github.com/gatehouse/gatehouse/internal/ingest"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
	"github.com/gatehouse/gatehouse/internal/syncrun"
)

// org is a simulated organization (testdata/history.yaml) and what the tests need to
// name its generated ids.
type org struct {
	sim *awssim.Sim
	cfg awsfetch.Config
	// ids by name: "sso:alice", "group:Admins", "ps:AdministratorAccess" (ps-... id).
	ids map[string]string
	dir string
}

func startOrg(t *testing.T) *org {
	t.Helper()
	w, err := awssim.LoadFixture(filepath.Join("testdata", "history.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	sim := awssim.New(w, awssim.Options{Now: func() time.Time { return now }})
	url, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	o := &org{sim: sim, ids: map[string]string{}, dir: t.TempDir()}
	sim.Do(func(w *awssim.World) {
		o.cfg = awsfetch.Config{
			Region: w.Region, EndpointURL: url,
			Credentials: credentials.NewStaticCredentialsProvider(w.Connector.AccessKeyID, w.Connector.SecretAccessKey, ""),
			RoleARN:     w.Connector.RoleARN, ExternalID: w.Connector.ExternalID,
			Orgs: true, IdentityCenter: true, IdentityCenterRegion: w.SSO.Region,
			AllowPartial:         true,
			Quotas:               awsfetch.Quotas{"iam": {}, "sts": {}, "organizations": {}, "identitycenter": {}, "sso:DescribePermissionSet": {}},
			MaxBackoff:           50 * time.Millisecond,
			CredentialReportPoll: 5 * time.Millisecond,
		}
		for _, u := range w.SSO.Users {
			o.ids["sso:"+u.UserName] = u.ID
		}
		for _, g := range w.SSO.Groups {
			o.ids["group:"+g.DisplayName] = g.ID
		}
		for _, p := range w.SSO.PermissionSets {
			o.ids["ps:"+p.Name] = p.ARN[strings.LastIndex(p.ARN, "/")+1:]
			o.ids["psarn:"+p.Name] = p.ARN
		}
	})
	return o
}

// sync writes the organization's current state to a new .c1z and returns it with the
// accounts the sync skipped.
func (o *org) sync(t *testing.T, name string) (string, []ingest.SkippedAccount) {
	t.Helper()
	path := filepath.Join(o.dir, name+".c1z")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := syncrun.Run(ctx, o.cfg, path)
	if err != nil {
		t.Fatalf("sync %s: %v", name, err)
	}
	var skipped []ingest.SkippedAccount
	for _, s := range res.Fetch.Skipped {
		skipped = append(skipped, ingest.SkippedAccount{AccountID: s.ID, Reason: s.Reason, Fix: "give the member role back its trust"})
	}
	return path, skipped
}

func apply(t *testing.T, st *store.Store, in ingest.Input) *ingest.Result {
	t.Helper()
	if in.ConnectionID == "" {
		in.ConnectionID = "aws"
	}
	res, err := ingest.Apply(context.Background(), st, in)
	if err != nil {
		t.Fatalf("ingest %s: %v", in.SyncID, err)
	}
	return res
}

// accessLines renders a person's access as "entitlement | account | via | since" lines.
func accessLines(t *testing.T, st *store.Store, email string, at *time.Time) []string {
	t.Helper()
	items, next, err := st.PersonAccess(context.Background(), email, at, store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if next != "" {
		t.Fatalf("access of %s has more than one page", email)
	}
	var out []string
	for _, a := range items {
		via := a.Via
		if via != "direct" {
			via = "via " + a.ViaName
		}
		out = append(out, fmt.Sprintf("%s | %s | %s | %s | since %s", a.EntitlementName, strings.TrimSpace(a.AccountID+" "+a.AccountName), via,
			a.PrincipalType, a.Since.Format(time.RFC3339)))
	}
	slices.Sort(out)
	return out
}

func changeLines(t *testing.T, st *store.Store, f store.ChangeFilter) []string {
	t.Helper()
	items, next, err := st.Changes(context.Background(), f, store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if next != "" {
		t.Fatal("changes have more than one page")
	}
	var out []string
	for _, c := range items {
		out = append(out, fmt.Sprintf("%s %s %s | %s | %s %s | account %s | person %s", c.SyncID, c.Kind, c.EntitlementName, c.GrantID,
			c.PrincipalType, c.PrincipalName, c.AccountID, c.Person))
	}
	return out
}

func assertLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\ngot:\n  %s\nwant:\n  %s", what, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

var (
	t1 = time.Date(2026, 2, 1, 10, 0, 0, 0, time.UTC)
	t2 = t1.Add(time.Hour)
	t3 = t2.Add(time.Hour)
	t4 = t3.Add(time.Hour)
)

// The history of an organization over four syncs: exact access after the first, exactly
// the grants a change added and removed, access as of the first sync still answered
// after the second, a re-ingested identical file writing nothing, and an account that
// cannot be read keeping its IAM (stale, with since and reason) instead of losing it.
func TestHistory(t *testing.T) {
	o := startOrg(t)
	file1, skipped := o.sync(t, "s1")
	if len(skipped) != 0 {
		t.Fatalf("sync 1 skipped %+v", skipped)
	}
	// Alice leaves the Admins group and is given ReadOnly on staging directly.
	o.sim.Do(func(w *awssim.World) {
		w.SSO.Memberships = slices.DeleteFunc(w.SSO.Memberships, func(m *awssim.Membership) bool {
			return m.GroupID == o.ids["group:Admins"] && m.UserID == o.ids["sso:alice"]
		})
		w.AddAssignment("444444444444", o.ids["psarn:ReadOnly"], "USER", o.ids["sso:alice"])
	})
	file2, _ := o.sync(t, "s2")
	// prod's member role stops working, and meanwhile deploy-bot leaves deployers there.
	o.sim.Do(func(w *awssim.World) {
		w.Accounts["333333333333"].DenyAll = true
		w.Accounts["333333333333"].Groups["deployers"].Members = nil
	})
	file3, skipped3 := o.sync(t, "s3")
	if len(skipped3) != 1 || skipped3[0].AccountID != "333333333333" {
		t.Fatalf("sync 3 skipped %+v, want prod", skipped3)
	}

	admin, readOnly := o.ids["ps:AdministratorAccess"], o.ids["ps:ReadOnly"]
	alice, admins := o.ids["sso:alice"], o.ids["group:Admins"]
	iamAlice := "arn:aws:iam::111111111111:user/alice"

	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		r1 := apply(t, st, ingest.Input{SyncID: "s1", C1ZPath: file1, At: t1})
		if r1.Removed != 0 || r1.Added == 0 || r1.Unchanged != 0 || r1.Changed != 0 {
			t.Errorf("sync 1: %+v", r1)
		}
		since1 := "since " + t1.Format(time.RFC3339)
		got1 := accessLines(t, st, "alice@example.com", nil)
		assertLines(t, "alice's access after sync 1", got1, []string{
			"AdministratorAccess on management | 111111111111 management | via Admins | sso_user | " + since1,
			"AdministratorAccess on prod | 333333333333 prod | via Admins | sso_user | " + since1,
			"Admins member |  | direct | sso_user | " + since1,
			"ReadOnlyAccess attached | 111111111111 management | via operators | iam_user | " + since1,
			"operators member | 111111111111 management | direct | iam_user | " + since1,
		})
		// Where AWS tells when an identity was last used (an IAM user's sign-in), her
		// access through it says so; Identity Center says nothing per user.
		items, _, err := st.PersonAccess(ctx, "alice@example.com", nil, store.Page{})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range items {
			lastSignIn := time.Date(2025, 12, 30, 8, 0, 0, 0, time.UTC)
			if a.PrincipalType == "iam_user" && (a.LastUsed == nil || !a.LastUsed.Equal(lastSignIn)) ||
				a.PrincipalType == "sso_user" && a.LastUsed != nil {
				t.Errorf("%s through %s: last used %v", a.EntitlementName, a.PrincipalType, a.LastUsed)
			}
		}
		// People: alice has two identities (IAM user's tag in another case), bob one.
		people, _, err := st.ListPeople(ctx, "", store.Page{})
		if err != nil {
			t.Fatal(err)
		}
		var pl []string
		for _, p := range people {
			pl = append(pl, fmt.Sprintf("%s %s %d", p.Email, p.Name, p.IdentityCount))
		}
		assertLines(t, "people", pl, []string{"alice@example.com Alice Nguyen 2", "bob@example.com Bob Martinez 1"})

		// The same file again, later: nothing is written and nothing moves.
		again := apply(t, st, ingest.Input{SyncID: "s1-again", C1ZPath: file1, At: t1.Add(30 * time.Minute)})
		if again.Added != 0 || again.Removed != 0 || again.Changed != 0 || again.ResourcesAdded != 0 ||
			again.ResourcesRemoved != 0 || again.RowsWritten != 0 || again.Unchanged != r1.Added {
			t.Errorf("re-ingesting the same file: %+v, want nothing written and %d grants unchanged", again, r1.Added)
		}
		res, err := st.GetResource(ctx, "iam_user", iamAlice, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !res.FirstSeen.Equal(t1) || res.FirstSync != "s1" || res.Email != "alice@example.com" || res.AccountName != "management" {
			t.Errorf("alice's IAM user after the re-ingest: %+v", res)
		}
		if got := changeLines(t, st, store.ChangeFilter{From: t1, To: t1.Add(time.Hour - time.Minute)}); len(got) != 0 {
			t.Errorf("changes after re-ingesting the same file: %v", got)
		}

		r2 := apply(t, st, ingest.Input{SyncID: "s2", C1ZPath: file2, At: t2})
		if r2.Added != 2 || r2.Removed != 3 || r2.Changed != 0 {
			t.Errorf("sync 2: %+v, want 2 grants added and 3 removed", r2)
		}
		// Assigning ReadOnly in staging provisioned it there: Identity Center created its
		// role, to which ReadOnlyAccess is attached.
		ssoRole := "arn:aws:iam::444444444444:role/aws-reserved/sso.amazonaws.com/us-east-1/" + awssim.ReservedSSORoleName("ReadOnly", o.ids["psarn:ReadOnly"])
		wantChanges := []string{
			"s2 added ReadOnlyAccess attached | iam_policy:arn:aws:iam::aws:policy/ReadOnlyAccess:attached:iam_role:" + ssoRole + " | iam_role " + ssoRole[strings.LastIndex(ssoRole, "/")+1:] + " | account 444444444444 | person ",
			"s2 added ReadOnly on staging | account:444444444444:" + readOnly + ":sso_user:" + alice + " | sso_user Alice Nguyen | account 444444444444 | person alice@example.com",
			"s2 removed Admins member | sso_group:" + admins + ":member:sso_user:" + alice + " | sso_user Alice Nguyen | account  | person alice@example.com",
			"s2 removed AdministratorAccess on prod | account:333333333333:" + admin + ":sso_user:" + alice + " | sso_user Alice Nguyen | account 333333333333 | person alice@example.com",
			"s2 removed AdministratorAccess on management | account:111111111111:" + admin + ":sso_user:" + alice + " | sso_user Alice Nguyen | account 111111111111 | person alice@example.com",
		}
		assertLines(t, "changes between sync 1 and 2", changeLines(t, st, store.ChangeFilter{From: t1, To: t2}), wantChanges)
		aliceChanges := slices.Delete(slices.Clone(wantChanges), 0, 1)
		assertLines(t, "changes of alice", changeLines(t, st, store.ChangeFilter{From: t1, To: t2, Person: "Alice@example.com"}), aliceChanges)
		assertLines(t, "changes in prod", changeLines(t, st, store.ChangeFilter{From: t1, To: t2, AccountID: "333333333333"}), wantChanges[3:4])
		if got := changeLines(t, st, store.ChangeFilter{From: t1, To: t2, Person: "bob@example.com"}); len(got) != 0 {
			t.Errorf("bob's changes: %v", got)
		}
		// As of sync 1, alice's access is what it was; now it is the new one.
		before := t1.Add(time.Minute)
		assertLines(t, "alice's access as of sync 1, after sync 2", accessLines(t, st, "alice@example.com", &before), got1)
		assertLines(t, "alice's access after sync 2", accessLines(t, st, "alice@example.com", nil), []string{
			"ReadOnly on staging | 444444444444 staging | direct | sso_user | since " + t2.Format(time.RFC3339),
			"ReadOnlyAccess attached | 111111111111 management | via operators | iam_user | " + since1,
			"operators member | 111111111111 management | direct | iam_user | " + since1,
		})
		// Who could reach AdministratorAccess on prod then, and now.
		holders := func(at *time.Time) []string {
			gs, _, err := st.EntitlementGrants(ctx, "account:333333333333:"+admin, at, store.Page{})
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, g := range gs {
				out = append(out, fmt.Sprintf("%s %s direct=%v via=%v", g.PrincipalType, g.PrincipalName, g.Direct, g.ViaNames))
			}
			return out
		}
		assertLines(t, "holders of AdministratorAccess on prod as of sync 1", holders(&before), []string{
			"sso_group Admins direct=true via=[]", "sso_user Alice Nguyen direct=false via=[Admins]",
		})
		assertLines(t, "holders of AdministratorAccess on prod now", holders(nil), []string{"sso_group Admins direct=true via=[]"})

		// Sync 3 cannot read prod: its IAM stays as last read (deploy-bot still in
		// deployers), marked stale; no grant is reported removed.
		r3 := apply(t, st, ingest.Input{SyncID: "s3", C1ZPath: file3, At: t3, Skipped: skipped3})
		if r3.Removed != 0 || r3.Added != 0 || !slices.Equal(r3.StaleAccounts, []string{"333333333333"}) || r3.Kept == 0 {
			t.Errorf("sync 3: %+v, want nothing removed and prod stale", r3)
		}
		if got := changeLines(t, st, store.ChangeFilter{From: t2, To: t3}); len(got) != 0 {
			t.Errorf("changes of a sync that could not read prod: %v", got)
		}
		bot := "arn:aws:iam::333333333333:user/deploy-bot"
		gs, err := st.PrincipalGrants(ctx, "iam_user", bot, nil)
		if err != nil {
			t.Fatal(err)
		}
		var bl []string
		for _, g := range gs {
			bl = append(bl, fmt.Sprintf("%s stale=%v since %s", g.EntitlementName, g.Stale, g.FirstSeen.Format(time.RFC3339)))
		}
		slices.Sort(bl)
		assertLines(t, "deploy-bot's grants while prod is stale", bl, []string{
			"AmazonS3FullAccess attached stale=true " + since1,
			"deployers member stale=true " + since1,
		})
		// AmazonS3FullAccess is attached in prod alone: the file of a sync that could not
		// read prod does not list it, and it stays, as the grants that need it do.
		if p, err := st.GetResource(ctx, "iam_policy", "arn:aws:iam::aws:policy/AmazonS3FullAccess", nil); err != nil || p.FirstSync != "s1" {
			t.Errorf("AmazonS3FullAccess while prod is stale: %+v %v", p, err)
		}
		reads := func() map[string]store.AccountRead {
			rs, err := st.AccountReads(ctx, "aws")
			if err != nil {
				t.Fatal(err)
			}
			m := map[string]store.AccountRead{}
			for _, r := range rs {
				m[r.AccountID] = r
			}
			return m
		}
		prod := reads()["333333333333"]
		if !prod.Stale || prod.StaleSince == nil || !prod.StaleSince.Equal(t3) || prod.LastReadAt == nil || !prod.LastReadAt.Equal(t2) ||
			prod.LastReadSync != "s2" || prod.StaleReason != skipped3[0].Reason || prod.StaleFix == "" || prod.AccountName != "prod" {
			t.Errorf("prod's read state after sync 3: %+v", prod)
		}
		if mgmt := reads()["111111111111"]; mgmt.Stale || mgmt.LastReadAt == nil || !mgmt.LastReadAt.Equal(t3) {
			t.Errorf("management's read state after sync 3: %+v", mgmt)
		}
		// Still unreadable a sync later: stale since the first failure.
		apply(t, st, ingest.Input{SyncID: "s4", C1ZPath: file3, At: t4, Skipped: skipped3})
		if prod := reads()["333333333333"]; !prod.Stale || !prod.StaleSince.Equal(t3) || !prod.LastReadAt.Equal(t2) {
			t.Errorf("prod's read state after sync 4: %+v", prod)
		}
		// The same file without saying prod was skipped: the file itself says prod was
		// not synced, so its IAM is still kept.
		r5 := apply(t, st, ingest.Input{SyncID: "s5", C1ZPath: file3, At: t4.Add(time.Hour)})
		if r5.Removed != 0 || r5.ResourcesRemoved != 0 || !slices.Equal(r5.StaleAccounts, []string{"333333333333"}) {
			t.Errorf("sync 5 (skip known from the file only): %+v", r5)
		}
	})
}

// A grant that comes through another route (alice, already an admin of prod through the
// Admins group, is also assigned directly) starts a new interval: the route is answered
// for every date. It is not a change of access: the change feed leaves it out, and the
// result counts it as Changed.
func TestRouteChange(t *testing.T) {
	o := startOrg(t)
	file1, _ := o.sync(t, "s1")
	o.sim.Do(func(w *awssim.World) {
		w.AddAssignment("333333333333", o.ids["psarn:AdministratorAccess"], "USER", o.ids["sso:alice"])
	})
	file2, _ := o.sync(t, "s2")
	grant := "account:333333333333:" + o.ids["ps:AdministratorAccess"] + ":sso_user:" + o.ids["sso:alice"]
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		apply(t, st, ingest.Input{SyncID: "s1", C1ZPath: file1, At: t1})
		r2 := apply(t, st, ingest.Input{SyncID: "s2", C1ZPath: file2, At: t2})
		if r2.Added != 0 || r2.Removed != 0 || r2.Changed != 1 {
			t.Errorf("sync 2: %+v, want one grant changed", r2)
		}
		if got := changeLines(t, st, store.ChangeFilter{From: t1, To: t2}); len(got) != 0 {
			t.Errorf("changes: %v, want none", got)
		}
		var lines []string
		for _, l := range accessLines(t, st, "alice@example.com", nil) {
			if strings.HasPrefix(l, "AdministratorAccess on prod") {
				lines = append(lines, l)
			}
		}
		assertLines(t, "alice's routes to AdministratorAccess on prod", lines, []string{
			"AdministratorAccess on prod | 333333333333 prod | direct | sso_user | since " + t2.Format(time.RFC3339),
			"AdministratorAccess on prod | 333333333333 prod | via Admins | sso_user | since " + t2.Format(time.RFC3339),
		})
		before := t1.Add(time.Minute)
		gs, err := st.PrincipalGrants(context.Background(), "sso_user", o.ids["sso:alice"], &before)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range gs {
			if g.ID == grant && (g.Direct || !slices.Equal(g.ViaNames, []string{"Admins"}) || g.RemovedSync != "s2") {
				t.Errorf("the grant as of sync 1: %+v", g)
			}
		}
	})
}

// History only moves forward: a sync older than the last one ingested is refused, and
// the store is left as it was.
func TestOutOfOrder(t *testing.T) {
	o := startOrg(t)
	file1, _ := o.sync(t, "s1")
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		apply(t, st, ingest.Input{SyncID: "s2", C1ZPath: file1, At: t2})
		_, err := ingest.Apply(context.Background(), st, ingest.Input{ConnectionID: "aws", SyncID: "s1", C1ZPath: file1, At: t1})
		if !errors.Is(err, ingest.ErrOutOfOrder) {
			t.Errorf("ingesting an older sync: %v, want ErrOutOfOrder", err)
		}
		if _, err := st.IngestAt(context.Background(), "s1"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("the refused sync was recorded: %v", err)
		}
		// The last sync again is fine (a retry).
		if r := apply(t, st, ingest.Input{SyncID: "s2", C1ZPath: file1, At: t2}); r.RowsWritten != 0 {
			t.Errorf("the last sync again wrote %d rows", r.RowsWritten)
		}
	})
}

// Two ingestions of the same connection at once (two replicas) are serialised: the
// second compares the file with what the first wrote, so no grant is opened twice.
func TestConcurrentIngestions(t *testing.T) {
	o := startOrg(t)
	file1, _ := o.sync(t, "s1")
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		errs := make(chan error, 2)
		for i, at := range []time.Time{t1, t2} {
			go func() {
				_, err := ingest.Apply(ctx, st, ingest.Input{ConnectionID: "aws", SyncID: fmt.Sprint("c", i), C1ZPath: file1, At: at})
				errs <- err
			}()
		}
		refused := 0
		for range 2 {
			if err := <-errs; errors.Is(err, ingest.ErrOutOfOrder) {
				refused++ // the later sync committed first: the earlier one is refused
			} else if err != nil {
				t.Fatal(err)
			}
		}
		gs, _, err := st.EntitlementGrants(ctx, "sso_group:"+o.ids["group:Admins"]+":member", nil, store.Page{})
		if err != nil {
			t.Fatal(err)
		}
		var firsts []string
		for _, g := range gs {
			firsts = append(firsts, g.FirstSync)
		}
		if len(gs) != 1 || gs[0].FirstSync != "c0" && refused == 0 {
			t.Errorf("Admins members after two concurrent ingestions (%d refused): %d open grants, first syncs %v; want 1", refused, len(gs), firsts)
		}
		counts, err := st.InventoryCounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		recorded := 0
		for _, id := range []string{"c0", "c1"} {
			if _, err := st.IngestAt(ctx, id); err == nil {
				recorded++
			}
		}
		// The file has 23 grants (TestHistory's first sync).
		if recorded+refused != 2 || counts["grants"] != 23 {
			t.Errorf("after two concurrent ingestions: %d recorded, %d refused, %d grants (want 23)", recorded, refused, counts["grants"])
		}
	})
}
