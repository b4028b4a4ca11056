package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// The inventory's read side: resources, entitlements and grants as of now or as of a
// date, paged with keyset tokens. Every row is an interval (first_seen, removed_at): as
// of D means first_seen <= D and (removed_at IS NULL or removed_at > D); now means
// removed_at IS NULL. The write side is inventory_write.go; ingestion (internal/ingest)
// decides what to write.

// Resource is one inventory resource (one interval of it).
type Resource struct {
	ConnectionID string
	Type         string
	ID           string
	DisplayName  string
	AccountID    string
	// AccountName is the display name of AccountID's account resource, when known.
	AccountName string
	// Scope is the account whose IAM the resource was read from ('' for Organizations,
	// Identity Center and AWS-managed policies).
	Scope      string
	ParentType string
	ParentID   string
	Email      string
	// Profile is the resource's profile (a JSON object); lists leave it out (nil).
	Profile     json.RawMessage
	FirstSync   string
	FirstSeen   time.Time
	RemovedSync string
	RemovedAt   *time.Time
	// Stale says the account the resource was read from could not be read by the latest
	// sync: this is its state as of LastReadAt.
	Stale      bool
	LastReadAt *time.Time
	// Depth is the resource's depth in the organization tree (OUTree only; roots are 0).
	Depth int
}

// Entitlement is one entitlement (one interval of it).
type Entitlement struct {
	ConnectionID string
	ID           string
	ResourceType string
	ResourceID   string
	ResourceName string
	Slug         string
	DisplayName  string
	AccountID    string
	AccountName  string
	Scope        string
	FirstSync    string
	FirstSeen    time.Time
	RemovedSync  string
	RemovedAt    *time.Time
	// Grants is how many grants the entitlement has at the time asked for.
	Grants int
}

// Grant is one grant (one interval of it).
type Grant struct {
	ConnectionID    string
	ID              string
	EntitlementID   string
	EntitlementName string
	ResourceType    string
	ResourceID      string
	PrincipalType   string
	PrincipalID     string
	PrincipalName   string
	PrincipalEmail  string
	AccountID       string
	AccountName     string
	Scope           string
	// Via are the entitlements (group memberships) the grant comes through, and ViaNames
	// their groups' display names, in the same order; Direct says it is (also) held directly.
	Via         []string
	ViaNames    []string
	Direct      bool
	FirstSync   string
	FirstSeen   time.Time
	RemovedSync string
	RemovedAt   *time.Time
	Stale       bool
}

// ResourceFilter selects resources; zero fields match everything. Q is a case-insensitive
// substring of the display name, the id or the email. At nil means now.
type ResourceFilter struct {
	ConnectionID string
	Type         string
	Q            string
	AccountID    string
	At           *time.Time
}

// live is the condition "the row of alias exists at at" (now when at is nil).
func live(alias string, at *time.Time) (string, []any) {
	if at == nil {
		return alias + ".removed_at IS NULL", nil
	}
	t := ms(*at)
	return "(" + alias + ".first_seen <= ? AND (" + alias + ".removed_at IS NULL OR " + alias + ".removed_at > ?))", []any{t, t}
}

// likePattern is a LIKE pattern matching s anywhere, case-insensitively (compare with
// lower(column)), with LIKE's wildcards in s escaped.
func likePattern(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(strings.ToLower(s)) + "%"
}

const resourceCols = `r.connection_id, r.type, r.id, r.display_name, r.account_id, COALESCE(a.display_name, ''), r.scope,
	r.parent_type, r.parent_id, r.email, r.first_sync, r.first_seen, r.removed_sync, r.removed_at,
	COALESCE(ar.stale, FALSE), ar.last_read_at`

// resourceJoins add the account's name and the read state of the resource's scope. The
// account is the one that existed at at (now when nil), so that history keeps names.
func resourceJoins(at *time.Time) (string, []any) {
	cond, args := live("a", at)
	return ` LEFT JOIN inv_resources a ON a.connection_id = r.connection_id AND a.type = 'account'
		AND a.id = r.account_id AND ` + cond + ` AND r.account_id <> ''
	LEFT JOIN inv_account_reads ar ON ar.connection_id = r.connection_id AND ar.account_id = r.scope AND r.scope <> ''`, args
}

func scanResource(rs interface{ Scan(...any) error }, extra ...any) (Resource, error) {
	var r Resource
	var firstSeen int64
	var removedSync sql.NullString
	var removedAt, lastRead sql.NullInt64
	dest := append([]any{&r.ConnectionID, &r.Type, &r.ID, &r.DisplayName, &r.AccountID, &r.AccountName, &r.Scope,
		&r.ParentType, &r.ParentID, &r.Email, &r.FirstSync, &firstSeen, &removedSync, &removedAt, &r.Stale, &lastRead}, extra...)
	if err := rs.Scan(dest...); err != nil {
		return r, err
	}
	r.FirstSeen = fromMS(firstSeen)
	r.RemovedSync = removedSync.String
	r.RemovedAt = msPtr(removedAt)
	r.LastReadAt = msPtr(lastRead)
	return r, nil
}

func msPtr(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMS(v.Int64)
	return &t
}

// ListResources lists resources matching f (without their profiles), sorted by type,
// display name and id.
func (s *Store) ListResources(ctx context.Context, f ResourceFilter, p Page) ([]Resource, string, error) {
	var key struct{ Type, Name, ID, Conn string }
	joins, args := resourceJoins(f.At)
	cond, cargs := live("r", f.At)
	args = append(args, cargs...)
	q := "SELECT " + resourceCols + " FROM inv_resources r" + joins + " WHERE " + cond
	if f.ConnectionID != "" {
		// Not through an index (see principalsCond): the list index gives the order.
		q += " AND r.connection_id || '' = ?"
		args = append(args, f.ConnectionID)
	}
	if f.Type != "" {
		q += " AND r.type = ?"
		args = append(args, f.Type)
	}
	if f.AccountID != "" {
		q += " AND r.account_id = ?"
		args = append(args, f.AccountID)
	}
	if f.Q != "" {
		pat := likePattern(f.Q)
		q += ` AND (lower(r.display_name) LIKE ? ESCAPE '\' OR lower(r.id) LIKE ? ESCAPE '\' OR r.email LIKE ? ESCAPE '\')`
		args = append(args, pat, pat, pat)
	}
	if p.Token != "" {
		if err := decodeToken(p.Token, &key); err != nil {
			return nil, "", err
		}
		q += ` AND (r.type > ? OR (r.type = ? AND (r.display_name > ? OR (r.display_name = ? AND (r.id > ? OR (r.id = ? AND r.connection_id > ?))))))`
		args = append(args, key.Type, key.Type, key.Name, key.Name, key.ID, key.ID, key.Conn)
	}
	n := p.size()
	q += fmt.Sprintf(" ORDER BY r.type, r.display_name, r.id, r.connection_id LIMIT %d", n+1)
	out, err := s.queryResources(ctx, "list resources", q, args)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) > n {
		out = out[:n]
		last := out[n-1]
		key.Type, key.Name, key.ID, key.Conn = last.Type, last.DisplayName, last.ID, last.ConnectionID
		next = encodeToken(key)
	}
	return out, next, nil
}

// GetResource returns the resource typ/id as of at (now when nil), with its profile.
func (s *Store) GetResource(ctx context.Context, typ, id string, at *time.Time) (*Resource, error) {
	joins, args := resourceJoins(at)
	cond, cargs := live("r", at)
	args = append(append(args, typ, id), cargs...)
	q := "SELECT " + resourceCols + ", r.profile FROM inv_resources r" + joins +
		" WHERE r.type = ? AND r.id = ? AND " + cond + " ORDER BY r.connection_id LIMIT 1"
	var profile string
	r, err := scanResource(s.read.queryRow(ctx, q, args...), &profile)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("get resource %s %s: %w", typ, id, err)
	}
	r.Profile = json.RawMessage(profile)
	return &r, nil
}

const entitlementCols = `e.connection_id, e.id, e.resource_type, e.resource_id, COALESCE(r.display_name, ''), e.slug,
	e.display_name, e.account_id, COALESCE(a.display_name, ''), e.scope, e.first_sync, e.first_seen, e.removed_sync, e.removed_at`

// entitlementJoins name the resource and the account as they were at at (now when nil).
func entitlementJoins(at *time.Time) (string, []any) {
	rc, rargs := live("r", at)
	ac, aargs := live("a", at)
	return ` LEFT JOIN inv_resources r ON r.connection_id = e.connection_id AND r.type = e.resource_type
		AND r.id = e.resource_id AND ` + rc + `
	LEFT JOIN inv_resources a ON a.connection_id = e.connection_id AND a.type = 'account'
		AND a.id = e.account_id AND ` + ac + ` AND e.account_id <> ''`, append(rargs, aargs...)
}

func scanEntitlement(rs interface{ Scan(...any) error }, extra ...any) (Entitlement, error) {
	var e Entitlement
	var firstSeen int64
	var removedSync sql.NullString
	var removedAt sql.NullInt64
	dest := append([]any{&e.ConnectionID, &e.ID, &e.ResourceType, &e.ResourceID, &e.ResourceName, &e.Slug,
		&e.DisplayName, &e.AccountID, &e.AccountName, &e.Scope, &e.FirstSync, &firstSeen, &removedSync, &removedAt}, extra...)
	if err := rs.Scan(dest...); err != nil {
		return e, err
	}
	e.FirstSeen = fromMS(firstSeen)
	e.RemovedSync = removedSync.String
	e.RemovedAt = msPtr(removedAt)
	return e, nil
}

// grantCount is a subquery counting the grants of entitlement alias e at the time.
func grantCount(at *time.Time) (string, []any) {
	cond, args := live("g", at)
	return "(SELECT COUNT(*) FROM inv_grants g WHERE g.entitlement_id = e.id AND g.connection_id = e.connection_id AND " + cond + ")", args
}

// ResourceEntitlements lists the entitlements on the resource typ/id as of at, by
// display name, each with its number of grants then.
func (s *Store) ResourceEntitlements(ctx context.Context, typ, id string, at *time.Time) ([]Entitlement, error) {
	count, args := grantCount(at)
	joins, jargs := entitlementJoins(at)
	cond, cargs := live("e", at)
	args = append(append(append(args, jargs...), typ, id), cargs...)
	q := "SELECT " + entitlementCols + ", " + count + " FROM inv_entitlements e" + joins +
		" WHERE e.resource_type = ? AND e.resource_id = ? AND " + cond + " ORDER BY e.display_name, e.id, e.connection_id"
	rs, err := s.read.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("entitlements of %s %s: %w", typ, id, err)
	}
	var out []Entitlement
	for rs.Next() {
		var n int64
		e, err := scanEntitlement(rs, &n)
		if err != nil {
			rs.Close()
			return nil, err
		}
		e.Grants = int(n)
		out = append(out, e)
	}
	return out, closeRows(rs)
}

// GetEntitlement returns the entitlement id as of at (now when nil).
func (s *Store) GetEntitlement(ctx context.Context, id string, at *time.Time) (*Entitlement, error) {
	count, args := grantCount(at)
	joins, jargs := entitlementJoins(at)
	cond, cargs := live("e", at)
	args = append(append(append(args, jargs...), id), cargs...)
	q := "SELECT " + entitlementCols + ", " + count + " FROM inv_entitlements e" + joins +
		" WHERE e.id = ? AND " + cond + " ORDER BY e.connection_id LIMIT 1"
	var n int64
	e, err := scanEntitlement(s.read.queryRow(ctx, q, args...), &n)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("get entitlement %s: %w", id, err)
	}
	e.Grants = int(n)
	return &e, nil
}

const grantCols = `g.connection_id, g.id, g.entitlement_id, COALESCE(e.display_name, ''), g.resource_type, g.resource_id,
	g.principal_type, g.principal_id, COALESCE(p.display_name, ''), COALESCE(p.email, ''), g.account_id,
	COALESCE(a.display_name, ''), g.scope, g.via, g.direct, g.first_sync, g.first_seen, g.removed_sync, g.removed_at,
	COALESCE(ar.stale, FALSE)`

// grantJoins name the entitlement, the principal and the account with their rows at at
// (now when nil): a grant of the past is shown with the names it had then, also when
// they are gone now. Names changed in place are the latest (docs/history.md).
func grantJoins(at *time.Time) (string, []any) {
	ec, args := live("e", at)
	pc, pargs := live("p", at)
	ac, aargs := live("a", at)
	args = append(append(args, pargs...), aargs...)
	return ` LEFT JOIN inv_entitlements e ON e.connection_id = g.connection_id AND e.id = g.entitlement_id AND ` + ec + `
	LEFT JOIN inv_resources p ON p.connection_id = g.connection_id AND p.type = g.principal_type
		AND p.id = g.principal_id AND ` + pc + `
	LEFT JOIN inv_resources a ON a.connection_id = g.connection_id AND a.type = 'account'
		AND a.id = g.account_id AND ` + ac + ` AND g.account_id <> ''
	LEFT JOIN inv_account_reads ar ON ar.connection_id = g.connection_id AND ar.account_id = g.scope AND g.scope <> ''`, args
}

func scanGrant(rs interface{ Scan(...any) error }) (Grant, error) {
	var g Grant
	var firstSeen int64
	var via string
	var removedSync sql.NullString
	var removedAt sql.NullInt64
	if err := rs.Scan(&g.ConnectionID, &g.ID, &g.EntitlementID, &g.EntitlementName, &g.ResourceType, &g.ResourceID,
		&g.PrincipalType, &g.PrincipalID, &g.PrincipalName, &g.PrincipalEmail, &g.AccountID,
		&g.AccountName, &g.Scope, &via, &g.Direct, &g.FirstSync, &firstSeen, &removedSync, &removedAt, &g.Stale); err != nil {
		return g, err
	}
	g.Via = splitVia(via)
	g.FirstSeen = fromMS(firstSeen)
	g.RemovedSync = removedSync.String
	g.RemovedAt = msPtr(removedAt)
	return g, nil
}

// grantPage cuts a list of grants read with one extra row (LIMIT n+1, ordered by id and
// connection) to n, with the token of the next page when there is one.
func grantPage(out []Grant, n int) ([]Grant, string) {
	if len(out) <= n {
		return out, ""
	}
	out = out[:n]
	return out, encodeToken(struct{ ID, Conn string }{out[n-1].ID, out[n-1].ConnectionID})
}

// queryResources runs a query of resourceCols and scans every row.
func (s *Store) queryResources(ctx context.Context, what, q string, args []any) ([]Resource, error) {
	rs, err := s.read.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	var out []Resource
	for rs.Next() {
		r, err := scanResource(rs)
		if err != nil {
			rs.Close()
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, r)
	}
	if err := closeRows(rs); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

func (s *Store) queryGrants(ctx context.Context, what, q string, args []any) ([]Grant, error) {
	rs, err := s.read.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	var out []Grant
	for rs.Next() {
		g, err := scanGrant(rs)
		if err != nil {
			rs.Close()
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, g)
	}
	if err := closeRows(rs); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if err := s.nameVia(ctx, out); err != nil {
		return nil, err
	}
	return out, nil
}

// nameVia fills ViaNames: the display name of the group behind each via entitlement,
// in one query for the whole list.
func (s *Store) nameVia(ctx context.Context, gs []Grant) error {
	ids := map[string]string{}
	for _, g := range gs {
		for _, v := range g.Via {
			ids[v] = ""
		}
	}
	if len(ids) == 0 {
		return nil
	}
	if err := s.entitlementResourceNames(ctx, ids); err != nil {
		return err
	}
	for i := range gs {
		gs[i].ViaNames = make([]string, len(gs[i].Via))
		for j, v := range gs[i].Via {
			gs[i].ViaNames[j] = ids[v]
		}
	}
	return nil
}

// entitlementResourceNames fills names[id] with the display name of the resource each
// entitlement id is on (the group of a membership), falling back to the entitlement's
// own display name.
func (s *Store) entitlementResourceNames(ctx context.Context, names map[string]string) error {
	keys := sortedMapKeys(names)
	for start := 0; start < len(keys); start += batchRows {
		part := keys[start:min(start+batchRows, len(keys))]
		args := make([]any, len(part))
		for i, k := range part {
			args[i] = k
		}
		rs, err := s.read.query(ctx, `SELECT e.id, COALESCE(r.display_name, e.display_name), e.first_seen FROM inv_entitlements e
			LEFT JOIN inv_resources r ON r.connection_id = e.connection_id AND r.type = e.resource_type AND r.id = e.resource_id
			WHERE e.id IN (`+placeholders(len(part))+`) ORDER BY e.first_seen`, args...)
		if err != nil {
			return fmt.Errorf("name groups: %w", err)
		}
		for rs.Next() {
			var id, name string
			var seen int64
			if err := rs.Scan(&id, &name, &seen); err != nil {
				rs.Close()
				return err
			}
			names[id] = name // the latest interval's name wins
		}
		if err := closeRows(rs); err != nil {
			return err
		}
	}
	return nil
}

// EntitlementGrants lists the grants of entitlementID as of at (who holds it, and
// through what), by grant id.
func (s *Store) EntitlementGrants(ctx context.Context, entitlementID string, at *time.Time, p Page) ([]Grant, string, error) {
	var key struct{ ID, Conn string }
	joins, args := grantJoins(at)
	cond, cargs := live("g", at)
	q := "SELECT " + grantCols + " FROM inv_grants g" + joins + " WHERE g.entitlement_id = ? AND " + cond
	args = append(append(args, entitlementID), cargs...)
	if p.Token != "" {
		if err := decodeToken(p.Token, &key); err != nil {
			return nil, "", err
		}
		q += " AND (g.id > ? OR (g.id = ? AND g.connection_id > ?))"
		args = append(args, key.ID, key.ID, key.Conn)
	}
	n := p.size()
	q += fmt.Sprintf(" ORDER BY g.id, g.connection_id LIMIT %d", n+1)
	out, err := s.queryGrants(ctx, "grants of "+entitlementID, q, args)
	if err != nil {
		return nil, "", err
	}
	out, next := grantPage(out, n)
	return out, next, nil
}

// ResourceGrants lists the grants of every entitlement on the resource typ/id as of at
// (who can reach it, and through what), by grant id.
func (s *Store) ResourceGrants(ctx context.Context, typ, id string, at *time.Time, p Page) ([]Grant, string, error) {
	var key struct{ ID, Conn string }
	joins, args := grantJoins(at)
	cond, cargs := live("g", at)
	q := "SELECT " + grantCols + " FROM inv_grants g" + joins + ` WHERE g.entitlement_id IN
		(SELECT x.id FROM inv_entitlements x WHERE x.resource_type = ? AND x.resource_id = ?) AND g.resource_type = ? AND g.resource_id = ? AND ` + cond
	args = append(append(args, typ, id, typ, id), cargs...)
	if p.Token != "" {
		if err := decodeToken(p.Token, &key); err != nil {
			return nil, "", err
		}
		q += " AND (g.id > ? OR (g.id = ? AND g.connection_id > ?))"
		args = append(args, key.ID, key.ID, key.Conn)
	}
	n := p.size()
	q += fmt.Sprintf(" ORDER BY g.id, g.connection_id LIMIT %d", n+1)
	out, err := s.queryGrants(ctx, "grants on "+typ+" "+id, q, args)
	if err != nil {
		return nil, "", err
	}
	out, next := grantPage(out, n)
	return out, next, nil
}

// PrincipalGrants lists every grant held by the principal as of at, by grant id.
func (s *Store) PrincipalGrants(ctx context.Context, principalType, principalID string, at *time.Time) ([]Grant, error) {
	joins, args := grantJoins(at)
	cond, cargs := live("g", at)
	q := "SELECT " + grantCols + " FROM inv_grants g" + joins +
		" WHERE g.principal_type = ? AND g.principal_id = ? AND " + cond + " ORDER BY g.id, g.connection_id"
	return s.queryGrants(ctx, "grants of "+principalType+" "+principalID, q, append(append(args, principalType, principalID), cargs...))
}

// AccountRead is what Gatehouse knows about reading one account.
type AccountRead struct {
	ConnectionID string
	AccountID    string
	AccountName  string
	LastReadAt   *time.Time
	LastReadSync string
	Stale        bool
	StaleSince   *time.Time
	StaleReason  string
	StaleFix     string
}

// AccountReads lists the read state of every account of connectionID ("" for every
// connection), stale accounts first, then by account id.
func (s *Store) AccountReads(ctx context.Context, connectionID string) ([]AccountRead, error) {
	q := `SELECT ar.connection_id, ar.account_id, COALESCE(a.display_name, ''), ar.last_read_at, ar.last_read_sync,
		ar.stale, ar.stale_since, ar.stale_reason, ar.stale_fix FROM inv_account_reads ar
		LEFT JOIN inv_resources a ON a.connection_id = ar.connection_id AND a.type = 'account' AND a.id = ar.account_id
			AND a.removed_at IS NULL`
	var args []any
	if connectionID != "" {
		q += " WHERE ar.connection_id = ?"
		args = append(args, connectionID)
	}
	q += " ORDER BY ar.stale DESC, ar.account_id, ar.connection_id"
	rs, err := s.read.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("account reads: %w", err)
	}
	var out []AccountRead
	for rs.Next() {
		var a AccountRead
		var last, since sql.NullInt64
		if err := rs.Scan(&a.ConnectionID, &a.AccountID, &a.AccountName, &last, &a.LastReadSync, &a.Stale, &since,
			&a.StaleReason, &a.StaleFix); err != nil {
			rs.Close()
			return nil, err
		}
		a.LastReadAt, a.StaleSince = msPtr(last), msPtr(since)
		out = append(out, a)
	}
	return out, closeRows(rs)
}

// OUTree lists the current organizational units and accounts of connectionID ("" for
// every connection) in tree order: each parent before its children, siblings by display
// name (units before accounts), with Depth set.
func (s *Store) OUTree(ctx context.Context, connectionID string) ([]Resource, error) {
	joins, args := resourceJoins(nil)
	q := "SELECT " + resourceCols + " FROM inv_resources r" + joins +
		" WHERE r.removed_at IS NULL AND r.type IN ('organizational_unit', 'account')"
	if connectionID != "" {
		q += " AND r.connection_id = ?"
		args = append(args, connectionID)
	}
	all, err := s.queryResources(ctx, "organization tree", q, args)
	if err != nil {
		return nil, err
	}
	key := func(conn, typ, id string) string { return conn + "\x00" + typ + "\x00" + id }
	present := map[string]bool{}
	for _, r := range all {
		present[key(r.ConnectionID, r.Type, r.ID)] = true
	}
	children := map[string][]Resource{}
	var roots []Resource
	for _, r := range all {
		if r.ParentID != "" && present[key(r.ConnectionID, r.ParentType, r.ParentID)] {
			pk := key(r.ConnectionID, r.ParentType, r.ParentID)
			children[pk] = append(children[pk], r)
		} else {
			roots = append(roots, r)
		}
	}
	order := func(rs []Resource) {
		sort.Slice(rs, func(i, j int) bool {
			a, b := rs[i], rs[j]
			if a.ConnectionID != b.ConnectionID {
				return a.ConnectionID < b.ConnectionID
			}
			if a.Type != b.Type {
				return a.Type == "organizational_unit" // units first
			}
			if a.DisplayName != b.DisplayName {
				return a.DisplayName < b.DisplayName
			}
			return a.ID < b.ID
		})
	}
	out := make([]Resource, 0, len(all))
	var walk func(rs []Resource, depth int)
	walk = func(rs []Resource, depth int) {
		order(rs)
		for _, r := range rs {
			r.Depth = depth
			out = append(out, r)
			walk(children[key(r.ConnectionID, r.Type, r.ID)], depth+1)
		}
	}
	walk(roots, 0)
	return out, nil
}

// InventoryCounts counts the current inventory of every connection: resources per type,
// "entitlements", "grants" and "people" (distinct emails of identities). The counts are
// those each connection's last ingestion recorded (one row per connection, however large
// the inventory); without any ingestion they are counted.
func (s *Store) InventoryCounts(ctx context.Context) (map[string]int, error) {
	rs, err := s.read.query(ctx, `SELECT i.counts FROM inv_ingests i WHERE i.at =
		(SELECT MAX(j.at) FROM inv_ingests j WHERE j.connection_id = i.connection_id) ORDER BY i.connection_id`)
	if err != nil {
		return nil, fmt.Errorf("inventory counts: %w", err)
	}
	out := map[string]int{}
	n := 0
	for rs.Next() {
		var raw string
		if err := rs.Scan(&raw); err != nil {
			rs.Close()
			return nil, err
		}
		var c map[string]int
		if err := json.Unmarshal([]byte(raw), &c); err != nil {
			rs.Close()
			return nil, fmt.Errorf("inventory counts: %w", err)
		}
		for k, v := range c {
			out[k] += v
		}
		n++
	}
	if err := closeRows(rs); err != nil {
		return nil, fmt.Errorf("inventory counts: %w", err)
	}
	if n > 0 {
		return out, nil
	}
	return countInventory(ctx, s.read, "", nil)
}
