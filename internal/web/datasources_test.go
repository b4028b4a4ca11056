package web

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/gatehouse/gatehouse/internal/app"
	"github.com/gatehouse/gatehouse/internal/appimport"
	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/awssim"
	"github.com/gatehouse/gatehouse/internal/datasource"
	"github.com/gatehouse/gatehouse/internal/setup"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// newTestUIOn is newTestUI over the store st (SQLite or PostgreSQL).
func newTestUIOn(t *testing.T, st *store.Store) *testUI {
	t.Helper()
	a := &app.App{Store: st, Log: zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))}
	return newTestUIWith(t, a)
}

// newTestUIWith is the UI over the services of a.
func newTestUIWith(t *testing.T, a *app.App) *testUI {
	r := auth.NewRouter()
	Register(r, a)
	return &testUI{t: t, store: a.Store, app: a, router: r}
}

// s3Fixture is the customer's side of a data source in the simulator: an account with
// Gatehouse's runtime user (the principal it runs as), an administrator who creates the
// bucket, the role and the files through the real S3 client.
type s3Fixture struct {
	t        testing.TB
	sim      *awssim.Sim
	base     aws.Config // Gatehouse's own identity
	customer *s3.Client
	secret   string // the runtime user's secret key, which no page may show
}

const (
	fixAccount = "111111111111"
	fixBucket  = "acme-access-exports"
	fixRuntime = "arn:aws:iam::111111111111:user/gatehouse-runtime"
	fixRole    = "arn:aws:iam::111111111111:role/GatehouseS3Reader"
)

func newS3Fixture(t testing.TB) *s3Fixture {
	t.Helper()
	sim := awssim.New(awssim.NewWorld(fixAccount, "us-east-1", nil), awssim.Options{})
	simURL, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	f := &s3Fixture{t: t, sim: sim}
	sim.Do(func(w *awssim.World) {
		a := w.Accounts[fixAccount]
		k := a.AddAccessKey(w, a.AddUser(w, "gatehouse-runtime", "/"))
		f.secret = k.Secret
		f.base = aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(simURL), Credentials: credentials.NewStaticCredentialsProvider(k.ID, k.Secret, "")}
		adm := a.AddUser(w, "customer-admin", "/")
		adm.AttachedPolicies = append(adm.AttachedPolicies, awssim.AWSManagedPolicyARN("AdministratorAccess"))
		ak := a.AddAccessKey(w, adm)
		f.customer = s3.NewFromConfig(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(simURL),
			Credentials: credentials.NewStaticCredentialsProvider(ak.ID, ak.Secret, "")}, func(o *s3.Options) { o.UsePathStyle = true })
	})
	if _, err := f.customer.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(fixBucket)}); err != nil {
		t.Fatal(err)
	}
	return f
}

// put uploads a file as the customer's administrator.
func (f *s3Fixture) put(key, body string) {
	f.t.Helper()
	if _, err := f.customer.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(fixBucket), Key: aws.String(key), Body: strings.NewReader(body)}); err != nil {
		f.t.Fatal(err)
	}
}

// createRole creates the role `gatehouse setup s3` prints for externalID.
func (f *s3Fixture) createRole(prefix, externalID string) {
	f.t.Helper()
	b, err := setup.GenerateS3(setup.S3Options{Bucket: fixBucket, Prefix: prefix, ExternalID: externalID, TrustedPrincipal: fixRuntime})
	if err != nil {
		f.t.Fatal(err)
	}
	f.sim.Do(func(w *awssim.World) {
		r := w.Accounts[fixAccount].AddRole(w, "GatehouseS3Reader", "/", string(b.Trust.JSON()))
		r.InlinePolicies[setup.S3PolicyName] = string(b.Permissions.JSON())
	})
}

// withImports gives the UI the data sources and imports services, wired as the server
// wires them, reading the fixture's simulator.
func (u *testUI) withImports(f *s3Fixture) {
	u.t.Helper()
	u.app.DataSources, u.app.Applications = importServices(u.t, u.store, f)
}

// importServices are the data sources and imports services over st, wired as the server
// wires them, reading the fixture's simulator.
func importServices(t testing.TB, st *store.Store, f *s3Fixture) (*datasource.Service, *appimport.Service) {
	t.Helper()
	var ds *datasource.Service
	apps, err := appimport.New(appimport.Config{Store: st, DataDir: t.TempDir(), Parse: appimport.ParseFiles,
		DatasourceExists: func(ctx context.Context, id string) (bool, error) {
			_, err := ds.Get(ctx, id)
			return err == nil, nil
		},
		ReadNow: func(ctx context.Context, id, key string) error { _, err := ds.ReadObject(ctx, id, key); return err }})
	if err != nil {
		t.Fatal(err)
	}
	ds = datasource.NewService(datasource.Config{Store: st, BaseAWS: func(context.Context) (aws.Config, error) { return f.base.Copy(), nil },
		OnObject: apps.ObjectHandler()})
	return ds, apps
}

// htmxPost posts a form as htmx does.
func (u *testUI) htmxPost(caller *auth.Caller, target string, form url.Values) response {
	u.t.Helper()
	return u.do(caller, "POST", target, strings.NewReader(form.Encode()), "Content-Type", "application/x-www-form-urlencoded", "HX-Request", "true")
}

// The data sources pages on both databases: an admin's form refuses bad fields one by one
// and saves nothing; a good one shows the External ID, the same on every load, with the
// role to create; "Test connection" says which check fails and what to fix, then passes
// once the role exists; "Sync now" reads the bucket and the page shows each read's
// provenance and the imports using it. Auditors read, people get 403, secrets never show.
func TestDataSourcePages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		u := newTestUIOn(t, st)
		f := newS3Fixture(t)
		u.withImports(f)

		for _, c := range []struct {
			who            *auth.Caller
			method, target string
			want           int
		}{
			{person, "GET", "/datasources", 403},
			{person, "POST", "/datasources", 403},
			{auditor, "POST", "/datasources", 403},
			{person, "GET", "/datasources/ds_x", 403},
			{auditor, "POST", "/datasources/ds_x/test", 403},
			{auditor, "POST", "/datasources/ds_x/sync", 403},
			{nil, "GET", "/datasources", 303}, // to sign-in
		} {
			if res := u.do(c.who, c.method, c.target, nil); res.Status != c.want {
				t.Fatalf("%s %s as %v: status %d, want %d", c.method, c.target, c.who, res.Status, c.want)
			}
		}
		res := u.get(auditor, "/datasources")
		mustContain(t, text(res.Body), "Data sources", "No data sources yet")
		mustNotContain(t, res.Body, `id="new-datasource"`)

		// Bad fields: each one said beside its field, nothing saved.
		res = u.postForm(admin, "/datasources", url.Values{"name": {"HR exports"}, "role_arn": {"GatehouseS3Reader"},
			"bucket": {"s3://acme-access-exports"}, "prefix": {"/apps"}, "region": {"Europe"}})
		if res.Status != http.StatusUnprocessableEntity {
			t.Fatalf("bad form: status %d", res.Status)
		}
		cspSafe(t, res.Body)
		got := utext(res.Body)
		mustContain(t, got, "Nothing was saved. Fix the fields marked below and add it again.",
			`Role_arn must be the ARN of the IAM role Gatehouse reads the bucket through (arn:aws:iam::123456789012:role/NAME; gatehouse setup s3 generates it), got "GatehouseS3Reader".`,
			`Bucket must be an S3 bucket name (3 to 63 lower-case letters, digits, dots and hyphens; the name, not an s3:// URL or ARN), got "s3://acme-access-exports".`,
			`Prefix must be the literal start of the keys, without a leading "/" or wildcards (for example exports/), got "/apps".`,
			`Region must be an AWS region such as eu-west-1 (or empty: Gatehouse asks S3 where the bucket is), got "Europe".`)
		for _, id := range []string{"role_arn-error", "bucket-error", "prefix-error", "region-error"} {
			mustContain(t, res.Body, `id="`+id+`"`)
		}
		mustContain(t, res.Body, `value="HR exports"`) // what was typed stays
		if list, _ := u.app.DataSources.List(context.Background()); len(list) != 0 {
			t.Fatalf("a refused form saved %d data sources", len(list))
		}

		// A good one: its page shows the External ID, the same on every load.
		res = u.postForm(admin, "/datasources", url.Values{"name": {"HR exports"}, "role_arn": {fixRole}, "bucket": {fixBucket}, "prefix": {"apps/"}})
		loc := res.Header.Get("Location")
		if res.Status != http.StatusSeeOther || !regexp.MustCompile(`^/datasources/ds_[a-z0-9]{20}\?created=1$`).MatchString(loc) {
			t.Fatalf("create: status %d location %q\n%s", res.Status, loc, text(res.Body))
		}
		page := strings.TrimSuffix(loc, "?created=1")
		src, err := u.app.DataSources.Get(context.Background(), strings.TrimPrefix(page, "/datasources/"))
		if err != nil {
			t.Fatal(err)
		}
		ext := src.ExternalID
		res = u.get(admin, loc)
		cspSafe(t, res.Body)
		got = utext(res.Body)
		mustContain(t, got, "HR exports S3", "s3://acme-access-exports/apps/ · the bucket's region · read every 1 h", "Test connection Sync now Data source added.",
			"External ID generated once when the data source was added; it never changes", ext, "Copy",
			"Create the role", "gatehouse setup s3 --bucket acme-access-exports --prefix apps/ --external-id "+ext+" --trusted-principal ARN_GATEHOUSE_RUNS_AS --format json",
			"Last read", "Never read yet.", "Nothing read yet", "No imports yet")
		mustContain(t, res.Body, `id="test-connection"`, `id="sync-now"`, `<code class="secret-once" id="external-id">`+ext+`</code>`, `hx-get="`+page+`/setup"`)
		for i := 0; i < 2; i++ {
			again := u.get(auditor, page)
			if !strings.Contains(again.Body, `id="external-id">`+ext+`<`) {
				t.Fatalf("load %d shows another External ID than %s", i, ext)
			}
			mustNotContain(t, again.Body, `id="test-connection"`, `id="sync-now"`) // auditors read only
		}

		// The setup card: the principal Gatehouse runs as, and the role's two policies.
		res = u.get(auditor, page+"/setup", "HX-Request", "true")
		got = utext(res.Body)
		mustContain(t, got, "Gatehouse runs as "+fixRuntime+" and the trust policy names it.",
			"gatehouse setup s3 --bucket acme-access-exports --prefix apps/ --external-id "+ext+" --trusted-principal "+fixRuntime+" --format json",
			"Trust policy", `"AWS": "`+fixRuntime+`"`, `"sts:ExternalId": "`+ext+`"`,
			"Permissions policy", `"s3:GetBucketLocation"`, `"s3:prefix": "apps/*"`, `"arn:aws:s3:::acme-access-exports/apps/*"`)
		mustNotContain(t, res.Body, f.secret)

		// Test connection before the role exists: the role check fails and says what to fix.
		res = u.htmxPost(admin, page+"/test", nil)
		if res.Status != 200 {
			t.Fatalf("test: status %d", res.Status)
		}
		got = utext(res.Body)
		mustContain(t, got, "Test connection a check failed",
			"Credentials sts:GetCallerIdentity pass Gatehouse runs as "+fixRuntime,
			"Role + External ID sts:AssumeRole fail", "Fix:",
			"Bucket location s3:GetBucketLocation skip skipped: the role could not be assumed",
			"Read files s3:GetObject skip")
		mustNotContain(t, res.Body, "<html") // a fragment for htmx
		fix := regexp.MustCompile(`id="check-assume_role".*?Fix:</strong>([^<]*)`).FindStringSubmatch(res.Body)
		if fix == nil || !strings.Contains(fix[1], ext) {
			t.Fatalf("the failed role check's fix does not name the External ID %s: %v", ext, fix)
		}

		// Sync now before the role exists: the read fails and the page says what to do.
		res = u.postForm(admin, page+"/sync", nil)
		res = u.get(admin, res.Header.Get("Location"))
		got = utext(res.Body)
		mustContain(t, got, "Last read failed", "The last read failed", "sts:AssumeRole", ext)
		mustNotContain(t, got, "The bucket was read")
		mustNotContain(t, res.Body, `hx-trigger="every 1s"`)

		// The role exists and a file is there: every check passes.
		f.createRole("apps/", ext)
		f.put("apps/payroll.csv", payrollFile)
		res = u.htmxPost(admin, page+"/test", nil)
		got = utext(res.Body)
		mustContain(t, got, "Test connection every check passed",
			"Credentials sts:GetCallerIdentity pass", "Role + External ID sts:AssumeRole pass assumed "+fixRole+" with External ID "+ext,
			"Bucket location s3:GetBucketLocation pass the bucket acme-access-exports is in us-east-1",
			"List files s3:ListBucket pass listed s3://acme-access-exports/apps/ (first file apps/payroll.csv)",
			"File attributes s3:GetObjectAttributes pass read the attributes of apps/payroll.csv",
			"Read files s3:GetObject pass read the first byte of apps/payroll.csv")
		mustNotContain(t, got, "a check failed", " fail ", "Fix:")
		// Without htmx, the whole page with the checks.
		res = u.postForm(admin, page+"/test", nil)
		mustContain(t, text(res.Body), "External ID", ext, "Test connection every check passed")

		// Sync now: read at once (no background queue here); the page shows the read.
		res = u.postForm(admin, page+"/sync", nil)
		if res.Status != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), page+"?since=") {
			t.Fatalf("sync now: status %d location %q", res.Status, res.Header.Get("Location"))
		}
		res = u.get(admin, res.Header.Get("Location"))
		got = utext(res.Body)
		mustNotContain(t, res.Body, `hx-trigger="every 1s"`) // already read: no polling
		mustContain(t, got, "The bucket was read", "Last read succeeded", "Files listed 1 Fetched (changed) 1 Unchanged (not fetched) 0",
			"Recent reads 1", "apps/payroll.csv")
		reads, err := u.app.DataSources.Reads(context.Background(), src.ID)
		if err != nil || len(reads) != 1 {
			t.Fatalf("reads %v %v", reads, err)
		}
		rd := reads[0]
		mustContain(t, got, "apps/payroll.csv "+rd.Note)
		mustContain(t, res.Body, "<td class=\"id\">"+rd.ETag+"</td><td class=\"num\">"+num(rd.Size)+"</td><td class=\"id\">"+rd.Checksum+"</td>")
		if rd.ETag == "" || rd.Checksum == "" || rd.Size != int64(len(payrollFile)) {
			t.Fatalf("read provenance %+v", rd)
		}

		// The list.
		res = u.get(auditor, "/datasources")
		mustContain(t, text(res.Body), "HR exports "+src.ID+" s3://acme-access-exports/apps/ the bucket's every 1 h succeeded")

		// A status poll after the read reloads the page.
		res = u.get(admin, page+"/status?since=1", "HX-Request", "true")
		if res.Header.Get("HX-Refresh") != "true" {
			t.Fatalf("status after the read: HX-Refresh %q", res.Header.Get("HX-Refresh"))
		}
		res = u.get(admin, page+"/status?since="+strconv.FormatInt(time.Now().Add(time.Hour).UnixMilli(), 10), "HX-Request", "true")
		if res.Header.Get("HX-Refresh") != "" || !strings.Contains(res.Body, `hx-trigger="every 1s"`) {
			t.Fatalf("status while waiting: HX-Refresh %q, polls %v", res.Header.Get("HX-Refresh"), strings.Contains(res.Body, "every 1s"))
		}
		mustContain(t, text(res.Body), "reading the bucket now…")
		if res := u.get(auditor, "/datasources/ds_nope"); res.Status != 404 {
			t.Fatalf("unknown data source: %d", res.Status)
		}

		// Settings: a wrong region is said beside it and nothing is saved; a good save keeps
		// the External ID. Auditors have no form and get 403.
		mustNotContain(t, u.get(auditor, page).Body, `id="datasource-settings"`)
		if res := u.postForm(auditor, page, url.Values{"name": {"x"}}); res.Status != 403 {
			t.Fatalf("auditor saves settings: status %d", res.Status)
		}
		res = u.postForm(admin, page, url.Values{"name": {"HR exports (S3)"}, "role_arn": {fixRole}, "bucket": {fixBucket}, "prefix": {"apps/"}, "region": {"Europe"}, "schedule": {"30m"}})
		if res.Status != http.StatusUnprocessableEntity {
			t.Fatalf("bad region: status %d", res.Status)
		}
		mustContain(t, utext(res.Body), "External ID", ext, "Nothing was saved. Fix the fields marked below and save again.",
			`Region must be an AWS region such as eu-west-1 (or empty: Gatehouse asks S3 where the bucket is), got "Europe".`)
		mustContain(t, res.Body, `value="HR exports (S3)"`, `value="Europe"`)
		if cur, _ := u.app.DataSources.Get(context.Background(), src.ID); cur.Name != "HR exports" || cur.Region != "" {
			t.Fatalf("a refused save changed the source: %+v", cur)
		}
		res = u.postForm(admin, page, url.Values{"name": {"HR exports (S3)"}, "role_arn": {fixRole}, "bucket": {fixBucket}, "prefix": {"apps/"}, "region": {"us-east-1"}, "schedule": {"30m"}})
		if res.Status != http.StatusSeeOther || res.Header.Get("Location") != page+"?updated=1" {
			t.Fatalf("save: status %d location %q\n%s", res.Status, res.Header.Get("Location"), text(res.Body))
		}
		res = u.get(admin, page+"?updated=1")
		mustContain(t, utext(res.Body), "HR exports (S3) S3", "s3://acme-access-exports/apps/ · us-east-1 · read every 30 min",
			"Saved. The External ID is the same: the role's trust policy keeps working.", ext)
		mustContain(t, res.Body, `id="ds-schedule" type="text" name="schedule" value="30m"`)

		// Delete (no import uses it): gone from the list, its reads kept.
		if res := u.postForm(auditor, page+"/delete", nil); res.Status != 403 {
			t.Fatalf("auditor deletes: status %d", res.Status)
		}
		res = u.postForm(admin, page+"/delete", nil)
		if res.Status != http.StatusSeeOther {
			t.Fatalf("delete: status %d\n%s", res.Status, text(res.Body))
		}
		mustContain(t, utext(u.get(admin, res.Header.Get("Location")).Body), "Data source “HR exports (S3)” deleted. The provenance of its reads is kept.", "No data sources yet")
		if reads, _ := st.DataSourceObjects(context.Background(), src.ID, false); len(reads) != 1 {
			t.Fatalf("reads after delete: %d, want the 1 kept", len(reads))
		}
	})
}

// utext is text with every HTML entity decoded (html/template writes "+" as &#43;).
func utext(body string) string { return html.UnescapeString(text(body)) }

// payrollFile is the fixture application's access file, with ConductorOne's header.
const payrollFile = "User ID,Email Address,Full Name,User Status,Resource Type,Resource Name,Entitlement\n" +
	"u1,alice@example.com,Alice Nguyen,active,Role,Payroll Admins,member\n" +
	"u2,bob@example.com,Bob Martinez,active,Role,Payroll Admins,member\n" +
	"u1,alice@example.com,Alice Nguyen,active,Report,Salaries,read\n"
