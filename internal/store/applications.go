package store

import (
	"context"
	"encoding/json"
	"fmt"
)

// InventoryCountsByConnection is InventoryCounts per connection: the current resources
// per type and "grants", as the connection's last ingestion recorded them. A connection
// that has never been ingested has no entry.
func (s *Store) InventoryCountsByConnection(ctx context.Context) (map[string]map[string]int, error) {
	rs, err := s.read.query(ctx, `SELECT i.connection_id, i.counts FROM inv_ingests i WHERE i.at =
		(SELECT MAX(j.at) FROM inv_ingests j WHERE j.connection_id = i.connection_id)`)
	if err != nil {
		return nil, fmt.Errorf("inventory counts: %w", err)
	}
	out := map[string]map[string]int{}
	for rs.Next() {
		var conn, raw string
		if err := rs.Scan(&conn, &raw); err != nil {
			rs.Close()
			return nil, err
		}
		c := map[string]int{}
		if err := json.Unmarshal([]byte(raw), &c); err != nil {
			rs.Close()
			return nil, fmt.Errorf("inventory counts of %s: %w", conn, err)
		}
		out[conn] = c
	}
	if err := closeRows(rs); err != nil {
		return nil, fmt.Errorf("inventory counts: %w", err)
	}
	return out, nil
}
