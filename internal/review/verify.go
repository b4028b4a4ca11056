package review

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/internal/store"
)

// Verification: AWS is the truth for access, so an item is remediated only when a sync no
// longer shows its access, whatever Gatehouse's own job reported. After each ingestion the
// server calls AfterIngest: items waiting for verification (revocation_pending, task_open)
// whose access the sync no longer shows become remediated with that sync's id, and any
// item of an active campaign whose access disappeared is marked "access gone". Only the
// accounts the sync actually read count: a stale account's inventory is the last one read,
// kept, and proves nothing about today.

// verifyBatch is how many items one verification transaction writes.
const verifyBatch = 500

// AfterIngest verifies remediation against a newly ingested sync: a revoked item whose
// access the sync no longer shows is remediated (only for accounts the sync read), and any
// item whose access disappeared is marked access gone. Called by the server after each
// ingest.
func (s *Service) AfterIngest(ctx context.Context, connectionID, syncID string) error {
	gone, err := s.st.ReviewItemsGoneIn(ctx, connectionID, syncID)
	if err != nil {
		return err
	}
	leased, err := s.st.ReviewLeaseItems(ctx, connectionID, syncID)
	if err != nil {
		return err
	}
	// Access through a lease is gone when the lease ended (AWS confirmed the revoke) before
	// the sync read AWS, and the sync no longer shows the grant held directly (standing access
	// beside the lease keeps it).
	readAt, err := s.ingestTime(ctx, connectionID, syncID)
	if err != nil {
		return err
	}
	for _, it := range leased {
		if it.Held {
			continue
		}
		l, err := s.st.GetLease(ctx, strings.TrimPrefix(it.Via, ViaLeasePrefix))
		switch {
		case errors.Is(err, store.ErrNotFound):
			gone = append(gone, it)
		case err != nil:
			return err
		case (l.State == store.LeaseEnded || l.State == store.LeaseFailed) && (l.EndedAt == nil || !l.EndedAt.After(readAt)):
			gone = append(gone, it)
		}
	}
	if len(gone) == 0 {
		return nil
	}
	verified, marked := 0, 0
	for start := 0; start < len(gone); start += verifyBatch {
		batch := gone[start:min(start+verifyBatch, len(gone))]
		err := s.st.InTx(ctx, func(tx *store.Tx) error {
			at := s.clock()
			if last, lastAt, ok, err := tx.LatestIngest(ctx, connectionID); err != nil {
				return err
			} else if ok && last == syncID {
				at = lastAt // when the sync read AWS: the access was gone then
			}
			byCampaign := map[string][]string{}
			goneBy := map[string]int{}
			var order []string
			for _, g := range batch {
				if _, seen := goneBy[g.CampaignID]; !seen {
					order, goneBy[g.CampaignID] = append(order, g.CampaignID), 0
				}
				if err := tx.SetReviewItemAccessGone(ctx, g.CampaignID, g.ItemID, syncID, at); err != nil {
					return err
				}
				if g.State != string(ItemRevocationPending) && g.State != string(ItemTaskOpen) {
					if !g.AlreadyGone {
						goneBy[g.CampaignID]++
						marked++
						if err := tx.AppendReviewRemediationEvent(ctx, g.CampaignID, g.ItemID, "access_gone", jobActor, at,
							"sync "+syncID+" no longer shows this access"); err != nil {
							return err
						}
					}
					continue
				}
				var rem Remediation
				if g.Remediation != "" {
					if err := json.Unmarshal([]byte(g.Remediation), &rem); err != nil {
						return fmt.Errorf("the remediation of item %s: %w", g.ItemID, err)
					}
				}
				rem.State, rem.VerifiedSync, rem.VerifiedAt = RemediationVerified, syncID, &at
				b, err := json.Marshal(rem)
				if err != nil {
					return err
				}
				if err := tx.SetReviewItemRemediation(ctx, g.CampaignID, g.ItemID, string(ItemRemediated), string(b), s.clock()); err != nil {
					return err
				}
				if err := tx.AppendReviewRemediationEvent(ctx, g.CampaignID, g.ItemID, "verified", jobActor, at,
					"remediated: sync "+syncID+" no longer shows this access"); err != nil {
					return err
				}
				byCampaign[g.CampaignID] = append(byCampaign[g.CampaignID], g.ItemID)
				verified++
			}
			for _, c := range order {
				if len(byCampaign[c]) == 0 && goneBy[c] == 0 {
					continue
				}
				if _, err := tx.AppendAudit(ctx, jobActor, "review.verify", "campaign:"+c, map[string]any{
					"connection_id": connectionID, "sync_id": syncID, "remediated": byCampaign[c], "access_gone": goneBy[c],
					"at": at.Format(time.RFC3339)}, ""); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("verify access reviews against sync %s: %w", syncID, err)
		}
	}
	s.log.Info("access reviews verified against a sync", zap.String("connection", connectionID), zap.String("sync", syncID),
		zap.Int("remediated", verified), zap.Int("access_gone", marked))
	return nil
}

// ingestTime is when the ingested sync syncID read AWS (now, when it is not the connection's
// latest ingestion).
func (s *Service) ingestTime(ctx context.Context, connectionID, syncID string) (time.Time, error) {
	at := s.clock()
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		last, lastAt, ok, err := tx.LatestIngest(ctx, connectionID)
		if err == nil && ok && last == syncID {
			at = lastAt
		}
		return err
	})
	return at, err
}
