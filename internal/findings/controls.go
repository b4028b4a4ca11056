package findings

// Control is one control Gatehouse judges: its CIS AWS Foundations Benchmark number in
// v3.0.0 and v4.0.0 (which number the IAM section alike) and in v5.0.0, or a "gh." id for
// Gatehouse's own; its title; and the fix a finding that fails it names.
type Control struct {
	ID    string
	CISv5 string
	Title string
	Fix   string
}

// The controls, in the benchmark's order. The numbers were checked against the
// benchmark's v3.0.0, v4.0.0 and v5.0.0 IAM sections: v5.0.0 dropped "security questions
// are registered" (v3/v4 1.3), so every later IAM control moved up by one.
var (
	RootAccessKeys = Control{ID: "1.4", CISv5: "1.3", Title: "No root user access key exists",
		Fix: "Sign in as the root user, open Security credentials and delete its access keys; use IAM roles for automation."}
	RootMFA = Control{ID: "1.5", CISv5: "1.4", Title: "MFA is enabled for the root user",
		Fix: "Sign in as the root user and assign an MFA device under Security credentials (IAM > Dashboard > Add MFA for root user)."}
	RootHardwareMFA = Control{ID: "1.6", CISv5: "1.5", Title: "Hardware MFA is enabled for the root user",
		Fix: "Sign in as the root user and assign a hardware TOTP token or a FIDO security key (removing the virtual MFA device, if any)."}
	RootUse = Control{ID: "1.7", CISv5: "1.6", Title: "The root user is not used for administrative and daily tasks",
		Fix: "Find out who used the root user and why (CloudTrail); change its password, delete its access keys and use IAM roles or Identity Center for daily work."}
	PasswordLength = Control{ID: "1.8", CISv5: "1.7", Title: "IAM password policy requires a minimum length of 14 or greater",
		Fix: "aws iam update-account-password-policy --minimum-password-length 14 (with the other settings you keep: an update replaces the whole policy)."}
	PasswordReuse = Control{ID: "1.9", CISv5: "1.8", Title: "IAM password policy prevents password reuse (24 remembered)",
		Fix: "aws iam update-account-password-policy --password-reuse-prevention 24 (with the other settings you keep: an update replaces the whole policy)."}
	UserMFA = Control{ID: "1.10", CISv5: "1.9", Title: "MFA is enabled for every IAM user with a console password",
		Fix: "Assign an MFA device to the user (IAM > Users > Security credentials > Assign MFA device), or remove its console password."}
	SetupKeys = Control{ID: "1.11", CISv5: "1.10", Title: "No access keys are set up at user creation for IAM users with a console password",
		Fix: "Delete the access key that was never used: aws iam delete-access-key --user-name USER --access-key-id KEY."}
	UnusedCredentials = Control{ID: "1.12", CISv5: "1.11", Title: "Credentials unused for 45 days or more are disabled",
		Fix: "Remove the console password (aws iam delete-login-profile) and deactivate or delete the access keys not used in 45 days (aws iam update-access-key --status Inactive)."}
	OneActiveKey = Control{ID: "1.13", CISv5: "1.12", Title: "Only one active access key per IAM user",
		Fix: "Keep the key in use, then deactivate and delete the other: aws iam update-access-key --status Inactive, then aws iam delete-access-key."}
	KeyRotation = Control{ID: "1.14", CISv5: "1.13", Title: "Access keys are rotated every 90 days or less",
		Fix: "Create a new key, move its users to it, then deactivate and delete the old key."}
	GroupsOnly = Control{ID: "1.15", CISv5: "1.14", Title: "IAM users receive permissions only through groups",
		Fix: "Put the user in a group that has the policy, then detach the policy from the user (aws iam detach-user-policy) and delete its inline policies (aws iam delete-user-policy)."}
	FullAdminPolicy = Control{ID: "1.16", CISv5: "1.15", Title: `No attached IAM policy allows full "*:*" administrative privileges`,
		Fix: "Detach the policy from every user, group and role (aws iam list-entities-for-policy, then detach-*-policy) and grant least privilege instead."}
	SupportRole = Control{ID: "1.17", CISv5: "1.16", Title: "A support role exists to manage incidents with AWS Support",
		Fix: "Create a role for your incident responders and attach arn:aws:iam::aws:policy/AWSSupportAccess to it (aws iam attach-role-policy)."}

	StandingAdmin = Control{ID: "gh.standing_admin", Title: "Admin-level permission sets are held just in time, not standing",
		Fix: "Remove the standing account assignment (or the group membership that gives it) and let the person request the permission set through Gatehouse's just-in-time access."}
	DepartedAccess = Control{ID: "gh.departed_access", Title: "Disabled or departed people hold no access",
		Fix: "Remove the person's account assignments and group memberships (or the IAM user's console password, access keys and groups), or re-enable the person if they still work here."}
	SessionDuration = Control{ID: "gh.session_duration", Title: "Permission set sessions are no longer than the threshold",
		Fix: "Lower the permission set's session duration (Identity Center > Permission sets > Edit details), then reprovision it."}
	UnusedServices = Control{ID: "gh.unused_services", Title: "Users and roles use the services their policies grant",
		Fix: "Remove the unused services from the entity's policies (IAM > the user or role > Access Advisor shows the same data; IAM Access Analyzer can generate a policy from its activity), or delete the user or role if nothing uses it."}
	AccountSynced = Control{ID: "gh.account_synced", Title: "Every active account could be synced",
		Fix: "Follow the account's skip reason: deploy the member role (gatehouse setup aws --orgs), fix its trust policy or External ID, or lift the SCP that denies the reads; then sync again."}
)

// Controls lists every control in order.
var Controls = []Control{
	RootAccessKeys, RootMFA, RootHardwareMFA, RootUse, PasswordLength, PasswordReuse, UserMFA, SetupKeys,
	UnusedCredentials, OneActiveKey, KeyRotation, GroupsOnly, FullAdminPolicy, SupportRole,
	StandingAdmin, DepartedAccess, SessionDuration, UnusedServices, AccountSynced,
}

// ControlByID finds a control by its id ("1.10", "gh.standing_admin"); ok false when unknown.
func ControlByID(id string) (Control, bool) {
	for _, c := range Controls {
		if c.ID == id {
			return c, true
		}
	}
	return Control{}, false
}
