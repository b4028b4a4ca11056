package store_test

import (
	"context"
	"testing"

	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

func TestAuditAppendChains(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		for i, action := range []string{"signin", "sync.start", "token.create"} {
			err := s.InTx(ctx, func(tx *store.Tx) error {
				_, err := tx.AppendAudit(ctx, "ann@example.com", action, "connection:aws", map[string]any{"n": i}, "127.0.0.1")
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		// A rolled-back transaction leaves no entry and does not move the head.
		_ = s.InTx(ctx, func(tx *store.Tx) error {
			_, _ = tx.AppendAudit(ctx, "x", "lost", "", nil, "")
			return context.Canceled
		})
		got, err := s.ListAudit(ctx, store.AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 3 {
			t.Fatalf("%d entries, want 3", len(got))
		}
		prev := ""
		for i, e := range got {
			if e.Seq != int64(i+1) || e.PrevHash != prev || e.Hash != store.AuditHash(e) {
				t.Fatalf("entry %d: seq %d prev %q hash %q (recomputed %q)", i, e.Seq, e.PrevHash, e.Hash, store.AuditHash(e))
			}
			prev = e.Hash
		}
		if got[1].Action != "sync.start" || got[1].Detail != `{"n":1}` || got[1].RemoteAddr != "127.0.0.1" {
			t.Fatalf("entry 2 = %+v", got[1])
		}
		seq, hash, err := s.AuditHead(ctx)
		if err != nil || seq != 3 || hash != got[2].Hash {
			t.Fatalf("head = %d %q %v", seq, hash, err)
		}
		sync, err := s.ListAudit(ctx, store.AuditFilter{Action: "sync."})
		if err != nil || len(sync) != 1 || sync[0].Seq != 2 {
			t.Fatalf("filter sync.: %+v %v", sync, err)
		}
	})
}
