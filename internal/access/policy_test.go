package access

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

const goodConfig = `rules:
  - name: prod
    match: {accounts: [prod]}
    requesters: {everyone: true}
    approval_policy: two-step
    break_glass: true
    end_sessions: true
policies:
  - name: two-step
    description: Manager, then security.
    steps:
      - name: Manager
        approvers: {manager: true}
        timeout: 4h
        on_timeout: escalate
      - name: Security
        approvers:
          groups: [Security]
          people: [Alice@Example.com]
        required: 2
        timeout: 1d
    fallback: {groups: [Admins], admins: true}
    distinct: true
    extend: auto
`

func TestParseConfig(t *testing.T) {
	cfg, err := ParseConfig([]byte(strings.Replace(goodConfig, "timeout: 1d", "timeout: 24h\n        on_timeout: expire", 1)))
	if err != nil {
		t.Fatal(err)
	}
	r := cfg.Rules.Rules[0]
	if !r.BreakGlass || !r.EndSessions || r.ApprovalPolicy != "two-step" {
		t.Errorf("rule %+v", r)
	}
	p := cfg.Policy("two-step")
	want := Policy{Name: "two-step", Description: "Manager, then security.", Distinct: true, Extend: ExtendAuto,
		Fallback: Approvers{Groups: []string{"Admins"}, Admins: true},
		Steps: []Step{
			{Name: "Manager", Approvers: Approvers{Manager: true}, Required: 1, Timeout: 4 * time.Hour, OnTimeout: Escalate},
			{Name: "Security", Approvers: Approvers{Groups: []string{"Security"}, People: []string{"alice@example.com"}}, Required: 2,
				Timeout: 24 * time.Hour, OnTimeout: Expire},
		}, line: 9}
	if !reflect.DeepEqual(*p, want) {
		t.Errorf("policy\n got %+v\nwant %+v", *p, want)
	}
	// Export reads back to the same document.
	out, err := cfg.Export()
	if err != nil {
		t.Fatal(err)
	}
	again, err := ParseConfig(out)
	if err != nil {
		t.Fatalf("exported document does not parse: %v\n%s", err, out)
	}
	again.Policies[0].line = p.line
	if !reflect.DeepEqual(again.Policies, cfg.Policies) || !again.Rules.Rules[0].BreakGlass {
		t.Errorf("round trip:\n%s", out)
	}
	// The seed document is valid and says who approves.
	seed, err := DefaultConfig().Export()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseConfig(seed); err != nil {
		t.Fatalf("seed: %v\n%s", err, seed)
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Error(err)
	}
}

func TestParseConfigProblems(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"policy timeout not a duration", goodConfig,
			`rules.yaml:21:18: policies[0].steps[1].timeout: "1d" is not a duration; want a Go duration like 1h30m`},
		{"rule names an unknown policy", strings.Replace(goodConfig, "approval_policy: two-step", "approval_policy: two-steps", 1),
			`rules.yaml:5:22: rules[0].approval_policy: no approval policy is called "two-steps" (did you mean "two-step"?); the policies are: two-step` + "\n" +
				`rules.yaml:21:18: policies[0].steps[1].timeout: "1d" is not a duration; want a Go duration like 1h30m`},
		{"no policies at all", "rules:\n  - name: a\n    requesters: {everyone: true}\n    approval_policy: default\n",
			`rules.yaml:4:22: rules[0].approval_policy: no approval policy is called "default"; define it under policies: (see docs/jit.md)`},
		{"step problems", `rules: []
policies:
  - name: p
    steps:
      - approvers: {}
      - approvers: {nobody: true, people: [a@x.com]}
      - approvers: {people: [a@x.com, b]}
        required: 3
      - approvers: {manger: true}
      - approvers: {owners: true}
        timeout: 1h
      - approvers: {owners: true}
        on_timeout: expire
      - approvers: {nobody: true}
        timeout: 1h
        on_timeout: expire
  - name: p
    steps: []
    extend: sometimes
  - steps:
      - approvers: {admins: true}
        required: 0
`,
			`rules.yaml:5:9: policies[0].steps[0].approvers: names nobody; list people or groups, set manager, owners or admins, or set nobody: true to approve at once
rules.yaml:6:9: policies[0].steps[1].approvers: nobody: true approves at once, so it cannot be combined with other approvers; keep one or the other
rules.yaml:7:39: policies[0].steps[2].approvers.people: "b" is not an email address; people are named by email
rules.yaml:8:19: policies[0].steps[2].required: needs 3 approvals but names only 2 people; lower required or name more approvers
rules.yaml:9:21: policies[0].steps[3].approvers.manger: unknown field "manger" (did you mean "manager"?)
rules.yaml:11:9: policies[0].steps[4].on_timeout: escalate (the default when a timeout is set) hands the step to the fallback approvers, and this policy has none; add fallback or set on_timeout: expire
rules.yaml:13:9: policies[0].steps[5].on_timeout: has no timeout to act on; set timeout (like 24h) or remove on_timeout
rules.yaml:15:9: policies[0].steps[6].timeout: a step approved by nobody never waits, so it cannot time out; remove timeout
rules.yaml:17:11: policies[1].name: policy name "p" is used twice (lines 3 and 17); names must be unique
rules.yaml:18:12: policies[1].steps: want a list of at least one step, like [{approvers: {groups: [Approvers]}}]
rules.yaml:19:13: policies[1].extend: "sometimes" is not an extend mode; want approve_again or auto
rules.yaml:20:5: policies[2].name: missing; every policy needs a unique name
rules.yaml:22:19: policies[2].steps[0].required: want a whole number of approvals, 1 or more, not "0"`},
		{"unknown top-level field", "rules: []\npolicy: []\n",
			`rules.yaml:2:1: policy: unknown field "policy"; known fields here: rules, policies`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(tc.yaml))
			if err == nil || err.Error() != tc.want {
				t.Errorf("got:\n%v\nwant:\n%s", err, tc.want)
			}
		})
	}
	// ParseRules (rules only) still refuses policies: it reads rules files.
	if _, err := ParseRules([]byte("rules: []\npolicies: []\n")); err == nil || !strings.Contains(err.Error(), `unknown field "policies"`) {
		t.Errorf("ParseRules with policies: %v", err)
	}
}
