package appfile

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

func parseString(t *testing.T, name, s string, o Options) (*Data, []Problem) {
	t.Helper()
	d, probs, err := Parse(context.Background(), name, strings.NewReader(s), o)
	if err != nil {
		t.Fatalf("Parse(%s): %v", name, err)
	}
	if (d == nil) == (len(probs) == 0) {
		t.Fatalf("Parse(%s): data %v with %d problems: data must be nil exactly when there are problems", name, d != nil, len(probs))
	}
	return d, probs
}

func ts(s string) *time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return &t
}

// ConductorOne's template header, in odd case and spacing and with a BOM:
// one row per user holding an entitlement, identities from the same rows.
func TestConductorOneHeaderCSVImportsWithoutMapping(t *testing.T) {
	const file = "\ufeffUser ID,EMAIL ADDRESS,full name,User  Status,Resource Type,Resource Name,Entitlement,Last Login\r\n" +
		"u1,alice@example.com,Alice,Active,group,Engineering,member,2026-03-01\r\n" +
		"u1,alice@example.com,Alice,,group,Engineering,admin,\r\n" +
		"u2,bob@example.com,Bob,disabled,role,Billing,viewer,2026-03-02T10:00:00+01:00\r\n" +
		"u3,carol@example.com,Carol,enabled,,,,\r\n"
	d, probs := parseString(t, "access.csv", file, Options{})
	if len(probs) > 0 {
		t.Fatalf("problems: %v", probs)
	}
	wantIDs := []Identity{
		{UserID: "u1", Email: "alice@example.com", Name: "Alice", Status: "enabled", LastLogin: ts("2026-03-01T00:00:00Z"), File: "access.csv", Row: 2, Derived: true},
		{UserID: "u2", Email: "bob@example.com", Name: "Bob", Status: "disabled", LastLogin: ts("2026-03-02T09:00:00Z"), File: "access.csv", Row: 4, Derived: true},
		{UserID: "u3", Email: "carol@example.com", Name: "Carol", Status: "enabled", File: "access.csv", Row: 5, Derived: true},
	}
	if !reflect.DeepEqual(d.Identities, wantIDs) {
		t.Errorf("identities:\n got %+v\nwant %+v", d.Identities, wantIDs)
	}
	wantGrants := []Grant{
		{ResourceType: "group", ResourceName: "Engineering", Entitlement: "member", UserID: "u1", File: "access.csv", Row: 2},
		{ResourceType: "group", ResourceName: "Engineering", Entitlement: "admin", UserID: "u1", File: "access.csv", Row: 3},
		{ResourceType: "role", ResourceName: "Billing", Entitlement: "viewer", UserID: "u2", File: "access.csv", Row: 4},
	}
	if !reflect.DeepEqual(d.Grants, wantGrants) {
		t.Errorf("grants:\n got %+v\nwant %+v", d.Grants, wantGrants)
	}
}

func TestTabSeparatedCSVIsDetected(t *testing.T) {
	for _, name := range []string{"a.csv", "a.tsv"} {
		d, probs := parseString(t, name, "User ID\tEmail Address\tResource Type\tResource Name\tEntitlement\nu1\ta@example.com\tgroup\tEng, Platform\tmember\n", Options{})
		if len(probs) > 0 {
			t.Fatalf("%s: %v", name, probs)
		}
		if len(d.Grants) != 1 || d.Grants[0].ResourceName != "Eng, Platform" || d.Identities[0].Email != "a@example.com" {
			t.Errorf("%s: got %+v", name, d)
		}
	}
}

func TestMappedCSV(t *testing.T) {
	const file = "Login,Mail,Display,App Role,Kind\n" +
		"jdoe,jdoe@example.com,J Doe,admins,group\n" +
		"asmith,asmith@example.com,A Smith,admins,group\n"
	m := Mapping{"User ID": "login", "email_address": "MAIL", "Full Name": "Display", "Resource Type": "Kind", "Resource Name": "App Role", "Entitlement": ""}
	// Entitlement unmapped and absent: the missing-column problem names the file's headers.
	_, probs := parseString(t, "export.csv", file, Options{Mapping: m})
	want := []Problem{{File: "export.csv", Row: 1, Column: "Entitlement", Message: `missing required column "Entitlement"; the header has "Login", "Mail", "Display", "App Role", "Kind"; a grants file needs "User ID", "Resource Type", "Resource Name", "Entitlement" (rename the column or map it in the import's column mapping)`}}
	if !reflect.DeepEqual(probs, want) {
		t.Fatalf("problems:\n got %+v\nwant %+v", probs, want)
	}
	m["Entitlement"] = "App Role"
	m["Resource Name"] = "Kind"
	m["Resource Type"] = ""
	_, probs = parseString(t, "export.csv", file, Options{Mapping: m})
	if len(probs) != 1 || probs[0].Column != "Resource Type" {
		t.Fatalf("problems: %+v", probs)
	}
	// The saved mapping for this export.
	m = Mapping{"User ID": "Login", "Email Address": "Mail", "Full Name": "Display", "Resource Type": "Kind", "Resource Name": "Kind", "Entitlement": "App Role"}
	_, probs = parseString(t, "export.csv", file, Options{Mapping: m})
	if len(probs) != 1 || !strings.Contains(probs[0].Message, `maps both "Resource Name" and "Resource Type" to the column "Kind"`) {
		t.Fatalf("problems: %+v", probs)
	}
	m = Mapping{"User ID": "Login", "Email Address": "Mail", "Full Name": "Display", "Resource Name": "Kind", "Entitlement": "App Role"}
	const file2 = "Login,Mail,Display,App Role,Kind,Resource Type\n" +
		"jdoe,jdoe@example.com,J Doe,admins,Console,app\n"
	d, probs := parseString(t, "export.csv", file2, Options{Mapping: m})
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	wantG := []Grant{{ResourceType: "app", ResourceName: "Console", Entitlement: "admins", UserID: "jdoe", File: "export.csv", Row: 2}}
	wantI := []Identity{{UserID: "jdoe", Email: "jdoe@example.com", Name: "J Doe", File: "export.csv", Row: 2, Derived: true}}
	if !reflect.DeepEqual(d.Grants, wantG) || !reflect.DeepEqual(d.Identities, wantI) {
		t.Errorf("got %+v", d)
	}
	// A mapping that names no canonical column.
	_, probs = parseString(t, "export.csv", file2, Options{Mapping: Mapping{"Login Name": "Login"}})
	if len(probs) != 1 || probs[0].Message != `the column mapping names "Login Name", which is not a column Gatehouse reads; map one of "User ID", "Email Address", "Full Name", "User Status", "Manager", "Last Login", "User Type", "Resource Type", "Resource Name", "Resource Description", "Entitlement", "Entitlement Description", "Type"` {
		t.Errorf("problems: %+v", probs)
	}
}

// Every kind of problem, with its exact message, sorted by row and column.
func TestCSVProblems(t *testing.T) {
	const file = "Type,User ID,Email Address,User Status,Last Login,User Type,Resource Type,Resource Name,Entitlement\n" +
		"user,u1,alice@example.com,enabled,2026-03-01,human,,,\n" + // 2 ok
		"user,u2,bob@example.com,actv,03/01/2026,robot,,,\n" + // 3 bad status, bad date, bad user type
		"user,u1,alice2@example.com,,,,,,\n" + // 4 duplicate of row 2
		"grant,u9,,,,,group,Eng,member\n" + // 5 unknown user
		"grant,u1,,,,,group,,member\n" + // 6 empty resource name
		"admin,u1,,,,,,,\n" + // 7 bad type
		"user,,x@example.com,,,,,,\n" + // 8 empty user id
		"user,u4,not-an-email,,,,,,\n" // 9 bad email
	_, probs := parseString(t, "access.csv", file, Options{})
	want := []Problem{
		{File: "access.csv", Row: 3, Column: "Last Login", Message: `bad date "03/01/2026": use RFC 3339 (2026-03-01T09:30:00Z) or YYYY-MM-DD (2026-03-01), or leave it empty`},
		{File: "access.csv", Row: 3, Column: "User Status", Message: `bad User Status "actv": use enabled (or active), disabled (or inactive, suspended) or deleted, or leave it empty`},
		{File: "access.csv", Row: 3, Column: "User Type", Message: `bad User Type "robot": use human, service or system, or leave it empty`},
		{File: "access.csv", Row: 4, Column: "User ID", Message: `duplicate User ID "u1" on row 2 and row 4; keep one row per user`},
		{File: "access.csv", Row: 5, Column: "User ID", Message: `unknown user "u9": no user row has this User ID; add a user row for "u9" or correct the User ID`},
		{File: "access.csv", Row: 6, Column: "Resource Name", Message: `empty "Resource Name": every grant needs Resource Type, Resource Name, Entitlement and User ID`},
		{File: "access.csv", Row: 7, Column: "Type", Message: `bad Type "admin": use user (a row that describes a user) or grant (a row that gives a user an entitlement)`},
		{File: "access.csv", Row: 8, Column: "User ID", Message: `empty "User ID": every user needs User ID`},
		{File: "access.csv", Row: 9, Column: "Email Address", Message: `bad email address "not-an-email": write one address like alice@example.com, or leave it empty`},
	}
	if !reflect.DeepEqual(probs, want) {
		t.Errorf("problems:\n got %s\nwant %s", dump(probs), dump(want))
	}
}

func dump(ps []Problem) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString("\n  " + p.String())
	}
	return b.String()
}

func TestCSVMissingColumns(t *testing.T) {
	_, probs := parseString(t, "people.csv", "Login,Mail\nu1,a@example.com\n", Options{})
	want := []Problem{{File: "people.csv", Row: 1, Column: "User ID", Message: `missing required column "User ID"; the header has "Login", "Mail"; expected at least "User ID" for users, plus "Resource Type", "Resource Name", "Entitlement" for grants (rename the column or map it in the import's column mapping)`}}
	if !reflect.DeepEqual(probs, want) {
		t.Errorf("problems:\n got %s\nwant %s", dump(probs), dump(want))
	}
	_, probs = parseString(t, "access.csv", "Type,User ID,Resource Name,Entitlement\nuser,u1,,\n", Options{})
	want = []Problem{{File: "access.csv", Row: 1, Column: "Resource Type", Message: `missing required column "Resource Type"; the header has "Type", "User ID", "Resource Name", "Entitlement"; a file with a "Type" column needs "User ID", "Resource Type", "Resource Name", "Entitlement", "Type" (rename the column or map it in the import's column mapping)`}}
	if !reflect.DeepEqual(probs, want) {
		t.Errorf("problems:\n got %s\nwant %s", dump(probs), dump(want))
	}
	_, probs = parseString(t, "empty.csv", "", Options{})
	if len(probs) != 1 || probs[0].Row != 1 || !strings.HasPrefix(probs[0].Message, "the file is empty: row 1 must be the header") {
		t.Errorf("problems: %s", dump(probs))
	}
	_, probs = parseString(t, "dup.csv", "User ID,user_id,Email Address\nu1,u1,a@example.com\n", Options{})
	if len(probs) != 1 || probs[0].Message != `the header has two columns for "User ID" ("User ID" and "user_id"); remove one, or map the one to read in the import's column mapping` {
		t.Errorf("problems: %s", dump(probs))
	}
}

// A user's columns taken from several grant rows must agree.
func TestCSVDerivedIdentityConflict(t *testing.T) {
	const file = "User ID,Email Address,Resource Type,Resource Name,Entitlement\n" +
		"u1,a@example.com,group,Eng,member\n" +
		"u1,b@example.com,group,Eng,admin\n"
	_, probs := parseString(t, "access.csv", file, Options{})
	want := []Problem{{File: "access.csv", Row: 3, Column: "Email Address", Message: `user "u1" has Email Address "b@example.com" here but "a@example.com" on row 2; a user's columns must be the same on every row (or empty)`}}
	if !reflect.DeepEqual(probs, want) {
		t.Errorf("problems:\n got %s\nwant %s", dump(probs), dump(want))
	}
}

func TestCSVBadQuoting(t *testing.T) {
	_, probs := parseString(t, "q.csv", "User ID,Email Address\nu1,a@example.com\nu2,\"b@example.com\nu3,c\n", Options{})
	if len(probs) != 1 || probs[0].Row != 3 || !strings.Contains(probs[0].Message, "bad quoting") {
		t.Errorf("problems: %s", dump(probs))
	}
}

func TestMaxProblems(t *testing.T) {
	var b strings.Builder
	b.WriteString("User ID,User Status\n")
	for i := 0; i < 50; i++ {
		b.WriteString("u,bad\n")
	}
	_, probs := parseString(t, "s.csv", b.String(), Options{MaxProblems: 5})
	if len(probs) != 6 || probs[0].Row != 0 || probs[0].Message != "stopped after 5 problems; fix these and import the file again" {
		t.Errorf("problems: %s", dump(probs))
	}
}

// A grants-only file cannot know its users; Merge checks them against the
// users file, and a user declared in two files is a duplicate naming both.
func TestMergeSplitFiles(t *testing.T) {
	users, probs := parseString(t, "users.csv", "User ID,Email Address\nu1,a@example.com\nu2,b@example.com\n", Options{})
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	grants, probs := parseString(t, "grants.csv", "User ID,Resource Type,Resource Name,Entitlement\nu1,group,Eng,member\nu3,group,Eng,member\n", Options{})
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	if len(grants.Identities) != 0 {
		t.Errorf("a grants-only file has no identities, got %+v", grants.Identities)
	}
	_, probs = Merge(users, grants)
	want := []Problem{{File: "grants.csv", Row: 3, Column: "User ID", Message: `unknown user "u3": no file of this import has a user with this User ID; add the user to the users file or correct the User ID`}}
	if !reflect.DeepEqual(probs, want) {
		t.Errorf("problems:\n got %s\nwant %s", dump(probs), dump(want))
	}
	more, _ := parseString(t, "more.csv", "User ID,Email Address\nu3,c@example.com\nu1,a@example.com\n", Options{})
	d, probs := Merge(users, grants, more)
	want = []Problem{{File: "more.csv", Row: 3, Column: "User ID", Message: `duplicate User ID "u1" on users.csv row 2 and more.csv row 3; keep one row per user`}}
	if d != nil || !reflect.DeepEqual(probs, want) {
		t.Errorf("problems:\n got %s\nwant %s", dump(probs), dump(want))
	}
	more, _ = parseString(t, "more.csv", "User ID,Email Address\nu3,c@example.com\n", Options{})
	d, probs = Merge(users, grants, more)
	if len(probs) > 0 || len(d.Identities) != 3 || len(d.Grants) != 2 {
		t.Errorf("merge: %+v %s", d, dump(probs))
	}
}

func TestNearDuplicates(t *testing.T) {
	const file = "User ID,Email Address,Resource Type,Resource Name,Entitlement\n" +
		"u1,a@example.com,group,Engineering,eng-leads\n" +
		"u2,b@example.com,group,Engineering,eng leads\n" +
		"u3,c@example.com,group,Engineering,Eng_Leads\n" +
		"u1,a@example.com,group,Engineering,ENG  LEADS\n" + // same key as row 3: the same entitlement
		"u1,a@example.com,group,Engineering,engleads\n" // not near: no separator
	d, probs := parseString(t, "access.csv", file, Options{})
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	want := []NearDuplicate{{
		Key: "group/engineering/eng-leads", Other: "group/engineering/eng leads",
		Keys:      []string{"group/engineering/eng-leads", "group/engineering/eng leads", "group/engineering/eng_leads"},
		Spellings: []string{"group / Engineering / eng-leads", "group / Engineering / eng leads", "group / Engineering / Eng_Leads"},
		Rows:      []string{"access.csv row 2", "access.csv row 3", "access.csv row 4"},
	}}
	if !reflect.DeepEqual(d.NearDuplicates, want) {
		t.Errorf("near duplicates:\n got %+v\nwant %+v", d.NearDuplicates, want)
	}
	if len(d.Grants) != 5 {
		t.Errorf("every spelling stays its own grant: got %d grants", len(d.Grants))
	}
}

func TestEntitlementKey(t *testing.T) {
	for _, c := range []struct{ rt, r, e, want string }{
		{"Group", " Engineering ", "Eng  Leads", "group/engineering/eng leads"},
		{"GROUP", "engineering", "eng\tleads", "group/engineering/eng leads"},
		{"a/b", "c", "d", `a\/b/c/d`},
		{"a", "b/c", "d", `a/b\/c/d`},
	} {
		if got := EntitlementKey(c.rt, c.r, c.e); got != c.want {
			t.Errorf("EntitlementKey(%q, %q, %q) = %q, want %q", c.rt, c.r, c.e, got, c.want)
		}
	}
}

func TestDetectFormat(t *testing.T) {
	for name, want := range map[string]Format{"a.CSV": FormatCSV, "x/y.tsv": FormatTSV, "b.xlsx": FormatXLSX, "c.json": FormatJSON, "d.yml": FormatYAML, "e.yaml": FormatYAML, "f.c1z": FormatC1Z} {
		if got, err := DetectFormat(name); err != nil || got != want {
			t.Errorf("DetectFormat(%q) = %q, %v; want %q", name, got, err, want)
		}
	}
	if _, err := DetectFormat("a.xls"); err == nil || !strings.Contains(err.Error(), "use .csv, .tsv, .xlsx, .json, .yaml (or .yml), or .c1z") {
		t.Errorf("DetectFormat(a.xls) error = %v", err)
	}
}

// Users taken from grant rows meet the same users' declared rows in another
// file: no duplicate, the declared row is where the user lives, and their
// columns must agree.
func TestMergeDerivedAndDeclaredUsers(t *testing.T) {
	users, _ := parseString(t, "users.csv", "User ID,Email Address,Full Name\nu1,a@example.com,Ann\n", Options{})
	access, _ := parseString(t, "access.csv", "User ID,Email Address,Resource Type,Resource Name,Entitlement\nu1,a@example.com,group,Eng,member\n", Options{})
	d, probs := Merge(access, users)
	want := []Identity{{UserID: "u1", Email: "a@example.com", Name: "Ann", File: "users.csv", Row: 2}}
	if len(probs) > 0 || !reflect.DeepEqual(d.Identities, want) {
		t.Errorf("Merge: %+v %s", d, dump(probs))
	}
	other, _ := parseString(t, "access.csv", "User ID,Email Address,Resource Type,Resource Name,Entitlement\nu1,ann@example.com,group,Eng,member\n", Options{})
	_, probs = Merge(users, other)
	wantP := []Problem{{File: "access.csv", Row: 2, Column: "Email Address", Message: `user "u1" has Email Address "ann@example.com" here but "a@example.com" on users.csv row 2; a user's columns must be the same on every row (or empty)`}}
	if !reflect.DeepEqual(probs, wantP) {
		t.Errorf("problems:\n got %s\nwant %s", dump(probs), dump(wantP))
	}
}

// A cancelled parse is an error, not a short Data.
func TestParseCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var b strings.Builder
	b.WriteString("User ID,Email Address\n")
	for i := 0; i < 3000; i++ {
		fmt.Fprintf(&b, "u%d,u%d@example.com\n", i, i)
	}
	d, probs, err := Parse(ctx, "a.csv", strings.NewReader(b.String()), Options{})
	if err != context.Canceled || d != nil || probs != nil {
		t.Errorf("Parse = %v, %v, %v; want context.Canceled", d, probs, err)
	}
}

// A file with a User ID column alone is a list of users.
func TestUserIDColumnAlone(t *testing.T) {
	d, probs := parseString(t, "users.csv", "User ID\nu1\nu2\n", Options{})
	want := []Identity{{UserID: "u1", File: "users.csv", Row: 2}, {UserID: "u2", File: "users.csv", Row: 3}}
	if len(probs) > 0 || !reflect.DeepEqual(d.Identities, want) {
		t.Errorf("got %+v %s", d, dump(probs))
	}
}
