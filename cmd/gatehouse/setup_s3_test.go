package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// gatehouse setup s3 prints, per format, exactly the golden files of internal/setup, and in
// JSON the two documents a script passes to IAM as they are.
func TestSetupS3(t *testing.T) {
	args := []string{"setup", "s3", "--bucket", "acme-access-exports", "--prefix", "apps/hr/", "--external-id", "0123456789abcdef0123456789abcdef01234567",
		"--trusted-principal", "arn:aws:iam::444455556666:user/gatehouse-operator", "--account-id", "111111111111", "--role-name", "HRExportsReader"}
	for format, golden := range map[string]string{"json": "document.json", "terraform": "gatehouse-s3.tf", "cloudformation": "gatehouse-s3-cloudformation.yaml"} {
		stdout, stderr, err := runGatehouseEnv(t, noAWSEnv(t), append(args, "--format", format)...)
		if err != nil {
			t.Fatalf("%s: %v\n%s", format, err, stderr)
		}
		want, err := os.ReadFile("../../internal/setup/testdata/s3-prefix/" + golden + ".golden")
		if err != nil {
			t.Fatal(err)
		}
		if stdout != string(want) {
			t.Errorf("--format %s: stdout differs from internal/setup/testdata/s3-prefix/%s.golden:\n%s", format, golden, stdout)
		}
		if !strings.Contains(stderr, "gatehouse doctor --s3 --role-arn arn:aws:iam::111111111111:role/HRExportsReader --bucket acme-access-exports --prefix apps/hr/ --external-id 0123456789abcdef0123456789abcdef01234567") {
			t.Errorf("--format %s: stderr does not give the doctor command:\n%s", format, stderr)
		}
	}
	stdout, _, err := runGatehouseEnv(t, noAWSEnv(t), append(args, "--format", "json")...)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil {
		t.Fatal(err)
	}
	var trust struct{ Statement []struct{ Action string } }
	if err := json.Unmarshal(doc["trust_policy"], &trust); err != nil || len(trust.Statement) != 1 || trust.Statement[0].Action != "sts:AssumeRole" {
		t.Errorf("trust_policy = %s (%v)", doc["trust_policy"], err)
	}
}

func TestSetupS3RejectsBadInput(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"setup", "s3", "--external-id", "abc"}, "gatehouse: --bucket is required: the name of the bucket the access files are in\n"},
		{[]string{"setup", "s3", "--bucket", "b-1"}, "gatehouse: --external-id is required: the External ID Gatehouse showed when the data source was added (GET /api/v1/datasources/{id} shows it; it never changes)\n"},
		{[]string{"setup", "s3", "--bucket", "b-1", "--external-id", "abc", "--format", "all"}, "gatehouse: --format must be json, terraform or cloudformation, got \"all\"\n"},
		{[]string{"setup", "s3", "--bucket", "b-1", "--external-id", "abc"}, "gatehouse: --trusted-principal is not set and there are no usable AWS credentials to find your own identity with; pass --trusted-principal with the ARN of the IAM user or role Gatehouse runs as\n"},
	}
	for _, c := range cases {
		stdout, stderr, err := runGatehouseEnv(t, noAWSEnv(t), c.args...)
		if err == nil || stderr != c.want || stdout != "" {
			t.Errorf("gatehouse %v: err=%v stdout=%q stderr=%q\nwant %q", c.args, err, stdout, stderr, c.want)
		}
	}
}
