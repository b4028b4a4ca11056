package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/viper"

	"github.com/gatehouse/gatehouse/internal/awssim"
	"github.com/gatehouse/gatehouse/internal/connector"
)

// connectorViper is the configuration baton's runner hands the connector for a sync
// against the simulator; the credentials come from the standard chain (the environment).
func connectorViper(t *testing.T, info awssim.Info, orgs bool) *viper.Viper {
	t.Helper()
	for _, kv := range syncEnv(t, info) {
		k, v, _ := strings.Cut(kv, "=")
		if k != "PATH" {
			t.Setenv(k, v)
		}
	}
	v := viper.New()
	v.Set("endpoint-url", info.Endpoint)
	v.Set("region", info.Region)
	v.Set("role-arn", info.RoleARN)
	v.Set("external-id", info.ExternalID)
	v.Set("orgs", orgs)
	v.Set("member-role-name", awssim.DefaultMemberRoleName)
	return v
}

// A connector in service mode serves one sync task after another from the same process:
// each must see AWS as it is when the task runs. Two syncs through one connector, with a
// user added in between, both go through baton's syncer (which starts each sync with
// Validate, as in service mode).
func TestConnectorFetchesAfreshForEverySync(t *testing.T) {
	s, info := fixtureSim(t, "unassumable-account.yaml", awssim.Options{})
	// Only the healthy accounts: the sandbox and restricted accounts are fixed.
	s.Do(func(w *awssim.World) {
		w.Accounts["444444444444"].DenyAll = false
		w.AddMemberAccessRole(w.Accounts["333333333333"], "")
	})
	c, err := newGatehouseConnector(connectorViper(t, info, true))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	dir := t.TempDir()
	first := filepath.Join(dir, "first.c1z")
	if _, err := connector.WriteC1Z(ctx, c, first); err != nil {
		t.Fatalf("first sync: %v", err)
	}
	const newUser = "resource iam_user:arn:aws:iam::222222222222:user/grace name=grace"
	if strings.Contains(dumpC1Z(t, first), newUser) {
		t.Fatal("the fixture already has grace")
	}
	describes := func() int64 { return s.Counters().Calls("organizations", "DescribeOrganization") }
	if n := describes(); n != 1 {
		t.Errorf("the first sync fetched %d times, want once", n)
	}

	s.Do(func(w *awssim.World) { w.Accounts["222222222222"].AddUser(w, "grace", "/") })
	second := filepath.Join(dir, "second.c1z")
	if _, err := connector.WriteC1Z(ctx, c, second); err != nil {
		t.Fatalf("second sync: %v", err)
	}
	if !strings.Contains(dumpC1Z(t, second), newUser) {
		t.Errorf("the second sync through the same connector lacks the user added after the first:\n%s", dumpC1Z(t, second))
	}
	if n := describes(); n != 2 {
		t.Errorf("two syncs fetched %d times, want twice", n)
	}
}

// gatehouse connector fails a partial sync unless --allow-partial: the previous file is
// kept, and the log names every skipped account with its reason.
func TestConnectorPartialSync(t *testing.T) {
	_, info := fixtureSim(t, "unassumable-account.yaml", awssim.Options{})
	file := filepath.Join(t.TempDir(), "org.c1z")
	run := func(args ...string) (string, error) {
		base := append([]string{"connector", "-f", file, "--orgs"}, connectionArgs(info)...)
		_, stderr, err := runGatehouseEnv(t, syncEnv(t, info), append(base, args...)...)
		return stderr, err
	}
	stderr, err := run("--allow-partial")
	if err != nil {
		t.Fatalf("gatehouse connector --allow-partial: %v\n%s", err, stderr)
	}
	for _, want := range []string{
		`"msg":"account not synced","account":"333333333333","name":"sandbox","reason":"` + assumeCauses + `","aws_error":"AccessDenied: User: arn:aws:sts::111111111111:assumed-role/GatehouseConnector/gatehouse-sync is not authorized to perform: sts:AssumeRole`,
		`"msg":"account not synced","account":"444444444444","name":"restricted","reason":"` + strings.ReplaceAll(deniedCauses, "'", `'`) + `"`,
		`"msg":"account not synced","account":"555555555555","name":"legacy","reason":"the account is SUSPENDED"`,
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("the connector's log lacks %s:\n%s", want, stderr)
		}
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the connector's .c1z: %v %v, want mode -rw-------", fi.Mode(), err)
	}
	if !strings.Contains(dumpC1Z(t, file), "resource iam_user:arn:aws:iam::222222222222:user/dave") {
		t.Fatal("the partial file lacks the readable accounts' IAM")
	}
	before, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}

	stderr, err = run()
	if err == nil {
		t.Fatalf("a partial sync through gatehouse connector succeeded:\n%s", stderr)
	}
	const want = "partial sync: 2 of 5 accounts could not be read (333333333333, 444444444444); the sync fails so that the previous data is kept: fix these accounts (the log says what to check in each) or run with --allow-partial"
	if !strings.Contains(stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, stderr)
	}
	if after, err := os.ReadFile(file); err != nil || string(after) != string(before) {
		t.Errorf("the failed partial sync changed %s (err %v, %d bytes before, %d after)", file, err, len(before), len(after))
	}
}

// gatehouse connector's one-shot provisioning names the entitlement, principal or grant
// it cannot find in the .c1z (not baton's bare "pebble: not found"), and leaves nothing in
// the temporary directory, also when AWS refuses the change.
func TestConnectorProvisioningErrors(t *testing.T) {
	s, info := fixtureSim(t, "provisioning.yaml", awssim.Options{AssignmentDelay: 200 * time.Millisecond})
	id := idsOf(s)
	dir := t.TempDir()
	file := filepath.Join(dir, "org.c1z")
	if _, stderr, err := runSync(t, info, file, "--orgs", "--identity-center"); err != nil {
		t.Fatalf("sync: %v\n%s", err, stderr)
	}
	tmp := t.TempDir()
	env := append(syncEnv(t, info), "TMPDIR="+tmp)
	connector := func(args ...string) (string, error) {
		base := append([]string{"connector", "-f", file, "--orgs", "--identity-center"}, connectionArgs(info)...)
		_, stderr, err := runGatehouseEnv(t, env, append(base, args...)...)
		return stderr, err
	}
	admin := "account:333333333333:" + id.ps["AdministratorAccess"]
	erin := id.user["erin"]
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--grant-entitlement", "account:333333333333:ps-0000000000000000", "--grant-principal", erin, "--grant-principal-type", "sso_user"},
			"gatehouse: --grant-entitlement account:333333333333:ps-0000000000000000: no such entitlement in " + file + " (gatehouse inspect --file " + file + " entitlements --type account lists them; sync again if it is new)"},
		{[]string{"--grant-entitlement", admin, "--grant-principal", "nobody", "--grant-principal-type", "sso_user"},
			"gatehouse: --grant-principal nobody: no sso_user with that id in " + file + " (gatehouse inspect --file " + file + " resources --type sso_user lists them; sync again if it is new)"},
		{[]string{"--revoke-grant", admin + ":sso_user:nobody"},
			"gatehouse: --revoke-grant " + admin + ":sso_user:nobody: no such grant in " + file + " (gatehouse inspect --file " + file + " grants --type account lists them; sync again if it is new)"},
		{[]string{"--grant-entitlement", admin, "--grant-principal", erin, "--grant-principal-type", "sso_user", "-f", filepath.Join(dir, "missing.c1z")},
			"gatehouse: -f " + filepath.Join(dir, "missing.c1z") + ": the .c1z to read the ids from is missing; write it with gatehouse sync --file " + filepath.Join(dir, "missing.c1z") + " (or gatehouse connector -f " + filepath.Join(dir, "missing.c1z") + ") first"},
	}
	for _, c := range cases {
		stderr, err := connector(c.args...)
		if got := errorLine(stderr); err == nil || got != c.want {
			t.Errorf("connector %v: %v\n got %s\nwant %s", c.args, err, got, c.want)
		}
		if strings.Contains(stderr, "pebble") {
			t.Errorf("connector %v: the storage engine's error reaches the user:\n%s", c.args, stderr)
		}
		if left := dirNames(t, tmp); len(left) > 0 {
			t.Errorf("connector %v left %v in the temporary directory", c.args, left)
		}
	}

	// AWS refuses the change: the runner fails after opening the file; nothing is left.
	s.Do(func(w *awssim.World) { w.ManagementAccount().DenyAll = true })
	stderr, err := connector("--grant-entitlement", admin, "--grant-principal", erin, "--grant-principal-type", "sso_user")
	if err == nil || !strings.Contains(errorLine(stderr), "AccessDenied") {
		t.Errorf("a denied grant: %v, %q; want an error saying AccessDenied", err, errorLine(stderr))
	}
	if left := dirNames(t, tmp); len(left) > 0 {
		t.Errorf("a denied grant left %v in the temporary directory", left)
	}
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}
