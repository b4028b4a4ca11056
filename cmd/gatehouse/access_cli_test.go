package main

import (
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/awssim"
	"github.com/gatehouse/gatehouse/internal/server"
)

// cliServer is a real Gatehouse server on 127.0.0.1 for the CLI's commands: the demo
// organization on the simulator, alice an admin, carol an auditor, bob and dave people
// with Identity Center users; tok holds an API token of each.
type cliServer struct {
	url  string
	srv  *server.Server
	tok  map[string]string
	prod string
	// ent are the entitlement ids of the permission sets on prod, by name.
	ent map[string]string
}

func newCLIServer(t *testing.T) *cliServer {
	t.Helper()
	w, err := awssim.Preset("demo", 1)
	if err != nil {
		t.Fatal(err)
	}
	s := &cliServer{tok: map[string]string{}, ent: map[string]string{}}
	for _, a := range w.Accounts {
		if a.Name == "prod" {
			s.prod = a.ID
		}
	}
	for _, ps := range w.SSO.PermissionSets {
		s.ent[ps.Name] = "account:" + s.prod + ":" + ps.ARN[strings.LastIndex(ps.ARN, "/")+1:]
	}
	sim := awssim.New(w, awssim.Options{})
	if _, err := sim.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	info := sim.Info()
	admins, auditors := []string{"alice@example.com"}, []string{"carol@example.com"}
	srv, err := server.New(context.Background(), server.Config{
		DataDir: t.TempDir(), SecretKey: "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", KeepSyncs: 3, SyncSchedule: time.Hour,
		Admins: admins, Auditors: auditors,
		Connections: []server.Connection{{
			ID: "aws", EndpointURL: info.Endpoint, Region: info.Region, RoleARN: info.RoleARN, ExternalID: info.ExternalID,
			Orgs: true, MemberRoleName: info.MemberRoleName, IdentityCenter: true,
			AccessKeyID: info.AccessKeyID, SecretAccessKey: info.SecretAccessKey,
		}},
	}, zaptest.NewLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		hs.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	s.url, s.srv = hs.URL, srv
	roles := auth.RolesFromConfig(admins, auditors)
	for _, who := range []string{"alice", "bob", "carol", "dave"} {
		email := who + "@example.com"
		secret, _, err := auth.CreateToken(context.Background(), srv.App.Store, auth.NewToken{Email: email, Name: "cli test", Roles: roles[email], Actor: "test"})
		if err != nil {
			t.Fatal(err)
		}
		s.tok[who] = secret
	}
	return s
}

// cliEnv is an environment with its own config directory (for gatehouse login) and the
// given extra variables, and nothing else of the test's environment.
func cliEnv(t *testing.T, extra ...string) []string {
	t.Helper()
	home := t.TempDir()
	return append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, "config")}, extra...)
}

// runCLI runs the real binary with env and stdin.
func runCLI(t *testing.T, env []string, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(gatehouseBin, args...)
	cmd.Env = env
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut stringsBuilder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errOut.String(), code
}

// gatehouse login checks the token with the server before saving it (0600, in the user's
// config directory); the saved token is used without GATEHOUSE_TOKEN and sent only to the
// server it was saved for; a refused token, an unreachable server and a missing server or
// token each say what to do.
func TestAccessCLILoginAndErrors(t *testing.T) {
	s := newCLIServer(t)
	env := cliEnv(t)
	loginFile := filepath.Join(strings.TrimPrefix(env[2], "XDG_CONFIG_HOME="), "gatehouse", "login.json")

	// A bad token: 401 said plainly, nothing saved.
	_, stderr, code := runCLI(t, env, "ght_not_a_real_token\n", "login", "--server", s.url)
	if code != 1 || !strings.Contains(stderr, "gatehouse: nothing saved: the server "+s.url+" did not accept the API token") ||
		!strings.Contains(stderr, "gatehouse login --server "+s.url+" again") {
		t.Errorf("login with a bad token: exit %d\n%s", code, stderr)
	}
	if _, err := os.Stat(loginFile); !os.IsNotExist(err) {
		t.Errorf("a refused token was saved: %v", err)
	}
	if _, stderr, code = runCLI(t, env, "", "login", "--server", s.url); code != 1 || !strings.Contains(stderr, "no token on stdin") {
		t.Errorf("login without a token: exit %d\n%s", code, stderr)
	}
	if _, stderr, code = runCLI(t, env, "x\n", "login", "--server", "gatehouse.example.com"); code != 1 || !strings.Contains(stderr, "the server must be a URL such as https://gatehouse.example.com") {
		t.Errorf("login to a server that is no URL: exit %d\n%s", code, stderr)
	}

	// Before login: no server, then no token.
	if _, stderr, code = runCLI(t, env, "", "access", "list"); code != 1 || !strings.Contains(stderr, "which Gatehouse server? Give --server URL, set GATEHOUSE_SERVER, or save one with gatehouse login --server URL") {
		t.Errorf("list without a server: exit %d\n%s", code, stderr)
	}
	if _, stderr, code = runCLI(t, append(env, "GATEHOUSE_SERVER="+s.url), "", "access", "list"); code != 1 || !strings.Contains(stderr, "no API token for "+s.url+": set GATEHOUSE_TOKEN, or save one with gatehouse login --server "+s.url) {
		t.Errorf("list without a token: exit %d\n%s", code, stderr)
	}

	// A good token: saved 0600 with the server.
	_, stderr, code = runCLI(t, env, s.tok["bob"]+"\n", "login", "--server", s.url+"/")
	if code != 0 || !strings.Contains(stderr, "signed in to "+s.url+" as bob@example.com (no roles); the token is saved in "+loginFile) {
		t.Fatalf("login: exit %d\n%s", code, stderr)
	}
	fi, err := os.Stat(loginFile)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("login file: %v %v, want mode 0600", fi, err)
	}
	saved, _ := os.ReadFile(loginFile)
	if !strings.Contains(string(saved), s.tok["bob"]) || !strings.Contains(string(saved), `"server": "`+s.url+`"`) {
		t.Errorf("login file = %s", saved)
	}

	// The saved server and token work with no flag and no variable: rules export is the
	// auditors', so bob is refused (403, said plainly) — with his own token.
	if _, stderr, code = runCLI(t, env, "", "rules", "export"); code != 1 || !strings.Contains(stderr, "gatehouse: not allowed: this needs the auditor role") {
		t.Errorf("rules export as bob (saved login): exit %d\n%s", code, stderr)
	}
	// GATEHOUSE_TOKEN wins over the saved token.
	if out, stderr, code := runCLI(t, append(env, "GATEHOUSE_TOKEN="+s.tok["carol"]), "", "rules", "export"); code != 0 || !strings.Contains(out, "accounts-everyone") {
		t.Errorf("rules export as carol (GATEHOUSE_TOKEN): exit %d\n%s%s", code, out, stderr)
	}

	// The saved token is never sent to another server.
	other := httptest.NewServer(nil)
	defer other.Close()
	if _, stderr, code = runCLI(t, env, "", "access", "list", "--server", other.URL); code != 1 || !strings.Contains(stderr, "no API token for "+other.URL+" (the login in "+loginFile+" is for "+s.url+")") {
		t.Errorf("list against another server: exit %d\n%s", code, stderr)
	}

	// An unreachable server.
	dead := httptest.NewServer(nil)
	deadURL := dead.URL
	dead.Close()
	if _, stderr, code = runCLI(t, append(env, "GATEHOUSE_TOKEN=x"), "", "access", "approve", "req_x", "--server", deadURL); code != 1 ||
		!strings.Contains(stderr, "gatehouse: cannot reach the Gatehouse server at "+deadURL) || !strings.Contains(stderr, "is it running, and is --server (or GATEHOUSE_SERVER) right?") {
		t.Errorf("approve against a dead server: exit %d\n%s", code, stderr)
	}

	// Bad input is refused before anything is sent.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"access", "request"}, "say what to request: --account ACCOUNT --permission-set NAME, or --entitlement ID"},
		{[]string{"access", "request", "--entitlement", "x", "--account", "prod"}, "give either --entitlement, or --account with --permission-set, not both"},
		{[]string{"access", "extend", "req_x"}, "say how much more time with --for, e.g. --for 30m"},
		{[]string{"access", "revoke", "req_x"}, "say why with --reason"},
		{[]string{"access", "list", "--to-approve", "--all"}, "give --to-approve or --all, not both"},
		{[]string{"rules", "apply"}, "give the rules document with -f FILE"},
	} {
		if _, stderr, code := runCLI(t, env, "", c.args...); code != 1 || !strings.Contains(stderr, c.want) {
			t.Errorf("gatehouse %s: exit %d\n%s", strings.Join(c.args, " "), code, stderr)
		}
	}
}
