package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The states of a sync. Queued and running are active; the others are final.
const (
	SyncQueued    = "queued"
	SyncRunning   = "running"
	SyncSucceeded = "succeeded"
	SyncPartial   = "partial"
	SyncFailed    = "failed"
)

// What started a sync.
const (
	TriggerManual   = "manual"
	TriggerSchedule = "schedule"
)

// ErrSyncActive is InsertSync's error when the connection already has a queued or
// running sync.
var ErrSyncActive = errors.New("a sync of this connection is already queued or running")

// Sync is one sync of one connection, from queued to a final state.
type Sync struct {
	ID           string
	ConnectionID string
	State        string
	// Trigger is TriggerManual ("Sync now", the API) or TriggerSchedule.
	Trigger string
	// RequestedBy is the email of who started it ("" for the scheduler).
	RequestedBy string
	QueuedAt    time.Time
	// StartedAt is when the latest attempt started; FinishedAt when the sync reached its
	// final state.
	StartedAt, FinishedAt *time.Time
	// APICalls and Throttles are the AWS calls of the final attempt (while it runs,
	// Progress.APICalls counts them).
	APICalls, Throttles int64
	Progress            SyncProgress
	// Skipped are the accounts whose IAM could not be read, with why and what to do.
	Skipped []SkippedAccount
	// Error says why a sync failed (or why the last attempt did, while it is retried).
	Error string
	// Summary is the JSON summary of a finished sync (counts, ingest result).
	Summary json.RawMessage
	// C1ZPath is the kept .c1z, in the data directory of the replica that ran the sync
	// (Runner); empty once retention deleted it.
	C1ZPath string
	// Attempts counts the attempts started (River retries a failed or rescued job).
	Attempts int
	// JobID is the River job that runs the sync; Runner the River client id of the
	// replica that runs (or ran) it.
	JobID  int64
	Runner string
}

// Final reports whether the sync reached a final state.
func (s *Sync) Final() bool {
	return s.State == SyncSucceeded || s.State == SyncPartial || s.State == SyncFailed
}

// SyncProgress is how far a running sync is.
type SyncProgress struct {
	AccountsDone  int    `json:"accounts_done"`
	AccountsTotal int    `json:"accounts_total"`
	Phase         string `json:"phase,omitempty"`
	APICalls      int64  `json:"api_calls"`
	Throttles     int64  `json:"throttles,omitempty"`
}

// SkippedAccount is an account a sync could not read: why, and what fixes it.
type SkippedAccount struct {
	AccountID string `json:"account_id"`
	Name      string `json:"name,omitempty"`
	// Status is the account's Organizations status (ACTIVE, SUSPENDED, ...).
	Status string `json:"status,omitempty"`
	Reason string `json:"reason"`
	Fix    string `json:"fix"`
}

// NewSyncID returns a new sync id: "s" then the time in hex (ids sort by creation) and
// random hex.
func NewSyncID() string {
	var b [5]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("s%011x%s", time.Now().UnixMilli(), hex.EncodeToString(b[:]))
}

const syncColumns = `id, connection_id, state, trigger_kind, requested_by, queued_at, started_at, finished_at,
	api_calls, throttles, progress, summary, skipped, error, c1z_path, attempts, job_id, runner`

func scanSync(r row) (*Sync, error) {
	var s Sync
	var queued int64
	var started, finished, job sql.NullInt64
	var progress, summary, skipped string
	if err := r.Scan(&s.ID, &s.ConnectionID, &s.State, &s.Trigger, &s.RequestedBy, &queued, &started, &finished,
		&s.APICalls, &s.Throttles, &progress, &summary, &skipped, &s.Error, &s.C1ZPath, &s.Attempts, &job, &s.Runner); err != nil {
		return nil, err
	}
	s.QueuedAt = fromMS(queued)
	if started.Valid {
		t := fromMS(started.Int64)
		s.StartedAt = &t
	}
	if finished.Valid {
		t := fromMS(finished.Int64)
		s.FinishedAt = &t
	}
	s.JobID = job.Int64
	if err := json.Unmarshal([]byte(progress), &s.Progress); err != nil {
		return nil, fmt.Errorf("sync %s: progress: %w", s.ID, err)
	}
	if err := json.Unmarshal([]byte(skipped), &s.Skipped); err != nil {
		return nil, fmt.Errorf("sync %s: skipped accounts: %w", s.ID, err)
	}
	if summary != "" && summary != "{}" {
		s.Summary = json.RawMessage(summary)
	}
	return &s, nil
}

// isUniqueViolation reports whether err is a unique constraint failing (SQLite's
// "UNIQUE constraint failed", PostgreSQL's SQLSTATE 23505).
func isUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	var coded interface{ SQLState() string }
	if errors.As(err, &coded) && coded.SQLState() == "23505" {
		return true
	}
	return strings.Contains(err.Error(), "UNIQUE constraint failed") || strings.Contains(err.Error(), "(23505)")
}

// ActiveSync is the connection's queued or running sync, or ErrNotFound.
func (t *Tx) ActiveSync(ctx context.Context, connectionID string) (*Sync, error) {
	s, err := scanSync(t.q.queryRow(ctx, "SELECT "+syncColumns+" FROM syncs WHERE connection_id = ? AND state IN ('queued', 'running')", connectionID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return s, err
}

// InsertSync inserts a queued sync (ID, ConnectionID, Trigger, RequestedBy, QueuedAt and
// JobID are taken from s). It fails with ErrSyncActive when the connection already has a
// queued or running sync: a unique index guarantees it even for two replicas inserting
// at once.
func (t *Tx) InsertSync(ctx context.Context, s *Sync) error {
	if _, err := t.ActiveSync(ctx, s.ConnectionID); err == nil {
		return ErrSyncActive
	} else if !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("read active sync: %w", err)
	}
	var job any
	if s.JobID != 0 {
		job = s.JobID
	}
	_, err := t.q.exec(ctx, `INSERT INTO syncs (id, connection_id, state, trigger_kind, requested_by, queued_at, job_id)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, s.ID, s.ConnectionID, SyncQueued, s.Trigger, s.RequestedBy, ms(s.QueuedAt), job)
	if isUniqueViolation(err) {
		return ErrSyncActive
	}
	if err != nil {
		return fmt.Errorf("insert sync: %w", err)
	}
	s.State = SyncQueued
	return nil
}

// SetSyncJob records the River job that runs the sync.
func (t *Tx) SetSyncJob(ctx context.Context, syncID string, jobID int64) error {
	_, err := t.q.exec(ctx, "UPDATE syncs SET job_id = ? WHERE id = ?", jobID, syncID)
	return err
}

// GetSync returns a sync by id, or ErrNotFound.
func (s *Store) GetSync(ctx context.Context, id string) (*Sync, error) {
	sy, err := scanSync(s.read.queryRow(ctx, "SELECT "+syncColumns+" FROM syncs WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read sync %s: %w", id, err)
	}
	return sy, nil
}

// LatestSync returns the connection's most recently queued sync, or ErrNotFound when it
// never synced.
func (s *Store) LatestSync(ctx context.Context, connectionID string) (*Sync, error) {
	sy, err := scanSync(s.read.queryRow(ctx, "SELECT "+syncColumns+
		" FROM syncs WHERE connection_id = ? ORDER BY queued_at DESC, id DESC LIMIT 1", connectionID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read latest sync of %s: %w", connectionID, err)
	}
	return sy, nil
}

// ListSyncs lists syncs newest first, of one connection or (connectionID "") of all. The
// returned token asks for the next page; it is empty on the last one.
func (s *Store) ListSyncs(ctx context.Context, connectionID string, p Page) ([]Sync, string, error) {
	size := p.size()
	q := "SELECT " + syncColumns + " FROM syncs WHERE 1=1"
	var args []any
	if connectionID != "" {
		q += " AND connection_id = ?"
		args = append(args, connectionID)
	}
	if p.Token != "" {
		var key syncPageKey
		if err := decodeToken(p.Token, &key); err != nil {
			return nil, "", fmt.Errorf("%w: page_token %q is not one this list returned", ErrBadPageToken, p.Token)
		}
		q += " AND (queued_at < ? OR (queued_at = ? AND id < ?))"
		args = append(args, key.QueuedAt, key.QueuedAt, key.ID)
	}
	q += " ORDER BY queued_at DESC, id DESC LIMIT " + strconv.Itoa(size+1)
	rs, err := s.read.query(ctx, q, args...)
	if err != nil {
		return nil, "", fmt.Errorf("list syncs: %w", err)
	}
	defer rs.Close()
	var out []Sync
	for rs.Next() {
		sy, err := scanSync(rs)
		if err != nil {
			return nil, "", err
		}
		out = append(out, *sy)
	}
	if err := rs.Err(); err != nil {
		return nil, "", fmt.Errorf("list syncs: %w", err)
	}
	next := ""
	if len(out) > size {
		out = out[:size]
		last := out[size-1]
		next = encodeToken(syncPageKey{QueuedAt: ms(last.QueuedAt), ID: last.ID})
	}
	return out, next, nil
}

// syncPageKey is the sort key of the last sync of a page.
type syncPageKey struct {
	QueuedAt int64  `json:"q"`
	ID       string `json:"i"`
}

// StartSyncAttempt marks the sync running for a new attempt by runner: attempts is
// incremented, the progress, error and counts of an earlier attempt are cleared. It
// returns the sync as it is now; a sync already final is returned unchanged (the caller
// has nothing to do).
func (s *Store) StartSyncAttempt(ctx context.Context, id, runner string, at time.Time) (*Sync, error) {
	if _, err := s.write.exec(ctx, `UPDATE syncs SET state = 'running', started_at = ?, runner = ?, attempts = attempts + 1,
		progress = '{}', error = '', api_calls = 0, throttles = 0, skipped = '[]'
		WHERE id = ? AND state IN ('queued', 'running')`, ms(at), runner, id); err != nil {
		return nil, fmt.Errorf("start sync %s: %w", id, err)
	}
	return s.GetSyncWritten(ctx, id)
}

// GetSyncWritten is GetSync read through the writer, so that it sees what this process
// just wrote even on a SQLite reader that has not caught up.
func (s *Store) GetSyncWritten(ctx context.Context, id string) (*Sync, error) {
	sy, err := scanSync(s.write.queryRow(ctx, "SELECT "+syncColumns+" FROM syncs WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return sy, err
}

// UpdateSyncProgress records the progress of a running attempt. It does nothing when
// the attempt is no longer the current one.
func (s *Store) UpdateSyncProgress(ctx context.Context, id string, attempt int, p SyncProgress) error {
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	_, err = s.write.exec(ctx, "UPDATE syncs SET progress = ?, api_calls = ?, throttles = ? WHERE id = ? AND attempts = ? AND state = 'running'",
		string(b), p.APICalls, p.Throttles, id, attempt)
	return err
}

// RequeueSync puts a running attempt that failed in a way worth retrying back to
// queued, with why; River runs the job again.
func (s *Store) RequeueSync(ctx context.Context, id string, attempt int, reason string) error {
	_, err := s.write.exec(ctx, "UPDATE syncs SET state = 'queued', error = ? WHERE id = ? AND attempts = ? AND state = 'running'",
		reason, id, attempt)
	return err
}

// SyncFinish is the final state of a sync.
type SyncFinish struct {
	State               string
	At                  time.Time
	APICalls, Throttles int64
	Progress            SyncProgress
	Skipped             []SkippedAccount
	Error               string
	Summary             any
	C1ZPath             string
}

// FinishSync sets the final state of the sync's attempt (attempt 0: whatever attempt,
// for a sync whose job is gone). It reports false, and changes nothing, when the sync is
// already final or another attempt has started since.
func (t *Tx) FinishSync(ctx context.Context, id string, attempt int, f SyncFinish) (bool, error) {
	switch f.State {
	case SyncSucceeded, SyncPartial, SyncFailed:
	default:
		return false, fmt.Errorf("finish sync %s: %q is not a final state", id, f.State)
	}
	skipped := f.Skipped
	if skipped == nil {
		skipped = []SkippedAccount{}
	}
	sk, err := json.Marshal(skipped)
	if err != nil {
		return false, err
	}
	pr, err := json.Marshal(f.Progress)
	if err != nil {
		return false, err
	}
	sum := []byte("{}")
	if f.Summary != nil {
		if sum, err = json.Marshal(f.Summary); err != nil {
			return false, err
		}
	}
	q := `UPDATE syncs SET state = ?, finished_at = ?, api_calls = ?, throttles = ?, progress = ?, skipped = ?, error = ?,
		summary = ?, c1z_path = ? WHERE id = ? AND state IN ('queued', 'running')`
	args := []any{f.State, ms(f.At), f.APICalls, f.Throttles, string(pr), string(sk), f.Error, string(sum), f.C1ZPath, id}
	if attempt > 0 {
		q += " AND attempts = ?"
		args = append(args, attempt)
	}
	n, err := t.q.exec(ctx, q, args...)
	if err != nil {
		return false, fmt.Errorf("finish sync %s: %w", id, err)
	}
	return n == 1, nil
}

// ForgetC1Z records that a kept .c1z was deleted (retention).
func (s *Store) ForgetC1Z(ctx context.Context, path string) error {
	_, err := s.write.exec(ctx, "UPDATE syncs SET c1z_path = '' WHERE c1z_path = ?", path)
	return err
}

// LostSyncs are the queued or running syncs whose River job River has finished with
// (discarded after its last attempt, cancelled, or deleted) without the sync reaching a
// final state: nothing will run them any more.
func (s *Store) LostSyncs(ctx context.Context) ([]Sync, error) {
	rs, err := s.read.query(ctx, "SELECT "+prefixed("s.", syncColumns)+` FROM syncs s LEFT JOIN river_job j ON j.id = s.job_id
		WHERE s.state IN ('queued', 'running') AND s.job_id IS NOT NULL
		AND (j.id IS NULL OR j.state IN ('discarded', 'cancelled', 'completed'))`)
	if err != nil {
		return nil, fmt.Errorf("list lost syncs: %w", err)
	}
	defer rs.Close()
	var out []Sync
	for rs.Next() {
		sy, err := scanSync(rs)
		if err != nil {
			return nil, err
		}
		out = append(out, *sy)
	}
	return out, rs.Err()
}

func prefixed(p, cols string) string {
	parts := strings.Split(cols, ",")
	for i, c := range parts {
		parts[i] = p + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}

// JobCounts counts River's jobs by state (available, running, retryable, scheduled,
// ...), for the queue-depth metric.
func (s *Store) JobCounts(ctx context.Context) (map[string]int64, error) {
	rs, err := s.read.query(ctx, "SELECT CAST(state AS TEXT), COUNT(*) FROM river_job GROUP BY state")
	if err != nil {
		return nil, fmt.Errorf("count jobs: %w", err)
	}
	defer rs.Close()
	out := map[string]int64{}
	for rs.Next() {
		var st string
		var n int64
		if err := rs.Scan(&st, &n); err != nil {
			return nil, err
		}
		out[st] = n
	}
	return out, rs.Err()
}
