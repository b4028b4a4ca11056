package main

import (
	"crypto/md5"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/awssim"
	"github.com/gatehouse/gatehouse/internal/setup"
)

// s3DoctorSim serves a bucket with one file under apps/, the role gatehouse setup s3
// generates for it with External ID "ext-right", and an IAM user Gatehouse runs as; it
// returns the simulator and that user's environment.
func s3DoctorSim(t *testing.T) (*awssim.Sim, []string) {
	t.Helper()
	const account = "111111111111"
	w := awssim.NewWorld(account, "us-east-1", nil)
	b, err := setup.GenerateS3(setup.S3Options{Bucket: "acme-access-exports", Prefix: "apps/", ExternalID: "ext-right",
		TrustedPrincipal: "arn:aws:iam::111111111111:user/gatehouse-runtime"})
	if err != nil {
		t.Fatal(err)
	}
	a := w.Accounts[account]
	role := a.AddRole(w, setup.DefaultS3RoleName, "/", string(b.Trust.JSON()))
	role.InlinePolicies[setup.S3PolicyName] = string(b.Permissions.JSON())
	k := a.AddAccessKey(w, a.AddUser(w, "gatehouse-runtime", "/"))
	data := []byte("User ID,Email Address\nu1,a@example.com\n")
	sum := md5.Sum(data)
	w.Buckets["acme-access-exports"] = &awssim.Bucket{Name: "acme-access-exports", AccountID: account, Region: "us-east-1",
		Objects: map[string]*awssim.Object{"apps/users.csv": {Key: "apps/users.csv", Data: data, ETag: `"` + hex.EncodeToString(sum[:]) + `"`}}}
	s := awssim.New(w, awssim.Options{})
	if _, err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	env := append(noAWSEnv(t), "AWS_ACCESS_KEY_ID="+k.ID, "AWS_SECRET_ACCESS_KEY="+k.Secret)
	return s, env
}

func TestDoctorS3(t *testing.T) {
	s, env := s3DoctorSim(t)
	args := []string{"doctor", "--s3", "--endpoint-url", s.URL(), "--role-arn", "arn:aws:iam::111111111111:role/GatehouseS3Reader",
		"--bucket", "acme-access-exports", "--prefix", "apps/"}
	stdout, stderr, err := runGatehouseEnv(t, env, append(args, "--external-id", "ext-right")...)
	if err != nil {
		t.Fatalf("doctor --s3: %v\n%s%s", err, stdout, stderr)
	}
	for _, want := range []string{
		"PASS  Credentials         Gatehouse runs as arn:aws:iam::111111111111:user/gatehouse-runtime\n",
		"PASS  Role + External ID  assumed arn:aws:iam::111111111111:role/GatehouseS3Reader with External ID ext-right\n",
		"PASS  Bucket location     the bucket acme-access-exports is in us-east-1\n",
		"PASS  List files          listed s3://acme-access-exports/apps/ (first file apps/users.csv)\n",
		"PASS  File attributes     read the attributes of apps/users.csv\n",
		"PASS  Read files          read the first byte of apps/users.csv\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("doctor --s3 output lacks %q:\n%s", want, stdout)
		}
	}

	// The wrong External ID: exit status 1, the fix names the trust policy's condition.
	stdout, stderr, err = runGatehouseEnv(t, env, append(args, "--external-id", "ext-wrong")...)
	if err == nil || stderr != "gatehouse: doctor: Role + External ID failed\n" {
		t.Errorf("wrong External ID: err=%v stderr=%q", err, stderr)
	}
	if !strings.Contains(stdout, `FAIL  Role + External ID  sts:AssumeRole on arn:aws:iam::111111111111:role/GatehouseS3Reader with External ID ext-wrong was refused: AccessDenied`) ||
		!strings.Contains(stdout, `      fix: the role's trust policy must allow arn:aws:iam::111111111111:user/gatehouse-runtime to assume it with the condition sts:ExternalId = "ext-wrong"`) ||
		!strings.Contains(stdout, "SKIP  List files          skipped: the role could not be assumed\n") {
		t.Errorf("wrong External ID output:\n%s", stdout)
	}

	_, stderr, err = runGatehouseEnv(t, env, "doctor", "--s3", "--role-arn", "arn:aws:iam::111111111111:role/R", "--external-id", "x")
	if err == nil || stderr != "gatehouse: --s3 needs --bucket: the bucket the access files are in\n" {
		t.Errorf("without --bucket: err=%v stderr=%q", err, stderr)
	}
}
