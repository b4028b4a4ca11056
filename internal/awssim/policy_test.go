package awssim

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// The simulator's policy evaluation is its own: it must not import the evaluator of
// gatehouse doctor (internal/iampolicy), which the simulator is used to test.
func TestPolicyEvaluationIsIndependentOfDoctor(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		parsed, err := parser.ParseFile(token.NewFileSet(), f, src, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range parsed.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); strings.HasSuffix(p, "/internal/iampolicy") || strings.HasSuffix(p, "/internal/doctor") {
				t.Errorf("%s imports %s", f, p)
			}
		}
	}
}

// A condition on a key the simulator does not put in request contexts, or with an
// operator it does not implement, never holds: an Allow with it grants nothing, a Deny
// with it denies nothing (docs/simulator.md).
func TestUnsupportedConditionsNeverHold(t *testing.T) {
	for _, tc := range []struct{ name, cond string }{
		{"unknown key", `{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`},
		{"unknown key with IfExists", `{"StringEqualsIfExists":{"aws:RequestedRegion":"us-east-1"}}`},
		{"unknown operator", `{"ForAnyValue:StringEquals":{"aws:ResourceOrgID":"o-abcdefghij"}}`},
		{"negated operator on an unknown key", `{"StringNotEquals":{"aws:SourceVpc":"vpc-1"}}`},
	} {
		allow := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetUser","Resource":"*","Condition":` + tc.cond + `}]}`
		if got := EvaluateIdentityPolicies([]string{allow}, "iam:GetUser", "arn:aws:iam::111111111111:user/a", map[string][]string{"aws:ResourceOrgID": {"o-abcdefghij"}}); got != "implicitDeny" {
			t.Errorf("%s: Allow = %s, want implicitDeny", tc.name, got)
		}
		deny := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"iam:GetUser","Resource":"*","Condition":` + tc.cond + `}]}`
		if got := EvaluateIdentityPolicies([]string{deny}, "iam:GetUser", "arn:aws:iam::111111111111:user/a", nil); got != "allowed" {
			t.Errorf("%s: Deny = %s, want allowed (the Deny does not apply)", tc.name, got)
		}
	}
}

// Over the wire: a connector whose policy allows sts:AssumeRole only with
// aws:ResourceOrgID equal to its organization enters a member account, and not an
// account of no organization, though the role there trusts it just as well.
func TestAssumeRoleResourceOrgIDCondition(t *testing.T) {
	w := NewWorld("111111111111", "us-east-1", nil)
	org := w.EnableOrganization()
	member := w.AddAccount("222222222222", "member", "m@example.com", "")
	member.ParentID = org.RootID
	outside := w.AddAccount("999999999999", "outside", "o@example.com", "")
	outside.ParentID = ""
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:SimulatePrincipalPolicy","Resource":"*"},` +
		`{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::*:role/GatehouseMember","Condition":{"StringEquals":{"aws:ResourceOrgID":"` + org.ID + `"}}}]}`
	w.AddConnectorAccess("ext", policy)
	w.AddGatehouseMemberRole(member, DefaultMemberRoleName)
	w.AddGatehouseMemberRole(outside, DefaultMemberRoleName)
	s, cfg := startSim(t, w, Options{})
	conn := cfg.Copy()
	conn.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), w.Connector.RoleARN, func(o *stscreds.AssumeRoleOptions) {
		o.ExternalID = aws.String("ext")
	}))
	assume := func(account string) error {
		_, err := sts.NewFromConfig(conn).AssumeRole(ctx(t), &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + account + ":role/GatehouseMember"), RoleSessionName: aws.String("sync")})
		return err
	}
	if err := assume("222222222222"); err != nil {
		t.Errorf("assume the member role in the organization: %v", err)
	}
	if err := assume("999999999999"); apiCode(err) != "AccessDenied" {
		t.Errorf("assume the role of an account outside the organization: err = %v, want AccessDenied", err)
	}

	// The IAM policy simulator knows only the context entries it is given, and says
	// which ones a conditional statement missed.
	out, err := iam.NewFromConfig(conn).SimulatePrincipalPolicy(ctx(t), &iam.SimulatePrincipalPolicyInput{
		PolicySourceArn: aws.String(w.Connector.RoleARN), ActionNames: []string{"sts:AssumeRole"},
		ResourceArns: []string{"arn:aws:iam::222222222222:role/GatehouseMember"}})
	if err != nil {
		t.Fatal(err)
	}
	if r := out.EvaluationResults[0]; r.EvalDecision != "implicitDeny" || strings.Join(r.MissingContextValues, ",") != "aws:ResourceOrgID" {
		t.Errorf("without context: %s, missing %v; want implicitDeny, missing aws:ResourceOrgID", r.EvalDecision, r.MissingContextValues)
	}
	out, err = iam.NewFromConfig(conn).SimulatePrincipalPolicy(ctx(t), &iam.SimulatePrincipalPolicyInput{
		PolicySourceArn: aws.String(w.Connector.RoleARN), ActionNames: []string{"sts:AssumeRole"},
		ResourceArns:   []string{"arn:aws:iam::222222222222:role/GatehouseMember"},
		ContextEntries: []iamtypes.ContextEntry{{ContextKeyName: aws.String("aws:ResourceOrgID"), ContextKeyType: iamtypes.ContextKeyTypeEnumString, ContextKeyValues: []string{org.ID}}}})
	if err != nil {
		t.Fatal(err)
	}
	if r := out.EvaluationResults[0]; r.EvalDecision != "allowed" || len(r.MissingContextValues) != 0 {
		t.Errorf("with aws:ResourceOrgID: %s, missing %v; want allowed", r.EvalDecision, r.MissingContextValues)
	}
	_ = s
}
