package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Evidence packs (internal/evidence owns what they hold): the rows that track each pack
// from its request to its file, and the reads a pack is built from. The reads stream:
// a pack of a large organization holds hundreds of thousands of rows, which are handed to
// a callback one at a time (in batches of batchRows where names are filled in), never
// gathered in memory.

// Evidence pack states.
const (
	EvidenceQueued   = "queued"
	EvidenceBuilding = "building"
	EvidenceReady    = "ready"
	EvidenceFailed   = "failed"
)

// EvidencePack is one pack as stored.
type EvidencePack struct {
	ID    string
	State string
	From  time.Time
	To    time.Time
	// Scope is the JSON object {"accounts", "ous", "applications"} the pack was asked for.
	Scope       string
	RequestedBy string
	RequestedAt time.Time
	StartedAt   *time.Time
	FinishedAt  *time.Time
	Error       string
	SHA256      string
	Size        int64
	// Path is the ZIP in the data directory of Runner, the replica that built it.
	Path     string
	Runner   string
	Attempts int
	// ScheduleKey names the period of a scheduled pack ("" for a requested one).
	ScheduleKey string
	// Summary is the JSON of the pack's counts and chain check (internal/evidence).
	Summary string
}

const evidenceCols = `id, state, period_from, period_to, scope, requested_by, requested_at, started_at, finished_at, error,
	sha256, size, path, runner, attempts, schedule_key, summary`

func scanEvidencePack(r interface{ Scan(...any) error }) (*EvidencePack, error) {
	var p EvidencePack
	var from, to, req int64
	var started, finished sql.NullInt64
	if err := r.Scan(&p.ID, &p.State, &from, &to, &p.Scope, &p.RequestedBy, &req, &started, &finished, &p.Error,
		&p.SHA256, &p.Size, &p.Path, &p.Runner, &p.Attempts, &p.ScheduleKey, &p.Summary); err != nil {
		return nil, err
	}
	p.From, p.To, p.RequestedAt = fromMS(from), fromMS(to), fromMS(req)
	p.StartedAt, p.FinishedAt = msPtr(started), msPtr(finished)
	return &p, nil
}

// InsertEvidencePack stores a new pack (queued). A scheduled pack whose ScheduleKey is
// already taken is ErrConflict: another replica queued that period first.
func (t *Tx) InsertEvidencePack(ctx context.Context, p *EvidencePack) error {
	if p.ID == "" || p.State == "" {
		return errors.New("insert evidence pack: id and state are required")
	}
	if p.Scope == "" {
		p.Scope = "{}"
	}
	if p.Summary == "" {
		p.Summary = "{}"
	}
	_, err := t.q.exec(ctx, `INSERT INTO evidence_packs (`+evidenceCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.ID, p.State, ms(p.From), ms(p.To), p.Scope, p.RequestedBy, ms(p.RequestedAt), msOrNil(p.StartedAt), msOrNil(p.FinishedAt),
		p.Error, p.SHA256, p.Size, p.Path, p.Runner, p.Attempts, p.ScheduleKey, p.Summary)
	if isUniqueViolation(err) {
		return fmt.Errorf("evidence pack %s: %w", p.ScheduleKey, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("insert evidence pack %s: %w", p.ID, err)
	}
	return nil
}

// GetEvidencePack returns the pack id, or ErrNotFound.
func (s *Store) GetEvidencePack(ctx context.Context, id string) (*EvidencePack, error) {
	p, err := scanEvidencePack(s.read.queryRow(ctx, "SELECT "+evidenceCols+" FROM evidence_packs WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("evidence pack %s: %w", id, err)
	}
	return p, nil
}

// ListEvidencePacks lists packs newest first (requested_at, id), keyset paged.
func (s *Store) ListEvidencePacks(ctx context.Context, p Page) ([]EvidencePack, string, error) {
	var key struct {
		At int64
		ID string
	}
	q := "SELECT " + evidenceCols + " FROM evidence_packs"
	var args []any
	if p.Token != "" {
		if err := decodeToken(p.Token, &key); err != nil {
			return nil, "", err
		}
		q += " WHERE (requested_at < ? OR (requested_at = ? AND id < ?))"
		args = append(args, key.At, key.At, key.ID)
	}
	n := p.size()
	q += fmt.Sprintf(" ORDER BY requested_at DESC, id DESC LIMIT %d", n+1)
	rs, err := s.read.query(ctx, q, args...)
	if err != nil {
		return nil, "", fmt.Errorf("list evidence packs: %w", err)
	}
	var out []EvidencePack
	for rs.Next() {
		ep, err := scanEvidencePack(rs)
		if err != nil {
			rs.Close()
			return nil, "", fmt.Errorf("list evidence packs: %w", err)
		}
		out = append(out, *ep)
	}
	if err := closeRows(rs); err != nil {
		return nil, "", fmt.Errorf("list evidence packs: %w", err)
	}
	next := ""
	if len(out) > n {
		out = out[:n]
		key.At, key.ID = ms(out[n-1].RequestedAt), out[n-1].ID
		next = encodeToken(key)
	}
	return out, next, nil
}

// StartEvidencePack marks the pack building by runner (a retry starts it again) and
// counts the attempt. It returns false when the pack is no longer queued or building
// (built, or failed for good): the job has nothing to do.
func (s *Store) StartEvidencePack(ctx context.Context, id, runner string, at time.Time) (bool, error) {
	n, err := s.write.exec(ctx, `UPDATE evidence_packs SET state = ?, runner = ?, started_at = ?, attempts = attempts + 1, error = ''
		WHERE id = ? AND state IN (?, ?)`, EvidenceBuilding, runner, ms(at), id, EvidenceQueued, EvidenceBuilding)
	if err != nil {
		return false, fmt.Errorf("start evidence pack %s: %w", id, err)
	}
	return n > 0, nil
}

// EvidenceResult is how a pack's build ended.
type EvidenceResult struct {
	State   string // ready or failed
	Error   string
	SHA256  string
	Size    int64
	Path    string
	Summary string
	At      time.Time
}

// FinishEvidencePack records the end of the pack's build in tx (ErrNotFound when there
// is no such pack building).
func (t *Tx) FinishEvidencePack(ctx context.Context, id string, r EvidenceResult) error {
	if r.Summary == "" {
		r.Summary = "{}"
	}
	n, err := t.q.exec(ctx, `UPDATE evidence_packs SET state = ?, error = ?, sha256 = ?, size = ?, path = ?, summary = ?, finished_at = ?
		WHERE id = ? AND state = ?`, r.State, r.Error, r.SHA256, r.Size, r.Path, r.Summary, ms(r.At), id, EvidenceBuilding)
	if err != nil {
		return fmt.Errorf("finish evidence pack %s: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("evidence pack %s is not building: %w", id, ErrNotFound)
	}
	return nil
}

// EvidenceScope narrows the inventory a pack reads: Connections (connection or
// application ids; nil for every one) and Accounts (nil for every account; when set, rows
// that concern no account, such as Identity Center users and groups, are left out).
type EvidenceScope struct {
	Connections []string
	Accounts    []string
}

// cond is the scope's condition on alias's rows.
func (sc EvidenceScope) cond(alias string) (string, []any) {
	var parts []string
	var args []any
	if sc.Connections != nil {
		parts = append(parts, alias+".connection_id IN ("+placeholders(max(len(sc.Connections), 1))+")")
		if len(sc.Connections) == 0 {
			args = append(args, "")
		}
		for _, c := range sc.Connections {
			args = append(args, c)
		}
	}
	if sc.Accounts != nil {
		parts = append(parts, alias+".account_id IN ("+placeholders(max(len(sc.Accounts), 1))+")")
		if len(sc.Accounts) == 0 {
			args = append(args, "-")
		}
		for _, a := range sc.Accounts {
			args = append(args, a)
		}
	}
	if len(parts) == 0 {
		return "", nil
	}
	return " AND " + strings.Join(parts, " AND "), args
}

// EachResourceAt calls fn with every resource in scope as of at (with its profile), by
// connection, type and id.
func (s *Store) EachResourceAt(ctx context.Context, at time.Time, sc EvidenceScope, fn func(*Resource) error) error {
	joins, args := resourceJoins(&at)
	cond, cargs := live("r", &at)
	scond, sargs := sc.cond("r")
	args = append(append(args, cargs...), sargs...)
	q := "SELECT " + resourceCols + ", r.profile FROM inv_resources r" + joins + " WHERE " + cond + scond +
		" ORDER BY r.connection_id, r.type, r.id"
	rs, err := s.read.query(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("inventory as of %s: %w", at.Format(time.RFC3339), err)
	}
	defer rs.Close()
	for rs.Next() {
		var profile string
		r, err := scanResource(rs, &profile)
		if err != nil {
			return fmt.Errorf("inventory as of %s: %w", at.Format(time.RFC3339), err)
		}
		r.Profile = []byte(profile)
		if err := fn(&r); err != nil {
			return err
		}
	}
	if err := closeRows(rs); err != nil {
		return fmt.Errorf("inventory as of %s: %w", at.Format(time.RFC3339), err)
	}
	return nil
}

// EachGrantAt calls fn with every grant in scope as of at, named as of at (the groups it
// comes through too), by connection and grant id.
func (s *Store) EachGrantAt(ctx context.Context, at time.Time, sc EvidenceScope, fn func(*Grant) error) error {
	joins, args := grantJoins(&at)
	cond, cargs := live("g", &at)
	scond, sargs := sc.cond("g")
	args = append(append(args, cargs...), sargs...)
	q := "SELECT " + grantCols + " FROM inv_grants g" + joins + " WHERE " + cond + scond + " ORDER BY g.connection_id, g.id"
	rs, err := s.read.query(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("grants as of %s: %w", at.Format(time.RFC3339), err)
	}
	defer rs.Close()
	batch := make([]Grant, 0, batchRows)
	flush := func() error {
		if err := s.nameVia(ctx, batch); err != nil {
			return err
		}
		for i := range batch {
			if err := fn(&batch[i]); err != nil {
				return err
			}
		}
		batch = batch[:0]
		return nil
	}
	for rs.Next() {
		g, err := scanGrant(rs)
		if err != nil {
			return fmt.Errorf("grants as of %s: %w", at.Format(time.RFC3339), err)
		}
		if batch = append(batch, g); len(batch) == batchRows {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := closeRows(rs); err != nil {
		return fmt.Errorf("grants as of %s: %w", at.Format(time.RFC3339), err)
	}
	return flush()
}

// ResourceChange is a resource that a sync found for the first time, or no longer found.
type ResourceChange struct {
	ConnectionID string
	SyncID       string
	At           time.Time
	Kind         string // ChangeAdded or ChangeRemoved
	Type, ID     string
	DisplayName  string
	AccountID    string
	Email        string
}

// EachResourceChange calls fn with every resource added or removed in (from, to] in
// scope, oldest first (at one time, added before removed, then by type and id).
func (s *Store) EachResourceChange(ctx context.Context, from, to time.Time, sc EvidenceScope, fn func(*ResourceChange) error) error {
	scond, sargs := sc.cond("r")
	q := `SELECT r.connection_id, r.first_sync, r.first_seen, 'added', r.type, r.id, r.display_name, r.account_id, r.email
		FROM inv_resources r WHERE r.first_seen > ? AND r.first_seen <= ?` + scond + `
		AND NOT EXISTS (SELECT 1 FROM inv_resources o WHERE o.connection_id = r.connection_id AND o.type = r.type AND o.id = r.id AND o.removed_sync = r.first_sync)
	UNION ALL
	SELECT r.connection_id, r.removed_sync, r.removed_at, 'removed', r.type, r.id, r.display_name, r.account_id, r.email
		FROM inv_resources r WHERE r.removed_at > ? AND r.removed_at <= ?` + scond + `
		AND NOT EXISTS (SELECT 1 FROM inv_resources o WHERE o.connection_id = r.connection_id AND o.type = r.type AND o.id = r.id AND o.first_sync = r.removed_sync)
	ORDER BY 3, 4, 5, 6, 1`
	args := append(append([]any{ms(from), ms(to)}, sargs...), ms(from), ms(to))
	args = append(args, sargs...)
	rs, err := s.read.query(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("resource changes: %w", err)
	}
	defer rs.Close()
	for rs.Next() {
		var c ResourceChange
		var at int64
		if err := rs.Scan(&c.ConnectionID, &c.SyncID, &at, &c.Kind, &c.Type, &c.ID, &c.DisplayName, &c.AccountID, &c.Email); err != nil {
			return fmt.Errorf("resource changes: %w", err)
		}
		c.At = fromMS(at)
		if err := fn(&c); err != nil {
			return err
		}
	}
	if err := closeRows(rs); err != nil {
		return fmt.Errorf("resource changes: %w", err)
	}
	return nil
}

// Ingest is one ingested sync as its record keeps it.
type Ingest struct {
	ConnectionID     string
	SyncID           string
	At               time.Time
	GrantsAdded      int
	GrantsRemoved    int
	ResourcesAdded   int
	ResourcesRemoved int
	StaleAccounts    []string
}

// IngestsBetween lists, oldest first, the syncs ingested in (from, to] of the
// connections (nil: every one) and, before them, each connection's last sync at or before
// from: the one the inventory as of from is.
func (s *Store) IngestsBetween(ctx context.Context, from, to time.Time, connections []string) ([]Ingest, error) {
	scond, sargs := EvidenceScope{Connections: connections}.cond("i")
	q := `SELECT i.connection_id, i.sync_id, i.at, i.grants_added, i.grants_removed, i.resources_added, i.resources_removed, i.stale_accounts
		FROM inv_ingests i WHERE ((i.at > ? AND i.at <= ?) OR i.at = (SELECT MAX(j.at) FROM inv_ingests j
			WHERE j.connection_id = i.connection_id AND j.at <= ?))` + scond + ` ORDER BY i.at, i.connection_id, i.sync_id`
	args := append([]any{ms(from), ms(to), ms(from)}, sargs...)
	rs, err := s.read.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("ingested syncs: %w", err)
	}
	var out []Ingest
	for rs.Next() {
		var in Ingest
		var at int64
		var stale string
		if err := rs.Scan(&in.ConnectionID, &in.SyncID, &at, &in.GrantsAdded, &in.GrantsRemoved, &in.ResourcesAdded, &in.ResourcesRemoved, &stale); err != nil {
			rs.Close()
			return nil, fmt.Errorf("ingested syncs: %w", err)
		}
		in.At = fromMS(at)
		if stale != "" {
			in.StaleAccounts = strings.Split(stale, ",")
		}
		out = append(out, in)
	}
	if err := closeRows(rs); err != nil {
		return nil, fmt.Errorf("ingested syncs: %w", err)
	}
	return out, nil
}

// OrgNode is an account or organizational unit, any interval of it, for resolving a
// scope's OUs to the accounts below them.
type OrgNode struct {
	ConnectionID string
	Type, ID     string
	DisplayName  string
	ParentID     string
}

// OrgNodes lists every account and organizational unit the inventory ever held (the
// latest interval of each).
func (s *Store) OrgNodes(ctx context.Context) ([]OrgNode, error) {
	rs, err := s.read.query(ctx, `SELECT connection_id, type, id, display_name, parent_id FROM inv_resources
		WHERE type IN ('account', 'organizational_unit') ORDER BY connection_id, type, id, first_seen`)
	if err != nil {
		return nil, fmt.Errorf("organization: %w", err)
	}
	var out []OrgNode
	for rs.Next() {
		var n OrgNode
		if err := rs.Scan(&n.ConnectionID, &n.Type, &n.ID, &n.DisplayName, &n.ParentID); err != nil {
			rs.Close()
			return nil, fmt.Errorf("organization: %w", err)
		}
		if k := len(out) - 1; k >= 0 && out[k].ConnectionID == n.ConnectionID && out[k].Type == n.Type && out[k].ID == n.ID {
			out[k] = n // a later interval of the same node
			continue
		}
		out = append(out, n)
	}
	if err := closeRows(rs); err != nil {
		return nil, fmt.Errorf("organization: %w", err)
	}
	return out, nil
}

// AccessRequestsInPeriod lists, oldest first, the requests made in [from, to] and those
// whose lease was granted before to and had not ended by from (access held during the
// period, requested earlier).
func (s *Store) AccessRequestsInPeriod(ctx context.Context, from, to time.Time) ([]AccessRequest, error) {
	rs, err := s.read.query(ctx, "SELECT "+accessRequestCols+` FROM access_requests r
		WHERE (r.created_at >= ? AND r.created_at <= ?) OR EXISTS (SELECT 1 FROM leases l WHERE l.request_id = r.id
			AND l.starts_at IS NOT NULL AND l.starts_at <= ? AND (l.ended_at IS NULL OR l.ended_at >= ?))
		ORDER BY r.created_at, r.id`, ms(from), ms(to), ms(to), ms(from))
	if err != nil {
		return nil, fmt.Errorf("requests of the period: %w", err)
	}
	var out []AccessRequest
	for rs.Next() {
		r, err := scanAccessRequest(rs)
		if err != nil {
			rs.Close()
			return nil, fmt.Errorf("requests of the period: %w", err)
		}
		out = append(out, r)
	}
	if err := closeRows(rs); err != nil {
		return nil, fmt.Errorf("requests of the period: %w", err)
	}
	return out, nil
}

// ReviewCampaignsInPeriod lists, oldest first, the campaigns started by to and not
// closed before from (drafts are not reviews yet).
func (s *Store) ReviewCampaignsInPeriod(ctx context.Context, from, to time.Time) ([]ReviewCampaign, error) {
	rs, err := s.read.query(ctx, "SELECT "+reviewCampaignColumns+` FROM review_campaigns
		WHERE started_at IS NOT NULL AND started_at <= ? AND (closed_at IS NULL OR closed_at >= ?) ORDER BY started_at, id`, ms(to), ms(from))
	if err != nil {
		return nil, fmt.Errorf("campaigns of the period: %w", err)
	}
	var out []ReviewCampaign
	for rs.Next() {
		c, err := scanReviewCampaign(rs)
		if err != nil {
			rs.Close()
			return nil, fmt.Errorf("campaigns of the period: %w", err)
		}
		out = append(out, *c)
	}
	if err := closeRows(rs); err != nil {
		return nil, fmt.Errorf("campaigns of the period: %w", err)
	}
	return out, nil
}

// IngestedConnectionIDs lists the connections (and imported applications) that have an
// inventory: at least one ingested sync.
func (s *Store) IngestedConnectionIDs(ctx context.Context) ([]string, error) {
	rs, err := s.read.query(ctx, "SELECT DISTINCT connection_id FROM inv_ingests ORDER BY connection_id")
	if err != nil {
		return nil, fmt.Errorf("ingested connections: %w", err)
	}
	var out []string
	for rs.Next() {
		var id string
		if err := rs.Scan(&id); err != nil {
			rs.Close()
			return nil, fmt.Errorf("ingested connections: %w", err)
		}
		out = append(out, id)
	}
	if err := closeRows(rs); err != nil {
		return nil, fmt.Errorf("ingested connections: %w", err)
	}
	return out, nil
}
