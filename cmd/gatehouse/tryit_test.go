package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/awssim"
)

// tryItBlock returns the shell block of docs/simulator.md that TestTryItOnTheSimulator
// runs: the first ```sh block after the comment that names the test.
func tryItBlock(t *testing.T) []string {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "simulator.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "TestTryItOnTheSimulator")
	if !ok {
		t.Fatal("docs/simulator.md has no block for TestTryItOnTheSimulator")
	}
	_, rest, ok = strings.Cut(rest, "```sh\n")
	block, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("docs/simulator.md: no ```sh block after the TestTryItOnTheSimulator comment")
	}
	return strings.Split(strings.TrimSpace(block), "\n")
}

var (
	theIDOf     = regexp.MustCompile(`([A-Z_]+): the ID of "([^"]+)"`)
	grantIDLine = regexp.MustCompile(`(?m)^grant id: (\S+)$`)
)

// The "try it" session of docs/simulator.md works as written against gatehouse sim
// --preset demo: sync, inspect, a dry run, a grant that the next sync sees, a revoke.
// Only what the doc says to fill in is filled in (and the port, which the test picks).
func TestTryItOnTheSimulator(t *testing.T) {
	dir := t.TempDir()
	env := []string{"HOME=" + dir, "PATH=" + os.Getenv("PATH"), "AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null"}
	values := map[string]string{}
	var outputs []string
	for _, line := range tryItBlock(t) {
		command, comment, _ := strings.Cut(line, "#")
		fields := strings.Fields(command)
		if len(fields) == 0 {
			continue
		}
		for i, f := range fields {
			k, v, isVar := strings.Cut(f, "=")
			if fields[0] != "export" || !isVar {
				k, v = "", f
			}
			if x, ok := values[v]; ok {
				v = x
			} else if v == "http://127.0.0.1:4566" && values["ENDPOINT"] != "" {
				v = values["ENDPOINT"]
			} else if regexp.MustCompile(`^[A-Z][A-Z_]+_ID$|^[A-Z_]*(KEY|ARN)$`).MatchString(v) {
				t.Fatalf("%q: nothing to fill %s in with yet", line, v)
			}
			if k != "" {
				v = k + "=" + v
			}
			fields[i] = v
		}
		switch {
		case fields[0] == "export":
			env = append(env, fields[1:]...)
			continue
		case fields[0] != "gatehouse":
			t.Fatalf("%q: the block holds only gatehouse and export lines", line)
		case len(fields) > 1 && fields[1] == "sim":
			info := startSimCommand(t, append(fields[2:], "--latency", "0", "--jitter", "0")...)
			values["ACCESS_KEY_ID"], values["SECRET_ACCESS_KEY"] = info.AccessKeyID, info.SecretAccessKey
			values["ROLE_ARN"], values["EXTERNAL_ID"], values["ENDPOINT"] = info.RoleARN, info.ExternalID, info.Endpoint
			continue
		}
		stdout, stderr, err := runGatehouseIn(t, dir, env, fields[1:]...)
		if err != nil {
			t.Fatalf("%s: %v\n%s%s", strings.Join(fields, " "), err, stdout, stderr)
		}
		outputs = append(outputs, stdout)
		if m := theIDOf.FindStringSubmatch(comment); m != nil {
			// The ID column of the line whose name it is.
			lines := strings.Split(stdout, "\n")
			col := slices.Index(strings.Fields(lines[0]), "ID")
			for _, l := range lines[1:] {
				if col >= 0 && (strings.Contains(l, "  "+m[2]+"  ") || strings.HasSuffix(l, "  "+m[2])) {
					values[m[1]] = strings.Fields(l)[col]
				}
			}
			if values[m[1]] == "" {
				t.Fatalf("%s printed no line for %q:\n%s", strings.Join(fields, " "), m[2], stdout)
			}
		}
		if m := grantIDLine.FindStringSubmatch(stdout); m != nil && strings.Contains(comment+strings.Join(fields, " "), "grant") {
			values["GRANT_ID"] = m[1]
		}
	}

	// What the session printed: Erin's access before and after, the dry run, the grant
	// and the revoke.
	var world *awssim.World
	world, _ = awssim.Preset("demo", 1)
	prod := ""
	for _, a := range world.Accounts {
		if a.Name == "prod" {
			prod = a.ID
		}
	}
	if len(outputs) != 9 {
		t.Fatalf("the session ran %d gatehouse commands besides sim, want 9", len(outputs))
	}
	for i, want := range map[int]string{
		1: "staging (",
		4: "dry run: would create: ReadOnly on account prod (" + prod + ") for user erin\n",
		5: "created: ReadOnly on account prod (" + prod + ") for user erin\n",
		7: "\nprod (" + prod + ")     ReadOnly        Erin Schulz <erin@example.com>  direct assignment\n",
		8: "removed: ReadOnly on account prod (" + prod + ") for user erin\n",
	} {
		if !strings.Contains(outputs[i], want) {
			t.Errorf("command %d printed no %q:\n%s", i+1, want, outputs[i])
		}
	}
	if strings.Contains(outputs[1], "prod (") {
		t.Errorf("before the grant Erin already reaches prod:\n%s", outputs[1])
	}
}
