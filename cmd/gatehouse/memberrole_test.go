package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/awsperms"
	"github.com/gatehouse/gatehouse/internal/awssim"
)

// The default member role is the read-only GatehouseMember: a sync with --orgs enters
// member accounts through it and never assumes OrganizationAccountAccessRole (which the
// simulator creates too, as AWS does), and says nothing about it. Naming
// OrganizationAccountAccessRole still works, as an explicit opt-in with a warning on
// stderr.
func TestSyncMemberRoleDefaultAndOrganizationAccessRoleOptIn(t *testing.T) {
	s, info := fixtureSim(t, "org-identity-center.yaml", awssim.Options{})
	members := []string{"222222222222", "333333333333", "444444444444"}
	lastUsed := func(role string) map[string]bool {
		used := map[string]bool{}
		s.Do(func(w *awssim.World) {
			for _, id := range members {
				used[id] = !w.Accounts[id].Roles[role].LastUsedDate.IsZero()
			}
		})
		return used
	}

	file := filepath.Join(t.TempDir(), "org.c1z")
	_, stderr, err := runSync(t, info, file, "--orgs")
	if err != nil {
		t.Fatalf("sync: %v\n%s", err, stderr)
	}
	if strings.Contains(stderr, "OrganizationAccountAccessRole") {
		t.Errorf("the default sync mentions OrganizationAccountAccessRole:\n%s", stderr)
	}
	for id, used := range lastUsed(awsperms.OrganizationAccessRole) {
		if used {
			t.Errorf("the default sync assumed OrganizationAccountAccessRole in %s", id)
		}
	}
	for id, used := range lastUsed(awsperms.DefaultMemberRoleName) {
		if !used {
			t.Errorf("the default sync did not assume GatehouseMember in %s", id)
		}
	}

	_, stderr, err = runSync(t, info, file, "--orgs", "--member-role-name", "OrganizationAccountAccessRole")
	if err != nil {
		t.Fatalf("sync with OrganizationAccountAccessRole: %v\n%s", err, stderr)
	}
	if !strings.Contains(stderr, awsperms.OrganizationAccessRoleWarning+"\n") ||
		!strings.HasPrefix(awsperms.OrganizationAccessRoleWarning, "warning: --member-role-name OrganizationAccountAccessRole has AdministratorAccess in every member account") {
		t.Errorf("stderr lacks the warning:\n%s", stderr)
	}
	for id, used := range lastUsed(awsperms.OrganizationAccessRole) {
		if !used {
			t.Errorf("the opted-in sync did not assume OrganizationAccountAccessRole in %s", id)
		}
	}
}

// setup aws --orgs generates GatehouseMember by default; naming OrganizationAccountAccessRole
// is accepted as an opt-in that creates no member role and warns on stderr.
func TestSetupMemberRoleOptIn(t *testing.T) {
	dir := t.TempDir()
	args := []string{"setup", "aws", "--orgs", "--org-id", "o-exampleorg1", "--trusted-principal", "arn:aws:iam::111111111111:user/op", "--state-dir", filepath.Join(dir, "state")}
	stdout, stderr, err := runGatehouseEnv(t, noAWSEnv(t), args...)
	if err != nil || strings.Contains(stderr, "warning: --member-role-name") || !strings.Contains(stdout, `"member_role": {`) ||
		!strings.Contains(stdout, `"Resource": "arn:aws:iam::*:role/GatehouseMember"`) {
		t.Errorf("setup aws --orgs: err %v, stderr %q, stdout:\n%s", err, stderr, stdout)
	}
	stdout, stderr, err = runGatehouseEnv(t, noAWSEnv(t), append(args, "--member-role-name", "OrganizationAccountAccessRole")...)
	if err != nil || !strings.Contains(stderr, awsperms.OrganizationAccessRoleWarning) || strings.Contains(stdout, `"member_role": {`) ||
		!strings.Contains(stdout, `"Resource": "arn:aws:iam::*:role/OrganizationAccountAccessRole"`) {
		t.Errorf("setup aws --orgs --member-role-name OrganizationAccountAccessRole: err %v, stderr %q, stdout:\n%s", err, stderr, stdout)
	}
}

// doctor with the opt-in enters the accounts, and says that it works only because the
// role is administrator: a warning with the fix, and the warning on stderr.
func TestDoctorWarnsAboutOrganizationAccessRole(t *testing.T) {
	_, info := fixtureSim(t, "org-identity-center.yaml", awssim.Options{})
	stdout, stderr, err := runDoctor(t, info, "--role-arn", info.RoleARN, "--external-id", info.ExternalID, "--orgs", "--member-role-name", "OrganizationAccountAccessRole")
	if err != nil {
		t.Fatalf("doctor: %v\n%s\n%s", err, stdout, stderr)
	}
	wantLines(t, stdout,
		"WARN  Member accounts     entered all 3 member accounts with OrganizationAccountAccessRole, which has AdministratorAccess in each",
		"      fix: create the read-only member role (gatehouse setup aws --orgs generates a StackSet that creates GatehouseMember in every account) and leave --member-role-name out",
	)
	if !strings.Contains(stderr, awsperms.OrganizationAccessRoleWarning) {
		t.Errorf("stderr lacks the warning:\n%s", stderr)
	}
	stdout, stderr, err = runDoctor(t, info, "--role-arn", info.RoleARN, "--external-id", info.ExternalID, "--orgs")
	if err != nil || strings.Contains(stdout, "WARN  Member accounts") || strings.Contains(stderr, "OrganizationAccountAccessRole") {
		t.Errorf("doctor with the default member role: %v\n%s\n%s", err, stdout, stderr)
	}
}
