package review

import (
	"reflect"
	"testing"

	"github.com/gatehouse/gatehouse/internal/awsprovision"
)

// Every way access is held has its change: the assignment deleted (a user's or a group's
// own), the person removed from the group the access comes through (and the plan says it
// removes everything held through that group), a membership removed, a lease ended; a policy
// attached directly or an imported application's access is an owner task with the exact
// change.
func TestPlanRemediationPerKindOfAccess(t *testing.T) {
	const (
		prod    = "222222222222"
		psAdmin = "ps-aaaaaaaaaaaaaaaa"
		oncall  = "arn:aws:iam::222222222222:group/oncall"
		carol   = "arn:aws:iam::222222222222:user/carol"
	)
	base := Item{ID: "it-1", AccountID: prod, AccountName: "prod"}
	cases := []struct {
		name       string
		it         Item
		action     string
		desc, task string
		access     awsprovision.Access
		lease      string
	}{
		{name: "direct assignment of a user",
			it: Item{ResourceType: "account", ResourceID: prod, EntitlementID: "account:" + prod + ":" + psAdmin,
				EntitlementName: "AdministratorAccess on prod", PrincipalType: "sso_user", PrincipalID: "u-bob", Identity: "bob@example.com", Via: ViaDirect},
			action: ActionDeleteAssignment,
			desc:   "Delete the account assignment of AdministratorAccess on prod to the Identity Center user bob@example.com",
			access: awsprovision.AccountAssignment{AccountID: prod, PermissionSet: psAdmin, PrincipalType: awsprovision.PrincipalUser, PrincipalID: "u-bob"}},
		{name: "a group's own assignment",
			it: Item{ResourceType: "account", ResourceID: prod, EntitlementID: "account:" + prod + ":" + psAdmin,
				EntitlementName: "AdministratorAccess on prod", PrincipalType: "sso_group", PrincipalID: "g-admins", PrincipalName: "Admins", Via: ViaDirect},
			action: ActionDeleteAssignment,
			desc:   "Delete the account assignment of AdministratorAccess on prod to the Identity Center group Admins (everyone in Admins loses it)",
			access: awsprovision.AccountAssignment{AccountID: prod, PermissionSet: psAdmin, PrincipalType: awsprovision.PrincipalGroup, PrincipalID: "g-admins"}},
		{name: "assignment through an Identity Center group",
			it: Item{ResourceType: "account", ResourceID: prod, EntitlementID: "account:" + prod + ":" + psAdmin,
				EntitlementName: "AdministratorAccess on prod", PrincipalType: "sso_user", PrincipalID: "u-alice", Identity: "alice@example.com",
				Via: "sso_group:g-admins:member", ViaName: "Admins"},
			action: ActionRemoveSSOMember,
			desc:   "Remove alice@example.com from the Identity Center group Admins (this removes every access alice@example.com holds through Admins, not only AdministratorAccess on prod)",
			access: awsprovision.SSOGroupMembership{GroupID: "g-admins", UserID: "u-alice"}},
		{name: "Identity Center group membership",
			it: Item{ResourceType: "sso_group", ResourceID: "g-devs", ResourceName: "Developers", EntitlementID: "sso_group:g-devs:member",
				PrincipalType: "sso_user", PrincipalID: "u-bob", Identity: "bob@example.com", Via: ViaDirect, AccountID: ""},
			action: ActionRemoveSSOMember,
			desc:   "Remove bob@example.com from the Identity Center group Developers (this removes every access bob@example.com holds through it)",
			access: awsprovision.SSOGroupMembership{GroupID: "g-devs", UserID: "u-bob"}},
		{name: "IAM group membership",
			it: Item{ResourceType: "iam_group", ResourceID: oncall, ResourceName: "oncall", EntitlementID: "iam_group:" + oncall + ":member",
				PrincipalType: "iam_user", PrincipalID: carol, PrincipalName: "carol", Via: ViaDirect},
			action: ActionRemoveIAMMember,
			desc:   "Remove the IAM user carol from the IAM group oncall in account prod (222222222222) (this removes every access carol holds through it)",
			access: awsprovision.IAMGroupMembership{GroupARN: oncall, UserARN: carol}},
		{name: "policy through an IAM group",
			it: Item{ResourceType: "iam_policy", ResourceID: "arn:aws:iam::aws:policy/ReadOnlyAccess", ResourceName: "ReadOnlyAccess",
				EntitlementID: "iam_policy:arn:aws:iam::aws:policy/ReadOnlyAccess:attached", EntitlementName: "ReadOnlyAccess attached",
				PrincipalType: "iam_user", PrincipalID: carol, PrincipalName: "carol", Via: "iam_group:" + oncall + ":member", ViaName: "oncall"},
			action: ActionRemoveIAMMember,
			desc:   "Remove the IAM user carol from the IAM group oncall in account prod (222222222222) (this removes every access carol holds through oncall, not only ReadOnlyAccess attached)",
			access: awsprovision.IAMGroupMembership{GroupARN: oncall, UserARN: carol}},
		{name: "lease",
			it: Item{ResourceType: "account", ResourceID: prod, EntitlementID: "account:" + prod + ":" + psAdmin, EntitlementName: "AdministratorAccess on prod",
				PrincipalType: "sso_user", PrincipalID: "u-bob", Identity: "bob@example.com", Via: "lease:lease_abc"},
			action: ActionRevokeLease,
			desc:   "End the just-in-time lease lease_abc early: bob@example.com loses AdministratorAccess on prod (the lease's job removes the access in AWS)",
			lease:  "lease_abc"},
		{name: "managed policy attached directly",
			it: Item{ResourceType: "iam_policy", ResourceID: "arn:aws:iam::aws:policy/AdministratorAccess", ResourceName: "AdministratorAccess",
				EntitlementID: "iam_policy:arn:aws:iam::aws:policy/AdministratorAccess:attached", PrincipalType: "iam_user", PrincipalID: carol,
				PrincipalName: "carol", Via: ViaDirect},
			action: ActionOwnerTask,
			task:   "Detach the policy AdministratorAccess (arn:aws:iam::aws:policy/AdministratorAccess) from the IAM user carol (" + carol + ") in account prod (222222222222)"},
		{name: "inline policy of a role",
			it: Item{ResourceType: "iam_policy", ResourceID: "arn:aws:iam::222222222222:role/deploy/inline/s3-write", ResourceName: "s3-write (inline, role deploy)",
				EntitlementID: "iam_policy:arn:aws:iam::222222222222:role/deploy/inline/s3-write:attached", PrincipalType: "iam_role",
				PrincipalID: "arn:aws:iam::222222222222:role/deploy", PrincipalName: "deploy", Via: ViaDirect},
			action: ActionOwnerTask,
			task:   "Delete the inline policy s3-write of the IAM role deploy (arn:aws:iam::222222222222:role/deploy) in account prod (222222222222)"},
		{name: "imported application",
			it: Item{ConnectionID: "app_1", ResourceType: "app_resource", ResourceID: "app_1:group:billing", EntitlementID: "app_resource:app_1:group:billing:admin",
				EntitlementName: "admin on group Billing", ResourceName: "Billing", PrincipalType: "app_user", PrincipalID: "app_1:x1",
				PrincipalName: "Erin Lee", Identity: "erin@example.com", Via: ViaDirect, AccountID: "", Application: "Payroll"},
			action: ActionOwnerTask,
			task:   "Remove erin@example.com (user ID x1) from admin on group Billing in Payroll"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			it := c.it
			it.ID = base.ID
			if it.AccountID == "" && c.it.ResourceType != "sso_group" && c.it.ResourceType != "app_role" {
				it.AccountID, it.AccountName = base.AccountID, base.AccountName
			}
			rem := planRemediation(&it)
			if rem.Action != c.action {
				t.Fatalf("action %s, want %s", rem.Action, c.action)
			}
			if c.action == ActionOwnerTask {
				if rem.Task != c.task || rem.State != RemediationTaskOpen || rem.Description != "Gatehouse cannot make this change; the owner must: "+c.task {
					t.Fatalf("task\n got %q (%s)\nwant %q", rem.Task, rem.State, c.task)
				}
				if a, l, err := remediationAccess(&it); err == nil || a != nil || l != "" {
					t.Errorf("an owner task has something to revoke: %v %q %v", a, l, err)
				}
				return
			}
			if rem.Description != c.desc || rem.State != RemediationQueued {
				t.Fatalf("description\n got %q (%s)\nwant %q", rem.Description, rem.State, c.desc)
			}
			a, l, err := remediationAccess(&it)
			if err != nil || !reflect.DeepEqual(a, c.access) || l != c.lease {
				t.Fatalf("access %#v lease %q err %v, want %#v %q", a, l, err, c.access, c.lease)
			}
		})
	}
}
