package awssim

import (
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
)

// ssoClock is a clock the tests move by hand, so that asynchronous assignment operations
// complete exactly when the test says.
type ssoClock struct {
	mu sync.Mutex
	t  time.Time
}

func newSSOClock() *ssoClock { return &ssoClock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *ssoClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *ssoClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// ssoFixture names what newSSOWorld creates: an organization whose management account
// 111111111111 runs Identity Center in us-east-1, member accounts 222222222222 (dev) and
// 333333333333 (prod), users alice and bob, group devs (alice), and permission sets Admin
// (AdministratorAccess, PT8H) and ReadOnly (ReadOnlyAccess, an inline policy, a customer
// managed policy reference and tags).
type ssoFixture struct {
	instanceARN, storeID string
	alice, bob, devs     string
	admin, readOnly      string
}

const ssoTestInline = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*"}]}`

func newSSOWorld(clock *ssoClock) (*World, ssoFixture) {
	w := NewWorld("111111111111", "us-east-1", clock.Now)
	w.EnableOrganization()
	w.AddConnectorAccess("ext-123", "")
	w.AddAccount("222222222222", "dev", "dev@example.com", "")
	w.AddAccount("333333333333", "prod", "prod@example.com", "")
	sso := w.EnableIdentityCenter("us-east-1")
	alice := w.AddSSOUser("alice", "Alice", "Archer", "alice@example.com")
	bob := w.AddSSOUser("bob", "Bob", "Baker", "bob@example.com")
	devs := w.AddSSOGroup("devs", "Developers")
	w.AddMembership(devs.ID, alice.ID)
	admin := w.AddPermissionSet("Admin", "Full access", "PT8H")
	admin.ManagedPolicies = []string{AWSManagedPolicyARN("AdministratorAccess")}
	ro := w.AddPermissionSet("ReadOnly", "Read only", "")
	ro.ManagedPolicies = []string{AWSManagedPolicyARN("ReadOnlyAccess")}
	ro.InlinePolicy = ssoTestInline
	ro.CustomerPolicies = []CustomerPolicyRef{{Name: "BoundaryPolicy", Path: "/platform/"}}
	ro.Tags = []Tag{{Key: "team", Value: "platform"}, {Key: "tier", Value: "gold"}}
	return w, ssoFixture{instanceARN: sso.ARN, storeID: sso.IdentityStoreID, alice: alice.ID, bob: bob.ID,
		devs: devs.ID, admin: admin.ARN, readOnly: ro.ARN}
}

// startSSO serves the world and returns an SSO Admin client signed by an administrator of
// the management account.
func startSSO(t *testing.T, w *World, opts Options) (*Sim, *ssoadmin.Client) {
	t.Helper()
	s, _ := startSim(t, w, opts)
	return s, ssoadmin.NewFromConfig(adminConfig(t, s, "111111111111"))
}

type ssoAssignmentRow struct{ Account, PermissionSet, Type, Principal string }

func ssoRows(in []types.AccountAssignment) []ssoAssignmentRow {
	out := []ssoAssignmentRow{}
	for _, a := range in {
		out = append(out, ssoAssignmentRow{aws.ToString(a.AccountId), aws.ToString(a.PermissionSetArn), string(a.PrincipalType), aws.ToString(a.PrincipalId)})
	}
	return out
}

func ssoPrincipalRows(in []types.AccountAssignmentForPrincipal) []ssoAssignmentRow {
	out := []ssoAssignmentRow{}
	for _, a := range in {
		out = append(out, ssoAssignmentRow{aws.ToString(a.AccountId), aws.ToString(a.PermissionSetArn), string(a.PrincipalType), aws.ToString(a.PrincipalId)})
	}
	return out
}

func ssoCreate(t *testing.T, c *ssoadmin.Client, f ssoFixture, account, psARN string, pt types.PrincipalType, principal string) *types.AccountAssignmentOperationStatus {
	t.Helper()
	out, err := c.CreateAccountAssignment(ctx(t), &ssoadmin.CreateAccountAssignmentInput{
		InstanceArn: aws.String(f.instanceARN), PermissionSetArn: aws.String(psARN), PrincipalId: aws.String(principal),
		PrincipalType: pt, TargetId: aws.String(account), TargetType: types.TargetTypeAwsAccount})
	if err != nil {
		t.Fatalf("CreateAccountAssignment(%s, %s): %v", account, principal, err)
	}
	return out.AccountAssignmentCreationStatus
}

func ssoDelete(t *testing.T, c *ssoadmin.Client, f ssoFixture, account, psARN string, pt types.PrincipalType, principal string) *types.AccountAssignmentOperationStatus {
	t.Helper()
	out, err := c.DeleteAccountAssignment(ctx(t), &ssoadmin.DeleteAccountAssignmentInput{
		InstanceArn: aws.String(f.instanceARN), PermissionSetArn: aws.String(psARN), PrincipalId: aws.String(principal),
		PrincipalType: pt, TargetId: aws.String(account), TargetType: types.TargetTypeAwsAccount})
	if err != nil {
		t.Fatalf("DeleteAccountAssignment(%s, %s): %v", account, principal, err)
	}
	return out.AccountAssignmentDeletionStatus
}

func ssoCreationStatus(t *testing.T, c *ssoadmin.Client, f ssoFixture, requestID *string) *types.AccountAssignmentOperationStatus {
	t.Helper()
	out, err := c.DescribeAccountAssignmentCreationStatus(ctx(t), &ssoadmin.DescribeAccountAssignmentCreationStatusInput{
		InstanceArn: aws.String(f.instanceARN), AccountAssignmentCreationRequestId: requestID})
	if err != nil {
		t.Fatal(err)
	}
	return out.AccountAssignmentCreationStatus
}

func ssoDeletionStatus(t *testing.T, c *ssoadmin.Client, f ssoFixture, requestID *string) *types.AccountAssignmentOperationStatus {
	t.Helper()
	out, err := c.DescribeAccountAssignmentDeletionStatus(ctx(t), &ssoadmin.DescribeAccountAssignmentDeletionStatusInput{
		InstanceArn: aws.String(f.instanceARN), AccountAssignmentDeletionRequestId: requestID})
	if err != nil {
		t.Fatal(err)
	}
	return out.AccountAssignmentDeletionStatus
}

func ssoListAssignments(t *testing.T, c *ssoadmin.Client, f ssoFixture, account, psARN string) []ssoAssignmentRow {
	t.Helper()
	out, err := c.ListAccountAssignments(ctx(t), &ssoadmin.ListAccountAssignmentsInput{
		InstanceArn: aws.String(f.instanceARN), AccountId: aws.String(account), PermissionSetArn: aws.String(psARN)})
	if err != nil {
		t.Fatal(err)
	}
	return ssoRows(out.AccountAssignments)
}

func ssoListForPrincipal(t *testing.T, c *ssoadmin.Client, f ssoFixture, pt types.PrincipalType, principal, account string) []ssoAssignmentRow {
	t.Helper()
	in := &ssoadmin.ListAccountAssignmentsForPrincipalInput{InstanceArn: aws.String(f.instanceARN), PrincipalId: aws.String(principal), PrincipalType: pt}
	if account != "" {
		in.Filter = &types.ListAccountAssignmentsFilter{AccountId: aws.String(account)}
	}
	out, err := c.ListAccountAssignmentsForPrincipal(ctx(t), in)
	if err != nil {
		t.Fatal(err)
	}
	return ssoPrincipalRows(out.AccountAssignments)
}

func ssoWantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := apiCode(err); got != code {
		t.Fatalf("%s: err = %v, want %s", what, err, code)
	}
}

func TestSSOAdminInstanceVisibleOnlyToAdministratorsInItsRegion(t *testing.T) {
	clock := newSSOClock()
	w, f := newSSOWorld(clock)
	s, connectorCfg := startSim(t, w, Options{Now: clock.Now})
	cfg := adminConfig(t, s, "111111111111")
	c := ssoadmin.NewFromConfig(cfg)

	out, err := c.ListInstances(ctx(t), &ssoadmin.ListInstancesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Instances) != 1 {
		t.Fatalf("ListInstances = %d instances, want 1", len(out.Instances))
	}
	in := out.Instances[0]
	if aws.ToString(in.InstanceArn) != f.instanceARN || aws.ToString(in.IdentityStoreId) != f.storeID ||
		aws.ToString(in.OwnerAccountId) != "111111111111" || in.Status != types.InstanceStatusActive ||
		!aws.ToTime(in.CreatedDate).Equal(clock.Now()) ||
		aws.ToString(in.IdentityStoreArn) != "arn:aws:identitystore::111111111111:identitystore/"+f.storeID {
		t.Errorf("ListInstances = %+v", in)
	}
	d, err := c.DescribeInstance(ctx(t), &ssoadmin.DescribeInstanceInput{InstanceArn: aws.String(f.instanceARN)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(d.IdentityStoreId) != f.storeID || d.Status != types.InstanceStatusActive {
		t.Errorf("DescribeInstance = %+v", d)
	}

	// Another region has no instance.
	euCfg := cfg.Copy()
	euCfg.Region = "eu-west-1"
	eu := ssoadmin.NewFromConfig(euCfg)
	if out, err := eu.ListInstances(ctx(t), &ssoadmin.ListInstancesInput{}); err != nil || len(out.Instances) != 0 {
		t.Errorf("ListInstances in eu-west-1 = %v, %v; want none", out, err)
	}
	_, err = eu.DescribeInstance(ctx(t), &ssoadmin.DescribeInstanceInput{InstanceArn: aws.String(f.instanceARN)})
	ssoWantCode(t, "DescribeInstance in eu-west-1", err, "ResourceNotFoundException")

	// A member account sees no instance and may not use it.
	member := ssoadmin.NewFromConfig(adminConfig(t, s, "222222222222"))
	if out, err := member.ListInstances(ctx(t), &ssoadmin.ListInstancesInput{}); err != nil || len(out.Instances) != 0 {
		t.Errorf("member ListInstances = %v, %v; want none", out, err)
	}
	_, err = member.ListPermissionSets(ctx(t), &ssoadmin.ListPermissionSetsInput{InstanceArn: aws.String(f.instanceARN)})
	ssoWantCode(t, "member ListPermissionSets", err, "AccessDeniedException")

	// A caller without sso:ListInstances is refused by its identity policy.
	_, err = ssoadmin.NewFromConfig(connectorCfg).ListInstances(ctx(t), &ssoadmin.ListInstancesInput{})
	ssoWantCode(t, "operator ListInstances", err, "AccessDeniedException")

	// A delegated administrator sees the instance and manages member accounts, but not the
	// management account.
	s.Do(func(w *World) { w.Org.DelegatedAdmins["333333333333"] = true })
	delegated := ssoadmin.NewFromConfig(adminConfig(t, s, "333333333333"))
	if out, err := delegated.ListInstances(ctx(t), &ssoadmin.ListInstancesInput{}); err != nil || len(out.Instances) != 1 {
		t.Fatalf("delegated ListInstances = %v, %v; want the instance", out, err)
	}
	if st := ssoCreate(t, delegated, f, "222222222222", f.admin, types.PrincipalTypeUser, f.bob); st.Status != types.StatusValuesInProgress {
		t.Errorf("delegated CreateAccountAssignment status = %s", st.Status)
	}
	_, err = delegated.CreateAccountAssignment(ctx(t), &ssoadmin.CreateAccountAssignmentInput{
		InstanceArn: aws.String(f.instanceARN), PermissionSetArn: aws.String(f.admin), PrincipalId: aws.String(f.bob),
		PrincipalType: types.PrincipalTypeUser, TargetId: aws.String("111111111111"), TargetType: types.TargetTypeAwsAccount})
	ssoWantCode(t, "delegated assignment to the management account", err, "AccessDeniedException")

	// ListAccountAssignmentsForPrincipal is for the management account only: a delegated
	// administrator is refused, and nobody may call it on an account instance.
	byPrincipal := &ssoadmin.ListAccountAssignmentsForPrincipalInput{InstanceArn: aws.String(f.instanceARN),
		PrincipalId: aws.String(f.bob), PrincipalType: types.PrincipalTypeUser}
	_, err = delegated.ListAccountAssignmentsForPrincipal(ctx(t), byPrincipal)
	ssoWantCode(t, "delegated ListAccountAssignmentsForPrincipal", err, "AccessDeniedException")
	if _, err := delegated.ListAccountAssignments(ctx(t), &ssoadmin.ListAccountAssignmentsInput{InstanceArn: aws.String(f.instanceARN),
		AccountId: aws.String("222222222222"), PermissionSetArn: aws.String(f.admin)}); err != nil {
		t.Errorf("delegated ListAccountAssignments: %v", err)
	}
	mgmt := ssoadmin.NewFromConfig(adminConfig(t, s, "111111111111"))
	if _, err := mgmt.ListAccountAssignmentsForPrincipal(ctx(t), byPrincipal); err != nil {
		t.Errorf("management ListAccountAssignmentsForPrincipal: %v", err)
	}
	s.Do(func(w *World) { w.SSO.OwnerAccountID, w.Org.DelegatedAdmins["333333333333"] = "333333333333", false })
	_, err = delegated.ListAccountAssignmentsForPrincipal(ctx(t), byPrincipal)
	ssoWantCode(t, "ListAccountAssignmentsForPrincipal on an account instance", err, "ValidationException")
}

func TestSSOAdminPermissionSets(t *testing.T) {
	clock := newSSOClock()
	w, f := newSSOWorld(clock)
	_, c := startSSO(t, w, Options{Now: clock.Now})
	inst := aws.String(f.instanceARN)

	created, err := c.CreatePermissionSet(ctx(t), &ssoadmin.CreatePermissionSetInput{
		InstanceArn: inst, Name: aws.String("Billing"), Description: aws.String("Billing access"),
		SessionDuration: aws.String("PT4H"), RelayState: aws.String("https://console.aws.amazon.com/billing/"),
		Tags: []types.Tag{{Key: aws.String("cost-center"), Value: aws.String("42")}}})
	if err != nil {
		t.Fatal(err)
	}
	billing := aws.ToString(created.PermissionSet.PermissionSetArn)
	d, err := c.DescribePermissionSet(ctx(t), &ssoadmin.DescribePermissionSetInput{InstanceArn: inst, PermissionSetArn: aws.String(billing)})
	if err != nil {
		t.Fatal(err)
	}
	ps := d.PermissionSet
	if got := fmt.Sprint(aws.ToString(ps.Name), "|", aws.ToString(ps.Description), "|", aws.ToString(ps.SessionDuration), "|",
		aws.ToString(ps.RelayState), "|", aws.ToTime(ps.CreatedDate).Equal(clock.Now())); got != "Billing|Billing access|PT4H|https://console.aws.amazon.com/billing/|true" {
		t.Errorf("DescribePermissionSet = %s", got)
	}
	_, err = c.CreatePermissionSet(ctx(t), &ssoadmin.CreatePermissionSetInput{InstanceArn: inst, Name: aws.String("Billing")})
	ssoWantCode(t, "duplicate permission set", err, "ConflictException")
	_, err = c.CreatePermissionSet(ctx(t), &ssoadmin.CreatePermissionSetInput{InstanceArn: inst, Name: aws.String("Long"), SessionDuration: aws.String("PT13H")})
	ssoWantCode(t, "13 hour session", err, "ValidationException")

	list, err := c.ListPermissionSets(ctx(t), &ssoadmin.ListPermissionSetsInput{InstanceArn: inst})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{f.admin, f.readOnly, billing}; !reflect.DeepEqual(list.PermissionSets, want) {
		t.Errorf("ListPermissionSets = %v, want %v", list.PermissionSets, want)
	}

	// Managed policies.
	ro := aws.String(AWSManagedPolicyARN("ReadOnlyAccess"))
	if _, err := c.AttachManagedPolicyToPermissionSet(ctx(t), &ssoadmin.AttachManagedPolicyToPermissionSetInput{
		InstanceArn: inst, PermissionSetArn: aws.String(billing), ManagedPolicyArn: ro}); err != nil {
		t.Fatal(err)
	}
	_, err = c.AttachManagedPolicyToPermissionSet(ctx(t), &ssoadmin.AttachManagedPolicyToPermissionSetInput{
		InstanceArn: inst, PermissionSetArn: aws.String(billing), ManagedPolicyArn: ro})
	ssoWantCode(t, "attaching twice", err, "ConflictException")
	_, err = c.AttachManagedPolicyToPermissionSet(ctx(t), &ssoadmin.AttachManagedPolicyToPermissionSetInput{
		InstanceArn: inst, PermissionSetArn: aws.String(billing), ManagedPolicyArn: aws.String("arn:aws:iam::aws:policy/NoSuchPolicy")})
	ssoWantCode(t, "attaching an unknown policy", err, "ResourceNotFoundException")
	mp, err := c.ListManagedPoliciesInPermissionSet(ctx(t), &ssoadmin.ListManagedPoliciesInPermissionSetInput{InstanceArn: inst, PermissionSetArn: aws.String(billing)})
	if err != nil {
		t.Fatal(err)
	}
	if len(mp.AttachedManagedPolicies) != 1 || aws.ToString(mp.AttachedManagedPolicies[0].Arn) != *ro || aws.ToString(mp.AttachedManagedPolicies[0].Name) != "ReadOnlyAccess" {
		t.Errorf("ListManagedPoliciesInPermissionSet = %+v", mp.AttachedManagedPolicies)
	}

	// Inline policy.
	got, err := c.GetInlinePolicyForPermissionSet(ctx(t), &ssoadmin.GetInlinePolicyForPermissionSetInput{InstanceArn: inst, PermissionSetArn: aws.String(f.readOnly)})
	if err != nil || aws.ToString(got.InlinePolicy) != ssoTestInline {
		t.Errorf("GetInlinePolicyForPermissionSet = %v, %v", aws.ToString(got.InlinePolicy), err)
	}
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"aws-portal:ViewBilling","Resource":"*"}]}`
	if _, err := c.PutInlinePolicyToPermissionSet(ctx(t), &ssoadmin.PutInlinePolicyToPermissionSetInput{
		InstanceArn: inst, PermissionSetArn: aws.String(billing), InlinePolicy: aws.String(doc)}); err != nil {
		t.Fatal(err)
	}
	got, err = c.GetInlinePolicyForPermissionSet(ctx(t), &ssoadmin.GetInlinePolicyForPermissionSetInput{InstanceArn: inst, PermissionSetArn: aws.String(billing)})
	if err != nil || aws.ToString(got.InlinePolicy) != doc {
		t.Errorf("GetInlinePolicyForPermissionSet after Put = %v, %v", aws.ToString(got.InlinePolicy), err)
	}
	_, err = c.PutInlinePolicyToPermissionSet(ctx(t), &ssoadmin.PutInlinePolicyToPermissionSetInput{
		InstanceArn: inst, PermissionSetArn: aws.String(billing), InlinePolicy: aws.String(`{"Statement":`)})
	ssoWantCode(t, "malformed inline policy", err, "ValidationException")

	// Customer managed policy references and tags.
	refs, err := c.ListCustomerManagedPolicyReferencesInPermissionSet(ctx(t), &ssoadmin.ListCustomerManagedPolicyReferencesInPermissionSetInput{InstanceArn: inst, PermissionSetArn: aws.String(f.readOnly)})
	if err != nil {
		t.Fatal(err)
	}
	if len(refs.CustomerManagedPolicyReferences) != 1 || aws.ToString(refs.CustomerManagedPolicyReferences[0].Name) != "BoundaryPolicy" ||
		aws.ToString(refs.CustomerManagedPolicyReferences[0].Path) != "/platform/" {
		t.Errorf("ListCustomerManagedPolicyReferencesInPermissionSet = %+v", refs.CustomerManagedPolicyReferences)
	}
	tags, err := c.ListTagsForResource(ctx(t), &ssoadmin.ListTagsForResourceInput{InstanceArn: inst, ResourceArn: aws.String(f.readOnly)})
	if err != nil {
		t.Fatal(err)
	}
	var tagList []string
	for _, tg := range tags.Tags {
		tagList = append(tagList, aws.ToString(tg.Key)+"="+aws.ToString(tg.Value))
	}
	if want := []string{"team=platform", "tier=gold"}; !reflect.DeepEqual(tagList, want) {
		t.Errorf("ListTagsForResource = %v, want %v", tagList, want)
	}
	_, err = c.DescribePermissionSet(ctx(t), &ssoadmin.DescribePermissionSetInput{InstanceArn: inst,
		PermissionSetArn: aws.String("arn:aws:sso:::permissionSet/" + f.instanceARN[len("arn:aws:sso:::instance/"):] + "/ps-0000000000000000")})
	ssoWantCode(t, "unknown permission set", err, "ResourceNotFoundException")
}

func TestSSOAdminAssignmentLifecycle(t *testing.T) {
	clock := newSSOClock()
	w, f := newSSOWorld(clock)
	s, c := startSSO(t, w, Options{Now: clock.Now, AssignmentDelay: 30 * time.Second})
	inst := aws.String(f.instanceARN)
	const dev = "222222222222"

	st := ssoCreate(t, c, f, dev, f.readOnly, types.PrincipalTypeUser, f.alice)
	want := ssoAssignmentRow{dev, f.readOnly, "USER", f.alice}
	if st.Status != types.StatusValuesInProgress || aws.ToString(st.TargetId) != dev || st.TargetType != types.TargetTypeAwsAccount ||
		aws.ToString(st.PermissionSetArn) != f.readOnly || st.PrincipalType != types.PrincipalTypeUser || aws.ToString(st.PrincipalId) != f.alice ||
		aws.ToString(st.RequestId) == "" || !aws.ToTime(st.CreatedDate).Equal(clock.Now()) {
		t.Fatalf("CreateAccountAssignment = %+v", st)
	}
	clock.Advance(29 * time.Second)
	if got := ssoCreationStatus(t, c, f, st.RequestId); got.Status != types.StatusValuesInProgress {
		t.Fatalf("status after 29s = %s, want IN_PROGRESS", got.Status)
	}
	if got := ssoListAssignments(t, c, f, dev, f.readOnly); len(got) != 0 {
		t.Fatalf("assignments while IN_PROGRESS = %v, want none", got)
	}
	clock.Advance(time.Second)
	if got := ssoCreationStatus(t, c, f, st.RequestId); got.Status != types.StatusValuesSucceeded || got.FailureReason != nil {
		t.Fatalf("status after 30s = %s (%s), want SUCCEEDED", got.Status, aws.ToString(got.FailureReason))
	}

	// The assignment is listed both ways.
	if got := ssoListAssignments(t, c, f, dev, f.readOnly); !reflect.DeepEqual(got, []ssoAssignmentRow{want}) {
		t.Errorf("ListAccountAssignments = %v, want %v", got, want)
	}
	if got := ssoListForPrincipal(t, c, f, types.PrincipalTypeUser, f.alice, ""); !reflect.DeepEqual(got, []ssoAssignmentRow{want}) {
		t.Errorf("ListAccountAssignmentsForPrincipal = %v, want %v", got, want)
	}
	if got := ssoListForPrincipal(t, c, f, types.PrincipalTypeUser, f.alice, "333333333333"); len(got) != 0 {
		t.Errorf("ListAccountAssignmentsForPrincipal filtered to prod = %v, want none", got)
	}
	if got := ssoListForPrincipal(t, c, f, types.PrincipalTypeGroup, f.devs, ""); len(got) != 0 {
		t.Errorf("the group's assignments = %v, want none (alice's are her own)", got)
	}

	// The permission set is provisioned: the reserved role exists in the account with its
	// policies and session duration.
	s.Do(func(w *World) {
		ps := w.SSO.PermissionSet(f.readOnly)
		r := w.Accounts[dev].Roles[ReservedSSORoleName("ReadOnly", f.readOnly)]
		if r == nil {
			t.Fatalf("no AWSReservedSSO_ReadOnly_ role in %s", dev)
		}
		if r.Path != "/aws-reserved/sso.amazonaws.com/us-east-1/" || !reflect.DeepEqual(r.AttachedPolicies, ps.ManagedPolicies) ||
			r.InlinePolicies[ssoInlinePolicyName] != ssoTestInline || r.MaxSessionDuration != 3600 {
			t.Errorf("reserved role = path %s, attached %v, inline %v, max session %d", r.Path, r.AttachedPolicies, r.InlinePolicies, r.MaxSessionDuration)
		}
	})
	prov, err := c.ListPermissionSetsProvisionedToAccount(ctx(t), &ssoadmin.ListPermissionSetsProvisionedToAccountInput{InstanceArn: inst, AccountId: aws.String(dev)})
	if err != nil || !reflect.DeepEqual(prov.PermissionSets, []string{f.readOnly}) {
		t.Errorf("ListPermissionSetsProvisionedToAccount = %v, %v", prov.PermissionSets, err)
	}
	accts, err := c.ListAccountsForProvisionedPermissionSet(ctx(t), &ssoadmin.ListAccountsForProvisionedPermissionSetInput{InstanceArn: inst, PermissionSetArn: aws.String(f.readOnly)})
	if err != nil || !reflect.DeepEqual(accts.AccountIds, []string{dev}) {
		t.Errorf("ListAccountsForProvisionedPermissionSet = %v, %v", accts.AccountIds, err)
	}

	// Creating it again succeeds without a second assignment.
	again := ssoCreate(t, c, f, dev, f.readOnly, types.PrincipalTypeUser, f.alice)
	clock.Advance(30 * time.Second)
	if got := ssoCreationStatus(t, c, f, again.RequestId); got.Status != types.StatusValuesSucceeded {
		t.Errorf("second creation = %s", got.Status)
	}
	if got := ssoListAssignments(t, c, f, dev, f.readOnly); len(got) != 1 {
		t.Errorf("assignments after creating twice = %v, want one", got)
	}
	creations, err := c.ListAccountAssignmentCreationStatus(ctx(t), &ssoadmin.ListAccountAssignmentCreationStatusInput{InstanceArn: inst})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range creations.AccountAssignmentsCreationStatus {
		ids = append(ids, aws.ToString(m.RequestId)+":"+string(m.Status))
	}
	if want := []string{aws.ToString(st.RequestId) + ":SUCCEEDED", aws.ToString(again.RequestId) + ":SUCCEEDED"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("ListAccountAssignmentCreationStatus = %v, want %v", ids, want)
	}

	// Deletion: a creation of the same tuple conflicts while it runs.
	del := ssoDelete(t, c, f, dev, f.readOnly, types.PrincipalTypeUser, f.alice)
	if del.Status != types.StatusValuesInProgress {
		t.Fatalf("DeleteAccountAssignment = %s", del.Status)
	}
	_, err = c.CreateAccountAssignment(ctx(t), &ssoadmin.CreateAccountAssignmentInput{InstanceArn: inst, PermissionSetArn: aws.String(f.readOnly),
		PrincipalId: aws.String(f.alice), PrincipalType: types.PrincipalTypeUser, TargetId: aws.String(dev), TargetType: types.TargetTypeAwsAccount})
	ssoWantCode(t, "creation during deletion", err, "ConflictException")
	inProgress, err := c.ListAccountAssignmentDeletionStatus(ctx(t), &ssoadmin.ListAccountAssignmentDeletionStatusInput{InstanceArn: inst,
		Filter: &types.OperationStatusFilter{Status: types.StatusValuesInProgress}})
	if err != nil || len(inProgress.AccountAssignmentsDeletionStatus) != 1 || aws.ToString(inProgress.AccountAssignmentsDeletionStatus[0].RequestId) != aws.ToString(del.RequestId) {
		t.Errorf("ListAccountAssignmentDeletionStatus IN_PROGRESS = %+v, %v", inProgress, err)
	}
	clock.Advance(30 * time.Second)
	if got := ssoDeletionStatus(t, c, f, del.RequestId); got.Status != types.StatusValuesSucceeded {
		t.Fatalf("deletion = %s", got.Status)
	}
	if got := ssoListAssignments(t, c, f, dev, f.readOnly); len(got) != 0 {
		t.Errorf("assignments after deletion = %v", got)
	}
	if got := ssoListForPrincipal(t, c, f, types.PrincipalTypeUser, f.alice, ""); len(got) != 0 {
		t.Errorf("alice's assignments after deletion = %v", got)
	}
	// Deleting an assignment that does not exist succeeds.
	missing := ssoDelete(t, c, f, dev, f.readOnly, types.PrincipalTypeUser, f.alice)
	clock.Advance(30 * time.Second)
	if got := ssoDeletionStatus(t, c, f, missing.RequestId); got.Status != types.StatusValuesSucceeded {
		t.Errorf("deleting a missing assignment = %s", got.Status)
	}
	_, err = c.DescribeAccountAssignmentCreationStatus(ctx(t), &ssoadmin.DescribeAccountAssignmentCreationStatusInput{InstanceArn: inst, AccountAssignmentCreationRequestId: del.RequestId})
	ssoWantCode(t, "a deletion's id as a creation", err, "ResourceNotFoundException")
}

func TestSSOAdminAssignmentFailures(t *testing.T) {
	clock := newSSOClock()
	w, f := newSSOWorld(clock)
	w.SSO.FailAssignments["333333333333"] = "Received a 409 status error: role quota exceeded"
	w.AddAccount("444444444444", "closed", "closed@example.com", "").Status = "SUSPENDED"
	s, c := startSSO(t, w, Options{Now: clock.Now}) // no delay: complete on the next call

	for _, tc := range []struct{ account, reason string }{
		{"333333333333", "Received a 409 status error: role quota exceeded"},
		{"444444444444", "Account 444444444444 is SUSPENDED and cannot be provisioned."},
		{"999999999999", "Account 999999999999 is not a member of the organization."},
	} {
		st := ssoCreate(t, c, f, tc.account, f.admin, types.PrincipalTypeGroup, f.devs)
		if st.Status != types.StatusValuesInProgress {
			t.Errorf("%s: CreateAccountAssignment = %s, want IN_PROGRESS even without a delay", tc.account, st.Status)
		}
		got := ssoCreationStatus(t, c, f, st.RequestId)
		if got.Status != types.StatusValuesFailed || aws.ToString(got.FailureReason) != tc.reason {
			t.Errorf("%s: status = %s (%q), want FAILED (%q)", tc.account, got.Status, aws.ToString(got.FailureReason), tc.reason)
		}
	}
	s.Do(func(w *World) {
		if len(w.SSO.Assignments) != 0 || w.Accounts["333333333333"].Roles[ReservedSSORoleName("Admin", f.admin)] != nil {
			t.Errorf("failed operations changed the world: %d assignments", len(w.SSO.Assignments))
		}
	})

	// Synchronous validation.
	base := ssoadmin.CreateAccountAssignmentInput{InstanceArn: aws.String(f.instanceARN), PermissionSetArn: aws.String(f.admin),
		PrincipalId: aws.String(f.alice), PrincipalType: types.PrincipalTypeUser, TargetId: aws.String("222222222222"), TargetType: types.TargetTypeAwsAccount}
	for _, tc := range []struct {
		name string
		edit func(in *ssoadmin.CreateAccountAssignmentInput)
		code string
	}{
		{"unknown user", func(in *ssoadmin.CreateAccountAssignmentInput) {
			in.PrincipalId = aws.String("0123456789-00000000-0000-4000-a000-000000000000")
		}, "ResourceNotFoundException"},
		{"user id as group", func(in *ssoadmin.CreateAccountAssignmentInput) { in.PrincipalType = types.PrincipalTypeGroup }, "ResourceNotFoundException"},
		{"principal type", func(in *ssoadmin.CreateAccountAssignmentInput) { in.PrincipalType = "ROLE" }, "ValidationException"},
		{"target type", func(in *ssoadmin.CreateAccountAssignmentInput) { in.TargetType = "OU" }, "ValidationException"},
		{"account id", func(in *ssoadmin.CreateAccountAssignmentInput) { in.TargetId = aws.String("dev") }, "ValidationException"},
		{"principal id", func(in *ssoadmin.CreateAccountAssignmentInput) { in.PrincipalId = aws.String("alice") }, "ValidationException"},
		{"permission set", func(in *ssoadmin.CreateAccountAssignmentInput) {
			in.PermissionSetArn = aws.String(f.admin[:len(f.admin)-16] + "ffffffffffffffff")
		}, "ResourceNotFoundException"},
		{"instance", func(in *ssoadmin.CreateAccountAssignmentInput) {
			in.InstanceArn = aws.String("arn:aws:sso:::instance/ssoins-ffffffffffffffff")
		}, "ResourceNotFoundException"},
	} {
		in := base
		tc.edit(&in)
		_, err := c.CreateAccountAssignment(ctx(t), &in)
		ssoWantCode(t, tc.name, err, tc.code)
	}
	s.Do(func(w *World) {
		if n := len(w.SSO.Operations); n != 3 {
			t.Errorf("rejected calls recorded operations: %d, want the 3 above", n)
		}
	})
}

func TestSSOAdminEleventhConcurrentCreationIsThrottled(t *testing.T) {
	clock := newSSOClock()
	w, f := newSSOWorld(clock)
	var users []string
	for i := 0; i < 11; i++ {
		users = append(users, w.AddSSOUser(fmt.Sprintf("user%02d", i), "User", fmt.Sprint(i), "").ID)
	}
	s, _ := startSim(t, w, Options{Now: clock.Now, AssignmentDelay: time.Minute})
	c := ssoadmin.NewFromConfig(adminConfig(t, s, "111111111111"), func(o *ssoadmin.Options) { o.RetryMaxAttempts = 1 })

	for _, u := range users[:10] {
		ssoCreate(t, c, f, "222222222222", f.admin, types.PrincipalTypeUser, u)
	}
	in := &ssoadmin.CreateAccountAssignmentInput{InstanceArn: aws.String(f.instanceARN), PermissionSetArn: aws.String(f.admin),
		PrincipalId: aws.String(users[10]), PrincipalType: types.PrincipalTypeUser, TargetId: aws.String("222222222222"), TargetType: types.TargetTypeAwsAccount}
	_, err := c.CreateAccountAssignment(ctx(t), in)
	ssoWantCode(t, "11th creation in progress", err, "ThrottlingException")
	// Deletions are not limited.
	ssoDelete(t, c, f, "333333333333", f.admin, types.PrincipalTypeUser, f.bob)

	clock.Advance(time.Minute)
	if st := ssoCreate(t, c, f, "222222222222", f.admin, types.PrincipalTypeUser, users[10]); st.Status != types.StatusValuesInProgress {
		t.Errorf("11th creation after the others completed = %s", st.Status)
	}
	clock.Advance(time.Minute)
	if got := ssoListAssignments(t, c, f, "222222222222", f.admin); len(got) != 11 {
		t.Errorf("assignments = %d, want 11", len(got))
	}
}

func TestSSOAdminProvisionPermissionSet(t *testing.T) {
	clock := newSSOClock()
	w, f := newSSOWorld(clock)
	w.AddAssignment("222222222222", f.readOnly, "GROUP", f.devs)
	s, c := startSSO(t, w, Options{Now: clock.Now})
	inst := aws.String(f.instanceARN)
	listFor := func(account string, status types.ProvisioningStatus) []string {
		out, err := c.ListPermissionSetsProvisionedToAccount(ctx(t), &ssoadmin.ListPermissionSetsProvisionedToAccountInput{
			InstanceArn: inst, AccountId: aws.String(account), ProvisioningStatus: status})
		if err != nil {
			t.Fatal(err)
		}
		return out.PermissionSets
	}
	if got := listFor("222222222222", types.ProvisioningStatusLatestPermissionSetProvisioned); !reflect.DeepEqual(got, []string{f.readOnly}) {
		t.Errorf("up-to-date permission sets = %v", got)
	}

	// Changing the permission set leaves the account's role behind until it is provisioned.
	ec2 := AWSManagedPolicyARN("AmazonEC2ReadOnlyAccess")
	if _, err := c.AttachManagedPolicyToPermissionSet(ctx(t), &ssoadmin.AttachManagedPolicyToPermissionSetInput{
		InstanceArn: inst, PermissionSetArn: aws.String(f.readOnly), ManagedPolicyArn: aws.String(ec2)}); err != nil {
		t.Fatal(err)
	}
	if got := listFor("222222222222", types.ProvisioningStatusLatestPermissionSetNotProvisioned); !reflect.DeepEqual(got, []string{f.readOnly}) {
		t.Errorf("outdated permission sets = %v", got)
	}
	out, err := c.ProvisionPermissionSet(ctx(t), &ssoadmin.ProvisionPermissionSetInput{InstanceArn: inst, PermissionSetArn: aws.String(f.readOnly),
		TargetType: types.ProvisionTargetTypeAllProvisionedAccounts})
	if err != nil {
		t.Fatal(err)
	}
	if out.PermissionSetProvisioningStatus.Status != types.StatusValuesInProgress {
		t.Errorf("ProvisionPermissionSet = %s, want IN_PROGRESS", out.PermissionSetProvisioningStatus.Status)
	}
	desc, err := c.DescribePermissionSetProvisioningStatus(ctx(t), &ssoadmin.DescribePermissionSetProvisioningStatusInput{
		InstanceArn: inst, ProvisionPermissionSetRequestId: out.PermissionSetProvisioningStatus.RequestId})
	if err != nil {
		t.Fatal(err)
	}
	if st := desc.PermissionSetProvisioningStatus; st.Status != types.StatusValuesSucceeded || aws.ToString(st.PermissionSetArn) != f.readOnly {
		t.Errorf("DescribePermissionSetProvisioningStatus = %+v", st)
	}
	if got := listFor("222222222222", types.ProvisioningStatusLatestPermissionSetNotProvisioned); len(got) != 0 {
		t.Errorf("outdated permission sets after provisioning = %v", got)
	}
	s.Do(func(w *World) {
		r := w.Accounts["222222222222"].Roles[ReservedSSORoleName("ReadOnly", f.readOnly)]
		if want := []string{AWSManagedPolicyARN("ReadOnlyAccess"), ec2}; r == nil || !reflect.DeepEqual(r.AttachedPolicies, want) {
			t.Errorf("role after provisioning = %+v, want policies %v", r, want)
		}
	})

	// Provisioning to one account creates the role there without an assignment.
	out, err = c.ProvisionPermissionSet(ctx(t), &ssoadmin.ProvisionPermissionSetInput{InstanceArn: inst, PermissionSetArn: aws.String(f.admin),
		TargetType: types.ProvisionTargetTypeAwsAccount, TargetId: aws.String("333333333333")})
	if err != nil {
		t.Fatal(err)
	}
	desc, err = c.DescribePermissionSetProvisioningStatus(ctx(t), &ssoadmin.DescribePermissionSetProvisioningStatusInput{
		InstanceArn: inst, ProvisionPermissionSetRequestId: out.PermissionSetProvisioningStatus.RequestId})
	if err != nil || desc.PermissionSetProvisioningStatus.Status != types.StatusValuesSucceeded || aws.ToString(desc.PermissionSetProvisioningStatus.AccountId) != "333333333333" {
		t.Errorf("provisioning Admin to prod = %+v, %v", desc.PermissionSetProvisioningStatus, err)
	}
	accts, err := c.ListAccountsForProvisionedPermissionSet(ctx(t), &ssoadmin.ListAccountsForProvisionedPermissionSetInput{InstanceArn: inst, PermissionSetArn: aws.String(f.admin)})
	if err != nil || !reflect.DeepEqual(accts.AccountIds, []string{"333333333333"}) {
		t.Errorf("accounts with Admin = %v, %v", accts.AccountIds, err)
	}
	s.Do(func(w *World) {
		if r := w.Accounts["333333333333"].Roles[ReservedSSORoleName("Admin", f.admin)]; r == nil || r.MaxSessionDuration != 8*3600 {
			t.Errorf("Admin role in prod = %+v", r)
		}
		w.Accounts["333333333333"].Status = "SUSPENDED"
	})
	out, err = c.ProvisionPermissionSet(ctx(t), &ssoadmin.ProvisionPermissionSetInput{InstanceArn: inst, PermissionSetArn: aws.String(f.admin),
		TargetType: types.ProvisionTargetTypeAwsAccount, TargetId: aws.String("333333333333")})
	if err != nil {
		t.Fatal(err)
	}
	desc, err = c.DescribePermissionSetProvisioningStatus(ctx(t), &ssoadmin.DescribePermissionSetProvisioningStatusInput{
		InstanceArn: inst, ProvisionPermissionSetRequestId: out.PermissionSetProvisioningStatus.RequestId})
	if err != nil || desc.PermissionSetProvisioningStatus.Status != types.StatusValuesFailed ||
		aws.ToString(desc.PermissionSetProvisioningStatus.FailureReason) != "Account 333333333333 is SUSPENDED and cannot be provisioned." {
		t.Errorf("provisioning to a suspended account = %+v, %v", desc.PermissionSetProvisioningStatus, err)
	}
}

// ssoPages calls next until more reports no further page and returns the number of pages.
func ssoPages(t *testing.T, more func() bool, next func() error) int {
	t.Helper()
	n := 0
	for more() {
		if err := next(); err != nil {
			t.Fatal(err)
		}
		n++
	}
	return n
}

func TestSSOAdminPaginationMatchesFullList(t *testing.T) {
	clock := newSSOClock()
	w, f := newSSOWorld(clock)
	for _, acct := range []string{"111111111111", "222222222222", "333333333333"} {
		w.AddAssignment(acct, f.admin, "GROUP", f.devs)
		w.AddAssignment(acct, f.admin, "USER", f.bob)
		w.AddAssignment(acct, f.readOnly, "USER", f.bob)
	}
	w.AddPermissionSet("Billing", "", "")
	w.SSO.PermissionSets[0].ManagedPolicies = append(w.SSO.PermissionSets[0].ManagedPolicies, AWSManagedPolicyARN("SecurityAudit"))
	w.SSO.PermissionSets[1].CustomerPolicies = append(w.SSO.PermissionSets[1].CustomerPolicies, CustomerPolicyRef{Name: "Other"})
	s, _ := startSim(t, w, Options{Now: clock.Now, PageSize: 1})
	c := ssoadmin.NewFromConfig(adminConfig(t, s, "111111111111"))
	// Two finished operations of each kind.
	for i := 0; i < 2; i++ {
		ssoCreate(t, c, f, "222222222222", f.readOnly, types.PrincipalTypeGroup, f.devs)
		ssoDelete(t, c, f, "333333333333", f.readOnly, types.PrincipalTypeGroup, f.devs)
	}
	inst := aws.String(f.instanceARN)
	bg := ctx(t)

	var (
		wantPS, wantAccounts []string
		wantBob              []ssoAssignmentRow
		wantManaged          []string
	)
	s.Do(func(w *World) {
		for _, ps := range w.SSO.PermissionSets {
			wantPS = append(wantPS, ps.ARN)
		}
		for _, a := range w.SSO.Assignments {
			if a.PrincipalID == f.bob {
				wantBob = append(wantBob, ssoAssignmentRow{a.AccountID, a.PermissionSetARN, a.PrincipalType, a.PrincipalID})
			}
		}
		wantManaged = w.SSO.PermissionSet(f.admin).ManagedPolicies
		wantAccounts = []string{"111111111111", "222222222222", "333333333333"}
	})
	check := func(name string, pages int, got, want any, wantLen int) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s paged = %v, want %v", name, got, want)
		}
		if pages != wantLen && !(wantLen == 0 && pages == 1) {
			t.Errorf("%s took %d pages, want %d (one item each)", name, pages, wantLen)
		}
	}

	var gotPS []string
	p1 := ssoadmin.NewListPermissionSetsPaginator(c, &ssoadmin.ListPermissionSetsInput{InstanceArn: inst})
	n := ssoPages(t, p1.HasMorePages, func() error {
		out, err := p1.NextPage(bg)
		if err == nil {
			gotPS = append(gotPS, out.PermissionSets...)
		}
		return err
	})
	check("ListPermissionSets", n, gotPS, wantPS, len(wantPS))

	var gotBob []ssoAssignmentRow
	p2 := ssoadmin.NewListAccountAssignmentsForPrincipalPaginator(c, &ssoadmin.ListAccountAssignmentsForPrincipalInput{
		InstanceArn: inst, PrincipalId: aws.String(f.bob), PrincipalType: types.PrincipalTypeUser})
	n = ssoPages(t, p2.HasMorePages, func() error {
		out, err := p2.NextPage(bg)
		if err == nil {
			gotBob = append(gotBob, ssoPrincipalRows(out.AccountAssignments)...)
		}
		return err
	})
	check("ListAccountAssignmentsForPrincipal", n, gotBob, wantBob, len(wantBob))

	var gotAdmin []ssoAssignmentRow
	p3 := ssoadmin.NewListAccountAssignmentsPaginator(c, &ssoadmin.ListAccountAssignmentsInput{
		InstanceArn: inst, AccountId: aws.String("222222222222"), PermissionSetArn: aws.String(f.admin)})
	n = ssoPages(t, p3.HasMorePages, func() error {
		out, err := p3.NextPage(bg)
		if err == nil {
			gotAdmin = append(gotAdmin, ssoRows(out.AccountAssignments)...)
		}
		return err
	})
	wantAdmin := []ssoAssignmentRow{{"222222222222", f.admin, "GROUP", f.devs}, {"222222222222", f.admin, "USER", f.bob}}
	check("ListAccountAssignments", n, gotAdmin, wantAdmin, 2)

	var gotAccounts []string
	p4 := ssoadmin.NewListAccountsForProvisionedPermissionSetPaginator(c, &ssoadmin.ListAccountsForProvisionedPermissionSetInput{InstanceArn: inst, PermissionSetArn: aws.String(f.admin)})
	n = ssoPages(t, p4.HasMorePages, func() error {
		out, err := p4.NextPage(bg)
		if err == nil {
			gotAccounts = append(gotAccounts, out.AccountIds...)
		}
		return err
	})
	check("ListAccountsForProvisionedPermissionSet", n, gotAccounts, wantAccounts, 3)

	var gotProvisioned []string
	p5 := ssoadmin.NewListPermissionSetsProvisionedToAccountPaginator(c, &ssoadmin.ListPermissionSetsProvisionedToAccountInput{InstanceArn: inst, AccountId: aws.String("333333333333")})
	n = ssoPages(t, p5.HasMorePages, func() error {
		out, err := p5.NextPage(bg)
		if err == nil {
			gotProvisioned = append(gotProvisioned, out.PermissionSets...)
		}
		return err
	})
	check("ListPermissionSetsProvisionedToAccount", n, gotProvisioned, []string{f.admin, f.readOnly}, 2)

	var gotManaged []string
	p6 := ssoadmin.NewListManagedPoliciesInPermissionSetPaginator(c, &ssoadmin.ListManagedPoliciesInPermissionSetInput{InstanceArn: inst, PermissionSetArn: aws.String(f.admin)})
	n = ssoPages(t, p6.HasMorePages, func() error {
		out, err := p6.NextPage(bg)
		if err != nil {
			return err
		}
		for _, m := range out.AttachedManagedPolicies {
			gotManaged = append(gotManaged, aws.ToString(m.Arn))
		}
		return err
	})
	check("ListManagedPoliciesInPermissionSet", n, gotManaged, wantManaged, 2)

	var gotRefs []string
	p7 := ssoadmin.NewListCustomerManagedPolicyReferencesInPermissionSetPaginator(c, &ssoadmin.ListCustomerManagedPolicyReferencesInPermissionSetInput{InstanceArn: inst, PermissionSetArn: aws.String(f.readOnly)})
	n = ssoPages(t, p7.HasMorePages, func() error {
		out, err := p7.NextPage(bg)
		if err != nil {
			return err
		}
		for _, r := range out.CustomerManagedPolicyReferences {
			gotRefs = append(gotRefs, aws.ToString(r.Path)+aws.ToString(r.Name))
		}
		return err
	})
	check("ListCustomerManagedPolicyReferencesInPermissionSet", n, gotRefs, []string{"/platform/BoundaryPolicy", "/Other"}, 2)

	var gotTags []string
	p8 := ssoadmin.NewListTagsForResourcePaginator(c, &ssoadmin.ListTagsForResourceInput{InstanceArn: inst, ResourceArn: aws.String(f.readOnly)})
	n = ssoPages(t, p8.HasMorePages, func() error {
		out, err := p8.NextPage(bg)
		if err != nil {
			return err
		}
		for _, tg := range out.Tags {
			gotTags = append(gotTags, aws.ToString(tg.Key))
		}
		return err
	})
	check("ListTagsForResource", n, gotTags, []string{"team", "tier"}, 2)

	for _, deletion := range []bool{false, true} {
		var got []string
		var pages int
		if deletion {
			p := ssoadmin.NewListAccountAssignmentDeletionStatusPaginator(c, &ssoadmin.ListAccountAssignmentDeletionStatusInput{InstanceArn: inst})
			pages = ssoPages(t, p.HasMorePages, func() error {
				out, err := p.NextPage(bg)
				if err != nil {
					return err
				}
				for _, m := range out.AccountAssignmentsDeletionStatus {
					got = append(got, string(m.Status))
				}
				return err
			})
		} else {
			p := ssoadmin.NewListAccountAssignmentCreationStatusPaginator(c, &ssoadmin.ListAccountAssignmentCreationStatusInput{InstanceArn: inst})
			pages = ssoPages(t, p.HasMorePages, func() error {
				out, err := p.NextPage(bg)
				if err != nil {
					return err
				}
				for _, m := range out.AccountAssignmentsCreationStatus {
					got = append(got, string(m.Status))
				}
				return err
			})
		}
		check(fmt.Sprintf("List*Status(deletion=%v)", deletion), pages, got, []string{"SUCCEEDED", "SUCCEEDED"}, 2)
	}

	var gotInstances []string
	p9 := ssoadmin.NewListInstancesPaginator(c, &ssoadmin.ListInstancesInput{})
	n = ssoPages(t, p9.HasMorePages, func() error {
		out, err := p9.NextPage(bg)
		if err != nil {
			return err
		}
		for _, in := range out.Instances {
			gotInstances = append(gotInstances, aws.ToString(in.InstanceArn))
		}
		return err
	})
	check("ListInstances", n, gotInstances, []string{f.instanceARN}, 1)

	// MaxResults beyond 100 and a forged token are refused.
	_, err := c.ListPermissionSets(bg, &ssoadmin.ListPermissionSetsInput{InstanceArn: inst, MaxResults: aws.Int32(101)})
	ssoWantCode(t, "MaxResults 101", err, "ValidationException")
	_, err = c.ListPermissionSets(bg, &ssoadmin.ListPermissionSetsInput{InstanceArn: inst, NextToken: aws.String("bm90LWEtdG9rZW4")})
	ssoWantCode(t, "forged NextToken", err, "ValidationException")
}
