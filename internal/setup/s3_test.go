package setup

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

var s3Combos = []struct {
	name string
	opts S3Options
}{
	{"s3-bucket", S3Options{Bucket: "acme-access-exports", ExternalID: testExternalID,
		TrustedPrincipal: "arn:aws:iam::111111111111:role/gatehouse-runtime"}},
	{"s3-prefix", S3Options{Bucket: "acme-access-exports", Prefix: "apps/hr/", ExternalID: testExternalID,
		TrustedPrincipal: "arn:aws:iam::444455556666:user/gatehouse-operator", AccountID: "111111111111", RoleName: "HRExportsReader"}},
}

func TestS3Golden(t *testing.T) {
	for _, c := range s3Combos {
		t.Run(c.name, func(t *testing.T) {
			b, err := GenerateS3(c.opts)
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, filepath.Join(c.name, "document.json"), b.JSONDocument())
			checkGolden(t, filepath.Join(c.name, "gatehouse-s3.tf"), b.Terraform())
			checkGolden(t, filepath.Join(c.name, "gatehouse-s3-cloudformation.yaml"), b.CloudFormation())
		})
	}
}

// The permissions are exactly the four actions, on the bucket and the prefix only; the trust
// requires the External ID. (The simulator test in internal/datasource proves that a role
// holding them can do everything a data source does, and nothing outside the prefix.)
func TestS3Policies(t *testing.T) {
	b, err := GenerateS3(s3Combos[1].opts)
	if err != nil {
		t.Fatal(err)
	}
	var doc S3Document
	if err := json.Unmarshal(b.JSONDocument(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.RoleARN != "arn:aws:iam::111111111111:role/HRExportsReader" || doc.ExternalID != testExternalID || doc.PolicyName != S3PolicyName {
		t.Errorf("document = %+v", doc)
	}
	got := map[string]string{}
	for _, st := range doc.PermissionsPolicy.Statement {
		cond, _ := json.Marshal(st.Condition)
		got[st.Sid] = strings.Join(st.Action, ",") + " on " + strings.Join(st.Resource, ",") + " if " + string(cond)
	}
	want := map[string]string{
		"LocateBucket": "s3:GetBucketLocation on arn:aws:s3:::acme-access-exports if null",
		"ListFiles":    `s3:ListBucket on arn:aws:s3:::acme-access-exports if {"StringLike":{"s3:prefix":"apps/hr/*"}}`,
		"ReadFiles":    "s3:GetObject,s3:GetObjectAttributes on arn:aws:s3:::acme-access-exports/apps/hr/* if null",
	}
	if len(got) != len(want) {
		t.Errorf("statements = %v", got)
	}
	for sid, w := range want {
		if got[sid] != w {
			t.Errorf("%s = %s, want %s", sid, got[sid], w)
		}
	}
	trust := doc.TrustPolicy.Statement[0]
	if trust.Principal["AWS"] != "arn:aws:iam::444455556666:user/gatehouse-operator" ||
		strings.Join(trust.Condition["StringEquals"]["sts:ExternalId"], "") != testExternalID {
		t.Errorf("trust = %+v", trust)
	}

	// The CloudFormation template holds the same documents.
	var cfn struct {
		Resources map[string]struct {
			Properties struct {
				AssumeRolePolicyDocument any              `yaml:"AssumeRolePolicyDocument"`
				Policies                 []map[string]any `yaml:"Policies"`
			} `yaml:"Properties"`
		} `yaml:"Resources"`
	}
	if err := yaml.Unmarshal(b.CloudFormation(), &cfn); err != nil {
		t.Fatal(err)
	}
	role := cfn.Resources["DataSourceRole"].Properties
	if len(role.Policies) != 1 || !reflect.DeepEqual(asJSON(t, role.AssumeRolePolicyDocument), asJSON(t, b.Trust)) ||
		!reflect.DeepEqual(asJSON(t, role.Policies[0]["PolicyDocument"]), asJSON(t, b.Permissions)) {
		t.Errorf("CloudFormation does not hold the generated policies: %+v", role)
	}
	// The Terraform holds them in heredocs.
	docs := terraformHeredocs(t, string(b.Terraform()))
	if len(docs) != 2 || docs[0] != string(b.Trust.JSON()) || docs[1] != string(b.Permissions.JSON()) {
		t.Errorf("Terraform heredocs = %q", docs)
	}
}

func TestS3ValidateErrors(t *testing.T) {
	base := S3Options{Bucket: "b-1", ExternalID: "x-1", TrustedPrincipal: "arn:aws:iam::111111111111:role/r"}
	cases := []struct {
		edit func(*S3Options)
		want string
	}{
		{func(o *S3Options) { o.Bucket = "" }, "--bucket is required"},
		{func(o *S3Options) { o.Bucket = "s3://b-1" }, `--bucket "s3://b-1" is not an S3 bucket name`},
		{func(o *S3Options) { o.Prefix = "/exports" }, `starts with "/"`},
		{func(o *S3Options) { o.Prefix = "exports/*" }, "contains a wildcard"},
		{func(o *S3Options) { o.ExternalID = "" }, "--external-id is required: the External ID Gatehouse showed"},
		{func(o *S3Options) { o.TrustedPrincipal = "" }, "--trusted-principal is required"},
		{func(o *S3Options) { o.TrustedPrincipal = "gatehouse" }, "--trusted-principal must be an IAM user or role ARN"},
	}
	for _, c := range cases {
		o := base
		c.edit(&o)
		_, err := GenerateS3(o)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: err = %v, want %q", o, err, c.want)
		}
	}
}
