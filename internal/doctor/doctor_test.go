package doctor

import (
	"bytes"
	"errors"
	"net/http"
	"strings"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

func apiErr(code, msg string, status int) error {
	return &smithy.OperationError{ServiceID: "IAM", OperationName: "X", Err: &awshttp.ResponseError{
		ResponseError: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
			Err: &smithy.GenericAPIError{Code: code, Message: msg, Fault: map[bool]smithy.ErrorFault{true: smithy.FaultServer, false: smithy.FaultClient}[status >= 500]}}}}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want verdict
	}{
		{nil, allowed},
		{apiErr("NoSuchEntity", "The user with name x cannot be found.", 404), allowed},
		{apiErr("ResourceNotFoundException", "no such permission set", 400), allowed},
		{apiErr("ValidationException", "bad id", 400), allowed},
		{apiErr("ReportNotPresent", "", 410), allowed},
		{apiErr("AccessDenied", "User: x is not authorized to perform: iam:ListRoles on resource: *", 403), denied},
		{apiErr("AccessDeniedException", "User: x is not authorized to perform: sso:ListInstances", 400), denied},
		// Organizations refusing a member account names no action: not a verdict.
		{apiErr("AccessDeniedException", "You don't have permissions to access this resource.", 400), unknown},
		{apiErr("Throttling", "Rate exceeded", 400), unknown},
		{apiErr("ServiceFailure", "oops", 500), unknown},
		{errors.New("connection reset"), unknown},
	} {
		if got, _ := classify(tc.err); got != tc.want {
			t.Errorf("classify(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func TestTrustRequiresExternalID(t *testing.T) {
	for _, tc := range []struct {
		doc  string
		ok   bool
		open string
	}{
		{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::1:user/a"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"x"}}}]}`, true, ""},
		{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::1:user/a"]},"Action":["sts:AssumeRole"],"Condition":{"StringLike":{"sts:externalid":"x*"}}}}`, true, ""},
		{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::1:user/a"},"Action":"sts:AssumeRole"}]}`, false, "arn:aws:iam::1:user/a"},
		// A second statement without the condition opens the door again.
		{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::1:user/a"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"x"}}},{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::2:root"},"Action":"sts:*"}]}`, false, "arn:aws:iam::2:root"},
		// A service principal without the condition opens the role too.
		{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`, false, "ec2.amazonaws.com"},
		// A negated condition does not require the External ID.
		{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Condition":{"StringNotEquals":{"sts:ExternalId":"x"}}}]}`, false, "*"},
	} {
		ok, open, err := trustRequiresExternalID(tc.doc)
		if err != nil || ok != tc.ok || strings.Join(open, ",") != tc.open {
			t.Errorf("%s: ok=%v open=%v err=%v; want %v %q", tc.doc, ok, open, err, tc.ok, tc.open)
		}
	}
}

func TestEvaluatePolicies(t *testing.T) {
	allow := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:List*","sso:Create*"],"Resource":"*"},{"Effect":"Allow","Action":"iam:CreateRole","Resource":"arn:aws:iam::*:role/aws-reserved/sso.amazonaws.com/*"}]}`
	deny := `{"Version":"2012-10-17","Statement":{"Effect":"Deny","NotAction":"iam:List*","Resource":"*"}}`
	conditional := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:AddUserToGroup","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}]}`
	for _, tc := range []struct {
		docs             []string
		action, resource string
		allowed          bool
		why              string
	}{
		{[]string{allow}, "iam:ListRoles", "*", true, ""},
		{[]string{allow}, "IAM:listroles", "*", true, ""},
		{[]string{allow}, "sso:CreateAccountAssignment", "*", true, ""},
		{[]string{allow}, "iam:CreateRole", "arn:aws:iam::1:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_X_0", true, ""},
		{[]string{allow}, "iam:CreateRole", "arn:aws:iam::1:role/Other", false, "no statement of the role's policies allows it"},
		{[]string{allow, deny}, "sso:CreateAccountAssignment", "*", false, "an explicit Deny in the role's policies"},
		{[]string{allow, deny}, "iam:ListUsers", "*", true, ""},
		{[]string{conditional}, "iam:AddUserToGroup", "arn:aws:iam::1:group/g", false, "only a statement with a condition allows it"},
	} {
		got := evaluatePolicies(tc.docs, tc.action, tc.resource)
		if got.allowed != tc.allowed || got.why != tc.why {
			t.Errorf("%s on %s: %+v, want allowed=%v why=%q", tc.action, tc.resource, got, tc.allowed, tc.why)
		}
	}
}

func TestSourceName(t *testing.T) {
	for in, want := range map[string]string{
		"EnvConfigCredentials":                        "environment variables (AWS_ACCESS_KEY_ID)",
		"SharedConfigCredentials: /home/a/.aws/creds": "the shared credentials file /home/a/.aws/creds",
		"SSOProvider":                                 "an IAM Identity Center (SSO) profile",
		"EC2RoleProvider":                             "the EC2 instance role",
		"StaticCredentials":                           "static credentials",
		"SomethingNew":                                "SomethingNew",
	} {
		if got := sourceName(in); got != want {
			t.Errorf("sourceName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWriteText(t *testing.T) {
	rep := finish(&Report{Checks: []Check{
		{ID: "credentials", Title: "Credentials", Status: Pass, Detail: "from x: arn"},
		{ID: "permissions", Title: "Permissions", Status: Fail, Detail: "the connector role lacks 1 of the 2 actions the chosen features need: iam:ListRoles",
			Method: "a harmless read call (2 actions)", Fix: "allow it",
			Items: []Item{{Name: "iam:ListRoles", Status: Fail, Detail: "denied"}, {Name: "iam:ListUsers", Status: Pass, Detail: "allowed"}}},
		{ID: "scim", Title: "SCIM", Status: Warn, Detail: "meh", Fix: "do"},
	}})
	var b bytes.Buffer
	rep.WriteText(&b)
	want := `PASS  Credentials         from x: arn
FAIL  Permissions         the connector role lacks 1 of the 2 actions the chosen features need: iam:ListRoles
      checked by a harmless read call (2 actions)
      - iam:ListRoles: denied
      fix: allow it
WARN  SCIM                meh
      fix: do

1 check failed (Permissions): Gatehouse cannot work with these settings until it is fixed.
`
	if b.String() != want || rep.OK {
		t.Errorf("WriteText:\n%s\nwant\n%s", b.String(), want)
	}
}
