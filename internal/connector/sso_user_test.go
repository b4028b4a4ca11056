package connector

import (
	"reflect"
	"testing"

	"github.com/gatehouse/gatehouse/internal/inventory"
)

// An Identity Center user's profile carries its manager as AWS gives it (manager_id, the
// manager's user id) and, when the manager is a user of the same store, the manager's
// email and name, found among the users the sync read; then title and the enterprise
// attributes. A manager who is not among the users (left, or another store) keeps only
// the id; a user without a manager has none of the keys.
func TestSSOUserProfileCarriesManager(t *testing.T) {
	snap := orgSnapshot()
	ic := snap.IdentityCenter
	bob := ic.Users[0] // u-2
	bob.ManagerID, bob.Title, bob.Department, bob.Division = "u-1", "Engineer", "Engineering", "Product"
	bob.Organization, bob.CostCenter, bob.EmployeeNumber = "Example Corp", "CC-7", "E042"
	ic.Users = append(ic.Users, &inventory.SSOUser{ID: "u-3", UserName: "carol@example.com", DisplayName: "Carol", Email: "carol@example.com",
		ManagerID: "u-gone", Department: "Security"})
	s := syncToFile(t, NewFromSnapshot(snap))

	pick := func(id string) map[string]any {
		p := s.profile(t, "sso_user", id)
		out := map[string]any{}
		for _, k := range []string{"manager_id", "manager_email", "manager_name", "title", "department", "division", "organization", "cost_center", "employee_number"} {
			if v, ok := p[k]; ok {
				out[k] = v
			}
		}
		return out
	}
	for id, want := range map[string]map[string]any{
		"u-2": {"manager_id": "u-1", "manager_email": "alice@example.com", "manager_name": "Alice", "title": "Engineer",
			"department": "Engineering", "division": "Product", "organization": "Example Corp", "cost_center": "CC-7", "employee_number": "E042"},
		"u-3": {"manager_id": "u-gone", "department": "Security"},
		"u-1": {},
	} {
		if got := pick(id); !reflect.DeepEqual(got, want) {
			t.Errorf("%s profile = %v, want %v", id, got, want)
		}
	}
}
