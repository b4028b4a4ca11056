package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// gatehouse review export writes the auditor's evidence and prints the SHA-256 of exactly
// the file written, which is the server's; -o - writes it to stdout.
func TestReviewCLIExport(t *testing.T) {
	s := newCLIServer(t)
	s.syncNow(t)
	env := append(cliEnv(t, "GATEHOUSE_SERVER="+s.url), "GATEHOUSE_TOKEN="+s.tok["carol"])
	dir := t.TempDir()
	file := filepath.Join(dir, "campaign.json")
	_ = os.WriteFile(file, []byte(`{"name": "Export", "scope": {"accounts": ["`+s.prod+`"]}, "reviewers": {"people": ["dave@example.com"]}, "due": "2030-01-31T17:00:00Z"}`), 0o600)
	out, stderr, code := runCLI(t, env, "", "review", "create", "-f", file)
	var c struct{ ID string }
	if code != 0 || json.Unmarshal([]byte(out), &c) != nil || c.ID == "" {
		t.Fatalf("create: exit %d\n%s%s", code, out, stderr)
	}
	if _, stderr, code := runCLI(t, env, "", "review", "start", c.ID); code != 0 {
		t.Fatalf("start: exit %d\n%s", code, stderr)
	}
	// dave keeps one item; the evidence carries the decision and its reason.
	dave := append(cliEnv(t, "GATEHOUSE_SERVER="+s.url), "GATEHOUSE_TOKEN="+s.tok["dave"])
	out, stderr, code = runCLI(t, dave, "", "review", "items", c.ID, "--identity", "bob@example.com", "--json")
	var it struct{ ID string }
	if code != 0 || json.Unmarshal([]byte(strings.SplitN(out, "\n", 2)[0]), &it) != nil || it.ID == "" {
		t.Fatalf("bob's items as dave: exit %d\n%s%s", code, out, stderr)
	}
	if _, stderr, code := runCLI(t, dave, "", "review", "decide", c.ID, it.ID, "keep", "--reason", "on the payments team"); code != 0 {
		t.Fatalf("decide: exit %d\n%s", code, stderr)
	}
	for _, format := range []string{"csv", "json", "html"} {
		f := filepath.Join(dir, "evidence."+format)
		_, stderr, code := runCLI(t, env, "", "review", "export", c.ID, "--format", format, "-o", f)
		body, err := os.ReadFile(f)
		sum := sha256.Sum256(body)
		if code != 0 || err != nil || len(body) == 0 || !strings.Contains(stderr, "wrote the "+format+" export of "+c.ID+" to "+f) ||
			!strings.Contains(stderr, "SHA-256 "+hex.EncodeToString(sum[:])+" (as the server's audit log records it)") {
			t.Fatalf("export %s: exit %d %v\n%s", format, code, err, stderr)
		}
		if !strings.Contains(string(body), it.ID) || !strings.Contains(string(body), "on the payments team") {
			t.Errorf("the %s export lacks the decision on %s:\n%.500s", format, it.ID, body)
		}
		if format == "csv" {
			stdout, stderr, code := runCLI(t, env, "", "review", "export", c.ID, "--format", "csv", "-o", "-")
			again := sha256.Sum256([]byte(stdout))
			if code != 0 || len(stdout) == 0 || !strings.Contains(stderr, "wrote the csv export of "+c.ID+" to stdout") ||
				!strings.Contains(stderr, "SHA-256 "+hex.EncodeToString(again[:])) {
				t.Errorf("export to stdout: exit %d\n%.300s\n%s", code, stdout, stderr)
			}
		}
	}
}
