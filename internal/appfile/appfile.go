// Package appfile parses the files in which application owners export who
// has what (identities and grants) for applications that have no API:
// CSV (comma or tab), XLSX, JSON and YAML. It is pure: no store, no AWS.
//
// Parse validates a file before anything is applied and reports every
// problem with its file, row and column and a message that says what to do;
// an invalid file yields no Data at all, so a caller can never apply half of
// it. Merge combines files that carry identities and grants separately and
// validates across them. CSV and JSON are read as streams (one row or item
// at a time); XLSX needs the whole archive (ZIP has its directory at the
// end) but its sheets are read row by row; YAML is parsed as one document.
//
// The columns are ConductorOne's template names (see Columns); a header that
// uses them, in any case and spacing, needs no mapping. Files with other
// headers carry a Mapping, saved with the import. Template gives a file to
// start from in each format, Encode writes Data back in any format, and
// EntitlementKey is an entitlement's stable identity. docs/imports.md
// ("File formats") documents every column and value for users.
package appfile

import (
	"context"
	"fmt"
	"io"
	"path"
	"strings"
	"time"
)

// Format is the syntax of an application access file.
type Format string

// The formats Parse reads. FormatC1Z is only recognised by DetectFormat so
// that callers can route baton's .c1z files to their own reader; Parse
// refuses it.
const (
	FormatCSV  Format = "csv"  // comma separated (a tab-separated file named .csv is detected from its header line)
	FormatTSV  Format = "tsv"  // tab separated
	FormatXLSX Format = "xlsx" // Excel workbook
	FormatJSON Format = "json" // {"identities": [...], "grants": [...]}
	FormatYAML Format = "yaml" // the same shape as JSON
	FormatC1Z  Format = "c1z"  // baton's sync file: not parsed here
)

// Formats lists the formats Parse reads, in the order the docs show them.
var Formats = []Format{FormatCSV, FormatTSV, FormatXLSX, FormatJSON, FormatYAML}

// DetectFormat tells the format from a file name's extension (any case):
// .csv, .tsv/.tab, .xlsx, .json, .yaml/.yml, and .c1z (which Parse does not
// read). Anything else is an error that lists the extensions.
func DetectFormat(name string) (Format, error) {
	switch strings.ToLower(path.Ext(name)) {
	case ".csv":
		return FormatCSV, nil
	case ".tsv", ".tab":
		return FormatTSV, nil
	case ".xlsx":
		return FormatXLSX, nil
	case ".json":
		return FormatJSON, nil
	case ".yaml", ".yml":
		return FormatYAML, nil
	case ".c1z":
		return FormatC1Z, nil
	}
	return "", fmt.Errorf("cannot tell the format of %q from its name: use .csv, .tsv, .xlsx, .json, .yaml (or .yml), or .c1z, or set the import's format", name)
}

// Mapping maps a canonical column (a name from Columns, in any case and
// spacing, e.g. "User ID" or "user_id") to the header the file uses for it
// (also matched in any case and spacing). It is saved with an import so that
// every new file with the same headers imports the same way. Canonical
// columns the mapping does not name are still found under their own names.
type Mapping map[string]string

// Options says how to read a file.
type Options struct {
	// Format overrides the format DetectFormat would give the name.
	Format Format
	// Mapping maps canonical columns to the file's headers (or JSON/YAML keys).
	Mapping Mapping
	// Sheet (XLSX) names the one sheet to read. Empty: sheets named
	// "identities" and "grants" (any case) when the workbook has both,
	// otherwise the first sheet.
	Sheet string
	// MaxProblems stops reading after this many problems (default 1000).
	MaxProblems int
}

// Identity is one user of the application.
type Identity struct {
	UserID, Email, Name, Status, Manager, Type string
	LastLogin                                  *time.Time
	// File and Row locate the row that declared the identity (Row: 1-based,
	// header = row 1, for CSV the line where the row starts; for JSON and
	// YAML the item's index in "identities", 1-based).
	File string
	Row  int
	// Part is the sheet (XLSX) or list ("identities" or "grants" in JSON and
	// YAML) the row is in; empty for CSV.
	Part string
	// Line is the YAML line of the item (0 elsewhere).
	Line int
	// Derived is true when the identity was taken from grant rows (a file
	// without a Type column, one row per user holding an entitlement) rather
	// than declared on a row of its own; Merge lets such identities meet the
	// same user's declared row instead of calling it a duplicate.
	Derived bool
}

// Grant is one user holding one entitlement on one resource. The spellings
// are kept as written; EntitlementKey gives the entitlement's identity.
type Grant struct {
	ResourceType, ResourceName, ResourceDescription, Entitlement, EntitlementDescription, UserID string
	File                                                                                         string
	Row                                                                                          int
	Part                                                                                         string
	Line                                                                                         int
}

// Data is what a valid file (or set of files) says.
type Data struct {
	Identities     []Identity
	Grants         []Grant
	NearDuplicates []NearDuplicate
}

// NearDuplicate reports entitlements whose spellings differ only in
// separators ("eng-leads", "eng leads", "Eng_Leads"): they are different
// entitlements by EntitlementKey but probably meant to be one. They are not
// problems (the file is applied as written) and not merged; the caller shows
// them so the owner can fix the spelling.
type NearDuplicate struct {
	// Key is the EntitlementKey first seen, Other the second one.
	Key, Other string
	// Keys lists every EntitlementKey of the group (Key, Other, ...), in order
	// of first appearance.
	Keys []string
	// Spellings[i] is the first spelling of Keys[i] as written, "resource
	// type / resource name / entitlement"; Rows[i] locates that row
	// ("access.csv row 7", "access.xlsx sheet Grants row 7", "access.json
	// grants item 7").
	Spellings []string
	Rows      []string
}

// Problem is one thing wrong with a file. Row is 1-based as people count
// (header = row 1; in CSV the line where the row starts; in JSON and YAML the
// item's index in its list) and 0 for a problem with the whole file.
type Problem struct {
	File    string `json:"file"`
	Row     int    `json:"row"`
	Column  string `json:"column"`
	Message string `json:"message"`
	// Part is the sheet (XLSX) or list (JSON, YAML) of the row; empty for CSV.
	Part string `json:"part,omitempty"`
	// Line is the YAML line of the item, when known.
	Line int `json:"line,omitempty"`
}

// String renders a problem as "file, row 3, column "Email Address": message".
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Part != "" {
		fmt.Fprintf(&b, ", %s", p.Part)
	}
	if p.Row > 0 {
		if isList(p.Part) {
			fmt.Fprintf(&b, " item %d", p.Row)
		} else {
			fmt.Fprintf(&b, ", row %d", p.Row)
		}
	}
	if p.Line > 0 {
		fmt.Fprintf(&b, " (line %d)", p.Line)
	}
	if p.Column != "" {
		fmt.Fprintf(&b, ", column %q", p.Column)
	}
	b.WriteString(": ")
	b.WriteString(p.Message)
	return b.String()
}

// isList tells a JSON/YAML list part from an XLSX sheet part.
func isList(part string) bool { return part == partIdentities || part == partGrants }

const (
	partIdentities = "identities"
	partGrants     = "grants"
)

// DefaultMaxProblems is the number of problems after which Parse stops.
const DefaultMaxProblems = 1000

// Parse reads one file and validates it: required columns, empty required
// cells, unknown user in a grant (when the file carries identities: a file
// of grants alone is checked by Merge), bad dates, duplicate user ids, bad
// statuses and user types. Problems are sorted by file, part, row and
// column. Data is nil when there is any problem: an invalid file changes
// nothing. The error is for what is not the file's fault (the reader failed,
// ctx ended, an unknown Options.Format).
//
// CSV and JSON are streamed: Parse never holds the file, only what it found.
func Parse(ctx context.Context, name string, r io.Reader, o Options) (*Data, []Problem, error) {
	f := o.Format
	if f == "" {
		var err error
		if f, err = DetectFormat(name); err != nil {
			return nil, nil, err
		}
	}
	cols, probs := resolveMapping(name, o.Mapping)
	b := newBuilder(ctx, name, o, cols)
	if len(probs) > 0 {
		sortProblems(probs)
		return nil, probs, nil
	}
	var err error
	switch f {
	case FormatCSV:
		err = parseCSV(b, r, 0)
	case FormatTSV:
		err = parseCSV(b, r, '\t')
	case FormatXLSX:
		err = parseXLSX(b, r, o.Sheet)
	case FormatJSON:
		err = parseJSON(b, r)
	case FormatYAML:
		err = parseYAML(b, r)
	case FormatC1Z:
		return nil, nil, fmt.Errorf("%s: a .c1z file is a baton sync file: ingest it as it is, not through appfile", name)
	default:
		return nil, nil, fmt.Errorf("unknown format %q: use one of csv, tsv, xlsx, json, yaml", f)
	}
	if err != nil && err != errStop {
		return nil, nil, err
	}
	return b.finish()
}
