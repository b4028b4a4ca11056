package access

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

// TestDocsExamples keeps docs/jit.md true: its example file parses, and its bad example is
// refused with exactly the messages the page shows.
func TestDocsExamples(t *testing.T) {
	page, err := os.ReadFile("../../docs/jit.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := strings.Split(string(page), "```")
	// Fenced blocks are the odd pieces; each starts with its language tag line.
	var code []string
	for i := 1; i < len(blocks); i += 2 {
		body := blocks[i]
		body = body[strings.Index(body, "\n")+1:]
		code = append(code, body)
	}
	// The page's first three blocks are the good file, the bad file and its messages; the
	// API and CLI sections after them have their own.
	if len(code) < 3 {
		t.Fatalf("docs/jit.md has %d code blocks, want at least 3 (good file, bad file, messages)", len(code))
	}
	rs, err := ParseRules([]byte(code[0]))
	if err != nil {
		t.Fatalf("the example file in docs/jit.md does not parse:\n%v", err)
	}
	var names []string
	for _, r := range rs.Rules {
		names = append(names, r.Name)
	}
	if got := strings.Join(names, ","); got != "accounts-everyone,prod,prod-admins,oncall" {
		t.Errorf("example rules = %s", got)
	}
	_, err = ParseRules([]byte(code[1]), WithFileName("bad.yaml"))
	if err == nil || err.Error()+"\n" != code[2] {
		t.Errorf("bad example's messages:\n%v\nthe page shows:\n%s", err, code[2])
	}
	// The policies: the seed block is DefaultConfig's policy, and the example document parses
	// to what the page's table says.
	var seedPolicy, fullDoc string
	for _, c := range code {
		switch {
		case strings.HasPrefix(c, "policies:\n"):
			seedPolicy = c
		case strings.HasPrefix(c, "rules:\n") && strings.Contains(c, "\npolicies:\n"):
			fullDoc = c
		}
	}
	seed, err := ParseConfig([]byte("rules: []\n" + seedPolicy))
	if err != nil || len(seed.Policies) != 1 {
		t.Fatalf("the seed policy block in docs/jit.md: %v", err)
	}
	seed.Policies[0].line = 0
	if def := DefaultConfig().Policies[0]; !reflect.DeepEqual(seed.Policies[0], def) {
		t.Errorf("docs/jit.md shows the seed policy as %+v, DefaultConfig has %+v", seed.Policies[0], def)
	}
	full, err := ParseConfig([]byte(fullDoc))
	if err != nil {
		t.Fatalf("the policies example in docs/jit.md: %v", err)
	}
	prod := full.Policy("prod")
	if prod == nil || len(prod.Steps) != 2 || !prod.Steps[0].Approvers.Manager || prod.Steps[1].Required != 2 ||
		prod.Steps[1].OnTimeout != Expire || !prod.Distinct || !full.Policy("auto").AutoApproved() || !full.Rules.Rules[1].BreakGlass {
		t.Errorf("policies example parsed to %+v", full.Policies)
	}

	// The page's sentences are the ones Decide writes for the example file.
	flat := strings.Join(strings.Fields(strings.ReplaceAll(string(page), "\n> ", " ")), " ")
	target := Target{ResourceType: ResourceAccount, AccountID: "123456789012", AccountName: "prod",
		OUPath: []string{"r-abcd", "ou-abcd-prod0001"}, PermissionSetID: "ps-1", PermissionSetName: "AdministratorAccess"}
	admin := rs.Decide(target, Requester{Email: "x@example.com", Groups: []string{"Admins"}})
	other := rs.Decide(target, Requester{Email: "y@example.com"})
	none := (&RuleSet{}).Decide(target, Requester{})
	for _, sentence := range []string{admin.Why, other.NotRequestableWhy, none.NotRequestableWhy} {
		if sentence == "" || !strings.Contains(flat, sentence) {
			t.Errorf("docs/jit.md does not show the sentence Decide gives: %q", sentence)
		}
	}
}
