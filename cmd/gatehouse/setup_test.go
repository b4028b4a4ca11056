package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/gatehouse/gatehouse/internal/awssim"
	"github.com/gatehouse/gatehouse/internal/setup"
)

// noAWSEnv is an environment without any AWS credentials or configuration.
func noAWSEnv(t *testing.T) []string {
	return []string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH"), "AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null"}
}

const operatorARN = "arn:aws:iam::111111111111:user/gatehouse-operator"

func TestSetupRejectsBadInput(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"setup"}, "gatehouse: choose what to set up: gatehouse setup aws (connect an AWS organization) or gatehouse setup s3 (a bucket of access files; see gatehouse setup s3 --help)\n"},
		{[]string{"setup", "aws", "--format", "xml"}, "gatehouse: --format must be json, terraform, cloudformation or all, got \"xml\"\n"},
		{[]string{"setup", "aws", "--format", "all"}, "gatehouse: --format all writes several files; add --out DIR\n"},
		{[]string{"setup", "aws", "--member-role-name", "GatehouseMember"}, "gatehouse: --member-role-name names the role created in every member account; it needs --orgs\n"},
		{[]string{"setup", "aws", "--scim"}, "gatehouse: --scim reads Identity Center user status; add --identity-center\n"},
		{[]string{"setup", "aws", "--trusted-principal", "alice"}, "gatehouse: --trusted-principal must be an IAM user or role ARN (arn:aws:iam::123456789012:role/NAME), got \"alice\"\n"},
		{[]string{"setup", "aws", "--external-id", "x"}, "gatehouse: --external-id must be 2 to 1224 letters, digits and +=,.@:/-_, got \"x\"\n"},
		{[]string{"setup", "aws", "--account-id", "12"}, "gatehouse: --account-id must be the 12 digits of the account the role is created in, got \"12\"\n"},
		{[]string{"setup", "aws"}, "gatehouse: --trusted-principal is not set and there are no usable AWS credentials to find your own identity with; pass --trusted-principal with the ARN of the IAM user or role Gatehouse will run as (or set AWS credentials, e.g. AWS_PROFILE)\n"},
	}
	for _, c := range cases {
		state := filepath.Join(t.TempDir(), "state")
		args := c.args
		if len(args) > 1 {
			args = append(args, "--state-dir", state)
		}
		stdout, stderr, err := runGatehouseEnv(t, noAWSEnv(t), args...)
		if err == nil || stderr != c.want || stdout != "" {
			t.Errorf("gatehouse %v: err=%v stdout=%q stderr=%q\nwant %q", c.args, err, stdout, stderr, c.want)
		}
		if _, err := os.Stat(state); !os.IsNotExist(err) {
			t.Errorf("gatehouse %v failed but created the state directory", c.args)
		}
	}
}

// With --out the files are written and the next steps printed; a second run reuses the
// External ID kept in the state directory; a different --external-id replaces it, with a
// warning.
func TestSetupKeepsTheExternalID(t *testing.T) {
	dir := t.TempDir()
	state, out := filepath.Join(dir, "state"), filepath.Join(dir, "out")
	args := []string{"setup", "aws", "--orgs", "--org-id", "o-exampleorg1", "--identity-center", "--member-role-name", "GatehouseMember",
		"--trusted-principal", operatorARN, "--state-dir", state}
	stdout, stderr, err := runGatehouseEnv(t, noAWSEnv(t), append(args, "--format", "all", "--out", out)...)
	if err != nil {
		t.Fatalf("setup: %v\n%s", err, stderr)
	}
	stateFile := filepath.Join(state, setup.StateFile)
	for _, want := range []string{
		"External ID: generated a new one, kept in " + stateFile + "; setup reuses it when run again with this --state-dir.\n",
		"Wrote connector-trust-policy.json, connector-permissions-policy.json, member-trust-policy.json, member-permissions-policy.json, gatehouse.tf, gatehouse-cloudformation.yaml, gatehouse-member-role-cloudformation.yaml, connector-config.yaml, next-steps.txt to " + out + ".\n",
		"   gatehouse doctor --role-arn arn:aws:iam::111111111111:role/GatehouseConnector --external-id ",
		" --region us-east-1 --orgs --member-role-name GatehouseMember --identity-center\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	next, err := os.ReadFile(filepath.Join(out, setup.FileNextSteps))
	if err != nil || !strings.Contains(stdout, string(next)) {
		t.Errorf("next-steps.txt is not what was printed: %v", err)
	}
	var trust struct {
		Statement []struct {
			Condition map[string]map[string]string
		}
	}
	data, _ := os.ReadFile(filepath.Join(out, setup.FileTrust))
	if err := json.Unmarshal(data, &trust); err != nil {
		t.Fatal(err)
	}
	first := trust.Statement[0].Condition["StringEquals"]["sts:ExternalId"]
	if len(first) != 40 {
		t.Fatalf("External ID %q", first)
	}

	// Again, to stdout as JSON: the same External ID, said to be reused, on stderr.
	stdout, stderr, err = runGatehouseEnv(t, noAWSEnv(t), args...)
	if err != nil {
		t.Fatalf("second setup: %v\n%s", err, stderr)
	}
	var doc setup.Document
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatalf("stdout is not one JSON document: %v\n%s", err, stdout)
	}
	if doc.ExternalID != first || doc.MemberRole == nil || doc.MemberRole.Name != "GatehouseMember" {
		t.Errorf("second run: external id %q (first %q), member role %+v", doc.ExternalID, first, doc.MemberRole)
	}
	if want := "External ID: reused the one kept in " + stateFile + ", so a role created from an earlier run stays valid.\n"; !strings.Contains(stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, stderr)
	}

	// A different External ID given: used, kept, and the old one named.
	_, stderr, err = runGatehouseEnv(t, noAWSEnv(t), append(args, "--external-id", "replacement-id", "--format", "terraform")...)
	if err != nil {
		t.Fatal(err)
	}
	if want := "warning: --external-id replaces the External ID " + first + " that " + stateFile + " kept from an earlier run; a role created with it keeps requiring it until its trust policy is updated.\n"; !strings.Contains(stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, stderr)
	}
	kept, _ := os.ReadFile(stateFile)
	if !strings.Contains(string(kept), `"external_id": "replacement-id"`) {
		t.Errorf("state file: %s", kept)
	}
}

// Without --trusted-principal, the role trusts the caller's own identity, from STS.
func TestSetupTrustsYourOwnIdentity(t *testing.T) {
	s, info := fixtureSim(t, "org-identity-center.yaml", awssim.Options{})
	var orgID string
	s.Do(func(w *awssim.World) {
		// Whoever runs setup may read the organization (any account of it may).
		w.ManagementAccount().Users[awssim.OperatorUserName].InlinePolicies["read-org"] =
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"organizations:DescribeOrganization","Resource":"*"}]}`
		orgID = w.Org.ID
	})
	state := t.TempDir()
	stdout, stderr, err := runGatehouseEnv(t, syncEnv(t, info), "setup", "aws", "--endpoint-url", info.Endpoint, "--orgs",
		"--state-dir", state, "--format", "cloudformation")
	if err != nil {
		t.Fatalf("setup: %v\n%s", err, stderr)
	}
	want := "Trusted principal " + operatorARN + ": your own identity, from the credentials at hand; pass --trusted-principal if Gatehouse will run as another.\n"
	if !strings.HasPrefix(stderr, want) {
		t.Errorf("stderr does not start with %q:\n%s", want, stderr)
	}
	var cfn map[string]any
	if err := yaml.Unmarshal([]byte(stdout), &cfn); err != nil {
		t.Fatalf("stdout is not the CloudFormation template: %v\n%s", err, stdout)
	}
	role := cfn["Resources"].(map[string]any)["ConnectorRole"].(map[string]any)["Properties"].(map[string]any)
	stmt := role["AssumeRolePolicyDocument"].(map[string]any)["Statement"].([]any)[0].(map[string]any)
	if got := stmt["Principal"].(map[string]any)["AWS"]; got != operatorARN {
		t.Errorf("trusted principal %v, want %s", got, operatorARN)
	}
	if !strings.Contains(stderr, "gatehouse sync --file org.c1z --endpoint-url "+info.Endpoint+" --role-arn arn:aws:iam::111111111111:role/GatehouseConnector") {
		t.Errorf("the next steps do not name the role in the caller's account:\n%s", stderr)
	}
	// The organization id came from the credentials too, and limits sts:AssumeRole.
	if want := "Organization " + orgID + ": read with organizations:DescribeOrganization; pass --org-id to set it.\n"; !strings.Contains(stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, stderr)
	}
	if !strings.Contains(stdout, "aws:ResourceOrgID: "+orgID) {
		t.Errorf("the template does not limit sts:AssumeRole to %s:\n%s", orgID, stdout)
	}
}

// setup aws --orgs works offline with --org-id; without it and without credentials to
// read it, it says how to get it.
func TestSetupNeedsTheOrganizationID(t *testing.T) {
	args := []string{"setup", "aws", "--orgs", "--trusted-principal", operatorARN, "--state-dir", filepath.Join(t.TempDir(), "state")}
	_, stderr, err := runGatehouseEnv(t, noAWSEnv(t), args...)
	if err == nil || !strings.HasPrefix(stderr, "gatehouse: "+setup.MissingOrgID+" (reading it failed: ") {
		t.Errorf("setup aws --orgs without --org-id or credentials: err %v, stderr %q", err, stderr)
	}
	stdout, stderr, err := runGatehouseEnv(t, noAWSEnv(t), append(args, "--org-id", "o-exampleorg1")...)
	if err != nil || !strings.Contains(stdout, `"aws:ResourceOrgID": "o-exampleorg1"`) {
		t.Errorf("setup aws --orgs --org-id offline: err %v, stderr %q, stdout:\n%s", err, stderr, stdout)
	}
}
