package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// AuditEntry is one entry of the audit log.
type AuditEntry struct {
	Seq        int64
	At         time.Time
	Actor      string // email of the person, "token:<id>" owner email, or "system"
	Action     string // dotted verb, e.g. "sync.start", "signin", "token.create"
	Target     string // what was acted on, e.g. "connection:aws", "sync:s_..."
	Detail     string // JSON object
	RemoteAddr string
	PrevHash   string
	Hash       string
}

// AuditHash is the hash of an entry: SHA-256 over its fields (each length-prefixed, so
// no two entries share an encoding) and the previous entry's hash.
func AuditHash(e AuditEntry) string {
	h := sha256.New()
	for _, f := range []string{
		strconv.FormatInt(e.Seq, 10), strconv.FormatInt(e.At.UnixMilli(), 10),
		e.Actor, e.Action, e.Target, e.Detail, e.RemoteAddr, e.PrevHash,
	} {
		fmt.Fprintf(h, "%d:%s\n", len(f), f)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// AppendAudit appends an entry in tx, chained to the last one. detail is marshalled as a
// JSON object (nil is {}). Appends are serialised by the update of audit_head, so the
// chain has no fork even with several replicas. The entry's time is now, in ms.
func (t *Tx) AppendAudit(ctx context.Context, actor, action, target string, detail any, remoteAddr string) (AuditEntry, error) {
	d := []byte("{}")
	if detail != nil {
		var err error
		if d, err = json.Marshal(detail); err != nil {
			return AuditEntry{}, fmt.Errorf("audit detail: %w", err)
		}
	}
	// Taking the head row for update first serialises appenders (SQLite has one writer
	// anyway; on PostgreSQL the row lock orders concurrent transactions).
	var seq int64
	var prev string
	lockSQL := "SELECT seq, hash FROM audit_head WHERE id = 1"
	if t.store.dialect == Postgres {
		lockSQL += " FOR UPDATE"
	}
	if err := t.q.queryRow(ctx, lockSQL).Scan(&seq, &prev); err != nil {
		return AuditEntry{}, fmt.Errorf("audit head: %w", err)
	}
	e := AuditEntry{
		Seq: seq + 1, At: time.UnixMilli(time.Now().UnixMilli()).UTC(), Actor: actor, Action: action,
		Target: target, Detail: string(d), RemoteAddr: remoteAddr, PrevHash: prev,
	}
	e.Hash = AuditHash(e)
	if _, err := t.q.exec(ctx, `INSERT INTO audit_log (seq, at, actor, action, target, detail, remote_addr, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, e.Seq, ms(e.At), e.Actor, e.Action, e.Target, e.Detail, e.RemoteAddr, e.PrevHash, e.Hash); err != nil {
		return AuditEntry{}, fmt.Errorf("append audit entry: %w", err)
	}
	if _, err := t.q.exec(ctx, "UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1", e.Seq, e.Hash); err != nil {
		return AuditEntry{}, fmt.Errorf("audit head: %w", err)
	}
	return e, nil
}

// AuditHead is the last entry's seq and hash as the head row records them.
func (s *Store) AuditHead(ctx context.Context) (seq int64, hash string, err error) {
	err = s.read.queryRow(ctx, "SELECT seq, hash FROM audit_head WHERE id = 1").Scan(&seq, &hash)
	return seq, hash, err
}

// AuditFilter selects audit entries; zero fields match everything.
type AuditFilter struct {
	Actor  string
	Action string // exact, or a prefix ending in "." (e.g. "sync.")
	Target string
	From   *time.Time
	To     *time.Time
	// AfterSeq pages forward: entries with seq greater than it.
	AfterSeq int64
	// Desc lists newest first (then BeforeSeq pages).
	Desc      bool
	BeforeSeq int64
	Limit     int
}

// ListAudit returns entries matching f in seq order (or newest first with Desc).
func (s *Store) ListAudit(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	q := "SELECT seq, at, actor, action, target, detail, remote_addr, prev_hash, hash FROM audit_log WHERE 1=1"
	var args []any
	if f.Actor != "" {
		q += " AND actor = ?"
		args = append(args, f.Actor)
	}
	if f.Action != "" {
		if f.Action[len(f.Action)-1] == '.' {
			q += " AND action LIKE ?"
			args = append(args, f.Action+"%")
		} else {
			q += " AND action = ?"
			args = append(args, f.Action)
		}
	}
	if f.Target != "" {
		q += " AND target = ?"
		args = append(args, f.Target)
	}
	if f.From != nil {
		q += " AND at >= ?"
		args = append(args, ms(*f.From))
	}
	if f.To != nil {
		q += " AND at < ?"
		args = append(args, ms(*f.To))
	}
	if f.AfterSeq > 0 {
		q += " AND seq > ?"
		args = append(args, f.AfterSeq)
	}
	if f.BeforeSeq > 0 {
		q += " AND seq < ?"
		args = append(args, f.BeforeSeq)
	}
	if f.Desc {
		q += " ORDER BY seq DESC"
	} else {
		q += " ORDER BY seq"
	}
	if f.Limit > 0 {
		q += " LIMIT " + strconv.Itoa(f.Limit)
	}
	rs, err := s.read.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list audit log: %w", err)
	}
	defer rs.Close()
	var out []AuditEntry
	for rs.Next() {
		var e AuditEntry
		var at int64
		if err := rs.Scan(&e.Seq, &at, &e.Actor, &e.Action, &e.Target, &e.Detail, &e.RemoteAddr, &e.PrevHash, &e.Hash); err != nil {
			return nil, err
		}
		e.At = fromMS(at)
		out = append(out, e)
	}
	return out, rs.Err()
}
