package awsfetch

import (
	"testing"

	"github.com/gatehouse/gatehouse/internal/inventory"
)

func TestOrderUnits(t *testing.T) {
	units := []*inventory.OrgUnit{
		{ID: "ou-b", Name: "Workloads", ParentID: "r-1"},
		{ID: "ou-d", Name: "Prod", ParentID: "ou-b"},
		{ID: "r-1", Name: "Root", IsRoot: true},
		{ID: "ou-c", Name: "NonProd", ParentID: "ou-b"},
		{ID: "ou-a", Name: "Security", ParentID: "r-1"},
	}
	got := orderUnits(units)
	want := []string{"r-1 Root", "ou-a Root/Security", "ou-b Root/Workloads", "ou-c Root/Workloads/NonProd", "ou-d Root/Workloads/Prod"}
	assertEqual(t, "units", want, names(got, func(u *inventory.OrgUnit) string { return u.ID + " " + u.Path }))
}

func TestPaginateStopsOnRepeatedToken(t *testing.T) {
	tok := "same"
	calls := 0
	err := paginate("ListThings", func(*string) (*string, error) { calls++; return &tok, nil })
	if err == nil || calls != 2 {
		t.Errorf("err = %v after %d calls, want an error after 2", err, calls)
	}
}
