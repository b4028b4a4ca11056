package awsprovision

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
	"github.com/aws/smithy-go/middleware"
)

// identityCenter is the Identity Center instance the connector administers, with clients
// acting as the connector in the instance's region.
type identityCenter struct {
	instanceARN string
	storeID     string
	region      string
	sso         *ssoadmin.Client
	ids         *identitystore.Client
	org         *organizations.Client
}

// identityStoreIDPattern is the shape of identity store user, group and membership ids
// (the pattern of the Identity Store API reference).
var identityStoreIDPattern = regexp.MustCompile(`^([0-9a-f]{10}-|)[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}$`)

// identityCenter finds the instance once per provisioner. ListInstances answers with the
// caller account's instances (an account has at most one); ARN order keeps the choice
// stable should AWS ever list more, as the sync does.
func (p *Provisioner) identityCenter(ctx context.Context) (*identityCenter, error) {
	p.icMu.Lock()
	defer p.icMu.Unlock()
	if p.ic != nil {
		return p.ic, nil
	}
	account, role := p.sess.CallerAccountID(), p.sess.ConnectorRoleARN()
	cfg := p.sess.IdentityCenter()
	sso := ssoadmin.NewFromConfig(cfg, func(o *ssoadmin.Options) {
		o.APIOptions = append(o.APIOptions, recordCalls(account, role), p.limitCalls)
	})
	var instances []ssotypes.InstanceMetadata
	var token *string
	for {
		out, err := sso.ListInstances(ctx, &ssoadmin.ListInstancesInput{MaxResults: aws.Int32(100), NextToken: token})
		if err != nil {
			return nil, awsError(ctx, err, "list IAM Identity Center instances in "+cfg.Region)
		}
		for _, in := range out.Instances {
			if in.Status == "" || in.Status == ssotypes.InstanceStatusActive {
				instances = append(instances, in)
			}
		}
		if token = out.NextToken; aws.ToString(token) == "" {
			break
		}
	}
	if len(instances) == 0 {
		return nil, errorf(KindOther, "no IAM Identity Center instance in %s is visible to %s: pass --identity-center-region with the region Identity Center is enabled in, and use a role in the management account or a delegated administrator", cfg.Region, role)
	}
	sort.Slice(instances, func(i, j int) bool {
		return aws.ToString(instances[i].InstanceArn) < aws.ToString(instances[j].InstanceArn)
	})
	p.ic = &identityCenter{
		instanceARN: aws.ToString(instances[0].InstanceArn),
		storeID:     aws.ToString(instances[0].IdentityStoreId),
		region:      cfg.Region,
		sso:         sso,
		ids: identitystore.NewFromConfig(cfg, func(o *identitystore.Options) {
			o.APIOptions = append(o.APIOptions, recordCalls(account, role), p.limitCalls)
		}),
		org: organizations.NewFromConfig(p.sess.Connector(), func(o *organizations.Options) { o.APIOptions = append(o.APIOptions, recordCalls(account, role)) }),
	}
	return p.ic, nil
}

// limitCalls is the API option of the Identity Center clients that makes every attempt
// of a call (retries included) wait for Options.Limiter, when one is set. It sits after
// the SDK's retry middleware, as the session's own pacing does.
func (p *Provisioner) limitCalls(stack *middleware.Stack) error {
	if p.opts.Limiter == nil {
		return nil
	}
	wait := middleware.FinalizeMiddlewareFunc("GatehouseSharedLimit", func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
		if err := p.opts.Limiter.Wait(ctx); err != nil {
			return middleware.FinalizeOutput{}, middleware.Metadata{}, err
		}
		return next.HandleFinalize(ctx, in)
	})
	if err := stack.Finalize.Insert(wait, "Retry", middleware.After); err != nil {
		return stack.Finalize.Add(wait, middleware.Before)
	}
	return nil
}

// permissionSet is what provisioning needs to know of a permission set.
type permissionSet struct {
	arn, name, sessionDuration string
}

// permissionSetARN returns the ARN of a permission set of the instance from its ARN (as
// given) or its id (ps-..., the slug of account entitlements): the ARN ListPermissionSets
// lists whose last element is the id. It is never rebuilt from the instance ARN and a
// pattern: AWS does not promise that shape, and an ARN that differs from what AWS lists
// names no permission set. A resolved id is kept for the provisioner's life; an id not
// found is a KindUnknownTarget error and is looked up afresh next time (the permission
// set may have been created since).
func (p *Provisioner) permissionSetARN(ctx context.Context, ic *identityCenter, idOrARN string) (string, error) {
	if strings.HasPrefix(idOrARN, "arn:") {
		return idOrARN, nil
	}
	return p.permissionSetARNs.get(idOrARN, func() (string, error) {
		n := 0
		var token *string
		for {
			out, err := ic.sso.ListPermissionSets(ctx, &ssoadmin.ListPermissionSetsInput{InstanceArn: str(ic.instanceARN), MaxResults: aws.Int32(100), NextToken: token})
			if err != nil {
				return "", awsError(ctx, err, "list the permission sets of "+ic.instanceARN)
			}
			for _, arn := range out.PermissionSets {
				n++
				if arn[strings.LastIndex(arn, "/")+1:] == idOrARN {
					return arn, nil
				}
			}
			if token = out.NextToken; aws.ToString(token) == "" {
				break
			}
		}
		return "", errorf(KindUnknownTarget, "no permission set %s in the Identity Center instance %s (it lists %d permission sets): take the id from gatehouse inspect --file FILE.c1z entitlements", idOrARN, ic.instanceARN, n)
	})
}

// permissionSet describes a permission set, once per provisioner: DescribePermissionSet
// has a quota of its own of about one call per second. A permission set that does not
// exist is a KindUnknownTarget error.
func (p *Provisioner) permissionSet(ctx context.Context, ic *identityCenter, arn string) (permissionSet, error) {
	return p.permissionSets.get(arn, func() (permissionSet, error) {
		out, err := ic.sso.DescribePermissionSet(ctx, &ssoadmin.DescribePermissionSetInput{InstanceArn: str(ic.instanceARN), PermissionSetArn: str(arn)})
		switch {
		case hasCode(err, "ResourceNotFoundException", "ValidationException"):
			return permissionSet{}, &Error{Kind: KindUnknownTarget, Err: err,
				Msg: fmt.Sprintf("no permission set %s in the Identity Center instance %s", arn, ic.instanceARN)}
		case err != nil:
			return permissionSet{}, awsError(ctx, err, "describe the permission set "+arn)
		}
		ps := permissionSet{arn: arn, name: arn}
		if d := out.PermissionSet; d != nil {
			ps.name = aws.ToString(d.Name)
			ps.sessionDuration = aws.ToString(d.SessionDuration)
		}
		return ps, nil
	})
}

// accountInfo is an account of the organization as Organizations describes it.
type accountInfo struct {
	// label is "name (id)", or the id alone when the name could not be read.
	label string
	// status is the account's state (ACTIVE, SUSPENDED, PENDING_CLOSURE, CLOSED...), or
	// "" when it could not be read.
	status string
}

// accountOf describes an account of the organization. Reading it is a courtesy and a
// dry run's check: when Organizations cannot be read (a delegated administrator without
// organizations:DescribeAccount), the id alone is used and the status is unknown. An
// account the organization does not have is a KindUnknownTarget error.
func (p *Provisioner) accountOf(ctx context.Context, ic *identityCenter, accountID string) (accountInfo, error) {
	return p.accountInfos.get(accountID, func() (accountInfo, error) {
		out, err := ic.org.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: str(accountID)})
		switch {
		case hasCode(err, "AccountNotFoundException"):
			return accountInfo{}, &Error{Kind: KindUnknownTarget, Err: err, Msg: fmt.Sprintf("account %s is not in the organization", accountID)}
		case err != nil:
			if ctx.Err() != nil {
				return accountInfo{}, ctx.Err()
			}
			return accountInfo{label: accountID}, nil
		case out.Account == nil:
			return accountInfo{label: accountID}, nil
		}
		// State replaces Status (which AWS retires in September 2026); read whichever
		// the answer carries.
		info := accountInfo{label: accountID, status: string(out.Account.State)}
		if info.status == "" {
			info.status = string(out.Account.Status)
		}
		if name := aws.ToString(out.Account.Name); name != "" {
			info.label = name + " (" + accountID + ")"
		}
		return info, nil
	})
}

// ssoPrincipal is an Identity Center user or group as found in the identity store.
type ssoPrincipal struct {
	name   string // user name or group display name
	exists bool
	// external is true for a group an external identity provider manages (it has
	// external ids): the provider's next push may undo a membership change.
	external bool
}

// ssoUser looks a user up. A missing user is not an error here: callers decide (grant:
// unknown principal; revoke: already absent).
func (ic *identityCenter) ssoUser(ctx context.Context, id string) (ssoPrincipal, error) {
	if !identityStoreIDPattern.MatchString(id) {
		return ssoPrincipal{}, nil
	}
	out, err := ic.ids.DescribeUser(ctx, &identitystore.DescribeUserInput{IdentityStoreId: str(ic.storeID), UserId: str(id)})
	switch {
	case hasCode(err, "ResourceNotFoundException"):
		return ssoPrincipal{}, nil
	case err != nil:
		return ssoPrincipal{}, awsError(ctx, err, "look up Identity Center user "+id)
	}
	return ssoPrincipal{name: aws.ToString(out.UserName), exists: true}, nil
}

// ssoGroup looks a group up; a missing group is not an error here.
func (ic *identityCenter) ssoGroup(ctx context.Context, id string) (ssoPrincipal, error) {
	if !identityStoreIDPattern.MatchString(id) {
		return ssoPrincipal{}, nil
	}
	out, err := ic.ids.DescribeGroup(ctx, &identitystore.DescribeGroupInput{IdentityStoreId: str(ic.storeID), GroupId: str(id)})
	switch {
	case hasCode(err, "ResourceNotFoundException"):
		return ssoPrincipal{}, nil
	case err != nil:
		return ssoPrincipal{}, awsError(ctx, err, "look up Identity Center group "+id)
	}
	name := aws.ToString(out.DisplayName)
	if name == "" {
		name = id
	}
	return ssoPrincipal{name: name, exists: true, external: len(out.ExternalIds) > 0}, nil
}
