package awssim

import "time"

// GetAccountAuthorizationDetails: the whole IAM of an account in one paginated call.

func init() {
	register("iam", map[string]opHandler{
		"GetAccountAuthorizationDetails": iamGetAccountAuthorizationDetails,
	})
}

type xmlPolicyDetail struct {
	PolicyName     string `xml:"PolicyName"`
	PolicyDocument string `xml:"PolicyDocument"`
}

// inlineDetails lists inline policies by name with URL-encoded documents.
func inlineDetails(inline map[string]string) xmlList[xmlPolicyDetail] {
	var out []xmlPolicyDetail
	for _, name := range sortedKeys(inline) {
		out = append(out, xmlPolicyDetail{name, urlEncodedPolicy(inline[name])})
	}
	return xmlListOf(out)
}

type xmlUserDetail struct {
	Path                    string                     `xml:"Path"`
	UserName                string                     `xml:"UserName"`
	UserID                  string                     `xml:"UserId"`
	Arn                     string                     `xml:"Arn"`
	CreateDate              time.Time                  `xml:"CreateDate"`
	UserPolicyList          xmlList[xmlPolicyDetail]   `xml:"UserPolicyList"`
	GroupList               xmlList[string]            `xml:"GroupList"`
	AttachedManagedPolicies xmlList[xmlAttachedPolicy] `xml:"AttachedManagedPolicies"`
	PermissionsBoundary     *xmlAttachedBoundary       `xml:"PermissionsBoundary,omitempty"`
	Tags                    *xmlList[xmlTag]           `xml:"Tags,omitempty"`
}

type xmlGroupDetail struct {
	Path                    string                     `xml:"Path"`
	GroupName               string                     `xml:"GroupName"`
	GroupID                 string                     `xml:"GroupId"`
	Arn                     string                     `xml:"Arn"`
	CreateDate              time.Time                  `xml:"CreateDate"`
	GroupPolicyList         xmlList[xmlPolicyDetail]   `xml:"GroupPolicyList"`
	AttachedManagedPolicies xmlList[xmlAttachedPolicy] `xml:"AttachedManagedPolicies"`
}

type xmlRoleDetail struct {
	Path                     string                     `xml:"Path"`
	RoleName                 string                     `xml:"RoleName"`
	RoleID                   string                     `xml:"RoleId"`
	Arn                      string                     `xml:"Arn"`
	CreateDate               time.Time                  `xml:"CreateDate"`
	AssumeRolePolicyDocument string                     `xml:"AssumeRolePolicyDocument"`
	InstanceProfileList      xmlList[struct{}]          `xml:"InstanceProfileList"`
	RolePolicyList           xmlList[xmlPolicyDetail]   `xml:"RolePolicyList"`
	AttachedManagedPolicies  xmlList[xmlAttachedPolicy] `xml:"AttachedManagedPolicies"`
	PermissionsBoundary      *xmlAttachedBoundary       `xml:"PermissionsBoundary,omitempty"`
	Tags                     *xmlList[xmlTag]           `xml:"Tags,omitempty"`
	RoleLastUsed             *xmlRoleLastUsed           `xml:"RoleLastUsed"`
}

type xmlManagedPolicyDetail struct {
	PolicyName                    string                    `xml:"PolicyName"`
	PolicyID                      string                    `xml:"PolicyId"`
	Arn                           string                    `xml:"Arn"`
	Path                          string                    `xml:"Path"`
	DefaultVersionID              string                    `xml:"DefaultVersionId"`
	AttachmentCount               int                       `xml:"AttachmentCount"`
	PermissionsBoundaryUsageCount int                       `xml:"PermissionsBoundaryUsageCount"`
	IsAttachable                  bool                      `xml:"IsAttachable"`
	Description                   string                    `xml:"Description,omitempty"`
	CreateDate                    time.Time                 `xml:"CreateDate"`
	UpdateDate                    time.Time                 `xml:"UpdateDate"`
	PolicyVersionList             xmlList[xmlPolicyVersion] `xml:"PolicyVersionList"`
}

type authDetailsResult struct {
	UserDetailList  xmlList[xmlUserDetail]          `xml:"UserDetailList"`
	GroupDetailList xmlList[xmlGroupDetail]         `xml:"GroupDetailList"`
	RoleDetailList  xmlList[xmlRoleDetail]          `xml:"RoleDetailList"`
	Policies        xmlList[xmlManagedPolicyDetail] `xml:"Policies"`
	IsTruncated     bool                            `xml:"IsTruncated"`
	Marker          string                          `xml:"Marker,omitempty"`
}

// iamGetAccountAuthorizationDetails pages over users, then groups, then roles, then
// managed policies with one marker, so MaxItems counts entities of every kind together.
// Policies are the account's own and the AWS-managed ones attached in the account, as AWS
// returns them.
func iamGetAccountAuthorizationDetails(q *request) (any, *apiError) {
	a := q.account()
	want := map[string]bool{}
	for _, f := range q.listParam("Filter") {
		switch f {
		case "User", "Role", "Group", "LocalManagedPolicy", "AWSManagedPolicy":
			want[f] = true
		default:
			return nil, iamValidation("1 validation error detected: Value '[%s]' at 'filter' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [User, Role, Group, LocalManagedPolicy, AWSManagedPolicy]]", f)
		}
	}
	all := len(want) == 0
	var entities []any
	if all || want["User"] {
		for _, name := range sortedKeys(a.Users) {
			entities = append(entities, a.Users[name])
		}
	}
	if all || want["Group"] {
		for _, name := range sortedKeys(a.Groups) {
			entities = append(entities, a.Groups[name])
		}
	}
	if all || want["Role"] {
		for _, name := range sortedKeys(a.Roles) {
			entities = append(entities, a.Roles[name])
		}
	}
	for _, p := range accountPolicies(q.w, a, "All") {
		aws := isAWSManaged(p.ARN)
		switch {
		case aws && (all || want["AWSManagedPolicy"]) && a.AttachmentCount(p.ARN) > 0:
			entities = append(entities, p)
		case !aws && (all || want["LocalManagedPolicy"]):
			entities = append(entities, p)
		}
	}
	pg, next, err := iamPage(q, entities)
	if err != nil {
		return nil, err
	}
	res := authDetailsResult{IsTruncated: next != "", Marker: next}
	for _, e := range pg {
		switch e := e.(type) {
		case *User:
			var groups []string
			for _, g := range a.GroupsOf(e.Name) {
				groups = append(groups, g.Name)
			}
			res.UserDetailList.Member = append(res.UserDetailList.Member, xmlUserDetail{
				Path: e.Path, UserName: e.Name, UserID: e.ID, Arn: e.ARN, CreateDate: e.CreateDate,
				UserPolicyList:          inlineDetails(e.InlinePolicies),
				GroupList:               xmlListOf(groups),
				AttachedManagedPolicies: xmlListOf(attachedPolicies(q.w, a, e.AttachedPolicies)),
				PermissionsBoundary:     optBoundary(e.PermissionsBoundary),
				Tags:                    optTags(e.Tags),
			})
		case *Group:
			res.GroupDetailList.Member = append(res.GroupDetailList.Member, xmlGroupDetail{
				Path: e.Path, GroupName: e.Name, GroupID: e.ID, Arn: e.ARN, CreateDate: e.CreateDate,
				GroupPolicyList:         inlineDetails(e.InlinePolicies),
				AttachedManagedPolicies: xmlListOf(attachedPolicies(q.w, a, e.AttachedPolicies)),
			})
		case *Role:
			res.RoleDetailList.Member = append(res.RoleDetailList.Member, xmlRoleDetail{
				Path: e.Path, RoleName: e.Name, RoleID: e.ID, Arn: e.ARN, CreateDate: e.CreateDate,
				AssumeRolePolicyDocument: urlEncodedPolicy(e.AssumeRolePolicy),
				RolePolicyList:           inlineDetails(e.InlinePolicies),
				AttachedManagedPolicies:  xmlListOf(attachedPolicies(q.w, a, e.AttachedPolicies)),
				PermissionsBoundary:      optBoundary(e.PermissionsBoundary),
				Tags:                     optTags(e.Tags),
				RoleLastUsed:             roleLastUsed(e),
			})
		case *Policy:
			d := xmlManagedPolicyDetail{
				PolicyName: e.Name, PolicyID: e.ID, Arn: e.ARN, Path: e.Path, DefaultVersionID: e.DefaultVersion,
				AttachmentCount: a.AttachmentCount(e.ARN), PermissionsBoundaryUsageCount: a.BoundaryUsageCount(e.ARN),
				IsAttachable: true, Description: e.Description,
				CreateDate: e.CreateDate, UpdateDate: e.UpdateDate,
			}
			for _, v := range e.Versions {
				d.PolicyVersionList.Member = append(d.PolicyVersionList.Member, toXMLPolicyVersion(e, v, true))
			}
			res.Policies.Member = append(res.Policies.Member, d)
		}
	}
	return res, nil
}
