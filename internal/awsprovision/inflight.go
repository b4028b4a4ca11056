package awsprovision

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
)

// AwaitCreationInFlight finds a creation of the assignment that AWS is still running
// (IN_PROGRESS) and waits for it to finish, within the provisioner's AssignmentWait. It
// reports whether there was one. A caller that may have started a creation and then lost
// track of it (its process was killed between the call and its answer) calls it before
// granting again, so that the assignment is not created twice: a Grant after it finds the
// assignment there, or finds AWS's failure over.
func (p *Provisioner) AwaitCreationInFlight(ctx context.Context, a AccountAssignment) (bool, error) {
	return p.awaitInFlight(ctx, a, false)
}

// AwaitDeletionInFlight is AwaitCreationInFlight for a deletion: a caller about to grant
// an assignment that a revoke (of a process that died) may still be deleting waits for
// the deletion, so that a Grant does not find the assignment "already there" just before
// AWS removes it.
func (p *Provisioner) AwaitDeletionInFlight(ctx context.Context, a AccountAssignment) (bool, error) {
	return p.awaitInFlight(ctx, a, true)
}

// awaitInFlight lists the instance's operations in progress of one kind and awaits the
// one of the assignment, if any. AWS lists operations without their assignments, so each
// is described: at most MaxCreationsInProgress for creations; deletions have no such
// limit, so callers ask only when a deletion may be in flight.
func (p *Provisioner) awaitInFlight(ctx context.Context, a AccountAssignment, deletion bool) (bool, error) {
	ic, err := p.identityCenter(ctx)
	if err != nil {
		return false, err
	}
	psARN, err := p.permissionSetARN(ctx, ic, a.PermissionSet)
	if err != nil {
		return false, err
	}
	what := "creation"
	if deletion {
		what = "deletion"
	}
	filter := &ssotypes.OperationStatusFilter{Status: ssotypes.StatusValuesInProgress}
	var token *string
	for {
		var ids []string
		if deletion {
			out, err := ic.sso.ListAccountAssignmentDeletionStatus(ctx, &ssoadmin.ListAccountAssignmentDeletionStatusInput{
				InstanceArn: str(ic.instanceARN), Filter: filter, MaxResults: aws.Int32(100), NextToken: token})
			if err != nil {
				return false, awsError(ctx, err, "list the account assignment deletions in progress")
			}
			for _, m := range out.AccountAssignmentsDeletionStatus {
				ids = append(ids, aws.ToString(m.RequestId))
			}
			token = out.NextToken
		} else {
			out, err := ic.sso.ListAccountAssignmentCreationStatus(ctx, &ssoadmin.ListAccountAssignmentCreationStatusInput{
				InstanceArn: str(ic.instanceARN), Filter: filter, MaxResults: aws.Int32(100), NextToken: token})
			if err != nil {
				return false, awsError(ctx, err, "list the account assignment creations in progress")
			}
			for _, m := range out.AccountAssignmentsCreationStatus {
				ids = append(ids, aws.ToString(m.RequestId))
			}
			token = out.NextToken
		}
		for _, id := range ids {
			var s *ssotypes.AccountAssignmentOperationStatus
			if deletion {
				d, err := ic.sso.DescribeAccountAssignmentDeletionStatus(ctx, &ssoadmin.DescribeAccountAssignmentDeletionStatusInput{
					InstanceArn: str(ic.instanceARN), AccountAssignmentDeletionRequestId: str(id)})
				if err != nil {
					return false, awsError(ctx, err, "read the status of deletion request "+id)
				}
				s = d.AccountAssignmentDeletionStatus
			} else {
				d, err := ic.sso.DescribeAccountAssignmentCreationStatus(ctx, &ssoadmin.DescribeAccountAssignmentCreationStatusInput{
					InstanceArn: str(ic.instanceARN), AccountAssignmentCreationRequestId: str(id)})
				if err != nil {
					return false, awsError(ctx, err, "read the status of creation request "+id)
				}
				s = d.AccountAssignmentCreationStatus
			}
			if s == nil || aws.ToString(s.TargetId) != a.AccountID || aws.ToString(s.PermissionSetArn) != psARN ||
				string(s.PrincipalType) != string(a.PrincipalType) || aws.ToString(s.PrincipalId) != a.PrincipalID {
				continue
			}
			deadline := time.Now().Add(p.opts.AssignmentWait)
			if _, _, err := p.await(ctx, ic, id, deletion, deadline, s.Status, aws.ToString(s.FailureReason)); err != nil {
				return true, fmt.Errorf("await the %s %s left in progress: %w", what, id, err)
			}
			return true, nil
		}
		if aws.ToString(token) == "" {
			return false, nil
		}
	}
}

// Has reports whether the access exists in AWS, with the reads a Grant makes before it
// writes (and none of its writes, nor a dry run's permission checks). A caller that must
// know whether access existed before it granted it (standing access, which it must never
// revoke) records the answer before it grants.
func (p *Provisioner) Has(ctx context.Context, a Access) (bool, error) {
	res, err := p.apply(context.WithValue(ctx, checkKey{}, true), ActionGrant, a)
	if err != nil {
		return false, err
	}
	return res.Outcome == AlreadyExisted, nil
}

type checkKey struct{}

// checking reports whether the change is Has's: read, decide, and stop before writing.
func checking(ctx context.Context) bool {
	v, _ := ctx.Value(checkKey{}).(bool)
	return v
}

// settleCheck ends a Has check that found the write would be needed.
func settleCheck(res *Result, revoking bool) {
	if revoking {
		res.Outcome = WouldRemove
	} else {
		res.Outcome = WouldCreate
	}
}
