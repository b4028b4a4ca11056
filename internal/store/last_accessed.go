package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Service last accessed details (IAM's access advisor) of a connection's users and
// roles, kept across syncs: the sync starts a job for a few entities (a budget per
// account), a later sync collects it (internal/awsfetch, lastaccess.go), and the findings
// judge the services granted but not used from the last collected result.

// ServiceAccess is one service an entity's permissions policies allow, and when the
// entity last used it (nil: not in the tracking period).
type ServiceAccess struct {
	Namespace         string     `json:"namespace"`
	Name              string     `json:"name"`
	LastAuthenticated *time.Time `json:"last_authenticated,omitempty"`
	// Entities is TotalAuthenticatedEntities.
	Entities int `json:"entities"`
}

// LastAccess is what is known of one entity's service last accessed details.
type LastAccess struct {
	EntityARN string
	AccountID string
	// JobID is a job started and not yet collected ("" without one), started at
	// JobStartedAt.
	JobID        string
	JobStartedAt *time.Time
	// CompletedAt is when the last collected job completed (nil: never collected);
	// Services its result and ReadSync the sync that collected it.
	CompletedAt *time.Time
	Services    []ServiceAccess
	ReadSync    string
	// Error is the last failure to read ("" when the last attempt worked), at ErrorAt.
	Error     string
	ErrorAt   *time.Time
	UpdatedAt time.Time
}

// LastAccessUpdate is what one sync learnt of one entity. Kind says what: "started" (a
// job was started: JobID), "pending" (the job is still in progress), "completed"
// (CompletedAt and Services), "failed" (Error; the job is dropped), "unread" (Error; the
// job, if any, is kept for the next sync), "expired" (AWS no longer knows the job: it is
// dropped). The last collected result is kept by every kind but "completed".
type LastAccessUpdate struct {
	EntityARN   string
	AccountID   string
	Kind        string
	JobID       string
	At          time.Time
	CompletedAt time.Time
	Services    []ServiceAccess
	Error       string
}

// The kinds of LastAccessUpdate.
const (
	LastAccessStarted   = "started"
	LastAccessPending   = "pending"
	LastAccessCompleted = "completed"
	LastAccessFailed    = "failed"
	LastAccessUnread    = "unread"
	LastAccessExpired   = "expired"
)

const lastAccessColumns = "entity_arn, account_id, job_id, job_started_at, completed_at, services, read_sync, error, error_at, updated_at"

// LastAccessOf returns the connection's entities' service last accessed state by entity
// ARN.
func (s *Store) LastAccessOf(ctx context.Context, connectionID string) (map[string]LastAccess, error) {
	return lastAccessOf(ctx, s.read, connectionID)
}

func lastAccessOf(ctx context.Context, q querier, connectionID string) (map[string]LastAccess, error) {
	rs, err := q.query(ctx, "SELECT "+lastAccessColumns+" FROM last_accessed WHERE connection_id = ?", connectionID)
	if err != nil {
		return nil, fmt.Errorf("read the service last accessed details of %s: %w", connectionID, err)
	}
	out := map[string]LastAccess{}
	for rs.Next() {
		var l LastAccess
		var started, completed, errAt sql.NullInt64
		var services string
		var updated int64
		if err := rs.Scan(&l.EntityARN, &l.AccountID, &l.JobID, &started, &completed, &services, &l.ReadSync, &l.Error, &errAt, &updated); err != nil {
			rs.Close()
			return nil, err
		}
		l.JobStartedAt, l.CompletedAt, l.ErrorAt, l.UpdatedAt = msPtr(started), msPtr(completed), msPtr(errAt), fromMS(updated)
		if err := json.Unmarshal([]byte(services), &l.Services); err != nil {
			rs.Close()
			return nil, fmt.Errorf("service last accessed details of %s: %w", l.EntityARN, err)
		}
		out[l.EntityARN] = l
	}
	if err := closeRows(rs); err != nil {
		return nil, fmt.Errorf("read the service last accessed details of %s: %w", connectionID, err)
	}
	return out, nil
}

// ApplyLastAccess records what sync syncID learnt, in one transaction, merging each
// update into what was known (see LastAccessUpdate's kinds).
func (s *Store) ApplyLastAccess(ctx context.Context, connectionID, syncID string, updates []LastAccessUpdate) error {
	if len(updates) == 0 {
		return nil
	}
	return s.InTx(ctx, func(tx *Tx) error {
		known, err := lastAccessOf(ctx, tx.q, connectionID)
		if err != nil {
			return err
		}
		return applyLastAccess(ctx, tx, connectionID, syncID, known, updates)
	})
}

func applyLastAccess(ctx context.Context, tx *Tx, connectionID, syncID string, known map[string]LastAccess, updates []LastAccessUpdate) error {
	rows := make([][]any, 0, len(updates))
	for _, u := range updates {
		l := known[u.EntityARN]
		l.EntityARN, l.AccountID = u.EntityARN, u.AccountID
		at := u.At.UTC()
		switch u.Kind {
		case LastAccessStarted:
			l.JobID, l.JobStartedAt, l.Error, l.ErrorAt = u.JobID, &at, "", nil
		case LastAccessPending:
			l.Error, l.ErrorAt = "", nil
		case LastAccessCompleted:
			c := u.CompletedAt.UTC()
			l.JobID, l.JobStartedAt, l.CompletedAt, l.Services, l.ReadSync, l.Error, l.ErrorAt = "", nil, &c, u.Services, syncID, "", nil
		case LastAccessFailed:
			l.JobID, l.JobStartedAt, l.Error, l.ErrorAt = "", nil, u.Error, &at
		case LastAccessUnread:
			l.Error, l.ErrorAt = u.Error, &at
		case LastAccessExpired:
			l.JobID, l.JobStartedAt = "", nil
		default:
			return fmt.Errorf("service last accessed details of %s: unknown update %q", u.EntityARN, u.Kind)
		}
		services := l.Services
		if services == nil {
			services = []ServiceAccess{}
		}
		b, err := json.Marshal(services)
		if err != nil {
			return err
		}
		rows = append(rows, []any{connectionID, l.EntityARN, l.AccountID, l.JobID, msOrNil(l.JobStartedAt), msOrNil(l.CompletedAt),
			string(b), l.ReadSync, l.Error, msOrNil(l.ErrorAt), ms(at)})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i][1].(string) < rows[j][1].(string) })
	for start := 0; start < len(rows); start += findingBatch {
		part := rows[start:min(start+findingBatch, len(rows))]
		var args []any
		vals := make([]string, 0, len(part))
		for _, r := range part {
			vals = append(vals, "("+placeholders(len(r))+")")
			args = append(args, r...)
		}
		_, err := tx.q.exec(ctx, `INSERT INTO last_accessed (connection_id, `+lastAccessColumns+`) VALUES `+strings.Join(vals, ", ")+`
			ON CONFLICT (connection_id, entity_arn) DO UPDATE SET account_id = excluded.account_id, job_id = excluded.job_id,
			job_started_at = excluded.job_started_at, completed_at = excluded.completed_at, services = excluded.services,
			read_sync = excluded.read_sync, error = excluded.error, error_at = excluded.error_at, updated_at = excluded.updated_at`, args...)
		if err != nil {
			return fmt.Errorf("write the service last accessed details of %s: %w", connectionID, err)
		}
	}
	return nil
}
