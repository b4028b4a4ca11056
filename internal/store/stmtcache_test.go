package store

import (
	"context"
	"fmt"
	"testing"
)

// The SQLite read pool prepares each SQL text once and reuses it; past the bound it
// still answers, unprepared.
func TestReadStatementsArePreparedOnce(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	c := s.read.(*cachedQuerier)
	before := c.n.Load()
	for i := 0; i < 5; i++ {
		var seq int64
		if err := s.read.queryRow(ctx, "SELECT seq FROM audit_head WHERE id = ?", 1).Scan(&seq); err != nil || seq != 0 {
			t.Fatalf("seq %d, %v", seq, err)
		}
	}
	if got := c.n.Load() - before; got != 1 {
		t.Fatalf("%d statements prepared for one SQL text run 5 times", got)
	}
	for i := int(c.n.Load()); i < stmtCacheMax+5; i++ {
		var v int64
		if err := s.read.queryRow(ctx, fmt.Sprintf("SELECT %d", i)).Scan(&v); err != nil || v != int64(i) {
			t.Fatalf("query %d: %d %v", i, v, err)
		}
	}
	if got := c.n.Load(); got != stmtCacheMax {
		t.Fatalf("%d statements kept, want the bound %d", got, stmtCacheMax)
	}
	if _, err := s.read.query(ctx, "SELECT nonsense FROM nowhere"); err == nil {
		t.Fatal("a bad statement gave no error")
	}
}
