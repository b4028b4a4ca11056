package store

import (
	"context"
	"database/sql"
	"fmt"
)

// InventoryVersion names the inventory's current state: it changes whenever an
// ingestion commits (every ingestion records its row in inv_ingests, in its own
// transaction), and only then. The web UI keys what it caches of inventory pages on it.
func (s *Store) InventoryVersion(ctx context.Context) (string, error) {
	var n int64
	var at sql.NullInt64
	if err := s.read.queryRow(ctx, "SELECT COUNT(*), MAX(at) FROM inv_ingests").Scan(&n, &at); err != nil {
		return "", fmt.Errorf("inventory version: %w", err)
	}
	return fmt.Sprintf("%d.%d", n, at.Int64), nil
}
