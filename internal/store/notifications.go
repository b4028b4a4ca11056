package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The states of a notification delivery. Queued is waiting for (or between) attempts; sent and
// failed are final.
const (
	NotificationQueued = "queued"
	NotificationSent   = "sent"
	NotificationFailed = "failed"
)

// Notification is one delivery of one event to one endpoint (the outbox of internal/notify).
type Notification struct {
	ID string
	// Channel is webhook or slack; Endpoint the configured endpoint's name (never its URL).
	Channel, Endpoint string
	// Event is the event kind (requested, approved, granted, ...); RequestID its request.
	Event, RequestID string
	// Payload is the JSON body, exactly as it is sent.
	Payload string
	State   string
	// Attempts counts the delivery attempts made; LastStatus is the endpoint's last HTTP
	// status (0 when it did not answer) and LastError why the last attempt failed.
	Attempts   int
	LastStatus int
	LastError  string
	// JobID is the River job that delivers it.
	JobID       int64
	CreatedAt   time.Time
	AttemptedAt *time.Time
	SentAt      *time.Time
}

// Final reports whether the delivery is over (sent or failed).
func (n *Notification) Final() bool {
	return n.State == NotificationSent || n.State == NotificationFailed
}

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewNotificationID returns a new delivery id: "ntf_" and 20 random base32 characters. It is
// the X-Gatehouse-Delivery header, by which receivers drop a delivery they already had.
func NewNotificationID() string {
	var b [13]byte
	_, _ = rand.Read(b[:])
	return "ntf_" + strings.ToLower(idEncoding.EncodeToString(b[:]))[:20]
}

const notificationColumns = `id, channel, endpoint, event, request_id, payload, state, attempts, last_status, last_error,
	job_id, created_at, attempted_at, sent_at`

func scanNotification(r row) (*Notification, error) {
	var n Notification
	var created int64
	var job, attempted, sent sql.NullInt64
	if err := r.Scan(&n.ID, &n.Channel, &n.Endpoint, &n.Event, &n.RequestID, &n.Payload, &n.State, &n.Attempts,
		&n.LastStatus, &n.LastError, &job, &created, &attempted, &sent); err != nil {
		return nil, err
	}
	n.JobID = job.Int64
	n.CreatedAt = fromMS(created)
	n.AttemptedAt = msPtr(attempted)
	n.SentAt = msPtr(sent)
	return &n, nil
}

// InsertNotification queues a delivery (ID, Channel, Endpoint, Event, RequestID, Payload and
// CreatedAt are taken from n) in the transaction of the change it tells about.
func (t *Tx) InsertNotification(ctx context.Context, n *Notification) error {
	if n.ID == "" || n.Channel == "" || n.Endpoint == "" || n.Event == "" || n.Payload == "" {
		return errors.New("insert notification: id, channel, endpoint, event and payload are required")
	}
	if _, err := t.q.exec(ctx, `INSERT INTO notifications (id, channel, endpoint, event, request_id, payload, state, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, n.ID, n.Channel, n.Endpoint, n.Event, n.RequestID, n.Payload, NotificationQueued, ms(n.CreatedAt)); err != nil {
		return fmt.Errorf("insert notification: %w", err)
	}
	n.State = NotificationQueued
	return nil
}

// SetNotificationJob records the River job that delivers the notification.
func (t *Tx) SetNotificationJob(ctx context.Context, id string, jobID int64) error {
	_, err := t.q.exec(ctx, "UPDATE notifications SET job_id = ? WHERE id = ?", jobID, id)
	return err
}

// GetNotification returns a delivery by id, or ErrNotFound. It reads through the writer, so
// that the worker sees the row whose commit queued its job.
func (s *Store) GetNotification(ctx context.Context, id string) (*Notification, error) {
	n, err := scanNotification(s.write.queryRow(ctx, "SELECT "+notificationColumns+" FROM notifications WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read notification %s: %w", id, err)
	}
	return n, nil
}

// StartNotificationAttempt counts a new delivery attempt of a queued notification and returns
// the row as it is now. A delivery already final is returned unchanged (nothing to do).
func (s *Store) StartNotificationAttempt(ctx context.Context, id string, at time.Time) (*Notification, error) {
	if _, err := s.write.exec(ctx, "UPDATE notifications SET attempts = attempts + 1, attempted_at = ? WHERE id = ? AND state = ?",
		ms(at), id, NotificationQueued); err != nil {
		return nil, fmt.Errorf("start notification attempt %s: %w", id, err)
	}
	return s.GetNotification(ctx, id)
}

// NotificationResult is how one delivery attempt went.
type NotificationResult struct {
	// State is queued (the attempt failed and will be retried), sent or failed.
	State  string
	Status int    // the endpoint's HTTP status, 0 when it did not answer
	Error  string // why the attempt failed ("" when sent)
	At     time.Time
}

// FinishNotificationAttempt records how an attempt went. It changes nothing, and reports false,
// when the delivery is already final.
func (s *Store) FinishNotificationAttempt(ctx context.Context, id string, r NotificationResult) (bool, error) {
	var sent any
	switch r.State {
	case NotificationSent:
		sent = ms(r.At)
	case NotificationQueued, NotificationFailed:
	default:
		return false, fmt.Errorf("finish notification %s: %q is not a delivery state", id, r.State)
	}
	n, err := s.write.exec(ctx, `UPDATE notifications SET state = ?, last_status = ?, last_error = ?, sent_at = ?
		WHERE id = ? AND state = ?`, r.State, r.Status, r.Error, sent, id, NotificationQueued)
	if err != nil {
		return false, fmt.Errorf("finish notification %s: %w", id, err)
	}
	return n == 1, nil
}

// NotificationFilter narrows ListNotifications; empty fields match everything.
type NotificationFilter struct {
	State     string
	RequestID string
	Endpoint  string
	Event     string
}

// notificationPageKey is the sort key of the last delivery of a page.
type notificationPageKey struct {
	CreatedAt int64  `json:"c"`
	ID        string `json:"i"`
}

// ListNotifications lists deliveries newest first. The returned token asks for the next page;
// it is empty on the last one.
func (s *Store) ListNotifications(ctx context.Context, f NotificationFilter, p Page) ([]Notification, string, error) {
	size := p.size()
	q := "SELECT " + notificationColumns + " FROM notifications WHERE 1=1"
	var args []any
	for _, c := range []struct{ col, v string }{{"state", f.State}, {"request_id", f.RequestID}, {"endpoint", f.Endpoint}, {"event", f.Event}} {
		if c.v != "" {
			q += " AND " + c.col + " = ?"
			args = append(args, c.v)
		}
	}
	if p.Token != "" {
		var key notificationPageKey
		if err := decodeToken(p.Token, &key); err != nil {
			return nil, "", fmt.Errorf("%w: page_token %q is not one this list returned", ErrBadPageToken, p.Token)
		}
		q += " AND (created_at < ? OR (created_at = ? AND id < ?))"
		args = append(args, key.CreatedAt, key.CreatedAt, key.ID)
	}
	q += " ORDER BY created_at DESC, id DESC LIMIT " + strconv.Itoa(size+1)
	rs, err := s.read.query(ctx, q, args...)
	if err != nil {
		return nil, "", fmt.Errorf("list notifications: %w", err)
	}
	defer rs.Close()
	var out []Notification
	for rs.Next() {
		n, err := scanNotification(rs)
		if err != nil {
			return nil, "", fmt.Errorf("list notifications: %w", err)
		}
		out = append(out, *n)
	}
	if err := rs.Err(); err != nil {
		return nil, "", fmt.Errorf("list notifications: %w", err)
	}
	next := ""
	if len(out) > size {
		out = out[:size]
		last := out[size-1]
		next = encodeToken(notificationPageKey{CreatedAt: ms(last.CreatedAt), ID: last.ID})
	}
	return out, next, nil
}

// FailLostNotifications marks failed the queued deliveries whose River job is over (discarded,
// cancelled or completed) or gone: nothing would ever send them. That happens when the replica
// running a delivery's last attempt died (River's rescuer then discards the job). It returns
// the deliveries it failed.
func (s *Store) FailLostNotifications(ctx context.Context) ([]Notification, error) {
	rs, err := s.write.query(ctx, "SELECT "+prefixed("n.", notificationColumns)+`, COALESCE(CAST(j.state AS TEXT), '')
		FROM notifications n LEFT JOIN river_job j ON j.id = n.job_id
		WHERE n.state = 'queued' AND n.job_id IS NOT NULL AND (j.id IS NULL OR j.state IN ('discarded', 'cancelled', 'completed'))`)
	if err != nil {
		return nil, fmt.Errorf("find lost notifications: %w", err)
	}
	type lost struct {
		n        *Notification
		jobState string
	}
	var found []lost
	for rs.Next() {
		var l lost
		var n Notification
		var created int64
		var job, attempted, sent sql.NullInt64
		if err := rs.Scan(&n.ID, &n.Channel, &n.Endpoint, &n.Event, &n.RequestID, &n.Payload, &n.State, &n.Attempts,
			&n.LastStatus, &n.LastError, &job, &created, &attempted, &sent, &l.jobState); err != nil {
			rs.Close()
			return nil, fmt.Errorf("find lost notifications: %w", err)
		}
		n.JobID, n.CreatedAt, n.AttemptedAt, n.SentAt = job.Int64, fromMS(created), msPtr(attempted), msPtr(sent)
		l.n = &n
		found = append(found, l)
	}
	if err := rs.Close(); err != nil {
		return nil, fmt.Errorf("find lost notifications: %w", err)
	}
	var out []Notification
	for _, l := range found {
		why := "its delivery job no longer exists"
		if l.jobState != "" {
			why = "its delivery job ended (" + l.jobState + ")"
		}
		plural := "s"
		if l.n.Attempts == 1 {
			plural = ""
		}
		msg := "not sent: " + why + " after " + strconv.Itoa(l.n.Attempts) + " attempt" + plural + "; the replica running the last attempt probably stopped"
		if l.n.LastError != "" {
			msg += " (last error: " + l.n.LastError + ")"
		}
		n, err := s.write.exec(ctx, "UPDATE notifications SET state = ?, last_error = ? WHERE id = ? AND state = ?",
			NotificationFailed, msg, l.n.ID, NotificationQueued)
		if err != nil {
			return out, fmt.Errorf("fail lost notification %s: %w", l.n.ID, err)
		}
		if n == 1 {
			l.n.State, l.n.LastError = NotificationFailed, msg
			out = append(out, *l.n)
		}
	}
	return out, nil
}

// RequeueNotification puts a failed delivery back in the queue with its attempts starting over
// (an admin fixed its endpoint), in tx, whose caller inserts the new delivery job and records
// it with SetNotificationJob. ErrNotFound when there is no such delivery, ErrConflict when it
// is not failed (a queued one is still being tried; a sent one was delivered).
func (t *Tx) RequeueNotification(ctx context.Context, id string) (*Notification, error) {
	n, err := t.q.exec(ctx, "UPDATE notifications SET state = ?, attempts = 0 WHERE id = ? AND state = ?",
		NotificationQueued, id, NotificationFailed)
	if err != nil {
		return nil, fmt.Errorf("requeue notification %s: %w", id, err)
	}
	row, err := scanNotification(t.q.queryRow(ctx, "SELECT "+notificationColumns+" FROM notifications WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read notification %s: %w", id, err)
	}
	if n != 1 {
		return row, fmt.Errorf("%w: delivery %s is %s", ErrConflict, id, row.State)
	}
	return row, nil
}
