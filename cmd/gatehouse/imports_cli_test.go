package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestImportsCLI runs the admin's path of docs/imports.md with the gatehouse CLI against a
// real server (gatehouse datasources add, test, sync; gatehouse apps create, import, show,
// approve, list), the customer's side with the AWS CLI: each command says on stderr what
// people need (the External ID and the setup s3 command; each check with its fix; the
// import's state with row-precise errors; why a run is held and the command that decides
// it) and prints its result as one JSON line on stdout.
func TestImportsCLI(t *testing.T) {
	e := newImportsEnv(t, requireAWSCLI(t), "")
	env := cliEnv(t, "GATEHOUSE_SERVER="+e.srv.base, "GATEHOUSE_TOKEN="+e.srv.token)
	gh := func(wantCode int, args ...string) (map[string]any, string) {
		t.Helper()
		stdout, stderr, code := runCLI(t, env, "", args...)
		if code != wantCode {
			t.Fatalf("gatehouse %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, wantCode, stdout, stderr)
		}
		out := map[string]any{}
		if lines := strings.Split(strings.TrimSpace(stdout), "\n"); stdout != "" && !strings.Contains(args[1], "list") {
			if err := json.Unmarshal([]byte(lines[len(lines)-1]), &out); err != nil {
				t.Fatalf("gatehouse %s: stdout is not one JSON line: %q", strings.Join(args, " "), stdout)
			}
		} else if stdout != "" {
			return nil, stdout + stderr
		}
		return out, stderr
	}
	contains := func(what, text string, want ...string) {
		t.Helper()
		for _, w := range want {
			if !strings.Contains(text, w) {
				t.Fatalf("%s lacks %q:\n%s", what, w, text)
			}
		}
	}

	_, stderr := gh(0, "datasources", "list")
	contains("datasources list before any", stderr, "there are no data sources; add one with gatehouse datasources add")

	roleARN := "arn:aws:iam::" + e.info.ManagementAccountID + ":role/GatehouseS3Reader"
	ds, stderr := gh(0, "datasources", "add", "--name", "HR exports", "--role-arn", roleARN, "--bucket", e2eBucket, "--prefix", "apps/")
	id, ext := ds["id"].(string), ds["external_id"].(string)
	contains("datasources add", stderr, "added: "+id+` "HR exports": s3://acme-access-exports/apps/ through `+roleARN+", External ID "+ext+" (it never changes), every 1h0m0s",
		"gatehouse setup s3 --bucket acme-access-exports --prefix apps/ --external-id "+ext+" --trusted-principal ARN_THE_SERVER_RUNS_AS",
		"gatehouse datasources test "+id)
	if _, stderr, code := runCLI(t, env, "", "datasources", "add", "--name", "x", "--role-arn", roleARN, "--bucket", "Bad_Bucket"); code != 1 ||
		!strings.HasPrefix(stderr, "gatehouse: the server refused it: ") {
		t.Fatalf("datasources add with a bad bucket: exit %d\n%s", code, stderr)
	}

	// Before the role exists: exit 1, the failed check with its fix.
	res, stderr := gh(1, "datasources", "test", id)
	contains("datasources test without the role", stderr, "PASS  sts:GetCallerIdentity", "FAIL  sts:AssumeRole", "      fix: ", "SKIP  s3:GetObject",
		"gatehouse: a check failed: fix what it says, then run gatehouse datasources test "+id+" again")
	if res["ok"] != false {
		t.Fatalf("test JSON line: %v", res)
	}
	e.createRole(ext)
	res, stderr = gh(0, "datasources", "test", id)
	contains("datasources test with the role", stderr, "PASS  s3:GetBucketLocation", "PASS  s3:ListBucket", "PASS  s3:GetObjectAttributes", "PASS  s3:GetObject", "every check passed")
	if res["ok"] != true {
		t.Fatalf("test JSON line: %v", res)
	}

	app, stderr := gh(0, "apps", "create", "--name", "Payroll", "--owner", "alice@example.com")
	appID := app["id"].(string)
	contains("apps create", stderr, "created: "+appID+` "Payroll" (file), owner alice@example.com`, "gatehouse apps import "+appID+" --datasource DATASOURCE_ID --file KEY")
	im, stderr := gh(0, "apps", "import", appID, "--datasource", id, "--file", e2eKey)
	contains("apps import", stderr, "attached import "+im["id"].(string), "  import "+im["id"].(string)+": apps/payroll.csv of data source "+id+" (csv)",
		"  now: app_resource 4, app_user 5, entitlements 4, grants 6, people 5", " applied at ", ": 0 grants before, 6 added, 0 removed", "    read apps/payroll.csv (ETag ")

	// A broken file: sync --wait, then show has the row-precise errors. (The data source's
	// schedule may read the new file first, on its own; then this read finds it unchanged.
	// Either way the file was read once, and the rejected run below proves it.)
	e.upload(payrollBroken)
	_, stderr = gh(0, "datasources", "sync", id, "--wait")
	contains("datasources sync", stderr, "last read: succeeded at ", ": 1 listed, ", " 0 failed")
	if !strings.Contains(stderr, ": 1 listed, 1 read, 0 unchanged, 0 failed") && !strings.Contains(stderr, ": 1 listed, 0 read, 1 unchanged, 0 failed") {
		t.Fatalf("datasources sync: the one file neither read nor unchanged:\n%s", stderr)
	}
	_, stderr = gh(0, "apps", "show", appID)
	contains("apps show after a broken file", stderr, " rejected at ",
		`    apps/payroll.csv, row 3, column "User Status": bad User Status "actv": use enabled (or active), disabled (or inactive, suspended) or deleted, or leave it empty`,
		`    apps/payroll.csv, row 4, column "Entitlement": empty "Entitlement": every grant needs Resource Type, Resource Name, Entitlement and User ID`,
		"nothing was applied: the application keeps its last good data", "  now: app_resource 4, app_user 5, entitlements 4, grants 6, people 5")

	// Removing half the grants: held, with the command that decides it; approve applies it.
	e.upload(payrollV3)
	gh(0, "datasources", "sync", id, "--wait")
	shown, stderr := gh(0, "apps", "show", appID)
	run := shown["last_import"].(map[string]any)["id"].(string)
	contains("apps show of a held run", stderr, " held at ", "the import removes 3 of the application's 6 grants (50%), more than its threshold of 20%",
		"decide it: gatehouse apps approve "+appID+" "+run+" (or reject)")
	dec, stderr := gh(0, "apps", "approve", appID, run)
	contains("apps approve", stderr, run+" applied at ", ": 6 grants before, 0 added, 3 removed, decided by alice@example.com")
	if dec["state"] != "applied" {
		t.Fatalf("approve JSON line: %v", dec)
	}
	if _, stderr, code := runCLI(t, env, "", "apps", "reject", appID, run); code != 1 || !strings.Contains(stderr, "gatehouse: not possible now: run "+run+" is applied, only a held run can be rejected") {
		t.Fatalf("reject an applied run: exit %d\n%s", code, stderr)
	}

	_, out := gh(0, "apps", "list")
	contains("apps list", out, "ID", "LAST IMPORT", "aws")
	if !strings.Contains(out, "\n"+appID+"  Payroll  ") {
		t.Fatalf("apps list has no row for %s:\n%s", appID, out)
	}
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, appID) && strings.Join(strings.Fields(l), " ") != appID+" Payroll file alice@example.com 3 applied" {
			t.Fatalf("apps list's row of Payroll: %q", l)
		}
	}
	_, out = gh(0, "datasources", "list")
	contains("datasources list", out, id, "HR exports", "s3://acme-access-exports/apps/", ext, "succeeded\n")
	stdout, _, _ := runCLI(t, env, "", "apps", "list", "--json")
	if n := strings.Count(strings.TrimSpace(stdout), "\n") + 1; n != 2 || !strings.Contains(stdout, `"id":"`+appID+`"`) {
		t.Fatalf("apps list --json: %d lines\n%s", n, stdout)
	}
}
