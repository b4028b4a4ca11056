package awssim

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// GetAccountAuthorizationDetails with MaxItems 1 walks every entity kind one per page and
// returns what a sync needs about each.
func TestIAMAccountAuthorizationDetails(t *testing.T) {
	s, c := newIAMTest(t, Options{})
	teamRead := "arn:aws:iam::111111111111:policy/team/team-read"
	used := time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC)
	s.Do(func(w *World) {
		a := w.Account(iamAccount)
		p := a.AddPolicy(w, "team-read", "/team/", iamDocVersion(1))
		p.Description = "team read"
		p.Versions = append(p.Versions, &PolicyVersion{ID: "v2", Document: iamDocVersion(2), CreateDate: w.Now()})
		p.DefaultVersion = "v2"
		ana := a.AddUser(w, "ana", "/eng/")
		ana.Tags = []Tag{{"team", "eng"}}
		ana.InlinePolicies["ana-inline"] = iamReadS3Doc
		ana.AttachedPolicies = []string{teamRead}
		g := a.AddGroup(w, "eng", "/")
		g.AddUserToGroup("ana")
		g.InlinePolicies["eng-inline"] = iamDocVersion(3)
		g.AttachedPolicies = []string{AWSManagedPolicyARN("ReadOnlyAccess")}
		r := a.AddRole(w, "etl", "/service/", iamEC2Trust)
		r.Tags = []Tag{{"app", "etl"}}
		r.InlinePolicies["etl-inline"] = iamDocVersion(4)
		r.AttachedPolicies = []string{teamRead}
		r.LastUsedDate, r.LastUsedRegion = used, "eu-central-1"
	})

	var users []types.UserDetail
	var groups []types.GroupDetail
	var roles []types.RoleDetail
	var policies []types.ManagedPolicyDetail
	names := drainIAM(t, iam.NewGetAccountAuthorizationDetailsPaginator(c, &iam.GetAccountAuthorizationDetailsInput{},
		func(o *iam.GetAccountAuthorizationDetailsPaginatorOptions) { o.Limit = 1 }), 1,
		func(o *iam.GetAccountAuthorizationDetailsOutput) []string {
			users, groups = append(users, o.UserDetailList...), append(groups, o.GroupDetailList...)
			roles, policies = append(roles, o.RoleDetailList...), append(policies, o.Policies...)
			return authDetailNames(o)
		})
	all := []string{"user:ana", "user:gatehouse-operator", "user:test-admin", "group:eng", "role:GatehouseConnector", "role:etl",
		"policy:AdministratorAccess", "policy:ReadOnlyAccess", "policy:team-read"}
	iamEqual(t, "entities one per page", names, all)
	whole := iamOut(c.GetAccountAuthorizationDetails(ctx(t), &iam.GetAccountAuthorizationDetailsInput{MaxItems: aws.Int32(1000)})).must(t)
	iamEqual(t, "entities in one page", authDetailNames(whole), all)
	if whole.IsTruncated || whole.Marker != nil {
		t.Errorf("a complete page is truncated: %v %v", whole.IsTruncated, whole.Marker)
	}

	ana := users[0]
	iamEqual(t, "ana ARN", aws.ToString(ana.Arn), "arn:aws:iam::111111111111:user/eng/ana")
	iamEqual(t, "ana groups", ana.GroupList, []string{"eng"})
	iamEqual(t, "ana attached", iamStrs(ana.AttachedManagedPolicies, func(p types.AttachedPolicy) *string { return p.PolicyArn }), []string{teamRead})
	iamEqual(t, "ana inline names", iamStrs(ana.UserPolicyList, func(p types.PolicyDetail) *string { return p.PolicyName }), []string{"ana-inline"})
	iamEqual(t, "ana inline document", iamDecoded(t, ana.UserPolicyList[0].PolicyDocument), iamReadS3Doc)
	iamEqual(t, "ana iamTags", iamTagPairs(ana.Tags), []string{"team=eng"})
	if ana.PermissionsBoundary != nil {
		t.Errorf("PermissionsBoundary = %+v, want none", ana.PermissionsBoundary)
	}
	op := users[1]
	if doc := iamDecoded(t, op.UserPolicyList[0].PolicyDocument); !strings.Contains(doc, "arn:aws:iam::111111111111:role/GatehouseConnector") {
		t.Errorf("operator inline policy = %s", doc)
	}

	eng := groups[0]
	iamEqual(t, "eng inline document", iamDecoded(t, eng.GroupPolicyList[0].PolicyDocument), iamDocVersion(3))
	iamEqual(t, "eng attached", iamStrs(eng.AttachedManagedPolicies, func(p types.AttachedPolicy) *string { return p.PolicyName }), []string{"ReadOnlyAccess"})

	etl := roles[1]
	iamEqual(t, "etl ARN", aws.ToString(etl.Arn), "arn:aws:iam::111111111111:role/service/etl")
	iamEqual(t, "etl trust policy", iamDecoded(t, etl.AssumeRolePolicyDocument), iamEC2Trust)
	iamEqual(t, "etl instance profiles", len(etl.InstanceProfileList), 0)
	iamEqual(t, "etl inline", iamDecoded(t, etl.RolePolicyList[0].PolicyDocument), iamDocVersion(4))
	iamEqual(t, "etl attached", iamStrs(etl.AttachedManagedPolicies, func(p types.AttachedPolicy) *string { return p.PolicyName }), []string{"team-read"})
	iamEqual(t, "etl iamTags", iamTagPairs(etl.Tags), []string{"app=etl"})
	if etl.RoleLastUsed == nil || !aws.ToTime(etl.RoleLastUsed.LastUsedDate).Equal(used) || aws.ToString(etl.RoleLastUsed.Region) != "eu-central-1" {
		t.Errorf("etl RoleLastUsed = %+v", etl.RoleLastUsed)
	}

	tr := policies[2]
	iamEqual(t, "team-read ARN", aws.ToString(tr.Arn), teamRead)
	iamEqual(t, "team-read default", aws.ToString(tr.DefaultVersionId), "v2")
	iamEqual(t, "team-read attachments", aws.ToInt32(tr.AttachmentCount), int32(2))
	iamEqual(t, "team-read description", aws.ToString(tr.Description), "team read")
	if !tr.IsAttachable {
		t.Error("team-read is not attachable")
	}
	var versions []string
	for _, v := range tr.PolicyVersionList {
		versions = append(versions, aws.ToString(v.VersionId)+":"+iamDecoded(t, v.Document))
		if v.IsDefaultVersion != (aws.ToString(v.VersionId) == "v2") {
			t.Errorf("version %s IsDefaultVersion = %v", aws.ToString(v.VersionId), v.IsDefaultVersion)
		}
	}
	iamEqual(t, "team-read versions", versions, []string{"v1:" + iamDocVersion(1), "v2:" + iamDocVersion(2)})
	iamEqual(t, "AdministratorAccess attachments (test-admin)", aws.ToInt32(policies[0].AttachmentCount), int32(1))

	filtered := func(f ...types.EntityType) []string {
		out := iamOut(c.GetAccountAuthorizationDetails(ctx(t), &iam.GetAccountAuthorizationDetailsInput{Filter: f})).must(t)
		return authDetailNames(out)
	}
	iamEqual(t, "Filter Role", filtered(types.EntityTypeRole), []string{"role:GatehouseConnector", "role:etl"})
	iamEqual(t, "Filter LocalManagedPolicy", filtered(types.EntityTypeLocalManagedPolicy), []string{"policy:team-read"})
	iamEqual(t, "Filter AWSManagedPolicy", filtered(types.EntityTypeAWSManagedPolicy), []string{"policy:AdministratorAccess", "policy:ReadOnlyAccess"})
	iamEqual(t, "Filter User, Group", filtered(types.EntityTypeUser, types.EntityTypeGroup),
		[]string{"user:ana", "user:gatehouse-operator", "user:test-admin", "group:eng"})
	_, err := c.GetAccountAuthorizationDetails(ctx(t), &iam.GetAccountAuthorizationDetailsInput{Filter: []types.EntityType{"Bucket"}})
	iamCode(t, err, "ValidationError")
}

func TestIAMSimulatePrincipalPolicy(t *testing.T) {
	s, c := newIAMTest(t, Options{})
	s.Do(func(w *World) {
		a := w.Account(iamAccount)
		sam := a.AddUser(w, "sam", "/")
		sam.InlinePolicies["reports"] = iamReadS3Doc
		sam.InlinePolicies["no-deletes"] = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:DeleteObject","Resource":"*"},{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::reports/*"}]}`
		g := a.AddGroup(w, "readers", "/")
		g.AddUserToGroup("sam")
		g.AttachedPolicies = []string{AWSManagedPolicyARN("IAMReadOnlyAccess")}
	})
	simulate := func(source string, actions []string, resources ...string) ([]string, error) {
		out, err := c.SimulatePrincipalPolicy(ctx(t), &iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String(source), ActionNames: actions, ResourceArns: resources})
		if err != nil {
			return nil, err
		}
		var res []string
		for _, r := range out.EvaluationResults {
			res = append(res, aws.ToString(r.EvalActionName)+" "+aws.ToString(r.EvalResourceName)+" "+string(r.EvalDecision))
		}
		return res, nil
	}
	sam := "arn:aws:iam::111111111111:user/sam"
	iamEqual(t, "sam on a report", iamOut(simulate(sam, []string{"s3:GetObject", "s3:DeleteObject", "iam:ListUsers", "ec2:RunInstances"}, "arn:aws:s3:::reports/q1.csv")).must(t),
		[]string{"s3:GetObject arn:aws:s3:::reports/q1.csv allowed", "s3:DeleteObject arn:aws:s3:::reports/q1.csv explicitDeny",
			"iam:ListUsers arn:aws:s3:::reports/q1.csv allowed", "ec2:RunInstances arn:aws:s3:::reports/q1.csv implicitDeny"})
	iamEqual(t, "sam without resources", iamOut(simulate(sam, []string{"s3:GetObject", "iam:ListUsers"})).must(t),
		[]string{"s3:GetObject * implicitDeny", "iam:ListUsers * allowed"})
	iamEqual(t, "connector role", iamOut(simulate("arn:aws:iam::111111111111:role/GatehouseConnector", []string{"iam:ListUsers", "iam:CreateUser", "sts:AssumeRole"},
		"arn:aws:iam::222222222222:role/OrganizationAccountAccessRole")).must(t),
		[]string{"iam:ListUsers arn:aws:iam::222222222222:role/OrganizationAccountAccessRole allowed",
			"iam:CreateUser arn:aws:iam::222222222222:role/OrganizationAccountAccessRole implicitDeny",
			"sts:AssumeRole arn:aws:iam::222222222222:role/OrganizationAccountAccessRole allowed"})
	iamEqual(t, "group", iamOut(simulate("arn:aws:iam::111111111111:group/readers", []string{"iam:GetUser", "s3:GetObject"})).must(t),
		[]string{"iam:GetUser * allowed", "s3:GetObject * implicitDeny"})

	_, err := simulate("arn:aws:iam::111111111111:user/nobody", []string{"s3:GetObject"})
	iamCode(t, err, "NoSuchEntity")
	_, err = simulate("arn:aws:iam::999999999999:user/sam", []string{"s3:GetObject"})
	iamCode(t, err, "NoSuchEntity")
	_, err = simulate("nope", []string{"s3:GetObject"})
	iamCode(t, err, "InvalidInput")
	_, err = simulate(sam, []string{})
	iamCode(t, err, "ValidationError")

	// The call itself needs iam:SimulatePrincipalPolicy, like any other.
	var op aws.Config
	s.Do(func(w *World) {
		op = testConfig(s.URL(), w.Region, w.Connector.AccessKeyID, w.Connector.SecretAccessKey, "")
	})
	_, err = iam.NewFromConfig(op).SimulatePrincipalPolicy(ctx(t), &iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String(sam), ActionNames: []string{"s3:GetObject"}})
	iamCode(t, err, "AccessDenied")
}
