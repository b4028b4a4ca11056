package jit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Leases in applications imported from files (internal/appimport). Gatehouse cannot change
// such an application: its owner grants and revokes by hand, and the application's next
// import shows what is really there. So a lease's grant and its revoke are tasks for the
// owner (store.LeaseTask), and the imports close them:
//
//	approved ─▶ provisioning: grant task open (the owner is notified, event app_task)
//	   ├─ an import shows the grant ─▶ active (verified); the lease starts then
//	   └─ the owner marks the task done ─▶ active, unverified; the lease starts then, and
//	      the next import that shows the grant verifies it
//	active ─(end, release, admin revoke)─▶ expiring: revoke task open (app_task)
//	   └─ an import no longer shows the grant ─▶ expired | revoked (the lease ends)
//	      (the owner marking it done changes nothing but the task: only an import ends it)
//
// A task not done by its due time (Config.GrantTaskDue, RevokeTaskDue) is alerted once
// (app_task_overdue) to the owner, and for a revoke to the admins too: Gatehouse cannot
// take such access away itself, so a lease of an imported application ends only when its
// owner acts and an import shows it; "ends on time" is the owner's promise, not Gatehouse's.
//
// Overlap, as for AWS: access the last import shows before the lease (standing access) is
// never taken away by the lease (no grant task, no revoke task), and a lease ending while
// another lease of the same access (the same person and entitlement) is active keeps it.

// Defaults of Config.GrantTaskDue and RevokeTaskDue.
const (
	// DefaultGrantTaskDue: the requester waits; a day covers an owner in another time zone.
	DefaultGrantTaskDue = 24 * time.Hour
	// DefaultRevokeTaskDue: access past its lease is the risk; imports run hourly, so an
	// owner acting within a few hours is seen within the next.
	DefaultRevokeTaskDue = 4 * time.Hour
)

// appIDPrefix starts the id of every imported application (store.NewAppID).
const appIDPrefix = "app_"

// OwnerTask is what an imported application's owner must do for a lease.
type OwnerTask struct {
	ID string
	// Kind is grant or revoke.
	Kind  string
	Owner string
	// State is open (not done), done (the owner says so; no import has shown it yet:
	// unverified), verified (an import showed it) or cancelled (not needed any more).
	State string
	// Instruction says exactly what to change in the application.
	Instruction string
	CreatedAt   time.Time
	DueAt       time.Time
	// Overdue says the task waits past its due time.
	Overdue     bool
	DoneAt      *time.Time
	DoneBy      string
	DoneNote    string
	VerifiedAt  *time.Time
	VerifiedRun string
	// ClosedNote says why a task was cancelled.
	ClosedNote string
}

func (s *Service) ownerTask(t *store.LeaseTask) OwnerTask {
	return OwnerTask{ID: t.ID, Kind: t.Kind, Owner: t.Owner, State: t.State, Instruction: t.Instruction,
		CreatedAt: t.CreatedAt, DueAt: t.DueAt, Overdue: t.Waiting() && !s.cfg.Now().Before(t.DueAt),
		DoneAt: t.DoneAt, DoneBy: t.DoneBy, DoneNote: t.DoneNote, VerifiedAt: t.VerifiedAt, VerifiedRun: t.VerifiedRun,
		ClosedNote: t.ClosedNote}
}

// isAppLease says whether a lease is in an imported application.
func isAppLease(l *store.Lease) bool { return strings.HasPrefix(l.AccessKey, string(KindAppGrant)+"|") }

func (s *Service) taskDue(kind string) time.Duration {
	if kind == store.TaskGrant {
		if s.cfg.GrantTaskDue > 0 {
			return s.cfg.GrantTaskDue
		}
		return DefaultGrantTaskDue
	}
	if s.cfg.RevokeTaskDue > 0 {
		return s.cfg.RevokeTaskDue
	}
	return DefaultRevokeTaskDue
}

// appIdentity is the requester's user in an imported application: the application's user
// whose email is theirs. None is no refusal: the owner creates it when granting (Note).
func (s *Service) appIdentity(ctx context.Context, t Target, email string) (*identity, error) {
	id := &identity{}
	groups, err := s.personGroups(ctx, email)
	if err != nil {
		return nil, err
	}
	id.Groups = groups
	users, err := s.st.FindResources(ctx, store.ResourceQuery{ConnectionID: t.ConnectionID, Type: "app_user", Email: email})
	if err != nil {
		return nil, err
	}
	switch len(users) {
	case 0:
		id.Note = fmt.Sprintf("%s has no user with your email %s yet: its owner creates one when granting the access, so the grant may take longer.", t.AppName, email)
	case 1:
		id.PrincipalID, id.PrincipalName = users[0].ID, firstNonEmpty(users[0].DisplayName, users[0].ID)
	default:
		id.Why = fmt.Sprintf("%d users of %s have your email %s (%s); ask its owner to keep one, so that the access goes to the right user.",
			len(users), t.AppName, email, resourceIDs(users))
	}
	return id, nil
}

// personGroups are the Identity Center groups (ids and names) of the person's users in every
// connection: rules name Identity Center groups, and an imported application has none.
func (s *Service) personGroups(ctx context.Context, email string) ([]string, error) {
	users, err := s.st.FindResources(ctx, store.ResourceQuery{Type: "sso_user", Email: strings.ToLower(strings.TrimSpace(email))})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, u := range users {
		gs, err := s.st.UserGroups(ctx, u.ConnectionID, u.ID)
		if err != nil {
			return nil, err
		}
		for _, g := range gs {
			out = append(out, g[0], g[1])
		}
	}
	return out, nil
}

// isAppOwner says whether email owns the imported application: its owner, or an owner an
// admin set for it.
func (s *Service) isAppOwner(ctx context.Context, tx *store.Tx, appID, email string) (bool, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	var owner string
	var err error
	if tx != nil {
		owner, err = tx.AppOwner(ctx, appID)
	} else {
		var a *store.App
		if a, err = s.st.GetApp(ctx, appID); err == nil {
			owner = a.Owner
		}
	}
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if strings.EqualFold(owner, email) {
		return true, nil
	}
	more, err := s.st.Owners(ctx, OwnerApplication, appID)
	if err != nil {
		return false, err
	}
	return slices.Contains(more, email), nil
}

// appOwnerTx is who does an application's tasks: its owner (the first owner set for it when
// it has none).
func (s *Service) appOwnerTx(ctx context.Context, tx *store.Tx, appID string) (string, error) {
	owner, err := tx.AppOwner(ctx, appID)
	if err != nil {
		return "", err
	}
	if owner == "" {
		more, err := s.st.Owners(ctx, OwnerApplication, appID)
		if err != nil {
			return "", err
		}
		if len(more) > 0 {
			owner = more[0]
		}
	}
	return strings.ToLower(owner), nil
}

func targetOf(l *store.Lease) (Target, error) {
	var t Target
	if err := json.Unmarshal([]byte(l.Target), &t); err != nil {
		return t, fmt.Errorf("lease %s: target: %w", l.ID, err)
	}
	return t, nil
}

// whose names the application's user the access goes to, for instructions.
func whose(t Target) string {
	if t.PrincipalID == "" {
		return t.Email + " (who has no user in " + t.AppName + " yet: create one with this email)"
	}
	user := strings.TrimPrefix(t.PrincipalID, t.ConnectionID+":")
	if t.PrincipalName != "" && t.PrincipalName != user {
		return fmt.Sprintf("%s (user %s, %s)", t.PrincipalName, user, t.Email)
	}
	return fmt.Sprintf("user %s (%s)", user, t.Email)
}

func what(t Target) string {
	return fmt.Sprintf("entitlement %q on %s %q", t.Entitlement, t.ResourceKind, t.ResourceName)
}

// appGrantTx starts the lease of an approved request for an imported application's access,
// in the approval's transaction: access the last import already shows is taken over at once
// (standing, or another lease's that is ending), anything else becomes a grant task for the
// owner. No job runs until the lease is active.
func (s *Service) appGrantTx(ctx context.Context, tx *store.Tx, req *Request) error {
	if _, err := tx.LeaseOfRequest(ctx, req.ID); err == nil {
		return nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	t := req.Target
	target, err := json.Marshal(t)
	if err != nil {
		return err
	}
	now := s.cfg.Now()
	l := &store.Lease{ID: leaseID(), RequestID: req.ID, Requester: req.Requester, ConnectionID: t.ConnectionID,
		AccessKey: t.AccessKey(), Target: string(target), State: store.LeasePending, Duration: req.Duration,
		CreatedAt: now, UpdatedAt: now}
	shown, err := tx.AppGrantsOfEmail(ctx, t.ConnectionID, t.EntitlementID, t.Email)
	if err != nil {
		return err
	}
	others, err := tx.LeasesOfAccess(ctx, l.AccessKey, store.LeaseActive, store.LeaseEnding)
	if err != nil {
		return err
	}
	if _, err := s.transitionTx(ctx, tx, req.ID, []State{StateApproved}, StateProvisioning, SystemActor,
		"granting in "+t.AppName, ""); err != nil {
		return err
	}
	takeOver := len(shown) > 0
	for _, o := range others {
		if o.State != store.LeaseEnding {
			continue
		}
		// An ending lease whose removal the owner marked done: the import is only late, the
		// access is gone (or going); this lease asks for it again.
		tasks, err := tx.LeaseTasks(ctx, o.ID)
		if err != nil {
			return err
		}
		for _, k := range tasks {
			if k.Kind == store.TaskRevoke && k.State == store.TaskDone {
				takeOver = false
			}
		}
	}
	if takeOver {
		// The access is there already: standing access (no lease holds it), or the access
		// of a lease that is ending (its revoke is not needed any more). Active at once.
		note := fmt.Sprintf("already held in %s as its last import shows (%s): active at once, no task for the owner", t.AppName, strings.Join(shown, ", "))
		l.Standing = true
		for i := range others {
			o := &others[i]
			l.Standing = o.Standing
			if o.State == store.LeaseEnding {
				if err := s.appKeepTx(ctx, tx, o, "kept in "+t.AppName+": still needed by "+l.ID+" (a new request of the same access)"); err != nil {
					return err
				}
			}
		}
		if l.Standing {
			note += "; the access existed before the lease and stays when it ends"
		}
		end := now.Add(l.Duration)
		l.State, l.StartsAt, l.EndsAt = store.LeaseActive, &now, &end
		if err := s.enqueueTx(ctx, tx, l, end); err != nil {
			return err
		}
		if err := tx.InsertLease(ctx, l); err != nil {
			return err
		}
		if _, err := tx.AppendAudit(ctx, SystemActor, "lease.grant", "lease:"+l.ID, map[string]any{
			"request_id": req.ID, "standing": l.Standing, "grants": shown, "starts_at": now.UTC().Format(time.RFC3339Nano),
			"ends_at": end.UTC().Format(time.RFC3339Nano)}, ""); err != nil {
			return err
		}
		_, err := s.transitionTx(ctx, tx, req.ID, []State{StateProvisioning}, StateActive, SystemActor, note, "granted")
		return err
	}
	if err := tx.InsertLease(ctx, l); err != nil {
		return err
	}
	if _, err := tx.AppendAudit(ctx, SystemActor, "lease.create", "lease:"+l.ID, map[string]any{
		"request_id": req.ID, "requester": req.Requester, "access": l.AccessKey, "duration": req.Duration.String()}, ""); err != nil {
		return err
	}
	instr := fmt.Sprintf("Grant %s in %s to %s, for %s's request %s. Mark this task done when you have; the access counts from then, and the next import of %s that shows the grant confirms it.",
		what(t), t.AppName, whose(t), req.Requester, req.ID, t.AppName)
	task, err := s.newTaskTx(ctx, tx, l, req, store.TaskGrant, instr)
	if err != nil {
		return err
	}
	return s.noteTx(ctx, tx, req.ID, SystemActor, fmt.Sprintf("waiting for the owner %s to grant it in %s (task %s)", task.Owner, t.AppName, task.ID))
}

// newTaskTx opens a task for the application's owner, audits it and notifies the owner.
func (s *Service) newTaskTx(ctx context.Context, tx *store.Tx, l *store.Lease, req *Request, kind, instr string) (*store.LeaseTask, error) {
	owner, err := s.appOwnerTx(ctx, tx, l.ConnectionID)
	if err != nil {
		return nil, err
	}
	now := s.cfg.Now()
	task := &store.LeaseTask{ID: newID("task_"), LeaseID: l.ID, RequestID: l.RequestID, AppID: l.ConnectionID, Kind: kind,
		Owner: owner, State: store.TaskOpen, Instruction: instr, CreatedAt: now, DueAt: now.Add(s.taskDue(kind))}
	if err := tx.InsertLeaseTask(ctx, task); err != nil {
		return nil, err
	}
	if _, err := tx.AppendAudit(ctx, SystemActor, "lease.task", "lease:"+l.ID, map[string]any{
		"request_id": l.RequestID, "task": task.ID, "kind": kind, "owner": owner, "instruction": instr,
		"due_at": task.DueAt.UTC().Format(time.RFC3339)}, ""); err != nil {
		return nil, err
	}
	ev := s.leaseEvent(req, l, "app_task", SystemActor, instr)
	ev.To = []string{owner}
	return task, s.notifyTx(ctx, tx, ev)
}

// noteTx shows a step on the request's history where its state does not change: a
// transition from its state to itself, whose reason says what happened.
func (s *Service) noteTx(ctx context.Context, tx *store.Tx, requestID, actor, reason string) error {
	row, err := tx.GetAccessRequest(ctx, requestID)
	if err != nil {
		return err
	}
	_, err = tx.AppendRequestTransition(ctx, store.RequestTransition{RequestID: requestID, From: row.State, To: row.State,
		Actor: actor, At: s.now(), Reason: reason})
	return err
}

// appEndTx ends the lease l (its EndReason set: expired, released, revoked) in tx: it keeps
// the access when standing access or another active lease of it needs it, and otherwise
// opens the revoke task and waits (ending) for an import that no longer shows the grant.
func (s *Service) appEndTx(ctx context.Context, tx *store.Tx, l *store.Lease, actor, reason string) error {
	t, err := targetOf(l)
	if err != nil {
		return err
	}
	req, err := s.loadRequestTx(ctx, tx, l.RequestID)
	if err != nil {
		return err
	}
	tasks, err := tx.LeaseTasks(ctx, l.ID)
	if err != nil {
		return err
	}
	var grantTask *store.LeaseTask
	for i := range tasks {
		switch tasks[i].Kind {
		case store.TaskRevoke:
			return tx.UpdateLease(ctx, l) // already asked
		case store.TaskGrant:
			grantTask = &tasks[i]
		}
	}
	now := s.cfg.Now()
	wasPending := l.State == store.LeasePending
	if grantTask != nil && grantTask.State == store.TaskOpen {
		grantTask.State, grantTask.ClosedNote = store.TaskCancelled, "not needed any more: the access was "+l.EndReason+" before it was granted"
		if err := tx.UpdateLeaseTask(ctx, grantTask); err != nil {
			return err
		}
	}
	if req.State == StateActive || req.State == StateProvisioning {
		why := reason
		if why == "" {
			why = "the lease ended"
			if l.EndsAt != nil && l.EndReason == EndExpired {
				why += " at " + l.EndsAt.UTC().Format(time.RFC3339)
			}
		}
		if req, err = s.moveTx(ctx, tx, req, []State{StateActive, StateProvisioning}, StateExpiring, actor, why, ""); err != nil {
			return err
		}
	}
	others, err := tx.LeasesOfAccess(ctx, l.AccessKey, store.LeaseActive)
	if err != nil {
		return err
	}
	var keptFor []string
	for _, o := range others {
		if o.ID != l.ID {
			keptFor = append(keptFor, o.ID)
		}
	}
	switch {
	case l.Standing:
		return s.appKeepTx(ctx, tx, l, "kept in "+t.AppName+": the access existed before the lease (standing access, as the import showed)")
	case len(keptFor) > 0:
		return s.appKeepTx(ctx, tx, l, "kept in "+t.AppName+": still needed by "+strings.Join(keptFor, ", "))
	}
	l.State, l.UpdatedAt = store.LeaseEnding, now
	if err := tx.UpdateLease(ctx, l); err != nil {
		return err
	}
	instr := fmt.Sprintf("Remove %s in %s from %s: %s's lease ended (%s). The access ends when an import of %s no longer shows the grant; mark this task done when you have removed it.",
		what(t), t.AppName, whose(t), l.Requester, l.EndReason, t.AppName)
	if wasPending {
		instr = fmt.Sprintf("If you granted %s in %s to %s, remove it: %s's request was %s before an import showed the grant. Gatehouse closes this task when an import of %s does not show the grant.",
			what(t), t.AppName, whose(t), l.Requester, l.EndReason, t.AppName)
	}
	_, err = s.newTaskTx(ctx, tx, l, req, store.TaskRevoke, instr)
	return err
}

// appKeepTx ends a lease whose access stays (standing access, or another lease needs it):
// its waiting tasks are cancelled (the owner is told) and its request ends.
func (s *Service) appKeepTx(ctx context.Context, tx *store.Tx, l *store.Lease, note string) error {
	tasks, err := tx.LeaseTasks(ctx, l.ID)
	if err != nil {
		return err
	}
	req, err := s.loadRequestTx(ctx, tx, l.RequestID)
	if err != nil {
		return err
	}
	for i := range tasks {
		k := &tasks[i]
		if !k.Waiting() {
			continue
		}
		k.State, k.ClosedNote = store.TaskCancelled, "not needed any more: "+note
		if err := tx.UpdateLeaseTask(ctx, k); err != nil {
			return err
		}
		ev := s.leaseEvent(req, l, "app_task_cancelled", SystemActor, "task "+k.ID+" ("+k.Kind+") is not needed any more: "+note)
		ev.To = []string{k.Owner}
		if err := s.notifyTx(ctx, tx, ev); err != nil {
			return err
		}
	}
	if l.EndReason == "" {
		l.EndReason, l.EndedBy = EndExpired, SystemActor
	}
	return s.appEndedTx(ctx, tx, l, note, nil)
}

// appEndedTx records that a lease of an imported application is over: the lease ended,
// audited, and its request expired (or revoked when it ended early).
func (s *Service) appEndedTx(ctx context.Context, tx *store.Tx, l *store.Lease, note string, detail map[string]any) error {
	now := s.cfg.Now()
	l.State, l.EndedAt, l.EndNote, l.LastError, l.UpdatedAt = store.LeaseEnded, &now, note, "", now
	if err := tx.UpdateLease(ctx, l); err != nil {
		return err
	}
	d := map[string]any{"request_id": l.RequestID, "reason": l.EndReason, "note": note}
	for k, v := range detail {
		d[k] = v
	}
	if _, err := tx.AppendAudit(ctx, SystemActor, "lease.end", "lease:"+l.ID, d, ""); err != nil {
		return err
	}
	req, err := s.loadRequestTx(ctx, tx, l.RequestID)
	if err != nil {
		return err
	}
	if req.State != StateExpiring {
		if req, err = s.moveTx(ctx, tx, req, []State{StateActive, StateProvisioning}, StateExpiring, SystemActor, "the lease ended", ""); err != nil {
			return err
		}
	}
	to, ev := StateRevoked, "revoked"
	if l.EndReason == EndExpired {
		to, ev = StateExpired, "expired"
	}
	_, err = s.moveTx(ctx, tx, req, []State{StateExpiring}, to, SystemActor, note, ev)
	return err
}

// appWork is the jit_lease job of a lease in an imported application: at the lease's end (or
// once it was asked to end) it opens the revoke task. Nothing else needs a job: the owner and
// the imports move such a lease on.
func (s *Service) appWork(ctx context.Context, leaseID string) error {
	requestID, err := s.requestOfLease(ctx, leaseID)
	if err != nil {
		return err
	}
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		// The request first, then the lease: the order endEarly locks them in.
		if _, err := s.loadRequestTx(ctx, tx, requestID); err != nil {
			return err
		}
		l, err := tx.Lease(ctx, leaseID)
		if err != nil {
			return err
		}
		switch l.State {
		case store.LeaseActive:
			if l.EndReason == "" {
				if l.EndsAt != nil && l.EndsAt.After(s.cfg.Now()) {
					return errDone // extended; its next job waits for the new end
				}
				l.EndReason, l.EndedBy = EndExpired, SystemActor
			}
		case store.LeaseEnding, store.LeasePending:
		default:
			return errDone
		}
		return s.appEndTx(ctx, tx, l, SystemActor, "")
	})
	if errors.Is(err, errDone) {
		return nil
	}
	return err
}

// requestOfLease is the request of a lease (it never changes), read before a transaction
// that locks the request and then the lease.
func (s *Service) requestOfLease(ctx context.Context, leaseID string) (string, error) {
	l, err := s.st.GetLease(ctx, leaseID)
	if err != nil {
		return "", err
	}
	return l.RequestID, nil
}

// AfterImport checks the waiting tasks of application appID's leases against what the import
// run runID (just applied) shows: a grant it shows makes its lease active (or verifies a grant
// the owner marked done), a revoked grant it no longer shows ends its lease. Tasks past their
// due time are alerted. The server calls it after each applied import (appimport's
// AfterApply); an error is logged there and the next import checks again.
func (s *Service) AfterImport(ctx context.Context, appID, runID string) error {
	tasks, err := s.st.WaitingLeaseTasks(ctx, appID, nil)
	if err != nil {
		return err
	}
	// Grants first: a lease that takes over access another lease is giving back keeps it.
	slices.SortStableFunc(tasks, func(a, b store.LeaseTask) int {
		if a.Kind == b.Kind {
			return 0
		}
		if a.Kind == store.TaskGrant {
			return -1
		}
		return 1
	})
	var errs []error
	for _, k := range tasks {
		if err := s.checkTask(ctx, k.ID, k.LeaseID, runID); err != nil && !errors.Is(err, errDone) {
			errs = append(errs, fmt.Errorf("task %s of lease %s: %w", k.ID, k.LeaseID, err))
		}
	}
	if err := s.alertOverdueTasks(ctx); err != nil {
		errs = append(errs, err)
	}
	if err := s.checkRemovedAccess(ctx, appID, runID); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// reappearWindow is how long after its removal an imported application's access that shows
// again is drift (as the reconciler looks back for AWS).
const reappearWindow = 7 * 24 * time.Hour

// checkRemovedAccess finds access that leases of the application removed (an import showed
// it gone) in the last reappearWindow and that this import shows again, with no lease holding
// it: the lease is marked with drift, audited (lease.drift) and the owner and the admins are
// alerted (event drift), once per lease. Gatehouse cannot remove it; the owner must, or grant
// it through a new request.
func (s *Service) checkRemovedAccess(ctx context.Context, appID, runID string) error {
	since := s.cfg.Now().Add(-reappearWindow)
	page := store.Page{Size: store.MaxPageSize}
	var errs []error
	for {
		list, next, err := s.st.ListLeases(ctx, store.LeaseFilter{ConnectionID: appID, States: []string{store.LeaseEnded}, EndedAfter: &since}, page)
		if err != nil {
			return err
		}
		for i := range list {
			l := &list[i]
			if l.Drift != "" || !strings.HasPrefix(l.EndNote, "removed in ") {
				continue // already alerted, or kept (standing access, another lease)
			}
			if err := s.st.InTx(ctx, func(tx *store.Tx) error {
				t, err := targetOf(l)
				if err != nil {
					return err
				}
				shown, err := tx.AppGrantsOfEmail(ctx, appID, t.EntitlementID, t.Email)
				if err != nil || len(shown) == 0 {
					return err
				}
				holders, err := tx.LeasesOfAccess(ctx, l.AccessKey, store.LeasePending, store.LeaseActive, store.LeaseEnding)
				if err != nil || len(holders) > 0 {
					return err // another lease asked for it (or still ends it)
				}
				req, err := s.loadRequestTx(ctx, tx, l.RequestID)
				if err != nil {
					return err
				}
				cur, err := tx.Lease(ctx, l.ID)
				if err != nil {
					return err
				}
				cur.Drift = fmt.Sprintf("import %s of %s shows the access again (%s) after the lease ended; no lease holds it: remove it in %s, or request it",
					runID, t.AppName, strings.Join(shown, ", "), t.AppName)
				cur.UpdatedAt = s.cfg.Now()
				if err := tx.UpdateLease(ctx, cur); err != nil {
					return err
				}
				if _, err := tx.AppendAudit(ctx, SystemActor, "lease.drift", "lease:"+l.ID, map[string]any{
					"request_id": l.RequestID, "drift": cur.Drift, "run": runID}, ""); err != nil {
					return err
				}
				to := []string{}
				if owner, err := s.appOwnerTx(ctx, tx, appID); err != nil {
					return err
				} else if owner != "" {
					to = append(to, owner)
				}
				admins, err := s.st.UsersWithRole(ctx, auth.RoleAdmin)
				if err != nil {
					return err
				}
				for _, a := range admins {
					if !slices.Contains(to, a) {
						to = append(to, a)
					}
				}
				ev := s.leaseEvent(req, cur, "drift", SystemActor, cur.Drift)
				ev.To = to
				return s.notifyTx(ctx, tx, ev)
			}); err != nil {
				errs = append(errs, fmt.Errorf("lease %s: %w", l.ID, err))
			}
		}
		if next == "" {
			return errors.Join(errs...)
		}
		page.Token = next
	}
}

// checkTask checks one task against the current inventory (the import just applied).
func (s *Service) checkTask(ctx context.Context, taskID, leaseID, runID string) error {
	activated := false
	requestID, err := s.requestOfLease(ctx, leaseID)
	if err != nil {
		return err
	}
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		// The request first, then the lease: the order endEarly locks them in.
		req, err := s.loadRequestTx(ctx, tx, requestID)
		if err != nil {
			return err
		}
		l, err := tx.Lease(ctx, leaseID)
		if err != nil {
			return err
		}
		tasks, err := tx.LeaseTasks(ctx, leaseID)
		if err != nil {
			return err
		}
		var k *store.LeaseTask
		for i := range tasks {
			if tasks[i].ID == taskID {
				k = &tasks[i]
			}
		}
		if k == nil || !k.Waiting() {
			return errDone
		}
		t, err := targetOf(l)
		if err != nil {
			return err
		}
		shown, err := tx.AppGrantsOfEmail(ctx, l.ConnectionID, t.EntitlementID, t.Email)
		if err != nil {
			return err
		}
		now := s.cfg.Now()
		switch k.Kind {
		case store.TaskGrant:
			if len(shown) == 0 {
				return errDone
			}
			k.State, k.VerifiedAt, k.VerifiedRun = store.TaskVerified, &now, runID
			if err := tx.UpdateLeaseTask(ctx, k); err != nil {
				return err
			}
			if _, err := tx.AppendAudit(ctx, SystemActor, "lease.task_verified", "lease:"+l.ID, map[string]any{
				"request_id": l.RequestID, "task": k.ID, "kind": k.Kind, "run": runID, "grants": shown}, ""); err != nil {
				return err
			}
			if l.State != store.LeasePending {
				// The owner marked it done earlier: the lease runs since then.
				return s.noteTx(ctx, tx, l.RequestID, SystemActor, fmt.Sprintf("import %s of %s shows the grant the owner marked done: verified", runID, t.AppName))
			}
			activated = true
			return s.activateTx(ctx, tx, l, req, fmt.Sprintf("granted in %s: import %s shows it (%s)", t.AppName, runID, strings.Join(shown, ", ")),
				map[string]any{"run": runID, "grants": shown})
		case store.TaskRevoke:
			others, err := tx.LeasesOfAccess(ctx, l.AccessKey, store.LeaseActive)
			if err != nil {
				return err
			}
			for _, o := range others {
				if o.ID != l.ID {
					return s.appKeepTx(ctx, tx, l, "kept in "+t.AppName+": still needed by "+o.ID)
				}
			}
			if len(shown) > 0 {
				return errDone // still there: alerted when overdue
			}
			k.State, k.VerifiedAt, k.VerifiedRun = store.TaskVerified, &now, runID
			if err := tx.UpdateLeaseTask(ctx, k); err != nil {
				return err
			}
			for i := range tasks {
				if g := &tasks[i]; g.Kind == store.TaskGrant && g.Waiting() {
					g.State, g.ClosedNote = store.TaskCancelled, "the lease ended before an import showed the grant"
					if err := tx.UpdateLeaseTask(ctx, g); err != nil {
						return err
					}
				}
			}
			if _, err := tx.AppendAudit(ctx, SystemActor, "lease.task_verified", "lease:"+l.ID, map[string]any{
				"request_id": l.RequestID, "task": k.ID, "kind": k.Kind, "run": runID}, ""); err != nil {
				return err
			}
			return s.appEndedTx(ctx, tx, l, fmt.Sprintf("removed in %s: import %s no longer shows the grant", t.AppName, runID),
				map[string]any{"run": runID})
		}
		return errDone
	})
	if activated {
		s.wakeSweeper()
	}
	return err
}

// activateTx makes a pending lease of an imported application active now: it starts now,
// ends its duration later (a job is queued at the end), and its request becomes active.
func (s *Service) activateTx(ctx context.Context, tx *store.Tx, l *store.Lease, req *Request, note string, detail map[string]any) error {
	now := s.cfg.Now()
	end := now.Add(l.Duration)
	l.State, l.StartsAt, l.EndsAt, l.UpdatedAt = store.LeaseActive, &now, &end, now
	if err := s.enqueueTx(ctx, tx, l, end); err != nil {
		return err
	}
	if err := tx.UpdateLease(ctx, l); err != nil {
		return err
	}
	d := map[string]any{"request_id": l.RequestID, "starts_at": now.UTC().Format(time.RFC3339Nano), "ends_at": end.UTC().Format(time.RFC3339Nano)}
	for k, v := range detail {
		d[k] = v
	}
	if _, err := tx.AppendAudit(ctx, SystemActor, "lease.grant", "lease:"+l.ID, d, ""); err != nil {
		return err
	}
	_, err := s.moveTx(ctx, tx, req, []State{StateProvisioning}, StateActive, SystemActor, note, "granted")
	return err
}

// MarkTaskDone records that the owner of an imported application did the open task of
// request id (the owner or an admin). A grant marked done makes the lease active at once
// (unverified until an import shows it; the lease counts from now); a revoke marked done
// changes only the task: the lease ends when an import no longer shows the grant.
func (s *Service) MarkTaskDone(ctx context.Context, c *auth.Caller, id, note string) (*Request, error) {
	if err := signedIn(c); err != nil {
		return nil, err
	}
	me := strings.ToLower(c.Email)
	note = strings.TrimSpace(note)
	activated := false
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		req, err := s.loadRequestTx(ctx, tx, id)
		if CodeOf(err) == CodeNotFound {
			return notFound(id)
		}
		if err != nil {
			return err
		}
		if ok, err := s.canSee(ctx, tx, c, req); err != nil {
			return err
		} else if !ok {
			return notFound(id)
		}
		if req.Target.Kind != KindAppGrant {
			return Errorf(CodeConflict, "request %s is for AWS access, which Gatehouse grants and revokes itself: it has no owner task", id)
		}
		owner, err := s.isAppOwner(ctx, tx, req.Target.ConnectionID, me)
		if err != nil {
			return err
		}
		if !owner && !c.IsAdmin() {
			return Errorf(CodeForbidden, "only the owner of %s (or an admin) marks its tasks done", req.Target.AppName)
		}
		l, err := tx.LeaseOfRequest(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return Errorf(CodeConflict, "request %s is %s: it has no task yet", id, strings.ReplaceAll(string(req.State), "_", " "))
		}
		if err != nil {
			return err
		}
		tasks, err := tx.LeaseTasks(ctx, l.ID)
		if err != nil {
			return err
		}
		var k *store.LeaseTask
		for i := range tasks {
			if tasks[i].State == store.TaskOpen {
				k = &tasks[i]
			}
		}
		if k == nil {
			return Errorf(CodeConflict, "request %s has no open task (its tasks: %s)", id, describeTasks(tasks))
		}
		now := s.cfg.Now()
		k.State, k.DoneAt, k.DoneBy, k.DoneNote = store.TaskDone, &now, me, note
		if err := tx.UpdateLeaseTask(ctx, k); err != nil {
			return err
		}
		if _, err := tx.AppendAudit(ctx, me, "lease.task_done", "lease:"+l.ID, map[string]any{
			"request_id": id, "task": k.ID, "kind": k.Kind, "note": note}, c.RemoteAddr); err != nil {
			return err
		}
		msg := fmt.Sprintf("%s marked the %s task done", me, k.Kind)
		if note != "" {
			msg += ": " + note
		}
		if k.Kind == store.TaskGrant && l.State == store.LeasePending {
			activated = true
			return s.activateTx(ctx, tx, l, req, msg+" (not yet shown by an import: unverified)", map[string]any{"task_done_by": me})
		}
		return s.noteTx(ctx, tx, id, me, msg+"; the access ends when an import of "+req.Target.AppName+" no longer shows the grant")
	})
	if errors.Is(err, errDone) {
		err = nil
	}
	if err != nil {
		return nil, err
	}
	if activated {
		s.wakeSweeper()
	}
	return s.Get(ctx, c, id)
}

func describeTasks(tasks []store.LeaseTask) string {
	if len(tasks) == 0 {
		return "none"
	}
	var parts []string
	for _, t := range tasks {
		parts = append(parts, t.Kind+" "+t.State)
	}
	return strings.Join(parts, ", ")
}

// alertOverdueTasks alerts, once each, the tasks waiting past their due time: the owner, and
// for a revoke (access outliving its lease) the admins too (event app_task_overdue).
func (s *Service) alertOverdueTasks(ctx context.Context) error {
	now := s.cfg.Now()
	tasks, err := s.st.WaitingLeaseTasks(ctx, "", &now)
	if err != nil {
		return err
	}
	var errs []error
	for _, k := range tasks {
		err := s.st.InTx(ctx, func(tx *store.Tx) error {
			// The request first, then the lease: the order endEarly locks them in.
			req, err := s.loadRequestTx(ctx, tx, k.RequestID)
			if err != nil {
				return err
			}
			l, err := tx.Lease(ctx, k.LeaseID)
			if err != nil {
				return err
			}
			cur, err := tx.LeaseTasks(ctx, l.ID)
			if err != nil {
				return err
			}
			var t *store.LeaseTask
			for i := range cur {
				if cur[i].ID == k.ID {
					t = &cur[i]
				}
			}
			if t == nil || !t.Waiting() || t.AlertedAt != nil {
				return nil
			}
			t.AlertedAt = &now
			if err := tx.UpdateLeaseTask(ctx, t); err != nil {
				return err
			}
			to := []string{t.Owner}
			why := fmt.Sprintf("the %s task %s for %s is overdue since %s", t.Kind, t.ID, t.Owner, t.DueAt.UTC().Format(time.RFC3339))
			if t.Kind == store.TaskRevoke {
				admins, err := s.st.UsersWithRole(ctx, auth.RoleAdmin)
				if err != nil {
					return err
				}
				for _, a := range admins {
					if !slices.Contains(to, a) {
						to = append(to, a)
					}
				}
				why += fmt.Sprintf(": %s still has access in %s after the lease ended; Gatehouse cannot remove it, the owner must (%s)", req.Requester, req.Target.AppName, t.Instruction)
				if t.State == store.TaskDone {
					why += "; the owner marked it done, but no import has shown it removed yet"
				}
			} else {
				why += ": " + req.Requester + " is waiting for the access"
			}
			if _, err := tx.AppendAudit(ctx, SystemActor, "lease.task_overdue", "lease:"+l.ID, map[string]any{
				"request_id": l.RequestID, "task": t.ID, "kind": t.Kind, "owner": t.Owner, "due_at": t.DueAt.UTC().Format(time.RFC3339), "alerted": to}, ""); err != nil {
				return err
			}
			if err := s.noteTx(ctx, tx, l.RequestID, SystemActor, why); err != nil {
				return err
			}
			ev := s.leaseEvent(req, l, "app_task_overdue", SystemActor, why)
			ev.To = to
			return s.notifyTx(ctx, tx, ev)
		})
		if err != nil {
			errs = append(errs, err)
		}
	}
	if len(tasks) > 0 {
		s.log.Warn("owner tasks of imported applications are overdue", zap.Int("tasks", len(tasks)))
	}
	return errors.Join(errs...)
}

func init() { taskLoader = loadTasks }

// loadTasks fills in the owner tasks of leases in imported applications.
func loadTasks(ctx context.Context, s *Service, leases []*Lease) error {
	var ids []string
	for _, l := range leases {
		if l != nil && l.Target.Kind == KindAppGrant {
			ids = append(ids, l.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	tasks, err := s.st.TasksOfLeases(ctx, ids...)
	if err != nil {
		return err
	}
	for _, l := range leases {
		if l == nil {
			continue
		}
		for i := range tasks[l.ID] {
			t := s.ownerTask(&tasks[l.ID][i])
			l.Tasks = append(l.Tasks, t)
			if t.Kind == store.TaskGrant && t.State == store.TaskDone && l.State == LeaseActive {
				l.Unverified = true
			}
		}
	}
	return nil
}
