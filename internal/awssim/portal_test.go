package awssim

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sso"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// portalClient is the AWS SDK's access portal client (service/sso) pointed at the
// simulator: the client the AWS CLI and SDKs use to turn a portal sign-in into role
// credentials.
func portalClient(s *Sim) *sso.Client {
	return sso.NewFromConfig(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(s.URL())})
}

// roleSession gets credentials for the permission set in the account through
// GetRoleCredentials and returns an SDK config signed with them.
func roleSession(t *testing.T, s *Sim, token, account, permissionSet string) (aws.Config, error) {
	t.Helper()
	out, err := portalClient(s).GetRoleCredentials(ctx(t), &sso.GetRoleCredentialsInput{
		AccessToken: aws.String(token), AccountId: aws.String(account), RoleName: aws.String(permissionSet)})
	if err != nil {
		return aws.Config{}, err
	}
	c := out.RoleCredentials
	if c == nil || aws.ToString(c.AccessKeyId) == "" || c.Expiration == 0 {
		t.Fatalf("GetRoleCredentials returned no credentials: %+v", out)
	}
	return testConfig(s.URL(), "us-east-1", aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken)), nil
}

func signIn(t *testing.T, s *Sim, userID string) string {
	t.Helper()
	var tok *PortalToken
	var err error
	s.Do(func(w *World) { tok, err = w.SignInToPortal(userID) })
	if err != nil {
		t.Fatal(err)
	}
	return tok.Token
}

func apiCodeMessage(err error) (string, string) {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode(), ae.ErrorMessage()
	}
	return "", ""
}

// A signed-in user gets credentials for a permission set it holds, as the role session
// AWS names after the user; not for one it does not hold; not with a bad token.
func TestPortalGetRoleCredentials(t *testing.T) {
	clock := newSSOClock()
	w, f := newSSOWorld(clock)
	w.AddAssignment("222222222222", f.admin, "USER", f.bob)
	w.AddAssignment("222222222222", f.readOnly, "GROUP", f.devs)
	s, _ := startSSO(t, w, Options{Now: clock.Now})
	bob := signIn(t, s, f.bob)

	cfg, err := roleSession(t, s, bob, "222222222222", "Admin")
	if err != nil {
		t.Fatal(err)
	}
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	wantARN := "arn:aws:sts::222222222222:assumed-role/" + ReservedSSORoleName("Admin", f.admin) + "/bob"
	if aws.ToString(id.Arn) != wantARN {
		t.Errorf("caller = %s, want %s", aws.ToString(id.Arn), wantARN)
	}
	if _, err := iam.NewFromConfig(cfg).ListRoles(ctx(t), &iam.ListRolesInput{}); err != nil {
		t.Errorf("ListRoles with AdministratorAccess: %v", err)
	}

	// The portal lists what bob holds: Admin in 222222222222 only (he is not in devs).
	accts, err := portalClient(s).ListAccounts(ctx(t), &sso.ListAccountsInput{AccessToken: aws.String(bob)})
	if err != nil || len(accts.AccountList) != 1 || aws.ToString(accts.AccountList[0].AccountId) != "222222222222" ||
		aws.ToString(accts.AccountList[0].AccountName) != "dev" {
		t.Errorf("ListAccounts = %+v, %v; want dev (222222222222)", accts, err)
	}
	roles, err := portalClient(s).ListAccountRoles(ctx(t), &sso.ListAccountRolesInput{AccessToken: aws.String(bob), AccountId: aws.String("222222222222")})
	if err != nil || len(roles.RoleList) != 1 || aws.ToString(roles.RoleList[0].RoleName) != "Admin" {
		t.Errorf("ListAccountRoles = %+v, %v; want Admin", roles, err)
	}

	for _, tc := range []struct{ account, role string }{{"222222222222", "ReadOnly"}, {"333333333333", "Admin"}} {
		_, err := roleSession(t, s, bob, tc.account, tc.role)
		if code, msg := apiCodeMessage(err); code != "ForbiddenException" || msg != "No access" {
			t.Errorf("%s in %s, not held: %v, want ForbiddenException: No access", tc.role, tc.account, err)
		}
	}
	_, err = roleSession(t, s, "aoa-not-a-token", "222222222222", "Admin")
	var re interface{ HTTPStatusCode() int }
	if code := apiCode(err); code != "UnauthorizedException" || !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusUnauthorized {
		t.Errorf("bad token: %v, want UnauthorizedException (401)", err)
	}

	// The credentials last the permission set's session duration (PT8H).
	clock.Advance(8*time.Hour + time.Second)
	_, err = sts.NewFromConfig(cfg).GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{})
	if code := apiCode(err); code != "ExpiredToken" {
		t.Errorf("after the session duration: %v, want ExpiredToken", err)
	}
}

// AWS's documented way to end a permission set's live sessions: a Deny on the user's
// sessions issued before a time, in the permission set's inline policy, provisioned to
// the accounts. It takes effect only once provisioned, stops only that user's older
// sessions, and leaves sessions issued after the time alone.
func TestPortalSessionsEndedByProvisionedDeny(t *testing.T) {
	clock := newSSOClock()
	w, f := newSSOWorld(clock)
	w.AddAssignment("222222222222", f.admin, "USER", f.bob)
	w.AddAssignment("222222222222", f.admin, "USER", f.alice)
	s, admin := startSSO(t, w, Options{Now: clock.Now})
	bobToken, aliceToken := signIn(t, s, f.bob), signIn(t, s, f.alice)

	bobOld, err := roleSession(t, s, bobToken, "222222222222", "Admin")
	if err != nil {
		t.Fatal(err)
	}
	aliceOld, err := roleSession(t, s, aliceToken, "222222222222", "Admin")
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	cutoff := clock.Now()
	clock.Advance(time.Minute)

	deny := `{"Version":"2012-10-17","Statement":[{"Sid":"EndSessions","Effect":"Deny","Action":"*","Resource":"*",` +
		`"Condition":{"StringEquals":{"identitystore:UserId":"` + f.bob + `"},"DateLessThan":{"aws:TokenIssueTime":"` + cutoff.Format(time.RFC3339) + `"}}}]}`
	inst, ps := aws.String(f.instanceARN), aws.String(f.admin)
	if _, err := admin.PutInlinePolicyToPermissionSet(ctx(t), &ssoadmin.PutInlinePolicyToPermissionSetInput{
		InstanceArn: inst, PermissionSetArn: ps, InlinePolicy: aws.String(deny)}); err != nil {
		t.Fatal(err)
	}
	listRoles := func(cfg aws.Config) error {
		_, err := iam.NewFromConfig(cfg).ListRoles(context.Background(), &iam.ListRolesInput{})
		return err
	}
	if err := listRoles(bobOld); err != nil {
		t.Fatalf("the deny applies before ProvisionPermissionSet: %v", err)
	}
	out, err := admin.ProvisionPermissionSet(ctx(t), &ssoadmin.ProvisionPermissionSetInput{InstanceArn: inst, PermissionSetArn: ps,
		TargetType: types.ProvisionTargetTypeAllProvisionedAccounts})
	if err != nil {
		t.Fatal(err)
	}
	st, err := admin.DescribePermissionSetProvisioningStatus(ctx(t), &ssoadmin.DescribePermissionSetProvisioningStatusInput{
		InstanceArn: inst, ProvisionPermissionSetRequestId: out.PermissionSetProvisioningStatus.RequestId})
	if err != nil || st.PermissionSetProvisioningStatus.Status != types.StatusValuesSucceeded {
		t.Fatalf("provisioning: %+v %v", st, err)
	}

	err = listRoles(bobOld)
	want := "User: arn:aws:sts::222222222222:assumed-role/" + ReservedSSORoleName("Admin", f.admin) +
		"/bob is not authorized to perform: iam:ListRoles on resource: * with an explicit deny in an identity-based policy"
	if code, msg := apiCodeMessage(err); code != "AccessDenied" || msg != want {
		t.Errorf("bob's session issued before the cutoff: %v\nwant AccessDenied: %s", err, want)
	}
	if err := listRoles(aliceOld); err != nil {
		t.Errorf("alice's session (another user of the permission set) was stopped: %v", err)
	}
	bobNew, err := roleSession(t, s, bobToken, "222222222222", "Admin")
	if err != nil {
		t.Fatal(err)
	}
	if err := listRoles(bobNew); err != nil {
		t.Errorf("bob's session issued after the cutoff was stopped: %v", err)
	}

	// Deleting the inline policy and provisioning again restores the old session, whose
	// credentials have not expired.
	if _, err := admin.DeleteInlinePolicyFromPermissionSet(ctx(t), &ssoadmin.DeleteInlinePolicyFromPermissionSetInput{InstanceArn: inst, PermissionSetArn: ps}); err != nil {
		t.Fatal(err)
	}
	got, err := admin.GetInlinePolicyForPermissionSet(ctx(t), &ssoadmin.GetInlinePolicyForPermissionSetInput{InstanceArn: inst, PermissionSetArn: ps})
	if err != nil || aws.ToString(got.InlinePolicy) != "" {
		t.Errorf("inline policy after delete = %q, %v", aws.ToString(got.InlinePolicy), err)
	}
	if _, err := admin.ProvisionPermissionSet(ctx(t), &ssoadmin.ProvisionPermissionSetInput{InstanceArn: inst, PermissionSetArn: ps,
		TargetType: types.ProvisionTargetTypeAwsAccount, TargetId: aws.String("222222222222")}); err != nil {
		t.Fatal(err)
	}
	if err := listRoles(bobOld); err != nil {
		t.Errorf("bob's old session after the deny was lifted: %v", err)
	}
}

// An inline policy larger than IAM's quota on a role's inline policies cannot be
// provisioned: the provisioning ends FAILED and the roles keep their policy.
func TestProvisionRefusesOversizedInlinePolicy(t *testing.T) {
	clock := newSSOClock()
	w, f := newSSOWorld(clock)
	w.AddAssignment("222222222222", f.readOnly, "GROUP", f.devs)
	s, admin := startSSO(t, w, Options{Now: clock.Now})
	var stmts []string
	for i := 0; len(strings.Join(stmts, ",")) < 10300; i++ {
		stmts = append(stmts, `{"Effect":"Deny","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::bucket-number-`+strings.Repeat("x", 40)+`/*"}`)
	}
	big := `{"Version":"2012-10-17","Statement":[` + strings.Join(stmts, ",") + `]}`
	inst, ps := aws.String(f.instanceARN), aws.String(f.readOnly)
	if _, err := admin.PutInlinePolicyToPermissionSet(ctx(t), &ssoadmin.PutInlinePolicyToPermissionSetInput{InstanceArn: inst, PermissionSetArn: ps, InlinePolicy: aws.String(big)}); err != nil {
		t.Fatal(err)
	}
	out, err := admin.ProvisionPermissionSet(ctx(t), &ssoadmin.ProvisionPermissionSetInput{InstanceArn: inst, PermissionSetArn: ps,
		TargetType: types.ProvisionTargetTypeAllProvisionedAccounts})
	if err != nil {
		t.Fatal(err)
	}
	st, err := admin.DescribePermissionSetProvisioningStatus(ctx(t), &ssoadmin.DescribePermissionSetProvisioningStatusInput{
		InstanceArn: inst, ProvisionPermissionSetRequestId: out.PermissionSetProvisioningStatus.RequestId})
	if err != nil || st.PermissionSetProvisioningStatus.Status != types.StatusValuesFailed ||
		!strings.HasPrefix(aws.ToString(st.PermissionSetProvisioningStatus.FailureReason), "Maximum policy size of 10240 bytes exceeded for role AWSReservedSSO_ReadOnly_") {
		t.Errorf("provisioning an oversized inline policy: %+v %v", st.PermissionSetProvisioningStatus, err)
	}
	var inline string
	s.Do(func(w *World) {
		inline = w.Accounts["222222222222"].Roles[ReservedSSORoleName("ReadOnly", f.readOnly)].InlinePolicies[ssoInlinePolicyName]
	})
	if inline != ssoTestInline {
		t.Errorf("the role's inline policy changed to %d bytes, want the old one kept", len(inline))
	}
}

// AssignmentJitter spreads the time assignment operations take over
// [AssignmentDelay, AssignmentDelay+AssignmentJitter), deterministically.
func TestAssignmentJitterSpreadsOperations(t *testing.T) {
	durations := func() []time.Duration {
		clock := newSSOClock()
		w, f := newSSOWorld(clock)
		s, c := startSSO(t, w, Options{Now: clock.Now, AssignmentDelay: 2 * time.Second, AssignmentJitter: 3 * time.Second})
		var out []time.Duration
		for _, p := range []string{f.alice, f.bob} {
			for _, ps := range []string{f.admin, f.readOnly} {
				op := ssoCreate(t, c, f, "222222222222", ps, types.PrincipalTypeUser, p)
				s.Do(func(w *World) {
					for _, o := range w.SSO.Operations {
						if o.RequestID == aws.ToString(op.RequestId) {
							out = append(out, o.DoneAt.Sub(clock.Now()))
						}
					}
				})
			}
		}
		return out
	}
	a, b := durations(), durations()
	if !reflect.DeepEqual(a, b) {
		t.Errorf("jitter is not deterministic: %v then %v", a, b)
	}
	distinct := map[time.Duration]bool{}
	for _, d := range a {
		if d < 2*time.Second || d >= 5*time.Second {
			t.Errorf("operation takes %s, want within [2s, 5s)", d)
		}
		distinct[d] = true
	}
	if len(a) != 4 || len(distinct) < 3 {
		t.Errorf("durations %v: want 4 operations of mostly different durations", a)
	}
}

// The admin endpoint signs a user in by name for scripts and the AWS CLI; it needs the
// admin token and names what is wrong.
func TestAdminPortalSignIn(t *testing.T) {
	clock := newSSOClock()
	w, f := newSSOWorld(clock)
	w.AddAssignment("222222222222", f.admin, "USER", f.bob)
	s, _ := startSSO(t, w, Options{Now: clock.Now})
	post := func(token, body string) (int, map[string]string) {
		req, _ := http.NewRequest(http.MethodPost, s.URL()+"/_sim/portal/sign-in", strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]string
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	if code, _ := post("", `{"user_name":"bob"}`); code != http.StatusUnauthorized {
		t.Errorf("without the admin token: %d, want 401", code)
	}
	if code, out := post(s.AdminToken(), `{"user_name":"nobody"}`); code != http.StatusNotFound || out["error"] != "no Identity Center user named nobody" {
		t.Errorf("unknown user: %d %v", code, out)
	}
	if code, out := post(s.AdminToken(), `{}`); code != http.StatusBadRequest || !strings.Contains(out["error"], `exactly one of "user_name" and "user_id"`) {
		t.Errorf("no user: %d %v", code, out)
	}
	code, out := post(s.AdminToken(), `{"user_name":"bob"}`)
	if code != http.StatusOK || out["user_id"] != f.bob || out["expires_at"] != clock.Now().Add(8*time.Hour).Format(time.RFC3339) {
		t.Fatalf("sign-in: %d %v", code, out)
	}
	if _, err := roleSession(t, s, out["access_token"], "222222222222", "Admin"); err != nil {
		t.Errorf("GetRoleCredentials with the admin endpoint's token: %v", err)
	}
}
