package awssim

import (
	"encoding/json"
	"regexp"
	"strings"
)

// Identity Store (JSON 1.1, signing name "identitystore", target prefix AWSIdentityStore):
// the users, groups and group memberships of the Identity Center instance's identity
// store. Like SSO Admin, it answers only the management account or a delegated
// administrator, and only in the instance's region.

func init() {
	register("identitystore", map[string]opHandler{
		"ListUsers":                     idsListUsers,
		"DescribeUser":                  idsDescribeUser,
		"CreateUser":                    idsCreateUser,
		"GetUserId":                     idsGetUserID,
		"ListGroups":                    idsListGroups,
		"DescribeGroup":                 idsDescribeGroup,
		"CreateGroup":                   idsCreateGroup,
		"GetGroupId":                    idsGetGroupID,
		"ListGroupMemberships":          idsListGroupMemberships,
		"ListGroupMembershipsForMember": idsListGroupMembershipsForMember,
		"CreateGroupMembership":         idsCreateGroupMembership,
		"DeleteGroupMembership":         idsDeleteGroupMembership,
		"DescribeGroupMembership":       idsDescribeGroupMembership,
		"GetGroupMembershipId":          idsGetGroupMembershipID,
		"IsMemberInGroups":              idsIsMemberInGroups,
	})
}

// scimExternalIDIssuer is the issuer reported for a user's ExternalId. The model keeps only
// the id that the IdP sent through SCIM, not its issuer.
const scimExternalIDIssuer = "SCIM"

var (
	idsStoreIDPattern    = regexp.MustCompile(`^(d-[0-9a-f]{10}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$`)
	idsResourceIDPattern = regexp.MustCompile(`^([0-9a-f]{10}-|)[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}$`)
)

// identityStore returns the instance whose identity store the call names.
func (q *request) identityStore(id string) (*SSOInstance, *apiError) {
	if err := icRequire("IdentityStoreId", id); err != nil {
		return nil, err
	}
	if err := icPattern("IdentityStoreId", id, idsStoreIDPattern); err != nil {
		return nil, err
	}
	s := q.w.SSO
	if s == nil || s.IdentityStoreID != id || s.Region != q.region {
		return nil, idsNotFound("IDENTITY_STORE", id)
	}
	if !q.icAdministers(s) {
		return nil, q.icDenied("arn:aws:identitystore::" + s.OwnerAccountID + ":identitystore/" + id)
	}
	return s, nil
}

// idsNotFound is ResourceNotFoundException for a resource type (USER, GROUP,
// GROUP_MEMBERSHIP, IDENTITY_STORE) and id.
func idsNotFound(resourceType, id string) *apiError {
	return icError("ResourceNotFoundException", "%s not found: %s", resourceType, id)
}

// idsID validates a user, group or membership id.
func idsID(member, id string) *apiError {
	if err := icRequire(member, id); err != nil {
		return err
	}
	return icPattern(member, id, idsResourceIDPattern)
}

// idsFilter is the deprecated Filters element of ListUsers and ListGroups.
type idsFilter struct {
	AttributePath  string `json:"AttributePath"`
	AttributeValue string `json:"AttributeValue"`
}

// idsFilterValue returns the value to match from filters on the one attribute path the
// call supports ("" when there is no filter). Names are compared case-insensitively, as
// user names and group display names are unique regardless of case.
func idsFilterValue(filters []idsFilter, path string) (string, *apiError) {
	value := ""
	for _, f := range filters {
		if err := icRequire("AttributePath", f.AttributePath, "AttributeValue", f.AttributeValue); err != nil {
			return "", err
		}
		if !strings.EqualFold(f.AttributePath, path) {
			return "", icError("ValidationException", "Filtering on attribute path %s is not supported; use %s.", f.AttributePath, path)
		}
		value = f.AttributeValue
	}
	return value, nil
}

// idsMemberID is the MemberId union; UserId is its only member.
type idsMemberID struct {
	UserID string `json:"UserId"`
}

// idsAlternateIdentifier is the AlternateIdentifier union: an ExternalId, or a
// UniqueAttribute whose value is a document (a JSON string for the paths supported).
type idsAlternateIdentifier struct {
	ExternalID *struct {
		Issuer string `json:"Issuer"`
		ID     string `json:"Id"`
	} `json:"ExternalId"`
	UniqueAttribute *struct {
		AttributePath  string          `json:"AttributePath"`
		AttributeValue json.RawMessage `json:"AttributeValue"`
	} `json:"UniqueAttribute"`
}

// uniqueAttribute returns the path and string value of a UniqueAttribute identifier.
func (a *idsAlternateIdentifier) uniqueAttribute() (path, value string, err *apiError) {
	u := a.UniqueAttribute
	if e := icRequire("AttributePath", u.AttributePath); e != nil {
		return "", "", e
	}
	if json.Unmarshal(u.AttributeValue, &value) != nil || value == "" {
		return "", "", icError("ValidationException", "AttributeValue for %s must be a non-empty string.", u.AttributePath)
	}
	return u.AttributePath, value, nil
}

func (a *idsAlternateIdentifier) check() *apiError {
	if (a.ExternalID == nil) == (a.UniqueAttribute == nil) {
		return icError("ValidationException", "AlternateIdentifier must have exactly one of ExternalId and UniqueAttribute.")
	}
	if a.ExternalID != nil {
		return icRequire("Issuer", a.ExternalID.Issuer, "Id", a.ExternalID.ID)
	}
	return nil
}

// Users.

type idsNameJSON struct {
	FamilyName string `json:"FamilyName,omitempty"`
	GivenName  string `json:"GivenName,omitempty"`
}

type idsEmailJSON struct {
	Primary bool   `json:"Primary"`
	Type    string `json:"Type,omitempty"`
	Value   string `json:"Value"`
}

type idsExternalIDJSON struct {
	ID     string `json:"Id"`
	Issuer string `json:"Issuer"`
}

type idsUserJSON struct {
	DisplayName     string                     `json:"DisplayName,omitempty"`
	Emails          []idsEmailJSON             `json:"Emails,omitempty"`
	Extensions      map[string]idsEnterpriseJS `json:"Extensions,omitempty"`
	ExternalIDs     []idsExternalIDJSON        `json:"ExternalIds,omitempty"`
	IdentityStoreID string                     `json:"IdentityStoreId"`
	Name            *idsNameJSON               `json:"Name,omitempty"`
	Title           string                     `json:"Title,omitempty"`
	UserID          string                     `json:"UserId"`
	UserName        string                     `json:"UserName,omitempty"`
	UserStatus      string                     `json:"UserStatus,omitempty"`
}

// idsEnterpriseExtension is the one extension name the Identity Store API supports
// (API reference, ListUsers and DescribeUser: "aws:identitystore:enterprise is the only
// supported extension name").
const idsEnterpriseExtension = "aws:identitystore:enterprise"

// idsExtensionNamePattern is the documented pattern of an extension name (1 to 50
// characters).
var idsExtensionNamePattern = regexp.MustCompile(`^aws:identitystore:[a-z]{1,20}$`)

// idsEnterpriseJS is the enterprise extension's document. The Identity Store API
// documents the extension as a Document; its attributes are those of SCIM's enterprise
// extension (RFC 7643 section 4.3), which the Identity Store mirrors, with the manager as
// {"value": the manager's user id} (Identity Center's SCIM does not support the manager's
// displayName sub-attribute).
type idsEnterpriseJS struct {
	EmployeeNumber string          `json:"employeeNumber,omitempty"`
	CostCenter     string          `json:"costCenter,omitempty"`
	Organization   string          `json:"organization,omitempty"`
	Division       string          `json:"division,omitempty"`
	Department     string          `json:"department,omitempty"`
	Manager        *idsManagerJSON `json:"manager,omitempty"`
}

type idsManagerJSON struct {
	Value string `json:"value"`
}

// idsExtensions checks the Extensions member of ListUsers and DescribeUser (1 to 10
// names, each of the documented pattern, and supported) and reports whether the
// enterprise extension was asked for. A name of the right form that the API does not
// support is refused too: AWS documents the enterprise one as the only supported name.
func idsExtensions(names *[]string) (enterprise bool, err *apiError) {
	if names == nil {
		return false, nil
	}
	if n := len(*names); n < 1 || n > 10 {
		return false, icError("ValidationException", "1 validation error detected: Value '[%s]' at 'extensions' failed to satisfy constraint: Member must have length less than or equal to 10, Member must have length greater than or equal to 1", strings.Join(*names, ", "))
	}
	for _, name := range *names {
		if len(name) > 50 || !idsExtensionNamePattern.MatchString(name) {
			return false, icError("ValidationException", "1 validation error detected: Value '[%s]' at 'extensions' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 50, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: aws:identitystore:[a-z]{1,20}]", strings.Join(*names, ", "))
		}
		if name != idsEnterpriseExtension {
			return false, icError("ValidationException", "Extension %s is not supported; %s is the only supported extension name.", name, idsEnterpriseExtension)
		}
		enterprise = true
	}
	return enterprise, nil
}

// toIDSUserJSON is a user as ListUsers and DescribeUser answer it, with UserStatus
// ENABLED or DISABLED as AWS reports it; Options.NoUserStatus leaves it out, as identity
// stores and emulators that predate it do. The enterprise extension is in it only when
// the call asked for it (enterprise) and the user has some of its attributes: AWS leaves
// Extensions out otherwise ("Not populated if the user has no requested extensions").
func toIDSUserJSON(q *request, s *SSOInstance, u *SSOUser, enterprise bool) idsUserJSON {
	out := idsUserJSON{DisplayName: u.DisplayName, IdentityStoreID: s.IdentityStoreID, UserID: u.ID, UserName: u.UserName, UserStatus: "DISABLED",
		Title: u.Title}
	if e := u.Enterprise; enterprise && !e.IsZero() {
		doc := idsEnterpriseJS{EmployeeNumber: e.EmployeeNumber, CostCenter: e.CostCenter, Organization: e.Organization,
			Division: e.Division, Department: e.Department}
		if e.ManagerID != "" {
			doc.Manager = &idsManagerJSON{Value: e.ManagerID}
		}
		out.Extensions = map[string]idsEnterpriseJS{idsEnterpriseExtension: doc}
	}
	if u.Active {
		out.UserStatus = "ENABLED"
	}
	if q.sim != nil && q.sim.opts.NoUserStatus {
		out.UserStatus = ""
	}
	if u.GivenName != "" || u.FamilyName != "" {
		out.Name = &idsNameJSON{FamilyName: u.FamilyName, GivenName: u.GivenName}
	}
	if u.Email != "" {
		out.Emails = []idsEmailJSON{{Primary: true, Type: "work", Value: u.Email}}
	}
	if u.ExternalID != "" {
		out.ExternalIDs = []idsExternalIDJSON{{ID: u.ExternalID, Issuer: scimExternalIDIssuer}}
	}
	return out
}

func idsListUsers(q *request) (any, *apiError) {
	var in struct {
		IdentityStoreID string      `json:"IdentityStoreId"`
		Extensions      *[]string   `json:"Extensions"`
		Filters         []idsFilter `json:"Filters"`
		MaxResults      *int32      `json:"MaxResults"`
		NextToken       string      `json:"NextToken"`
	}
	if err := q.decodeJSON(&in); err != nil {
		return nil, err
	}
	// Input validation comes before the store is looked up, as in AWS.
	enterprise, verr := idsExtensions(in.Extensions)
	if verr != nil {
		return nil, verr
	}
	s, err := q.identityStore(in.IdentityStoreID)
	if err != nil {
		return nil, err
	}
	userName, err := idsFilterValue(in.Filters, "UserName")
	if err != nil {
		return nil, err
	}
	var users []idsUserJSON
	for _, u := range s.Users {
		if userName == "" || strings.EqualFold(u.UserName, userName) {
			users = append(users, toIDSUserJSON(q, s, u, enterprise))
		}
	}
	pg, next, err := icPage(q, users, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	return struct {
		Users     []idsUserJSON `json:"Users"`
		NextToken string        `json:"NextToken,omitempty"`
	}{pg, next}, nil
}

// idsUser returns the store's user with the id.
func idsUser(s *SSOInstance, member, id string) (*SSOUser, *apiError) {
	if err := idsID(member, id); err != nil {
		return nil, err
	}
	u := s.SSOUser(id)
	if u == nil {
		return nil, idsNotFound("USER", id)
	}
	return u, nil
}

func idsDescribeUser(q *request) (any, *apiError) {
	var in struct {
		IdentityStoreID string    `json:"IdentityStoreId"`
		UserID          string    `json:"UserId"`
		Extensions      *[]string `json:"Extensions"`
	}
	if err := q.decodeJSON(&in); err != nil {
		return nil, err
	}
	enterprise, verr := idsExtensions(in.Extensions)
	if verr != nil {
		return nil, verr
	}
	s, err := q.identityStore(in.IdentityStoreID)
	if err != nil {
		return nil, err
	}
	u, err := idsUser(s, "UserId", in.UserID)
	if err != nil {
		return nil, err
	}
	return toIDSUserJSON(q, s, u, enterprise), nil
}

// idsCreateUser creates a user with the attributes the simulator models: user name, display
// name, given and family name, the primary (or first) email. Only UserName is required.
func idsCreateUser(q *request) (any, *apiError) {
	var in struct {
		IdentityStoreID string       `json:"IdentityStoreId"`
		UserName        string       `json:"UserName"`
		DisplayName     string       `json:"DisplayName"`
		Name            *idsNameJSON `json:"Name"`
		Emails          []struct {
			Value   string `json:"Value"`
			Primary bool   `json:"Primary"`
		} `json:"Emails"`
	}
	if err := q.decodeJSON(&in); err != nil {
		return nil, err
	}
	s, err := q.identityStore(in.IdentityStoreID)
	if err != nil {
		return nil, err
	}
	if err := icRequire("UserName", in.UserName); err != nil {
		return nil, err
	}
	if len(in.UserName) > 128 || strings.TrimSpace(in.UserName) != in.UserName {
		return nil, icError("ValidationException", "1 validation error detected: Value '%s' at 'userName' failed to satisfy constraint: Member must have length between 1 and 128 without leading or trailing spaces", in.UserName)
	}
	for _, u := range s.Users {
		if strings.EqualFold(u.UserName, in.UserName) {
			return nil, icError("ConflictException", "Duplicate UserName: a user named %s already exists.", in.UserName)
		}
	}
	var given, family, email string
	if in.Name != nil {
		given, family = in.Name.GivenName, in.Name.FamilyName
	}
	for i, e := range in.Emails {
		if e.Primary || i == 0 {
			email = e.Value
		}
	}
	u := q.w.AddSSOUser(in.UserName, given, family, email)
	if in.DisplayName != "" {
		u.DisplayName = in.DisplayName
	}
	return struct {
		IdentityStoreID string `json:"IdentityStoreId"`
		UserID          string `json:"UserId"`
	}{s.IdentityStoreID, u.ID}, nil
}

// idsGetUserID finds a user by userName or emails.value, or by its external id.
func idsGetUserID(q *request) (any, *apiError) {
	var in struct {
		IdentityStoreID     string                 `json:"IdentityStoreId"`
		AlternateIdentifier idsAlternateIdentifier `json:"AlternateIdentifier"`
	}
	if err := q.decodeJSON(&in); err != nil {
		return nil, err
	}
	s, err := q.identityStore(in.IdentityStoreID)
	if err != nil {
		return nil, err
	}
	alt := &in.AlternateIdentifier
	if err := alt.check(); err != nil {
		return nil, err
	}
	var match func(u *SSOUser) bool
	key := ""
	if alt.ExternalID != nil {
		key = alt.ExternalID.ID
		match = func(u *SSOUser) bool {
			return u.ExternalID == alt.ExternalID.ID && alt.ExternalID.Issuer == scimExternalIDIssuer
		}
	} else {
		path, value, err := alt.uniqueAttribute()
		if err != nil {
			return nil, err
		}
		key = value
		switch strings.ToLower(path) {
		case "username":
			match = func(u *SSOUser) bool { return strings.EqualFold(u.UserName, value) }
		case "emails.value":
			match = func(u *SSOUser) bool { return strings.EqualFold(u.Email, value) }
		default:
			return nil, icError("ValidationException", "Attribute path %s is not a unique attribute of a user; use userName or emails.value.", path)
		}
	}
	for _, u := range s.Users {
		if match(u) {
			return struct {
				IdentityStoreID string `json:"IdentityStoreId"`
				UserID          string `json:"UserId"`
			}{s.IdentityStoreID, u.ID}, nil
		}
	}
	return nil, idsNotFound("USER", key)
}

// Groups.

type idsGroupJSON struct {
	Description     string `json:"Description,omitempty"`
	DisplayName     string `json:"DisplayName,omitempty"`
	GroupID         string `json:"GroupId"`
	IdentityStoreID string `json:"IdentityStoreId"`
}

func toIDSGroupJSON(s *SSOInstance, g *SSOGroup) idsGroupJSON {
	return idsGroupJSON{Description: g.Description, DisplayName: g.DisplayName, GroupID: g.ID, IdentityStoreID: s.IdentityStoreID}
}

func idsListGroups(q *request) (any, *apiError) {
	var in struct {
		IdentityStoreID string      `json:"IdentityStoreId"`
		Filters         []idsFilter `json:"Filters"`
		MaxResults      *int32      `json:"MaxResults"`
		NextToken       string      `json:"NextToken"`
	}
	if err := q.decodeJSON(&in); err != nil {
		return nil, err
	}
	s, err := q.identityStore(in.IdentityStoreID)
	if err != nil {
		return nil, err
	}
	displayName, err := idsFilterValue(in.Filters, "DisplayName")
	if err != nil {
		return nil, err
	}
	var groups []idsGroupJSON
	for _, g := range s.Groups {
		if displayName == "" || strings.EqualFold(g.DisplayName, displayName) {
			groups = append(groups, toIDSGroupJSON(s, g))
		}
	}
	pg, next, err := icPage(q, groups, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	return struct {
		Groups    []idsGroupJSON `json:"Groups"`
		NextToken string         `json:"NextToken,omitempty"`
	}{pg, next}, nil
}

// idsGroup returns the store's group with the id.
func idsGroup(s *SSOInstance, id string) (*SSOGroup, *apiError) {
	if err := idsID("GroupId", id); err != nil {
		return nil, err
	}
	g := s.SSOGroup(id)
	if g == nil {
		return nil, idsNotFound("GROUP", id)
	}
	return g, nil
}

func idsDescribeGroup(q *request) (any, *apiError) {
	var in struct {
		IdentityStoreID string `json:"IdentityStoreId"`
		GroupID         string `json:"GroupId"`
	}
	if err := q.decodeJSON(&in); err != nil {
		return nil, err
	}
	s, err := q.identityStore(in.IdentityStoreID)
	if err != nil {
		return nil, err
	}
	g, err := idsGroup(s, in.GroupID)
	if err != nil {
		return nil, err
	}
	return toIDSGroupJSON(s, g), nil
}

func idsCreateGroup(q *request) (any, *apiError) {
	var in struct {
		IdentityStoreID string `json:"IdentityStoreId"`
		DisplayName     string `json:"DisplayName"`
		Description     string `json:"Description"`
	}
	if err := q.decodeJSON(&in); err != nil {
		return nil, err
	}
	s, err := q.identityStore(in.IdentityStoreID)
	if err != nil {
		return nil, err
	}
	if err := icRequire("DisplayName", in.DisplayName); err != nil {
		return nil, err
	}
	for _, g := range s.Groups {
		if strings.EqualFold(g.DisplayName, in.DisplayName) {
			return nil, icError("ConflictException", "Duplicate DisplayName: a group named %s already exists.", in.DisplayName)
		}
	}
	g := q.w.AddSSOGroup(in.DisplayName, in.Description)
	return struct {
		GroupID         string `json:"GroupId"`
		IdentityStoreID string `json:"IdentityStoreId"`
	}{g.ID, s.IdentityStoreID}, nil
}

// idsGetGroupID finds a group by displayName. Groups in the simulator carry no external id,
// so an ExternalId identifier finds none.
func idsGetGroupID(q *request) (any, *apiError) {
	var in struct {
		IdentityStoreID     string                 `json:"IdentityStoreId"`
		AlternateIdentifier idsAlternateIdentifier `json:"AlternateIdentifier"`
	}
	if err := q.decodeJSON(&in); err != nil {
		return nil, err
	}
	s, err := q.identityStore(in.IdentityStoreID)
	if err != nil {
		return nil, err
	}
	alt := &in.AlternateIdentifier
	if err := alt.check(); err != nil {
		return nil, err
	}
	if alt.ExternalID != nil {
		return nil, idsNotFound("GROUP", alt.ExternalID.ID)
	}
	path, value, err := alt.uniqueAttribute()
	if err != nil {
		return nil, err
	}
	if !strings.EqualFold(path, "displayName") {
		return nil, icError("ValidationException", "Attribute path %s is not a unique attribute of a group; use displayName.", path)
	}
	for _, g := range s.Groups {
		if strings.EqualFold(g.DisplayName, value) {
			return struct {
				GroupID         string `json:"GroupId"`
				IdentityStoreID string `json:"IdentityStoreId"`
			}{g.ID, s.IdentityStoreID}, nil
		}
	}
	return nil, idsNotFound("GROUP", value)
}

// Group memberships.

type idsMembershipJSON struct {
	GroupID         string      `json:"GroupId"`
	IdentityStoreID string      `json:"IdentityStoreId"`
	MemberID        idsMemberID `json:"MemberId"`
	MembershipID    string      `json:"MembershipId"`
}

func toIDSMembershipJSON(s *SSOInstance, m *Membership) idsMembershipJSON {
	return idsMembershipJSON{GroupID: m.GroupID, IdentityStoreID: s.IdentityStoreID, MemberID: idsMemberID{UserID: m.UserID}, MembershipID: m.ID}
}

// idsMember validates a MemberId and returns the user it names.
func idsMember(s *SSOInstance, m *idsMemberID) (*SSOUser, *apiError) {
	if m == nil {
		return nil, icRequire("MemberId", "")
	}
	return idsUser(s, "MemberId.UserId", m.UserID)
}

func (s *SSOInstance) membership(groupID, userID string) *Membership {
	for _, m := range s.Memberships {
		if m.GroupID == groupID && m.UserID == userID {
			return m
		}
	}
	return nil
}

func membershipsPage(q *request, s *SSOInstance, keep func(m *Membership) bool, token string, maxResults *int32) (any, *apiError) {
	var items []idsMembershipJSON
	for _, m := range s.Memberships {
		if keep(m) {
			items = append(items, toIDSMembershipJSON(s, m))
		}
	}
	pg, next, err := icPage(q, items, token, maxResults)
	if err != nil {
		return nil, err
	}
	return struct {
		GroupMemberships []idsMembershipJSON `json:"GroupMemberships"`
		NextToken        string              `json:"NextToken,omitempty"`
	}{pg, next}, nil
}

func idsListGroupMemberships(q *request) (any, *apiError) {
	var in struct {
		IdentityStoreID string `json:"IdentityStoreId"`
		GroupID         string `json:"GroupId"`
		MaxResults      *int32 `json:"MaxResults"`
		NextToken       string `json:"NextToken"`
	}
	if err := q.decodeJSON(&in); err != nil {
		return nil, err
	}
	s, err := q.identityStore(in.IdentityStoreID)
	if err != nil {
		return nil, err
	}
	g, err := idsGroup(s, in.GroupID)
	if err != nil {
		return nil, err
	}
	return membershipsPage(q, s, func(m *Membership) bool { return m.GroupID == g.ID }, in.NextToken, in.MaxResults)
}

func idsListGroupMembershipsForMember(q *request) (any, *apiError) {
	var in struct {
		IdentityStoreID string       `json:"IdentityStoreId"`
		MemberID        *idsMemberID `json:"MemberId"`
		MaxResults      *int32       `json:"MaxResults"`
		NextToken       string       `json:"NextToken"`
	}
	if err := q.decodeJSON(&in); err != nil {
		return nil, err
	}
	s, err := q.identityStore(in.IdentityStoreID)
	if err != nil {
		return nil, err
	}
	u, err := idsMember(s, in.MemberID)
	if err != nil {
		return nil, err
	}
	return membershipsPage(q, s, func(m *Membership) bool { return m.UserID == u.ID }, in.NextToken, in.MaxResults)
}

func idsCreateGroupMembership(q *request) (any, *apiError) {
	var in struct {
		IdentityStoreID string       `json:"IdentityStoreId"`
		GroupID         string       `json:"GroupId"`
		MemberID        *idsMemberID `json:"MemberId"`
	}
	if err := q.decodeJSON(&in); err != nil {
		return nil, err
	}
	s, err := q.identityStore(in.IdentityStoreID)
	if err != nil {
		return nil, err
	}
	g, err := idsGroup(s, in.GroupID)
	if err != nil {
		return nil, err
	}
	u, err := idsMember(s, in.MemberID)
	if err != nil {
		return nil, err
	}
	if s.membership(g.ID, u.ID) != nil {
		return nil, icError("ConflictException", "Member %s is already a member of group %s.", u.ID, g.ID)
	}
	m := q.w.AddMembership(g.ID, u.ID)
	return struct {
		IdentityStoreID string `json:"IdentityStoreId"`
		MembershipID    string `json:"MembershipId"`
	}{s.IdentityStoreID, m.ID}, nil
}

// idsMembershipByID returns the store's membership with the id.
func idsMembershipByID(s *SSOInstance, id string) (*Membership, *apiError) {
	if err := idsID("MembershipId", id); err != nil {
		return nil, err
	}
	for _, m := range s.Memberships {
		if m.ID == id {
			return m, nil
		}
	}
	return nil, idsNotFound("GROUP_MEMBERSHIP", id)
}

func idsDeleteGroupMembership(q *request) (any, *apiError) {
	var in struct {
		IdentityStoreID string `json:"IdentityStoreId"`
		MembershipID    string `json:"MembershipId"`
	}
	if err := q.decodeJSON(&in); err != nil {
		return nil, err
	}
	s, err := q.identityStore(in.IdentityStoreID)
	if err != nil {
		return nil, err
	}
	m, err := idsMembershipByID(s, in.MembershipID)
	if err != nil {
		return nil, err
	}
	kept := s.Memberships[:0]
	for _, x := range s.Memberships {
		if x != m {
			kept = append(kept, x)
		}
	}
	s.Memberships = kept
	return nil, nil
}

func idsDescribeGroupMembership(q *request) (any, *apiError) {
	var in struct {
		IdentityStoreID string `json:"IdentityStoreId"`
		MembershipID    string `json:"MembershipId"`
	}
	if err := q.decodeJSON(&in); err != nil {
		return nil, err
	}
	s, err := q.identityStore(in.IdentityStoreID)
	if err != nil {
		return nil, err
	}
	m, err := idsMembershipByID(s, in.MembershipID)
	if err != nil {
		return nil, err
	}
	return toIDSMembershipJSON(s, m), nil
}

func idsGetGroupMembershipID(q *request) (any, *apiError) {
	var in struct {
		IdentityStoreID string       `json:"IdentityStoreId"`
		GroupID         string       `json:"GroupId"`
		MemberID        *idsMemberID `json:"MemberId"`
	}
	if err := q.decodeJSON(&in); err != nil {
		return nil, err
	}
	s, err := q.identityStore(in.IdentityStoreID)
	if err != nil {
		return nil, err
	}
	g, err := idsGroup(s, in.GroupID)
	if err != nil {
		return nil, err
	}
	u, err := idsMember(s, in.MemberID)
	if err != nil {
		return nil, err
	}
	m := s.membership(g.ID, u.ID)
	if m == nil {
		return nil, idsNotFound("GROUP_MEMBERSHIP", g.ID+"/"+u.ID)
	}
	return struct {
		IdentityStoreID string `json:"IdentityStoreId"`
		MembershipID    string `json:"MembershipId"`
	}{s.IdentityStoreID, m.ID}, nil
}

// idsIsMemberInGroups answers for each group, in the order asked; a group that does not
// exist has no members.
func idsIsMemberInGroups(q *request) (any, *apiError) {
	var in struct {
		IdentityStoreID string       `json:"IdentityStoreId"`
		MemberID        *idsMemberID `json:"MemberId"`
		GroupIDs        []string     `json:"GroupIds"`
	}
	if err := q.decodeJSON(&in); err != nil {
		return nil, err
	}
	s, err := q.identityStore(in.IdentityStoreID)
	if err != nil {
		return nil, err
	}
	u, err := idsMember(s, in.MemberID)
	if err != nil {
		return nil, err
	}
	if len(in.GroupIDs) < 1 || len(in.GroupIDs) > 100 {
		return nil, icError("ValidationException", "1 validation error detected: Value at 'groupIds' failed to satisfy constraint: Member must have length between 1 and 100")
	}
	type result struct {
		GroupID          string      `json:"GroupId"`
		MemberID         idsMemberID `json:"MemberId"`
		MembershipExists bool        `json:"MembershipExists"`
	}
	results := make([]result, 0, len(in.GroupIDs))
	for _, id := range in.GroupIDs {
		if err := idsID("GroupIds", id); err != nil {
			return nil, err
		}
		results = append(results, result{GroupID: id, MemberID: idsMemberID{UserID: u.ID}, MembershipExists: s.membership(id, u.ID) != nil})
	}
	return struct {
		Results []result `json:"Results"`
	}{results}, nil
}
