package awssim

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
)

// SSO Admin: IAM Identity Center administration (JSON 1.1, signing name "sso", target
// prefix SWBExternalService). Every call names the instance, which only its owner (the
// management account) or a delegated administrator may use, and only in its region.
// Account assignments are created and deleted asynchronously: see advanceAssignments.

func init() {
	register("sso", map[string]opHandler{
		"ListInstances":                                      ssoListInstances,
		"DescribeInstance":                                   ssoDescribeInstance,
		"ListPermissionSets":                                 ssoListPermissionSets,
		"DescribePermissionSet":                              ssoDescribePermissionSet,
		"CreatePermissionSet":                                ssoCreatePermissionSet,
		"ListManagedPoliciesInPermissionSet":                 ssoListManagedPolicies,
		"AttachManagedPolicyToPermissionSet":                 ssoAttachManagedPolicy,
		"GetInlinePolicyForPermissionSet":                    ssoGetInlinePolicy,
		"PutInlinePolicyToPermissionSet":                     ssoPutInlinePolicy,
		"DeleteInlinePolicyFromPermissionSet":                ssoDeleteInlinePolicy,
		"ListCustomerManagedPolicyReferencesInPermissionSet": ssoListCustomerPolicyRefs,
		"ListTagsForResource":                                ssoListTagsForResource,
		"ProvisionPermissionSet":                             ssoProvisionPermissionSet,
		"DescribePermissionSetProvisioningStatus":            ssoDescribeProvisioningStatus,
		"ListPermissionSetsProvisionedToAccount":             ssoListPermissionSetsProvisionedToAccount,
		"ListAccountsForProvisionedPermissionSet":            ssoListAccountsForProvisionedPermissionSet,
		"ListAccountAssignments":                             ssoListAccountAssignments,
		"ListAccountAssignmentsForPrincipal":                 ssoListAccountAssignmentsForPrincipal,
		"CreateAccountAssignment":                            ssoCreateAccountAssignment,
		"DeleteAccountAssignment":                            ssoDeleteAccountAssignment,
		"DescribeAccountAssignmentCreationStatus":            ssoDescribeCreationStatus,
		"DescribeAccountAssignmentDeletionStatus":            ssoDescribeDeletionStatus,
		"ListAccountAssignmentCreationStatus":                ssoListCreationStatus,
		"ListAccountAssignmentDeletionStatus":                ssoListDeletionStatus,
	})
}

const (
	// icMaxResults is the largest MaxResults of the SSO Admin and Identity Store list calls
	// ("Valid Range: Minimum value of 1. Maximum value of 100." in both API references).
	// AWS documents no default; the simulator uses the maximum.
	icMaxResults = 100

	// maxCreationsInProgress is how many CreateAccountAssignment operations may be
	// IN_PROGRESS at once per instance. The IAM Identity Center quotas page says
	// "CreateAccountAssignment has a maximum rate of 10 outstanding async calls. These quotas
	// cannot be changed" (docs.aws.amazon.com/singlesignon/latest/userguide/limits.html).
	// The documentation does not name the error; AWS answers the call beyond the limit with
	// ThrottlingException "There are too many requests processing. Please try again later."
	// (HTTP 400, reported in aws-samples/aws-iam-identity-center-extensions#87 when creating
	// assignments for more than a few accounts at once), so the simulator does the same.
	maxCreationsInProgress = 10

	// ssoInlinePolicyName is the name of the inline policy of an AWSReservedSSO_ role.
	ssoInlinePolicyName = "AwsSSOInlinePolicy"
)

var (
	ssoInstanceARNPattern       = regexp.MustCompile(`^arn:aws(-[a-z]{1,5}){0,3}:sso:::instance/(sso)?ins-[a-zA-Z0-9-.]{16}$`)
	ssoPermissionSetARNPattern  = regexp.MustCompile(`^arn:aws(-[a-z]{1,5}){0,3}:sso:::permissionSet/(sso)?ins-[a-zA-Z0-9-.]{16}/ps-[a-zA-Z0-9-./]{16}$`)
	ssoAccountIDPattern         = regexp.MustCompile(`^\d{12}$`)
	ssoPrincipalIDPattern       = regexp.MustCompile(`^([0-9a-f]{10}-|)[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}$`)
	ssoPermissionSetNamePattern = regexp.MustCompile(`^[\w+=,.@-]{1,32}$`)
	ssoSessionDurationPattern   = regexp.MustCompile(`^PT(\d+H)?(\d+M)?(\d+S)?$`)
)

// Errors shared by SSO Admin and Identity Store.

// icError is an Identity Center error. Both services answer client errors with HTTP 400
// whatever the code (observed for ThrottlingException in
// aws-samples/aws-iam-identity-center-extensions#87 and for ConflictException in
// aws-samples/iam-identity-center-team#513); access denied is 403, like the central check.
func icError(code, format string, args ...any) *apiError {
	status := 400
	if code == "AccessDeniedException" {
		status = 403
	}
	return &apiError{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// icRequire returns AWS's validation error for the first empty required member;
// pairs are member name and value.
func icRequire(pairs ...string) *apiError {
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			return icError("ValidationException", "1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", lowerFirst(pairs[i]))
		}
	}
	return nil
}

func icPattern(member, value string, re *regexp.Regexp) *apiError {
	if re.MatchString(value) {
		return nil
	}
	return icError("ValidationException", "1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: %s",
		value, lowerFirst(member), strings.Trim(re.String(), "^$"))
}

func icEnum(member, value string, allowed ...string) *apiError {
	for _, a := range allowed {
		if value == a {
			return nil
		}
	}
	return icError("ValidationException", "1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy enum value set: [%s]",
		value, lowerFirst(member), strings.Join(allowed, ", "))
}

// icPage pages an Identity Center list call. MaxResults outside 1..100 is a validation
// error, as in AWS, rather than being clamped.
func icPage[T any](q *request, items []T, token string, maxResults *int32) ([]T, string, *apiError) {
	n := 0
	if maxResults != nil {
		n = int(*maxResults)
		if n < 1 || n > icMaxResults {
			return nil, "", icError("ValidationException", "1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and %d", n, icMaxResults)
		}
	}
	pg, next, err := page(q, items, token, n, icMaxResults, icMaxResults)
	return icList(pg), next, err
}

// icList makes a nil list encode as [] rather than null, as AWS sends empty lists.
func icList[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// Access to the instance.

// icAdministers reports whether the caller's account may use the Identity Center APIs:
// the management account that owns the instance, or a delegated administrator.
func (q *request) icAdministers(s *SSOInstance) bool {
	if q.caller.AccountID == s.OwnerAccountID {
		return true
	}
	return q.w.Org != nil && q.w.Org.DelegatedAdmins[q.caller.AccountID]
}

// organizationInstance reports whether s is an organization instance of Identity Center:
// one the organization's management account owns. Any other (an instance in a
// standalone account or one a member account enabled for itself) is an account instance.
func (w *World) organizationInstance(s *SSOInstance) bool {
	return w.Org != nil && s.OwnerAccountID == w.ManagementAccountID
}

// icDenied is the error for a caller whose account does not administer Identity Center.
func (q *request) icDenied(resource string) *apiError {
	return icError("AccessDeniedException", "User: %s is not authorized to perform: %s on resource: %s", q.caller.ARN, actionOf(q.service, q.op), resource)
}

// ssoInstance returns the instance the call names, as the caller may see it.
func (q *request) ssoInstance(arn string) (*SSOInstance, *apiError) {
	if err := icRequire("InstanceArn", arn); err != nil {
		return nil, err
	}
	if err := icPattern("InstanceArn", arn, ssoInstanceARNPattern); err != nil {
		return nil, err
	}
	s := q.w.SSO
	if s == nil || s.ARN != arn || s.Region != q.region {
		return nil, icError("ResourceNotFoundException", "Instance %s does not exist in region %s.", arn, q.region)
	}
	if !q.icAdministers(s) {
		return nil, q.icDenied(arn)
	}
	return s, nil
}

// permissionSet returns the instance's permission set with the ARN.
func (q *request) permissionSet(s *SSOInstance, arn string) (*PermissionSet, *apiError) {
	if err := icRequire("PermissionSetArn", arn); err != nil {
		return nil, err
	}
	if err := icPattern("PermissionSetArn", arn, ssoPermissionSetARNPattern); err != nil {
		return nil, err
	}
	ps := s.PermissionSet(arn)
	if ps == nil {
		return nil, icError("ResourceNotFoundException", "Could not find PermissionSet with ARN %s.", arn)
	}
	return ps, nil
}

// Instances.

type ssoInstanceJSON struct {
	CreatedDate      *Epoch `json:"CreatedDate,omitempty"`
	IdentityStoreArn string `json:"IdentityStoreArn"`
	IdentityStoreID  string `json:"IdentityStoreId"`
	InstanceArn      string `json:"InstanceArn"`
	Name             string `json:"Name,omitempty"`
	OwnerAccountID   string `json:"OwnerAccountId"`
	Status           string `json:"Status"`
}

func toSSOInstanceJSON(s *SSOInstance) ssoInstanceJSON {
	return ssoInstanceJSON{
		CreatedDate:      epoch(s.CreatedDate),
		IdentityStoreArn: "arn:aws:identitystore::" + s.OwnerAccountID + ":identitystore/" + s.IdentityStoreID,
		IdentityStoreID:  s.IdentityStoreID, InstanceArn: s.ARN, Name: s.Name,
		OwnerAccountID: s.OwnerAccountID, Status: "ACTIVE",
	}
}

func ssoListInstances(q *request) (any, *apiError) {
	var in struct {
		MaxResults  *int32 `json:"MaxResults"`
		NextToken   string `json:"NextToken"`
		RegionScope string `json:"RegionScope"`
	}
	if err := q.decodeJSON(&in); err != nil {
		return nil, err
	}
	if in.RegionScope != "" {
		if err := icEnum("RegionScope", in.RegionScope, "CURRENT_REGION", "ALL_REGIONS"); err != nil {
			return nil, err
		}
	}
	// Elsewhere than the instance's region, or from an account that does not administer
	// Identity Center, the list is empty rather than an error, as in AWS.
	var items []ssoInstanceJSON
	if s := q.w.SSO; s != nil && q.icAdministers(s) && (s.Region == q.region || in.RegionScope == "ALL_REGIONS") {
		items = append(items, toSSOInstanceJSON(s))
	}
	pg, next, err := icPage(q, items, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	return struct {
		Instances []ssoInstanceJSON `json:"Instances"`
		NextToken string            `json:"NextToken,omitempty"`
	}{pg, next}, nil
}

func ssoDescribeInstance(q *request) (any, *apiError) {
	var in struct {
		InstanceArn string `json:"InstanceArn"`
	}
	if err := q.decodeJSON(&in); err != nil {
		return nil, err
	}
	s, err := q.ssoInstance(in.InstanceArn)
	if err != nil {
		return nil, err
	}
	return toSSOInstanceJSON(s), nil
}

// Permission sets.

type permissionSetJSON struct {
	CreatedDate      *Epoch `json:"CreatedDate,omitempty"`
	Description      string `json:"Description,omitempty"`
	Name             string `json:"Name"`
	PermissionSetArn string `json:"PermissionSetArn"`
	RelayState       string `json:"RelayState,omitempty"`
	SessionDuration  string `json:"SessionDuration,omitempty"`
}

func toPermissionSetJSON(ps *PermissionSet) permissionSetJSON {
	return permissionSetJSON{CreatedDate: epoch(ps.CreatedDate), Description: ps.Description, Name: ps.Name,
		PermissionSetArn: ps.ARN, RelayState: ps.RelayState, SessionDuration: ps.SessionDuration}
}

// permissionSetInput is the input of the calls that act on one permission set.
type permissionSetInput struct {
	InstanceArn      string `json:"InstanceArn"`
	PermissionSetArn string `json:"PermissionSetArn"`
	MaxResults       *int32 `json:"MaxResults"`
	NextToken        string `json:"NextToken"`
}

// instanceAndPermissionSet resolves the instance and the permission set a call names.
func (q *request) instanceAndPermissionSet(instanceARN, psARN string) (*SSOInstance, *PermissionSet, *apiError) {
	if err := icRequire("InstanceArn", instanceARN, "PermissionSetArn", psARN); err != nil {
		return nil, nil, err
	}
	s, err := q.ssoInstance(instanceARN)
	if err != nil {
		return nil, nil, err
	}
	ps, err := q.permissionSet(s, psARN)
	if err != nil {
		return nil, nil, err
	}
	return s, ps, nil
}

// permissionSetCall decodes the common input of a call on one permission set.
func (q *request) permissionSetCall() (*SSOInstance, *PermissionSet, *permissionSetInput, *apiError) {
	var in permissionSetInput
	if err := q.decodeJSON(&in); err != nil {
		return nil, nil, nil, err
	}
	s, ps, err := q.instanceAndPermissionSet(in.InstanceArn, in.PermissionSetArn)
	return s, ps, &in, err
}

func ssoListPermissionSets(q *request) (any, *apiError) {
	var in struct {
		InstanceArn string `json:"InstanceArn"`
		MaxResults  *int32 `json:"MaxResults"`
		NextToken   string `json:"NextToken"`
	}
	if err := q.decodeJSON(&in); err != nil {
		return nil, err
	}
	s, err := q.ssoInstance(in.InstanceArn)
	if err != nil {
		return nil, err
	}
	arns := make([]string, 0, len(s.PermissionSets))
	for _, ps := range s.PermissionSets {
		arns = append(arns, ps.ARN)
	}
	pg, next, err := icPage(q, arns, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	return struct {
		PermissionSets []string `json:"PermissionSets"`
		NextToken      string   `json:"NextToken,omitempty"`
	}{pg, next}, nil
}

func ssoDescribePermissionSet(q *request) (any, *apiError) {
	_, ps, _, err := q.permissionSetCall()
	if err != nil {
		return nil, err
	}
	return struct {
		PermissionSet permissionSetJSON `json:"PermissionSet"`
	}{toPermissionSetJSON(ps)}, nil
}

func ssoCreatePermissionSet(q *request) (any, *apiError) {
	var in struct {
		InstanceArn     string `json:"InstanceArn"`
		Name            string `json:"Name"`
		Description     string `json:"Description"`
		RelayState      string `json:"RelayState"`
		SessionDuration string `json:"SessionDuration"`
		Tags            []Tag  `json:"Tags"`
	}
	if err := q.decodeJSON(&in); err != nil {
		return nil, err
	}
	if err := icRequire("InstanceArn", in.InstanceArn, "Name", in.Name); err != nil {
		return nil, err
	}
	s, err := q.ssoInstance(in.InstanceArn)
	if err != nil {
		return nil, err
	}
	if err := icPattern("Name", in.Name, ssoPermissionSetNamePattern); err != nil {
		return nil, err
	}
	if len(in.Description) > 700 {
		return nil, icError("ValidationException", "1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length less than or equal to 700")
	}
	if in.SessionDuration == "" {
		in.SessionDuration = "PT1H"
	}
	if err := checkSessionDuration(in.SessionDuration); err != nil {
		return nil, err
	}
	for _, ps := range s.PermissionSets {
		if strings.EqualFold(ps.Name, in.Name) {
			return nil, icError("ConflictException", "PermissionSet with name %s already exists.", in.Name)
		}
	}
	ps := q.w.AddPermissionSet(in.Name, in.Description, in.SessionDuration)
	ps.RelayState = in.RelayState
	ps.Tags = append([]Tag(nil), in.Tags...)
	return struct {
		PermissionSet permissionSetJSON `json:"PermissionSet"`
	}{toPermissionSetJSON(ps)}, nil
}

// checkSessionDuration accepts the ISO 8601 durations Identity Center allows: 1 to 12 hours.
func checkSessionDuration(d string) *apiError {
	if d == "PT" || !ssoSessionDurationPattern.MatchString(d) {
		return icError("ValidationException", "1 validation error detected: Value '%s' at 'sessionDuration' failed to satisfy constraint: Member must be an ISO-8601 duration such as PT1H", d)
	}
	if secs := isoDurationSeconds(d); secs < 3600 || secs > 12*3600 {
		return icError("ValidationException", "Session duration %s is not valid: it must be between 1 and 12 hours.", d)
	}
	return nil
}

type attachedManagedPolicyJSON struct {
	Arn  string `json:"Arn"`
	Name string `json:"Name"`
}

func ssoListManagedPolicies(q *request) (any, *apiError) {
	_, ps, in, err := q.permissionSetCall()
	if err != nil {
		return nil, err
	}
	items := make([]attachedManagedPolicyJSON, 0, len(ps.ManagedPolicies))
	for _, arn := range ps.ManagedPolicies {
		name := arn[strings.LastIndex(arn, "/")+1:]
		if p := q.w.AWSManagedPolicies[arn]; p != nil {
			name = p.Name
		}
		items = append(items, attachedManagedPolicyJSON{Arn: arn, Name: name})
	}
	pg, next, err := icPage(q, items, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	return struct {
		AttachedManagedPolicies []attachedManagedPolicyJSON `json:"AttachedManagedPolicies"`
		NextToken               string                      `json:"NextToken,omitempty"`
	}{pg, next}, nil
}

// ssoAttachManagedPolicy attaches an AWS-managed policy. As in AWS, accounts the permission
// set is provisioned to keep the old policies until ProvisionPermissionSet.
func ssoAttachManagedPolicy(q *request) (any, *apiError) {
	var in struct {
		InstanceArn      string `json:"InstanceArn"`
		PermissionSetArn string `json:"PermissionSetArn"`
		ManagedPolicyArn string `json:"ManagedPolicyArn"`
	}
	if err := q.decodeJSON(&in); err != nil {
		return nil, err
	}
	_, ps, err := q.instanceAndPermissionSet(in.InstanceArn, in.PermissionSetArn)
	if err != nil {
		return nil, err
	}
	if err := icRequire("ManagedPolicyArn", in.ManagedPolicyArn); err != nil {
		return nil, err
	}
	if !strings.HasPrefix(in.ManagedPolicyArn, "arn:aws:iam::aws:policy/") {
		return nil, icError("ValidationException", "%s is not an AWS managed policy ARN; attach customer managed policies by reference.", in.ManagedPolicyArn)
	}
	if q.w.AWSManagedPolicies[in.ManagedPolicyArn] == nil {
		return nil, icError("ResourceNotFoundException", "Policy %s does not exist.", in.ManagedPolicyArn)
	}
	for _, arn := range ps.ManagedPolicies {
		if arn == in.ManagedPolicyArn {
			return nil, icError("ConflictException", "Managed policy %s is already attached to permission set %s.", arn, ps.ARN)
		}
	}
	ps.ManagedPolicies = append(ps.ManagedPolicies, in.ManagedPolicyArn)
	return nil, nil
}

func ssoGetInlinePolicy(q *request) (any, *apiError) {
	_, ps, _, err := q.permissionSetCall()
	if err != nil {
		return nil, err
	}
	return struct {
		InlinePolicy string `json:"InlinePolicy"`
	}{ps.InlinePolicy}, nil
}

func ssoPutInlinePolicy(q *request) (any, *apiError) {
	var in struct {
		InstanceArn      string `json:"InstanceArn"`
		PermissionSetArn string `json:"PermissionSetArn"`
		InlinePolicy     string `json:"InlinePolicy"`
	}
	if err := q.decodeJSON(&in); err != nil {
		return nil, err
	}
	_, ps, err := q.instanceAndPermissionSet(in.InstanceArn, in.PermissionSetArn)
	if err != nil {
		return nil, err
	}
	if err := icRequire("InlinePolicy", in.InlinePolicy); err != nil {
		return nil, err
	}
	if len(in.InlinePolicy) > 32768 {
		return nil, icError("ValidationException", "1 validation error detected: Value at 'inlinePolicy' failed to satisfy constraint: Member must have length less than or equal to 32768")
	}
	if _, perr := parsePolicy(in.InlinePolicy); perr != nil {
		return nil, icError("ValidationException", "The inline policy is not a valid policy document: %s", perr.Message)
	}
	ps.InlinePolicy = in.InlinePolicy
	return nil, nil
}

// ssoDeleteInlinePolicy removes the permission set's inline policy (a no-op when it has
// none). As with a put, accounts keep the old policy until ProvisionPermissionSet.
func ssoDeleteInlinePolicy(q *request) (any, *apiError) {
	_, ps, _, err := q.permissionSetCall()
	if err != nil {
		return nil, err
	}
	ps.InlinePolicy = ""
	return nil, nil
}

type customerPolicyRefJSON struct {
	Name string `json:"Name"`
	Path string `json:"Path,omitempty"`
}

func ssoListCustomerPolicyRefs(q *request) (any, *apiError) {
	_, ps, in, err := q.permissionSetCall()
	if err != nil {
		return nil, err
	}
	items := make([]customerPolicyRefJSON, 0, len(ps.CustomerPolicies))
	for _, ref := range ps.CustomerPolicies {
		items = append(items, customerPolicyRefJSON{Name: ref.Name, Path: normPath(ref.Path)})
	}
	pg, next, err := icPage(q, items, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	return struct {
		CustomerManagedPolicyReferences []customerPolicyRefJSON `json:"CustomerManagedPolicyReferences"`
		NextToken                       string                  `json:"NextToken,omitempty"`
	}{pg, next}, nil
}

func ssoListTagsForResource(q *request) (any, *apiError) {
	var in struct {
		InstanceArn string `json:"InstanceArn"`
		ResourceArn string `json:"ResourceArn"`
		NextToken   string `json:"NextToken"`
	}
	if err := q.decodeJSON(&in); err != nil {
		return nil, err
	}
	if err := icRequire("ResourceArn", in.ResourceArn); err != nil {
		return nil, err
	}
	instanceARN := in.InstanceArn
	if instanceARN == "" { // optional: the resource's instance is the simulator's only one
		if q.w.SSO == nil {
			return nil, icError("ResourceNotFoundException", "Resource %s does not exist.", in.ResourceArn)
		}
		instanceARN = q.w.SSO.ARN
	}
	s, err := q.ssoInstance(instanceARN)
	if err != nil {
		return nil, err
	}
	var tags []Tag // the instance has no tags in the simulator
	if ps := s.PermissionSet(in.ResourceArn); ps != nil {
		tags = ps.Tags
	} else if in.ResourceArn != s.ARN {
		return nil, icError("ResourceNotFoundException", "Resource %s does not exist.", in.ResourceArn)
	}
	// ListTagsForResource takes no MaxResults; a resource has at most 50 tags.
	pg, next, err := page(q, tags, in.NextToken, 0, 50, 50)
	if err != nil {
		return nil, err
	}
	return struct {
		Tags      []Tag  `json:"Tags"`
		NextToken string `json:"NextToken,omitempty"`
	}{icList(pg), next}, nil
}

// Provisioning.

type provisioningStatusJSON struct {
	AccountID        string `json:"AccountId,omitempty"`
	CreatedDate      *Epoch `json:"CreatedDate,omitempty"`
	FailureReason    string `json:"FailureReason,omitempty"`
	PermissionSetArn string `json:"PermissionSetArn,omitempty"`
	RequestID        string `json:"RequestId"`
	Status           string `json:"Status"`
}

func toProvisioningStatusJSON(op *AssignmentOperation) provisioningStatusJSON {
	return provisioningStatusJSON{AccountID: op.Assignment.AccountID, CreatedDate: epoch(op.CreatedDate),
		FailureReason: op.FailureReason, PermissionSetArn: op.Assignment.PermissionSetARN,
		RequestID: op.RequestID, Status: op.Status}
}

// ssoProvisionPermissionSet provisions the permission set's current definition to one
// account or to every account it is provisioned to. The work is done at once; the call
// still answers IN_PROGRESS, as AWS always does, and DescribePermissionSetProvisioningStatus
// reports the outcome.
func ssoProvisionPermissionSet(q *request) (any, *apiError) {
	var in struct {
		InstanceArn      string `json:"InstanceArn"`
		PermissionSetArn string `json:"PermissionSetArn"`
		TargetID         string `json:"TargetId"`
		TargetType       string `json:"TargetType"`
	}
	if err := q.decodeJSON(&in); err != nil {
		return nil, err
	}
	s, ps, err := q.instanceAndPermissionSet(in.InstanceArn, in.PermissionSetArn)
	if err != nil {
		return nil, err
	}
	if err := icRequire("TargetType", in.TargetType); err != nil {
		return nil, err
	}
	if err := icEnum("TargetType", in.TargetType, "AWS_ACCOUNT", "ALL_PROVISIONED_ACCOUNTS"); err != nil {
		return nil, err
	}
	var targets []string
	if in.TargetType == "AWS_ACCOUNT" {
		if err := icRequire("TargetId", in.TargetID); err != nil {
			return nil, err
		}
		if err := icPattern("TargetId", in.TargetID, ssoAccountIDPattern); err != nil {
			return nil, err
		}
		if err := q.checkDelegatedTarget(s, in.TargetID); err != nil {
			return nil, err
		}
		targets = []string{in.TargetID}
	} else {
		in.TargetID = ""
		for _, acct := range sortedKeys(s.Provisioned) {
			if s.Provisioned[acct][ps.ARN] {
				targets = append(targets, acct)
			}
		}
	}
	op := &AssignmentOperation{RequestID: q.w.uuid(), Status: "SUCCEEDED", CreatedDate: q.w.Now(), DoneAt: q.w.Now(),
		Assignment: Assignment{AccountID: in.TargetID, PermissionSetARN: ps.ARN}}
	for _, acct := range targets {
		if reason := q.w.assignmentFailure(acct); reason != "" {
			op.Status, op.FailureReason = "FAILED", reason
			continue
		}
		if n := policySize(ps.InlinePolicy); n > quotaRolePolicySize {
			// Identity Center writes the inline policy as the role's inline policy, and
			// IAM refuses a role's inline policies beyond its quota (10,240 characters,
			// whitespace not counted). The wording of the reason is the simulator's.
			op.Status, op.FailureReason = "FAILED", fmt.Sprintf("Maximum policy size of %d bytes exceeded for role %s: the inline policy of permission set %s has %d characters without whitespace.",
				quotaRolePolicySize, ReservedSSORoleName(ps.Name, ps.ARN), ps.Name, n)
			continue
		}
		q.w.provisionLatest(acct, ps)
	}
	s.Provisionings = append(s.Provisionings, op)
	answer := toProvisioningStatusJSON(op)
	answer.Status, answer.FailureReason = "IN_PROGRESS", ""
	return struct {
		PermissionSetProvisioningStatus provisioningStatusJSON `json:"PermissionSetProvisioningStatus"`
	}{answer}, nil
}

func ssoDescribeProvisioningStatus(q *request) (any, *apiError) {
	var in struct {
		InstanceArn string `json:"InstanceArn"`
		RequestID   string `json:"ProvisionPermissionSetRequestId"`
	}
	if err := q.decodeJSON(&in); err != nil {
		return nil, err
	}
	if err := icRequire("InstanceArn", in.InstanceArn, "ProvisionPermissionSetRequestId", in.RequestID); err != nil {
		return nil, err
	}
	s, err := q.ssoInstance(in.InstanceArn)
	if err != nil {
		return nil, err
	}
	for _, op := range s.Provisionings {
		if op.RequestID == in.RequestID {
			return struct {
				PermissionSetProvisioningStatus provisioningStatusJSON `json:"PermissionSetProvisioningStatus"`
			}{toProvisioningStatusJSON(op)}, nil
		}
	}
	return nil, icError("ResourceNotFoundException", "Could not find a permission set provisioning request with id %s.", in.RequestID)
}

// provisionLatest provisions the permission set to the account and brings the role of an
// earlier provisioning up to date with the permission set's policies and session duration.
func (w *World) provisionLatest(accountID string, ps *PermissionSet) {
	a := w.Accounts[accountID]
	name := ReservedSSORoleName(ps.Name, ps.ARN)
	if a != nil && w.SSO.Provisioned[accountID][ps.ARN] && a.Roles[name] == nil {
		delete(w.SSO.Provisioned[accountID], ps.ARN) // the role was deleted out of band: create it again
	}
	w.ProvisionPermissionSet(accountID, ps.ARN)
	if a == nil || a.Roles[name] == nil {
		return
	}
	r := a.Roles[name]
	r.AttachedPolicies = append([]string(nil), ps.ManagedPolicies...)
	delete(r.InlinePolicies, ssoInlinePolicyName)
	if ps.InlinePolicy != "" {
		r.InlinePolicies[ssoInlinePolicyName] = ps.InlinePolicy
	}
	r.MaxSessionDuration = int32(isoDurationSeconds(ps.SessionDuration))
}

// provisionedUpToDate reports whether the account's role for the permission set matches the
// permission set's current definition (LATEST_PERMISSION_SET_PROVISIONED).
func (w *World) provisionedUpToDate(accountID string, ps *PermissionSet) bool {
	a := w.Accounts[accountID]
	if a == nil {
		return false
	}
	r := a.Roles[ReservedSSORoleName(ps.Name, ps.ARN)]
	if r == nil || r.InlinePolicies[ssoInlinePolicyName] != ps.InlinePolicy ||
		r.MaxSessionDuration != int32(isoDurationSeconds(ps.SessionDuration)) {
		return false
	}
	have := append([]string(nil), r.AttachedPolicies...)
	want := append([]string(nil), ps.ManagedPolicies...)
	sort.Strings(have)
	sort.Strings(want)
	return strings.Join(have, "\n") == strings.Join(want, "\n")
}

// matchesProvisioningStatus applies the optional ProvisioningStatus filter.
func (w *World) matchesProvisioningStatus(filter, accountID string, ps *PermissionSet) bool {
	switch filter {
	case "LATEST_PERMISSION_SET_PROVISIONED":
		return w.provisionedUpToDate(accountID, ps)
	case "LATEST_PERMISSION_SET_NOT_PROVISIONED":
		return !w.provisionedUpToDate(accountID, ps)
	}
	return true
}

func checkProvisioningStatus(filter string) *apiError {
	if filter == "" {
		return nil
	}
	return icEnum("ProvisioningStatus", filter, "LATEST_PERMISSION_SET_PROVISIONED", "LATEST_PERMISSION_SET_NOT_PROVISIONED")
}

func ssoListPermissionSetsProvisionedToAccount(q *request) (any, *apiError) {
	var in struct {
		InstanceArn        string `json:"InstanceArn"`
		AccountID          string `json:"AccountId"`
		ProvisioningStatus string `json:"ProvisioningStatus"`
		MaxResults         *int32 `json:"MaxResults"`
		NextToken          string `json:"NextToken"`
	}
	if err := q.decodeJSON(&in); err != nil {
		return nil, err
	}
	if err := icRequire("InstanceArn", in.InstanceArn, "AccountId", in.AccountID); err != nil {
		return nil, err
	}
	s, err := q.ssoInstance(in.InstanceArn)
	if err != nil {
		return nil, err
	}
	if err := icPattern("AccountId", in.AccountID, ssoAccountIDPattern); err != nil {
		return nil, err
	}
	if err := checkProvisioningStatus(in.ProvisioningStatus); err != nil {
		return nil, err
	}
	var arns []string
	for _, ps := range s.PermissionSets {
		if s.Provisioned[in.AccountID][ps.ARN] && q.w.matchesProvisioningStatus(in.ProvisioningStatus, in.AccountID, ps) {
			arns = append(arns, ps.ARN)
		}
	}
	pg, next, err := icPage(q, arns, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	return struct {
		PermissionSets []string `json:"PermissionSets"`
		NextToken      string   `json:"NextToken,omitempty"`
	}{pg, next}, nil
}

func ssoListAccountsForProvisionedPermissionSet(q *request) (any, *apiError) {
	var in struct {
		permissionSetInput
		ProvisioningStatus string `json:"ProvisioningStatus"`
	}
	if err := q.decodeJSON(&in); err != nil {
		return nil, err
	}
	s, ps, err := q.instanceAndPermissionSet(in.InstanceArn, in.PermissionSetArn)
	if err != nil {
		return nil, err
	}
	if err := checkProvisioningStatus(in.ProvisioningStatus); err != nil {
		return nil, err
	}
	var accounts []string
	for _, acct := range sortedKeys(s.Provisioned) {
		if s.Provisioned[acct][ps.ARN] && q.w.matchesProvisioningStatus(in.ProvisioningStatus, acct, ps) {
			accounts = append(accounts, acct)
		}
	}
	pg, next, err := icPage(q, accounts, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	return struct {
		AccountIDs []string `json:"AccountIds"`
		NextToken  string   `json:"NextToken,omitempty"`
	}{pg, next}, nil
}

// Account assignments.

type accountAssignmentJSON struct {
	AccountID        string `json:"AccountId"`
	PermissionSetArn string `json:"PermissionSetArn"`
	PrincipalID      string `json:"PrincipalId"`
	PrincipalType    string `json:"PrincipalType"`
}

func toAccountAssignmentJSON(a *Assignment) accountAssignmentJSON {
	return accountAssignmentJSON{AccountID: a.AccountID, PermissionSetArn: a.PermissionSetARN, PrincipalID: a.PrincipalID, PrincipalType: a.PrincipalType}
}

func ssoListAccountAssignments(q *request) (any, *apiError) {
	var in struct {
		permissionSetInput
		AccountID string `json:"AccountId"`
	}
	if err := q.decodeJSON(&in); err != nil {
		return nil, err
	}
	if err := icRequire("InstanceArn", in.InstanceArn, "AccountId", in.AccountID, "PermissionSetArn", in.PermissionSetArn); err != nil {
		return nil, err
	}
	s, err := q.ssoInstance(in.InstanceArn)
	if err != nil {
		return nil, err
	}
	if err := icPattern("AccountId", in.AccountID, ssoAccountIDPattern); err != nil {
		return nil, err
	}
	ps, err := q.permissionSet(s, in.PermissionSetArn)
	if err != nil {
		return nil, err
	}
	var items []accountAssignmentJSON
	for _, a := range s.Assignments {
		if a.AccountID == in.AccountID && a.PermissionSetARN == ps.ARN {
			items = append(items, toAccountAssignmentJSON(a))
		}
	}
	pg, next, err := icPage(q, items, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	return struct {
		AccountAssignments []accountAssignmentJSON `json:"AccountAssignments"`
		NextToken          string                  `json:"NextToken,omitempty"`
	}{pg, next}, nil
}

// ssoListAccountAssignmentsForPrincipal lists the principal's own assignments: for a user,
// not those it holds through its groups, as in AWS.
//
// AWS documents that it "must be called from the management account containing your
// organization instance" and "is not valid for account instances". The simulator refuses
// a delegated administrator with AccessDeniedException (the management account alone may
// call it) and an account instance (one not owned by the organization's management
// account) with ValidationException; AWS documents the restriction, not the error codes.
func ssoListAccountAssignmentsForPrincipal(q *request) (any, *apiError) {
	var in struct {
		InstanceArn   string `json:"InstanceArn"`
		PrincipalID   string `json:"PrincipalId"`
		PrincipalType string `json:"PrincipalType"`
		Filter        *struct {
			AccountID string `json:"AccountId"`
		} `json:"Filter"`
		MaxResults *int32 `json:"MaxResults"`
		NextToken  string `json:"NextToken"`
	}
	if err := q.decodeJSON(&in); err != nil {
		return nil, err
	}
	if err := icRequire("InstanceArn", in.InstanceArn, "PrincipalId", in.PrincipalID, "PrincipalType", in.PrincipalType); err != nil {
		return nil, err
	}
	s, err := q.ssoInstance(in.InstanceArn)
	if err != nil {
		return nil, err
	}
	if !q.w.organizationInstance(s) {
		return nil, icError("ValidationException", "ListAccountAssignmentsForPrincipal is not supported for account instances of IAM Identity Center.")
	}
	if q.caller.AccountID != s.OwnerAccountID {
		// Not a policy denial (the caller's policy may allow the action), so the message
		// does not read like one.
		return nil, icError("AccessDeniedException", "ListAccountAssignmentsForPrincipal must be called from the management account containing the organization instance %s.", s.ARN)
	}
	if err := icPattern("PrincipalId", in.PrincipalID, ssoPrincipalIDPattern); err != nil {
		return nil, err
	}
	if err := icEnum("PrincipalType", in.PrincipalType, "USER", "GROUP"); err != nil {
		return nil, err
	}
	account := ""
	if in.Filter != nil && in.Filter.AccountID != "" {
		if err := icPattern("Filter.AccountId", in.Filter.AccountID, ssoAccountIDPattern); err != nil {
			return nil, err
		}
		account = in.Filter.AccountID
	}
	var items []accountAssignmentJSON
	for _, a := range s.Assignments {
		if a.PrincipalID == in.PrincipalID && a.PrincipalType == in.PrincipalType && (account == "" || a.AccountID == account) {
			items = append(items, toAccountAssignmentJSON(a))
		}
	}
	pg, next, err := icPage(q, items, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	return struct {
		AccountAssignments []accountAssignmentJSON `json:"AccountAssignments"`
		NextToken          string                  `json:"NextToken,omitempty"`
	}{pg, next}, nil
}

type assignmentOperationJSON struct {
	CreatedDate      *Epoch `json:"CreatedDate,omitempty"`
	FailureReason    string `json:"FailureReason,omitempty"`
	PermissionSetArn string `json:"PermissionSetArn,omitempty"`
	PrincipalID      string `json:"PrincipalId,omitempty"`
	PrincipalType    string `json:"PrincipalType,omitempty"`
	RequestID        string `json:"RequestId"`
	Status           string `json:"Status"`
	TargetID         string `json:"TargetId,omitempty"`
	TargetType       string `json:"TargetType,omitempty"`
}

func toAssignmentOperationJSON(op *AssignmentOperation) assignmentOperationJSON {
	a := op.Assignment
	return assignmentOperationJSON{CreatedDate: epoch(op.CreatedDate), FailureReason: op.FailureReason,
		PermissionSetArn: a.PermissionSetARN, PrincipalID: a.PrincipalID, PrincipalType: a.PrincipalType,
		RequestID: op.RequestID, Status: op.Status, TargetID: a.AccountID, TargetType: "AWS_ACCOUNT"}
}

// assignmentRequest validates the input of CreateAccountAssignment and
// DeleteAccountAssignment.
func (q *request) assignmentRequest(deleting bool) (*SSOInstance, Assignment, *apiError) {
	var in struct {
		InstanceArn      string `json:"InstanceArn"`
		PermissionSetArn string `json:"PermissionSetArn"`
		PrincipalID      string `json:"PrincipalId"`
		PrincipalType    string `json:"PrincipalType"`
		TargetID         string `json:"TargetId"`
		TargetType       string `json:"TargetType"`
	}
	if err := q.decodeJSON(&in); err != nil {
		return nil, Assignment{}, err
	}
	if err := icRequire("InstanceArn", in.InstanceArn, "PermissionSetArn", in.PermissionSetArn,
		"PrincipalId", in.PrincipalID, "PrincipalType", in.PrincipalType, "TargetId", in.TargetID, "TargetType", in.TargetType); err != nil {
		return nil, Assignment{}, err
	}
	for _, err := range []*apiError{
		icEnum("TargetType", in.TargetType, "AWS_ACCOUNT"),
		icEnum("PrincipalType", in.PrincipalType, "USER", "GROUP"),
		icPattern("TargetId", in.TargetID, ssoAccountIDPattern),
		icPattern("PrincipalId", in.PrincipalID, ssoPrincipalIDPattern),
	} {
		if err != nil {
			return nil, Assignment{}, err
		}
	}
	s, err := q.ssoInstance(in.InstanceArn)
	if err != nil {
		return nil, Assignment{}, err
	}
	ps, err := q.permissionSet(s, in.PermissionSetArn)
	if err != nil {
		return nil, Assignment{}, err
	}
	asg := Assignment{AccountID: in.TargetID, PermissionSetARN: ps.ARN, PrincipalType: in.PrincipalType, PrincipalID: in.PrincipalID}
	// A principal deleted from the identity store may still hold assignments; those can be
	// deleted.
	exists := (in.PrincipalType == "USER" && s.SSOUser(in.PrincipalID) != nil) ||
		(in.PrincipalType == "GROUP" && s.SSOGroup(in.PrincipalID) != nil)
	if !exists && !(deleting && s.HasAssignment(asg)) {
		return nil, Assignment{}, icError("ResourceNotFoundException", "%s %s does not exist in identity store %s.", in.PrincipalType, in.PrincipalID, s.IdentityStoreID)
	}
	if err := q.checkDelegatedTarget(s, in.TargetID); err != nil {
		return nil, Assignment{}, err
	}
	return s, asg, nil
}

// checkDelegatedTarget refuses a delegated administrator's change to the management account:
// only the management account may manage access to itself
// (fivexl/terraform-aws-sso-elevator#101 reports AccessDeniedException).
func (q *request) checkDelegatedTarget(s *SSOInstance, accountID string) *apiError {
	if q.caller.AccountID != s.OwnerAccountID && accountID == s.OwnerAccountID {
		return q.icDenied(s.ARN)
	}
	return nil
}

// operationInProgress reports whether a creation (or deletion) of the assignment is
// IN_PROGRESS.
func (s *SSOInstance) operationInProgress(asg Assignment, deletion bool) bool {
	for _, op := range s.Operations {
		if op.Status == "IN_PROGRESS" && op.Delete == deletion && op.Assignment == asg {
			return true
		}
	}
	return false
}

func (s *SSOInstance) creationsInProgress() int {
	n := 0
	for _, op := range s.Operations {
		if op.Status == "IN_PROGRESS" && !op.Delete {
			n++
		}
	}
	return n
}

// startAssignmentOperation records an IN_PROGRESS operation that advanceAssignments
// completes after the instance's AssignmentDelay.
func (w *World) startAssignmentOperation(asg Assignment, deletion bool) *AssignmentOperation {
	delay := w.SSO.AssignmentDelay
	if j := w.SSO.AssignmentJitter; j > 0 {
		// A fraction of the jitter drawn from the sequence: deterministic for a given
		// world and order of calls, spread evenly over [0, j).
		x := uint64(w.nextSeq()) * 0x9E3779B97F4A7C15
		x ^= x >> 29
		delay += time.Duration(x % uint64(j))
	}
	op := &AssignmentOperation{RequestID: w.uuid(), Delete: deletion, Assignment: asg, Status: "IN_PROGRESS",
		CreatedDate: w.Now(), DoneAt: w.now().UTC().Add(delay)}
	w.SSO.Operations = append(w.SSO.Operations, op)
	return op
}

func ssoCreateAccountAssignment(q *request) (any, *apiError) {
	s, asg, err := q.assignmentRequest(false)
	if err != nil {
		return nil, err
	}
	if s.operationInProgress(asg, true) {
		return nil, icError("ConflictException", "A deletion of this account assignment is in progress; retry after it completes.")
	}
	if s.creationsInProgress() >= maxCreationsInProgress {
		return nil, icError("ThrottlingException", "There are too many requests processing. Please try again later.")
	}
	op := q.w.startAssignmentOperation(asg, false)
	return struct {
		Status assignmentOperationJSON `json:"AccountAssignmentCreationStatus"`
	}{toAssignmentOperationJSON(op)}, nil
}

func ssoDeleteAccountAssignment(q *request) (any, *apiError) {
	s, asg, err := q.assignmentRequest(true)
	if err != nil {
		return nil, err
	}
	if s.operationInProgress(asg, false) {
		return nil, icError("ConflictException", "A creation of this account assignment is in progress; retry after it completes.")
	}
	op := q.w.startAssignmentOperation(asg, true)
	return struct {
		Status assignmentOperationJSON `json:"AccountAssignmentDeletionStatus"`
	}{toAssignmentOperationJSON(op)}, nil
}

func ssoDescribeCreationStatus(q *request) (any, *apiError) {
	return q.describeAssignmentOperation(false)
}

func ssoDescribeDeletionStatus(q *request) (any, *apiError) {
	return q.describeAssignmentOperation(true)
}

func (q *request) describeAssignmentOperation(deletion bool) (any, *apiError) {
	var in struct {
		InstanceArn string `json:"InstanceArn"`
		Creation    string `json:"AccountAssignmentCreationRequestId"`
		Deletion    string `json:"AccountAssignmentDeletionRequestId"`
	}
	if err := q.decodeJSON(&in); err != nil {
		return nil, err
	}
	member, id, key := "AccountAssignmentCreationRequestId", in.Creation, "AccountAssignmentCreationStatus"
	if deletion {
		member, id, key = "AccountAssignmentDeletionRequestId", in.Deletion, "AccountAssignmentDeletionStatus"
	}
	if err := icRequire("InstanceArn", in.InstanceArn, member, id); err != nil {
		return nil, err
	}
	s, err := q.ssoInstance(in.InstanceArn)
	if err != nil {
		return nil, err
	}
	for _, op := range s.Operations {
		if op.RequestID == id && op.Delete == deletion {
			return map[string]assignmentOperationJSON{key: toAssignmentOperationJSON(op)}, nil
		}
	}
	return nil, icError("ResourceNotFoundException", "Could not find an account assignment request with id %s.", id)
}

type operationMetadataJSON struct {
	CreatedDate *Epoch `json:"CreatedDate,omitempty"`
	RequestID   string `json:"RequestId"`
	Status      string `json:"Status"`
}

func ssoListCreationStatus(q *request) (any, *apiError) {
	return q.listAssignmentOperations(false)
}

func ssoListDeletionStatus(q *request) (any, *apiError) {
	return q.listAssignmentOperations(true)
}

func (q *request) listAssignmentOperations(deletion bool) (any, *apiError) {
	var in struct {
		InstanceArn string `json:"InstanceArn"`
		Filter      *struct {
			Status string `json:"Status"`
		} `json:"Filter"`
		MaxResults *int32 `json:"MaxResults"`
		NextToken  string `json:"NextToken"`
	}
	if err := q.decodeJSON(&in); err != nil {
		return nil, err
	}
	s, err := q.ssoInstance(in.InstanceArn)
	if err != nil {
		return nil, err
	}
	status := ""
	if in.Filter != nil && in.Filter.Status != "" {
		if err := icEnum("Filter.Status", in.Filter.Status, "IN_PROGRESS", "FAILED", "SUCCEEDED"); err != nil {
			return nil, err
		}
		status = in.Filter.Status
	}
	var items []operationMetadataJSON
	for _, op := range s.Operations {
		if op.Delete == deletion && (status == "" || op.Status == status) {
			items = append(items, operationMetadataJSON{CreatedDate: epoch(op.CreatedDate), RequestID: op.RequestID, Status: op.Status})
		}
	}
	pg, next, err := icPage(q, items, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	key := "AccountAssignmentsCreationStatus"
	if deletion {
		key = "AccountAssignmentsDeletionStatus"
	}
	out := map[string]any{key: pg}
	if next != "" {
		out["NextToken"] = next
	}
	return out, nil
}

// advanceAssignments completes the assignment operations whose delay has passed, in the
// order they were started: an operation on an account listed in FailAssignments, unknown or
// not ACTIVE ends FAILED with a reason; otherwise a creation provisions the permission set
// to the account (creating its AWSReservedSSO_ role) and adds the assignment once, and a
// deletion removes the assignment if it exists.
func (w *World) advanceAssignments() {
	now := w.now().UTC()
	for _, op := range w.SSO.Operations {
		if op.Status != "IN_PROGRESS" || now.Before(op.DoneAt) {
			continue
		}
		if reason := w.assignmentFailure(op.Assignment.AccountID); reason != "" {
			op.Status, op.FailureReason = "FAILED", reason
			continue
		}
		if op.Delete {
			w.SSO.removeAssignment(op.Assignment)
		} else {
			w.AddAssignment(op.Assignment.AccountID, op.Assignment.PermissionSetARN, op.Assignment.PrincipalType, op.Assignment.PrincipalID)
		}
		op.Status = "SUCCEEDED"
	}
}

// assignmentFailure is why an assignment or provisioning operation on the account fails,
// or "" when it does not. The reasons for unknown and inactive accounts are the simulator's
// wording, not AWS's.
func (w *World) assignmentFailure(accountID string) string {
	if reason, ok := w.SSO.FailAssignments[accountID]; ok {
		if reason == "" {
			// AWS's generic reason (seen in pulumi/pulumi-aws#1927).
			reason = "An unexpected internal service exception was encountered"
		}
		return reason
	}
	a := w.Accounts[accountID]
	if a == nil {
		return fmt.Sprintf("Account %s is not a member of the organization.", accountID)
	}
	if a.Status != "ACTIVE" {
		return fmt.Sprintf("Account %s is %s and cannot be provisioned.", accountID, a.Status)
	}
	return ""
}

func (s *SSOInstance) removeAssignment(asg Assignment) {
	kept := s.Assignments[:0]
	for _, a := range s.Assignments {
		if *a != asg {
			kept = append(kept, a)
		}
	}
	s.Assignments = kept
}
