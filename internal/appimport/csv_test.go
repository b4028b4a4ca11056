package appimport_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gatehouse/gatehouse/internal/appimport"
	"github.com/gatehouse/gatehouse/internal/connector"
	"github.com/gatehouse/gatehouse/internal/ingest"
	"github.com/gatehouse/gatehouse/internal/inventory"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// A CSV with ConductorOne's template headers imports without a mapping: one row per user
// holding an entitlement, the identities taken from the same rows.
const payrollCSV = "User ID,Email Address,Full Name,User Status,Resource Type,Resource Name,Entitlement\n" +
	"u1,Alice@Example.com,Alice Nguyen,active,Role,Payroll Admins,Member\n" +
	"u2,bob@example.com,Bob Martinez,active,Role,Payroll  Admins,member\n" +
	"u1,Alice@Example.com,Alice Nguyen,active,Report,Salaries,Read\n"

func TestCSVImport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		// Alice on the AWS side (Identity Center), ingested like a sync.
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

		e := newEnvFormat(t, st, appimport.ParseFiles, "exports/payroll.csv", "")
		if e.im.Format != "csv" {
			t.Fatalf("format %q", e.im.Format)
		}
		run := e.upload(t, "exports/payroll.csv", []byte(payrollCSV))
		if run.State != store.RunApplied {
			t.Fatalf("run %+v", run)
		}
		app := e.app.ID
		adm, sal := "app_resource:"+app+":role:payroll admins", "app_resource:"+app+":report:salaries"
		ua, ub := "app_user:"+app+":u1", "app_user:"+app+":u2"
		good := []string{
			"resource app_user " + app + ":u1 Alice Nguyen alice@example.com",
			"resource app_user " + app + ":u2 Bob Martinez bob@example.com",
			"resource app_resource " + app + ":role:payroll admins Payroll Admins ",
			"resource app_resource " + app + ":report:salaries Salaries ",
			"entitlement " + adm + ":member Member",
			"entitlement " + sal + ":read Read",
			"grant " + adm + ":member:" + ua, "grant " + adm + ":member:" + ub, "grant " + sal + ":read:" + ua,
		}
		same(t, "imported CSV", state(t, st, app), good)

		// The person page links Alice's AWS and application identities by email.
		p, err := st.GetPerson(ctx, "alice@example.com")
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range p.Identities {
			ids = append(ids, r.ConnectionID+" "+r.Type+" "+r.ID)
		}
		same(t, "Alice's identities", ids, []string{"aws sso_user u-alice", app + " app_user " + app + ":u1"})

		// A broken file: rejected with appfile's row-precise errors; the data stays.
		broken := payrollCSV + "u9,,,,Report,Salaries,Read\nu3,c@example.com,,actv,Report,,Read\n"
		run2 := e.upload(t, "exports/payroll.csv", []byte(broken))
		want := []store.AppProblem{
			{File: "exports/payroll.csv", Row: 6, Column: "Resource Name", Message: `empty "Resource Name": every grant needs Resource Type, Resource Name, Entitlement and User ID`},
			{File: "exports/payroll.csv", Row: 6, Column: "User Status", Message: `bad User Status "actv": use enabled (or active), disabled (or inactive, suspended) or deleted, or leave it empty`},
		}
		if run2.State != store.RunRejected || !slices.Equal(run2.Errors, want) {
			t.Fatalf("broken CSV: %s %+v\nwant %+v", run2.State, run2.Errors, want)
		}
		same(t, "after the broken CSV", state(t, st, app), good)
	})
}
