package awssim

import (
	"fmt"
	"strings"
	"time"
)

// IAM roles.

func init() {
	register("iam", map[string]opHandler{
		"CreateRole":             iamCreateRole,
		"GetRole":                iamGetRole,
		"ListRoles":              iamListRoles,
		"ListRoleTags":           iamListRoleTags,
		"TagRole":                iamTagRole,
		"UntagRole":              iamUntagRole,
		"DeleteRole":             iamDeleteRole,
		"UpdateAssumeRolePolicy": iamUpdateAssumeRolePolicy,
	})
}

type xmlRoleLastUsed struct {
	LastUsedDate *time.Time `xml:"LastUsedDate,omitempty"`
	Region       string     `xml:"Region,omitempty"`
}

type xmlRole struct {
	Path                     string               `xml:"Path"`
	RoleName                 string               `xml:"RoleName"`
	RoleID                   string               `xml:"RoleId"`
	Arn                      string               `xml:"Arn"`
	CreateDate               time.Time            `xml:"CreateDate"`
	AssumeRolePolicyDocument string               `xml:"AssumeRolePolicyDocument"`
	Description              string               `xml:"Description,omitempty"`
	MaxSessionDuration       int32                `xml:"MaxSessionDuration"`
	PermissionsBoundary      *xmlAttachedBoundary `xml:"PermissionsBoundary,omitempty"`
	Tags                     *xmlList[xmlTag]     `xml:"Tags,omitempty"`
	RoleLastUsed             *xmlRoleLastUsed     `xml:"RoleLastUsed,omitempty"`
}

func roleLastUsed(r *Role) *xmlRoleLastUsed {
	return &xmlRoleLastUsed{LastUsedDate: optTime(r.LastUsedDate), Region: r.LastUsedRegion}
}

// toXMLRole describes a role. ListRoles leaves out the permissions boundary, tags and last
// use (full=false), as AWS documents; GetRole and CreateRole include them.
func toXMLRole(r *Role, full bool) xmlRole {
	x := xmlRole{Path: r.Path, RoleName: r.Name, RoleID: r.ID, Arn: r.ARN, CreateDate: r.CreateDate,
		AssumeRolePolicyDocument: urlEncodedPolicy(r.AssumeRolePolicy), Description: r.Description,
		MaxSessionDuration: r.MaxSessionDuration}
	if full {
		x.PermissionsBoundary = optBoundary(r.PermissionsBoundary)
		x.Tags = optTags(r.Tags)
		x.RoleLastUsed = roleLastUsed(r)
	}
	return x
}

// roleParam returns the role named by the required RoleName parameter.
func (q *request) roleParam() (*Role, *apiError) {
	name, err := q.required("RoleName")
	if err != nil {
		return nil, err
	}
	r := q.account().Roles[name]
	if r == nil {
		return nil, noSuchEntity("role", name)
	}
	return r, nil
}

// parseTrustPolicy checks a role's trust policy: valid JSON with statements, each naming a
// principal and no resource, within the size quota.
func parseTrustPolicy(doc string) *apiError {
	p, err := parsePolicy(doc)
	if err != nil {
		return err
	}
	for _, st := range p.statements {
		pb := st.principal
		if !pb.anyone && len(pb.aws) == 0 && len(pb.service) == 0 && len(pb.federated) == 0 && !st.notPrincipal {
			return &apiError{Status: 400, Code: "MalformedPolicyDocument", Message: "Missing required field Principal"}
		}
		if st.hasResource || st.hasNotRes {
			return &apiError{Status: 400, Code: "MalformedPolicyDocument", Message: "Has prohibited field Resource"}
		}
	}
	if n := policySize(doc); n > quotaAssumeRolePolicySize {
		return limitExceeded(fmt.Sprintf("Cannot exceed quota for ACLSizePerRole: %d", quotaAssumeRolePolicySize))
	}
	return nil
}

type roleResult struct {
	Role xmlRole `xml:"Role"`
}

func iamCreateRole(q *request) (any, *apiError) {
	a := q.account()
	name := q.param("RoleName")
	if err := validName("roleName", name, 64); err != nil {
		return nil, err
	}
	path, err := q.pathParam()
	if err != nil {
		return nil, err
	}
	trust, err := q.required("AssumeRolePolicyDocument")
	if err != nil {
		return nil, err
	}
	if err := parseTrustPolicy(trust); err != nil {
		return nil, err
	}
	desc := q.param("Description")
	if len(desc) > 1000 {
		return nil, iamValidation("1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length less than or equal to 1000")
	}
	maxSession, err := q.intParam("MaxSessionDuration")
	if err != nil {
		return nil, err
	}
	if maxSession == 0 {
		maxSession = 3600
	}
	if maxSession < 3600 || maxSession > 43200 {
		return nil, iamValidation("1 validation error detected: Value '%d' at 'maxSessionDuration' failed to satisfy constraint: Member must have value between 3600 and 43200", maxSession)
	}
	tags, err := q.tagsParam()
	if err != nil {
		return nil, err
	}
	if tags, err = mergeTags(nil, tags); err != nil {
		return nil, err
	}
	boundary, err := q.boundaryParam(false)
	if err != nil {
		return nil, err
	}
	if _, taken := findFold(a.Roles, name); taken {
		return nil, entityExists("Role with name " + name + " already exists.")
	}
	if len(a.Roles) >= quotaRoles {
		return nil, limitExceeded(fmt.Sprintf("Cannot exceed quota for RolesPerAccount: %d", quotaRoles))
	}
	r := a.AddRole(q.w, name, path, trust)
	r.Description, r.MaxSessionDuration, r.Tags, r.PermissionsBoundary = desc, int32(maxSession), tags, boundary
	x := toXMLRole(r, true)
	x.RoleLastUsed = nil // CreateRole does not report last use
	return roleResult{x}, nil
}

func iamGetRole(q *request) (any, *apiError) {
	r, err := q.roleParam()
	if err != nil {
		return nil, err
	}
	return roleResult{toXMLRole(r, true)}, nil
}

type listRolesResult struct {
	Roles       xmlList[xmlRole] `xml:"Roles"`
	IsTruncated bool             `xml:"IsTruncated"`
	Marker      string           `xml:"Marker,omitempty"`
}

func iamListRoles(q *request) (any, *apiError) {
	a := q.account()
	prefix, err := q.pathPrefixParam()
	if err != nil {
		return nil, err
	}
	var roles []*Role
	for _, name := range sortedKeys(a.Roles) {
		if r := a.Roles[name]; strings.HasPrefix(r.Path, prefix) {
			roles = append(roles, r)
		}
	}
	pg, next, err := iamPage(q, roles)
	if err != nil {
		return nil, err
	}
	res := listRolesResult{IsTruncated: next != "", Marker: next}
	for _, r := range pg {
		res.Roles.Member = append(res.Roles.Member, toXMLRole(r, false))
	}
	return res, nil
}

func iamListRoleTags(q *request) (any, *apiError) {
	r, err := q.roleParam()
	if err != nil {
		return nil, err
	}
	return listTags(q, r.Tags)
}

func iamTagRole(q *request) (any, *apiError) {
	r, err := q.roleParam()
	if err != nil {
		return nil, err
	}
	add, err := q.tagsParam()
	if err != nil {
		return nil, err
	}
	tags, err := mergeTags(r.Tags, add)
	if err != nil {
		return nil, err
	}
	r.Tags = tags
	return nil, nil
}

func iamUntagRole(q *request) (any, *apiError) {
	r, err := q.roleParam()
	if err != nil {
		return nil, err
	}
	r.Tags = removeTags(r.Tags, q.listParam("TagKeys"))
	return nil, nil
}

// iamDeleteRole refuses while policies remain. Sessions of a deleted role stop working
// (authenticate no longer finds the role).
func iamDeleteRole(q *request) (any, *apiError) {
	r, err := q.roleParam()
	if err != nil {
		return nil, err
	}
	switch {
	case len(r.InlinePolicies) > 0:
		return nil, deleteConflict("Cannot delete entity, must delete policies first.")
	case len(r.AttachedPolicies) > 0:
		return nil, deleteConflict("Cannot delete entity, must detach all policies first.")
	}
	delete(q.account().Roles, r.Name)
	return nil, nil
}

func iamUpdateAssumeRolePolicy(q *request) (any, *apiError) {
	r, err := q.roleParam()
	if err != nil {
		return nil, err
	}
	doc, err := q.required("PolicyDocument")
	if err != nil {
		return nil, err
	}
	if err := parseTrustPolicy(doc); err != nil {
		return nil, err
	}
	r.AssumeRolePolicy = doc
	return nil, nil
}
