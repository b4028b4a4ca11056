package api_test

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// Inventory answers kept by the cache never reach someone the handler would refuse, and a
// new ingestion shows at once.
func TestInventoryCacheKeepsAccessChecksAndFollowsIngestions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		seedInventory(t, st)
		a := newTestAPI(t, st)
		path := "/api/v1/people/alice@example.com/access"
		items := func(who string) int {
			t.Helper()
			code, body := a.do(who, "GET", path, nil)
			if code != 200 {
				t.Fatalf("%s: %d %v", who, code, body)
			}
			return len(body["items"].([]any))
		}
		before := items("auditor")
		if again := items("auditor"); again != before {
			t.Fatalf("the same question answered %d then %d items", before, again)
		}
		// pat may not read alice's access, cached or not.
		if code, body := a.do("person", "GET", path, nil); code != 403 {
			t.Fatalf("another person read alice's cached access: %d %v", code, body)
		}
		if own := items("alice"); own != before {
			t.Fatalf("alice sees %d items of her own access, the auditor %d", own, before)
		}

		// A third sync gives alice AdministratorAccess directly: the next answer has it.
		ctx := context.Background()
		t3 := invT2.Add(time.Hour)
		err := st.InTx(ctx, func(tx *store.Tx) error {
			if _, err := tx.ApplyInventoryDiff(ctx, &store.InventoryDiff{ConnectionID: "aws", Sync: "s3", At: t3,
				InsertGrants: []store.GrantRow{{ID: psAdmin + ":sso_user:u-alice", EntitlementID: psAdmin, ResourceType: "account",
					ResourceID: "333333333333", PrincipalType: "sso_user", PrincipalID: "u-alice", AccountID: "333333333333", Direct: true, Hash: "g5"}}}); err != nil {
				return err
			}
			return tx.RecordIngest(ctx, store.IngestRecord{ConnectionID: "aws", SyncID: "s3", At: t3})
		})
		if err != nil {
			t.Fatal(err)
		}
		if after := items("auditor"); after != before+1 {
			t.Fatalf("after the third sync: %d items, want %d", after, before+1)
		}
		if own := items("alice"); own != before+1 {
			t.Fatalf("alice after the third sync: %d items, want %d", own, before+1)
		}
	})
}

// The first sync's additions are marked initial (found, not given); later ones are not.
func TestChangesMarkTheFirstSync(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		seedInventory(t, st)
		a := newTestAPI(t, st)
		code, body := a.do("auditor", "GET", "/api/v1/changes?from=2026-01-01T00:00:00Z", nil)
		if code != 200 {
			t.Fatalf("%d %v", code, body)
		}
		initial := map[string]int{}
		for _, it := range body["items"].([]any) {
			c := it.(map[string]any)
			initial[c["sync_id"].(string)+" "+c["kind"].(string)+" "+map[bool]string{true: "initial", false: "later"}[c["initial"].(bool)]]++
		}
		want := map[string]int{"s1 added initial": 3, "s2 added later": 1, "s2 removed later": 2}
		if len(initial) != len(want) {
			t.Fatalf("changes by sync, kind and mark: %v, want %v", initial, want)
		}
		for k, n := range want {
			if initial[k] != n {
				t.Fatalf("changes by sync, kind and mark: %v, want %v", initial, want)
			}
		}
	})
}
