package awssim

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

func iamDocVersion(n int) string {
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"V%d","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::reports/*"}]}`, n)
}

func TestIAMManagedPolicies(t *testing.T) {
	_, c := newIAMTest(t, Options{})
	created := iamOut(c.CreatePolicy(ctx(t), &iam.CreatePolicyInput{PolicyName: aws.String("read-reports"), Path: aws.String("/team/"),
		PolicyDocument: aws.String(iamDocVersion(1)), Description: aws.String("Read the reports bucket")})).must(t).Policy
	arn := "arn:aws:iam::111111111111:policy/team/read-reports"
	iamEqual(t, "policy ARN", aws.ToString(created.Arn), arn)
	iamEqual(t, "default version", aws.ToString(created.DefaultVersionId), "v1")
	iamEqual(t, "attachment count", aws.ToInt32(created.AttachmentCount), int32(0))

	create := func(name, doc string) error {
		_, err := c.CreatePolicy(ctx(t), &iam.CreatePolicyInput{PolicyName: aws.String(name), PolicyDocument: aws.String(doc)})
		return err
	}
	iamCode(t, create("Read-Reports", iamDocVersion(1)), "EntityAlreadyExists")
	iamCode(t, create("broken", `{"Statement":`), "MalformedPolicyDocument")
	iamCode(t, create("broken", iamEC2Trust), "MalformedPolicyDocument") // a principal in an identity policy
	iamCode(t, create("broken", `{"Version":"2012-10-17","Statement":[{"Effect":"Maybe","Action":"*","Resource":"*"}]}`), "MalformedPolicyDocument")

	got := iamOut(c.GetPolicy(ctx(t), &iam.GetPolicyInput{PolicyArn: aws.String(arn)})).must(t).Policy
	iamEqual(t, "GetPolicy description", aws.ToString(got.Description), "Read the reports bucket")
	iamEqual(t, "GetPolicy path", aws.ToString(got.Path), "/team/")
	_, err := c.GetPolicy(ctx(t), &iam.GetPolicyInput{PolicyArn: aws.String("arn:aws:iam::111111111111:policy/nope")})
	iamCode(t, err, "NoSuchEntity")
	aws1 := iamOut(c.GetPolicy(ctx(t), &iam.GetPolicyInput{PolicyArn: aws.String(AWSManagedPolicyARN("ViewOnlyAccess"))})).must(t).Policy
	iamEqual(t, "AWS-managed policy path", aws.ToString(aws1.Path), "/job-function/")

	v1 := iamOut(c.GetPolicyVersion(ctx(t), &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v1")})).must(t).PolicyVersion
	iamEqual(t, "v1 document", iamDecoded(t, v1.Document), iamDocVersion(1))
	if !v1.IsDefaultVersion {
		t.Error("v1 is not the default version")
	}
	_, err = c.GetPolicyVersion(ctx(t), &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v9")})
	iamCode(t, err, "NoSuchEntity")

	// Versions: v2 not default, v3 default, then up to the quota of 5.
	newVersion := func(n int, setDefault bool) (*types.PolicyVersion, error) {
		out, err := c.CreatePolicyVersion(ctx(t), &iam.CreatePolicyVersionInput{PolicyArn: aws.String(arn), PolicyDocument: aws.String(iamDocVersion(n)), SetAsDefault: setDefault})
		if err != nil {
			return nil, err
		}
		return out.PolicyVersion, nil
	}
	v2 := iamOut(newVersion(2, false)).must(t)
	iamEqual(t, "new version id", aws.ToString(v2.VersionId), "v2")
	if v2.IsDefaultVersion {
		t.Error("v2 became default without SetAsDefault")
	}
	iamOut(newVersion(3, true)).must(t)
	iamEqual(t, "default after SetAsDefault", aws.ToString(iamOut(c.GetPolicy(ctx(t), &iam.GetPolicyInput{PolicyArn: aws.String(arn)})).must(t).Policy.DefaultVersionId), "v3")
	versions := iamOut(c.ListPolicyVersions(ctx(t), &iam.ListPolicyVersionsInput{PolicyArn: aws.String(arn)})).must(t).Versions
	var vs []string
	for _, v := range versions {
		vs = append(vs, fmt.Sprintf("%s:%v", aws.ToString(v.VersionId), v.IsDefaultVersion))
	}
	iamEqual(t, "ListPolicyVersions (newest first)", vs, []string{"v3:true", "v2:false", "v1:false"})
	iamOut(newVersion(4, false)).must(t)
	iamOut(newVersion(5, false)).must(t)
	_, err = newVersion(6, false)
	iamCode(t, err, "LimitExceeded")
	_, err = c.DeletePolicyVersion(ctx(t), &iam.DeletePolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v3")})
	iamCode(t, err, "DeleteConflict") // the default version goes only with the policy
	iamOut(c.SetDefaultPolicyVersion(ctx(t), &iam.SetDefaultPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v1")})).must(t)
	iamEqual(t, "default after SetDefaultPolicyVersion", aws.ToString(iamOut(c.GetPolicy(ctx(t), &iam.GetPolicyInput{PolicyArn: aws.String(arn)})).must(t).Policy.DefaultVersionId), "v1")
	_, err = c.CreatePolicyVersion(ctx(t), &iam.CreatePolicyVersionInput{PolicyArn: aws.String(AWSManagedPolicyARN("ReadOnlyAccess")), PolicyDocument: aws.String(iamDocVersion(1))})
	iamCode(t, err, "AccessDenied") // AWS-managed policies belong to AWS

	// Attach it to a user, a group and a role, and an AWS-managed policy to the role.
	iamOut(c.CreateUser(ctx(t), &iam.CreateUserInput{UserName: aws.String("analyst")})).must(t)
	iamOut(c.CreateGroup(ctx(t), &iam.CreateGroupInput{GroupName: aws.String("analysts")})).must(t)
	iamOut(c.CreateRole(ctx(t), &iam.CreateRoleInput{RoleName: aws.String("etl"), AssumeRolePolicyDocument: aws.String(iamEC2Trust)})).must(t)
	iamOut(c.AttachUserPolicy(ctx(t), &iam.AttachUserPolicyInput{UserName: aws.String("analyst"), PolicyArn: aws.String(arn)})).must(t)
	iamOut(c.AttachGroupPolicy(ctx(t), &iam.AttachGroupPolicyInput{GroupName: aws.String("analysts"), PolicyArn: aws.String(arn)})).must(t)
	iamOut(c.AttachRolePolicy(ctx(t), &iam.AttachRolePolicyInput{RoleName: aws.String("etl"), PolicyArn: aws.String(arn)})).must(t)
	iamOut(c.AttachRolePolicy(ctx(t), &iam.AttachRolePolicyInput{RoleName: aws.String("etl"), PolicyArn: aws.String(AWSManagedPolicyARN("ReadOnlyAccess"))})).must(t)

	listPolicies := func(in *iam.ListPoliciesInput) map[string]int32 {
		out := map[string]int32{}
		for _, p := range iamOut(c.ListPolicies(ctx(t), in)).must(t).Policies {
			out[aws.ToString(p.PolicyName)] = aws.ToInt32(p.AttachmentCount)
		}
		return out
	}
	iamEqual(t, "ListPolicies Local", listPolicies(&iam.ListPoliciesInput{Scope: types.PolicyScopeTypeLocal}), map[string]int32{"read-reports": 3})
	iamEqual(t, "ListPolicies AWS attached", listPolicies(&iam.ListPoliciesInput{Scope: types.PolicyScopeTypeAws, OnlyAttached: true}),
		map[string]int32{"AdministratorAccess": 1, "ReadOnlyAccess": 1})
	iamEqual(t, "ListPolicies AWS /job-function/", listPolicies(&iam.ListPoliciesInput{Scope: types.PolicyScopeTypeAws, PathPrefix: aws.String("/job-function/")}),
		map[string]int32{"SupportUser": 0, "ViewOnlyAccess": 0})
	iamEqual(t, "ListPolicies attached (all scopes)", listPolicies(&iam.ListPoliciesInput{OnlyAttached: true}),
		map[string]int32{"AdministratorAccess": 1, "ReadOnlyAccess": 1, "read-reports": 3})
	_, err = c.ListPolicies(ctx(t), &iam.ListPoliciesInput{Scope: "Everything"})
	iamCode(t, err, "ValidationError")

	ents := iamOut(c.ListEntitiesForPolicy(ctx(t), &iam.ListEntitiesForPolicyInput{PolicyArn: aws.String(arn)})).must(t)
	iamEqual(t, "policy users", iamStrs(ents.PolicyUsers, func(u types.PolicyUser) *string { return u.UserName }), []string{"analyst"})
	iamEqual(t, "policy groups", iamStrs(ents.PolicyGroups, func(g types.PolicyGroup) *string { return g.GroupName }), []string{"analysts"})
	iamEqual(t, "policy roles", iamStrs(ents.PolicyRoles, func(r types.PolicyRole) *string { return r.RoleName }), []string{"etl"})
	onlyRoles := iamOut(c.ListEntitiesForPolicy(ctx(t), &iam.ListEntitiesForPolicyInput{PolicyArn: aws.String(arn), EntityFilter: types.EntityTypeRole})).must(t)
	if len(onlyRoles.PolicyUsers)+len(onlyRoles.PolicyGroups) != 0 || len(onlyRoles.PolicyRoles) != 1 {
		t.Errorf("EntityFilter Role = %+v", onlyRoles)
	}
	_, err = c.ListEntitiesForPolicy(ctx(t), &iam.ListEntitiesForPolicyInput{PolicyArn: aws.String("arn:aws:iam::aws:policy/NoSuchPolicy")})
	iamCode(t, err, "NoSuchEntity")

	// DeletePolicy: not while attached, not while other versions remain.
	delPolicy := func() error {
		_, err := c.DeletePolicy(ctx(t), &iam.DeletePolicyInput{PolicyArn: aws.String(arn)})
		return err
	}
	iamCode(t, delPolicy(), "DeleteConflict")
	iamOut(c.DetachUserPolicy(ctx(t), &iam.DetachUserPolicyInput{UserName: aws.String("analyst"), PolicyArn: aws.String(arn)})).must(t)
	iamOut(c.DetachGroupPolicy(ctx(t), &iam.DetachGroupPolicyInput{GroupName: aws.String("analysts"), PolicyArn: aws.String(arn)})).must(t)
	iamOut(c.DetachRolePolicy(ctx(t), &iam.DetachRolePolicyInput{RoleName: aws.String("etl"), PolicyArn: aws.String(arn)})).must(t)
	iamCode(t, delPolicy(), "DeleteConflict")
	for _, v := range []string{"v2", "v3", "v4", "v5"} {
		iamOut(c.DeletePolicyVersion(ctx(t), &iam.DeletePolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String(v)})).must(t)
	}
	iamNoErr(t, delPolicy())
	_, err = c.GetPolicy(ctx(t), &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
	iamCode(t, err, "NoSuchEntity")
	_, err = c.DeletePolicy(ctx(t), &iam.DeletePolicyInput{PolicyArn: aws.String(AWSManagedPolicyARN("SupportUser"))})
	iamCode(t, err, "AccessDenied")
}

// Attachments and inline policies behave the same for users, groups and roles.
func TestIAMAttachedAndInlinePolicies(t *testing.T) {
	_, c := newIAMTest(t, Options{})
	iamOut(c.CreateUser(ctx(t), &iam.CreateUserInput{UserName: aws.String("dana")})).must(t)
	iamOut(c.CreateGroup(ctx(t), &iam.CreateGroupInput{GroupName: aws.String("eng")})).must(t)
	iamOut(c.CreateRole(ctx(t), &iam.CreateRoleInput{RoleName: aws.String("svc"), AssumeRolePolicyDocument: aws.String(iamEC2Trust)})).must(t)

	type ops struct {
		kind           string
		attach, detach func(name, arn string) error
		listAttached   func(name string) ([]types.AttachedPolicy, error)
		put            func(name, policy, doc string) error
		get            func(name, policy string) (*string, error)
		list           func(name string) ([]string, error)
		del            func(name, policy string) error
	}
	str := aws.String
	kinds := []struct {
		entity string
		ops
	}{
		{"dana", ops{"user",
			func(n, a string) error {
				_, err := c.AttachUserPolicy(ctx(t), &iam.AttachUserPolicyInput{UserName: str(n), PolicyArn: str(a)})
				return err
			},
			func(n, a string) error {
				_, err := c.DetachUserPolicy(ctx(t), &iam.DetachUserPolicyInput{UserName: str(n), PolicyArn: str(a)})
				return err
			},
			func(n string) ([]types.AttachedPolicy, error) {
				out, err := c.ListAttachedUserPolicies(ctx(t), &iam.ListAttachedUserPoliciesInput{UserName: str(n)})
				if err != nil {
					return nil, err
				}
				return out.AttachedPolicies, nil
			},
			func(n, p, d string) error {
				_, err := c.PutUserPolicy(ctx(t), &iam.PutUserPolicyInput{UserName: str(n), PolicyName: str(p), PolicyDocument: str(d)})
				return err
			},
			func(n, p string) (*string, error) {
				out, err := c.GetUserPolicy(ctx(t), &iam.GetUserPolicyInput{UserName: str(n), PolicyName: str(p)})
				if err != nil {
					return nil, err
				}
				if aws.ToString(out.UserName) != n || aws.ToString(out.PolicyName) != p {
					t.Errorf("GetUserPolicy names = %s/%s", aws.ToString(out.UserName), aws.ToString(out.PolicyName))
				}
				return out.PolicyDocument, nil
			},
			func(n string) ([]string, error) {
				out, err := c.ListUserPolicies(ctx(t), &iam.ListUserPoliciesInput{UserName: str(n)})
				if err != nil {
					return nil, err
				}
				return out.PolicyNames, nil
			},
			func(n, p string) error {
				_, err := c.DeleteUserPolicy(ctx(t), &iam.DeleteUserPolicyInput{UserName: str(n), PolicyName: str(p)})
				return err
			},
		}},
		{"eng", ops{"group",
			func(n, a string) error {
				_, err := c.AttachGroupPolicy(ctx(t), &iam.AttachGroupPolicyInput{GroupName: str(n), PolicyArn: str(a)})
				return err
			},
			func(n, a string) error {
				_, err := c.DetachGroupPolicy(ctx(t), &iam.DetachGroupPolicyInput{GroupName: str(n), PolicyArn: str(a)})
				return err
			},
			func(n string) ([]types.AttachedPolicy, error) {
				out, err := c.ListAttachedGroupPolicies(ctx(t), &iam.ListAttachedGroupPoliciesInput{GroupName: str(n)})
				if err != nil {
					return nil, err
				}
				return out.AttachedPolicies, nil
			},
			func(n, p, d string) error {
				_, err := c.PutGroupPolicy(ctx(t), &iam.PutGroupPolicyInput{GroupName: str(n), PolicyName: str(p), PolicyDocument: str(d)})
				return err
			},
			func(n, p string) (*string, error) {
				out, err := c.GetGroupPolicy(ctx(t), &iam.GetGroupPolicyInput{GroupName: str(n), PolicyName: str(p)})
				if err != nil {
					return nil, err
				}
				if aws.ToString(out.GroupName) != n {
					t.Errorf("GetGroupPolicy group = %s", aws.ToString(out.GroupName))
				}
				return out.PolicyDocument, nil
			},
			func(n string) ([]string, error) {
				out, err := c.ListGroupPolicies(ctx(t), &iam.ListGroupPoliciesInput{GroupName: str(n)})
				if err != nil {
					return nil, err
				}
				return out.PolicyNames, nil
			},
			func(n, p string) error {
				_, err := c.DeleteGroupPolicy(ctx(t), &iam.DeleteGroupPolicyInput{GroupName: str(n), PolicyName: str(p)})
				return err
			},
		}},
		{"svc", ops{"role",
			func(n, a string) error {
				_, err := c.AttachRolePolicy(ctx(t), &iam.AttachRolePolicyInput{RoleName: str(n), PolicyArn: str(a)})
				return err
			},
			func(n, a string) error {
				_, err := c.DetachRolePolicy(ctx(t), &iam.DetachRolePolicyInput{RoleName: str(n), PolicyArn: str(a)})
				return err
			},
			func(n string) ([]types.AttachedPolicy, error) {
				out, err := c.ListAttachedRolePolicies(ctx(t), &iam.ListAttachedRolePoliciesInput{RoleName: str(n)})
				if err != nil {
					return nil, err
				}
				return out.AttachedPolicies, nil
			},
			func(n, p, d string) error {
				_, err := c.PutRolePolicy(ctx(t), &iam.PutRolePolicyInput{RoleName: str(n), PolicyName: str(p), PolicyDocument: str(d)})
				return err
			},
			func(n, p string) (*string, error) {
				out, err := c.GetRolePolicy(ctx(t), &iam.GetRolePolicyInput{RoleName: str(n), PolicyName: str(p)})
				if err != nil {
					return nil, err
				}
				if aws.ToString(out.RoleName) != n {
					t.Errorf("GetRolePolicy role = %s", aws.ToString(out.RoleName))
				}
				return out.PolicyDocument, nil
			},
			func(n string) ([]string, error) {
				out, err := c.ListRolePolicies(ctx(t), &iam.ListRolePoliciesInput{RoleName: str(n)})
				if err != nil {
					return nil, err
				}
				return out.PolicyNames, nil
			},
			func(n, p string) error {
				_, err := c.DeleteRolePolicy(ctx(t), &iam.DeleteRolePolicyInput{RoleName: str(n), PolicyName: str(p)})
				return err
			},
		}},
	}

	// Ten AWS-managed policies, by name, fill an entity's attachment quota.
	var awsNames []string
	for _, p := range awsManagedPolicies {
		awsNames = append(awsNames, p.name)
	}
	sort.Strings(awsNames)

	for _, k := range kinds {
		t.Run(k.kind, func(t *testing.T) {
			ro, admin := AWSManagedPolicyARN("ReadOnlyAccess"), AWSManagedPolicyARN("AdministratorAccess")
			iamCode(t, k.attach(k.entity, "arn:aws:iam::aws:policy/NoSuchPolicy"), "NoSuchEntity")
			iamCode(t, k.attach(k.entity, "not-an-arn"), "ValidationError")
			iamCode(t, k.attach("nobody", ro), "NoSuchEntity")
			iamNoErr(t, k.attach(k.entity, ro))
			iamNoErr(t, k.attach(k.entity, admin))
			iamNoErr(t, k.attach(k.entity, ro)) // attaching again changes nothing
			attached := iamOut(k.listAttached(k.entity)).must(t)
			iamEqual(t, "attached names", iamStrs(attached, func(p types.AttachedPolicy) *string { return p.PolicyName }), []string{"ReadOnlyAccess", "AdministratorAccess"})
			iamEqual(t, "attached ARNs", iamStrs(attached, func(p types.AttachedPolicy) *string { return p.PolicyArn }), []string{ro, admin})
			_, err := k.listAttached("nobody")
			iamCode(t, err, "NoSuchEntity")
			iamCode(t, k.detach(k.entity, AWSManagedPolicyARN("SupportUser")), "NoSuchEntity")
			iamNoErr(t, k.detach(k.entity, admin))
			iamNoErr(t, k.detach(k.entity, ro))
			for _, name := range awsNames[:10] {
				iamNoErr(t, k.attach(k.entity, AWSManagedPolicyARN(name)))
			}
			iamCode(t, k.attach(k.entity, AWSManagedPolicyARN(awsNames[10])), "LimitExceeded")
			for _, name := range awsNames[:10] {
				iamNoErr(t, k.detach(k.entity, AWSManagedPolicyARN(name)))
			}
			iamEqual(t, "attached after detaching all", len(iamOut(k.listAttached(k.entity)).must(t)), 0)

			// Inline policies: documents come back URL-encoded; names listed sorted.
			iamNoErr(t, k.put(k.entity, "zeta", iamReadS3Doc))
			iamNoErr(t, k.put(k.entity, "alpha", iamDocVersion(7)))
			iamNoErr(t, k.put(k.entity, "alpha", iamDocVersion(8))) // replaces
			iamEqual(t, "inline document", iamDecoded(t, iamOut(k.get(k.entity, "alpha")).must(t)), iamDocVersion(8))
			iamEqual(t, "inline names", iamOut(k.list(k.entity)).must(t), []string{"alpha", "zeta"})
			iamCode(t, k.put(k.entity, "bad", "{"), "MalformedPolicyDocument")
			iamCode(t, k.put(k.entity, "bad name", iamReadS3Doc), "ValidationError")
			iamCode(t, k.put("nobody", "x", iamReadS3Doc), "NoSuchEntity")
			big := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::` + strings.Repeat("b", 10300) + `"}]}`
			iamCode(t, k.put(k.entity, "big", big), "LimitExceeded")
			_, err = k.get(k.entity, "nope")
			iamCode(t, err, "NoSuchEntity")
			iamNoErr(t, k.del(k.entity, "alpha"))
			iamCode(t, k.del(k.entity, "alpha"), "NoSuchEntity")
			iamEqual(t, "inline names after delete", iamOut(k.list(k.entity)).must(t), []string{"zeta"})
		})
	}
}
