package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// The inventory version changes with every recorded ingestion, and only then.
func TestInventoryVersion(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		version := func() string {
			t.Helper()
			v, err := s.InventoryVersion(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		record := func(sync string, at time.Time) {
			t.Helper()
			if err := s.InTx(ctx, func(tx *store.Tx) error {
				return tx.RecordIngest(ctx, store.IngestRecord{ConnectionID: "aws", SyncID: sync, At: at, Counts: map[string]int{}})
			}); err != nil {
				t.Fatal(err)
			}
		}
		v0 := version()
		if v0 != version() {
			t.Fatal("the version moves without an ingestion")
		}
		at := time.Date(2026, 2, 1, 10, 0, 0, 0, time.UTC)
		record("s1", at)
		v1 := version()
		record("s2", at.Add(time.Hour))
		v2 := version()
		if v0 == v1 || v1 == v2 || v0 == v2 {
			t.Fatalf("versions %q, %q, %q: want three different ones", v0, v1, v2)
		}
	})
}
