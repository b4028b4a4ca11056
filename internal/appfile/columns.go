package appfile

import (
	"fmt"
	"sort"
	"strings"
	"unicode"
)

// col is a canonical column.
type col int

const (
	colUserID col = iota
	colEmail
	colName
	colStatus
	colManager
	colLastLogin
	colUserType
	colResourceType
	colResourceName
	colResourceDescription
	colEntitlement
	colEntitlementDescription
	colKind
	numCols
)

// Columns are the canonical column names, ConductorOne's template names, in
// template order. A header matches one when both are equal after
// normaliseHeader (so "user id", "USER_ID" and "UserId" are all "User ID").
// JSON and YAML use the snake_case spelling as keys (user_id, email_address, ...).
var Columns = []string{
	colUserID:                 "User ID",
	colEmail:                  "Email Address",
	colName:                   "Full Name",
	colStatus:                 "User Status",
	colManager:                "Manager",
	colLastLogin:              "Last Login",
	colUserType:               "User Type",
	colResourceType:           "Resource Type",
	colResourceName:           "Resource Name",
	colResourceDescription:    "Resource Description",
	colEntitlement:            "Entitlement",
	colEntitlementDescription: "Entitlement Description",
	colKind:                   "Type",
}

// identityCols are the columns of an identity other than User ID.
var identityCols = []col{colEmail, colName, colStatus, colManager, colLastLogin, colUserType}

// grantRequired are the grant columns a grant row must fill (with User ID).
var grantRequired = []col{colResourceType, colResourceName, colEntitlement}

// snake is a canonical column's JSON/YAML key.
func snake(c col) string {
	return strings.ReplaceAll(strings.ToLower(Columns[c]), " ", "_")
}

// normaliseHeader folds a header for matching: lower case, with spaces,
// underscores and hyphens removed ("User ID", "user_id", "user-id", "UserID"
// are all "userid"). A leading byte-order mark is dropped too.
func normaliseHeader(s string) string {
	s = strings.TrimPrefix(s, "\ufeff")
	var b strings.Builder
	for _, r := range s {
		if unicode.IsSpace(r) || r == '_' || r == '-' {
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// canonicalByHeader finds the canonical column of a normalised header.
var canonicalByHeader = func() map[string]col {
	m := map[string]col{}
	for c, n := range Columns {
		m[normaliseHeader(n)] = col(c)
	}
	return m
}()

// columnSet is how a file names the canonical columns: the normalised
// header each canonical column is looked up by (the mapping's, or its own).
type columnSet struct {
	header [numCols]string // normalised header per canonical column
	mapped [numCols]string // the mapping's header as written, "" when not mapped
}

// resolveMapping checks a Mapping and turns it into a columnSet.
func resolveMapping(file string, m Mapping) (columnSet, []Problem) {
	var cs columnSet
	for c := range Columns {
		cs.header[c] = normaliseHeader(Columns[c])
	}
	var probs []Problem
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	seen := map[string]string{}
	for _, k := range keys {
		v := m[k]
		c, ok := canonicalByHeader[normaliseHeader(k)]
		if !ok {
			probs = append(probs, Problem{File: file, Column: k, Message: fmt.Sprintf("the column mapping names %q, which is not a column Gatehouse reads; map one of %s", k, quoteList(Columns))})
			continue
		}
		if strings.TrimSpace(v) == "" {
			continue
		}
		nv := normaliseHeader(v)
		if prev, dup := seen[nv]; dup {
			probs = append(probs, Problem{File: file, Column: v, Message: fmt.Sprintf("the column mapping maps both %q and %q to the column %q; map each column once", prev, Columns[c], v)})
			continue
		}
		seen[nv] = Columns[c]
		cs.header[c] = nv
		cs.mapped[c] = v
	}
	return cs, probs
}

// quoteList renders names as "a", "b", "c".
func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

// table is a header resolved against a columnSet.
type table struct {
	idx  [numCols]int    // cell index of each canonical column, -1 when absent
	name [numCols]string // the header as written in the file, for problems
	raw  []string        // the header as written
}

// resolveHeader maps a header row to canonical columns. Problems: two
// headers for one column. Headers that name no canonical column are ignored
// (exports often carry more columns than an import needs).
func (cs *columnSet) resolveHeader(header []string, loc loc) (*table, []Problem) {
	t := &table{raw: append([]string(nil), header...)}
	for c := range t.idx {
		t.idx[c] = -1
		t.name[c] = Columns[c]
		if cs.mapped[c] != "" {
			t.name[c] = cs.mapped[c]
		}
	}
	byHeader := map[string]col{}
	for c := range Columns {
		if _, taken := byHeader[cs.header[c]]; !taken {
			byHeader[cs.header[c]] = col(c)
		}
	}
	// A canonical header that the mapping moved elsewhere no longer names its
	// own column: "User ID" mapped to "Login" leaves a "User ID" column unread.
	var probs []Problem
	for i, h := range header {
		c, ok := byHeader[normaliseHeader(h)]
		if !ok || normaliseHeader(h) == "" {
			continue
		}
		if t.idx[c] >= 0 {
			p := loc.problem(1, h, fmt.Sprintf("the header has two columns for %q (%q and %q); remove one, or map the one to read in the import's column mapping", Columns[c], header[t.idx[c]], h))
			probs = append(probs, p)
			continue
		}
		t.idx[c] = i
		t.name[c] = strings.TrimPrefix(h, "\ufeff")
	}
	return t, probs
}

// has tells whether the header has column c.
func (t *table) has(c col) bool { return t.idx[c] >= 0 }

// found lists the header's non-empty cells as written, for messages.
func (t *table) found() string {
	var hs []string
	for _, h := range t.raw {
		if h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")); h != "" {
			hs = append(hs, h)
		}
	}
	if len(hs) == 0 {
		return "no column names"
	}
	return quoteList(hs)
}
