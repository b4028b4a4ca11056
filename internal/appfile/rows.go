package appfile

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"
)

// errStop ends reading once MaxProblems problems were found.
var errStop = errors.New("too many problems")

// loc says where rows come from: a file, and a sheet or list in it.
type loc struct {
	file, part string
}

func (l loc) problem(row int, column, msg string) Problem {
	return Problem{File: l.file, Part: l.part, Row: row, Column: column, Message: msg}
}

// where renders a row's place for messages that name two rows:
// "row 7", "sheet Grants row 7", "grants item 7", with the file when asked.
func where(file, part string, row int, withFile bool) string {
	s := fmt.Sprintf("row %d", row)
	if isList(part) {
		s = fmt.Sprintf("%s item %d", part, row)
	} else if part != "" {
		s = fmt.Sprintf("sheet %s row %d", part, row)
	}
	if withFile {
		s = file + " " + s
	}
	return s
}

// mode is how the rows of one table are read.
type mode int

const (
	modeAuto       mode = iota // decide from the header
	modeIdentities             // every row is a user
	modeGrants                 // every row is a grant
	modeMixed                  // the Type column says user or grant
	modeCombined               // one row per user holding an entitlement; identities from the same rows
)

// record is one row's cells by canonical column.
type record struct {
	val     [numCols]string
	present [numCols]bool
	name    *[numCols]string // the file's name for each column
	list    bool             // a JSON/YAML item: an absent key is "missing", not "empty"
}

func (r *record) empty() bool {
	for _, v := range r.val {
		if v != "" {
			return false
		}
	}
	return true
}

// builder collects what the rows of one Parse (or one Merge) say.
type builder struct {
	ctx      context.Context
	file     string
	cols     columnSet
	max      int
	probs    []Problem
	stopped  bool
	ids      []Identity
	idIndex  map[string]int
	grants   []Grant
	userCol  map[string]string // part -> the name of its User ID column, for unknown-user problems
	checkIDs bool              // the file carries identities, so grants' users can be checked
	xlsx     bool              // Excel date numbers are dates
	date1904 bool
	intern   map[string]string
	n        int
}

func newBuilder(ctx context.Context, file string, o Options, cols columnSet) *builder {
	max := o.MaxProblems
	if max <= 0 {
		max = DefaultMaxProblems
	}
	return &builder{ctx: ctx, file: file, cols: cols, max: max, idIndex: map[string]int{}, userCol: map[string]string{}, intern: map[string]string{}}
}

// add records a problem; false once MaxProblems is reached.
func (b *builder) add(p Problem) bool {
	if b.stopped {
		return false
	}
	b.probs = append(b.probs, p)
	if len(b.probs) >= b.max {
		b.stopped = true
		return false
	}
	return true
}

// startTable checks a table's header for mode m (modeAuto decides) and
// returns the mode its rows are read in; ok is false when the header makes
// the rows unreadable (a required column is missing).
func (b *builder) startTable(l loc, t *table, m mode) (mode, bool) {
	hasGrantCol := false
	for _, c := range grantRequired {
		hasGrantCol = hasGrantCol || t.has(c)
	}
	hasIdentityCol := false
	for _, c := range identityCols {
		hasIdentityCol = hasIdentityCol || t.has(c)
	}
	if m == modeAuto {
		switch {
		case t.has(colKind):
			m = modeMixed
		case hasGrantCol:
			m = modeCombined
		case t.has(colUserID):
			m = modeIdentities
		}
	}
	need := []col{colUserID}
	var expected string
	switch m {
	case modeIdentities:
		expected = fmt.Sprintf("a users %s needs %q", tableWord(l), Columns[colUserID])
	case modeGrants, modeMixed, modeCombined:
		need = append(need, grantRequired...)
		expected = fmt.Sprintf("a grants %s needs %s", tableWord(l), quoteList(names(need)))
		if m == modeMixed {
			need = append(need, colKind)
			expected = fmt.Sprintf("a %s with a %q column needs %s", tableWord(l), Columns[colKind], quoteList(names(need)))
		}
	default:
		expected = fmt.Sprintf("expected at least %q for users, plus %s for grants", Columns[colUserID], quoteList(names(grantRequired)))
		b.add(l.problem(1, Columns[colUserID], fmt.Sprintf("missing required column %q; the header has %s; %s (rename the column or map it in the import's column mapping)", Columns[colUserID], t.found(), expected)))
		return m, false
	}
	ok := true
	for _, c := range need {
		if !t.has(c) {
			ok = false
			b.add(l.problem(1, t.name[c], fmt.Sprintf("missing required column %q; the header has %s; %s (rename the column or map it in the import's column mapping)", t.name[c], t.found(), expected)))
		}
	}
	if m == modeIdentities || m == modeMixed || (m == modeCombined && hasIdentityCol) {
		b.checkIDs = true
	}
	b.userCol[l.part] = t.name[colUserID]
	if m == modeCombined && !hasIdentityCol {
		m = modeGrants // a grants-only table: its users come from another file (Merge checks them)
	}
	return m, ok
}

func tableWord(l loc) string {
	if l.part != "" && !isList(l.part) {
		return "sheet"
	}
	return "file"
}

func names(cs []col) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = Columns[c]
	}
	return out
}

// fill reads a table row's cells into rec.
func (t *table) fill(rec *record, cells []string) {
	rec.name = &t.name
	for c := range rec.val {
		rec.val[c], rec.present[c] = "", t.idx[c] >= 0
		if i := t.idx[c]; i >= 0 && i < len(cells) {
			rec.val[c] = strings.TrimSpace(cells[i])
		}
	}
}

// row reads one row in mode m.
func (b *builder) row(l loc, row, line int, m mode, r *record) error {
	b.n++
	if b.n&1023 == 0 {
		if err := b.ctx.Err(); err != nil {
			return err
		}
	}
	if r.empty() {
		return nil
	}
	switch m {
	case modeIdentities:
		b.identityRow(l, row, line, r, false)
	case modeGrants:
		b.grantRow(l, row, line, r)
	case modeMixed:
		switch kind := strings.ToLower(r.val[colKind]); kind {
		case "user", "identity":
			b.identityRow(l, row, line, r, false)
		case "grant":
			b.grantRow(l, row, line, r)
		default:
			msg := fmt.Sprintf("bad %s %q: use user (a row that describes a user) or grant (a row that gives a user an entitlement)", r.name[colKind], r.val[colKind])
			if kind == "" {
				msg = fmt.Sprintf("empty %q: every row needs user (a row that describes a user) or grant (a row that gives a user an entitlement)", r.name[colKind])
			}
			b.add(Problem{File: l.file, Part: l.part, Row: row, Line: line, Column: r.name[colKind], Message: msg})
		}
	case modeCombined:
		noGrant := true
		for _, c := range grantRequired {
			noGrant = noGrant && r.val[c] == ""
		}
		if !noGrant {
			b.grantRow(l, row, line, r)
		} else if r.val[colUserID] == "" {
			b.add(Problem{File: l.file, Part: l.part, Row: row, Line: line, Column: r.name[colUserID], Message: emptyMessage(r, colUserID, "row", []col{colUserID})})
		}
		b.identityRow(l, row, line, r, true)
	}
	if b.stopped {
		return errStop
	}
	return nil
}

// emptyMessage words an empty required cell.
func emptyMessage(r *record, c col, what string, need []col) string {
	ns := make([]string, len(need))
	for i, n := range need {
		ns[i] = r.name[n]
	}
	word := "empty"
	if r.list && !r.present[c] {
		word = "missing"
	}
	return fmt.Sprintf("%s %q: every %s needs %s", word, r.name[c], what, joinAnd(ns))
}

func joinAnd(ns []string) string {
	if len(ns) == 1 {
		return ns[0]
	}
	return strings.Join(ns[:len(ns)-1], ", ") + " and " + ns[len(ns)-1]
}

var statusValues = map[string]string{
	"enabled": "enabled", "active": "enabled",
	"disabled": "disabled", "inactive": "disabled", "suspended": "disabled",
	"deleted": "deleted",
}

var userTypeValues = map[string]string{"human": "human", "service": "service", "system": "system"}

// identityRow reads a user from a row; derived identities come from grant
// rows and may repeat (their columns must agree).
func (b *builder) identityRow(l loc, row, line int, r *record, derived bool) {
	p := func(c col, msg string) {
		b.add(Problem{File: l.file, Part: l.part, Row: row, Line: line, Column: r.name[c], Message: msg})
	}
	id := Identity{UserID: b.in(r.val[colUserID]), Email: strings.Clone(r.val[colEmail]), Name: strings.Clone(r.val[colName]), Manager: b.in(r.val[colManager]),
		File: l.file, Part: l.part, Row: row, Line: line, Derived: derived}
	if id.UserID == "" {
		if !derived { // a grant row already said its User ID is empty
			p(colUserID, emptyMessage(r, colUserID, "user", []col{colUserID}))
		}
		return
	}
	if id.Email != "" {
		if a, err := mail.ParseAddress(id.Email); err != nil || a.Address != id.Email || a.Name != "" {
			p(colEmail, fmt.Sprintf("bad email address %q: write one address like alice@example.com, or leave it empty", id.Email))
		}
	}
	if v := r.val[colStatus]; v != "" {
		if s, ok := statusValues[strings.ToLower(v)]; ok {
			id.Status = s
		} else {
			p(colStatus, fmt.Sprintf("bad %s %q: use enabled (or active), disabled (or inactive, suspended) or deleted, or leave it empty", r.name[colStatus], v))
		}
	}
	if v := r.val[colUserType]; v != "" {
		if s, ok := userTypeValues[strings.ToLower(v)]; ok {
			id.Type = s
		} else {
			p(colUserType, fmt.Sprintf("bad %s %q: use human, service or system, or leave it empty", r.name[colUserType], v))
		}
	}
	if v := r.val[colLastLogin]; v != "" {
		if t, ok := b.parseDate(v); ok {
			id.LastLogin = &t
		} else {
			formats := "RFC 3339 (2026-03-01T09:30:00Z) or YYYY-MM-DD (2026-03-01)"
			if b.xlsx {
				formats = "RFC 3339 (2026-03-01T09:30:00Z), YYYY-MM-DD (2026-03-01) or an Excel date cell"
			}
			p(colLastLogin, fmt.Sprintf("bad date %q: use %s, or leave it empty", v, formats))
		}
	}
	b.addIdentity(id, r.name[colUserID], r.name)
}

// addIdentity adds a user, reporting a declared user twice and merging a
// derived user's rows (whose columns must agree). names are the file's
// column names for problems (nil: canonical names).
func (b *builder) addIdentity(id Identity, userCol string, cn *[numCols]string) {
	name := func(c col) string {
		if cn != nil {
			return cn[c]
		}
		return Columns[c]
	}
	i, seen := b.idIndex[id.UserID]
	if !seen {
		b.idIndex[id.UserID] = len(b.ids)
		b.ids = append(b.ids, id)
		return
	}
	prev := &b.ids[i]
	if !prev.Derived && !id.Derived {
		b.add(Problem{File: id.File, Part: id.Part, Row: id.Row, Line: id.Line, Column: userCol,
			Message: fmt.Sprintf("duplicate %s %q on %s and %s; keep one row per user", userCol, id.UserID, describe(*prev, id), where(id.File, id.Part, id.Row, id.File != prev.File))})
		return
	}
	// One of them comes from grant rows: the columns they both fill must agree.
	at := where(prev.File, prev.Part, prev.Row, id.File != prev.File)
	conflict := func(c col, a, v string) {
		b.add(Problem{File: id.File, Part: id.Part, Row: id.Row, Line: id.Line, Column: name(c),
			Message: fmt.Sprintf("user %q has %s %q here but %q on %s; a user's columns must be the same on every row (or empty)", id.UserID, name(c), v, a, at)})
	}
	str := []struct {
		c    col
		a, v *string
	}{{colEmail, &prev.Email, &id.Email}, {colName, &prev.Name, &id.Name}, {colStatus, &prev.Status, &id.Status},
		{colManager, &prev.Manager, &id.Manager}, {colUserType, &prev.Type, &id.Type}}
	for _, f := range str {
		switch {
		case *f.v == "":
		case *f.a == "":
			*f.a = *f.v
		case *f.a != *f.v:
			conflict(f.c, *f.a, *f.v)
		}
	}
	switch {
	case id.LastLogin == nil:
	case prev.LastLogin == nil:
		prev.LastLogin = id.LastLogin
	case !prev.LastLogin.Equal(*id.LastLogin):
		conflict(colLastLogin, prev.LastLogin.Format(time.RFC3339), id.LastLogin.Format(time.RFC3339))
	}
	if prev.Derived && !id.Derived { // the declared row is where the user lives
		prev.File, prev.Part, prev.Row, prev.Line, prev.Derived = id.File, id.Part, id.Row, id.Line, false
	}
}

// describe renders the first of two rows for a duplicate message.
func describe(prev, id Identity) string {
	return where(prev.File, prev.Part, prev.Row, prev.File != id.File)
}

// grantRow reads a grant from a row.
func (b *builder) grantRow(l loc, row, line int, r *record) {
	need := []col{colResourceType, colResourceName, colEntitlement, colUserID}
	ok := true
	for _, c := range need {
		if r.val[c] == "" {
			ok = false
			b.add(Problem{File: l.file, Part: l.part, Row: row, Line: line, Column: r.name[c], Message: emptyMessage(r, c, "grant", need)})
		}
	}
	if !ok {
		return
	}
	b.grants = append(b.grants, Grant{
		ResourceType: b.in(r.val[colResourceType]), ResourceName: b.in(r.val[colResourceName]),
		ResourceDescription: b.in(r.val[colResourceDescription]), Entitlement: b.in(r.val[colEntitlement]),
		EntitlementDescription: b.in(r.val[colEntitlementDescription]), UserID: b.in(r.val[colUserID]),
		File: l.file, Part: l.part, Row: row, Line: line,
	})
}

// in interns values that repeat across rows (resource types, names,
// entitlements, descriptions), so a 100,000-row file holds each once.
func (b *builder) in(s string) string {
	if s == "" {
		return ""
	}
	if v, ok := b.intern[s]; ok {
		return v
	}
	s = strings.Clone(s) // a CSV cell shares memory with its whole line
	if len(b.intern) < 1<<20 {
		b.intern[s] = s
	}
	return s
}

// parseDate reads RFC 3339, YYYY-MM-DD (midnight UTC) and, in XLSX, an
// Excel date number; times are returned in UTC.
func (b *builder) parseDate(s string) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), true
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, true
	}
	if b.xlsx {
		if f, err := strconv.ParseFloat(s, 64); err == nil && f > 0 {
			if t, err := excelize.ExcelDateToTime(f, b.date1904); err == nil {
				return t.UTC(), true
			}
		}
	}
	return time.Time{}, false
}

// finish checks grants' users, drops repeated grants, finds near-duplicate
// entitlements and returns the Data, or the sorted problems.
func (b *builder) finish() (*Data, []Problem, error) {
	if err := b.ctx.Err(); err != nil {
		return nil, nil, err
	}
	if b.checkIDs && !b.stopped {
		for _, g := range b.grants {
			if _, ok := b.idIndex[g.UserID]; !ok {
				col := b.userCol[g.Part]
				if col == "" {
					col = Columns[colUserID]
				}
				if !b.add(Problem{File: g.File, Part: g.Part, Row: g.Row, Line: g.Line, Column: col,
					Message: fmt.Sprintf("unknown user %q: no user row has this %s; add a user row for %q or correct the %s", g.UserID, col, g.UserID, col)}) {
					break
				}
			}
		}
	}
	if len(b.probs) > 0 {
		if b.stopped {
			b.probs = append(b.probs, Problem{File: b.file, Message: fmt.Sprintf("stopped after %d problems; fix these and import the file again", b.max)})
		}
		sortProblems(b.probs)
		return nil, b.probs, nil
	}
	keys := keyCache{}
	d := &Data{Identities: b.ids, Grants: dedupeGrants(b.grants, keys)}
	d.NearDuplicates = nearDuplicates(d.Grants, keys)
	if d.Identities == nil {
		d.Identities = []Identity{}
	}
	return d, nil, nil
}

// sortProblems orders problems by file, part, row and column.
func sortProblems(ps []Problem) {
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Part != b.Part {
			return a.Part < b.Part
		}
		if a.Row != b.Row {
			return a.Row < b.Row
		}
		return a.Column < b.Column
	})
}

// dedupeGrants keeps the first of grants that give the same user the same
// entitlement (by EntitlementKey): a repeated row says nothing new.
func dedupeGrants(gs []Grant, keys keyCache) []Grant {
	type grantKey struct{ entitlement, user string }
	seen := make(map[grantKey]struct{}, len(gs))
	out := gs[:0]
	for _, g := range gs {
		k := grantKey{keys.key(g), g.UserID}
		if _, dup := seen[k]; dup {
			continue
		}
		seen[k] = struct{}{}
		out = append(out, g)
	}
	if out == nil {
		out = []Grant{}
	}
	return out
}
