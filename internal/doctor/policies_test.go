package doctor

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/gatehouse/gatehouse/internal/awsperms"
	"github.com/gatehouse/gatehouse/internal/awssim"
)

// The fallback policy reader works with exactly what the generated connector policy
// grants (no per-entity IAM reads, which it does not grant), and returns the role's
// inline and attached documents.
func TestRolePoliciesNeedOnlyTheGeneratedPolicy(t *testing.T) {
	w := awssim.NewWorld("111111111111", "us-east-1", nil)
	generated := string(awsperms.PolicyFor(awsperms.Set{}, awsperms.Connector,
		awsperms.Names{ConnectorRole: awssim.ConnectorRoleName, MemberRole: awsperms.DefaultMemberRoleName}).JSON())
	w.AddConnectorAccess("ext", generated)
	extra := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::reports/a+b c.csv"}]}`
	role := w.ManagementAccount().Roles[awssim.ConnectorRoleName]
	role.InlinePolicies["extra"] = extra
	role.AttachedPolicies = append(role.AttachedPolicies, awssim.AWSManagedPolicyARN("ReadOnlyAccess"))
	readOnly := w.Policy(w.ManagementAccount(), awssim.AWSManagedPolicyARN("ReadOnlyAccess")).Document()
	s := awssim.New(w, awssim.Options{})
	url, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	base := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(url),
		Credentials: credentials.NewStaticCredentialsProvider(w.Connector.AccessKeyID, w.Connector.SecretAccessKey, "")}
	conn := base.Copy()
	conn.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(base), w.Connector.RoleARN, func(o *stscreds.AssumeRoleOptions) {
		o.ExternalID = aws.String("ext")
	}))
	docs, err := rolePolicies(ctx, iam.NewFromConfig(conn), w.Connector.RoleARN)
	if err != nil {
		t.Fatalf("reading the connector role's policies with only the generated policy: %v", err)
	}
	want := []string{generated, extra, readOnly}
	slices.Sort(docs)
	slices.Sort(want)
	if !slices.Equal(docs, want) {
		t.Errorf("documents:\n%q\nwant\n%q", docs, want)
	}
}

// IAM returns documents URL-encoded as RFC 3986 says, where "+" is itself: the doctor
// decodes them as the sync does (iampolicy.DecodeDocument), keeping it, where query
// unescaping would read a space and evaluate another policy.
func TestPoliciesOfDecodesAsTheSync(t *testing.T) {
	arn := "arn:aws:iam::111111111111:role/R"
	enc := "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22s3%3AGetObject%22%2C%22Resource%22%3A%22arn%3Aaws%3As3%3A%3A%3Areports%2Fa+b%22%7D%5D%7D"
	pages := []*iam.GetAccountAuthorizationDetailsOutput{{
		RoleDetailList: []iamtypes.RoleDetail{{Arn: aws.String(arn), RolePolicyList: []iamtypes.PolicyDetail{{PolicyName: aws.String("p"), PolicyDocument: aws.String(enc)}},
			AttachedManagedPolicies: []iamtypes.AttachedPolicy{{PolicyArn: aws.String("arn:aws:iam::111111111111:policy/M")}}}},
		Policies: []iamtypes.ManagedPolicyDetail{{Arn: aws.String("arn:aws:iam::111111111111:policy/M"),
			PolicyVersionList: []iamtypes.PolicyVersion{{IsDefaultVersion: false, Document: aws.String("%7B%7D")}, {IsDefaultVersion: true, Document: aws.String("%7B%22v%22%3A2%7D")}}}},
	}}
	docs, err := policiesOf(arn, pages)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::reports/a+b"}]}`, `{"v":2}`}
	if !slices.Equal(docs, want) {
		t.Errorf("documents = %q, want %q", docs, want)
	}
	if ev := evaluatePolicies(docs, "s3:GetObject", "arn:aws:s3:::reports/a+b"); !ev.allowed {
		t.Errorf("the decoded policy does not allow its own resource: %s", ev.why)
	}
	// A policy attached to the role but absent from the answer is an error, not a
	// smaller set of documents.
	pages[0].Policies = nil
	if _, err := policiesOf(arn, pages); err == nil || err.Error() != "GetAccountAuthorizationDetails did not return the managed policy arn:aws:iam::111111111111:policy/M attached to "+arn {
		t.Errorf("missing managed policy: %v", err)
	}
}
