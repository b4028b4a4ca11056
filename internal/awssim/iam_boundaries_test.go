package awssim

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// A permissions boundary set with CreateUser, CreateRole or the Put calls is returned by
// GetUser, GetRole and GetAccountAuthorizationDetails, and left out of ListUsers and
// ListRoles, as AWS documents; the policy counts its boundary uses.
func TestIAMPermissionsBoundaries(t *testing.T) {
	s, c := newIAMTest(t, Options{})
	ctx := ctx(t)
	var capARN string
	s.Do(func(w *World) {
		capARN = w.Account(iamAccount).AddPolicy(w, "dev-cap", "/boundaries/", iamReadS3Doc).ARN
	})
	readOnly := AWSManagedPolicyARN("ReadOnlyAccess")

	iamOut(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("dev"), PermissionsBoundary: aws.String(capARN)})).must(t)
	iamOut(c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("app"), AssumeRolePolicyDocument: aws.String(iamEC2Trust),
		PermissionsBoundary: aws.String(readOnly)})).must(t)
	iamOut(c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("batch"), AssumeRolePolicyDocument: aws.String(iamEC2Trust)})).must(t)
	iamOut(c.PutRolePermissionsBoundary(ctx, &iam.PutRolePermissionsBoundaryInput{RoleName: aws.String("batch"), PermissionsBoundary: aws.String(capARN)})).must(t)

	want := func(arn string) *types.AttachedPermissionsBoundary {
		return &types.AttachedPermissionsBoundary{PermissionsBoundaryArn: aws.String(arn), PermissionsBoundaryType: types.PermissionsBoundaryAttachmentTypePolicy}
	}
	user := iamOut(c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("dev")})).must(t).User
	iamEqual(t, "GetUser boundary", user.PermissionsBoundary, want(capARN))
	app := iamOut(c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("app")})).must(t).Role
	iamEqual(t, "GetRole app boundary", app.PermissionsBoundary, want(readOnly))
	batch := iamOut(c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("batch")})).must(t).Role
	iamEqual(t, "GetRole batch boundary", batch.PermissionsBoundary, want(capARN))

	for _, u := range iamOut(c.ListUsers(ctx, &iam.ListUsersInput{})).must(t).Users {
		if u.PermissionsBoundary != nil {
			t.Errorf("ListUsers returned the boundary of %s; AWS leaves it out", aws.ToString(u.UserName))
		}
	}
	for _, r := range iamOut(c.ListRoles(ctx, &iam.ListRolesInput{})).must(t).Roles {
		if r.PermissionsBoundary != nil {
			t.Errorf("ListRoles returned the boundary of %s; AWS leaves it out", aws.ToString(r.RoleName))
		}
	}

	gaad := iamOut(c.GetAccountAuthorizationDetails(ctx, &iam.GetAccountAuthorizationDetailsInput{})).must(t)
	boundaries := map[string]*types.AttachedPermissionsBoundary{}
	for _, u := range gaad.UserDetailList {
		boundaries["user/"+aws.ToString(u.UserName)] = u.PermissionsBoundary
	}
	for _, r := range gaad.RoleDetailList {
		boundaries["role/"+aws.ToString(r.RoleName)] = r.PermissionsBoundary
	}
	iamEqual(t, "GAAD dev", boundaries["user/dev"], want(capARN))
	iamEqual(t, "GAAD app", boundaries["role/app"], want(readOnly))
	iamEqual(t, "GAAD batch", boundaries["role/batch"], want(capARN))
	if b, ok := boundaries["user/gatehouse-operator"]; !ok || b != nil {
		t.Errorf("GAAD gatehouse-operator boundary = %+v (listed %v), want none", b, ok)
	}
	for _, p := range gaad.Policies {
		if aws.ToString(p.Arn) == capARN {
			iamEqual(t, "GAAD dev-cap PermissionsBoundaryUsageCount", aws.ToInt32(p.PermissionsBoundaryUsageCount), int32(2))
		}
	}
	got := iamOut(c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(capARN)})).must(t).Policy
	iamEqual(t, "GetPolicy PermissionsBoundaryUsageCount", aws.ToInt32(got.PermissionsBoundaryUsageCount), int32(2))

	// A boundary that does not exist is refused, and the entity is unchanged.
	_, err := c.PutUserPermissionsBoundary(ctx, &iam.PutUserPermissionsBoundaryInput{UserName: aws.String("dev"),
		PermissionsBoundary: aws.String("arn:aws:iam::111111111111:policy/missing")})
	iamCode(t, err, "NoSuchEntity")
	_, err = c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("eve"), PermissionsBoundary: aws.String("not-an-arn-but-long-enough")})
	iamCode(t, err, "InvalidInput")

	iamOut(c.DeleteUserPermissionsBoundary(ctx, &iam.DeleteUserPermissionsBoundaryInput{UserName: aws.String("dev")})).must(t)
	iamOut(c.DeleteRolePermissionsBoundary(ctx, &iam.DeleteRolePermissionsBoundaryInput{RoleName: aws.String("batch")})).must(t)
	if b := iamOut(c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("dev")})).must(t).User.PermissionsBoundary; b != nil {
		t.Errorf("boundary after DeleteUserPermissionsBoundary = %+v", b)
	}
	if b := iamOut(c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("batch")})).must(t).Role.PermissionsBoundary; b != nil {
		t.Errorf("boundary after DeleteRolePermissionsBoundary = %+v", b)
	}
}

// A fixture declares a boundary by policy name or ARN, resolved like attached policies.
func TestFixturePermissionsBoundary(t *testing.T) {
	w, err := ParseFixture([]byte(`
accounts:
  - id: "111111111111"
    iam:
      policies:
        - name: dev-cap
          document: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: "s3:*", Resource: "*"}]}
      users:
        - name: dev
          permissions_boundary: dev-cap
      roles:
        - name: app
          trust: {service: ec2.amazonaws.com}
          permissions_boundary: arn:aws:iam::aws:policy/ReadOnlyAccess
`))
	if err != nil {
		t.Fatal(err)
	}
	a := w.Accounts["111111111111"]
	fixtureTestEqual(t, "dev boundary", a.Users["dev"].PermissionsBoundary, "arn:aws:iam::111111111111:policy/dev-cap")
	fixtureTestEqual(t, "app boundary", a.Roles["app"].PermissionsBoundary, "arn:aws:iam::aws:policy/ReadOnlyAccess")

	_, err = ParseFixture([]byte(`
accounts:
  - id: "111111111111"
    iam:
      users:
        - name: dev
          permissions_boundary: dev-cap
`))
	want := `accounts[0].iam.users[0].permissions_boundary: policy "dev-cap" is neither a customer policy of account 111111111111 nor an AWS-managed policy the simulator knows; declare it under accounts[0].iam.policies, or use one of: `
	if err == nil || len(err.Error()) < len(want) || err.Error()[:len(want)] != want {
		t.Errorf("undeclared boundary: error %v, want it to start with %q", err, want)
	}
}

// A permissions boundary caps what the identity policies allow, for a user's own key and
// for a session of a role, as IAM evaluates it: both must allow, and a Deny in the boundary
// wins. SimulatePrincipalPolicy reports the same decision with the boundary's detail.
func TestIAMPermissionsBoundaryLimitsCalls(t *testing.T) {
	s, admin := newIAMTest(t, Options{})
	ctx := ctx(t)
	var cappedCfg, adminCfg aws.Config
	var roleARN, noDeleteARN string
	s.Do(func(w *World) {
		a := w.Account(iamAccount)
		// Administrator by its policies, IAM read-only by its boundary.
		u := a.AddUser(w, "capped", "/")
		u.AttachedPolicies = []string{AWSManagedPolicyARN("AdministratorAccess")}
		u.PermissionsBoundary = AWSManagedPolicyARN("IAMReadOnlyAccess")
		k := a.AddAccessKey(w, u)
		cappedCfg = testConfig(s.URL(), w.Region, k.ID, k.Secret, "")
		r := a.AddRole(w, "capped-role", "/", TrustPolicy("arn:aws:iam::"+iamAccount+":root", ""))
		r.AttachedPolicies = []string{AWSManagedPolicyARN("AdministratorAccess")}
		r.PermissionsBoundary = AWSManagedPolicyARN("IAMReadOnlyAccess")
		roleARN = r.ARN
		noDeleteARN = a.AddPolicy(w, "everything-but-deleting-users", "/",
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"iam:DeleteUser","Resource":"*"}]}`).ARN
		a.AddUser(w, "victim", "/")
	})
	adminCfg = adminConfig(t, s, iamAccount)

	capped := iam.NewFromConfig(cappedCfg)
	iamOut(capped.ListUsers(ctx, &iam.ListUsersInput{})).must(t)
	_, err := capped.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("eve")})
	iamCode(t, err, "AccessDenied")
	if want := "because no permissions boundary allows the iam:CreateUser action"; !strings.Contains(err.Error(), want) {
		t.Errorf("CreateUser by a capped user: %v; want it to say %q", err, want)
	}

	// A session of a role with a boundary is capped the same way.
	out := iamOut(sts.NewFromConfig(adminCfg).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("capped-session")})).must(t)
	sessionCfg := testConfig(s.URL(), adminCfg.Region, aws.ToString(out.Credentials.AccessKeyId), aws.ToString(out.Credentials.SecretAccessKey), aws.ToString(out.Credentials.SessionToken))
	session := iam.NewFromConfig(sessionCfg)
	iamOut(session.ListRoles(ctx, &iam.ListRolesInput{})).must(t)
	_, err = session.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("x"), AssumeRolePolicyDocument: aws.String(iamEC2Trust)})
	iamCode(t, err, "AccessDenied")

	// A Deny in the boundary is an explicit deny.
	iamOut(admin.PutUserPermissionsBoundary(ctx, &iam.PutUserPermissionsBoundaryInput{UserName: aws.String("capped"), PermissionsBoundary: aws.String(noDeleteARN)})).must(t)
	iamOut(capped.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("eve")})).must(t)
	_, err = capped.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("victim")})
	iamCode(t, err, "AccessDenied")
	if want := "with an explicit deny in a permissions boundary"; !strings.Contains(err.Error(), want) {
		t.Errorf("DeleteUser denied by the boundary: %v; want it to say %q", err, want)
	}

	sim := iamOut(admin.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String(roleARN),
		ActionNames: []string{"iam:ListRoles", "iam:CreateRole"}})).must(t)
	got := map[string]string{}
	for _, r := range sim.EvaluationResults {
		detail := "no boundary detail"
		if d := r.PermissionsBoundaryDecisionDetail; d != nil {
			detail = "allowed by boundary: " + map[bool]string{true: "yes", false: "no"}[d.AllowedByPermissionsBoundary]
		}
		got[aws.ToString(r.EvalActionName)] = string(r.EvalDecision) + ", " + detail
	}
	iamEqual(t, "simulation of the capped role", got, map[string]string{
		"iam:ListRoles":  "allowed, allowed by boundary: yes",
		"iam:CreateRole": "implicitDeny, allowed by boundary: no",
	})
	plain := iamOut(admin.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{
		PolicySourceArn: aws.String("arn:aws:iam::" + iamAccount + ":user/test-admin"), ActionNames: []string{"iam:CreateRole"}})).must(t)
	if r := plain.EvaluationResults[0]; r.EvalDecision != types.PolicyEvaluationDecisionTypeAllowed || r.PermissionsBoundaryDecisionDetail != nil {
		t.Errorf("simulation of a user without a boundary: %s, detail %+v", r.EvalDecision, r.PermissionsBoundaryDecisionDetail)
	}
}
