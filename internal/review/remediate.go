package review

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/awsprovision"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Remediation: what a revoke decision changes, and the job that changes it.
//
// The change follows how the access is held. An account assignment held directly (by the
// user, or the group's own assignment) is deleted; access that comes through an Identity
// Center or IAM group is revoked by removing the person from that group (which removes
// everything they hold through it, and the plan says so before the reviewer decides); an
// Identity Center or IAM group membership is removed; a just-in-time lease is ended through
// its own revoke path (internal/jit). Everything else (a policy attached directly to a
// user, group or role, an inline policy, an imported application's access) is a task for the
// owner with the exact change to make: Gatehouse does not write IAM policies.
//
// The job runs the change through the provisioner the leases use. The remediation is
// "done" only when the provisioner reports that AWS confirmed the final state (or that the
// access was already gone); a failure records AWS's reason on the item and the job is
// retried. Either way the item stays revocation_pending until a later sync no longer shows
// the access (verify.go).

// jobActor is the actor of what Gatehouse's jobs do.
const jobActor = "gatehouse"

// planRemediation is the change a revoke of it makes, described for people, with State
// RemediationQueued (Gatehouse makes it) or RemediationTaskOpen (an owner must; Task is
// the exact change). It reads nothing: the item's frozen grant says everything.
func planRemediation(it *Item) Remediation {
	who := personOf(it)
	what := it.EntitlementName
	if what == "" {
		what = it.EntitlementID
	}
	in := accountWords(it)
	switch {
	case strings.HasPrefix(it.Via, ViaLeasePrefix):
		return Remediation{Action: ActionRevokeLease, State: RemediationQueued,
			Description: fmt.Sprintf("End the just-in-time lease %s early: %s loses %s (the lease's job removes the access in AWS)",
				strings.TrimPrefix(it.Via, ViaLeasePrefix), who, what)}
	case isAppItem(it):
		// Gatehouse does not write to applications imported from files: their owner
		// changes the application, and the next import shows it.
		return ownerTask(it, appTask(it))
	case it.Via != ViaDirect && it.Via != "":
		kind, group := viaGroup(it.Via)
		name := groupName(it)
		switch kind {
		case "sso_group":
			return Remediation{Action: ActionRemoveSSOMember, State: RemediationQueued,
				Description: fmt.Sprintf("Remove %s from the Identity Center group %s (this removes every access %s holds through %s, not only %s)",
					who, name, who, name, what)}
		case "iam_group":
			return Remediation{Action: ActionRemoveIAMMember, State: RemediationQueued,
				Description: fmt.Sprintf("Remove the IAM user %s from the IAM group %s%s (this removes every access %s holds through %s, not only %s)",
					who, name, in, who, name, what)}
		}
		return ownerTask(it, fmt.Sprintf("Remove %s from %s (%s), through which %s holds %s", who, name, group, who, what))
	}
	switch it.ResourceType {
	case "account":
		if it.PrincipalType == "sso_group" {
			return Remediation{Action: ActionDeleteAssignment, State: RemediationQueued,
				Description: fmt.Sprintf("Delete the account assignment of %s to the Identity Center group %s (everyone in %s loses it)",
					what, principalWords(it), principalWords(it))}
		}
		if it.PrincipalType == "sso_user" {
			return Remediation{Action: ActionDeleteAssignment, State: RemediationQueued,
				Description: fmt.Sprintf("Delete the account assignment of %s to the Identity Center user %s", what, who)}
		}
	case "sso_group":
		if it.PrincipalType == "sso_user" {
			return Remediation{Action: ActionRemoveSSOMember, State: RemediationQueued,
				Description: fmt.Sprintf("Remove %s from the Identity Center group %s (this removes every access %s holds through it)",
					who, resourceWords(it), who)}
		}
	case "iam_group":
		if it.PrincipalType == "iam_user" {
			return Remediation{Action: ActionRemoveIAMMember, State: RemediationQueued,
				Description: fmt.Sprintf("Remove the IAM user %s from the IAM group %s%s (this removes every access %s holds through it)",
					principalWords(it), resourceWords(it), in, who)}
		}
	case "iam_policy":
		kind := map[string]string{"iam_user": "IAM user", "iam_group": "IAM group", "iam_role": "IAM role"}[it.PrincipalType]
		if kind == "" {
			kind = it.PrincipalType
		}
		if owner, name, ok := strings.Cut(it.ResourceID, "/inline/"); ok && strings.HasPrefix(owner, "arn:") {
			return ownerTask(it, fmt.Sprintf("Delete the inline policy %s of the %s %s (%s)%s", name, kind, principalWords(it), it.PrincipalID, in))
		}
		return ownerTask(it, fmt.Sprintf("Detach the policy %s (%s) from the %s %s (%s)%s", resourceWords(it), it.ResourceID, kind,
			principalWords(it), it.PrincipalID, in))
	}
	return ownerTask(it, fmt.Sprintf("Remove %s's %s (%s %s): Gatehouse cannot change this access", who, what, it.ResourceType, it.ResourceID))
}

// ownerTask is the remediation of access Gatehouse cannot change: a task with the exact change.
func ownerTask(it *Item, task string) Remediation {
	return Remediation{Action: ActionOwnerTask, State: RemediationTaskOpen, Task: task,
		Description: "Gatehouse cannot make this change; the owner must: " + task}
}

// remediationAccess is what the provisioner revokes for it, or the lease to end.
func remediationAccess(it *Item) (awsprovision.Access, string, error) {
	if strings.HasPrefix(it.Via, ViaLeasePrefix) {
		return nil, strings.TrimPrefix(it.Via, ViaLeasePrefix), nil
	}
	if it.Via != ViaDirect && it.Via != "" {
		kind, group := viaGroup(it.Via)
		switch kind {
		case "sso_group":
			return awsprovision.SSOGroupMembership{GroupID: group, UserID: it.PrincipalID}, "", nil
		case "iam_group":
			return awsprovision.IAMGroupMembership{GroupARN: group, UserARN: it.PrincipalID}, "", nil
		}
		return nil, "", fmt.Errorf("review: item %s comes through %s, which Gatehouse cannot change", it.ID, it.Via)
	}
	switch {
	case it.ResourceType == "account" && (it.PrincipalType == "sso_user" || it.PrincipalType == "sso_group"):
		ps := it.EntitlementID[strings.LastIndex(it.EntitlementID, ":")+1:]
		pt := awsprovision.PrincipalUser
		if it.PrincipalType == "sso_group" {
			pt = awsprovision.PrincipalGroup
		}
		return awsprovision.AccountAssignment{AccountID: it.ResourceID, PermissionSet: ps, PrincipalType: pt, PrincipalID: it.PrincipalID}, "", nil
	case it.ResourceType == "sso_group" && it.PrincipalType == "sso_user":
		return awsprovision.SSOGroupMembership{GroupID: it.ResourceID, UserID: it.PrincipalID}, "", nil
	case it.ResourceType == "iam_group" && it.PrincipalType == "iam_user":
		return awsprovision.IAMGroupMembership{GroupARN: it.ResourceID, UserARN: it.PrincipalID}, "", nil
	}
	return nil, "", fmt.Errorf("review: Gatehouse cannot change %s of %s %s", it.EntitlementID, it.PrincipalType, it.PrincipalID)
}

// viaGroup splits a group membership entitlement id ("sso_group:<id>:member",
// "iam_group:<arn>:member") into the group's type and id.
func viaGroup(via string) (kind, id string) {
	kind, rest, _ := strings.Cut(via, ":")
	return kind, strings.TrimSuffix(rest, ":member")
}

// personOf names the item's identity for people: the email, else the principal's name.
func personOf(it *Item) string {
	if it.Identity != "" {
		return it.Identity
	}
	return principalWords(it)
}

func principalWords(it *Item) string {
	if it.PrincipalName != "" {
		return it.PrincipalName
	}
	return it.PrincipalID
}

func resourceWords(it *Item) string {
	if it.ResourceName != "" {
		return it.ResourceName
	}
	return it.ResourceID
}

// groupName names the group the item's access comes through.
func groupName(it *Item) string {
	if n := strings.TrimSpace(strings.TrimPrefix(it.ViaName, "group ")); n != "" {
		return n
	}
	_, id := viaGroup(it.Via)
	return id
}

func accountWords(it *Item) string {
	switch {
	case it.AccountID == "":
		return ""
	case it.AccountName != "" && it.AccountName != it.AccountID:
		return fmt.Sprintf(" in account %s (%s)", it.AccountName, it.AccountID)
	}
	return " in account " + it.AccountID
}

// startRemediationTx starts the remediation of it, just decided revoke for good, in tx (the
// decision's transaction): the job that makes the change (revocation_pending), or the
// owner's task with its notification (task_open). Access a sync already no longer showed
// needs no change: the item is remediated at once, verified by that sync. It writes the
// item's state and remediation and sets them on it.
func (s *Service) startRemediationTx(ctx context.Context, tx *store.Tx, it *Item) error {
	now := s.clock()
	rem := planRemediation(it)
	if it.Remediation != nil && it.Remediation.State != "" {
		return nil // started already (a decision retried)
	}
	event, detail := "remediation_started", rem.Description
	switch {
	case it.AccessGoneAt != nil:
		rem.State, rem.VerifiedSync, rem.VerifiedAt = RemediationNotNeededState, it.AccessGoneSync, it.AccessGoneAt
		it.State = ItemRemediated
		event, detail = "verified", "the access was already gone (sync "+it.AccessGoneSync+"): nothing to change"
	case rem.Action == ActionOwnerTask:
		owners, err := s.taskOwnersTx(ctx, tx, it)
		if err != nil {
			return err
		}
		rem.Owner = strings.Join(owners, ", ")
		it.State = ItemTaskOpen
		event, detail = "task_opened", "task for "+rem.Owner+": "+rem.Task
		if s.cfg.Notifier != nil {
			if err := s.cfg.Notifier.NotifyReviewTx(ctx, tx, Event{Kind: "review_task", CampaignID: it.CampaignID,
				Campaign: s.campaignNameTx(ctx, tx, it), To: owners, Pending: 1, Actor: jobActor, Detail: rem.Task, At: now,
				URL: s.reviewCampaignURL(it.CampaignID)}); err != nil {
				return err
			}
		}
	default:
		if s.queue == nil {
			return errors.New("review: the service has no job queue yet (SetQueue)")
		}
		if _, err := s.queue.InsertTx(ctx, tx, remediateArgs{CampaignID: it.CampaignID, ItemID: it.ID}, nil); err != nil {
			return fmt.Errorf("queue the remediation of item %s: %w", it.ID, err)
		}
		it.State = ItemRevocationPending
	}
	it.Remediation = &rem
	b, err := json.Marshal(rem)
	if err != nil {
		return err
	}
	if err := tx.SetReviewItemRemediation(ctx, it.CampaignID, it.ID, string(it.State), string(b), now); err != nil {
		return err
	}
	return tx.AppendReviewRemediationEvent(ctx, it.CampaignID, it.ID, event, jobActor, now, detail)
}

// taskOwnersTx is who must do an owner task: the account's owners, else the application's
// (an imported application's owner), else the admins.
func (s *Service) taskOwnersTx(ctx context.Context, tx *store.Tx, it *Item) ([]string, error) {
	if isAppItem(it) {
		if o, err := s.appTaskOwners(ctx, tx, it); err != nil || len(o) > 0 {
			return o, err
		}
		return s.st.UsersWithRole(ctx, auth.RoleAdmin)
	}
	if it.AccountID != "" {
		if o, err := tx.Owners(ctx, store.OwnerAccount, it.AccountID); err != nil || len(o) > 0 {
			return o, err
		}
	}
	if it.ResourceType != "" && !slices.Contains([]string{"account", "iam_policy", "iam_group", "iam_user", "iam_role", "sso_group"}, it.ResourceType) {
		if o, err := tx.Owners(ctx, store.OwnerApplication, it.ResourceID); err != nil || len(o) > 0 {
			return o, err
		}
	}
	return s.st.UsersWithRole(ctx, auth.RoleAdmin)
}

// campaignNameTx is the campaign's name for notifications ("" when it cannot be read).
func (s *Service) campaignNameTx(ctx context.Context, tx *store.Tx, it *Item) string {
	row, err := tx.ReviewItemForRemediation(ctx, it.CampaignID, it.ID)
	if err != nil {
		return ""
	}
	return row.CampaignName
}

// reviewCampaignURL links to a campaign's page ("" without a public URL).
func (s *Service) reviewCampaignURL(id string) string {
	if s.cfg.BaseURL == "" {
		return ""
	}
	return strings.TrimSuffix(s.cfg.BaseURL, "/") + "/campaigns/" + id
}

// clock is the service's time, in UTC.
func (s *Service) clock() time.Time { return s.cfg.Now().UTC() }

// itemOfRow is the item a remediation row describes (its grant, decision and remediation).
func itemOfRow(r *store.ReviewRemediationRow) (*Item, error) {
	it := &Item{ID: r.ItemID, CampaignID: r.CampaignID, ConnectionID: r.ConnectionID, GrantID: r.GrantID,
		EntitlementID: r.EntitlementID, EntitlementName: r.EntitlementName, ResourceType: r.ResourceType,
		ResourceID: r.ResourceID, ResourceName: r.ResourceName, AccountID: r.AccountID, AccountName: r.AccountName,
		PrincipalType: r.PrincipalType, PrincipalID: r.PrincipalID, PrincipalName: r.PrincipalName, Identity: r.Identity,
		Via: r.Via, ViaName: r.ViaName, Decision: r.Decision, Reason: r.Reason, DecidedBy: r.DecidedBy, State: ItemState(r.State),
		AccessGoneAt: r.AccessGoneAt, AccessGoneSync: r.AccessGoneSync}
	if r.Remediation != "" {
		var rem Remediation
		if err := json.Unmarshal([]byte(r.Remediation), &rem); err != nil {
			return nil, fmt.Errorf("the remediation of item %s: %w", r.ItemID, err)
		}
		it.Remediation = &rem
	}
	return it, nil
}

// remediate is the review_remediate job: it makes the change of a revoked item and records
// how it went. A failure is recorded on the item (AWS's reason) and returned, so that River
// tries again; the remediation is done only when AWS confirmed the change.
func (s *Service) remediate(ctx context.Context, campaignID, itemID string) error {
	var it *Item
	var campaign string
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		row, err := tx.ReviewItemForRemediation(ctx, campaignID, itemID)
		if err != nil {
			return err
		}
		campaign = row.CampaignName
		it, err = itemOfRow(row)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		s.log.Warn("review remediation of an item that does not exist", zap.String("campaign", campaignID), zap.String("item", itemID))
		return nil
	}
	if err != nil {
		return err
	}
	if it.State != ItemRevocationPending || it.Remediation == nil ||
		(it.Remediation.State != RemediationQueued && it.Remediation.State != RemediationFailed) {
		return nil // done already, verified, or not a change Gatehouse makes
	}
	access, leaseID, err := remediationAccess(it)
	if err != nil {
		return s.remediationFailed(ctx, it, err)
	}
	if leaseID != "" {
		return s.endLease(ctx, it, campaign, leaseID)
	}
	if s.cfg.Provisioners == nil {
		return s.remediationFailed(ctx, it, errors.New("this server cannot change AWS access (no provisioner configured)"))
	}
	p, err := s.cfg.Provisioners.Provisioner(ctx, it.ConnectionID)
	if err != nil {
		return s.remediationFailed(ctx, it, err)
	}
	res, err := p.Revoke(ctx, access)
	if err != nil {
		return s.remediationFailed(ctx, it, err)
	}
	// The provisioner returns only once AWS confirmed the final state: removed now, or
	// already absent (someone else removed it, or it never reached AWS).
	detail := fmt.Sprintf("AWS confirmed: %s %s", res.Outcome, res.Description)
	if ids := requestIDs(res); len(ids) > 0 {
		detail += " (" + strings.Join(ids, ", ") + ")"
	}
	if len(res.Notes) > 0 {
		detail += ". " + strings.Join(res.Notes, " ")
	}
	return s.remediationDone(ctx, it, detail, map[string]any{"outcome": string(res.Outcome), "request_ids": requestIDs(res)})
}

// endLease asks internal/jit to end the item's lease, then waits (snoozing the job) until the
// lease's job has confirmed the revoke with AWS.
func (s *Service) endLease(ctx context.Context, it *Item, campaign, leaseID string) error {
	if s.cfg.Leases == nil {
		return s.remediationFailed(ctx, it, errors.New("this server cannot end just-in-time leases (no lease service configured)"))
	}
	if err := s.cfg.Leases.RevokeLeaseForReview(ctx, leaseID, campaign, it.DecidedBy, it.Reason); err != nil {
		return s.remediationFailed(ctx, it, err)
	}
	l, err := s.st.GetLease(ctx, leaseID)
	if err != nil {
		return s.remediationFailed(ctx, it, fmt.Errorf("lease %s: %w", leaseID, err))
	}
	switch l.State {
	case store.LeaseEnded, store.LeaseFailed:
		detail := "lease " + leaseID + " ended"
		if l.EndNote != "" {
			detail += ": " + l.EndNote
		}
		return s.remediationDone(ctx, it, detail, map[string]any{"lease_id": leaseID, "lease_state": l.State})
	}
	return river.JobSnooze(2 * time.Second)
}

// remediationDone records that AWS confirmed the change. An item a sync verified meanwhile
// keeps its state.
func (s *Service) remediationDone(ctx context.Context, it *Item, detail string, audit map[string]any) error {
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		row, err := tx.ReviewItemForRemediation(ctx, it.CampaignID, it.ID)
		if err != nil {
			return err
		}
		cur, err := itemOfRow(row)
		if err != nil || cur.Remediation == nil {
			return err
		}
		rem := *cur.Remediation
		if rem.State != RemediationQueued && rem.State != RemediationFailed {
			return nil
		}
		now := s.clock()
		rem.State, rem.Error, rem.DoneAt = RemediationDone, "", &now
		rem.Attempts++
		b, err := json.Marshal(rem)
		if err != nil {
			return err
		}
		if err := tx.SetReviewItemRemediation(ctx, it.CampaignID, it.ID, row.State, string(b), now); err != nil {
			return err
		}
		if err := tx.AppendReviewRemediationEvent(ctx, it.CampaignID, it.ID, "remediation_done", jobActor, now, detail); err != nil {
			return err
		}
		audit["campaign_id"], audit["item_id"], audit["action"], audit["grant_id"] = it.CampaignID, it.ID, rem.Action, it.GrantID
		_, err = tx.AppendAudit(ctx, jobActor, "review.remediation_done", "campaign:"+it.CampaignID, audit, "")
		return err
	})
	if err != nil {
		return err
	}
	s.log.Info("review remediation done", zap.String("campaign", it.CampaignID), zap.String("item", it.ID), zap.String("detail", detail))
	return nil
}

// remediationFailed records cause on the item (it stays revocation_pending) and returns it,
// so that River tries again.
func (s *Service) remediationFailed(ctx context.Context, it *Item, cause error) error {
	msg := cause.Error()
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		row, err := tx.ReviewItemForRemediation(ctx, it.CampaignID, it.ID)
		if err != nil {
			return err
		}
		cur, err := itemOfRow(row)
		if err != nil || cur.Remediation == nil {
			return err
		}
		rem := *cur.Remediation
		if rem.State != RemediationQueued && rem.State != RemediationFailed {
			return nil
		}
		now := s.clock()
		rem.State, rem.Error = RemediationFailed, msg
		rem.Attempts++
		b, err := json.Marshal(rem)
		if err != nil {
			return err
		}
		if err := tx.SetReviewItemRemediation(ctx, it.CampaignID, it.ID, row.State, string(b), now); err != nil {
			return err
		}
		if err := tx.AppendReviewRemediationEvent(ctx, it.CampaignID, it.ID, "remediation_failed", jobActor, now,
			fmt.Sprintf("attempt %d failed: %s (tried again)", rem.Attempts, msg)); err != nil {
			return err
		}
		_, err = tx.AppendAudit(ctx, jobActor, "review.remediation_failed", "campaign:"+it.CampaignID, map[string]any{
			"campaign_id": it.CampaignID, "item_id": it.ID, "action": rem.Action, "grant_id": it.GrantID, "attempt": rem.Attempts, "error": msg}, "")
		return err
	})
	if err != nil {
		return errors.Join(cause, err)
	}
	s.log.Warn("review remediation failed; it is tried again", zap.String("campaign", it.CampaignID), zap.String("item", it.ID), zap.String("error", msg))
	return cause
}

// requestIDs lists the calls a change made as "service:Operation=request id".
func requestIDs(res *awsprovision.Result) []string {
	var out []string
	for _, c := range res.Evidence {
		s := c.Action() + "=" + c.RequestID
		if c.ErrorCode != "" {
			s += " (" + c.ErrorCode + ")"
		}
		out = append(out, s)
	}
	return out
}

// CompleteTask marks an owner task done by its owner or an admin; the item stays task_open
// until a sync shows the change.
func (s *Service) CompleteTask(ctx context.Context, c *auth.Caller, campaignID, itemID, note string) (*Item, error) {
	if c == nil || c.Email == "" {
		return nil, Errorf(CodeForbidden, "sign in first")
	}
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		row, err := tx.ReviewItemForRemediation(ctx, campaignID, itemID)
		if errors.Is(err, store.ErrNotFound) {
			return Errorf(CodeNotFound, "no item %s in campaign %s", itemID, campaignID)
		}
		if err != nil {
			return err
		}
		it, err := itemOfRow(row)
		if err != nil {
			return err
		}
		if it.State != ItemTaskOpen || it.Remediation == nil || it.Remediation.Action != ActionOwnerTask {
			return Errorf(CodeConflict, "item %s is %s: only an open owner task can be marked done", itemID, strings.ReplaceAll(string(it.State), "_", " "))
		}
		owners := strings.Split(it.Remediation.Owner, ", ")
		if !c.IsAdmin() && !slices.Contains(owners, strings.ToLower(c.Email)) && !slices.Contains(owners, c.Email) {
			return Errorf(CodeForbidden, "only the task's owner (%s) or an admin may mark it done", it.Remediation.Owner)
		}
		if it.Remediation.State == RemediationDone {
			return nil
		}
		now := s.clock()
		rem := *it.Remediation
		rem.State, rem.DoneAt = RemediationDone, &now
		b, err := json.Marshal(rem)
		if err != nil {
			return err
		}
		if err := tx.SetReviewItemRemediation(ctx, campaignID, itemID, string(ItemTaskOpen), string(b), now); err != nil {
			return err
		}
		detail := "task marked done by " + c.Email + "; the next sync verifies it"
		if note != "" {
			detail += ": " + note
		}
		if err := tx.AppendReviewRemediationEvent(ctx, campaignID, itemID, "remediation_done", c.Email, now, detail); err != nil {
			return err
		}
		_, err = tx.AppendAudit(ctx, c.Email, "review.task_done", "campaign:"+campaignID, map[string]any{
			"campaign_id": campaignID, "item_id": itemID, "grant_id": it.GrantID, "task": rem.Task, "note": note}, c.RemoteAddr)
		return err
	})
	if err != nil {
		return nil, err
	}
	// The owner of a task need not be a reviewer of the item; they may read the item they
	// completed, as an auditor would.
	return s.Item(ctx, &auth.Caller{Email: c.Email, Roles: []string{auth.RoleAuditor}, RemoteAddr: c.RemoteAddr}, campaignID, itemID)
}
