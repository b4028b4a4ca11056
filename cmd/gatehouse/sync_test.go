package main

import (
	"context"
	"errors"
	"flag"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/awssim"
	"github.com/gatehouse/gatehouse/internal/c1zread"
)

var update = flag.Bool("update", false, "rewrite the golden files of the sync tests")

// fixtureSim serves an awssim fixture on loopback for one test.
func fixtureSim(t *testing.T, fixture string, opts awssim.Options) (*awssim.Sim, awssim.Info) {
	t.Helper()
	w, err := awssim.LoadFixture(filepath.Join("..", "..", "internal", "awssim", "testdata", fixture))
	if err != nil {
		t.Fatal(err)
	}
	s := awssim.New(w, opts)
	if _, err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, s.Info()
}

// syncEnv is the environment of a `gatehouse sync` run against the simulator: the
// operator's key in the standard variables, nothing from the developer's own AWS setup.
func syncEnv(t *testing.T, info awssim.Info) []string {
	return []string{
		"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH"),
		"AWS_ACCESS_KEY_ID=" + info.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + info.SecretAccessKey,
		"AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
	}
}

// runSync runs `gatehouse sync` with the connection flags for info plus args.
func runSync(t *testing.T, info awssim.Info, file string, args ...string) (string, string, error) {
	t.Helper()
	base := []string{"sync", "--file", file, "--endpoint-url", info.Endpoint, "--region", info.Region,
		"--role-arn", info.RoleARN, "--external-id", info.ExternalID}
	return runGatehouseEnv(t, syncEnv(t, info), append(base, args...)...)
}

// openC1Z opens a .c1z for reading, failing the test if it cannot; the file is closed
// when the test ends.
func openC1Z(t *testing.T, path string) *c1zread.File {
	t.Helper()
	ctx := context.Background()
	f, err := c1zread.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close(ctx) })
	return f
}

// dumpC1Z renders a .c1z as sorted lines, one per resource, entitlement and grant, so two
// files can be compared and a file checked against a golden copy.
func dumpC1Z(t *testing.T, path string) string {
	t.Helper()
	ctx := context.Background()
	f := openC1Z(t, path)
	var lines []string
	rs, err := f.Resources(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		parent := "-"
		if p := r.GetParentResourceId(); p != nil {
			parent = p.GetResourceType() + ":" + p.GetResource()
		}
		lines = append(lines, "resource "+r.GetId().GetResourceType()+":"+r.GetId().GetResource()+" name="+r.GetDisplayName()+" parent="+parent)
		lines = append(lines, policyProfileLines(r)...)
	}
	es, err := f.Entitlements(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		lines = append(lines, "entitlement "+e.GetId()+" name="+e.GetDisplayName())
	}
	gs, err := f.Grants(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range gs {
		p := g.GetPrincipal().GetId()
		how := "direct"
		if srcs := g.GetSources().GetSources(); len(srcs) > 0 {
			var from []string
			for k := range srcs {
				if k != g.GetEntitlement().GetId() {
					from = append(from, k)
				}
			}
			sort.Strings(from)
			if len(from) > 0 {
				how = "via " + strings.Join(from, ",")
			}
		}
		lines = append(lines, "grant "+g.GetEntitlement().GetId()+" <- "+p.GetResourceType()+":"+p.GetResource()+" "+how)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n") + "\n"
}

// checkGolden compares got with testdata/sync/NAME.golden (rewritten with -update).
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "sync", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/gatehouse -run %s -update to create it)", err, t.Name())
	}
	if string(want) != got {
		t.Errorf("%s differs from the golden file %s:\n%s", name, path, lineDiff(string(want), got))
	}
}

// lineDiff lists the lines only in want (-) and only in got (+).
func lineDiff(want, got string) string {
	w, g := map[string]bool{}, map[string]bool{}
	for _, l := range strings.Split(want, "\n") {
		w[l] = true
	}
	for _, l := range strings.Split(got, "\n") {
		g[l] = true
	}
	var out []string
	for _, l := range strings.Split(want, "\n") {
		if !g[l] {
			out = append(out, "- "+l)
		}
	}
	for _, l := range strings.Split(got, "\n") {
		if !w[l] {
			out = append(out, "+ "+l)
		}
	}
	return strings.Join(out, "\n")
}

// The golden pins the resources, grants and the IAM users' and account's profiles. The
// profiles were checked by hand against internal/awssim/testdata/single-account.yaml
// (credential report generated 2025-12-31T22:00:00Z, sync at 2026-01-01T00:00:00Z):
//   - alice: console password last used 2025-12-31T09:30, a virtual device, her key's
//     last use 2025-12-31T10:00 (s3, us-east-1) from the report; last login = the later
//     of the two; active; source credential_report with the report's time.
//   - bob: console password never used, a virtual device and a FIDO key (ListMFADevices,
//     which the old code never called for a user with a virtual device), an active key
//     never used and an inactive one last used 2024-01-10 by sts; active.
//   - ci-deployer: a hardware token, no password, no key: inactive.
//   - dana: created 2025-12-31T23:00, after the report, so read with per-user calls
//     (source user_calls): password last used 23:30, a FIDO key, her key created 23:05
//     last used 23:40 (sts, us-east-1) from GetAccessKeyLastUsed; active.
//   - gatehouse-operator: created at now, after the report: no password, no MFA, its key
//     last used at now by this very sync (sts); active.
//   - the account: the report's time, the root user without MFA or keys.
func TestSyncSingleAccountWithoutOrganizations(t *testing.T) {
	_, info := fixtureSim(t, "single-account.yaml", awssim.Options{Now: fixtureClock})
	file := filepath.Join(t.TempDir(), "acme.c1z")
	w := syncWindow{start: time.Now()}
	stdout, stderr, err := runSync(t, info, file, "--sync-secrets")
	w.end = time.Now()
	if err != nil {
		t.Fatalf("gatehouse sync: %v\n%s", err, stderr)
	}
	// "failed 0": GetLoginProfile's NoSuchEntity for gatehouse-operator (created after the
	// report, no password) is an answer, not a failed call.
	for _, want := range []string{"Synced 1 of 1 accounts", "iam_user                     5", "access_key                   5", ", failed 0) in ",
		"IAM credential report generated 2025-12-31 22:00:00 UTC; password and access key use is as of then; 2 users created since were read with per-user calls\n"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, stdout)
		}
	}
	checkGolden(t, "single-account", dumpC1Z(t, file)+dumpProfiles(t, file, w))
}

// The profiles in the golden were checked by hand against
// internal/awssim/testdata/org-identity-center.yaml. The credential reports are generated
// during the sync, at the frozen fixture clock 2026-01-01T00:00:00Z, so every user is in
// them (credentials_source credential_report, report time 00:00:00):
//   - alice (111111111111): console password last used 2025-12-30T08:00, a virtual MFA
//     device, no key: active, last login = her password's use.
//   - deploy-bot (333333333333): no password, one active key (created at now, so age 0)
//     last used 2025-12-31T12:00 by s3 in the fixture's region: active.
//   - gatehouse-operator: its key used by this sync at 00:00:00 (sts).
//   - the four accounts: report time, root without MFA or keys.
func TestSyncOrganizationWithIdentityCenter(t *testing.T) {
	_, info := fixtureSim(t, "org-identity-center.yaml", awssim.Options{Now: fixtureClock})
	file := filepath.Join(t.TempDir(), "org.c1z")
	w := syncWindow{start: time.Now()}
	stdout, stderr, err := runSync(t, info, file, "--orgs", "--identity-center", "--identity-center-region", info.IdentityCenterRegion,
		"--scim-endpoint", info.SCIMEndpoint, "--scim-token", info.SCIMToken)
	w.end = time.Now()
	if err != nil {
		t.Fatalf("gatehouse sync: %v\n%s", err, stderr)
	}
	for _, want := range []string{"Synced 4 of 4 accounts", "Identity Center users: 2 enabled, 1 disabled, 0 status unknown\n"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, stdout)
		}
	}
	// User status (golden's status lines), checked against the fixture: alice and bob
	// active, erin active: false; all from the Identity Store API's UserStatus.
	checkGolden(t, "org-identity-center", dumpC1Z(t, file)+dumpProfiles(t, file, w)+dumpUserStatus(t, file))
}

// A wrong or expired SCIM token does not fail the sync: the summary says whose status
// is unknown, why and what to do. (NoUserStatus: the status is only in SCIM.)
func TestSyncSCIMTokenRejected(t *testing.T) {
	_, info := fixtureSim(t, "org-identity-center.yaml", awssim.Options{NoUserStatus: true})
	file := filepath.Join(t.TempDir(), "org.c1z")
	stdout, stderr, err := runSync(t, info, file, "--orgs", "--identity-center", "--identity-center-region", info.IdentityCenterRegion,
		"--scim-endpoint", info.SCIMEndpoint, "--scim-token", "expired-token")
	if err != nil {
		t.Fatalf("gatehouse sync failed on a rejected SCIM token: %v\n%s", err, stderr)
	}
	for _, want := range []string{
		"Synced 4 of 4 accounts",
		"Identity Center users: 0 enabled, 0 disabled, 3 status unknown\n",
		"  status unknown for 3 of 3 users: SCIM token rejected (401): create a new token in Identity Center > Settings > Automatic provisioning (tokens expire after a year) and pass it with --scim-token or GATEHOUSE_SCIM_TOKEN\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout+stderr, "expired-token") {
		t.Error("the token is printed")
	}
	// Each user: unknown, not disabled, with the reason in the file.
	status := dumpUserStatus(t, file)
	if n := strings.Count(status, " UNSPECIFIED profile=unknown source=none detail=unknown: SCIM token rejected (401): create a new token"); n != 3 {
		t.Errorf("%d users unknown with the reason, want 3:\n%s", n, status)
	}
}

// An unreachable SCIM endpoint fails fast, as an unreachable AWS endpoint does: SCIM is
// optional data, so a closed port leaves the users' status unknown with the cause within
// seconds (three quick attempts, not ten with backoff of up to 20 s), and the sync
// succeeds. (NoUserStatus: the status is only in SCIM.)
func TestSyncSCIMEndpointUnreachable(t *testing.T) {
	// Port 1 is outside the ephemeral range, so no other test's server takes it.
	const closed = "127.0.0.1:1"
	if c, err := net.Dial("tcp", closed); err == nil {
		c.Close()
		t.Fatalf("something listens on %s", closed)
	}
	_, info := fixtureSim(t, "org-identity-center.yaml", awssim.Options{NoUserStatus: true})
	file := filepath.Join(t.TempDir(), "org.c1z")
	started := time.Now()
	stdout, stderr, err := runSync(t, info, file, "--orgs", "--identity-center", "--identity-center-region", info.IdentityCenterRegion,
		"--scim-endpoint", "http://"+closed+"/scim/v2/", "--scim-token", info.SCIMToken)
	took := time.Since(started)
	if err != nil {
		t.Fatalf("gatehouse sync failed on an unreachable SCIM endpoint: %v\n%s", err, stderr)
	}
	reason := "SCIM endpoint unreachable: connection refused to " + closed + " (nothing listens there), calling http://" + closed + "/scim/v2/Users?count=100&cursor= (after 3 attempts)"
	for _, want := range []string{
		"Synced 4 of 4 accounts",
		"Identity Center users: 0 enabled, 0 disabled, 3 status unknown\n",
		"  status unknown for 3 of 3 users: " + reason + "\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, stdout)
		}
	}
	if n := strings.Count(dumpUserStatus(t, file), " UNSPECIFIED profile=unknown source=none detail=unknown: "+reason+"\n"); n != 3 {
		t.Errorf("%d users unknown with the cause, want 3:\n%s", n, dumpUserStatus(t, file))
	}
	// The whole sync, not only the SCIM part, within 10 s even on a busy machine.
	if took > 10*time.Second {
		t.Errorf("the sync took %s, want a few seconds", took.Round(time.Millisecond))
	}
}

// The causes of a member account that cannot be entered or read, as the sync prints them.
const (
	assumeCauses = "cannot assume role GatehouseMember; likely causes, in order: the role is missing in this account, its trust policy does not trust arn:aws:iam::111111111111:role/GatehouseConnector, the External ID does not match (--member-external-id), an SCP denies sts:AssumeRole"
	deniedCauses = "iam:GetAccountAuthorizationDetails denied to role GatehouseMember; likely causes, in order: the role's policy lacks the action (see docs/setup.md), an SCP or a permissions boundary denies it"
)

// The profiles in the golden were checked by hand against
// internal/awssim/testdata/unassumable-account.yaml: dave has a console password never
// used and nothing else (active, no MFA); the operator's key was used by this sync; only
// the two synced accounts have a profile line, with the report generated at the frozen
// fixture clock.
func TestSyncSkipsAccountsThatCannotBeSynced(t *testing.T) {
	_, info := fixtureSim(t, "unassumable-account.yaml", awssim.Options{Now: fixtureClock})
	file := filepath.Join(t.TempDir(), "org.c1z")
	w := syncWindow{start: time.Now()}
	stdout, stderr, err := runSync(t, info, file, "--orgs", "--allow-partial")
	w.end = time.Now()
	if err != nil {
		t.Fatalf("gatehouse sync: %v\n%s", err, stderr)
	}
	for _, want := range []string{
		"Synced 2 of 5 accounts",
		"Accounts not synced (3)\n" +
			"  333333333333 sandbox          " + assumeCauses + "\n" +
			"  444444444444 restricted       " + deniedCauses + "\n" +
			"  555555555555 legacy           the account is SUSPENDED\n" +
			"  This file is partial: the IAM of 2 ACTIVE account(s) above is missing from it.\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, stdout)
		}
	}
	checkGolden(t, "unassumable-account", dumpC1Z(t, file)+dumpProfiles(t, file, w))
}

// A sync in which an ACTIVE account could not be read is partial: by default it exits 3,
// keeps the previous file byte for byte and says which accounts and what to check;
// --verbose adds what AWS answered. A suspended account alone does not make it partial.
func TestSyncPartialKeepsThePreviousFile(t *testing.T) {
	s, info := fixtureSim(t, "unassumable-account.yaml", awssim.Options{})
	dir := t.TempDir()
	file := filepath.Join(dir, "org.c1z")
	if _, stderr, err := runSync(t, info, file, "--orgs", "--allow-partial"); err != nil {
		t.Fatalf("gatehouse sync --allow-partial: %v\n%s", err, stderr)
	}
	before, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(file)
	if st.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want -rw------- (it holds the inventory)", file, st.Mode())
	}

	stdout, stderr, err := runSync(t, info, file, "--orgs")
	if code := exitCode(err); code != 3 {
		t.Fatalf("partial sync: exit status %d (%v), want 3\n%s", code, err, stderr)
	}
	want := "gatehouse: partial sync: 2 of 5 accounts could not be read; " + file + " was left as it was\n" +
		"  333333333333 sandbox          " + assumeCauses + "\n" +
		"  444444444444 restricted       " + deniedCauses + "\n" +
		"Fix each account and sync again, or pass --allow-partial to write the file without their IAM. --verbose shows what AWS answered.\n"
	if stderr != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", stderr, want)
	}
	if stdout != "" {
		t.Errorf("a partial sync printed a summary:\n%s", stdout)
	}
	after, err := os.ReadFile(file)
	if err != nil || string(after) != string(before) {
		t.Errorf("the previous file changed (err %v, %d bytes before, %d after)", err, len(before), len(after))
	}
	if st2, _ := os.Stat(file); !st2.ModTime().Equal(st.ModTime()) {
		t.Errorf("the previous file was rewritten (modified %s, was %s)", st2.ModTime(), st.ModTime())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("the directory holds %d entries after a partial sync, want only %s", len(entries), file)
	}

	// Without a previous file there is nothing to keep, and none is created.
	fresh := filepath.Join(t.TempDir(), "new.c1z")
	_, stderr, err = runSync(t, info, fresh, "--orgs")
	if code := exitCode(err); code != 3 {
		t.Fatalf("partial sync to a new file: exit status %d (%v), want 3\n%s", code, err, stderr)
	}
	if want := "gatehouse: partial sync: 2 of 5 accounts could not be read; " + fresh + " was not written\n"; !strings.HasPrefix(stderr, want) {
		t.Errorf("stderr:\n%s\nwant first line:\n%s", stderr, want)
	}
	if _, err := os.Stat(fresh); !os.IsNotExist(err) {
		t.Errorf("a partial sync created %s (%v)", fresh, err)
	}

	_, stderr, err = runSync(t, info, file, "--orgs", "--verbose")
	if code := exitCode(err); code != 3 {
		t.Fatalf("partial sync --verbose: exit status %d, want 3", code)
	}
	for _, want := range []string{
		"  333333333333 sandbox          " + assumeCauses + "\n      AWS: AccessDenied: User: arn:aws:sts::111111111111:assumed-role/GatehouseConnector/gatehouse-sync is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::333333333333:role/GatehouseMember. Gatehouse needs sts:AssumeRole",
		"  444444444444 restricted       " + deniedCauses + "\n      AWS: AccessDenied: User: arn:aws:sts::444444444444:assumed-role/GatehouseMember/gatehouse-sync is not authorized to perform: iam:GetAccountAuthorizationDetails",
		"without their IAM.\n",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("--verbose stderr lacks %q:\n%s", want, stderr)
		}
	}

	// Once the two accounts are fixed, only the suspended one is skipped: not partial.
	s.Do(func(w *awssim.World) {
		w.Accounts["444444444444"].DenyAll = false
		w.AddMemberAccessRole(w.Accounts["333333333333"], "")
	})
	stdout, stderr, err = runSync(t, info, file, "--orgs")
	if err != nil {
		t.Fatalf("sync with only a suspended account skipped: %v\n%s", err, stderr)
	}
	if !strings.Contains(stdout, "Synced 4 of 5 accounts") || !strings.Contains(stdout, "  555555555555 legacy           the account is SUSPENDED\n") || strings.Contains(stdout, "partial") {
		t.Errorf("summary:\n%s", stdout)
	}
}

// exitCode is the exit status of a finished command, 0 for no error, -1 if it did not run.
func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	return -1
}

func TestSyncHelpDocumentsExitStatus(t *testing.T) {
	stdout, _, err := runGatehouse(t, "sync", "--help")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Exit status: 0 the file was written; 3 partial sync, the file was left as it was;\n1 any other error, the file was left as it was.",
		"--allow-partial ",
		"--verbose ",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("gatehouse sync --help lacks %q:\n%s", want, stdout)
		}
	}
}

// Page size 1 on every call, and faults with halved quotas, must give the same file
// content as a clean run: nothing dropped, nothing duplicated.
func TestSyncSameContentUnderPagingFaultsAndThrottling(t *testing.T) {
	args := []string{"--orgs", "--identity-center", "--sync-secrets"}
	clean := func() string {
		_, info := fixtureSim(t, "org-identity-center.yaml", awssim.Options{})
		file := filepath.Join(t.TempDir(), "clean.c1z")
		if _, stderr, err := runSync(t, info, file, args...); err != nil {
			t.Fatalf("clean sync: %v\n%s", err, stderr)
		}
		return dumpC1Z(t, file)
	}()
	variants := map[string]awssim.Options{
		"page size 1": {PageSize: 1},
		"5% faults, halved quotas": {FaultRate: 0.05, Seed: 42, Quotas: awssim.DefaultQuotas().Scaled(0.5),
			AssignmentDelay: 10 * time.Millisecond, CredentialReportDelay: 50 * time.Millisecond},
	}
	for name, opts := range variants {
		t.Run(name, func(t *testing.T) {
			s, info := fixtureSim(t, "org-identity-center.yaml", opts)
			file := filepath.Join(t.TempDir(), "variant.c1z")
			if _, stderr, err := runSync(t, info, file, args...); err != nil {
				t.Fatalf("sync: %v\n%s", err, stderr)
			}
			if got := dumpC1Z(t, file); got != clean {
				t.Errorf("content differs from a clean run:\n%s", lineDiff(clean, got))
			}
			var faults, throttles int64
			for _, oc := range s.Counters().Snapshot() {
				faults += oc.Faults
				throttles += oc.Throttled
			}
			if opts.FaultRate > 0 && faults == 0 {
				t.Errorf("the simulator injected no faults; the test did not exercise retries")
			}
			t.Logf("%s: %d calls, %d faults, %d throttled", name, s.Counters().Total(), faults, throttles)
		})
	}
}

func TestSyncRejectsBadInput(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"sync"}, "gatehouse: --file is required: the .c1z file to write, e.g. --file org.c1z\n"},
		{[]string{"sync", "--file", "org.json"}, "gatehouse: --file \"org.json\" should end in .c1z (baton tools recognise the extension)\n"},
		{[]string{"sync", "--file", "o.c1z", "--external-id", "x"}, "gatehouse: --external-id is passed when assuming --role-arn; set --role-arn too\n"},
		{[]string{"sync", "--file", "o.c1z", "--scim-endpoint", "http://127.0.0.1:1/scim/v2/"}, "gatehouse: --scim-endpoint and --scim-token (or GATEHOUSE_SCIM_TOKEN) go together; set both or neither\n"},
	}
	for _, c := range cases {
		_, stderr, err := runGatehouseEnv(t, []string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH")}, c.args...)
		if err == nil || stderr != c.want {
			t.Errorf("gatehouse %v: err=%v stderr=%q, want %q", c.args, err, stderr, c.want)
		}
	}
}

// With --orgs, a connector role in a member account gets a message that says what to do.
func TestSyncOrgsFromAMemberAccount(t *testing.T) {
	s, info := fixtureSim(t, "org-identity-center.yaml", awssim.Options{})
	// Move the connector role into a member account: the prod account trusts the operator.
	s.Do(func(w *awssim.World) {
		prod := w.Accounts["333333333333"]
		role := prod.AddRole(w, "GatehouseConnector", "/", awssim.TrustPolicy("arn:aws:iam::111111111111:user/gatehouse-operator", info.ExternalID))
		role.InlinePolicies["read"] = awssim.ConnectorReadPolicy
		op := w.ManagementAccount().Users["gatehouse-operator"]
		op.InlinePolicies["AssumeGatehouseConnector"] = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}`
	})
	info.RoleARN = "arn:aws:iam::333333333333:role/GatehouseConnector"
	file := filepath.Join(t.TempDir(), "org.c1z")
	_, stderr, err := runSync(t, info, file, "--orgs")
	if err == nil {
		t.Fatal("sync with --orgs from a member account succeeded")
	}
	if !strings.Contains(stderr, "management account") || !strings.Contains(stderr, "333333333333") {
		t.Errorf("stderr = %q; want it to say the role must be in the management account", stderr)
	}
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Errorf("a failed sync left %s behind", file)
	}
}
