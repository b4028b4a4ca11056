package connector

import (
	"context"
	"strings"

	v2 "github.com/conductorone/baton-sdk/pb/c1/connector/v2"
	"github.com/conductorone/baton-sdk/pkg/types/entitlement"
	"github.com/conductorone/baton-sdk/pkg/types/resource"

	"github.com/gatehouse/gatehouse/internal/inventory"
)

// iamPolicySyncer lists policies. A customer-managed policy belongs to one account and is
// listed under it. An AWS-managed policy (arn:aws:iam::aws:policy/...) is the same policy
// in every account, so it is one resource without a parent, listed only when it is attached
// to something; its grants span every account it is attached in. An inline policy is a
// resource of its owner's account, with the id <owner ARN>/inline/<name>, granted to its
// owner alone: it is access like any attached policy, and an inline policy of a group
// reaches its members through the same expansion. The entitlement "attached" is held by
// users, roles and groups; a group's grant expands to its members. Every policy's profile
// carries its document and a summary of what it grants (summarizePolicy).
type iamPolicySyncer struct{ c *Connector }

func (s *iamPolicySyncer) ResourceType(context.Context) *v2.ResourceType {
	return iamPolicyResourceType
}

func (s *iamPolicySyncer) List(ctx context.Context, parent *v2.ResourceId, opts resource.SyncOpAttrs) ([]*v2.Resource, *resource.SyncOpResults, error) {
	x, ai, err := s.c.accountIAM(ctx, parent)
	if err != nil {
		return nil, nil, err
	}
	var policies []*policyInfo
	switch {
	case parent == nil:
		policies = x.awsManaged
	case ai != nil:
		policies = ai.policies
	}
	list, next, err := pageResources(s.c, opts.PageToken, len(policies), func(i int) (*v2.Resource, error) {
		return policyResource(policies[i])
	})
	return list, &resource.SyncOpResults{NextPageToken: next}, err
}

func policyResource(pi *policyInfo) (*v2.Resource, error) {
	if pi.inline != nil {
		return inlinePolicyResource(pi)
	}
	p := profile{"arn": pi.arn, "aws_managed": pi.accountID == "", "attachment_count": pi.attached, "policy_type": "customer_managed"}
	if pi.accountID == "" {
		p["policy_type"] = "aws_managed"
	}
	p.str("account_id", pi.accountID)
	p.strs("attached_in_accounts", pi.accounts)
	name := policyNameFromARN(pi.arn)
	var opts []resource.ResourceOption
	if mp := pi.policy; mp != nil {
		if mp.Name != "" {
			name = mp.Name
		}
		p.str("policy_id", mp.ID)
		p.str("path", mp.Path)
		p.str("description", mp.Description)
		p.str("default_version", mp.DefaultVersion)
		p.str("document", mp.Document)
		summarizePolicy(p, mp.Document)
		p.time("created", mp.CreatedAt)
		p.time("updated", mp.UpdatedAt)
		if mp.Description != "" {
			opts = append(opts, resource.WithDescription(mp.Description))
		}
		if !mp.CreatedAt.IsZero() {
			opts = append(opts, resource.WithResourceCreatedAt(mp.CreatedAt))
		}
	}
	p["policy_name"] = name
	opts = append(opts, resource.WithResourceProfile(p))
	if pi.accountID != "" {
		opts = append(opts, resource.WithParentResourceID(resourceID(TypeAccount, pi.accountID)))
	}
	return resource.NewResource(name, iamPolicyResourceType, pi.arn, opts...)
}

// inlinePolicyResource is the resource of an inline policy. Its display name says whose
// it is, since the same policy name is often embedded in many users, groups or roles.
func inlinePolicyResource(pi *policyInfo) (*v2.Resource, error) {
	ip := pi.inline
	kind := strings.TrimPrefix(ip.owner.typ, "iam_")
	p := profile{"policy_name": ip.name, "policy_type": "inline", "aws_managed": false, "attachment_count": 1,
		"account_id": pi.accountID, "owner_arn": ip.owner.id, "owner_type": kind}
	p.str("owner_name", ip.ownerName)
	p.str("document", ip.document)
	summarizePolicy(p, ip.document)
	name := ip.name + " (inline, " + kind + " " + ip.ownerName + ")"
	return resource.NewResource(name, iamPolicyResourceType, pi.arn,
		resource.WithDescription("Inline policy "+ip.name+" of the IAM "+kind+" "+ip.ownerName),
		resource.WithResourceProfile(p),
		resource.WithParentResourceID(resourceID(TypeAccount, pi.accountID)))
}

// policyNameFromARN is the name of a policy known only by its ARN: the last path element.
func policyNameFromARN(arn string) string {
	if i := strings.LastIndex(arn, "/"); i >= 0 {
		return arn[i+1:]
	}
	return arn
}

func (s *iamPolicySyncer) Entitlements(ctx context.Context, r *v2.Resource, opts resource.SyncOpAttrs) ([]*v2.Entitlement, *resource.SyncOpResults, error) {
	return []*v2.Entitlement{
		entitlement.NewAssignmentEntitlement(r, EntitlementAttached,
			entitlement.WithDisplayName(r.GetDisplayName()+" attached"),
			entitlement.WithDescription("Attached to (or, for an inline policy, embedded in) the IAM user, group or role"),
			entitlement.WithGrantableTo(iamUserResourceType, iamGroupResourceType, iamRoleResourceType),
		),
	}, &resource.SyncOpResults{}, nil
}

func (s *iamPolicySyncer) Grants(ctx context.Context, r *v2.Resource, opts resource.SyncOpAttrs) ([]*v2.Grant, *resource.SyncOpResults, error) {
	x, err := s.c.index(ctx)
	if err != nil {
		return nil, nil, err
	}
	var holders []principalRef
	if pi := x.policies[r.GetId().GetResource()]; pi != nil {
		holders = pi.holders
	}
	w, err := s.c.window(opts.PageToken, len(holders))
	if err != nil {
		return nil, nil, err
	}
	out := make([]*v2.Grant, 0, w.end-w.start)
	for _, h := range holders[w.start:w.end] {
		if h.typ == TypeIAMGroup {
			out = append(out, newGrant(r, EntitlementAttached, h, expandableTo(entitlementID(TypeIAMGroup, h.id, EntitlementMember))))
			continue
		}
		out = append(out, newGrant(r, EntitlementAttached, h))
	}
	return out, &resource.SyncOpResults{NextPageToken: w.next}, nil
}

// inlinePolicyNames lists the inline policies of a user, group or role by name, sorted, for
// its profile. Each is an iam_policy resource of its own (inlinePolicyID), which carries the
// document and what it grants; the owner's profile does not repeat the documents.
func inlinePolicyNames(in []inventory.InlinePolicy) []string {
	out := make([]string, 0, len(in))
	for _, ip := range in {
		out = append(out, ip.Name)
	}
	return dedupe(out)
}
