package awssim

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// IAM managed policies (customer-managed in the account and AWS-managed), their versions,
// attachments to users, groups and roles, and inline policies.

func init() {
	register("iam", map[string]opHandler{
		"CreatePolicy":            iamCreatePolicy,
		"GetPolicy":               iamGetPolicy,
		"DeletePolicy":            iamDeletePolicy,
		"ListPolicies":            iamListPolicies,
		"GetPolicyVersion":        iamGetPolicyVersion,
		"ListPolicyVersions":      iamListPolicyVersions,
		"CreatePolicyVersion":     iamCreatePolicyVersion,
		"DeletePolicyVersion":     iamDeletePolicyVersion,
		"SetDefaultPolicyVersion": iamSetDefaultPolicyVersion,
		"ListEntitiesForPolicy":   iamListEntitiesForPolicy,

		"AttachUserPolicy":          attachHandler(userKind),
		"AttachGroupPolicy":         attachHandler(groupKind),
		"AttachRolePolicy":          attachHandler(roleKind),
		"DetachUserPolicy":          detachHandler(userKind),
		"DetachGroupPolicy":         detachHandler(groupKind),
		"DetachRolePolicy":          detachHandler(roleKind),
		"ListAttachedUserPolicies":  listAttachedHandler(userKind),
		"ListAttachedGroupPolicies": listAttachedHandler(groupKind),
		"ListAttachedRolePolicies":  listAttachedHandler(roleKind),

		"PutUserPolicy":     putInlineHandler(userKind),
		"PutGroupPolicy":    putInlineHandler(groupKind),
		"PutRolePolicy":     putInlineHandler(roleKind),
		"GetUserPolicy":     getInlineHandler(userKind),
		"GetGroupPolicy":    getInlineHandler(groupKind),
		"GetRolePolicy":     getInlineHandler(roleKind),
		"ListUserPolicies":  listInlineHandler(userKind),
		"ListGroupPolicies": listInlineHandler(groupKind),
		"ListRolePolicies":  listInlineHandler(roleKind),
		"DeleteUserPolicy":  deleteInlineHandler(userKind),
		"DeleteGroupPolicy": deleteInlineHandler(groupKind),
		"DeleteRolePolicy":  deleteInlineHandler(roleKind),
	})
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

// parseIdentityPolicy checks an identity-based policy document: valid, every statement
// with an action and a resource and without a principal.
func parseIdentityPolicy(doc string) *apiError {
	p, err := parsePolicy(doc)
	if err != nil {
		return err
	}
	for _, st := range p.statements {
		if st.hasPrincipal || st.notPrincipal {
			return &apiError{Status: 400, Code: "MalformedPolicyDocument", Message: "Policy document should not specify a principal."}
		}
		if len(st.actions) == 0 && len(st.notActions) == 0 {
			return &apiError{Status: 400, Code: "MalformedPolicyDocument", Message: "Policy statement must contain actions."}
		}
		if len(st.resources) == 0 && len(st.notResources) == 0 {
			return &apiError{Status: 400, Code: "MalformedPolicyDocument", Message: "Policy statement must contain resources."}
		}
	}
	return nil
}

// policyNameOf is the name part of a policy ARN (for attachments whose policy is gone).
func policyNameOf(arn string) string { return arn[strings.LastIndex(arn, "/")+1:] }

func isAWSManaged(arn string) bool { return strings.HasPrefix(arn, "arn:aws:iam::aws:policy/") }

// policyParam returns the managed policy named by the required PolicyArn parameter.
func (q *request) policyParam() (*Policy, *apiError) {
	arn, err := q.required("PolicyArn")
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(arn, "arn:") || len(arn) < 20 {
		return nil, iamValidation("ARN %s is not valid.", arn)
	}
	p := q.w.Policy(q.account(), arn)
	if p == nil {
		return nil, noSuchPolicy(arn)
	}
	return p, nil
}

// localPolicyParam is policyParam for calls that change the policy: AWS-managed policies
// belong to AWS and cannot be changed from an account.
func (q *request) localPolicyParam() (*Policy, *apiError) {
	p, err := q.policyParam()
	if err != nil {
		return nil, err
	}
	if isAWSManaged(p.ARN) {
		return nil, &apiError{Status: 403, Code: "AccessDenied", Message: fmt.Sprintf("User: %s is not authorized to perform: %s on resource: policy %s", q.caller.ARN, actionOf("iam", q.op), p.ARN)}
	}
	return p, nil
}

type xmlPolicy struct {
	PolicyName                    string    `xml:"PolicyName"`
	PolicyID                      string    `xml:"PolicyId"`
	Arn                           string    `xml:"Arn"`
	Path                          string    `xml:"Path"`
	DefaultVersionID              string    `xml:"DefaultVersionId"`
	AttachmentCount               int       `xml:"AttachmentCount"`
	PermissionsBoundaryUsageCount int       `xml:"PermissionsBoundaryUsageCount"`
	IsAttachable                  bool      `xml:"IsAttachable"`
	Description                   string    `xml:"Description,omitempty"`
	CreateDate                    time.Time `xml:"CreateDate"`
	UpdateDate                    time.Time `xml:"UpdateDate"`
}

// toXMLPolicy describes a policy with its attachment count in the account. ListPolicies
// leaves out the description, as AWS does.
func toXMLPolicy(a *Account, p *Policy, withDescription bool) xmlPolicy {
	x := xmlPolicy{PolicyName: p.Name, PolicyID: p.ID, Arn: p.ARN, Path: p.Path, DefaultVersionID: p.DefaultVersion,
		AttachmentCount: a.AttachmentCount(p.ARN), PermissionsBoundaryUsageCount: a.BoundaryUsageCount(p.ARN),
		IsAttachable: true, CreateDate: p.CreateDate, UpdateDate: p.UpdateDate}
	if withDescription {
		x.Description = p.Description
	}
	return x
}

type policyResult struct {
	Policy xmlPolicy `xml:"Policy"`
}

func iamCreatePolicy(q *request) (any, *apiError) {
	a := q.account()
	name := q.param("PolicyName")
	if err := validName("policyName", name, 128); err != nil {
		return nil, err
	}
	path, err := q.pathParam()
	if err != nil {
		return nil, err
	}
	doc, err := q.required("PolicyDocument")
	if err != nil {
		return nil, err
	}
	if err := parseIdentityPolicy(doc); err != nil {
		return nil, err
	}
	if policySize(doc) > quotaManagedPolicySize {
		return nil, limitExceeded(fmt.Sprintf("Cannot exceed quota for PolicySize: %d", quotaManagedPolicySize))
	}
	desc := q.param("Description")
	if len(desc) > 1000 {
		return nil, iamValidation("1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length less than or equal to 1000")
	}
	for _, p := range a.Policies {
		if strings.EqualFold(p.Name, name) {
			return nil, entityExists("A policy called " + name + " already exists. Duplicate names are not allowed.")
		}
	}
	if len(a.Policies) >= quotaPolicies {
		return nil, limitExceeded(fmt.Sprintf("Cannot exceed quota for PoliciesPerAccount: %d", quotaPolicies))
	}
	p := a.AddPolicy(q.w, name, path, doc)
	p.Description = desc
	return policyResult{toXMLPolicy(a, p, true)}, nil
}

func iamGetPolicy(q *request) (any, *apiError) {
	p, err := q.policyParam()
	if err != nil {
		return nil, err
	}
	return policyResult{toXMLPolicy(q.account(), p, true)}, nil
}

// iamDeletePolicy requires, as AWS does, that the policy is attached nowhere and has no
// version besides the default one.
func iamDeletePolicy(q *request) (any, *apiError) {
	a := q.account()
	p, err := q.localPolicyParam()
	if err != nil {
		return nil, err
	}
	if a.AttachmentCount(p.ARN) > 0 {
		return nil, deleteConflict("Cannot delete a policy attached to entities.")
	}
	if len(p.Versions) > 1 {
		return nil, deleteConflict("This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.")
	}
	delete(a.Policies, p.ARN)
	return nil, nil
}

type listPoliciesResult struct {
	Policies    xmlList[xmlPolicy] `xml:"Policies"`
	IsTruncated bool               `xml:"IsTruncated"`
	Marker      string             `xml:"Marker,omitempty"`
}

// accountPolicies returns the policies visible in the account for the scope (All, AWS,
// Local), sorted by name then ARN.
func accountPolicies(w *World, a *Account, scope string) []*Policy {
	var out []*Policy
	if scope == "All" || scope == "AWS" {
		for _, p := range w.AWSManagedPolicies {
			out = append(out, p)
		}
	}
	if scope == "All" || scope == "Local" {
		for _, p := range a.Policies {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].ARN < out[j].ARN
	})
	return out
}

func iamListPolicies(q *request) (any, *apiError) {
	a := q.account()
	scope := q.param("Scope")
	switch scope {
	case "":
		scope = "All"
	case "All", "AWS", "Local":
	default:
		return nil, iamValidation("1 validation error detected: Value '%s' at 'scope' failed to satisfy constraint: Member must satisfy enum value set: [All, AWS, Local]", scope)
	}
	onlyAttached, err := q.boolParam("OnlyAttached")
	if err != nil {
		return nil, err
	}
	prefix, err := q.pathPrefixParam()
	if err != nil {
		return nil, err
	}
	var policies []*Policy
	for _, p := range accountPolicies(q.w, a, scope) {
		if strings.HasPrefix(p.Path, prefix) && (!onlyAttached || a.AttachmentCount(p.ARN) > 0) {
			policies = append(policies, p)
		}
	}
	pg, next, err := iamPage(q, policies)
	if err != nil {
		return nil, err
	}
	res := listPoliciesResult{IsTruncated: next != "", Marker: next}
	for _, p := range pg {
		res.Policies.Member = append(res.Policies.Member, toXMLPolicy(a, p, false))
	}
	return res, nil
}

// Versions.

type xmlPolicyVersion struct {
	Document         string    `xml:"Document,omitempty"`
	VersionID        string    `xml:"VersionId"`
	IsDefaultVersion bool      `xml:"IsDefaultVersion"`
	CreateDate       time.Time `xml:"CreateDate"`
}

func toXMLPolicyVersion(p *Policy, v *PolicyVersion, withDocument bool) xmlPolicyVersion {
	x := xmlPolicyVersion{VersionID: v.ID, IsDefaultVersion: v.ID == p.DefaultVersion, CreateDate: v.CreateDate}
	if withDocument {
		x.Document = urlEncodedPolicy(v.Document)
	}
	return x
}

type policyVersionResult struct {
	PolicyVersion xmlPolicyVersion `xml:"PolicyVersion"`
}

// versionParam returns the version named by the required VersionId parameter.
func (q *request) versionParam(p *Policy) (*PolicyVersion, *apiError) {
	id, err := q.required("VersionId")
	if err != nil {
		return nil, err
	}
	for _, v := range p.Versions {
		if v.ID == id {
			return v, nil
		}
	}
	return nil, &apiError{Status: 404, Code: "NoSuchEntity", Message: "Policy " + p.ARN + " version " + id + " does not exist or is not attachable."}
}

func iamGetPolicyVersion(q *request) (any, *apiError) {
	p, err := q.policyParam()
	if err != nil {
		return nil, err
	}
	v, err := q.versionParam(p)
	if err != nil {
		return nil, err
	}
	return policyVersionResult{toXMLPolicyVersion(p, v, true)}, nil
}

type listPolicyVersionsResult struct {
	Versions    xmlList[xmlPolicyVersion] `xml:"Versions"`
	IsTruncated bool                      `xml:"IsTruncated"`
	Marker      string                    `xml:"Marker,omitempty"`
}

// iamListPolicyVersions lists the newest version first, as AWS does.
func iamListPolicyVersions(q *request) (any, *apiError) {
	p, err := q.policyParam()
	if err != nil {
		return nil, err
	}
	versions := append([]*PolicyVersion(nil), p.Versions...)
	sort.SliceStable(versions, func(i, j int) bool { return versionNumber(versions[i].ID) > versionNumber(versions[j].ID) })
	pg, next, err := iamPage(q, versions)
	if err != nil {
		return nil, err
	}
	res := listPolicyVersionsResult{IsTruncated: next != "", Marker: next}
	for _, v := range pg {
		res.Versions.Member = append(res.Versions.Member, toXMLPolicyVersion(p, v, false))
	}
	return res, nil
}

func versionNumber(id string) int {
	n, _ := strconv.Atoi(strings.TrimPrefix(id, "v"))
	return n
}

func iamCreatePolicyVersion(q *request) (any, *apiError) {
	p, err := q.localPolicyParam()
	if err != nil {
		return nil, err
	}
	doc, err := q.required("PolicyDocument")
	if err != nil {
		return nil, err
	}
	if err := parseIdentityPolicy(doc); err != nil {
		return nil, err
	}
	if policySize(doc) > quotaManagedPolicySize {
		return nil, limitExceeded(fmt.Sprintf("Cannot exceed quota for PolicySize: %d", quotaManagedPolicySize))
	}
	setDefault, err := q.boolParam("SetAsDefault")
	if err != nil {
		return nil, err
	}
	if len(p.Versions) >= quotaVersionsPerPolicy {
		return nil, limitExceeded(fmt.Sprintf("A managed policy can have up to %d versions. Before you create a new version, you must delete an existing version.", quotaVersionsPerPolicy))
	}
	next := 0
	for _, v := range p.Versions {
		next = max(next, versionNumber(v.ID))
	}
	v := &PolicyVersion{ID: "v" + strconv.Itoa(next+1), Document: doc, CreateDate: q.w.Now()}
	p.Versions = append(p.Versions, v)
	if setDefault {
		p.DefaultVersion, p.UpdateDate = v.ID, v.CreateDate
	}
	return policyVersionResult{toXMLPolicyVersion(p, v, false)}, nil
}

func iamDeletePolicyVersion(q *request) (any, *apiError) {
	p, err := q.localPolicyParam()
	if err != nil {
		return nil, err
	}
	v, err := q.versionParam(p)
	if err != nil {
		return nil, err
	}
	if v.ID == p.DefaultVersion {
		return nil, deleteConflict("Cannot delete the default version of a policy.")
	}
	var kept []*PolicyVersion
	for _, x := range p.Versions {
		if x != v {
			kept = append(kept, x)
		}
	}
	p.Versions = kept
	return nil, nil
}

func iamSetDefaultPolicyVersion(q *request) (any, *apiError) {
	p, err := q.localPolicyParam()
	if err != nil {
		return nil, err
	}
	v, err := q.versionParam(p)
	if err != nil {
		return nil, err
	}
	p.DefaultVersion, p.UpdateDate = v.ID, q.w.Now()
	return nil, nil
}

// ListEntitiesForPolicy.

type xmlPolicyGroup struct {
	GroupName string `xml:"GroupName"`
	GroupID   string `xml:"GroupId"`
}

type xmlPolicyUser struct {
	UserName string `xml:"UserName"`
	UserID   string `xml:"UserId"`
}

type xmlPolicyRole struct {
	RoleName string `xml:"RoleName"`
	RoleID   string `xml:"RoleId"`
}

type listEntitiesForPolicyResult struct {
	PolicyGroups xmlList[xmlPolicyGroup] `xml:"PolicyGroups"`
	PolicyUsers  xmlList[xmlPolicyUser]  `xml:"PolicyUsers"`
	PolicyRoles  xmlList[xmlPolicyRole]  `xml:"PolicyRoles"`
	IsTruncated  bool                    `xml:"IsTruncated"`
	Marker       string                  `xml:"Marker,omitempty"`
}

// iamListEntitiesForPolicy pages over groups, then users, then roles with one marker.
func iamListEntitiesForPolicy(q *request) (any, *apiError) {
	a := q.account()
	p, err := q.policyParam()
	if err != nil {
		return nil, err
	}
	filter := q.param("EntityFilter")
	switch filter {
	case "", "User", "Group", "Role", "LocalManagedPolicy", "AWSManagedPolicy":
	default:
		return nil, iamValidation("1 validation error detected: Value '%s' at 'entityFilter' failed to satisfy constraint: Member must satisfy enum value set: [User, Role, Group, LocalManagedPolicy, AWSManagedPolicy]", filter)
	}
	prefix, err := q.pathPrefixParam()
	if err != nil {
		return nil, err
	}
	want := func(kind string) bool { return filter == "" || filter == kind }
	var entities []any
	if want("Group") {
		for _, name := range sortedKeys(a.Groups) {
			if g := a.Groups[name]; countOf(g.AttachedPolicies, p.ARN) > 0 && strings.HasPrefix(g.Path, prefix) {
				entities = append(entities, g)
			}
		}
	}
	if want("User") {
		for _, name := range sortedKeys(a.Users) {
			if u := a.Users[name]; countOf(u.AttachedPolicies, p.ARN) > 0 && strings.HasPrefix(u.Path, prefix) {
				entities = append(entities, u)
			}
		}
	}
	if want("Role") {
		for _, name := range sortedKeys(a.Roles) {
			if r := a.Roles[name]; countOf(r.AttachedPolicies, p.ARN) > 0 && strings.HasPrefix(r.Path, prefix) {
				entities = append(entities, r)
			}
		}
	}
	pg, next, err := iamPage(q, entities)
	if err != nil {
		return nil, err
	}
	res := listEntitiesForPolicyResult{IsTruncated: next != "", Marker: next}
	for _, e := range pg {
		switch e := e.(type) {
		case *Group:
			res.PolicyGroups.Member = append(res.PolicyGroups.Member, xmlPolicyGroup{e.Name, e.ID})
		case *User:
			res.PolicyUsers.Member = append(res.PolicyUsers.Member, xmlPolicyUser{e.Name, e.ID})
		case *Role:
			res.PolicyRoles.Member = append(res.PolicyRoles.Member, xmlPolicyRole{e.Name, e.ID})
		}
	}
	return res, nil
}

// Users, groups and roles share attachments and inline policies; entityKind abstracts
// over them.

type entityKind struct {
	name      string // user, group, role: in messages
	param     string // UserName, GroupName, RoleName
	quotaName string // PoliciesPerUser, ...
	sizeQuota int    // aggregate inline policy size
}

var (
	userKind  = entityKind{"user", "UserName", "PoliciesPerUser", quotaUserPolicySize}
	groupKind = entityKind{"group", "GroupName", "PoliciesPerGroup", quotaGroupPolicySize}
	roleKind  = entityKind{"role", "RoleName", "PoliciesPerRole", quotaRolePolicySize}
)

// policyHolder is the attachments and inline policies of one user, group or role.
type policyHolder struct {
	name     string
	attached *[]string
	inline   map[string]string
}

// holderParam finds the entity named by the kind's parameter. Entities built directly in
// Go (fixtures, generators) may have a nil inline map; it is made here so that handlers
// can write to it.
func (q *request) holderParam(k entityKind) (*policyHolder, *apiError) {
	switch k.param {
	case "UserName":
		u, err := q.userParam()
		if err != nil {
			return nil, err
		}
		if u.InlinePolicies == nil {
			u.InlinePolicies = map[string]string{}
		}
		return &policyHolder{u.Name, &u.AttachedPolicies, u.InlinePolicies}, nil
	case "GroupName":
		g, err := q.groupParam()
		if err != nil {
			return nil, err
		}
		if g.InlinePolicies == nil {
			g.InlinePolicies = map[string]string{}
		}
		return &policyHolder{g.Name, &g.AttachedPolicies, g.InlinePolicies}, nil
	}
	r, err := q.roleParam()
	if err != nil {
		return nil, err
	}
	if r.InlinePolicies == nil {
		r.InlinePolicies = map[string]string{}
	}
	return &policyHolder{r.Name, &r.AttachedPolicies, r.InlinePolicies}, nil
}

// attachHandler attaches a managed policy; attaching it again changes nothing.
func attachHandler(k entityKind) opHandler {
	return func(q *request) (any, *apiError) {
		h, err := q.holderParam(k)
		if err != nil {
			return nil, err
		}
		p, err := q.policyParam()
		if err != nil {
			return nil, err
		}
		if countOf(*h.attached, p.ARN) > 0 {
			return nil, nil
		}
		if len(*h.attached) >= quotaAttachedPerEntity {
			return nil, limitExceeded(fmt.Sprintf("Cannot exceed quota for %s: %d", k.quotaName, quotaAttachedPerEntity))
		}
		*h.attached = append(*h.attached, p.ARN)
		return nil, nil
	}
}

func detachHandler(k entityKind) opHandler {
	return func(q *request) (any, *apiError) {
		h, err := q.holderParam(k)
		if err != nil {
			return nil, err
		}
		arn, err := q.required("PolicyArn")
		if err != nil {
			return nil, err
		}
		if countOf(*h.attached, arn) == 0 {
			return nil, &apiError{Status: 404, Code: "NoSuchEntity", Message: "Policy " + arn + " was not found."}
		}
		var kept []string
		for _, x := range *h.attached {
			if x != arn {
				kept = append(kept, x)
			}
		}
		*h.attached = kept
		return nil, nil
	}
}

type xmlAttachedPolicy struct {
	PolicyName string `xml:"PolicyName"`
	PolicyArn  string `xml:"PolicyArn"`
}

// attachedPolicies describes the attached policies of an entity, in attachment order.
func attachedPolicies(w *World, a *Account, arns []string) []xmlAttachedPolicy {
	out := make([]xmlAttachedPolicy, 0, len(arns))
	for _, arn := range arns {
		name := policyNameOf(arn)
		if p := w.Policy(a, arn); p != nil {
			name = p.Name
		}
		out = append(out, xmlAttachedPolicy{name, arn})
	}
	return out
}

type listAttachedResult struct {
	AttachedPolicies xmlList[xmlAttachedPolicy] `xml:"AttachedPolicies"`
	IsTruncated      bool                       `xml:"IsTruncated"`
	Marker           string                     `xml:"Marker,omitempty"`
}

func listAttachedHandler(k entityKind) opHandler {
	return func(q *request) (any, *apiError) {
		a := q.account()
		h, err := q.holderParam(k)
		if err != nil {
			return nil, err
		}
		prefix, err := q.pathPrefixParam()
		if err != nil {
			return nil, err
		}
		var arns []string
		for _, arn := range *h.attached {
			p := q.w.Policy(a, arn)
			if prefix == "" || (p != nil && strings.HasPrefix(p.Path, prefix)) {
				arns = append(arns, arn)
			}
		}
		pg, next, err := iamPage(q, arns)
		if err != nil {
			return nil, err
		}
		return listAttachedResult{AttachedPolicies: xmlListOf(attachedPolicies(q.w, a, pg)), IsTruncated: next != "", Marker: next}, nil
	}
}

// Inline policies.

func noSuchInline(k entityKind, name string) *apiError {
	return &apiError{Status: 404, Code: "NoSuchEntity", Message: "The " + k.name + " policy with name " + name + " cannot be found."}
}

// putInlineHandler adds or replaces an inline policy. The quota is on the size of all of
// the entity's inline policies together, as in IAM.
func putInlineHandler(k entityKind) opHandler {
	return func(q *request) (any, *apiError) {
		h, err := q.holderParam(k)
		if err != nil {
			return nil, err
		}
		name := q.param("PolicyName")
		if err := validName("policyName", name, 128); err != nil {
			return nil, err
		}
		doc, err := q.required("PolicyDocument")
		if err != nil {
			return nil, err
		}
		if err := parseIdentityPolicy(doc); err != nil {
			return nil, err
		}
		total := policySize(doc)
		for n, d := range h.inline {
			if n != name {
				total += policySize(d)
			}
		}
		if total > k.sizeQuota {
			return nil, limitExceeded(fmt.Sprintf("Maximum policy size of %d bytes exceeded for %s %s", k.sizeQuota, k.name, h.name))
		}
		h.inline[name] = doc
		return nil, nil
	}
}

// inlinePolicyResult is GetUserPolicy / GetGroupPolicy / GetRolePolicy: exactly one of the
// entity names is set.
type inlinePolicyResult struct {
	UserName       string `xml:"UserName,omitempty"`
	GroupName      string `xml:"GroupName,omitempty"`
	RoleName       string `xml:"RoleName,omitempty"`
	PolicyName     string `xml:"PolicyName"`
	PolicyDocument string `xml:"PolicyDocument"`
}

func getInlineHandler(k entityKind) opHandler {
	return func(q *request) (any, *apiError) {
		h, err := q.holderParam(k)
		if err != nil {
			return nil, err
		}
		name, err := q.required("PolicyName")
		if err != nil {
			return nil, err
		}
		doc, ok := h.inline[name]
		if !ok {
			return nil, noSuchInline(k, name)
		}
		res := inlinePolicyResult{PolicyName: name, PolicyDocument: urlEncodedPolicy(doc)}
		switch k.param {
		case "UserName":
			res.UserName = h.name
		case "GroupName":
			res.GroupName = h.name
		default:
			res.RoleName = h.name
		}
		return res, nil
	}
}

type listInlineResult struct {
	PolicyNames xmlList[string] `xml:"PolicyNames"`
	IsTruncated bool            `xml:"IsTruncated"`
	Marker      string          `xml:"Marker,omitempty"`
}

func listInlineHandler(k entityKind) opHandler {
	return func(q *request) (any, *apiError) {
		h, err := q.holderParam(k)
		if err != nil {
			return nil, err
		}
		pg, next, err := iamPage(q, sortedKeys(h.inline))
		if err != nil {
			return nil, err
		}
		return listInlineResult{PolicyNames: xmlListOf(pg), IsTruncated: next != "", Marker: next}, nil
	}
}

func deleteInlineHandler(k entityKind) opHandler {
	return func(q *request) (any, *apiError) {
		h, err := q.holderParam(k)
		if err != nil {
			return nil, err
		}
		name, err := q.required("PolicyName")
		if err != nil {
			return nil, err
		}
		if _, ok := h.inline[name]; !ok {
			return nil, noSuchInline(k, name)
		}
		delete(h.inline, name)
		return nil, nil
	}
}
