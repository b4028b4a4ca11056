package doctor

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	istypes "github.com/aws/aws-sdk-go-v2/service/identitystore/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
	"github.com/aws/smithy-go"

	"github.com/gatehouse/gatehouse/internal/awsperms"
	"github.com/gatehouse/gatehouse/internal/iampolicy"
)

// verdict is what a check found out about one action.
type verdict int

const (
	unknown verdict = iota
	allowed
	denied
)

// The ways an action is checked, as the report names them.
const (
	methodProbe    = "a harmless read call"
	methodSimulate = "the IAM policy simulator (iam:SimulatePrincipalPolicy)"
	methodPolicy   = "reading the role's policies (iam:GetAccountAuthorizationDetails) and evaluating them here (conditions, service control policies and permissions boundaries not seen)"
	methodAssume   = "assuming the member role in the member accounts"
)

// need is an action a role needs, on a kind of resource, with the first use that needs
// it (for saying what it is for).
type need struct {
	action   string
	resource awsperms.Resource
	use      awsperms.Permission
}

// result is the outcome for one need.
type result struct {
	need
	verdict verdict
	method  string
	detail  string
}

// needsOf returns what the role's policy must allow for the features, one entry per
// action and resource kind, in list order. The doctor's own self-inspection is not a
// need: without it the doctor falls back to other methods and says so.
func needsOf(f awsperms.Set, role awsperms.Role) []need {
	var out []need
	seen := map[string]bool{}
	for _, p := range awsperms.Needed(f, role) {
		if containsFeature(p.Features, awsperms.Doctor) {
			continue
		}
		key := p.Action + " " + string(p.Resource)
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, need{action: p.Action, resource: p.Resource, use: p})
	}
	return out
}

func containsFeature(fs []awsperms.Feature, f awsperms.Feature) bool {
	for _, x := range fs {
		if x == f {
			return true
		}
	}
	return false
}

// classify turns a probe's answer into a verdict. Any answer from the service itself
// (NoSuchEntity, ResourceNotFoundException, ValidationException...) means the call got
// past authorization; an AccessDenied that names no action, a throttle or a network
// failure says nothing either way.
func classify(err error) (verdict, string) {
	if err == nil {
		return allowed, ""
	}
	if isAccessDenied(err) {
		if isPolicyDenial(err) {
			return denied, describe(err)
		}
		return unknown, describe(err)
	}
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		return unknown, err.Error()
	}
	switch apiErr.ErrorCode() {
	case "InvalidClientTokenId", "ExpiredToken", "ExpiredTokenException", "UnrecognizedClientException",
		"SignatureDoesNotMatch", "InvalidSignatureException", "Throttling", "ThrottlingException",
		"TooManyRequestsException", "RequestLimitExceeded":
		return unknown, describe(err)
	}
	if apiErr.ErrorFault() == smithy.FaultServer {
		return unknown, describe(err)
	}
	return allowed, ""
}

// probeEnv holds the clients and the ids the probes need; the list probes fill in real
// ids for the ones after them, and made-up ids stand in for the others (a call with an
// unknown id still goes through authorization first).
type probeEnv struct {
	iam     *iam.Client
	org     *organizations.Client
	sso     *ssoadmin.Client
	ids     *identitystore.Client
	account string

	rootID, instance, storeID string
	psARN, userID, groupID    string
}

// Made-up names and ids for probes: well-formed, and not expected to exist.
const (
	probeUser      = "gatehouse-doctor-check"
	probeGroup     = "gatehouse-doctor-check"
	probeAccessKey = "AKIAGATEHOUSEDOCTOR0"
	probeUUID      = "00000000-0000-0000-0000-000000000000"
)

func (e *probeEnv) root() *string {
	if e.rootID != "" {
		return aws.String(e.rootID)
	}
	return aws.String("r-0000")
}

func (e *probeEnv) ps() *string {
	if e.psARN != "" {
		return aws.String(e.psARN)
	}
	id := e.instance[strings.LastIndex(e.instance, "/")+1:]
	return aws.String("arn:aws:sso:::permissionSet/" + id + "/ps-0000000000000000")
}

func (e *probeEnv) user() *string {
	if e.userID != "" {
		return aws.String(e.userID)
	}
	return aws.String(probeUUID)
}

func (e *probeEnv) group() *string {
	if e.groupID != "" {
		return aws.String(e.groupID)
	}
	return aws.String(probeUUID)
}

type probe struct {
	// needs says which environment the probe needs: "iam", "org", "ic".
	needs string
	call  func(ctx context.Context, e *probeEnv) error
}

// probes are the harmless calls that show whether a read action is allowed. Each is
// the call the sync makes, with the smallest page, or a lookup of a name that does not
// exist. iam:GenerateCredentialReport starts a report, as every sync does.
var probes = map[string]probe{
	"iam:GetAccountAuthorizationDetails": {"iam", func(ctx context.Context, e *probeEnv) error {
		_, err := e.iam.GetAccountAuthorizationDetails(ctx, &iam.GetAccountAuthorizationDetailsInput{MaxItems: aws.Int32(1)})
		return err
	}},
	"iam:ListRoles": {"iam", func(ctx context.Context, e *probeEnv) error {
		_, err := e.iam.ListRoles(ctx, &iam.ListRolesInput{MaxItems: aws.Int32(1)})
		return err
	}},
	"iam:ListVirtualMFADevices": {"iam", func(ctx context.Context, e *probeEnv) error {
		_, err := e.iam.ListVirtualMFADevices(ctx, &iam.ListVirtualMFADevicesInput{MaxItems: aws.Int32(1), AssignmentStatus: iamtypes.AssignmentStatusTypeAssigned})
		return err
	}},
	"iam:ListAccountAliases": {"iam", func(ctx context.Context, e *probeEnv) error {
		_, err := e.iam.ListAccountAliases(ctx, &iam.ListAccountAliasesInput{MaxItems: aws.Int32(1)})
		return err
	}},
	"iam:GenerateCredentialReport": {"iam", func(ctx context.Context, e *probeEnv) error {
		_, err := e.iam.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{})
		return err
	}},
	"iam:GetCredentialReport": {"iam", func(ctx context.Context, e *probeEnv) error {
		_, err := e.iam.GetCredentialReport(ctx, &iam.GetCredentialReportInput{})
		return err
	}},
	"iam:ListMFADevices": {"iam", func(ctx context.Context, e *probeEnv) error {
		_, err := e.iam.ListMFADevices(ctx, &iam.ListMFADevicesInput{UserName: aws.String(probeUser), MaxItems: aws.Int32(1)})
		return err
	}},
	"iam:ListAccessKeys": {"iam", func(ctx context.Context, e *probeEnv) error {
		_, err := e.iam.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(probeUser), MaxItems: aws.Int32(1)})
		return err
	}},
	"iam:GetAccessKeyLastUsed": {"iam", func(ctx context.Context, e *probeEnv) error {
		_, err := e.iam.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(probeAccessKey)})
		return err
	}},
	"iam:GetAccountSummary": {"iam", func(ctx context.Context, e *probeEnv) error {
		_, err := e.iam.GetAccountSummary(ctx, &iam.GetAccountSummaryInput{})
		return err
	}},
	"iam:GetLoginProfile": {"iam", func(ctx context.Context, e *probeEnv) error {
		_, err := e.iam.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String(probeUser)})
		return err
	}},
	"iam:GetUser": {"iam", func(ctx context.Context, e *probeEnv) error {
		_, err := e.iam.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(probeUser)})
		return err
	}},
	"iam:ListGroupsForUser": {"iam", func(ctx context.Context, e *probeEnv) error {
		_, err := e.iam.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: aws.String(probeUser), MaxItems: aws.Int32(1)})
		return err
	}},
	"iam:GetGroup": {"iam", func(ctx context.Context, e *probeEnv) error {
		_, err := e.iam.GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String(probeGroup), MaxItems: aws.Int32(1)})
		return err
	}},

	"organizations:DescribeOrganization": {"org", func(ctx context.Context, e *probeEnv) error {
		_, err := e.org.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
		return err
	}},
	"organizations:ListRoots": {"org", func(ctx context.Context, e *probeEnv) error {
		out, err := e.org.ListRoots(ctx, &organizations.ListRootsInput{MaxResults: aws.Int32(1)})
		if err == nil && len(out.Roots) > 0 {
			e.rootID = aws.ToString(out.Roots[0].Id)
		}
		return err
	}},
	"organizations:ListOrganizationalUnitsForParent": {"org", func(ctx context.Context, e *probeEnv) error {
		_, err := e.org.ListOrganizationalUnitsForParent(ctx, &organizations.ListOrganizationalUnitsForParentInput{ParentId: e.root(), MaxResults: aws.Int32(1)})
		return err
	}},
	"organizations:ListAccountsForParent": {"org", func(ctx context.Context, e *probeEnv) error {
		_, err := e.org.ListAccountsForParent(ctx, &organizations.ListAccountsForParentInput{ParentId: e.root(), MaxResults: aws.Int32(1)})
		return err
	}},
	"organizations:DescribeAccount": {"org", func(ctx context.Context, e *probeEnv) error {
		_, err := e.org.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String(e.account)})
		return err
	}},

	"sso:ListInstances": {"sso", func(ctx context.Context, e *probeEnv) error {
		_, err := e.sso.ListInstances(ctx, &ssoadmin.ListInstancesInput{MaxResults: aws.Int32(1)})
		return err
	}},
	"sso:ListPermissionSets": {"ic", func(ctx context.Context, e *probeEnv) error {
		out, err := e.sso.ListPermissionSets(ctx, &ssoadmin.ListPermissionSetsInput{InstanceArn: aws.String(e.instance), MaxResults: aws.Int32(1)})
		if err == nil && len(out.PermissionSets) > 0 {
			e.psARN = out.PermissionSets[0]
		}
		return err
	}},
	"sso:DescribePermissionSet": {"ic", func(ctx context.Context, e *probeEnv) error {
		_, err := e.sso.DescribePermissionSet(ctx, &ssoadmin.DescribePermissionSetInput{InstanceArn: aws.String(e.instance), PermissionSetArn: e.ps()})
		return err
	}},
	"sso:ListManagedPoliciesInPermissionSet": {"ic", func(ctx context.Context, e *probeEnv) error {
		_, err := e.sso.ListManagedPoliciesInPermissionSet(ctx, &ssoadmin.ListManagedPoliciesInPermissionSetInput{InstanceArn: aws.String(e.instance), PermissionSetArn: e.ps(), MaxResults: aws.Int32(1)})
		return err
	}},
	"sso:ListCustomerManagedPolicyReferencesInPermissionSet": {"ic", func(ctx context.Context, e *probeEnv) error {
		_, err := e.sso.ListCustomerManagedPolicyReferencesInPermissionSet(ctx, &ssoadmin.ListCustomerManagedPolicyReferencesInPermissionSetInput{InstanceArn: aws.String(e.instance), PermissionSetArn: e.ps(), MaxResults: aws.Int32(1)})
		return err
	}},
	"sso:GetInlinePolicyForPermissionSet": {"ic", func(ctx context.Context, e *probeEnv) error {
		_, err := e.sso.GetInlinePolicyForPermissionSet(ctx, &ssoadmin.GetInlinePolicyForPermissionSetInput{InstanceArn: aws.String(e.instance), PermissionSetArn: e.ps()})
		return err
	}},
	"sso:ListAccountsForProvisionedPermissionSet": {"ic", func(ctx context.Context, e *probeEnv) error {
		_, err := e.sso.ListAccountsForProvisionedPermissionSet(ctx, &ssoadmin.ListAccountsForProvisionedPermissionSetInput{InstanceArn: aws.String(e.instance), PermissionSetArn: e.ps(), MaxResults: aws.Int32(1)})
		return err
	}},
	"sso:ListAccountAssignments": {"ic", func(ctx context.Context, e *probeEnv) error {
		_, err := e.sso.ListAccountAssignments(ctx, &ssoadmin.ListAccountAssignmentsInput{InstanceArn: aws.String(e.instance), AccountId: aws.String(e.account), PermissionSetArn: e.ps(), MaxResults: aws.Int32(1)})
		return err
	}},
	"sso:ListAccountAssignmentsForPrincipal": {"ic", func(ctx context.Context, e *probeEnv) error {
		_, err := e.sso.ListAccountAssignmentsForPrincipal(ctx, &ssoadmin.ListAccountAssignmentsForPrincipalInput{InstanceArn: aws.String(e.instance), PrincipalType: ssotypes.PrincipalTypeUser, PrincipalId: e.user(), MaxResults: aws.Int32(1)})
		return err
	}},
	"sso:ListPermissionSetsProvisionedToAccount": {"ic", func(ctx context.Context, e *probeEnv) error {
		_, err := e.sso.ListPermissionSetsProvisionedToAccount(ctx, &ssoadmin.ListPermissionSetsProvisionedToAccountInput{InstanceArn: aws.String(e.instance), AccountId: aws.String(e.account), MaxResults: aws.Int32(1)})
		return err
	}},
	"sso:DescribeAccountAssignmentCreationStatus": {"ic", func(ctx context.Context, e *probeEnv) error {
		_, err := e.sso.DescribeAccountAssignmentCreationStatus(ctx, &ssoadmin.DescribeAccountAssignmentCreationStatusInput{InstanceArn: aws.String(e.instance), AccountAssignmentCreationRequestId: aws.String(probeUUID)})
		return err
	}},
	"sso:ListAccountAssignmentCreationStatus": {"ic", func(ctx context.Context, e *probeEnv) error {
		_, err := e.sso.ListAccountAssignmentCreationStatus(ctx, &ssoadmin.ListAccountAssignmentCreationStatusInput{InstanceArn: aws.String(e.instance), MaxResults: aws.Int32(1)})
		return err
	}},
	"sso:ListAccountAssignmentDeletionStatus": {"ic", func(ctx context.Context, e *probeEnv) error {
		_, err := e.sso.ListAccountAssignmentDeletionStatus(ctx, &ssoadmin.ListAccountAssignmentDeletionStatusInput{InstanceArn: aws.String(e.instance), MaxResults: aws.Int32(1)})
		return err
	}},
	"sso:DescribeAccountAssignmentDeletionStatus": {"ic", func(ctx context.Context, e *probeEnv) error {
		_, err := e.sso.DescribeAccountAssignmentDeletionStatus(ctx, &ssoadmin.DescribeAccountAssignmentDeletionStatusInput{InstanceArn: aws.String(e.instance), AccountAssignmentDeletionRequestId: aws.String(probeUUID)})
		return err
	}},
	"identitystore:ListUsers": {"ic", func(ctx context.Context, e *probeEnv) error {
		out, err := e.ids.ListUsers(ctx, &identitystore.ListUsersInput{IdentityStoreId: aws.String(e.storeID), MaxResults: aws.Int32(1)})
		if err == nil && len(out.Users) > 0 {
			e.userID = aws.ToString(out.Users[0].UserId)
		}
		return err
	}},
	"identitystore:ListGroups": {"ic", func(ctx context.Context, e *probeEnv) error {
		out, err := e.ids.ListGroups(ctx, &identitystore.ListGroupsInput{IdentityStoreId: aws.String(e.storeID), MaxResults: aws.Int32(1)})
		if err == nil && len(out.Groups) > 0 {
			e.groupID = aws.ToString(out.Groups[0].GroupId)
		}
		return err
	}},
	"identitystore:ListGroupMemberships": {"ic", func(ctx context.Context, e *probeEnv) error {
		_, err := e.ids.ListGroupMemberships(ctx, &identitystore.ListGroupMembershipsInput{IdentityStoreId: aws.String(e.storeID), GroupId: e.group(), MaxResults: aws.Int32(1)})
		return err
	}},
	"identitystore:GetGroupMembershipId": {"ic", func(ctx context.Context, e *probeEnv) error {
		_, err := e.ids.GetGroupMembershipId(ctx, &identitystore.GetGroupMembershipIdInput{IdentityStoreId: aws.String(e.storeID), GroupId: e.group(), MemberId: &istypes.MemberIdMemberUserId{Value: probeUUID}})
		return err
	}},
	"identitystore:DescribeUser": {"ic", func(ctx context.Context, e *probeEnv) error {
		_, err := e.ids.DescribeUser(ctx, &identitystore.DescribeUserInput{IdentityStoreId: aws.String(e.storeID), UserId: e.user()})
		return err
	}},
	"identitystore:DescribeGroup": {"ic", func(ctx context.Context, e *probeEnv) error {
		_, err := e.ids.DescribeGroup(ctx, &identitystore.DescribeGroupInput{IdentityStoreId: aws.String(e.storeID), GroupId: e.group()})
		return err
	}},
	"identitystore:IsMemberInGroups": {"ic", func(ctx context.Context, e *probeEnv) error {
		_, err := e.ids.IsMemberInGroups(ctx, &identitystore.IsMemberInGroupsInput{IdentityStoreId: aws.String(e.storeID), MemberId: &istypes.MemberIdMemberUserId{Value: probeUUID}, GroupIds: []string{aws.ToString(e.group())}})
		return err
	}},
}

// canProbe reports whether the environment has what the probe needs.
func (e *probeEnv) canProbe(p probe) bool {
	switch p.needs {
	case "iam":
		return e.iam != nil
	case "org":
		return e.org != nil
	case "sso":
		return e.sso != nil
	case "ic":
		return e.sso != nil && e.ids != nil && e.instance != "" && e.storeID != ""
	}
	return false
}

// checker checks the needs of one role in one account.
type checker struct {
	env *probeEnv
	// sourceARN is the role (or user) whose policies are simulated or read.
	sourceARN string
	names     awsperms.Names
	role      awsperms.Role
}

// check decides every need: read actions by probing, then whatever is left (writes,
// reads without a probe, inconclusive probes) by simulation, then by reading the
// role's policies. What none of them decides stays unknown.
func (c *checker) check(ctx context.Context, needs []need, preset map[string]result) []result {
	results := make([]result, len(needs))
	for i, n := range needs {
		results[i] = result{need: n}
		if r, ok := preset[n.action]; ok {
			r.need = n
			results[i] = r
			continue
		}
		if n.use.Access != awsperms.Read {
			continue
		}
		p, ok := probes[n.action]
		if !ok || !c.env.canProbe(p) {
			continue
		}
		v, detail := classify(p.call(ctx, c.env))
		if v != unknown {
			results[i].verdict, results[i].method, results[i].detail = v, methodProbe, detail
		} else {
			results[i].detail = detail
		}
	}
	var open []int
	for i, r := range results {
		if r.verdict == unknown {
			open = append(open, i)
		}
	}
	if len(open) == 0 {
		return results
	}
	err := c.simulate(ctx, results, open)
	switch {
	case err == nil:
		return results
	case !isAccessDenied(err):
		for _, i := range open {
			results[i].detail = "the IAM policy simulator failed: " + describe(err)
		}
		return results
	}
	// The simulator may have answered for some resources before it was refused.
	open = slices.DeleteFunc(open, func(i int) bool { return results[i].verdict != unknown })
	if err := c.evaluateOwnPolicies(ctx, results, open); err != nil {
		for _, i := range open {
			results[i].detail = "neither iam:SimulatePrincipalPolicy nor reading the role's policies (iam:GetAccountAuthorizationDetails) worked (" + describe(err) + ")"
		}
	}
	return results
}

// simulate asks the IAM policy simulator about the open results, one call per resource.
func (c *checker) simulate(ctx context.Context, results []result, open []int) error {
	byResource := map[string][]int{}
	var order []string
	for _, i := range open {
		res := c.names.Example(results[i].resource, c.role, c.env.account)
		if _, ok := byResource[res]; !ok {
			order = append(order, res)
		}
		byResource[res] = append(byResource[res], i)
	}
	for _, res := range order {
		idx := byResource[res]
		in := &iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String(c.sourceARN)}
		for _, i := range idx {
			in.ActionNames = append(in.ActionNames, results[i].action)
			if results[i].resource == awsperms.MemberRoles && c.names.OrgID != "" && len(in.ContextEntries) == 0 {
				// The generated policy allows sts:AssumeRole on the member role only in
				// the organization's accounts; IAM's simulator knows that key only when
				// told, and the member roles are in the organization.
				in.ContextEntries = []iamtypes.ContextEntry{{ContextKeyName: aws.String(awsperms.ResourceOrgIDKey),
					ContextKeyType: iamtypes.ContextKeyTypeEnumString, ContextKeyValues: []string{c.names.OrgID}}}
			}
		}
		if res != "*" {
			in.ResourceArns = []string{res}
		}
		decisions := map[string]string{}
		for {
			out, err := c.env.iam.SimulatePrincipalPolicy(ctx, in)
			if err != nil {
				return err
			}
			for _, ev := range out.EvaluationResults {
				decisions[aws.ToString(ev.EvalActionName)] = string(ev.EvalDecision)
			}
			if !out.IsTruncated {
				break
			}
			in.Marker = out.Marker
		}
		for _, i := range idx {
			switch d := decisions[results[i].action]; d {
			case "allowed":
				results[i].verdict, results[i].method, results[i].detail = allowed, methodSimulate, ""
			case "":
				results[i].detail = "the IAM policy simulator gave no answer"
			default:
				results[i].verdict, results[i].method, results[i].detail = denied, methodSimulate, "the IAM policy simulator says "+d
			}
		}
	}
	return nil
}

// evaluateOwnPolicies reads the role's inline and attached policies and evaluates them.
func (c *checker) evaluateOwnPolicies(ctx context.Context, results []result, open []int) error {
	docs, err := rolePolicies(ctx, c.env.iam, c.sourceARN)
	if err != nil {
		return err
	}
	for _, i := range open {
		ev := evaluatePolicies(docs, results[i].action, c.names.Example(results[i].resource, c.role, c.env.account))
		if ev.conditional {
			// Neither allowed nor denied: the condition decides, per request.
			results[i].detail = "reading the role's policies: " + ev.why + ", which only AWS can evaluate"
			continue
		}
		results[i].method = methodPolicy
		if ev.allowed {
			results[i].verdict, results[i].detail = allowed, ev.why
		} else {
			results[i].verdict, results[i].detail = denied, ev.why
		}
	}
	return nil
}

// rolePolicies returns the identity policy documents of a role (or user, with its
// groups'): inline, then the default version of each attached managed policy. It reads
// them with iam:GetAccountAuthorizationDetails, the one IAM read every generated policy
// grants (the sync needs it in every account): the per-entity calls (ListRolePolicies,
// GetRolePolicy, ListAttachedRolePolicies, GetPolicyVersion...) are not in the generated
// policies, so a fallback built on them would fail exactly where it is needed.
func rolePolicies(ctx context.Context, client *iam.Client, arn string) ([]string, error) {
	filter := []iamtypes.EntityType{iamtypes.EntityTypeRole, iamtypes.EntityTypeLocalManagedPolicy, iamtypes.EntityTypeAWSManagedPolicy}
	if strings.Contains(arn, ":user/") {
		filter = []iamtypes.EntityType{iamtypes.EntityTypeUser, iamtypes.EntityTypeGroup, iamtypes.EntityTypeLocalManagedPolicy, iamtypes.EntityTypeAWSManagedPolicy}
	}
	var pages []*iam.GetAccountAuthorizationDetailsOutput
	p := iam.NewGetAccountAuthorizationDetailsPaginator(client, &iam.GetAccountAuthorizationDetailsInput{Filter: filter, MaxItems: aws.Int32(1000)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		pages = append(pages, out)
	}
	return policiesOf(arn, pages)
}

// policiesOf finds the role or user arn in the pages of GetAccountAuthorizationDetails
// and returns its policy documents, decoded as the sync decodes them
// (iampolicy.DecodeDocument). A policy attached to it that the pages do not hold is an
// error: evaluating without it could say "denied" where it allows.
func policiesOf(arn string, pages []*iam.GetAccountAuthorizationDetailsOutput) ([]string, error) {
	managed := map[string]string{}
	groups := map[string]iamtypes.GroupDetail{}
	var role *iamtypes.RoleDetail
	var user *iamtypes.UserDetail
	for _, pg := range pages {
		for _, mp := range pg.Policies {
			for _, v := range mp.PolicyVersionList {
				if v.IsDefaultVersion {
					managed[aws.ToString(mp.Arn)] = iampolicy.DecodeDocument(aws.ToString(v.Document))
				}
			}
		}
		for _, g := range pg.GroupDetailList {
			groups[aws.ToString(g.GroupName)] = g
		}
		for i := range pg.RoleDetailList {
			if aws.ToString(pg.RoleDetailList[i].Arn) == arn {
				role = &pg.RoleDetailList[i]
			}
		}
		for i := range pg.UserDetailList {
			if aws.ToString(pg.UserDetailList[i].Arn) == arn {
				user = &pg.UserDetailList[i]
			}
		}
	}
	var docs []string
	add := func(inline []iamtypes.PolicyDetail, attached []iamtypes.AttachedPolicy) error {
		for _, ip := range inline {
			docs = append(docs, iampolicy.DecodeDocument(aws.ToString(ip.PolicyDocument)))
		}
		for _, ap := range attached {
			doc, ok := managed[aws.ToString(ap.PolicyArn)]
			if !ok {
				return fmt.Errorf("GetAccountAuthorizationDetails did not return the managed policy %s attached to %s", aws.ToString(ap.PolicyArn), arn)
			}
			docs = append(docs, doc)
		}
		return nil
	}
	switch {
	case role != nil:
		if err := add(role.RolePolicyList, role.AttachedManagedPolicies); err != nil {
			return nil, err
		}
	case user != nil:
		if err := add(user.UserPolicyList, user.AttachedManagedPolicies); err != nil {
			return nil, err
		}
		for _, name := range user.GroupList {
			g, ok := groups[name]
			if !ok {
				return nil, fmt.Errorf("GetAccountAuthorizationDetails did not return the group %s of %s", name, arn)
			}
			if err := add(g.GroupPolicyList, g.AttachedManagedPolicies); err != nil {
				return nil, err
			}
		}
	default:
		return nil, fmt.Errorf("GetAccountAuthorizationDetails did not return %s", arn)
	}
	return docs, nil
}

// methodsUsed names the methods behind a set of results, for the check's Method.
func methodsUsed(results []result) string {
	counts := map[string]int{}
	var order []string
	for _, r := range results {
		if r.method == "" {
			continue
		}
		if counts[r.method] == 0 {
			order = append(order, r.method)
		}
		counts[r.method]++
	}
	var parts []string
	for _, m := range order {
		parts = append(parts, fmt.Sprintf("%s (%d %s)", m, counts[m], plural(counts[m], "action", "actions")))
	}
	return strings.Join(parts, "; ")
}

// permissions: every action the connector role needs for the chosen features.
func (r *run) permissions(ctx context.Context) Check {
	c := Check{ID: "permissions", Title: titles["permissions"]}
	conn := r.sess.Connector()
	env := &probeEnv{iam: iam.NewFromConfig(conn), account: r.account, rootID: r.rootID}
	if r.features.Orgs {
		env.org = organizations.NewFromConfig(conn)
	}
	if r.features.IdentityCenter {
		icCfg := r.sess.IdentityCenter()
		env.sso, env.ids = ssoadmin.NewFromConfig(icCfg), identitystore.NewFromConfig(icCfg)
		env.instance, env.storeID = r.instance, r.storeID
	}
	ck := &checker{env: env, sourceARN: r.roleARN, names: r.names(), role: awsperms.Connector}
	preset := map[string]result{}
	if r.features.Orgs && r.assumeSeen {
		preset["sts:AssumeRole"] = result{verdict: allowed, method: methodAssume}
	}
	results := ck.check(ctx, needsOf(r.features, awsperms.Connector), preset)
	summarize(&c, results, "the connector role", r.setupCommand())
	return c
}

// names are the role names the policies are written for.
func (r *run) names() awsperms.Names {
	partition := "aws"
	if f := strings.SplitN(r.roleARN, ":", 3); len(f) == 3 {
		partition = f[1]
	}
	member := r.opts.Config.MemberRoleName
	if member == "" {
		member = awsperms.DefaultMemberRoleName
	}
	return awsperms.Names{Partition: partition, ConnectorRole: r.roleARN[strings.LastIndex(r.roleARN, "/")+1:], MemberRole: strings.TrimPrefix(member, "/"), OrgID: r.orgID}
}

// setupCommand is the gatehouse setup aws command that generates the policies for the
// features checked.
func (r *run) setupCommand() string {
	parts := []string{"gatehouse setup aws"}
	for _, f := range r.features.List() {
		for _, fi := range awsperms.Features {
			if fi.Feature == f && fi.Flag != "" {
				parts = append(parts, fi.Flag)
			}
		}
	}
	// The default member role needs no flag; OrganizationAccountAccessRole is never
	// created by setup, so the command that fixes it leaves it out too.
	if m := r.opts.Config.MemberRoleName; r.features.Orgs && m != "" && m != awsperms.DefaultMemberRoleName && m != awsperms.OrganizationAccessRole {
		parts = append(parts, "--member-role-name", m)
	}
	return strings.Join(parts, " ")
}

// summarize turns the results of one role into the check's status, detail and items.
func summarize(c *Check, results []result, who, setup string) {
	var missing, open []string
	for _, res := range results {
		it := Item{Name: res.action, Method: res.method}
		switch res.verdict {
		case allowed:
			it.Status, it.Detail = Pass, "allowed"
		case denied:
			it.Status = Fail
			it.Detail = fmt.Sprintf("denied; needed for %s (%s)", awsperms.FeatureNames(res.use.Features), res.use.Why)
			missing = append(missing, res.action)
		default:
			it.Status = Warn
			it.Detail = "could not be checked: " + res.detail
			open = append(open, res.action)
		}
		c.Items = append(c.Items, it)
	}
	c.Method = methodsUsed(results)
	n := len(results)
	switch {
	case len(missing) > 0:
		c.Status = Fail
		c.Detail = fmt.Sprintf("%s lacks %d of the %d actions the chosen features need: %s", who, len(missing), n, abbreviate(missing))
		what := strings.Join(missing, ", ")
		if len(missing) > maxListed {
			what = "the actions listed above"
		}
		c.Fix = fmt.Sprintf("allow %s in %s's policy: %s generates the whole policy, and docs/setup.md says what each action is for", what, who, setup)
	case len(open) > 0:
		c.Status = Warn
		c.Detail = fmt.Sprintf("%d of the %d actions are allowed; %d could not be checked: %s", n-len(open), n, len(open), abbreviate(open))
		c.Fix = "allow " + who + " iam:SimulatePrincipalPolicy on itself (" + setup + " includes it), so that gatehouse doctor can check actions it must not call"
	default:
		c.Status = Pass
		c.Detail = fmt.Sprintf("%s allows all %d actions the chosen features need", who, n)
	}
}

// maxListed is how many actions a check's one-line detail names before it refers to the
// items listed with it.
const maxListed = 6

// abbreviate joins the names, or the first few and how many more.
func abbreviate(names []string) string {
	if len(names) <= maxListed {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:maxListed], ", "), len(names)-maxListed)
}
