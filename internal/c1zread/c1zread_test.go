package c1zread_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/c1zread"
	"github.com/gatehouse/gatehouse/internal/connector"
	"github.com/gatehouse/gatehouse/internal/inventory"
)

func TestOpenRejectsWhatIsNotAC1Z(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.c1z")
	garbage := filepath.Join(dir, "garbage.c1z")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(garbage, []byte("not a c1z at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		filepath.Join(dir, "missing.c1z"): "no such file",
		empty:                             "empty",
		garbage:                           "not a .c1z file",
		dir:                               "directory",
	} {
		_, err := c1zread.Open(ctx, path)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Open(%s) = %v, want an error saying %q", filepath.Base(path), err, want)
		}
	}
	// An empty file must stay empty: baton would otherwise create a store in it.
	if st, err := os.Stat(empty); err != nil || st.Size() != 0 {
		t.Errorf("empty file changed: %v %v", st, err)
	}
}

func TestReadFiltersByResourceType(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "x.c1z")
	snap := &inventory.Snapshot{Accounts: []*inventory.Account{{
		ID: "111111111111", Name: "solo", Synced: true,
		IAM: &inventory.IAM{
			Users:  []*inventory.User{{ARN: "arn:aws:iam::111111111111:user/a", Name: "a", Groups: []string{"g"}}},
			Groups: []*inventory.Group{{ARN: "arn:aws:iam::111111111111:group/g", Name: "g"}},
		},
	}}}
	if _, err := connector.WriteC1Z(ctx, connector.NewFromSnapshot(snap), path); err != nil {
		t.Fatal(err)
	}
	all, err := c1zread.Read(ctx, path, "")
	if err != nil {
		t.Fatal(err)
	}
	groups, err := c1zread.Read(ctx, path, connector.TypeIAMGroup)
	if err != nil {
		t.Fatal(err)
	}
	if len(all.Resources) != 3 || len(groups.Resources) != 1 || groups.Resources[0].GetDisplayName() != "g" {
		t.Errorf("resources: all %d, groups %v", len(all.Resources), groups.Resources)
	}
	if len(groups.Entitlements) != 1 || len(groups.Grants) != 1 || groups.Grants[0].GetPrincipal().GetId().GetResource() != "arn:aws:iam::111111111111:user/a" {
		t.Errorf("group entitlements %v grants %v", groups.Entitlements, groups.Grants)
	}
	users, err := c1zread.Read(ctx, path, connector.TypeIAMUser)
	if err != nil {
		t.Fatal(err)
	}
	if len(users.Resources) != 1 || len(users.Entitlements) != 0 || len(users.Grants) != 0 {
		t.Errorf("users: %d resources, %d entitlements, %d grants", len(users.Resources), len(users.Entitlements), len(users.Grants))
	}
	if len(all.ResourceTypes) != 5 {
		t.Errorf("resource types = %v", all.ResourceTypes)
	}
}
