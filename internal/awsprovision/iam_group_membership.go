package awsprovision

import (
	"context"
	"fmt"
	"regexp"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"go.uber.org/zap"
)

// IAMGroupMembership is an IAM user's membership of an IAM group. An IAM group holds
// users of its own account only, so both ARNs name one account, and the change is made
// in that account: through the member-account role, or as the connector in its own.
type IAMGroupMembership struct {
	GroupARN string
	UserARN  string
}

// Kind implements Access.
func (IAMGroupMembership) Kind() string { return "iam_group_membership" }

func (m IAMGroupMembership) String() string { return m.UserARN + " in " + m.GroupARN }

func (m IAMGroupMembership) logFields() []zap.Field {
	return []zap.Field{zap.String("principal", m.UserARN), zap.String("group", m.GroupARN)}
}

// iamARN is an IAM user or group ARN taken apart:
// arn:<partition>:iam::<account>:<kind>/<path...>/<name>.
type iamARN struct {
	account, kind, name string
}

var iamARNPattern = regexp.MustCompile(`^arn:aws[a-z-]*:iam::(\d{12}):(user|group)(/.*)?/([\w+=,.@-]+)$`)

func parseIAMARN(arn string) (iamARN, bool) {
	m := iamARNPattern.FindStringSubmatch(arn)
	if m == nil {
		return iamARN{}, false
	}
	return iamARN{account: m[1], kind: m[2], name: m[4]}, true
}

func (p *Provisioner) iamGroupMembership(ctx context.Context, j *journal, action Action, m IAMGroupMembership, res *Result) error {
	g, ok := parseIAMARN(m.GroupARN)
	if !ok || g.kind != "group" {
		return errorf(KindUnknownTarget, "%q is not an IAM group ARN (arn:aws:iam::ACCOUNT:group/NAME)", m.GroupARN)
	}
	u, ok := parseIAMARN(m.UserARN)
	if !ok || u.kind != "user" {
		return errorf(KindWrongPrincipal, "%q is not an IAM user ARN (arn:aws:iam::ACCOUNT:user/NAME): IAM groups hold IAM users only", m.UserARN)
	}
	res.Description = fmt.Sprintf("IAM user %s in IAM group %s of account %s", u.name, g.name, g.account)
	res.Account = g.account
	if u.account != g.account {
		return errorf(KindWrongPrincipal, "IAM group %s is in account %s and can only hold users of that account; user %s is in account %s",
			g.name, g.account, u.name, u.account)
	}
	c, err := p.iamIn(ctx, g.account)
	res.Role = c.role
	if err != nil {
		return err
	}
	revoking := action == ActionRevoke

	grp, err := c.iam.GetGroup(ctx, &iam.GetGroupInput{GroupName: str(g.name), MaxItems: aws.Int32(1)})
	switch {
	case hasCode(err, "NoSuchEntity"):
		if revoking {
			res.note("the group " + m.GroupARN + " does not exist")
			res.settle(AlreadyAbsent, j.last())
			return nil
		}
		return &Error{Kind: KindUnknownTarget, Err: err, Msg: fmt.Sprintf("no IAM group %s in account %s", m.GroupARN, g.account)}
	case err != nil:
		return awsError(ctx, err, "read IAM group "+g.name+" in account "+g.account)
	case grp.Group != nil && aws.ToString(grp.Group.Arn) != m.GroupARN:
		// Same name, other path: the ARN asked for names nothing.
		return errorf(KindUnknownTarget, "no IAM group %s in account %s (the group named %s is %s)", m.GroupARN, g.account, g.name, aws.ToString(grp.Group.Arn))
	}

	usr, err := c.iam.GetUser(ctx, &iam.GetUserInput{UserName: str(u.name)})
	switch {
	case hasCode(err, "NoSuchEntity"):
		if revoking {
			res.note("the user " + m.UserARN + " does not exist")
			res.settle(AlreadyAbsent, j.last())
			return nil
		}
		return &Error{Kind: KindUnknownPrincipal, Err: err, Msg: fmt.Sprintf("no IAM user %s in account %s", m.UserARN, u.account)}
	case err != nil:
		return awsError(ctx, err, "read IAM user "+u.name+" in account "+u.account)
	case usr.User != nil && aws.ToString(usr.User.Arn) != m.UserARN:
		return errorf(KindUnknownPrincipal, "no IAM user %s in account %s (the user named %s is %s)", m.UserARN, u.account, u.name, aws.ToString(usr.User.Arn))
	}

	// The user's groups rather than the group's members: a user is in at most a handful
	// of groups, a group can hold thousands of users.
	member := false
	var marker *string
	for {
		out, err := c.iam.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: str(u.name), MaxItems: aws.Int32(1000), Marker: marker})
		if err != nil {
			return awsError(ctx, err, "list the IAM groups of "+u.name+" in account "+u.account)
		}
		for _, gr := range out.Groups {
			if aws.ToString(gr.Arn) == m.GroupARN {
				member = true
			}
		}
		if !out.IsTruncated || aws.ToString(out.Marker) == "" {
			break
		}
		marker = out.Marker
	}
	checked := j.last()

	op := "AddUserToGroup"
	if revoking {
		op = "RemoveUserFromGroup"
	}
	switch {
	case !revoking && member:
		res.settle(AlreadyExisted, checked)
		return nil
	case revoking && !member:
		res.settle(AlreadyAbsent, checked)
		return nil
	case checking(ctx):
		settleCheck(res, revoking)
		return nil
	case p.opts.DryRun:
		res.Planned = []Call{{Service: "iam", Operation: op, Account: g.account, Role: c.role,
			Params: []Param{{"GroupName", g.name}, {"UserName", u.name}}}}
		planned := WouldCreate
		if revoking {
			planned = WouldRemove
		}
		var problems []dryRunProblem
		if err := p.checkPermissions(ctx, c, []permissionCheck{{"iam:" + op, m.GroupARN}}, &problems, res); err != nil {
			return err
		}
		settleDryRun(res, planned, problems)
		return nil
	}

	// IAM answers both calls synchronously: a success is AWS's confirmation.
	if revoking {
		_, err = c.iam.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{GroupName: str(g.name), UserName: str(u.name)})
		switch {
		case hasCode(err, "NoSuchEntity"):
			// Removed by someone else since the check.
			res.settle(AlreadyAbsent, j.last())
			return nil
		case err != nil:
			return awsError(ctx, err, "remove "+u.name+" from IAM group "+g.name+" in account "+g.account)
		}
		res.settle(Removed, j.last())
		return nil
	}
	if _, err := c.iam.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: str(g.name), UserName: str(u.name)}); err != nil {
		if hasCode(err, "LimitExceeded") {
			return &Error{Kind: KindFailed, Err: err, RequestID: requestIDOf(err),
				Msg: fmt.Sprintf("IAM refused to add %s to %s: %s (an IAM user can be in at most 10 groups)", u.name, g.name, describe(err))}
		}
		return awsError(ctx, err, "add "+u.name+" to IAM group "+g.name+" in account "+g.account)
	}
	res.settle(Created, j.last())
	return nil
}
