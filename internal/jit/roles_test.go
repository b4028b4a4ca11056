package jit

import (
	"reflect"
	"strings"
	"testing"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// The approver role comes from the policies in force: named people, members of a named group,
// admins where a policy says admins, and anyone a request waits for (an owner here).
func TestApproverRole(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, testDoc)
		check := func(c *auth.Caller, want []string) {
			t.Helper()
			got, err := e.svc.Roles(ctx, c)
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("roles of %s = %v, %v; want %v", c.Email, got, err, want)
			}
		}
		approver := []string{RoleApprover}
		check(bob, approver)   // group Approvers, and named in two-step
		check(carol, approver) // group Approvers
		check(dave, approver)  // named in two-step; group Security (a fallback)
		check(erin, nil)
		check(frank, nil)
		check(admin, nil) // no policy says admins
		check(nil, nil)

		// Owners approve: erin owns prod, so alice's request there waits for her.
		owners := strings.Replace(testDoc, "approvers: {groups: [Approvers]}\n  - name: auto", "approvers: {owners: true}\n    fallback: {admins: true}\n  - name: auto", 1)
		if _, err := e.svc.ApplyRules(ctx, admin, []byte(owners)); err != nil {
			t.Fatal(err)
		}
		check(admin, approver) // a fallback of admins now
		if err := e.svc.SetOwners(ctx, admin, OwnerAccount, prodID, []string{"erin@example.com"}); err != nil {
			t.Fatal(err)
		}
		check(erin, nil)
		if _, err := e.svc.Create(ctx, alice, CreateInput{EntitlementID: entAdmin, Reason: "x"}); err != nil {
			t.Fatal(err)
		}
		check(erin, approver)
	})
}
