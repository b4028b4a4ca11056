package review

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/store"
)

// The due date and reminders, run periodically by the worker (worker.go). Both are plain
// functions of the store and the clock, safe to run on several replicas at once: each
// change happens in a transaction that first locks the campaign and checks again that it
// is still due.
//
// At the due date, the items of an active campaign nobody decided follow the campaign's
// undecided policy: keep or revoke (decided by "gatehouse", with the reason saying so; a
// revoke starts its remediation like a reviewer's), or escalate: the items go to the
// fallback reviewers (the admins when the campaign names none) and the due date moves 7
// days, once; what is still undecided at the second due date stays pending for an admin or
// auditor, and its history says so. Reminders go to every reviewer with items waiting,
// every ReminderEvery after the start, and once more DueSoon before the due date.

// dueBatch is how many items one due-date transaction decides.
const dueBatch = 500

// escalation is how far an escalation moves the due date.
const escalation = 7 * 24 * time.Hour

// activeCampaigns lists the active campaigns.
func (s *Service) activeCampaigns(ctx context.Context) ([]store.ReviewCampaign, error) {
	var out []store.ReviewCampaign
	p := store.Page{Size: store.MaxPageSize}
	for {
		page, next, err := s.st.ListReviewCampaigns(ctx, store.ReviewCampaignFilter{State: string(CampaignActive)}, p)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if next == "" {
			return out, nil
		}
		p.Token = next
	}
}

// HandleDue applies the undecided policy of every active campaign past its due date.
func (s *Service) HandleDue(ctx context.Context) error {
	camps, err := s.activeCampaigns(ctx)
	if err != nil {
		return err
	}
	var errs []string
	for _, c := range camps {
		if c.DueHandledAt != nil || s.cfg.Now().Before(c.DueAt) {
			continue
		}
		if err := s.handleDue(ctx, c.ID); err != nil {
			// One campaign's failure does not hold up the others; the next run retries it.
			s.log.Error("due date of a campaign", zap.String("campaign", c.ID), zap.Error(err))
			errs = append(errs, fmt.Sprintf("campaign %s: %v", c.ID, err))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("review due dates: %s", strings.Join(errs, "; "))
	}
	return nil
}

// handleDue handles one campaign's due date, in batches of items.
func (s *Service) handleDue(ctx context.Context, id string) error {
	for {
		done, err := s.dueBatchTx(ctx, id)
		if err != nil || done {
			return err
		}
	}
}

// dueBatchTx handles up to dueBatch undecided items; done when none is left (and the
// campaign is marked handled, or escalated with its new due date).
func (s *Service) dueBatchTx(ctx context.Context, id string) (bool, error) {
	done := false
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		row, err := tx.ReviewCampaign(ctx, id)
		if err != nil {
			return err
		}
		now := s.cfg.Now().UTC()
		if row.State != string(CampaignActive) || row.DueHandledAt != nil || now.Before(row.DueAt) {
			done = true
			return nil
		}
		camp, err := fromRow(row)
		if err != nil {
			return err
		}
		policy := camp.Undecided
		if policy == UndecidedEscalate && row.EscalatedAt != nil {
			policy = "" // escalated once already: leave them pending
		}
		items, err := s.undecided(ctx, tx, id, policy)
		if err != nil {
			return err
		}
		if len(items) == 0 {
			return s.finishDueTx(ctx, tx, row, camp, policy, now)
		}
		var ids []string
		pendingFor := map[string]int{}
		for i := range items {
			it := &items[i]
			switch policy {
			case UndecidedKeep, UndecidedRevoke:
				if err := s.autoDecideTx(ctx, tx, it, policy, now); err != nil {
					return err
				}
			case UndecidedEscalate:
				to, err := s.escalateTx(ctx, tx, camp, it, now)
				if err != nil {
					return err
				}
				for _, e := range to {
					pendingFor[e]++
				}
			default:
				if err := tx.AppendReviewItemEvent(ctx, &store.ReviewItemEvent{CampaignID: id, ItemID: it.ID, Kind: "due_passed", Actor: SystemActor,
					At: now, Detail: "still undecided at the due date after the escalation: left pending for an admin or auditor to decide or reassign"}); err != nil {
					return err
				}
				it.UpdatedAt = now
				if err := tx.UpdateReviewItem(ctx, it); err != nil {
					return err
				}
			}
			ids = append(ids, it.ID)
		}
		if len(pendingFor) > 0 {
			if err := s.notifyPendingTx(ctx, tx, camp, "review_escalated", pendingFor, SystemActor, now,
				"items nobody decided by the due date were escalated to you"); err != nil {
				return err
			}
		}
		what := policy
		if what == "" {
			what = "left pending"
		}
		_, err = tx.AppendAudit(ctx, SystemActor, "review.due", "campaign:"+id, map[string]any{"undecided": camp.Undecided, "applied": what, "items": ids}, "")
		return err
	})
	return done, err
}

// undecided reads the next batch of items the due date still has to handle: the pending
// items, but for an escalation (or after it) those that already have its event (they stay
// pending, for someone else), so that the batches, and a run resumed after a failure, move on.
func (s *Service) undecided(ctx context.Context, tx *store.Tx, id, policy string) ([]store.ReviewItem, error) {
	f := store.ReviewItemFilter{CampaignID: id, States: []string{string(ItemPending)}}
	switch policy {
	case UndecidedEscalate:
		f.WithoutEvent = "escalated"
	case "":
		f.WithoutEvent = "due_passed"
	}
	items, _, err := tx.ListReviewItems(ctx, f, store.Page{Size: dueBatch})
	return items, err
}

// finishDueTx marks the due date handled, or, after an escalation, moves it once.
func (s *Service) finishDueTx(ctx context.Context, tx *store.Tx, row *store.ReviewCampaign, camp *Campaign, policy string, now time.Time) error {
	row.UpdatedAt = now
	if policy == UndecidedEscalate {
		row.EscalatedAt = &now
		row.DueAt = row.DueAt.Add(escalation)
		_, err := tx.AppendAudit(ctx, SystemActor, "review.escalate", "campaign:"+row.ID, map[string]any{"new_due": row.DueAt}, "")
		if err != nil {
			return err
		}
		return tx.UpdateReviewCampaign(ctx, row)
	}
	row.DueHandledAt = &now
	return tx.UpdateReviewCampaign(ctx, row)
}

// autoDecideTx decides an item as the campaign's undecided policy says.
func (s *Service) autoDecideTx(ctx context.Context, tx *store.Tx, row *store.ReviewItem, decision string, now time.Time) error {
	reason := "due date passed; campaign says " + decision
	row.Decision, row.Reason, row.DecidedBy, row.DecidedAt, row.UpdatedAt = decision, reason, SystemActor, &now, now
	row.State = string(ItemKept)
	if decision == DecisionRevoke {
		row.State = string(ItemRevocationPending)
	}
	if err := tx.ClearCurrentReviewers(ctx, row.CampaignID, row.ID); err != nil {
		return err
	}
	if err := tx.UpdateReviewItem(ctx, row); err != nil {
		return err
	}
	if err := tx.AppendReviewItemEvent(ctx, &store.ReviewItemEvent{CampaignID: row.CampaignID, ItemID: row.ID, Kind: "auto_decided",
		Actor: SystemActor, At: now, Detail: reason, Decision: decision, Step: row.Step}); err != nil {
		return err
	}
	if decision != DecisionRevoke {
		return nil
	}
	item, err := toItem(row)
	if err != nil {
		return err
	}
	if err := s.startRemediationTx(ctx, tx, item); err != nil {
		return err
	}
	row.State = string(item.State)
	return nil
}

// escalateTx gives an item to the fallback reviewers (never its own person); it returns them.
func (s *Service) escalateTx(ctx context.Context, tx *store.Tx, camp *Campaign, row *store.ReviewItem, now time.Time) ([]string, error) {
	fb := camp.Reviewers.Fallback
	if len(fb) == 0 {
		a, err := s.st.UsersWithRole(ctx, auth.RoleAdmin)
		if err != nil {
			return nil, err
		}
		fb = normEmails(a)
	}
	fb = slices.DeleteFunc(slices.Clone(fb), func(e string) bool { return e == row.Identity })
	steps, err := itemSteps(row)
	if err != nil {
		return nil, err
	}
	for len(steps) <= row.Step {
		steps = append(steps, nil)
	}
	from := strings.Join(steps[row.Step], ", ")
	// The fallback decides the item for good: the remaining steps are theirs too.
	steps = append(steps[:row.Step], fb)
	b, _ := json.Marshal(steps)
	row.Steps, row.Reviewer, row.UpdatedAt = string(b), firstOf(fb), now
	if err := tx.UpdateReviewItem(ctx, row); err != nil {
		return nil, err
	}
	if err := tx.SetCurrentReviewers(ctx, row.CampaignID, row.ID, row.Step, fb); err != nil {
		return nil, err
	}
	detail := fmt.Sprintf("nobody decided by the due date: escalated from %s to %s; new due date %s", firstNonEmpty(from, "nobody"),
		firstNonEmpty(strings.Join(fb, ", "), "nobody (no admin other than the item's person: an auditor must reassign it)"),
		camp.Due.Add(escalation).Format(time.RFC3339))
	return fb, tx.AppendReviewItemEvent(ctx, &store.ReviewItemEvent{CampaignID: row.CampaignID, ItemID: row.ID, Kind: "escalated",
		Actor: SystemActor, At: now, Detail: detail, Step: row.Step})
}

// SendReminders reminds every reviewer with items waiting in an active campaign: every
// ReminderEvery since the start (or the last reminder), and once DueSoon before the due date
// (review_due_soon).
func (s *Service) SendReminders(ctx context.Context) error {
	camps, err := s.activeCampaigns(ctx)
	if err != nil {
		return err
	}
	var errs []string
	for _, c := range camps {
		if kind := s.reminderDue(&c, s.cfg.Now()); kind == "" {
			continue
		}
		if err := s.remind(ctx, c.ID); err != nil {
			errs = append(errs, fmt.Sprintf("campaign %s: %v", c.ID, err))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("review reminders: %s", strings.Join(errs, "; "))
	}
	return nil
}

// reminderDue is the reminder a campaign is owed now: review_due_soon once within DueSoon
// of the due date, review_reminder every ReminderEvery, "" when none.
func (s *Service) reminderDue(c *store.ReviewCampaign, now time.Time) string {
	if c.StartedAt == nil || !now.Before(c.DueAt) {
		return ""
	}
	last := *c.StartedAt
	if c.RemindedAt != nil {
		last = *c.RemindedAt
	}
	soon := c.DueAt.Add(-s.cfg.DueSoon)
	if !now.Before(soon) && last.Before(soon) {
		return "review_due_soon"
	}
	if now.Sub(last) >= s.cfg.ReminderEvery {
		return "review_reminder"
	}
	return ""
}

// remind sends one campaign's reminder, with the campaign locked and checked again.
func (s *Service) remind(ctx context.Context, id string) error {
	return s.st.InTx(ctx, func(tx *store.Tx) error {
		row, err := tx.ReviewCampaign(ctx, id)
		if err != nil {
			return err
		}
		now := s.cfg.Now().UTC()
		kind := ""
		if row.State == string(CampaignActive) {
			kind = s.reminderDue(row, now)
		}
		if kind == "" {
			return nil // another replica sent it
		}
		counts, err := s.st.ReviewCampaignReviewerCounts(ctx, id)
		if err != nil {
			return err
		}
		pending := map[string]int{}
		for _, c := range counts {
			if c.Pending > 0 {
				pending[c.Email] = c.Pending
			}
		}
		camp, err := fromRow(row)
		if err != nil {
			return err
		}
		detail := "items are waiting for your decision"
		if kind == "review_due_soon" {
			detail = "the campaign is due " + camp.Due.Format(time.RFC3339) + ": decide the items waiting for you"
		}
		if err := s.notifyPendingTx(ctx, tx, camp, kind, pending, SystemActor, now, detail); err != nil {
			return err
		}
		row.RemindedAt, row.UpdatedAt = &now, now
		return tx.UpdateReviewCampaign(ctx, row)
	})
}
