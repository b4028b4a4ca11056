package access

import (
	"os"
	"strings"
	"testing"
)

// Rules for applications imported from files (resource type app_resource).

var payrollAdmin = Target{Application: "app_0001", ApplicationName: "Payroll", ResourceType: ResourceAppResource,
	EntitlementID:  "app_resource:app_0001:role:payroll admins:admin",
	AppEntitlement: "role/payroll admins/admin", AppEntitlementName: "role / Payroll Admins / admin"}

var payrollViewer = Target{Application: "app_0001", ApplicationName: "Payroll", ResourceType: ResourceAppResource,
	EntitlementID:  "app_resource:app_0001:role:payroll:viewer",
	AppEntitlement: "role/payroll/viewer", AppEntitlementName: "role / Payroll / viewer"}

func TestAppRulesDecide(t *testing.T) {
	rs, err := ParseRules([]byte(`rules:
  - name: accounts-everyone
    requesters: {everyone: true}
    approval_policy: default
  - name: payroll
    match: {application: app_0001}
    requesters: {everyone: true}
    approval_policy: owner
  - name: payroll-admin
    match: {application: Payroll, entitlements: ["Role/Payroll  Admins/ADMIN"]}
    requesters: {people: [alice@example.com]}
    duration: {max: 2h}
    approval_policy: owner
`))
	if err != nil {
		t.Fatal(err)
	}
	// The catch-all for AWS never covers an imported application.
	if d := rs.Decide(payrollViewer, bob); !d.Requestable || d.Rule.Name != "payroll" ||
		d.Why != "Rule 'payroll' applies because it matches every entitlement of application Payroll; it allows everyone signed in." {
		t.Errorf("viewer: %+v", d)
	}
	// The rule naming the entitlement (by the files' spelling, any case and spacing) wins.
	d := rs.Decide(payrollAdmin, bob)
	if d.Requestable || d.Rule == nil || d.Rule.Name != "payroll-admin" {
		t.Fatalf("admin for bob: %+v", d)
	}
	if want := "You cannot request role / Payroll Admins / admin in application Payroll: rule 'payroll-admin' allows only alice@example.com, and you are not among them; ask to be added, or ask an admin to change the rule."; d.NotRequestableWhy != want {
		t.Errorf("why not:\n%s\nwant:\n%s", d.NotRequestableWhy, want)
	}
	if d := rs.Decide(payrollAdmin, alice); !d.Requestable || d.MaxDuration.String() != "2h0m0s" ||
		!strings.HasPrefix(d.Why, "Rule 'payroll-admin' applies because it names role / Payroll Admins / admin in application Payroll (more specific than 'payroll'") {
		t.Errorf("admin for alice: %+v", d)
	}
	// An AWS target is not matched by the application's rules.
	if d := rs.Decide(prodAdmin, bob); d.Rule == nil || d.Rule.Name != "accounts-everyone" {
		t.Errorf("aws: %+v", d.Rule)
	}
	// Exported and read back, the rules are the same.
	out, err := rs.Export()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "application: app_0001\n      resource_types: [app_resource]") ||
		!strings.Contains(string(out), "entitlements: [Role/Payroll  Admins/ADMIN]") {
		t.Errorf("export:\n%s", out)
	}
	back, err := ParseRules(out)
	if err != nil {
		t.Fatalf("export does not read back: %v\n%s", err, out)
	}
	if d := back.Decide(payrollAdmin, alice); !d.Requestable || d.Rule.Name != "payroll-admin" {
		t.Errorf("read back: %+v", d)
	}
}

func TestAppRulesProblems(t *testing.T) {
	_, err := ParseRules([]byte(`rules:
  - name: a
    match: {resource_types: [app_resource]}
    requesters: {everyone: true}
    approval_policy: default
  - name: b
    match: {application: app_1, resource_types: [app_resource, account]}
    requesters: {everyone: true}
    approval_policy: default
  - name: c
    match: {application: app_1, resource_types: [account]}
    requesters: {everyone: true}
    approval_policy: default
  - name: d
    match: {application: app_1, accounts: [prod], entitlements: [admin]}
    requesters: {everyone: true}
    approval_policy: default
  - name: e
    match: {entitlements: [group/eng/member]}
    requesters: {everyone: true}
    approval_policy: default
  - name: f
    match: {application: app_1}
    requesters: {everyone: true}
    approval_policy: default
    end_sessions: true
`))
	want := `rules.yaml:3:13: rules[0].match.resource_types: app_resource is the access of an application imported from files; set application to that application's id (app_...) or name
rules.yaml:7:33: rules[1].match.resource_types: app_resource (an imported application's entitlements) cannot be mixed with AWS's resource types in one rule; split it into two rules
rules.yaml:11:33: rules[2].match.resource_types: application "app_1" is not aws, so only resource type app_resource can match it; use resource_types: [app_resource] or set application: aws
rules.yaml:15:33: rules[3].match.accounts: an imported application has no AWS accounts, so this rule could never match; remove accounts
rules.yaml:15:66: rules[3].match.entitlements: "admin": name an entitlement as "<resource type>/<resource name>/<entitlement>" (for example group/Engineering/member) or by its id (app_resource:...)
rules.yaml:19:13: rules[4].match.entitlements: entitlements name an imported application's access; set application to the application's id (app_...) or remove entitlements
rules.yaml:26:19: rules[5].end_sessions: live sessions can be ended only for AWS permission sets; an imported application's owner ends access by hand, so remove end_sessions`
	if err == nil || err.Error() != want {
		t.Errorf("error:\n%v\nwant:\n%s", err, want)
	}
}

// The example of docs/jit.md (Applications imported from files) parses, and its narrow rule
// wins for the entitlement it names.
func TestAppRulesDocExample(t *testing.T) {
	page, err := os.ReadFile("../../docs/jit.md")
	if err != nil {
		t.Fatal(err)
	}
	const start = "```yaml\n# The access of Payroll, an application imported from files.\n"
	i := strings.Index(string(page), start)
	if i < 0 {
		t.Fatal("docs/jit.md has no example for imported applications")
	}
	doc := string(page)[i+len("```yaml\n"):]
	doc = doc[:strings.Index(doc, "```")]
	cfg, err := ParseConfig([]byte(doc))
	if err != nil {
		t.Fatalf("the example does not parse:\n%v", err)
	}
	finance := Requester{Email: "fay@example.com", Groups: []string{"Finance"}}
	if d := cfg.Rules.Decide(payrollAdmin, finance); !d.Requestable || d.Rule.Name != "payroll-admins" || d.ApprovalPolicy != "owner" {
		t.Errorf("admin: %+v", d)
	}
	if d := cfg.Rules.Decide(payrollAdmin, bob); d.Requestable {
		t.Errorf("bob may request admin: %+v", d)
	}
	if d := cfg.Rules.Decide(payrollViewer, bob); !d.Requestable || d.Rule.Name != "payroll" || !d.ReasonRequired {
		t.Errorf("viewer: %+v", d)
	}
}
