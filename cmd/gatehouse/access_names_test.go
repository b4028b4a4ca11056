package main

import (
	"strings"
	"testing"
)

// gatehouse access request finds the account by name or id and the permission set by name
// (any case) in the caller's catalog, and says what there is when a name is not in it.
func TestAccessCLIRequestByNames(t *testing.T) {
	s := newCLIServer(t)
	s.syncNow(t)
	as := func(who string) []string {
		return cliEnv(t, "GATEHOUSE_SERVER="+s.url, "GATEHOUSE_TOKEN="+s.tok[who])
	}
	stdout, stderr, code := runCLI(t, as("bob"), "", "access", "request", "--account", "prod", "--permission-set", "administratoraccess", "--for", "1h", "--reason", "incident 4711")
	if code != 0 || requestLine(t, stdout)["entitlement_id"] != s.ent["AdministratorAccess"] {
		t.Fatalf("request by names: exit %d\n%s%s", code, stdout, stderr)
	}
	stdout, stderr, code = runCLI(t, as("bob"), "", "access", "request", "--account", s.prod, "--permission-set", "ReadOnly", "--reason", "logs")
	if code != 0 || requestLine(t, stdout)["entitlement_id"] != s.ent["ReadOnly"] {
		t.Fatalf("request by account id: exit %d\n%s%s", code, stdout, stderr)
	}
	// Names that are not in the catalog: say what there is.
	if _, stderr, code := runCLI(t, as("bob"), "", "access", "request", "--account", "prdo", "--permission-set", "AdministratorAccess"); code != 1 ||
		!strings.Contains(stderr, `no account "prdo" in your catalog; you may request access on: `) || !strings.Contains(stderr, "prod ("+s.prod+")") {
		t.Errorf("unknown account: exit %d\n%s", code, stderr)
	}
	if _, stderr, code := runCLI(t, as("bob"), "", "access", "request", "--account", "prod", "--permission-set", "Root"); code != 1 ||
		!strings.Contains(stderr, `no permission set "Root" you may request on prod; you may request: `) || !strings.Contains(stderr, "AdministratorAccess") {
		t.Errorf("unknown permission set: exit %d\n%s", code, stderr)
	}

}
