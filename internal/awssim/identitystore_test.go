package awssim

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	"github.com/aws/aws-sdk-go-v2/service/identitystore/document"
	"github.com/aws/aws-sdk-go-v2/service/identitystore/types"
)

// startIdentityStore serves the Identity Center test world and returns an Identity Store
// client signed by an administrator of the management account.
func startIdentityStore(t *testing.T, opts Options) (*Sim, *identitystore.Client, ssoFixture) {
	t.Helper()
	clock := newSSOClock()
	w, f := newSSOWorld(clock)
	opts.Now = clock.Now
	s, _ := startSim(t, w, opts)
	return s, identitystore.NewFromConfig(adminConfig(t, s, "111111111111")), f
}

// idsUserLine renders the attributes of a user the simulator models.
func idsUserLine(u types.User) string {
	var given, family string
	if u.Name != nil {
		given, family = aws.ToString(u.Name.GivenName), aws.ToString(u.Name.FamilyName)
	}
	var emails, ext string
	for _, e := range u.Emails {
		emails += fmt.Sprintf("%s(%s,primary=%v)", aws.ToString(e.Value), aws.ToString(e.Type), e.Primary)
	}
	for _, x := range u.ExternalIds {
		ext += aws.ToString(x.Issuer) + ":" + aws.ToString(x.Id)
	}
	return fmt.Sprintf("%s|%s|%s|%s %s|%s|%s|%s|%s", aws.ToString(u.UserId), aws.ToString(u.UserName), aws.ToString(u.DisplayName),
		given, family, emails, ext, u.UserStatus, aws.ToString(u.IdentityStoreId))
}

func idsUserID(t *testing.T, c *identitystore.Client, storeID string, alt types.AlternateIdentifier) (string, error) {
	t.Helper()
	out, err := c.GetUserId(ctx(t), &identitystore.GetUserIdInput{IdentityStoreId: aws.String(storeID), AlternateIdentifier: alt})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.UserId), nil
}

func idsUniqueAttr(path, value string) types.AlternateIdentifier {
	return &types.AlternateIdentifierMemberUniqueAttribute{Value: types.UniqueAttribute{
		AttributePath: aws.String(path), AttributeValue: document.NewLazyDocument(value)}}
}

func TestIdentityStoreUsers(t *testing.T) {
	s, c, f := startIdentityStore(t, Options{})
	store := aws.String(f.storeID)
	s.Do(func(w *World) {
		w.SSO.SSOUser(f.bob).ExternalID = "00u-okta-bob"
		w.SSO.SSOUser(f.bob).Active = false
	})

	out, err := c.ListUsers(ctx(t), &identitystore.ListUsersInput{IdentityStoreId: store})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, u := range out.Users {
		got = append(got, idsUserLine(u))
	}
	want := []string{
		f.alice + "|alice|Alice Archer|Alice Archer|alice@example.com(work,primary=true)||ENABLED|" + f.storeID,
		f.bob + "|bob|Bob Baker|Bob Baker|bob@example.com(work,primary=true)|SCIM:00u-okta-bob|DISABLED|" + f.storeID,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ListUsers =\n%v\nwant\n%v", got, want)
	}
	filtered, err := c.ListUsers(ctx(t), &identitystore.ListUsersInput{IdentityStoreId: store,
		Filters: []types.Filter{{AttributePath: aws.String("UserName"), AttributeValue: aws.String("bob")}}})
	if err != nil || len(filtered.Users) != 1 || aws.ToString(filtered.Users[0].UserId) != f.bob {
		t.Errorf("ListUsers UserName=bob = %+v, %v", filtered, err)
	}
	_, err = c.ListUsers(ctx(t), &identitystore.ListUsersInput{IdentityStoreId: store,
		Filters: []types.Filter{{AttributePath: aws.String("Title"), AttributeValue: aws.String("CEO")}}})
	ssoWantCode(t, "filter on Title", err, "ValidationException")

	d, err := c.DescribeUser(ctx(t), &identitystore.DescribeUserInput{IdentityStoreId: store, UserId: aws.String(f.alice)})
	if err != nil {
		t.Fatal(err)
	}
	if got := idsUserLine(types.User{UserId: d.UserId, UserName: d.UserName, DisplayName: d.DisplayName, Name: d.Name, Emails: d.Emails,
		ExternalIds: d.ExternalIds, UserStatus: d.UserStatus, IdentityStoreId: d.IdentityStoreId}); got != want[0] {
		t.Errorf("DescribeUser = %s, want %s", got, want[0])
	}
	_, err = c.DescribeUser(ctx(t), &identitystore.DescribeUserInput{IdentityStoreId: store, UserId: aws.String("0123456789-00000000-0000-4000-a000-000000000000")})
	ssoWantCode(t, "DescribeUser of an unknown id", err, "ResourceNotFoundException")

	created, err := c.CreateUser(ctx(t), &identitystore.CreateUserInput{IdentityStoreId: store, UserName: aws.String("carol"),
		DisplayName: aws.String("Carol C."), Name: &types.Name{GivenName: aws.String("Carol"), FamilyName: aws.String("Cooper")},
		Emails: []types.Email{{Value: aws.String("c@old.example.com")}, {Value: aws.String("carol@example.com"), Primary: true}}})
	if err != nil {
		t.Fatal(err)
	}
	carol := aws.ToString(created.UserId)
	if aws.ToString(created.IdentityStoreId) != f.storeID || carol == "" {
		t.Errorf("CreateUser = %+v", created)
	}
	d, err = c.DescribeUser(ctx(t), &identitystore.DescribeUserInput{IdentityStoreId: store, UserId: aws.String(carol)})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := idsUserLine(types.User{UserId: d.UserId, UserName: d.UserName, DisplayName: d.DisplayName, Name: d.Name, Emails: d.Emails, UserStatus: d.UserStatus, IdentityStoreId: d.IdentityStoreId}),
		carol+"|carol|Carol C.|Carol Cooper|carol@example.com(work,primary=true)||ENABLED|"+f.storeID; got != want {
		t.Errorf("created user = %s, want %s", got, want)
	}
	_, err = c.CreateUser(ctx(t), &identitystore.CreateUserInput{IdentityStoreId: store, UserName: aws.String("CAROL"), DisplayName: aws.String("Dup")})
	ssoWantCode(t, "duplicate user name", err, "ConflictException")

	for _, tc := range []struct {
		name string
		alt  types.AlternateIdentifier
		want string
	}{
		{"userName", idsUniqueAttr("userName", "carol"), carol},
		{"emails.value", idsUniqueAttr("emails.value", "alice@example.com"), f.alice},
		{"external id", &types.AlternateIdentifierMemberExternalId{Value: types.ExternalId{Issuer: aws.String("SCIM"), Id: aws.String("00u-okta-bob")}}, f.bob},
	} {
		if got, err := idsUserID(t, c, f.storeID, tc.alt); err != nil || got != tc.want {
			t.Errorf("GetUserId by %s = %s, %v; want %s", tc.name, got, err, tc.want)
		}
	}
	_, err = idsUserID(t, c, f.storeID, idsUniqueAttr("userName", "nobody"))
	ssoWantCode(t, "GetUserId of nobody", err, "ResourceNotFoundException")
	_, err = idsUserID(t, c, f.storeID, idsUniqueAttr("title", "CEO"))
	ssoWantCode(t, "GetUserId by title", err, "ValidationException")
}

func TestIdentityStoreGroups(t *testing.T) {
	_, c, f := startIdentityStore(t, Options{})
	store := aws.String(f.storeID)

	created, err := c.CreateGroup(ctx(t), &identitystore.CreateGroupInput{IdentityStoreId: store, DisplayName: aws.String("ops"), Description: aws.String("Operations")})
	if err != nil {
		t.Fatal(err)
	}
	ops := aws.ToString(created.GroupId)
	_, err = c.CreateGroup(ctx(t), &identitystore.CreateGroupInput{IdentityStoreId: store, DisplayName: aws.String("OPS")})
	ssoWantCode(t, "duplicate group", err, "ConflictException")

	out, err := c.ListGroups(ctx(t), &identitystore.ListGroupsInput{IdentityStoreId: store})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, g := range out.Groups {
		got = append(got, aws.ToString(g.GroupId)+"|"+aws.ToString(g.DisplayName)+"|"+aws.ToString(g.Description)+"|"+aws.ToString(g.IdentityStoreId))
	}
	if want := []string{f.devs + "|devs|Developers|" + f.storeID, ops + "|ops|Operations|" + f.storeID}; !reflect.DeepEqual(got, want) {
		t.Errorf("ListGroups = %v, want %v", got, want)
	}
	filtered, err := c.ListGroups(ctx(t), &identitystore.ListGroupsInput{IdentityStoreId: store,
		Filters: []types.Filter{{AttributePath: aws.String("DisplayName"), AttributeValue: aws.String("devs")}}})
	if err != nil || len(filtered.Groups) != 1 || aws.ToString(filtered.Groups[0].GroupId) != f.devs {
		t.Errorf("ListGroups DisplayName=devs = %+v, %v", filtered, err)
	}
	d, err := c.DescribeGroup(ctx(t), &identitystore.DescribeGroupInput{IdentityStoreId: store, GroupId: aws.String(ops)})
	if err != nil || aws.ToString(d.DisplayName) != "ops" || aws.ToString(d.Description) != "Operations" {
		t.Errorf("DescribeGroup = %+v, %v", d, err)
	}
	id, err := c.GetGroupId(ctx(t), &identitystore.GetGroupIdInput{IdentityStoreId: store, AlternateIdentifier: idsUniqueAttr("displayName", "devs")})
	if err != nil || aws.ToString(id.GroupId) != f.devs {
		t.Errorf("GetGroupId(devs) = %+v, %v", id, err)
	}
	_, err = c.GetGroupId(ctx(t), &identitystore.GetGroupIdInput{IdentityStoreId: store, AlternateIdentifier: idsUniqueAttr("displayName", "nobody")})
	ssoWantCode(t, "GetGroupId of nobody", err, "ResourceNotFoundException")
}

func TestIdentityStoreMemberships(t *testing.T) {
	_, c, f := startIdentityStore(t, Options{})
	store := aws.String(f.storeID)
	bob := &types.MemberIdMemberUserId{Value: f.bob}

	created, err := c.CreateGroupMembership(ctx(t), &identitystore.CreateGroupMembershipInput{IdentityStoreId: store, GroupId: aws.String(f.devs), MemberId: bob})
	if err != nil {
		t.Fatal(err)
	}
	membership := aws.ToString(created.MembershipId)
	_, err = c.CreateGroupMembership(ctx(t), &identitystore.CreateGroupMembershipInput{IdentityStoreId: store, GroupId: aws.String(f.devs), MemberId: bob})
	ssoWantCode(t, "duplicate membership", err, "ConflictException")
	_, err = c.CreateGroupMembership(ctx(t), &identitystore.CreateGroupMembershipInput{IdentityStoreId: store, GroupId: aws.String(f.alice), MemberId: bob})
	ssoWantCode(t, "membership in a user", err, "ResourceNotFoundException")

	d, err := c.DescribeGroupMembership(ctx(t), &identitystore.DescribeGroupMembershipInput{IdentityStoreId: store, MembershipId: aws.String(membership)})
	if err != nil {
		t.Fatal(err)
	}
	if m, ok := d.MemberId.(*types.MemberIdMemberUserId); !ok || m.Value != f.bob || aws.ToString(d.GroupId) != f.devs {
		t.Errorf("DescribeGroupMembership = group %s member %#v", aws.ToString(d.GroupId), d.MemberId)
	}
	id, err := c.GetGroupMembershipId(ctx(t), &identitystore.GetGroupMembershipIdInput{IdentityStoreId: store, GroupId: aws.String(f.devs), MemberId: bob})
	if err != nil || aws.ToString(id.MembershipId) != membership {
		t.Errorf("GetGroupMembershipId = %+v, %v; want %s", id, err, membership)
	}

	members, err := c.ListGroupMemberships(ctx(t), &identitystore.ListGroupMembershipsInput{IdentityStoreId: store, GroupId: aws.String(f.devs)})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := idsMemberLines(members.GroupMemberships), []string{f.devs + "<-" + f.alice, f.devs + "<-" + f.bob}; !reflect.DeepEqual(got, want) {
		t.Errorf("ListGroupMemberships = %v, want %v", got, want)
	}
	forBob, err := c.ListGroupMembershipsForMember(ctx(t), &identitystore.ListGroupMembershipsForMemberInput{IdentityStoreId: store, MemberId: bob})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := idsMemberLines(forBob.GroupMemberships), []string{f.devs + "<-" + f.bob}; !reflect.DeepEqual(got, want) {
		t.Errorf("ListGroupMembershipsForMember = %v, want %v", got, want)
	}

	other := "0123456789-00000000-0000-4000-a000-000000000000"
	in, err := c.IsMemberInGroups(ctx(t), &identitystore.IsMemberInGroupsInput{IdentityStoreId: store, MemberId: bob, GroupIds: []string{f.devs, other}})
	if err != nil {
		t.Fatal(err)
	}
	var results []string
	for _, r := range in.Results {
		results = append(results, fmt.Sprintf("%s:%v", aws.ToString(r.GroupId), r.MembershipExists))
	}
	if want := []string{f.devs + ":true", other + ":false"}; !reflect.DeepEqual(results, want) {
		t.Errorf("IsMemberInGroups = %v, want %v", results, want)
	}

	if _, err := c.DeleteGroupMembership(ctx(t), &identitystore.DeleteGroupMembershipInput{IdentityStoreId: store, MembershipId: aws.String(membership)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DescribeGroupMembership(ctx(t), &identitystore.DescribeGroupMembershipInput{IdentityStoreId: store, MembershipId: aws.String(membership)})
	ssoWantCode(t, "DescribeGroupMembership after delete", err, "ResourceNotFoundException")
	_, err = c.DeleteGroupMembership(ctx(t), &identitystore.DeleteGroupMembershipInput{IdentityStoreId: store, MembershipId: aws.String(membership)})
	ssoWantCode(t, "deleting twice", err, "ResourceNotFoundException")
	_, err = c.GetGroupMembershipId(ctx(t), &identitystore.GetGroupMembershipIdInput{IdentityStoreId: store, GroupId: aws.String(f.devs), MemberId: bob})
	ssoWantCode(t, "GetGroupMembershipId after delete", err, "ResourceNotFoundException")
	in, err = c.IsMemberInGroups(ctx(t), &identitystore.IsMemberInGroupsInput{IdentityStoreId: store, MemberId: bob, GroupIds: []string{f.devs}})
	if err != nil || len(in.Results) != 1 || in.Results[0].MembershipExists {
		t.Errorf("IsMemberInGroups after delete = %+v, %v", in, err)
	}
}

func idsMemberLines(ms []types.GroupMembership) []string {
	out := []string{}
	for _, m := range ms {
		u, _ := m.MemberId.(*types.MemberIdMemberUserId)
		if u == nil {
			out = append(out, aws.ToString(m.GroupId)+"<-?")
			continue
		}
		out = append(out, aws.ToString(m.GroupId)+"<-"+u.Value)
	}
	return out
}

func TestIdentityStoreAccessByAccountRegionAndStore(t *testing.T) {
	s, c, f := startIdentityStore(t, Options{})
	_, err := c.ListUsers(ctx(t), &identitystore.ListUsersInput{IdentityStoreId: aws.String("d-0000000000")})
	ssoWantCode(t, "another identity store", err, "ResourceNotFoundException")

	cfg := adminConfig(t, s, "111111111111")
	cfg.Region = "eu-west-1"
	_, err = identitystore.NewFromConfig(cfg).ListUsers(ctx(t), &identitystore.ListUsersInput{IdentityStoreId: aws.String(f.storeID)})
	ssoWantCode(t, "another region", err, "ResourceNotFoundException")

	member := identitystore.NewFromConfig(adminConfig(t, s, "222222222222"))
	_, err = member.ListUsers(ctx(t), &identitystore.ListUsersInput{IdentityStoreId: aws.String(f.storeID)})
	ssoWantCode(t, "member account", err, "AccessDeniedException")

	s.Do(func(w *World) { w.Org.DelegatedAdmins["222222222222"] = true })
	if out, err := member.ListUsers(ctx(t), &identitystore.ListUsersInput{IdentityStoreId: aws.String(f.storeID)}); err != nil || len(out.Users) != 2 {
		t.Errorf("delegated administrator ListUsers = %v, %v", out, err)
	}
}

func TestIdentityStorePaginationMatchesFullList(t *testing.T) {
	s, c, f := startIdentityStore(t, Options{PageSize: 1})
	s.Do(func(w *World) {
		for i := 0; i < 3; i++ {
			u := w.AddSSOUser(fmt.Sprintf("user%d", i), "User", fmt.Sprint(i), "")
			w.AddMembership(f.devs, u.ID)
			g := w.AddSSOGroup(fmt.Sprintf("team%d", i), "")
			w.AddMembership(g.ID, f.alice)
		}
	})
	var wantUsers, wantGroups, wantDevs, wantAlice []string
	s.Do(func(w *World) {
		for _, u := range w.SSO.Users {
			wantUsers = append(wantUsers, u.ID)
		}
		for _, g := range w.SSO.Groups {
			wantGroups = append(wantGroups, g.ID)
		}
		for _, m := range w.SSO.Memberships {
			if m.GroupID == f.devs {
				wantDevs = append(wantDevs, m.GroupID+"<-"+m.UserID)
			}
			if m.UserID == f.alice {
				wantAlice = append(wantAlice, m.GroupID+"<-"+m.UserID)
			}
		}
	})
	store := aws.String(f.storeID)
	bg := ctx(t)

	var users []string
	pu := identitystore.NewListUsersPaginator(c, &identitystore.ListUsersInput{IdentityStoreId: store})
	n := ssoPages(t, pu.HasMorePages, func() error {
		out, err := pu.NextPage(bg)
		if err != nil {
			return err
		}
		for _, u := range out.Users {
			users = append(users, aws.ToString(u.UserId))
		}
		return nil
	})
	if !reflect.DeepEqual(users, wantUsers) || n != len(wantUsers) {
		t.Errorf("ListUsers in %d pages = %v, want %v", n, users, wantUsers)
	}

	var groups []string
	pg := identitystore.NewListGroupsPaginator(c, &identitystore.ListGroupsInput{IdentityStoreId: store})
	n = ssoPages(t, pg.HasMorePages, func() error {
		out, err := pg.NextPage(bg)
		if err != nil {
			return err
		}
		for _, g := range out.Groups {
			groups = append(groups, aws.ToString(g.GroupId))
		}
		return nil
	})
	if !reflect.DeepEqual(groups, wantGroups) || n != len(wantGroups) {
		t.Errorf("ListGroups in %d pages = %v, want %v", n, groups, wantGroups)
	}

	var devs []string
	pm := identitystore.NewListGroupMembershipsPaginator(c, &identitystore.ListGroupMembershipsInput{IdentityStoreId: store, GroupId: aws.String(f.devs)})
	n = ssoPages(t, pm.HasMorePages, func() error {
		out, err := pm.NextPage(bg)
		if err == nil {
			devs = append(devs, idsMemberLines(out.GroupMemberships)...)
		}
		return err
	})
	if !reflect.DeepEqual(devs, wantDevs) || n != len(wantDevs) {
		t.Errorf("ListGroupMemberships in %d pages = %v, want %v", n, devs, wantDevs)
	}

	var alice []string
	pf := identitystore.NewListGroupMembershipsForMemberPaginator(c, &identitystore.ListGroupMembershipsForMemberInput{IdentityStoreId: store, MemberId: &types.MemberIdMemberUserId{Value: f.alice}})
	n = ssoPages(t, pf.HasMorePages, func() error {
		out, err := pf.NextPage(bg)
		if err == nil {
			alice = append(alice, idsMemberLines(out.GroupMemberships)...)
		}
		return err
	})
	if !reflect.DeepEqual(alice, wantAlice) || n != len(wantAlice) {
		t.Errorf("ListGroupMembershipsForMember in %d pages = %v, want %v", n, alice, wantAlice)
	}

	_, err := c.ListUsers(bg, &identitystore.ListUsersInput{IdentityStoreId: store, MaxResults: aws.Int32(500)})
	ssoWantCode(t, "MaxResults 500", err, "ValidationException")
}
