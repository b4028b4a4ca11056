package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
