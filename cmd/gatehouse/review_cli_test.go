package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The review commands against a real server on the demo organization: an auditor creates
// a campaign from YAML, lists and starts it; a reviewer lists their items and decides one;
// deciding twice, deciding one's own access and exporting as a reviewer are refused with
// the server's reason; the auditor closes the campaign and exports it, and the SHA-256
// printed is the file's.
func TestReviewCLIFlow(t *testing.T) {
	s := newCLIServer(t)
	s.syncNow(t)
	env := cliEnv(t, "GATEHOUSE_SERVER="+s.url)
	as := func(who string) []string { return append(append([]string{}, env...), "GATEHOUSE_TOKEN="+s.tok[who]) }
	dir := t.TempDir()
	file := filepath.Join(dir, "campaign.yaml")
	campaign := "name: \"Quarterly review: prod\"\nscope:\n  accounts: [" + s.prod + "]\nreviewers:\n  people: [dave@example.com]\ndue: 2030-01-31T17:00:00Z\nundecided: keep\n"
	if err := os.WriteFile(file, []byte(campaign), 0o600); err != nil {
		t.Fatal(err)
	}

	// A person may not create a campaign; a bad file is refused with the server's reason.
	if _, stderr, code := runCLI(t, as("dave"), "", "review", "create", "-f", file); code != 1 || !strings.Contains(stderr, "gatehouse: not allowed: this needs the auditor role") {
		t.Errorf("create as dave: exit %d\n%s", code, stderr)
	}
	bad := filepath.Join(dir, "bad.yaml")
	_ = os.WriteFile(bad, []byte(strings.Replace(campaign, "undecided: keep", "undecided: ignore", 1)), 0o600)
	if _, stderr, code := runCLI(t, as("carol"), "", "review", "create", "-f", bad); code != 1 ||
		!strings.Contains(stderr, `gatehouse: the server refused it: undecided must be keep, revoke or escalate (what happens at the due date to items nobody decided), got "ignore"`) {
		t.Errorf("create a bad campaign: exit %d\n%s", code, stderr)
	}

	out, stderr, code := runCLI(t, as("carol"), "", "review", "create", "-f", file)
	var created struct {
		ID, Name, State string
		Scope           struct {
			Accounts []string `json:"accounts"`
		} `json:"scope"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &created) != nil || created.ID == "" || created.State != "draft" || created.Name != "Quarterly review: prod" ||
		len(created.Scope.Accounts) != 1 || created.Scope.Accounts[0] != s.prod || !strings.Contains(stderr, "start it with: gatehouse review start "+created.ID) {
		t.Fatalf("create: exit %d\n%s\n%s", code, out, stderr)
	}
	id := created.ID
	if out, stderr, code := runCLI(t, as("carol"), "", "review", "list"); code != 0 || !regexp.MustCompile(regexp.QuoteMeta(id)+`\s+Quarterly review: prod\s+draft\s+2030-01-31T17:00:00Z`).MatchString(out) {
		t.Errorf("list: exit %d\n%s%s", code, out, stderr)
	}
	if _, stderr, code := runCLI(t, as("carol"), "", "review", "start", id); code != 0 || !strings.Contains(stderr, "started "+id+` "Quarterly review: prod" (active, due 2030-01-31T17:00:00Z): 0 of `) {
		t.Fatalf("start: exit %d\n%s", code, stderr)
	}

	// dave reviews: his items are everyone's in prod but his own.
	out, stderr, code = runCLI(t, as("dave"), "", "review", "items", id, "--json")
	if code != 0 {
		t.Fatalf("items as dave: exit %d\n%s", code, stderr)
	}
	type item struct {
		ID, Identity, State, Decision, Reviewer, Via string
		AdminLevel                                   bool `json:"admin_level"`
	}
	var bobs item
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var it item
		if err := json.Unmarshal([]byte(line), &it); err != nil {
			t.Fatalf("items --json line %q: %v", line, err)
		}
		n++
		if it.Identity == "dave@example.com" || it.Reviewer != "dave@example.com" {
			t.Errorf("dave is given item %+v", it)
		}
		if it.Identity == "bob@example.com" && !it.AdminLevel && bobs.ID == "" {
			bobs = it
		}
	}
	if n == 0 || bobs.ID == "" {
		t.Fatalf("dave's items hold no item of bob's:\n%s", out)
	}
	table, _, _ := runCLI(t, as("dave"), "", "review", "items", id, "--identity", "bob@example.com")
	if !strings.Contains(table, bobs.ID) || !strings.Contains(table, "bob@example.com") || strings.Contains(table, "alice@example.com") {
		t.Errorf("items --identity bob@example.com:\n%s", table)
	}
	if inbox, stderr, code := runCLI(t, as("dave"), "", "review", "inbox"); code != 0 || !strings.Contains(inbox, id) || !strings.Contains(inbox, bobs.ID) {
		t.Errorf("inbox as dave: exit %d\n%s%s", code, inbox, stderr)
	}

	out, stderr, code = runCLI(t, as("dave"), "", "review", "decide", id, bobs.ID, "keep", "--reason", "on the payments team")
	var decided item
	if code != 0 || json.Unmarshal([]byte(out), &decided) != nil || decided.ID != bobs.ID || decided.State != "kept" || decided.Decision != "keep" ||
		!strings.Contains(stderr, "decided "+bobs.ID+" kept: bob@example.com") || !strings.Contains(stderr, "keep by dave@example.com (on the payments team)") {
		t.Errorf("decide: exit %d\n%s%s", code, out, stderr)
	}
	if _, stderr, code := runCLI(t, as("dave"), "", "review", "decide", id, bobs.ID, "revoke", "--reason", "changed my mind"); code != 1 || !strings.Contains(stderr, "gatehouse: not possible now: ") {
		t.Errorf("decide twice: exit %d\n%s", code, stderr)
	}
	// dave's own item: the auditor sees it; dave may not decide it.
	out, _, _ = runCLI(t, as("carol"), "", "review", "items", id, "--identity", "dave@example.com", "--json")
	var own item
	if err := json.Unmarshal([]byte(strings.SplitN(out, "\n", 2)[0]), &own); err != nil || own.ID == "" {
		t.Fatalf("dave's own items, as the auditor: %v\n%s", err, out)
	}
	if _, stderr, code := runCLI(t, as("dave"), "", "review", "decide", id, own.ID, "keep", "--reason", "I need it"); code != 1 ||
		!strings.Contains(stderr, "gatehouse: not allowed: this is your own access: it goes to ") {
		t.Errorf("decide one's own access: exit %d\n%s", code, stderr)
	}

	// The evidence: the auditor's, checked against the server's SHA-256.
	csvFile := filepath.Join(dir, "evidence.csv")
	if _, stderr, code := runCLI(t, as("dave"), "", "review", "export", id, "--format", "csv", "-o", csvFile); code != 1 || !strings.Contains(stderr, "gatehouse: not allowed: this needs the auditor role") {
		t.Errorf("export as dave: exit %d\n%s", code, stderr)
	}
	if _, err := os.Stat(csvFile); !os.IsNotExist(err) {
		t.Errorf("a refused export left a file: %v", err)
	}
	if _, stderr, code := runCLI(t, as("carol"), "", "review", "close", id); code != 0 || !strings.Contains(stderr, "closed "+id+` "Quarterly review: prod" (closed`) {
		t.Errorf("close: exit %d\n%s", code, stderr)
	}
	// Bad input is refused before anything is sent.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"review", "create"}, "give the campaign with -f FILE"},
		{[]string{"review", "decide", id, bobs.ID, "maybe"}, `the decision is keep or revoke, got "maybe"`},
		{[]string{"review", "export", id}, "say where to write the export with -o FILE (e.g. -o " + id + ".csv), or -o - for stdout"},
		{[]string{"review", "export", id, "--format", "pdf", "-o", "x"}, `--format is csv, json or html, got "pdf"`},
	} {
		if _, stderr, code := runCLI(t, as("carol"), "", c.args...); code != 1 || !strings.Contains(stderr, c.want) {
			t.Errorf("gatehouse %s: exit %d\n%s", strings.Join(c.args, " "), code, stderr)
		}
	}
}
