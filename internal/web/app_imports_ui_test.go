package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/gatehouse/gatehouse/internal/oidcdemo"
	"github.com/gatehouse/gatehouse/internal/server"
	"github.com/gatehouse/gatehouse/internal/web"
)

// TestUIImportsFromS3 drives S3 data sources and applications imported from files in
// Chromium against a real server (its background jobs read the bucket), the simulator and
// a real OpenID provider. Alice (admin) adds a data source and reads its External ID; she
// creates the role the page gives (its trust and permissions policies, copied from the
// page) and uploads the payroll file as the customer's administrator, through the real
// IAM and S3 clients; "Test connection" passes every check; "Sync now" reads the file.
// She creates the Payroll application and attaches the file: its page shows the applied
// import. A new file that removes most grants is held, and she approves it; a broken file
// shows its problems row by row, the data intact. With GATEHOUSE_SCREENSHOTS=dir it writes
// the screenshots of docs/imports.md.
func TestUIImportsFromS3(t *testing.T) {
	b := web.NewBrowser(t)
	if testing.Short() {
		t.Skip("the UI test runs the server's jobs; skipped with -short")
	}
	b.Allow("status of 422") // the form refused on purpose
	// Data sources' roles are assumed from the simulator connection's base credentials
	// (the principal Gatehouse runs as).
	u := startDemoUI(t, []oidcdemo.Person{{ID: "alice", Email: "alice@example.com", Name: "Alice Nguyen"}}, func(cfg *server.Config) {
		cfg.Admins = []string{"alice@example.com"}
	})
	simURL, info, base := u.simURL, u.info, u.base
	ctx := context.Background()

	// The customer's administrator, with the real SDK clients.
	adminCfg := aws.Config{Region: info.Region, BaseEndpoint: aws.String(simURL),
		Credentials: credentials.NewStaticCredentialsProvider(info.Admin.AccessKeyID, info.Admin.SecretAccessKey, "")}
	s3c := s3.NewFromConfig(adminCfg, func(o *s3.Options) { o.UsePathStyle = true })
	iamc := iam.NewFromConfig(adminCfg)
	const bucket = "acme-access-exports"
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	put := func(key, body string) {
		t.Helper()
		if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
	}
	roleARN := "arn:aws:iam::" + info.ManagementAccountID + ":role/GatehouseS3Reader"

	b.Open(base + "/login")
	b.ClickAndWait("#signin-alice")
	b.WaitText(".user-name", "Alice Nguyen", 10*time.Second)

	// Add the data source; a wrong bucket first, said beside its field.
	b.Open(base + "/datasources")
	b.Type("#ds-name", "HR exports")
	b.Type("#ds-role", roleARN)
	b.Type("#ds-bucket", "s3://"+bucket)
	b.Type("#ds-prefix", "apps/")
	b.ClickAndWait(`#new-datasource button[type=submit]`)
	b.WaitText("#bucket-error", "Bucket must be an S3 bucket name", 5*time.Second)
	b.Screenshot("datasource-form-error")
	b.Eval(`(() => { document.querySelector('#ds-bucket').value = ''; return true })()`)
	b.Type("#ds-bucket", bucket)
	b.ClickAndWait(`#new-datasource button[type=submit]`)
	b.WaitText("#flash", "Data source added.", 5*time.Second)
	ext := b.Text("#external-id")
	if !strings.HasPrefix(ext, "gh-") {
		t.Fatalf("External ID %q", ext)
	}
	dsPage := b.Location()
	dsPage = dsPage[:strings.Index(dsPage, "?")]
	// The setup card loads the principal Gatehouse runs as and the two policies.
	b.WaitVisible("#trust-policy")
	trust, perms := b.Text("#trust-policy"), b.Text("#permissions-policy")
	if !strings.Contains(trust, `"sts:ExternalId": "`+ext+`"`) || !strings.Contains(b.Text("#setup-command"), "--external-id "+ext) {
		t.Fatalf("the setup card does not use External ID %s:\n%s\n%s", ext, trust, b.Text("#setup-command"))
	}
	b.Screenshot("datasource")
	// The same External ID after a reload.
	b.Open(dsPage)
	if again := b.Text("#external-id"); again != ext {
		t.Fatalf("after a reload the External ID is %q, was %q", again, ext)
	}

	// The customer creates the role with the page's policies and uploads the file.
	if _, err := iamc.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("GatehouseS3Reader"), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
		t.Fatal(err)
	}
	if _, err := iamc.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("GatehouseS3Reader"), PolicyName: aws.String("GatehouseS3Read"),
		PolicyDocument: aws.String(perms)}); err != nil {
		t.Fatal(err)
	}
	put("apps/payroll.csv", payroll)

	// Test connection: every check passes, shown in place.
	b.Open(dsPage)
	b.Click("#test-connection")
	b.WaitText("#checks", "every check passed", 20*time.Second)
	if n := b.Count("#checks-table tbody tr"); n != 6 {
		t.Fatalf("%d checks shown, want 6", n)
	}
	b.WaitText("#check-assume_role", "pass assumed "+roleARN+" with External ID "+ext, 5*time.Second)
	b.Screenshot("datasource-test")

	// Sync now: the background job reads the bucket; the page follows it.
	syncNow := func() {
		t.Helper()
		b.Open(dsPage)
		b.ClickAndWait("#sync-now")
		b.WaitText("#flash", "The bucket was read", 30*time.Second)
	}
	syncNow()
	// Listed once; fetched by this read or by a scheduled one just before (then unchanged).
	b.WaitText("#sum-listed", "1", 5*time.Second)
	b.WaitText("#reads-table", "apps/payroll.csv", 5*time.Second)

	// The application and its import.
	b.Open(base + "/applications")
	b.Type("#app-name", "Payroll")
	b.Type("#app-owner", "owner@example.com")
	b.ClickAndWait(`#new-application button[type=submit]`)
	b.WaitText("#flash", "Application created.", 5*time.Second)
	appPage := b.Location()
	appPage = appPage[:strings.Index(appPage, "?")]
	b.Type("#im-file", "apps/payroll.csv")
	b.ClickAndWait(`#attach-import button[type=submit]`)
	b.WaitText("#flash", "Import attached. Its file was read: the last import is applied.", 10*time.Second)
	b.WaitText("#last-state", "Applied 3 grants added, 0 removed", 5*time.Second)
	if got := b.Text("#count-grants"); got != "3" {
		t.Fatalf("grants %q", got)
	}
	b.WaitText("#users-table", "alice@example.com", 5*time.Second)
	b.Screenshot("application")
	b.Open(dsPage)
	b.WaitText("#imports-table", "Payroll apps/payroll.csv csv applied", 5*time.Second)

	// A file that removes 2 of 3 grants: held; Alice approves it.
	put("apps/payroll.csv", "User ID,Email Address,Full Name,User Status,Resource Type,Resource Name,Entitlement\n"+
		"u1,alice@example.com,Alice Nguyen,active,Role,Payroll Admins,member\n"+
		"u2,bob@example.com,Bob Martinez,active,Report,Salaries,read\n")
	syncNow()
	b.Open(appPage)
	b.WaitText("#last-state", "Held for an admin the import removes 2 of the application's 3 grants", 5*time.Second)
	b.Screenshot("application-held")
	b.Eval(`(() => { window.confirm = () => true; return true })()`)
	b.ClickAndWait("#approve-run")
	b.WaitText("#flash", "The held import is approved and applied.", 10*time.Second)
	b.WaitText("#last-state", "Applied Approved by alice@example.com", 5*time.Second)
	if got := b.Text("#count-grants"); got != "2" {
		t.Fatalf("grants after approval %q", got)
	}

	// A broken file: row-precise problems, the data intact.
	put("apps/payroll.csv", "User ID,Email Address,Full Name,User Status,Resource Type,Resource Name,Entitlement\n"+
		"u1,alice@example.com,Alice Nguyen,actv,Role,Payroll Admins,member\n"+
		"u9,,,,Report,Salaries,\n")
	syncNow()
	b.Open(appPage)
	b.WaitText("#last-state", "Rejected: the file has 2 problems", 5*time.Second)
	rows := b.Text("#errors-table tbody")
	for _, want := range []string{
		`apps/payroll.csv row 2 User Status bad User Status "actv"`,
		`apps/payroll.csv row 3 Entitlement empty "Entitlement"`,
	} {
		if !strings.Contains(rows, want) {
			t.Fatalf("the errors table lacks %q:\n%s", want, rows)
		}
	}
	if got := b.Text("#count-grants"); got != "2" {
		t.Fatalf("grants after a broken file %q, want the last good 2", got)
	}
	b.Screenshot("application-rejected")
	b.Open(base + "/applications")
	b.WaitText("#app-"+appPage[strings.LastIndex(appPage, "/")+1:], "Last import rejected", 5*time.Second)
	b.Screenshot("applications")
}

// payroll is the application's first file, with ConductorOne's header.
const payroll = "User ID,Email Address,Full Name,User Status,Resource Type,Resource Name,Entitlement\n" +
	"u1,alice@example.com,Alice Nguyen,active,Role,Payroll Admins,member\n" +
	"u2,bob@example.com,Bob Martinez,active,Role,Payroll Admins,member\n" +
	"u1,alice@example.com,Alice Nguyen,active,Report,Salaries,read\n"
