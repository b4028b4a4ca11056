package review

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Deciding: a reviewer sees the items they review (at any step) and decides the ones
// waiting for them; nobody decides their own access; keeping admin-level access needs a
// reason. A keep passes a sequence's item to the next step; a revoke ends the review and
// starts the remediation in the same transaction.

// toItem reads an item row.
func toItem(r *store.ReviewItem) (*Item, error) {
	it := &Item{ID: r.ID, CampaignID: r.CampaignID, Seq: r.Seq, ConnectionID: r.ConnectionID, GrantID: r.GrantID,
		EntitlementID: r.EntitlementID, EntitlementName: r.EntitlementName, ResourceType: r.ResourceType, ResourceID: r.ResourceID,
		ResourceName: r.ResourceName, AccountID: r.AccountID, AccountName: r.AccountName, PrincipalType: r.PrincipalType,
		PrincipalID: r.PrincipalID, PrincipalName: r.PrincipalName, Identity: r.Identity, Via: r.Via, ViaName: r.ViaName,
		Since: r.Since, AdminLevel: r.AdminLevel, Step: r.Step, Reviewer: r.Reviewer, Decision: r.Decision, Reason: r.Reason,
		DecidedBy: r.DecidedBy, DecidedAt: r.DecidedAt, State: ItemState(r.State), Plan: r.Plan, AccessGoneAt: r.AccessGoneAt,
		AccessGoneSync: r.AccessGoneSync, UpdatedAt: r.UpdatedAt}
	if r.Context != "" {
		if err := json.Unmarshal([]byte(r.Context), &it.Context); err != nil {
			return nil, fmt.Errorf("item %s: context: %w", r.ID, err)
		}
	}
	it.Application = it.Context.Application
	steps, err := itemSteps(r)
	if err != nil {
		return nil, err
	}
	if r.State == string(ItemPending) && r.Step < len(steps) {
		it.Reviewers = steps[r.Step]
	}
	if r.Remediation != "" {
		it.Remediation = &Remediation{}
		if err := json.Unmarshal([]byte(r.Remediation), it.Remediation); err != nil {
			return nil, fmt.Errorf("item %s: remediation: %w", r.ID, err)
		}
	}
	return it, nil
}

// itemSteps reads the resolved reviewers of every step.
func itemSteps(r *store.ReviewItem) ([][]string, error) {
	var steps [][]string
	if r.Steps != "" {
		if err := json.Unmarshal([]byte(r.Steps), &steps); err != nil {
			return nil, fmt.Errorf("item %s: steps: %w", r.ID, err)
		}
	}
	return steps, nil
}

// itemFilter is the store filter of q.
func itemFilter(campaignID string, q ItemQuery) store.ReviewItemFilter {
	f := store.ReviewItemFilter{CampaignID: campaignID, AccountID: q.AccountID, Via: q.Via, AdminOnly: q.AdminOnly,
		Decision: q.Decision, Identity: q.Identity, ResourceType: q.ResourceType, Q: q.Q, Reviewer: q.Reviewer}
	if q.State != "" {
		f.States = []string{string(q.State)}
	}
	return f
}

// checkQuery refuses what a filter cannot mean.
func checkQuery(q ItemQuery) error {
	switch q.State {
	case "", ItemPending, ItemKept, ItemRevocationPending, ItemRemediated, ItemTaskOpen:
	default:
		return Errorf(CodeInvalid, "state %q is unknown; use pending, kept, revocation_pending, remediated or task_open", q.State)
	}
	switch q.Via {
	case "", "direct", "group", "lease":
	default:
		return Errorf(CodeInvalid, "via %q is unknown; use direct, group or lease", q.Via)
	}
	switch q.Decision {
	case "", DecisionKeep, DecisionRevoke, "none":
	default:
		return Errorf(CodeInvalid, "decision %q is unknown; use keep, revoke or none", q.Decision)
	}
	return nil
}

func (s *Service) toItems(rows []store.ReviewItem) ([]Item, error) {
	out := make([]Item, 0, len(rows))
	for i := range rows {
		it, err := toItem(&rows[i])
		if err != nil {
			return nil, err
		}
		out = append(out, *it)
	}
	return out, nil
}

func pageErr(err error) error {
	if errors.Is(err, store.ErrBadPageToken) {
		return Errorf(CodeInvalid, "the page token is not valid; start again without it")
	}
	return err
}

// Items lists a campaign's items the caller may see: every item for admins and auditors
// (q.Reviewer narrows them to one reviewer's), the items they review otherwise.
func (s *Service) Items(ctx context.Context, c *auth.Caller, campaignID string, q ItemQuery) ([]Item, string, error) {
	if err := checkQuery(q); err != nil {
		return nil, "", err
	}
	if _, err := s.campaign(ctx, c, campaignID); err != nil {
		return nil, "", err
	}
	f := itemFilter(campaignID, q)
	if !c.CanAudit() {
		if q.Reviewer != "" && !strings.EqualFold(q.Reviewer, c.Email) {
			return nil, "", Errorf(CodeForbidden, "only admins and auditors see other reviewers' items; leave reviewer out to see yours")
		}
		f.Reviewer = c.Email
	}
	rows, next, err := s.st.ListReviewItems(ctx, f, q.Page)
	if err != nil {
		return nil, "", pageErr(err)
	}
	items, err := s.toItems(rows)
	return items, next, err
}

// Inbox lists the items waiting for the caller across active campaigns, due first.
func (s *Service) Inbox(ctx context.Context, c *auth.Caller, q ItemQuery) ([]Item, string, error) {
	if err := checkQuery(q); err != nil {
		return nil, "", err
	}
	if q.State != "" && q.State != ItemPending {
		return nil, "", Errorf(CodeInvalid, "the inbox holds pending items only; list a campaign's items to see decided ones")
	}
	f := itemFilter("", q)
	f.Reviewer, f.Current, f.States = c.Email, true, []string{string(ItemPending)}
	rows, next, err := s.st.ListReviewItems(ctx, f, q.Page)
	if err != nil {
		return nil, "", pageErr(err)
	}
	items, err := s.toItems(rows)
	return items, next, err
}

// Item returns one item with its history (admins, auditors, and its reviewers at any step).
func (s *Service) Item(ctx context.Context, c *auth.Caller, campaignID, itemID string) (*Item, error) {
	row, err := s.st.GetReviewItem(ctx, campaignID, itemID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, Errorf(CodeNotFound, "campaign %s has no item %s", campaignID, itemID)
	}
	if err != nil {
		return nil, err
	}
	if !c.CanAudit() {
		revs, err := s.st.ReviewItemReviewers(ctx, campaignID, itemID)
		if err != nil {
			return nil, err
		}
		if !slices.ContainsFunc(revs, func(r store.ReviewItemReviewer) bool { return r.Email == strings.ToLower(c.Email) }) {
			return nil, Errorf(CodeForbidden, "item %s is not yours to review; only its reviewers, admins and auditors see it", itemID)
		}
	}
	it, err := toItem(row)
	if err != nil {
		return nil, err
	}
	evs, err := s.st.ReviewItemEvents(ctx, campaignID, itemID)
	if err != nil {
		return nil, err
	}
	for _, e := range evs {
		it.Events = append(it.Events, ItemEvent{Seq: e.Seq, Kind: e.Kind, By: e.Actor, At: e.At, Detail: e.Detail, Decision: e.Decision, Step: e.Step})
	}
	return it, nil
}

// cleanDecision checks a decision's input.
func cleanDecision(in DecisionInput) (DecisionInput, error) {
	in.Decision = strings.ToLower(strings.TrimSpace(in.Decision))
	in.Reason = strings.TrimSpace(in.Reason)
	if in.Decision != DecisionKeep && in.Decision != DecisionRevoke {
		return in, Errorf(CodeInvalid, "decision is %q; use keep or revoke", in.Decision)
	}
	return in, nil
}

// Decide records the caller's decision on an item (403 when the caller is not its reviewer
// or it is their own access; 409 when it is already decided or the campaign is not active).
// A revoke starts the remediation in the same transaction.
func (s *Service) Decide(ctx context.Context, c *auth.Caller, campaignID, itemID string, in DecisionInput) (*Item, error) {
	in, err := cleanDecision(in)
	if err != nil {
		return nil, err
	}
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		camp, err := s.activeCampaignTx(ctx, tx, campaignID)
		if err != nil {
			return err
		}
		row, err := tx.ReviewItem(ctx, campaignID, itemID)
		if errors.Is(err, store.ErrNotFound) {
			return Errorf(CodeNotFound, "campaign %s has no item %s", campaignID, itemID)
		}
		if err != nil {
			return err
		}
		if err := s.decideTx(ctx, tx, c, camp, row, in, s.cfg.Now().UTC()); err != nil {
			return err
		}
		_, err = tx.AppendAudit(ctx, c.Email, "review.decide", "campaign:"+campaignID+"/item:"+itemID, map[string]any{
			"decision": in.Decision, "reason": in.Reason, "grant_id": row.GrantID, "identity": row.Identity, "via": row.Via,
			"step": row.Step, "state": row.State}, c.RemoteAddr)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.Item(ctx, c, campaignID, itemID)
}

// activeCampaignTx reads (and locks) a campaign that takes decisions.
func (s *Service) activeCampaignTx(ctx context.Context, tx *store.Tx, id string) (*store.ReviewCampaign, error) {
	camp, err := tx.ReviewCampaign(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, Errorf(CodeNotFound, "there is no campaign %s", id)
	}
	if err != nil {
		return nil, err
	}
	if camp.State != string(CampaignActive) {
		return nil, Errorf(CodeConflict, "campaign %s is %s: it takes no decisions", id, camp.State)
	}
	return camp, nil
}

// ownAccess says whether the item is the caller's own access.
func ownAccess(c *auth.Caller, row *store.ReviewItem) bool {
	return row.Identity != "" && strings.EqualFold(row.Identity, strings.TrimSpace(c.Email))
}

// currentReviewers are who may decide the item now.
func currentReviewers(revs []store.ReviewItemReviewer) []string {
	var out []string
	for _, r := range revs {
		if r.Current {
			out = append(out, r.Email)
		}
	}
	return out
}

// mayDecide checks that the caller may decide the item now: not their own access, one of
// its current reviewers, and still pending.
func (s *Service) mayDecide(ctx context.Context, tx *store.Tx, c *auth.Caller, row *store.ReviewItem) error {
	revs, err := tx.ReviewItemReviewers(ctx, row.CampaignID, row.ID)
	if err != nil {
		return err
	}
	cur := currentReviewers(revs)
	if ownAccess(c, row) {
		to := strings.Join(cur, ", ")
		if to == "" {
			to = "an admin or auditor, who reassigns it"
		}
		return Errorf(CodeForbidden, "this is your own access: it goes to %s", to)
	}
	if row.State != string(ItemPending) {
		return Errorf(CodeConflict, "item %s is already decided (%s by %s): it is %s", row.ID, row.Decision, row.DecidedBy, row.State)
	}
	if !slices.Contains(cur, strings.ToLower(strings.TrimSpace(c.Email))) {
		return Errorf(CodeForbidden, "you are not the reviewer of item %s: it waits for %s", row.ID, strings.Join(cur, ", "))
	}
	return nil
}

// decideTx applies the caller's decision to row in tx (with its event; the caller audits).
func (s *Service) decideTx(ctx context.Context, tx *store.Tx, c *auth.Caller, camp *store.ReviewCampaign, row *store.ReviewItem, in DecisionInput, now time.Time) error {
	if err := s.mayDecide(ctx, tx, c, row); err != nil {
		return err
	}
	if in.Decision == DecisionKeep && row.AdminLevel && in.Reason == "" {
		return Errorf(CodeInvalid, "a reason is required to keep admin-level access (%s of %s); say why it is still needed",
			row.EntitlementName, firstNonEmpty(row.Identity, row.PrincipalName))
	}
	by := strings.ToLower(strings.TrimSpace(c.Email))
	step := row.Step
	row.Decision, row.Reason, row.DecidedBy, row.DecidedAt, row.UpdatedAt = in.Decision, in.Reason, by, &now, now
	detail := ""
	switch in.Decision {
	case DecisionKeep:
		steps, err := itemSteps(row)
		if err != nil {
			return err
		}
		if row.Step+1 < len(steps) {
			row.Step++
			row.Reviewer = firstOf(steps[row.Step])
			if err := tx.SetCurrentReviewers(ctx, row.CampaignID, row.ID, row.Step, steps[row.Step]); err != nil {
				return err
			}
			detail = fmt.Sprintf("kept at step %d; goes to step %d: %s", step+1, row.Step+1, strings.Join(steps[row.Step], ", "))
		} else {
			row.State = string(ItemKept)
			if err := tx.ClearCurrentReviewers(ctx, row.CampaignID, row.ID); err != nil {
				return err
			}
		}
	case DecisionRevoke:
		row.State = string(ItemRevocationPending)
		if err := tx.ClearCurrentReviewers(ctx, row.CampaignID, row.ID); err != nil {
			return err
		}
	}
	if err := tx.UpdateReviewItem(ctx, row); err != nil {
		return err
	}
	if detail == "" {
		detail = in.Reason
	} else if in.Reason != "" {
		detail = in.Reason + " (" + detail + ")"
	}
	if err := tx.AppendReviewItemEvent(ctx, &store.ReviewItemEvent{CampaignID: row.CampaignID, ItemID: row.ID, Kind: "decided", Actor: by,
		At: now, Detail: detail, Decision: in.Decision, Step: step}); err != nil {
		return err
	}
	if in.Decision != DecisionRevoke {
		return nil
	}
	// The remediation (remediate.go) starts in the decision's transaction: it writes the
	// item's state (revocation_pending, task_open, or remediated when the access is
	// already gone) and remediation.
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

func firstOf(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

// Roles are the roles reviews give email for /api/v1/me: "reviewer" while they have items
// to decide in an active campaign.
func (s *Service) Roles(ctx context.Context, email string) ([]string, error) {
	ok, err := s.st.ReviewerHasPending(ctx, email)
	if err != nil {
		return nil, err
	}
	if ok {
		return []string{"reviewer"}, nil
	}
	return []string{}, nil
}

// DecideBulk decides every item matching q that the caller may decide, in one
// transaction: items they see but may not decide (not theirs now, their own access,
// already decided, admin-level keep without a reason) are skipped, each with why. Admins
// and auditors' filters match every item; other callers' the items they review.
func (s *Service) DecideBulk(ctx context.Context, c *auth.Caller, campaignID string, q ItemQuery, in DecisionInput) (*BulkResult, error) {
	in, err := cleanDecision(in)
	if err != nil {
		return nil, err
	}
	if err := checkQuery(q); err != nil {
		return nil, err
	}
	if _, err := s.campaign(ctx, c, campaignID); err != nil {
		return nil, err
	}
	f := itemFilter(campaignID, q)
	if !c.CanAudit() {
		if q.Reviewer != "" && !strings.EqualFold(q.Reviewer, c.Email) {
			return nil, Errorf(CodeForbidden, "only admins and auditors filter by another reviewer; leave reviewer out to decide yours")
		}
		f.Reviewer = c.Email
	}
	res := &BulkResult{}
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		camp, err := s.activeCampaignTx(ctx, tx, campaignID)
		if err != nil {
			return err
		}
		var rows []store.ReviewItem
		p := store.Page{Size: store.MaxPageSize}
		for {
			page, next, err := tx.ListReviewItems(ctx, f, p)
			if err != nil {
				return pageErr(err)
			}
			rows = append(rows, page...)
			if next == "" {
				break
			}
			p.Token = next
		}
		now := s.cfg.Now().UTC()
		var decided []string
		for i := range rows {
			err := s.decideTx(ctx, tx, c, camp, &rows[i], in, now)
			var refusal *Error
			if errors.As(err, &refusal) {
				res.Skipped = append(res.Skipped, BulkSkip{ItemID: rows[i].ID, Why: refusal.Detail})
				continue
			}
			if err != nil {
				return err
			}
			decided = append(decided, rows[i].ID)
		}
		res.Decided = len(decided)
		if len(decided) == 0 {
			return nil
		}
		_, err = tx.AppendAudit(ctx, c.Email, "review.decide_bulk", "campaign:"+campaignID, map[string]any{
			"decision": in.Decision, "reason": in.Reason, "filter": bulkFilter(q), "items": decided, "skipped": len(res.Skipped)}, c.RemoteAddr)
		return err
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// bulkFilter is the filter of a bulk decision, for the audit log.
func bulkFilter(q ItemQuery) map[string]any {
	out := map[string]any{}
	for k, v := range map[string]string{"q": q.Q, "state": string(q.State), "reviewer": q.Reviewer, "account_id": q.AccountID,
		"via": q.Via, "decision": q.Decision, "identity": q.Identity, "resource_type": q.ResourceType} {
		if v != "" {
			out[k] = v
		}
	}
	if q.AdminOnly {
		out["admin_only"] = true
	}
	return out
}

// Delegate hands an item the caller reviews now to another person (never the item's
// identity): the item then waits for them only; the caller still sees it.
func (s *Service) Delegate(ctx context.Context, c *auth.Caller, campaignID, itemID, to, reason string) (*Item, error) {
	return s.handOver(ctx, c, campaignID, itemID, to, reason, false)
}

// Reassign gives an item to another reviewer (admins and auditors), whoever it waits for.
func (s *Service) Reassign(ctx context.Context, c *auth.Caller, campaignID, itemID, to, reason string) (*Item, error) {
	if !c.CanAudit() {
		return nil, Errorf(CodeForbidden, "only admins and auditors reassign items; delegate an item you review instead")
	}
	return s.handOver(ctx, c, campaignID, itemID, to, reason, true)
}

// handOver makes to the current reviewer of the item (a delegation by its reviewer, or a
// reassignment by an admin or auditor).
func (s *Service) handOver(ctx context.Context, c *auth.Caller, campaignID, itemID, to, reason string, reassign bool) (*Item, error) {
	to = strings.ToLower(strings.TrimSpace(to))
	if !strings.Contains(to, "@") {
		return nil, Errorf(CodeInvalid, "give the email of the person who reviews the item instead (to: %q is not an email)", to)
	}
	reason = strings.TrimSpace(reason)
	kind, action := "delegated", "review.delegate"
	if reassign {
		kind, action = "reassigned", "review.reassign"
	}
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		if _, err := s.activeCampaignTx(ctx, tx, campaignID); err != nil {
			return err
		}
		row, err := tx.ReviewItem(ctx, campaignID, itemID)
		if errors.Is(err, store.ErrNotFound) {
			return Errorf(CodeNotFound, "campaign %s has no item %s", campaignID, itemID)
		}
		if err != nil {
			return err
		}
		if !reassign {
			if err := s.mayDecide(ctx, tx, c, row); err != nil {
				return err
			}
		} else if row.State != string(ItemPending) {
			return Errorf(CodeConflict, "item %s is already decided (%s by %s): there is nothing to reassign", row.ID, row.Decision, row.DecidedBy)
		}
		if row.Identity != "" && to == row.Identity {
			return Errorf(CodeInvalid, "%s cannot review their own access; choose someone else", to)
		}
		if to == strings.ToLower(c.Email) && !reassign {
			return Errorf(CodeInvalid, "you already review item %s; delegate it to someone else", row.ID)
		}
		steps, err := itemSteps(row)
		if err != nil {
			return err
		}
		for len(steps) <= row.Step {
			steps = append(steps, nil)
		}
		from := strings.Join(steps[row.Step], ", ")
		steps[row.Step] = []string{to}
		b, _ := json.Marshal(steps)
		now := s.cfg.Now().UTC()
		row.Steps, row.Reviewer, row.UpdatedAt = string(b), to, now
		if err := tx.UpdateReviewItem(ctx, row); err != nil {
			return err
		}
		if err := tx.SetCurrentReviewers(ctx, campaignID, itemID, row.Step, []string{to}); err != nil {
			return err
		}
		detail := fmt.Sprintf("from %s to %s", firstNonEmpty(from, "nobody"), to)
		if reason != "" {
			detail += ": " + reason
		}
		by := strings.ToLower(c.Email)
		if err := tx.AppendReviewItemEvent(ctx, &store.ReviewItemEvent{CampaignID: campaignID, ItemID: itemID, Kind: kind, Actor: by,
			At: now, Detail: detail, Step: row.Step}); err != nil {
			return err
		}
		_, err = tx.AppendAudit(ctx, c.Email, action, "campaign:"+campaignID+"/item:"+itemID, map[string]any{
			"from": from, "to": to, "reason": reason, "step": row.Step}, c.RemoteAddr)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.Item(ctx, c, campaignID, itemID)
}
