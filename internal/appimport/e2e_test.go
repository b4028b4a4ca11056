package appimport_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/gatehouse/gatehouse/internal/appimport"
	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/awssim"
	"github.com/gatehouse/gatehouse/internal/datasource"
	"github.com/gatehouse/gatehouse/internal/setup"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// TestThroughS3 runs imports from the simulator's S3, through the real S3 client and the
// AssumeRole + External ID path of a data source, wired as the server wires them (ObjectHandler, ReadNow).
func TestThroughS3(t *testing.T) {
	const (
		account = "111111111111"
		bucket  = "acme-access-exports"
		runtime = "arn:aws:iam::111111111111:user/gatehouse-runtime"
	)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	sim := awssim.New(awssim.NewWorld(account, "us-east-1", nil), awssim.Options{})
	url, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	var base aws.Config
	var customer *s3.Client
	sim.Do(func(w *awssim.World) {
		a := w.Accounts[account]
		k := a.AddAccessKey(w, a.AddUser(w, "gatehouse-runtime", "/"))
		base = aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(url), Credentials: credentials.NewStaticCredentialsProvider(k.ID, k.Secret, "")}
		adm := a.AddUser(w, "customer-admin", "/")
		adm.AttachedPolicies = append(adm.AttachedPolicies, awssim.AWSManagedPolicyARN("AdministratorAccess"))
		ak := a.AddAccessKey(w, adm)
		customer = s3.NewFromConfig(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(url),
			Credentials: credentials.NewStaticCredentialsProvider(ak.ID, ak.Secret, "")}, func(o *s3.Options) { o.UsePathStyle = true })
	})
	if _, err := customer.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	put := func(key, body string) {
		t.Helper()
		if _, err := customer.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
	}

	st := storetest.Open(t, store.SQLite)
	var ds *datasource.Service
	apps, err := appimport.New(appimport.Config{Store: st, DataDir: t.TempDir(), Parse: appimport.ParseFiles,
		ReadNow: func(ctx context.Context, id, key string) error { _, err := ds.ReadObject(ctx, id, key); return err }})
	if err != nil {
		t.Fatal(err)
	}
	ds = datasource.NewService(datasource.Config{Store: st, BaseAWS: func(context.Context) (aws.Config, error) { return base.Copy(), nil },
		OnObject: apps.ObjectHandler()})
	admin := &auth.Caller{Email: "admin@example.com", Roles: []string{"admin"}}
	src, err := ds.Create(ctx, admin, datasource.Input{Type: aws.String("s3"), Name: aws.String("exports"),
		RoleARN: aws.String("arn:aws:iam::111111111111:role/GatehouseS3Reader"), Bucket: aws.String(bucket), Prefix: aws.String("apps/")})
	if err != nil {
		t.Fatal(err)
	}
	b, err := setup.GenerateS3(setup.S3Options{Bucket: bucket, Prefix: "apps/", ExternalID: src.ExternalID, TrustedPrincipal: runtime})
	if err != nil {
		t.Fatal(err)
	}
	sim.Do(func(w *awssim.World) {
		r := w.Accounts[account].AddRole(w, "GatehouseS3Reader", "/", string(b.Trust.JSON()))
		r.InlinePolicies[setup.S3PolicyName] = string(b.Permissions.JSON())
	})

	// The file is in the bucket and read before the import exists: attaching reads it now.
	put("apps/payroll.csv", payrollCSV)
	if _, err := ds.Sync(ctx, src.ID); err != nil {
		t.Fatal(err)
	}
	app, err := apps.CreateApplication(ctx, "admin@example.com", "", appimport.AppInput{Name: "Payroll", Owner: "o@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	im, err := apps.AttachImport(ctx, "admin@example.com", "", app.ID, appimport.ImportInput{DatasourceID: src.ID, Files: []string{"apps/payroll.csv"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := apps.ReadImport(ctx, im); err != nil {
		t.Fatal(err)
	}
	run, err := st.LatestAppRun(ctx, app.ID)
	if err != nil || run.State != store.RunApplied || len(run.Provenance) != 1 || run.Provenance[0].Key != "apps/payroll.csv" || run.Provenance[0].ETag == "" {
		t.Fatalf("after attach: %+v %v", run, err)
	}
	adm := "app_resource:" + app.ID + ":role:payroll admins:member:app_user:" + app.ID
	sal := "app_resource:" + app.ID + ":report:salaries:read:app_user:" + app.ID
	grants := func() []string {
		ids, err := st.OpenGrantIDs(ctx, app.ID)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for id := range ids {
			out = append(out, id)
		}
		slices.Sort(out)
		return out
	}
	same(t, "grants after attach", grants(), []string{adm + ":u1", adm + ":u2", sal + ":u1"})

	// An unchanged file costs no GetObject and no run.
	gets := sim.Counters().Calls("s3", "GetObject")
	if _, err := ds.Sync(ctx, src.ID); err != nil {
		t.Fatal(err)
	}
	if n := sim.Counters().Calls("s3", "GetObject"); n != gets {
		t.Fatalf("an unchanged file was read: %d GetObject, was %d", n, gets)
	}
	if again, _ := st.LatestAppRun(ctx, app.ID); again.ID != run.ID {
		t.Fatalf("an unchanged file made a run: %+v", again)
	}

	// Change the file: one grant removed (1 of 3 is above 20%: held), approve, see the diff.
	put("apps/payroll.csv", strings.Replace(payrollCSV, "u1,Alice@Example.com,Alice Nguyen,active,Report,Salaries,Read\n", "u2,bob@example.com,Bob Martinez,active,Report,Salaries,Read\n", 1))
	if _, err := ds.Sync(ctx, src.ID); err != nil {
		t.Fatal(err)
	}
	held, _ := st.LatestAppRun(ctx, app.ID)
	if held.State != store.RunHeld || held.Diff.GrantsRemoved != 1 || held.Diff.GrantsAdded != 1 {
		t.Fatalf("changed file: %+v", held)
	}
	same(t, "grants while held", grants(), []string{adm + ":u1", adm + ":u2", sal + ":u1"})
	if _, err := apps.Approve(ctx, "admin@example.com", "", held.ID); err != nil {
		t.Fatal(err)
	}
	same(t, "grants after approve", grants(), []string{adm + ":u1", adm + ":u2", sal + ":u2"})

	// A broken file: row-precise errors, the data intact.
	put("apps/payroll.csv", "User ID,Email Address,Resource Type,Resource Name\nu1,a@example.com,Role,Admins\n")
	if _, err := ds.Sync(ctx, src.ID); err != nil {
		t.Fatal(err)
	}
	bad, _ := st.LatestAppRun(ctx, app.ID)
	if bad.State != store.RunRejected || len(bad.Errors) != 1 || bad.Errors[0].File != "apps/payroll.csv" || bad.Errors[0].Row != 1 || bad.Errors[0].Column != "Entitlement" {
		t.Fatalf("broken file: %+v", bad)
	}
	same(t, "grants after a broken file", grants(), []string{adm + ":u1", adm + ":u2", sal + ":u2"})
}
