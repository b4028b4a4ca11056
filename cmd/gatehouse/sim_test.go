package main

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"sort"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/awssim"
)

func TestVersionAndHelp(t *testing.T) {
	out, _, err := runGatehouse(t, "version")
	if err != nil || !strings.HasPrefix(out, "gatehouse ") {
		t.Fatalf("gatehouse version = %q, %v", out, err)
	}
	out, _, err = runGatehouse(t, "--help")
	if err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{"sim", "version"} {
		if !strings.Contains(out, "\n  "+sub+" ") {
			t.Errorf("--help does not list %q:\n%s", sub, out)
		}
	}
}

func TestSimPrintsConnectionDetails(t *testing.T) {
	info := startSimCommand(t, "--preset", "demo", "--latency", "0", "--jitter", "0")
	if !strings.HasPrefix(info.Endpoint, "http://127.0.0.1:") || info.Region != "us-east-1" ||
		info.AccessKeyID == "" || info.SecretAccessKey == "" || !strings.HasSuffix(info.RoleARN, ":role/GatehouseConnector") ||
		info.ExternalID == "" || !strings.HasPrefix(info.InstanceARN, "arn:aws:sso:::instance/ssoins-") ||
		!strings.HasPrefix(info.IdentityStoreID, "d-") || !strings.HasSuffix(info.SCIMEndpoint, "/scim/v2/") || info.SCIMToken == "" {
		t.Errorf("connection details incomplete: %+v", info)
	}
	// The admin endpoints answer only with the admin token printed in the line.
	get := func(auth string) int {
		req, _ := http.NewRequest(http.MethodGet, info.Endpoint+"/_sim/info", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if len(info.AdminToken) != 64 {
		t.Errorf("admin_token = %q, want 64 hex characters", info.AdminToken)
	}
	if got := get(""); got != http.StatusUnauthorized {
		t.Errorf("GET /_sim/info without the admin token: %d, want 401", got)
	}
	if got := get("Bearer " + info.AdminToken); got != http.StatusOK {
		t.Errorf("GET /_sim/info with the admin token: %d, want 200", got)
	}
}

func TestSimRejectsBadFlags(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"sim", "--fault-rate", "2"}, "gatehouse: --fault-rate must be between 0 and 1, got 2\n"},
		{[]string{"sim", "--preset", "huge"}, `gatehouse: unknown preset "huge"`},
		{[]string{"sim", "--fixture", "/nonexistent.yaml"}, "gatehouse: "},
		{[]string{"sim", "--preset", "demo", "--fixture", "x.yaml"}, "gatehouse: use either --preset or --fixture, not both\n"},
		{[]string{"sim", "--provisioning", "--read-only"}, "gatehouse: use either --provisioning or --read-only, not both\n"},
	}
	for _, c := range cases {
		_, stderr, err := runGatehouse(t, c.args...)
		if err == nil {
			t.Errorf("gatehouse %v succeeded, want an error", c.args)
			continue
		}
		if !strings.HasPrefix(stderr, c.want) {
			t.Errorf("gatehouse %v: stderr = %q, want prefix %q", c.args, stderr, c.want)
		}
	}
}

// TestAWSCLI drives `gatehouse sim` with the real AWS CLI (Debian's awscli; scripts/test.sh
// installs it and sets GATEHOUSE_AWS_CLI): it assumes the connector role with the External
// ID, then lists IAM users, Organizations accounts and Identity Store users.
func TestAWSCLI(t *testing.T) {
	awsCLI := os.Getenv("GATEHOUSE_AWS_CLI")
	if awsCLI == "" {
		t.Skip("GATEHOUSE_AWS_CLI is not set; scripts/test.sh installs the AWS CLI and sets it")
	}
	info := startSimCommand(t, "--preset", "demo", "--latency", "0", "--jitter", "0")
	env := func(akid, secret, token string) []string {
		e := []string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH"), "AWS_DEFAULT_REGION=" + info.Region,
			"AWS_ACCESS_KEY_ID=" + akid, "AWS_SECRET_ACCESS_KEY=" + secret, "AWS_PAGER=", "AWS_EC2_METADATA_DISABLED=true"}
		if token != "" {
			e = append(e, "AWS_SESSION_TOKEN="+token)
		}
		return e
	}
	run := func(environ []string, args ...string) map[string]any {
		t.Helper()
		cmd := exec.Command(awsCLI, append([]string{"--endpoint-url", info.Endpoint, "--output", "json"}, args...)...)
		cmd.Env = environ
		out, err := cmd.Output()
		if err != nil {
			stderr := ""
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = string(ee.Stderr)
			}
			t.Fatalf("aws %v: %v\n%s", args, err, stderr)
		}
		var v map[string]any
		if err := json.Unmarshal(out, &v); err != nil {
			t.Fatalf("aws %v printed %q: %v", args, out, err)
		}
		return v
	}

	op := env(info.AccessKeyID, info.SecretAccessKey, "")
	assumed := run(op, "sts", "assume-role", "--role-arn", info.RoleARN, "--role-session-name", "cli", "--external-id", info.ExternalID)
	creds := assumed["Credentials"].(map[string]any)
	conn := env(creds["AccessKeyId"].(string), creds["SecretAccessKey"].(string), creds["SessionToken"].(string))

	who := run(conn, "sts", "get-caller-identity")
	if !strings.Contains(who["Arn"].(string), ":assumed-role/GatehouseConnector/cli") {
		t.Errorf("caller = %v", who["Arn"])
	}
	// The same world the command serves (demo preset, seed 1), read directly.
	want, err := awssim.Preset("demo", 1)
	if err != nil {
		t.Fatal(err)
	}
	var wantUsers, wantAccounts, wantSSOUsers []string
	for _, name := range sortedNames(want.ManagementAccount().Users) {
		wantUsers = append(wantUsers, name)
	}
	wantAccounts = want.AccountIDs()
	if len(wantUsers) == 0 || len(wantAccounts) < 2 || len(want.SSO.Users) == 0 {
		t.Fatal("the demo preset should have IAM users, several accounts and Identity Center users")
	}
	for _, u := range want.SSO.Users {
		wantSSOUsers = append(wantSSOUsers, u.UserName)
	}

	if got := jsonField(run(conn, "iam", "list-users")["Users"], "UserName"); !equalSorted(got, wantUsers) {
		t.Errorf("aws iam list-users = %v, want %v", got, wantUsers)
	}
	if got := jsonField(run(conn, "organizations", "list-accounts")["Accounts"], "Id"); !equalSorted(got, wantAccounts) {
		t.Errorf("aws organizations list-accounts = %v, want %v", got, wantAccounts)
	}
	if got := jsonField(run(conn, "identitystore", "list-users", "--identity-store-id", info.IdentityStoreID)["Users"], "UserName"); !equalSorted(got, wantSSOUsers) {
		t.Errorf("aws identitystore list-users = %v, want %v", got, wantSSOUsers)
	}
}

// jsonField collects one string field of every object in a JSON list.
func jsonField(list any, name string) []string {
	var out []string
	items, _ := list.([]any)
	for _, it := range items {
		if m, ok := it.(map[string]any); ok {
			if v, ok := m[name].(string); ok {
				out = append(out, v)
			}
		}
	}
	return out
}

func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func equalSorted(a, b []string) bool {
	a, b = append([]string(nil), a...), append([]string(nil), b...)
	sort.Strings(a)
	sort.Strings(b)
	return strings.Join(a, "\n") == strings.Join(b, "\n") && len(a) == len(b)
}
