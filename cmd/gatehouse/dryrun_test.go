package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/awsperms"
	"github.com/gatehouse/gatehouse/internal/awssim"
)

// connectorPolicyWithout is the generated provisioning policy of the connector role with
// the actions left out.
func connectorPolicyWithout(actions ...string) string {
	pol := awsperms.PolicyFor(awsperms.Set{Orgs: true, IdentityCenter: true, Provisioning: true}, awsperms.Connector,
		awsperms.Names{ConnectorRole: awssim.ConnectorRoleName, MemberRole: awssim.DefaultMemberRoleName})
	for i := range pol.Statement {
		pol.Statement[i].Action = slices.DeleteFunc(pol.Statement[i].Action, func(a string) bool { return slices.Contains(actions, a) })
	}
	pol.Statement = slices.DeleteFunc(pol.Statement, func(s awsperms.Statement) bool { return len(s.Action) == 0 })
	return string(pol.JSON())
}

// --dry-run does not promise a change the real run would not make: it asks the IAM
// policy simulator about the planned writes, as the role that would make them, and reads
// the account's state; it says what would stop the change, and exits non-zero.
func TestDryRunSaysWhatWouldBeDeniedOrFail(t *testing.T) {
	s, info := fixtureSim(t, "provisioning.yaml", awssim.Options{})
	id := idsOf(s)
	dev, bob := id.ps["Developer"], id.user["bob"]
	psARN := strings.Replace(id.instanceARN, ":instance/", ":permissionSet/", 1) + "/" + dev
	planned := `AWS calls the real run would attempt:
  1. sso:CreateAccountAssignment in account 111111111111 as arn:aws:iam::111111111111:role/GatehouseConnector
       InstanceArn=` + id.instanceARN + `
       TargetId=333333333333
       TargetType=AWS_ACCOUNT
       PermissionSetArn=` + psARN + `
       PrincipalType=USER
       PrincipalId=` + bob + `
  2. sso:DescribeAccountAssignmentCreationStatus in account 111111111111 as arn:aws:iam::111111111111:role/GatehouseConnector
       InstanceArn=` + id.instanceARN + `
       AccountAssignmentCreationRequestId=(the RequestId CreateAccountAssignment returns)
       (repeated until SUCCEEDED or FAILED, for up to 5m0s)
Nothing was changed.
`
	head := "grant id: account:333333333333:" + dev + ":sso_user:" + bob + "\n"
	notProvisioned := "note: the permission set Developer was not provisioned to account 333333333333 yet: this assignment provisions it (creating its AWSReservedSSO_Developer role there), as the AWS console does\n"
	grant := []string{"grant", "--dry-run", "--entitlement", "account:333333333333:" + dev, "--principal-type", "sso_user", "--principal", bob}

	// The connector role holds the generated policy, less sso:CreateAccountAssignment.
	s.Do(func(w *awssim.World) { w.SetConnectorPolicy(connectorPolicyWithout("sso:CreateAccountAssignment")) })
	stdout, stderr, err := runProvision(t, info, grant...)
	if err == nil {
		t.Error("a dry run of a grant the role may not make exited 0")
	}
	checkOutput(t, "grant --dry-run without sso:CreateAccountAssignment", stdout,
		"dry run: would be denied: Developer on account staging (333333333333) for user bob\n"+head+
			"why: arn:aws:iam::111111111111:role/GatehouseConnector may not perform sso:CreateAccountAssignment: no policy of the role allows it "+
			"(the IAM policy simulator says implicitDeny); allow it in the role's permissions policy (gatehouse setup aws --provisioning generates one that does)\n"+
			notProvisioned+planned)
	if got, want := errorLine(stderr), "gatehouse: dry run: the grant would be denied (see why above); nothing was changed"; got != want {
		t.Errorf("error line %q, want %q", got, want)
	}

	// With the whole policy, but the account suspended: AWS would accept and then fail.
	s.Do(func(w *awssim.World) {
		w.SetConnectorPolicy(connectorPolicyWithout())
		w.Accounts["333333333333"].Status = "SUSPENDED"
	})
	stdout, stderr, err = runProvision(t, info, grant...)
	if err == nil {
		t.Error("a dry run of a grant into a suspended account exited 0")
	}
	checkOutput(t, "grant --dry-run into a suspended account", stdout,
		"dry run: would fail: Developer on account staging (333333333333) for user bob\n"+head+
			"why: account staging (333333333333) is SUSPENDED: AWS accepts the request and then reports it FAILED, because it provisions only ACTIVE accounts\n"+
			notProvisioned+planned)
	if got, want := errorLine(stderr), "gatehouse: dry run: the grant would fail (see why above); nothing was changed"; got != want {
		t.Errorf("error line %q, want %q", got, want)
	}

	// In a member account, the member role is asked about, on the group.
	s.Do(func(w *awssim.World) {
		w.Accounts["333333333333"].Status = "ACTIVE"
		// The member role keeps its reads and the policy simulator on itself, not the
		// group membership writes.
		r := w.Accounts["222222222222"].Roles[awssim.DefaultMemberRoleName]
		pol := awsperms.PolicyFor(awsperms.All, awsperms.Member, awsperms.Names{MemberRole: awssim.DefaultMemberRoleName})
		for i := range pol.Statement {
			pol.Statement[i].Action = slices.DeleteFunc(pol.Statement[i].Action, func(a string) bool {
				return a == "iam:AddUserToGroup" || a == "iam:RemoveUserFromGroup"
			})
		}
		r.AttachedPolicies = nil
		r.InlinePolicies = map[string]string{"read": string(pol.JSON())}
	})
	stdout, _, err = runProvision(t, info, "grant", "--dry-run", "--entitlement", "iam_group:arn:aws:iam::222222222222:group/oncall:member",
		"--principal-type", "iam_user", "--principal", "arn:aws:iam::222222222222:user/carol")
	if err == nil {
		t.Error("a dry run of a grant the member role may not make exited 0")
	}
	checkOutput(t, "grant --dry-run with a read-only member role", stdout, `dry run: would be denied: IAM user carol in IAM group oncall of account 222222222222
grant id: iam_group:arn:aws:iam::222222222222:group/oncall:member:iam_user:arn:aws:iam::222222222222:user/carol
why: arn:aws:iam::222222222222:role/GatehouseMember may not perform iam:AddUserToGroup on arn:aws:iam::222222222222:group/oncall: no policy of the role allows it (the IAM policy simulator says implicitDeny); allow it in the role's permissions policy (gatehouse setup aws --provisioning generates one that does)
AWS calls the real run would attempt:
  1. iam:AddUserToGroup in account 222222222222 as arn:aws:iam::222222222222:role/GatehouseMember
       GroupName=oncall
       UserName=carol
Nothing was changed.
`)

	// A role that may not use the policy simulator is not passed over: the dry run says
	// that it could not check.
	s.Do(func(w *awssim.World) { w.SetConnectorPolicy(connectorPolicyWithout("iam:SimulatePrincipalPolicy")) })
	stdout, stderr, err = runProvision(t, info, grant...)
	if err != nil {
		t.Fatalf("grant --dry-run: %v\n%s", err, stderr)
	}
	want := "dry run: would create: Developer on account staging (333333333333) for user bob\n" + head + notProvisioned +
		"note: permissions not checked: the IAM policy simulator could not check sso:CreateAccountAssignment, sso:DescribeAccountAssignmentCreationStatus for arn:aws:iam::111111111111:role/GatehouseConnector " +
		"(AccessDenied: User: arn:aws:sts::111111111111:assumed-role/GatehouseConnector/gatehouse-provision is not authorized to perform: iam:SimulatePrincipalPolicy on resource: arn:aws:iam::111111111111:role/GatehouseConnector " +
		"because no identity-based policy allows the iam:SimulatePrincipalPolicy action); the role needs iam:SimulatePrincipalPolicy on itself, which gatehouse setup aws includes\n" +
		"AWS calls that would be made:\n"
	if got := withoutRequestIDs(stdout); !strings.HasPrefix(got, want) {
		t.Errorf("grant --dry-run without iam:SimulatePrincipalPolicy printed:\n%s\nwant it to start with:\n%s", got, want)
	}

	for _, op := range []string{"CreateAccountAssignment", "DeleteAccountAssignment"} {
		if n := s.Counters().Calls("sso", op); n != 0 {
			t.Errorf("a dry run called %s %d times", op, n)
		}
	}
	if n := s.Counters().Calls("iam", "AddUserToGroup"); n != 0 {
		t.Errorf("a dry run called AddUserToGroup %d times", n)
	}
}

// gatehouse sim --read-only serves the demo with the generated read-only connector
// policy: an Identity Center grant is refused, naming the action and the role to fix.
func TestSimReadOnlyConnector(t *testing.T) {
	info := startSimCommand(t, "--preset", "demo", "--read-only", "--latency", "0", "--jitter", "0")
	w, _ := awssim.Preset("demo", 1)
	var user, account, ps string
	for _, u := range w.SSO.Users {
		if u.UserName == "erin" {
			user = u.ID
		}
	}
	for _, a := range w.Accounts {
		if a.Name == "prod" {
			account = a.ID
		}
	}
	for _, p := range w.SSO.PermissionSets {
		if p.Name == "ReadOnly" {
			ps = p.ARN[strings.LastIndex(p.ARN, "/")+1:]
		}
	}
	_, stderr, err := runProvision(t, info, "grant", "--entitlement", "account:"+account+":"+ps,
		"--principal-type", "sso_user", "--principal", user, "--dry-run")
	if err == nil {
		t.Fatal("a read-only connector's grant succeeded")
	}
	if want := "gatehouse: AWS denied identitystore:DescribeUser to " + info.RoleARN + ": allow identitystore:DescribeUser in that role's permissions policy"; !strings.HasPrefix(errorLine(stderr), want) {
		t.Errorf("error line %q, want it to start with %q", errorLine(stderr), want)
	}
}
