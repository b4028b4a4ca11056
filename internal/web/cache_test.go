package web

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
)

// Inventory pages are kept per inventory version for a short while: the content is
// shared by callers of the same kind (each sees their own header), a new ingestion shows
// at once, and an entry expires after cacheTTL.
func TestPageCache(t *testing.T) {
	u := newTestUI(t)
	u.ingestFixture(1)
	res := u.get(auditor, "/people/alice@example.com")
	mustContain(t, text(res.Body), "Audrey Auditor", "AdministratorAccess on prod")

	// Change the store behind the inventory's back (no ingestion): the page comes from
	// the cache, with the new caller's header.
	ctx := context.Background()
	if err := u.store.InTx(ctx, func(tx *store.Tx) error {
		_, err := tx.Driver().(*sql.Tx).ExecContext(ctx, "DELETE FROM inv_grants")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	res = u.get(admin, "/people/alice@example.com")
	mustContain(t, text(res.Body), "Ada Admin", "AdministratorAccess on prod")
	mustNotContain(t, text(res.Body), "Audrey Auditor")

	// After cacheTTL the page is built again.
	defer func(f func() time.Time) { now = f }(now)
	later := time.Now().UTC().Add(cacheTTL + time.Second)
	now = func() time.Time { return later }
	res = u.get(admin, "/people/alice@example.com")
	mustContain(t, text(res.Body), "No access")
	mustNotContain(t, text(res.Body), "AdministratorAccess on prod")
}

// A new ingestion changes the inventory version: pages show it at once.
func TestPageCacheFollowsIngestion(t *testing.T) {
	u := newTestUI(t)
	u.ingestFixture(1)
	mustContain(t, text(u.get(auditor, "/people/alice@example.com").Body), "AdministratorAccess on prod")
	syncFixture(t)
	u.ingestFixture(0)
	if _, err := ingestOne(u, 1, t2); err != nil {
		t.Fatal(err)
	}
	got := text(u.get(auditor, "/people/alice@example.com").Body)
	mustContain(t, got, "ReadOnly on staging")
	mustNotContain(t, got, "AdministratorAccess on prod")
}
