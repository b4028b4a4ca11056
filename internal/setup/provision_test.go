package setup

import (
	"context"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/gatehouse/gatehouse/internal/awsfetch"
	"github.com/gatehouse/gatehouse/internal/awsperms"
	"github.com/gatehouse/gatehouse/internal/awsprovision"
	"github.com/gatehouse/gatehouse/internal/awssim"
)

// The generated permissions are exactly what provisioning calls: with the connector and
// member roles holding only the policies generated for every feature, grants and
// revokes of each kind of access succeed (in the management account and in a member
// account), every operation they call is in the right policy, and every write action
// Gatehouse calls itself was called. The IAM actions on AWSReservedSSO_* roles and the
// SAML provider are made by Identity Center on Gatehouse's behalf, which the simulator
// does not model, so they are not expected among the calls.
func TestGeneratedPolicyIsExactlyWhatProvisioningCalls(t *testing.T) {
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	w, err := awssim.LoadFixture(filepath.Join("testdata", "full-org.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	b := generate(t, Options{Features: awsperms.All, MemberRoleName: "GatehouseMember", OrgID: w.Org.ID,
		TrustedPrincipal: "arn:aws:iam::111111111111:user/" + awssim.OperatorUserName, ExternalID: "full-org-external-id"})
	installGenerated(t, w, b)
	ids := map[string]string{}
	for _, u := range w.SSO.Users {
		ids["user:"+u.UserName] = u.ID
	}
	for _, g := range w.SSO.Groups {
		ids["group:"+g.DisplayName] = g.ID
	}
	for _, p := range w.SSO.PermissionSets {
		ids["ps:"+p.Name] = p.ARN
	}
	sim := awssim.New(w, awssim.Options{})
	url, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	info := sim.Info()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	p, err := awsprovision.Connect(ctx, awsfetch.Config{
		Region: info.Region, EndpointURL: url,
		Credentials: credentials.NewStaticCredentialsProvider(info.AccessKeyID, info.SecretAccessKey, ""),
		RoleARN:     b.ConnectorRoleARN, ExternalID: b.ExternalID, MemberRoleName: b.MemberRoleName,
		IdentityCenterRegion: info.IdentityCenterRegion,
		MaxBackoff:           50 * time.Millisecond,
	}, awsprovision.Options{PollInterval: 10 * time.Millisecond, AssignmentWait: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()

	bob := ids["user:bob"]
	changes := []struct {
		revokeFirst bool
		access      awsprovision.Access
	}{
		// IAM group membership in the management account (the connector role) and in a
		// member account (the member role).
		{true, awsprovision.IAMGroupMembership{GroupARN: "arn:aws:iam::111111111111:group/admins", UserARN: "arn:aws:iam::111111111111:user/alice"}},
		{true, awsprovision.IAMGroupMembership{GroupARN: "arn:aws:iam::222222222222:group/deployers", UserARN: "arn:aws:iam::222222222222:user/service/deploy-bot"}},
		// Identity Center group membership.
		{false, awsprovision.SSOGroupMembership{GroupID: ids["group:Admins"], UserID: bob}},
		// Account assignments in a member account and in the management account.
		// By permission set id, as account entitlement slugs name it: resolved through
		// ListPermissionSets.
		{false, awsprovision.AccountAssignment{AccountID: "333333333333", PermissionSet: ids["ps:Developer"][strings.LastIndex(ids["ps:Developer"], "/")+1:], PrincipalType: awsprovision.PrincipalUser, PrincipalID: bob}},
		{false, awsprovision.AccountAssignment{AccountID: "111111111111", PermissionSet: ids["ps:Developer"], PrincipalType: awsprovision.PrincipalGroup, PrincipalID: ids["group:Developers"]}},
	}
	for _, c := range changes {
		first, second := p.Grant, p.Revoke
		if c.revokeFirst {
			first, second = p.Revoke, p.Grant
		}
		if _, err := first(ctx, c.access); err != nil {
			t.Fatalf("%s: %v", c.access, err)
		}
		if _, err := second(ctx, c.access); err != nil {
			t.Fatalf("%s: %v", c.access, err)
		}
	}
	// Revoking a user's assignment that a group of the user also holds asks whether the
	// user keeps it through the group.
	hold := awsprovision.AccountAssignment{AccountID: "222222222222", PermissionSet: ids["ps:Developer"], PrincipalType: awsprovision.PrincipalGroup, PrincipalID: ids["group:Developers"]}
	if _, err := p.Grant(ctx, hold); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Revoke(ctx, awsprovision.AccountAssignment{AccountID: "222222222222", PermissionSet: ids["ps:Developer"], PrincipalType: awsprovision.PrincipalUser, PrincipalID: bob}); err != nil {
		t.Fatal(err)
	}

	// Ending a revoked user's live sessions, then lifting the deny: the inline policy is
	// written and provisioned, then (the deny being all of it) deleted and provisioned.
	admin := awsprovision.AccountAssignment{AccountID: "333333333333", PermissionSet: ids["ps:AdministratorAccess"], PrincipalType: awsprovision.PrincipalUser, PrincipalID: bob}
	if _, err := p.Grant(ctx, admin); err != nil {
		t.Fatal(err)
	}
	revokedAt := time.Now()
	if _, err := p.Revoke(ctx, admin); err != nil {
		t.Fatal(err)
	}
	if res, err := p.EndSessions(ctx, admin, revokedAt); err != nil || res.Outcome != awsprovision.Created {
		t.Fatalf("end sessions: %v %v", res, err)
	}
	if res, err := p.LiftSessionDeny(ctx, admin, revokedAt); err != nil || res.Outcome != awsprovision.Removed {
		t.Fatalf("lift the session deny: %v %v", res, err)
	}
	// A lease's grant after a restart first looks for a creation or deletion of the same
	// assignment that a killed process left running: nothing is in flight here.
	for name, await := range map[string]func(context.Context, awsprovision.AccountAssignment) (bool, error){
		"creation": p.AwaitCreationInFlight, "deletion": p.AwaitDeletionInFlight,
	} {
		if found, err := await(ctx, admin); err != nil || found {
			t.Fatalf("await a %s in flight: found %v, %v", name, found, err)
		}
	}

	// A dry run checks the planned writes with the policy simulator, as the role that
	// would make them: the generated policies allow that, and the writes.
	dry := awsprovision.New(p.Session(), awsprovision.Options{DryRun: true})
	for _, c := range []struct {
		do     func(context.Context, awsprovision.Access) (*awsprovision.Result, error)
		access awsprovision.Access
		want   awsprovision.Outcome
	}{
		{dry.Grant, awsprovision.AccountAssignment{AccountID: "333333333333", PermissionSet: ids["ps:Developer"], PrincipalType: awsprovision.PrincipalUser, PrincipalID: bob}, awsprovision.WouldCreate},
		{dry.Revoke, awsprovision.IAMGroupMembership{GroupARN: "arn:aws:iam::222222222222:group/deployers", UserARN: "arn:aws:iam::222222222222:user/service/deploy-bot"}, awsprovision.WouldRemove},
	} {
		res, err := c.do(ctx, c.access)
		if err != nil {
			t.Fatalf("dry run of %s: %v", c.access, err)
		}
		unchecked := slices.ContainsFunc(res.Notes, func(n string) bool { return strings.HasPrefix(n, "permissions not") })
		if res.Outcome != c.want || unchecked {
			t.Errorf("dry run of %s: %s, problems %v, notes %v", c.access, res.Outcome, res.Problems, res.Notes)
		}
	}

	// The self-check statement (iam:SimulatePrincipalPolicy on the role itself) serves
	// grant and revoke --dry-run as well as doctor.
	selfCheck := func(p awsperms.Policy) []string {
		for _, st := range p.Statement {
			if st.Sid == "DoctorSelfCheck" && slices.Contains(st.Action, "iam:SimulatePrincipalPolicy") {
				return []string{"iam:SimulatePrincipalPolicy"}
			}
		}
		return nil
	}
	connector := append(policyActions(t, b.Permissions.JSON()), selfCheck(b.Permissions)...)
	member := append(policyActions(t, b.MemberPermissions.JSON()), selfCheck(*b.MemberPermissions)...)
	used := map[string]bool{}
	var ops []string
	for _, oc := range sim.Counters().Snapshot() {
		if oc.Calls > 0 {
			ops = append(ops, oc.Service+":"+oc.Operation)
		}
	}
	sort.Strings(ops)
	for _, call := range ops {
		if call == "sts:GetCallerIdentity" {
			continue
		}
		service, op, _ := strings.Cut(call, ":")
		action, _, ok := awsperms.ForOperation(service, op)
		if !ok {
			t.Errorf("provisioning called %s, which awsperms does not list", call)
			continue
		}
		used[action] = true
		if !slices.Contains(connector, action) {
			t.Errorf("provisioning called %s; %s is not in the connector role's policy", call, action)
		}
		if service == "iam" && !slices.Contains(member, action) {
			t.Errorf("provisioning called %s in a member account; %s is not in the member role's policy", call, action)
		}
	}
	for _, perm := range awsperms.List {
		if !slices.Contains(perm.Features, awsperms.Provisioning) || len(perm.Operations) == 0 || slices.Contains(perm.Features, awsperms.Doctor) {
			continue
		}
		if !used[perm.Action] {
			t.Errorf("the policy allows %s for provisioning, which no grant or revoke called", perm.Action)
		}
	}
	if t.Failed() {
		t.Logf("calls: %v", ops)
	}
}
