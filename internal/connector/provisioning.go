package connector

import (
	"context"
	"errors"
	"fmt"
	"strings"

	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/annotations"
	"github.com/conductorone/baton-sdk/pkg/types/grant"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/gatehouse/gatehouse/internal/awsprovision"
)

// Provisioner changes access in AWS; *awsprovision.Provisioner is the implementation.
// The connector only translates baton's entitlements and grants into awsprovision
// accesses: no AWS call is made from a resource file.
type Provisioner interface {
	Grant(ctx context.Context, a awsprovision.Access) (*awsprovision.Result, error)
	Revoke(ctx context.Context, a awsprovision.Access) (*awsprovision.Result, error)
}

// Option configures a Connector.
type Option func(*Connector)

// WithProvisioner turns provisioning on: Grant and Revoke on iam_group, sso_group and
// account entitlements go to p. Without it (the default, as baton connectors expect)
// they fail with FailedPrecondition and change nothing.
func WithProvisioner(p Provisioner) Option {
	return func(c *Connector) { c.prov = p }
}

// WithSnapshotPerSync makes every sync fetch its own snapshot: a long-running connector
// (baton's service mode) serves one sync task after another, and each must report AWS as
// it is then, not as it was at the first. The connector's first sync uses the snapshot
// fetched for it (or before it); each later one calls the source again when it starts.
func WithSnapshotPerSync() Option {
	return func(c *Connector) { c.perSync = true }
}

// errNotProvisionable is the error for entitlements Gatehouse reads but does not change.
var errNotProvisionable = errors.New("not provisionable")

// AccessFor returns the AWS access that granting the entitlement to the principal
// (a resource type and id, as in grant ids) amounts to. The entitlement and principal
// are checked for shape and for fitting each other; whether they exist is for AWS to say.
func AccessFor(ent EntitlementRef, principalType, principalID string) (awsprovision.Access, error) {
	if err := ent.validate(); err != nil {
		return nil, err
	}
	if shape := principalShapes[principalType]; shape == nil {
		return nil, &awsprovision.Error{Kind: awsprovision.KindWrongPrincipal,
			Msg: fmt.Sprintf("%q is not a principal type; principals are %s", principalType, strings.Join(principalTypeList(), ", "))}
	} else if !shape.MatchString(principalID) {
		return nil, &awsprovision.Error{Kind: awsprovision.KindUnknownPrincipal,
			Msg: fmt.Sprintf("%q is not a %s id (ids are printed by gatehouse inspect --file FILE.c1z resources --type %s)", principalID, principalType, principalType)}
	}
	grantable := entitlementShapes[ent.ResourceType].grantable
	ok := false
	for _, t := range grantable {
		ok = ok || t == principalType
	}
	if !ok {
		return nil, &awsprovision.Error{Kind: awsprovision.KindWrongPrincipal,
			Msg: fmt.Sprintf("entitlement %s is granted to %s, not to %s", ent.ID(), strings.Join(grantable, " or "), principalType)}
	}
	switch ent.ResourceType {
	case TypeIAMGroup:
		return iamGroupAccess(ent, principalID), nil
	case TypeSSOGroup:
		return ssoGroupAccess(ent, principalID), nil
	case TypeAccount:
		return accountAccess(ent, principalType, principalID), nil
	}
	return nil, fmt.Errorf("entitlement %s: %w: Gatehouse reads %s entitlements but does not grant or revoke them", ent.ID(), errNotProvisionable, ent.ResourceType)
}

func principalTypeList() []string {
	return []string{TypeIAMUser, TypeSSOUser, TypeSSOGroup}
}

// entitlementRefOf reads the entitlement baton hands to Grant and Revoke: its resource
// from the resource id, its slug from what follows the resource in the entitlement id
// (baton's stores hand the entitlement back without every field).
func entitlementRefOf(e *v2.Entitlement) EntitlementRef {
	rid := e.GetResource().GetId()
	ref := EntitlementRef{ResourceType: rid.GetResourceType(), ResourceID: rid.GetResource(), Slug: e.GetSlug()}
	if prefix := ref.ResourceType + ":" + ref.ResourceID + ":"; strings.HasPrefix(e.GetId(), prefix) {
		ref.Slug = strings.TrimPrefix(e.GetId(), prefix)
	}
	return ref
}

// grant is Grant for every provisionable resource type: it returns the grant that now
// exists, annotated GrantAlreadyExists when nothing had to change.
func (c *Connector) grant(ctx context.Context, principal *v2.Resource, e *v2.Entitlement) ([]*v2.Grant, annotations.Annotations, error) {
	if c.prov == nil {
		return nil, nil, errProvisioningOff
	}
	ent := entitlementRefOf(e)
	p := principalRef{principal.GetId().GetResourceType(), principal.GetId().GetResource()}
	access, err := AccessFor(ent, p.typ, p.id)
	if err != nil {
		return nil, nil, grpcError(err)
	}
	res, err := c.prov.Grant(ctx, access)
	if err != nil {
		return nil, nil, grpcError(err)
	}
	var opts []grant.GrantOption
	if ent.ResourceType == TypeAccount && p.typ == TypeSSOGroup {
		opts = append(opts, expandableTo(entitlementID(TypeSSOGroup, p.id, EntitlementMember)))
	}
	g := newGrant(v2.Resource_builder{Id: resourceID(ent.ResourceType, ent.ResourceID)}.Build(), ent.Slug, p, opts...)
	var annos annotations.Annotations
	if res.Outcome == awsprovision.AlreadyExisted {
		annos.Update(&v2.GrantAlreadyExists{})
	}
	return []*v2.Grant{g}, annos, nil
}

// revoke is Revoke for every provisionable resource type, annotated GrantAlreadyRevoked
// when the grant was already gone.
func (c *Connector) revoke(ctx context.Context, g *v2.Grant) (annotations.Annotations, error) {
	if c.prov == nil {
		return nil, errProvisioningOff
	}
	ent := entitlementRefOf(g.GetEntitlement())
	pid := g.GetPrincipal().GetId()
	access, err := AccessFor(ent, pid.GetResourceType(), pid.GetResource())
	if err != nil {
		return nil, grpcError(err)
	}
	res, err := c.prov.Revoke(ctx, access)
	if err != nil {
		return nil, grpcError(err)
	}
	var annos annotations.Annotations
	if res.Outcome == awsprovision.AlreadyAbsent {
		annos.Update(&v2.GrantAlreadyRevoked{})
	}
	return annos, nil
}

var errProvisioningOff = status.Error(codes.FailedPrecondition, "provisioning is off: run gatehouse connector with --provisioning to grant and revoke")

// grpcError gives a provisioning error the gRPC code baton acts on. Only a timeout is
// DeadlineExceeded, which baton retries: the retry continues the same AWS request.
func grpcError(err error) error {
	code := codes.Unknown
	switch {
	case errors.Is(err, context.Canceled):
		code = codes.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		code = codes.DeadlineExceeded
	case errors.Is(err, errNotProvisionable):
		code = codes.Unimplemented
	default:
		var pe *awsprovision.Error
		var ide *IDError
		if errors.As(err, &ide) {
			code = codes.InvalidArgument
			break
		}
		if !errors.As(err, &pe) {
			break
		}
		switch pe.Kind {
		case awsprovision.KindUnknownPrincipal, awsprovision.KindUnknownTarget:
			code = codes.NotFound
		case awsprovision.KindWrongPrincipal:
			code = codes.InvalidArgument
		case awsprovision.KindDenied, awsprovision.KindCannotAssume:
			code = codes.PermissionDenied
		case awsprovision.KindFailed:
			code = codes.FailedPrecondition
		case awsprovision.KindTimeout:
			code = codes.DeadlineExceeded
		}
	}
	return status.Error(code, err.Error())
}
