package awssim

import (
	"fmt"
	"strings"
	"time"
)

// IAM groups and group membership.

func init() {
	register("iam", map[string]opHandler{
		"CreateGroup":         iamCreateGroup,
		"GetGroup":            iamGetGroup,
		"ListGroups":          iamListGroups,
		"ListGroupsForUser":   iamListGroupsForUser,
		"AddUserToGroup":      iamAddUserToGroup,
		"RemoveUserFromGroup": iamRemoveUserFromGroup,
		"DeleteGroup":         iamDeleteGroup,
	})
}

type xmlGroup struct {
	Path       string    `xml:"Path"`
	GroupName  string    `xml:"GroupName"`
	GroupID    string    `xml:"GroupId"`
	Arn        string    `xml:"Arn"`
	CreateDate time.Time `xml:"CreateDate"`
}

func toXMLGroup(g *Group) xmlGroup {
	return xmlGroup{Path: g.Path, GroupName: g.Name, GroupID: g.ID, Arn: g.ARN, CreateDate: g.CreateDate}
}

// groupParam returns the group named by the required GroupName parameter.
func (q *request) groupParam() (*Group, *apiError) {
	name, err := q.required("GroupName")
	if err != nil {
		return nil, err
	}
	g := q.account().Groups[name]
	if g == nil {
		return nil, noSuchEntity("group", name)
	}
	return g, nil
}

type groupResult struct {
	Group xmlGroup `xml:"Group"`
}

func iamCreateGroup(q *request) (any, *apiError) {
	a := q.account()
	name := q.param("GroupName")
	if err := validName("groupName", name, 128); err != nil {
		return nil, err
	}
	path, err := q.pathParam()
	if err != nil {
		return nil, err
	}
	if _, taken := findFold(a.Groups, name); taken {
		return nil, entityExists("Group with name " + name + " already exists.")
	}
	if len(a.Groups) >= quotaGroups {
		return nil, limitExceeded(fmt.Sprintf("Cannot exceed quota for GroupsPerAccount: %d", quotaGroups))
	}
	return groupResult{toXMLGroup(a.AddGroup(q.w, name, path))}, nil
}

type getGroupResult struct {
	Group       xmlGroup         `xml:"Group"`
	Users       xmlList[xmlUser] `xml:"Users"`
	IsTruncated bool             `xml:"IsTruncated"`
	Marker      string           `xml:"Marker,omitempty"`
}

// iamGetGroup returns the group and one page of its members, in the order they joined.
func iamGetGroup(q *request) (any, *apiError) {
	a := q.account()
	g, err := q.groupParam()
	if err != nil {
		return nil, err
	}
	var users []*User
	for _, name := range g.Members {
		if u := a.Users[name]; u != nil {
			users = append(users, u)
		}
	}
	pg, next, err := iamPage(q, users)
	if err != nil {
		return nil, err
	}
	res := getGroupResult{Group: toXMLGroup(g), IsTruncated: next != "", Marker: next}
	for _, u := range pg {
		res.Users.Member = append(res.Users.Member, toXMLUser(u, false))
	}
	return res, nil
}

type listGroupsResult struct {
	Groups      xmlList[xmlGroup] `xml:"Groups"`
	IsTruncated bool              `xml:"IsTruncated"`
	Marker      string            `xml:"Marker,omitempty"`
}

func groupsPage(q *request, groups []*Group) (any, *apiError) {
	pg, next, err := iamPage(q, groups)
	if err != nil {
		return nil, err
	}
	res := listGroupsResult{IsTruncated: next != "", Marker: next}
	for _, g := range pg {
		res.Groups.Member = append(res.Groups.Member, toXMLGroup(g))
	}
	return res, nil
}

func iamListGroups(q *request) (any, *apiError) {
	a := q.account()
	prefix, err := q.pathPrefixParam()
	if err != nil {
		return nil, err
	}
	var groups []*Group
	for _, name := range sortedKeys(a.Groups) {
		if g := a.Groups[name]; strings.HasPrefix(g.Path, prefix) {
			groups = append(groups, g)
		}
	}
	return groupsPage(q, groups)
}

func iamListGroupsForUser(q *request) (any, *apiError) {
	u, err := q.userParam()
	if err != nil {
		return nil, err
	}
	return groupsPage(q, q.account().GroupsOf(u.Name))
}

// iamAddUserToGroup is idempotent, as in AWS: adding a member again succeeds.
func iamAddUserToGroup(q *request) (any, *apiError) {
	a := q.account()
	g, err := q.groupParam()
	if err != nil {
		return nil, err
	}
	u, err := q.userParam()
	if err != nil {
		return nil, err
	}
	if countOf(g.Members, u.Name) > 0 {
		return nil, nil
	}
	if len(a.GroupsOf(u.Name)) >= quotaGroupsPerUser {
		return nil, limitExceeded(fmt.Sprintf("Cannot exceed quota for GroupsPerUser: %d", quotaGroupsPerUser))
	}
	g.AddUserToGroup(u.Name)
	return nil, nil
}

// iamRemoveUserFromGroup needs both the group and the user to exist; removing a user
// that is not a member succeeds without a change, as AWS does.
func iamRemoveUserFromGroup(q *request) (any, *apiError) {
	g, err := q.groupParam()
	if err != nil {
		return nil, err
	}
	u, err := q.userParam()
	if err != nil {
		return nil, err
	}
	var kept []string
	for _, m := range g.Members {
		if m != u.Name {
			kept = append(kept, m)
		}
	}
	g.Members = kept
	return nil, nil
}

func iamDeleteGroup(q *request) (any, *apiError) {
	g, err := q.groupParam()
	if err != nil {
		return nil, err
	}
	switch {
	case len(g.Members) > 0:
		return nil, deleteConflict("Cannot delete entity, must remove users from group first.")
	case len(g.InlinePolicies) > 0:
		return nil, deleteConflict("Cannot delete entity, must delete policies first.")
	case len(g.AttachedPolicies) > 0:
		return nil, deleteConflict("Cannot delete entity, must detach all policies first.")
	}
	delete(q.account().Groups, g.Name)
	return nil, nil
}
