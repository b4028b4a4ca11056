package main

import (
	"os/exec"
	"strings"
	"testing"
	"time"
)

// With the real binary against a real server granting on the simulator: access request
// --wait returns once the access is active (exit 0, the active request with the lease's
// ends_at on stdout); extend asks for more time (waiting for approval under the seed
// policy), the approver approves it; release ends the access, and the list shows it revoked.
func TestAccessCLIWaitExtendRelease(t *testing.T) {
	s := newCLIServer(t)
	s.syncNow(t)
	as := func(who string) []string {
		return cliEnv(t, "GATEHOUSE_SERVER="+s.url, "GATEHOUSE_TOKEN="+s.tok[who])
	}
	waiter := exec.Command(gatehouseBin, "access", "request", "--account", "prod", "--permission-set", "AdministratorAccess", "--for", "1h", "--reason", "incident 4711", "--wait")
	waiter.Env = as("bob")
	var wout, werr syncBuffer
	waiter.Stdout, waiter.Stderr = &wout, &werr
	if err := waiter.Start(); err != nil {
		t.Fatal(err)
	}
	var id string
	for deadline := time.Now().Add(30 * time.Second); id == ""; time.Sleep(100 * time.Millisecond) {
		if i := strings.Index(werr.String(), "requested req_"); i >= 0 {
			id = strings.Fields(werr.String()[i+len("requested "):])[0]
		} else if time.Now().After(deadline) {
			t.Fatalf("access request --wait printed no request: %s", werr.String())
		}
	}
	if stdout, stderr, code := runCLI(t, as("alice"), "", "access", "approve", id, "--reason", "ok"); code != 0 {
		t.Fatalf("approve: exit %d\n%s%s", code, stdout, stderr)
	}
	done := make(chan error, 1)
	go func() { done <- waiter.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("access request --wait: %v\n%s", err, werr.String())
		}
	case <-time.After(90 * time.Second):
		_ = waiter.Process.Kill()
		t.Fatalf("access request --wait did not return within 90 s:\n%s", werr.String())
	}
	active := requestLine(t, wout.String())
	if active["state"] != "active" || active["ends_at"] == nil || !strings.Contains(werr.String(), id+" active: ") || !strings.Contains(werr.String(), "; until ") {
		t.Errorf("--wait ended with:\n%s%s", wout.String(), werr.String())
	}

	if _, stderr, code := runCLI(t, as("bob"), "", "access", "show", id); code != 0 || !strings.Contains(stderr, "  lease: "+active["starts_at"].(string)+" to "+active["ends_at"].(string)) ||
		!strings.Contains(stderr, "provisioning -> active  by gatehouse") {
		t.Errorf("access show of active access: exit %d\n%s", code, stderr)
	}
	stdout, stderr, code := runCLI(t, as("bob"), "", "access", "extend", id, "--for", "30m", "--reason", "still on it")
	if code != 0 || !strings.Contains(stderr, "30m0s more waiting for approval") || requestLine(t, stdout)["pending_extension"] == nil {
		t.Fatalf("extend: exit %d\n%s%s", code, stdout, stderr)
	}
	if stdout, stderr, code = runCLI(t, as("alice"), "", "access", "approve", id); code != 0 || requestLine(t, stdout)["pending_extension"] != nil {
		t.Fatalf("approve the extension: exit %d\n%s%s", code, stdout, stderr)
	}
	if stdout, stderr, code = runCLI(t, as("bob"), "", "access", "release", id, "--reason", "done"); code != 0 || !strings.HasPrefix(stderr, "released: "+id+" ") {
		t.Fatalf("release: exit %d\n%s%s", code, stdout, stderr)
	}
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		stdout, stderr, code = runCLI(t, as("bob"), "", "access", "list", "--state", "revoked")
		if code == 0 && strings.Contains(stdout, id) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the released request is not revoked within 60 s: exit %d\n%s%s", code, stdout, stderr)
		}
	}
	if _, stderr, code = runCLI(t, as("bob"), "", "access", "release", id); code != 1 || !strings.Contains(stderr, "gatehouse: not possible now: ") {
		t.Errorf("releasing twice: exit %d\n%s", code, stderr)
	}
}
