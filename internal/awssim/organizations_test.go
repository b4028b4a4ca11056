package awssim

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// orgFixture is a small organization:
//
//	Root
//	├── Engineering
//	│   ├── Prod        333333333333 prod
//	│   └── 222222222222 dev
//	├── Security        444444444444 audit
//	├── 111111111111 management
//	└── 555555555555 old (SUSPENDED)
type orgFixture struct {
	w                         *World
	root, eng, prod, security string
}

func newOrgFixture(t *testing.T) orgFixture {
	t.Helper()
	w := testWorld(t)
	joined := time.Date(2021, 3, 4, 5, 6, 7, 0, time.UTC)
	w.EnableOrganization()
	f := orgFixture{w: w, root: w.Org.RootID}
	// Created out of name order, to show that listings sort by name.
	f.security = w.AddOU("Security", f.root).ID
	f.eng = w.AddOU("Engineering", f.root).ID
	f.prod = w.AddOU("Prod", f.eng).ID
	w.AddAccount("333333333333", "prod", "prod@example.com", f.prod)
	w.AddAccount("222222222222", "dev", "dev@example.com", f.eng).JoinedAt = joined
	audit := w.AddAccount("444444444444", "audit", "audit@example.com", f.security)
	audit.JoinedMethod = "INVITED"
	old := w.AddAccount("555555555555", "old", "old@example.com", "")
	old.Status = "SUSPENDED"
	return f
}

func orgAccountIDs(accounts []types.Account) []string {
	var ids []string
	for _, a := range accounts {
		ids = append(ids, aws.ToString(a.Id))
	}
	return ids
}

func TestOrganizationsDescribe(t *testing.T) {
	f := newOrgFixture(t)
	s, _ := startSim(t, f.w, Options{})
	c := organizations.NewFromConfig(adminConfig(t, s, "111111111111"))

	org, err := c.DescribeOrganization(ctx(t), &organizations.DescribeOrganizationInput{})
	if err != nil {
		t.Fatal(err)
	}
	o := org.Organization
	if aws.ToString(o.Id) != f.w.Org.ID || aws.ToString(o.Arn) != f.w.Org.ARN || aws.ToString(o.MasterAccountId) != "111111111111" ||
		aws.ToString(o.MasterAccountEmail) != "aws-management@example.com" || o.FeatureSet != types.OrganizationFeatureSetAll ||
		aws.ToString(o.MasterAccountArn) != "arn:aws:organizations::111111111111:account/"+f.w.Org.ID+"/111111111111" {
		t.Errorf("DescribeOrganization = %+v", o)
	}

	roots, err := c.ListRoots(ctx(t), &organizations.ListRootsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(roots.Roots) != 1 || aws.ToString(roots.Roots[0].Id) != f.root || aws.ToString(roots.Roots[0].Name) != "Root" ||
		aws.ToString(roots.Roots[0].Arn) != "arn:aws:organizations::111111111111:root/"+f.w.Org.ID+"/"+f.root {
		t.Errorf("ListRoots = %+v", roots.Roots)
	}

	acct, err := c.DescribeAccount(ctx(t), &organizations.DescribeAccountInput{AccountId: aws.String("222222222222")})
	if err != nil {
		t.Fatal(err)
	}
	a := acct.Account
	want := types.Account{
		Id: aws.String("222222222222"), Name: aws.String("dev"), Email: aws.String("dev@example.com"),
		Arn:    aws.String("arn:aws:organizations::111111111111:account/" + f.w.Org.ID + "/222222222222"),
		Status: types.AccountStatusActive, State: types.AccountStateActive, JoinedMethod: types.AccountJoinedMethodCreated,
		JoinedTimestamp: aws.Time(time.Date(2021, 3, 4, 5, 6, 7, 0, time.UTC)),
		Paths:           []string{f.w.Org.ID + "/" + f.root + "/" + f.eng + "/222222222222/"},
	}
	if a.JoinedTimestamp == nil || !a.JoinedTimestamp.Equal(*want.JoinedTimestamp) {
		t.Errorf("JoinedTimestamp = %v, want %v", a.JoinedTimestamp, want.JoinedTimestamp)
	}
	a.JoinedTimestamp = want.JoinedTimestamp
	if !reflect.DeepEqual(*a, want) {
		t.Errorf("DescribeAccount =\n %+v\nwant\n %+v", *a, want)
	}

	suspended, err := c.DescribeAccount(ctx(t), &organizations.DescribeAccountInput{AccountId: aws.String("555555555555")})
	if err != nil {
		t.Fatal(err)
	}
	if suspended.Account.Status != types.AccountStatusSuspended || suspended.Account.State != types.AccountStateSuspended {
		t.Errorf("suspended account: Status %s State %s", suspended.Account.Status, suspended.Account.State)
	}

	ou, err := c.DescribeOrganizationalUnit(ctx(t), &organizations.DescribeOrganizationalUnitInput{OrganizationalUnitId: aws.String(f.prod)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(ou.OrganizationalUnit.Name) != "Prod" || aws.ToString(ou.OrganizationalUnit.Id) != f.prod ||
		aws.ToString(ou.OrganizationalUnit.Arn) != "arn:aws:organizations::111111111111:ou/"+f.w.Org.ID+"/"+f.prod ||
		aws.ToString(ou.OrganizationalUnit.Path) != f.w.Org.ID+"/"+f.root+"/"+f.eng+"/"+f.prod+"/" {
		t.Errorf("DescribeOrganizationalUnit = %+v", ou.OrganizationalUnit)
	}

	tags, err := c.ListTagsForResource(ctx(t), &organizations.ListTagsForResourceInput{ResourceId: aws.String("333333333333")})
	if err != nil || len(tags.Tags) != 0 {
		t.Errorf("ListTagsForResource = %v, %v; want no tags", tags, err)
	}
}

// orgTree walks the organization from the root the way a sync does (OUs and accounts of
// each parent) and renders it one line per node.
func orgTree(t *testing.T, c *organizations.Client, parentID, indent string) []string {
	t.Helper()
	var lines []string
	ous := organizations.NewListOrganizationalUnitsForParentPaginator(c, &organizations.ListOrganizationalUnitsForParentInput{ParentId: aws.String(parentID)})
	for ous.HasMorePages() {
		pg, err := ous.NextPage(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		for _, ou := range pg.OrganizationalUnits {
			lines = append(lines, indent+aws.ToString(ou.Name)+"/")
			lines = append(lines, orgTree(t, c, aws.ToString(ou.Id), indent+"  ")...)
		}
	}
	accts := organizations.NewListAccountsForParentPaginator(c, &organizations.ListAccountsForParentInput{ParentId: aws.String(parentID)})
	for accts.HasMorePages() {
		pg, err := accts.NextPage(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range pg.Accounts {
			lines = append(lines, fmt.Sprintf("%s%s %s %s", indent, aws.ToString(a.Id), aws.ToString(a.Name), a.State))
		}
	}
	return lines
}

func TestOrganizationsTreeAndPagination(t *testing.T) {
	wantTree := []string{
		"Engineering/",
		"  Prod/",
		"    333333333333 prod ACTIVE",
		"  222222222222 dev ACTIVE",
		"Security/",
		"  444444444444 audit ACTIVE",
		"111111111111 management ACTIVE",
		"555555555555 old SUSPENDED",
	}
	wantIDs := []string{"111111111111", "222222222222", "333333333333", "444444444444", "555555555555"}
	for _, pageSize := range []int{0, 1, 2} {
		t.Run(fmt.Sprintf("PageSize=%d", pageSize), func(t *testing.T) {
			f := newOrgFixture(t)
			s, _ := startSim(t, f.w, Options{PageSize: pageSize})
			c := organizations.NewFromConfig(adminConfig(t, s, "111111111111"))

			if got := orgTree(t, c, f.root, ""); !reflect.DeepEqual(got, wantTree) {
				t.Errorf("tree =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantTree, "\n"))
			}

			var ids []string
			p := organizations.NewListAccountsPaginator(c, &organizations.ListAccountsInput{})
			for p.HasMorePages() {
				pg, err := p.NextPage(ctx(t))
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, orgAccountIDs(pg.Accounts)...)
			}
			if !reflect.DeepEqual(ids, wantIDs) {
				t.Errorf("ListAccounts = %v, want %v", ids, wantIDs)
			}
			wantCalls := int64(1)
			if pageSize > 0 {
				wantCalls = int64((len(wantIDs) + pageSize - 1) / pageSize)
			}
			if got := s.Counters().Calls("organizations", "ListAccounts"); got != wantCalls {
				t.Errorf("ListAccounts calls = %d, want %d", got, wantCalls)
			}

			var children []string
			for _, childType := range []types.ChildType{types.ChildTypeOrganizationalUnit, types.ChildTypeAccount} {
				cp := organizations.NewListChildrenPaginator(c, &organizations.ListChildrenInput{ParentId: aws.String(f.eng), ChildType: childType})
				for cp.HasMorePages() {
					pg, err := cp.NextPage(ctx(t))
					if err != nil {
						t.Fatal(err)
					}
					for _, ch := range pg.Children {
						children = append(children, string(ch.Type)+" "+aws.ToString(ch.Id))
					}
				}
			}
			if want := []string{"ORGANIZATIONAL_UNIT " + f.prod, "ACCOUNT 222222222222"}; !reflect.DeepEqual(children, want) {
				t.Errorf("ListChildren(Engineering) = %v, want %v", children, want)
			}
		})
	}
}

func TestOrganizationsParents(t *testing.T) {
	f := newOrgFixture(t)
	s, _ := startSim(t, f.w, Options{})
	c := organizations.NewFromConfig(adminConfig(t, s, "111111111111"))
	for child, want := range map[string]string{
		"333333333333": "ORGANIZATIONAL_UNIT " + f.prod,
		f.prod:         "ORGANIZATIONAL_UNIT " + f.eng,
		f.eng:          "ROOT " + f.root,
		"111111111111": "ROOT " + f.root,
	} {
		out, err := c.ListParents(ctx(t), &organizations.ListParentsInput{ChildId: aws.String(child)})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Parents) != 1 || string(out.Parents[0].Type)+" "+aws.ToString(out.Parents[0].Id) != want {
			t.Errorf("ListParents(%s) = %+v, want %s", child, out.Parents, want)
		}
	}
}

func TestOrganizationsErrors(t *testing.T) {
	f := newOrgFixture(t)
	s, _ := startSim(t, f.w, Options{})
	c := organizations.NewFromConfig(adminConfig(t, s, "111111111111"))
	missingOU := "ou-" + f.root[2:] + "-zzzzzzzz"
	cases := []struct {
		name string
		call func() error
		want string
	}{
		{"DescribeAccount unknown", func() error {
			_, err := c.DescribeAccount(ctx(t), &organizations.DescribeAccountInput{AccountId: aws.String("999999999999")})
			return err
		}, "AccountNotFoundException"},
		{"DescribeAccount malformed", func() error {
			_, err := c.DescribeAccount(ctx(t), &organizations.DescribeAccountInput{AccountId: aws.String("12345")})
			return err
		}, "InvalidInputException"},
		{"DescribeOrganizationalUnit unknown", func() error {
			_, err := c.DescribeOrganizationalUnit(ctx(t), &organizations.DescribeOrganizationalUnitInput{OrganizationalUnitId: aws.String(missingOU)})
			return err
		}, "OrganizationalUnitNotFoundException"},
		{"ListAccountsForParent unknown", func() error {
			_, err := c.ListAccountsForParent(ctx(t), &organizations.ListAccountsForParentInput{ParentId: aws.String(missingOU)})
			return err
		}, "ParentNotFoundException"},
		{"ListOrganizationalUnitsForParent malformed", func() error {
			_, err := c.ListOrganizationalUnitsForParent(ctx(t), &organizations.ListOrganizationalUnitsForParentInput{ParentId: aws.String("engineering")})
			return err
		}, "InvalidInputException"},
		{"ListParents unknown", func() error {
			_, err := c.ListParents(ctx(t), &organizations.ListParentsInput{ChildId: aws.String("999999999999")})
			return err
		}, "ChildNotFoundException"},
		{"ListChildren bad type", func() error {
			_, err := c.ListChildren(ctx(t), &organizations.ListChildrenInput{ParentId: aws.String(f.root), ChildType: "POLICY"})
			return err
		}, "InvalidInputException"},
		{"ListAccounts MaxResults 21", func() error {
			_, err := c.ListAccounts(ctx(t), &organizations.ListAccountsInput{MaxResults: aws.Int32(21)})
			return err
		}, "InvalidInputException"},
		{"ListAccounts bad token", func() error {
			_, err := c.ListAccounts(ctx(t), &organizations.ListAccountsInput{NextToken: aws.String("bogus")})
			return err
		}, "InvalidInputException"},
		{"ListTagsForResource unknown", func() error {
			_, err := c.ListTagsForResource(ctx(t), &organizations.ListTagsForResourceInput{ResourceId: aws.String(missingOU)})
			return err
		}, "TargetNotFoundException"},
	}
	for _, tc := range cases {
		if got := apiCode(tc.call()); got != tc.want {
			t.Errorf("%s: error code %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestOrganizationsMemberAccountsAndDelegatedAdmins(t *testing.T) {
	f := newOrgFixture(t)
	f.w.Org.DelegatedAdmins["444444444444"] = true
	s, _ := startSim(t, f.w, Options{})

	member := organizations.NewFromConfig(adminConfig(t, s, "222222222222"))
	_, err := member.ListAccounts(ctx(t), &organizations.ListAccountsInput{})
	if apiCode(err) != "AccessDeniedException" || !strings.Contains(err.Error(), "You don't have permissions to access this resource.") {
		t.Errorf("member ListAccounts: err = %v, want AccessDeniedException", err)
	}
	// Any member account may describe its organization.
	if org, err := member.DescribeOrganization(ctx(t), &organizations.DescribeOrganizationInput{}); err != nil || aws.ToString(org.Organization.Id) != f.w.Org.ID {
		t.Errorf("member DescribeOrganization = %v, %v", org, err)
	}

	delegated := organizations.NewFromConfig(adminConfig(t, s, "444444444444"))
	out, err := delegated.ListAccountsForParent(ctx(t), &organizations.ListAccountsForParentInput{ParentId: aws.String(f.eng)})
	if err != nil {
		t.Fatal(err)
	}
	if got := orgAccountIDs(out.Accounts); !reflect.DeepEqual(got, []string{"222222222222"}) {
		t.Errorf("delegated admin ListAccountsForParent = %v", got)
	}
	admins, err := delegated.ListDelegatedAdministrators(ctx(t), &organizations.ListDelegatedAdministratorsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(admins.DelegatedAdministrators) != 1 || aws.ToString(admins.DelegatedAdministrators[0].Id) != "444444444444" ||
		admins.DelegatedAdministrators[0].JoinedMethod != types.AccountJoinedMethodInvited {
		t.Errorf("ListDelegatedAdministrators = %+v", admins.DelegatedAdministrators)
	}
}

func TestOrganizationsNotInUse(t *testing.T) {
	s, _ := startSim(t, testWorld(t), Options{})
	c := organizations.NewFromConfig(adminConfig(t, s, "111111111111"))
	_, err := c.ListAccounts(ctx(t), &organizations.ListAccountsInput{})
	if apiCode(err) != "AWSOrganizationsNotInUseException" {
		t.Errorf("ListAccounts without an organization: err = %v, want AWSOrganizationsNotInUseException", err)
	}
	_, err = c.DescribeOrganization(ctx(t), &organizations.DescribeOrganizationInput{})
	if apiCode(err) != "AWSOrganizationsNotInUseException" {
		t.Errorf("DescribeOrganization without an organization: err = %v, want AWSOrganizationsNotInUseException", err)
	}
}

// TestOrganizationsThroughConnectorRole reads the organization the way Gatehouse does:
// the operator assumes the connector role, whose read-only policy allows
// organizations:List* and Describe*.
func TestOrganizationsThroughConnectorRole(t *testing.T) {
	f := newOrgFixture(t)
	_, cfg := startSim(t, f.w, Options{})
	// The operator itself has no Organizations permission.
	if _, err := organizations.NewFromConfig(cfg).ListRoots(ctx(t), &organizations.ListRootsInput{}); apiCode(err) != "AccessDeniedException" {
		t.Errorf("operator ListRoots: err = %v, want AccessDeniedException", err)
	}
	assumed := cfg.Copy()
	assumed.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), f.w.Connector.RoleARN, func(o *stscreds.AssumeRoleOptions) {
		o.ExternalID = aws.String("ext-123")
	}))
	out, err := organizations.NewFromConfig(assumed).ListAccounts(ctx(t), &organizations.ListAccountsInput{})
	if err != nil {
		t.Fatal(err)
	}
	ids := orgAccountIDs(out.Accounts)
	if !sort.StringsAreSorted(ids) || len(ids) != 5 {
		t.Errorf("ListAccounts through the connector role = %v", ids)
	}
}
