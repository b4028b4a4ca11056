package awssim

import (
	"bytes"
	"encoding/json"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

var genTestNow = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// genTestJSON is the world's exported state: what the simulator serves.
func genTestJSON(t testing.TB, w *World) []byte {
	t.Helper()
	b, err := json.Marshal(w)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestGenerateIsDeterministic(t *testing.T) {
	sizes := genPresetSizes["small"]
	a := genTestJSON(t, Generate(7, sizes, genTestNow))
	b := genTestJSON(t, Generate(7, sizes, genTestNow))
	if !bytes.Equal(a, b) {
		t.Fatal("two worlds from seed 7 differ")
	}
	other := Generate(8, sizes, genTestNow)
	if bytes.Equal(a, genTestJSON(t, other)) {
		t.Fatal("seeds 7 and 8 give the same world")
	}
	w7 := Generate(7, sizes, genTestNow)
	if w7.ManagementAccountID == other.ManagementAccountID || w7.Connector.ExternalID == other.Connector.ExternalID ||
		w7.Connector.SCIMToken == other.Connector.SCIMToken || w7.Connector.AccessKeyID == other.Connector.AccessKeyID {
		t.Errorf("seeds 7 and 8 share an account id, External ID, SCIM token or key")
	}
	// Timestamps are relative to now.
	later := Generate(7, sizes, genTestNow.Add(24*time.Hour))
	u7 := w7.ManagementAccount().Users["gatehouse-operator"]
	ul := later.ManagementAccount().Users["gatehouse-operator"]
	if ul.CreateDate.Sub(u7.CreateDate) != 24*time.Hour || ul.ID != u7.ID {
		t.Errorf("a day later: operator created %v (was %v), id %s (was %s)", ul.CreateDate, u7.CreateDate, ul.ID, u7.ID)
	}
}

func TestGenerateSmallSizes(t *testing.T) {
	s := Sizes{Accounts: 4, OUs: 7, IAMUsersPerAccount: 3, IAMGroupsPerAccount: 2, IAMRolesPerAccount: 12, CustomerPoliciesPerAccount: 11,
		AccessKeysPerUser: 2, MFAPerUserPercent: 100, SSOUsers: 5, SSOGroups: 3, MembershipsPerUser: 2, PermissionSets: 15, Assignments: 20,
		SuspendedAccounts: 1}
	w := Generate(3, s, genTestNow)
	genTestCheckCounts(t, w, s)

	// Seven OUs: four at the top, a team under Workloads with Prod and NonProd.
	var paths []string
	for _, id := range sortedKeys(w.Org.OUs) {
		paths = append(paths, genTestOUPath(w, id))
	}
	slices.Sort(paths)
	want := []string{"Infrastructure", "Sandbox", "Security", "Workloads", "Workloads/Payments", "Workloads/Payments/NonProd", "Workloads/Payments/Prod"}
	if !slices.Equal(paths, want) {
		t.Errorf("OUs = %v, want %v", paths, want)
	}
	// Beyond the templates, names get numbers and stay unique.
	for _, id := range w.AccountIDs() {
		a := w.Accounts[id]
		if len(a.Policies) != 11 || a.Policies["arn:aws:iam::"+id+":policy/app-data-s3-rw-2"] == nil {
			t.Errorf("account %s: policies %v", id, sortedKeys(a.Policies))
		}
		if a.Roles["payments-app-ec2-instance"] == nil || a.Roles["payments-lambda-execution"] == nil || len(a.Roles) < 12 {
			t.Errorf("account %s: roles %v", id, sortedKeys(a.Roles))
		}
	}
	if ps := genTestPermissionSetNames(w); len(ps) != 15 || ps[13] != "PaymentsDeveloper" || ps[14] != "SearchDeveloper" {
		t.Errorf("permission sets = %v", ps)
	}
}

func TestGenerateEmptySizes(t *testing.T) {
	w := Generate(1, Sizes{}, genTestNow)
	if len(w.Accounts) != 1 || w.Org == nil || w.SSO == nil || len(w.SSO.Assignments) != 0 {
		t.Fatalf("empty sizes: %d accounts, org %v, sso %v", len(w.Accounts), w.Org != nil, w.SSO != nil)
	}
	if w.Connector.RoleARN == "" || w.Connector.ExternalID == "" || w.Connector.SCIMToken == "" {
		t.Errorf("connector not set up: %+v", w.Connector)
	}
}

func TestPresetLargeCounts(t *testing.T) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	w, err := PresetAt("large", 1, genTestNow)
	elapsed := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	// Service users (path /service/) carry a permissions boundary; people do not.
	bounded := 0
	for _, a := range w.Accounts {
		for _, u := range a.Users {
			switch {
			case u.Path == "/service/" && u.PermissionsBoundary == AWSManagedPolicyARN("PowerUserAccess"):
				bounded++
			case u.Path != "/service/" && u.PermissionsBoundary != "", u.Path == "/service/" && u.PermissionsBoundary == "":
				t.Errorf("account %s: user %s%s has boundary %q", a.ID, u.Path, u.Name, u.PermissionsBoundary)
			}
		}
	}
	if bounded == 0 {
		t.Error("no service user has a permissions boundary")
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	t.Logf("large preset: built in %v, %.1f MB allocated, %.1f MB live heap", elapsed,
		float64(after.TotalAlloc-before.TotalAlloc)/(1<<20), float64(after.HeapAlloc)/(1<<20))
	if elapsed > 2*time.Second {
		t.Errorf("large preset took %v, want well under 2s", elapsed)
	}

	s := genPresetSizes["large"]
	if s.Accounts != 300 || s.SSOUsers != 3000 || s.SSOGroups != 300 || s.PermissionSets != 50 || s.Assignments != 6000 ||
		s.IAMUsersPerAccount != 10 || s.IAMGroupsPerAccount != 5 || s.IAMRolesPerAccount != 40 || s.CustomerPoliciesPerAccount != 10 {
		t.Fatalf("large sizes = %+v", s)
	}
	genTestCheckCounts(t, w, s)
	if len(w.SSO.Memberships) != 9000 {
		t.Errorf("memberships = %d, want 9000", len(w.SSO.Memberships))
	}
	if len(w.Org.OUs) != 24 {
		t.Errorf("OUs = %d, want 24", len(w.Org.OUs))
	}
	runtime.KeepAlive(w)
}

// genTestCheckCounts checks that a generated world has exactly what the sizes ask for.
func genTestCheckCounts(t *testing.T, w *World, s Sizes) {
	t.Helper()
	if w.Region != "us-east-1" || w.SSO.Region != "us-east-1" {
		t.Errorf("regions = %s, %s", w.Region, w.SSO.Region)
	}
	if len(w.Accounts) != s.Accounts {
		t.Errorf("accounts = %d, want %d", len(w.Accounts), s.Accounts)
	}
	suspended := 0
	for _, id := range w.AccountIDs() {
		a := w.Accounts[id]
		if len(id) != 12 || a.ParentID == "" {
			t.Errorf("account %q: parent %q", id, a.ParentID)
		}
		mgmt := id == w.ManagementAccountID
		extraUsers, extraRoles := 0, 0
		if mgmt {
			extraUsers, extraRoles = 1, 1 // the Gatehouse operator and connector role
		}
		switch {
		case a.Status == "SUSPENDED":
			suspended++
			if a.Roles[DefaultMemberRoleName] != nil || a.Roles[OrganizationAccessRoleName] != nil {
				t.Errorf("suspended account %s has a member role", id)
			}
		case !mgmt:
			// Both member roles, each as its creator makes it: GatehouseMember as
			// gatehouse setup aws does (trusting the connector role, holding the generated
			// member policy), OrganizationAccountAccessRole as AWS Organizations does.
			if r := a.Roles[DefaultMemberRoleName]; r == nil || r.AssumeRolePolicy != TrustPolicy("arn:aws:iam::"+w.ManagementAccountID+":role/GatehouseConnector", "") ||
				len(r.InlinePolicies) != 1 || r.InlinePolicies["GatehouseMemberAccess"] != MemberPolicy(DefaultMemberRoleName) || len(r.AttachedPolicies) != 0 {
				t.Errorf("account %s: GatehouseMember missing, not trusting the connector role or not holding exactly the member policy", id)
			}
			if r := a.Roles[OrganizationAccessRoleName]; r == nil || r.AssumeRolePolicy != TrustPolicy("arn:aws:iam::"+w.ManagementAccountID+":root", "") ||
				!slices.Equal(r.AttachedPolicies, []string{AWSManagedPolicyARN("AdministratorAccess")}) {
				t.Errorf("account %s: OrganizationAccountAccessRole missing or not as AWS creates it", id)
			}
			extraRoles += 2
		}
		reserved := 0
		for _, r := range a.Roles {
			if strings.HasPrefix(r.Path, "/aws-reserved/sso.amazonaws.com/") {
				reserved++
			}
		}
		if reserved != len(w.SSO.Provisioned[id]) {
			t.Errorf("account %s: %d reserved roles, %d permission sets provisioned", id, reserved, len(w.SSO.Provisioned[id]))
		}
		if len(a.Users) != s.IAMUsersPerAccount+extraUsers || len(a.Groups) != s.IAMGroupsPerAccount ||
			len(a.Roles) != s.IAMRolesPerAccount+extraRoles+reserved || len(a.Policies) != s.CustomerPoliciesPerAccount {
			t.Errorf("account %s: %d users, %d groups, %d roles (%d reserved), %d policies", id, len(a.Users), len(a.Groups), len(a.Roles), reserved, len(a.Policies))
		}
		for _, u := range a.Users {
			if u.Name != OperatorUserName && len(u.AccessKeys) != s.AccessKeysPerUser {
				t.Errorf("user %s: %d keys", u.ARN, len(u.AccessKeys))
			}
		}
	}
	if suspended != s.SuspendedAccounts {
		t.Errorf("suspended accounts = %d, want %d", suspended, s.SuspendedAccounts)
	}
	if len(w.SSO.Users) != s.SSOUsers || len(w.SSO.Groups) != s.SSOGroups || len(w.SSO.PermissionSets) != s.PermissionSets || len(w.SSO.Assignments) != s.Assignments {
		t.Errorf("Identity Center: %d users, %d groups, %d permission sets, %d assignments", len(w.SSO.Users), len(w.SSO.Groups), len(w.SSO.PermissionSets), len(w.SSO.Assignments))
	}
	if len(w.SSO.Memberships) != s.SSOUsers*s.MembershipsPerUser {
		t.Errorf("memberships = %d, want %d", len(w.SSO.Memberships), s.SSOUsers*s.MembershipsPerUser)
	}
	seen := map[Assignment]bool{}
	for _, a := range w.SSO.Assignments {
		if seen[*a] {
			t.Errorf("duplicate assignment %+v", *a)
		}
		seen[*a] = true
		if w.Accounts[a.AccountID].Status != "ACTIVE" || !w.SSO.Provisioned[a.AccountID][a.PermissionSetARN] {
			t.Errorf("assignment %+v: account not ACTIVE or permission set not provisioned", *a)
		}
	}
	names := map[string]bool{}
	for _, u := range w.SSO.Users {
		if names[u.UserName] {
			t.Errorf("duplicate Identity Center user %s", u.UserName)
		}
		names[u.UserName] = true
	}
}

func genTestOUPath(w *World, id string) string {
	var parts []string
	for id != w.Org.RootID {
		ou := w.Org.OUs[id]
		parts = append([]string{ou.Name}, parts...)
		id = ou.ParentID
	}
	return strings.Join(parts, "/")
}

func genTestPermissionSetNames(w *World) []string {
	var names []string
	for _, ps := range w.SSO.PermissionSets {
		names = append(names, ps.Name)
	}
	return names
}

func genTestAccountByName(t *testing.T, w *World, name string) *Account {
	t.Helper()
	for _, a := range w.Accounts {
		if a.Name == name {
			return a
		}
	}
	t.Fatalf("no account named %s", name)
	return nil
}

func TestPresetDemo(t *testing.T) {
	w, err := PresetAt("demo", 1, genTestNow)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, id := range w.AccountIDs() {
		names = append(names, w.Accounts[id].Name)
	}
	slices.Sort(names)
	if want := []string{"legacy", "log-archive", "management", "prod", "sandbox", "security", "staging"}; !slices.Equal(names, want) {
		t.Errorf("accounts = %v, want %v", names, want)
	}
	paths := map[string]string{}
	for _, id := range w.AccountIDs() {
		a := w.Accounts[id]
		if a.ParentID == w.Org.RootID {
			paths[a.Name] = ""
		} else {
			paths[a.Name] = genTestOUPath(w, a.ParentID)
		}
	}
	wantPaths := map[string]string{"management": "", "security": "Security", "log-archive": "Security", "prod": "Workloads/Prod",
		"staging": "Workloads/NonProd", "sandbox": "Sandbox", "legacy": "Suspended"}
	for name, p := range wantPaths {
		if paths[name] != p {
			t.Errorf("account %s is in %q, want %q", name, paths[name], p)
		}
	}

	for _, name := range []string{"security", "log-archive", "prod", "staging"} {
		for _, role := range []string{DefaultMemberRoleName, OrganizationAccessRoleName} {
			if genTestAccountByName(t, w, name).Roles[role] == nil {
				t.Errorf("%s has no %s", name, role)
			}
		}
	}
	sandbox := genTestAccountByName(t, w, "sandbox")
	if sandbox.Status != "ACTIVE" || sandbox.Roles[DefaultMemberRoleName] != nil || sandbox.Roles[OrganizationAccessRoleName] != nil {
		t.Errorf("sandbox: status %s, roles %v; want ACTIVE without member roles", sandbox.Status, sortedKeys(sandbox.Roles))
	}
	if legacy := genTestAccountByName(t, w, "legacy"); legacy.Status != "SUSPENDED" {
		t.Errorf("legacy status = %s", legacy.Status)
	}

	mgmt := w.ManagementAccount()
	if got := sortedKeys(mgmt.Users); !slices.Equal(got, []string{"alice", "bob", "carol", "ci-deployer", "gatehouse-operator"}) {
		t.Errorf("management users = %v", got)
	}
	if b := mgmt.Users["ci-deployer"].PermissionsBoundary; b != AWSManagedPolicyARN("PowerUserAccess") {
		t.Errorf("ci-deployer's permissions boundary = %q, want PowerUserAccess", b)
	}
	if b := mgmt.Users["alice"].PermissionsBoundary; b != "" {
		t.Errorf("alice's permissions boundary = %q, want none", b)
	}
	if got := sortedKeys(mgmt.Groups); !slices.Equal(got, []string{"admins", "auditors", "billing", "developers"}) {
		t.Errorf("management groups = %v", got)
	}
	if g := mgmt.Groups["admins"]; !slices.Equal(g.Members, []string{"alice"}) || !slices.Equal(g.AttachedPolicies, []string{AWSManagedPolicyARN("AdministratorAccess")}) {
		t.Errorf("admins = %+v", g)
	}
	if d := mgmt.MFAOf("alice"); len(d) != 1 || !d[0].Virtual {
		t.Errorf("alice's MFA = %+v", d)
	}
	if d := mgmt.MFAOf("carol"); len(d) != 1 || d[0].Virtual {
		t.Errorf("carol's MFA = %+v", d)
	}
	if bob := mgmt.Users["bob"]; len(bob.AccessKeys) != 2 || bob.AccessKeys[1].Status != "Inactive" {
		t.Errorf("bob's keys = %+v", bob.AccessKeys)
	}
	prod := genTestAccountByName(t, w, "prod")
	if r := prod.Roles["app-server"]; r == nil || !strings.Contains(r.AssumeRolePolicy, `"Service":"ec2.amazonaws.com"`) {
		t.Errorf("prod app-server role = %+v", r)
	}
	if r := prod.Roles["datadog-integration"]; r == nil || !strings.Contains(r.AssumeRolePolicy, `"sts:ExternalId":"demo-`+prod.ID+`"`) {
		t.Errorf("prod datadog-integration role = %+v", r)
	}

	if got := genTestPermissionSetNames(w); !slices.Equal(got, []string{"AdministratorAccess", "ReadOnly", "Developer", "SecurityAudit", "Billing"}) {
		t.Errorf("permission sets = %v", got)
	}
	users, groups := 0, 0
	for _, a := range w.SSO.Assignments {
		if a.PrincipalType == "USER" {
			users++
		} else {
			groups++
		}
	}
	if users != 3 || groups != 14 {
		t.Errorf("assignments: %d to users, %d to groups; want 3 and 14", users, groups)
	}
	var inactive []string
	for _, u := range w.SSO.Users {
		if !u.Active {
			inactive = append(inactive, u.UserName)
		}
	}
	if !slices.Equal(inactive, []string{"erin"}) {
		t.Errorf("inactive Identity Center users = %v", inactive)
	}
	// Billing is provisioned to the management account without any assignment.
	billing := w.SSO.PermissionSets[4]
	if !w.SSO.Provisioned[mgmt.ID][billing.ARN] || mgmt.Roles[ReservedSSORoleName("Billing", billing.ARN)] == nil {
		t.Errorf("Billing is not provisioned to the management account")
	}
	if w.Connector.ExternalID != genExternalID(1) || w.Connector.SCIMToken != genSCIMToken(1) || w.Connector.RoleARN != "arn:aws:iam::"+mgmt.ID+":role/GatehouseConnector" {
		t.Errorf("connector = %+v", w.Connector)
	}
	if hr := w.Buckets["hr-exports-"+mgmt.ID]; hr == nil || !strings.Contains(string(hr.Objects["hr/employees.csv"].Data), "erin@example.com,Erin,Schulz,") {
		t.Errorf("hr export bucket missing or incomplete")
	}

	again, _ := PresetAt("demo", 1, genTestNow)
	if !bytes.Equal(genTestJSON(t, w), genTestJSON(t, again)) {
		t.Error("demo preset is not deterministic")
	}
}

func TestPresetNames(t *testing.T) {
	if got := PresetNames(); !slices.Equal(got, []string{"demo", "small", "large", "secrets"}) {
		t.Errorf("PresetNames() = %v", got)
	}
	for _, name := range PresetNames()[:2] {
		w, err := Preset(name, 42)
		if err != nil || w == nil {
			t.Fatalf("Preset(%q): %v", name, err)
		}
		// Preset worlds run on the wall clock.
		if d := time.Since(w.Now()); d < -time.Second || d > time.Minute {
			t.Errorf("Preset(%q) clock is %v off the wall clock", name, d)
		}
	}
	_, err := Preset("huge", 1)
	if err == nil || err.Error() != `unknown preset "huge"; valid presets: demo, small, large, secrets` {
		t.Errorf("Preset(huge) error = %v", err)
	}
}

// TestPresetDemoServed serves the demo through the SDK: the connector assumes its role
// with the External ID, reaches prod through its member role, and cannot reach sandbox.
func TestPresetDemoServed(t *testing.T) {
	w, err := Preset("demo", 1)
	if err != nil {
		t.Fatal(err)
	}
	prod, sandbox := genTestAccountByName(t, w, "prod").ID, genTestAccountByName(t, w, "sandbox").ID
	_, cfg := startSim(t, w, Options{})
	base := sts.NewFromConfig(cfg)
	connector := cfg.Copy()
	connector.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(base, w.Connector.RoleARN, func(o *stscreds.AssumeRoleOptions) {
		o.ExternalID = aws.String(w.Connector.ExternalID)
	}))
	// The demo's connector role holds the generated policy, which reads IAM in bulk.
	details, err := iam.NewFromConfig(connector).GetAccountAuthorizationDetails(ctx(t), &iam.GetAccountAuthorizationDetailsInput{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, u := range details.UserDetailList {
		names = append(names, aws.ToString(u.UserName))
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"alice", "bob", "carol", "ci-deployer", "gatehouse-operator"}) {
		t.Errorf("management users = %v", names)
	}

	member := func(account string) (*sts.AssumeRoleOutput, error) {
		return sts.NewFromConfig(connector).AssumeRole(ctx(t), &sts.AssumeRoleInput{
			RoleArn: aws.String("arn:aws:iam::" + account + ":role/" + DefaultMemberRoleName), RoleSessionName: aws.String("gatehouse-sync")})
	}
	if _, err := member(prod); err != nil {
		t.Errorf("assume into prod: %v", err)
	}
	// The administrator role AWS creates is there to opt in to, but the demo's connector
	// policy, generated for GatehouseMember, does not let the connector assume it: opting
	// in takes the policy generated for that role name.
	if w.Accounts[prod].Roles[OrganizationAccessRoleName] == nil {
		t.Error("prod has no OrganizationAccountAccessRole to opt in to")
	}
	if _, err := sts.NewFromConfig(connector).AssumeRole(ctx(t), &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::" + prod + ":role/" + OrganizationAccessRoleName), RoleSessionName: aws.String("gatehouse-sync")}); apiCode(err) != "AccessDenied" {
		t.Errorf("the demo connector assumed OrganizationAccountAccessRole in prod: err = %v, want AccessDenied", err)
	}
	// GatehouseMember trusts the connector role, not the whole management account.
	if _, err := base.AssumeRole(ctx(t), &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::" + prod + ":role/" + DefaultMemberRoleName), RoleSessionName: aws.String("operator")}); apiCode(err) != "AccessDenied" {
		t.Errorf("the operator user assumed GatehouseMember in prod directly: err = %v, want AccessDenied", err)
	}
	if _, err := member(sandbox); err == nil {
		t.Error("assume into sandbox succeeded; its member role should be missing")
	}
}

func BenchmarkPresetLarge(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := PresetAt("large", 1, genTestNow); err != nil {
			b.Fatal(err)
		}
	}
}

// The secrets preset is the organization of the --sync-secrets benchmark (issue 9): 5,000
// IAM users besides the operator, 2,600 of them with an access key.
func TestPresetSecretsSizes(t *testing.T) {
	w, err := PresetAt("secrets", 1, genTestNow)
	if err != nil {
		t.Fatal(err)
	}
	users, keyed, keys := 0, 0, 0
	for _, a := range w.Accounts {
		for _, u := range a.Users {
			if u.Name == OperatorUserName {
				continue
			}
			users++
			if len(u.AccessKeys) > 0 {
				keyed++
			}
			keys += len(u.AccessKeys)
		}
	}
	if len(w.Accounts) != 10 || users != 5000 || keyed != 2600 || keys != 2600 {
		t.Errorf("secrets preset: %d accounts, %d IAM users, %d with keys, %d keys; want 10, 5000, 2600, 2600", len(w.Accounts), users, keyed, keys)
	}
}
