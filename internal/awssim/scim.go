package awssim

import (
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// The Identity Center SCIM 2.0 API (RFC 7643, 7644), read-only, as IAM Identity Center
// implements it: /scim/v2/Users, /scim/v2/Users/{id}, /scim/v2/Groups, /scim/v2/Groups/{id}
// and /scim/v2/ServiceProviderConfig, behind `Authorization: Bearer TOKEN`
// (World.Connector.SCIMToken; no token configured means SCIM is off: 404).
//
// Like Identity Center, groups are returned with an empty member list; membership is
// read with the filters members.value eq "USER_ID" (on Groups) and groups.value eq
// "GROUP_ID" (on Users). Filters are `attr eq "value"` clauses joined by `and`.
// Paging is Identity Center's, not the RFC's (see scimPage): a cursor (`?cursor` for the
// first page, then the nextCursor of each response) and count (1 to 100); startIndex is
// not supported and is ignored. The simulator's PageSize option caps count further.

const (
	scimSchemaUser         = "urn:ietf:params:scim:schemas:core:2.0:User"
	scimSchemaGroup        = "urn:ietf:params:scim:schemas:core:2.0:Group"
	scimSchemaList         = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	scimSchemaError        = "urn:ietf:params:scim:api:messages:2.0:Error"
	scimSchemaSPConfig     = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
	scimMaxCount           = 100
	scimContentType        = "application/scim+json"
	scimPrefix             = "/scim/v2/"
	scimServiceCounterName = "scim"
)

// scimError is a SCIM error response (status is a string, as RFC 7644 says).
type scimError struct {
	Schemas  []string `json:"schemas"`
	Status   string   `json:"status"`
	ScimType string   `json:"scimType,omitempty"`
	Detail   string   `json:"detail"`
}

func newSCIMError(status int, scimType, detail string) *scimErrorReply {
	return &scimErrorReply{status: status, body: scimError{Schemas: []string{scimSchemaError},
		Status: strconv.Itoa(status), ScimType: scimType, Detail: detail}}
}

type scimErrorReply struct {
	status int
	body   scimError
}

// serveSCIM serves the Identity Center SCIM 2.0 API behind a bearer token.
func (s *Sim) serveSCIM(rw http.ResponseWriter, r *http.Request) {
	op, id := scimOperation(r.URL.Path)

	s.mu.Lock()
	token := s.world.Connector.SCIMToken
	enabled := token != "" && s.world.SSO != nil
	s.mu.Unlock()
	if !enabled || op == "" {
		writeSCIM(rw, nil, newSCIMError(http.StatusNotFound, "", "Not found: "+r.URL.Path))
		return
	}
	if !scimAuthorized(r.Header.Get("Authorization"), token) {
		writeSCIM(rw, nil, newSCIMError(http.StatusUnauthorized, "", "Authorization header is invalid or missing."))
		return
	}
	// Counted after authentication, like the AWS APIs.
	s.counters.count(scimServiceCounterName, op)
	if r.Method != http.MethodGet {
		rw.Header().Set("Allow", http.MethodGet)
		writeSCIM(rw, nil, newSCIMError(http.StatusMethodNotAllowed, "", "The simulator serves SCIM read-only: "+r.Method+" is not supported."))
		return
	}

	s.sleepLatency()
	if f := s.fault(); f != "" {
		s.counters.fault(scimServiceCounterName, op)
		if f == FaultDrop {
			dropConnection(rw)
			return
		}
		writeSCIM(rw, nil, newSCIMError(http.StatusInternalServerError, "", "Service failed to process the request."))
		return
	}
	if !s.quotas.allow(scimServiceCounterName, op, "scim") {
		s.counters.throttle(scimServiceCounterName, op)
		writeSCIM(rw, nil, newSCIMError(http.StatusTooManyRequests, "", "Too many requests exceeded the limits."))
		return
	}

	s.mu.Lock()
	s.world.advance()
	result, serr := s.scimResult(op, id, r)
	s.mu.Unlock()
	writeSCIM(rw, result, serr)
}

// scimOperation names the operation of a path ("" when the path is not a SCIM endpoint).
func scimOperation(path string) (op, id string) {
	rest := strings.Trim(strings.TrimPrefix(path, scimPrefix), "/")
	kind, id, _ := strings.Cut(rest, "/")
	if strings.Contains(id, "/") {
		return "", ""
	}
	switch {
	case kind == "Users" && id == "":
		return "ListUsers", ""
	case kind == "Users":
		return "GetUser", id
	case kind == "Groups" && id == "":
		return "ListGroups", ""
	case kind == "Groups":
		return "GetGroup", id
	case kind == "ServiceProviderConfig" && id == "":
		return "ServiceProviderConfig", ""
	}
	return "", ""
}

// scimAuthorized compares the bearer token in constant time.
func scimAuthorized(header, token string) bool {
	scheme, got, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(token)) == 1
}

func writeSCIM(rw http.ResponseWriter, result any, serr *scimErrorReply) {
	status := http.StatusOK
	if serr != nil {
		status, result = serr.status, serr.body
	}
	b, err := json.Marshal(result)
	if err != nil {
		status = http.StatusInternalServerError
		b, _ = json.Marshal(scimError{Schemas: []string{scimSchemaError}, Status: "500", Detail: "simulator could not encode the result: " + err.Error()})
	}
	rw.Header().Set("Content-Type", scimContentType)
	rw.Header().Set("Content-Length", strconv.Itoa(len(b)))
	rw.WriteHeader(status)
	_, _ = rw.Write(b)
}

// Resources.

type scimMeta struct {
	ResourceType string `json:"resourceType"`
}

type scimName struct {
	Formatted  string `json:"formatted,omitempty"`
	FamilyName string `json:"familyName,omitempty"`
	GivenName  string `json:"givenName,omitempty"`
}

type scimEmail struct {
	Value   string `json:"value"`
	Type    string `json:"type"`
	Primary bool   `json:"primary"`
}

type scimUser struct {
	Schemas     []string    `json:"schemas"`
	ID          string      `json:"id"`
	ExternalID  string      `json:"externalId,omitempty"`
	Meta        scimMeta    `json:"meta"`
	UserName    string      `json:"userName"`
	Name        *scimName   `json:"name,omitempty"`
	DisplayName string      `json:"displayName,omitempty"`
	Active      bool        `json:"active"`
	Emails      []scimEmail `json:"emails,omitempty"`
	Title       string      `json:"title,omitempty"`
	// Enterprise is the enterprise extension, under its schema URN, when the user has
	// any of its attributes (the manager as {"value": user id}: Identity Center does not
	// support the manager's displayName).
	Enterprise *scimEnterprise `json:"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User,omitempty"`
}

// scimSchemaEnterprise is the enterprise extension's schema URN (RFC 7643 section 4.3).
const scimSchemaEnterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

type scimEnterprise struct {
	EmployeeNumber string       `json:"employeeNumber,omitempty"`
	CostCenter     string       `json:"costCenter,omitempty"`
	Organization   string       `json:"organization,omitempty"`
	Division       string       `json:"division,omitempty"`
	Department     string       `json:"department,omitempty"`
	Manager        *scimManager `json:"manager,omitempty"`
}

type scimManager struct {
	Value string `json:"value"`
}

type scimMember struct {
	Value string `json:"value"`
}

type scimGroup struct {
	Schemas     []string     `json:"schemas"`
	ID          string       `json:"id"`
	Meta        scimMeta     `json:"meta"`
	DisplayName string       `json:"displayName"`
	Members     []scimMember `json:"members"`
}

func toSCIMUser(u *SSOUser) scimUser {
	out := scimUser{Schemas: []string{scimSchemaUser}, ID: u.ID, ExternalID: u.ExternalID,
		Meta: scimMeta{ResourceType: "User"}, UserName: u.UserName, DisplayName: u.DisplayName, Active: u.Active}
	if u.GivenName != "" || u.FamilyName != "" {
		out.Name = &scimName{Formatted: strings.TrimSpace(u.GivenName + " " + u.FamilyName), FamilyName: u.FamilyName, GivenName: u.GivenName}
	}
	if u.Email != "" {
		out.Emails = []scimEmail{{Value: u.Email, Type: "work", Primary: true}}
	}
	out.Title = u.Title
	if e := u.Enterprise; !e.IsZero() {
		out.Schemas = append(out.Schemas, scimSchemaEnterprise)
		out.Enterprise = &scimEnterprise{EmployeeNumber: e.EmployeeNumber, CostCenter: e.CostCenter, Organization: e.Organization,
			Division: e.Division, Department: e.Department}
		if e.ManagerID != "" {
			out.Enterprise.Manager = &scimManager{Value: e.ManagerID}
		}
	}
	return out
}

func toSCIMGroup(g *SSOGroup) scimGroup {
	// Identity Center returns groups without their members (see the file comment).
	return scimGroup{Schemas: []string{scimSchemaGroup}, ID: g.ID, Meta: scimMeta{ResourceType: "Group"},
		DisplayName: g.DisplayName, Members: []scimMember{}}
}

// scimResult computes the response of one call. Callers hold s.mu.
func (s *Sim) scimResult(op, id string, r *http.Request) (any, *scimErrorReply) {
	sso := s.world.SSO
	switch op {
	case "GetUser":
		if u := sso.SSOUser(id); u != nil {
			return toSCIMUser(u), nil
		}
		return nil, newSCIMError(http.StatusNotFound, "", "Resource "+id+" not found.")
	case "GetGroup":
		if g := sso.SSOGroup(id); g != nil {
			return toSCIMGroup(g), nil
		}
		return nil, newSCIMError(http.StatusNotFound, "", "Resource "+id+" not found.")
	case "ServiceProviderConfig":
		return scimServiceProviderConfig(), nil
	}

	clauses, serr := parseSCIMFilter(r.URL.Query().Get("filter"))
	if serr != nil {
		return nil, serr
	}
	var items []any
	if op == "ListUsers" {
		for _, u := range sso.Users {
			ok, serr := scimUserMatches(sso, u, clauses)
			if serr != nil {
				return nil, serr
			}
			if ok {
				items = append(items, toSCIMUser(u))
			}
		}
	} else {
		for _, g := range sso.Groups {
			ok, serr := scimGroupMatches(sso, g, clauses)
			if serr != nil {
				return nil, serr
			}
			if ok {
				items = append(items, toSCIMGroup(g))
			}
		}
	}
	return s.scimPage(items, r)
}

// scimListResponse is a ListResponse: with cursor paging, itemsPerPage and nextCursor
// (absent on the last page); without, totalResults, startIndex and itemsPerPage.
type scimListResponse struct {
	Schemas      []string `json:"schemas"`
	TotalResults *int     `json:"totalResults,omitempty"`
	ItemsPerPage int      `json:"itemsPerPage"`
	StartIndex   *int     `json:"startIndex,omitempty"`
	NextCursor   string   `json:"nextCursor,omitempty"`
	Resources    []any    `json:"Resources"`
}

// scimCursorPattern is the documented pattern of the cursor parameter.
var scimCursorPattern = regexp.MustCompile(`^[-a-zA-Z0-9+=/:_]*$`)

// scimPage pages a list the way Identity Center does (its ListUsers and ListGroups
// documentation):
//   - count is 1 to 100 (default 100); outside that range the request is invalid.
//   - startIndex is not supported: it is ignored, so a client that pages by startIndex
//     is given the first page again.
//   - With the cursor parameter (empty for the first page) the answer is cursor paged:
//     itemsPerPage and, while more remain, nextCursor.
//   - Without it the answer is "non-paginated": the first count items only, with
//     totalResults equal to the number returned and startIndex 1 (as observed in
//     awslabs/ssosync#1), so nothing tells the client that more exist.
func (s *Sim) scimPage(items []any, r *http.Request) (any, *scimErrorReply) {
	v := r.URL.Query()
	count := scimMaxCount
	if c := v.Get("count"); c != "" {
		n, err := strconv.Atoi(c)
		if err != nil || n < 1 || n > scimMaxCount {
			return nil, newSCIMError(http.StatusBadRequest, "invalidValue", "count must be an integer from 1 to 100, got "+strconv.Quote(c)+".")
		}
		count = n
	}
	if ps := s.opts.PageSize; ps > 0 && count > ps {
		count = ps
	}
	start := 0 // 0-based offset
	_, cursorMode := v["cursor"]
	if cursorMode {
		c := v.Get("cursor")
		if !scimCursorPattern.MatchString(c) {
			return nil, newSCIMError(http.StatusBadRequest, "invalidValue", "The cursor is not valid.")
		}
		if c != "" {
			n, err := decodeSCIMCursor(c)
			if err != nil || n < 0 || n > len(items) {
				return nil, newSCIMError(http.StatusBadRequest, "invalidValue", "The cursor is not valid.")
			}
			start = n
		}
	}
	end := min(start+count, len(items))
	pageItems := []any{}
	if start < len(items) {
		pageItems = items[start:end]
	}
	res := scimListResponse{Schemas: []string{scimSchemaList}, ItemsPerPage: len(pageItems), Resources: pageItems}
	if cursorMode {
		if end < len(items) {
			res.NextCursor = encodeSCIMCursor(end)
		}
		return res, nil
	}
	total, startIndex := len(pageItems), 1
	res.TotalResults, res.StartIndex = &total, &startIndex
	return res, nil
}

func encodeSCIMCursor(offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("scim:" + strconv.Itoa(offset)))
}

func decodeSCIMCursor(c string) (int, error) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, err
	}
	n, ok := strings.CutPrefix(string(raw), "scim:")
	if !ok {
		return 0, fmt.Errorf("not a cursor")
	}
	return strconv.Atoi(n)
}

// Filters.

type scimClause struct {
	attr  string // lower case
	value string
}

var scimClausePattern = regexp.MustCompile(`^\s*([A-Za-z][A-Za-z0-9._:-]*)\s+(?i:eq)\s+"((?:[^"\\]|\\.)*)"\s*`)

// parseSCIMFilter parses `attr eq "value" [and attr eq "value" ...]`, the filter subset
// Identity Center supports.
func parseSCIMFilter(f string) ([]scimClause, *scimErrorReply) {
	if strings.TrimSpace(f) == "" {
		return nil, nil
	}
	invalid := newSCIMError(http.StatusBadRequest, "invalidFilter",
		`The filter is not supported: use attribute eq "value", optionally joined with and. Got: `+f)
	var out []scimClause
	rest := f
	for {
		m := scimClausePattern.FindStringSubmatch(rest)
		if m == nil {
			return nil, invalid
		}
		var value string
		if err := json.Unmarshal([]byte(`"`+m[2]+`"`), &value); err != nil {
			return nil, invalid
		}
		out = append(out, scimClause{attr: strings.ToLower(m[1]), value: value})
		rest = rest[len(m[0]):]
		if rest == "" {
			return out, nil
		}
		and, after, ok := strings.Cut(rest, " ")
		if !ok || !strings.EqualFold(and, "and") {
			return nil, invalid
		}
		rest = after
	}
}

func scimUnsupportedAttr(attr string) *scimErrorReply {
	return newSCIMError(http.StatusBadRequest, "invalidFilter", "Filtering on "+attr+" is not supported.")
}

// scimUserMatches applies the clauses to a user. userName is matched without regard to
// case (its caseExact is false in RFC 7643), id and externalId exactly.
func scimUserMatches(sso *SSOInstance, u *SSOUser, clauses []scimClause) (bool, *scimErrorReply) {
	for _, c := range clauses {
		var ok bool
		switch c.attr {
		case "username":
			ok = strings.EqualFold(u.UserName, c.value)
		case "id":
			ok = u.ID == c.value
		case "externalid":
			ok = u.ExternalID == c.value
		case "displayname":
			ok = strings.EqualFold(u.DisplayName, c.value)
		case "groups.value", "groups":
			ok = scimIsMember(sso, c.value, u.ID)
		default:
			return false, scimUnsupportedAttr(c.attr)
		}
		if !ok {
			return false, nil
		}
	}
	return true, nil
}

func scimGroupMatches(sso *SSOInstance, g *SSOGroup, clauses []scimClause) (bool, *scimErrorReply) {
	for _, c := range clauses {
		var ok bool
		switch c.attr {
		case "displayname":
			ok = strings.EqualFold(g.DisplayName, c.value)
		case "id":
			ok = g.ID == c.value
		case "externalid":
			ok = false // the simulator's groups have no external id
		case "members.value", "members", "member":
			ok = scimIsMember(sso, g.ID, c.value)
		default:
			return false, scimUnsupportedAttr(c.attr)
		}
		if !ok {
			return false, nil
		}
	}
	return true, nil
}

func scimIsMember(sso *SSOInstance, groupID, userID string) bool {
	for _, m := range sso.Memberships {
		if m.GroupID == groupID && m.UserID == userID {
			return true
		}
	}
	return false
}

func scimServiceProviderConfig() any {
	supported := func(b bool) map[string]bool { return map[string]bool{"supported": b} }
	return map[string]any{
		"schemas":               []string{scimSchemaSPConfig},
		"documentationUri":      "https://docs.aws.amazon.com/singlesignon/latest/developerguide/what-is-scim.html",
		"patch":                 supported(false),
		"bulk":                  map[string]any{"supported": false, "maxOperations": 1, "maxPayloadSize": 1048576},
		"filter":                map[string]any{"supported": true, "maxResults": scimMaxCount},
		"changePassword":        supported(false),
		"sort":                  supported(false),
		"etag":                  supported(false),
		"authenticationSchemes": []map[string]any{{"type": "oauthbearertoken", "name": "OAuth Bearer Token", "description": "Authentication scheme using the OAuth Bearer Token Standard", "primary": true}},
	}
}
