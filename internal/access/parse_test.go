package access

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// valid is a rule body that passes; cases below break one thing at a time.
const validRule = `  - name: prod-admins
    match:
      accounts: [prod]
      permission_sets: [AdministratorAccess]
    requesters:
      groups: [Admins]
    duration:
      default: 1h
      max: 4h
    reason_required: true
    approval_policy: two-step
`

func TestParseRulesProblems(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want string // the exact Error() text
	}{
		{
			name: "unknown field with a suggestion",
			yaml: "rules:\n  - name: a\n    aproval_policy: default\n    requesters: {everyone: true}\n",
			want: "rules.yaml:2:5: rules[0].approval_policy: missing; name the approval policy requests under this rule go through (for example default)\n" +
				"rules.yaml:3:5: rules[0].aproval_policy: unknown field \"aproval_policy\" (did you mean \"approval_policy\"?)",
		},
		{
			name: "unknown field far from any known one lists the known fields",
			yaml: "rules:\n  - name: a\n    approval_policy: default\n    requesters: {everyone: true}\n    match: {colour: blue}\n",
			want: "rules.yaml:5:13: rules[0].match.colour: unknown field \"colour\"; known fields here: application, resource_types, accounts, ous, permission_sets, groups, entitlements",
		},
		{
			name: "bad duration",
			yaml: "rules:\n  - name: a\n    approval_policy: default\n    requesters: {everyone: true}\n    duration:\n      default: 90x\n",
			want: "rules.yaml:6:16: rules[0].duration.default: \"90x\" is not a duration; want a Go duration like 1h30m",
		},
		{
			name: "default longer than max",
			yaml: "rules:\n  - name: a\n    approval_policy: default\n    requesters: {everyone: true}\n    duration: {default: 9h, max: 2h}\n",
			want: "rules.yaml:5:25: rules[0].duration.default: default 9h is longer than max 2h; lower default or raise max",
		},
		{
			name: "durations below the minimum and above the limit",
			yaml: "rules:\n  - name: a\n    approval_policy: default\n    requesters: {everyone: true}\n    duration: {default: 30s, max: 200h}\n",
			want: "rules.yaml:5:25: rules[0].duration.default: 30s is shorter than the minimum of 1m\n" +
				"rules.yaml:5:35: rules[0].duration.max: 200h is longer than the limit of 168h (7 days); access needed for longer is standing access, not a lease",
		},
		{
			name: "missing name and approval policy",
			yaml: "rules:\n  - description: nothing else\n    requesters: {everyone: true}\n",
			want: "rules.yaml:2:5: rules[0].name: missing; every rule needs a unique name\n" +
				"rules.yaml:2:5: rules[0].approval_policy: missing; name the approval policy requests under this rule go through (for example default)",
		},
		{
			name: "empty name",
			yaml: "rules:\n  - name: \"\"\n    approval_policy: default\n    requesters: {everyone: true}\n",
			want: "rules.yaml:2:11: rules[0].name: is empty; every rule needs a unique name",
		},
		{
			name: "duplicate rule name names both lines",
			yaml: "rules:\n" + validRule + "  - name: prod-admins\n    approval_policy: default\n    requesters: {everyone: true}\n",
			want: "rules.yaml:13:11: rules[1].name: rule name \"prod-admins\" is used twice (lines 2 and 13); names must be unique",
		},
		{
			name: "two rules with the same match are ambiguous",
			yaml: "rules:\n" + validRule +
				"  - name: prod-admins-too\n    match:\n      permission_sets: [administratoraccess]\n      accounts: [prod]\n    requesters: {everyone: true}\n    approval_policy: default\n",
			want: "rules.yaml:14:5: rules[1].match: rule 'prod-admins' (line 2) and rule 'prod-admins-too' (line 13) have exactly the same match, so only the first would ever apply; merge them or narrow one",
		},
		{
			name: "default match written out equals the omitted match",
			yaml: "rules:\n  - name: a\n    approval_policy: default\n    requesters: {everyone: true}\n" +
				"  - name: b\n    match: {application: AWS, resource_types: [account]}\n    approval_policy: default\n    requesters: {everyone: true}\n",
			want: "rules.yaml:6:5: rules[1].match: rule 'a' (line 2) and rule 'b' (line 5) have exactly the same match, so only the first would ever apply; merge them or narrow one",
		},
		{
			name: "requesters missing",
			yaml: "rules:\n  - name: a\n    approval_policy: default\n",
			want: "rules.yaml:2:5: rules[0].requesters: nobody could request this; set everyone: true, or list groups or people",
		},
		{
			name: "requesters empty",
			yaml: "rules:\n  - name: a\n    approval_policy: default\n    requesters:\n      everyone: false\n",
			want: "rules.yaml:4:5: rules[0].requesters: nobody could request this; set everyone: true, or list groups or people",
		},
		{
			name: "unknown resource type",
			yaml: "rules:\n  - name: a\n    approval_policy: default\n    requesters: {everyone: true}\n    match:\n      resource_types: [account, sso_gruop]\n",
			want: "rules.yaml:6:33: rules[0].match.resource_types: unknown resource type \"sso_gruop\"; want account, sso_group, iam_group or app_resource (did you mean \"sso_group\"?)",
		},
		{
			name: "groups on an account-only rule could never match",
			yaml: "rules:\n  - name: a\n    approval_policy: default\n    requesters: {everyone: true}\n    match:\n      groups: [Admins]\n",
			want: "rules.yaml:6:7: rules[0].match.groups: groups are for group membership requests; add sso_group or iam_group to resource_types (the default is account only)",
		},
		{
			name: "empty list, scalar instead of list, bad bool, not an email",
			yaml: "rules:\n  - name: a\n    approval_policy: default\n    reason_required: maybe\n    match:\n      accounts: []\n      ous: ou-abcd-1\n    requesters:\n      people: [bob]\n",
			want: "rules.yaml:4:22: rules[0].reason_required: want true or false, not \"maybe\"\n" +
				"rules.yaml:6:17: rules[0].match.accounts: is an empty list; remove accounts to match any, or list at least one\n" +
				"rules.yaml:7:12: rules[0].match.ous: want a list, like [ou-abcd-1]\n" +
				"rules.yaml:9:16: rules[0].requesters.people: \"bob\" is not an email address; people are named by email",
		},
		{
			name: "permission sets and groups in one rule could never match",
			yaml: "rules:\n  - name: a\n    approval_policy: default\n    requesters: {everyone: true}\n    match:\n      resource_types: [account, sso_group]\n      permission_sets: [ReadOnly]\n      groups: [oncall]\n",
			want: "rules.yaml:8:7: rules[0].match.groups: a rule cannot name both permission sets and groups: no access has both, so this rule could never match; split it into two rules",
		},
		{
			name: "a list where a mapping belongs; accounts and OUs on Identity Center groups",
			yaml: "rules:\n  - name: a\n    approval_policy: default\n    requesters: [everyone]\n    match:\n      resource_types: [sso_group]\n      accounts: [prod]\n      ous: [ou-1]\n",
			want: "rules.yaml:4:17: rules[0].requesters: want a mapping of fields\n" +
				"rules.yaml:7:7: rules[0].match.accounts: Identity Center groups do not live in an account, so this rule could never match; remove accounts or add resource type account or iam_group\n" +
				"rules.yaml:8:7: rules[0].match.ous: Identity Center groups do not live in an OU, so this rule could never match; remove ous or add resource type account or iam_group",
		},
		{
			name: "fields with no value",
			yaml: "rules:\n  - name: a\n    approval_policy: ~\n    description: [x]\n    requesters: {everyone: true}\n    match:\n      accounts:\n      ous: {a: b}\n",
			want: "rules.yaml:3:22: rules[0].approval_policy: has no value; give one, or remove approval_policy\n" +
				"rules.yaml:4:18: rules[0].description: want a single value, not a list or a mapping\n" +
				"rules.yaml:7:16: rules[0].match.accounts: has no value; remove accounts to match any, or list at least one\n" +
				"rules.yaml:8:12: rules[0].match.ous: want a list, like [a, b]",
		},
		{
			name: "field given twice",
			yaml: "rules:\n  - name: a\n    name: b\n    approval_policy: default\n    requesters: {everyone: true}\n",
			want: "rules.yaml:3:5: rules[0].name: name is given twice (first at line 2); keep one",
		},
		{
			name: "misspelt top level",
			yaml: "rule:\n  - name: a\n",
			want: "rules.yaml:1:1: rule: unknown field \"rule\" (did you mean \"rules\"?)",
		},
		{
			name: "no rules list",
			yaml: "{}\n",
			want: "rules.yaml:1:1: no rules: list; the file needs a top-level rules: list of rules",
		},
		{
			name: "empty file",
			yaml: "",
			want: "rules.yaml:1:1: the file is empty; it needs a top-level rules: list",
		},
		{
			name: "YAML syntax error",
			yaml: "rules:\n  - name: [\n",
			want: "rules.yaml:2: not valid YAML: did not find expected node content",
		},
		{
			name: "several problems in several rules, all at once, in file order",
			yaml: "rules:\n" +
				"  - name: one\n    approval_policy: default\n    requesters: {everyone: true}\n    duration: {max: 90x}\n" +
				"  - name: two\n    requesters: {everyone: true}\n    match: {permision_sets: [ReadOnly]}\n" +
				"  - name: one\n    approval_policy: default\n    match: {accounts: [dev]}\n",
			want: "rules.yaml:5:21: rules[0].duration.max: \"90x\" is not a duration; want a Go duration like 1h30m\n" +
				"rules.yaml:6:5: rules[1].approval_policy: missing; name the approval policy requests under this rule go through (for example default)\n" +
				"rules.yaml:8:13: rules[1].match.permision_sets: unknown field \"permision_sets\" (did you mean \"permission_sets\"?)\n" +
				"rules.yaml:9:5: rules[2].requesters: nobody could request this; set everyone: true, or list groups or people\n" +
				"rules.yaml:9:11: rules[2].name: rule name \"one\" is used twice (lines 2 and 9); names must be unique",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs, err := ParseRules([]byte(tt.yaml))
			if err == nil {
				t.Fatalf("no error; want:\n%s", tt.want)
			}
			if rs != nil {
				t.Errorf("got a rule set along with the error; an invalid file must yield nothing")
			}
			if err.Error() != tt.want {
				t.Errorf("error:\n%s\nwant:\n%s", err, tt.want)
			}
			var pe *ParseError
			if !errors.As(err, &pe) || len(pe.Problems) != strings.Count(tt.want, "\n")+1 {
				t.Errorf("want a *ParseError with one problem per line, got %#v", err)
			}
		})
	}
}

func TestParseErrorProblemsAndFileName(t *testing.T) {
	_, err := ParseRules([]byte("rules:\n  - name: a\n    approval_policy: default\n    requesters: {everyone: true}\n    duration: {default: 90x}\n"),
		WithFileName("config/jit.yaml"))
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("want *ParseError, got %v", err)
	}
	want := []Problem{{Line: 5, Column: 25, Field: "rules[0].duration.default",
		Message: "\"90x\" is not a duration; want a Go duration like 1h30m"}}
	if !reflect.DeepEqual(pe.Problems, want) {
		t.Errorf("problems = %#v, want %#v", pe.Problems, want)
	}
	if got := err.Error(); !strings.HasPrefix(got, "config/jit.yaml:5:25: ") {
		t.Errorf("error %q does not start with the caller's file name", got)
	}

	path := filepath.Join(t.TempDir(), "mine.yaml")
	if err := os.WriteFile(path, []byte("rules:\n  - name: a\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "absent.yaml")
	if _, err := ParseFile(missing); err == nil || err.Error() != "read rules: open "+missing+": no such file or directory" {
		t.Errorf("ParseFile of a missing file = %v", err)
	}
	_, err = ParseFile(path)
	want2 := path + ":2:5: rules[0].approval_policy: missing; name the approval policy requests under this rule go through (for example default)\n" +
		path + ":2:5: rules[0].requesters: nobody could request this; set everyone: true, or list groups or people"
	if err == nil || err.Error() != want2 {
		t.Errorf("ParseFile error:\n%v\nwant:\n%s", err, want2)
	}
}

func TestParseRulesValues(t *testing.T) {
	rs, err := ParseRules([]byte(`rules:
` + validRule + `  - name: groups
    description: Membership of the on-call groups.
    match:
      application: AWS
      resource_types: [sso_group, iam_group]
      groups: [oncall, 9067-abcd]
    requesters:
      people: [Alice@Example.com]
      groups: [SRE]
    duration: {max: 30m}
    approval_policy: auto
  - name: only-default
    requesters: {everyone: true}
    duration: {default: 10h}
    approval_policy: default
  - name: empty-rules-are-fine-here
    match: {ous: [ou-root-prod]}
    requesters: {everyone: true}
    approval_policy: default
`))
	if err != nil {
		t.Fatal(err)
	}
	want := []Rule{
		{Name: "prod-admins", Match: Match{Application: "aws", ResourceTypes: []ResourceType{ResourceAccount},
			Accounts: []string{"prod"}, PermissionSets: []string{"AdministratorAccess"}},
			Requesters: Requesters{Groups: []string{"Admins"}}, Duration: Duration{time.Hour, 4 * time.Hour},
			ReasonRequired: true, ApprovalPolicy: "two-step", line: 2},
		{Name: "groups", Description: "Membership of the on-call groups.",
			Match: Match{Application: "aws", ResourceTypes: []ResourceType{ResourceSSOGroup, ResourceIAMGroup},
				Groups: []string{"oncall", "9067-abcd"}},
			Requesters: Requesters{People: []string{"Alice@Example.com"}, Groups: []string{"SRE"}},
			// Only a max shorter than the usual 1h default: the default follows the max down.
			Duration: Duration{30 * time.Minute, 30 * time.Minute}, ApprovalPolicy: "auto", line: 13},
		{Name: "only-default", Match: Match{Application: "aws", ResourceTypes: []ResourceType{ResourceAccount}},
			Requesters: Requesters{Everyone: true},
			// Only a default longer than the usual 8h max: the max follows the default up.
			Duration: Duration{10 * time.Hour, 10 * time.Hour}, ApprovalPolicy: "default", line: 24},
		{Name: "empty-rules-are-fine-here", Match: Match{Application: "aws", ResourceTypes: []ResourceType{ResourceAccount},
			OUs: []string{"ou-root-prod"}}, Requesters: Requesters{Everyone: true},
			Duration: Duration{time.Hour, 8 * time.Hour}, ApprovalPolicy: "default", line: 28},
	}
	if !reflect.DeepEqual(rs.Rules, want) {
		t.Errorf("rules:\n%#v\nwant:\n%#v", rs.Rules, want)
	}

	empty, err := ParseRules([]byte("rules:\n"))
	if err != nil || len(empty.Rules) != 0 {
		t.Errorf("\"rules:\" alone = %v, %v; want an empty rule set", empty, err)
	}
}

func TestExportRoundTrip(t *testing.T) {
	src := `rules:
` + validRule + `  - name: oncall
    match:
      resource_types: [sso_group, iam_group]
      groups: [oncall]
      ous: [r-root, ou-root-prod]
    requesters:
      everyone: true
    duration: {default: 1h30m, max: 168h}
    approval_policy: auto
  - name: people
    description: "Quoted: with a colon"
    requesters:
      people: [bob@example.com]
    duration: {default: 1m, max: 2m30s}
    approval_policy: default
`
	rs, err := ParseRules([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	out, err := rs.Export()
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseRules(out)
	if err != nil {
		t.Fatalf("exported file does not parse: %v\n%s", err, out)
	}
	if len(back.Rules) != len(rs.Rules) {
		t.Fatalf("round trip: %d rules, want %d", len(back.Rules), len(rs.Rules))
	}
	for i := range rs.Rules {
		a, b := rs.Rules[i], back.Rules[i]
		a.line, b.line = 0, 0
		if !reflect.DeepEqual(a, b) {
			t.Errorf("rule %d after round trip:\n%#v\nwant:\n%#v", i, b, a)
		}
	}
	wantPeople := `  - name: people
    description: 'Quoted: with a colon'
    match:
      application: aws
      resource_types: [account]
    requesters:
      people: [bob@example.com]
    duration:
      default: 1m
      max: 2m30s
    reason_required: false
    approval_policy: default
`
	if !strings.HasSuffix(string(out), wantPeople) {
		t.Errorf("export:\n%s\nwant it to end with:\n%s", out, wantPeople)
	}
}

func TestDefaultRulesExportAndParse(t *testing.T) {
	out, err := DefaultRules().Export()
	if err != nil {
		t.Fatal(err)
	}
	want := `rules:
  - name: accounts-everyone
    description: Every permission set on every account, requestable by everyone signed in.
    match:
      application: aws
      resource_types: [account]
    requesters:
      everyone: true
    duration:
      default: 1h
      max: 8h
    reason_required: true
    approval_policy: default
`
	if string(out) != want {
		t.Errorf("seed export:\n%s\nwant:\n%s", out, want)
	}
	back, err := ParseRules(out)
	if err != nil {
		t.Fatal(err)
	}
	got := back.Rules[0]
	got.line = 0
	if !reflect.DeepEqual(got, DefaultRules().Rules[0]) {
		t.Errorf("seed after round trip = %#v", got)
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		time.Minute: "1m", time.Hour: "1h", 90 * time.Minute: "1h30m", 90 * time.Second: "1m30s",
		168 * time.Hour: "168h", time.Hour + time.Second: "1h0m1s",
	} {
		if got := FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", d, got, want)
		}
		if back, err := time.ParseDuration(FormatDuration(d)); err != nil || back != d {
			t.Errorf("FormatDuration(%v) does not parse back: %v %v", d, back, err)
		}
	}
}

func TestParseRulesAnchorsAndMergeKeys(t *testing.T) {
	rs, err := ParseRules([]byte(`rules:
  - name: a
    match: {accounts: [prod]}
    requesters: &admins
      groups: [Admins]
    approval_policy: default
  - name: b
    match: {accounts: [dev]}
    requesters: *admins
    approval_policy: default
`))
	if err != nil {
		t.Fatal(err)
	}
	if got := rs.Rules[1].Requesters.Groups; !reflect.DeepEqual(got, []string{"Admins"}) {
		t.Errorf("aliased requesters = %v, want [Admins]", got)
	}

	_, err = ParseRules([]byte(`rules:
  - &base
    name: a
    requesters: {everyone: true}
    approval_policy: default
  - <<: *base
    name: b
`))
	want := "rules.yaml:6:5: rules[1]: YAML merge keys (<<) are not supported; write the fields out (an alias for a whole value, like requesters: *admins, works)\n" +
		"rules.yaml:6:5: rules[1].approval_policy: missing; name the approval policy requests under this rule go through (for example default)\n" +
		"rules.yaml:6:5: rules[1].requesters: nobody could request this; set everyone: true, or list groups or people\n" +
		"rules.yaml:6:5: rules[1].match: rule 'a' (line 2) and rule 'b' (line 6) have exactly the same match, so only the first would ever apply; merge them or narrow one"
	if err == nil || err.Error() != want {
		t.Errorf("merge key:\n%v\nwant:\n%s", err, want)
	}
}

func TestValidateRuleSetBuiltInCode(t *testing.T) {
	if err := DefaultRules().Validate(); err != nil {
		t.Errorf("seed rules are invalid: %v", err)
	}
	rs := &RuleSet{Rules: []Rule{
		{Name: "ok", Requesters: Requesters{Everyone: true}, Duration: Duration{time.Hour, time.Hour}, ApprovalPolicy: "default"},
		{Name: "", Match: Match{ResourceTypes: []ResourceType{"acount"}}, Duration: Duration{2 * time.Hour, time.Hour}},
	}}
	err := rs.Validate()
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("Validate = %v, want a *ParseError", err)
	}
	var got []string
	for _, p := range pe.Problems {
		got = append(got, p.Field+": "+p.Message)
	}
	want := []string{
		"rules[1].name: is empty; every rule needs a unique name",
		"rules[1].match.resource_types: unknown resource type \"acount\"; want account, sso_group, iam_group or app_resource (did you mean \"account\"?)",
		"rules[1].requesters: nobody could request this; set everyone: true, or list groups or people",
		"rules[1].duration.default: default 2h is longer than max 1h; lower default or raise max",
		"rules[1].approval_policy: is empty; name an approval policy (for example default)",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestExportQuotesWhatYAMLWouldMisread(t *testing.T) {
	rs := &RuleSet{Rules: []Rule{{
		Name:        "true",
		Description: "line one\nline two: with # and 'quotes'",
		Match: Match{Accounts: []string{"012345678901", "yes"}, OUs: []string{"r-ab12"},
			PermissionSets: []string{"ps-0123456789abcdef"}},
		Requesters:     Requesters{Groups: []string{"null", "1e3"}, People: []string{"a@b.c"}},
		Duration:       Duration{time.Minute, MaxDurationLimit},
		ApprovalPolicy: "~",
	}}}
	out, err := rs.Export()
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseRules(out)
	if err != nil {
		t.Fatalf("export does not parse: %v\n%s", err, out)
	}
	want := rs.Rules[0]
	want.Match.Application = "aws"
	want.Match.ResourceTypes = []ResourceType{ResourceAccount}
	got := back.Rules[0]
	got.line = 0
	if !reflect.DeepEqual(got, want) {
		t.Errorf("after round trip:\n%#v\nwant:\n%#v\nexported:\n%s", got, want, out)
	}
}
