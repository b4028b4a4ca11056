package awsprovision

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
)

// Ending the live sessions of a revoked account assignment.
//
// Deleting an account assignment stops the user from getting new credentials for the
// permission set, but credentials already issued stay valid for up to the permission
// set's session duration (up to 12 hours). AWS documents one way to end them, in the IAM
// Identity Center user guide ("Revoke active IAM role sessions created by permission
// sets", docs.aws.amazon.com/singlesignon/latest/userguide/useraccess.html#revoke-user-permissions,
// with the deny policy in .../prereqs-revoking-user-permissions.html, and "Revoke access
// for deleted users", .../authconcept-revoke-access.html): add to the permission set's
// inline policy an explicit Deny of every action on every resource with the condition
// identitystore:UserId equal to the user's id, then provision the permission set to the
// accounts (PutInlinePolicyToPermissionSet says that accounts get the change only with
// ProvisionPermissionSet). The roles of permission sets cannot be edited in IAM directly
// (the IAM user guide, "Disabling permissions for temporary security credentials").
//
// Gatehouse narrows AWS's deny the way the IAM console's "Revoke active sessions" does
// for a role (the IAM user guide, "Revoke IAM role temporary security credentials",
// docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_revoke-sessions.html): with
// DateLessThan on aws:TokenIssueTime, so that only sessions issued before the revoke
// are denied and the user can work again as soon as a new grant is made. It also
// requires aws:PrincipalAccount (the account of the role session) to be the account of
// the revoked assignment, so that the user's sessions of the same permission set in
// other accounts, which the revoke did not touch, keep working. Once the session
// duration has passed every session the deny stops has expired anyway, and
// LiftSessionDeny removes the statement again.
//
// The statement is text spliced into the inline policy, never a re-encoding of it: the
// rest of the document stays byte for byte as its author wrote it, and lifting the deny
// gives back exactly the document there was.

// Actions of the session deny.
const (
	ActionEndSessions     Action = "end_sessions"
	ActionLiftSessionDeny Action = "lift_session_deny"
)

// sessionDenySidPrefix starts the Sid of every statement Gatehouse adds to end sessions.
const sessionDenySidPrefix = "GatehouseEndSessions"

// wrappedSuffix ends the Sid of a statement added to a policy whose Statement was a single
// object, which Gatehouse turned into a list of two: the lift turns it back.
const wrappedSuffix = "Wrapped"

// Inline policy size limits: the API's length limit of the inline policy of a permission
// set (PutInlinePolicyToPermissionSet: "Maximum length of 32768"), and IAM's quota on the
// inline policies of a role, which the permission set's inline policy becomes in every
// account ("Role policy size cannot exceed 10,240 characters", whitespace not counted:
// docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html). The second is the
// one that binds.
const (
	maxInlinePolicyLength = 32768
	maxRolePolicySize     = 10240
)

// sessionDeny is the statement that denies a user's sessions of one account issued
// before a time.
type sessionDeny struct {
	userID, accountID string
	// before is the time, rounded up to the second: a session issued in the same second
	// as the revoke is denied too (it can only be older than the revoke or a new session
	// the user may start again at once).
	before time.Time
}

func newSessionDeny(a AccountAssignment, issuedBefore time.Time) sessionDeny {
	before := issuedBefore.UTC()
	if t := before.Truncate(time.Second); !t.Equal(before) {
		before = t.Add(time.Second)
	}
	return sessionDeny{userID: a.PrincipalID, accountID: a.AccountID, before: before}
}

// sid is the statement's id: the prefix and a digest of what it denies, so that the same
// revoke always names the same statement (IAM allows only letters and digits in a Sid).
func (d sessionDeny) sid() string {
	h := sha256.Sum256([]byte(d.userID + "|" + d.accountID + "|" + d.before.Format(time.RFC3339)))
	return sessionDenySidPrefix + hex.EncodeToString(h[:8])
}

// statement is the statement's JSON, compact, in a fixed order.
func (d sessionDeny) statement(wrapped bool) string {
	sid := d.sid()
	if wrapped {
		sid += wrappedSuffix
	}
	return `{"Sid":"` + sid + `","Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringEquals":{"identitystore:UserId":` +
		strconv.Quote(d.userID) + `,"aws:PrincipalAccount":"` + d.accountID + `"},"DateLessThan":{"aws:TokenIssueTime":"` +
		d.before.Format(time.RFC3339) + `"}}}`
}

// span is a byte range [start, end) of a document.
type span struct{ start, end int }

// statementSpans finds the value of the policy's top-level Statement and, when it is a
// list, the span of each element.
func statementSpans(doc string) (value span, elems []span, err error) {
	dec := json.NewDecoder(strings.NewReader(doc))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return span{}, nil, fmt.Errorf("it is not a JSON object")
	}
	found := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return span{}, nil, fmt.Errorf("it is not valid JSON: %v", err)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return span{}, nil, fmt.Errorf("it is not valid JSON: %v", err)
		}
		if tok == "Statement" {
			end := int(dec.InputOffset())
			value, found = span{end - len(raw), end}, true
		}
	}
	if !found {
		return span{}, nil, fmt.Errorf("it has no Statement")
	}
	if doc[value.start] != '[' {
		return value, nil, nil
	}
	dec = json.NewDecoder(strings.NewReader(doc[value.start:value.end]))
	if _, err := dec.Token(); err != nil {
		return span{}, nil, err
	}
	for dec.More() {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return span{}, nil, err
		}
		end := value.start + int(dec.InputOffset())
		elems = append(elems, span{end - len(raw), end})
	}
	return value, elems, nil
}

// sidOf returns the Sid of a statement's JSON ("" when it has none or is not an object).
func sidOf(stmt string) string {
	var s struct{ Sid string }
	if json.Unmarshal([]byte(stmt), &s) != nil {
		return ""
	}
	return s.Sid
}

// addTo returns the inline policy with the statement added, and whether it changed (it
// does not when the statement is there already). An empty policy becomes a policy of the
// statement alone.
func (d sessionDeny) addTo(doc string) (string, bool, error) {
	if strings.TrimSpace(doc) == "" {
		return `{"Version":"2012-10-17","Statement":[` + d.statement(false) + `]}`, true, nil
	}
	value, elems, err := statementSpans(doc)
	if err != nil {
		return "", false, err
	}
	if d.find(doc, value, elems) >= 0 {
		return doc, false, nil
	}
	switch doc[value.start] {
	case '[':
		if len(elems) == 0 {
			at := value.start + 1
			return doc[:at] + d.statement(false) + doc[at:], true, nil
		}
		at := elems[len(elems)-1].end
		return doc[:at] + "," + d.statement(false) + doc[at:], true, nil
	case '{':
		return doc[:value.start] + "[" + doc[value.start:value.end] + "," + d.statement(true) + "]" + doc[value.end:], true, nil
	}
	return "", false, fmt.Errorf("its Statement is neither an object nor a list")
}

// find returns the index of the statement among the elements (0 for a single-object
// Statement that is it), or -1.
func (d sessionDeny) find(doc string, value span, elems []span) int {
	sid := d.sid()
	if doc[value.start] == '{' {
		if s := sidOf(doc[value.start:value.end]); s == sid || s == sid+wrappedSuffix {
			return 0
		}
		return -1
	}
	for i, e := range elems {
		if s := sidOf(doc[e.start:e.end]); s == sid || s == sid+wrappedSuffix {
			return i
		}
	}
	return -1
}

// presentIn reports whether the statement is in the inline policy.
func (d sessionDeny) presentIn(doc string) bool {
	if strings.TrimSpace(doc) == "" {
		return false
	}
	value, elems, err := statementSpans(doc)
	return err == nil && d.find(doc, value, elems) >= 0
}

// removeFrom returns the inline policy without the statement, and whether it changed.
// It undoes addTo exactly: the separator addTo wrote goes with the statement, and a
// Statement that addTo turned into a list becomes the single object again. A policy left
// without any statement is "" (the inline policy is then deleted: an empty Statement is
// not a valid policy).
func (d sessionDeny) removeFrom(doc string) (string, bool, error) {
	if strings.TrimSpace(doc) == "" {
		return doc, false, nil
	}
	value, elems, err := statementSpans(doc)
	if err != nil {
		return "", false, err
	}
	i := d.find(doc, value, elems)
	switch {
	case i < 0:
		return doc, false, nil
	case doc[value.start] == '{' || len(elems) == 1:
		return "", true, nil
	}
	if i == 1 && len(elems) == 2 && strings.HasSuffix(sidOf(doc[elems[1].start:elems[1].end]), wrappedSuffix) {
		// Back to the single object it was: addTo wrote "[" + it + "," + statement + "]".
		return doc[:value.start] + doc[elems[0].start:elems[0].end] + doc[value.end:], true, nil
	}
	cut := elems[i]
	if i > 0 {
		// From the comma after the previous element: addTo wrote "," and the statement
		// right after it.
		cut.start = elems[i-1].end + strings.LastIndexByte(doc[elems[i-1].end:cut.start], ',')
	} else {
		cut.end = elems[1].start
	}
	out := doc[:cut.start] + doc[cut.end:]
	if strings.HasSuffix(sidOf(doc[elems[i].start:elems[i].end]), wrappedSuffix) {
		// The statements after it came into the list addTo made; the mark that the list
		// was a single object goes to the next of Gatehouse's own statements, so that the
		// last lift turns it back.
		return passWrappedMark(out), true, nil
	}
	return out, true, nil
}

// passWrappedMark marks the first of Gatehouse's session deny statements of the policy
// (its own compact text, so the Sid is found verbatim) as the one whose lift turns the
// Statement list back into a single object.
func passWrappedMark(doc string) string {
	value, elems, err := statementSpans(doc)
	if err != nil || doc[value.start] != '[' {
		return doc
	}
	for _, e := range elems {
		sid := sidOf(doc[e.start:e.end])
		if !strings.HasPrefix(sid, sessionDenySidPrefix) || strings.HasSuffix(sid, wrappedSuffix) {
			continue
		}
		old := `"Sid":"` + sid + `"`
		if i := strings.Index(doc[e.start:e.end], old); i >= 0 {
			at := e.start + i + len(old) - 1
			return doc[:at] + wrappedSuffix + doc[at:]
		}
	}
	return doc
}

// policySize is the size IAM counts against its policy quotas: characters other than
// white space.
func policySize(doc string) int {
	n := 0
	for _, r := range doc {
		if !unicode.IsSpace(r) {
			n++
		}
	}
	return n
}

// isoDuration parses the ISO 8601 durations of permission sets (PT#H#M#S).
func isoDuration(s string) (time.Duration, bool) {
	rest, ok := strings.CutPrefix(s, "PT")
	if !ok || rest == "" {
		return 0, false
	}
	var total time.Duration
	for rest != "" {
		i := strings.IndexAny(rest, "HMS")
		if i <= 0 {
			return 0, false
		}
		n, err := strconv.Atoi(rest[:i])
		if err != nil {
			return 0, false
		}
		unit := map[byte]time.Duration{'H': time.Hour, 'M': time.Minute, 'S': time.Second}[rest[i]]
		total += time.Duration(n) * unit
		rest = rest[i+1:]
	}
	return total, total > 0
}

// EndSessions ends the user's live sessions of the assignment's permission set in the
// assignment's account that were issued before issuedBefore (the time of the revoke):
// it adds AWS's documented deny to the permission set's inline policy, merged with what
// is there, and provisions the permission set to every account it is provisioned to,
// waiting for AWS's final status. Call it after the assignment has been deleted.
//
// It is idempotent: a statement already there is not added twice, and accounts already
// up to date are not provisioned again (the Outcome is then AlreadyExisted). Another
// writer of the same inline policy (another replica, a person in the console) can
// overwrite it between the read and the write, as AWS offers no conditional write, so
// the policy is read again after provisioning and the change made again if it is gone.
//
// When the statement would not fit (the inline policy would exceed IAM's 10,240
// characters of a role's inline policies, whitespace not counted, or the API's 32,768),
// nothing is written and a KindFailed error says so: the sessions then stay valid until
// they expire, at most the permission set's session duration. Result.SessionDuration is
// that duration, read afresh: when LiftSessionDeny can remove the statement.
//
// Only a USER assignment has sessions of its own to end (AWS's deny names one user); a
// GROUP assignment is a KindWrongPrincipal error.
func (p *Provisioner) EndSessions(ctx context.Context, a AccountAssignment, issuedBefore time.Time) (*Result, error) {
	return p.sessionDeny(ctx, ActionEndSessions, a, issuedBefore)
}

// LiftSessionDeny removes the statement EndSessions added for the same assignment and
// time, leaving the rest of the inline policy byte for byte as it is (and deleting the
// inline policy when the statement was all of it, as it was when EndSessions created
// it), and provisions the permission set again. Call it once the session duration has
// passed since issuedBefore. A statement already gone is AlreadyAbsent.
func (p *Provisioner) LiftSessionDeny(ctx context.Context, a AccountAssignment, issuedBefore time.Time) (*Result, error) {
	return p.sessionDeny(ctx, ActionLiftSessionDeny, a, issuedBefore)
}

func (p *Provisioner) sessionDeny(ctx context.Context, action Action, a AccountAssignment, issuedBefore time.Time) (*Result, error) {
	start := time.Now()
	ctx, j := withJournal(ctx)
	res := &Result{Action: action, Access: a, DryRun: p.opts.DryRun}
	err := p.changeSessionDeny(ctx, j, action == ActionEndSessions, a, issuedBefore, res)
	res.Calls = j.all()
	res.Duration = time.Since(start)
	if err != nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	p.logResult(res, err)
	return res, err
}

// sessionDenyAttempts bounds the rounds of read, write, provision and check when another
// writer keeps changing the inline policy.
const sessionDenyAttempts = 3

func (p *Provisioner) changeSessionDeny(ctx context.Context, j *journal, adding bool, a AccountAssignment, issuedBefore time.Time, res *Result) error {
	res.Account = a.AccountID
	switch {
	case !accountIDPattern.MatchString(a.AccountID):
		return errorf(KindUnknownTarget, "%q is not an AWS account id (12 digits)", a.AccountID)
	case !strings.HasPrefix(a.PermissionSet, "arn:") && !permissionSetIDPattern.MatchString(a.PermissionSet):
		return errorf(KindUnknownTarget, "%q is not a permission set id (ps- and 16 characters) or ARN", a.PermissionSet)
	case a.PrincipalType != PrincipalUser:
		return errorf(KindWrongPrincipal, "only a USER assignment's sessions can be ended: AWS's deny names one Identity Center user (identitystore:UserId), and %s %s is not one; end the sessions of each member instead", a.PrincipalType, a.PrincipalID)
	case !identityStoreIDPattern.MatchString(a.PrincipalID):
		return errorf(KindUnknownPrincipal, "%q is not an Identity Center user id", a.PrincipalID)
	case issuedBefore.IsZero():
		return errorf(KindOther, "no time given: the sessions to end are those issued before the revoke")
	}
	ic, err := p.identityCenter(ctx)
	if err != nil {
		return err
	}
	res.Role = p.sess.ConnectorRoleARN()
	psARN, err := p.permissionSetARN(ctx, ic, a.PermissionSet)
	if err != nil {
		return err
	}
	// Described afresh rather than from the cache: the session duration says when the
	// deny may be lifted, and a person may have changed it since the cache was filled.
	out, err := ic.sso.DescribePermissionSet(ctx, &ssoadmin.DescribePermissionSetInput{InstanceArn: str(ic.instanceARN), PermissionSetArn: str(psARN)})
	if err != nil {
		if hasCode(err, "ResourceNotFoundException") {
			return &Error{Kind: KindUnknownTarget, Err: err, Msg: fmt.Sprintf("no permission set %s in the Identity Center instance %s", psARN, ic.instanceARN)}
		}
		return awsError(ctx, err, "describe the permission set "+psARN)
	}
	name, duration := psARN, "PT1H" // AWS's default session duration
	if d := out.PermissionSet; d != nil {
		name = aws.ToString(d.Name)
		if s := aws.ToString(d.SessionDuration); s != "" {
			duration = s
		}
	}
	if res.SessionDuration, _ = isoDuration(duration); res.SessionDuration == 0 {
		res.SessionDuration = 12 * time.Hour // unreadable: the longest AWS allows
	}
	d := newSessionDeny(a, issuedBefore)
	res.Description = fmt.Sprintf("sessions of user %s with %s in account %s issued before %s", a.PrincipalID, name, a.AccountID, d.before.Format(time.RFC3339))

	// One change of a permission set's inline policy at a time in this process; other
	// writers are caught by the check after provisioning.
	unlock := p.locks.lock("inline-policy|" + psARN)
	defer unlock()

	wrote := false
	for attempt := 1; ; attempt++ {
		doc, err := p.inlinePolicy(ctx, ic, psARN)
		if err != nil {
			return err
		}
		read := j.last()
		var next string
		var changed bool
		if adding {
			next, changed, err = d.addTo(doc)
		} else {
			next, changed, err = d.removeFrom(doc)
		}
		if err != nil {
			return errorf(KindOther, "the inline policy of permission set %s cannot be edited: %v; fix it in IAM Identity Center (the statement %s is what Gatehouse would %s)",
				name, err, d.sid(), map[bool]string{true: "add", false: "remove"}[adding])
		}
		if changed && adding {
			if n := policySize(next); n > maxRolePolicySize || len(next) > maxInlinePolicyLength {
				return errorf(KindFailed, "cannot end the %s: the deny does not fit in the inline policy of permission set %s (it would be %d characters without whitespace, %d with, over IAM's quota of %d for a role's inline policies or the API's %d). Nothing was changed: those sessions stay valid until they expire, at most %s after they were issued. Make room (move statements of the inline policy into a customer managed policy), then retry",
					res.Description, name, n, len(next), maxRolePolicySize, maxInlinePolicyLength, strings.ToLower(strings.TrimPrefix(duration, "PT")))
			}
		}
		outdated, err := outdatedAccounts(ctx, ic, psARN)
		if err != nil {
			return err
		}
		if !changed && len(outdated) == 0 {
			if wrote {
				res.settle(map[bool]Outcome{true: Created, false: Removed}[adding])
			} else {
				res.settle(map[bool]Outcome{true: AlreadyExisted, false: AlreadyAbsent}[adding], read)
			}
			return nil
		}
		if p.opts.DryRun {
			res.Planned = p.plannedSessionDeny(ic, psARN, next, changed)
			res.settle(map[bool]Outcome{true: WouldCreate, false: WouldRemove}[adding])
			return nil
		}
		if changed {
			if next == "" {
				_, err = ic.sso.DeleteInlinePolicyFromPermissionSet(ctx, &ssoadmin.DeleteInlinePolicyFromPermissionSetInput{InstanceArn: str(ic.instanceARN), PermissionSetArn: str(psARN)})
			} else {
				_, err = ic.sso.PutInlinePolicyToPermissionSet(ctx, &ssoadmin.PutInlinePolicyToPermissionSetInput{InstanceArn: str(ic.instanceARN), PermissionSetArn: str(psARN), InlinePolicy: str(next)})
			}
			if err != nil {
				return awsError(ctx, err, "write the inline policy of permission set "+name)
			}
			res.Evidence = append(res.Evidence, j.last())
			wrote = true
		} else {
			res.note(fmt.Sprintf("the inline policy was already as wanted; provisioned it to %d account(s) whose role was not up to date", len(outdated)))
		}
		if err := p.provisionAll(ctx, ic, psARN, name, res); err != nil {
			return err
		}
		wrote = true
		after, err := p.inlinePolicy(ctx, ic, psARN)
		if err != nil {
			return err
		}
		if d.presentIn(after) == adding {
			continue // as wanted: the next round finds nothing left to do and settles
		}
		if attempt == sessionDenyAttempts {
			return errorf(KindOther, "the inline policy of permission set %s was changed by someone else each of %d times Gatehouse wrote it; the %s were not changed for certain: retry later", name, attempt, res.Description)
		}
		res.note("the inline policy was changed by another writer after Gatehouse wrote it: written again")
	}
}

// inlinePolicy reads the permission set's inline policy ("" when it has none).
func (p *Provisioner) inlinePolicy(ctx context.Context, ic *identityCenter, psARN string) (string, error) {
	out, err := ic.sso.GetInlinePolicyForPermissionSet(ctx, &ssoadmin.GetInlinePolicyForPermissionSetInput{InstanceArn: str(ic.instanceARN), PermissionSetArn: str(psARN)})
	if err != nil {
		return "", awsError(ctx, err, "read the inline policy of permission set "+psARN)
	}
	return aws.ToString(out.InlinePolicy), nil
}

// outdatedAccounts lists the accounts the permission set is provisioned to whose role
// does not have its current definition.
func outdatedAccounts(ctx context.Context, ic *identityCenter, psARN string) ([]string, error) {
	var all []string
	var token *string
	for {
		out, err := ic.sso.ListAccountsForProvisionedPermissionSet(ctx, &ssoadmin.ListAccountsForProvisionedPermissionSetInput{
			InstanceArn: str(ic.instanceARN), PermissionSetArn: str(psARN), MaxResults: aws.Int32(100), NextToken: token,
			ProvisioningStatus: ssotypes.ProvisioningStatusLatestPermissionSetNotProvisioned})
		if err != nil {
			return nil, awsError(ctx, err, "list the accounts whose "+psARN+" is not up to date")
		}
		all = append(all, out.AccountIds...)
		if token = out.NextToken; aws.ToString(token) == "" {
			return all, nil
		}
	}
}

// provisionAll provisions the permission set to every account it is provisioned to and
// waits for AWS's final status.
func (p *Provisioner) provisionAll(ctx context.Context, ic *identityCenter, psARN, name string, res *Result) error {
	deadline := time.Now().Add(p.opts.AssignmentWait)
	out, err := retryBusy(ctx, deadline, func() (*ssoadmin.ProvisionPermissionSetOutput, error) {
		return ic.sso.ProvisionPermissionSet(ctx, &ssoadmin.ProvisionPermissionSetInput{InstanceArn: str(ic.instanceARN),
			PermissionSetArn: str(psARN), TargetType: ssotypes.ProvisionTargetTypeAllProvisionedAccounts})
	})
	if err != nil {
		return awsError(ctx, err, "provision permission set "+name)
	}
	res.Evidence = append(res.Evidence, journalOf(ctx).last())
	s := out.PermissionSetProvisioningStatus
	if s == nil || aws.ToString(s.RequestId) == "" {
		return errorf(KindOther, "AWS accepted the provisioning of %s without a request id to follow", name)
	}
	id, status, reason := aws.ToString(s.RequestId), s.Status, aws.ToString(s.FailureReason)
	wait := p.opts.PollInterval
	for status != ssotypes.StatusValuesSucceeded && status != ssotypes.StatusValuesFailed {
		remaining := time.Until(deadline)
		if remaining <= 0 {
			return &Error{Kind: KindTimeout, RequestID: id, Msg: fmt.Sprintf("AWS had not finished provisioning permission set %s after %s: request %s is still IN_PROGRESS; run the same change again to see", name, p.opts.AssignmentWait, id)}
		}
		if err := sleep(ctx, min(jitter(wait), remaining)); err != nil {
			return err
		}
		wait = min(wait*2, maxPollInterval)
		d, err := ic.sso.DescribePermissionSetProvisioningStatus(ctx, &ssoadmin.DescribePermissionSetProvisioningStatusInput{
			InstanceArn: str(ic.instanceARN), ProvisionPermissionSetRequestId: str(id)})
		if err != nil {
			return awsError(ctx, err, "read the status of provisioning request "+id)
		}
		if d.PermissionSetProvisioningStatus != nil {
			status, reason = d.PermissionSetProvisioningStatus.Status, aws.ToString(d.PermissionSetProvisioningStatus.FailureReason)
		}
	}
	res.Evidence = append(res.Evidence, journalOf(ctx).last())
	if status == ssotypes.StatusValuesFailed {
		if reason == "" {
			reason = "AWS gave no reason"
		}
		return &Error{Kind: KindFailed, RequestID: id, Msg: fmt.Sprintf("AWS could not provision permission set %s: FAILED: %s (request %s); the inline policy holds the change, and running it again provisions it again", name, reason, id)}
	}
	return nil
}

// plannedSessionDeny lists the writes of a dry run.
func (p *Provisioner) plannedSessionDeny(ic *identityCenter, psARN, next string, changed bool) []Call {
	var planned []Call
	target := []Param{{"InstanceArn", ic.instanceARN}, {"PermissionSetArn", psARN}}
	switch {
	case changed && next == "":
		planned = append(planned, p.connectorCall("sso", "DeleteInlinePolicyFromPermissionSet", target...))
	case changed:
		c := p.connectorCall("sso", "PutInlinePolicyToPermissionSet", append(target, Param{"InlinePolicy", next})...)
		planned = append(planned, c)
	}
	prov := p.connectorCall("sso", "ProvisionPermissionSet", append(target, Param{"TargetType", "ALL_PROVISIONED_ACCOUNTS"})...)
	status := p.connectorCall("sso", "DescribePermissionSetProvisioningStatus", Param{"InstanceArn", ic.instanceARN}, Param{"ProvisionPermissionSetRequestId", "(the RequestId ProvisionPermissionSet returns)"})
	status.Note = fmt.Sprintf("repeated until SUCCEEDED or FAILED, for up to %s", p.opts.AssignmentWait)
	return append(planned, prov, status)
}
