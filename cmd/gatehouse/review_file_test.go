package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// A campaign file in YAML keeps account ids as written (digits, even with a leading zero,
// are text), takes booleans and numbers where the API has them, and says which line is
// wrong.
func TestReviewCampaignFileYAML(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cmd := &cobra.Command{}
	got, err := readCampaignFile(cmd, write("c.yaml", `name: "Quarterly review: prod"
scope:
  accounts: [012345678901, 111111111111]
  admin_only: true
  unused_days: 90
reviewers:
  people: [dave@example.com]
  manager: false
due: 2030-01-31T17:00:00Z
undecided: keep
`))
	if err != nil {
		t.Fatal(err)
	}
	var v, want any
	_ = json.Unmarshal(got, &v)
	_ = json.Unmarshal([]byte(`{"name": "Quarterly review: prod", "scope": {"accounts": ["012345678901", "111111111111"], "admin_only": true, "unused_days": 90},
		"reviewers": {"people": ["dave@example.com"], "manager": false}, "due": "2030-01-31T17:00:00Z", "undecided": "keep"}`), &want)
	if g, _ := json.Marshal(v); string(g) != mustJSON(want) {
		t.Errorf("YAML campaign as JSON:\n%s\nwant\n%s", g, mustJSON(want))
	}
	// JSON is sent as written.
	j := `{"name": "x", "due": "2030-01-31T17:00:00Z"}`
	if got, err := readCampaignFile(cmd, write("c.json", j)); err != nil || string(got) != j {
		t.Errorf("JSON campaign: %s %v", got, err)
	}
	for name, c := range map[string]struct{ text, want string }{
		"bool.yaml":  {"name: x\nscope:\n  admin_only: maybe\n", "bool.yaml: line 3: admin_only must be true or false, got \"maybe\""},
		"days.yaml":  {"name: x\nscope:\n  unused_days: ninety\n", "days.yaml: line 3: unused_days must be a whole number, got \"ninety\""},
		"list.yaml":  {"- name: x\n", "list.yaml must be one mapping with the keys name, scope, reviewers, due and undecided"},
		"empty.yaml": {"\n", "empty.yaml is empty"},
		"bad.json":   {"{\"name\": ", "bad.json is not valid JSON"},
	} {
		_, err := readCampaignFile(cmd, write(name, c.text))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
