package awsprovision

import (
	"context"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	istypes "github.com/aws/aws-sdk-go-v2/service/identitystore/types"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
	"go.uber.org/zap"
)

// PrincipalType is the kind of Identity Center principal of an assignment, as AWS spells
// it.
type PrincipalType string

// The principal types.
const (
	PrincipalUser  PrincipalType = "USER"
	PrincipalGroup PrincipalType = "GROUP"
)

// AccountAssignment is an Identity Center user or group holding a permission set in an
// AWS account.
type AccountAssignment struct {
	AccountID string
	// PermissionSet is the permission set's id (ps-...) or ARN.
	PermissionSet string
	PrincipalType PrincipalType
	PrincipalID   string
}

// Kind implements Access.
func (AccountAssignment) Kind() string { return "account_assignment" }

func (a AccountAssignment) String() string {
	return fmt.Sprintf("%s %s with %s in %s", a.PrincipalType, a.PrincipalID, a.PermissionSet, a.AccountID)
}

func (a AccountAssignment) logFields() []zap.Field {
	return []zap.Field{zap.String("principal", string(a.PrincipalType)+":"+a.PrincipalID),
		zap.String("permission_set", a.PermissionSet)}
}

// MaxCreationsInProgress is AWS's limit of CreateAccountAssignment operations in progress
// per Identity Center instance ("a maximum rate of 10 outstanding async calls", not
// adjustable). AWS answers the 11th with ThrottlingException.
const MaxCreationsInProgress = 10

// creationSlots queues creations on the client side, one semaphore per instance for the
// whole process, so that every grant the process makes (CLI, connector, tests with
// several provisioners) stays within the limit instead of meeting it as errors. Other
// processes and tools spend the same limit, so a ThrottlingException is still retried.
var creationSlots = struct {
	mu         sync.Mutex
	byInstance map[string]chan struct{}
}{byInstance: map[string]chan struct{}{}}

// creationSlot waits for a creation slot of the instance until the deadline and returns
// the function that frees it. It is the default of Options.Limiter's AcquireCreation.
func creationSlot(ctx context.Context, instanceARN string, deadline time.Time) (func(), error) {
	creationSlots.mu.Lock()
	slots := creationSlots.byInstance[instanceARN]
	if slots == nil {
		slots = make(chan struct{}, MaxCreationsInProgress)
		creationSlots.byInstance[instanceARN] = slots
	}
	creationSlots.mu.Unlock()
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	select {
	case slots <- struct{}{}:
		return func() { <-slots }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-timer.C:
		return nil, errorf(KindTimeout, "no account assignment creation slot became free in time: %d creations were in progress in this process for the whole wait", MaxCreationsInProgress)
	}
}

// pendingOperation is an assignment operation AWS may still be running after its wait
// ran out. A retry in this process continues it instead of starting another.
type pendingOperation struct {
	requestID string
	deletion  bool
}

var (
	accountIDPattern       = regexp.MustCompile(`^\d{12}$`)
	permissionSetIDPattern = regexp.MustCompile(`^ps-[a-zA-Z0-9-./]{16}$`)
)

func (p *Provisioner) accountAssignment(ctx context.Context, j *journal, action Action, a AccountAssignment, res *Result) error {
	revoking := action == ActionRevoke
	res.Account = a.AccountID
	switch {
	case !accountIDPattern.MatchString(a.AccountID):
		return errorf(KindUnknownTarget, "%q is not an AWS account id (12 digits)", a.AccountID)
	case !strings.HasPrefix(a.PermissionSet, "arn:") && !permissionSetIDPattern.MatchString(a.PermissionSet):
		return errorf(KindUnknownTarget, "%q is not a permission set id (ps- and 16 characters) or ARN", a.PermissionSet)
	case a.PrincipalType != PrincipalUser && a.PrincipalType != PrincipalGroup:
		return errorf(KindWrongPrincipal, "an account assignment is held by an Identity Center USER or GROUP, not %q", a.PrincipalType)
	case !identityStoreIDPattern.MatchString(a.PrincipalID):
		return errorf(KindUnknownPrincipal, "%q is not an Identity Center %s id", a.PrincipalID, strings.ToLower(string(a.PrincipalType)))
	}
	ic, err := p.identityCenter(ctx)
	if err != nil {
		return err
	}
	res.Role = p.sess.ConnectorRoleARN()
	word := strings.ToLower(string(a.PrincipalType))
	res.Description = fmt.Sprintf("%s on account %s for %s %s", a.PermissionSet, a.AccountID, word, a.PrincipalID)

	// A revoke of something whose permission set, account or principal is gone is
	// already done; a grant of it is an error a person has to fix.
	absent := func(why string) error {
		res.note(why)
		res.settle(AlreadyAbsent, j.last())
		return nil
	}
	psARN, err := p.permissionSetARN(ctx, ic, a.PermissionSet)
	if err != nil {
		if revoking && KindOf(err) == KindUnknownTarget {
			return absent(err.Error())
		}
		return err
	}
	res.Description = fmt.Sprintf("%s on account %s for %s %s", psARN, a.AccountID, word, a.PrincipalID)
	ps, err := p.permissionSet(ctx, ic, psARN)
	if err != nil {
		if revoking && KindOf(err) == KindUnknownTarget {
			return absent(err.Error())
		}
		return err
	}
	acct, err := p.accountOf(ctx, ic, a.AccountID)
	if err != nil {
		if revoking && KindOf(err) == KindUnknownTarget {
			return absent(err.Error())
		}
		return err
	}
	var principal ssoPrincipal
	ro := RevokeOptions{}
	if revoking {
		ro = revokeOptions(ctx)
	}
	switch {
	case ro.PrincipalName != "":
		// The caller resolved the principal when it granted: a revoke needs no more than
		// its id (a deleted principal's assignments are deleted all the same).
		principal = ssoPrincipal{name: ro.PrincipalName, exists: true}
	case a.PrincipalType == PrincipalUser:
		principal, err = ic.ssoUser(ctx, a.PrincipalID)
	default:
		principal, err = ic.ssoGroup(ctx, a.PrincipalID)
	}
	if err != nil {
		return err
	}
	name := principal.name
	if !principal.exists {
		if !revoking {
			return errorf(KindUnknownPrincipal, "no %s %s in identity store %s", word, a.PrincipalID, ic.storeID)
		}
		// AWS keeps the assignments of a deleted user or group, and they can be deleted.
		name = a.PrincipalID + " (no longer in the identity store)"
	}
	res.Description = fmt.Sprintf("%s on account %s for %s %s", ps.name, acct.label, word, name)

	holders, err := assignmentsOf(ctx, ic, a.AccountID, psARN)
	if err != nil {
		return err
	}
	checked := j.last()
	exists := false
	for _, h := range holders {
		if h.PrincipalType == ssotypes.PrincipalType(a.PrincipalType) && aws.ToString(h.PrincipalId) == a.PrincipalID {
			exists = true
		}
	}
	if revoking && a.PrincipalType == PrincipalUser && !ro.SkipGroupHolders {
		// Revoking a user's own assignment does not take away what a group gives them.
		if err := p.noteGroupHolders(ctx, ic, res, holders, a.PrincipalID, ps.name); err != nil {
			return err
		}
	}
	key := AccountAssignment{AccountID: a.AccountID, PermissionSet: psARN, PrincipalType: a.PrincipalType, PrincipalID: a.PrincipalID}
	switch {
	case !revoking && exists:
		p.clearPending(key) // an earlier attempt's operation, if any, has finished
		res.settle(AlreadyExisted, checked)
		return nil
	case revoking && !exists:
		p.clearPending(key)
		res.settle(AlreadyAbsent, checked)
		return nil
	case checking(ctx):
		settleCheck(res, revoking)
		return nil
	}

	if revoking {
		caveat := "sessions already started with " + ps.name + " keep working until they expire"
		if d := ps.sessionDuration; d != "" {
			caveat += ", up to " + strings.ToLower(strings.TrimPrefix(d, "PT")) + " (the permission set's session duration)"
		}
		res.note(caveat)
	} else {
		provisioned, err := isProvisioned(ctx, ic, a.AccountID, psARN)
		if err != nil {
			return err
		}
		if !provisioned {
			res.note(fmt.Sprintf("the permission set %s was not provisioned to account %s yet: this assignment provisions it (creating its AWSReservedSSO_%s role there), as the AWS console does", ps.name, a.AccountID, ps.name))
		}
	}

	target := []Param{{"InstanceArn", ic.instanceARN}, {"TargetId", a.AccountID}, {"TargetType", "AWS_ACCOUNT"},
		{"PermissionSetArn", psARN}, {"PrincipalType", string(a.PrincipalType)}, {"PrincipalId", a.PrincipalID}}
	if p.opts.DryRun {
		write, poll, idParam := "CreateAccountAssignment", "DescribeAccountAssignmentCreationStatus", "AccountAssignmentCreationRequestId"
		planned := WouldCreate
		if revoking {
			write, poll, idParam = "DeleteAccountAssignment", "DescribeAccountAssignmentDeletionStatus", "AccountAssignmentDeletionRequestId"
			planned = WouldRemove
		}
		status := p.connectorCall("sso", poll, Param{"InstanceArn", ic.instanceARN}, Param{idParam, "(the RequestId " + write + " returns)"})
		status.Note = fmt.Sprintf("repeated until SUCCEEDED or FAILED, for up to %s", p.opts.AssignmentWait)
		res.Planned = []Call{p.connectorCall("sso", write, target...), status}
		var problems []dryRunProblem
		c, err := p.iamIn(ctx, p.sess.CallerAccountID())
		if err != nil {
			return err
		}
		if err := p.checkPermissions(ctx, c, []permissionCheck{{"sso:" + write, "*"}, {"sso:" + poll, "*"}}, &problems, res); err != nil {
			return err
		}
		if pr := accountStateProblem(acct, a.AccountID, res); pr != nil {
			problems = append(problems, *pr)
		}
		settleDryRun(res, planned, problems)
		return nil
	}

	deadline := time.Now().Add(p.opts.AssignmentWait)
	var (
		requestID string
		status    ssotypes.StatusValues
		reason    string
	)
	if op, ok := p.pendingOp(key); ok && op.deletion == revoking {
		requestID = op.requestID
		res.note("continued request " + requestID + ", which an earlier attempt started and AWS had not finished")
	} else if revoking {
		out, err := retryBusy(ctx, deadline, func() (*ssoadmin.DeleteAccountAssignmentOutput, error) {
			return ic.sso.DeleteAccountAssignment(ctx, &ssoadmin.DeleteAccountAssignmentInput{InstanceArn: str(ic.instanceARN),
				TargetId: str(a.AccountID), TargetType: ssotypes.TargetTypeAwsAccount, PermissionSetArn: str(psARN),
				PrincipalType: ssotypes.PrincipalType(a.PrincipalType), PrincipalId: str(a.PrincipalID)})
		})
		if err != nil {
			return awsError(ctx, err, "delete the assignment of "+res.Description)
		}
		res.Evidence = append(res.Evidence, j.last())
		if s := out.AccountAssignmentDeletionStatus; s != nil {
			requestID, status, reason = aws.ToString(s.RequestId), s.Status, aws.ToString(s.FailureReason)
		}
	} else {
		acquire := creationSlot
		if p.opts.Limiter != nil {
			acquire = p.opts.Limiter.AcquireCreation
		}
		release, err := acquire(ctx, ic.instanceARN, deadline)
		if err != nil {
			return err
		}
		// The slot is held until AWS has finished: that is when AWS frees its own.
		defer release()
		out, err := retryBusy(ctx, deadline, func() (*ssoadmin.CreateAccountAssignmentOutput, error) {
			return ic.sso.CreateAccountAssignment(ctx, &ssoadmin.CreateAccountAssignmentInput{InstanceArn: str(ic.instanceARN),
				TargetId: str(a.AccountID), TargetType: ssotypes.TargetTypeAwsAccount, PermissionSetArn: str(psARN),
				PrincipalType: ssotypes.PrincipalType(a.PrincipalType), PrincipalId: str(a.PrincipalID)})
		})
		if err != nil {
			return awsError(ctx, err, "create the assignment of "+res.Description)
		}
		res.Evidence = append(res.Evidence, j.last())
		if s := out.AccountAssignmentCreationStatus; s != nil {
			requestID, status, reason = aws.ToString(s.RequestId), s.Status, aws.ToString(s.FailureReason)
		}
	}
	if requestID == "" {
		return errorf(KindOther, "AWS accepted the change of %s without a request id to follow", res.Description)
	}
	p.setPending(key, pendingOperation{requestID: requestID, deletion: revoking})

	status, reason, err = p.await(ctx, ic, requestID, revoking, deadline, status, reason)
	if err != nil {
		if KindOf(err) == KindTimeout {
			doing := "assigning"
			if revoking {
				doing = "removing"
			}
			return &Error{Kind: KindTimeout, RequestID: requestID, Msg: fmt.Sprintf("AWS had not finished %s %s after %s: request %s is still IN_PROGRESS. It may yet complete; run the same command again to see (an assignment is unique in AWS, so a second request cannot duplicate it)",
				doing, res.Description, p.opts.AssignmentWait, requestID)}
		}
		return err
	}
	p.clearPending(key)
	res.Evidence = append(res.Evidence, j.last())
	if status == ssotypes.StatusValuesFailed {
		if reason == "" {
			reason = "AWS gave no reason"
		}
		verb := "assign"
		if revoking {
			verb = "remove"
		}
		return &Error{Kind: KindFailed, RequestID: requestID,
			Msg: fmt.Sprintf("AWS could not %s %s: FAILED: %s (request %s)", verb, res.Description, reason, requestID)}
	}
	if revoking {
		res.settle(Removed)
	} else {
		res.settle(Created)
	}
	return nil
}

// assignmentsOf lists who holds the permission set in the account.
func assignmentsOf(ctx context.Context, ic *identityCenter, accountID, psARN string) ([]ssotypes.AccountAssignment, error) {
	var all []ssotypes.AccountAssignment
	var token *string
	for {
		out, err := ic.sso.ListAccountAssignments(ctx, &ssoadmin.ListAccountAssignmentsInput{InstanceArn: str(ic.instanceARN),
			AccountId: str(accountID), PermissionSetArn: str(psARN), MaxResults: aws.Int32(100), NextToken: token})
		if err != nil {
			return nil, awsError(ctx, err, "list the assignments of "+psARN+" in account "+accountID)
		}
		all = append(all, out.AccountAssignments...)
		if token = out.NextToken; aws.ToString(token) == "" {
			return all, nil
		}
	}
}

// isProvisioned reports whether the permission set is provisioned to the account. An
// account has few permission sets provisioned, while a permission set may be
// provisioned to hundreds of accounts, so the account's list is the cheaper one to read.
func isProvisioned(ctx context.Context, ic *identityCenter, accountID, psARN string) (bool, error) {
	var token *string
	for {
		out, err := ic.sso.ListPermissionSetsProvisionedToAccount(ctx, &ssoadmin.ListPermissionSetsProvisionedToAccountInput{
			InstanceArn: str(ic.instanceARN), AccountId: str(accountID), MaxResults: aws.Int32(100), NextToken: token})
		if err != nil {
			return false, awsError(ctx, err, "list the permission sets provisioned to account "+accountID)
		}
		for _, arn := range out.PermissionSets {
			if arn == psARN {
				return true, nil
			}
		}
		if token = out.NextToken; aws.ToString(token) == "" {
			return false, nil
		}
	}
}

// noteGroupHolders notes the groups of the user that hold the permission set in the
// account as well: the user keeps the access through them.
func (p *Provisioner) noteGroupHolders(ctx context.Context, ic *identityCenter, res *Result, holders []ssotypes.AccountAssignment, userID, psName string) error {
	var groups []string
	for _, h := range holders {
		if h.PrincipalType == ssotypes.PrincipalTypeGroup && len(groups) < 100 {
			groups = append(groups, aws.ToString(h.PrincipalId))
		}
	}
	if len(groups) == 0 {
		return nil
	}
	out, err := ic.ids.IsMemberInGroups(ctx, &identitystore.IsMemberInGroupsInput{IdentityStoreId: str(ic.storeID),
		MemberId: &istypes.MemberIdMemberUserId{Value: userID}, GroupIds: groups})
	if err != nil {
		return awsError(ctx, err, "check the groups of user "+userID)
	}
	var names []string
	for _, r := range out.Results {
		if !r.MembershipExists {
			continue
		}
		g, err := ic.ssoGroup(ctx, aws.ToString(r.GroupId))
		if err != nil {
			return err
		}
		names = append(names, g.name+" ("+aws.ToString(r.GroupId)+")")
	}
	if len(names) > 0 {
		res.note("the user still holds " + psName + " in this account through the group " + strings.Join(names, ", "))
	}
	return nil
}

// await polls an assignment operation until it is SUCCEEDED or FAILED, with jittered
// exponential backoff, until the deadline (a KindTimeout error). The first poll waits
// what the provisioner learnt its kind of operation takes (firstPoll: a whole
// PollInterval at the least): a poll that comes too early only finds the operation
// IN_PROGRESS and costs a call of Identity Center's shared rate, which bounds how many
// leases can end at once. Its jitter is upwards (up to a quarter more), so that operations
// started together are still polled apart; later polls back off from there.
func (p *Provisioner) await(ctx context.Context, ic *identityCenter, requestID string, deletion bool, deadline time.Time, status ssotypes.StatusValues, reason string) (ssotypes.StatusValues, string, error) {
	fp := &p.firstPolls[0]
	if deletion {
		fp = &p.firstPolls[1]
	}
	wait := p.opts.PollInterval
	polls := 0
	for status != ssotypes.StatusValuesSucceeded && status != ssotypes.StatusValuesFailed {
		remaining := time.Until(deadline)
		if remaining <= 0 {
			return status, "", errorf(KindTimeout, "request %s still IN_PROGRESS", requestID)
		}
		d := jitter(wait)
		if polls == 0 {
			wait = fp.get(p.opts.PollInterval, p.opts.MaxPollInterval)
			d = wait + jitter(wait/2) - wait/4 // wait to 1.25 wait
		} else if polls == 1 {
			fp.observe(false, p.opts.PollInterval, p.opts.MaxPollInterval) // the first poll was early
		}
		polls++
		if err := sleep(ctx, min(d, remaining)); err != nil {
			return status, "", err
		}
		wait = min(wait*2, p.opts.MaxPollInterval)
		var s *ssotypes.AccountAssignmentOperationStatus
		if deletion {
			out, err := ic.sso.DescribeAccountAssignmentDeletionStatus(ctx, &ssoadmin.DescribeAccountAssignmentDeletionStatusInput{
				InstanceArn: str(ic.instanceARN), AccountAssignmentDeletionRequestId: str(requestID)})
			if err != nil {
				return status, "", awsError(ctx, err, "read the status of deletion request "+requestID)
			}
			s = out.AccountAssignmentDeletionStatus
		} else {
			out, err := ic.sso.DescribeAccountAssignmentCreationStatus(ctx, &ssoadmin.DescribeAccountAssignmentCreationStatusInput{
				InstanceArn: str(ic.instanceARN), AccountAssignmentCreationRequestId: str(requestID)})
			if err != nil {
				return status, "", awsError(ctx, err, "read the status of creation request "+requestID)
			}
			s = out.AccountAssignmentCreationStatus
		}
		if s != nil {
			status, reason = s.Status, aws.ToString(s.FailureReason)
		}
		if polls == 1 && (status == ssotypes.StatusValuesSucceeded || status == ssotypes.StatusValuesFailed) {
			fp.observe(true, p.opts.PollInterval, p.opts.MaxPollInterval)
		}
	}
	return status, reason, nil
}

// firstPoll learns how long to wait before the first status poll of an assignment
// operation: long enough that the first poll finds most operations done (AWS usually
// deletes an assignment in about a second; creations take longer), and no longer. It
// moves the wait 20% up when the first poll finds the operation still IN_PROGRESS and 2%
// down when it finds it done, which settles where about 9 first polls in 10 find it done,
// and follows AWS when it gets slower or faster. It stays within [PollInterval,
// MaxPollInterval].
type firstPoll struct {
	mu sync.Mutex
	d  time.Duration // 0 until the first observation: PollInterval
}

func (f *firstPoll) get(lo, hi time.Duration) time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return min(max(f.d, lo), hi)
}

func (f *firstPoll) observe(done bool, lo, hi time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d := min(max(f.d, lo), hi)
	if done {
		d -= d / 50
	} else {
		d += d / 5
	}
	f.d = min(max(d, lo), hi)
}

// retryBusy retries a create or delete that AWS answers with ConflictException (a
// create and a delete of the same assignment racing, an account being changed) or, once
// the SDK's own retries are spent, ThrottlingException (another tool spending the
// creation limit), with jittered exponential backoff until the deadline.
func retryBusy[T any](ctx context.Context, deadline time.Time, call func() (T, error)) (T, error) {
	backoff := 500 * time.Millisecond
	for {
		out, err := call()
		if err == nil || !hasCode(err, "ConflictException", "ThrottlingException") {
			return out, err
		}
		d := jitter(backoff)
		if time.Now().Add(d).After(deadline) {
			return out, err
		}
		if err := sleep(ctx, d); err != nil {
			return out, err
		}
		backoff = min(backoff*2, maxPollInterval)
	}
}

// jitter returns a duration between d/2 and d, so that concurrent waiters spread out.
func jitter(d time.Duration) time.Duration {
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *Provisioner) pendingOp(key AccountAssignment) (pendingOperation, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	op, ok := p.pending[key]
	return op, ok
}

func (p *Provisioner) setPending(key AccountAssignment, op pendingOperation) {
	p.mu.Lock()
	p.pending[key] = op
	p.mu.Unlock()
}

func (p *Provisioner) clearPending(key AccountAssignment) {
	p.mu.Lock()
	delete(p.pending, key)
	p.mu.Unlock()
}
