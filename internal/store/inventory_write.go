package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// This file is the write side of the inventory: what ingestion (internal/ingest) reads
// of the open rows and the batched writes of a diff. The read side is inventory.go.

// ResourceRow is the content of one inventory resource as a sync found it.
type ResourceRow struct {
	Type, ID    string
	AccountID   string
	Scope       string
	ParentType  string
	ParentID    string
	DisplayName string
	Email       string
	Profile     string // JSON object
	Hash        string // of everything above
}

// EntitlementRow is the content of one entitlement as a sync found it.
type EntitlementRow struct {
	ID           string
	ResourceType string
	ResourceID   string
	Slug         string
	DisplayName  string
	AccountID    string
	Scope        string
	Hash         string
}

// GrantRow is the content of one grant as a sync found it. Via lists the entitlements
// (group memberships) the grant comes through, sorted; Direct says it is also held
// directly (a grant with no Via is always direct).
type GrantRow struct {
	ID            string
	EntitlementID string
	ResourceType  string
	ResourceID    string
	PrincipalType string
	PrincipalID   string
	AccountID     string
	Scope         string
	Via           []string
	Direct        bool
	Hash          string
}

// viaColumn is how Via is stored: entitlement ids one per line (ids hold no newline).
func viaColumn(via []string) string { return strings.Join(via, "\n") }

func splitVia(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// OpenRow is what ingestion needs of a row that is open (not removed): its interval's
// start, the account it was read from, and its content hash.
type OpenRow struct {
	FirstSync string
	FirstSeen int64 // ms
	Scope     string
	Hash      string
	// Via and Direct are set for grants: a change of either starts a new interval.
	Via    string
	Direct bool
}

// ResourceKey is the key of a resource within a connection.
func ResourceKey(typ, id string) string { return typ + "\x00" + id }

// OpenInventory is every open row of a connection, by key (ResourceKey for resources,
// the id for entitlements and grants).
type OpenInventory struct {
	Resources    map[string]OpenRow
	Entitlements map[string]OpenRow
	Grants       map[string]OpenRow
}

// OpenInventory loads the open rows of connectionID: keys, interval starts and hashes
// only, never the content, so that comparing a sync with the store costs little memory.
func (t *Tx) OpenInventory(ctx context.Context, connectionID string) (*OpenInventory, error) {
	inv := &OpenInventory{Resources: map[string]OpenRow{}, Entitlements: map[string]OpenRow{}, Grants: map[string]OpenRow{}}
	// Sync ids and scopes repeat across rows: one copy of each.
	strs := map[string]string{}
	intern := func(s string) string {
		if v, ok := strs[s]; ok {
			return v
		}
		strs[s] = s
		return s
	}
	rs, err := t.q.query(ctx, `SELECT type, id, first_sync, first_seen, scope, content_hash FROM inv_resources
		WHERE connection_id = ? AND removed_at IS NULL`, connectionID)
	if err != nil {
		return nil, fmt.Errorf("load open resources: %w", err)
	}
	for rs.Next() {
		var typ, id string
		var o OpenRow
		if err := rs.Scan(&typ, &id, &o.FirstSync, &o.FirstSeen, &o.Scope, &o.Hash); err != nil {
			rs.Close()
			return nil, err
		}
		o.FirstSync, o.Scope = intern(o.FirstSync), intern(o.Scope)
		inv.Resources[ResourceKey(typ, id)] = o
	}
	if err := closeRows(rs); err != nil {
		return nil, fmt.Errorf("load open resources: %w", err)
	}
	rs, err = t.q.query(ctx, `SELECT id, first_sync, first_seen, scope, content_hash FROM inv_entitlements
		WHERE connection_id = ? AND removed_at IS NULL`, connectionID)
	if err != nil {
		return nil, fmt.Errorf("load open entitlements: %w", err)
	}
	for rs.Next() {
		var id string
		var o OpenRow
		if err := rs.Scan(&id, &o.FirstSync, &o.FirstSeen, &o.Scope, &o.Hash); err != nil {
			rs.Close()
			return nil, err
		}
		o.FirstSync, o.Scope = intern(o.FirstSync), intern(o.Scope)
		inv.Entitlements[id] = o
	}
	if err := closeRows(rs); err != nil {
		return nil, fmt.Errorf("load open entitlements: %w", err)
	}
	rs, err = t.q.query(ctx, `SELECT id, first_sync, first_seen, scope, content_hash, via, direct FROM inv_grants
		WHERE connection_id = ? AND removed_at IS NULL`, connectionID)
	if err != nil {
		return nil, fmt.Errorf("load open grants: %w", err)
	}
	for rs.Next() {
		var id string
		var o OpenRow
		if err := rs.Scan(&id, &o.FirstSync, &o.FirstSeen, &o.Scope, &o.Hash, &o.Via, &o.Direct); err != nil {
			rs.Close()
			return nil, err
		}
		o.FirstSync, o.Scope, o.Via = intern(o.FirstSync), intern(o.Scope), intern(o.Via)
		inv.Grants[id] = o
	}
	if err := closeRows(rs); err != nil {
		return nil, fmt.Errorf("load open grants: %w", err)
	}
	return inv, nil
}

func closeRows(rs rows) error {
	err := rs.Err()
	if cerr := rs.Close(); err == nil {
		err = cerr
	}
	return err
}

// Interval is where a row's interval starts.
type Interval struct {
	FirstSync string
	FirstSeen time.Time
}

// InventoryDiff is every write of one ingestion. Insert* rows open a new interval (at
// their Interval); Replace* rows rewrite an open row's content in place, keeping its
// interval (the open row is deleted and inserted again, so that the writes batch);
// Close* keys end the open interval at Sync/At.
type InventoryDiff struct {
	ConnectionID string
	Sync         string
	At           time.Time

	CloseResources    []string // ResourceKey
	CloseEntitlements []string
	CloseGrants       []string

	InsertResources    []ResourceRow
	InsertEntitlements []EntitlementRow
	InsertGrants       []GrantRow
	// ReplaceResources etc. carry the interval they keep, parallel to the rows.
	ReplaceResources           []ResourceRow
	ReplaceResourceInterval    []Interval
	ReplaceEntitlements        []EntitlementRow
	ReplaceEntitlementInterval []Interval
	ReplaceGrants              []GrantRow
	ReplaceGrantInterval       []Interval
}

// batchRows is how many rows go into one multi-row statement: large enough that a big
// first ingestion is a few hundred statements, small enough to stay far below both
// databases' limits on parameters (15 columns x 200 rows = 3,000).
const batchRows = 200

// ApplyInventoryDiff writes d in the transaction and returns the number of rows written.
func (t *Tx) ApplyInventoryDiff(ctx context.Context, d *InventoryDiff) (int64, error) {
	var written int64
	at := ms(d.At)

	// Closes first: a grant whose via changed is closed and opened again in the same
	// sync, under the same id (the new interval's first_sync differs from the old one's).
	closeIDs := func(table string, ids []string) error {
		for start := 0; start < len(ids); start += batchRows {
			part := ids[start:min(start+batchRows, len(ids))]
			args := []any{d.Sync, at, d.ConnectionID}
			for _, id := range part {
				args = append(args, id)
			}
			n, err := t.q.exec(ctx, "UPDATE "+table+" SET removed_sync = ?, removed_at = ? WHERE connection_id = ? AND removed_at IS NULL AND id IN ("+placeholders(len(part))+")", args...)
			if err != nil {
				return fmt.Errorf("close %s: %w", table, err)
			}
			written += n
		}
		return nil
	}
	if err := t.closeResources(ctx, d.ConnectionID, d.Sync, at, d.CloseResources, &written); err != nil {
		return written, err
	}
	if err := closeIDs("inv_entitlements", d.CloseEntitlements); err != nil {
		return written, err
	}
	if err := closeIDs("inv_grants", d.CloseGrants); err != nil {
		return written, err
	}

	// Replacements: delete the open rows, then insert them again below with their interval.
	if len(d.ReplaceResources) > 0 {
		keys := make([]string, len(d.ReplaceResources))
		for i, r := range d.ReplaceResources {
			keys[i] = ResourceKey(r.Type, r.ID)
		}
		if err := t.deleteOpenResources(ctx, d.ConnectionID, keys); err != nil {
			return written, err
		}
	}
	deleteIDs := func(table string, ids []string) error {
		for start := 0; start < len(ids); start += batchRows {
			part := ids[start:min(start+batchRows, len(ids))]
			args := []any{d.ConnectionID}
			for _, id := range part {
				args = append(args, id)
			}
			if _, err := t.q.exec(ctx, "DELETE FROM "+table+" WHERE connection_id = ? AND removed_at IS NULL AND id IN ("+placeholders(len(part))+")", args...); err != nil {
				return fmt.Errorf("replace %s: %w", table, err)
			}
		}
		return nil
	}
	ids := make([]string, len(d.ReplaceEntitlements))
	for i, e := range d.ReplaceEntitlements {
		ids[i] = e.ID
	}
	if err := deleteIDs("inv_entitlements", ids); err != nil {
		return written, err
	}
	ids = make([]string, len(d.ReplaceGrants))
	for i, g := range d.ReplaceGrants {
		ids[i] = g.ID
	}
	if err := deleteIDs("inv_grants", ids); err != nil {
		return written, err
	}

	now := Interval{FirstSync: d.Sync, FirstSeen: d.At}
	n, err := t.insertResources(ctx, d.ConnectionID, d.InsertResources, nil, now)
	written += n
	if err != nil {
		return written, err
	}
	n, err = t.insertResources(ctx, d.ConnectionID, d.ReplaceResources, d.ReplaceResourceInterval, now)
	written += n
	if err != nil {
		return written, err
	}
	n, err = t.insertEntitlements(ctx, d.ConnectionID, d.InsertEntitlements, nil, now)
	written += n
	if err != nil {
		return written, err
	}
	n, err = t.insertEntitlements(ctx, d.ConnectionID, d.ReplaceEntitlements, d.ReplaceEntitlementInterval, now)
	written += n
	if err != nil {
		return written, err
	}
	n, err = t.insertGrants(ctx, d.ConnectionID, d.InsertGrants, nil, now)
	written += n
	if err != nil {
		return written, err
	}
	n, err = t.insertGrants(ctx, d.ConnectionID, d.ReplaceGrants, d.ReplaceGrantInterval, now)
	written += n
	if err != nil {
		return written, err
	}
	return written, nil
}

// AnalyzeInventory refreshes PostgreSQL's statistics of the inventory tables, in the
// transaction (nothing on SQLite). Ingestion calls it after writing many rows: before
// autovacuum has run after a first ingestion of 200,000 rows, the planner has no
// statistics and plans the next ingestion's batched closes as scans (13 s instead of
// 0.4 s for 4,000 closes on the large preset).
//
// SQLite gathers no statistics by itself, and is better without: its planner then picks
// the indexes the queries are written for (checked with EXPLAIN QUERY PLAN on the large
// preset), while with ANALYZE's figures it chose skip-scans of the primary key (whose
// first column, the connection, has one value) and sorted whole types for one page.
func (t *Tx) AnalyzeInventory(ctx context.Context) error {
	if t.store.dialect != Postgres {
		return nil
	}
	for _, table := range []string{"inv_resources", "inv_entitlements", "inv_grants"} {
		if _, err := t.q.exec(ctx, "ANALYZE "+table); err != nil {
			return fmt.Errorf("analyze the inventory: %w", err)
		}
	}
	return nil
}

// CountInventory counts connectionID's current inventory in the transaction: resources
// per type, "entitlements", "grants" and "people" (distinct emails of identities).
func (t *Tx) CountInventory(ctx context.Context, connectionID string) (map[string]int, error) {
	return countInventory(ctx, t.q, "connection_id = ? AND ", []any{connectionID})
}

func countInventory(ctx context.Context, q querier, where string, args []any) (map[string]int, error) {
	out := map[string]int{}
	rs, err := q.query(ctx, "SELECT type, COUNT(*) FROM inv_resources WHERE "+where+"removed_at IS NULL GROUP BY type", args...)
	if err != nil {
		return nil, fmt.Errorf("inventory counts: %w", err)
	}
	for rs.Next() {
		var typ string
		var n int64
		if err := rs.Scan(&typ, &n); err != nil {
			rs.Close()
			return nil, err
		}
		out[typ] = int(n)
	}
	if err := closeRows(rs); err != nil {
		return nil, fmt.Errorf("inventory counts: %w", err)
	}
	for _, c := range []struct{ name, q string }{
		{"grants", "SELECT COUNT(*) FROM inv_grants WHERE " + where + "removed_at IS NULL"},
		{"entitlements", "SELECT COUNT(*) FROM inv_entitlements WHERE " + where + "removed_at IS NULL"},
		{"people", "SELECT COUNT(DISTINCT email) FROM inv_resources WHERE " + where + "removed_at IS NULL AND email <> '' AND type IN " + identityTypesSQL},
	} {
		var n int64
		if err := q.queryRow(ctx, c.q, args...).Scan(&n); err != nil {
			return nil, fmt.Errorf("inventory counts: %w", err)
		}
		out[c.name] = int(n)
	}
	return out, nil
}

// LockInventory serialises ingestions of connectionID until the transaction ends: two
// replicas ingesting the same connection at once would each compare the file with the
// same open rows and both insert what is new. On PostgreSQL it takes a transaction-level
// advisory lock; SQLite has one writer, whose transactions are already serialised.
func (t *Tx) LockInventory(ctx context.Context, connectionID string) error {
	if t.store.dialect != Postgres {
		return nil
	}
	if _, err := t.q.exec(ctx, "SELECT pg_advisory_xact_lock(hashtext(?))", "gatehouse-inventory:"+connectionID); err != nil {
		return fmt.Errorf("lock the inventory of %s: %w", connectionID, err)
	}
	return nil
}

// LatestIngest is the last sync ingested for connectionID (ok false when none).
func (t *Tx) LatestIngest(ctx context.Context, connectionID string) (syncID string, at time.Time, ok bool, err error) {
	var atMS int64
	err = t.q.queryRow(ctx, "SELECT sync_id, at FROM inv_ingests WHERE connection_id = ? ORDER BY at DESC LIMIT 1", connectionID).Scan(&syncID, &atMS)
	if err == sql.ErrNoRows {
		return "", time.Time{}, false, nil
	}
	if err != nil {
		return "", time.Time{}, false, fmt.Errorf("latest ingestion: %w", err)
	}
	return syncID, fromMS(atMS), true, nil
}

// byType groups resource keys by type, so that closes and deletes use (type, id IN ...).
func byType(keys []string) map[string][]string {
	out := map[string][]string{}
	for _, k := range keys {
		typ, id, _ := strings.Cut(k, "\x00")
		out[typ] = append(out[typ], id)
	}
	return out
}

func sortedMapKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (t *Tx) closeResources(ctx context.Context, conn, sync string, at int64, keys []string, written *int64) error {
	groups := byType(keys)
	for _, typ := range sortedMapKeys(groups) {
		ids := groups[typ]
		for start := 0; start < len(ids); start += batchRows {
			part := ids[start:min(start+batchRows, len(ids))]
			args := []any{sync, at, conn, typ}
			for _, id := range part {
				args = append(args, id)
			}
			n, err := t.q.exec(ctx, "UPDATE inv_resources SET removed_sync = ?, removed_at = ? WHERE connection_id = ? AND type = ? AND removed_at IS NULL AND id IN ("+placeholders(len(part))+")", args...)
			if err != nil {
				return fmt.Errorf("close resources: %w", err)
			}
			*written += n
		}
	}
	return nil
}

func (t *Tx) deleteOpenResources(ctx context.Context, conn string, keys []string) error {
	groups := byType(keys)
	for _, typ := range sortedMapKeys(groups) {
		ids := groups[typ]
		for start := 0; start < len(ids); start += batchRows {
			part := ids[start:min(start+batchRows, len(ids))]
			args := []any{conn, typ}
			for _, id := range part {
				args = append(args, id)
			}
			if _, err := t.q.exec(ctx, "DELETE FROM inv_resources WHERE connection_id = ? AND type = ? AND removed_at IS NULL AND id IN ("+placeholders(len(part))+")", args...); err != nil {
				return fmt.Errorf("replace resources: %w", err)
			}
		}
	}
	return nil
}

// placeholders is "?, ?, ..." n times.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// rowsPlaceholders is "(?, ?), (?, ?)" for n rows of cols columns.
func rowsPlaceholders(n, cols int) string {
	one := "(" + placeholders(cols) + ")"
	return strings.TrimSuffix(strings.Repeat(one+", ", n), ", ")
}

func intervalOf(ivs []Interval, i int, def Interval) Interval {
	if ivs == nil {
		return def
	}
	return ivs[i]
}

func (t *Tx) insertResources(ctx context.Context, conn string, rows []ResourceRow, ivs []Interval, def Interval) (int64, error) {
	const cols = 13
	var written int64
	for start := 0; start < len(rows); start += batchRows {
		part := rows[start:min(start+batchRows, len(rows))]
		args := make([]any, 0, len(part)*cols)
		for i, r := range part {
			iv := intervalOf(ivs, start+i, def)
			args = append(args, conn, r.Type, r.ID, iv.FirstSync, ms(iv.FirstSeen), r.AccountID, r.Scope,
				r.ParentType, r.ParentID, r.DisplayName, r.Email, r.Profile, r.Hash)
		}
		n, err := t.q.exec(ctx, `INSERT INTO inv_resources (connection_id, type, id, first_sync, first_seen, account_id, scope,
			parent_type, parent_id, display_name, email, profile, content_hash) VALUES `+rowsPlaceholders(len(part), cols), args...)
		if err != nil {
			return written, fmt.Errorf("insert resources: %w", err)
		}
		written += n
	}
	return written, nil
}

func (t *Tx) insertEntitlements(ctx context.Context, conn string, rows []EntitlementRow, ivs []Interval, def Interval) (int64, error) {
	const cols = 11
	var written int64
	for start := 0; start < len(rows); start += batchRows {
		part := rows[start:min(start+batchRows, len(rows))]
		args := make([]any, 0, len(part)*cols)
		for i, e := range part {
			iv := intervalOf(ivs, start+i, def)
			args = append(args, conn, e.ID, iv.FirstSync, ms(iv.FirstSeen), e.ResourceType, e.ResourceID, e.Slug,
				e.DisplayName, e.AccountID, e.Scope, e.Hash)
		}
		n, err := t.q.exec(ctx, `INSERT INTO inv_entitlements (connection_id, id, first_sync, first_seen, resource_type,
			resource_id, slug, display_name, account_id, scope, content_hash) VALUES `+rowsPlaceholders(len(part), cols), args...)
		if err != nil {
			return written, fmt.Errorf("insert entitlements: %w", err)
		}
		written += n
	}
	return written, nil
}

func (t *Tx) insertGrants(ctx context.Context, conn string, rows []GrantRow, ivs []Interval, def Interval) (int64, error) {
	const cols = 14
	var written int64
	for start := 0; start < len(rows); start += batchRows {
		part := rows[start:min(start+batchRows, len(rows))]
		args := make([]any, 0, len(part)*cols)
		for i, g := range part {
			iv := intervalOf(ivs, start+i, def)
			args = append(args, conn, g.ID, iv.FirstSync, ms(iv.FirstSeen), g.EntitlementID, g.ResourceType, g.ResourceID,
				g.PrincipalType, g.PrincipalID, g.AccountID, g.Scope, viaColumn(g.Via), g.Direct, g.Hash)
		}
		n, err := t.q.exec(ctx, `INSERT INTO inv_grants (connection_id, id, first_sync, first_seen, entitlement_id,
			resource_type, resource_id, principal_type, principal_id, account_id, scope, via, direct, content_hash)
			VALUES `+rowsPlaceholders(len(part), cols), args...)
		if err != nil {
			return written, fmt.Errorf("insert grants: %w", err)
		}
		written += n
	}
	return written, nil
}

// AccountReadUpdate is what one ingestion learned about reading one account: read now,
// or not (Stale, with why and what to do).
type AccountReadUpdate struct {
	AccountID string
	Stale     bool
	Reason    string
	Fix       string
}

// RecordAccountReads upserts the read state of the accounts of a sync: a read account
// gets last_read_at and is no longer stale; an unread one becomes stale, keeping the
// time it first became stale and its last read.
func (t *Tx) RecordAccountReads(ctx context.Context, conn, sync string, at time.Time, reads []AccountReadUpdate) error {
	const cols = 8
	for start := 0; start < len(reads); start += batchRows {
		part := reads[start:min(start+batchRows, len(reads))]
		args := make([]any, 0, len(part)*cols)
		for _, r := range part {
			if r.Stale {
				args = append(args, conn, r.AccountID, nil, "", true, ms(at), r.Reason, r.Fix)
			} else {
				args = append(args, conn, r.AccountID, ms(at), sync, false, nil, "", "")
			}
		}
		// PostgreSQL infers no type for a bare NULL parameter in VALUES of a BIGINT
		// column when every row has it; the casts say it.
		values := strings.ReplaceAll(rowsPlaceholders(len(part), cols), "(?, ?, ?, ?, ?, ?, ?, ?)", "(?, ?, CAST(? AS BIGINT), ?, ?, CAST(? AS BIGINT), ?, ?)")
		_, err := t.q.exec(ctx, `INSERT INTO inv_account_reads (connection_id, account_id, last_read_at, last_read_sync, stale,
			stale_since, stale_reason, stale_fix) VALUES `+values+`
			ON CONFLICT (connection_id, account_id) DO UPDATE SET
				last_read_at = CASE WHEN excluded.stale THEN inv_account_reads.last_read_at ELSE excluded.last_read_at END,
				last_read_sync = CASE WHEN excluded.stale THEN inv_account_reads.last_read_sync ELSE excluded.last_read_sync END,
				stale_since = CASE WHEN excluded.stale AND inv_account_reads.stale THEN inv_account_reads.stale_since ELSE excluded.stale_since END,
				stale = excluded.stale,
				stale_reason = excluded.stale_reason,
				stale_fix = excluded.stale_fix`, args...)
		if err != nil {
			return fmt.Errorf("record account reads: %w", err)
		}
	}
	return nil
}

// IngestRecord is what one ingestion did, kept per sync.
type IngestRecord struct {
	ConnectionID     string
	SyncID           string
	At               time.Time
	GrantsAdded      int
	GrantsRemoved    int
	GrantsChanged    int
	ResourcesAdded   int
	ResourcesRemoved int
	RowsWritten      int64
	StaleAccounts    []string
	// Counts are the connection's inventory after the ingestion (CountInventory).
	Counts map[string]int
}

// RecordIngest keeps rec (replacing the record of an earlier ingestion of the same sync).
func (t *Tx) RecordIngest(ctx context.Context, rec IngestRecord) error {
	counts, err := json.Marshal(rec.Counts)
	if err != nil || rec.Counts == nil {
		counts = []byte("{}")
	}
	_, err = t.q.exec(ctx, `INSERT INTO inv_ingests (connection_id, sync_id, at, grants_added, grants_removed, grants_changed,
		resources_added, resources_removed, rows_written, stale_accounts, counts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (connection_id, sync_id) DO UPDATE SET at = excluded.at, grants_added = excluded.grants_added,
			grants_removed = excluded.grants_removed, grants_changed = excluded.grants_changed,
			resources_added = excluded.resources_added, resources_removed = excluded.resources_removed,
			rows_written = excluded.rows_written, stale_accounts = excluded.stale_accounts, counts = excluded.counts`,
		rec.ConnectionID, rec.SyncID, ms(rec.At), rec.GrantsAdded, rec.GrantsRemoved, rec.GrantsChanged,
		rec.ResourcesAdded, rec.ResourcesRemoved, rec.RowsWritten, strings.Join(rec.StaleAccounts, ","), string(counts))
	if err != nil {
		return fmt.Errorf("record ingestion: %w", err)
	}
	return nil
}

// IngestAt is the time of the ingested sync syncID (ErrNotFound when it was never
// ingested), so that a sync id can name a point in history.
func (s *Store) IngestAt(ctx context.Context, syncID string) (time.Time, error) {
	var at int64
	err := s.read.queryRow(ctx, "SELECT at FROM inv_ingests WHERE sync_id = ? ORDER BY at LIMIT 1", syncID).Scan(&at)
	if err == sql.ErrNoRows {
		return time.Time{}, ErrNotFound
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("ingestion of sync %s: %w", syncID, err)
	}
	return fromMS(at), nil
}
