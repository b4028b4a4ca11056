package datasource

import (
	"testing"

	"github.com/aws/smithy-go"
)

// What each kind of AWS failure is said to mean, and what to do.
func TestDescribe(t *testing.T) {
	tg := Target{RoleARN: "arn:aws:iam::111111111111:role/R", ExternalID: "x-1", Bucket: "b-1", Prefix: "p/"}
	cases := []struct {
		step, code, detail, fix string
	}{
		{"get_object", "PreconditionFailed", "the file changed while it was being read (PreconditionFailed: m)", "nothing to change: the next sync reads the new version"},
		{"list_bucket", "NoSuchBucket", "the bucket b-1 does not exist (NoSuchBucket: m)", "check the data source's bucket name: it is the bucket's name, not a URL or ARN"},
		{"get_object", "SlowDown", "AWS throttled the call (SlowDown: m) after the SDK's retries", "nothing to change: the next sync reads again; if it persists, lower the request rate on the bucket or schedule the source less often"},
		{"get_object", "AccessDenied", "s3:GetObject on arn:aws:s3:::b-1/p/* was denied: AccessDenied: m",
			"allow s3:GetObject on arn:aws:s3:::b-1/p/* in the role's permissions policy (statement ReadFiles of: gatehouse setup s3 --bucket b-1 --prefix p/ --external-id x-1); objects encrypted with a customer managed KMS key also need kms:Decrypt on that key"},
	}
	for _, c := range cases {
		detail, fix := describe(c.step, &smithy.GenericAPIError{Code: c.code, Message: "m"}, tg, "")
		if detail != c.detail || fix != c.fix {
			t.Errorf("%s %s:\n got  %q\n      %q\n want %q\n      %q", c.step, c.code, detail, fix, c.detail, c.fix)
		}
	}
	if got := principalOf("arn:aws:sts::111111111111:assumed-role/gatehouse-runtime/i-0abc"); got != "arn:aws:iam::111111111111:role/gatehouse-runtime" {
		t.Errorf("principalOf = %s", got)
	}
}
