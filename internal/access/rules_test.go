package access

import (
	"strings"
	"testing"
	"time"
)

// org is a small organization: root r-root > ou-prod > ou-prod-eu > account prod (111111111111);
// dev (222222222222) sits in ou-dev directly under the root.
var (
	prodAdmin = Target{ResourceType: ResourceAccount, EntitlementID: "account:111111111111:ps-admin",
		AccountID: "111111111111", AccountName: "prod", OUPath: []string{"r-root", "ou-prod", "ou-prod-eu"},
		PermissionSetID: "ps-admin", PermissionSetName: "AdministratorAccess"}
	prodRead = Target{ResourceType: ResourceAccount, EntitlementID: "account:111111111111:ps-read",
		AccountID: "111111111111", AccountName: "prod", OUPath: []string{"r-root", "ou-prod", "ou-prod-eu"},
		PermissionSetID: "ps-read", PermissionSetName: "ReadOnlyAccess"}
	devAdmin = Target{ResourceType: ResourceAccount, EntitlementID: "account:222222222222:ps-admin",
		AccountID: "222222222222", AccountName: "dev", OUPath: []string{"r-root", "ou-dev"},
		PermissionSetID: "ps-admin", PermissionSetName: "AdministratorAccess"}
	oncallGroup = Target{ResourceType: ResourceSSOGroup, EntitlementID: "sso_group:g-oncall:member",
		GroupID: "g-oncall", GroupName: "oncall"}
	iamDeployers = Target{ResourceType: ResourceIAMGroup, EntitlementID: "iam_group:arn:aws:iam::111111111111:group/deployers:member",
		AccountID: "111111111111", AccountName: "prod", OUPath: []string{"r-root", "ou-prod", "ou-prod-eu"},
		GroupID: "arn:aws:iam::111111111111:group/deployers", GroupName: "deployers"}

	alice = Requester{Email: "alice@example.com", Groups: []string{"Admins", "g-1234"}}
	bob   = Requester{Email: "bob@example.com"}
)

const orgRules = `rules:
  - name: accounts-everyone
    requesters: {everyone: true}
    approval_policy: default
  - name: prod-ou
    match: {ous: [ou-prod]}
    requesters: {everyone: true}
    duration: {default: 30m, max: 2h}
    approval_policy: prod
  - name: prod-eu-ou
    match: {ous: [ou-prod-eu]}
    requesters: {everyone: true}
    approval_policy: prod-eu
  - name: prod-account
    match: {accounts: ["111111111111"]}
    requesters: {everyone: true}
    approval_policy: prod-account
  - name: admin-anywhere
    match: {permission_sets: [administratoraccess]}
    requesters: {groups: [Admins]}
    approval_policy: admin
  - name: prod-admins
    match: {permission_sets: [ps-admin], accounts: [prod]}
    requesters: {groups: [g-1234], people: [BOB@example.com]}
    duration: {default: 15m, max: 1h}
    reason_required: true
    approval_policy: two-step
  - name: oncall-groups
    match: {resource_types: [sso_group, iam_group]}
    requesters: {people: [carol@example.com]}
    approval_policy: auto
  - name: sso-groups
    match: {resource_types: [sso_group]}
    requesters: {everyone: true}
    approval_policy: auto
`

func mustParse(t *testing.T, src string) *RuleSet {
	t.Helper()
	rs, err := ParseRules([]byte(src))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return rs
}

func TestDecideSpecificity(t *testing.T) {
	tests := []struct {
		name   string
		rules  string
		target Target
		who    Requester
		want   Decision // Rule compared by name only
		rule   string
	}{
		{
			name:  "permission set and account beat permission set alone, account, OUs and the catch-all",
			rules: orgRules, target: prodAdmin, who: alice, rule: "prod-admins",
			want: Decision{Requestable: true, DefaultDuration: 15 * time.Minute, MaxDuration: time.Hour,
				ReasonRequired: true, ApprovalPolicy: "two-step",
				Why: "Rule 'prod-admins' applies because it names AdministratorAccess on account prod (more specific than 'admin-anywhere', which names AdministratorAccess on every account); you are in group g-1234, which it allows."},
		},
		{
			name:  "permission set named beats account named",
			rules: orgRules, target: devAdmin, who: alice, rule: "admin-anywhere",
			want: Decision{Requestable: true, DefaultDuration: time.Hour, MaxDuration: 8 * time.Hour, ApprovalPolicy: "admin",
				Why: "Rule 'admin-anywhere' applies because it names AdministratorAccess on every account (more specific than 'accounts-everyone', which matches every account); you are in group Admins, which it allows."},
		},
		{
			name:  "account named beats the deeper OU",
			rules: orgRules, target: prodRead, who: bob, rule: "prod-account",
			want: Decision{Requestable: true, DefaultDuration: time.Hour, MaxDuration: 8 * time.Hour, ApprovalPolicy: "prod-account",
				Why: "Rule 'prod-account' applies because it names account prod (more specific than 'prod-eu-ou', which matches every account under OU ou-prod-eu); it allows everyone signed in."},
		},
		{
			name: "deeper OU beats its parent OU",
			// The org's rules up to (not including) the account rule: the catch-all and the two OUs.
			rules:  orgRules[:strings.Index(orgRules, "  - name: prod-account")],
			target: prodRead, who: bob, rule: "prod-eu-ou",
			want: Decision{Requestable: true, DefaultDuration: time.Hour, MaxDuration: 8 * time.Hour, ApprovalPolicy: "prod-eu",
				Why: "Rule 'prod-eu-ou' applies because it matches every account under OU ou-prod-eu (more specific than 'prod-ou', which matches every account under OU ou-prod); it allows everyone signed in."},
		},
		{
			name: "an OU covers its whole subtree",
			rules: `rules:
  - name: accounts-everyone
    requesters: {everyone: true}
    approval_policy: default
  - name: prod-ou
    match: {ous: [ou-prod]}
    requesters: {everyone: true}
    duration: {default: 30m, max: 2h}
    approval_policy: prod
`,
			target: prodRead, who: bob, rule: "prod-ou",
			want: Decision{Requestable: true, DefaultDuration: 30 * time.Minute, MaxDuration: 2 * time.Hour, ApprovalPolicy: "prod",
				Why: "Rule 'prod-ou' applies because it matches every account under OU ou-prod (more specific than 'accounts-everyone', which matches every account); it allows everyone signed in."},
		},
		{
			name:  "an account outside the OU falls to the catch-all",
			rules: orgRules, target: Target{ResourceType: ResourceAccount, AccountID: "222222222222", AccountName: "dev",
				OUPath: []string{"r-root", "ou-dev"}, PermissionSetID: "ps-read", PermissionSetName: "ReadOnlyAccess"},
			who: bob, rule: "accounts-everyone",
			want: Decision{Requestable: true, DefaultDuration: time.Hour, MaxDuration: 8 * time.Hour, ApprovalPolicy: "default",
				Why: "Rule 'accounts-everyone' applies because it matches every account; it allows everyone signed in."},
		},
		{
			name:  "the most specific rule decides even when it leaves the requester out",
			rules: orgRules, target: devAdmin, who: bob, rule: "admin-anywhere",
			want: Decision{DefaultDuration: time.Hour, MaxDuration: 8 * time.Hour, ApprovalPolicy: "admin",
				Why:               "Rule 'admin-anywhere' applies because it names AdministratorAccess on every account (more specific than 'accounts-everyone', which matches every account).",
				NotRequestableWhy: "You cannot request permission set AdministratorAccess on account dev: rule 'admin-anywhere' allows only group Admins, and you are not among them; ask to be added, or ask an admin to change the rule."},
		},
		{
			name:  "a rule for one resource type beats one for two",
			rules: orgRules, target: oncallGroup, who: bob, rule: "sso-groups",
			want: Decision{Requestable: true, DefaultDuration: time.Hour, MaxDuration: 8 * time.Hour, ApprovalPolicy: "auto",
				Why: "Rule 'sso-groups' applies because it matches every Identity Center group (more specific than 'oncall-groups', which matches every Identity Center group and IAM group); it allows everyone signed in."},
		},
		{
			name:  "IAM group membership: only the group rule matches, and it names the person",
			rules: orgRules, target: iamDeployers, who: Requester{Email: "Carol@Example.COM"}, rule: "oncall-groups",
			want: Decision{Requestable: true, DefaultDuration: time.Hour, MaxDuration: 8 * time.Hour, ApprovalPolicy: "auto",
				Why: "Rule 'oncall-groups' applies because it matches every Identity Center group and IAM group; it names you (carol@example.com)."},
		},
		{
			name: "a named group beats the account it lives in",
			rules: `rules:
  - name: prod-iam-groups
    match: {resource_types: [iam_group], accounts: [prod]}
    requesters: {everyone: true}
    approval_policy: prod
  - name: deployers
    match: {resource_types: [iam_group], groups: [deployers]}
    requesters: {groups: [Admins]}
    approval_policy: deploy
`,
			target: iamDeployers, who: alice, rule: "deployers",
			want: Decision{Requestable: true, DefaultDuration: time.Hour, MaxDuration: 8 * time.Hour, ApprovalPolicy: "deploy",
				Why: "Rule 'deployers' applies because it names group deployers (more specific than 'prod-iam-groups', which names account prod); you are in group Admins, which it allows."},
		},
		{
			name: "an application other than aws is matched only by its own rules",
			rules: `rules:
  - name: aws-everything
    requesters: {everyone: true}
    approval_policy: default
  - name: other-app
    match: {application: billing}
    requesters: {everyone: true}
    approval_policy: billing
`,
			target: Target{Application: "Billing", ResourceType: ResourceAppResource, EntitlementID: "app_resource:billing:role:viewer:member"},
			who:    bob, rule: "other-app",
			want: Decision{Requestable: true, DefaultDuration: time.Hour, MaxDuration: 8 * time.Hour, ApprovalPolicy: "billing",
				Why: "Rule 'other-app' applies because it matches every entitlement of application Billing; it allows everyone signed in."},
		},
		{
			name: "equally specific rules: the first in the file wins, and Why says so",
			rules: `rules:
  - name: prod-by-name
    match: {accounts: [prod]}
    requesters: {people: [bob@example.com]}
    approval_policy: first
  - name: prod-and-dev
    match: {accounts: ["111111111111", dev]}
    requesters: {everyone: true}
    approval_policy: second
`,
			target: prodRead, who: bob, rule: "prod-by-name",
			want: Decision{Requestable: true, DefaultDuration: time.Hour, MaxDuration: 8 * time.Hour, ApprovalPolicy: "first",
				Why: "Rule 'prod-by-name' applies because it names account prod (as specific as 'prod-and-dev', which names account prod; of equally specific rules the first in the file wins); it names you (bob@example.com)."},
		},
		{
			name: "no rule matches",
			rules: `rules:
  - name: dev-only
    match: {accounts: [dev]}
    requesters: {everyone: true}
    approval_policy: default
`,
			target: prodAdmin, who: alice,
			want: Decision{
				Why:               "No rule makes permission set AdministratorAccess on account prod requestable; ask an admin to add a requestability rule for it.",
				NotRequestableWhy: "No rule makes permission set AdministratorAccess on account prod requestable; ask an admin to add a requestability rule for it."},
		},
		{
			name: "no rule for an IAM group",
			rules: `rules:
  - name: accounts-everyone
    requesters: {everyone: true}
    approval_policy: default
`,
			target: iamDeployers, who: alice,
			want: Decision{
				Why:               "No rule makes membership of IAM group deployers in account prod requestable; ask an admin to add a requestability rule for it.",
				NotRequestableWhy: "No rule makes membership of IAM group deployers in account prod requestable; ask an admin to add a requestability rule for it."},
		},
		{
			name: "Identity Center groups are not accounts: the default match does not cover them",
			rules: `rules:
  - name: accounts-everyone
    requesters: {everyone: true}
    approval_policy: default
`,
			target: oncallGroup, who: alice,
			want: Decision{
				Why:               "No rule makes membership of Identity Center group oncall requestable; ask an admin to add a requestability rule for it.",
				NotRequestableWhy: "No rule makes membership of Identity Center group oncall requestable; ask an admin to add a requestability rule for it."},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustParse(t, tt.rules).Decide(tt.target, tt.who)
			gotRule := ""
			if got.Rule != nil {
				gotRule = got.Rule.Name
			}
			if gotRule != tt.rule {
				t.Errorf("rule = %q, want %q", gotRule, tt.rule)
			}
			got.Rule = nil
			if got != tt.want {
				t.Errorf("decision:\n%+v\nwant:\n%+v", got, tt.want)
			}
		})
	}
}

func TestDecideRequesters(t *testing.T) {
	rs := mustParse(t, `rules:
  - name: r
    requesters:
      groups: [Admins, 9067-abcd]
      people: [Dana@Example.com]
    approval_policy: default
`)
	tests := []struct {
		name string
		who  Requester
		ok   bool
		why  string
	}{
		{"group by name", Requester{Email: "x@example.com", Groups: []string{"Readers", "Admins"}}, true,
			"Rule 'r' applies because it matches every account; you are in group Admins, which it allows."},
		{"group by id", Requester{Email: "x@example.com", Groups: []string{"9067-abcd"}}, true,
			"Rule 'r' applies because it matches every account; you are in group 9067-abcd, which it allows."},
		{"person by email, case-insensitive", Requester{Email: "dana@EXAMPLE.com"}, true,
			"Rule 'r' applies because it matches every account; it names you (Dana@Example.com)."},
		// Group names compare exactly: "admins" is not the group "Admins".
		{"group name in another case is another group", Requester{Email: "x@example.com", Groups: []string{"admins"}}, false, ""},
		{"nobody in particular", Requester{Email: "x@example.com"}, false, ""},
		{"no email matches no person", Requester{}, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := rs.Decide(prodRead, tt.who)
			if d.Requestable != tt.ok {
				t.Fatalf("requestable = %v, want %v (%s%s)", d.Requestable, tt.ok, d.Why, d.NotRequestableWhy)
			}
			if tt.ok && d.Why != tt.why {
				t.Errorf("why = %q, want %q", d.Why, tt.why)
			}
			if !tt.ok {
				want := "You cannot request permission set ReadOnlyAccess on account prod: rule 'r' allows only groups Admins, 9067-abcd and Dana@Example.com, and you are not among them; ask to be added, or ask an admin to change the rule."
				if d.NotRequestableWhy != want {
					t.Errorf("not requestable why = %q, want %q", d.NotRequestableWhy, want)
				}
			}
		})
	}
	everyone := DefaultRules().Decide(prodRead, Requester{Email: "new@example.com"})
	if !everyone.Requestable || everyone.Why != "Rule 'accounts-everyone' applies because it matches every account; it allows everyone signed in." {
		t.Errorf("everyone: %+v", everyone)
	}
}

func TestDefaultRulesSeed(t *testing.T) {
	rs := DefaultRules()
	for _, target := range []Target{prodAdmin, prodRead, devAdmin, {ResourceType: ResourceAccount, AccountID: "999999999999", PermissionSetID: "ps-x"}} {
		d := rs.Decide(target, bob)
		want := Decision{Requestable: true, Rule: &rs.Rules[0], DefaultDuration: time.Hour, MaxDuration: 8 * time.Hour,
			ReasonRequired: true, ApprovalPolicy: "default",
			Why: "Rule 'accounts-everyone' applies because it matches every account; it allows everyone signed in."}
		if d != want {
			t.Errorf("seed on %s:\n%+v\nwant:\n%+v", target.EntitlementID, d, want)
		}
	}
	if d := rs.Decide(oncallGroup, bob); d.Requestable {
		t.Errorf("seed makes group membership requestable: %+v", d)
	}
}

func TestValidateDuration(t *testing.T) {
	d := mustParse(t, orgRules).Decide(prodAdmin, alice) // prod-admins: default 15m, max 1h
	tests := []struct {
		want time.Duration
		err  string
	}{
		{0, ""},
		{time.Minute, ""},
		{time.Hour, ""},
		{59 * time.Second, "duration 59s is shorter than the minimum of 1m; ask for 1m or more"},
		{90 * time.Minute, "duration 1h30m is longer than the 1h that rule 'prod-admins' allows; ask for 1h or less"},
	}
	for _, tt := range tests {
		err := d.ValidateDuration(tt.want)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tt.err {
			t.Errorf("ValidateDuration(%v) = %q, want %q", tt.want, got, tt.err)
		}
	}
	none := mustParse(t, "rules:\n").Decide(prodAdmin, alice)
	if err := none.ValidateDuration(time.Hour); err == nil || err.Error() != none.NotRequestableWhy {
		t.Errorf("not requestable: ValidateDuration = %v, want %q", err, none.NotRequestableWhy)
	}
}
