package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/awssim"
)

// Tests of gatehouse grant, revoke and connector provisioning, through the real binary
// against the simulator serving internal/awssim/testdata/provisioning.yaml.

// connectionArgs are the AWS connection flags for the simulator, as for sync.
func connectionArgs(info awssim.Info) []string {
	return []string{"--endpoint-url", info.Endpoint, "--region", info.Region, "--role-arn", info.RoleARN, "--external-id", info.ExternalID}
}

// runProvision runs grant or revoke with the connection flags.
func runProvision(t *testing.T, info awssim.Info, args ...string) (string, string, error) {
	t.Helper()
	return runGatehouseEnv(t, syncEnv(t, info), append(args, connectionArgs(info)...)...)
}

// ids are the identity store and permission set ids of a simulated world, by name.
type ids struct {
	user, group, ps map[string]string // ps: name -> ps-... id
	instanceARN     string
}

func idsOf(s *awssim.Sim) ids {
	out := ids{user: map[string]string{}, group: map[string]string{}, ps: map[string]string{}}
	s.Do(func(w *awssim.World) {
		for _, u := range w.SSO.Users {
			out.user[u.UserName] = u.ID
		}
		for _, g := range w.SSO.Groups {
			out.group[g.DisplayName] = g.ID
		}
		for _, p := range w.SSO.PermissionSets {
			out.ps[p.Name] = p.ARN[strings.LastIndex(p.ARN, "/")+1:]
		}
		out.instanceARN = w.SSO.ARN
	})
	return out
}

// AWS request ids change from run to run. Identity store ids end in the same shape but
// follow a dash or a colon, never a space.
var requestIDs = regexp.MustCompile(`([ (])[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b`)

func withoutRequestIDs(s string) string { return requestIDs.ReplaceAllString(s, "$1<id>") }

// errorLine is the CLI's error message (stderr also holds the JSON log).
func errorLine(stderr string) string {
	for _, l := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(l, "gatehouse: ") {
			return l
		}
	}
	return ""
}

func checkOutput(t *testing.T, what, got, want string) {
	t.Helper()
	if got = withoutRequestIDs(got); got != want {
		t.Errorf("%s printed:\n%s\nwant:\n%s", what, got, want)
	}
}

// syncedGrants syncs the world and returns the grant lines of the .c1z.
func syncedGrants(t *testing.T, info awssim.Info) []string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "org.c1z")
	if _, stderr, err := runSync(t, info, file, "--orgs", "--identity-center"); err != nil {
		t.Fatalf("sync: %v\n%s", err, stderr)
	}
	var out []string
	for _, l := range strings.Split(dumpC1Z(t, file), "\n") {
		if strings.HasPrefix(l, "grant ") {
			out = append(out, l)
		}
	}
	// The fixture has grants whatever is granted or revoked: none at all means the dump
	// found nothing, and a check that a grant is absent would pass for that reason.
	if len(out) == 0 {
		t.Fatalf("the sync of %s has no grant at all", file)
	}
	return out
}

// provisioningCase is one kind of access, granted and revoked through the CLI.
type provisioningCase struct {
	entitlement, principalType, principal string
	// description is how the output names the access.
	description string
	// write is the call that changes AWS; check the read that finds nothing to do.
	grantWrite, revokeWrite, check string
	grantNotes, revokeNotes        []string
	// inAWS reports whether the simulator holds the access.
	inAWS func(w *awssim.World) bool
	// synced is the grant line the next sync writes.
	synced string
}

// exercise grants, checks AWS and the next sync, grants again, revokes, revokes again
// (by grant id, then by entitlement and principal) and checks AWS and the next sync.
func (c provisioningCase) exercise(t *testing.T, s *awssim.Sim, info awssim.Info) {
	t.Helper()
	grantID := c.entitlement + ":" + c.principalType + ":" + c.principal
	args := []string{"--entitlement", c.entitlement, "--principal-type", c.principalType, "--principal", c.principal}
	inAWS := func() (in bool) {
		s.Do(func(w *awssim.World) { in = c.inAWS(w) })
		return in
	}
	output := func(outcome, evidence string, notes []string) string {
		out := outcome + ": " + c.description + "\ngrant id: " + grantID + "\n"
		for _, n := range notes {
			out += "note: " + n + "\n"
		}
		return out + "AWS request ids: " + evidence + "\n"
	}
	if inAWS() {
		t.Fatal("the fixture already has the access")
	}

	stdout, stderr, err := runProvision(t, info, append([]string{"grant"}, args...)...)
	if err != nil {
		t.Fatalf("grant: %v\n%s", err, stderr)
	}
	checkOutput(t, "grant", stdout, output("created", c.grantWrite, c.grantNotes))
	if !inAWS() {
		t.Error("after grant, AWS does not have the access")
	}
	if grants := syncedGrants(t, info); !slices.Contains(grants, c.synced) {
		t.Errorf("the next sync lacks %q:\n%s", c.synced, strings.Join(grants, "\n"))
	}
	// The audit record: one JSON log entry on stderr with who, what and the request ids.
	for _, want := range []string{`"msg":"access granted"`, `"requested_by":`, `"connector":"arn:aws:sts::111111111111:assumed-role/GatehouseConnector/gatehouse-provision"`, `"request_ids":[`} {
		if !strings.Contains(stderr, want) {
			t.Errorf("the grant's log lacks %s:\n%s", want, stderr)
		}
	}

	stdout, stderr, err = runProvision(t, info, append([]string{"grant"}, args...)...)
	if err != nil {
		t.Fatalf("grant again: %v\n%s", err, stderr)
	}
	checkOutput(t, "grant again", stdout, output("already existed", c.check+" <id>", nil))

	stdout, stderr, err = runProvision(t, info, "revoke", "--grant", grantID)
	if err != nil {
		t.Fatalf("revoke: %v\n%s", err, stderr)
	}
	checkOutput(t, "revoke", stdout, output("removed", c.revokeWrite, c.revokeNotes))
	if inAWS() {
		t.Error("after revoke, AWS still has the access")
	}

	stdout, stderr, err = runProvision(t, info, append([]string{"revoke"}, args...)...)
	if err != nil {
		t.Fatalf("revoke again: %v\n%s", err, stderr)
	}
	wantNotes := slices.DeleteFunc(slices.Clone(c.revokeNotes), func(n string) bool { return strings.HasPrefix(n, "sessions ") })
	checkOutput(t, "revoke again", stdout, output("already absent", c.check+" <id>", wantNotes))
	if grants := syncedGrants(t, info); slices.Contains(grants, c.synced) {
		t.Errorf("the sync after revoke still has %q", c.synced)
	}
}

// memberships lists every IAM group membership of the world as account/group/user.
func memberships(w *awssim.World) []string {
	var out []string
	for _, a := range w.Accounts {
		for _, g := range a.Groups {
			for _, m := range g.Members {
				out = append(out, a.ID+"/"+g.Name+"/"+m)
			}
		}
	}
	slices.Sort(out)
	return out
}

func TestGrantRevokeIAMGroupMembership(t *testing.T) {
	s, info := fixtureSim(t, "provisioning.yaml", awssim.Options{})
	var before []string
	s.Do(func(w *awssim.World) { before = memberships(w) })

	// A member account's group: the change is made there, through the member role.
	provisioningCase{
		entitlement: "iam_group:arn:aws:iam::222222222222:group/oncall:member", principalType: "iam_user", principal: "arn:aws:iam::222222222222:user/carol",
		description: "IAM user carol in IAM group oncall of account 222222222222",
		grantWrite:  "iam:AddUserToGroup <id>", revokeWrite: "iam:RemoveUserFromGroup <id>", check: "iam:ListGroupsForUser",
		inAWS: func(w *awssim.World) bool {
			return slices.Equal(memberships(w), slices.Sorted(slices.Values(append(slices.Clone(before), "222222222222/oncall/carol"))))
		},
		synced: "grant iam_group:arn:aws:iam::222222222222:group/oncall:member <- iam_user:arn:aws:iam::222222222222:user/carol direct",
	}.exercise(t, s, info)

	// The connector's own account: no role to assume.
	provisioningCase{
		entitlement: "iam_group:arn:aws:iam::111111111111:group/auditors:member", principalType: "iam_user", principal: "arn:aws:iam::111111111111:user/alice",
		description: "IAM user alice in IAM group auditors of account 111111111111",
		grantWrite:  "iam:AddUserToGroup <id>", revokeWrite: "iam:RemoveUserFromGroup <id>", check: "iam:ListGroupsForUser",
		inAWS: func(w *awssim.World) bool {
			return slices.Equal(memberships(w), slices.Sorted(slices.Values(append(slices.Clone(before), "111111111111/auditors/alice"))))
		},
		synced: "grant iam_group:arn:aws:iam::111111111111:group/auditors:member <- iam_user:arn:aws:iam::111111111111:user/alice direct",
	}.exercise(t, s, info)

	var after []string
	s.Do(func(w *awssim.World) { after = memberships(w) })
	if !slices.Equal(before, after) {
		t.Errorf("memberships changed: before %v, after %v", before, after)
	}

	// Groups with a path, and users with one, are named by their full ARNs.
	stdout, stderr, err := runProvision(t, info, "grant", "--entitlement", "iam_group:arn:aws:iam::222222222222:group/ci/deployers:member",
		"--principal-type", "iam_user", "--principal", "arn:aws:iam::222222222222:user/service/deploy-bot")
	if err != nil {
		t.Fatalf("grant: %v\n%s", err, stderr)
	}
	if first, _, _ := strings.Cut(stdout, "\n"); first != "already existed: IAM user deploy-bot in IAM group deployers of account 222222222222" {
		t.Errorf("grant of an existing membership printed %q", first)
	}
}

func TestGrantRevokeIdentityCenterGroupMembership(t *testing.T) {
	s, info := fixtureSim(t, "provisioning.yaml", awssim.Options{})
	id := idsOf(s)
	admins, bob := id.group["Admins"], id.user["bob"]
	provisioningCase{
		entitlement: "sso_group:" + admins + ":member", principalType: "sso_user", principal: bob,
		description: "Identity Center user bob in group Admins",
		grantWrite:  "identitystore:CreateGroupMembership <id>", revokeWrite: "identitystore:DeleteGroupMembership <id>", check: "identitystore:GetGroupMembershipId",
		revokeNotes: []string{"sessions already started through Identity Center keep working until they expire, up to the permission set's session duration (at most 12 hours)"},
		inAWS: func(w *awssim.World) bool {
			for _, m := range w.SSO.Memberships {
				if m.GroupID == admins && m.UserID == bob {
					return true
				}
			}
			return false
		},
		synced: "grant sso_group:" + admins + ":member <- sso_user:" + bob + " direct",
	}.exercise(t, s, info)
}

// An account assignment is asynchronous: the grant returns once AWS reports SUCCEEDED.
func TestGrantRevokeAccountAssignment(t *testing.T) {
	const delay = 400 * time.Millisecond
	s, info := fixtureSim(t, "provisioning.yaml", awssim.Options{AssignmentDelay: delay})
	id := idsOf(s)
	developers, dev := id.group["Developers"], id.ps["Developer"]
	psARN := strings.Replace(id.instanceARN, ":instance/", ":permissionSet/", 1) + "/" + dev
	asg := awssim.Assignment{AccountID: "333333333333", PermissionSetARN: psARN, PrincipalType: "GROUP", PrincipalID: developers}
	start := time.Now()
	provisioningCase{
		entitlement: "account:333333333333:" + dev, principalType: "sso_group", principal: developers,
		description: "Developer on account staging (333333333333) for group Developers",
		grantWrite:  "sso:CreateAccountAssignment <id>, sso:DescribeAccountAssignmentCreationStatus <id>",
		revokeWrite: "sso:DeleteAccountAssignment <id>, sso:DescribeAccountAssignmentDeletionStatus <id>",
		check:       "sso:ListAccountAssignments",
		grantNotes:  []string{"the permission set Developer was not provisioned to account 333333333333 yet: this assignment provisions it (creating its AWSReservedSSO_Developer role there), as the AWS console does"},
		revokeNotes: []string{"sessions already started with Developer keep working until they expire, up to 4h (the permission set's session duration)"},
		inAWS:       func(w *awssim.World) bool { return w.SSO.HasAssignment(asg) },
		// The group's grant, and bob's through it.
		synced: "grant account:333333333333:" + dev + " <- sso_group:" + developers + " direct",
	}.exercise(t, s, info)
	if took := time.Since(start); took < 2*delay {
		t.Errorf("grant and revoke took %s, less than the two assignment delays: success was reported before AWS finished", took)
	}
	var ops []string
	s.Do(func(w *awssim.World) {
		for _, op := range w.SSO.Operations {
			kind := "create"
			if op.Delete {
				kind = "delete"
			}
			ops = append(ops, kind+" "+op.Status)
		}
	})
	if want := []string{"create SUCCEEDED", "delete SUCCEEDED"}; !slices.Equal(ops, want) {
		t.Errorf("AWS ran %v, want %v: one creation and one deletion, nothing for the idempotent repeats", ops, want)
	}
}

// Revoking a user's own assignment says when the user keeps the access through a group.
func TestRevokeSaysWhenAGroupStillGrants(t *testing.T) {
	s, info := fixtureSim(t, "provisioning.yaml", awssim.Options{})
	id := idsOf(s)
	stdout, stderr, err := runProvision(t, info, "revoke", "--entitlement", "account:222222222222:"+id.ps["ReadOnly"],
		"--principal-type", "sso_user", "--principal", id.user["bob"])
	if err != nil {
		t.Fatalf("revoke: %v\n%s", err, stderr)
	}
	checkOutput(t, "revoke", stdout, "already absent: ReadOnly on account prod (222222222222) for user bob\n"+
		"grant id: account:222222222222:"+id.ps["ReadOnly"]+":sso_user:"+id.user["bob"]+"\n"+
		"note: the user still holds ReadOnly in this account through the group Developers ("+id.group["Developers"]+")\n"+
		"AWS request ids: sso:ListAccountAssignments <id>\n")
}

// A FAILED assignment is an error that carries AWS's reason, and the grant is not
// reported.
func TestGrantAccountAssignmentFailed(t *testing.T) {
	s, info := fixtureSim(t, "provisioning.yaml", awssim.Options{AssignmentDelay: 100 * time.Millisecond})
	id := idsOf(s)
	stdout, stderr, err := runProvision(t, info, "grant", "--entitlement", "account:444444444444:"+id.ps["ReadOnly"],
		"--principal-type", "sso_user", "--principal", id.user["bob"])
	if err == nil {
		t.Fatalf("grant into an account whose assignments fail succeeded:\n%s", stdout)
	}
	want := "gatehouse: AWS could not assign ReadOnly on account broken (444444444444) for user bob: FAILED: " +
		"Received a 404 status error: Not supported policy arn:aws:iam::aws:policy/DoesNotExist. (request <id>)"
	if got := withoutRequestIDs(errorLine(stderr)); got != want {
		t.Errorf("error:\n%s\nwant:\n%s", got, want)
	}
	if stdout != "" {
		t.Errorf("a failed grant printed %q", stdout)
	}
	if !strings.Contains(stderr, `"msg":"grant failed"`) {
		t.Errorf("the failure is not logged:\n%s", stderr)
	}
}

// A role without a provisioning permission gets a message that names the IAM action and
// the role (not the session) to fix.
func TestGrantAccessDenied(t *testing.T) {
	// The default fixture connector may only read.
	s, info := fixtureSim(t, "org-identity-center.yaml", awssim.Options{})
	id := idsOf(s)
	_, stderr, err := runProvision(t, info, "grant", "--entitlement", "account:444444444444:"+id.ps["ReadOnly"],
		"--principal-type", "sso_user", "--principal", id.user["alice"])
	if err == nil {
		t.Fatal("a read-only connector role granted access")
	}
	want := "gatehouse: AWS denied sso:CreateAccountAssignment to arn:aws:iam::111111111111:role/GatehouseConnector: " +
		"allow sso:CreateAccountAssignment in that role's permissions policy " +
		"(AWS: User: arn:aws:sts::111111111111:assumed-role/GatehouseConnector/gatehouse-provision is not authorized to perform: " +
		"sso:CreateAccountAssignment on resource: * because no identity-based policy allows the sso:CreateAccountAssignment action)"
	if got := errorLine(stderr); got != want {
		t.Errorf("error:\n%s\nwant:\n%s", got, want)
	}

	// In a member account the member role is the one to fix.
	s, info = fixtureSim(t, "provisioning.yaml", awssim.Options{})
	s.Do(func(w *awssim.World) {
		r := w.Accounts["222222222222"].Roles[awssim.DefaultMemberRoleName]
		r.InlinePolicies = map[string]string{}
		r.AttachedPolicies = []string{awssim.AWSManagedPolicyARN("ReadOnlyAccess")}
	})
	_, stderr, err = runProvision(t, info, "grant", "--entitlement", "iam_group:arn:aws:iam::222222222222:group/oncall:member",
		"--principal-type", "iam_user", "--principal", "arn:aws:iam::222222222222:user/carol")
	if err == nil {
		t.Fatal("a read-only member role granted access")
	}
	want = "gatehouse: AWS denied iam:AddUserToGroup to arn:aws:iam::222222222222:role/GatehouseMember: " +
		"allow iam:AddUserToGroup in that role's permissions policy " +
		"(AWS: User: arn:aws:sts::222222222222:assumed-role/GatehouseMember/gatehouse-provision is not authorized to perform: " +
		"iam:AddUserToGroup on resource: arn:aws:iam::222222222222:group/oncall because no identity-based policy allows the iam:AddUserToGroup action)"
	if got := errorLine(stderr); got != want {
		t.Errorf("error:\n%s\nwant:\n%s", got, want)
	}
}

// An account whose member role cannot be assumed is named, with its role.
func TestGrantCannotAssumeMemberRole(t *testing.T) {
	_, info := fixtureSim(t, "unassumable-account.yaml", awssim.Options{})
	_, stderr, err := runProvision(t, info, "grant", "--entitlement", "iam_group:arn:aws:iam::333333333333:group/admins:member",
		"--principal-type", "iam_user", "--principal", "arn:aws:iam::333333333333:user/mallory")
	if err == nil {
		t.Fatal("grant in an account that cannot be entered succeeded")
	}
	want := "gatehouse: cannot act in account 333333333333: cannot assume arn:aws:iam::333333333333:role/GatehouseMember: "
	tail := "(the role must exist in that account and trust arn:aws:iam::111111111111:role/GatehouseConnector; set --member-role-name and --member-external-id to match it)"
	if got := errorLine(stderr); !strings.HasPrefix(got, want) || !strings.HasSuffix(got, tail) || !strings.Contains(got, "AccessDenied") {
		t.Errorf("error:\n%s\nwant %s...AccessDenied...%s", got, want, tail)
	}
}

// --dry-run prints the calls that would change AWS, with their parameters, the account
// and the role, and changes nothing.
func TestGrantRevokeDryRun(t *testing.T) {
	s, info := fixtureSim(t, "provisioning.yaml", awssim.Options{})
	id := idsOf(s)
	dev, bob := id.ps["Developer"], id.user["bob"]
	psARN := strings.Replace(id.instanceARN, ":instance/", ":permissionSet/", 1) + "/" + dev
	stdout, stderr, err := runProvision(t, info, "grant", "--dry-run", "--entitlement", "account:333333333333:"+dev,
		"--principal-type", "sso_user", "--principal", bob)
	if err != nil {
		t.Fatalf("grant --dry-run: %v\n%s", err, stderr)
	}
	checkOutput(t, "grant --dry-run", stdout, `dry run: would create: Developer on account staging (333333333333) for user bob
grant id: account:333333333333:`+dev+`:sso_user:`+bob+`
note: the permission set Developer was not provisioned to account 333333333333 yet: this assignment provisions it (creating its AWSReservedSSO_Developer role there), as the AWS console does
AWS calls that would be made:
  1. sso:CreateAccountAssignment in account 111111111111 as arn:aws:iam::111111111111:role/GatehouseConnector
       InstanceArn=`+id.instanceARN+`
       TargetId=333333333333
       TargetType=AWS_ACCOUNT
       PermissionSetArn=`+psARN+`
       PrincipalType=USER
       PrincipalId=`+bob+`
  2. sso:DescribeAccountAssignmentCreationStatus in account 111111111111 as arn:aws:iam::111111111111:role/GatehouseConnector
       InstanceArn=`+id.instanceARN+`
       AccountAssignmentCreationRequestId=(the RequestId CreateAccountAssignment returns)
       (repeated until SUCCEEDED or FAILED, for up to 5m0s)
Nothing was changed.
`)

	stdout, stderr, err = runProvision(t, info, "revoke", "--dry-run", "--grant",
		"iam_group:arn:aws:iam::222222222222:group/ci/deployers:member:iam_user:arn:aws:iam::222222222222:user/service/deploy-bot")
	if err != nil {
		t.Fatalf("revoke --dry-run: %v\n%s", err, stderr)
	}
	checkOutput(t, "revoke --dry-run", stdout, `dry run: would remove: IAM user deploy-bot in IAM group deployers of account 222222222222
grant id: iam_group:arn:aws:iam::222222222222:group/ci/deployers:member:iam_user:arn:aws:iam::222222222222:user/service/deploy-bot
AWS calls that would be made:
  1. iam:RemoveUserFromGroup in account 222222222222 as arn:aws:iam::222222222222:role/GatehouseMember
       GroupName=deployers
       UserName=deploy-bot
Nothing was changed.
`)

	for _, op := range []string{"CreateAccountAssignment", "DeleteAccountAssignment"} {
		if n := s.Counters().Calls("sso", op); n != 0 {
			t.Errorf("a dry run called %s %d times", op, n)
		}
	}
	for _, op := range []string{"AddUserToGroup", "RemoveUserFromGroup"} {
		if n := s.Counters().Calls("iam", op); n != 0 {
			t.Errorf("a dry run called %s %d times", op, n)
		}
	}
	s.Do(func(w *awssim.World) {
		if len(w.SSO.Operations) != 0 || !slices.Contains(w.Accounts["222222222222"].Groups["deployers"].Members, "deploy-bot") {
			t.Error("a dry run changed the world")
		}
	})
}

func TestGrantRevokeRejectBadInput(t *testing.T) {
	const bob = "b3ce4e5069-d5b6d41b-2ad0-4f6c-a77d-5ae4ef8dbe84"
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"grant"}, "gatehouse: --entitlement is required: the entitlement id, as gatehouse inspect -f FILE.c1z entitlements --wide prints it\n"},
		{[]string{"grant", "--entitlement", "account:333333333333:ps-53e5c14c9a44c724"}, "gatehouse: --principal-type is required: iam_user, sso_user or sso_group\n"},
		{[]string{"grant", "--entitlement", "account:333333333333:ps-53e5c14c9a44c724", "--principal-type", "sso_user"}, "gatehouse: --principal is required: the principal's id, as gatehouse inspect -f FILE.c1z resources --wide prints it\n"},
		{[]string{"grant", "--entitlement", "account:333333333333:ReadOnly", "--principal-type", "sso_user", "--principal", bob},
			`gatehouse: entitlement "account:333333333333:ReadOnly": the account entitlement is a permission set id (ps-...), not "ReadOnly" (ids are printed by gatehouse inspect --file FILE.c1z entitlements)` + "\n"},
		{[]string{"grant", "--entitlement", "iam_group:arn:aws:iam::222222222222:group/oncall:member", "--principal-type", "sso_user", "--principal", bob},
			"gatehouse: entitlement iam_group:arn:aws:iam::222222222222:group/oncall:member is granted to iam_user, not to sso_user\n"},
		{[]string{"grant", "--entitlement", "iam_policy:arn:aws:iam::aws:policy/ReadOnlyAccess:attached", "--principal-type", "iam_user", "--principal", "arn:aws:iam::222222222222:user/carol"},
			"gatehouse: entitlement iam_policy:arn:aws:iam::aws:policy/ReadOnlyAccess:attached: not provisionable: Gatehouse reads iam_policy entitlements but does not grant or revoke them\n"},
		{[]string{"revoke"}, "gatehouse: say what to revoke: --grant GRANT_ID, or --entitlement, --principal-type and --principal\n"},
		{[]string{"revoke", "--grant", "x", "--principal", bob}, "gatehouse: name the grant either with --grant or with --entitlement, --principal-type and --principal, not both\n"},
		{[]string{"revoke", "--grant", "account:333333333333:ps-53e5c14c9a44c724:sso_user"},
			`gatehouse: "account:333333333333:ps-53e5c14c9a44c724:sso_user" is not a grant id: no account entitlement followed by a principal (sso_user, sso_group) and its id; grant ids are <entitlement id>:<principal type>:<principal id>, as gatehouse inspect --file FILE.c1z grants prints them` + "\n"},
		{[]string{"grant", "--wait", "0s", "--entitlement", "account:333333333333:ps-53e5c14c9a44c724", "--principal-type", "sso_user", "--principal", bob},
			"gatehouse: --wait must be positive, got 0s\n"},
	}
	for _, c := range cases {
		_, stderr, err := runGatehouseEnv(t, []string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH")}, c.args...)
		if err == nil || stderr != c.want {
			t.Errorf("gatehouse %v: err=%v stderr=%q\nwant %q", c.args, err, stderr, c.want)
		}
	}
}

// Unknown principals and entitlements are errors on grant and "already absent" on revoke.
func TestGrantUnknownPrincipalAndEntitlement(t *testing.T) {
	s, info := fixtureSim(t, "provisioning.yaml", awssim.Options{})
	id := idsOf(s)
	const nobody = "0000000000-00000000-0000-4000-a000-000000000000"
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--entitlement", "iam_group:arn:aws:iam::222222222222:group/nope:member", "--principal-type", "iam_user", "--principal", "arn:aws:iam::222222222222:user/carol"},
			"gatehouse: no IAM group arn:aws:iam::222222222222:group/nope in account 222222222222"},
		{[]string{"--entitlement", "iam_group:arn:aws:iam::222222222222:group/deployers:member", "--principal-type", "iam_user", "--principal", "arn:aws:iam::222222222222:user/carol"},
			"gatehouse: no IAM group arn:aws:iam::222222222222:group/deployers in account 222222222222 (the group named deployers is arn:aws:iam::222222222222:group/ci/deployers)"},
		{[]string{"--entitlement", "iam_group:arn:aws:iam::222222222222:group/oncall:member", "--principal-type", "iam_user", "--principal", "arn:aws:iam::222222222222:user/nobody"},
			"gatehouse: no IAM user arn:aws:iam::222222222222:user/nobody in account 222222222222"},
		{[]string{"--entitlement", "iam_group:arn:aws:iam::222222222222:group/oncall:member", "--principal-type", "iam_user", "--principal", "arn:aws:iam::111111111111:user/alice"},
			"gatehouse: IAM group oncall is in account 222222222222 and can only hold users of that account; user alice is in account 111111111111"},
		{[]string{"--entitlement", "sso_group:" + nobody + ":member", "--principal-type", "sso_user", "--principal", id.user["bob"]},
			"gatehouse: no group " + nobody + " in identity store " + info.IdentityStoreID},
		{[]string{"--entitlement", "account:333333333333:" + id.ps["ReadOnly"], "--principal-type", "sso_user", "--principal", nobody},
			"gatehouse: no user " + nobody + " in identity store " + info.IdentityStoreID},
		{[]string{"--entitlement", "account:999999999999:" + id.ps["ReadOnly"], "--principal-type", "sso_user", "--principal", id.user["bob"]},
			"gatehouse: account 999999999999 is not in the organization"},
		{[]string{"--entitlement", "account:333333333333:ps-0000000000000000", "--principal-type", "sso_user", "--principal", id.user["bob"]},
			"gatehouse: no permission set ps-0000000000000000 in the Identity Center instance " + id.instanceARN + " (it lists 3 permission sets): take the id from gatehouse inspect --file FILE.c1z entitlements"},
	}
	for _, c := range cases {
		_, stderr, err := runProvision(t, info, append([]string{"grant"}, c.args...)...)
		if got := errorLine(stderr); err == nil || got != c.want {
			t.Errorf("grant %v: %v\n%s\nwant %s", c.args, err, got, c.want)
		}
	}
	// Revoking from a group that does not exist: nothing to take away.
	stdout, stderr, err := runProvision(t, info, "revoke", "--entitlement", "sso_group:"+nobody+":member", "--principal-type", "sso_user", "--principal", id.user["bob"])
	if err != nil {
		t.Fatalf("revoke: %v\n%s", err, stderr)
	}
	if !strings.HasPrefix(stdout, "already absent: ") || !strings.Contains(stdout, "note: the group "+nobody+" does not exist in identity store "+info.IdentityStoreID+"\n") {
		t.Errorf("revoke from a missing group printed:\n%s", stdout)
	}
}

// gatehouse connector drives the same provisioning through baton-sdk's standard flags:
// --grant-entitlement/--grant-principal/--grant-principal-type and --revoke-grant,
// which read the entitlement, principal and grant from the .c1z of -f.
func TestConnectorGrantAndRevoke(t *testing.T) {
	s, info := fixtureSim(t, "provisioning.yaml", awssim.Options{AssignmentDelay: 200 * time.Millisecond})
	id := idsOf(s)
	erin, admin := id.user["erin"], id.ps["AdministratorAccess"]
	entitlement := "account:333333333333:" + admin
	grantID := entitlement + ":sso_user:" + erin
	psARN := strings.Replace(id.instanceARN, ":instance/", ":permissionSet/", 1) + "/" + admin
	asg := awssim.Assignment{AccountID: "333333333333", PermissionSetARN: psARN, PrincipalType: "USER", PrincipalID: erin}
	has := func() (in bool) {
		s.Do(func(w *awssim.World) { in = w.SSO.HasAssignment(asg) })
		return in
	}

	file := filepath.Join(t.TempDir(), "org.c1z")
	sync := func() {
		t.Helper()
		if _, stderr, err := runSync(t, info, file, "--orgs", "--identity-center"); err != nil {
			t.Fatalf("sync: %v\n%s", err, stderr)
		}
	}
	connector := func(args ...string) string {
		t.Helper()
		base := append([]string{"connector", "-f", file, "--orgs", "--identity-center"}, connectionArgs(info)...)
		_, stderr, err := runGatehouseEnv(t, syncEnv(t, info), append(base, args...)...)
		if err != nil {
			t.Fatalf("gatehouse connector %v: %v\n%s", args, err, stderr)
		}
		return stderr
	}

	sync()
	logs := connector("--grant-entitlement", entitlement, "--grant-principal", erin, "--grant-principal-type", "sso_user")
	if !has() {
		t.Fatalf("after the connector's grant AWS has no assignment; connector log:\n%s", logs)
	}
	if !strings.Contains(logs, `"msg":"access granted"`) || !strings.Contains(logs, `"outcome":"created"`) {
		t.Errorf("the connector did not log the grant:\n%s", logs)
	}
	sync()
	if !strings.Contains(dumpC1Z(t, file), "grant "+entitlement+" <- sso_user:"+erin+" direct") {
		t.Error("the sync after the connector's grant lacks it")
	}
	logs = connector("--revoke-grant", grantID)
	if has() {
		t.Fatalf("after the connector's revoke AWS still has the assignment; connector log:\n%s", logs)
	}
	if !strings.Contains(logs, `"msg":"access revoked"`) || !strings.Contains(logs, `"outcome":"removed"`) {
		t.Errorf("the connector did not log the revoke:\n%s", logs)
	}
	// Revoking again (the file still has the grant) succeeds without a change.
	logs = connector("--revoke-grant", grantID)
	if !strings.Contains(logs, `"outcome":"already absent"`) {
		t.Errorf("a second revoke through the connector did not report the grant already absent:\n%s", logs)
	}
}
