package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Just-in-time access requests (internal/jit owns their meaning; this file stores them): the
// rules and policies document with its versions, owners, requests, who may decide them and
// their transitions. Migration 00007_jit_requests.sql.

// ErrConflict is returned when a write lost a race it cannot win (a row it expected changed).
var ErrConflict = errors.New("conflict")

// JITConfig is one version of the rules and policies document.
type JITConfig struct {
	Version   int64
	Doc       string
	UpdatedBy string
	UpdatedAt time.Time
}

// JITConfig returns the document in force (the highest version), ErrNotFound when none was
// ever stored.
func (s *Store) JITConfig(ctx context.Context) (*JITConfig, error) { return jitConfig(ctx, s.read) }

// JITConfig is JITConfig inside tx.
func (t *Tx) JITConfig(ctx context.Context) (*JITConfig, error) { return jitConfig(ctx, t.q) }

func jitConfig(ctx context.Context, q querier) (*JITConfig, error) {
	var c JITConfig
	var at int64
	err := q.queryRow(ctx, "SELECT version, doc, updated_by, updated_at FROM jit_config ORDER BY version DESC LIMIT 1").
		Scan(&c.Version, &c.Doc, &c.UpdatedBy, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read the rules document: %w", err)
	}
	c.UpdatedAt = fromMS(at)
	return &c, nil
}

// PutJITConfig stores doc as the version after base (0 for the first). When another version
// was stored after base meanwhile it stores nothing and returns ErrConflict, so that two
// admins saving at once never silently overwrite each other.
func (t *Tx) PutJITConfig(ctx context.Context, base int64, doc, by string, at time.Time) (int64, error) {
	var cur int64
	if err := t.q.queryRow(ctx, "SELECT COALESCE(MAX(version), 0) FROM jit_config").Scan(&cur); err != nil {
		return 0, fmt.Errorf("read the rules document's version: %w", err)
	}
	if cur != base {
		return 0, fmt.Errorf("the rules document changed (version %d, expected %d): %w", cur, base, ErrConflict)
	}
	if _, err := t.q.exec(ctx, "INSERT INTO jit_config (version, doc, updated_by, updated_at) VALUES (?, ?, ?, ?)",
		base+1, doc, by, ms(at)); err != nil {
		return 0, fmt.Errorf("store the rules document: %w", err)
	}
	return base + 1, nil
}

// Owner scopes.
const (
	OwnerAccount       = "account"
	OwnerPermissionSet = "permission_set"
	OwnerApplication   = "application"
)

// Owners lists the owners (emails, sorted) of scopeType/scopeID.
func (s *Store) Owners(ctx context.Context, scopeType, scopeID string) ([]string, error) {
	return owners(ctx, s.read, scopeType, scopeID)
}

// Owners is Owners inside tx.
func (t *Tx) Owners(ctx context.Context, scopeType, scopeID string) ([]string, error) {
	return owners(ctx, t.q, scopeType, scopeID)
}

func owners(ctx context.Context, q querier, scopeType, scopeID string) ([]string, error) {
	rs, err := q.query(ctx, "SELECT email FROM owners WHERE scope_type = ? AND scope_id = ? ORDER BY email", scopeType, scopeID)
	if err != nil {
		return nil, fmt.Errorf("owners of %s %s: %w", scopeType, scopeID, err)
	}
	out := []string{}
	for rs.Next() {
		var e string
		if err := rs.Scan(&e); err != nil {
			rs.Close()
			return nil, err
		}
		out = append(out, e)
	}
	if err := closeRows(rs); err != nil {
		return nil, fmt.Errorf("owners of %s %s: %w", scopeType, scopeID, err)
	}
	return out, nil
}

// SetOwners replaces the owners of scopeType/scopeID with emails (lowercased).
func (t *Tx) SetOwners(ctx context.Context, scopeType, scopeID string, emails []string, by string, at time.Time) error {
	if _, err := t.q.exec(ctx, "DELETE FROM owners WHERE scope_type = ? AND scope_id = ?", scopeType, scopeID); err != nil {
		return fmt.Errorf("set owners of %s %s: %w", scopeType, scopeID, err)
	}
	seen := map[string]bool{}
	for _, e := range emails {
		e = strings.ToLower(strings.TrimSpace(e))
		if e == "" || seen[e] {
			continue
		}
		seen[e] = true
		if _, err := t.q.exec(ctx, "INSERT INTO owners (scope_type, scope_id, email, added_by, added_at) VALUES (?, ?, ?, ?, ?)",
			scopeType, scopeID, e, by, ms(at)); err != nil {
			return fmt.Errorf("set owners of %s %s: %w", scopeType, scopeID, err)
		}
	}
	return nil
}

// UsersWithRole lists the emails of the users holding role (admin, auditor), sorted.
func (s *Store) UsersWithRole(ctx context.Context, role string) ([]string, error) {
	rs, err := s.read.query(ctx, "SELECT email, roles FROM users WHERE roles <> '' ORDER BY email")
	if err != nil {
		return nil, fmt.Errorf("users with role %s: %w", role, err)
	}
	var out []string
	for rs.Next() {
		var e, roles string
		if err := rs.Scan(&e, &roles); err != nil {
			rs.Close()
			return nil, err
		}
		if slices.Contains(splitRoles(roles), role) {
			out = append(out, e)
		}
	}
	if err := closeRows(rs); err != nil {
		return nil, fmt.Errorf("users with role %s: %w", role, err)
	}
	return out, nil
}

// AccessRequest is a just-in-time access request as stored. Target, Policy, Steps and
// PendingExtension are JSON that internal/jit writes and reads.
type AccessRequest struct {
	ID            string
	Requester     string
	ConnectionID  string
	EntitlementID string
	AccessKey     string
	Target        json.RawMessage
	Reason        string
	Duration      time.Duration
	State         string
	Rule          string
	Policy        json.RawMessage
	Steps         json.RawMessage
	// StepDueAt is the current approval step's deadline (nil: none).
	StepDueAt   *time.Time
	BreakGlass  bool
	ReviewedBy  string
	ReviewedAt  *time.Time
	EndSessions bool
	// PendingExtension is "" when there is none.
	PendingExtension json.RawMessage
	Error            string
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

const accessRequestCols = `r.id, r.requester, r.connection_id, r.entitlement_id, r.access_key, r.target, r.reason, r.duration_ms,
	r.state, r.rule, r.policy, r.steps, r.step_due_at, r.break_glass, r.reviewed_by, r.reviewed_at, r.end_sessions,
	r.pending_extension, r.error, r.created_at, r.updated_at`

func scanAccessRequest(rs interface{ Scan(...any) error }) (AccessRequest, error) {
	var r AccessRequest
	var target, policy, steps, ext string
	var dur, created, updated int64
	var due, reviewed sql.NullInt64
	if err := rs.Scan(&r.ID, &r.Requester, &r.ConnectionID, &r.EntitlementID, &r.AccessKey, &target, &r.Reason, &dur,
		&r.State, &r.Rule, &policy, &steps, &due, &r.BreakGlass, &r.ReviewedBy, &reviewed, &r.EndSessions,
		&ext, &r.Error, &created, &updated); err != nil {
		return r, err
	}
	r.Target, r.Policy, r.Steps = json.RawMessage(target), json.RawMessage(policy), json.RawMessage(steps)
	if ext != "" {
		r.PendingExtension = json.RawMessage(ext)
	}
	r.Duration = time.Duration(dur) * time.Millisecond
	r.StepDueAt, r.ReviewedAt = msPtr(due), msPtr(reviewed)
	r.CreatedAt, r.UpdatedAt = fromMS(created), fromMS(updated)
	return r, nil
}

func orEmptyJSON(b json.RawMessage, empty string) string {
	if len(b) == 0 {
		return empty
	}
	return string(b)
}

// InsertAccessRequest stores a new request.
func (t *Tx) InsertAccessRequest(ctx context.Context, r AccessRequest) error {
	_, err := t.q.exec(ctx, `INSERT INTO access_requests (id, requester, connection_id, entitlement_id, access_key, target,
		reason, duration_ms, state, rule, policy, steps, step_due_at, break_glass, reviewed_by, reviewed_at, end_sessions,
		pending_extension, error, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.Requester, r.ConnectionID, r.EntitlementID, r.AccessKey, orEmptyJSON(r.Target, "{}"), r.Reason,
		r.Duration.Milliseconds(), r.State, r.Rule, orEmptyJSON(r.Policy, "{}"), orEmptyJSON(r.Steps, "[]"),
		msOrNil(r.StepDueAt), r.BreakGlass, r.ReviewedBy, msOrNil(r.ReviewedAt), r.EndSessions,
		orEmptyJSON(r.PendingExtension, ""), r.Error, ms(r.CreatedAt), ms(r.UpdatedAt))
	if err != nil {
		return fmt.Errorf("store request %s: %w", r.ID, err)
	}
	return nil
}

// UpdateAccessRequest writes every field of r that can change (state, steps, due time,
// review, pending extension, error, updated_at). The state moves only when it is still from
// (ErrConflict otherwise), so that two replicas deciding one request never both win.
func (t *Tx) UpdateAccessRequest(ctx context.Context, r AccessRequest, from string) error {
	n, err := t.q.exec(ctx, `UPDATE access_requests SET state = ?, steps = ?, step_due_at = ?, reviewed_by = ?,
		reviewed_at = ?, pending_extension = ?, error = ?, updated_at = ? WHERE id = ? AND state = ?`,
		r.State, orEmptyJSON(r.Steps, "[]"), msOrNil(r.StepDueAt), r.ReviewedBy, msOrNil(r.ReviewedAt),
		orEmptyJSON(r.PendingExtension, ""), r.Error, ms(r.UpdatedAt), r.ID, from)
	if err != nil {
		return fmt.Errorf("update request %s: %w", r.ID, err)
	}
	if n == 0 {
		return fmt.Errorf("request %s is no longer %s: %w", r.ID, from, ErrConflict)
	}
	return nil
}

// GetAccessRequest returns the request id (ErrNotFound when none).
func (s *Store) GetAccessRequest(ctx context.Context, id string) (*AccessRequest, error) {
	return getAccessRequest(ctx, s.read, id, "")
}

// GetAccessRequest reads the request id in tx; on PostgreSQL the row stays locked until the
// transaction ends, so that decisions on one request are made one at a time.
func (t *Tx) GetAccessRequest(ctx context.Context, id string) (*AccessRequest, error) {
	lock := ""
	if t.store.dialect == Postgres {
		lock = " FOR UPDATE"
	}
	return getAccessRequest(ctx, t.q, id, lock)
}

func getAccessRequest(ctx context.Context, q querier, id, suffix string) (*AccessRequest, error) {
	r, err := scanAccessRequest(q.queryRow(ctx, "SELECT "+accessRequestCols+" FROM access_requests r WHERE r.id = ?"+suffix, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("request %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("request %s: %w", id, err)
	}
	return &r, nil
}

// RequestTransition is one stored state change of a request.
type RequestTransition struct {
	RequestID string
	Seq       int
	From, To  string
	Actor     string
	At        time.Time
	Reason    string
}

// AppendRequestTransition stores a transition as the request's next (its Seq is set).
func (t *Tx) AppendRequestTransition(ctx context.Context, tr RequestTransition) (int, error) {
	var seq int64
	if err := t.q.queryRow(ctx, "SELECT COALESCE(MAX(seq), 0) FROM request_transitions WHERE request_id = ?", tr.RequestID).Scan(&seq); err != nil {
		return 0, fmt.Errorf("transitions of %s: %w", tr.RequestID, err)
	}
	seq++
	if _, err := t.q.exec(ctx, `INSERT INTO request_transitions (request_id, seq, from_state, to_state, actor, at, reason)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, tr.RequestID, seq, tr.From, tr.To, tr.Actor, ms(tr.At), tr.Reason); err != nil {
		return 0, fmt.Errorf("store transition of %s: %w", tr.RequestID, err)
	}
	return int(seq), nil
}

// RequestTransitions lists the transitions of the requests ids, in order, by request.
func (s *Store) RequestTransitions(ctx context.Context, ids ...string) (map[string][]RequestTransition, error) {
	out := map[string][]RequestTransition{}
	if len(ids) == 0 {
		return out, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rs, err := s.read.query(ctx, `SELECT request_id, seq, from_state, to_state, actor, at, reason FROM request_transitions
		WHERE request_id IN (`+placeholders(len(ids))+`) ORDER BY request_id, seq`, args...)
	if err != nil {
		return nil, fmt.Errorf("request transitions: %w", err)
	}
	for rs.Next() {
		var tr RequestTransition
		var seq, at int64
		if err := rs.Scan(&tr.RequestID, &seq, &tr.From, &tr.To, &tr.Actor, &at, &tr.Reason); err != nil {
			rs.Close()
			return nil, err
		}
		tr.Seq, tr.At = int(seq), fromMS(at)
		out[tr.RequestID] = append(out[tr.RequestID], tr)
	}
	if err := closeRows(rs); err != nil {
		return nil, fmt.Errorf("request transitions: %w", err)
	}
	return out, nil
}

// SetRequestApprovers records who may decide request id at some step (all) and who may decide
// it now (current, a subset); anyone recorded before stays recorded (they may have decided).
func (t *Tx) SetRequestApprovers(ctx context.Context, id string, all, current []string) error {
	if _, err := t.q.exec(ctx, "UPDATE request_approvers SET current = FALSE WHERE request_id = ?", id); err != nil {
		return fmt.Errorf("approvers of %s: %w", id, err)
	}
	for _, e := range all {
		if _, err := t.q.exec(ctx, `INSERT INTO request_approvers (request_id, email, current) VALUES (?, ?, ?)
			ON CONFLICT (request_id, email) DO NOTHING`, id, e, false); err != nil {
			return fmt.Errorf("approvers of %s: %w", id, err)
		}
	}
	for _, e := range current {
		if _, err := t.q.exec(ctx, `INSERT INTO request_approvers (request_id, email, current) VALUES (?, ?, ?)
			ON CONFLICT (request_id, email) DO UPDATE SET current = excluded.current`, id, e, true); err != nil {
			return fmt.Errorf("approvers of %s: %w", id, err)
		}
	}
	return nil
}

// IsRequestApprover says whether email may decide request id at some step (or did).
func (s *Store) IsRequestApprover(ctx context.Context, id, email string) (bool, error) {
	return isRequestApprover(ctx, s.read, id, email)
}

// IsRequestApprover is IsRequestApprover inside tx.
func (t *Tx) IsRequestApprover(ctx context.Context, id, email string) (bool, error) {
	return isRequestApprover(ctx, t.q, id, email)
}

func isRequestApprover(ctx context.Context, q querier, id, email string) (bool, error) {
	var n int64
	if err := q.queryRow(ctx, "SELECT COUNT(*) FROM request_approvers WHERE request_id = ? AND email = ?", id, email).Scan(&n); err != nil {
		return false, fmt.Errorf("approvers of %s: %w", id, err)
	}
	return n > 0, nil
}

// AccessRequestFilter selects requests; zero fields match everything.
type AccessRequestFilter struct {
	Requester string
	// Approver: requests Approver may decide at some step (or decided); with Current, only
	// those they may decide now.
	Approver string
	Current  bool
	States   []string
}

// ListAccessRequests lists requests, newest first.
func (s *Store) ListAccessRequests(ctx context.Context, f AccessRequestFilter, p Page) ([]AccessRequest, string, error) {
	var key struct {
		C  int64
		ID string
	}
	q := "SELECT " + accessRequestCols + " FROM access_requests r"
	var conds []string
	var args []any
	if f.Approver != "" {
		c := "EXISTS (SELECT 1 FROM request_approvers a WHERE a.request_id = r.id AND a.email = ?"
		if f.Current {
			c += " AND a.current = TRUE"
		}
		conds = append(conds, c+")")
		args = append(args, f.Approver)
	}
	if f.Requester != "" {
		conds = append(conds, "r.requester = ?")
		args = append(args, f.Requester)
	}
	if len(f.States) > 0 {
		conds = append(conds, "r.state IN ("+placeholders(len(f.States))+")")
		for _, st := range f.States {
			args = append(args, st)
		}
	}
	if p.Token != "" {
		if err := decodeToken(p.Token, &key); err != nil {
			return nil, "", err
		}
		conds = append(conds, "(r.created_at < ? OR (r.created_at = ? AND r.id < ?))")
		args = append(args, key.C, key.C, key.ID)
	}
	if len(conds) > 0 {
		q += " WHERE " + strings.Join(conds, " AND ")
	}
	n := p.size()
	q += fmt.Sprintf(" ORDER BY r.created_at DESC, r.id DESC LIMIT %d", n+1)
	rs, err := s.read.query(ctx, q, args...)
	if err != nil {
		return nil, "", fmt.Errorf("list requests: %w", err)
	}
	var out []AccessRequest
	for rs.Next() {
		r, err := scanAccessRequest(rs)
		if err != nil {
			rs.Close()
			return nil, "", fmt.Errorf("list requests: %w", err)
		}
		out = append(out, r)
	}
	if err := closeRows(rs); err != nil {
		return nil, "", fmt.Errorf("list requests: %w", err)
	}
	next := ""
	if len(out) > n {
		out = out[:n]
		last := out[n-1]
		key.C, key.ID = ms(last.CreatedAt), last.ID
		next = encodeToken(key)
	}
	return out, next, nil
}

// DueAccessRequests lists the ids of requests in state whose current approval step's
// deadline is at or before now, oldest deadline first, at most limit.
func (s *Store) DueAccessRequests(ctx context.Context, state string, now time.Time, limit int) ([]string, error) {
	rs, err := s.read.query(ctx, fmt.Sprintf(`SELECT id FROM access_requests WHERE step_due_at IS NOT NULL AND step_due_at <= ?
		AND state = ? ORDER BY step_due_at, id LIMIT %d`, limit), ms(now), state)
	if err != nil {
		return nil, fmt.Errorf("due requests: %w", err)
	}
	var out []string
	for rs.Next() {
		var id string
		if err := rs.Scan(&id); err != nil {
			rs.Close()
			return nil, err
		}
		out = append(out, id)
	}
	if err := closeRows(rs); err != nil {
		return nil, fmt.Errorf("due requests: %w", err)
	}
	return out, nil
}

// ResourceQuery finds current resources for just-in-time access (identities, groups,
// permission sets); every non-empty field must hold.
type ResourceQuery struct {
	ConnectionID string
	Type         string
	ID           string
	// IDSuffix matches ids ending with it (a permission set's ARN ends with /ps-...).
	IDSuffix    string
	Email       string // compared lowercased (emails are lowercased at ingestion)
	DisplayName string
	// IDOrName matches the id or, exactly, the display name.
	IDOrName  string
	AccountID string
	// ProfileContains narrows to profiles containing the text (callers check the JSON).
	ProfileContains string
}

// FindResources lists the current resources q selects, with their profiles, at most 5000.
func (s *Store) FindResources(ctx context.Context, q ResourceQuery) ([]Resource, error) {
	joins, args := resourceJoins(nil)
	var conds []string
	add := func(c string, v ...any) { conds = append(conds, c); args = append(args, v...) }
	add("r.removed_at IS NULL")
	if q.ConnectionID != "" {
		add("r.connection_id = ?", q.ConnectionID)
	}
	if q.Type != "" {
		add("r.type = ?", q.Type)
	}
	if q.ID != "" {
		add("r.id = ?", q.ID)
	}
	if q.IDSuffix != "" {
		add(`r.id LIKE ? ESCAPE '\'`, "%"+likeEscape(q.IDSuffix))
	}
	if q.Email != "" {
		add("r.email = ?", strings.ToLower(q.Email))
	}
	if q.DisplayName != "" {
		add("r.display_name = ?", q.DisplayName)
	}
	if q.IDOrName != "" {
		add("(r.id = ? OR r.display_name = ?)", q.IDOrName, q.IDOrName)
	}
	if q.AccountID != "" {
		add("r.account_id = ?", q.AccountID)
	}
	if q.ProfileContains != "" {
		add(`lower(r.profile) LIKE ? ESCAPE '\'`, likePattern(q.ProfileContains))
	}
	sqlq := "SELECT " + resourceCols + ", r.profile FROM inv_resources r" + joins + " WHERE " + strings.Join(conds, " AND ") +
		" ORDER BY r.connection_id, r.type, r.id LIMIT 5000"
	rs, err := s.read.query(ctx, sqlq, args...)
	if err != nil {
		return nil, fmt.Errorf("find resources: %w", err)
	}
	var out []Resource
	for rs.Next() {
		var profile string
		r, err := scanResource(rs, &profile)
		if err != nil {
			rs.Close()
			return nil, fmt.Errorf("find resources: %w", err)
		}
		r.Profile = json.RawMessage(profile)
		out = append(out, r)
	}
	if err := closeRows(rs); err != nil {
		return nil, fmt.Errorf("find resources: %w", err)
	}
	return out, nil
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// GroupMemberEmails lists the emails of the current members of the Identity Center groups
// whose id or display name is group (in connectionID when set), sorted.
func (s *Store) GroupMemberEmails(ctx context.Context, connectionID, group string) ([]string, error) {
	q := `SELECT DISTINCT p.email FROM inv_grants g
		JOIN inv_resources gr ON gr.connection_id = g.connection_id AND gr.type = 'sso_group' AND gr.id = g.resource_id
			AND gr.removed_at IS NULL
		JOIN inv_resources p ON p.connection_id = g.connection_id AND p.type = g.principal_type AND p.id = g.principal_id
			AND p.removed_at IS NULL
		WHERE g.removed_at IS NULL AND g.resource_type = 'sso_group' AND g.principal_type = 'sso_user' AND p.email <> ''
			AND (gr.id = ? OR gr.display_name = ?)`
	args := []any{group, group}
	if connectionID != "" {
		q += " AND g.connection_id = ?"
		args = append(args, connectionID)
	}
	rs, err := s.read.query(ctx, q+" ORDER BY p.email", args...)
	if err != nil {
		return nil, fmt.Errorf("members of group %s: %w", group, err)
	}
	out := []string{}
	for rs.Next() {
		var e string
		if err := rs.Scan(&e); err != nil {
			rs.Close()
			return nil, err
		}
		out = append(out, e)
	}
	if err := closeRows(rs); err != nil {
		return nil, fmt.Errorf("members of group %s: %w", group, err)
	}
	return out, nil
}

// UserGroups lists the Identity Center groups (id and display name) the user userID is a
// current member of.
func (s *Store) UserGroups(ctx context.Context, connectionID, userID string) ([][2]string, error) {
	rs, err := s.read.query(ctx, `SELECT DISTINCT gr.id, gr.display_name FROM inv_grants g
		JOIN inv_resources gr ON gr.connection_id = g.connection_id AND gr.type = 'sso_group' AND gr.id = g.resource_id
			AND gr.removed_at IS NULL
		WHERE g.removed_at IS NULL AND g.resource_type = 'sso_group' AND g.principal_type = 'sso_user'
			AND g.principal_id = ? AND g.connection_id = ? ORDER BY gr.id`, userID, connectionID)
	if err != nil {
		return nil, fmt.Errorf("groups of %s: %w", userID, err)
	}
	var out [][2]string
	for rs.Next() {
		var g [2]string
		if err := rs.Scan(&g[0], &g[1]); err != nil {
			rs.Close()
			return nil, err
		}
		out = append(out, g)
	}
	if err := closeRows(rs); err != nil {
		return nil, fmt.Errorf("groups of %s: %w", userID, err)
	}
	return out, nil
}

// RequestableQuery pages through the entitlements just-in-time access can grant (permission
// sets on accounts, Identity Center and IAM group memberships, entitlements of applications
// imported from files), by id.
type RequestableQuery struct {
	// Q matches a substring of the entitlement's display name, its resource's name or id, or
	// its account's name or id, case-insensitively.
	Q         string
	AccountID string
	// After is the last (connection id, entitlement id) of the previous page.
	AfterConn, AfterID string
	Limit              int
}

// RequestableEntitlements lists current entitlements of the kinds JIT grants, ordered by id.
func (s *Store) RequestableEntitlements(ctx context.Context, q RequestableQuery) ([]Entitlement, error) {
	joins, args := entitlementJoins(nil)
	conds := []string{"e.removed_at IS NULL", "e.resource_type IN ('account', 'sso_group', 'iam_group', 'app_resource')"}
	if q.AccountID != "" {
		conds = append(conds, "e.account_id = ?")
		args = append(args, q.AccountID)
	}
	if q.Q != "" {
		pat := likePattern(q.Q)
		conds = append(conds, `(lower(e.display_name) LIKE ? ESCAPE '\' OR lower(COALESCE(r.display_name, '')) LIKE ? ESCAPE '\'
			OR lower(e.resource_id) LIKE ? ESCAPE '\' OR lower(COALESCE(a.display_name, '')) LIKE ? ESCAPE '\' OR e.account_id LIKE ? ESCAPE '\')`)
		args = append(args, pat, pat, pat, pat, pat)
	}
	if q.AfterID != "" || q.AfterConn != "" {
		conds = append(conds, "(e.id > ? OR (e.id = ? AND e.connection_id > ?))")
		args = append(args, q.AfterID, q.AfterID, q.AfterConn)
	}
	limit := q.Limit
	if limit <= 0 || limit > 5000 {
		limit = 5000
	}
	sqlq := "SELECT " + entitlementCols + " FROM inv_entitlements e" + joins + " WHERE " + strings.Join(conds, " AND ") +
		fmt.Sprintf(" ORDER BY e.id, e.connection_id LIMIT %d", limit)
	rs, err := s.read.query(ctx, sqlq, args...)
	if err != nil {
		return nil, fmt.Errorf("requestable entitlements: %w", err)
	}
	var out []Entitlement
	for rs.Next() {
		e, err := scanEntitlement(rs)
		if err != nil {
			rs.Close()
			return nil, fmt.Errorf("requestable entitlements: %w", err)
		}
		out = append(out, e)
	}
	if err := closeRows(rs); err != nil {
		return nil, fmt.Errorf("requestable entitlements: %w", err)
	}
	return out, nil
}

// LockRequestKey serialises, until tx ends, the transactions that lock the same key (on
// PostgreSQL an advisory transaction lock; SQLite has one writer, so every write transaction
// is serialised already). Creating a request takes it for the requester's access, so that two
// requests for the same access made at once cannot both pass the check for an open one.
func (t *Tx) LockRequestKey(ctx context.Context, key string) error {
	if t.store.dialect != Postgres {
		return nil
	}
	var one int64
	if err := t.q.queryRow(ctx, "SELECT 1 FROM (SELECT pg_advisory_xact_lock(hashtextextended(?, 0))) AS l", key).Scan(&one); err != nil {
		return fmt.Errorf("lock %s: %w", key, err)
	}
	return nil
}

// OpenRequestFor returns the id and state of a request of requester for accessKey in one of
// states ("" when there is none), read in tx.
func (t *Tx) OpenRequestFor(ctx context.Context, requester, accessKey string, states []string) (string, string, error) {
	args := []any{accessKey, requester}
	for _, s := range states {
		args = append(args, s)
	}
	var id, state string
	err := t.q.queryRow(ctx, "SELECT id, state FROM access_requests WHERE access_key = ? AND requester = ? AND state IN ("+
		placeholders(len(states))+") ORDER BY created_at LIMIT 1", args...).Scan(&id, &state)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", nil
	}
	if err != nil {
		return "", "", fmt.Errorf("open requests for %s: %w", accessKey, err)
	}
	return id, state, nil
}
