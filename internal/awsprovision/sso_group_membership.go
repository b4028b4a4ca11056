package awsprovision

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	istypes "github.com/aws/aws-sdk-go-v2/service/identitystore/types"
	"go.uber.org/zap"
)

// SSOGroupMembership is an IAM Identity Center user's membership of an Identity Center
// group, by identity store ids.
type SSOGroupMembership struct {
	GroupID string
	UserID  string
}

// Kind implements Access.
func (SSOGroupMembership) Kind() string { return "sso_group_membership" }

func (m SSOGroupMembership) String() string { return "user " + m.UserID + " in group " + m.GroupID }

func (m SSOGroupMembership) logFields() []zap.Field {
	return []zap.Field{zap.String("principal", m.UserID), zap.String("group", m.GroupID)}
}

// sessionCaveat is what a revoke cannot take back: Identity Center sessions already
// started last until they expire.
const sessionCaveat = "sessions already started through Identity Center keep working until they expire, up to the permission set's session duration (at most 12 hours)"

func (p *Provisioner) ssoGroupMembership(ctx context.Context, j *journal, action Action, m SSOGroupMembership, res *Result) error {
	revoking := action == ActionRevoke
	if !identityStoreIDPattern.MatchString(m.GroupID) {
		return errorf(KindUnknownTarget, "%q is not an Identity Center group id (an identity store GroupId such as 9067a0a2f1-0b7c8d9e-...)", m.GroupID)
	}
	if !identityStoreIDPattern.MatchString(m.UserID) {
		return errorf(KindUnknownPrincipal, "%q is not an Identity Center user id (an identity store UserId)", m.UserID)
	}
	ic, err := p.identityCenter(ctx)
	if err != nil {
		return err
	}
	res.Role = p.sess.ConnectorRoleARN()
	res.Description = fmt.Sprintf("Identity Center user %s in group %s", m.UserID, m.GroupID)

	group, err := ic.ssoGroup(ctx, m.GroupID)
	if err != nil {
		return err
	}
	if !group.exists {
		if revoking {
			res.note("the group " + m.GroupID + " does not exist in identity store " + ic.storeID)
			res.settle(AlreadyAbsent, j.last())
			return nil
		}
		return errorf(KindUnknownTarget, "no group %s in identity store %s", m.GroupID, ic.storeID)
	}
	user, err := ic.ssoUser(ctx, m.UserID)
	if err != nil {
		return err
	}
	if !user.exists {
		if revoking {
			res.note("the user " + m.UserID + " does not exist in identity store " + ic.storeID)
			res.settle(AlreadyAbsent, j.last())
			return nil
		}
		return errorf(KindUnknownPrincipal, "no user %s in identity store %s", m.UserID, ic.storeID)
	}
	res.Description = fmt.Sprintf("Identity Center user %s in group %s", user.name, group.name)
	if group.external {
		res.note("the group " + group.name + " is managed by an external identity provider (SCIM); its next push may undo this change")
	}

	member := &istypes.MemberIdMemberUserId{Value: m.UserID}
	got, err := ic.ids.GetGroupMembershipId(ctx, &identitystore.GetGroupMembershipIdInput{IdentityStoreId: str(ic.storeID), GroupId: str(m.GroupID), MemberId: member})
	exists := err == nil
	if err != nil && !hasCode(err, "ResourceNotFoundException") {
		return awsError(ctx, err, "look up the membership of "+user.name+" in "+group.name)
	}
	checked := j.last()

	op := "CreateGroupMembership"
	if revoking {
		op = "DeleteGroupMembership"
	}
	switch {
	case !revoking && exists:
		res.settle(AlreadyExisted, checked)
		return nil
	case revoking && !exists:
		res.settle(AlreadyAbsent, checked)
		return nil
	case checking(ctx):
		settleCheck(res, revoking)
		return nil
	}
	if revoking {
		res.note(sessionCaveat)
	}
	switch {
	case p.opts.DryRun:
		c := p.connectorCall("identitystore", op, Param{"IdentityStoreId", ic.storeID})
		if revoking {
			c.Params = append(c.Params, Param{"MembershipId", aws.ToString(got.MembershipId)})
			res.Outcome = WouldRemove
		} else {
			c.Params = append(c.Params, Param{"GroupId", m.GroupID}, Param{"MemberId.UserId", m.UserID})
			res.Outcome = WouldCreate
		}
		res.Planned = []Call{c}
		var problems []dryRunProblem
		ac, err := p.iamIn(ctx, p.sess.CallerAccountID())
		if err != nil {
			return err
		}
		if err := p.checkPermissions(ctx, ac, []permissionCheck{{"identitystore:" + op, "*"}}, &problems, res); err != nil {
			return err
		}
		settleDryRun(res, res.Outcome, problems)
		return nil
	}

	// Both calls are synchronous: the answer is AWS's confirmation.
	if revoking {
		_, err := ic.ids.DeleteGroupMembership(ctx, &identitystore.DeleteGroupMembershipInput{IdentityStoreId: str(ic.storeID), MembershipId: got.MembershipId})
		switch {
		case hasCode(err, "ResourceNotFoundException"):
			res.settle(AlreadyAbsent, j.last())
			return nil
		case err != nil:
			return awsError(ctx, err, "remove "+user.name+" from Identity Center group "+group.name)
		}
		res.settle(Removed, j.last())
		return nil
	}
	_, err = ic.ids.CreateGroupMembership(ctx, &identitystore.CreateGroupMembershipInput{IdentityStoreId: str(ic.storeID), GroupId: str(m.GroupID), MemberId: member})
	switch {
	case hasCode(err, "ConflictException"):
		// Added by someone else since the check: the membership exists, which is the goal.
		res.settle(AlreadyExisted, j.last())
		return nil
	case err != nil:
		return awsError(ctx, err, "add "+user.name+" to Identity Center group "+group.name)
	}
	res.settle(Created, j.last())
	return nil
}
