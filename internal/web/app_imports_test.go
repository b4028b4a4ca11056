package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"go.uber.org/zap"

	"github.com/gatehouse/gatehouse/internal/app"
	"github.com/gatehouse/gatehouse/internal/appfile"
	"github.com/gatehouse/gatehouse/internal/appimport"
	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/datasource"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// An application imported from files, on both databases: an admin creates it (a bad
// owner is refused beside its field), attaches the payroll file of a data source, and its
// page shows the applied import with the file's provenance, its users linked to people and
// its entitlements; the applications list has it with its last import. A change removing
// too much is held: admins get Approve and Reject, auditors see the reason only and get 403
// when they post; approving applies it. A broken file shows its problems row by row while
// the data stays. People get 403 everywhere but the templates.
func TestApplicationFromFilesPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		u := newTestUIOn(t, st)
		f := newS3Fixture(t)
		u.withImports(f)
		src, err := u.app.DataSources.Create(ctx, admin, datasource.Input{Type: strp("s3"), Name: strp("HR exports"), RoleARN: strp(fixRole),
			Bucket: strp(fixBucket), Prefix: strp("apps/")})
		if err != nil {
			t.Fatal(err)
		}
		f.createRole("apps/", src.ExternalID)
		f.put("apps/payroll.csv", payrollFile)

		// A bad owner: said beside the field, nothing created.
		res := u.postForm(admin, "/applications", url.Values{"name": {"Payroll"}, "owner": {"payroll team"}})
		if res.Status != http.StatusUnprocessableEntity {
			t.Fatalf("bad owner: status %d", res.Status)
		}
		cspSafe(t, res.Body)
		mustContain(t, utext(res.Body), "Nothing was saved. Fix the field marked below and create it again.", `Owner must be the email address of the application's owner, got "payroll team".`)
		mustContain(t, res.Body, `value="Payroll"`, `id="owner-error"`)
		if apps, _ := st.ListApps(ctx); len(apps) != 0 {
			t.Fatalf("a refused form created %d applications", len(apps))
		}
		res = u.postForm(admin, "/applications", url.Values{"name": {"Payroll"}, "owner": {"Owner@Example.com"}})
		loc := res.Header.Get("Location")
		if res.Status != http.StatusSeeOther || !regexp.MustCompile(`^/applications/app_[0-9a-f]+\?created=1$`).MatchString(loc) {
			t.Fatalf("create: status %d location %q\n%s", res.Status, loc, text(res.Body))
		}
		page := strings.TrimSuffix(loc, "?created=1")
		appID := strings.TrimPrefix(page, "/applications/")
		res = u.get(admin, loc)
		got := utext(res.Body)
		mustContain(t, got, "Payroll File", "Owner owner@example.com · imports removing more than 20% of its grants are held for an admin",
			"Application created.", "Nothing imported yet", "Imports 0", "No import attached", "Attach an import", "HR exports (s3://acme-access-exports/apps/)",
			"Templates that import as they are: csv tsv xlsx json yaml")

		// A mapping that is not Column = Header is refused before anything is attached.
		res = u.postForm(admin, page+"/imports", url.Values{"datasource_id": {src.ID}, "file": {"apps/payroll.csv"}, "mapping": {"User ID Login"}})
		if res.Status != http.StatusUnprocessableEntity {
			t.Fatalf("bad mapping: status %d", res.Status)
		}
		mustContain(t, utext(res.Body), `Line 1 of the mapping, "User ID Login", is not Column = Header: write for example User ID = Login.`)
		res = u.postForm(admin, page+"/imports", url.Values{"datasource_id": {src.ID}, "file": {"apps/payroll.txt"}})
		mustContain(t, utext(res.Body), `The format of "apps/payroll.txt" cannot be told from its name: give format (csv, tsv, xlsx, json, yaml or c1z).`)
		if ims, _ := st.ListAppImports(ctx, appID); len(ims) != 0 {
			t.Fatalf("refused imports attached: %d", len(ims))
		}

		// Attach: the file is read at once and applied.
		res = u.postForm(admin, page+"/imports", url.Values{"datasource_id": {src.ID}, "file": {"apps/payroll.csv"}, "mapping": {""}})
		if res.Status != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), page+"?attached=imp_") || strings.Contains(res.Header.Get("Location"), "read_error") {
			t.Fatalf("attach: status %d location %q\n%s", res.Status, res.Header.Get("Location"), text(res.Body))
		}
		res = u.get(auditor, res.Header.Get("Location"))
		cspSafe(t, res.Body)
		got = utext(res.Body)
		run, err := st.LatestAppRun(ctx, appID)
		if err != nil {
			t.Fatal(err)
		}
		p := run.Provenance[0]
		mustContain(t, got, "Import attached. Its file was read: the last import is applied.",
			"Users 2 Resources 2 Entitlements 2 Grants 3",
			"Last import applied apps/payroll.csv", "Applied 3 grants added, 0 removed, 0 changed; 4 users and resources added, 0 removed.",
			"Files read File Version ETag Size Checksum Read apps/payroll.csv — "+p.ETag+" "+num(p.Size)+" "+p.Checksum,
			"Imports 1 Data source File Format Column mapping Added HR exports apps/payroll.csv csv the template's column names ada@example.com",
			"Run history 1", run.ID+" applied apps/payroll.csv 0 +3 −0 0 0 —",
			"Users 2", "Alice Nguyen "+appID+":u1 alice@example.com", "Bob Martinez "+appID+":u2 bob@example.com",
			"Resources and entitlements 2", "Payroll Admins", "member 2 holders", "Salaries", "read 1 holder")
		mustContain(t, res.Body, `href="/people/owner@example.com"`, `href="/datasources/`+src.ID+`"`, `href="/people/alice@example.com"`,
			`href="/entitlements/app_resource:`+appID+`:role:payroll%20admins:member"`)
		mustNotContain(t, res.Body, `id="attach-import"`, `id="new-application"`) // auditors read only
		mustContain(t, res.Body, `href="/inventory/app_user/`+appID+`:u1"`, `href="/inventory/app_resource/`+appID+`:role:payroll%20admins"`)
		// The inventory pages it links to: the entitlement's holders, a user's access, a
		// resource's entitlements.
		res = u.get(auditor, "/entitlements/app_resource:"+appID+":role:payroll%20admins:member")
		mustContain(t, text(res.Body), "Alice Nguyen", "Bob Martinez")
		res = u.get(auditor, "/inventory/app_user/"+appID+":u1")
		if res.Status != 200 {
			t.Fatalf("user page: status %d", res.Status)
		}
		mustContain(t, text(res.Body), "Alice Nguyen", "alice@example.com")
		res = u.get(auditor, "/inventory/app_resource/"+appID+":role:payroll%20admins")
		if res.Status != 200 {
			t.Fatalf("resource page: status %d", res.Status)
		}
		mustContain(t, text(res.Body), "Payroll Admins", "Alice Nguyen alice@example.com application user member direct", "Bob Martinez", "Entitlements 1 member 2 holders")
		res = u.get(auditor, "/inventory/app_user")
		mustContain(t, text(res.Body), "Application users", "Alice Nguyen", "Bob Martinez")

		// The applications list has it, with its last import.
		res = u.get(auditor, "/applications")
		mustContain(t, utext(res.Body), "Payroll File Last import applied", "Owner owner@example.com · 1 import", "Users 2 Resources 2 Entitlements 2 Grants 3")
		mustNotContain(t, res.Body, `id="new-application"`)
		mustContain(t, u.get(admin, "/applications").Body, `id="new-application"`)
		// The data source's page lists the import.
		mustContain(t, utext(u.get(auditor, "/datasources/"+src.ID).Body), "Imports using it 1", "Payroll apps/payroll.csv csv applied")
		// ... and cannot be deleted while it is used.
		res = u.postForm(admin, "/datasources/"+src.ID+"/delete", nil)
		if res.Status != http.StatusConflict {
			t.Fatalf("delete a used data source: status %d", res.Status)
		}
		mustContain(t, text(res.Body), "The data source is in use", "Imports of Payroll read files of HR exports: deleting it would stop them without a word.")
		if _, err := u.app.DataSources.Get(ctx, src.ID); err != nil {
			t.Fatalf("the used data source was deleted: %v", err)
		}

		// Bob loses Payroll Admins and Alice Salaries: 2 of 3 removed, above 20%: held.
		f.put("apps/payroll.csv", "User ID,Email Address,Full Name,User Status,Resource Type,Resource Name,Entitlement\n"+
			"u1,alice@example.com,Alice Nguyen,active,Role,Payroll Admins,member\n"+
			"u2,bob@example.com,Bob Martinez,active,Report,Salaries,read\n")
		if _, err := u.app.DataSources.Sync(ctx, src.ID); err != nil {
			t.Fatal(err)
		}
		held, _ := st.LatestAppRun(ctx, appID)
		if held.State != store.RunHeld {
			t.Fatalf("changed file: run %+v", held)
		}
		res = u.get(admin, page)
		got = utext(res.Body)
		mustContain(t, got, "Users 2 Resources 2 Entitlements 2 Grants 3", "Last import held", "Held for an admin the import removes 2 of the application's 3 grants (66%), more than its threshold of 20%; an admin approves or rejects it. It would add 1 and remove 2 of 3 grants",
			"Approve and apply", "Reject")
		mustContain(t, res.Body, `action="`+page+`/runs/`+held.ID+`/approve"`, `action="`+page+`/runs/`+held.ID+`/reject"`)
		res = u.get(auditor, page)
		mustContain(t, utext(res.Body), "Held for an admin", "An admin approves or rejects it.")
		mustNotContain(t, res.Body, "/approve\"", "/reject\"", `id="approve-run"`)
		for _, who := range []*auth.Caller{auditor, person} {
			if res := u.postForm(who, page+"/runs/"+held.ID+"/approve", nil); res.Status != http.StatusForbidden {
				t.Fatalf("approve as %s: status %d", who.Email, res.Status)
			}
		}
		res = u.postForm(admin, page+"/runs/"+held.ID+"/approve", nil)
		if res.Status != http.StatusSeeOther || res.Header.Get("Location") != page+"?decided=approved" {
			t.Fatalf("approve: status %d location %q\n%s", res.Status, res.Header.Get("Location"), text(res.Body))
		}
		got = utext(u.get(admin, res.Header.Get("Location")).Body)
		mustContain(t, got, "The held import is approved and applied.", "Users 2 Resources 2 Entitlements 2 Grants 2",
			"Last import applied", "Applied Approved by ada@example.com", "1 grant added, 2 removed",
			held.ID+" applied apps/payroll.csv 3 +1 −2 0 0 ada@example.com")
		mustNotContain(t, got, "Approve and apply")
		// Deciding again: 409 with the reason.
		res = u.postForm(admin, page+"/runs/"+held.ID+"/reject", nil)
		if res.Status != http.StatusConflict {
			t.Fatalf("reject an applied run: status %d", res.Status)
		}
		mustContain(t, text(res.Body), "Already decided", "Run "+held.ID+" is applied, only a held run can be rejected.")

		// A broken file: its problems row by row, the data intact.
		f.put("apps/payroll.csv", "User ID,Email Address,Full Name,User Status,Resource Type,Resource Name,Entitlement\n"+
			"u1,alice@example.com,Alice Nguyen,actv,Role,Payroll Admins,member\n"+
			"u1,alice@example.com,Alice Nguyen,active,Report,,read\n")
		if _, err := u.app.DataSources.Sync(ctx, src.ID); err != nil {
			t.Fatal(err)
		}
		res = u.get(auditor, page)
		cspSafe(t, res.Body)
		got = utext(res.Body)
		mustContain(t, got, "Users 2 Resources 2 Entitlements 2 Grants 2",
			"Last import rejected", "Rejected: the file has 2 problems Nothing was applied: the application keeps its last good data.",
			"Problems, row by row File Row Column Problem",
			`apps/payroll.csv row 2 User Status bad User Status "actv": use enabled (or active), disabled (or inactive, suspended) or deleted, or leave it empty`,
			`apps/payroll.csv row 3 Resource Name empty "Resource Name": every grant needs Resource Type, Resource Name, Entitlement and User ID`)
		table := res.Body[strings.Index(res.Body, `id="errors-table"`):]
		if n := strings.Count(table[:strings.Index(table, "</table>")], "<tr>"); n != 3 {
			t.Fatalf("the errors table has %d rows with its header, want 3", n)
		}
		res = u.get(auditor, "/applications")
		mustContain(t, utext(res.Body), "Payroll File Last import rejected", "the last file was rejected (2 problems); the application keeps its last good data")
		mustContain(t, got, "Run history 3", " rejected apps/payroll.csv — — — — 2 —")

		// A held file with near-duplicate spellings, rejected by an admin: nothing changes.
		f.put("apps/payroll.csv", "User ID,Email Address,Full Name,User Status,Resource Type,Resource Name,Entitlement\n"+
			"u1,alice@example.com,Alice Nguyen,active,Role,Payroll Admins,member\n"+
			"u2,bob@example.com,Bob Martinez,active,Group,Engineering,eng-leads\n"+
			"u1,alice@example.com,Alice Nguyen,active,Group,Engineering,eng leads\n")
		if _, err := u.app.DataSources.Sync(ctx, src.ID); err != nil {
			t.Fatal(err)
		}
		held, _ = st.LatestAppRun(ctx, appID)
		got = utext(u.get(admin, page).Body)
		mustContain(t, got, "Last import held", "the import removes 1 of the application's 2 grants (50%)",
			"Near-duplicate entitlements (kept apart, as written: check the spelling) Group / Engineering / eng-leads (apps/payroll.csv row 3) vs Group / Engineering / eng leads (apps/payroll.csv row 4)")
		res = u.postForm(admin, page+"/runs/"+held.ID+"/reject", nil)
		if res.Status != http.StatusSeeOther || res.Header.Get("Location") != page+"?decided=rejected" {
			t.Fatalf("reject: status %d location %q", res.Status, res.Header.Get("Location"))
		}
		got = utext(u.get(admin, res.Header.Get("Location")).Body)
		mustContain(t, got, "The held import is rejected: nothing changed, the application keeps its data.", "Grants 2",
			"Last import rejected", "Rejected by ada@example.com", "It was held: the import removes 1 of the application's 2 grants (50%), more than its threshold of 20%; an admin approves or rejects it. Nothing was applied: the application keeps its data.",
			held.ID+" rejected apps/payroll.csv 2 +2 −1 0 0 ada@example.com")
		mustNotContain(t, got, "Approve and apply")

		// Roles on the rest.
		for _, c := range []struct {
			who            *auth.Caller
			method, target string
			want           int
		}{
			{person, "GET", page, 403},
			{person, "POST", "/applications", 403},
			{auditor, "POST", "/applications", 403},
			{auditor, "POST", page + "/imports", 403},
			{person, "GET", "/applications/app_nope", 403},
			{auditor, "GET", "/applications/app_nope", 404},
		} {
			if res := u.do(c.who, c.method, c.target, nil); res.Status != c.want {
				t.Fatalf("%s %s as %s: status %d, want %d", c.method, c.target, c.who.Email, res.Status, c.want)
			}
		}
	})
}

// The templates download per format with their Content-Type and a file name, for anyone
// signed in; each is appfile.Template's bytes.
func TestApplicationTemplates(t *testing.T) {
	u := newTestUI(t)
	for _, c := range []struct{ format, ctype string }{
		{"csv", "text/csv; charset=utf-8"},
		{"tsv", "text/tab-separated-values; charset=utf-8"},
		{"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
		{"json", "application/json"},
		{"yaml", "application/yaml"},
	} {
		res := u.get(person, "/applications/templates/"+c.format)
		want, name, err := appfile.Template(appfile.Format(c.format))
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != 200 || res.Header.Get("Content-Type") != c.ctype || res.Body != string(want) {
			t.Fatalf("%s: status %d, type %q, %d bytes (want %d)", c.format, res.Status, res.Header.Get("Content-Type"), len(res.Body), len(want))
		}
		if cd := res.Header.Get("Content-Disposition"); cd != `attachment; filename=`+name {
			t.Fatalf("%s: Content-Disposition %q", c.format, cd)
		}
	}
	res := u.get(person, "/applications/templates/csv")
	if !strings.HasPrefix(res.Body, "User ID,Email Address,Full Name,User Status,") {
		t.Fatalf("the CSV template starts %q", res.Body[:60])
	}
	if res := u.get(person, "/applications/templates/exe"); res.Status != 404 {
		t.Fatalf("unknown format: status %d", res.Status)
	}
	if res := u.get(nil, "/applications/templates/csv"); res.Status != http.StatusSeeOther {
		t.Fatalf("anonymous: status %d, want the sign-in redirect", res.Status)
	}
}

func strp(s string) *string { return &s }

// BenchmarkApplicationPage measures an application's page, the applications list and its
// data source's page for an application imported from a 20,000-row file (5,000 users,
// 1,000 resources, 20,000 grants; the page lists the first 200 users and resources), on
// SQLite and PostgreSQL (GATEHOUSE_TEST_DATABASE_URL). Run by hand:
//
//	go test -run '^$' -bench ApplicationPage -benchtime 20x ./internal/web/
func BenchmarkApplicationPage(b *testing.B) {
	for _, d := range storetest.Dialects {
		b.Run(string(d), func(b *testing.B) {
			ctx := context.Background()
			st := storetest.Open(b, d)
			f := newS3Fixture(b)
			a := &app.App{Store: st, Log: zap.NewNop()}
			a.DataSources, a.Applications = importServices(b, st, f)
			r := auth.NewRouter()
			Register(r, a)
			src, err := a.DataSources.Create(ctx, admin, datasource.Input{Type: strp("s3"), Name: strp("x"), RoleARN: strp(fixRole),
				Bucket: strp(fixBucket), Prefix: strp("apps/")})
			if err != nil {
				b.Fatal(err)
			}
			f.createRole("apps/", src.ExternalID)
			var sb strings.Builder
			sb.WriteString("User ID,Email Address,Full Name,User Status,Resource Type,Resource Name,Entitlement\n")
			for i := 0; i < 20000; i++ {
				fmt.Fprintf(&sb, "u%d,u%d@example.com,User %d,active,Group,G%d,member\n", i%5000, i%5000, i%5000, i%1000)
			}
			f.put("apps/big.csv", sb.String())
			app, err := a.Applications.CreateApplication(ctx, admin.Email, "", appimport.AppInput{Name: "Big", Owner: "o@example.com"})
			if err != nil {
				b.Fatal(err)
			}
			im, err := a.Applications.AttachImport(ctx, admin.Email, "", app.ID, appimport.ImportInput{DatasourceID: src.ID, Files: []string{"apps/big.csv"}})
			if err != nil {
				b.Fatal(err)
			}
			if err := a.Applications.ReadImport(ctx, im); err != nil {
				b.Fatal(err)
			}
			for _, pg := range [][2]string{{"application", "/applications/" + app.ID}, {"applications", "/applications"}, {"datasource", "/datasources/" + src.ID}} {
				name, page := pg[0], pg[1]
				b.Run(name, func(b *testing.B) {
					for b.Loop() {
						req := httptest.NewRequest("GET", page, nil).WithContext(auth.WithCaller(ctx, auditor))
						rec := httptest.NewRecorder()
						r.ServeHTTP(rec, req)
						if rec.Code != 200 {
							b.Fatalf("%s: %d", page, rec.Code)
						}
					}
				})
			}
		})
	}
}
