package awssim

import (
	"net/url"
	"strings"
	"time"
)

// IAM (query protocol). Each account has its own IAM; a call acts on the caller's account.

func init() {
	register("iam", map[string]opHandler{
		"ListUsers": iamListUsers,
		"GetUser":   iamGetUser,
	})
}

// account returns the caller's account.
func (q *request) account() *Account { return q.w.Accounts[q.caller.AccountID] }

// iamResource is the ARN a call acts on, from its UserName, GroupName, RoleName or
// PolicyArn parameter ("" when it has none).
func (q *request) iamResource() string {
	a := q.account()
	if a == nil {
		return ""
	}
	switch {
	case q.param("PolicyArn") != "":
		return q.param("PolicyArn")
	case q.param("RoleName") != "":
		if r := a.Roles[q.param("RoleName")]; r != nil {
			return r.ARN
		}
		return "arn:aws:iam::" + a.ID + ":role/" + q.param("RoleName")
	case q.param("GroupName") != "":
		if g := a.Groups[q.param("GroupName")]; g != nil {
			return g.ARN
		}
		return "arn:aws:iam::" + a.ID + ":group/" + q.param("GroupName")
	case q.param("UserName") != "":
		if u := a.Users[q.param("UserName")]; u != nil {
			return u.ARN
		}
		return "arn:aws:iam::" + a.ID + ":user/" + q.param("UserName")
	}
	return ""
}

func noSuchEntity(kind, name string) *apiError {
	return &apiError{Status: 404, Code: "NoSuchEntity", Message: "The " + kind + " with name " + name + " cannot be found."}
}

// XML shapes shared by several IAM results.

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
	Tags             []xmlTag   `xml:"Tags>member,omitempty"`
}

func xmlTags(tags []Tag) []xmlTag {
	out := make([]xmlTag, 0, len(tags))
	for _, t := range tags {
		out = append(out, xmlTag{t.Key, t.Value})
	}
	return out
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func toXMLUser(u *User, withTags bool) xmlUser {
	x := xmlUser{Path: u.Path, UserName: u.Name, UserID: u.ID, Arn: u.ARN, CreateDate: u.CreateDate, PasswordLastUsed: optTime(u.PasswordLastUsed)}
	if withTags {
		x.Tags = xmlTags(u.Tags)
	}
	return x
}

// urlEncodedPolicy encodes a policy document the way IAM returns documents: URL-encoded.
func urlEncodedPolicy(doc string) string {
	return strings.ReplaceAll(url.QueryEscape(doc), "+", "%20")
}

type listUsersResult struct {
	Users       []xmlUser `xml:"Users>member"`
	IsTruncated bool      `xml:"IsTruncated"`
	Marker      string    `xml:"Marker,omitempty"`
}

func iamListUsers(q *request) (any, *apiError) {
	a := q.account()
	prefix := q.param("PathPrefix")
	var users []*User
	for _, name := range sortedKeys(a.Users) {
		if u := a.Users[name]; prefix == "" || strings.HasPrefix(u.Path, prefix) {
			users = append(users, u)
		}
	}
	max, err := q.intParam("MaxItems")
	if err != nil {
		return nil, err
	}
	pg, next, err := page(q, users, q.param("Marker"), max, 100, 1000)
	if err != nil {
		return nil, err
	}
	res := listUsersResult{IsTruncated: next != "", Marker: next}
	for _, u := range pg {
		res.Users = append(res.Users, toXMLUser(u, false))
	}
	return res, nil
}

type getUserResult struct {
	User xmlUser `xml:"User"`
}

func iamGetUser(q *request) (any, *apiError) {
	a := q.account()
	name := q.param("UserName")
	if name == "" { // without UserName, GetUser describes the calling user
		if q.caller.User == nil {
			return nil, validationError("iam", "Must specify userName when calling with non-User credentials")
		}
		name = q.caller.User.Name
	}
	u := a.Users[name]
	if u == nil {
		return nil, noSuchEntity("user", name)
	}
	return getUserResult{User: toXMLUser(u, true)}, nil
}
