// Package audit checks and exports Gatehouse's hash-chained audit log (appended by
// store.Tx.AppendAudit in the transaction of each change). Verify walks the whole log and
// says exactly which entry was edited, deleted or moved, and whether the tail was cut
// off; Export writes entries as JSON lines that can be checked again outside Gatehouse.
package audit

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse/internal/store"
)

// PageSize is how many entries Verify and Export read at a time.
const PageSize = 1000

// searchWindow bounds the search for where a moved entry was written: the positions
// within this distance are tried. A move farther than that is still detected, as an
// edit at both places.
const searchWindow = 10000

// maxSearches bounds the searches of one walk (each up to 2*searchWindow hashes): past
// it, an entry whose hash does not match is reported as edited without looking for where
// it came from, so that a log with many damaged entries is still verified in seconds.
const maxSearches = 50

// Problem kinds.
const (
	Edited    = "edited"    // the entry's content does not match its hash
	Reordered = "reordered" // the entry is intact but at another seq than it was written at
	Deleted   = "deleted"   // entries are missing inside the log
	Chain     = "chain"     // the entry does not link to the one before it (rewritten with its hash recomputed)
	Truncated = "truncated" // entries are missing at the end (the head records more)
	Head      = "head"      // the head does not match the last entry
	Rewound   = "rewound"   // a head recorded earlier is no longer in the log
)

// Problem is one thing wrong with the log.
type Problem struct {
	// Seq is the entry (position) the problem is at; for a range of missing entries,
	// the first of them.
	Seq int64 `json:"seq"`
	// LastSeq is the last of a range of missing entries (Deleted, Truncated); else Seq.
	LastSeq int64  `json:"last_seq"`
	Kind    string `json:"kind"`
	Message string `json:"message"`
}

func (p Problem) String() string { return p.Message }

// Report is what Verify found.
type Report struct {
	// Entries is how many entries the log holds.
	Entries int64 `json:"entries"`
	// LastSeq is the last entry's seq (0 for an empty log).
	LastSeq int64 `json:"last_seq"`
	// HeadSeq and HeadHash are what the head row records: the last entry appended.
	HeadSeq  int64  `json:"head_seq"`
	HeadHash string `json:"head_hash"`
	// Problems is empty when the log is intact, in seq order otherwise.
	Problems []Problem `json:"problems"`
}

// OK says whether the log is intact.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

// String is a human summary: one line when intact, else one line per problem.
func (r *Report) String() string {
	if r.OK() {
		return fmt.Sprintf("audit log intact: %d entries, head %s", r.Entries, headText(r.HeadHash))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "audit log TAMPERED: %d problem(s) in %d entries (head: seq %d, hash %s)\n", len(r.Problems), r.Entries, r.HeadSeq, headText(r.HeadHash))
	for _, p := range r.Problems {
		b.WriteString("  " + p.Message + "\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func headText(h string) string {
	if h == "" {
		return "(empty log)"
	}
	return h
}

// verifier walks the log once, in seq order, keeping only a window of recent entries.
type verifier struct {
	r *Report
	// hashOf maps an entry's original seq (the one its hash was made with) to its stored
	// hash, for the entries of the last searchWindow positions and every moved one.
	hashOf map[int64]string
	// origOf is hashOf reversed: where the entry with a hash was written.
	origOf map[string]int64
	// waiting maps an original seq to the entries whose prev_hash must be its hash, when
	// it has not been seen yet (a moved entry found later).
	waiting map[int64][]int64
	// prevHashes holds the prev_hash of the entries in waiting, by their original seq.
	prevHashes  map[int64]string
	lastPos     int64
	lastHash    string // the stored hash at lastPos
	headMissing bool
	missing     map[int64]bool // original seqs reported missing (Deleted)
	// expect is a hash some entry must have (VerifyExpecting); expectSeq where it was
	// found.
	expect    string
	expectSeq int64
	// searches counts the searches for where an entry came from (see maxSearches).
	searches int
}

// Verify walks the whole audit log in seq order and reports every entry that was edited
// (its hash does not match its content), deleted (a seq gap), moved to another seq
// (reordered), rewritten with a recomputed hash (its successor's prev_hash does not
// match), and a cut-off tail (the head records a later entry than the last one).
func Verify(ctx context.Context, st *store.Store) (*Report, error) {
	return VerifyExpecting(ctx, st, "")
}

// VerifyExpecting is Verify that also requires an entry with the hash expect: a head
// hash recorded outside the database by an earlier verify. The chain alone cannot show
// that its last entries were deleted and the head row rewound with them; a head
// recorded earlier that is no longer in the log shows it.
func VerifyExpecting(ctx context.Context, st *store.Store, expect string) (*Report, error) {
	r := &Report{}
	v := &verifier{r: r, expect: expect, hashOf: map[int64]string{}, origOf: map[string]int64{}, waiting: map[int64][]int64{}, prevHashes: map[int64]string{}, missing: map[int64]bool{}}
	// The log may grow while it is walked: walk to the end, then read the head; if the
	// head is past the end, walk once more for the entries appended meanwhile.
	for attempt := 0; ; attempt++ {
		if err := v.walk(ctx, st); err != nil {
			return nil, err
		}
		seq, hash, err := st.AuditHead(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			v.headMissing = true
			break
		}
		if err != nil {
			return nil, fmt.Errorf("audit head: %w", err)
		}
		r.HeadSeq, r.HeadHash = seq, hash
		if seq <= v.lastPos || attempt == 1 {
			break
		}
	}
	v.finish()
	return r, nil
}

func (v *verifier) walk(ctx context.Context, st *store.Store) error {
	for {
		page, err := st.ListAudit(ctx, store.AuditFilter{AfterSeq: v.lastPos, Limit: PageSize})
		if err != nil {
			return fmt.Errorf("read the audit log after seq %d: %w", v.lastPos, err)
		}
		for _, e := range page {
			v.entry(e)
		}
		if len(page) < PageSize {
			return nil
		}
	}
}

func (v *verifier) problem(p Problem) {
	if p.LastSeq == 0 {
		p.LastSeq = p.Seq
	}
	v.r.Problems = append(v.r.Problems, p)
}

func (v *verifier) entry(e store.AuditEntry) {
	pos := e.Seq
	v.r.Entries++
	if pos > v.lastPos+1 {
		first, last := v.lastPos+1, pos-1
		how := fmt.Sprintf("the log goes from seq %d to seq %d", v.lastPos, pos)
		if v.lastPos == 0 {
			how = fmt.Sprintf("the log starts at seq %d", pos)
		}
		v.problem(Problem{Seq: first, LastSeq: last, Kind: Deleted, Message: missingText(first, last) + " deleted: " + how})
		for s := first; s <= last && s-first < searchWindow; s++ {
			v.missing[s] = true
		}
	}
	v.lastPos, v.lastHash = pos, e.Hash
	if v.expect != "" && e.Hash == v.expect && v.expectSeq == 0 {
		v.expectSeq = pos
	}

	// Where was the entry written? At its seq if its hash matches its content there;
	// else at the seq where it does (it was moved); else its content was edited.
	orig := pos
	if store.AuditHash(e) != e.Hash {
		if q, ok := v.findOrigin(e); ok {
			orig = q
			v.problem(Problem{Seq: pos, Kind: Reordered, Message: fmt.Sprintf("seq %d: reordered: it holds the entry written as seq %d (%s by %s)", pos, q, e.Action, e.Actor)})
		} else {
			v.problem(Problem{Seq: pos, Kind: Edited, Message: fmt.Sprintf("seq %d: edited: its content (%s by %s at %s) does not match its hash", pos, e.Action, e.Actor, e.At.Format("2006-01-02T15:04:05.000Z07:00"))})
			// Its link is as untrustworthy as the rest of it; its successor's link to
			// its stored hash is still checked (unless the entry written as this seq
			// was found moved elsewhere: that one is the successor's predecessor).
			if _, moved := v.hashOf[orig]; !moved {
				v.remember(orig, e.Hash)
			}
			return
		}
	}
	v.remember(orig, e.Hash)
	v.checkLink(orig, e.PrevHash)
}

// findOrigin finds the seq at which e's content matches its hash. First where its
// prev_hash says (one after the entry whose hash it names), then, within the budget of
// searches, at every seq near its position.
func (v *verifier) findOrigin(e store.AuditEntry) (int64, bool) {
	c := newCandidates(e)
	if r, ok := v.origOf[e.PrevHash]; ok && c.matches(r+1) {
		return r + 1, true
	}
	if e.PrevHash == "" && c.matches(1) {
		return 1, true
	}
	v.searches++
	if v.searches > maxSearches {
		return 0, false
	}
	pos := e.Seq
	for d := int64(1); d <= searchWindow; d++ {
		for _, q := range []int64{pos - d, pos + d} {
			if q >= 1 && c.matches(q) {
				return q, true
			}
		}
	}
	return 0, false
}

// candidates recomputes an entry's hash as if written at another seq, cheaply: the seq
// is the first field hashed, so the encoding of the others is built once.
type candidates struct {
	rest []byte
	want string
	buf  []byte
}

func newCandidates(e store.AuditEntry) *candidates {
	// The same encoding as store.AuditHash (a test checks they agree).
	var rest []byte
	for _, f := range []string{
		strconv.FormatInt(e.At.UnixMilli(), 10), e.Actor, e.Action, e.Target, e.Detail, e.RemoteAddr, e.PrevHash,
	} {
		rest = strconv.AppendInt(rest, int64(len(f)), 10)
		rest = append(rest, ':')
		rest = append(rest, f...)
		rest = append(rest, '\n')
	}
	return &candidates{rest: rest, want: e.Hash}
}

func (c *candidates) hash(seq int64) string {
	s := strconv.FormatInt(seq, 10)
	c.buf = strconv.AppendInt(c.buf[:0], int64(len(s)), 10)
	c.buf = append(c.buf, ':')
	c.buf = append(c.buf, s...)
	c.buf = append(c.buf, '\n')
	c.buf = append(c.buf, c.rest...)
	sum := sha256.Sum256(c.buf)
	return hex.EncodeToString(sum[:])
}

func (c *candidates) matches(seq int64) bool { return c.hash(seq) == c.want }

// remember records the hash of the entry written as seq orig, and checks the entries
// that were waiting for it.
func (v *verifier) remember(orig int64, hash string) {
	v.hashOf[orig] = hash
	v.origOf[hash] = orig
	// Keep only the recent window (and what is still awaited): memory stays bounded
	// however long the log is.
	if len(v.hashOf) > 2*searchWindow {
		for s := range v.hashOf {
			if s < v.lastPos-searchWindow {
				delete(v.origOf, v.hashOf[s])
				delete(v.hashOf, s)
			}
		}
	}
	for _, s := range v.waiting[orig] {
		v.compareLink(s, v.prevHashes[s], hash)
		delete(v.prevHashes, s)
	}
	delete(v.waiting, orig)
}

// checkLink checks that the entry written as seq orig links to the entry written as
// seq orig-1.
func (v *verifier) checkLink(orig int64, prevHash string) {
	if orig == 1 {
		if prevHash != "" {
			v.problem(Problem{Seq: 1, Kind: Chain, Message: "seq 1: its prev_hash is not empty: entries before it were removed and the log renumbered"})
		}
		return
	}
	h, ok := v.hashOf[orig-1]
	if !ok {
		if v.missing[orig-1] {
			return // the deletion explains it, and was reported
		}
		v.waiting[orig-1] = append(v.waiting[orig-1], orig)
		v.prevHashes[orig] = prevHash
		return
	}
	v.compareLink(orig, prevHash, h)
}

func (v *verifier) compareLink(orig int64, prevHash, want string) {
	if prevHash != want {
		v.problem(Problem{Seq: orig, Kind: Chain, Message: fmt.Sprintf("seq %d: its prev_hash is not the hash of seq %d: seq %d was rewritten with its hash recomputed, or replaced", orig, orig-1, orig-1)})
	}
}

func (v *verifier) finish() {
	r := v.r
	r.LastSeq = v.lastPos
	// Entries waiting for a predecessor that never came: the predecessor was deleted
	// and renumbered away, or moved too far to be found.
	for s := range v.prevHashes {
		v.problem(Problem{Seq: s, Kind: Chain, Message: fmt.Sprintf("seq %d: no entry has the hash its prev_hash names (the entry written as seq %d is gone)", s, s-1)})
	}
	if v.expect != "" && v.expectSeq == 0 {
		v.problem(Problem{Seq: v.lastPos + 1, Kind: Rewound,
			Message: fmt.Sprintf("no entry has the hash %s that was recorded as the head earlier: entries were deleted from the end and the head rewound, or the log was rewritten", v.expect)})
	}
	switch {
	case v.headMissing:
		v.problem(Problem{Seq: v.lastPos, Kind: Head, Message: "the head row (audit_head) is missing: it was deleted, so a cut-off tail cannot be detected"})
	case r.HeadSeq > v.lastPos:
		v.problem(Problem{Seq: v.lastPos + 1, LastSeq: r.HeadSeq, Kind: Truncated,
			Message: fmt.Sprintf("%s deleted from the end: the head records seq %d (hash %s) but the last entry is seq %d", missingText(v.lastPos+1, r.HeadSeq), r.HeadSeq, headText(r.HeadHash), v.lastPos)})
	case r.HeadSeq < v.lastPos:
		v.problem(Problem{Seq: r.HeadSeq + 1, LastSeq: v.lastPos, Kind: Head,
			Message: fmt.Sprintf("%s written after the head (seq %d), not by Gatehouse", missingText(r.HeadSeq+1, v.lastPos), r.HeadSeq)})
	case r.HeadSeq > 0 && v.lastHash != r.HeadHash:
		v.problem(Problem{Seq: v.lastPos, Kind: Head,
			Message: fmt.Sprintf("seq %d: its hash is not the one the head records (%s): the last entry was replaced", v.lastPos, r.HeadHash)})
	}
	sortProblems(r.Problems)
}

func missingText(first, last int64) string {
	if first == last {
		return fmt.Sprintf("seq %d:", first)
	}
	return fmt.Sprintf("seq %d to %d:", first, last)
}

// sortProblems orders problems by seq; problems at one seq keep the order they were
// found in.
func sortProblems(ps []Problem) {
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Seq < ps[j].Seq })
}
