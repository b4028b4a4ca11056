package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/awsperms"
	"github.com/gatehouse/gatehouse/internal/awssim"
	"github.com/gatehouse/gatehouse/internal/doctor"
	"github.com/gatehouse/gatehouse/internal/setup"
)

// doctorFeatures are every feature; the doctor tests check them all.
var doctorFeatures = awsperms.All

// generatedSim serves the full-org fixture with Gatehouse's access exactly as setup
// generates it for every feature and the member role GatehouseMember; change adjusts the
// world (and may read the bundle) before the simulator starts.
func generatedSim(t *testing.T, change func(w *awssim.World, b *setup.Bundle)) (*awssim.Sim, awssim.Info, *setup.Bundle) {
	t.Helper()
	w, err := awssim.LoadFixture(filepath.Join("..", "..", "internal", "setup", "testdata", "full-org.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := setup.Generate(setup.Options{Features: doctorFeatures, MemberRoleName: "GatehouseMember", OrgID: w.Org.ID,
		TrustedPrincipal: operatorARN, ExternalID: "full-org-external-id"})
	if err != nil {
		t.Fatal(err)
	}
	w.AddConnectorAccess(b.ExternalID, string(b.Permissions.JSON()))
	w.ManagementAccount().Roles[awssim.ConnectorRoleName].AssumeRolePolicy = string(b.Trust.JSON())
	for _, id := range w.AccountIDs() {
		if a := w.Accounts[id]; id != w.ManagementAccountID && a.Status == "ACTIVE" {
			role := a.AddRole(w, "GatehouseMember", "/", string(b.MemberTrust.JSON()))
			role.InlinePolicies[setup.MemberPolicyName] = string(b.MemberPermissions.JSON())
		}
	}
	if change != nil {
		change(w, b)
	}
	s := awssim.New(w, awssim.Options{})
	if _, err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, s.Info(), b
}

// fullDoctorArgs are the doctor flags for every feature of the generated setup.
func fullDoctorArgs(info awssim.Info) []string {
	return []string{"--role-arn", info.RoleARN, "--external-id", info.ExternalID, "--orgs", "--member-role-name", "GatehouseMember",
		"--identity-center", "--identity-center-region", info.IdentityCenterRegion, "--sync-secrets",
		"--scim-endpoint", info.SCIMEndpoint, "--provisioning"}
}

// runDoctor runs `gatehouse doctor` against the simulator as the operator, with the SCIM
// token in the environment when the arguments name the SCIM endpoint.
func runDoctor(t *testing.T, info awssim.Info, args ...string) (string, string, error) {
	t.Helper()
	env := syncEnv(t, info)
	if slices.Contains(args, "--scim-endpoint") && !slices.Contains(args, "--scim-token") {
		env = append(env, "GATEHOUSE_SCIM_TOKEN="+info.SCIMToken)
	}
	return runGatehouseEnv(t, env, append([]string{"doctor", "--endpoint-url", info.Endpoint, "--region", info.Region}, args...)...)
}

// needCount is how many actions the doctor checks for a role with every feature: one per
// action and resource, gatehouse doctor's own self-check left out.
func needCount(role awsperms.Role) int { return needCountFor(doctorFeatures, role) }

func needCountFor(f awsperms.Set, role awsperms.Role) int {
	seen := map[string]bool{}
	for _, p := range awsperms.Needed(f, role) {
		if !slices.Contains(p.Features, awsperms.Doctor) {
			seen[p.Action+" "+string(p.Resource)] = true
		}
	}
	return len(seen)
}

func wantLines(t *testing.T, out string, lines ...string) {
	t.Helper()
	for _, l := range lines {
		if !strings.Contains(out, l+"\n") {
			t.Errorf("output lacks the line %q:\n%s", l, out)
		}
	}
}

var orgIDPattern = regexp.MustCompile(`o-[a-z0-9]+`)

// A setup made of exactly what setup generates passes every check.
func TestDoctorCorrectSetup(t *testing.T) {
	_, info, _ := generatedSim(t, nil)
	stdout, stderr, err := runDoctor(t, info, fullDoctorArgs(info)...)
	if err != nil {
		t.Fatalf("doctor failed: %v\n%s\n%s", err, stdout, stderr)
	}
	orgID := orgIDPattern.FindString(stdout)
	wantLines(t, stdout,
		"PASS  Credentials         from environment variables (AWS_ACCESS_KEY_ID): "+operatorARN,
		"PASS  Connector role      assumed "+info.RoleARN+" with the External ID",
		"PASS  External ID         the trust policy requires sts:ExternalId",
		"      checked by reading the trust policy (iam:GetRole)",
		"PASS  Organization access account 111111111111 is the management account of organization "+orgID,
		fmt.Sprintf("PASS  Identity Center     instance %s (identity store %s) in %s", info.InstanceARN, info.IdentityStoreID, info.IdentityCenterRegion),
		fmt.Sprintf("PASS  Permissions         the connector role allows all %d actions the chosen features need", needCount(awsperms.Connector)),
		fmt.Sprintf("PASS  Member accounts     entered all 2 member accounts with GatehouseMember; each allows the %d actions the member role needs", needCount(awsperms.Member)),
		"PASS  SCIM                "+info.SCIMEndpoint+" accepted the token and listed users",
		"Everything the chosen features need works.",
	)
	if strings.Contains(stdout, "WARN") || strings.Contains(stdout, "FAIL") || strings.Contains(stdout, "SKIP") {
		t.Errorf("a correct setup has warnings or failures:\n%s", stdout)
	}

	// The same as JSON, with how each permission was checked.
	stdout, _, err = runDoctor(t, info, append(fullDoctorArgs(info), "--json")...)
	if err != nil {
		t.Fatal(err)
	}
	var rep doctor.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("--json: %v\n%s", err, stdout)
	}
	methods := map[string]string{}
	for _, c := range rep.Checks {
		if c.Status != doctor.Pass {
			t.Errorf("--json: %s is %s", c.ID, c.Status)
		}
		if c.ID == "permissions" {
			for _, it := range c.Items {
				methods[it.Name] = it.Method
			}
		}
	}
	if !rep.OK || len(rep.Checks) != 8 {
		t.Errorf("--json: ok=%v with %d checks", rep.OK, len(rep.Checks))
	}
	for action, want := range map[string]string{
		"iam:ListRoles":               "a harmless read call",
		"sso:ListAccountAssignments":  "a harmless read call",
		"sts:AssumeRole":              "assuming the member role in the member accounts",
		"sso:CreateAccountAssignment": "the IAM policy simulator (iam:SimulatePrincipalPolicy)",
		"iam:CreateRole":              "the IAM policy simulator (iam:SimulatePrincipalPolicy)",
	} {
		if methods[action] != want {
			t.Errorf("%s checked by %q, want %q", action, methods[action], want)
		}
	}
}

// A trust policy without the External ID condition is a warning, not a failure.
func TestDoctorWarnsWithoutExternalIDCondition(t *testing.T) {
	_, info, _ := generatedSim(t, func(w *awssim.World, b *setup.Bundle) {
		w.ManagementAccount().Roles[awssim.ConnectorRoleName].AssumeRolePolicy = awssim.TrustPolicy(operatorARN, "")
	})
	stdout, stderr, err := runDoctor(t, info, fullDoctorArgs(info)...)
	if err != nil {
		t.Fatalf("a missing External ID condition failed the doctor: %v\n%s\n%s", err, stdout, stderr)
	}
	wantLines(t, stdout,
		"WARN  External ID         the trust policy lets "+operatorARN+" assume the role without an External ID",
		"      checked by reading the trust policy (iam:GetRole)",
		`      fix: add "Condition": {"StringEquals": {"sts:ExternalId": "EXTERNAL_ID"}} to the statements of `+info.RoleARN+`'s trust policy that allow sts:AssumeRole (gatehouse setup aws generates the trust policy), and pass the same value with --external-id`,
		"Everything the chosen features need works, with 1 warning to look at.",
	)
}

// Without the self-check statement, the doctor infers the External ID by trying the role
// without one, and checks the write actions by reading the role's policies with
// iam:GetAccountAuthorizationDetails, which the generated policy grants (the sync needs
// it), and evaluating them: every action of the generated policy passes but the one the
// statement held for --provisioning itself (grant and revoke --dry-run simulate with it).
func TestDoctorWithoutSelfCheckPermissions(t *testing.T) {
	_, info, _ := generatedSim(t, func(w *awssim.World, b *setup.Bundle) {
		pol := b.Permissions
		pol.Statement = slices.DeleteFunc(slices.Clone(pol.Statement), func(s awsperms.Statement) bool { return s.Sid == "DoctorSelfCheck" })
		w.ManagementAccount().Roles[awssim.ConnectorRoleName].InlinePolicies[setup.ConnectorPolicyName] = string(pol.JSON())
	})
	stdout, stderr, err := runDoctor(t, info, fullDoctorArgs(info)...)
	if err == nil {
		t.Fatalf("doctor passed without iam:SimulatePrincipalPolicy, which --provisioning needs:\n%s", stdout)
	}
	wantLines(t, stdout,
		"PASS  External ID         assuming the role without an External ID is refused",
		"      checked by assuming the role without an External ID (iam:GetRole on the role is not allowed)",
		fmt.Sprintf("FAIL  Permissions         the connector role lacks 1 of the %d actions the chosen features need: iam:SimulatePrincipalPolicy", needCount(awsperms.Connector)),
	)
	if !strings.Contains(stdout, "; reading the role's policies (iam:GetAccountAuthorizationDetails) and evaluating them here (conditions, service control policies and permissions boundaries not seen) (") ||
		strings.Contains(stdout, "could not be checked") {
		t.Errorf("the write actions were not checked by reading the role's policies:\n%s\n%s", stdout, stderr)
	}
}

// With --orgs, a connector role in a member account fails with the fix.
func TestDoctorOrgsFromAMemberAccount(t *testing.T) {
	_, info, b := generatedSim(t, func(w *awssim.World, b *setup.Bundle) {
		prod := w.Accounts["222222222222"]
		role := prod.AddRole(w, awssim.ConnectorRoleName, "/", string(b.Trust.JSON()))
		role.InlinePolicies[setup.ConnectorPolicyName] = string(b.Permissions.JSON())
		w.ManagementAccount().Users[awssim.OperatorUserName].InlinePolicies["AssumeGatehouseConnector"] = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}`
	})
	info.RoleARN = "arn:aws:iam::222222222222:role/GatehouseConnector"
	stdout, _, err := runDoctor(t, info, "--role-arn", info.RoleARN, "--external-id", b.ExternalID, "--orgs", "--member-role-name", "GatehouseMember")
	if err == nil {
		t.Fatalf("doctor passed with the connector in a member account:\n%s", stdout)
	}
	orgID := orgIDPattern.FindString(stdout)
	wantLines(t, stdout,
		"PASS  Connector role      assumed arn:aws:iam::222222222222:role/GatehouseConnector with the External ID",
		"FAIL  Organization access the connector role is in member account 222222222222 of organization "+orgID+", which is neither the management account (111111111111) nor a delegated administrator: Organizations refuses to list the organization to it",
		"      fix: create the connector role in the management account 111111111111 (run gatehouse setup aws --orgs with credentials for it), or make 222222222222 a delegated administrator for AWS Organizations",
		"SKIP  Member accounts     needs access to the organization",
	)
	if !strings.Contains(stdout, "failed (Organization access") {
		t.Errorf("the summary does not name the failed check:\n%s", stdout)
	}
}

// A missing permission fails, naming the action and what it is for: a read found by its
// probe, a write by the policy simulator.
func TestDoctorMissingPermission(t *testing.T) {
	_, info, _ := generatedSim(t, func(w *awssim.World, b *setup.Bundle) {
		var pol awsperms.Policy
		_ = json.Unmarshal(b.Permissions.JSON(), &pol)
		for i, st := range pol.Statement {
			pol.Statement[i].Action = slices.DeleteFunc(slices.Clone(st.Action), func(a string) bool {
				return a == "iam:ListRoles" || a == "sso:CreateAccountAssignment"
			})
		}
		w.ManagementAccount().Roles[awssim.ConnectorRoleName].InlinePolicies[setup.ConnectorPolicyName] = string(pol.JSON())
	})
	stdout, stderr, err := runDoctor(t, info, fullDoctorArgs(info)...)
	if err == nil {
		t.Fatalf("doctor passed without iam:ListRoles:\n%s", stdout)
	}
	wantLines(t, stdout,
		fmt.Sprintf("FAIL  Permissions         the connector role lacks 2 of the %d actions the chosen features need: iam:ListRoles, sso:CreateAccountAssignment", needCount(awsperms.Connector)),
		"      - iam:ListRoles: denied; needed for the base sync (role descriptions and maximum session durations, which GetAccountAuthorizationDetails leaves out)",
		"      - sso:CreateAccountAssignment: denied; needed for --provisioning with --identity-center (grants a permission set in an account to a user or group (provisioning the permission set there if needed))",
		"      fix: allow iam:ListRoles, sso:CreateAccountAssignment in the connector role's policy: gatehouse setup aws --orgs --identity-center --sync-secrets --scim --provisioning generates the whole policy, and docs/setup.md says what each action is for",
		// The member roles are fine: only the connector role lacks the actions.
		fmt.Sprintf("PASS  Member accounts     entered all 2 member accounts with GatehouseMember; each allows the %d actions the member role needs", needCount(awsperms.Member)),
		"1 check failed (Permissions): Gatehouse cannot work with these settings until it is fixed.",
	)
	if stderr != "gatehouse: doctor: Permissions failed\n" {
		t.Errorf("stderr = %q", stderr)
	}
}

// Member accounts that cannot be entered, or that deny what the member role needs, fail
// the check, each listed with its reason; suspended accounts are noted, not failed.
func TestDoctorUnassumableMemberAccount(t *testing.T) {
	_, info := fixtureSim(t, "unassumable-account.yaml", awssim.Options{})
	stdout, _, err := runDoctor(t, info, "--role-arn", info.RoleARN, "--external-id", info.ExternalID, "--orgs")
	if err == nil {
		t.Fatalf("doctor passed with unassumable member accounts:\n%s", stdout)
	}
	wantLines(t, stdout,
		"PASS  Organization access account 111111111111 is the management account of organization "+orgIDPattern.FindString(stdout),
		"FAIL  Member accounts     2 of 3 member accounts cannot be synced with GatehouseMember: 333333333333, 444444444444; 1 not active, skipped as the sync skips them: 555555555555 (suspended)",
		"      - 444444444444 restricted: the member role lacks iam:GetAccountAuthorizationDetails, iam:ListRoles, iam:ListVirtualMFADevices, iam:ListAccountAliases, iam:GenerateCredentialReport, iam:GetCredentialReport, iam:GetAccountSummary, iam:ListMFADevices, iam:GetLoginProfile, iam:GetUser, iam:ListAccessKeys, iam:GetAccessKeyLastUsed",
		"      fix: give each of these accounts the role GatehouseMember, trusting the connector role "+info.RoleARN+", with the member policy (member-permissions-policy.json); gatehouse setup aws --orgs generates a StackSet that creates it in every account, so look there for failed stack instances",
		fmt.Sprintf("PASS  Permissions         the connector role allows all %d actions the chosen features need", needCountFor(awsperms.Set{Orgs: true}, awsperms.Connector)),
		"1 check failed (Member accounts): Gatehouse cannot work with these settings until it is fixed.",
	)
	// The reason is the sync's own, which may go on to explain the permission.
	if want := "\n      - 333333333333 sandbox: cannot assume arn:aws:iam::333333333333:role/GatehouseMember: AccessDenied: User: arn:aws:sts::111111111111:assumed-role/GatehouseConnector/gatehouse-doctor is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::333333333333:role/GatehouseMember"; !strings.Contains(stdout, want) {
		t.Errorf("output lacks %q:\n%s", want, stdout)
	}
	if strings.Contains(stdout, "222222222222") {
		t.Errorf("the healthy account is listed:\n%s", stdout)
	}
}

// The connection problems come first, and stop the checks that depend on them.
func TestDoctorConnectionFailures(t *testing.T) {
	_, info, _ := generatedSim(t, nil)

	stdout, _, err := runGatehouseEnv(t, noAWSEnv(t), "doctor", "--endpoint-url", info.Endpoint, "--role-arn", info.RoleARN, "--orgs")
	if err == nil {
		t.Fatalf("doctor passed without credentials:\n%s", stdout)
	}
	wantLines(t, stdout,
		"      fix: set AWS_PROFILE (after aws sso login for an SSO profile), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run where an instance or container role is available",
		"SKIP  External ID         needs working credentials",
		"SKIP  Member accounts     needs working credentials",
	)
	if !strings.HasPrefix(stdout, "FAIL  Credentials         no AWS credentials found: ") {
		t.Errorf("output:\n%s", stdout)
	}

	stdout, _, err = runDoctor(t, info, "--role-arn", info.RoleARN, "--external-id", "wrong-external-id")
	if err == nil {
		t.Fatalf("doctor passed with a wrong External ID:\n%s", stdout)
	}
	wantLines(t, stdout,
		"FAIL  Connector role      cannot assume "+info.RoleARN+": AccessDenied: User: "+operatorARN+" is not authorized to perform: sts:AssumeRole on resource: "+info.RoleARN,
		"      fix: check that the role exists; that its trust policy names "+operatorARN+" (or its account) as Principal; its sts:ExternalId condition equals the External ID passed with --external-id; and that "+operatorARN+"'s own policies allow sts:AssumeRole on the role",
		"SKIP  Permissions         needs the connector role",
	)

	// A rejected SCIM token does not fail the sync (SCIM is optional data), so doctor
	// warns, with the sync's fix, and exits 0.
	stdout, stderr, err := runDoctor(t, info, "--role-arn", info.RoleARN, "--external-id", info.ExternalID, "--identity-center",
		"--scim-endpoint", info.SCIMEndpoint, "--scim-token", "not-the-token")
	if err != nil {
		t.Fatalf("doctor failed on a rejected SCIM token, which the sync tolerates: %v\n%s%s", err, stdout, stderr)
	}
	wantLines(t, stdout,
		"WARN  SCIM                "+info.SCIMEndpoint+" refused the token (HTTP 401); SCIM is optional: the sync still succeeds, and users whose status the Identity Store API does not report are left unknown",
		"      fix: create a new token in Identity Center > Settings > Automatic provisioning (tokens expire after a year) and pass it with --scim-token or GATEHOUSE_SCIM_TOKEN",
	)
	if strings.Contains(stdout+stderr, "not-the-token") {
		t.Error("the token is printed")
	}

	// Nothing listening at the SCIM endpoint, or no SCIM API there: warnings too, with the
	// real cause, since the sync succeeds without SCIM.
	notFound := httptest.NewServer(http.NotFoundHandler())
	defer notFound.Close()
	optional := "; SCIM is optional: the sync still succeeds, and users whose status the Identity Store API does not report are left unknown"
	for _, c := range []struct{ endpoint, want, fix string }{
		{"http://127.0.0.1:1/scim/v2/", "WARN  SCIM                cannot reach the SCIM endpoint: connection refused to 127.0.0.1:1 (nothing listens there), calling http://127.0.0.1:1/scim/v2/Users?count=1" + optional,
			"      fix: check --scim-endpoint (IAM Identity Center > Settings > Automatic provisioning shows it) and the network path to it"},
		{notFound.URL + "/scim/v2/", "WARN  SCIM                no SCIM API at " + notFound.URL + "/scim/v2/ (HTTP 404)" + optional,
			"      fix: pass the SCIM endpoint exactly as IAM Identity Center shows it; it ends in /scim/v2/"},
	} {
		stdout, stderr, err := runDoctor(t, info, "--role-arn", info.RoleARN, "--external-id", info.ExternalID, "--identity-center",
			"--scim-endpoint", c.endpoint, "--scim-token", info.SCIMToken)
		if err != nil {
			t.Errorf("doctor failed on SCIM endpoint %s, which the sync tolerates: %v\n%s%s", c.endpoint, err, stdout, stderr)
		}
		wantLines(t, stdout, c.want, c.fix)
		if strings.Contains(stdout+stderr, info.SCIMToken) {
			t.Error("the token is printed")
		}
	}
}

func TestDoctorRejectsBadFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"doctor", "--external-id", "x"}, "gatehouse: --external-id is passed when assuming --role-arn; set --role-arn too\n"},
		{[]string{"doctor", "--scim-endpoint", "http://127.0.0.1:1/scim/v2/"}, "gatehouse: --scim-endpoint and --scim-token (or GATEHOUSE_SCIM_TOKEN) go together; set both or neither\n"},
	} {
		_, stderr, err := runGatehouseEnv(t, noAWSEnv(t), c.args...)
		if err == nil || stderr != c.want {
			t.Errorf("gatehouse %v: err=%v stderr=%q, want %q", c.args, err, stderr, c.want)
		}
	}
}

// A role that may read its own policies but not simulate them gets its write actions
// checked by evaluating those policies, and the report says so.
func TestDoctorReadsThePoliciesWhenItCannotSimulate(t *testing.T) {
	_, info := fixtureSim(t, "org-identity-center.yaml", awssim.Options{}) // the connector holds awssim.ConnectorReadPolicy
	stdout, _, err := runDoctor(t, info, "--role-arn", info.RoleARN, "--external-id", info.ExternalID, "--identity-center", "--provisioning")
	if err == nil {
		t.Fatalf("a read-only role passed the provisioning checks:\n%s", stdout)
	}
	wantLines(t, stdout,
		"      - sso:CreateAccountAssignment: denied; needed for --provisioning with --identity-center (grants a permission set in an account to a user or group (provisioning the permission set there if needed))",
		"      - iam:AddUserToGroup: denied; needed for --provisioning (grants an IAM group to an IAM user)",
	)
	if !strings.Contains(stdout, "reading the role's policies (iam:GetAccountAuthorizationDetails) and evaluating them here (conditions, service control policies and permissions boundaries not seen) (") {
		t.Errorf("the report does not say the policies were read and evaluated:\n%s", stdout)
	}
	if strings.Contains(stdout, "- iam:ListRoles") || strings.Contains(stdout, "- sso:ListInstances") {
		t.Errorf("reads the role allows are reported:\n%s", stdout)
	}
}
