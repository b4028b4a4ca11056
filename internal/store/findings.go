package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Findings (internal/findings owns what they mean): the current judgement of every
// (control, account, resource) of a connection, its history as one event per change of
// status at a sync, and the counts per sync that the trend charts read. A sync's findings
// are written in one transaction by ApplyFindings, so that the list, the history and the
// counts always agree.

// Finding statuses.
const (
	FindingPass    = "pass"
	FindingFail    = "fail"
	FindingUnknown = "unknown"
)

// Finding is the current judgement of one control on one resource.
type Finding struct {
	// ID is stable per connection, control, account and resource (FindingID).
	ID           string
	ConnectionID string
	// Control is the CIS AWS Foundations v3.0/v4.0 number ("1.10"); Gatehouse's own
	// controls are "gh.<name>". CISv5 is the v5.0 number ("" for Gatehouse's).
	Control string
	CISv5   string
	Title   string
	Account string
	// Resource is the ARN (or the Identity Center id) judged, or the account id for
	// account-level controls.
	Resource string
	Status   string // FindingPass, FindingFail or FindingUnknown
	Reason   string
	Evidence map[string]any
	Fix      string
	// Since is when Status last changed; SyncID the last sync that judged the finding, at
	// EvaluatedAt (when that sync read AWS).
	Since       time.Time
	SyncID      string
	EvaluatedAt time.Time
}

// FindingEvent is one change of a finding's status at a sync. From "" means the finding
// was opened (first judged) at that sync; To "" that its resource is gone and the finding
// closed with it.
type FindingEvent struct {
	FindingID, ConnectionID, Control, Account, Resource, SyncID, From, To string
	At                                                                    time.Time
}

// FindingFilter selects findings; zero fields match everything. Accounts keeps findings
// of any of these accounts (with Account, both apply).
type FindingFilter struct {
	ConnectionID, Account, Control, Status string
	Accounts                               []string
}

// FindingID is the id of the finding of control on resource in account of a connection:
// the same in every sync.
func FindingID(connectionID, control, account, resource string) string {
	h := sha256.Sum256([]byte(connectionID + "\x00" + control + "\x00" + account + "\x00" + resource))
	return "fnd_" + hex.EncodeToString(h[:12])
}

const findingColumns = `id, connection_id, control, cis_v5, title, account, resource, status, reason, evidence, fix,
	since, sync_id, evaluated_at`

func scanFinding(r interface{ Scan(...any) error }) (Finding, error) {
	var f Finding
	var evidence string
	var since, evaluated int64
	if err := r.Scan(&f.ID, &f.ConnectionID, &f.Control, &f.CISv5, &f.Title, &f.Account, &f.Resource, &f.Status, &f.Reason,
		&evidence, &f.Fix, &since, &f.SyncID, &evaluated); err != nil {
		return f, err
	}
	f.Since, f.EvaluatedAt = fromMS(since), fromMS(evaluated)
	if evidence != "" && evidence != "{}" {
		if err := json.Unmarshal([]byte(evidence), &f.Evidence); err != nil {
			return f, fmt.Errorf("finding %s: evidence: %w", f.ID, err)
		}
	}
	return f, nil
}

func findingConds(f FindingFilter) ([]string, []any) {
	var conds []string
	var args []any
	add := func(cond string, v string) {
		if v != "" {
			conds, args = append(conds, cond), append(args, v)
		}
	}
	add("connection_id = ?", f.ConnectionID)
	add("account = ?", f.Account)
	add("control = ?", f.Control)
	add("status = ?", f.Status)
	if len(f.Accounts) > 0 {
		conds = append(conds, "account IN ("+placeholders(len(f.Accounts))+")")
		for _, a := range f.Accounts {
			args = append(args, a)
		}
	}
	return conds, args
}

// ListFindings lists every finding matching f, sorted by account, control, resource and id.
func (s *Store) ListFindings(ctx context.Context, f FindingFilter) ([]Finding, error) {
	var out []Finding
	p := Page{Size: MaxPageSize}
	for {
		page, next, err := s.ListFindingsPage(ctx, f, p)
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

// ListFindingsPage lists one page of the findings matching f, sorted by account, control,
// resource and id (keyset paged).
func (s *Store) ListFindingsPage(ctx context.Context, f FindingFilter, p Page) ([]Finding, string, error) {
	conds, args := findingConds(f)
	var key struct{ Account, Control, Resource, ID string }
	if p.Token != "" {
		if err := decodeToken(p.Token, &key); err != nil {
			return nil, "", err
		}
		conds = append(conds, `(account > ? OR (account = ? AND (control > ? OR (control = ? AND (resource > ?
			OR (resource = ? AND id > ?))))))`)
		args = append(args, key.Account, key.Account, key.Control, key.Control, key.Resource, key.Resource, key.ID)
	}
	q := "SELECT " + findingColumns + " FROM findings"
	if len(conds) > 0 {
		q += " WHERE " + strings.Join(conds, " AND ")
	}
	n := p.size()
	q += fmt.Sprintf(" ORDER BY account, control, resource, id LIMIT %d", n+1)
	rs, err := s.read.query(ctx, q, args...)
	if err != nil {
		return nil, "", fmt.Errorf("list findings: %w", err)
	}
	var out []Finding
	for rs.Next() {
		fd, err := scanFinding(rs)
		if err != nil {
			rs.Close()
			return nil, "", err
		}
		out = append(out, fd)
	}
	if err := closeRows(rs); err != nil {
		return nil, "", fmt.Errorf("list findings: %w", err)
	}
	next := ""
	if len(out) > n {
		out = out[:n]
		last := out[n-1]
		key.Account, key.Control, key.Resource, key.ID = last.Account, last.Control, last.Resource, last.ID
		next = encodeToken(key)
	}
	if err := s.fillJudged(ctx, out); err != nil {
		return nil, "", err
	}
	return out, next, nil
}

// fillJudged sets each finding's SyncID and EvaluatedAt to its connection's latest
// evaluation: every current finding of a connection was judged by it (ApplyFindings
// deletes those it did not judge and leaves unchanged ones unwritten).
func (s *Store) fillJudged(ctx context.Context, fs []Finding) error {
	type judged struct {
		sync string
		at   int64
		ok   bool
	}
	latest := map[string]judged{}
	for i := range fs {
		conn := fs[i].ConnectionID
		j, seen := latest[conn]
		if !seen {
			err := s.read.queryRow(ctx, "SELECT sync_id, at FROM finding_counts WHERE connection_id = ? ORDER BY at DESC, sync_id DESC LIMIT 1",
				conn).Scan(&j.sync, &j.at)
			switch {
			case errors.Is(err, sql.ErrNoRows):
			case err != nil:
				return fmt.Errorf("the latest findings of %s: %w", conn, err)
			default:
				j.ok = true
			}
			latest[conn] = j
		}
		if j.ok && j.at >= ms(fs[i].EvaluatedAt) {
			fs[i].SyncID, fs[i].EvaluatedAt = j.sync, fromMS(j.at)
		}
	}
	return nil
}

// GetFinding reads one finding, or ErrNotFound.
func (s *Store) GetFinding(ctx context.Context, id string) (*Finding, error) {
	f, err := scanFinding(s.read.queryRow(ctx, "SELECT "+findingColumns+" FROM findings WHERE id = ?", id))
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("read finding %s: %w", id, err)
	}
	one := []Finding{f}
	if err := s.fillJudged(ctx, one); err != nil {
		return nil, err
	}
	return &one[0], nil
}

// ListFindingEvents lists the changes of findings at syncs between from and to
// (inclusive; a zero time leaves that end open) of the accounts (every account when
// empty), oldest first.
func (s *Store) ListFindingEvents(ctx context.Context, from, to time.Time, accounts []string) ([]FindingEvent, error) {
	return s.FindingEvents(ctx, FindingEventFilter{From: from, To: to, Accounts: accounts})
}

// FindingEventFilter selects finding events; zero fields match everything.
type FindingEventFilter struct {
	From, To  time.Time
	Accounts  []string
	FindingID string
	// ConnectionID keeps one connection's events.
	ConnectionID string
}

// FindingEvents lists the finding events matching f, oldest first.
func (s *Store) FindingEvents(ctx context.Context, f FindingEventFilter) ([]FindingEvent, error) {
	var conds []string
	var args []any
	if !f.From.IsZero() {
		conds, args = append(conds, "at >= ?"), append(args, ms(f.From))
	}
	if !f.To.IsZero() {
		conds, args = append(conds, "at <= ?"), append(args, ms(f.To))
	}
	if f.FindingID != "" {
		conds, args = append(conds, "finding_id = ?"), append(args, f.FindingID)
	}
	if f.ConnectionID != "" {
		conds, args = append(conds, "connection_id = ?"), append(args, f.ConnectionID)
	}
	if len(f.Accounts) > 0 {
		conds = append(conds, "account IN ("+placeholders(len(f.Accounts))+")")
		for _, a := range f.Accounts {
			args = append(args, a)
		}
	}
	q := "SELECT finding_id, connection_id, control, account, resource, sync_id, from_status, to_status, at FROM finding_events"
	if len(conds) > 0 {
		q += " WHERE " + strings.Join(conds, " AND ")
	}
	q += " ORDER BY at, control, account, resource, finding_id"
	rs, err := s.read.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("finding events: %w", err)
	}
	var out []FindingEvent
	for rs.Next() {
		var e FindingEvent
		var at int64
		if err := rs.Scan(&e.FindingID, &e.ConnectionID, &e.Control, &e.Account, &e.Resource, &e.SyncID, &e.From, &e.To, &at); err != nil {
			rs.Close()
			return nil, err
		}
		e.At = fromMS(at)
		out = append(out, e)
	}
	if err := closeRows(rs); err != nil {
		return nil, fmt.Errorf("finding events: %w", err)
	}
	return out, nil
}

// FindingCount is how many findings of one (account, control) had each status at a sync.
type FindingCount struct {
	ConnectionID, SyncID, Account, Control string
	At                                     time.Time
	Pass, Fail, Unknown                    int
}

// FindingCounts lists the counts per sync, account and control since since (every sync
// when zero) matching f's ConnectionID, Account, Control and Accounts, oldest first.
func (s *Store) FindingCounts(ctx context.Context, since time.Time, f FindingFilter) ([]FindingCount, error) {
	conds, args := findingConds(FindingFilter{ConnectionID: f.ConnectionID, Account: f.Account, Control: f.Control, Accounts: f.Accounts})
	if !since.IsZero() {
		conds, args = append(conds, "at >= ?"), append(args, ms(since))
	}
	q := "SELECT connection_id, sync_id, account, control, at, pass, fail, unknown FROM finding_counts"
	if len(conds) > 0 {
		q += " WHERE " + strings.Join(conds, " AND ")
	}
	q += " ORDER BY at, sync_id, account, control"
	rs, err := s.read.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("finding counts: %w", err)
	}
	var out []FindingCount
	for rs.Next() {
		var c FindingCount
		var at, pass, fail, unknown int64
		if err := rs.Scan(&c.ConnectionID, &c.SyncID, &c.Account, &c.Control, &at, &pass, &fail, &unknown); err != nil {
			rs.Close()
			return nil, err
		}
		c.At, c.Pass, c.Fail, c.Unknown = fromMS(at), int(pass), int(fail), int(unknown)
		out = append(out, c)
	}
	if err := closeRows(rs); err != nil {
		return nil, fmt.Errorf("finding counts: %w", err)
	}
	return out, nil
}

// FindingsApplied says what ApplyFindings changed.
type FindingsApplied struct {
	// Opened are findings judged for the first time, Changed those whose status changed,
	// Gone those whose resource is no longer judged (closed), Unchanged the rest.
	Opened, Changed, Gone, Unchanged int
	// Statuses counts the findings of the sync by status.
	Statuses map[string]int
}

// findingContent is the digest of what a finding says, to write only those that changed.
func findingContent(cisV5, title, reason, evidence, fix string) [32]byte {
	return sha256.Sum256([]byte(cisV5 + "\x00" + title + "\x00" + reason + "\x00" + evidence + "\x00" + fix))
}

// findingBatch is how many findings one INSERT writes (14 parameters each).
const findingBatch = 200

// ApplyFindings records the findings a sync judged for connectionID, in one transaction:
// each finding is inserted or updated (Since moves to at when its status changed), an
// event is written for every finding opened, changed or gone, findings of the connection
// the sync did not judge are deleted (their resource is gone), and the counts per
// (account, control) of the sync are stored. Applying the same sync again changes nothing
// more. IDs are computed with FindingID when empty.
func (s *Store) ApplyFindings(ctx context.Context, connectionID, syncID string, at time.Time, fs []Finding) (FindingsApplied, error) {
	res := FindingsApplied{Statuses: map[string]int{}}
	if connectionID == "" || syncID == "" {
		return res, fmt.Errorf("apply findings: connection and sync are required")
	}
	seen := make(map[string]bool, len(fs))
	for i := range fs {
		f := &fs[i]
		switch f.Status {
		case FindingPass, FindingFail, FindingUnknown:
		default:
			return res, fmt.Errorf("apply findings: finding %s %s %s: status %q is not pass, fail or unknown", f.Control, f.Account, f.Resource, f.Status)
		}
		f.ConnectionID = connectionID
		if f.ID == "" {
			f.ID = FindingID(connectionID, f.Control, f.Account, f.Resource)
		}
		if seen[f.ID] {
			return res, fmt.Errorf("apply findings: %s on %s in %s is judged twice", f.Control, f.Resource, f.Account)
		}
		seen[f.ID] = true
	}
	err := s.InTx(ctx, func(tx *Tx) error {
		type prev struct {
			status, control, account, resource string
			since                              int64
			content                            [32]byte
		}
		existing := map[string]prev{}
		rs, err := tx.q.query(ctx, "SELECT id, status, control, account, resource, since, cis_v5, title, reason, evidence, fix FROM findings WHERE connection_id = ?", connectionID)
		if err != nil {
			return fmt.Errorf("read the findings of %s: %w", connectionID, err)
		}
		for rs.Next() {
			var id, cis, title, reason, evidence, fix string
			var p prev
			if err := rs.Scan(&id, &p.status, &p.control, &p.account, &p.resource, &p.since, &cis, &title, &reason, &evidence, &fix); err != nil {
				rs.Close()
				return err
			}
			p.content = findingContent(cis, title, reason, evidence, fix)
			existing[id] = p
		}
		if err := closeRows(rs); err != nil {
			return fmt.Errorf("read the findings of %s: %w", connectionID, err)
		}
		var events []FindingEvent
		atMS := ms(at)
		rows := make([][]any, 0, len(fs))
		for i := range fs {
			f := &fs[i]
			res.Statuses[f.Status]++
			since := atMS
			evidence := "{}"
			if len(f.Evidence) > 0 {
				b, err := json.Marshal(f.Evidence)
				if err != nil {
					return fmt.Errorf("finding %s %s: evidence: %w", f.Control, f.Resource, err)
				}
				evidence = string(b)
			}
			f.SyncID, f.EvaluatedAt = syncID, at
			if p, ok := existing[f.ID]; ok {
				if p.status == f.Status {
					since = p.since
					res.Unchanged++
					f.Since = fromMS(since)
					// Nothing to write when nothing but the judging sync changed: which sync
					// judged a finding last is the connection's latest evaluation (read with it).
					if p.content == findingContent(f.CISv5, f.Title, f.Reason, evidence, f.Fix) {
						continue
					}
				} else {
					res.Changed++
					events = append(events, FindingEvent{FindingID: f.ID, ConnectionID: connectionID, Control: f.Control,
						Account: f.Account, Resource: f.Resource, SyncID: syncID, From: p.status, To: f.Status, At: at})
				}
			} else {
				res.Opened++
				events = append(events, FindingEvent{FindingID: f.ID, ConnectionID: connectionID, Control: f.Control,
					Account: f.Account, Resource: f.Resource, SyncID: syncID, To: f.Status, At: at})
			}
			f.Since = fromMS(since)
			rows = append(rows, []any{f.ID, connectionID, f.Control, f.CISv5, f.Title, f.Account, f.Resource, f.Status, f.Reason,
				evidence, f.Fix, since, syncID, atMS})
		}
		for start := 0; start < len(rows); start += findingBatch {
			part := rows[start:min(start+findingBatch, len(rows))]
			var args []any
			vals := make([]string, 0, len(part))
			for _, r := range part {
				vals = append(vals, "("+placeholders(len(r))+")")
				args = append(args, r...)
			}
			_, err := tx.q.exec(ctx, `INSERT INTO findings (`+findingColumns+`) VALUES `+strings.Join(vals, ", ")+`
				ON CONFLICT (id) DO UPDATE SET cis_v5 = excluded.cis_v5, title = excluded.title, status = excluded.status,
				reason = excluded.reason, evidence = excluded.evidence, fix = excluded.fix, since = excluded.since,
				sync_id = excluded.sync_id, evaluated_at = excluded.evaluated_at`, args...)
			if err != nil {
				return fmt.Errorf("write the findings of %s: %w", connectionID, err)
			}
		}
		var gone []string
		for id, p := range existing {
			if !seen[id] {
				gone = append(gone, id)
				events = append(events, FindingEvent{FindingID: id, ConnectionID: connectionID, Control: p.control,
					Account: p.account, Resource: p.resource, SyncID: syncID, From: p.status, At: at})
			}
		}
		sort.Strings(gone)
		res.Gone = len(gone)
		for start := 0; start < len(gone); start += findingBatch {
			part := gone[start:min(start+findingBatch, len(gone))]
			args := []any{connectionID}
			for _, id := range part {
				args = append(args, id)
			}
			if _, err := tx.q.exec(ctx, "DELETE FROM findings WHERE connection_id = ? AND id IN ("+placeholders(len(part))+")", args...); err != nil {
				return fmt.Errorf("close the findings of %s: %w", connectionID, err)
			}
		}
		for start := 0; start < len(events); start += findingBatch {
			part := events[start:min(start+findingBatch, len(events))]
			var args []any
			vals := make([]string, 0, len(part))
			for _, e := range part {
				vals = append(vals, "("+placeholders(9)+")")
				args = append(args, e.FindingID, e.SyncID, e.ConnectionID, e.Control, e.Account, e.Resource, e.From, e.To, ms(e.At))
			}
			_, err := tx.q.exec(ctx, `INSERT INTO finding_events (finding_id, sync_id, connection_id, control, account, resource,
				from_status, to_status, at) VALUES `+strings.Join(vals, ", ")+`
				ON CONFLICT (finding_id, sync_id) DO UPDATE SET to_status = excluded.to_status`, args...)
			if err != nil {
				return fmt.Errorf("write the finding history of %s: %w", connectionID, err)
			}
		}
		// The counts of the sync, replaced as a whole when the sync is applied again.
		if _, err := tx.q.exec(ctx, "DELETE FROM finding_counts WHERE connection_id = ? AND sync_id = ?", connectionID, syncID); err != nil {
			return fmt.Errorf("write the finding counts of %s: %w", connectionID, err)
		}
		type key struct{ account, control string }
		counts := map[key]*[3]int{}
		var keys []key
		for _, f := range fs {
			k := key{f.Account, f.Control}
			c := counts[k]
			if c == nil {
				c = &[3]int{}
				counts[k] = c
				keys = append(keys, k)
			}
			switch f.Status {
			case FindingPass:
				c[0]++
			case FindingFail:
				c[1]++
			default:
				c[2]++
			}
		}
		for start := 0; start < len(keys); start += findingBatch {
			part := keys[start:min(start+findingBatch, len(keys))]
			var args []any
			vals := make([]string, 0, len(part))
			for _, k := range part {
				c := counts[k]
				vals = append(vals, "("+placeholders(8)+")")
				args = append(args, connectionID, syncID, k.account, k.control, atMS, c[0], c[1], c[2])
			}
			_, err := tx.q.exec(ctx, `INSERT INTO finding_counts (connection_id, sync_id, account, control, at, pass, fail, unknown)
				VALUES `+strings.Join(vals, ", "), args...)
			if err != nil {
				return fmt.Errorf("write the finding counts of %s: %w", connectionID, err)
			}
		}
		return nil
	})
	return res, err
}

// FindingsInventory reads connectionID's current inventory for judging findings: the
// resources of types (with profiles), the grants whose principal is one of
// principalTypes, and the accounts' read states (the shape access reviews read).
func (s *Store) FindingsInventory(ctx context.Context, connectionID string, types, principalTypes []string) (*ReviewInventory, error) {
	return (&Tx{q: s.read, store: s}).ReviewInventory(ctx, connectionID, types, principalTypes, nil)
}

// CountFindings counts the current findings matching f (its Status ignored) by status.
func (s *Store) CountFindings(ctx context.Context, f FindingFilter) (map[string]int, error) {
	f.Status = ""
	conds, args := findingConds(f)
	q := "SELECT status, COUNT(*) FROM findings"
	if len(conds) > 0 {
		q += " WHERE " + strings.Join(conds, " AND ")
	}
	rs, err := s.read.query(ctx, q+" GROUP BY status", args...)
	if err != nil {
		return nil, fmt.Errorf("count findings: %w", err)
	}
	out := map[string]int{}
	for rs.Next() {
		var st string
		var n int64
		if err := rs.Scan(&st, &n); err != nil {
			rs.Close()
			return nil, err
		}
		out[st] = int(n)
	}
	return out, closeRows(rs)
}
