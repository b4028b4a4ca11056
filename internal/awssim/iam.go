package awssim

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// IAM (query protocol). Each account has its own IAM; a call acts on the caller's account.
// The operations are split by topic: users here, then iam_groups.go, iam_roles.go,
// iam_policies.go (managed, attached and inline), iam_credentials.go (login profiles,
// access keys, MFA), iam_account.go (aliases, summary), iam_authdetails.go,
// iam_report.go (credential report) and iam_simulate.go.

func init() {
	register("iam", map[string]opHandler{
		"ListUsers":    iamListUsers,
		"GetUser":      iamGetUser,
		"CreateUser":   iamCreateUser,
		"DeleteUser":   iamDeleteUser,
		"ListUserTags": iamListUserTags,
		"TagUser":      iamTagUser,
		"UntagUser":    iamUntagUser,
	})
}

// IAM quotas the simulator enforces (IAM and AWS STS quotas, IAM User Guide). They are
// also what GetAccountSummary reports.
const (
	quotaUsers                = 5000
	quotaGroups               = 300
	quotaRoles                = 1000
	quotaPolicies             = 1500
	quotaGroupsPerUser        = 10
	quotaAccessKeysPerUser    = 2
	quotaAttachedPerEntity    = 10
	quotaVersionsPerPolicy    = 5
	quotaTagsPerEntity        = 50
	quotaUserPolicySize       = 2048
	quotaGroupPolicySize      = 5120
	quotaRolePolicySize       = 10240
	quotaManagedPolicySize    = 6144
	quotaAssumeRolePolicySize = 2048
)

// account returns the caller's account.
func (q *request) account() *Account { return q.w.Accounts[q.caller.AccountID] }

// iamResource is the ARN a call acts on. The entity a call changes wins over the policy it
// attaches (iam:AttachRolePolicy is authorized on the role, as in AWS), and an entity that
// does not exist yet is named with the Path of the request, so that path-scoped
// permissions (arn:aws:iam::*:role/aws-reserved/sso.amazonaws.com/*) work for CreateRole.
func (q *request) iamResource() string {
	a := q.account()
	if a == nil {
		return ""
	}
	prefix := "arn:aws:iam::" + a.ID + ":"
	path := normPath(q.param("Path"))
	switch {
	case q.param("RoleName") != "":
		if r := a.Roles[q.param("RoleName")]; r != nil {
			return r.ARN
		}
		return prefix + "role" + path + q.param("RoleName")
	case q.param("GroupName") != "":
		if g := a.Groups[q.param("GroupName")]; g != nil {
			return g.ARN
		}
		return prefix + "group" + path + q.param("GroupName")
	case q.param("UserName") != "":
		if u := a.Users[q.param("UserName")]; u != nil {
			return u.ARN
		}
		return prefix + "user" + path + q.param("UserName")
	case q.param("PolicyArn") != "":
		return q.param("PolicyArn")
	case q.param("PolicySourceArn") != "":
		return q.param("PolicySourceArn")
	case q.op == "CreatePolicy" && q.param("PolicyName") != "":
		return prefix + "policy" + path + q.param("PolicyName")
	}
	switch q.op {
	case "GetUser", "ListAccessKeys", "CreateAccessKey", "UpdateAccessKey", "DeleteAccessKey", "ListMFADevices":
		// Without UserName these act on the calling user.
		if q.caller.User != nil {
			return q.caller.User.ARN
		}
	}
	return ""
}

// Errors.

func noSuchEntity(kind, name string) *apiError {
	return &apiError{Status: 404, Code: "NoSuchEntity", Message: "The " + kind + " with name " + name + " cannot be found."}
}

func noSuchPolicy(arn string) *apiError {
	return &apiError{Status: 404, Code: "NoSuchEntity", Message: "Policy " + arn + " does not exist or is not attachable."}
}

func entityExists(msg string) *apiError {
	return &apiError{Status: 409, Code: "EntityAlreadyExists", Message: msg}
}

func deleteConflict(msg string) *apiError {
	return &apiError{Status: 409, Code: "DeleteConflict", Message: msg}
}

func limitExceeded(msg string) *apiError {
	return &apiError{Status: 409, Code: "LimitExceeded", Message: msg}
}

func iamValidation(format string, args ...any) *apiError {
	return validationError("iam", fmt.Sprintf(format, args...))
}

// Input validation, with AWS's constraint messages.

var (
	iamNamePattern   = regexp.MustCompile(`^[\w+=,.@-]+$`)
	iamPathPattern   = regexp.MustCompile(`^(/|/[\x21-\x7E]+/)$`)
	accessKeyPattern = regexp.MustCompile(`^[\w]+$`)
)

// validName checks a user, group, role or policy name (field is the API member name,
// lower camel case in the message as AWS writes it).
func validName(field, value string, max int) *apiError {
	if value == "" {
		return iamValidation("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", field)
	}
	if len(value) > max {
		return iamValidation("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must have length less than or equal to %d", value, field, max)
	}
	if !iamNamePattern.MatchString(value) {
		return iamValidation("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+", value, field)
	}
	return nil
}

// pathParam returns the Path parameter ("/" when absent) or the error AWS returns for an
// invalid path.
func (q *request) pathParam() (string, *apiError) {
	p := q.param("Path")
	if p == "" {
		return "/", nil
	}
	if len(p) > 512 || !iamPathPattern.MatchString(p) {
		return "", iamValidation("The specified value for path is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters.")
	}
	return p, nil
}

// pathPrefixParam returns the PathPrefix filter of a list call ("" when absent).
func (q *request) pathPrefixParam() (string, *apiError) {
	p := q.param("PathPrefix")
	if p != "" && (!strings.HasPrefix(p, "/") || len(p) > 512) {
		return "", iamValidation("1 validation error detected: Value '%s' at 'pathPrefix' failed to satisfy constraint: Member must satisfy regular expression pattern: \\u002F[\\u0021-\\u007F]*", p)
	}
	return p, nil
}

// boolParam parses an optional boolean parameter.
func (q *request) boolParam(name string) (bool, *apiError) {
	switch v := q.param(name); strings.ToLower(v) {
	case "":
		return false, nil
	case "true":
		return true, nil
	case "false":
		return false, nil
	default:
		return false, iamValidation("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must be a boolean", v, lowerFirst(name))
	}
}

// iamPage pages items with the IAM conventions: Marker and MaxItems (1 to 1000, default
// 100). It returns the page and the next marker ("" on the last page).
func iamPage[T any](q *request, items []T) ([]T, string, *apiError) {
	max, err := q.intParam("MaxItems")
	if err != nil {
		return nil, "", err
	}
	if q.param("MaxItems") != "" && (max < 1 || max > 1000) {
		return nil, "", iamValidation("1 validation error detected: Value '%d' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000", max)
	}
	return page(q, items, q.param("Marker"), max, 100, 1000)
}

// tagsParam reads Tags.member.N.Key / Tags.member.N.Value.
func (q *request) tagsParam() ([]Tag, *apiError) {
	var tags []Tag
	for i := 1; ; i++ {
		prefix := fmt.Sprintf("Tags.member.%d.", i)
		key, ok := q.form[prefix+"Key"]
		if !ok {
			break
		}
		t := Tag{Key: key[0], Value: q.form.Get(prefix + "Value")}
		if t.Key == "" || len(t.Key) > 128 {
			return nil, iamValidation("1 validation error detected: Value '%s' at 'tags.%d.member.key' failed to satisfy constraint: Member must have length between 1 and 128", t.Key, i)
		}
		if len(t.Value) > 256 {
			return nil, iamValidation("1 validation error detected: Value at 'tags.%d.member.value' failed to satisfy constraint: Member must have length less than or equal to 256", i)
		}
		tags = append(tags, t)
	}
	return tags, nil
}

// mergeTags adds or replaces tags (keys compare case-sensitively, as in IAM) and checks
// the per-entity quota. It returns the new list without changing the old one.
func mergeTags(old, add []Tag) ([]Tag, *apiError) {
	out := append([]Tag(nil), old...)
	for _, t := range add {
		replaced := false
		for i := range out {
			if out[i].Key == t.Key {
				out[i].Value, replaced = t.Value, true
			}
		}
		if !replaced {
			out = append(out, t)
		}
	}
	if len(out) > quotaTagsPerEntity {
		return nil, limitExceeded(fmt.Sprintf("The number of tags has reached the maximum limit of %d.", quotaTagsPerEntity))
	}
	return out, nil
}

// removeTags drops the tags with the keys.
func removeTags(tags []Tag, keys []string) []Tag {
	var out []Tag
	for _, t := range tags {
		if countOf(keys, t.Key) == 0 {
			out = append(out, t)
		}
	}
	return out
}

// findFold finds a map entry by name ignoring case: IAM names are unique without regard
// to case ("Bob" and "bob" cannot both exist).
func findFold[V any](m map[string]V, name string) (V, bool) {
	if v, ok := m[name]; ok {
		return v, true
	}
	for k, v := range m {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	var zero V
	return zero, false
}

// Lookups that report AWS's NoSuchEntity.

// userParam returns the user named by the UserName parameter, which is required.
func (q *request) userParam() (*User, *apiError) {
	name, err := q.required("UserName")
	if err != nil {
		return nil, err
	}
	u := q.account().Users[name]
	if u == nil {
		return nil, noSuchEntity("user", name)
	}
	return u, nil
}

// userOrCaller returns the user named by UserName or, without it, the calling user (as
// AWS does for access keys, MFA devices and GetUser).
func (q *request) userOrCaller() (*User, *apiError) {
	if q.param("UserName") != "" {
		return q.userParam()
	}
	if q.caller.User == nil {
		return nil, iamValidation("Must specify userName when calling with non-User credentials")
	}
	return q.caller.User, nil
}

// XML shapes shared by several IAM results.

// xmlList is a query-protocol list: <Name><member>...</member></Name>. As a struct field it
// is always written, so an empty list comes out as <Name/> the way AWS sends it (boto3 and
// the AWS CLI then show an empty list instead of a missing key).
type xmlList[T any] struct {
	Member []T `xml:"member"`
}

func xmlListOf[T any](items []T) xmlList[T] { return xmlList[T]{Member: items} }

type xmlTag struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

type xmlUser struct {
	Path             string     `xml:"Path"`
	UserName         string     `xml:"UserName"`
	UserID           string     `xml:"UserId"`
	Arn              string     `xml:"Arn"`
	CreateDate       time.Time  `xml:"CreateDate"`
	PasswordLastUsed *time.Time `xml:"PasswordLastUsed,omitempty"`
	// PermissionsBoundary is only in GetUser and CreateUser; ListUsers leaves it out.
	PermissionsBoundary *xmlAttachedBoundary `xml:"PermissionsBoundary,omitempty"`
	Tags                *xmlList[xmlTag]     `xml:"Tags,omitempty"`
}

func xmlTags(tags []Tag) []xmlTag {
	out := make([]xmlTag, 0, len(tags))
	for _, t := range tags {
		out = append(out, xmlTag{t.Key, t.Value})
	}
	return out
}

// optTags is a tag list that is left out when empty, as AWS leaves out Tags of an
// untagged entity (encoding/xml writes "Tags>member,omitempty" as an empty <Tags/>).
func optTags(tags []Tag) *xmlList[xmlTag] {
	if len(tags) == 0 {
		return nil
	}
	l := xmlListOf(xmlTags(tags))
	return &l
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// toXMLUser describes a user. ListUsers leaves out tags and the permissions boundary
// (full=false), as AWS documents; GetUser and CreateUser include them.
func toXMLUser(u *User, full bool) xmlUser {
	x := xmlUser{Path: u.Path, UserName: u.Name, UserID: u.ID, Arn: u.ARN, CreateDate: u.CreateDate, PasswordLastUsed: optTime(u.PasswordLastUsed)}
	if full {
		x.Tags = optTags(u.Tags)
		x.PermissionsBoundary = optBoundary(u.PermissionsBoundary)
	}
	return x
}

// urlEncodedPolicy encodes a policy document the way IAM returns documents: URL-encoded.
func urlEncodedPolicy(doc string) string {
	return strings.ReplaceAll(url.QueryEscape(doc), "+", "%20")
}

// Users.

type listUsersResult struct {
	Users       xmlList[xmlUser] `xml:"Users"`
	IsTruncated bool             `xml:"IsTruncated"`
	Marker      string           `xml:"Marker,omitempty"`
}

func iamListUsers(q *request) (any, *apiError) {
	a := q.account()
	prefix, err := q.pathPrefixParam()
	if err != nil {
		return nil, err
	}
	var users []*User
	for _, name := range sortedKeys(a.Users) {
		if u := a.Users[name]; strings.HasPrefix(u.Path, prefix) {
			users = append(users, u)
		}
	}
	pg, next, err := iamPage(q, users)
	if err != nil {
		return nil, err
	}
	res := listUsersResult{IsTruncated: next != "", Marker: next}
	for _, u := range pg {
		res.Users.Member = append(res.Users.Member, toXMLUser(u, false))
	}
	return res, nil
}

type getUserResult struct {
	User xmlUser `xml:"User"`
}

func iamGetUser(q *request) (any, *apiError) {
	u, err := q.userOrCaller()
	if err != nil {
		return nil, err
	}
	return getUserResult{User: toXMLUser(u, true)}, nil
}

func iamCreateUser(q *request) (any, *apiError) {
	a := q.account()
	name := q.param("UserName")
	if err := validName("userName", name, 64); err != nil {
		return nil, err
	}
	path, err := q.pathParam()
	if err != nil {
		return nil, err
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
	if _, taken := findFold(a.Users, name); taken {
		return nil, entityExists("User with name " + name + " already exists.")
	}
	if len(a.Users) >= quotaUsers {
		return nil, limitExceeded(fmt.Sprintf("Cannot exceed quota for UsersPerAccount: %d", quotaUsers))
	}
	u := a.AddUser(q.w, name, path)
	u.Tags, u.PermissionsBoundary = tags, boundary
	return getUserResult{User: toXMLUser(u, true)}, nil
}

// iamDeleteUser refuses, as AWS does, while anything still hangs off the user.
func iamDeleteUser(q *request) (any, *apiError) {
	a := q.account()
	u, err := q.userParam()
	if err != nil {
		return nil, err
	}
	switch {
	case u.LoginProfile != nil:
		return nil, deleteConflict("Cannot delete entity, must delete login profile first.")
	case len(u.AccessKeys) > 0:
		return nil, deleteConflict("Cannot delete entity, must delete access keys first.")
	case len(a.MFAOf(u.Name)) > 0:
		return nil, deleteConflict("Cannot delete entity, must delete MFA device first.")
	case len(u.InlinePolicies) > 0:
		return nil, deleteConflict("Cannot delete entity, must delete policies first.")
	case len(u.AttachedPolicies) > 0:
		return nil, deleteConflict("Cannot delete entity, must detach all policies first.")
	case len(a.GroupsOf(u.Name)) > 0:
		return nil, deleteConflict("Cannot delete entity, must remove users from group first.")
	}
	delete(a.Users, u.Name)
	return nil, nil
}

type listTagsResult struct {
	Tags        xmlList[xmlTag] `xml:"Tags"`
	IsTruncated bool            `xml:"IsTruncated"`
	Marker      string          `xml:"Marker,omitempty"`
}

func listTags(q *request, tags []Tag) (any, *apiError) {
	pg, next, err := iamPage(q, tags)
	if err != nil {
		return nil, err
	}
	return listTagsResult{Tags: xmlListOf(xmlTags(pg)), IsTruncated: next != "", Marker: next}, nil
}

func iamListUserTags(q *request) (any, *apiError) {
	u, err := q.userParam()
	if err != nil {
		return nil, err
	}
	return listTags(q, u.Tags)
}

func iamTagUser(q *request) (any, *apiError) {
	u, err := q.userParam()
	if err != nil {
		return nil, err
	}
	add, err := q.tagsParam()
	if err != nil {
		return nil, err
	}
	tags, err := mergeTags(u.Tags, add)
	if err != nil {
		return nil, err
	}
	u.Tags = tags
	return nil, nil
}

func iamUntagUser(q *request) (any, *apiError) {
	u, err := q.userParam()
	if err != nil {
		return nil, err
	}
	u.Tags = removeTags(u.Tags, q.listParam("TagKeys"))
	return nil, nil
}
