package awssim

import (
	"sort"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func TestIAMAccessKeys(t *testing.T) {
	s, c := newIAMTest(t, Options{})
	iamOut(c.CreateUser(ctx(t), &iam.CreateUserInput{UserName: aws.String("bob")})).must(t)
	k1 := iamOut(c.CreateAccessKey(ctx(t), &iam.CreateAccessKeyInput{UserName: aws.String("bob")})).must(t).AccessKey
	if aws.ToString(k1.UserName) != "bob" || k1.Status != types.StatusTypeActive || len(aws.ToString(k1.SecretAccessKey)) != 40 || k1.CreateDate == nil {
		t.Fatalf("CreateAccessKey = %+v", k1)
	}
	k2 := iamOut(c.CreateAccessKey(ctx(t), &iam.CreateAccessKeyInput{UserName: aws.String("bob")})).must(t).AccessKey
	_, err := c.CreateAccessKey(ctx(t), &iam.CreateAccessKeyInput{UserName: aws.String("bob")})
	iamCode(t, err, "LimitExceeded")
	_, err = c.CreateAccessKey(ctx(t), &iam.CreateAccessKeyInput{UserName: aws.String("nobody")})
	iamCode(t, err, "NoSuchEntity")

	keys := iamOut(c.ListAccessKeys(ctx(t), &iam.ListAccessKeysInput{UserName: aws.String("bob")})).must(t).AccessKeyMetadata
	iamEqual(t, "bob's keys", iamStrs(keys, func(k types.AccessKeyMetadata) *string { return k.AccessKeyId }),
		[]string{aws.ToString(k1.AccessKeyId), aws.ToString(k2.AccessKeyId)})
	own := iamOut(c.ListAccessKeys(ctx(t), &iam.ListAccessKeysInput{})).must(t).AccessKeyMetadata
	iamEqual(t, "caller's keys", iamStrs(own, func(k types.AccessKeyMetadata) *string { return k.UserName }), []string{"test-admin"})

	// A key never used: no date, N/A for service and region.
	lastUsed := func(id *string) *iam.GetAccessKeyLastUsedOutput {
		return iamOut(c.GetAccessKeyLastUsed(ctx(t), &iam.GetAccessKeyLastUsedInput{AccessKeyId: id})).must(t)
	}
	lu := lastUsed(k1.AccessKeyId)
	if aws.ToString(lu.UserName) != "bob" || lu.AccessKeyLastUsed.LastUsedDate != nil ||
		aws.ToString(lu.AccessKeyLastUsed.ServiceName) != "N/A" || aws.ToString(lu.AccessKeyLastUsed.Region) != "N/A" {
		t.Errorf("GetAccessKeyLastUsed of an unused key = %+v %+v", lu, lu.AccessKeyLastUsed)
	}
	// Using it records date, service and region.
	bob := testConfig(s.URL(), "eu-west-1", aws.ToString(k1.AccessKeyId), aws.ToString(k1.SecretAccessKey), "")
	id := iamOut(sts.NewFromConfig(bob).GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{})).must(t)
	iamEqual(t, "bob's identity", aws.ToString(id.Arn), "arn:aws:iam::111111111111:user/bob")
	lu = lastUsed(k1.AccessKeyId)
	if lu.AccessKeyLastUsed.LastUsedDate == nil || aws.ToString(lu.AccessKeyLastUsed.ServiceName) != "sts" || aws.ToString(lu.AccessKeyLastUsed.Region) != "us-east-1" {
		t.Errorf("GetAccessKeyLastUsed after use = %+v", lu.AccessKeyLastUsed)
	}
	_, err = c.GetAccessKeyLastUsed(ctx(t), &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String("AKIAAAAAAAAAAAAAAAAA")})
	iamCode(t, err, "NoSuchEntity")

	// Deactivating a key stops it from signing.
	iamOut(c.UpdateAccessKey(ctx(t), &iam.UpdateAccessKeyInput{UserName: aws.String("bob"), AccessKeyId: k1.AccessKeyId, Status: types.StatusTypeInactive})).must(t)
	keys = iamOut(c.ListAccessKeys(ctx(t), &iam.ListAccessKeysInput{UserName: aws.String("bob")})).must(t).AccessKeyMetadata
	iamEqual(t, "status after UpdateAccessKey", keys[0].Status, types.StatusTypeInactive)
	_, err = sts.NewFromConfig(bob).GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{})
	iamCode(t, err, "InvalidClientTokenId")
	_, err = c.UpdateAccessKey(ctx(t), &iam.UpdateAccessKeyInput{UserName: aws.String("bob"), AccessKeyId: k1.AccessKeyId, Status: "Paused"})
	iamCode(t, err, "ValidationError")
	_, err = c.UpdateAccessKey(ctx(t), &iam.UpdateAccessKeyInput{UserName: aws.String("bob"), AccessKeyId: aws.String("AKIAAAAAAAAAAAAAAAAA"), Status: types.StatusTypeActive})
	iamCode(t, err, "NoSuchEntity")

	iamOut(c.DeleteAccessKey(ctx(t), &iam.DeleteAccessKeyInput{UserName: aws.String("bob"), AccessKeyId: k1.AccessKeyId})).must(t)
	keys = iamOut(c.ListAccessKeys(ctx(t), &iam.ListAccessKeysInput{UserName: aws.String("bob")})).must(t).AccessKeyMetadata
	iamEqual(t, "keys after delete", iamStrs(keys, func(k types.AccessKeyMetadata) *string { return k.AccessKeyId }), []string{aws.ToString(k2.AccessKeyId)})
	_, err = c.DeleteAccessKey(ctx(t), &iam.DeleteAccessKeyInput{UserName: aws.String("bob"), AccessKeyId: k1.AccessKeyId})
	iamCode(t, err, "NoSuchEntity")
}

func TestIAMMFADevices(t *testing.T) {
	s, c := newIAMTest(t, Options{})
	var bobVirtual, bobHardware, carolVirtual, adminVirtual string
	unassigned := "arn:aws:iam::111111111111:mfa/spare"
	s.Do(func(w *World) {
		a := w.Account(iamAccount)
		bob, carol := a.AddUser(w, "bob", "/"), a.AddUser(w, "carol", "/")
		bobVirtual = a.AddMFADevice(w, bob, true).Serial
		bobHardware = a.AddMFADevice(w, bob, false).Serial
		carolVirtual = a.AddMFADevice(w, carol, true).Serial
		adminVirtual = a.AddMFADevice(w, a.Users["test-admin"], true).Serial
		a.MFADevices[unassigned] = &MFADevice{Serial: unassigned, Virtual: true}
	})
	iamEqual(t, "bob's virtual serial", bobVirtual, "arn:aws:iam::111111111111:mfa/bob")

	devices := func(user *string) []string {
		out := iamOut(c.ListMFADevices(ctx(t), &iam.ListMFADevicesInput{UserName: user})).must(t)
		for _, d := range out.MFADevices {
			if d.EnableDate == nil {
				t.Errorf("device %s has no EnableDate", aws.ToString(d.SerialNumber))
			}
		}
		return iamStrs(out.MFADevices, func(d types.MFADevice) *string { return d.SerialNumber })
	}
	iamEqual(t, "bob's devices", devices(aws.String("bob")), iamSorted(bobVirtual, bobHardware))
	iamEqual(t, "caller's devices", devices(nil), []string{adminVirtual})
	_, err := c.ListMFADevices(ctx(t), &iam.ListMFADevicesInput{UserName: aws.String("nobody")})
	iamCode(t, err, "NoSuchEntity")

	virtual := func(status types.AssignmentStatusType) map[string]string {
		out := map[string]string{}
		for _, d := range iamOut(c.ListVirtualMFADevices(ctx(t), &iam.ListVirtualMFADevicesInput{AssignmentStatus: status})).must(t).VirtualMFADevices {
			user := ""
			if d.User != nil {
				user = aws.ToString(d.User.UserName)
				if d.EnableDate == nil || aws.ToString(d.User.Arn) == "" {
					t.Errorf("assigned device %s lacks EnableDate or user ARN", aws.ToString(d.SerialNumber))
				}
			}
			out[aws.ToString(d.SerialNumber)] = user
		}
		return out
	}
	assigned := map[string]string{bobVirtual: "bob", carolVirtual: "carol", adminVirtual: "test-admin"}
	iamEqual(t, "assigned virtual devices", virtual(types.AssignmentStatusTypeAssigned), assigned)
	iamEqual(t, "unassigned virtual devices", virtual(types.AssignmentStatusTypeUnassigned), map[string]string{unassigned: ""})
	assigned[unassigned] = ""
	iamEqual(t, "all virtual devices (no hardware)", virtual(""), assigned)
	_, err = c.ListVirtualMFADevices(ctx(t), &iam.ListVirtualMFADevicesInput{AssignmentStatus: "Sometimes"})
	iamCode(t, err, "ValidationError")

	iamOut(c.DeactivateMFADevice(ctx(t), &iam.DeactivateMFADeviceInput{UserName: aws.String("bob"), SerialNumber: aws.String(bobVirtual)})).must(t)
	iamEqual(t, "bob's devices after deactivation", devices(aws.String("bob")), []string{bobHardware})
	iamEqual(t, "unassigned after deactivation", virtual(types.AssignmentStatusTypeUnassigned), map[string]string{unassigned: "", bobVirtual: ""})
}

func iamSorted(s ...string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

func TestIAMAccountAliasesAndSummary(t *testing.T) {
	s, c := newIAMTest(t, Options{})
	aliases := func() []string {
		return append([]string{}, iamOut(c.ListAccountAliases(ctx(t), &iam.ListAccountAliasesInput{})).must(t).AccountAliases...)
	}
	iamEqual(t, "aliases of a new account", aliases(), []string{})
	_, err := c.CreateAccountAlias(ctx(t), &iam.CreateAccountAliasInput{AccountAlias: aws.String("Bad_Alias")})
	iamCode(t, err, "ValidationError")
	_, err = c.CreateAccountAlias(ctx(t), &iam.CreateAccountAliasInput{AccountAlias: aws.String("double--dash")})
	iamCode(t, err, "ValidationError")
	iamOut(c.CreateAccountAlias(ctx(t), &iam.CreateAccountAliasInput{AccountAlias: aws.String("acme-prod")})).must(t)
	iamEqual(t, "aliases", aliases(), []string{"acme-prod"})
	iamOut(c.CreateAccountAlias(ctx(t), &iam.CreateAccountAliasInput{AccountAlias: aws.String("acme-main")})).must(t)
	iamEqual(t, "aliases after a second alias (one per account)", aliases(), []string{"acme-main"})
	s.Do(func(w *World) {
		w.AddAccount("222222222222", "other", "other@example.com", "").Aliases = []string{"acme-other"}
	})
	_, err = c.CreateAccountAlias(ctx(t), &iam.CreateAccountAliasInput{AccountAlias: aws.String("acme-other")})
	iamCode(t, err, "EntityAlreadyExists")
	_, err = c.DeleteAccountAlias(ctx(t), &iam.DeleteAccountAliasInput{AccountAlias: aws.String("acme-prod")})
	iamCode(t, err, "NoSuchEntity")
	iamOut(c.DeleteAccountAlias(ctx(t), &iam.DeleteAccountAliasInput{AccountAlias: aws.String("acme-main")})).must(t)
	iamEqual(t, "aliases after delete", aliases(), []string{})

	iamOut(c.CreatePolicy(ctx(t), &iam.CreatePolicyInput{PolicyName: aws.String("p"), PolicyDocument: aws.String(iamReadS3Doc)})).must(t)
	iamOut(c.CreateGroup(ctx(t), &iam.CreateGroupInput{GroupName: aws.String("g")})).must(t)
	s.Do(func(w *World) {
		a := w.Account(iamAccount)
		a.AddMFADevice(w, a.Users["test-admin"], true)
		a.MFADevices["arn:aws:iam::111111111111:mfa/spare"] = &MFADevice{Serial: "arn:aws:iam::111111111111:mfa/spare", Virtual: true}
	})
	sum := iamOut(c.GetAccountSummary(ctx(t), &iam.GetAccountSummaryInput{})).must(t).SummaryMap
	want := map[string]int32{
		"Users": 2, "Groups": 1, "Roles": 1, "Policies": 1, "MFADevices": 2, "MFADevicesInUse": 1,
		"PolicyVersionsInUse": 2, // p's one version and the attached AdministratorAccess
		"UsersQuota":          5000, "GroupsQuota": 300, "RolesQuota": 1000, "PoliciesQuota": 1500,
		"AccessKeysPerUserQuota": 2, "GroupsPerUserQuota": 10, "AttachedPoliciesPerRoleQuota": 10,
		"VersionsPerPolicyQuota": 5, "AccountMFAEnabled": 0,
	}
	for k, v := range want {
		if got, ok := sum[k]; !ok || got != v {
			t.Errorf("SummaryMap[%s] = %d (present %v), want %d", k, got, ok, v)
		}
	}
}
