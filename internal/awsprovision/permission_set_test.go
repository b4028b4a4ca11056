package awsprovision

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/awssim"
)

// TestPermissionSetIDResolvesToListedARN grants and revokes by permission set id (the
// slug of account entitlements) where the permission set's ARN is not what the instance
// ARN and a pattern would rebuild: its instance part differs. The id must resolve to the
// ARN Identity Center lists; a rebuilt ARN names no permission set.
func TestPermissionSetIDResolvesToListedARN(t *testing.T) {
	w := serve(t, awssim.Options{AssignmentDelay: 20 * time.Millisecond})
	id := w.ps["Developer"]
	var listed, rebuilt string
	w.sim.Do(func(sw *awssim.World) {
		rebuilt = strings.Replace(sw.SSO.ARN, ":instance/", ":permissionSet/", 1) + "/" + id
		listed = "arn:aws:sso:::permissionSet/ssoins-0f0f0f0f0f0f0f0f/" + id
		if rebuilt == listed {
			t.Fatal("the test ARN is what the pattern rebuilds")
		}
		for _, ps := range sw.SSO.PermissionSets {
			if ps.ARN == rebuilt {
				ps.ARN = listed
			}
		}
		for _, byARN := range sw.SSO.Provisioned {
			if byARN[rebuilt] {
				delete(byARN, rebuilt)
				byARN[listed] = true
			}
		}
	})
	p := w.provisioner(t, Options{})
	ctx := context.Background()
	a := AccountAssignment{AccountID: "333333333333", PermissionSet: id, PrincipalType: PrincipalUser, PrincipalID: w.users["bob"]}
	res, err := p.Grant(ctx, a)
	if err != nil {
		t.Fatalf("grant by id: %v", err)
	}
	if res.Outcome != Created || !strings.HasPrefix(res.Description, "Developer on account ") {
		t.Errorf("grant: %q %q, want created, Developer", res.Outcome, res.Description)
	}
	held := func() bool {
		found := false
		w.sim.Do(func(sw *awssim.World) {
			for _, as := range sw.SSO.Assignments {
				if as.PermissionSetARN == listed && as.AccountID == "333333333333" && as.PrincipalID == w.users["bob"] {
					found = true
				}
			}
		})
		return found
	}
	if !held() {
		t.Fatalf("no assignment of %s after the grant", listed)
	}
	if res, err := p.Revoke(ctx, a); err != nil || res.Outcome != Removed {
		t.Fatalf("revoke by id: %v %v, want removed", res, err)
	}
	if held() {
		t.Errorf("the assignment of %s is still there after the revoke", listed)
	}

	// An id the instance does not list: the grant names it; a revoke of it is done.
	unknown := AccountAssignment{AccountID: "333333333333", PermissionSet: "ps-ffffffffffffffff", PrincipalType: PrincipalUser, PrincipalID: w.users["bob"]}
	_, err = p.Grant(ctx, unknown)
	if KindOf(err) != KindUnknownTarget || !strings.Contains(err.Error(), "no permission set ps-ffffffffffffffff in the Identity Center instance") {
		t.Errorf("grant of an unknown id: %v, want KindUnknownTarget naming it", err)
	}
	if res, err := p.Revoke(ctx, unknown); err != nil || res.Outcome != AlreadyAbsent {
		t.Errorf("revoke of an unknown id: %v %v, want already absent", res, err)
	}
}
