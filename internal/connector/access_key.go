package connector

import (
	"context"
	"strings"

	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/types/resource"

	"github.com/gatehouse/gatehouse/internal/inventory"
)

// accessKeySyncer lists IAM access keys (only with secret sync, when the snapshot has
// them). A key is listed under its account rather than under its user: the owner is on the
// secret trait, and listing per user would cost baton one request per user for what is,
// in most accounts, a handful of keys. The secret access key is never fetched, so it
// cannot be written anywhere.
type accessKeySyncer struct{ c *Connector }

func (s *accessKeySyncer) ResourceType(context.Context) *v2.ResourceType {
	return accessKeyResourceType
}

func (s *accessKeySyncer) List(ctx context.Context, parent *v2.ResourceId, opts resource.SyncOpAttrs) ([]*v2.Resource, *resource.SyncOpResults, error) {
	_, ai, err := s.c.accountIAM(ctx, parent)
	if err != nil || ai == nil {
		return nil, &resource.SyncOpResults{}, err
	}
	list, next, err := pageResources(s.c, opts.PageToken, len(ai.accessKeys), func(i int) (*v2.Resource, error) {
		return accessKeyResource(ai, ai.accessKeys[i])
	})
	return list, &resource.SyncOpResults{NextPageToken: next}, err
}

func accessKeyResource(ai *accountIAM, k *inventory.AccessKey) (*v2.Resource, error) {
	owner := ai.userByName[k.UserName] // present: the index drops keys without a user
	p := profile{"access_key_id": k.ID, "account_id": ai.account.ID, "user_arn": owner.ARN}
	p.str("user_name", k.UserName)
	p.str("status", k.Status)
	p.time("created", k.CreatedAt)
	if !k.LastUsedAt.IsZero() {
		p["last_used_date"] = k.LastUsedAt.UTC().Format("2006-01-02")
		p.time("last_used", k.LastUsedAt)
	}
	p.str("last_used_service", k.LastUsedService)
	p.str("last_used_region", k.LastUsedRegion)

	status := v2.Status_RESOURCE_STATUS_DISABLED
	if strings.EqualFold(k.Status, "Active") {
		status = v2.Status_RESOURCE_STATUS_ENABLED
	}
	traitOpts := []resource.SecretTraitOption{
		resource.WithSecretIdentityID(resourceID(TypeIAMUser, owner.ARN)),
		resource.WithSecretType(v2.SecretTrait_CREDENTIAL_TYPE_STATIC_SECRET),
		resource.WithSecretDetail("aws_access_key"),
	}
	if !k.LastUsedAt.IsZero() {
		traitOpts = append(traitOpts, resource.WithSecretLastUsedAt(k.LastUsedAt))
	}
	opts := []resource.ResourceOption{
		resource.WithResourceProfile(p),
		resource.WithResourceStatus(status, k.Status),
		resource.WithParentResourceID(resourceID(TypeAccount, ai.account.ID)),
		resource.WithDescription("Access key of IAM user " + k.UserName),
	}
	if !k.CreatedAt.IsZero() {
		opts = append(opts, resource.WithResourceCreatedAt(k.CreatedAt))
	}
	return resource.NewSecretResource(k.ID, accessKeyResourceType, k.ID, traitOpts, opts...)
}

func (s *accessKeySyncer) Entitlements(context.Context, *v2.Resource, resource.SyncOpAttrs) ([]*v2.Entitlement, *resource.SyncOpResults, error) {
	return nil, &resource.SyncOpResults{}, nil
}

func (s *accessKeySyncer) Grants(context.Context, *v2.Resource, resource.SyncOpAttrs) ([]*v2.Grant, *resource.SyncOpResults, error) {
	return nil, &resource.SyncOpResults{}, nil
}
