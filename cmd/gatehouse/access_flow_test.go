package main

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncNow runs a sync of the CLI test server and waits for it, so that the catalog has the
// demo organization. The server's scheduler queues a first sync as it starts, so the request
// can meet that one (409): then it waits for it to end and asks again, so the sync it waits
// for always started after the call.
func (s *cliServer) syncNow(t *testing.T) {
	t.Helper()
	call := func(method, path string, out any) int {
		req, _ := http.NewRequest(method, s.url+path, nil)
		req.Header.Set("Authorization", "Bearer "+s.tok["alice"])
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		_ = json.NewDecoder(res.Body).Decode(out)
		return res.StatusCode
	}
	type syncState struct {
		ID    string `json:"id"`
		State string `json:"state"`
	}
	deadline := time.Now().Add(2 * time.Minute)
	await := func(id string, mustSucceed bool) {
		for ; ; time.Sleep(100 * time.Millisecond) {
			var sync syncState
			call("GET", "/api/v1/syncs/"+id, &sync)
			switch {
			case sync.State == "succeeded" || sync.State == "partial":
				return
			case sync.State == "failed" && !mustSucceed:
				return
			case sync.State == "failed" || time.Now().After(deadline):
				t.Fatalf("sync %s: %s", id, sync.State)
			}
		}
	}
	for {
		var sync syncState
		switch code := call("POST", "/api/v1/syncs", &sync); {
		case code == http.StatusAccepted:
			await(sync.ID, true)
			return
		case code == http.StatusConflict && time.Now().Before(deadline):
			var list struct {
				Items []syncState `json:"items"`
			}
			if c := call("GET", "/api/v1/syncs?page_size=1", &list); c != http.StatusOK || len(list.Items) == 0 {
				t.Fatalf("a sync is running but the list of syncs is %d %+v", c, list)
			}
			await(list.Items[0].ID, false)
		default:
			t.Fatalf("start a sync: %d", code)
		}
	}
}

// requestLine reads the request a command printed as its one JSON line on stdout.
func requestLine(t *testing.T, stdout string) map[string]any {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if len(lines) != 1 {
		t.Fatalf("stdout has %d lines, want one JSON line:\n%s", len(lines), stdout)
	}
	var r map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &r); err != nil {
		t.Fatalf("stdout is not one JSON line: %v\n%s", err, stdout)
	}
	return r
}

// The engineer's flow with the real binary against a real server: bob requests
// AdministratorAccess on prod, lists it; he cannot approve it himself (403, said
// plainly); alice sees it to approve and approves it; a cancelled request cannot be approved
// (409, said plainly); the rules
// round-trip through export and apply, and a bad file's every problem is printed with its
// line and nothing is applied.
func TestAccessCLIFlow(t *testing.T) {
	s := newCLIServer(t)
	s.syncNow(t)
	as := func(who string) []string {
		return cliEnv(t, "GATEHOUSE_SERVER="+s.url, "GATEHOUSE_TOKEN="+s.tok[who])
	}

	stdout, stderr, code := runCLI(t, as("bob"), "", "access", "request", "--server", s.url, "--entitlement", s.ent["AdministratorAccess"],
		"--for", "1h", "--reason", "incident 4711")
	if code != 0 {
		t.Fatalf("access request: exit %d\n%s", code, stderr)
	}
	req := requestLine(t, stdout)
	id, _ := req["id"].(string)
	if !strings.HasPrefix(id, "req_") || req["state"] != "pending_approval" || req["requester"] != "bob@example.com" || req["duration"] != "1h0m0s" ||
		req["reason"] != "incident 4711" || req["account_id"] != s.prod {
		t.Errorf("the request printed: %s", stdout)
	}
	if !strings.HasPrefix(stderr, "requested "+id+" pending_approval: ") || !strings.Contains(stderr, "waiting for step 1 of 1") {
		t.Errorf("stderr = %q", stderr)
	}

	stdout, stderr, code = runCLI(t, as("bob"), "", "access", "list")
	if code != 0 || !strings.Contains(stdout, id) || !strings.Contains(stdout, "pending_approval") || !strings.Contains(stdout, "incident 4711") {
		t.Errorf("access list: exit %d\n%s%s", code, stdout, stderr)
	}
	if stdout, stderr, code = runCLI(t, as("dave"), "", "access", "list"); code != 0 || stdout != "" || !strings.Contains(stderr, "you have no requests") {
		t.Errorf("dave's list: exit %d\n%s%s", code, stdout, stderr)
	}
	if stdout, stderr, code = runCLI(t, as("alice"), "", "access", "list", "--to-approve", "--json"); code != 0 || !strings.Contains(stdout, `"id":"`+id+`"`) {
		t.Errorf("alice's list to approve: exit %d\n%s%s", code, stdout, stderr)
	}

	// bob approving his own request: 403, said plainly, exit 1.
	if stdout, stderr, code = runCLI(t, as("bob"), "", "access", "approve", id); code != 1 || stdout != "" || !strings.Contains(stderr, "gatehouse: not allowed: ") {
		t.Errorf("bob approves his own request: exit %d\n%s%s", code, stdout, stderr)
	}
	stdout, stderr, code = runCLI(t, as("alice"), "", "access", "approve", id, "--reason", "ok for 4711")
	if code != 0 {
		t.Fatalf("alice approves: exit %d\n%s", code, stderr)
	}
	if r := requestLine(t, stdout); r["id"] != id || r["state"] == "pending_approval" || !strings.HasPrefix(stderr, "approved: "+id+" ") {
		t.Errorf("approve printed: %s\n%s", stdout, stderr)
	}

	// show: the history, who and when, on stderr; the request on stdout.
	stdout, stderr, code = runCLI(t, as("bob"), "", "access", "show", id)
	if code != 0 || requestLine(t, stdout)["id"] != id || !strings.Contains(stderr, "(new) -> pending_approval  by bob@example.com: incident 4711") ||
		!strings.Contains(stderr, "pending_approval -> approved  by alice@example.com: ok for 4711") {
		t.Errorf("access show: exit %d\n%s%s", code, stdout, stderr)
	}
	if _, stderr, code = runCLI(t, as("dave"), "", "access", "show", id); code != 1 || !strings.Contains(stderr, "gatehouse: not found: no request "+id) {
		t.Errorf("access show of another's request: exit %d\n%s", code, stderr)
	}

	// A cancelled request cannot be approved: 409, said plainly.
	stdout, _, code = runCLI(t, as("bob"), "", "access", "request", "--entitlement", s.ent["ReadOnly"], "--reason", "logs")
	if code != 0 {
		t.Fatalf("second request: exit %d", code)
	}
	other := requestLine(t, stdout)["id"].(string)
	if stdout, stderr, code = runCLI(t, as("bob"), "", "access", "cancel", other, "--reason", "not needed"); code != 0 || requestLine(t, stdout)["state"] != "cancelled" {
		t.Fatalf("cancel: exit %d\n%s%s", code, stdout, stderr)
	}
	if _, stderr, code = runCLI(t, as("alice"), "", "access", "approve", other); code != 1 || !strings.Contains(stderr, "gatehouse: not possible now: ") || !strings.Contains(stderr, "cancelled") {
		t.Errorf("approving a cancelled request: exit %d\n%s", code, stderr)
	}

	// --wait follows the request until it ends: here alice denies it, and the command
	// exits 1 saying so, the final request on stdout.
	waiter := exec.Command(gatehouseBin, "access", "request", "--entitlement", s.ent["Billing"], "--reason", "costs", "--wait")
	waiter.Env = as("bob")
	var wout, werr syncBuffer
	waiter.Stdout, waiter.Stderr = &wout, &werr
	if err := waiter.Start(); err != nil {
		t.Fatal(err)
	}
	var waiting string
	for deadline := time.Now().Add(30 * time.Second); waiting == ""; time.Sleep(100 * time.Millisecond) {
		if i := strings.Index(werr.String(), "requested req_"); i >= 0 {
			waiting = strings.Fields(werr.String()[i+len("requested "):])[0]
		} else if time.Now().After(deadline) {
			t.Fatalf("access request --wait printed no request: %s", werr.String())
		}
	}
	if stdout, stderr, code = runCLI(t, as("alice"), "", "access", "deny", waiting, "--reason", "use the billing report"); code != 0 || requestLine(t, stdout)["state"] != "denied" ||
		!strings.HasPrefix(stderr, "denied: "+waiting+" denied: ") || !strings.Contains(stderr, "(by alice@example.com: use the billing report)") {
		t.Fatalf("deny: exit %d\n%s%s", code, stdout, stderr)
	}
	err := waiter.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(werr.String(), "gatehouse: request "+waiting+" ended denied without access") ||
		requestLine(t, wout.String())["state"] != "denied" {
		t.Errorf("access request --wait of a denied request: %v\n%s%s", err, wout.String(), werr.String())
	}

	// Rules: export, a bad file refused line by line with nothing applied, the good one applied.
	dir := t.TempDir()
	exported := filepath.Join(dir, "rules.yaml")
	if _, stderr, code = runCLI(t, as("alice"), "", "rules", "export", "-o", exported); code != 0 {
		t.Fatalf("rules export: exit %d\n%s", code, stderr)
	}
	before, _ := os.ReadFile(exported)
	if !strings.Contains(string(before), "accounts-everyone") {
		t.Fatalf("exported rules:\n%s", before)
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("rules:\n  - name: prod\n    aproval_policy: default\n    requesters: {everyone: true}\n    duration:\n      default: 90x\n"), 0o644)
	_, stderr, code = runCLI(t, as("alice"), "", "rules", "apply", "-f", bad)
	if code != 1 || !strings.Contains(stderr, bad+":3:") || !strings.Contains(stderr, bad+":6:") || !strings.Contains(stderr, "problems; nothing was applied") {
		t.Errorf("rules apply of a bad file: exit %d\n%s", code, stderr)
	}
	if stdout, _, _ := runCLI(t, as("alice"), "", "rules", "export"); stdout != string(before) {
		t.Errorf("a refused file changed the rules:\n%s", stdout)
	}
	if _, stderr, code = runCLI(t, as("bob"), "", "rules", "apply", "-f", exported); code != 1 || !strings.Contains(stderr, "not allowed: this needs the admin role") {
		t.Errorf("rules apply as bob: exit %d\n%s", code, stderr)
	}
	if _, stderr, code = runCLI(t, as("alice"), "", "rules", "apply", "-f", exported); code != 0 || !strings.Contains(stderr, "applied "+exported+" to "+s.url+": the rules are at version ") {
		t.Errorf("rules apply: exit %d\n%s", code, stderr)
	}
}

// syncBuffer is a buffer that a running command writes while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b = append(s.b, p...)
	return len(p), nil
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return string(s.b)
}
