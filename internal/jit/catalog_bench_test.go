package jit

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// benchCatalog is a store with the test organization plus accounts x sets account
// entitlements (each account in one of 20 OUs), and a service with doc applied.
func benchCatalog(b *testing.B, accounts, sets int, doc string) *Service {
	b.Helper()
	st := storetest.Open(b, store.SQLite)
	seed(b, st)
	ctx := context.Background()
	d := &store.InventoryDiff{ConnectionID: conn, Sync: "s2", At: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)}
	for o := range 20 {
		d.InsertResources = append(d.InsertResources, store.ResourceRow{Type: "organizational_unit", ID: fmt.Sprintf("ou-bench-%02d", o),
			ParentType: "organizational_unit", ParentID: "r-root", DisplayName: fmt.Sprintf("OU %d", o), Profile: "{}"})
	}
	for p := range sets {
		arn := fmt.Sprintf("arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-%016d", p)
		d.InsertResources = append(d.InsertResources, store.ResourceRow{Type: "permission_set", ID: arn,
			DisplayName: fmt.Sprintf("Set%03d", p), Profile: "{}"})
	}
	for a := range accounts {
		id := fmt.Sprintf("9%011d", a)
		d.InsertResources = append(d.InsertResources, store.ResourceRow{Type: "account", ID: id, AccountID: id,
			ParentType: "organizational_unit", ParentID: fmt.Sprintf("ou-bench-%02d", a%20), DisplayName: fmt.Sprintf("acct-%04d", a), Profile: "{}"})
		for p := range sets {
			d.InsertEntitlements = append(d.InsertEntitlements, store.EntitlementRow{ID: fmt.Sprintf("account:%s:ps-%016d", id, p),
				ResourceType: "account", ResourceID: id, Slug: fmt.Sprintf("ps-%016d", p), DisplayName: fmt.Sprintf("Set%03d on acct-%04d", p, a), AccountID: id})
		}
	}
	if err := st.InTx(ctx, func(tx *store.Tx) error { _, err := tx.ApplyInventoryDiff(ctx, d); return err }); err != nil {
		b.Fatal(err)
	}
	svc, err := New(Config{Store: st})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := svc.ApplyRules(ctx, &auth.Caller{Email: "admin@example.com", Roles: []string{auth.RoleAdmin}}, []byte(doc)); err != nil {
		b.Fatal(err)
	}
	return svc
}

// BenchmarkCatalog measures the catalog of 1,000 accounts x 10 permission sets (10,000
// entitlements): the first page when everything is requestable, and the whole scan when one
// OU's accounts are (a page then needs the 10,000 entitlements read and decided).
//
//	go test ./internal/jit -run '^$' -bench Catalog -benchtime 5x
func BenchmarkCatalog(b *testing.B) {
	alice := &auth.Caller{Email: "alice@example.com"}
	b.Run("first-page-everything-requestable", func(b *testing.B) {
		svc := benchCatalog(b, 1000, 10, testDoc)
		b.ResetTimer()
		for range b.N {
			items, _, err := svc.Catalog(context.Background(), alice, CatalogQuery{})
			if err != nil || len(items) != 100 {
				b.Fatal(len(items), err)
			}
		}
	})
	b.Run("one-ou-requestable-full-scan", func(b *testing.B) {
		svc := benchCatalog(b, 1000, 10, `rules:
  - name: one-ou
    match: {ous: [ou-bench-07]}
    requesters: {everyone: true}
    approval_policy: auto
policies:
  - name: auto
    steps:
      - approvers: {nobody: true}
`)
		b.ResetTimer()
		for range b.N {
			var n int
			q := CatalogQuery{Page: store.Page{Size: 1000}}
			for {
				items, next, err := svc.Catalog(context.Background(), alice, q)
				if err != nil {
					b.Fatal(err)
				}
				n += len(items)
				if next == "" {
					break
				}
				q.Page.Token = next
			}
			if n != 500 {
				b.Fatalf("%d requestable, want 500 (50 accounts x 10 sets)", n)
			}
		}
	})
}
