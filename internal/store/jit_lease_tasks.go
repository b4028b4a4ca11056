package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Owner tasks of leases in applications imported from files (internal/jit owns what they
// mean; migration 00026).

// The kinds and states of a lease task.
const (
	TaskGrant  = "grant"
	TaskRevoke = "revoke"

	TaskOpen      = "open"      // the owner has not acted
	TaskDone      = "done"      // the owner says it is done; no import has shown it yet
	TaskVerified  = "verified"  // an import showed the change
	TaskCancelled = "cancelled" // no longer needed
)

// LeaseTask is one thing an application's owner must do for a lease.
type LeaseTask struct {
	ID, LeaseID, RequestID, AppID string
	Kind, Owner, State            string
	// Instruction says exactly what to change in the application.
	Instruction string
	CreatedAt   time.Time
	DueAt       time.Time
	DoneAt      *time.Time
	DoneBy      string
	DoneNote    string
	VerifiedAt  *time.Time
	VerifiedRun string
	AlertedAt   *time.Time
	ClosedNote  string
}

// Waiting says the task still waits for an import to show its change.
func (t *LeaseTask) Waiting() bool { return t.State == TaskOpen || t.State == TaskDone }

const leaseTaskColumns = `id, lease_id, request_id, app_id, kind, owner, state, instruction, created_at, due_at,
	done_at, done_by, done_note, verified_at, verified_run, alerted_at, closed_note`

func scanLeaseTask(r row) (*LeaseTask, error) {
	var t LeaseTask
	var created, due int64
	var done, verified, alerted sql.NullInt64
	if err := r.Scan(&t.ID, &t.LeaseID, &t.RequestID, &t.AppID, &t.Kind, &t.Owner, &t.State, &t.Instruction, &created, &due,
		&done, &t.DoneBy, &t.DoneNote, &verified, &t.VerifiedRun, &alerted, &t.ClosedNote); err != nil {
		return nil, err
	}
	t.CreatedAt, t.DueAt = fromMS(created), fromMS(due)
	t.DoneAt, t.VerifiedAt, t.AlertedAt = msPtr(done), msPtr(verified), msPtr(alerted)
	return &t, nil
}

func scanLeaseTasks(rs rows, err error) ([]LeaseTask, error) {
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []LeaseTask
	for rs.Next() {
		t, err := scanLeaseTask(rs)
		if err != nil {
			return nil, err
		}
		out = append(out, *t)
	}
	if err := rs.Close(); err != nil {
		return nil, err
	}
	return out, nil
}

// InsertLeaseTask inserts a task; a lease has at most one task of each kind (ErrConflict).
func (t *Tx) InsertLeaseTask(ctx context.Context, k *LeaseTask) error {
	if k.ID == "" || k.LeaseID == "" || k.Kind == "" || k.State == "" {
		return errors.New("insert lease task: id, lease, kind and state are required")
	}
	_, err := t.q.exec(ctx, `INSERT INTO lease_tasks (`+leaseTaskColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		k.ID, k.LeaseID, k.RequestID, k.AppID, k.Kind, k.Owner, k.State, k.Instruction, ms(k.CreatedAt), ms(k.DueAt),
		msOrNil(k.DoneAt), k.DoneBy, k.DoneNote, msOrNil(k.VerifiedAt), k.VerifiedRun, msOrNil(k.AlertedAt), k.ClosedNote)
	if err != nil {
		if isUniqueViolation(err) {
			return fmt.Errorf("lease %s already has a %s task: %w", k.LeaseID, k.Kind, ErrConflict)
		}
		return fmt.Errorf("insert lease task %s: %w", k.ID, err)
	}
	return nil
}

// UpdateLeaseTask writes a task's state and what happened to it.
func (t *Tx) UpdateLeaseTask(ctx context.Context, k *LeaseTask) error {
	n, err := t.q.exec(ctx, `UPDATE lease_tasks SET state = ?, owner = ?, instruction = ?, due_at = ?, done_at = ?, done_by = ?,
		done_note = ?, verified_at = ?, verified_run = ?, alerted_at = ?, closed_note = ? WHERE id = ?`,
		k.State, k.Owner, k.Instruction, ms(k.DueAt), msOrNil(k.DoneAt), k.DoneBy, k.DoneNote, msOrNil(k.VerifiedAt),
		k.VerifiedRun, msOrNil(k.AlertedAt), k.ClosedNote, k.ID)
	if err != nil {
		return fmt.Errorf("update lease task %s: %w", k.ID, err)
	}
	if n == 0 {
		return fmt.Errorf("update lease task %s: %w", k.ID, ErrNotFound)
	}
	return nil
}

// LeaseTasks lists a lease's tasks in the transaction, oldest first.
func (t *Tx) LeaseTasks(ctx context.Context, leaseID string) ([]LeaseTask, error) {
	out, err := scanLeaseTasks(t.q.query(ctx, "SELECT "+leaseTaskColumns+" FROM lease_tasks WHERE lease_id = ? ORDER BY created_at, id", leaseID))
	if err != nil {
		return nil, fmt.Errorf("read the tasks of lease %s: %w", leaseID, err)
	}
	return out, nil
}

// TasksOfLeases lists the tasks of leases, by lease id, oldest first.
func (s *Store) TasksOfLeases(ctx context.Context, leaseIDs ...string) (map[string][]LeaseTask, error) {
	out := map[string][]LeaseTask{}
	for start := 0; start < len(leaseIDs); start += 500 {
		ids := leaseIDs[start:min(start+500, len(leaseIDs))]
		args := make([]any, len(ids))
		for i, id := range ids {
			args[i] = id
		}
		list, err := scanLeaseTasks(s.read.query(ctx, "SELECT "+leaseTaskColumns+" FROM lease_tasks WHERE lease_id IN ("+
			placeholders(len(ids))+") ORDER BY created_at, id", args...))
		if err != nil {
			return nil, fmt.Errorf("read lease tasks: %w", err)
		}
		for _, t := range list {
			out[t.LeaseID] = append(out[t.LeaseID], t)
		}
	}
	return out, nil
}

// WaitingLeaseTasks lists the tasks that wait for an import (open or done): of application
// appID, or of every application when appID is "". DueBefore (when not nil) keeps those due
// before it and not alerted yet.
func (s *Store) WaitingLeaseTasks(ctx context.Context, appID string, dueBefore *time.Time) ([]LeaseTask, error) {
	conds := []string{"state IN ('open', 'done')"}
	var args []any
	if appID != "" {
		conds = append(conds, "app_id = ?")
		args = append(args, appID)
	}
	if dueBefore != nil {
		conds = append(conds, "due_at <= ? AND alerted_at IS NULL")
		args = append(args, ms(*dueBefore))
	}
	out, err := scanLeaseTasks(s.read.query(ctx, "SELECT "+leaseTaskColumns+" FROM lease_tasks WHERE "+strings.Join(conds, " AND ")+
		" ORDER BY created_at, id", args...))
	if err != nil {
		return nil, fmt.Errorf("read the waiting lease tasks: %w", err)
	}
	return out, nil
}

// AppGrantsOfEmail lists the current grants of an imported application's entitlement held by
// its users whose email is email (an application's users link to people by email), by id.
func (t *Tx) AppGrantsOfEmail(ctx context.Context, appID, entitlementID, email string) ([]string, error) {
	rs, err := t.q.query(ctx, `SELECT g.id FROM inv_grants g
		JOIN inv_resources u ON u.connection_id = g.connection_id AND u.type = g.principal_type AND u.id = g.principal_id
			AND u.removed_at IS NULL
		WHERE g.connection_id = ? AND g.entitlement_id = ? AND g.removed_at IS NULL AND lower(u.email) = ?
		ORDER BY g.id`, appID, entitlementID, strings.ToLower(strings.TrimSpace(email)))
	if err != nil {
		return nil, fmt.Errorf("grants of %s to %s: %w", entitlementID, email, err)
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
		return nil, fmt.Errorf("grants of %s to %s: %w", entitlementID, email, err)
	}
	return out, nil
}

// AppOwner is the owner (email) of an imported application, in the transaction.
func (t *Tx) AppOwner(ctx context.Context, appID string) (string, error) {
	var owner string
	err := t.q.queryRow(ctx, "SELECT owner FROM apps WHERE id = ?", appID).Scan(&owner)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("application %q: %w", appID, ErrNotFound)
	}
	return owner, err
}
