package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

var (
	day1 = time.Date(2026, 4, 1, 8, 0, 0, 0, time.UTC)
	day2 = day1.Add(24 * time.Hour)
)

func row(typ, id, name, parentType, parentID string) store.ResourceRow {
	return store.ResourceRow{Type: typ, ID: id, DisplayName: name, ParentType: parentType, ParentID: parentID, Profile: "{}", Hash: id}
}

func applyDiff(t *testing.T, st *store.Store, d *store.InventoryDiff) int64 {
	t.Helper()
	var n int64
	err := st.InTx(context.Background(), func(tx *store.Tx) error {
		var err error
		n, err = tx.ApplyInventoryDiff(context.Background(), d)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// The organization tree lists parents before children, units before accounts, siblings
// by name, with their depth; counts are of what exists now.
func TestOUTreeAndCounts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		applyDiff(t, st, &store.InventoryDiff{ConnectionID: "aws", Sync: "s1", At: day1, InsertResources: []store.ResourceRow{
			row("organizational_unit", "r-1", "Root", "", ""),
			row("organizational_unit", "ou-w", "Workloads", "organizational_unit", "r-1"),
			row("organizational_unit", "ou-p", "Prod", "organizational_unit", "ou-w"),
			row("organizational_unit", "ou-a", "Archive", "organizational_unit", "r-1"),
			row("account", "111111111111", "management", "organizational_unit", "r-1"),
			row("account", "333333333333", "prod", "organizational_unit", "ou-p"),
			row("account", "444444444444", "billing", "organizational_unit", "r-1"),
			row("sso_user", "u-1", "One", "", ""),
		}})
		applyDiff(t, st, &store.InventoryDiff{ConnectionID: "aws", Sync: "s2", At: day2, CloseResources: []string{store.ResourceKey("organizational_unit", "ou-a")}})
		tree, err := st.OUTree(ctx, "aws")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range tree {
			got = append(got, strings.Repeat("  ", r.Depth)+r.DisplayName)
		}
		want := []string{"Root", "  Workloads", "    Prod", "      prod", "  billing", "  management"}
		if !slices.Equal(got, want) {
			t.Errorf("tree:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		counts, err := st.InventoryCounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(counts) != "map[account:3 entitlements:0 grants:0 organizational_unit:3 people:0 sso_user:1]" {
			t.Errorf("counts: %v", counts)
		}
		// As of day 1 the archive unit still existed; now it does not.
		rs, _, err := st.ListResources(ctx, store.ResourceFilter{Type: "organizational_unit", At: &day1}, store.Page{})
		if err != nil || len(rs) != 4 {
			t.Errorf("units as of day 1: %d %v", len(rs), err)
		}
		if _, err := st.GetResource(ctx, "organizational_unit", "ou-a", nil); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("the removed unit now: %v, want ErrNotFound", err)
		}
		if r, err := st.GetResource(ctx, "organizational_unit", "ou-a", &day1); err != nil || r.RemovedAt == nil || !r.RemovedAt.Equal(day2) || r.RemovedSync != "s2" {
			t.Errorf("the removed unit as of day 1: %+v %v", r, err)
		}
	})
}

// A diff that fails halfway (the second batch of grants collides) leaves nothing
// written: the batches before it are rolled back with the transaction.
func TestInventoryDiffIsAllOrNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		var grants []store.GrantRow
		for i := range 250 {
			grants = append(grants, store.GrantRow{ID: fmt.Sprintf("g-%03d", i), EntitlementID: "e", PrincipalType: "sso_user", PrincipalID: "u", Direct: true})
		}
		grants = append(grants, grants[10]) // in the second batch of 200
		err := st.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.ApplyInventoryDiff(ctx, &store.InventoryDiff{ConnectionID: "aws", Sync: "s1", At: day1,
				InsertResources: []store.ResourceRow{row("sso_user", "u", "U", "", "")}, InsertGrants: grants})
			return err
		})
		if err == nil {
			t.Fatal("a diff inserting a grant twice succeeded")
		}
		counts, err := st.InventoryCounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if counts["grants"] != 0 || counts["sso_user"] != 0 {
			t.Errorf("after a failed diff: %v, want nothing", counts)
		}
	})
}

// A person is every identity with their email; one who left keeps a page with their
// last identities, and lists page by email.
func TestPeople(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		var rows []store.ResourceRow
		for i := range 5 {
			r := row("sso_user", fmt.Sprintf("u-%d", i), fmt.Sprintf("Person %d", i), "", "")
			r.Email = fmt.Sprintf("p%d@example.com", i)
			rows = append(rows, r)
		}
		iam := row("iam_user", "arn:aws:iam::111111111111:user/p1", "p1", "account", "111111111111")
		iam.Email = "p1@example.com"
		rows = append(rows, iam)
		applyDiff(t, st, &store.InventoryDiff{ConnectionID: "aws", Sync: "s1", At: day1, InsertResources: rows})
		applyDiff(t, st, &store.InventoryDiff{ConnectionID: "aws", Sync: "s2", At: day2, CloseResources: []string{store.ResourceKey("sso_user", "u-4")}})

		var emails []string
		for token := ""; ; {
			ps, next, err := st.ListPeople(ctx, "", store.Page{Size: 2, Token: token})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range ps {
				emails = append(emails, fmt.Sprintf("%s %s %d", p.Email, p.Name, p.IdentityCount))
			}
			if next == "" {
				break
			}
			token = next
		}
		want := []string{"p0@example.com Person 0 1", "p1@example.com Person 1 2", "p2@example.com Person 2 1", "p3@example.com Person 3 1"}
		if !slices.Equal(emails, want) {
			t.Errorf("people: %v, want %v", emails, want)
		}
		p, err := st.GetPerson(ctx, "P4@Example.com")
		if err != nil || len(p.Identities) != 1 || p.Identities[0].RemovedAt == nil || p.Name != "Person 4" {
			t.Errorf("the person who left: %+v %v", p, err)
		}
		if _, err := st.GetPerson(ctx, "nobody@example.com"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("nobody: %v", err)
		}
		if _, _, err := st.ListPeople(ctx, "", store.Page{Token: "not-a-token"}); !errors.Is(err, store.ErrBadPageToken) {
			t.Errorf("a bad token: %v", err)
		}
	})
}

// The past is shown with the names it had: an account and its permission set
// entitlement removed since are still named in who could reach them then.
func TestHistoryKeepsNames(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		acct := row("account", "222222222222", "closed-account", "", "")
		acct.AccountID = "222222222222"
		user := row("sso_user", "u-1", "Una", "", "")
		user.Email = "una@example.com"
		ent := store.EntitlementRow{ID: "account:222222222222:ps-1", ResourceType: "account", ResourceID: "222222222222",
			Slug: "ps-1", DisplayName: "Admin on closed-account", AccountID: "222222222222", Hash: "e"}
		grant := store.GrantRow{ID: ent.ID + ":sso_user:u-1", EntitlementID: ent.ID, ResourceType: "account", ResourceID: "222222222222",
			PrincipalType: "sso_user", PrincipalID: "u-1", AccountID: "222222222222", Direct: true, Hash: "g"}
		applyDiff(t, st, &store.InventoryDiff{ConnectionID: "aws", Sync: "s1", At: day1,
			InsertResources: []store.ResourceRow{acct, user}, InsertEntitlements: []store.EntitlementRow{ent}, InsertGrants: []store.GrantRow{grant}})
		applyDiff(t, st, &store.InventoryDiff{ConnectionID: "aws", Sync: "s2", At: day2,
			CloseResources: []string{store.ResourceKey("account", "222222222222")}, CloseEntitlements: []string{ent.ID}, CloseGrants: []string{grant.ID}})

		gs, _, err := st.EntitlementGrants(ctx, ent.ID, &day1, store.Page{})
		if err != nil || len(gs) != 1 || gs[0].EntitlementName != "Admin on closed-account" || gs[0].AccountName != "closed-account" ||
			gs[0].PrincipalName != "Una" || gs[0].RemovedSync != "s2" {
			t.Errorf("who could reach it on day 1: %+v %v", gs, err)
		}
		acc, _, err := st.PersonAccess(ctx, "una@example.com", &day1, store.Page{})
		if err != nil || len(acc) != 1 || acc[0].EntitlementName != "Admin on closed-account" || acc[0].AccountName != "closed-account" ||
			acc[0].ResourceName != "closed-account" || acc[0].Until == nil || !acc[0].Until.Equal(day2) {
			t.Errorf("una's access on day 1: %+v %v", acc, err)
		}
		e, err := st.GetEntitlement(ctx, ent.ID, &day1)
		if err != nil || e.ResourceName != "closed-account" || e.AccountName != "closed-account" || e.Grants != 1 {
			t.Errorf("the entitlement on day 1: %+v %v", e, err)
		}
		if now, _, err := st.PersonAccess(ctx, "una@example.com", nil, store.Page{}); err != nil || len(now) != 0 {
			t.Errorf("una's access now: %+v %v", now, err)
		}
	})
}
