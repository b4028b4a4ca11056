package connector

import (
	"context"
	"slices"
	"testing"

	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/annotations"
	"github.com/conductorone/baton-sdk/pkg/connectorbuilder"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/gatehouse/gatehouse/internal/awsprovision"
)

// fakeProvisioner records the accesses it is asked for and answers with a fixed outcome
// or error.
type fakeProvisioner struct {
	granted, revoked []awsprovision.Access
	outcome          awsprovision.Outcome
	err              error
}

func (f *fakeProvisioner) Grant(_ context.Context, a awsprovision.Access) (*awsprovision.Result, error) {
	f.granted = append(f.granted, a)
	return &awsprovision.Result{Outcome: f.outcome}, f.err
}

func (f *fakeProvisioner) Revoke(_ context.Context, a awsprovision.Access) (*awsprovision.Result, error) {
	f.revoked = append(f.revoked, a)
	return &awsprovision.Result{Outcome: f.outcome}, f.err
}

func entitlementOn(typ, id, slug string) *v2.Entitlement {
	return v2.Entitlement_builder{Id: entitlementID(typ, id, slug), Slug: slug,
		Resource: v2.Resource_builder{Id: resourceID(typ, id)}.Build()}.Build()
}

// annos lets a test call the pointer methods of annotations.Annotations on a list.
func annos(list annotations.Annotations) *annotations.Annotations { return &list }

func principalResource(typ, id string) *v2.Resource {
	return v2.Resource_builder{Id: resourceID(typ, id)}.Build()
}

// baton's builder (what `gatehouse connector` serves) reaches the provisioner through
// the syncers' Grant and Revoke, with the access the entitlement and principal name,
// returns the grant with baton's grant id, and reports an idempotent outcome with
// baton's annotations.
func TestConnectorGrantAndRevokeGoToTheProvisioner(t *testing.T) {
	ctx := context.Background()
	fake := &fakeProvisioner{outcome: awsprovision.Created}
	c := New(nil, Features{IdentityCenter: true}, WithProvisioner(fake))
	srv, err := connectorbuilder.NewConnector(ctx, c)
	if err != nil {
		t.Fatal(err)
	}

	caps, err := srv.GetMetadata(ctx, &v2.ConnectorServiceGetMetadataRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var provisionable []string
	for _, rc := range caps.GetMetadata().GetCapabilities().GetResourceTypeCapabilities() {
		if slices.Contains(rc.GetCapabilities(), v2.Capability_CAPABILITY_PROVISION) {
			provisionable = append(provisionable, rc.GetResourceType().GetId())
		}
	}
	slices.Sort(provisionable)
	if want := []string{TypeAccount, TypeIAMGroup, TypeSSOGroup}; !slices.Equal(provisionable, want) {
		t.Errorf("provisionable resource types = %v, want %v", provisionable, want)
	}

	ent := entitlementOn(TypeAccount, "222222222222", "ps-0e796abeac4b342c")
	resp, err := srv.Grant(ctx, v2.GrantManagerServiceGrantRequest_builder{Entitlement: ent, Principal: principalResource(TypeSSOGroup, testGroupID)}.Build())
	if err != nil {
		t.Fatal(err)
	}
	want := awsprovision.AccountAssignment{AccountID: "222222222222", PermissionSet: "ps-0e796abeac4b342c", PrincipalType: awsprovision.PrincipalGroup, PrincipalID: testGroupID}
	if len(fake.granted) != 1 || fake.granted[0] != want {
		t.Errorf("granted %#v, want %#v", fake.granted, want)
	}
	grants := resp.GetGrants()
	if len(grants) != 1 || grants[0].GetId() != "account:222222222222:ps-0e796abeac4b342c:sso_group:"+testGroupID {
		t.Fatalf("grants = %v", grants)
	}
	// A group's assignment expands to its members, as in a sync.
	expandable := &v2.GrantExpandable{}
	if ok, _ := annos(grants[0].GetAnnotations()).Pick(expandable); !ok ||
		!slices.Equal(expandable.GetEntitlementIds(), []string{"sso_group:" + testGroupID + ":member"}) {
		t.Errorf("the group grant is not expandable to the group's members: %v", grants[0].GetAnnotations())
	}
	if annos(resp.GetAnnotations()).Contains(&v2.GrantAlreadyExists{}) {
		t.Error("a created grant is annotated GrantAlreadyExists")
	}

	fake.outcome = awsprovision.AlreadyExisted
	resp, err = srv.Grant(ctx, v2.GrantManagerServiceGrantRequest_builder{
		Entitlement: entitlementOn(TypeIAMGroup, "arn:aws:iam::333333333333:group/deployers", EntitlementMember),
		Principal:   principalResource(TypeIAMUser, "arn:aws:iam::333333333333:user/bob")}.Build())
	if err != nil {
		t.Fatal(err)
	}
	if !annos(resp.GetAnnotations()).Contains(&v2.GrantAlreadyExists{}) {
		t.Error("granting what exists is not annotated GrantAlreadyExists")
	}

	fake.outcome = awsprovision.AlreadyAbsent
	g := v2.Grant_builder{Id: "x", Entitlement: entitlementOn(TypeSSOGroup, testGroupID, EntitlementMember), Principal: principalResource(TypeSSOUser, testUserID)}.Build()
	rresp, err := srv.Revoke(ctx, v2.GrantManagerServiceRevokeRequest_builder{Grant: g}.Build())
	if err != nil {
		t.Fatal(err)
	}
	if want := (awsprovision.SSOGroupMembership{GroupID: testGroupID, UserID: testUserID}); len(fake.revoked) != 1 || fake.revoked[0] != want {
		t.Errorf("revoked %#v, want %#v", fake.revoked, want)
	}
	if !annos(rresp.GetAnnotations()).Contains(&v2.GrantAlreadyRevoked{}) {
		t.Error("revoking what is gone is not annotated GrantAlreadyRevoked")
	}
}

// Errors reach baton with the gRPC code it acts on: only a timeout is retried.
func TestConnectorProvisioningErrorCodes(t *testing.T) {
	ctx := context.Background()
	ent := entitlementOn(TypeSSOGroup, testGroupID, EntitlementMember)
	user := principalResource(TypeSSOUser, testUserID)
	cases := []struct {
		name string
		prov Provisioner
		ent  *v2.Entitlement
		p    *v2.Resource
		want codes.Code
	}{
		{"provisioning off", nil, ent, user, codes.FailedPrecondition},
		{"wrong principal type", &fakeProvisioner{}, ent, principalResource(TypeSSOGroup, testGroupID), codes.InvalidArgument},
		{"malformed entitlement", &fakeProvisioner{}, entitlementOn(TypeSSOGroup, "bob", EntitlementMember), user, codes.InvalidArgument},
		{"policy attachment", &fakeProvisioner{}, entitlementOn(TypeIAMPolicy, "arn:aws:iam::aws:policy/ReadOnlyAccess", EntitlementAttached), principalResource(TypeIAMRole, "arn:aws:iam::111111111111:role/x"), codes.Unimplemented},
		{"unknown", &fakeProvisioner{err: &awsprovision.Error{Kind: awsprovision.KindUnknownTarget, Msg: "no group"}}, ent, user, codes.NotFound},
		{"denied", &fakeProvisioner{err: &awsprovision.Error{Kind: awsprovision.KindDenied, Msg: "denied"}}, ent, user, codes.PermissionDenied},
		{"failed", &fakeProvisioner{err: &awsprovision.Error{Kind: awsprovision.KindFailed, Msg: "FAILED"}}, ent, user, codes.FailedPrecondition},
		{"timeout", &fakeProvisioner{err: &awsprovision.Error{Kind: awsprovision.KindTimeout, Msg: "IN_PROGRESS"}}, ent, user, codes.DeadlineExceeded},
	}
	for _, tc := range cases {
		var opts []Option
		if tc.prov != nil {
			opts = append(opts, WithProvisioner(tc.prov))
		}
		c := New(nil, Features{IdentityCenter: true}, opts...)
		syncer := &ssoGroupSyncer{c: c}
		if tc.ent.GetResource().GetId().GetResourceType() == TypeIAMPolicy {
			// iam_policy has no Grant: AccessFor is what refuses it.
			_, _, err := c.grant(ctx, tc.p, tc.ent)
			if status.Code(err) != tc.want {
				t.Errorf("%s: code %v (%v), want %v", tc.name, status.Code(err), err, tc.want)
			}
			continue
		}
		_, _, err := syncer.Grant(ctx, tc.p, tc.ent)
		if status.Code(err) != tc.want {
			t.Errorf("%s: code %v (%v), want %v", tc.name, status.Code(err), err, tc.want)
		}
	}
}
