package awssim

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// AWS Organizations (JSON 1.1, X-Amz-Target AWSOrganizationsV20161128.*). Only the read
// calls a sync needs. As in AWS, they answer only for the management account and for
// delegated administrators (DescribeOrganization answers for every member account), and
// every Organizations error is an HTTP 400.

func init() {
	register("organizations", map[string]opHandler{
		"DescribeOrganization":             orgCall(orgAnyMember, orgDescribeOrganization),
		"ListRoots":                        orgCall(orgAdmin, orgListRoots),
		"ListOrganizationalUnitsForParent": orgCall(orgAdmin, orgListOUsForParent),
		"ListAccountsForParent":            orgCall(orgAdmin, orgListAccountsForParent),
		"ListAccounts":                     orgCall(orgAdmin, orgListAccounts),
		"DescribeAccount":                  orgCall(orgAdmin, orgDescribeAccount),
		"DescribeOrganizationalUnit":       orgCall(orgAdmin, orgDescribeOU),
		"ListParents":                      orgCall(orgAdmin, orgListParents),
		"ListChildren":                     orgCall(orgAdmin, orgListChildren),
		"ListDelegatedAdministrators":      orgCall(orgAdmin, orgListDelegatedAdministrators),
		"ListTagsForResource":              orgCall(orgAdmin, orgListTagsForResource),
	})
}

// Organizations list calls share one MaxResults shape: 1 to 20.
const (
	orgDefaultPage = 20
	orgMaxPage     = 20
)

// Who may make a call.
type orgAccess int

const (
	orgAdmin     orgAccess = iota // the management account or a delegated administrator
	orgAnyMember                  // any account of the organization
)

// orgCall wraps a handler with the checks every Organizations call makes first: is the
// caller's account in an organization, and may it make this call.
func orgCall(access orgAccess, h func(q *request, org *Organization) (any, *apiError)) opHandler {
	return func(q *request) (any, *apiError) {
		org := q.w.Org
		a := q.w.Accounts[q.caller.AccountID]
		if org == nil || a == nil || a.ParentID == "" {
			return nil, &apiError{Status: 400, Code: "AWSOrganizationsNotInUseException",
				Message: "Your account is not a member of an organization."}
		}
		if access == orgAdmin && a.ID != q.w.ManagementAccountID && !org.DelegatedAdmins[a.ID] {
			return nil, &apiError{Status: 400, Code: "AccessDeniedException",
				Message: "You don't have permissions to access this resource."}
		}
		return h(q, org)
	}
}

// JSON shapes of Organizations results (field names as the API spells them).

type orgPolicyType struct {
	Type   string `json:"Type"`
	Status string `json:"Status"`
}

// orgSCPEnabled is what the simulator reports as enabled policy types: service control
// policies, as in an organization with all features (SCPs are not evaluated; see
// Account.DenyAll).
var orgSCPEnabled = []orgPolicyType{{Type: "SERVICE_CONTROL_POLICY", Status: "ENABLED"}}

type orgOrganization struct {
	ID                   string          `json:"Id"`
	Arn                  string          `json:"Arn"`
	FeatureSet           string          `json:"FeatureSet"`
	MasterAccountArn     string          `json:"MasterAccountArn"`
	MasterAccountID      string          `json:"MasterAccountId"`
	MasterAccountEmail   string          `json:"MasterAccountEmail"`
	AvailablePolicyTypes []orgPolicyType `json:"AvailablePolicyTypes"`
}

type orgRoot struct {
	ID          string          `json:"Id"`
	Arn         string          `json:"Arn"`
	Name        string          `json:"Name"`
	PolicyTypes []orgPolicyType `json:"PolicyTypes"`
}

type orgOU struct {
	ID   string `json:"Id"`
	Arn  string `json:"Arn"`
	Name string `json:"Name"`
	Path string `json:"Path,omitempty"`
}

type orgAccount struct {
	ID              string   `json:"Id"`
	Arn             string   `json:"Arn"`
	Email           string   `json:"Email"`
	Name            string   `json:"Name"`
	Status          string   `json:"Status"`
	State           string   `json:"State"`
	JoinedMethod    string   `json:"JoinedMethod"`
	JoinedTimestamp *Epoch   `json:"JoinedTimestamp,omitempty"`
	Paths           []string `json:"Paths,omitempty"`
}

type orgDelegatedAdmin struct {
	orgAccount
	DelegationEnabledDate *Epoch `json:"DelegationEnabledDate,omitempty"`
}

type orgRelative struct {
	ID   string `json:"Id"`
	Type string `json:"Type"`
}

// orgListInput is the paging part of every list call's input.
type orgListInput struct {
	MaxResults *int `json:"MaxResults"`
	NextToken  string
}

// pageSize validates MaxResults (1 to 20, as the API's shape says).
func (in orgListInput) pageSize() (int, *apiError) {
	if in.MaxResults == nil {
		return 0, nil
	}
	if n := *in.MaxResults; n < 1 || n > orgMaxPage {
		return 0, orgInvalidInput(fmt.Sprintf("MaxResults must be between 1 and %d, got %d.", orgMaxPage, n))
	}
	return *in.MaxResults, nil
}

func orgPage[T any](q *request, items []T, in orgListInput) ([]T, *string, *apiError) {
	size, err := in.pageSize()
	if err != nil {
		return nil, nil, err
	}
	pg, next, err := page(q, items, in.NextToken, size, orgDefaultPage, orgMaxPage)
	if err != nil {
		return nil, nil, err
	}
	if next == "" {
		return pg, nil, nil
	}
	return pg, &next, nil
}

// Handlers.

func orgDescribeOrganization(q *request, org *Organization) (any, *apiError) {
	mgmt := q.w.ManagementAccount()
	email := ""
	if mgmt != nil {
		email = mgmt.Email
	}
	return map[string]any{"Organization": orgOrganization{
		ID: org.ID, Arn: org.ARN, FeatureSet: "ALL",
		MasterAccountArn: q.w.AccountARN(q.w.ManagementAccountID), MasterAccountID: q.w.ManagementAccountID,
		MasterAccountEmail: email, AvailablePolicyTypes: orgSCPEnabled,
	}}, nil
}

func orgListRoots(q *request, org *Organization) (any, *apiError) {
	var in orgListInput
	if err := q.decodeJSON(&in); err != nil {
		return nil, err
	}
	roots := []orgRoot{{ID: org.RootID, Arn: org.RootARN(q.w.ManagementAccountID), Name: org.RootName, PolicyTypes: orgSCPEnabled}}
	pg, next, err := orgPage(q, roots, in)
	if err != nil {
		return nil, err
	}
	return struct {
		Roots     []orgRoot `json:"Roots"`
		NextToken *string   `json:"NextToken,omitempty"`
	}{pg, next}, nil
}

func orgListOUsForParent(q *request, org *Organization) (any, *apiError) {
	var in struct {
		orgListInput
		ParentID string `json:"ParentId"`
	}
	if err := q.decodeJSON(&in); err != nil {
		return nil, err
	}
	if err := orgCheckParent(q.w, in.ParentID); err != nil {
		return nil, err
	}
	ous := []orgOU{}
	for _, ou := range orgChildOUs(org, in.ParentID) {
		ous = append(ous, orgOUShape(q.w, ou))
	}
	pg, next, err := orgPage(q, ous, in.orgListInput)
	if err != nil {
		return nil, err
	}
	return struct {
		OrganizationalUnits []orgOU `json:"OrganizationalUnits"`
		NextToken           *string `json:"NextToken,omitempty"`
	}{pg, next}, nil
}

func orgListAccountsForParent(q *request, org *Organization) (any, *apiError) {
	var in struct {
		orgListInput
		ParentID string `json:"ParentId"`
	}
	if err := q.decodeJSON(&in); err != nil {
		return nil, err
	}
	if err := orgCheckParent(q.w, in.ParentID); err != nil {
		return nil, err
	}
	return orgAccountList(q, orgChildAccounts(q.w, in.ParentID), in.orgListInput)
}

func orgListAccounts(q *request, org *Organization) (any, *apiError) {
	var in orgListInput
	if err := q.decodeJSON(&in); err != nil {
		return nil, err
	}
	var accounts []*Account
	for _, id := range q.w.AccountIDs() {
		if a := q.w.Accounts[id]; a.ParentID != "" {
			accounts = append(accounts, a)
		}
	}
	return orgAccountList(q, accounts, in)
}

func orgAccountList(q *request, accounts []*Account, in orgListInput) (any, *apiError) {
	out := []orgAccount{}
	for _, a := range accounts {
		out = append(out, orgAccountShape(q.w, a))
	}
	pg, next, err := orgPage(q, out, in)
	if err != nil {
		return nil, err
	}
	return struct {
		Accounts  []orgAccount `json:"Accounts"`
		NextToken *string      `json:"NextToken,omitempty"`
	}{pg, next}, nil
}

func orgDescribeAccount(q *request, org *Organization) (any, *apiError) {
	var in struct {
		AccountID string `json:"AccountId"`
	}
	if err := q.decodeJSON(&in); err != nil {
		return nil, err
	}
	if err := orgCheckID("AccountId", in.AccountID, orgAccountIDPattern); err != nil {
		return nil, err
	}
	a := q.w.Accounts[in.AccountID]
	if a == nil || a.ParentID == "" {
		return nil, &apiError{Status: 400, Code: "AccountNotFoundException",
			Message: "You specified an account that doesn't exist."}
	}
	return map[string]any{"Account": orgAccountShape(q.w, a)}, nil
}

func orgDescribeOU(q *request, org *Organization) (any, *apiError) {
	var in struct {
		OUID string `json:"OrganizationalUnitId"`
	}
	if err := q.decodeJSON(&in); err != nil {
		return nil, err
	}
	if err := orgCheckID("OrganizationalUnitId", in.OUID, orgOUIDPattern); err != nil {
		return nil, err
	}
	ou := org.OUs[in.OUID]
	if ou == nil {
		return nil, &apiError{Status: 400, Code: "OrganizationalUnitNotFoundException",
			Message: "We can't find an OU with the OrganizationalUnitId that you specified."}
	}
	return map[string]any{"OrganizationalUnit": orgOUShape(q.w, ou)}, nil
}

func orgListParents(q *request, org *Organization) (any, *apiError) {
	var in struct {
		orgListInput
		ChildID string `json:"ChildId"`
	}
	if err := q.decodeJSON(&in); err != nil {
		return nil, err
	}
	if err := orgCheckID("ChildId", in.ChildID, orgChildIDPattern); err != nil {
		return nil, err
	}
	parentID := ""
	if ou := org.OUs[in.ChildID]; ou != nil {
		parentID = ou.ParentID
	} else if a := q.w.Accounts[in.ChildID]; a != nil {
		parentID = a.ParentID
	}
	if parentID == "" {
		return nil, &apiError{Status: 400, Code: "ChildNotFoundException",
			Message: "We can't find an organizational unit (OU) or AWS account with the ChildId that you specified."}
	}
	parents := []orgRelative{{ID: parentID, Type: "ORGANIZATIONAL_UNIT"}}
	if parentID == org.RootID {
		parents[0].Type = "ROOT"
	}
	pg, next, err := orgPage(q, parents, in.orgListInput)
	if err != nil {
		return nil, err
	}
	return struct {
		Parents   []orgRelative `json:"Parents"`
		NextToken *string       `json:"NextToken,omitempty"`
	}{pg, next}, nil
}

func orgListChildren(q *request, org *Organization) (any, *apiError) {
	var in struct {
		orgListInput
		ParentID  string `json:"ParentId"`
		ChildType string `json:"ChildType"`
	}
	if err := q.decodeJSON(&in); err != nil {
		return nil, err
	}
	if in.ChildType == "" {
		return nil, orgInvalidInput("You must provide a value for ChildType.")
	}
	if in.ChildType != "ACCOUNT" && in.ChildType != "ORGANIZATIONAL_UNIT" {
		return nil, orgInvalidInput(fmt.Sprintf("ChildType must be ACCOUNT or ORGANIZATIONAL_UNIT, got %q.", in.ChildType))
	}
	if err := orgCheckParent(q.w, in.ParentID); err != nil {
		return nil, err
	}
	children := []orgRelative{}
	if in.ChildType == "ACCOUNT" {
		for _, a := range orgChildAccounts(q.w, in.ParentID) {
			children = append(children, orgRelative{ID: a.ID, Type: "ACCOUNT"})
		}
	} else {
		for _, ou := range orgChildOUs(org, in.ParentID) {
			children = append(children, orgRelative{ID: ou.ID, Type: "ORGANIZATIONAL_UNIT"})
		}
	}
	pg, next, err := orgPage(q, children, in.orgListInput)
	if err != nil {
		return nil, err
	}
	return struct {
		Children  []orgRelative `json:"Children"`
		NextToken *string       `json:"NextToken,omitempty"`
	}{pg, next}, nil
}

// orgListDelegatedAdministrators lists every delegated administrator; the simulator does
// not record for which service an account was delegated, so ServicePrincipal does not
// filter, and the delegation date is unknown.
func orgListDelegatedAdministrators(q *request, org *Organization) (any, *apiError) {
	var in struct {
		orgListInput
		ServicePrincipal string `json:"ServicePrincipal"`
	}
	if err := q.decodeJSON(&in); err != nil {
		return nil, err
	}
	admins := []orgDelegatedAdmin{}
	for _, id := range sortedKeys(org.DelegatedAdmins) {
		if a := q.w.Accounts[id]; a != nil && org.DelegatedAdmins[id] {
			shape := orgAccountShape(q.w, a)
			shape.Paths = nil // DelegatedAdministrator has no Paths
			admins = append(admins, orgDelegatedAdmin{orgAccount: shape})
		}
	}
	pg, next, err := orgPage(q, admins, in.orgListInput)
	if err != nil {
		return nil, err
	}
	return struct {
		DelegatedAdministrators []orgDelegatedAdmin `json:"DelegatedAdministrators"`
		NextToken               *string             `json:"NextToken,omitempty"`
	}{pg, next}, nil
}

// orgListTagsForResource checks that the resource exists; the simulator keeps no
// Organizations tags, so the list is always empty.
func orgListTagsForResource(q *request, org *Organization) (any, *apiError) {
	var in struct {
		ResourceID string `json:"ResourceId"`
		NextToken  string `json:"NextToken"`
	}
	if err := q.decodeJSON(&in); err != nil {
		return nil, err
	}
	if err := orgCheckID("ResourceId", in.ResourceID, orgTaggableIDPattern); err != nil {
		return nil, err
	}
	a := q.w.Accounts[in.ResourceID]
	if in.ResourceID != org.RootID && org.OUs[in.ResourceID] == nil && (a == nil || a.ParentID == "") {
		return nil, &apiError{Status: 400, Code: "TargetNotFoundException",
			Message: "We can't find a root, OU, account, or policy with the TargetId that you specified."}
	}
	return map[string]any{"Tags": []Tag{}}, nil
}

// Tree helpers.

var (
	orgAccountIDPattern  = regexp.MustCompile(`^\d{12}$`)
	orgOUIDPattern       = regexp.MustCompile(`^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$`)
	orgParentIDPattern   = regexp.MustCompile(`^(r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$`)
	orgChildIDPattern    = regexp.MustCompile(`^(\d{12}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$`)
	orgTaggableIDPattern = regexp.MustCompile(`^(\d{12}|r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|p-[0-9a-zA-Z_]{8,128})$`)
)

func orgInvalidInput(msg string) *apiError {
	return &apiError{Status: 400, Code: "InvalidInputException", Message: msg}
}

// orgCheckID reports a missing or malformed id the way the API does.
func orgCheckID(field, id string, pattern *regexp.Regexp) *apiError {
	if id == "" {
		return orgInvalidInput("You must provide a value for " + field + ".")
	}
	if !pattern.MatchString(id) {
		return orgInvalidInput(fmt.Sprintf("You provided a value that does not match the required pattern for %s: %q.", field, id))
	}
	return nil
}

// orgCheckParent validates a ParentId: a root or OU of the organization.
func orgCheckParent(w *World, id string) *apiError {
	if err := orgCheckID("ParentId", id, orgParentIDPattern); err != nil {
		return err
	}
	if id != w.Org.RootID && w.Org.OUs[id] == nil {
		return &apiError{Status: 400, Code: "ParentNotFoundException",
			Message: "We can't find a root or OU with the ParentId that you specified."}
	}
	return nil
}

// orgChildOUs returns the OUs directly under the parent, by name (then id) so that
// listings are stable and readable.
func orgChildOUs(org *Organization, parentID string) []*OU {
	var out []*OU
	for _, ou := range org.OUs {
		if ou.ParentID == parentID {
			out = append(out, ou)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// orgChildAccounts returns the accounts directly under the parent, by id.
func orgChildAccounts(w *World, parentID string) []*Account {
	var out []*Account
	for _, id := range w.AccountIDs() {
		if a := w.Accounts[id]; a.ParentID == parentID {
			out = append(out, a)
		}
	}
	return out
}

// orgPath is the entity path of a root or OU: o-ID/r-ID/ou-.../ (each level ends in "/").
func orgPath(w *World, id string) string {
	var chain []string
	for i := 0; id != "" && i < 64; i++ { // the bound guards against a cycle in a hand-built world
		chain = append(chain, id)
		if id == w.Org.RootID {
			break
		}
		ou := w.Org.OUs[id]
		if ou == nil {
			break
		}
		id = ou.ParentID
	}
	var b strings.Builder
	b.WriteString(w.Org.ID + "/")
	for i := len(chain) - 1; i >= 0; i-- {
		b.WriteString(chain[i] + "/")
	}
	return b.String()
}

func orgOUShape(w *World, ou *OU) orgOU {
	return orgOU{ID: ou.ID, Arn: ou.ARN, Name: ou.Name, Path: orgPath(w, ou.ID)}
}

func orgAccountShape(w *World, a *Account) orgAccount {
	state := a.Status
	if state == "" {
		state = "ACTIVE"
	}
	// Status (being retired) has fewer values than State.
	status := state
	switch state {
	case "CLOSED":
		status = "SUSPENDED"
	case "PENDING_ACTIVATION":
		status = "ACTIVE"
	}
	method := a.JoinedMethod
	if method == "" {
		method = "CREATED"
	}
	return orgAccount{
		ID: a.ID, Arn: w.AccountARN(a.ID), Email: a.Email, Name: a.Name,
		Status: status, State: state, JoinedMethod: method, JoinedTimestamp: epoch(a.JoinedAt),
		Paths: []string{orgPath(w, a.ParentID) + a.ID + "/"},
	}
}
