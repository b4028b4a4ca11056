package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// This file is what access reviews' remediation needs of the review tables (issue 12):
// reading a decided item for its remediation job, writing the remediation's progress and
// the item's history, finding the items a newly ingested sync verifies, and recording
// exports. The campaigns, items and decisions themselves are reviews.go.

// ReviewRemediationRow is a review item as its remediation sees it: the frozen grant, the
// decision, the state and the remediation (JSON, internal/review.Remediation).
type ReviewRemediationRow struct {
	CampaignID, CampaignName, CampaignState string
	ItemID                                  string
	ConnectionID, GrantID, EntitlementID    string
	EntitlementName                         string
	ResourceType, ResourceID, ResourceName  string
	AccountID, AccountName                  string
	PrincipalType, PrincipalID              string
	PrincipalName, Identity                 string
	Via, ViaName                            string
	Decision, Reason, DecidedBy             string
	State                                   string
	Remediation                             string
	AccessGoneAt                            *time.Time
	AccessGoneSync                          string
}

const reviewRemediationCols = `i.campaign_id, c.name, c.state, i.id, i.connection_id, i.grant_id, i.entitlement_id, i.entitlement_name,
	i.resource_type, i.resource_id, i.resource_name, i.account_id, i.account_name, i.principal_type, i.principal_id,
	i.principal_name, i.identity, i.via, i.via_name, i.decision, i.reason, i.decided_by, i.state, i.remediation,
	i.access_gone_at, i.access_gone_sync`

func scanReviewRemediation(r row) (*ReviewRemediationRow, error) {
	var x ReviewRemediationRow
	var gone sql.NullInt64
	err := r.Scan(&x.CampaignID, &x.CampaignName, &x.CampaignState, &x.ItemID, &x.ConnectionID, &x.GrantID, &x.EntitlementID,
		&x.EntitlementName, &x.ResourceType, &x.ResourceID, &x.ResourceName, &x.AccountID, &x.AccountName, &x.PrincipalType,
		&x.PrincipalID, &x.PrincipalName, &x.Identity, &x.Via, &x.ViaName, &x.Decision, &x.Reason, &x.DecidedBy, &x.State,
		&x.Remediation, &gone, &x.AccessGoneSync)
	if err != nil {
		return nil, err
	}
	x.AccessGoneAt = msPtr(gone)
	return &x, nil
}

// ReviewItemForRemediation reads an item of a campaign in tx (locked on PostgreSQL until
// the transaction ends), or ErrNotFound.
func (t *Tx) ReviewItemForRemediation(ctx context.Context, campaignID, itemID string) (*ReviewRemediationRow, error) {
	lock := ""
	if t.store.dialect == Postgres {
		lock = " FOR UPDATE OF i"
	}
	x, err := scanReviewRemediation(t.q.queryRow(ctx, "SELECT "+reviewRemediationCols+` FROM review_items i
		JOIN review_campaigns c ON c.id = i.campaign_id WHERE i.campaign_id = ? AND i.id = ?`+lock, campaignID, itemID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read review item %s/%s: %w", campaignID, itemID, err)
	}
	return x, nil
}

// SetReviewItemRemediation writes an item's state and remediation (JSON).
func (t *Tx) SetReviewItemRemediation(ctx context.Context, campaignID, itemID, state, remediation string, at time.Time) error {
	n, err := t.q.exec(ctx, `UPDATE review_items SET state = ?, remediation = ?, updated_at = ? WHERE campaign_id = ? AND id = ?`,
		state, remediation, ms(at), campaignID, itemID)
	if err != nil {
		return fmt.Errorf("update review item %s/%s: %w", campaignID, itemID, err)
	}
	if n == 0 {
		return fmt.Errorf("update review item %s/%s: %w", campaignID, itemID, ErrNotFound)
	}
	return nil
}

// SetReviewItemAccessGone records that the sync syncID (at) no longer showed the item's
// access; an item already marked keeps its first mark.
func (t *Tx) SetReviewItemAccessGone(ctx context.Context, campaignID, itemID, syncID string, at time.Time) error {
	_, err := t.q.exec(ctx, `UPDATE review_items SET access_gone_at = ?, access_gone_sync = ?, updated_at = ?
		WHERE campaign_id = ? AND id = ? AND access_gone_at IS NULL`, ms(at), syncID, ms(at), campaignID, itemID)
	if err != nil {
		return fmt.Errorf("mark review item %s/%s access gone: %w", campaignID, itemID, err)
	}
	return nil
}

// AppendReviewRemediationEvent appends one entry to an item's history (the next seq).
func (t *Tx) AppendReviewRemediationEvent(ctx context.Context, campaignID, itemID, kind, actor string, at time.Time, detail string) error {
	var seq int64
	if err := t.q.queryRow(ctx, `SELECT COALESCE(MAX(seq), 0) FROM review_item_events WHERE campaign_id = ? AND item_id = ?`,
		campaignID, itemID).Scan(&seq); err != nil {
		return fmt.Errorf("history of review item %s/%s: %w", campaignID, itemID, err)
	}
	_, err := t.q.exec(ctx, `INSERT INTO review_item_events (campaign_id, item_id, seq, kind, actor, at, detail) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		campaignID, itemID, seq+1, kind, actor, ms(at), detail)
	if err != nil {
		return fmt.Errorf("append to the history of review item %s/%s: %w", campaignID, itemID, err)
	}
	return nil
}

// ReviewGoneItem is an item whose access a sync no longer shows.
type ReviewGoneItem struct {
	CampaignID, ItemID string
	State              string
	Remediation        string
	Via                string
	AlreadyGone        bool
	// Held says, for an item held through a lease, that the sync still shows the grant held
	// directly (the lease's access, or standing access beside it).
	Held bool
}

// ReviewItemsGoneIn lists the items of connectionID whose access the ingested sync syncID
// no longer shows, among those it can tell about: items waiting for verification
// (revocation_pending, task_open) in any campaign, and items of active campaigns not yet
// marked gone. An item counts only when the sync read its account (not stale): a stale
// account's kept inventory never verifies anything. An item held directly is gone when no
// open grant of its id is held directly; one held through a group when no open grant of its
// id comes through that group. Items held through a lease are not listed (ReviewLeaseItems).
func (s *Store) ReviewItemsGoneIn(ctx context.Context, connectionID, syncID string) ([]ReviewGoneItem, error) {
	pos, nl := "instr", "char(10)"
	if s.dialect == Postgres {
		pos, nl = "strpos", "chr(10)"
	}
	q := `SELECT i.campaign_id, i.id, i.state, i.remediation, i.via, i.access_gone_at IS NOT NULL FROM review_items i
		JOIN review_campaigns c ON c.id = i.campaign_id
		LEFT JOIN inv_account_reads ar ON ar.connection_id = i.connection_id AND ar.account_id = i.account_id
		WHERE i.connection_id = ?
		AND (i.state IN ('revocation_pending', 'task_open') OR (i.access_gone_at IS NULL AND c.state = 'active'))
		AND (i.account_id = '' OR (ar.last_read_sync = ? AND ar.stale = FALSE))
		AND i.via NOT LIKE 'lease:%'
		AND NOT EXISTS (SELECT 1 FROM inv_grants g WHERE g.connection_id = i.connection_id AND g.id = i.grant_id
			AND g.removed_at IS NULL AND ((i.via = 'direct' AND g.direct = TRUE)
			OR (i.via <> 'direct' AND ` + pos + `(` + nl + ` || g.via || ` + nl + `, ` + nl + ` || i.via || ` + nl + `) > 0)))
		ORDER BY i.campaign_id, i.seq`
	return s.reviewGoneItems(ctx, q, connectionID, syncID, false)
}

// ReviewLeaseItems lists the items of connectionID held through a lease that the ingested
// sync syncID can tell about (as ReviewItemsGoneIn), with whether the sync still shows their
// grant held directly (Held): the caller checks their leases.
func (s *Store) ReviewLeaseItems(ctx context.Context, connectionID, syncID string) ([]ReviewGoneItem, error) {
	q := `SELECT i.campaign_id, i.id, i.state, i.remediation, i.via, i.access_gone_at IS NOT NULL,
		EXISTS (SELECT 1 FROM inv_grants g WHERE g.connection_id = i.connection_id AND g.id = i.grant_id
			AND g.removed_at IS NULL AND g.direct = TRUE) FROM review_items i
		JOIN review_campaigns c ON c.id = i.campaign_id
		LEFT JOIN inv_account_reads ar ON ar.connection_id = i.connection_id AND ar.account_id = i.account_id
		WHERE i.connection_id = ?
		AND (i.state IN ('revocation_pending', 'task_open') OR (i.access_gone_at IS NULL AND c.state = 'active'))
		AND (i.account_id = '' OR (ar.last_read_sync = ? AND ar.stale = FALSE))
		AND i.via LIKE 'lease:%'
		ORDER BY i.campaign_id, i.seq`
	return s.reviewGoneItems(ctx, q, connectionID, syncID, true)
}

func (s *Store) reviewGoneItems(ctx context.Context, q, connectionID, syncID string, held bool) ([]ReviewGoneItem, error) {
	rs, err := s.read.query(ctx, q, connectionID, syncID)
	if err != nil {
		return nil, fmt.Errorf("review items to verify: %w", err)
	}
	var out []ReviewGoneItem
	for rs.Next() {
		var x ReviewGoneItem
		dest := []any{&x.CampaignID, &x.ItemID, &x.State, &x.Remediation, &x.Via, &x.AlreadyGone}
		if held {
			dest = append(dest, &x.Held)
		}
		if err := rs.Scan(dest...); err != nil {
			rs.Close()
			return nil, err
		}
		out = append(out, x)
	}
	if err := closeRows(rs); err != nil {
		return nil, fmt.Errorf("review items to verify: %w", err)
	}
	return out, nil
}

// InsertReviewExport records an export of a campaign with its hash.
func (t *Tx) InsertReviewExport(ctx context.Context, id, campaignID, format, sha256 string, size int64, by string, at time.Time) error {
	_, err := t.q.exec(ctx, `INSERT INTO review_exports (id, campaign_id, format, sha256, size, exported_by, exported_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, id, campaignID, format, sha256, size, by, ms(at))
	if err != nil {
		return fmt.Errorf("record the export of campaign %s: %w", campaignID, err)
	}
	return nil
}

// ReviewExport is one recorded export of a campaign.
type ReviewExport struct {
	ID, CampaignID, Format, SHA256 string
	Size                           int64
	ExportedBy                     string
	ExportedAt                     time.Time
}

// ReviewExports lists a campaign's exports, oldest first.
func (s *Store) ReviewExports(ctx context.Context, campaignID string) ([]ReviewExport, error) {
	rs, err := s.read.query(ctx, `SELECT id, campaign_id, format, sha256, size, exported_by, exported_at FROM review_exports
		WHERE campaign_id = ? ORDER BY exported_at, id`, campaignID)
	if err != nil {
		return nil, fmt.Errorf("exports of campaign %s: %w", campaignID, err)
	}
	var out []ReviewExport
	for rs.Next() {
		var e ReviewExport
		var at int64
		if err := rs.Scan(&e.ID, &e.CampaignID, &e.Format, &e.SHA256, &e.Size, &e.ExportedBy, &at); err != nil {
			rs.Close()
			return nil, err
		}
		e.ExportedAt = fromMS(at)
		out = append(out, e)
	}
	return out, closeRows(rs)
}
