package jit

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// What the import hook costs: 200 leases of an imported application wait for their grant;
// one import shows all 200 grants and every lease is active after it. The test logs the
// import's time with the 200 checks and the same import with nothing waiting.
func TestAppImportChecksManyLeases(t *testing.T) {
	const n = 200
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		e := newAppEnv(t, st)
		file := func(granted bool) string {
			var b strings.Builder
			b.WriteString(payrollCSV(false))
			for i := range n {
				fmt.Fprintf(&b, "u%d,u%d@example.com,U%d,enabled,role,Payroll,viewer\n", i, i, i)
				if granted {
					fmt.Fprintf(&b, "u%d,u%d@example.com,U%d,enabled,role,Payroll Admins,admin\n", i, i, i)
				}
			}
			return b.String()
		}
		e.importFile(t, file(false))
		ids := make([]string, n)
		for i := range n {
			r, err := e.svc.Create(ctx, caller(fmt.Sprintf("u%d@example.com", i)), CreateInput{EntitlementID: e.ent, Duration: time.Hour, Reason: "x"})
			if err != nil {
				t.Fatal(err)
			}
			if r, err = e.svc.Approve(ctx, owner, r.ID, ""); err != nil || r.State != StateProvisioning {
				t.Fatalf("approve %d: %v %v", i, r, err)
			}
			ids[i] = r.ID
		}
		start := time.Now()
		e.importFile(t, file(true))
		withChecks := time.Since(start)
		for _, id := range ids {
			if r := e.get(t, id); r.State != StateActive || r.Task.State != "verified" {
				t.Fatalf("%s after the import: %s %+v", id, r.State, r.Task)
			}
		}
		start = time.Now()
		e.importFile(t, file(true))
		without := time.Since(start)
		t.Logf("%s: an import of %d grants that activates %d waiting leases takes %s; the same import with nothing waiting %s",
			st.Dialect(), 2*n+3, n, withChecks.Round(time.Millisecond), without.Round(time.Millisecond))
	})
}
