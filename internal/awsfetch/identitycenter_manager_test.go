package awsfetch

import (
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/identitystore/document"

	"github.com/gatehouse/gatehouse/internal/awssim"
	"github.com/gatehouse/gatehouse/internal/inventory"
)

// withStaff adds n Identity Center users to the org fixture's world, in teams of ten:
// each team's first member leads it and reports to alice; the others report to their
// lead, with a department, employee number and title. It returns the simulator's
// enterprise attributes and title by user name.
func withStaff(t *testing.T, n int) (*awssim.World, map[string]inventory.SSOUser) {
	t.Helper()
	w := fixture(t, orgFixture)
	var alice *awssim.SSOUser
	for _, u := range w.SSO.Users {
		if u.UserName == "alice" {
			alice = u
		}
	}
	want := map[string]inventory.SSOUser{}
	var lead *awssim.SSOUser
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("staff%03d", i)
		u := w.AddSSOUser(name, "Staff", fmt.Sprint(i), name+"@example.com")
		u.Title = "Engineer"
		u.Enterprise = awssim.Enterprise{Department: fmt.Sprintf("Team %d", i/10), EmployeeNumber: fmt.Sprintf("E%04d", i),
			CostCenter: "CC-1", Organization: "Example Corp", Division: "Product"}
		if i%10 == 0 {
			lead = u
			u.Enterprise.ManagerID = alice.ID
		} else {
			u.Enterprise.ManagerID = lead.ID
		}
		e := u.Enterprise
		want[name] = inventory.SSOUser{Title: u.Title, ManagerID: e.ManagerID, EmployeeNumber: e.EmployeeNumber, CostCenter: e.CostCenter,
			Organization: e.Organization, Division: e.Division, Department: e.Department}
	}
	return w, want
}

// enterpriseOf is the part of a fetched user that the enterprise extension and title fill.
func enterpriseOf(u *inventory.SSOUser) inventory.SSOUser {
	return inventory.SSOUser{Title: u.Title, ManagerID: u.ManagerID, EmployeeNumber: u.EmployeeNumber, CostCenter: u.CostCenter,
		Organization: u.Organization, Division: u.Division, Department: u.Department}
}

// The sync reads each Identity Center user's manager (and department, employee number,
// cost center, organization, division, title) from the ListUsers pages themselves, by
// asking for the enterprise extension: one call per page of 100 users, no DescribeUser,
// and exactly as many calls as the same sync of a store without managers.
func TestFetchReadsManagersInListUsersPages(t *testing.T) {
	w, want := withStaff(t, 250) // 254 users with the fixture's four: 3 pages
	env := startSim(t, w, awssim.Options{})
	snap, stats := fetch(t, env.cfg)

	got := map[string]inventory.SSOUser{}
	for _, u := range snap.IdentityCenter.Users {
		if e := enterpriseOf(u); e != (inventory.SSOUser{}) {
			got[u.UserName] = e
		}
	}
	assertEqual(t, "enterprise attributes of the fetched users", want, got)

	calls := operationCalls(stats)
	if calls["ListUsers"] != 3 || calls["DescribeUser"] != 0 {
		t.Errorf("ListUsers %d calls, DescribeUser %d; want 3 (254 users, 100 a page) and 0", calls["ListUsers"], calls["DescribeUser"])
	}
	if n := env.sim.Counters().Calls("identitystore", "ListUsers"); n != 3 {
		t.Errorf("the simulator answered %d ListUsers, want 3", n)
	}

	// The same organization without any enterprise attribute: the same calls, one for one.
	plain, _ := withStaff(t, 250)
	for _, u := range plain.SSO.Users {
		u.Enterprise, u.Title = awssim.Enterprise{}, ""
	}
	plainEnv := startSim(t, plain, awssim.Options{})
	_, plainStats := fetch(t, plainEnv.cfg)
	assertEqual(t, "calls per operation with managers vs without", operationCalls(plainStats), calls)
	if stats.Calls != plainStats.Calls {
		t.Errorf("%d calls with managers, %d without", stats.Calls, plainStats.Calls)
	}
	t.Logf("sync of 254 Identity Center users: %d API calls with managers (ListUsers %d, DescribeUser %d), %d without",
		stats.Calls, calls["ListUsers"], calls["DescribeUser"], plainStats.Calls)
}

// The extension's document is read by attribute name regardless of case, a manager given
// as a bare id is taken as it is, and numbers are kept as text; a user without the
// extension has none of these attributes.
func TestReadEnterprise(t *testing.T) {
	for _, tc := range []struct {
		doc  any
		want inventory.SSOUser
	}{
		{map[string]any{"manager": map[string]any{"value": "m-1"}, "department": "Eng", "employeeNumber": "7", "costCenter": "CC",
			"organization": "Org", "division": "Div"},
			inventory.SSOUser{ManagerID: "m-1", Department: "Eng", EmployeeNumber: "7", CostCenter: "CC", Organization: "Org", Division: "Div"}},
		{map[string]any{"Manager": map[string]any{"Value": "m-2"}, "Department": "Ops", "EmployeeNumber": 42},
			inventory.SSOUser{ManagerID: "m-2", Department: "Ops", EmployeeNumber: "42"}},
		{map[string]any{"manager": "m-3", "department": nil}, inventory.SSOUser{ManagerID: "m-3"}},
		{nil, inventory.SSOUser{}},
	} {
		var doc document.Interface
		if tc.doc != nil {
			doc = document.NewLazyDocument(tc.doc)
		}
		su := &inventory.SSOUser{}
		if err := readEnterprise(su, doc); err != nil {
			t.Fatalf("%v: %v", tc.doc, err)
		}
		if *su != tc.want {
			t.Errorf("%v: read %+v, want %+v", tc.doc, *su, tc.want)
		}
	}
}
