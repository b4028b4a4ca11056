package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The README and the help say what exists today and nothing more: no feature that is not
// built is described as present, the first `go run` is said to compile for a while, and
// every gatehouse command line in the README and the guides names a command and flags
// that exist.
func TestDocsAndHelpSayWhatExists(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	root, _, err := runGatehouse(t, "--help")
	if err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{"README.md": string(readme), "gatehouse --help": root} {
		for _, claim := range []string{"hands out just-in-time access", "access that ends on time", "produces audit evidence"} {
			if strings.Contains(text, claim) {
				t.Errorf("%s claims %q, which is not built", name, claim)
			}
		}
	}
	if !strings.Contains(string(readme), "The first `go run` compiles Gatehouse and its dependencies (the AWS SDK, baton-sdk): that\ntakes a few minutes") {
		t.Error("README.md does not say that the first go run compiles for a few minutes")
	}

	helps := map[string]string{}
	help := func(cmd []string) string {
		key := strings.Join(cmd, " ")
		if h, ok := helps[key]; ok {
			return h
		}
		out, stderr, err := runGatehouse(t, append(cmd, "--help")...)
		if err != nil {
			t.Fatalf("gatehouse %s --help: %v\n%s", key, err, stderr)
		}
		helps[key] = out
		return out
	}
	line := regexp.MustCompile(`(?m)^\s*(?:\$ )?(?:\./)?(?:gatehouse|go run \./cmd/gatehouse) ([a-z]+)(?: ([a-z][a-z0-9]*))?([^\n]*(?:\\\n[^\n]*)*)`)
	flag := regexp.MustCompile(`(?:^|\s)(--[a-z][a-z0-9-]*|-[a-z])\b`)
	checked := 0
	for _, doc := range []string{"README.md", "docs/simulator.md", "docs/setup.md", "docs/provisioning.md", "docs/server.md", "docs/imports.md", "docs/evidence.md"} {
		text, err := os.ReadFile(filepath.Join("..", "..", doc))
		if err != nil {
			t.Fatal(err)
		}
		// Only shell blocks hold commands to type.
		for i, block := range strings.Split(string(text), "```") {
			if i%2 == 0 || !(strings.HasPrefix(block, "sh\n") || strings.HasPrefix(block, "\n$")) {
				continue
			}
			for _, m := range line.FindAllStringSubmatch(block, -1) {
				cmd := []string{m[1]}
				if (m[1] == "setup" || m[1] == "audit" || m[1] == "token" || m[1] == "access" || m[1] == "rules" || m[1] == "datasources" || m[1] == "apps" || m[1] == "evidence") && m[2] != "" {
					cmd = append(cmd, m[2])
				}
				h := help(cmd)
				if !strings.Contains(h, "\n  gatehouse "+strings.Join(cmd, " ")) {
					t.Errorf("%s: gatehouse %s is not a command", doc, strings.Join(cmd, " "))
				}
				args, _, _ := strings.Cut(m[3], "#")
				for _, f := range flag.FindAllStringSubmatch(args, -1) {
					if batonHidden[f[1]] && m[1] == "connector" {
						continue
					}
					if !strings.Contains(h, " "+f[1]+" ") && !strings.Contains(h, " "+f[1]+"\n") && !strings.Contains(h, f[1]+", ") {
						t.Errorf("%s: gatehouse %s has no flag %s (line: gatehouse %s %s%s)", doc, strings.Join(cmd, " "), f[1], m[1], m[2], m[3])
					}
				}
				checked++
			}
		}
	}
	if checked < 20 {
		t.Errorf("checked only %d command lines in the docs; the pattern no longer finds them", checked)
	}
}

// batonHidden are baton-sdk's one-shot provisioning flags of gatehouse connector, which
// baton hides from --help; TestConnectorGrantAndRevoke runs them.
var batonHidden = map[string]bool{"--grant-entitlement": true, "--grant-principal": true, "--grant-principal-type": true, "--revoke-grant": true}
