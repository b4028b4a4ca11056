package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// An admin applies rules with a break-glass rule through the CLI; bob takes break-glass
// access with --break-glass (approved at once, by himself, marked break_glass); dave, whom
// the rule leaves out, is refused saying why; alice reviews bob's access after the fact with
// access approve.
func TestAccessCLIBreakGlass(t *testing.T) {
	s := newCLIServer(t)
	s.syncNow(t)
	as := func(who string) []string {
		return cliEnv(t, "GATEHOUSE_SERVER="+s.url, "GATEHOUSE_TOKEN="+s.tok[who])
	}
	rules := filepath.Join(t.TempDir(), "rules.yaml")
	os.WriteFile(rules, []byte(`rules:
  - name: accounts-everyone
    requesters: {everyone: true}
    duration: {default: 1h, max: 8h}
    reason_required: true
    approval_policy: default
  - name: prod-breakglass
    match: {accounts: [prod], permission_sets: [AdministratorAccess]}
    requesters: {people: [bob@example.com]}
    duration: {default: 30m, max: 1h}
    reason_required: true
    approval_policy: default
    break_glass: true
policies:
  - name: default
    steps:
      - approvers: {admins: true}
`), 0o644)
	if _, stderr, code := runCLI(t, as("alice"), "", "rules", "apply", "-f", rules); code != 0 || !strings.Contains(stderr, "applied "+rules) {
		t.Fatalf("rules apply: exit %d\n%s", code, stderr)
	}

	stdout, stderr, code := runCLI(t, as("bob"), "", "access", "request", "--account", "prod", "--permission-set", "AdministratorAccess", "--break-glass", "--reason", "prod is down")
	if code != 0 {
		t.Fatalf("break-glass request: exit %d\n%s", code, stderr)
	}
	r := requestLine(t, stdout)
	id, _ := r["id"].(string)
	if r["break_glass"] != true || r["rule"] != "prod-breakglass" || r["duration"] != "30m0s" || r["state"] == "pending_approval" || r["reviewed_by"] != "" {
		t.Errorf("break-glass request: %s", stdout)
	}
	if _, stderr, code = runCLI(t, as("dave"), "", "access", "request", "--entitlement", s.ent["AdministratorAccess"], "--break-glass", "--reason", "me too"); code != 1 ||
		!strings.Contains(stderr, "gatehouse: not allowed: ") || !strings.Contains(stderr, "prod-breakglass") {
		t.Errorf("dave's break-glass request: exit %d\n%s", code, stderr)
	}
	stdout, stderr, code = runCLI(t, as("alice"), "", "access", "approve", id, "--reason", "reviewed: the outage was real")
	if code != 0 || requestLine(t, stdout)["reviewed_by"] != "alice@example.com" {
		t.Errorf("review: exit %d\n%s%s", code, stdout, stderr)
	}
}
