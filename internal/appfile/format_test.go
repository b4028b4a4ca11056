package appfile

import (
	"bytes"
	"context"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"
)

// fixture is written once and rendered to every format.
func fixture() *Data {
	t1 := time.Date(2026, 2, 27, 16, 45, 12, 0, time.UTC)
	t2 := time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC)
	return &Data{
		Identities: []Identity{
			{UserID: "u-1001", Email: "ana.lima@example.com", Name: "Ana Lima", Status: "enabled", Manager: "u-1002", LastLogin: &t1, Type: "human"},
			{UserID: "u-1002", Email: "bo@example.com", Name: "Bo \"The Boss\" Chen, Jr.", Status: "disabled", LastLogin: &t2, Type: "human"},
			{UserID: "svc-backup", Name: "Backup robot", Status: "enabled", Type: "service"},
			{UserID: "1003", Email: "zoë@example.com", Name: "Zoë Ünal", Status: "deleted"},
		},
		Grants: []Grant{
			{ResourceType: "group", ResourceName: "Engineering", ResourceDescription: "Builds the product", Entitlement: "eng-leads", EntitlementDescription: "Leads, with review rights", UserID: "u-1001"},
			{ResourceType: "group", ResourceName: "Engineering", ResourceDescription: "Builds the product", Entitlement: "eng leads", UserID: "u-1002"},
			{ResourceType: "role", ResourceName: "Billing, EU", Entitlement: "admin", UserID: "u-1002"},
			{ResourceType: "database", ResourceName: "orders\tprod", Entitlement: "read", EntitlementDescription: "SELECT on every table", UserID: "svc-backup"},
			{ResourceType: "role", ResourceName: "Billing, EU", Entitlement: "viewer", UserID: "1003"},
		},
	}
}

// comparable strips where rows came from, which differs by format.
func comparable(d *Data) *Data {
	out := &Data{Identities: []Identity{}, Grants: []Grant{}}
	for _, id := range d.Identities {
		id.File, id.Row, id.Part, id.Line, id.Derived = "", 0, "", 0, false
		out.Identities = append(out.Identities, id)
	}
	for _, g := range d.Grants {
		g.File, g.Row, g.Part, g.Line = "", 0, "", 0
		out.Grants = append(out.Grants, g)
	}
	for _, n := range d.NearDuplicates {
		n.Rows = nil
		out.NearDuplicates = append(out.NearDuplicates, n)
	}
	return out
}

func encoded(t *testing.T, f Format, d *Data) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Encode(&buf, f, d); err != nil {
		t.Fatalf("Encode(%s): %v", f, err)
	}
	return buf.Bytes()
}

// twoSheets renders the fixture as an XLSX with separate identities and grants sheets.
func twoSheets(t *testing.T, d *Data) []byte {
	t.Helper()
	rows := tableRows(d, func(tm *time.Time) any { return tm.UTC() })
	var ids, grants [][]any
	ids = append(ids, rows[0][1:8]) // User ID .. User Type
	grants = append(grants, append([]any{rows[0][1]}, rows[0][8:]...))
	for _, r := range rows[1:] {
		if r[0] == "user" {
			ids = append(ids, r[1:8])
		} else {
			grants = append(grants, append([]any{r[1]}, r[8:]...))
		}
	}
	var buf bytes.Buffer
	if err := encodeXLSX(&buf, "Read me", [][]any{{"Gatehouse reads the Identities and Grants sheets"}}, "Identities", ids, "GRANTS", grants); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Every format round-trips the same fixture to the same Data.
func TestEveryFormatRoundTripsTheFixture(t *testing.T) {
	want := comparable(fixture())
	if len(want.NearDuplicates) != 0 {
		t.Fatal("comparable must not invent near duplicates")
	}
	want.NearDuplicates = []NearDuplicate{{
		Key: "group/engineering/eng-leads", Other: "group/engineering/eng leads",
		Keys:      []string{"group/engineering/eng-leads", "group/engineering/eng leads"},
		Spellings: []string{"group / Engineering / eng-leads", "group / Engineering / eng leads"},
	}}
	files := map[string][]byte{
		"access.csv":     encoded(t, FormatCSV, fixture()),
		"access.tsv":     encoded(t, FormatTSV, fixture()),
		"access.xlsx":    encoded(t, FormatXLSX, fixture()),
		"split.xlsx":     twoSheets(t, fixture()),
		"access.json":    encoded(t, FormatJSON, fixture()),
		"access.yaml":    encoded(t, FormatYAML, fixture()),
		"access.tab.csv": encoded(t, FormatTSV, fixture()), // a tab-separated file named .csv
	}
	for name, body := range files {
		d, probs, err := Parse(context.Background(), name, bytes.NewReader(body), Options{})
		if err != nil || len(probs) > 0 {
			t.Errorf("%s: %v %s", name, err, dump(probs))
			continue
		}
		if got := comparable(d); !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", name, got, want)
		}
		// Rows point where people look.
		g := d.Grants[2]
		switch name {
		case "access.csv", "access.tsv", "access.tab.csv":
			if g.File != name || g.Row != 8 || g.Part != "" {
				t.Errorf("%s: third grant at %s/%q row %d, want row 8", name, g.File, g.Part, g.Row)
			}
		case "access.xlsx":
			if g.Row != 8 || g.Part != "Access" {
				t.Errorf("%s: third grant at %q row %d, want Access row 8", name, g.Part, g.Row)
			}
		case "split.xlsx":
			if g.Row != 4 || g.Part != "GRANTS" || d.Identities[3].Part != "Identities" || d.Identities[3].Row != 5 {
				t.Errorf("%s: third grant at %q row %d, fourth user at %q row %d", name, g.Part, g.Row, d.Identities[3].Part, d.Identities[3].Row)
			}
		case "access.json", "access.yaml":
			if g.Row != 3 || g.Part != "grants" {
				t.Errorf("%s: third grant at %q item %d, want grants item 3", name, g.Part, g.Row)
			}
			if name == "access.yaml" && g.Line == 0 {
				t.Errorf("%s: YAML items carry their line", name)
			}
		}
	}
}

// Templates parse without problems and carry a header and two example rows.
func TestTemplates(t *testing.T) {
	for _, f := range Formats {
		body, name, err := Template(f)
		if err != nil {
			t.Fatalf("Template(%s): %v", f, err)
		}
		if name != "gatehouse-application-template."+string(f) {
			t.Errorf("Template(%s) name %q", f, name)
		}
		d, probs, err := Parse(context.Background(), name, bytes.NewReader(body), Options{})
		if err != nil || len(probs) > 0 {
			t.Fatalf("%s: %v %s", name, err, dump(probs))
		}
		want := comparable(templateData())
		for i := range want.Identities {
			if f == FormatCSV || f == FormatTSV || f == FormatXLSX {
				want.Identities[i].Derived = false
			}
		}
		if got := comparable(d); !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", name, got, want)
		}
	}
	body, _, _ := Template(FormatCSV)
	lines := strings.Split(strings.TrimSpace(string(body)), "\n")
	if len(lines) != 3 || lines[0] != "User ID,Email Address,Full Name,User Status,Manager,Last Login,User Type,Resource Type,Resource Name,Resource Description,Entitlement,Entitlement Description" {
		t.Errorf("CSV template:\n%s", body)
	}
}

func TestXLSXProblems(t *testing.T) {
	var buf bytes.Buffer
	err := encodeXLSX(&buf, "People", [][]any{
		{"User ID", "Email Address", "Last Login", "Resource Type", "Resource Name", "Entitlement"},
		{"u1", "a@example.com", "yesterday", "group", "Eng", "member"},
		{"u2", "b@example.com", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), "group", "Eng", "member"},
		{},
		{"u3", "c@example.com", "2026-01-02", "group", "", "member"},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, probs, err := Parse(context.Background(), "people.xlsx", bytes.NewReader(buf.Bytes()), Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []Problem{
		{File: "people.xlsx", Part: "People", Row: 2, Column: "Last Login", Message: `bad date "yesterday": use RFC 3339 (2026-03-01T09:30:00Z), YYYY-MM-DD (2026-03-01) or an Excel date cell, or leave it empty`},
		{File: "people.xlsx", Part: "People", Row: 5, Column: "Resource Name", Message: `empty "Resource Name": every grant needs Resource Type, Resource Name, Entitlement and User ID`},
	}
	if !reflect.DeepEqual(probs, want) {
		t.Errorf("problems:\n got %s\nwant %s", dump(probs), dump(want))
	}
	if s := want[0].String(); s != `people.xlsx, People, row 2, column "Last Login": bad date "yesterday": use RFC 3339 (2026-03-01T09:30:00Z), YYYY-MM-DD (2026-03-01) or an Excel date cell, or leave it empty` {
		t.Errorf("String() = %s", s)
	}
	// A named sheet that is not there.
	_, probs, _ = Parse(context.Background(), "people.xlsx", bytes.NewReader(buf.Bytes()), Options{Sheet: "Access"})
	if len(probs) != 1 || probs[0].Message != `the workbook has no sheet "Access"; its sheets are "People": name one of them in the import's sheet, or leave it empty` {
		t.Errorf("problems: %s", dump(probs))
	}
	// Not a workbook at all.
	_, probs, _ = Parse(context.Background(), "people.xlsx", strings.NewReader("User ID\nu1\n"), Options{})
	if len(probs) != 1 || !strings.Contains(probs[0].Message, "not a readable XLSX workbook") {
		t.Errorf("problems: %s", dump(probs))
	}
	// The Excel date is read as a date.
	buf.Reset()
	encodeXLSX(&buf, "People", [][]any{{"User ID", "Last Login"}, {"u2", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}, {"u3", 46024.5}})
	d, probs, _ := Parse(context.Background(), "people.xlsx", bytes.NewReader(buf.Bytes()), Options{Sheet: "people"})
	if len(probs) > 0 || !d.Identities[0].LastLogin.Equal(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) || !d.Identities[1].LastLogin.Equal(time.Date(2026, 1, 2, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("dates: %+v %s", d, dump(probs))
	}
}

func TestJSONProblems(t *testing.T) {
	const file = `{
  "identities": [
    {"user_id": "u1", "email_address": "a@example.com", "last_login": "2026-13-01"},
    {"user_id": "u1"},
    {"email_address": "c@example.com"},
    "u4"
  ],
  "grants": [
    {"resource_type": "group", "resource_name": "Eng", "entitlement": "member", "user_id": "u9"},
    {"resource_type": "group", "resource_name": "Eng", "user_id": "u1", "entitlement": ""},
    {"resource_type": "group", "resource_name": ["Eng"], "entitlement": "member", "user_id": "u1"}
  ],
  "grant": []
}`
	_, probs := parseString(t, "access.json", file, Options{})
	want := []Problem{
		{File: "access.json", Column: "grant", Message: `unknown key "grant" at the top of the file: use "identities" and "grants" (lists of objects)`},
		{File: "access.json", Part: "grants", Row: 1, Column: "user_id", Message: `unknown user "u9": no user row has this user_id; add a user row for "u9" or correct the user_id`},
		{File: "access.json", Part: "grants", Row: 2, Column: "entitlement", Message: `empty "entitlement": every grant needs resource_type, resource_name, entitlement and user_id`},
		{File: "access.json", Part: "grants", Row: 3, Column: "resource_name", Message: `"resource_name" must be text (or a number), not a list or an object`},
		{File: "access.json", Part: "grants", Row: 3, Column: "resource_name", Message: `missing "resource_name": every grant needs resource_type, resource_name, entitlement and user_id`},
		{File: "access.json", Part: "identities", Row: 1, Column: "last_login", Message: `bad date "2026-13-01": use RFC 3339 (2026-03-01T09:30:00Z) or YYYY-MM-DD (2026-03-01), or leave it empty`},
		{File: "access.json", Part: "identities", Row: 2, Column: "user_id", Message: `duplicate user_id "u1" on identities item 1 and identities item 2; keep one row per user`},
		{File: "access.json", Part: "identities", Row: 3, Column: "user_id", Message: `missing "user_id": every user needs user_id`},
		{File: "access.json", Part: "identities", Row: 4, Message: `each item of "identities" must be an object like {"user_id": "u1", ...}`},
	}
	if !reflect.DeepEqual(probs, want) {
		t.Errorf("problems:\n got %s\nwant %s", dump(probs), dump(want))
	}
	if s := want[6].String(); s != `access.json, identities item 2, column "user_id": duplicate user_id "u1" on identities item 1 and identities item 2; keep one row per user` {
		t.Errorf("String() = %s", s)
	}
	_, probs = parseString(t, "cut.json", `{"identities": [{"user_id": "u1"}, {"user_id": `, Options{})
	if len(probs) != 1 || probs[0].Message != "the JSON ends too early: the file is cut short or a bracket is not closed" {
		t.Errorf("problems: %s", dump(probs))
	}
	_, probs = parseString(t, "bad.json", `{"identities": [{"user_id": "u1"} {"user_id": "u2"}]}`, Options{})
	if len(probs) != 1 || !strings.HasPrefix(probs[0].Message, "bad JSON at byte 34 (") {
		t.Errorf("problems: %s", dump(probs))
	}
	_, probs = parseString(t, "none.json", `{}`, Options{})
	if len(probs) != 1 || !strings.HasPrefix(probs[0].Message, `the file has neither "identities" nor "grants"`) {
		t.Errorf("problems: %s", dump(probs))
	}
	// Mapped keys in JSON.
	d, probs := parseString(t, "m.json", `{"identities": [{"login": "u1", "mail": "a@example.com"}], "grants": []}`, Options{Mapping: Mapping{"user_id": "login", "Email Address": "mail"}})
	if len(probs) > 0 || d.Identities[0].UserID != "u1" || d.Identities[0].Email != "a@example.com" {
		t.Errorf("mapped JSON: %+v %s", d, dump(probs))
	}
}

func TestYAMLProblemsCarryLines(t *testing.T) {
	const file = "identities:\n" +
		"  - user_id: u1\n" +
		"    user_status: gone\n" +
		"  - user_id: u2\n" +
		"grants:\n" +
		"  - resource_type: group\n" +
		"    resource_name: Eng\n" +
		"    entitlement: member\n" +
		"    user_id: u3\n"
	_, probs := parseString(t, "access.yaml", file, Options{})
	want := []Problem{
		{File: "access.yaml", Part: "grants", Row: 1, Line: 6, Column: "user_id", Message: `unknown user "u3": no user row has this user_id; add a user row for "u3" or correct the user_id`},
		{File: "access.yaml", Part: "identities", Row: 1, Line: 2, Column: "user_status", Message: `bad user_status "gone": use enabled (or active), disabled (or inactive, suspended) or deleted, or leave it empty`},
	}
	if !reflect.DeepEqual(probs, want) {
		t.Errorf("problems:\n got %s\nwant %s", dump(probs), dump(want))
	}
	if s := want[1].String(); s != `access.yaml, identities item 1 (line 2), column "user_status": bad user_status "gone": use enabled (or active), disabled (or inactive, suspended) or deleted, or leave it empty` {
		t.Errorf("String() = %s", s)
	}
	_, probs = parseString(t, "bad.yaml", "identities:\n  - user_id: u1\n   bad: [\n", Options{})
	if len(probs) != 1 || probs[0].Line == 0 || !strings.HasPrefix(probs[0].Message, "bad YAML (") {
		t.Errorf("problems: %s", dump(probs))
	}
}

// A reader that fails is an error, never an empty or partial Data.
func TestReaderFailureIsAnError(t *testing.T) {
	boom := errors.New("connection reset")
	r := io.MultiReader(strings.NewReader("User ID,Email Address\nu1,a@example.com\n"), &failingReader{boom})
	d, probs, err := Parse(context.Background(), "a.csv", r, Options{})
	if !errors.Is(err, boom) || d != nil || probs != nil {
		t.Errorf("Parse = %v, %v, %v; want the reader's error", d, probs, err)
	}
	r = io.MultiReader(strings.NewReader(`{"identities": [{"user_id": "u1"}`), &failingReader{boom})
	d, _, err = Parse(context.Background(), "a.json", r, Options{})
	if !errors.Is(err, boom) || d != nil {
		t.Errorf("JSON: Parse = %v, %v; want the reader's error", d, err)
	}
}

type failingReader struct{ err error }

func (f *failingReader) Read([]byte) (int, error) { return 0, f.err }
