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

// People are the humans behind the identities of the inventory: an Identity Center user
// or an IAM user with an email tag is linked to the person with that email (lowercased
// at ingestion). This file answers what a person can reach, and what changed.

// IdentityTypes are the resource types that link to a person by email: Identity Center
// and IAM users, and the users of applications imported from files (internal/appimport).
var IdentityTypes = []string{"sso_user", "iam_user", "app_user"}

const identityTypesSQL = "('sso_user', 'iam_user', 'app_user')"

// Person is one email with its identities.
type Person struct {
	Email string
	// Name is the display name of the person's Identity Center user, else of another
	// identity.
	Name          string
	IdentityCount int
	// Identities are the person's identities (GetPerson only): current ones, or the
	// latest interval of each when the person has none left.
	Identities []Resource
}

// ListPeople lists the people with a current identity, by email. q matches a substring of
// the email or of any identity's display name, case-insensitively.
func (s *Store) ListPeople(ctx context.Context, q string, p Page) ([]Person, string, error) {
	var key struct{ Email string }
	query := `SELECT email, MAX(CASE WHEN type = 'sso_user' THEN display_name ELSE '' END), MAX(display_name), COUNT(*)
		FROM inv_resources WHERE removed_at IS NULL AND email <> '' AND type IN ` + identityTypesSQL
	var args []any
	if p.Token != "" {
		if err := decodeToken(p.Token, &key); err != nil {
			return nil, "", err
		}
		query += " AND email > ?"
		args = append(args, key.Email)
	}
	query += " GROUP BY email"
	if q != "" {
		pat := likePattern(q)
		query += ` HAVING MAX(CASE WHEN email LIKE ? ESCAPE '\' OR lower(display_name) LIKE ? ESCAPE '\' THEN 1 ELSE 0 END) = 1`
		args = append(args, pat, pat)
	}
	n := p.size()
	query += fmt.Sprintf(" ORDER BY email LIMIT %d", n+1)
	rs, err := s.read.query(ctx, query, args...)
	if err != nil {
		return nil, "", fmt.Errorf("list people: %w", err)
	}
	var out []Person
	for rs.Next() {
		var pe Person
		var ssoName, anyName string
		var count int64
		if err := rs.Scan(&pe.Email, &ssoName, &anyName, &count); err != nil {
			rs.Close()
			return nil, "", err
		}
		pe.Name = ssoName
		if pe.Name == "" {
			pe.Name = anyName
		}
		pe.IdentityCount = int(count)
		out = append(out, pe)
	}
	if err := closeRows(rs); err != nil {
		return nil, "", fmt.Errorf("list people: %w", err)
	}
	next := ""
	if len(out) > n {
		out = out[:n]
		key.Email = out[n-1].Email
		next = encodeToken(key)
	}
	return out, next, nil
}

// GetPerson returns the person with email (any case) and their identities; ErrNotFound
// when no identity ever had that email.
func (s *Store) GetPerson(ctx context.Context, email string) (*Person, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" {
		return nil, ErrNotFound
	}
	joins, args := resourceJoins(nil)
	all, err := s.queryResources(ctx, "person "+email, "SELECT "+resourceCols+" FROM inv_resources r"+joins+
		" WHERE r.email = ? AND r.email <> '' AND r.type IN "+identityTypesSQL+" ORDER BY r.type, r.display_name, r.id, r.first_seen", append(args, email))
	if err != nil {
		return nil, err
	}
	if len(all) == 0 {
		return nil, ErrNotFound
	}
	pe := &Person{Email: email}
	var current []Resource
	latest := map[string]Resource{}
	for _, r := range all {
		if r.RemovedAt == nil {
			current = append(current, r)
		}
		latest[r.ConnectionID+"\x00"+r.Type+"\x00"+r.ID] = r // ordered by first_seen: the last wins
	}
	if len(current) == 0 {
		for _, k := range sortedMapKeys(latest) {
			current = append(current, latest[k])
		}
	}
	pe.Identities = current
	pe.IdentityCount = len(current)
	for _, r := range current {
		if r.Type == "sso_user" || pe.Name == "" {
			pe.Name = r.DisplayName
		}
	}
	return pe, nil
}

// Access is one way a person reaches an entitlement: a grant of one of their identities,
// held directly or through one group (a grant held both ways is two items).
type Access struct {
	GrantID         string
	ConnectionID    string
	EntitlementID   string
	EntitlementName string
	ResourceType    string
	ResourceID      string
	ResourceName    string
	AccountID       string
	AccountName     string
	// PrincipalType and PrincipalID are the person's identity that holds the grant.
	PrincipalType string
	PrincipalID   string
	PrincipalName string
	// Via is "direct" or the entitlement (group membership) the access comes through;
	// ViaName is that group's display name.
	Via     string
	ViaName string
	// Since is when the grant (this interval of it) was first seen; Until when it was
	// removed (nil while held).
	Since time.Time
	Until *time.Time
	// Stale says the account the grant was read from could not be read lately.
	Stale bool
	// LastUsed is when AWS last saw the identity holding the access in use, where AWS
	// tells it: an IAM user's last sign-in or access key use (its profile's last_login).
	// Identity Center reports no use per user, so it is nil for their access.
	LastUsed *time.Time
}

// personIdentities are the (connection, type, id) of email's identities; at nil means
// every identity that ever had the email (for history), else those live at at.
func (s *Store) personIdentities(ctx context.Context, email string, at *time.Time, current bool) ([][3]string, error) {
	// email <> '' lets the databases use the partial indexes on email.
	q := "SELECT DISTINCT r.connection_id, r.type, r.id FROM inv_resources r WHERE r.email = ? AND r.email <> '' AND r.type IN " + identityTypesSQL
	args := []any{email}
	if current || at != nil {
		cond, cargs := live("r", at)
		q += " AND " + cond
		args = append(args, cargs...)
	}
	rs, err := s.read.query(ctx, q+" ORDER BY 1, 2, 3", args...)
	if err != nil {
		return nil, fmt.Errorf("identities of %s: %w", email, err)
	}
	var out [][3]string
	for rs.Next() {
		var id [3]string
		if err := rs.Scan(&id[0], &id[1], &id[2]); err != nil {
			rs.Close()
			return nil, err
		}
		out = append(out, id)
	}
	return out, closeRows(rs)
}

// principalsCond is "((g.connection_id = ? AND g.principal_type = ? AND g.principal_id = ?) OR ...)".
// The connection is compared as an expression (connection_id || ”), which no index
// serves: there are one or two connections, and an index on it (the primary key's first
// column) would otherwise tempt SQLite's planner to walk all of a connection's grants in
// id order instead of using the principal index.
func principalsCond(ids [][3]string) (string, []any) {
	parts := make([]string, len(ids))
	args := make([]any, 0, 3*len(ids))
	for i, id := range ids {
		parts[i] = "(g.connection_id || '' = ? AND g.principal_type = ? AND g.principal_id = ?)"
		args = append(args, id[0], id[1], id[2])
	}
	return "(" + strings.Join(parts, " OR ") + ")", args
}

// PersonAccess lists everything the person with email could reach as of at (now when
// nil): every grant of their identities live then, one item per route (direct or each
// group), paged by grant id. An unknown person has no access (an empty list).
func (s *Store) PersonAccess(ctx context.Context, email string, at *time.Time, p Page) ([]Access, string, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	var key struct{ ID, Conn string }
	ids, err := s.personIdentities(ctx, email, at, true)
	if err != nil || len(ids) == 0 {
		return nil, "", err
	}
	joins, args := grantJoins(at)
	rc, rargs := live("rr", at)
	pc, pargs := principalsCond(ids)
	cond, cargs := live("g", at)
	q := "SELECT " + grantCols + ", COALESCE(rr.display_name, '') FROM inv_grants g" + joins +
		` LEFT JOIN inv_resources rr ON rr.connection_id = g.connection_id AND rr.type = g.resource_type
			AND rr.id = g.resource_id AND ` + rc + `
		WHERE ` + pc + " AND " + cond
	args = append(append(append(args, rargs...), pargs...), cargs...)
	if p.Token != "" {
		if err := decodeToken(p.Token, &key); err != nil {
			return nil, "", err
		}
		q += " AND (g.id > ? OR (g.id = ? AND g.connection_id > ?))"
		args = append(args, key.ID, key.ID, key.Conn)
	}
	n := p.size()
	q += fmt.Sprintf(" ORDER BY g.id, g.connection_id LIMIT %d", n+1)
	rs, err := s.read.query(ctx, q, args...)
	if err != nil {
		return nil, "", fmt.Errorf("access of %s: %w", email, err)
	}
	var grants []Grant
	var resNames []string
	for rs.Next() {
		var g Grant
		var firstSeen int64
		var via, resName string
		var removedSync sql.NullString
		var removedAt sql.NullInt64
		if err := rs.Scan(&g.ConnectionID, &g.ID, &g.EntitlementID, &g.EntitlementName, &g.ResourceType, &g.ResourceID,
			&g.PrincipalType, &g.PrincipalID, &g.PrincipalName, &g.PrincipalEmail, &g.AccountID,
			&g.AccountName, &g.Scope, &via, &g.Direct, &g.FirstSync, &firstSeen, &removedSync, &removedAt, &g.Stale, &resName); err != nil {
			rs.Close()
			return nil, "", err
		}
		g.Via = splitVia(via)
		g.FirstSeen = fromMS(firstSeen)
		g.RemovedSync = removedSync.String
		g.RemovedAt = msPtr(removedAt)
		grants = append(grants, g)
		resNames = append(resNames, resName)
	}
	if err := closeRows(rs); err != nil {
		return nil, "", fmt.Errorf("access of %s: %w", email, err)
	}
	next := ""
	if len(grants) > n {
		grants, resNames = grants[:n], resNames[:n]
		key.ID, key.Conn = grants[n-1].ID, grants[n-1].ConnectionID
		next = encodeToken(key)
	}
	if err := s.nameVia(ctx, grants); err != nil {
		return nil, "", err
	}
	lastUsed, err := s.identitiesLastUsed(ctx, ids, at)
	if err != nil {
		return nil, "", err
	}
	var out []Access
	for i, g := range grants {
		base := Access{
			GrantID: g.ID, ConnectionID: g.ConnectionID, EntitlementID: g.EntitlementID, EntitlementName: g.EntitlementName,
			ResourceType: g.ResourceType, ResourceID: g.ResourceID, ResourceName: resNames[i],
			AccountID: g.AccountID, AccountName: g.AccountName,
			PrincipalType: g.PrincipalType, PrincipalID: g.PrincipalID, PrincipalName: g.PrincipalName,
			Since: g.FirstSeen, Until: g.RemovedAt, Stale: g.Stale,
			LastUsed: lastUsed[[3]string{g.ConnectionID, g.PrincipalType, g.PrincipalID}],
		}
		if g.Direct || len(g.Via) == 0 {
			a := base
			a.Via = "direct"
			out = append(out, a)
		}
		for j, v := range g.Via {
			a := base
			a.Via, a.ViaName = v, g.ViaNames[j]
			out = append(out, a)
		}
	}
	return out, next, nil
}

// identitiesLastUsed reads the last use AWS reports for each IAM user among ids (the
// profile's last_login), as of at.
func (s *Store) identitiesLastUsed(ctx context.Context, ids [][3]string, at *time.Time) (map[[3]string]*time.Time, error) {
	out := map[[3]string]*time.Time{}
	for _, id := range ids {
		if id[1] != "iam_user" {
			continue
		}
		r, err := s.GetResource(ctx, id[1], id[2], at)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		var p struct {
			LastLogin string `json:"last_login"`
		}
		if json.Unmarshal(r.Profile, &p) == nil && p.LastLogin != "" {
			if t, err := time.Parse(time.RFC3339, p.LastLogin); err == nil {
				t = t.UTC()
				out[id] = &t
			}
		}
	}
	return out, nil
}

// ChangeFilter selects changes: grants added or removed in (From, To]. AccountID and
// Person (an email) narrow them.
type ChangeFilter struct {
	From, To  time.Time
	AccountID string
	Person    string
}

// Change is a grant added or removed by a sync.
type Change struct {
	ConnectionID    string
	SyncID          string
	At              time.Time
	Kind            string // "added" or "removed"
	GrantID         string
	EntitlementID   string
	EntitlementName string
	PrincipalType   string
	PrincipalID     string
	PrincipalName   string
	AccountID       string
	AccountName     string
	// Person is the email of the principal when it is a person's identity.
	Person string
	Via    []string
	Direct bool
	// Initial says the change is an addition by the connection's first ingested sync:
	// access found when Gatehouse first looked, not access given at that time.
	Initial bool
}

// Change kinds.
const (
	ChangeAdded   = "added"
	ChangeRemoved = "removed"
)

// Changes lists the grants added (first seen) and removed in (From, To], newest first
// (then added before removed, then by grant id, descending). A grant whose route changed (through
// another group, or now directly) in a sync is one interval ending and the next starting
// at the same sync: that is not a change of access and is left out.
//
// Each kind is read from its own index in the feed's order and the two are merged, so a
// page costs the same however many changes the range holds.
func (s *Store) Changes(ctx context.Context, f ChangeFilter, p Page) ([]Change, string, error) {
	var key struct {
		At   int64
		Kind string
		ID   string
		Conn string
	}
	if p.Token != "" {
		if err := decodeToken(p.Token, &key); err != nil {
			return nil, "", err
		}
	}
	n := p.size()
	var filter string
	var fargs []any
	if f.AccountID != "" {
		filter += " AND g.account_id = ?"
		fargs = append(fargs, f.AccountID)
	}
	if f.Person != "" {
		ids, err := s.personIdentities(ctx, strings.ToLower(strings.TrimSpace(f.Person)), nil, false)
		if err != nil {
			return nil, "", err
		}
		if len(ids) == 0 {
			return nil, "", nil
		}
		pc, pargs := principalsCond(ids)
		filter += " AND " + pc
		fargs = append(fargs, pargs...)
	}
	var all []Change
	for _, kind := range []string{ChangeAdded, ChangeRemoved} {
		col, syncCol, other := "g.first_seen", "g.first_sync", "o.removed_sync = g.first_sync"
		if kind == ChangeRemoved {
			col, syncCol, other = "g.removed_at", "g.removed_sync", "o.first_sync = g.removed_sync"
		}
		q := "SELECT g.connection_id, " + syncCol + ", " + col + `, g.id, g.entitlement_id, g.principal_type, g.principal_id,
			g.account_id, g.via, g.direct FROM inv_grants g WHERE ` + col + " > ? AND " + col + " <= ?" + filter +
			` AND NOT EXISTS (SELECT 1 FROM inv_grants o WHERE o.connection_id = g.connection_id AND o.id = g.id AND ` + other + ")"
		args := append([]any{ms(f.From), ms(f.To)}, fargs...)
		if p.Token != "" {
			// Newest first; at the same time added items come before removed ones, each
			// by id and connection, descending (the order of the indexes read backwards).
			switch {
			case kind == key.Kind:
				q += " AND (" + col + " < ? OR (" + col + " = ? AND (g.id < ? OR (g.id = ? AND g.connection_id < ?))))"
				args = append(args, key.At, key.At, key.ID, key.ID, key.Conn)
			case kind == ChangeAdded: // the token is a removed item: added ones at its time came before it
				q += " AND " + col + " < ?"
				args = append(args, key.At)
			default: // the token is an added item: removed ones at its time come after it
				q += " AND " + col + " <= ?"
				args = append(args, key.At)
			}
		}
		q += fmt.Sprintf(" ORDER BY %s DESC, g.id DESC, g.connection_id DESC LIMIT %d", col, n+1)
		rs, err := s.read.query(ctx, q, args...)
		if err != nil {
			return nil, "", fmt.Errorf("changes: %w", err)
		}
		for rs.Next() {
			c := Change{Kind: kind}
			var at int64
			var via string
			if err := rs.Scan(&c.ConnectionID, &c.SyncID, &at, &c.GrantID, &c.EntitlementID, &c.PrincipalType, &c.PrincipalID,
				&c.AccountID, &via, &c.Direct); err != nil {
				rs.Close()
				return nil, "", err
			}
			c.At = fromMS(at)
			c.Via = splitVia(via)
			all = append(all, c)
		}
		if err := closeRows(rs); err != nil {
			return nil, "", fmt.Errorf("changes: %w", err)
		}
	}
	sort.Slice(all, func(i, j int) bool {
		a, b := all[i], all[j]
		if !a.At.Equal(b.At) {
			return a.At.After(b.At)
		}
		if a.Kind != b.Kind {
			return a.Kind == ChangeAdded
		}
		if a.GrantID != b.GrantID {
			return a.GrantID > b.GrantID
		}
		return a.ConnectionID > b.ConnectionID
	})
	next := ""
	if len(all) > n {
		all = all[:n]
		last := all[n-1]
		key.At, key.Kind, key.ID, key.Conn = ms(last.At), last.Kind, last.GrantID, last.ConnectionID
		next = encodeToken(key)
	}
	if err := s.nameChanges(ctx, all); err != nil {
		return nil, "", err
	}
	if err := s.markInitial(ctx, all); err != nil {
		return nil, "", err
	}
	return all, next, nil
}

// markInitial sets Initial on the additions of each connection's first ingested sync.
func (s *Store) markInitial(ctx context.Context, cs []Change) error {
	if len(cs) == 0 {
		return nil
	}
	rs, err := s.read.query(ctx, `SELECT i.connection_id, i.sync_id FROM inv_ingests i WHERE i.at =
		(SELECT MIN(j.at) FROM inv_ingests j WHERE j.connection_id = i.connection_id)`)
	if err != nil {
		return fmt.Errorf("first syncs: %w", err)
	}
	first := map[string]string{}
	for rs.Next() {
		var conn, sync string
		if err := rs.Scan(&conn, &sync); err != nil {
			rs.Close()
			return err
		}
		first[conn] = sync
	}
	if err := closeRows(rs); err != nil {
		return fmt.Errorf("first syncs: %w", err)
	}
	for i := range cs {
		cs[i].Initial = cs[i].Kind == ChangeAdded && cs[i].SyncID == first[cs[i].ConnectionID]
	}
	return nil
}

// nameChanges fills the names of a page of changes (entitlement, principal and its
// email, account) from the latest interval of each, a few queries for the whole page.
func (s *Store) nameChanges(ctx context.Context, cs []Change) error {
	if len(cs) == 0 {
		return nil
	}
	ents := map[string]string{}
	res := map[[3]string]*[2]string{} // (conn, type, id) -> name, email
	for _, c := range cs {
		ents[c.EntitlementID] = ""
		res[[3]string{c.ConnectionID, c.PrincipalType, c.PrincipalID}] = &[2]string{}
		if c.AccountID != "" {
			res[[3]string{c.ConnectionID, "account", c.AccountID}] = &[2]string{}
		}
	}
	// Entitlement display names, latest interval.
	keys := sortedMapKeys(ents)
	args := make([]any, len(keys))
	for i, k := range keys {
		args[i] = k
	}
	rs, err := s.read.query(ctx, "SELECT id, display_name FROM inv_entitlements WHERE id IN ("+placeholders(len(keys))+") ORDER BY first_seen", args...)
	if err != nil {
		return fmt.Errorf("name changes: %w", err)
	}
	for rs.Next() {
		var id, name string
		if err := rs.Scan(&id, &name); err != nil {
			rs.Close()
			return err
		}
		ents[id] = name
	}
	if err := closeRows(rs); err != nil {
		return err
	}
	// Principals and accounts.
	rkeys := make([][3]string, 0, len(res))
	for k := range res {
		rkeys = append(rkeys, k)
	}
	parts := make([]string, len(rkeys))
	args = args[:0]
	for i, k := range rkeys {
		parts[i] = "(connection_id = ? AND type = ? AND id = ?)"
		args = append(args, k[0], k[1], k[2])
	}
	for start := 0; start < len(parts); start += batchRows {
		end := min(start+batchRows, len(parts))
		rs, err := s.read.query(ctx, "SELECT connection_id, type, id, display_name, email FROM inv_resources WHERE "+
			strings.Join(parts[start:end], " OR ")+" ORDER BY first_seen", args[3*start:3*end]...)
		if err != nil {
			return fmt.Errorf("name changes: %w", err)
		}
		for rs.Next() {
			var k [3]string
			var name, email string
			if err := rs.Scan(&k[0], &k[1], &k[2], &name, &email); err != nil {
				rs.Close()
				return err
			}
			if v := res[k]; v != nil {
				v[0], v[1] = name, email
			}
		}
		if err := closeRows(rs); err != nil {
			return err
		}
	}
	for i := range cs {
		c := &cs[i]
		c.EntitlementName = ents[c.EntitlementID]
		if v := res[[3]string{c.ConnectionID, c.PrincipalType, c.PrincipalID}]; v != nil {
			c.PrincipalName, c.Person = v[0], v[1]
		}
		if v := res[[3]string{c.ConnectionID, "account", c.AccountID}]; v != nil && c.AccountID != "" {
			c.AccountName = v[0]
		}
	}
	return nil
}
