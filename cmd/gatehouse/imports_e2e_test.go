package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/awssim"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// TestImportsEndToEnd is issue 13's proof through the real binaries, as a customer and an
// admin would do it: `gatehouse sim --preset demo` is the customer's AWS; its administrator
// creates the bucket and uploads files with the real AWS CLI; `gatehouse serve` (SQLite, and
// PostgreSQL when GATEHOUSE_TEST_DATABASE_URL is set) is driven over its HTTP API with an API
// token. The admin adds the data source, creates the role its External ID names with the
// policies `gatehouse setup s3` prints (aws iam create-role / put-role-policy), tests the
// connection, creates the application and its import, and syncs: the file is imported, its
// users are people linked by email with their AWS access; a changed file applies exactly its
// diff, with history; an unchanged file costs no GetObject (the simulator's counters); a broken
// file is rejected with row-precise errors and the data stays; a file removing more than 20%
// of the grants is held until approved. The External ID survives a restart of the server.
func TestImportsEndToEnd(t *testing.T) {
	awsBin := requireAWSCLI(t)
	t.Run("sqlite", func(t *testing.T) { importsEndToEnd(t, awsBin, "") })
	t.Run("postgres", func(t *testing.T) { importsEndToEnd(t, awsBin, storetest.NewDatabase(t)) })
}

// requireAWSCLI returns the AWS CLI: GATEHOUSE_AWS_CLI (which scripts/test.sh sets), else
// aws on PATH. Without it the test is skipped, unless CI or GATEHOUSE_REQUIRE_AWS_CLI says the
// CLI is required: then it fails.
func requireAWSCLI(t *testing.T) string {
	t.Helper()
	bin, err := os.Getenv("GATEHOUSE_AWS_CLI"), error(nil)
	if bin == "" {
		bin, err = exec.LookPath("aws")
	} else if _, err = os.Stat(bin); err != nil {
		err = fmt.Errorf("GATEHOUSE_AWS_CLI=%s: %w", bin, err)
	}
	if err != nil {
		if os.Getenv("CI") != "" || os.Getenv("GATEHOUSE_REQUIRE_AWS_CLI") != "" {
			t.Fatalf("the AWS CLI is required here (CI or GATEHOUSE_REQUIRE_AWS_CLI) but not available: %v; scripts/test.sh installs it", err)
		}
		t.Skipf("the AWS CLI is not available (%v); scripts/test.sh installs it, GATEHOUSE_REQUIRE_AWS_CLI=1 requires it", err)
	}
	return bin
}

// The payroll exports of the test, in ConductorOne's header. v1 has 5 users and 6 grants.
const (
	payrollHeader = "User ID,Email Address,Full Name,User Status,Resource Type,Resource Name,Entitlement\n"
	payrollV1     = payrollHeader +
		"u-alice,Alice@Example.com,Alice Nguyen,enabled,Role,Payroll Admins,member\n" +
		"u-alice,Alice@Example.com,Alice Nguyen,enabled,Report,Salaries,read\n" +
		"u-bob,bob@example.com,Bob Martinez,enabled,Report,Salaries,read\n" +
		"u-carol,carol@example.com,Carol Okafor,enabled,Report,Audit Trail,read\n" +
		"u-dave,dave@example.com,Dave Kim,enabled,Role,Approvers,member\n" +
		"u-gina,gina@example.com,Gina Contractor,disabled,Report,Salaries,read\n"
	// v2: Gina's grant removed, Erin's added (1 of 6 removed: under the 20% threshold).
	payrollV2 = payrollHeader +
		"u-alice,Alice@Example.com,Alice Nguyen,enabled,Role,Payroll Admins,member\n" +
		"u-alice,Alice@Example.com,Alice Nguyen,enabled,Report,Salaries,read\n" +
		"u-bob,bob@example.com,Bob Martinez,enabled,Report,Salaries,read\n" +
		"u-carol,carol@example.com,Carol Okafor,enabled,Report,Audit Trail,read\n" +
		"u-dave,dave@example.com,Dave Kim,enabled,Role,Approvers,member\n" +
		"u-erin,erin@example.com,Erin Schulz,enabled,Role,Approvers,member\n"
	// broken: row 3 has a bad status, row 4 a grant without an entitlement.
	payrollBroken = payrollHeader +
		"u-alice,Alice@Example.com,Alice Nguyen,enabled,Role,Payroll Admins,member\n" +
		"u-bob,bob@example.com,Bob Martinez,actv,Report,Salaries,read\n" +
		"u-carol,carol@example.com,Carol Okafor,enabled,Report,Audit Trail,\n"
	// v3: keeps 3 of v2's 6 grants (3 removed: 50%, above 20%): held.
	payrollV3 = payrollHeader +
		"u-alice,Alice@Example.com,Alice Nguyen,enabled,Role,Payroll Admins,member\n" +
		"u-alice,Alice@Example.com,Alice Nguyen,enabled,Report,Salaries,read\n" +
		"u-dave,dave@example.com,Dave Kim,enabled,Role,Approvers,member\n"
)

// importsEnv is the customer's AWS (gatehouse sim) with a bucket holding the v1 export,
// uploaded by its administrator with the AWS CLI, and a gatehouse serve connected to it.
type importsEnv struct {
	t      *testing.T
	awsBin string
	info   awssim.Info
	dir    string
	// operator is the ARN of the principal Gatehouse runs as (the connection's base
	// credentials: the simulator's operator user).
	operator string
	srv      *serveProc
}

const e2eBucket, e2eKey = "acme-access-exports", "apps/payroll.csv"

func newImportsEnv(t *testing.T, awsBin, databaseURL string) *importsEnv {
	e := &importsEnv{t: t, awsBin: awsBin, dir: t.TempDir(),
		info: startSimCommand(t, "--preset", "demo", "--latency", "0", "--jitter", "0")}
	e.admin("s3api", "create-bucket", "--bucket", e2eBucket)
	e.upload(payrollV1)
	var caller struct{ Arn string }
	if err := json.Unmarshal([]byte(e.awsCLI(e.info.AccessKeyID, e.info.SecretAccessKey, "sts", "get-caller-identity")), &caller); err != nil || caller.Arn == "" {
		t.Fatalf("get-caller-identity: %+v %v", caller, err)
	}
	e.operator = caller.Arn
	e.srv = startServe(t, e.info, databaseURL)
	return e
}

// awsCLI runs the AWS CLI against the simulator with an access key and returns its stdout.
func (e *importsEnv) awsCLI(akid, secret string, args ...string) string {
	t := e.t
	t.Helper()
	cmd := exec.Command(e.awsBin, append([]string{"--endpoint-url", e.info.Endpoint, "--region", e.info.Region, "--output", "json"}, args...)...)
	cmd.Env = []string{"HOME=" + e.dir, "PATH=" + os.Getenv("PATH"), "AWS_ACCESS_KEY_ID=" + akid, "AWS_SECRET_ACCESS_KEY=" + secret,
		"AWS_CONFIG_FILE=" + filepath.Join(e.dir, "none"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(e.dir, "none"),
		"AWS_PAGER=", "AWS_EC2_METADATA_DISABLED=true"}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

// admin runs the AWS CLI as the customer's administrator (the simulator's admin key).
func (e *importsEnv) admin(args ...string) string {
	e.t.Helper()
	return e.awsCLI(e.info.Admin.AccessKeyID, e.info.Admin.SecretAccessKey, args...)
}

// upload replaces the export in the bucket with aws s3 cp.
func (e *importsEnv) upload(body string) {
	e.t.Helper()
	file := filepath.Join(e.dir, "payroll.csv")
	if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
		e.t.Fatal(err)
	}
	e.admin("s3", "cp", file, "s3://"+e2eBucket+"/"+e2eKey)
}

// createRole creates the data source's role as `gatehouse setup s3 --format json` prints it,
// with aws iam create-role and put-role-policy, and returns its ARN.
func (e *importsEnv) createRole(externalID string) string {
	t := e.t
	t.Helper()
	out, stderr, err := runGatehouseEnv(t, noAWSEnv(t), "setup", "s3", "--bucket", e2eBucket, "--prefix", "apps/", "--external-id", externalID,
		"--trusted-principal", e.operator, "--format", "json")
	if err != nil {
		t.Fatalf("gatehouse setup s3: %v\n%s", err, stderr)
	}
	var role struct {
		RoleName          string          `json:"role_name"`
		RoleARN           string          `json:"role_arn"`
		PolicyName        string          `json:"policy_name"`
		TrustPolicy       json.RawMessage `json:"trust_policy"`
		PermissionsPolicy json.RawMessage `json:"permissions_policy"`
	}
	if err := json.Unmarshal([]byte(out), &role); err != nil || role.RoleName == "" {
		t.Fatalf("gatehouse setup s3 printed %s (%v)", out, err)
	}
	e.admin("iam", "create-role", "--role-name", role.RoleName, "--assume-role-policy-document", string(role.TrustPolicy))
	e.admin("iam", "put-role-policy", "--role-name", role.RoleName, "--policy-name", role.PolicyName, "--policy-document", string(role.PermissionsPolicy))
	return role.RoleARN
}

func importsEndToEnd(t *testing.T, awsBin, databaseURL string) {
	e := newImportsEnv(t, awsBin, databaseURL)
	info, srv, upload := e.info, e.srv, e.upload
	const bucket, key = e2eBucket, e2eKey

	// The data source: 201 with the External ID Gatehouse generated.
	roleARN := "arn:aws:iam::" + info.ManagementAccountID + ":role/GatehouseS3Reader"
	code, ds := srv.call("POST", "/api/v1/datasources", map[string]any{"type": "s3", "name": "HR exports", "role_arn": roleARN,
		"bucket": bucket, "prefix": "apps/", "region": ""})
	dsID, _ := ds["id"].(string)
	externalID, _ := ds["external_id"].(string)
	if code != 201 || !strings.HasPrefix(dsID, "ds_") || externalID == "" {
		t.Fatalf("POST /api/v1/datasources: %d %v", code, ds)
	}

	// Before the role exists, the test says what to fix.
	code, test := srv.call("POST", "/api/v1/datasources/"+dsID+"/test", nil)
	if code != 200 || test["ok"] != false || checkStatuses(test) != "credentials:pass assume_role:fail get_bucket_location:skip list_bucket:skip get_object_attributes:skip get_object:skip" {
		t.Fatalf("test before the role exists: %d %v", code, test)
	}

	// The role, as `gatehouse setup s3` prints it, created with the AWS CLI.
	if got := e.createRole(externalID); got != roleARN {
		t.Fatalf("gatehouse setup s3 printed the role %s, want %s", got, roleARN)
	}

	code, test = srv.call("POST", "/api/v1/datasources/"+dsID+"/test", nil)
	if code != 200 || test["ok"] != true || checkStatuses(test) != "credentials:pass assume_role:pass get_bucket_location:pass list_bucket:pass get_object_attributes:pass get_object:pass" {
		t.Fatalf("test with the role: %d %v", code, test)
	}

	// The application and its import: attaching reads the file at once.
	code, app := srv.call("POST", "/api/v1/applications", map[string]any{"name": "Payroll", "owner": "alice@example.com"})
	appID, _ := app["id"].(string)
	if code != 201 || !strings.HasPrefix(appID, "app_") || app["kind"] != "file" {
		t.Fatalf("POST /api/v1/applications: %d %v", code, app)
	}
	code, im := srv.call("POST", "/api/v1/applications/"+appID+"/imports", map[string]any{"datasource_id": dsID, "file": key})
	if code != 201 || im["format"] != "csv" || im["read_error"] != nil {
		t.Fatalf("POST imports: %d %v", code, im)
	}
	run1 := srv.lastImport(appID, "applied", "")
	grant := func(res, ent, user string) string {
		return "app_resource:" + appID + ":" + res + ":" + ent + ":app_user:" + appID + ":" + user
	}
	v1 := []string{grant("role:payroll admins", "member", "u-alice"), grant("report:salaries", "read", "u-alice"), grant("report:salaries", "read", "u-bob"),
		grant("report:audit trail", "read", "u-carol"), grant("role:approvers", "member", "u-dave"), grant("report:salaries", "read", "u-gina")}
	slices.Sort(v1)
	same(t, "grants after the first import", srv.grants(appID), v1)
	if p := run1["provenance"].([]any); len(p) != 1 || p[0].(map[string]any)["key"] != key || p[0].(map[string]any)["size"] != float64(len(payrollV1)) ||
		p[0].(map[string]any)["etag"] == "" || !strings.HasPrefix(p[0].(map[string]any)["checksum"].(string), "CRC") {
		t.Fatalf("provenance of the first run: %v", run1["provenance"])
	}

	// Users are app_user resources with their emails; people are linked by email: Alice's
	// page has her Identity Center access (after the first AWS sync) and her Payroll grants.
	var users []string
	for _, it := range srv.list("/api/v1/resources?connection_id=" + appID + "&type=app_user") {
		users = append(users, it["id"].(string)+" "+it["email"].(string))
	}
	same(t, "app users", users, []string{appID + ":u-alice alice@example.com", appID + ":u-bob bob@example.com",
		appID + ":u-carol carol@example.com", appID + ":u-dave dave@example.com", appID + ":u-gina gina@example.com"})
	srv.waitFirstAWSSync()
	var aliceApp []string
	awsAccess := false
	for _, it := range srv.list("/api/v1/people/alice@example.com/access?page_size=1000") {
		if g := it["grant_id"].(string); strings.Contains(g, appID) {
			aliceApp = append(aliceApp, g)
		} else if it["entitlement_name"] == "AdministratorAccess on prod" {
			awsAccess = true
		}
	}
	slices.Sort(aliceApp)
	same(t, "Alice's Payroll access", aliceApp, []string{grant("report:salaries", "read", "u-alice"), grant("role:payroll admins", "member", "u-alice")})
	if !awsAccess {
		t.Fatal("Alice's page lacks her AWS access (AdministratorAccess on prod): people are not linked across sources")
	}

	// A changed file: the next sync applies exactly its diff, in the history.
	upload(payrollV2)
	srv.syncDataSource(dsID)
	run2 := srv.lastImport(appID, "applied", run1["id"].(string))
	if d := run2["diff"].(map[string]any); d["grants_before"] != float64(6) || d["grants_added"] != float64(1) || d["grants_removed"] != float64(1) {
		t.Fatalf("diff of the changed file: %v", d)
	}
	// The change feed between the two runs also has the AWS connection's first sync: the
	// run's changes are those with its id as sync id.
	var changes []string
	for _, it := range srv.list("/api/v1/changes?from=" + run1["id"].(string) + "&to=" + run2["id"].(string) + "&page_size=1000") {
		if it["sync_id"] == run2["id"] {
			changes = append(changes, it["kind"].(string)+" "+it["grant_id"].(string))
		}
	}
	slices.Sort(changes)
	same(t, "changes of the changed file", changes, []string{"added " + grant("role:approvers", "member", "u-erin"), "removed " + grant("report:salaries", "read", "u-gina")})
	v2 := append(slices.DeleteFunc(slices.Clone(v1), func(g string) bool { return strings.HasSuffix(g, ":u-gina") }), grant("role:approvers", "member", "u-erin"))
	slices.Sort(v2)
	same(t, "grants after the changed file", srv.grants(appID), v2)

	// An unchanged file costs no GetObject (nor GetObjectAttributes) and makes no run.
	gets, attrs := srv.simCalls(info, "GetObject"), srv.simCalls(info, "GetObjectAttributes")
	src := srv.syncDataSource(dsID)
	if n, a := srv.simCalls(info, "GetObject"), srv.simCalls(info, "GetObjectAttributes"); n != gets || a != attrs {
		t.Fatalf("an unchanged file was read: GetObject %d -> %d, GetObjectAttributes %d -> %d", gets, n, attrs, a)
	}
	if s := src["last_summary"].(map[string]any); src["last_state"] != "succeeded" || s["listed"] != float64(1) || s["unchanged"] != float64(1) || s["fetched"] != float64(0) {
		t.Fatalf("unchanged sync: %v", src)
	}
	srv.lastImport(appID, "applied", "")
	if _, got := srv.call("GET", "/api/v1/applications/"+appID, nil); got["last_import"].(map[string]any)["id"] != run2["id"] {
		t.Fatalf("an unchanged file made a run: %v", got["last_import"])
	}

	// A broken file: rejected with row-precise errors; the data stays.
	upload(payrollBroken)
	srv.syncDataSource(dsID)
	rejected := srv.lastImport(appID, "rejected", run2["id"].(string))
	var problems []string
	for _, e := range rejected["errors"].([]any) {
		p := e.(map[string]any)
		problems = append(problems, fmt.Sprintf("%s row %v %s: %s", p["file"], p["row"], p["column"], p["message"]))
	}
	same(t, "errors of the broken file", problems, []string{
		key + ` row 3 User Status: bad User Status "actv": use enabled (or active), disabled (or inactive, suspended) or deleted, or leave it empty`,
		key + ` row 4 Entitlement: empty "Entitlement": every grant needs Resource Type, Resource Name, Entitlement and User ID`,
	})
	same(t, "grants after the broken file", srv.grants(appID), v2)

	// A file removing 3 of the 6 grants: held, nothing applied; approve applies it.
	upload(payrollV3)
	srv.syncDataSource(dsID)
	held := srv.lastImport(appID, "held", rejected["id"].(string))
	if held["held_reason"] != "the import removes 3 of the application's 6 grants (50%), more than its threshold of 20%; an admin approves or rejects it" {
		t.Fatalf("held reason: %v", held["held_reason"])
	}
	same(t, "grants while held", srv.grants(appID), v2)
	code, dec := srv.call("POST", "/api/v1/applications/"+appID+"/runs/"+held["id"].(string)+"/approve", nil)
	if code != 200 || dec["state"] != "applied" || dec["decided_by"] != "alice@example.com" {
		t.Fatalf("approve: %d %v", code, dec)
	}
	v3 := []string{grant("role:payroll admins", "member", "u-alice"), grant("report:salaries", "read", "u-alice"), grant("role:approvers", "member", "u-dave")}
	slices.Sort(v3)
	same(t, "grants after approving", srv.grants(appID), v3)

	// The history: every run, newest first.
	var states []string
	for _, it := range srv.list("/api/v1/applications/" + appID + "/runs") {
		states = append(states, it["state"].(string))
	}
	same(t, "runs", states, []string{"applied", "rejected", "applied", "applied"})

	// The External ID survives a restart of the server.
	srv.restart(t)
	if code, got := srv.call("GET", "/api/v1/datasources/"+dsID, nil); code != 200 || got["external_id"] != externalID {
		t.Fatalf("after a restart: %d %v, want external_id %s", code, got, externalID)
	}
	same(t, "grants after a restart", srv.grants(appID), v3)
}

// checkStatuses is "id:status ..." of a data source test's checks.
func checkStatuses(test map[string]any) string {
	var out []string
	checks, _ := test["checks"].([]any)
	for _, c := range checks {
		m := c.(map[string]any)
		out = append(out, fmt.Sprintf("%s:%s", m["id"], m["status"]))
	}
	return strings.Join(out, " ")
}

func same(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("%s:\n got %q\nwant %q", what, got, want)
	}
}

// serveProc is a `gatehouse serve` process with alice@example.com as its admin, and her API token.
type serveProc struct {
	t       *testing.T
	cfgPath string
	base    string
	token   string
	cmd     *exec.Cmd
	log     *lockedBuffer
	c       *http.Client
}

// startServe writes a configuration with a connection to the simulator (on SQLite in a
// data directory, or on databaseURL), creates an API token for alice and serves it.
func startServe(t *testing.T, info awssim.Info, databaseURL string) *serveProc {
	t.Helper()
	dataDir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg := fmt.Sprintf(`listen: %s
data_dir: %s
admins: [alice@example.com]
auditors: [carol@example.com]
sync_schedule: 24h
connections:
  - id: aws
    name: demo
    endpoint_url: %s
    region: %s
    role_arn: %s
    external_id: %s
    orgs: true
    member_role_name: %s
    identity_center: true
    identity_center_region: %s
    access_key_id: %s
    secret_access_key: %s
`, addr, dataDir, info.Endpoint, info.Region, info.RoleARN, info.ExternalID, info.MemberRoleName, info.IdentityCenterRegion, info.AccessKeyID, info.SecretAccessKey)
	if databaseURL != "" {
		cfg += "database_url: " + databaseURL + "\nsecret_key: MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\n"
	}
	s := &serveProc{t: t, cfgPath: filepath.Join(dataDir, "gatehouse.yaml"), base: "http://" + addr, c: &http.Client{Timeout: 60 * time.Second}}
	if err := os.WriteFile(s.cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	out, stderr, err := runGatehouseEnv(t, noAWSEnv(t), "token", "create", "--config", s.cfgPath, "--email", "alice@example.com", "--name", "e2e")
	if err != nil {
		t.Fatalf("gatehouse token create: %v\n%s", err, stderr)
	}
	s.token = strings.TrimSpace(out)
	s.start()
	t.Cleanup(s.stop)
	return s
}

func (s *serveProc) start() {
	t := s.t
	t.Helper()
	s.cmd = exec.Command(gatehouseBin, "serve", "--config", s.cfgPath)
	s.cmd.Env = noAWSEnv(t)
	s.log = &lockedBuffer{}
	s.cmd.Stderr = s.log
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(60 * time.Second); ; {
		if resp, err := http.Get(s.base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("gatehouse serve is not ready after 60 s:\n%s", s.log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (s *serveProc) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
	s.cmd = nil
}

// restart stops the server and serves the same configuration again.
func (s *serveProc) restart(t *testing.T) {
	t.Helper()
	s.stop()
	s.start()
}

// call sends a JSON request with alice's token and returns the status and the JSON object.
func (s *serveProc) call(method, path string, body any) (int, map[string]any) {
	t := s.t
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.base+path, r)
	req.Header.Set("Authorization", "Bearer "+s.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := map[string]any{}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, raw)
		}
	}
	return resp.StatusCode, out
}

// list GETs every page of a list.
func (s *serveProc) list(path string) []map[string]any {
	s.t.Helper()
	var out []map[string]any
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	for token := ""; ; {
		u := path
		if token != "" {
			u += sep + "page_token=" + token
		}
		code, page := s.call("GET", u, nil)
		if code != 200 {
			s.t.Fatalf("GET %s: %d %v", u, code, page)
		}
		items, _ := page["items"].([]any)
		for _, it := range items {
			out = append(out, it.(map[string]any))
		}
		next, _ := page["next_page_token"].(string)
		if next == "" {
			return out
		}
		token = next
	}
}

// grants are the sorted ids of the application's current grants in the inventory: the
// grants of each of its app_resource resources (GET /api/v1/resources/app_resource/{id}).
func (s *serveProc) grants(appID string) []string {
	s.t.Helper()
	var out []string
	for _, r := range s.list("/api/v1/resources?connection_id=" + appID + "&type=app_resource&page_size=1000") {
		code, res := s.call("GET", "/api/v1/resources/app_resource/"+r["id"].(string)+"?page_size=1000", nil)
		if code != 200 || res["grants_next_page_token"] != nil {
			s.t.Fatalf("GET resource %s: %d %v", r["id"], code, res)
		}
		for _, g := range res["grants"].([]any) {
			if g := g.(map[string]any); g["removed_at"] == nil {
				out = append(out, g["id"].(string))
			}
		}
	}
	slices.Sort(out)
	return out
}

// lastImport waits for the application's last import to be a run other than after, in
// state, and returns it.
func (s *serveProc) lastImport(appID, state, after string) map[string]any {
	s.t.Helper()
	var last map[string]any
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		code, app := s.call("GET", "/api/v1/applications/"+appID, nil)
		if code != 200 {
			s.t.Fatalf("GET application: %d %v", code, app)
		}
		last, _ = app["last_import"].(map[string]any)
		if last != nil && last["id"] != after {
			if last["state"] != state {
				s.t.Fatalf("the last import is %v, want %s", last, state)
			}
			return last
		}
	}
	s.t.Fatalf("no import run after %q within 60 s; last %v\n%s", after, last, s.log.String())
	return nil
}

// syncDataSource asks for a sync (202) and waits for it to finish; it returns the data source.
func (s *serveProc) syncDataSource(id string) map[string]any {
	s.t.Helper()
	_, before := s.call("GET", "/api/v1/datasources/"+id, nil)
	if code, body := s.call("POST", "/api/v1/datasources/"+id+"/sync", nil); code != 202 {
		s.t.Fatalf("POST sync: %d %v", code, body)
	}
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		_, got := s.call("GET", "/api/v1/datasources/"+id, nil)
		if got["last_sync_at"] != nil && got["last_sync_at"] != before["last_sync_at"] {
			return got
		}
	}
	s.t.Fatalf("the data source was not synced within 60 s\n%s", s.log.String())
	return nil
}

// waitFirstAWSSync waits for the scheduler's first sync of the AWS connection.
func (s *serveProc) waitFirstAWSSync() {
	s.t.Helper()
	for deadline := time.Now().Add(3 * time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		items := s.list("/api/v1/syncs")
		if len(items) > 0 && (items[0]["state"] == "succeeded" || items[0]["state"] == "partial") {
			return
		} else if len(items) > 0 && items[0]["state"] == "failed" {
			s.t.Fatalf("the first AWS sync failed: %v", items[0])
		}
	}
	s.t.Fatalf("no AWS sync finished within 3 minutes\n%s", s.log.String())
}

// simCalls is the number of calls of an S3 operation the simulator counted (GET /_sim/counters).
func (s *serveProc) simCalls(info awssim.Info, op string) int64 {
	s.t.Helper()
	req, _ := http.NewRequest("GET", info.Endpoint+"/_sim/counters", nil)
	req.Header.Set("Authorization", "Bearer "+info.AdminToken)
	resp, err := s.c.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	var counters struct{ Operations []awssim.OpCount }
	if err := json.NewDecoder(bufio.NewReader(resp.Body)).Decode(&counters); err != nil {
		s.t.Fatal(err)
	}
	var n int64
	for _, o := range counters.Operations {
		if o.Service == "s3" && o.Operation == op {
			n += o.Calls
		}
	}
	return n
}
