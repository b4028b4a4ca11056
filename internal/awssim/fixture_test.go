package awssim

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func fixtureTestLoad(t *testing.T, path string) *World {
	t.Helper()
	w, err := LoadFixture(path)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func fixtureTestEqual[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func fixtureTestList(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s = %q, want %q", what, got, want)
	}
}

func fixtureTestTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestFixtureSingleAccount(t *testing.T) {
	w := fixtureTestLoad(t, "testdata/single-account.yaml")
	now := fixtureTestTime("2026-01-01T00:00:00Z")
	fixtureTestEqual(t, "region", w.Region, "us-east-1")
	fixtureTestList(t, "accounts", w.AccountIDs(), []string{"111111111111"})
	if w.Org != nil || w.SSO != nil {
		t.Fatalf("organization %v, Identity Center %v; want neither", w.Org != nil, w.SSO != nil)
	}
	if d := w.Now().Sub(now); d < 0 || d > time.Minute {
		t.Errorf("clock = %v, want it to start at %v", w.Now(), now)
	}
	a := w.Accounts["111111111111"]
	fixtureTestEqual(t, "name", a.Name, "acme")
	fixtureTestEqual(t, "email", a.Email, "aws@acme.example")
	fixtureTestList(t, "aliases", a.Aliases, []string{"acme"})
	fixtureTestList(t, "users", sortedKeys(a.Users), []string{"alice", "bob", "ci-deployer", "dana", "gatehouse-operator"})
	fixtureTestList(t, "groups", sortedKeys(a.Groups), []string{"admins", "developers"})
	fixtureTestList(t, "roles", sortedKeys(a.Roles), []string{"GatehouseConnector", "app-server", "break-glass", "vendor-audit"})
	fixtureTestList(t, "policies", sortedKeys(a.Policies), []string{"arn:aws:iam::111111111111:policy/app/app-data-rw"})

	pol := a.Policies["arn:aws:iam::111111111111:policy/app/app-data-rw"]
	fixtureTestEqual(t, "policy default version", pol.DefaultVersion, "v2")
	fixtureTestEqual(t, "policy versions", len(pol.Versions), 2)
	fixtureTestEqual(t, "policy v1", pol.Versions[0].Document,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::acme-app-data","arn:aws:s3:::acme-app-data/*"]}]}`)
	fixtureTestEqual(t, "policy document", pol.Document(),
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject","s3:ListBucket"],"Resource":["arn:aws:s3:::acme-app-data","arn:aws:s3:::acme-app-data/*"]}]}`)
	fixtureTestEqual(t, "policy created", pol.CreateDate, fixtureTestTime("2025-06-01T00:00:00Z"))
	fixtureTestEqual(t, "policy path", pol.Path, "/app/")

	alice := a.Users["alice"]
	fixtureTestEqual(t, "alice ARN", alice.ARN, "arn:aws:iam::111111111111:user/alice")
	if !slices.Equal(alice.Tags, []Tag{{"email", "alice@acme.example"}, {"team", "platform"}}) {
		t.Errorf("alice's tags = %v", alice.Tags)
	}
	fixtureTestEqual(t, "alice created", alice.CreateDate, fixtureTestTime("2024-03-01T00:00:00Z"))
	if alice.LoginProfile == nil || alice.LoginProfile.PasswordResetRequired {
		t.Errorf("alice's login profile = %+v", alice.LoginProfile)
	}
	fixtureTestEqual(t, "alice password last used", alice.PasswordLastUsed, fixtureTestTime("2025-12-31T09:30:00Z"))
	if d := a.MFAOf("alice"); len(d) != 1 || !d[0].Virtual || d[0].Serial != "arn:aws:iam::111111111111:mfa/alice" {
		t.Errorf("alice's MFA = %+v", d)
	}
	if len(alice.AccessKeys) != 1 {
		t.Fatalf("alice has %d keys", len(alice.AccessKeys))
	}
	wantKey := AccessKey{ID: "AKIAALICE00000000001", Secret: "alice-secret", UserName: "alice", Status: "Active",
		CreateDate: fixtureTestTime("2025-07-01T00:00:00Z"), LastUsedDate: fixtureTestTime("2025-12-31T10:00:00Z"),
		LastUsedService: "s3", LastUsedRegion: "us-east-1"}
	fixtureTestEqual(t, "alice's key", *alice.AccessKeys[0], wantKey)
	fixtureTestList(t, "admins", a.Groups["admins"].Members, []string{"alice"})
	fixtureTestList(t, "admins policies", a.Groups["admins"].AttachedPolicies, []string{"arn:aws:iam::aws:policy/AdministratorAccess"})

	bob := a.Users["bob"]
	if bob.LoginProfile == nil || !bob.PasswordLastUsed.IsZero() {
		t.Errorf("bob: login profile %+v, password last used %v; want a never-used password", bob.LoginProfile, bob.PasswordLastUsed)
	}
	if len(bob.AccessKeys) != 2 {
		t.Fatalf("bob has %d keys", len(bob.AccessKeys))
	}
	k0, k1 := bob.AccessKeys[0], bob.AccessKeys[1]
	if k0.Status != "Active" || !k0.LastUsedDate.IsZero() || k0.CreateDate != fixtureTestTime("2024-01-15T00:00:00Z") || !strings.HasPrefix(k0.ID, "AKIA") || len(k0.ID) != 20 {
		t.Errorf("bob's first key = %+v", *k0)
	}
	if k1.Status != "Inactive" || k1.LastUsedDate != fixtureTestTime("2024-01-10T00:00:00Z") || k1.LastUsedService != "sts" || k1.LastUsedRegion != "us-east-1" {
		t.Errorf("bob's second key = %+v", *k1)
	}
	fixtureTestList(t, "bob's policies", bob.AttachedPolicies, []string{"arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"})
	dev := a.Groups["developers"]
	fixtureTestList(t, "developers", dev.Members, []string{"bob"})
	fixtureTestList(t, "developers policies", dev.AttachedPolicies, []string{"arn:aws:iam::aws:policy/PowerUserAccess", "arn:aws:iam::111111111111:policy/app/app-data-rw"})
	fixtureTestEqual(t, "developers inline", dev.InlinePolicies["deny-iam-writes"],
		`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["iam:Create*","iam:Delete*"],"Resource":"*"}]}`)

	ci := a.Users["ci-deployer"]
	fixtureTestEqual(t, "ci ARN", ci.ARN, "arn:aws:iam::111111111111:user/service/ci-deployer")
	if ci.LoginProfile != nil || len(ci.AccessKeys) != 0 {
		t.Errorf("ci-deployer: login profile %v, %d keys; want neither", ci.LoginProfile, len(ci.AccessKeys))
	}
	if d := a.MFAOf("ci-deployer"); len(d) != 1 || d[0].Virtual {
		t.Errorf("ci-deployer's MFA = %+v, want one hardware device", d)
	}
	fixtureTestEqual(t, "ci inline", ci.InlinePolicies["deploy"], `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"cloudformation:*","Resource":"*"}]}`)
	fixtureTestEqual(t, "ci boundary", ci.PermissionsBoundary, "arn:aws:iam::aws:policy/PowerUserAccess")

	app := a.Roles["app-server"]
	fixtureTestEqual(t, "app-server trust", app.AssumeRolePolicy, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)
	fixtureTestEqual(t, "app-server description", app.Description, "Instance profile role of the application servers")
	fixtureTestList(t, "app-server policies", app.AttachedPolicies, []string{"arn:aws:iam::111111111111:policy/app/app-data-rw"})
	fixtureTestEqual(t, "app-server last used", app.LastUsedDate, fixtureTestTime("2025-12-31T23:00:00Z"))
	fixtureTestEqual(t, "app-server last used region", app.LastUsedRegion, "us-east-1")
	fixtureTestEqual(t, "app-server boundary", app.PermissionsBoundary, "arn:aws:iam::aws:policy/PowerUserAccess")
	fixtureTestEqual(t, "app-server inline", app.InlinePolicies["read-config"],
		`{"Version":"2012-10-17","Statement":[{"Sid":"AppParameters","Effect":"Allow","Action":["ssm:GetParameter","ssm:GetParametersByPath"],"Resource":"arn:aws:ssm:us-east-1:111111111111:parameter/app/*","Condition":{"StringEquals":{"aws:RequestedRegion":"us-east-1"}}}]}`)
	fixtureTestEqual(t, "alice boundary", alice.PermissionsBoundary, "")
	vendor := a.Roles["vendor-audit"]
	fixtureTestEqual(t, "vendor ARN", vendor.ARN, "arn:aws:iam::111111111111:role/vendors/vendor-audit")
	fixtureTestEqual(t, "vendor trust", vendor.AssumeRolePolicy,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::464622532012:root"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"acme-vendor-7"}}}]}`)
	fixtureTestEqual(t, "vendor max session", vendor.MaxSessionDuration, int32(7200))
	if !slices.Equal(vendor.Tags, []Tag{{"vendor", "datadog"}}) {
		t.Errorf("vendor tags = %v", vendor.Tags)
	}
	fixtureTestEqual(t, "break-glass trust", a.Roles["break-glass"].AssumeRolePolicy,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:user/alice"},"Action":"sts:AssumeRole"}]}`)

	fixtureTestEqual(t, "external id", w.Connector.ExternalID, "acme-gatehouse-1")
	fixtureTestEqual(t, "connector role", w.Connector.RoleARN, "arn:aws:iam::111111111111:role/GatehouseConnector")
	fixtureTestEqual(t, "connector policy", a.Roles["GatehouseConnector"].InlinePolicies[connectorPolicyName], ConnectorReadPolicy)
	fixtureTestEqual(t, "SCIM token", w.Connector.SCIMToken, "")
}

// fixtureTestAssignments renders assignments as account/permission set/TYPE:name.
func fixtureTestAssignments(w *World) []string {
	var out []string
	for _, a := range w.SSO.Assignments {
		name := ""
		if a.PrincipalType == "USER" {
			name = w.SSO.SSOUser(a.PrincipalID).UserName
		} else {
			name = w.SSO.SSOGroup(a.PrincipalID).DisplayName
		}
		out = append(out, w.Accounts[a.AccountID].Name+"/"+w.SSO.PermissionSet(a.PermissionSetARN).Name+"/"+a.PrincipalType+":"+name)
	}
	return out
}

func TestFixtureOrgIdentityCenter(t *testing.T) {
	w := fixtureTestLoad(t, "testdata/org-identity-center.yaml")
	if w.Org == nil {
		t.Fatal("no organization")
	}
	fixtureTestList(t, "accounts", w.AccountIDs(), []string{"111111111111", "222222222222", "333333333333", "444444444444"})
	var ous []string
	for _, id := range sortedKeys(w.Org.OUs) {
		ous = append(ous, genTestOUPath(w, id))
	}
	slices.Sort(ous)
	fixtureTestList(t, "OUs", ous, []string{"Security", "Workloads", "Workloads/NonProd", "Workloads/Prod"})
	parents := map[string]string{}
	for _, id := range w.AccountIDs() {
		if p := w.Accounts[id].ParentID; p != w.Org.RootID {
			parents[w.Accounts[id].Name] = genTestOUPath(w, p)
		}
	}
	if want := map[string]string{"security": "Security", "prod": "Workloads/Prod", "staging": "Workloads/NonProd"}; len(parents) != 3 ||
		parents["security"] != want["security"] || parents["prod"] != want["prod"] || parents["staging"] != want["staging"] {
		t.Errorf("parents = %v", parents)
	}
	for _, id := range []string{"222222222222", "333333333333", "444444444444"} {
		r := w.Accounts[id].Roles[DefaultMemberRoleName]
		if r == nil || r.AssumeRolePolicy != TrustPolicy("arn:aws:iam::111111111111:role/GatehouseConnector", "") ||
			len(r.AttachedPolicies) != 0 || len(r.InlinePolicies) != 1 || r.InlinePolicies["GatehouseMemberAccess"] != MemberPolicy("GatehouseMember") {
			t.Errorf("account %s: member role = %+v", id, r)
		}
		r = w.Accounts[id].Roles[OrganizationAccessRoleName]
		if r == nil || r.AssumeRolePolicy != TrustPolicy("arn:aws:iam::111111111111:root", "") ||
			!slices.Equal(r.AttachedPolicies, []string{"arn:aws:iam::aws:policy/AdministratorAccess"}) {
			t.Errorf("account %s: OrganizationAccountAccessRole = %+v", id, r)
		}
	}
	if w.ManagementAccount().Roles[DefaultMemberRoleName] != nil || w.ManagementAccount().Roles[OrganizationAccessRoleName] != nil {
		t.Error("the management account got a member role")
	}

	prod := w.Accounts["333333333333"]
	fixtureTestEqual(t, "prod email", prod.Email, "aws-prod@example.com")
	fixtureTestEqual(t, "security email (default)", w.Accounts["222222222222"].Email, "aws+security@example.com")
	fixtureTestList(t, "prod aliases", prod.Aliases, []string{"example-prod"})
	bot := prod.Users["deploy-bot"]
	if len(bot.AccessKeys) != 1 || bot.AccessKeys[0].LastUsedService != "s3" || bot.AccessKeys[0].LastUsedRegion != "us-east-1" ||
		bot.AccessKeys[0].CreateDate != fixtureTestTime(DefaultFixtureNow) {
		t.Errorf("deploy-bot's keys = %+v", bot.AccessKeys)
	}
	fixtureTestList(t, "deployers", prod.Groups["deployers"].Members, []string{"deploy-bot"})
	fixtureTestEqual(t, "security-audit trust", prod.Roles["security-audit"].AssumeRolePolicy,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":"sts:AssumeRole"}]}`)

	sso := w.SSO
	fixtureTestEqual(t, "Identity Center region", sso.Region, "us-east-1")
	var users []string
	for _, u := range sso.Users {
		users = append(users, u.UserName+"|"+u.DisplayName+"|"+u.Email+"|"+map[bool]string{true: "active", false: "inactive"}[u.Active])
	}
	fixtureTestList(t, "Identity Center users", users, []string{
		"alice|Alice Nguyen|alice@example.com|active", "bob|Bob Martinez|bob@example.com|active", "erin|Erin Schulz|erin@example.com|inactive"})
	var members []string
	for _, m := range sso.Memberships {
		members = append(members, sso.SSOGroup(m.GroupID).DisplayName+":"+sso.SSOUser(m.UserID).UserName)
	}
	fixtureTestList(t, "memberships", members, []string{"Admins:alice", "Developers:bob", "Developers:erin"})
	fixtureTestEqual(t, "Developers description", sso.Groups[1].Description, "Product engineers")

	fixtureTestList(t, "permission sets", genTestPermissionSetNames(w), []string{"AdministratorAccess", "ReadOnly", "Developer"})
	dev := sso.PermissionSets[2]
	fixtureTestEqual(t, "Developer session", dev.SessionDuration, "PT4H")
	fixtureTestList(t, "Developer managed", dev.ManagedPolicies, []string{"arn:aws:iam::aws:policy/PowerUserAccess"})
	fixtureTestEqual(t, "Developer inline", dev.InlinePolicy, `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:*","Resource":"*"}]}`)
	fixtureTestEqual(t, "ReadOnly description", sso.PermissionSets[1].Description, "Read-only access")

	fixtureTestList(t, "assignments", fixtureTestAssignments(w), []string{
		"management/AdministratorAccess/GROUP:Admins",
		"prod/AdministratorAccess/GROUP:Admins",
		"prod/ReadOnly/GROUP:Developers",
		"staging/Developer/GROUP:Developers",
		"prod/Developer/USER:bob",
	})
	// Provisioning creates the reserved roles with the permission set's policies.
	var provisioned []string
	for _, id := range w.AccountIDs() {
		for _, ps := range sso.PermissionSets {
			if sso.Provisioned[id][ps.ARN] {
				provisioned = append(provisioned, w.Accounts[id].Name+"/"+ps.Name)
			}
		}
	}
	fixtureTestList(t, "provisioned", provisioned, []string{"management/AdministratorAccess", "prod/AdministratorAccess", "prod/ReadOnly", "prod/Developer", "staging/Developer"})
	r := prod.Roles[ReservedSSORoleName("Developer", dev.ARN)]
	if r == nil || r.Path != "/aws-reserved/sso.amazonaws.com/us-east-1/" || r.MaxSessionDuration != 14400 ||
		r.InlinePolicies["AwsSSOInlinePolicy"] != dev.InlinePolicy || !slices.Equal(r.AttachedPolicies, dev.ManagedPolicies) {
		t.Errorf("prod's Developer role = %+v", r)
	}

	fixtureTestEqual(t, "external id", w.Connector.ExternalID, "example-external-id")
	fixtureTestEqual(t, "SCIM token", w.Connector.SCIMToken, "example-scim-token")
	b := w.Buckets["example-hr-exports"]
	if b == nil || b.AccountID != "111111111111" || b.Region != "us-east-1" {
		t.Fatalf("bucket = %+v", b)
	}
	o := b.Objects["hr/employees.csv"]
	content := "email,status\nalice@example.com,active\nbob@example.com,active\nerin@example.com,terminated\n"
	sum := md5.Sum([]byte(content))
	if o == nil || string(o.Data) != content || o.ContentType != "text/csv" || o.ETag != `"`+hex.EncodeToString(sum[:])+`"` {
		t.Errorf("object = %+v", o)
	}
}

func TestFixtureUnassumableAccount(t *testing.T) {
	w := fixtureTestLoad(t, "testdata/unassumable-account.yaml")
	has := func(id string) bool {
		a := w.Accounts[id]
		return a.Roles[DefaultMemberRoleName] != nil && a.Roles[OrganizationAccessRoleName] != nil
	}
	if !has("222222222222") || has("333333333333") || !has("444444444444") || has("555555555555") {
		t.Errorf("member roles: prod %v, sandbox %v, restricted %v, legacy %v; want true, false, true, false",
			has("222222222222"), has("333333333333"), has("444444444444"), has("555555555555"))
	}
	fixtureTestEqual(t, "restricted deny_all", w.Accounts["444444444444"].DenyAll, true)
	fixtureTestEqual(t, "legacy status", w.Accounts["555555555555"].Status, "SUSPENDED")
	fixtureTestEqual(t, "legacy parent", w.Accounts["555555555555"].ParentID, w.Org.RootID)
	fixtureTestList(t, "frank's policies", w.Accounts["333333333333"].Users["frank"].AttachedPolicies, []string{"arn:aws:iam::aws:policy/AdministratorAccess"})

	// Through the SDK, as the sync will meet it.
	_, cfg := startSim(t, w, Options{})
	connector := cfg.Copy()
	connector.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), w.Connector.RoleARN, func(o *stscreds.AssumeRoleOptions) {
		o.ExternalID = aws.String("unassumable-test")
	}))
	c := sts.NewFromConfig(connector)
	assume := func(account string) error {
		_, err := c.AssumeRole(ctx(t), &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + account + ":role/" + DefaultMemberRoleName), RoleSessionName: aws.String("sync")})
		return err
	}
	if err := assume("222222222222"); err != nil {
		t.Errorf("assume into prod: %v", err)
	}
	if err := assume("333333333333"); err == nil {
		t.Error("assume into sandbox succeeded; it has no member role")
	}
}

func TestFixtureMemberRoleOptions(t *testing.T) {
	w, err := ParseFixture([]byte(`
member_role: GatehouseReader
organization: {}
accounts:
  - id: "222222222222"
  - id: "333333333333"
    member_role: OrganizationAccountAccessRole
    member_role_external_id: member-ext
  - id: "444444444444"
    member_role: none
connector:
  permissions: admin
`))
	if err != nil {
		t.Fatal(err)
	}
	fixtureTestList(t, "222 roles", sortedKeys(w.Accounts["222222222222"].Roles), []string{"GatehouseReader", "OrganizationAccountAccessRole"})
	if r := w.Accounts["222222222222"].Roles["GatehouseReader"]; r.InlinePolicies["GatehouseMemberAccess"] != MemberPolicy("GatehouseReader") {
		t.Errorf("GatehouseReader's policy = %v, want the member policy for its name", r.InlinePolicies)
	}
	fixtureTestList(t, "333 roles", sortedKeys(w.Accounts["333333333333"].Roles), []string{"OrganizationAccountAccessRole"})
	r := w.Accounts["333333333333"].Roles[OrganizationAccessRoleName]
	if r == nil || r.AssumeRolePolicy != TrustPolicy("arn:aws:iam::111111111111:root", "member-ext") {
		t.Errorf("333 member role = %+v", r)
	}
	fixtureTestEqual(t, "444 roles", len(w.Accounts["444444444444"].Roles), 0)
	fixtureTestEqual(t, "account name default", w.Accounts["222222222222"].Name, "account-222222222222")
	fixtureTestEqual(t, "admin permissions", w.ManagementAccount().Roles[ConnectorRoleName].InlinePolicies[connectorPolicyName], fixtureAdminPolicy)
	fixtureTestEqual(t, "no External ID", w.ManagementAccount().Roles[ConnectorRoleName].AssumeRolePolicy,
		TrustPolicy("arn:aws:iam::111111111111:user/gatehouse-operator", ""))
}

func TestFixtureIsDeterministic(t *testing.T) {
	for _, f := range []string{"testdata/single-account.yaml", "testdata/org-identity-center.yaml", "testdata/unassumable-account.yaml"} {
		a, b := fixtureTestLoad(t, f), fixtureTestLoad(t, f)
		if !bytes.Equal(genTestJSON(t, a), genTestJSON(t, b)) {
			t.Errorf("%s: two loads differ", f)
		}
	}
}

func TestFixtureErrors(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"unknown key", `
accounts:
  - id: "111111111111"
    iam:
      users:
        - name: alice
          gropus: [admins]
`, `accounts[0].iam.users[0].gropus: unknown key "gropus" (line 7); valid keys here: name, path, created, tags, console_password, password_reset_required, password_last_used, password_changed, access_keys, mfa, groups, attached_policies, inline_policies, permissions_boundary, services_last_accessed`},
		{"dangling group", `
organization: {}
accounts:
  - id: "111111111111"
  - id: "222222222222"
    iam:
      groups:
        - name: developers
      users:
        - name: alice
          groups: [developers, admins]
`, `accounts[1].iam.users[0].groups[1]: group "admins" is not declared in account 222222222222; declare it under accounts[1].iam.groups`},
		{"bad account id", `
accounts:
  - id: "111111111111"
  - id: 12345
`, `accounts[1].id: "12345" is not an AWS account id (account ids are exactly 12 digits); write it as 12 digits in quotes, e.g. id: "222222222222"`},
		{"bad management account", `management_account: 1111`,
			`management_account: "1111" is not an AWS account id (account ids are exactly 12 digits); write the management account's 12-digit id in quotes, e.g. "111111111111"`},
		{"duplicate account", `
accounts:
  - id: "222222222222"
  - id: "222222222222"
`, `accounts[1].id: account 222222222222 is declared twice (also accounts[0]); give each account its own id`},
		{"wrong type", `
accounts:
  - id: "111111111111"
    iam:
      users:
        - name: alice
          console_password: yes please
`, `accounts[0].iam.users[0].console_password: expected true or false, got "yes please" (line 7)`},
		{"list expected", `
accounts:
  - id: "111111111111"
    iam:
      users:
        - name: alice
          groups: admins
`, `accounts[0].iam.users[0].groups: expected a list, got "admins" (line 7)`},
		{"undeclared OU", `
organization:
  ous:
    - name: Workloads
      ous: [{name: Prod}]
accounts:
  - id: "222222222222"
    ou: Workloads/Prd
`, `accounts[0].ou: organizational unit "Workloads/Prd" is not declared; declare it under organization.ous (declared: Workloads, Workloads/Prod)`},
		{"OU without organization", `
accounts:
  - id: "222222222222"
    ou: Workloads
`, `accounts[0].ou: the fixture declares no organization; add an organization: section with this OU, or remove ou`},
		{"unknown policy", `
accounts:
  - id: "111111111111"
    iam:
      roles:
        - name: app
          trust: {service: ec2.amazonaws.com}
          attached_policies: [PowerUser]
`, `accounts[0].iam.roles[0].attached_policies[0]: policy "PowerUser" is neither a customer policy of account 111111111111 nor an AWS-managed policy the simulator knows; declare it under accounts[0].iam.policies, or use one of: ` + strings.Join(fixtureManagedPolicyNames(), ", ")},
		{"role without trust", `
accounts:
  - id: "111111111111"
    iam:
      roles:
        - name: app
`, `accounts[0].iam.roles[0]: role "app" has no trust policy; add trust: {aws: [ARN or account id], external_id: ...}, trust: {service: ec2.amazonaws.com} or trust_policy: {...}`},
		{"bad policy document", `
accounts:
  - id: "111111111111"
    iam:
      policies:
        - name: p
          document: {Version: "2012-10-17", Statement: [{Effect: Permit, Action: "*", Resource: "*"}]}
`, `accounts[0].iam.policies[0].document: not a valid policy document: Statement Effect must be Allow or Deny, got "Permit".`},
		{"member role clash", `
organization: {}
accounts:
  - id: "222222222222"
    iam:
      roles:
        - name: OrganizationAccountAccessRole
          trust: {aws: ["111111111111"]}
`, `accounts[0].iam.roles[0].name: role "OrganizationAccountAccessRole" is also one of the account's member roles, which the fixture creates; remove this role, or set member_role: none (or another name) on the account`},
		{"several problems", `
accounts:
  - id: "111111111111"
identity_center:
  users: [{user_name: alice}]
  groups: [{name: Admins, members: [alice, bob]}]
  assignments:
    - {account: prd, permission_set: Admin, user: alice}
`, `3 problems:
  identity_center.groups[0].members[1]: user "bob" is not declared; declare it under identity_center.users (by user_name)
  identity_center.assignments[0].account: account "prd" is not declared; use the id or name of an account under accounts (declared: management (111111111111))
  identity_center.assignments[0].permission_set: permission set "Admin" is not declared; declare it under identity_center.permission_sets (declared: none)`},
		{"bad time", `now: yesterday`, `now: "yesterday" is not a time; write it in RFC 3339, e.g. 2025-12-31T09:30:00Z, or as a date, e.g. 2025-12-31`},
		{"not YAML", "accounts: [\n", `not valid YAML: line 1: did not find expected node content`},
		{"empty", "", `the fixture is empty; declare at least management_account (see docs/fixtures.md)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, err := ParseFixture([]byte(tc.yaml))
			if err == nil {
				t.Fatalf("no error; world has accounts %v", w.AccountIDs())
			}
			if err.Error() != tc.want {
				t.Errorf("error:\n%s\nwant:\n%s", err, tc.want)
			}
		})
	}
}

func TestFixtureLoadErrors(t *testing.T) {
	if _, err := LoadFixture("testdata/missing.yaml"); err == nil || err.Error() != "read fixture: open testdata/missing.yaml: no such file or directory" {
		t.Errorf("missing file: %v", err)
	}
	path := t.TempDir() + "/bad.yaml"
	if err := os.WriteFile(path, []byte("regoin: us-east-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := LoadFixture(path)
	want := "fixture " + path + `: regoin: unknown key "regoin" (line 1); valid keys here: now, region, management_account, member_role, organization, accounts, identity_center, connector, scim_token, buckets`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v\nwant %s", err, want)
	}
}

// TestFixtureDocsExample keeps the complete example of docs/fixtures.md loadable.
func TestFixtureDocsExample(t *testing.T) {
	doc, err := os.ReadFile("../../docs/fixtures.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)<!-- complete example -->\\s*```yaml\\n(.*?)```").FindSubmatch(doc)
	if m == nil {
		t.Fatal("docs/fixtures.md has no complete example")
	}
	w, err := ParseFixture(m[1])
	if err != nil {
		t.Fatalf("the complete example does not load: %v", err)
	}
	if w.Org == nil || w.SSO == nil || len(w.SSO.Assignments) == 0 || len(w.Buckets) == 0 {
		t.Errorf("the complete example should declare an organization, Identity Center with assignments and a bucket")
	}
}
