package audit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// appendN appends n entries (actions test.1 ... test.n) and returns them as stored.
func appendN(t *testing.T, st *store.Store, n int) []store.AuditEntry {
	t.Helper()
	ctx := context.Background()
	err := st.InTx(ctx, func(tx *store.Tx) error {
		for i := 1; i <= n; i++ {
			if _, err := tx.AppendAudit(ctx, "ann@example.com", fmt.Sprintf("test.%d", i), "connection:aws", map[string]any{"n": i}, "192.0.2.7"); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	all, err := st.ListAudit(ctx, store.AuditFilter{})
	if err != nil || len(all) != n {
		t.Fatalf("appended %d, read %d: %v", n, len(all), err)
	}
	return all
}

// execSQL tampers with the database directly, as someone with access to it would.
func execSQL(t *testing.T, st *store.Store, stmts ...string) {
	t.Helper()
	ctx := context.Background()
	for _, q := range stmts {
		var err error
		if st.Dialect() == store.SQLite {
			_, err = st.SQLiteDB().ExecContext(ctx, q)
		} else {
			_, err = st.PGXPool().Exec(ctx, q)
		}
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

func verify(t *testing.T, st *store.Store) *audit.Report {
	t.Helper()
	r, err := audit.Verify(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func wantProblems(t *testing.T, r *audit.Report, want ...audit.Problem) {
	t.Helper()
	if !reflect.DeepEqual(r.Problems, want) {
		got, _ := json.MarshalIndent(r.Problems, "", "  ")
		exp, _ := json.MarshalIndent(want, "", "  ")
		t.Fatalf("problems:\n%s\nwant\n%s", got, exp)
	}
	if r.OK() {
		t.Fatal("a tampered log reported OK")
	}
	if !strings.HasPrefix(r.String(), fmt.Sprintf("audit log TAMPERED: %d problem(s)", len(want))) {
		t.Fatalf("summary: %s", r.String())
	}
}

func at(e store.AuditEntry) string { return e.At.Format("2006-01-02T15:04:05.000Z07:00") }

func TestVerifyIntact(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		r := verify(t, st)
		if !r.OK() || r.Entries != 0 || r.String() != "audit log intact: 0 entries, head (empty log)" {
			t.Fatalf("empty log: %+v %s", r, r)
		}
		es := appendN(t, st, 5)
		r = verify(t, st)
		want := fmt.Sprintf("audit log intact: 5 entries, head %s", es[4].Hash)
		if !r.OK() || r.Entries != 5 || r.LastSeq != 5 || r.HeadSeq != 5 || r.String() != want {
			t.Fatalf("report %+v\n%s\nwant %s", r, r, want)
		}
	})
}

func TestVerifyEditedEntry(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		es := appendN(t, st, 5)
		execSQL(t, st, `UPDATE audit_log SET detail = '{"n":333}' WHERE seq = 3`)
		wantProblems(t, verify(t, st), audit.Problem{Seq: 3, LastSeq: 3, Kind: audit.Edited,
			Message: "seq 3: edited: its content (test.3 by ann@example.com at " + at(es[2]) + ") does not match its hash"})
	})
}

func TestVerifyEditedEntryWithRecomputedHash(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		es := appendN(t, st, 5)
		e := es[2]
		e.Actor = "mallory@example.com"
		h := store.AuditHash(e)
		execSQL(t, st, fmt.Sprintf(`UPDATE audit_log SET actor = 'mallory@example.com', hash = '%s' WHERE seq = 3`, h))
		wantProblems(t, verify(t, st), audit.Problem{Seq: 4, LastSeq: 4, Kind: audit.Chain,
			Message: "seq 4: its prev_hash is not the hash of seq 3: seq 3 was rewritten with its hash recomputed, or replaced"})
	})
}

func TestVerifyDeletedMiddleEntry(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		appendN(t, st, 5)
		execSQL(t, st, `DELETE FROM audit_log WHERE seq = 3`)
		wantProblems(t, verify(t, st), audit.Problem{Seq: 3, LastSeq: 3, Kind: audit.Deleted,
			Message: "seq 3: deleted: the log goes from seq 2 to seq 4"})
	})
}

func TestVerifyDeletedFirstEntries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		appendN(t, st, 5)
		execSQL(t, st, `DELETE FROM audit_log WHERE seq <= 2`)
		wantProblems(t, verify(t, st), audit.Problem{Seq: 1, LastSeq: 2, Kind: audit.Deleted,
			Message: "seq 1 to 2: deleted: the log starts at seq 3"})
	})
}

func TestVerifyReorderedEntries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		appendN(t, st, 5)
		execSQL(t, st,
			`UPDATE audit_log SET seq = -1 WHERE seq = 2`,
			`UPDATE audit_log SET seq = 2 WHERE seq = 3`,
			`UPDATE audit_log SET seq = 3 WHERE seq = -1`)
		wantProblems(t, verify(t, st),
			audit.Problem{Seq: 2, LastSeq: 2, Kind: audit.Reordered, Message: "seq 2: reordered: it holds the entry written as seq 3 (test.3 by ann@example.com)"},
			audit.Problem{Seq: 3, LastSeq: 3, Kind: audit.Reordered, Message: "seq 3: reordered: it holds the entry written as seq 2 (test.2 by ann@example.com)"})
	})
}

func TestVerifyTruncatedTail(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		es := appendN(t, st, 5)
		execSQL(t, st, `DELETE FROM audit_log WHERE seq = 5`)
		wantProblems(t, verify(t, st), audit.Problem{Seq: 5, LastSeq: 5, Kind: audit.Truncated,
			Message: "seq 5: deleted from the end: the head records seq 5 (hash " + es[4].Hash + ") but the last entry is seq 4"})
		execSQL(t, st, `DELETE FROM audit_log WHERE seq >= 3`)
		wantProblems(t, verify(t, st), audit.Problem{Seq: 3, LastSeq: 5, Kind: audit.Truncated,
			Message: "seq 3 to 5: deleted from the end: the head records seq 5 (hash " + es[4].Hash + ") but the last entry is seq 2"})
	})
}

func TestVerifyEntryForgedAfterHead(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		es := appendN(t, st, 2)
		forged := store.AuditEntry{Seq: 3, At: es[1].At, Actor: "mallory@example.com", Action: "signin", Detail: "{}", PrevHash: es[1].Hash}
		forged.Hash = store.AuditHash(forged)
		execSQL(t, st, fmt.Sprintf(`INSERT INTO audit_log (seq, at, actor, action, target, detail, remote_addr, prev_hash, hash)
			VALUES (3, %d, 'mallory@example.com', 'signin', '', '{}', '', '%s', '%s')`, forged.At.UnixMilli(), forged.PrevHash, forged.Hash))
		wantProblems(t, verify(t, st), audit.Problem{Seq: 3, LastSeq: 3, Kind: audit.Head,
			Message: "seq 3: written after the head (seq 2), not by Gatehouse"})
	})
}

// A log longer than a page is walked whole: a deletion in the second page is found, and
// the count covers every page.
func TestVerifyAcrossPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		n := 2*audit.PageSize + 345
		es := appendN(t, st, n)
		if r := verify(t, st); !r.OK() || r.Entries != int64(n) || r.HeadHash != es[n-1].Hash {
			t.Fatalf("intact log of %d: %s", n, r)
		}
		execSQL(t, st, `DELETE FROM audit_log WHERE seq = 1500`, `UPDATE audit_log SET target = 'connection:other' WHERE seq = 2100`)
		r := verify(t, st)
		wantProblems(t, r,
			audit.Problem{Seq: 1500, LastSeq: 1500, Kind: audit.Deleted, Message: "seq 1500: deleted: the log goes from seq 1499 to seq 1501"},
			audit.Problem{Seq: 2100, LastSeq: 2100, Kind: audit.Edited, Message: "seq 2100: edited: its content (test.2100 by ann@example.com at " + at(es[2099]) + ") does not match its hash"})
		if r.Entries != int64(n-1) {
			t.Fatalf("entries = %d, want %d", r.Entries, n-1)
		}
	})
}

func TestExportJSONLines(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		es := appendN(t, st, 3)
		err := st.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.AppendAudit(ctx, "bob@example.com", "connection.create", "connection:prod", map[string]any{"name": "Prod <&>"}, "")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		n, err := audit.Export(ctx, st, &buf, store.AuditFilter{})
		if err != nil || n != 4 {
			t.Fatalf("Export = %d, %v", n, err)
		}
		lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
		if len(lines) != 4 {
			t.Fatalf("%d lines:\n%s", len(lines), buf.String())
		}
		want := fmt.Sprintf(`{"seq":1,"at":"%s","actor":"ann@example.com","action":"test.1","target":"connection:aws","detail":{"n":1},"remote_addr":"192.0.2.7","prev_hash":"","hash":"%s"}`, at(es[0]), es[0].Hash)
		if lines[0] != want {
			t.Fatalf("line 1:\n%s\nwant\n%s", lines[0], want)
		}
		// The detail is written byte for byte as stored (and hashed).
		if !strings.Contains(lines[3], `"detail":{"name":"Prod \u003c\u0026\u003e"}`) {
			t.Fatalf("line 4: %s", lines[3])
		}
		// Every exported line can be checked again outside Gatehouse: its hash is the
		// hash of its fields, and it links to the line before.
		prev := ""
		for i, l := range lines {
			var rec audit.Record
			if err := json.Unmarshal([]byte(l), &rec); err != nil {
				t.Fatal(err)
			}
			when, err := time.Parse(time.RFC3339, rec.At)
			if err != nil {
				t.Fatalf("at %q is not RFC 3339: %v", rec.At, err)
			}
			e := store.AuditEntry{Seq: rec.Seq, At: when, Actor: rec.Actor, Action: rec.Action, Target: rec.Target, Detail: string(rec.Detail), RemoteAddr: rec.RemoteAddr, PrevHash: rec.PrevHash}
			if store.AuditHash(e) != rec.Hash || rec.PrevHash != prev {
				t.Fatalf("line %d does not verify from its own fields", i+1)
			}
			prev = rec.Hash
		}

		// Filters: action (exact or prefix), actor, time range.
		buf.Reset()
		if n, _ := audit.Export(ctx, st, &buf, store.AuditFilter{Action: "connection."}); n != 1 || !strings.Contains(buf.String(), `"seq":4`) {
			t.Fatalf("action filter: %d %s", n, buf.String())
		}
		buf.Reset()
		if n, _ := audit.Export(ctx, st, &buf, store.AuditFilter{Actor: "ann@example.com"}); n != 3 {
			t.Fatalf("actor filter: %d", n)
		}
		future := time.Now().Add(time.Hour)
		buf.Reset()
		if n, _ := audit.Export(ctx, st, &buf, store.AuditFilter{From: &future}); n != 0 || buf.Len() != 0 {
			t.Fatalf("from filter: %d %q", n, buf.String())
		}
	})
}

// An export of a log longer than a page holds every entry once, in order.
func TestExportAcrossPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		n := audit.PageSize + 7
		appendN(t, st, n)
		var buf bytes.Buffer
		got, err := audit.Export(context.Background(), st, &buf, store.AuditFilter{})
		if err != nil || got != int64(n) {
			t.Fatalf("Export = %d, %v", got, err)
		}
		lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
		for i, l := range lines {
			if !strings.HasPrefix(l, fmt.Sprintf(`{"seq":%d,`, i+1)) {
				t.Fatalf("line %d: %s", i+1, l)
			}
		}
	})
}

// A move across pages is found where it came from, and a log with a thousand edited
// entries names each of them (the search for where an entry came from is bounded, so
// this stays fast).
func TestVerifyFarMoveAndManyEdits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		appendN(t, st, 1600)
		execSQL(t, st,
			`UPDATE audit_log SET seq = -1 WHERE seq = 2`,
			`UPDATE audit_log SET seq = 2 WHERE seq = 1500`,
			`UPDATE audit_log SET seq = 1500 WHERE seq = -1`,
			`UPDATE audit_log SET detail = '{}' WHERE seq >= 100 AND seq < 1100`)
		start := time.Now()
		r := verify(t, st)
		t.Logf("verify of 1,600 entries with 1,002 problems: %s", time.Since(start))
		if len(r.Problems) != 1002 || r.Entries != 1600 {
			for _, p := range r.Problems {
				if p.Kind != audit.Edited {
					t.Log(p.Message)
				}
			}
			t.Fatalf("%d problems in %d entries, want 1002 in 1600", len(r.Problems), r.Entries)
		}
		first, last := r.Problems[0], r.Problems[len(r.Problems)-1]
		if first.Message != "seq 2: reordered: it holds the entry written as seq 1500 (test.1500 by ann@example.com)" ||
			last.Message != "seq 1500: reordered: it holds the entry written as seq 2 (test.2 by ann@example.com)" {
			t.Fatalf("first %q, last %q", first.Message, last.Message)
		}
		for i, p := range r.Problems[1:1001] {
			if p.Kind != audit.Edited || p.Seq != int64(100+i) {
				t.Fatalf("problem %d: %+v, want seq %d edited", i+1, p, 100+i)
			}
		}
	})
}

// The fast recomputation Verify uses to find where a moved entry came from agrees with
// store.AuditHash: every intact entry of a log verifies, and every moved one is found.
func TestCandidateHashMatchesStore(t *testing.T) {
	for _, e := range []store.AuditEntry{
		{Seq: 1, At: time.UnixMilli(1700000000123), Actor: "a", Action: "signin", Detail: "{}"},
		{Seq: 123456, At: time.UnixMilli(1), Actor: "ünïcode@example.com", Action: "x.y", Target: "t:1", Detail: `{"k":"v\n"}`, RemoteAddr: "[::1]:80", PrevHash: strings.Repeat("ab", 32)},
	} {
		e.Hash = store.AuditHash(e)
		if got := audit.CandidateHash(e, e.Seq); got != e.Hash {
			t.Fatalf("candidate hash %s, store.AuditHash %s", got, e.Hash)
		}
	}
}

// Deleting the last entries and rewinding the head with them keeps the chain whole; a
// head hash recorded earlier shows it.
func TestVerifyExpectingAnEarlierHead(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		es := appendN(t, st, 5)
		ctx := context.Background()
		r, err := audit.VerifyExpecting(ctx, st, es[4].Hash)
		if err != nil || !r.OK() {
			t.Fatalf("intact log with its own head expected: %s %v", r, err)
		}
		execSQL(t, st, `DELETE FROM audit_log WHERE seq >= 4`, fmt.Sprintf(`UPDATE audit_head SET seq = 3, hash = '%s' WHERE id = 1`, es[2].Hash))
		if r := verify(t, st); !r.OK() {
			t.Fatalf("without the earlier head the rewound log looks intact (as documented), got %s", r)
		}
		r, err = audit.VerifyExpecting(ctx, st, es[4].Hash)
		if err != nil {
			t.Fatal(err)
		}
		wantProblems(t, r, audit.Problem{Seq: 4, LastSeq: 4, Kind: audit.Rewound,
			Message: "no entry has the hash " + es[4].Hash + " that was recorded as the head earlier: entries were deleted from the end and the head rewound, or the log was rewritten"})
	})
}
