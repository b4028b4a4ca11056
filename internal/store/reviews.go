package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Access reviews (internal/review owns what the fields mean): campaigns, their frozen
// items, who may decide each item (review_item_reviewers: every step's reviewers, current
// for the step waiting), and each item's history. JSON columns (scope, reviewers, context,
// steps, remediation) are stored as the review package marshals them.

// ReviewCampaign is one campaign row.
type ReviewCampaign struct {
	ID          string
	Name        string
	Description string
	State       string
	// Scope and Reviewers are JSON; ScopeKey identifies the scope (campaigns with the same
	// key are compared with each other).
	Scope        string
	ScopeKey     string
	Reviewers    string
	DueAt        time.Time
	Undecided    string
	ConnectionID string
	// SnapshotSyncs is the JSON object connection id -> sync id the items were frozen from.
	SnapshotSyncs string
	PreviousID    string
	CreatedBy     string
	CreatedAt     time.Time
	StartedAt     *time.Time
	ClosedAt      *time.Time
	ClosedBy      string
	// DueHandledAt is when the undecided items were handled at the due date (nil before);
	// RemindedAt when reviewers were last reminded.
	DueHandledAt *time.Time
	RemindedAt   *time.Time
	// EscalatedAt is when undecided items were escalated (the due date then moved once).
	EscalatedAt *time.Time
	UpdatedAt   time.Time
}

const reviewCampaignColumns = `id, name, description, state, scope, scope_key, reviewers, due_at, undecided, connection_id,
	snapshot_syncs, previous_id, created_by, created_at, started_at, closed_at, closed_by, due_handled_at, reminded_at, updated_at,
	escalated_at`

func scanReviewCampaign(r interface{ Scan(...any) error }) (*ReviewCampaign, error) {
	var c ReviewCampaign
	var due, created, updated int64
	var started, closed, handled, reminded, escalated sql.NullInt64
	if err := r.Scan(&c.ID, &c.Name, &c.Description, &c.State, &c.Scope, &c.ScopeKey, &c.Reviewers, &due, &c.Undecided,
		&c.ConnectionID, &c.SnapshotSyncs, &c.PreviousID, &c.CreatedBy, &created, &started, &closed, &c.ClosedBy,
		&handled, &reminded, &updated, &escalated); err != nil {
		return nil, err
	}
	c.DueAt, c.CreatedAt, c.UpdatedAt = fromMS(due), fromMS(created), fromMS(updated)
	c.StartedAt, c.ClosedAt, c.DueHandledAt, c.RemindedAt = msPtr(started), msPtr(closed), msPtr(handled), msPtr(reminded)
	c.EscalatedAt = msPtr(escalated)
	return &c, nil
}

// InsertReviewCampaign inserts a campaign.
func (t *Tx) InsertReviewCampaign(ctx context.Context, c *ReviewCampaign) error {
	if c.ID == "" || c.Name == "" || c.State == "" {
		return errors.New("insert review campaign: id, name and state are required")
	}
	if c.UpdatedAt.IsZero() {
		c.UpdatedAt = c.CreatedAt
	}
	if c.SnapshotSyncs == "" {
		c.SnapshotSyncs = "{}"
	}
	_, err := t.q.exec(ctx, `INSERT INTO review_campaigns (`+reviewCampaignColumns+`) VALUES (`+placeholders(21)+`)`,
		c.ID, c.Name, c.Description, c.State, c.Scope, c.ScopeKey, c.Reviewers, ms(c.DueAt), c.Undecided, c.ConnectionID,
		c.SnapshotSyncs, c.PreviousID, c.CreatedBy, ms(c.CreatedAt), msOrNil(c.StartedAt), msOrNil(c.ClosedAt), c.ClosedBy,
		msOrNil(c.DueHandledAt), msOrNil(c.RemindedAt), ms(c.UpdatedAt), msOrNil(c.EscalatedAt))
	if err != nil {
		return fmt.Errorf("insert review campaign %s: %w", c.ID, err)
	}
	return nil
}

// UpdateReviewCampaign writes every field of the campaign but its id, creator and creation
// time (ErrNotFound when there is no such campaign).
func (t *Tx) UpdateReviewCampaign(ctx context.Context, c *ReviewCampaign) error {
	n, err := t.q.exec(ctx, `UPDATE review_campaigns SET name = ?, description = ?, state = ?, scope = ?, scope_key = ?,
		reviewers = ?, due_at = ?, undecided = ?, connection_id = ?, snapshot_syncs = ?, previous_id = ?, started_at = ?,
		closed_at = ?, closed_by = ?, due_handled_at = ?, reminded_at = ?, updated_at = ?, escalated_at = ? WHERE id = ?`,
		c.Name, c.Description, c.State, c.Scope, c.ScopeKey, c.Reviewers, ms(c.DueAt), c.Undecided, c.ConnectionID,
		c.SnapshotSyncs, c.PreviousID, msOrNil(c.StartedAt), msOrNil(c.ClosedAt), c.ClosedBy, msOrNil(c.DueHandledAt),
		msOrNil(c.RemindedAt), ms(c.UpdatedAt), msOrNil(c.EscalatedAt), c.ID)
	if err != nil {
		return fmt.Errorf("update review campaign %s: %w", c.ID, err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// ReviewCampaign reads a campaign in the transaction, locking it on PostgreSQL, or
// ErrNotFound.
func (t *Tx) ReviewCampaign(ctx context.Context, id string) (*ReviewCampaign, error) {
	return getReviewCampaign(ctx, t.q, id, t.forUpdate())
}

// GetReviewCampaign reads a campaign, or ErrNotFound.
func (s *Store) GetReviewCampaign(ctx context.Context, id string) (*ReviewCampaign, error) {
	return getReviewCampaign(ctx, s.read, id, "")
}

func getReviewCampaign(ctx context.Context, q querier, id, lock string) (*ReviewCampaign, error) {
	c, err := scanReviewCampaign(q.queryRow(ctx, "SELECT "+reviewCampaignColumns+" FROM review_campaigns WHERE id = ?"+lock, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read review campaign %s: %w", id, err)
	}
	return c, nil
}

// ReviewCampaignFilter selects campaigns; zero fields match everything.
type ReviewCampaignFilter struct {
	State string
	// Q is a case-insensitive substring of the name.
	Q string
	// Reviewer keeps the campaigns in which the email reviews at least one item (any step).
	Reviewer string
	// States keeps campaigns in any of these states (with State, both apply).
	States []string
}

// ListReviewCampaigns lists campaigns newest first (created_at, id), keyset paged.
func (s *Store) ListReviewCampaigns(ctx context.Context, f ReviewCampaignFilter, p Page) ([]ReviewCampaign, string, error) {
	var conds []string
	var args []any
	if f.State != "" {
		conds, args = append(conds, "state = ?"), append(args, f.State)
	}
	if len(f.States) > 0 {
		conds = append(conds, "state IN ("+placeholders(len(f.States))+")")
		for _, st := range f.States {
			args = append(args, st)
		}
	}
	if f.Q != "" {
		conds, args = append(conds, `lower(name) LIKE ? ESCAPE '\'`), append(args, likePattern(f.Q))
	}
	if f.Reviewer != "" {
		conds = append(conds, "id IN (SELECT r.campaign_id FROM review_item_reviewers r WHERE r.email = ?)")
		args = append(args, strings.ToLower(f.Reviewer))
	}
	if p.Token != "" {
		var key struct {
			At int64
			ID string
		}
		if err := decodeToken(p.Token, &key); err != nil {
			return nil, "", err
		}
		conds = append(conds, "(created_at < ? OR (created_at = ? AND id < ?))")
		args = append(args, key.At, key.At, key.ID)
	}
	q := "SELECT " + reviewCampaignColumns + " FROM review_campaigns"
	if len(conds) > 0 {
		q += " WHERE " + strings.Join(conds, " AND ")
	}
	n := p.size()
	q += fmt.Sprintf(" ORDER BY created_at DESC, id DESC LIMIT %d", n+1)
	rs, err := s.read.query(ctx, q, args...)
	if err != nil {
		return nil, "", fmt.Errorf("list review campaigns: %w", err)
	}
	var out []ReviewCampaign
	for rs.Next() {
		c, err := scanReviewCampaign(rs)
		if err != nil {
			rs.Close()
			return nil, "", err
		}
		out = append(out, *c)
	}
	if err := closeRows(rs); err != nil {
		return nil, "", fmt.Errorf("list review campaigns: %w", err)
	}
	next := ""
	if len(out) > n {
		out = out[:n]
		next = encodeToken(struct {
			At int64
			ID string
		}{ms(out[n-1].CreatedAt), out[n-1].ID})
	}
	return out, next, nil
}

// PreviousReviewCampaign is the id of the last campaign with scopeKey that started before
// at, other than exceptID ("" when none).
func (t *Tx) PreviousReviewCampaign(ctx context.Context, scopeKey, exceptID string, at time.Time) (string, error) {
	var id string
	err := t.q.queryRow(ctx, `SELECT id FROM review_campaigns WHERE scope_key = ? AND started_at IS NOT NULL AND started_at <= ?
		AND id <> ? ORDER BY started_at DESC, id DESC LIMIT 1`, scopeKey, ms(at), exceptID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("previous review campaign: %w", err)
	}
	return id, nil
}

// ReviewItem is one frozen item row.
type ReviewItem struct {
	CampaignID      string
	ID              string
	Seq             int
	ConnectionID    string
	GrantID         string
	EntitlementID   string
	EntitlementName string
	ResourceType    string
	ResourceID      string
	ResourceName    string
	AccountID       string
	AccountName     string
	PrincipalType   string
	PrincipalID     string
	PrincipalName   string
	Identity        string
	Via             string
	ViaName         string
	Since           time.Time
	AdminLevel      bool
	// Context, Steps and Remediation are JSON ("" remediation: none yet).
	Context        string
	Steps          string
	Step           int
	Reviewer       string
	Decision       string
	Reason         string
	DecidedBy      string
	DecidedAt      *time.Time
	State          string
	Plan           string
	Remediation    string
	AccessGoneAt   *time.Time
	AccessGoneSync string
	UpdatedAt      time.Time
	// DueAt is the campaign's due date (lists across campaigns fill it).
	DueAt time.Time
}

const reviewItemColumns = `i.campaign_id, i.id, i.seq, i.connection_id, i.grant_id, i.entitlement_id, i.entitlement_name,
	i.resource_type, i.resource_id, i.resource_name, i.account_id, i.account_name, i.principal_type, i.principal_id,
	i.principal_name, i.identity, i.via, i.via_name, i.since, i.admin_level, i.context, i.steps, i.step, i.reviewer,
	i.decision, i.reason, i.decided_by, i.decided_at, i.state, i.plan, i.remediation, i.access_gone_at, i.access_gone_sync,
	i.updated_at`

const reviewItemInsertColumns = 34

func scanReviewItem(r interface{ Scan(...any) error }, extra ...any) (*ReviewItem, error) {
	var it ReviewItem
	var since, updated int64
	var decided, gone sql.NullInt64
	dest := append([]any{&it.CampaignID, &it.ID, &it.Seq, &it.ConnectionID, &it.GrantID, &it.EntitlementID, &it.EntitlementName,
		&it.ResourceType, &it.ResourceID, &it.ResourceName, &it.AccountID, &it.AccountName, &it.PrincipalType, &it.PrincipalID,
		&it.PrincipalName, &it.Identity, &it.Via, &it.ViaName, &since, &it.AdminLevel, &it.Context, &it.Steps, &it.Step,
		&it.Reviewer, &it.Decision, &it.Reason, &it.DecidedBy, &decided, &it.State, &it.Plan, &it.Remediation, &gone,
		&it.AccessGoneSync, &updated}, extra...)
	if err := r.Scan(dest...); err != nil {
		return nil, err
	}
	it.Since, it.UpdatedAt = fromMS(since), fromMS(updated)
	it.DecidedAt, it.AccessGoneAt = msPtr(decided), msPtr(gone)
	return &it, nil
}

func reviewItemArgs(it *ReviewItem) []any {
	return []any{it.CampaignID, it.ID, it.Seq, it.ConnectionID, it.GrantID, it.EntitlementID, it.EntitlementName,
		it.ResourceType, it.ResourceID, it.ResourceName, it.AccountID, it.AccountName, it.PrincipalType, it.PrincipalID,
		it.PrincipalName, it.Identity, it.Via, it.ViaName, ms(it.Since), it.AdminLevel, it.Context, it.Steps, it.Step,
		it.Reviewer, it.Decision, it.Reason, it.DecidedBy, msOrNil(it.DecidedAt), it.State, it.Plan, it.Remediation,
		msOrNil(it.AccessGoneAt), it.AccessGoneSync, ms(it.UpdatedAt)}
}

// reviewBatch is how many rows one multi-row INSERT carries (34 columns x 200 rows stays
// far below both databases' limits on bound parameters).
const reviewBatch = 200

// InsertReviewItems inserts frozen items, many rows per statement.
func (t *Tx) InsertReviewItems(ctx context.Context, items []ReviewItem) error {
	cols := strings.ReplaceAll(reviewItemColumns, "i.", "")
	for start := 0; start < len(items); start += reviewBatch {
		part := items[start:min(start+reviewBatch, len(items))]
		args := make([]any, 0, len(part)*reviewItemInsertColumns)
		for i := range part {
			if part[i].Context == "" {
				part[i].Context = "{}"
			}
			if part[i].Steps == "" {
				part[i].Steps = "[]"
			}
			args = append(args, reviewItemArgs(&part[i])...)
		}
		if _, err := t.q.exec(ctx, "INSERT INTO review_items ("+cols+") VALUES "+rowsPlaceholders(len(part), reviewItemInsertColumns), args...); err != nil {
			return fmt.Errorf("insert review items: %w", err)
		}
	}
	return nil
}

// UpdateReviewItem writes the mutable fields of an item: its context, steps, step,
// reviewer, decision, reason, decider and time, state, plan, remediation, access gone and
// update time (ErrNotFound when there is no such item).
func (t *Tx) UpdateReviewItem(ctx context.Context, it *ReviewItem) error {
	n, err := t.q.exec(ctx, `UPDATE review_items SET context = ?, steps = ?, step = ?, reviewer = ?, decision = ?, reason = ?,
		decided_by = ?, decided_at = ?, state = ?, plan = ?, remediation = ?, access_gone_at = ?, access_gone_sync = ?,
		updated_at = ? WHERE campaign_id = ? AND id = ?`,
		it.Context, it.Steps, it.Step, it.Reviewer, it.Decision, it.Reason, it.DecidedBy, msOrNil(it.DecidedAt), it.State,
		it.Plan, it.Remediation, msOrNil(it.AccessGoneAt), it.AccessGoneSync, ms(it.UpdatedAt), it.CampaignID, it.ID)
	if err != nil {
		return fmt.Errorf("update review item %s/%s: %w", it.CampaignID, it.ID, err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// ReviewItem reads an item in the transaction, locking it on PostgreSQL, or ErrNotFound.
func (t *Tx) ReviewItem(ctx context.Context, campaignID, id string) (*ReviewItem, error) {
	return getReviewItem(ctx, t.q, campaignID, id, t.forUpdate())
}

// GetReviewItem reads an item, or ErrNotFound.
func (s *Store) GetReviewItem(ctx context.Context, campaignID, id string) (*ReviewItem, error) {
	return getReviewItem(ctx, s.read, campaignID, id, "")
}

func getReviewItem(ctx context.Context, q querier, campaignID, id, lock string) (*ReviewItem, error) {
	it, err := scanReviewItem(q.queryRow(ctx, "SELECT "+reviewItemColumns+" FROM review_items i WHERE i.campaign_id = ? AND i.id = ?"+lock, campaignID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read review item %s/%s: %w", campaignID, id, err)
	}
	return it, nil
}

// ReviewItemFilter selects items. CampaignID "" means every campaign (the inbox: then
// Reviewer with Current is required, and only active campaigns' items are listed, the
// earliest due first); otherwise items are in seq order.
type ReviewItemFilter struct {
	CampaignID string
	// Reviewer keeps the items the email reviews: now when Current, at any step otherwise.
	Reviewer string
	Current  bool
	// States keeps items in any of these states.
	States       []string
	AccountID    string
	Via          string // "direct", "group", "lease", or ""
	AdminOnly    bool
	Decision     string // "", keep, revoke, or "none" for undecided
	Identity     string
	ResourceType string
	// Q is a case-insensitive substring of the identity, principal, entitlement, account
	// or resource name.
	Q string
	// IDs keeps these items only.
	IDs []string
	// WithoutEvent keeps the items whose history has no event of this kind.
	WithoutEvent string
}

// ListReviewItems lists items, keyset paged.
func (s *Store) ListReviewItems(ctx context.Context, f ReviewItemFilter, p Page) ([]ReviewItem, string, error) {
	return listReviewItems(ctx, s.read, f, p)
}

// ListReviewItems is ListReviewItems in the transaction (bulk decisions read what they
// change in it).
func (t *Tx) ListReviewItems(ctx context.Context, f ReviewItemFilter, p Page) ([]ReviewItem, string, error) {
	return listReviewItems(ctx, t.q, f, p)
}

func listReviewItems(ctx context.Context, qr querier, f ReviewItemFilter, p Page) ([]ReviewItem, string, error) {
	inbox := f.CampaignID == ""
	if inbox && (f.Reviewer == "" || !f.Current) {
		return nil, "", errors.New("list review items: a campaign, or a reviewer's current items, is required")
	}
	var conds []string
	var args []any
	add := func(c string, v ...any) { conds = append(conds, c); args = append(args, v...) }
	from := " FROM review_items i JOIN review_campaigns c ON c.id = i.campaign_id"
	if inbox {
		// Driven by the reviewer index: the inbox reads the reviewer's rows only.
		from = ` FROM review_item_reviewers r JOIN review_items i ON i.campaign_id = r.campaign_id AND i.id = r.item_id
			JOIN review_campaigns c ON c.id = i.campaign_id`
		add("r.email = ? AND r.current = ?", strings.ToLower(f.Reviewer), true)
		add("c.state = ?", "active")
	} else {
		add("i.campaign_id = ?", f.CampaignID)
		if f.Reviewer != "" {
			q := "EXISTS (SELECT 1 FROM review_item_reviewers r WHERE r.campaign_id = i.campaign_id AND r.item_id = i.id AND r.email = ?"
			if f.Current {
				q += " AND r.current = ?"
				add(q+")", strings.ToLower(f.Reviewer), true)
			} else {
				add(q+")", strings.ToLower(f.Reviewer))
			}
		}
	}
	if len(f.States) > 0 {
		vals := make([]any, len(f.States))
		for i, st := range f.States {
			vals[i] = st
		}
		add("i.state IN ("+placeholders(len(vals))+")", vals...)
	}
	if len(f.IDs) > 0 {
		vals := make([]any, len(f.IDs))
		for i, id := range f.IDs {
			vals[i] = id
		}
		add("i.id IN ("+placeholders(len(vals))+")", vals...)
	}
	if f.AccountID != "" {
		add("i.account_id = ?", f.AccountID)
	}
	if f.WithoutEvent != "" {
		add("NOT EXISTS (SELECT 1 FROM review_item_events ev WHERE ev.campaign_id = i.campaign_id AND ev.item_id = i.id AND ev.kind = ?)", f.WithoutEvent)
	}
	switch f.Via {
	case "":
	case "direct":
		add("i.via = ?", "direct")
	case "lease":
		add("i.via LIKE ?", "lease:%")
	case "group":
		add("i.via <> ? AND i.via NOT LIKE ?", "direct", "lease:%")
	default:
		add("i.via = ?", f.Via)
	}
	if f.AdminOnly {
		add("i.admin_level = ?", true)
	}
	switch f.Decision {
	case "":
	case "none":
		add("i.decision = ?", "")
	default:
		add("i.decision = ?", f.Decision)
	}
	if f.Identity != "" {
		add("i.identity = ?", strings.ToLower(f.Identity))
	}
	if f.ResourceType != "" {
		add("i.resource_type = ?", f.ResourceType)
	}
	if f.Q != "" {
		pat := likePattern(f.Q)
		add(`(lower(i.identity) LIKE ? ESCAPE '\' OR lower(i.principal_name) LIKE ? ESCAPE '\' OR lower(i.entitlement_name) LIKE ? ESCAPE '\'
			OR lower(i.account_name) LIKE ? ESCAPE '\' OR lower(i.resource_name) LIKE ? ESCAPE '\' OR i.account_id LIKE ? ESCAPE '\')`,
			pat, pat, pat, pat, pat, pat)
	}
	type key struct {
		Due  int64
		Camp string
		Seq  int
	}
	if p.Token != "" {
		var k key
		if err := decodeToken(p.Token, &k); err != nil {
			return nil, "", err
		}
		if inbox {
			add("(c.due_at > ? OR (c.due_at = ? AND (i.campaign_id > ? OR (i.campaign_id = ? AND i.seq > ?))))", k.Due, k.Due, k.Camp, k.Camp, k.Seq)
		} else {
			add("i.seq > ?", k.Seq)
		}
	}
	order := " ORDER BY i.seq"
	if inbox {
		order = " ORDER BY c.due_at, i.campaign_id, i.seq"
	}
	n := p.size()
	q := "SELECT " + reviewItemColumns + ", c.due_at" + from + " WHERE " + strings.Join(conds, " AND ") + order + fmt.Sprintf(" LIMIT %d", n+1)
	rs, err := qr.query(ctx, q, args...)
	if err != nil {
		return nil, "", fmt.Errorf("list review items: %w", err)
	}
	var out []ReviewItem
	for rs.Next() {
		var due int64
		it, err := scanReviewItem(rs, &due)
		if err != nil {
			rs.Close()
			return nil, "", err
		}
		it.DueAt = fromMS(due)
		out = append(out, *it)
	}
	if err := closeRows(rs); err != nil {
		return nil, "", fmt.Errorf("list review items: %w", err)
	}
	next := ""
	if len(out) > n {
		out = out[:n]
		last := out[n-1]
		next = encodeToken(key{ms(last.DueAt), last.CampaignID, last.Seq})
	}
	return out, next, nil
}

// ReviewItemReviewer says that Email may decide (Current) or reviews at Step an item.
type ReviewItemReviewer struct {
	CampaignID string
	ItemID     string
	Email      string
	Step       int
	Current    bool
}

// InsertReviewItemReviewers inserts reviewer rows, many per statement.
func (t *Tx) InsertReviewItemReviewers(ctx context.Context, rows []ReviewItemReviewer) error {
	for start := 0; start < len(rows); start += 4 * reviewBatch {
		part := rows[start:min(start+4*reviewBatch, len(rows))]
		args := make([]any, 0, len(part)*5)
		for _, r := range part {
			args = append(args, r.CampaignID, r.ItemID, strings.ToLower(r.Email), r.Step, r.Current)
		}
		if _, err := t.q.exec(ctx, "INSERT INTO review_item_reviewers (campaign_id, item_id, email, step, current) VALUES "+
			rowsPlaceholders(len(part), 5), args...); err != nil {
			return fmt.Errorf("insert review item reviewers: %w", err)
		}
	}
	return nil
}

// SetCurrentReviewers makes emails the current reviewers of the item at step: nobody else
// is current any more, and the earlier rows stay (who reviewed at earlier steps, or before
// a delegation, still sees the item).
func (t *Tx) SetCurrentReviewers(ctx context.Context, campaignID, itemID string, step int, emails []string) error {
	if _, err := t.q.exec(ctx, "UPDATE review_item_reviewers SET current = ? WHERE campaign_id = ? AND item_id = ? AND current = ?",
		false, campaignID, itemID, true); err != nil {
		return fmt.Errorf("set reviewers of %s/%s: %w", campaignID, itemID, err)
	}
	for _, e := range emails {
		if _, err := t.q.exec(ctx, `INSERT INTO review_item_reviewers (campaign_id, item_id, email, step, current) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (campaign_id, item_id, email, step) DO UPDATE SET current = excluded.current`,
			campaignID, itemID, strings.ToLower(e), step, true); err != nil {
			return fmt.Errorf("set reviewers of %s/%s: %w", campaignID, itemID, err)
		}
	}
	return nil
}

// ClearCurrentReviewers leaves the item with no current reviewer (it is decided).
func (t *Tx) ClearCurrentReviewers(ctx context.Context, campaignID, itemID string) error {
	if _, err := t.q.exec(ctx, "UPDATE review_item_reviewers SET current = ? WHERE campaign_id = ? AND item_id = ? AND current = ?",
		false, campaignID, itemID, true); err != nil {
		return fmt.Errorf("clear reviewers of %s/%s: %w", campaignID, itemID, err)
	}
	return nil
}

// ReviewItemReviewers lists the reviewer rows of an item, by step and email.
func (s *Store) ReviewItemReviewers(ctx context.Context, campaignID, itemID string) ([]ReviewItemReviewer, error) {
	return reviewItemReviewers(ctx, s.read, campaignID, itemID)
}

// ReviewItemReviewers is ReviewItemReviewers in the transaction.
func (t *Tx) ReviewItemReviewers(ctx context.Context, campaignID, itemID string) ([]ReviewItemReviewer, error) {
	return reviewItemReviewers(ctx, t.q, campaignID, itemID)
}

func reviewItemReviewers(ctx context.Context, q querier, campaignID, itemID string) ([]ReviewItemReviewer, error) {
	rs, err := q.query(ctx, `SELECT email, step, current FROM review_item_reviewers WHERE campaign_id = ? AND item_id = ?
		ORDER BY step, email`, campaignID, itemID)
	if err != nil {
		return nil, fmt.Errorf("reviewers of %s/%s: %w", campaignID, itemID, err)
	}
	var out []ReviewItemReviewer
	for rs.Next() {
		r := ReviewItemReviewer{CampaignID: campaignID, ItemID: itemID}
		if err := rs.Scan(&r.Email, &r.Step, &r.Current); err != nil {
			rs.Close()
			return nil, err
		}
		out = append(out, r)
	}
	return out, closeRows(rs)
}

// ReviewItemEvent is one entry of an item's history.
type ReviewItemEvent struct {
	CampaignID string
	ItemID     string
	Seq        int
	Kind       string
	Actor      string
	At         time.Time
	Detail     string
	Decision   string
	Step       int
}

// AppendReviewItemEvent appends an event to the item's history (Seq is the next one).
func (t *Tx) AppendReviewItemEvent(ctx context.Context, ev *ReviewItemEvent) error {
	var seq int64
	if err := t.q.queryRow(ctx, "SELECT COALESCE(MAX(seq), 0) FROM review_item_events WHERE campaign_id = ? AND item_id = ?",
		ev.CampaignID, ev.ItemID).Scan(&seq); err != nil {
		return fmt.Errorf("history of %s/%s: %w", ev.CampaignID, ev.ItemID, err)
	}
	ev.Seq = int(seq) + 1
	return t.InsertReviewItemEvents(ctx, []ReviewItemEvent{*ev})
}

// InsertReviewItemEvents inserts events with their Seq set (the freeze's first events).
func (t *Tx) InsertReviewItemEvents(ctx context.Context, evs []ReviewItemEvent) error {
	for start := 0; start < len(evs); start += reviewBatch {
		part := evs[start:min(start+reviewBatch, len(evs))]
		args := make([]any, 0, len(part)*9)
		for _, e := range part {
			args = append(args, e.CampaignID, e.ItemID, e.Seq, e.Kind, e.Actor, ms(e.At), e.Detail, e.Decision, e.Step)
		}
		if _, err := t.q.exec(ctx, "INSERT INTO review_item_events (campaign_id, item_id, seq, kind, actor, at, detail, decision, step) VALUES "+
			rowsPlaceholders(len(part), 9), args...); err != nil {
			return fmt.Errorf("insert review item events: %w", err)
		}
	}
	return nil
}

// ReviewItemEvents lists an item's history, oldest first.
func (s *Store) ReviewItemEvents(ctx context.Context, campaignID, itemID string) ([]ReviewItemEvent, error) {
	rs, err := s.read.query(ctx, `SELECT seq, kind, actor, at, detail, decision, step FROM review_item_events
		WHERE campaign_id = ? AND item_id = ? ORDER BY seq`, campaignID, itemID)
	if err != nil {
		return nil, fmt.Errorf("history of %s/%s: %w", campaignID, itemID, err)
	}
	var out []ReviewItemEvent
	for rs.Next() {
		e := ReviewItemEvent{CampaignID: campaignID, ItemID: itemID}
		var at int64
		if err := rs.Scan(&e.Seq, &e.Kind, &e.Actor, &at, &e.Detail, &e.Decision, &e.Step); err != nil {
			rs.Close()
			return nil, err
		}
		e.At = fromMS(at)
		out = append(out, e)
	}
	return out, closeRows(rs)
}

// ReviewCounts are a campaign's items by state, and how many pending or kept items have
// lost their access meanwhile.
type ReviewCounts struct {
	ByState    map[string]int
	Total      int
	AccessGone int
}

// ReviewCampaignCounts counts a campaign's items.
func (s *Store) ReviewCampaignCounts(ctx context.Context, campaignID string) (*ReviewCounts, error) {
	rs, err := s.read.query(ctx, `SELECT state, COUNT(*), SUM(CASE WHEN access_gone_at IS NOT NULL AND state IN ('pending', 'kept') THEN 1 ELSE 0 END)
		FROM review_items WHERE campaign_id = ? GROUP BY state`, campaignID)
	if err != nil {
		return nil, fmt.Errorf("progress of %s: %w", campaignID, err)
	}
	out := &ReviewCounts{ByState: map[string]int{}}
	for rs.Next() {
		var st string
		var n, gone int64
		if err := rs.Scan(&st, &n, &gone); err != nil {
			rs.Close()
			return nil, err
		}
		out.ByState[st] = int(n)
		out.Total += int(n)
		out.AccessGone += int(gone)
	}
	if err := closeRows(rs); err != nil {
		return nil, fmt.Errorf("progress of %s: %w", campaignID, err)
	}
	return out, nil
}

// ReviewerCount is one reviewer's share of a campaign: the items they review at any step,
// and those waiting for them now (their current items: only pending items have current
// reviewers).
type ReviewerCount struct {
	Email   string
	Total   int
	Pending int
}

// ReviewCampaignReviewerCounts counts each reviewer's items of a campaign, by email.
func (s *Store) ReviewCampaignReviewerCounts(ctx context.Context, campaignID string) ([]ReviewerCount, error) {
	// Rows per email, then less the rows of an email at a later step of an item it already
	// reviews at an earlier one (a sequence with the same person twice), so that each item
	// counts once: COUNT(DISTINCT item_id) would sort every row. Only a pending item has
	// current reviewers (a decision clears them), so the reviewer rows alone answer.
	rs, err := s.read.query(ctx, `SELECT email, COUNT(*), SUM(CASE WHEN current = ? THEN 1 ELSE 0 END)
		FROM review_item_reviewers WHERE campaign_id = ? GROUP BY email ORDER BY email`, true, campaignID)
	if err != nil {
		return nil, fmt.Errorf("reviewers of %s: %w", campaignID, err)
	}
	var out []ReviewerCount
	at := map[string]int{}
	for rs.Next() {
		var c ReviewerCount
		if err := rs.Scan(&c.Email, &c.Total, &c.Pending); err != nil {
			rs.Close()
			return nil, err
		}
		at[c.Email] = len(out)
		out = append(out, c)
	}
	if err := closeRows(rs); err != nil {
		return nil, fmt.Errorf("reviewers of %s: %w", campaignID, err)
	}
	rs, err = s.read.query(ctx, `SELECT r.email, COUNT(*) FROM review_item_reviewers r WHERE r.campaign_id = ? AND r.step > 0
		AND EXISTS (SELECT 1 FROM review_item_reviewers p WHERE p.campaign_id = r.campaign_id AND p.item_id = r.item_id
			AND p.email = r.email AND p.step < r.step) GROUP BY r.email`, campaignID)
	if err != nil {
		return nil, fmt.Errorf("reviewers of %s: %w", campaignID, err)
	}
	for rs.Next() {
		var email string
		var dup int
		if err := rs.Scan(&email, &dup); err != nil {
			rs.Close()
			return nil, err
		}
		if i, ok := at[email]; ok {
			out[i].Total -= dup
		}
	}
	return out, closeRows(rs)
}

// ReviewerHasPending says whether email has an item waiting for them in an active campaign.
func (s *Store) ReviewerHasPending(ctx context.Context, email string) (bool, error) {
	var n int64
	err := s.read.queryRow(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM review_item_reviewers r
		JOIN review_items i ON i.campaign_id = r.campaign_id AND i.id = r.item_id
		JOIN review_campaigns c ON c.id = r.campaign_id
		WHERE r.email = ? AND r.current = ? AND i.state = 'pending' AND c.state = 'active' LIMIT 1) x`,
		strings.ToLower(email), true).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("pending reviews of %s: %w", email, err)
	}
	return n > 0, nil
}

// ReviewInventory is what a campaign's freeze reads of one connection's inventory, in the
// freeze's transaction (so that an ingestion cannot interleave): the current resources of
// the types asked for (with profiles), the current grants, and the account reads.
type ReviewInventory struct {
	Resources []Resource
	Grants    []Grant
	// Reads are the accounts' read states by account id.
	Reads map[string]AccountRead
}

// ReviewInventory reads connectionID's current inventory for a freeze: resources of types
// (with profiles), and the grants whose principal is one of principalTypes (of accounts
// when accounts is not empty; grants on no account are then left out).
func (t *Tx) ReviewInventory(ctx context.Context, connectionID string, types, principalTypes, accounts []string) (*ReviewInventory, error) {
	out := &ReviewInventory{Reads: map[string]AccountRead{}}
	if len(types) > 0 {
		args := []any{connectionID}
		for _, ty := range types {
			args = append(args, ty)
		}
		rs, err := t.q.query(ctx, `SELECT type, id, display_name, account_id, scope, parent_type, parent_id, email, profile, first_seen
			FROM inv_resources WHERE connection_id = ? AND removed_at IS NULL AND type IN (`+placeholders(len(types))+`) ORDER BY type, id`, args...)
		if err != nil {
			return nil, fmt.Errorf("read the inventory of %s: %w", connectionID, err)
		}
		for rs.Next() {
			r := Resource{ConnectionID: connectionID}
			var profile string
			var first int64
			if err := rs.Scan(&r.Type, &r.ID, &r.DisplayName, &r.AccountID, &r.Scope, &r.ParentType, &r.ParentID, &r.Email, &profile, &first); err != nil {
				rs.Close()
				return nil, err
			}
			r.Profile, r.FirstSeen = json.RawMessage(profile), fromMS(first)
			out.Resources = append(out.Resources, r)
		}
		if err := closeRows(rs); err != nil {
			return nil, fmt.Errorf("read the inventory of %s: %w", connectionID, err)
		}
	}
	args := []any{connectionID}
	for _, p := range principalTypes {
		args = append(args, p)
	}
	q := `SELECT g.id, g.entitlement_id, COALESCE(e.display_name, ''), g.resource_type, g.resource_id, g.principal_type,
		g.principal_id, g.account_id, g.scope, g.via, g.direct, g.first_sync, g.first_seen
		FROM inv_grants g LEFT JOIN inv_entitlements e ON e.connection_id = g.connection_id AND e.id = g.entitlement_id AND e.removed_at IS NULL
		WHERE g.connection_id = ? AND g.removed_at IS NULL AND g.principal_type IN (` + placeholders(len(principalTypes)) + `)`
	if len(accounts) > 0 {
		q += " AND g.account_id IN (" + placeholders(len(accounts)) + ")"
		for _, a := range accounts {
			args = append(args, a)
		}
	}
	rs, err := t.q.query(ctx, q+" ORDER BY g.id", args...)
	if err != nil {
		return nil, fmt.Errorf("read the grants of %s: %w", connectionID, err)
	}
	for rs.Next() {
		g := Grant{ConnectionID: connectionID}
		var via string
		var first int64
		if err := rs.Scan(&g.ID, &g.EntitlementID, &g.EntitlementName, &g.ResourceType, &g.ResourceID, &g.PrincipalType,
			&g.PrincipalID, &g.AccountID, &g.Scope, &via, &g.Direct, &g.FirstSync, &first); err != nil {
			rs.Close()
			return nil, err
		}
		g.Via, g.FirstSeen = splitVia(via), fromMS(first)
		out.Grants = append(out.Grants, g)
	}
	if err := closeRows(rs); err != nil {
		return nil, fmt.Errorf("read the grants of %s: %w", connectionID, err)
	}
	rs, err = t.q.query(ctx, `SELECT account_id, last_read_at, last_read_sync, stale, stale_since, stale_reason, stale_fix
		FROM inv_account_reads WHERE connection_id = ?`, connectionID)
	if err != nil {
		return nil, fmt.Errorf("read the account reads of %s: %w", connectionID, err)
	}
	for rs.Next() {
		r := AccountRead{ConnectionID: connectionID}
		var last, since sql.NullInt64
		if err := rs.Scan(&r.AccountID, &last, &r.LastReadSync, &r.Stale, &since, &r.StaleReason, &r.StaleFix); err != nil {
			rs.Close()
			return nil, err
		}
		r.LastReadAt, r.StaleSince = msPtr(last), msPtr(since)
		out.Reads[r.AccountID] = r
	}
	if err := closeRows(rs); err != nil {
		return nil, fmt.Errorf("read the account reads of %s: %w", connectionID, err)
	}
	return out, nil
}

// ReviewResources reads the current resources of typ with these ids (with profiles).
func (t *Tx) ReviewResources(ctx context.Context, connectionID, typ string, ids []string) ([]Resource, error) {
	var out []Resource
	for start := 0; start < len(ids); start += batchRows {
		part := ids[start:min(start+batchRows, len(ids))]
		args := []any{connectionID, typ}
		for _, id := range part {
			args = append(args, id)
		}
		rs, err := t.q.query(ctx, `SELECT id, display_name, account_id, scope, email, profile FROM inv_resources
			WHERE connection_id = ? AND type = ? AND removed_at IS NULL AND id IN (`+placeholders(len(part))+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("read %s resources: %w", typ, err)
		}
		for rs.Next() {
			r := Resource{ConnectionID: connectionID, Type: typ}
			var profile string
			if err := rs.Scan(&r.ID, &r.DisplayName, &r.AccountID, &r.Scope, &r.Email, &profile); err != nil {
				rs.Close()
				return nil, err
			}
			r.Profile = json.RawMessage(profile)
			out = append(out, r)
		}
		if err := closeRows(rs); err != nil {
			return nil, fmt.Errorf("read %s resources: %w", typ, err)
		}
	}
	return out, nil
}

// GroupMemberEmails lists the emails of the current members of the Identity Center group
// groupID (by its membership grants), sorted.
func (t *Tx) GroupMemberEmails(ctx context.Context, connectionID, groupID string) ([]string, error) {
	rs, err := t.q.query(ctx, `SELECT DISTINCT p.email FROM inv_grants g JOIN inv_resources p ON p.connection_id = g.connection_id
		AND p.type = g.principal_type AND p.id = g.principal_id AND p.removed_at IS NULL
		WHERE g.connection_id = ? AND g.entitlement_id = ? AND g.removed_at IS NULL AND p.email <> '' ORDER BY p.email`,
		connectionID, "sso_group:"+groupID+":member")
	if err != nil {
		return nil, fmt.Errorf("members of group %s: %w", groupID, err)
	}
	var out []string
	for rs.Next() {
		var e string
		if err := rs.Scan(&e); err != nil {
			rs.Close()
			return nil, err
		}
		out = append(out, strings.ToLower(e))
	}
	return out, closeRows(rs)
}

// IngestedConnections lists the ids of the connections with an ingested inventory, sorted.
func (t *Tx) IngestedConnections(ctx context.Context) ([]string, error) {
	rs, err := t.q.query(ctx, "SELECT DISTINCT connection_id FROM inv_ingests ORDER BY connection_id")
	if err != nil {
		return nil, fmt.Errorf("ingested connections: %w", err)
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
	return out, closeRows(rs)
}
