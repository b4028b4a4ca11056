package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// The states of a lease (internal/jit spells them the same).
const (
	LeasePending = "pending"
	LeaseActive  = "active"
	LeaseEnding  = "ending"
	LeaseEnded   = "ended"
	LeaseFailed  = "failed"
)

// Lease is one grant of temporary access (internal/jit owns what the fields mean).
type Lease struct {
	ID           string
	RequestID    string
	Requester    string
	ConnectionID string
	// AccessKey identifies the AWS access itself: leases with the same key share it.
	AccessKey string
	// Target is the JSON of what the lease grants (jit.Target).
	Target    string
	State     string
	Duration  time.Duration
	CreatedAt time.Time
	UpdatedAt time.Time
	// StartsAt and EndsAt are set when AWS confirmed the grant; EndedAt when AWS
	// confirmed the revoke (or the lease ended without one).
	StartsAt, EndsAt, EndedAt *time.Time
	// EndReason is why the lease ends (expired, released, revoked), set when it is asked
	// to end; EndedBy who asked; EndNote what the end did in AWS.
	EndReason, EndedBy, EndNote string
	// Standing means the access existed before any lease: a lease ending never removes it.
	Standing bool
	// Drift is what the reconciler found AWS to disagree with ("" when none).
	Drift     string
	Attempts  int
	LastError string
	// Gen numbers the lease's River jobs; JobID is the latest one's id (0 when none)
	// and JobAt when it is due.
	Gen   int
	JobID int64
	JobAt *time.Time
	// RemindedAt is when the expiry reminder was sent.
	RemindedAt  *time.Time
	EndSessions bool
}

const leaseColumns = `id, request_id, requester, connection_id, access_key, target, state, duration_ms,
	created_at, updated_at, starts_at, ends_at, ended_at, end_reason, ended_by, end_note, standing, drift,
	attempts, last_error, gen, job_id, job_at, reminded_at, end_sessions`

func scanLease(r row) (*Lease, error) {
	var l Lease
	var dur, created, updated int64
	var starts, ends, ended, job, jobAt, reminded sql.NullInt64
	if err := r.Scan(&l.ID, &l.RequestID, &l.Requester, &l.ConnectionID, &l.AccessKey, &l.Target, &l.State, &dur,
		&created, &updated, &starts, &ends, &ended, &l.EndReason, &l.EndedBy, &l.EndNote, &l.Standing, &l.Drift,
		&l.Attempts, &l.LastError, &l.Gen, &job, &jobAt, &reminded, &l.EndSessions); err != nil {
		return nil, err
	}
	l.Duration = time.Duration(dur) * time.Millisecond
	l.CreatedAt, l.UpdatedAt = fromMS(created), fromMS(updated)
	l.StartsAt, l.EndsAt, l.EndedAt, l.RemindedAt = msPtr(starts), msPtr(ends), msPtr(ended), msPtr(reminded)
	l.JobID, l.JobAt = job.Int64, msPtr(jobAt)
	return &l, nil
}

func scanLeases(rs rows, err error) ([]Lease, error) {
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []Lease
	for rs.Next() {
		l, err := scanLease(rs)
		if err != nil {
			return nil, err
		}
		out = append(out, *l)
	}
	if err := rs.Close(); err != nil {
		return nil, err
	}
	return out, nil
}

// InsertLease inserts a lease.
func (t *Tx) InsertLease(ctx context.Context, l *Lease) error {
	if l.ID == "" || l.RequestID == "" || l.AccessKey == "" || l.State == "" {
		return errors.New("insert lease: id, request, access key and state are required")
	}
	if l.UpdatedAt.IsZero() {
		l.UpdatedAt = l.CreatedAt
	}
	_, err := t.q.exec(ctx, `INSERT INTO leases (`+leaseColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		l.ID, l.RequestID, l.Requester, l.ConnectionID, l.AccessKey, l.Target, l.State, l.Duration.Milliseconds(),
		ms(l.CreatedAt), ms(l.UpdatedAt), msOrNil(l.StartsAt), msOrNil(l.EndsAt), msOrNil(l.EndedAt), l.EndReason, l.EndedBy, l.EndNote,
		l.Standing, l.Drift, l.Attempts, l.LastError, l.Gen, nullInt(l.JobID), msOrNil(l.JobAt), msOrNil(l.RemindedAt), l.EndSessions)
	if err != nil {
		return fmt.Errorf("insert lease %s: %w", l.ID, err)
	}
	return nil
}

// UpdateLease writes every field of the lease but its id, request, requester, connection,
// access key, target and creation time.
func (t *Tx) UpdateLease(ctx context.Context, l *Lease) error {
	n, err := t.q.exec(ctx, `UPDATE leases SET state = ?, duration_ms = ?, updated_at = ?, starts_at = ?, ends_at = ?, ended_at = ?,
		end_reason = ?, ended_by = ?, end_note = ?, standing = ?, drift = ?, attempts = ?, last_error = ?, gen = ?, job_id = ?,
		job_at = ?, reminded_at = ?, end_sessions = ? WHERE id = ?`,
		l.State, l.Duration.Milliseconds(), ms(l.UpdatedAt), msOrNil(l.StartsAt), msOrNil(l.EndsAt), msOrNil(l.EndedAt),
		l.EndReason, l.EndedBy, l.EndNote, l.Standing, l.Drift, l.Attempts, l.LastError, l.Gen, nullInt(l.JobID),
		msOrNil(l.JobAt), msOrNil(l.RemindedAt), l.EndSessions, l.ID)
	if err != nil {
		return fmt.Errorf("update lease %s: %w", l.ID, err)
	}
	if n == 0 {
		return fmt.Errorf("update lease %s: %w", l.ID, ErrNotFound)
	}
	return nil
}

func nullInt(v int64) any {
	if v == 0 {
		return nil
	}
	return v
}

// forUpdate is the row lock clause of the dialect: PostgreSQL locks the rows read; SQLite
// has one writer, which a write transaction already holds.
func (t *Tx) forUpdate() string {
	if t.store.dialect == Postgres {
		return " FOR UPDATE"
	}
	return ""
}

// Lease reads a lease in the transaction, locking it on PostgreSQL, or ErrNotFound.
func (t *Tx) Lease(ctx context.Context, id string) (*Lease, error) {
	l, err := scanLease(t.q.queryRow(ctx, "SELECT "+leaseColumns+" FROM leases WHERE id = ?"+t.forUpdate(), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read lease %s: %w", id, err)
	}
	return l, nil
}

// GetLease reads a lease, or ErrNotFound.
func (s *Store) GetLease(ctx context.Context, id string) (*Lease, error) {
	l, err := scanLease(s.read.queryRow(ctx, "SELECT "+leaseColumns+" FROM leases WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read lease %s: %w", id, err)
	}
	return l, nil
}

// LeaseOfRequest reads the lease of a request in the transaction (locking it on
// PostgreSQL), or ErrNotFound. A request has at most one lease.
func (t *Tx) LeaseOfRequest(ctx context.Context, requestID string) (*Lease, error) {
	l, err := scanLease(t.q.queryRow(ctx, "SELECT "+leaseColumns+" FROM leases WHERE request_id = ?"+t.forUpdate(), requestID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read the lease of request %s: %w", requestID, err)
	}
	return l, nil
}

// LeaseOfRequest reads the lease of a request, or ErrNotFound.
func (s *Store) LeaseOfRequest(ctx context.Context, requestID string) (*Lease, error) {
	l, err := scanLease(s.read.queryRow(ctx, "SELECT "+leaseColumns+" FROM leases WHERE request_id = ?", requestID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read the lease of request %s: %w", requestID, err)
	}
	return l, nil
}

// LeasesOfAccess lists the leases of one piece of access in the given states (all states
// when none), oldest first.
func (t *Tx) LeasesOfAccess(ctx context.Context, accessKey string, states ...string) ([]Lease, error) {
	q := "SELECT " + leaseColumns + " FROM leases WHERE access_key = ?"
	args := []any{accessKey}
	if len(states) > 0 {
		q += " AND state IN (" + placeholders(len(states)) + ")"
		for _, s := range states {
			args = append(args, s)
		}
	}
	out, err := scanLeases(t.q.query(ctx, q+" ORDER BY created_at, id", args...))
	if err != nil {
		return nil, fmt.Errorf("read the leases of %s: %w", accessKey, err)
	}
	return out, nil
}

// prefixColumns qualifies each column of a list with prefix ("l.").
func prefixColumns(prefix, cols string) string {
	var out []string
	for _, c := range strings.Split(cols, ",") {
		out = append(out, prefix+strings.TrimSpace(c))
	}
	return strings.Join(out, ", ")
}

// LeaseFilter filters ListLeases.
type LeaseFilter struct {
	Requester    string   // "" for everyone's
	States       []string // none for every state
	ConnectionID string
	// EndsBefore keeps leases with an end before it (active leases for reminders).
	EndsBefore *time.Time
	// EndedAfter keeps leases that ended after it.
	EndedAfter *time.Time
	// NotReminded keeps leases whose expiry reminder was not sent.
	NotReminded bool
}

// ListLeases lists leases, newest first.
func (s *Store) ListLeases(ctx context.Context, f LeaseFilter, p Page) ([]Lease, string, error) {
	var key struct {
		At int64
		ID string
	}
	q := "SELECT " + leaseColumns + " FROM leases WHERE 1 = 1"
	var args []any
	if f.Requester != "" {
		q += " AND requester = ?"
		args = append(args, f.Requester)
	}
	if f.ConnectionID != "" {
		q += " AND connection_id = ?"
		args = append(args, f.ConnectionID)
	}
	if len(f.States) > 0 {
		q += " AND state IN (" + placeholders(len(f.States)) + ")"
		for _, st := range f.States {
			args = append(args, st)
		}
	}
	if f.EndsBefore != nil {
		q += " AND ends_at IS NOT NULL AND ends_at < ?"
		args = append(args, ms(*f.EndsBefore))
	}
	if f.NotReminded {
		q += " AND reminded_at IS NULL"
	}
	if f.EndedAfter != nil {
		q += " AND ended_at IS NOT NULL AND ended_at > ?"
		args = append(args, ms(*f.EndedAfter))
	}
	if p.Token != "" {
		if err := decodeToken(p.Token, &key); err != nil {
			return nil, "", err
		}
		q += " AND (created_at < ? OR (created_at = ? AND id < ?))"
		args = append(args, key.At, key.At, key.ID)
	}
	size := p.size()
	q += fmt.Sprintf(" ORDER BY created_at DESC, id DESC LIMIT %d", size+1)
	out, err := scanLeases(s.read.query(ctx, q, args...))
	if err != nil {
		return nil, "", fmt.Errorf("list leases: %w", err)
	}
	next := ""
	if len(out) > size {
		out = out[:size]
		last := out[size-1]
		key.At, key.ID = ms(last.CreatedAt), last.ID
		next = encodeToken(key)
	}
	return out, next, nil
}

// LeasesNeedingJobs lists (at most limit) leases that need work — pending (to grant),
// ending, or active and past their end at now (to revoke) — that no live River job will
// work on soon, and whose access no worker holds the lock of at now (a pending or ending
// lease waiting for an application owner's task needs no job). A job is live when
// River will run it without help: it is available, retryable, or scheduled for a time
// after stale. A job scheduled for before stale waits for River's leader to make it
// available (every few seconds, and not at all while a dead leader's term runs out), and
// a job left running by a replica that died stays running for a long time: the sweeper
// gives such leases a new job.
func (s *Store) LeasesNeedingJobs(ctx context.Context, now, stale time.Time, limit int) ([]Lease, error) {
	q := "SELECT " + prefixColumns("l.", leaseColumns) + ` FROM leases l
		LEFT JOIN river_job j ON j.id = l.job_id
		LEFT JOIN jit_access_locks k ON k.access_key = l.access_key AND k.until_ms >= ?
		WHERE ((l.state IN ('pending', 'ending') AND NOT EXISTS (` + waitingOwnerTask + `)) OR (l.state = 'active' AND l.ends_at <= ?))
		AND NOT (j.id IS NOT NULL AND (j.state IN ('available', 'retryable', 'pending')
			OR (j.state = 'scheduled' AND l.job_at > ?)))
		AND k.access_key IS NULL
		ORDER BY l.ends_at, l.id LIMIT ?`
	out, err := scanLeases(s.read.query(ctx, q, ms(now), ms(now), ms(stale), limit))
	if err != nil {
		return nil, fmt.Errorf("list leases needing work: %w", err)
	}
	return out, nil
}

// waitingOwnerTask finds a task of lease l that waits for an imported application's owner
// (and for an import to show the change): such a pending or ending lease needs no job, the
// next import (or the owner) moves it on.
const waitingOwnerTask = `SELECT 1 FROM lease_tasks t WHERE t.lease_id = l.id AND t.state IN ('open', 'done')`

// LeaseDue is when the sweeper must look again: Overdue counts the leases that need work
// at now (whatever their jobs), and NextEnd is the earliest end of an active lease after
// now (nil when none).
type LeaseDue struct {
	Overdue int
	NextEnd *time.Time
	// NextReminder is the earliest time an active lease not reminded yet is due for its
	// reminder: lead before its end, or a quarter of its duration when that is shorter.
	NextReminder *time.Time
}

// LeasesDue says what the sweeper must look at next.
func (s *Store) LeasesDue(ctx context.Context, now time.Time, lead time.Duration) (LeaseDue, error) {
	var d LeaseDue
	if err := s.read.queryRow(ctx, `SELECT COUNT(*) FROM leases l WHERE (l.state IN ('pending', 'ending') AND NOT EXISTS (`+waitingOwnerTask+`))
		OR (l.state = 'active' AND l.ends_at <= ?)`,
		ms(now)).Scan(&d.Overdue); err != nil {
		return d, fmt.Errorf("count the leases due: %w", err)
	}
	var next sql.NullInt64
	if err := s.read.queryRow(ctx, `SELECT MIN(ends_at) FROM leases WHERE state = 'active' AND ends_at > ?`, ms(now)).Scan(&next); err != nil {
		return d, fmt.Errorf("find the next lease end: %w", err)
	}
	d.NextEnd = msPtr(next)
	var remind sql.NullInt64
	if err := s.read.queryRow(ctx, `SELECT MIN(ends_at - CASE WHEN duration_ms / 4 < ? THEN duration_ms / 4 ELSE ? END)
		FROM leases WHERE state = 'active' AND reminded_at IS NULL AND ends_at > ?`,
		lead.Milliseconds(), lead.Milliseconds(), ms(now)).Scan(&remind); err != nil {
		return d, fmt.Errorf("find the next lease reminder: %w", err)
	}
	d.NextReminder = msPtr(remind)
	return d, nil
}

// LockHolders lists the distinct holders of the access locks and limit slots held at
// now, for the sweeper to free those of a process that died.
func (s *Store) LockHolders(ctx context.Context, now time.Time) ([]string, error) {
	rs, err := s.read.query(ctx, `SELECT holder FROM jit_access_locks WHERE until_ms >= ?
		UNION SELECT holder FROM aws_limit_slots WHERE expires_at >= ?`, ms(now), ms(now))
	if err != nil {
		return nil, fmt.Errorf("list lock holders: %w", err)
	}
	defer rs.Close()
	var out []string
	for rs.Next() {
		var h string
		if err := rs.Scan(&h); err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rs.Close()
}

// DropLocksOf frees every access lock and limit slot whose holder starts with prefix
// (the holder names of a process that died).
func (s *Store) DropLocksOf(ctx context.Context, prefix string) error {
	if prefix == "" {
		return errors.New("drop locks: empty holder prefix")
	}
	return s.InTx(ctx, func(tx *Tx) error {
		if _, err := tx.q.exec(ctx, "DELETE FROM jit_access_locks WHERE substr(holder, 1, ?) = ?", len(prefix), prefix); err != nil {
			return err
		}
		_, err := tx.q.exec(ctx, "DELETE FROM aws_limit_slots WHERE substr(holder, 1, ?) = ?", len(prefix), prefix)
		return err
	})
}

// ---- Locks on a piece of access ----

// LockAccess takes the lock of an access key for holder until until, if it is free at
// now (never taken, expired, or already holder's). It reports whether holder has it.
func (s *Store) LockAccess(ctx context.Context, accessKey, holder string, now, until time.Time) (bool, error) {
	n, err := s.write.exec(ctx, `INSERT INTO jit_access_locks (access_key, holder, until_ms) VALUES (?, ?, ?)
		ON CONFLICT (access_key) DO UPDATE SET holder = excluded.holder, until_ms = excluded.until_ms
		WHERE jit_access_locks.until_ms < ? OR jit_access_locks.holder = excluded.holder`,
		accessKey, holder, ms(until), ms(now))
	if err != nil {
		return false, fmt.Errorf("lock %s: %w", accessKey, err)
	}
	return n > 0, nil
}

// RenewAccessLock extends holder's lock of an access key; false when holder lost it.
func (s *Store) RenewAccessLock(ctx context.Context, accessKey, holder string, until time.Time) (bool, error) {
	n, err := s.write.exec(ctx, "UPDATE jit_access_locks SET until_ms = ? WHERE access_key = ? AND holder = ?", ms(until), accessKey, holder)
	if err != nil {
		return false, fmt.Errorf("renew the lock of %s: %w", accessKey, err)
	}
	return n > 0, nil
}

// UnlockAccess frees holder's lock of an access key.
func (s *Store) UnlockAccess(ctx context.Context, accessKey, holder string) error {
	if _, err := s.write.exec(ctx, "DELETE FROM jit_access_locks WHERE access_key = ? AND holder = ?", accessKey, holder); err != nil {
		return fmt.Errorf("unlock %s: %w", accessKey, err)
	}
	return nil
}

// ---- AWS limits shared by the replicas ----

// TryAcquireSlot takes one of the n slots of scope for holder until expires, if one is
// free at now (never taken or expired). It returns the slot and whether it got one.
func (s *Store) TryAcquireSlot(ctx context.Context, scope string, n int, holder string, now, expires time.Time) (int, bool, error) {
	var got = -1
	err := s.InTx(ctx, func(tx *Tx) error {
		rs, err := tx.q.query(ctx, "SELECT slot FROM aws_limit_slots WHERE scope = ? AND expires_at >= ?"+tx.forUpdate(), scope, ms(now))
		if err != nil {
			return err
		}
		taken := map[int]bool{}
		for rs.Next() {
			var slot int
			if err := rs.Scan(&slot); err != nil {
				rs.Close()
				return err
			}
			taken[slot] = true
		}
		if err := rs.Close(); err != nil {
			return err
		}
		for slot := 0; slot < n; slot++ {
			if taken[slot] {
				continue
			}
			// Another replica may take the same free slot at the same moment: the
			// conditional upsert lets only one of them have it.
			c, err := tx.q.exec(ctx, `INSERT INTO aws_limit_slots (scope, slot, holder, expires_at) VALUES (?, ?, ?, ?)
				ON CONFLICT (scope, slot) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
				WHERE aws_limit_slots.expires_at < ?`, scope, slot, holder, ms(expires), ms(now))
			if err != nil {
				return err
			}
			if c > 0 {
				got = slot
				return nil
			}
		}
		return nil
	})
	if err != nil {
		return 0, false, fmt.Errorf("take a slot of %s: %w", scope, err)
	}
	return got, got >= 0, nil
}

// RenewSlot extends holder's slot; false when holder lost it (it expired and was taken).
func (s *Store) RenewSlot(ctx context.Context, scope string, slot int, holder string, expires time.Time) (bool, error) {
	n, err := s.write.exec(ctx, "UPDATE aws_limit_slots SET expires_at = ? WHERE scope = ? AND slot = ? AND holder = ?", ms(expires), scope, slot, holder)
	if err != nil {
		return false, fmt.Errorf("renew slot %d of %s: %w", slot, scope, err)
	}
	return n > 0, nil
}

// ReleaseSlot frees holder's slot.
func (s *Store) ReleaseSlot(ctx context.Context, scope string, slot int, holder string) error {
	if _, err := s.write.exec(ctx, "DELETE FROM aws_limit_slots WHERE scope = ? AND slot = ? AND holder = ?", scope, slot, holder); err != nil {
		return fmt.Errorf("free slot %d of %s: %w", slot, scope, err)
	}
	return nil
}

// SlotsHeld counts the slots of scope held at now.
func (s *Store) SlotsHeld(ctx context.Context, scope string, now time.Time) (int, error) {
	var n int
	if err := s.read.queryRow(ctx, "SELECT COUNT(*) FROM aws_limit_slots WHERE scope = ? AND expires_at >= ?", scope, ms(now)).Scan(&n); err != nil {
		return 0, fmt.Errorf("count the slots of %s: %w", scope, err)
	}
	return n, nil
}

// TakeToken takes one token of scope's bucket (rate tokens per second, at most burst
// kept) at now and returns how long the caller must wait before acting: 0 when a token
// was there, otherwise the time until the bucket has refilled the one it lent (the
// bucket goes below zero, so that callers queue in the order they asked).
func (s *Store) TakeToken(ctx context.Context, scope string, rate float64, burst int, now time.Time) (time.Duration, error) {
	if rate <= 0 {
		return 0, nil
	}
	var wait time.Duration
	err := s.InTx(ctx, func(tx *Tx) error {
		if _, err := tx.q.exec(ctx, `INSERT INTO aws_limit_rates (scope, tokens_milli, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (scope) DO NOTHING`, scope, int64(burst)*1000, ms(now)); err != nil {
			return err
		}
		var tokens, updated int64
		if err := tx.q.queryRow(ctx, "SELECT tokens_milli, updated_at FROM aws_limit_rates WHERE scope = ?"+tx.forUpdate(), scope).Scan(&tokens, &updated); err != nil {
			return err
		}
		// The bucket counts thousandths of a token, so it gains rate of them per
		// millisecond.
		if elapsed := ms(now) - updated; elapsed > 0 {
			tokens += int64(float64(elapsed) * rate)
			updated = ms(now)
		}
		tokens = min(tokens, int64(burst)*1000)
		tokens -= 1000
		if tokens < 0 {
			wait = time.Duration(float64(-tokens) / rate * float64(time.Millisecond))
		}
		_, err := tx.q.exec(ctx, "UPDATE aws_limit_rates SET tokens_milli = ?, updated_at = ? WHERE scope = ?", tokens, updated, scope)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("take a token of %s: %w", scope, err)
	}
	return wait, nil
}

// LeasesOfRequests reads the leases of requests, by request id (requests without one are
// missing from the map).
func (s *Store) LeasesOfRequests(ctx context.Context, requestIDs ...string) (map[string]*Lease, error) {
	out := map[string]*Lease{}
	for len(requestIDs) > 0 {
		n := min(len(requestIDs), 500)
		args := make([]any, n)
		for i, id := range requestIDs[:n] {
			args[i] = id
		}
		list, err := scanLeases(s.read.query(ctx, "SELECT "+leaseColumns+" FROM leases WHERE request_id IN ("+placeholders(n)+")", args...))
		if err != nil {
			return nil, fmt.Errorf("read the leases of requests: %w", err)
		}
		for i := range list {
			out[list[i].RequestID] = &list[i]
		}
		requestIDs = requestIDs[n:]
	}
	return out, nil
}
