package awssim

import (
	"context"
	"net/url"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// Helpers for the IAM tests.

const iamAccount = "111111111111"

// newIAMTest serves the test world and returns the simulator and an IAM client of an
// administrator of the management account.
func newIAMTest(t *testing.T, opts Options) (*Sim, *iam.Client) {
	t.Helper()
	s, _ := startSim(t, testWorld(t), opts)
	return s, iam.NewFromConfig(adminConfig(t, s, iamAccount))
}

// iamResult is the outcome of an SDK call: iamOut(c.Op(...)).must(t) fails the test on an
// error and returns the output.
type iamResult[T any] struct {
	out T
	err error
}

func iamOut[T any](out T, err error) iamResult[T] { return iamResult[T]{out, err} }

func (r iamResult[T]) must(t *testing.T) T {
	t.Helper()
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.out
}

// iamNoErr fails the test on an error.
func iamNoErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// iamCode fails unless err is the AWS error with the code.
func iamCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := apiCode(err); got != code {
		t.Fatalf("error code = %q (err %v), want %s", got, err, code)
	}
}

func iamEqual(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %#v, want %#v", what, got, want)
	}
}

// iamDecoded URL-decodes a policy document as IAM returns it.
func iamDecoded(t *testing.T, doc *string) string {
	t.Helper()
	s, err := url.QueryUnescape(aws.ToString(doc))
	if err != nil {
		t.Fatalf("document %q is not URL-encoded: %v", aws.ToString(doc), err)
	}
	return s
}

// iamStrs maps items to strings.
func iamStrs[T any](items []T, f func(T) *string) []string {
	out := []string{}
	for _, it := range items {
		out = append(out, aws.ToString(f(it)))
	}
	return out
}

func iamTags(kv ...string) []types.Tag {
	var out []types.Tag
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, types.Tag{Key: aws.String(kv[i]), Value: aws.String(kv[i+1])})
	}
	return out
}

func iamTagPairs(ts []types.Tag) []string {
	out := []string{}
	for _, t := range ts {
		out = append(out, aws.ToString(t.Key)+"="+aws.ToString(t.Value))
	}
	return out
}

// iamPager is what every SDK paginator offers.
type iamPager[O any] interface {
	HasMorePages() bool
	NextPage(context.Context, ...func(*iam.Options)) (O, error)
}

// drainIAM collects every item of a paginator and checks that no page holds more than
// perPage items and that there are as many pages as the page size requires.
func drainIAM[O, T any](t *testing.T, p iamPager[O], perPage int, items func(O) []T) []T {
	t.Helper()
	all := []T{}
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		got := items(out)
		if len(got) > perPage {
			t.Fatalf("page %d has %d items, want at most %d", pages+1, len(got), perPage)
		}
		all = append(all, got...)
		pages++
		if pages > 10000 {
			t.Fatal("paginator does not end")
		}
	}
	if want := max(1, (len(all)+perPage-1)/perPage); pages != want {
		t.Errorf("%d items came in %d pages, want %d", len(all), pages, want)
	}
	return all
}

// iamClock is a settable clock for Options.Now.
type iamClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *iamClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *iamClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

const (
	iamReadS3Doc = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::reports/*"}]}`
	iamEC2Trust  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
)

// Users.

func TestIAMUsers(t *testing.T) {
	s, c := newIAMTest(t, Options{})

	out := iamOut(c.CreateUser(ctx(t), &iam.CreateUserInput{UserName: aws.String("alice"), Path: aws.String("/eng/"), Tags: iamTags("team", "data", "cost-center", "42")})).must(t)
	iamEqual(t, "created ARN", aws.ToString(out.User.Arn), "arn:aws:iam::111111111111:user/eng/alice")
	iamEqual(t, "created iamTags", iamTagPairs(out.User.Tags), []string{"team=data", "cost-center=42"})

	_, err := c.CreateUser(ctx(t), &iam.CreateUserInput{UserName: aws.String("ALICE")})
	iamCode(t, err, "EntityAlreadyExists") // IAM names are unique regardless of case
	_, err = c.CreateUser(ctx(t), &iam.CreateUserInput{UserName: aws.String("bad name!")})
	iamCode(t, err, "ValidationError")
	_, err = c.CreateUser(ctx(t), &iam.CreateUserInput{UserName: aws.String("bob"), Path: aws.String("eng")})
	iamCode(t, err, "ValidationError")
	_, err = c.CreateUser(ctx(t), &iam.CreateUserInput{UserName: aws.String("bob"), Tags: iamTags("", "x")})
	iamCode(t, err, "ValidationError")
	_, err = c.GetUser(ctx(t), &iam.GetUserInput{UserName: aws.String("bob")})
	iamCode(t, err, "NoSuchEntity") // the failed creations left nothing behind

	got := iamOut(c.GetUser(ctx(t), &iam.GetUserInput{UserName: aws.String("alice")})).must(t)
	iamEqual(t, "GetUser path", aws.ToString(got.User.Path), "/eng/")
	iamEqual(t, "GetUser iamTags", iamTagPairs(got.User.Tags), []string{"team=data", "cost-center=42"})
	if got.User.PasswordLastUsed != nil {
		t.Errorf("PasswordLastUsed = %v for a user without a password", got.User.PasswordLastUsed)
	}
	self := iamOut(c.GetUser(ctx(t), &iam.GetUserInput{})).must(t)
	iamEqual(t, "GetUser without name", aws.ToString(self.User.UserName), "test-admin")

	listed := iamOut(c.ListUsers(ctx(t), &iam.ListUsersInput{PathPrefix: aws.String("/eng/")})).must(t)
	iamEqual(t, "ListUsers /eng/", iamStrs(listed.Users, func(u types.User) *string { return u.UserName }), []string{"alice"})
	all := iamOut(c.ListUsers(ctx(t), &iam.ListUsersInput{})).must(t)
	iamEqual(t, "ListUsers", iamStrs(all.Users, func(u types.User) *string { return u.UserName }), []string{"alice", "gatehouse-operator", "test-admin"})

	// Tags: TagUser adds and replaces, UntagUser removes.
	iamOut(c.TagUser(ctx(t), &iam.TagUserInput{UserName: aws.String("alice"), Tags: iamTags("team", "platform", "env", "prod")})).must(t)
	tl := iamOut(c.ListUserTags(ctx(t), &iam.ListUserTagsInput{UserName: aws.String("alice")})).must(t)
	iamEqual(t, "iamTags after TagUser", iamTagPairs(tl.Tags), []string{"team=platform", "cost-center=42", "env=prod"})
	iamOut(c.UntagUser(ctx(t), &iam.UntagUserInput{UserName: aws.String("alice"), TagKeys: []string{"cost-center"}})).must(t)
	tl = iamOut(c.ListUserTags(ctx(t), &iam.ListUserTagsInput{UserName: aws.String("alice")})).must(t)
	iamEqual(t, "iamTags after UntagUser", iamTagPairs(tl.Tags), []string{"team=platform", "env=prod"})
	_, err = c.ListUserTags(ctx(t), &iam.ListUserTagsInput{UserName: aws.String("nobody")})
	iamCode(t, err, "NoSuchEntity")
	var many []string
	for i := 0; i < 49; i++ {
		many = append(many, "k"+string(rune('A'+i%26))+string(rune('a'+i/26)), "v")
	}
	_, err = c.TagUser(ctx(t), &iam.TagUserInput{UserName: aws.String("alice"), Tags: iamTags(many...)})
	iamCode(t, err, "LimitExceeded") // 2 + 49 > 50

	// Login profile.
	_, err = c.GetLoginProfile(ctx(t), &iam.GetLoginProfileInput{UserName: aws.String("alice")})
	iamCode(t, err, "NoSuchEntity")
	_, err = c.CreateLoginProfile(ctx(t), &iam.CreateLoginProfileInput{UserName: aws.String("alice"), Password: aws.String("short")})
	iamCode(t, err, "PasswordPolicyViolation")
	lp := iamOut(c.CreateLoginProfile(ctx(t), &iam.CreateLoginProfileInput{UserName: aws.String("alice"), Password: aws.String("correct horse battery"), PasswordResetRequired: true})).must(t)
	iamEqual(t, "login profile user", aws.ToString(lp.LoginProfile.UserName), "alice")
	gl := iamOut(c.GetLoginProfile(ctx(t), &iam.GetLoginProfileInput{UserName: aws.String("alice")})).must(t)
	if !gl.LoginProfile.PasswordResetRequired || gl.LoginProfile.CreateDate == nil {
		t.Errorf("GetLoginProfile = %+v", gl.LoginProfile)
	}
	_, err = c.CreateLoginProfile(ctx(t), &iam.CreateLoginProfileInput{UserName: aws.String("alice"), Password: aws.String("another password")})
	iamCode(t, err, "EntityAlreadyExists")

	// DeleteUser refuses while anything hangs off the user; each step removes one thing.
	del := func() error {
		_, err := c.DeleteUser(ctx(t), &iam.DeleteUserInput{UserName: aws.String("alice")})
		return err
	}
	iamCode(t, del(), "DeleteConflict")
	iamOut(c.DeleteLoginProfile(ctx(t), &iam.DeleteLoginProfileInput{UserName: aws.String("alice")})).must(t)

	key := iamOut(c.CreateAccessKey(ctx(t), &iam.CreateAccessKeyInput{UserName: aws.String("alice")})).must(t)
	iamCode(t, del(), "DeleteConflict")
	iamOut(c.DeleteAccessKey(ctx(t), &iam.DeleteAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: key.AccessKey.AccessKeyId})).must(t)

	var serial string
	s.Do(func(w *World) { a := w.Account(iamAccount); serial = a.AddMFADevice(w, a.Users["alice"], true).Serial })
	iamCode(t, del(), "DeleteConflict")
	iamOut(c.DeactivateMFADevice(ctx(t), &iam.DeactivateMFADeviceInput{UserName: aws.String("alice"), SerialNumber: aws.String(serial)})).must(t)

	iamOut(c.PutUserPolicy(ctx(t), &iam.PutUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("reports"), PolicyDocument: aws.String(iamReadS3Doc)})).must(t)
	iamCode(t, del(), "DeleteConflict")
	iamOut(c.DeleteUserPolicy(ctx(t), &iam.DeleteUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("reports")})).must(t)

	ro := AWSManagedPolicyARN("ReadOnlyAccess")
	iamOut(c.AttachUserPolicy(ctx(t), &iam.AttachUserPolicyInput{UserName: aws.String("alice"), PolicyArn: aws.String(ro)})).must(t)
	iamCode(t, del(), "DeleteConflict")
	iamOut(c.DetachUserPolicy(ctx(t), &iam.DetachUserPolicyInput{UserName: aws.String("alice"), PolicyArn: aws.String(ro)})).must(t)

	iamOut(c.CreateGroup(ctx(t), &iam.CreateGroupInput{GroupName: aws.String("data")})).must(t)
	iamOut(c.AddUserToGroup(ctx(t), &iam.AddUserToGroupInput{GroupName: aws.String("data"), UserName: aws.String("alice")})).must(t)
	iamCode(t, del(), "DeleteConflict")
	iamOut(c.RemoveUserFromGroup(ctx(t), &iam.RemoveUserFromGroupInput{GroupName: aws.String("data"), UserName: aws.String("alice")})).must(t)

	if err := del(); err != nil {
		t.Fatalf("DeleteUser of a bare user: %v", err)
	}
	_, err = c.GetUser(ctx(t), &iam.GetUserInput{UserName: aws.String("alice")})
	iamCode(t, err, "NoSuchEntity")
	iamCode(t, del(), "NoSuchEntity")
}

// Groups and membership.

func TestIAMGroupsAndMembership(t *testing.T) {
	_, c := newIAMTest(t, Options{PageSize: 1})
	g := iamOut(c.CreateGroup(ctx(t), &iam.CreateGroupInput{GroupName: aws.String("devs"), Path: aws.String("/teams/")})).must(t)
	iamEqual(t, "group ARN", aws.ToString(g.Group.Arn), "arn:aws:iam::111111111111:group/teams/devs")
	iamOut(c.CreateGroup(ctx(t), &iam.CreateGroupInput{GroupName: aws.String("ops")})).must(t)
	_, err := c.CreateGroup(ctx(t), &iam.CreateGroupInput{GroupName: aws.String("Devs")})
	iamCode(t, err, "EntityAlreadyExists")
	for _, u := range []string{"u1", "u2", "u3"} {
		iamOut(c.CreateUser(ctx(t), &iam.CreateUserInput{UserName: aws.String(u)})).must(t)
	}
	add := func(group, user string) error {
		_, err := c.AddUserToGroup(ctx(t), &iam.AddUserToGroupInput{GroupName: aws.String(group), UserName: aws.String(user)})
		return err
	}
	for _, u := range []string{"u3", "u1", "u2", "u1"} { // adding u1 twice is fine, as in AWS
		if err := add("devs", u); err != nil {
			t.Fatal(err)
		}
	}
	iamNoErr(t, add("ops", "u1"))
	iamCode(t, add("devs", "nobody"), "NoSuchEntity")
	iamCode(t, add("nogroup", "u1"), "NoSuchEntity")

	members := func(group string) []string {
		return iamStrs(drainIAM(t, iam.NewGetGroupPaginator(c, &iam.GetGroupInput{GroupName: aws.String(group)}), 1,
			func(o *iam.GetGroupOutput) []types.User { return o.Users }), func(u types.User) *string { return u.UserName })
	}
	iamEqual(t, "devs members (in the order they joined)", members("devs"), []string{"u3", "u1", "u2"})
	first := iamOut(c.GetGroup(ctx(t), &iam.GetGroupInput{GroupName: aws.String("devs")})).must(t)
	iamEqual(t, "GetGroup group ARN", aws.ToString(first.Group.Arn), "arn:aws:iam::111111111111:group/teams/devs")

	groupsOf := func(user string) []string {
		return iamStrs(drainIAM(t, iam.NewListGroupsForUserPaginator(c, &iam.ListGroupsForUserInput{UserName: aws.String(user)}), 1,
			func(o *iam.ListGroupsForUserOutput) []types.Group { return o.Groups }), func(g types.Group) *string { return g.GroupName })
	}
	iamEqual(t, "groups of u1", groupsOf("u1"), []string{"devs", "ops"})
	iamEqual(t, "groups of u2", groupsOf("u2"), []string{"devs"})
	_, err = c.ListGroupsForUser(ctx(t), &iam.ListGroupsForUserInput{UserName: aws.String("nobody")})
	iamCode(t, err, "NoSuchEntity")

	listGroups := func(prefix *string) []string {
		return iamStrs(drainIAM(t, iam.NewListGroupsPaginator(c, &iam.ListGroupsInput{PathPrefix: prefix}), 1,
			func(o *iam.ListGroupsOutput) []types.Group { return o.Groups }), func(g types.Group) *string { return g.GroupName })
	}
	iamEqual(t, "ListGroups", listGroups(nil), []string{"devs", "ops"})
	iamEqual(t, "ListGroups /teams/", listGroups(aws.String("/teams/")), []string{"devs"})

	remove := func(group, user string) error {
		_, err := c.RemoveUserFromGroup(ctx(t), &iam.RemoveUserFromGroupInput{GroupName: aws.String(group), UserName: aws.String(user)})
		return err
	}
	if err := remove("ops", "u3"); err != nil { // not a member: AWS answers success
		t.Fatalf("RemoveUserFromGroup of a non-member: %v", err)
	}
	iamCode(t, remove("nogroup", "u1"), "NoSuchEntity")
	iamCode(t, remove("devs", "nobody"), "NoSuchEntity")
	iamNoErr(t, remove("devs", "u1"))
	iamEqual(t, "devs members after removing u1", members("devs"), []string{"u3", "u2"})
	iamEqual(t, "groups of u1 after removal", groupsOf("u1"), []string{"ops"})

	// A user may be in at most 10 groups.
	for i := 0; i < 9; i++ {
		name := "extra" + string(rune('a'+i))
		iamOut(c.CreateGroup(ctx(t), &iam.CreateGroupInput{GroupName: aws.String(name)})).must(t)
		iamNoErr(t, add(name, "u1"))
	}
	iamOut(c.CreateGroup(ctx(t), &iam.CreateGroupInput{GroupName: aws.String("one-too-many")})).must(t)
	iamCode(t, add("one-too-many", "u1"), "LimitExceeded")

	// DeleteGroup needs the group empty and without policies.
	delGroup := func(name string) error {
		_, err := c.DeleteGroup(ctx(t), &iam.DeleteGroupInput{GroupName: aws.String(name)})
		return err
	}
	iamCode(t, delGroup("devs"), "DeleteConflict")
	iamNoErr(t, remove("devs", "u2"))
	iamNoErr(t, remove("devs", "u3"))
	iamOut(c.AttachGroupPolicy(ctx(t), &iam.AttachGroupPolicyInput{GroupName: aws.String("devs"), PolicyArn: aws.String(AWSManagedPolicyARN("ReadOnlyAccess"))})).must(t)
	iamCode(t, delGroup("devs"), "DeleteConflict")
	iamOut(c.DetachGroupPolicy(ctx(t), &iam.DetachGroupPolicyInput{GroupName: aws.String("devs"), PolicyArn: aws.String(AWSManagedPolicyARN("ReadOnlyAccess"))})).must(t)
	iamOut(c.PutGroupPolicy(ctx(t), &iam.PutGroupPolicyInput{GroupName: aws.String("devs"), PolicyName: aws.String("reports"), PolicyDocument: aws.String(iamReadS3Doc)})).must(t)
	iamCode(t, delGroup("devs"), "DeleteConflict")
	iamOut(c.DeleteGroupPolicy(ctx(t), &iam.DeleteGroupPolicyInput{GroupName: aws.String("devs"), PolicyName: aws.String("reports")})).must(t)
	iamNoErr(t, delGroup("devs"))
	_, err = c.GetGroup(ctx(t), &iam.GetGroupInput{GroupName: aws.String("devs")})
	iamCode(t, err, "NoSuchEntity")
	iamEqual(t, "groups of u2 after the group is gone", groupsOf("u2"), []string{})
}

// Roles.

func TestIAMRoles(t *testing.T) {
	s, c := newIAMTest(t, Options{})
	ssoPath := "/aws-reserved/sso.amazonaws.com/"
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111111111111:saml-provider/AWSSSO_0123456789abcdef_DO_NOT_DELETE"},"Action":["sts:AssumeRoleWithSAML","sts:TagSession"],"Condition":{"StringEquals":{"SAML:aud":"https://signin.aws.amazon.com/saml"}}}]}`
	name := "AWSReservedSSO_Admin_0123456789abcdef"
	created := iamOut(c.CreateRole(ctx(t), &iam.CreateRoleInput{RoleName: aws.String(name), Path: aws.String(ssoPath),
		AssumeRolePolicyDocument: aws.String(trust), Description: aws.String("admin via SSO"),
		MaxSessionDuration: aws.Int32(43200), Tags: iamTags("owner", "sso")})).must(t)
	iamEqual(t, "role ARN", aws.ToString(created.Role.Arn), "arn:aws:iam::111111111111:role/aws-reserved/sso.amazonaws.com/"+name)
	iamEqual(t, "created trust policy", iamDecoded(t, created.Role.AssumeRolePolicyDocument), trust)

	got := iamOut(c.GetRole(ctx(t), &iam.GetRoleInput{RoleName: aws.String(name)})).must(t).Role
	iamEqual(t, "GetRole trust policy", iamDecoded(t, got.AssumeRolePolicyDocument), trust)
	iamEqual(t, "GetRole path", aws.ToString(got.Path), ssoPath)
	iamEqual(t, "GetRole description", aws.ToString(got.Description), "admin via SSO")
	iamEqual(t, "GetRole MaxSessionDuration", aws.ToInt32(got.MaxSessionDuration), int32(43200))
	iamEqual(t, "GetRole iamTags", iamTagPairs(got.Tags), []string{"owner=sso"})
	if got.RoleLastUsed == nil || got.RoleLastUsed.LastUsedDate != nil {
		t.Errorf("RoleLastUsed of an unused role = %+v, want present and empty", got.RoleLastUsed)
	}

	create := func(name, doc string, maxSession int32) error {
		in := &iam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(doc)}
		if maxSession > 0 {
			in.MaxSessionDuration = aws.Int32(maxSession)
		}
		_, err := c.CreateRole(ctx(t), in)
		return err
	}
	iamCode(t, create(name, iamEC2Trust, 0), "EntityAlreadyExists")
	iamCode(t, create("broken", `{"Version":"2012-10-17","Statement":[`, 0), "MalformedPolicyDocument")
	iamCode(t, create("broken", iamReadS3Doc, 0), "MalformedPolicyDocument") // no principal
	iamCode(t, create("broken", iamEC2Trust, 100), "ValidationError")
	_, err := c.GetRole(ctx(t), &iam.GetRoleInput{RoleName: aws.String("broken")})
	iamCode(t, err, "NoSuchEntity")

	iamNoErr(t, create("app", iamEC2Trust, 0))
	app := iamOut(c.GetRole(ctx(t), &iam.GetRoleInput{RoleName: aws.String("app")})).must(t).Role
	iamEqual(t, "default MaxSessionDuration", aws.ToInt32(app.MaxSessionDuration), int32(3600))

	reserved := iamOut(c.ListRoles(ctx(t), &iam.ListRolesInput{PathPrefix: aws.String("/aws-reserved/")})).must(t)
	iamEqual(t, "ListRoles /aws-reserved/", iamStrs(reserved.Roles, func(r types.Role) *string { return r.RoleName }), []string{name})
	all := iamOut(c.ListRoles(ctx(t), &iam.ListRolesInput{})).must(t)
	iamEqual(t, "ListRoles", iamStrs(all.Roles, func(r types.Role) *string { return r.RoleName }), []string{name, "GatehouseConnector", "app"})
	iamEqual(t, "ListRoles trust policy", iamDecoded(t, all.Roles[0].AssumeRolePolicyDocument), trust)
	rt := iamOut(c.ListRoleTags(ctx(t), &iam.ListRoleTagsInput{RoleName: aws.String(name)})).must(t)
	iamEqual(t, "ListRoleTags", iamTagPairs(rt.Tags), []string{"owner=sso"})
	iamOut(c.TagRole(ctx(t), &iam.TagRoleInput{RoleName: aws.String("app"), Tags: iamTags("env", "prod")})).must(t)
	rt = iamOut(c.ListRoleTags(ctx(t), &iam.ListRoleTagsInput{RoleName: aws.String("app")})).must(t)
	iamEqual(t, "ListRoleTags after TagRole", iamTagPairs(rt.Tags), []string{"env=prod"})

	// UpdateAssumeRolePolicy replaces the trust policy, and leaves it alone when malformed.
	newTrust := TrustPolicy("arn:aws:iam::111111111111:user/gatehouse-operator", "")
	iamOut(c.UpdateAssumeRolePolicy(ctx(t), &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("app"), PolicyDocument: aws.String(newTrust)})).must(t)
	_, err = c.UpdateAssumeRolePolicy(ctx(t), &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("app"), PolicyDocument: aws.String("not json")})
	iamCode(t, err, "MalformedPolicyDocument")
	app = iamOut(c.GetRole(ctx(t), &iam.GetRoleInput{RoleName: aws.String("app")})).must(t).Role
	iamEqual(t, "trust policy after update", iamDecoded(t, app.AssumeRolePolicyDocument), newTrust)

	// Assuming a role records its last use.
	var op aws.Config
	s.Do(func(w *World) {
		op = testConfig(s.URL(), w.Region, w.Connector.AccessKeyID, w.Connector.SecretAccessKey, "")
	})
	iamOut(sts.NewFromConfig(op).AssumeRole(ctx(t), &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::111111111111:role/app"), RoleSessionName: aws.String("test")})).must(t)
	app = iamOut(c.GetRole(ctx(t), &iam.GetRoleInput{RoleName: aws.String("app")})).must(t).Role
	if app.RoleLastUsed == nil || app.RoleLastUsed.LastUsedDate == nil || aws.ToString(app.RoleLastUsed.Region) != "us-east-1" {
		t.Errorf("RoleLastUsed after AssumeRole = %+v", app.RoleLastUsed)
	}

	// DeleteRole needs the policies gone first.
	delRole := func() error {
		_, err := c.DeleteRole(ctx(t), &iam.DeleteRoleInput{RoleName: aws.String("app")})
		return err
	}
	iamOut(c.PutRolePolicy(ctx(t), &iam.PutRolePolicyInput{RoleName: aws.String("app"), PolicyName: aws.String("reports"), PolicyDocument: aws.String(iamReadS3Doc)})).must(t)
	iamCode(t, delRole(), "DeleteConflict")
	iamOut(c.DeleteRolePolicy(ctx(t), &iam.DeleteRolePolicyInput{RoleName: aws.String("app"), PolicyName: aws.String("reports")})).must(t)
	iamOut(c.AttachRolePolicy(ctx(t), &iam.AttachRolePolicyInput{RoleName: aws.String("app"), PolicyArn: aws.String(AWSManagedPolicyARN("ReadOnlyAccess"))})).must(t)
	iamCode(t, delRole(), "DeleteConflict")
	iamOut(c.DetachRolePolicy(ctx(t), &iam.DetachRolePolicyInput{RoleName: aws.String("app"), PolicyArn: aws.String(AWSManagedPolicyARN("ReadOnlyAccess"))})).must(t)
	iamNoErr(t, delRole())
	_, err = c.GetRole(ctx(t), &iam.GetRoleInput{RoleName: aws.String("app")})
	iamCode(t, err, "NoSuchEntity")
}

// A permission scoped to the Identity Center role path allows creating roles there and
// nowhere else: the resource of CreateRole includes the requested path.
func TestIAMCreateRoleIsAuthorizedOnItsPath(t *testing.T) {
	s, _ := startSim(t, testWorld(t), Options{})
	var cfg aws.Config
	s.Do(func(w *World) {
		a := w.Account(iamAccount)
		u := a.AddUser(w, "sso-provisioner", "/")
		u.InlinePolicies["sso-roles"] = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:CreateRole","iam:AttachRolePolicy","iam:PutRolePolicy"],"Resource":"arn:aws:iam::*:role/aws-reserved/sso.amazonaws.com/*"}]}`
		k := a.AddAccessKey(w, u)
		cfg = testConfig(s.URL(), w.Region, k.ID, k.Secret, "")
	})
	c := iam.NewFromConfig(cfg)
	iamOut(c.CreateRole(ctx(t), &iam.CreateRoleInput{RoleName: aws.String("AWSReservedSSO_Dev_00000000000000aa"),
		Path: aws.String("/aws-reserved/sso.amazonaws.com/"), AssumeRolePolicyDocument: aws.String(iamEC2Trust)})).must(t)
	iamOut(c.AttachRolePolicy(ctx(t), &iam.AttachRolePolicyInput{RoleName: aws.String("AWSReservedSSO_Dev_00000000000000aa"),
		PolicyArn: aws.String(AWSManagedPolicyARN("ReadOnlyAccess"))})).must(t)
	_, err := c.CreateRole(ctx(t), &iam.CreateRoleInput{RoleName: aws.String("Elsewhere"), AssumeRolePolicyDocument: aws.String(iamEC2Trust)})
	iamCode(t, err, "AccessDenied")
	_, err = c.AttachRolePolicy(ctx(t), &iam.AttachRolePolicyInput{RoleName: aws.String("GatehouseConnector"), PolicyArn: aws.String(AWSManagedPolicyARN("AdministratorAccess"))})
	iamCode(t, err, "AccessDenied")
}

// The read-only connector role may read IAM but not change it.
func TestIAMConnectorRoleIsReadOnly(t *testing.T) {
	s, cfg := startSim(t, testWorld(t), Options{})
	var roleARN string
	s.Do(func(w *World) { roleARN = w.Connector.RoleARN })
	assumed := cfg.Copy()
	assumed.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), roleARN, func(o *stscreds.AssumeRoleOptions) {
		o.ExternalID = aws.String("ext-123")
	}))
	c := iam.NewFromConfig(assumed)
	iamOut(c.ListRoles(ctx(t), &iam.ListRolesInput{})).must(t)
	_, err := c.CreateUser(ctx(t), &iam.CreateUserInput{UserName: aws.String("intruder")})
	iamCode(t, err, "AccessDenied")
	// A role session has no user of its own to default to.
	_, err = c.ListAccessKeys(ctx(t), &iam.ListAccessKeysInput{})
	iamCode(t, err, "ValidationError")
}
