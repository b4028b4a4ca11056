package setup

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/gatehouse/gatehouse/internal/awsperms"
)

var update = flag.Bool("update", false, "rewrite the golden files of the setup tests")

const testExternalID = "0123456789abcdef0123456789abcdef01234567"

// testOrgID is the organization of the golden files' setups.
const testOrgID = "o-exampleorg1"

// combos are the feature combinations the golden files cover.
var combos = []struct {
	name string
	opts Options
}{
	{"base", Options{TrustedPrincipal: "arn:aws:iam::111111111111:user/gatehouse-operator"}},
	{"orgs", Options{Features: awsperms.Set{Orgs: true}, OrgID: testOrgID,
		TrustedPrincipal: "arn:aws:iam::111111111111:role/gatehouse-runtime"}},
	{"orgs-identity-center-member-role", Options{Features: awsperms.Set{Orgs: true, IdentityCenter: true},
		MemberRoleName: "GatehouseMember", IdentityCenterRegion: "eu-west-1", OrgID: testOrgID,
		TrustedPrincipal: "arn:aws:iam::111111111111:role/gatehouse-runtime"}},
	{"everything", Options{Features: awsperms.All, MemberRoleName: "gatehouse/GatehouseMember", OrgID: testOrgID,
		RoleName: "GatehouseConnectorRW", Region: "eu-central-1", IdentityCenterRegion: "eu-central-1",
		TrustedPrincipal: "arn:aws:iam::444455556666:role/gatehouse-runtime", AccountID: "111111111111"}},
	{"provisioning-iam-only", Options{Features: awsperms.Set{Provisioning: true, SyncSecrets: true},
		TrustedPrincipal: "arn:aws:iam::111111111111:user/gatehouse-operator"}},
	{"orgs-organization-access-role", Options{Features: awsperms.Set{Orgs: true}, MemberRoleName: "OrganizationAccountAccessRole", OrgID: testOrgID,
		TrustedPrincipal: "arn:aws:iam::111111111111:role/gatehouse-runtime"}},
}

func generate(t *testing.T, o Options) *Bundle {
	t.Helper()
	if o.ExternalID == "" {
		o.ExternalID = testExternalID
	}
	b, err := Generate(o)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkGolden compares got with testdata/<name>.golden, or rewrites it with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/setup -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (review the change, then go test ./internal/setup -update):\n%s", path, firstDiff(string(want), string(got)))
	}
}

func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return "line " + strconv.Itoa(i+1) + ":\n  want: " + w + "\n  got:  " + g
		}
	}
	return "(same lines, different bytes)"
}

func TestGolden(t *testing.T) {
	for _, c := range combos {
		t.Run(c.name, func(t *testing.T) {
			b := generate(t, c.opts)
			for _, f := range b.Files(All) {
				checkGolden(t, filepath.Join(c.name, f.Name), f.Content)
			}
			checkGolden(t, filepath.Join(c.name, "document.json"), b.JSONDocument())
		})
	}
}

// The files of each format are the ones its name promises.
func TestFilesPerFormat(t *testing.T) {
	b := generate(t, combos[2].opts)
	names := func(f Format) string {
		var out []string
		for _, file := range b.Files(f) {
			out = append(out, file.Name)
		}
		return strings.Join(out, " ")
	}
	for f, want := range map[Format]string{
		JSON:           "connector-trust-policy.json connector-permissions-policy.json member-trust-policy.json member-permissions-policy.json connector-config.yaml next-steps.txt",
		Terraform:      "gatehouse.tf connector-config.yaml next-steps.txt",
		CloudFormation: "gatehouse-cloudformation.yaml gatehouse-member-role-cloudformation.yaml connector-config.yaml next-steps.txt",
	} {
		if got := names(f); got != want {
			t.Errorf("%s: %s\nwant %s", f, got, want)
		}
	}
	for _, f := range generate(t, combos[5].opts).Files(All) {
		if strings.Contains(f.Name, "member") {
			t.Errorf("%s without a member role to create", f.Name)
		}
	}
}

// asJSON re-encodes any value as generic JSON, so that a policy read back from YAML,
// HCL or JSON can be compared with the policy generated.
func asJSON(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// yamlToJSON turns a yaml.v3 document into generic JSON values (maps with string keys).
func yamlDoc(t *testing.T, data []byte) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("not YAML: %v\n%s", err, data)
	}
	return asJSON(t, doc).(map[string]any)
}

func dig(t *testing.T, v any, path ...string) any {
	t.Helper()
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("at %q: not a mapping: %v", p, v)
		}
		v, ok = m[p]
		if !ok {
			t.Fatalf("no %q in %v", p, m)
		}
	}
	return v
}

// The JSON files parse as IAM policies; the CloudFormation templates parse as YAML with
// the roles, the StackSet and the same policies; the Terraform heredocs hold the same
// JSON.
func TestGeneratedFilesParse(t *testing.T) {
	for _, c := range combos {
		t.Run(c.name, func(t *testing.T) {
			b := generate(t, c.opts)
			files := map[string][]byte{}
			for _, f := range b.Files(All) {
				files[f.Name] = f.Content
			}
			for name, want := range map[string]awsperms.Policy{FileTrust: b.Trust, FilePermissions: b.Permissions} {
				var got awsperms.Policy
				if err := json.Unmarshal(files[name], &got); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if !reflect.DeepEqual(asJSON(t, got), asJSON(t, want)) {
					t.Errorf("%s does not hold the policy", name)
				}
				if got.Version != "2012-10-17" || len(got.Statement) == 0 {
					t.Errorf("%s: %+v", name, got)
				}
			}
			trust := asJSON(t, b.Trust)
			if got := dig(t, trust.(map[string]any)["Statement"].([]any)[0], "Condition", "StringEquals", "sts:ExternalId"); got != testExternalID {
				t.Errorf("trust policy's sts:ExternalId = %v", got)
			}

			cfn := yamlDoc(t, files[FileCloudFormation])
			if cfn["AWSTemplateFormatVersion"] != "2010-09-09" {
				t.Errorf("AWSTemplateFormatVersion = %v", cfn["AWSTemplateFormatVersion"])
			}
			role := dig(t, cfn, "Resources", "ConnectorRole")
			if dig(t, role, "Type") != "AWS::IAM::Role" || dig(t, role, "Properties", "RoleName") != b.RoleName {
				t.Errorf("ConnectorRole: %v", role)
			}
			if !reflect.DeepEqual(dig(t, role, "Properties", "AssumeRolePolicyDocument"), trust) {
				t.Errorf("the template's trust policy differs from %s", FileTrust)
			}
			pols := dig(t, role, "Properties", "Policies").([]any)
			if len(pols) != 1 || !reflect.DeepEqual(dig(t, pols[0], "PolicyDocument"), asJSON(t, b.Permissions)) {
				t.Errorf("the template's permissions differ from %s", FilePermissions)
			}

			tf := string(files[FileTerraform])
			heredocs := terraformHeredocs(t, tf)
			if !reflect.DeepEqual(jsonOf(t, heredocs[0]), trust) || !reflect.DeepEqual(jsonOf(t, heredocs[1]), asJSON(t, b.Permissions)) {
				t.Errorf("the Terraform heredocs differ from the policies")
			}
			for _, want := range []string{`resource "aws_iam_role" "gatehouse_connector"`, `resource "aws_iam_role_policy" "gatehouse_connector"`, `role   = aws_iam_role.gatehouse_connector.id`} {
				if !strings.Contains(tf, want) {
					t.Errorf("gatehouse.tf lacks %q", want)
				}
			}

			if b.MemberPermissions == nil {
				if _, ok := cfn["Resources"].(map[string]any)["MemberRoleStackSet"]; ok || strings.Contains(tf, "stack_set") {
					t.Errorf("a StackSet without a member role")
				}
				return
			}
			ss := dig(t, cfn, "Resources", "MemberRoleStackSet")
			props := dig(t, ss, "Properties").(map[string]any)
			if dig(t, ss, "Type") != "AWS::CloudFormation::StackSet" || props["PermissionModel"] != "SERVICE_MANAGED" ||
				dig(t, props, "AutoDeployment", "Enabled") != true || !reflect.DeepEqual(props["Capabilities"], []any{"CAPABILITY_NAMED_IAM"}) {
				t.Errorf("StackSet: %v", props)
			}
			target := props["StackInstancesGroup"].([]any)[0]
			if !reflect.DeepEqual(dig(t, target, "DeploymentTargets", "OrganizationalUnitIds"), []any{map[string]any{"Ref": "OrganizationRootId"}}) ||
				!reflect.DeepEqual(dig(t, target, "Regions"), []any{b.Region}) {
				t.Errorf("StackSet targets: %v", target)
			}
			if !reflect.DeepEqual(props["Parameters"], []any{map[string]any{"ParameterKey": "ConnectorRoleArn", "ParameterValue": map[string]any{"Fn::GetAtt": []any{"ConnectorRole", "Arn"}}}}) {
				t.Errorf("StackSet parameters: %v", props["Parameters"])
			}
			body := props["TemplateBody"].(string)
			if body != string(files[FileMemberTemplate]) {
				t.Errorf("the StackSet's template is not %s", FileMemberTemplate)
			}
			member := yamlDoc(t, []byte(body))
			mrole := dig(t, member, "Resources", "MemberRole", "Properties")
			path, name := b.memberPath()
			if dig(t, mrole, "RoleName") != name || dig(t, mrole, "Path") != path {
				t.Errorf("member role %v %v", dig(t, mrole, "Path"), dig(t, mrole, "RoleName"))
			}
			principal := dig(t, dig(t, mrole, "AssumeRolePolicyDocument", "Statement").([]any)[0], "Principal", "AWS")
			if !reflect.DeepEqual(principal, map[string]any{"Ref": "ConnectorRoleArn"}) {
				t.Errorf("member trust principal %v", principal)
			}
			if dig(t, member, "Parameters", "ConnectorRoleArn", "Default") != b.ConnectorRoleARN {
				t.Errorf("member template default connector role %v", dig(t, member, "Parameters", "ConnectorRoleArn", "Default"))
			}
			mpols := dig(t, mrole, "Policies").([]any)
			if !reflect.DeepEqual(dig(t, mpols[0], "PolicyDocument"), asJSON(t, *b.MemberPermissions)) {
				t.Errorf("the member template's policy differs from %s", FileMemberPermissions)
			}
			var mp awsperms.Policy
			if err := json.Unmarshal(files[FileMemberPermissions], &mp); err != nil || !reflect.DeepEqual(asJSON(t, mp), asJSON(t, *b.MemberPermissions)) {
				t.Errorf("%s: %v", FileMemberPermissions, err)
			}
			if !strings.Contains(tf, `permission_model = "SERVICE_MANAGED"`) || !strings.Contains(tf, "organizational_unit_ids = [data.aws_organizations_organization.current.roots[0].id]") {
				t.Errorf("gatehouse.tf lacks the service-managed StackSet")
			}
			if got := yamlDoc(t, []byte(heredocs[2])); !reflect.DeepEqual(got, member) {
				t.Errorf("the Terraform StackSet's template differs from %s", FileMemberTemplate)
			}
		})
	}
}

var heredocPattern = regexp.MustCompile(`(?s)<<-EOT\n(.*?)\n\s*EOT\n`)

// terraformHeredocs returns the heredocs of a Terraform file, with the indentation
// Terraform strips stripped.
func terraformHeredocs(t *testing.T, tf string) []string {
	t.Helper()
	var out []string
	for _, m := range heredocPattern.FindAllStringSubmatch(tf, -1) {
		lines := strings.Split(m[1], "\n")
		indent := -1
		for _, l := range lines {
			if strings.TrimSpace(l) == "" {
				continue
			}
			n := len(l) - len(strings.TrimLeft(l, " "))
			if indent < 0 || n < indent {
				indent = n
			}
		}
		for i, l := range lines {
			if len(l) >= indent {
				lines[i] = l[indent:]
			}
		}
		out = append(out, strings.Join(lines, "\n")+"\n")
	}
	if len(out) < 2 {
		t.Fatalf("gatehouse.tf has %d heredocs", len(out))
	}
	return out
}

func jsonOf(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("heredoc is not JSON: %v\n%s", err, s)
	}
	return v
}

func TestValidateErrors(t *testing.T) {
	p := "arn:aws:iam::111111111111:user/op"
	for _, tc := range []struct {
		opts Options
		want string
	}{
		{Options{MemberRoleName: "GatehouseMember", TrustedPrincipal: p}, "--member-role-name names the role created in every member account; it needs --orgs"},
		{Options{Features: awsperms.Set{Orgs: true}, MemberRoleName: "bad name", TrustedPrincipal: p}, `--member-role-name must be a role name (1 to 64 letters, digits and +=,.@_-), optionally after a path (path/Name), got "bad name"`},
		{Options{Features: awsperms.Set{SCIM: true}, TrustedPrincipal: p}, "--scim reads Identity Center user status; add --identity-center"},
		{Options{OrgID: "o-exampleorg1", TrustedPrincipal: p}, "--org-id limits entering member accounts to the organization; it needs --orgs"},
		{Options{Features: awsperms.Set{Orgs: true}, OrgID: "r-abcd", TrustedPrincipal: p}, `--org-id must be an organization id, o- and 10 to 32 lowercase letters or digits (aws organizations describe-organization --query Organization.Id), got "r-abcd"`},
		{Options{ExternalID: "x", TrustedPrincipal: p}, `--external-id must be 2 to 1224 letters, digits and +=,.@:/-_, got "x"`},
		{Options{ExternalID: "has space", TrustedPrincipal: p}, `--external-id must be 2 to 1224 letters, digits and +=,.@:/-_, got "has space"`},
		{Options{AccountID: "1234", TrustedPrincipal: p}, `--account-id must be the 12 digits of the account the role is created in, got "1234"`},
		{Options{RoleName: "a/b", TrustedPrincipal: p}, `--role-name must be 1 to 64 letters, digits and +=,.@_-, got "a/b"`},
		{Options{TrustedPrincipal: "alice"}, `--trusted-principal must be an IAM user or role ARN (arn:aws:iam::123456789012:role/NAME), got "alice"`},
		{Options{TrustedPrincipal: "arn:aws:s3:::bucket"}, `--trusted-principal must be an IAM user or role ARN (arn:aws:iam::123456789012:role/NAME), got "arn:aws:s3:::bucket"`},
	} {
		o := tc.opts
		if err := o.Validate(); err == nil || err.Error() != tc.want {
			t.Errorf("Validate(%+v) = %v\nwant %s", tc.opts, err, tc.want)
		}
	}
	if _, err := Generate(Options{ExternalID: testExternalID}); err == nil || err.Error() != "no trusted principal: pass --trusted-principal with the ARN of the IAM user or role Gatehouse runs as" {
		t.Errorf("Generate without a principal: %v", err)
	}
}

func TestNormalizePrincipal(t *testing.T) {
	for _, tc := range []struct{ in, want, note string }{
		{"arn:aws:iam::111111111111:user/ops/alice", "arn:aws:iam::111111111111:user/ops/alice", ""},
		{"arn:aws:iam::111111111111:role/gatehouse", "arn:aws:iam::111111111111:role/gatehouse", ""},
		{"arn:aws:sts::111111111111:assumed-role/Admin/alice@example.com", "arn:aws:iam::111111111111:role/Admin", "turned into its role"},
		{"arn:aws-us-gov:iam::111111111111:root", "arn:aws-us-gov:iam::111111111111:root", "the whole account"},
		{"222222222222", "arn:aws:iam::222222222222:root", "the whole account"},
	} {
		got, note, err := NormalizePrincipal(tc.in)
		if err != nil || got != tc.want || !strings.Contains(note, tc.note) || (tc.note == "") != (note == "") {
			t.Errorf("NormalizePrincipal(%q) = %q, %q, %v; want %q and a note with %q", tc.in, got, note, err, tc.want, tc.note)
		}
	}
	b := generate(t, Options{TrustedPrincipal: "arn:aws-cn:iam::111111111111:role/r"})
	if b.ConnectorRoleARN != "arn:aws-cn:iam::111111111111:role/GatehouseConnector" || !strings.Contains(string(b.Permissions.JSON()), "arn:aws-cn:iam::*:user/*") {
		t.Errorf("the partition of the principal is not used: %s", b.ConnectorRoleARN)
	}
}

// The External ID is generated once and reused; a different one given is used, kept,
// and reported as replacing the old one.
func TestResolveExternalID(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	first, err := ResolveExternalID(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if first.Origin != "new" || len(first.Value) != 40 || first.Path != filepath.Join(dir, StateFile) {
		t.Errorf("first = %+v", first)
	}
	if fi, err := os.Stat(first.Path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("state file: %v %v", fi.Mode(), err)
	}
	again, err := ResolveExternalID(dir, "")
	if err != nil || again.Value != first.Value || again.Origin != "reused" {
		t.Errorf("second run = %+v, %v; want the first External ID reused", again, err)
	}
	same, err := ResolveExternalID(dir, first.Value)
	if err != nil || same.Replaced != "" || same.Origin != "given" {
		t.Errorf("given the same = %+v, %v", same, err)
	}
	other, err := ResolveExternalID(dir, "another-external-id")
	if err != nil || other.Value != "another-external-id" || other.Replaced != first.Value {
		t.Errorf("given another = %+v, %v; want it to replace %s", other, err, first.Value)
	}
	if kept, _ := ResolveExternalID(dir, ""); kept.Value != "another-external-id" {
		t.Errorf("after replacing, %s keeps %q", dir, kept.Value)
	}
	n, _ := NewExternalID()
	if m, _ := NewExternalID(); n == m {
		t.Errorf("two random External IDs are equal")
	}

	bad := t.TempDir()
	if err := os.WriteFile(filepath.Join(bad, StateFile), []byte("not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ResolveExternalID(bad, ""); err == nil || !strings.Contains(err.Error(), "is not a Gatehouse setup state file") {
		t.Errorf("a broken state file: %v", err)
	}
}

func TestHCLString(t *testing.T) {
	if got := hclString("a \"b\" ${c} %{d} \\ \n"); got != `"a \"b\" $${c} %%{d} \\ \n"` {
		t.Errorf("hclString = %s", got)
	}
}

// With --orgs, setup generates the read-only member role GatehouseMember unless told
// otherwise; OrganizationAccountAccessRole is an opt-in that creates nothing and warns.
func TestMemberRoleDefault(t *testing.T) {
	p := "arn:aws:iam::111111111111:user/op"
	b := generate(t, Options{Features: awsperms.Set{Orgs: true}, OrgID: testOrgID, TrustedPrincipal: p})
	if b.MemberRoleName != "GatehouseMember" || b.MemberPermissions == nil || b.MemberTrust == nil || b.Warning != "" {
		t.Fatalf("default: member role %q, permissions %v, warning %q; want GatehouseMember created, no warning", b.MemberRoleName, b.MemberPermissions != nil, b.Warning)
	}
	for _, st := range b.MemberPermissions.Statement {
		for _, a := range st.Action {
			if !strings.Contains(a, ":Get") && !strings.Contains(a, ":List") && a != "iam:GenerateCredentialReport" &&
				a != "iam:GenerateServiceLastAccessedDetails" && a != "iam:SimulatePrincipalPolicy" {
				t.Errorf("the default member policy (no --provisioning) allows %s, which is not a read", a)
			}
		}
	}
	if got := strings.Join(b.SyncArgs(), " "); !strings.Contains(got, "--member-role-name GatehouseMember") {
		t.Errorf("sync args %q do not name the member role", got)
	}

	b = generate(t, Options{Features: awsperms.Set{Orgs: true}, MemberRoleName: "OrganizationAccountAccessRole", OrgID: testOrgID, TrustedPrincipal: p})
	if b.MemberPermissions != nil || b.MemberTrust != nil || b.MemberNeeds == nil {
		t.Errorf("OrganizationAccountAccessRole: setup must not create it (permissions %v, trust %v) but still say what it must allow (%v)", b.MemberPermissions != nil, b.MemberTrust != nil, b.MemberNeeds != nil)
	}
	if !strings.HasPrefix(b.Warning, "warning: --member-role-name OrganizationAccountAccessRole has AdministratorAccess in every member account") {
		t.Errorf("OrganizationAccountAccessRole: warning %q", b.Warning)
	}
	if got := strings.Join(b.SyncArgs(), " "); !strings.Contains(got, "--member-role-name OrganizationAccountAccessRole") {
		t.Errorf("sync args %q must name the opted-in role, the sync's default is GatehouseMember", got)
	}
}

// The connector may assume the member role only by its name and only in the
// organization's accounts: the statement carries aws:ResourceOrgID (the organization of
// the account that owns the role), and --orgs without an organization id is an error.
func TestAssumeMemberRoleLimitedToTheOrganization(t *testing.T) {
	p := "arn:aws:iam::111111111111:user/op"
	b := generate(t, Options{Features: awsperms.Set{Orgs: true}, MemberRoleName: "ops/GatehouseMember", OrgID: testOrgID, TrustedPrincipal: p})
	var found bool
	for _, st := range b.Permissions.Statement {
		for _, a := range st.Action {
			if a != "sts:AssumeRole" {
				continue
			}
			found = true
			if st.Sid != "AssumeMemberRole" || len(st.Action) != 1 || strings.Join(st.Resource, ",") != "arn:aws:iam::*:role/ops/GatehouseMember" {
				t.Errorf("sts:AssumeRole statement = %+v; want only sts:AssumeRole on arn:aws:iam::*:role/ops/GatehouseMember", st)
			}
			if got := st.Condition["StringEquals"]["aws:ResourceOrgID"]; len(st.Condition) != 1 || len(got) != 1 || got[0] != testOrgID {
				t.Errorf("sts:AssumeRole condition = %v; want StringEquals aws:ResourceOrgID %s", st.Condition, testOrgID)
			}
		}
	}
	if !found {
		t.Fatal("no sts:AssumeRole statement")
	}
	if _, err := Generate(Options{Features: awsperms.Set{Orgs: true}, TrustedPrincipal: p, ExternalID: testExternalID}); err == nil || err.Error() != MissingOrgID {
		t.Errorf("Generate --orgs without an organization id: %v", err)
	}
}
