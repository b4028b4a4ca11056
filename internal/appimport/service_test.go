package appimport_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/appimport"
	"github.com/gatehouse/gatehouse/internal/connector"
	"github.com/gatehouse/gatehouse/internal/ingest"
	"github.com/gatehouse/gatehouse/internal/inventory"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// testFile is the test parser's format: the Dataset as JSON, or the problems a parser
// would report. The real formats are internal/appfile's (appfile_test.go).
type testFile struct {
	Users    []appimport.User
	Grants   []appimport.Grant
	Problems []store.AppProblem
}

func testParse(_ context.Context, _ store.AppImport, files []appimport.File) (*appimport.Parsed, error) {
	out := &appimport.Parsed{Data: &appimport.Dataset{}}
	for _, f := range files {
		raw, err := os.ReadFile(f.Path)
		if err != nil {
			return nil, err
		}
		var tf testFile
		if err := json.Unmarshal(raw, &tf); err != nil {
			return nil, err
		}
		out.Data.Users = append(out.Data.Users, tf.Users...)
		out.Data.Grants = append(out.Data.Grants, tf.Grants...)
		out.Problems = append(out.Problems, tf.Problems...)
	}
	if len(out.Problems) > 0 {
		out.Data = nil
	}
	return out, nil
}

var t0 = time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)

type env struct {
	st    *store.Store
	svc   *appimport.Service
	app   *store.App
	im    *store.AppImport
	now   time.Time
	reads int
}

func newEnv(t *testing.T, st *store.Store, parse appimport.ParseFunc, file string) *env {
	t.Helper()
	return newEnvFormat(t, st, parse, file, formatOf(file))
}

func newEnvFormat(t *testing.T, st *store.Store, parse appimport.ParseFunc, file, format string) *env {
	t.Helper()
	e := &env{st: st, now: t0}
	svc, err := appimport.New(appimport.Config{Store: st, DataDir: t.TempDir(), Parse: parse, Now: func() time.Time { return e.now }})
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	ctx := context.Background()
	if e.app, err = svc.CreateApplication(ctx, "admin@example.com", "", appimport.AppInput{Name: "Payroll", Owner: "Owner@Example.com"}); err != nil {
		t.Fatal(err)
	}
	if e.im, err = svc.AttachImport(ctx, "admin@example.com", "", e.app.ID, appimport.ImportInput{DatasourceID: "ds_1", Files: []string{file}, Format: format}); err != nil {
		t.Fatal(err)
	}
	return e
}

func formatOf(file string) string {
	if strings.HasSuffix(file, ".c1z") {
		return ""
	}
	return "json"
}

// upload hands the data source's read of key to the service, an hour after the last.
func (e *env) upload(t *testing.T, key string, body []byte) *store.AppRun {
	t.Helper()
	e.now = e.now.Add(time.Hour)
	e.reads++
	obj := appimport.Object{Key: key, VersionID: "v" + string(rune('0'+e.reads)), ETag: `"etag` + string(rune('0'+e.reads)) + `"`, Size: int64(len(body)), Checksum: "sha", ReadAt: e.now}
	if err := e.svc.OnObject(context.Background(), "ds_1", obj, bytes.NewReader(body)); err != nil {
		t.Fatal(err)
	}
	run, err := e.st.LatestAppRun(context.Background(), e.app.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Provenance) != 1 || run.Provenance[0] != (store.AppProvenance{Key: key, VersionID: obj.VersionID, ETag: obj.ETag, Size: obj.Size, Checksum: "sha", ReadAt: e.now}) {
		t.Fatalf("provenance %+v, want the read %+v", run.Provenance, obj)
	}
	return run
}

func mustJSON(t *testing.T, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// state is the application's current inventory, one line per resource, entitlement and
// grant.
func state(t *testing.T, st *store.Store, appID string) []string {
	t.Helper()
	ctx := context.Background()
	var out []string
	rs, _, err := st.ListResources(ctx, store.ResourceFilter{ConnectionID: appID}, store.Page{Size: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		out = append(out, "resource "+r.Type+" "+r.ID+" "+r.DisplayName+" "+r.Email)
		es, err := st.ResourceEntitlements(ctx, r.Type, r.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			out = append(out, "entitlement "+e.ID+" "+e.DisplayName)
		}
	}
	ids, err := st.OpenGrantIDs(ctx, appID)
	if err != nil {
		t.Fatal(err)
	}
	for id := range ids {
		out = append(out, "grant "+id)
	}
	slices.Sort(out)
	return out
}

func same(t *testing.T, what string, got, want []string) {
	t.Helper()
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("%s:\ngot  %s\nwant %s", what, strings.Join(got, "\n     "), strings.Join(want, "\n     "))
	}
}

var (
	alice = appimport.User{ID: "u1", Email: "Alice@Example.com", Name: "Alice Nguyen", Status: "active"}
	bob   = appimport.User{ID: "u2", Email: "bob@example.com", Name: "Bob Martinez", Status: "active"}
)

func g(typ, name, ent, user string) appimport.Grant {
	return appimport.Grant{ResourceType: typ, ResourceName: name, Entitlement: ent, UserID: user}
}

func TestImportAppliesDiffsRejectsHolds(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		e := newEnv(t, st, testParse, "exports/payroll.json")
		app := e.app.ID
		if e.app.Owner != "owner@example.com" || e.app.RemoveThreshold != 20 {
			t.Fatalf("app %+v", e.app)
		}
		first := testFile{Users: []appimport.User{alice, bob}, Grants: []appimport.Grant{
			g("Role", "Payroll Admins", "Member", "u1"),
			g("role", "payroll  admins", "member", "u2"), // the same entitlement, spelled otherwise
			g("Report", "Salaries", "Read", "u1"),
			g("Report", "Salaries", "Read", "u2"),
			g("Report", "Salaries", "Write", "u2"),
		}}
		run := e.upload(t, "exports/payroll.json", mustJSON(t, first))
		if run.State != store.RunApplied || run.SyncID != run.ID || run.Diff.GrantsAdded != 5 || run.Diff.GrantsBefore != 0 {
			t.Fatalf("first run: %+v", run)
		}
		adm := "app_resource:" + app + ":role:payroll admins"
		sal := "app_resource:" + app + ":report:salaries"
		ua, ub := "app_user:"+app+":u1", "app_user:"+app+":u2"
		want := []string{
			"resource app_user " + app + ":u1 Alice Nguyen alice@example.com",
			"resource app_user " + app + ":u2 Bob Martinez bob@example.com",
			"resource app_resource " + app + ":role:payroll admins Payroll Admins ",
			"resource app_resource " + app + ":report:salaries Salaries ",
			"entitlement " + adm + ":member Member",
			"entitlement " + sal + ":read Read",
			"entitlement " + sal + ":write Write",
			"grant " + adm + ":member:" + ua, "grant " + adm + ":member:" + ub,
			"grant " + sal + ":read:" + ua, "grant " + sal + ":read:" + ub, "grant " + sal + ":write:" + ub,
		}
		same(t, "after the first import", state(t, st, app), want)

		// Re-import with one grant removed and one added: exactly that diff.
		second := first
		second.Grants = []appimport.Grant{first.Grants[0], first.Grants[1], first.Grants[2], first.Grants[3], g("Report", "Salaries", "Write", "u1")}
		run2 := e.upload(t, "exports/payroll.json", mustJSON(t, second))
		if run2.State != store.RunApplied || run2.Diff.GrantsAdded != 1 || run2.Diff.GrantsRemoved != 1 || run2.Diff.GrantsBefore != 5 {
			t.Fatalf("second run: %+v", run2)
		}
		changes, _, err := st.Changes(ctx, store.ChangeFilter{From: run.At, To: run2.At}, store.Page{})
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		for _, c := range changes {
			lines = append(lines, c.Kind+" "+c.GrantID+" "+c.Person+" "+c.SyncID)
		}
		same(t, "changes of the second import", lines, []string{
			"added " + sal + ":write:" + ua + " alice@example.com " + run2.ID,
			"removed " + sal + ":write:" + ub + " bob@example.com " + run2.ID,
		})
		good := state(t, st, app)

		// A broken file: rejected with its problems, nothing changes.
		broken := testFile{Problems: []store.AppProblem{{File: "exports/payroll.json", Row: 4, Column: "User ID", Message: "unknown user u9"}}}
		run3 := e.upload(t, "exports/payroll.json", mustJSON(t, broken))
		if run3.State != store.RunRejected || !slices.Equal(run3.Errors, broken.Problems) || run3.SyncID != "" {
			t.Fatalf("broken run: %+v", run3)
		}
		same(t, "after the broken file", state(t, st, app), good)

		// Removing 2 of 5 grants (40% > 20%): held, nothing changes; reject keeps the data.
		third := second
		third.Grants = second.Grants[:3]
		run4 := e.upload(t, "exports/payroll.json", mustJSON(t, third))
		if run4.State != store.RunHeld || run4.Diff.GrantsRemoved != 2 || run4.Diff.GrantsBefore != 5 ||
			run4.HeldReason != "the import removes 2 of the application's 5 grants (40%), more than its threshold of 20%; an admin approves or rejects it" {
			t.Fatalf("held run: %+v", run4)
		}
		same(t, "while held", state(t, st, app), good)
		rej, err := e.svc.Reject(ctx, "admin@example.com", "", run4.ID)
		if err != nil || rej.State != store.RunRejected || rej.DecidedBy != "admin@example.com" {
			t.Fatalf("reject: %+v %v", rej, err)
		}
		same(t, "after reject", state(t, st, app), good)
		if _, err := e.svc.Approve(ctx, "admin@example.com", "", run4.ID); !errors.Is(err, appimport.ErrState) {
			t.Fatalf("approve a rejected run: %v", err)
		}

		// Held again, then approved: applied as the file says.
		run5 := e.upload(t, "exports/payroll.json", mustJSON(t, third))
		if run5.State != store.RunHeld {
			t.Fatalf("held again: %+v", run5)
		}
		e.now = e.now.Add(time.Minute)
		ok, err := e.svc.Approve(ctx, "admin@example.com", "", run5.ID)
		if err != nil || ok.State != store.RunApplied || ok.SyncID != run5.ID || ok.DecidedAt == nil || !ok.DecidedAt.Equal(e.now) {
			t.Fatalf("approve: %+v %v", ok, err)
		}
		var kept []string
		for _, l := range good {
			// The Write entitlement has no holder left: the file no longer has it.
			if l != "entitlement "+sal+":write Write" && (!strings.HasPrefix(l, "grant "+sal) || strings.HasSuffix(l, ":read:"+ua)) {
				kept = append(kept, l)
			}
		}
		same(t, "after approve", state(t, st, app), kept)
		if _, err := os.Stat(ok.C1ZPath); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("the held file is left behind: %v", err)
		}

		// Every change is audited.
		entries, err := st.ListAudit(ctx, store.AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, a := range entries {
			if strings.HasPrefix(a.Action, "application.") {
				actions = append(actions, a.Action)
			}
		}
		if !slices.Equal(actions, []string{"application.create", "application.import.create", "application.import.applied",
			"application.import.applied", "application.import.rejected", "application.import.held", "application.import.reject",
			"application.import.held", "application.import.approve"}) {
			t.Fatalf("audit: %v", actions)
		}
	})
}

func TestPeopleLinkByEmail(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		// The AWS side: Alice's Identity Center user, written and ingested like a sync.
		snap := &inventory.Snapshot{FetchedAt: t0, CallerAccountID: "111111111111", IdentityCenter: &inventory.IdentityCenter{
			InstanceARN: "arn:aws:sso:::instance/ssoins-1", IdentityStoreID: "d-1", Region: "us-east-1",
			Users: []*inventory.SSOUser{{ID: "u-alice", UserName: "alice", DisplayName: "Alice Nguyen", Email: "alice@example.com", Status: inventory.UserEnabled}},
		}}
		awsFile := filepath.Join(t.TempDir(), "aws.c1z")
		if _, err := connector.WriteC1Z(ctx, connector.NewFromSnapshot(snap), awsFile); err != nil {
			t.Fatal(err)
		}
		if _, err := ingest.Apply(ctx, st, ingest.Input{ConnectionID: "aws", SyncID: "s1", C1ZPath: awsFile, At: t0}); err != nil {
			t.Fatal(err)
		}
		e := newEnv(t, st, testParse, "payroll.json")
		e.upload(t, "payroll.json", mustJSON(t, testFile{Users: []appimport.User{alice}, Grants: []appimport.Grant{g("Role", "Admins", "Member", "u1")}}))
		p, err := st.GetPerson(ctx, "alice@example.com")
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range p.Identities {
			ids = append(ids, r.ConnectionID+" "+r.Type+" "+r.ID)
		}
		same(t, "Alice's identities", ids, []string{"aws sso_user u-alice", e.app.ID + " app_user " + e.app.ID + ":u1"})
		acc, _, err := st.PersonAccess(ctx, "alice@example.com", nil, store.Page{})
		if err != nil || len(acc) != 1 || acc[0].GrantID != "app_resource:"+e.app.ID+":role:admins:member:app_user:"+e.app.ID+":u1" {
			t.Fatalf("Alice's access: %+v %v", acc, err)
		}
	})
}

func TestC1ZImport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		// A .c1z written by the AWS connector's sync imports as it is.
		snap := &inventory.Snapshot{FetchedAt: t0, CallerAccountID: "111111111111", IdentityCenter: &inventory.IdentityCenter{
			InstanceARN: "arn:aws:sso:::instance/ssoins-1", IdentityStoreID: "d-1", Region: "us-east-1",
			Users:   []*inventory.SSOUser{{ID: "u-alice", UserName: "alice", DisplayName: "Alice Nguyen", Email: "alice@example.com", Status: inventory.UserEnabled}},
			Groups:  []*inventory.SSOGroup{{ID: "g-1", DisplayName: "Admins"}},
			Members: map[string][]string{"g-1": {"u-alice"}},
		}}
		file := filepath.Join(t.TempDir(), "aws.c1z")
		if _, err := connector.WriteC1Z(ctx, connector.NewFromSnapshot(snap), file); err != nil {
			t.Fatal(err)
		}
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		e := newEnv(t, st, nil, "exports/app.c1z")
		if e.im.Format != appimport.FormatC1Z {
			t.Fatalf("format %q", e.im.Format)
		}
		run := e.upload(t, "exports/app.c1z", raw)
		if run.State != store.RunApplied {
			t.Fatalf("run %+v", run)
		}
		same(t, "imported .c1z", state(t, st, e.app.ID), []string{
			"resource sso_user u-alice Alice Nguyen alice@example.com",
			"resource sso_group g-1 Admins ",
			"entitlement sso_group:g-1:member Admins member",
			"grant sso_group:g-1:member:sso_user:u-alice",
		})
		// Not a .c1z: rejected with a file-level problem; the data stays.
		run2 := e.upload(t, "exports/app.c1z", []byte("user,email\n"))
		if run2.State != store.RunRejected || len(run2.Errors) != 1 || run2.Errors[0].File != "exports/app.c1z" || run2.Errors[0].Row != 0 ||
			!strings.HasPrefix(run2.Errors[0].Message, "not a .c1z file baton can read") {
			t.Fatalf("broken .c1z: %+v", run2)
		}
		if got := state(t, st, e.app.ID); len(got) != 4 {
			t.Fatalf("after a broken .c1z: %v", got)
		}
	})
}

func TestCreateValidation(t *testing.T) {
	st := storetest.Open(t, store.SQLite)
	svc, err := appimport.New(appimport.Config{Store: st, DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, c := range []struct {
		in   appimport.AppInput
		want string
	}{
		{appimport.AppInput{Owner: "a@example.com"}, "invalid: name is required: the application's name as people know it"},
		{appimport.AppInput{Name: "X", Owner: "nobody"}, `invalid: owner must be the email address of the application's owner, got "nobody"`},
		{appimport.AppInput{Name: "X", Owner: "a@example.com", RemoveThreshold: new(101)}, "invalid: remove_threshold is a percent of the application's grants, from 0 to 100, got 101"},
	} {
		if _, err := svc.CreateApplication(ctx, "admin@example.com", "", c.in); err == nil || err.Error() != c.want {
			t.Errorf("%+v: %v, want %s", c.in, err, c.want)
		}
	}
	a, err := svc.CreateApplication(ctx, "admin@example.com", "", appimport.AppInput{Name: "X", Owner: "a@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		in   appimport.ImportInput
		want string
	}{
		{appimport.ImportInput{Files: []string{"a.csv"}}, "invalid: datasource_id is required: the id POST /api/v1/datasources answered"},
		{appimport.ImportInput{DatasourceID: "ds"}, "invalid: file is required: the key of the file in the data source's bucket, e.g. exports/app.csv"},
		{appimport.ImportInput{DatasourceID: "ds", Files: []string{"a.txt"}}, `invalid: the format of "a.txt" cannot be told from its name: give format (csv, tsv, xlsx, json, yaml or c1z)`},
		{appimport.ImportInput{DatasourceID: "ds", Files: []string{"a.txt"}, Format: "pdf"}, `invalid: format must be csv, tsv, xlsx, json, yaml or c1z, got "pdf"`},
	} {
		if _, err := svc.AttachImport(ctx, "admin@example.com", "", a.ID, c.in); err == nil || err.Error() != c.want {
			t.Errorf("%+v: %v, want %s", c.in, err, c.want)
		}
	}
	if _, err := svc.AttachImport(ctx, "admin@example.com", "", "app_nope", appimport.ImportInput{DatasourceID: "ds", Files: []string{"a.csv"}}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown app: %v", err)
	}
}
