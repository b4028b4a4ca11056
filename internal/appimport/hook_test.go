package appimport_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/appimport"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// AfterApply is called once per applied run (and per approved held run) with the
// application's id and the run's id, never for a rejected or held run; its error does not
// fail the import.
func TestAfterApplyHook(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		var calls []string
		e := newEnv(t, st, testParse, "exports/payroll.json")
		svc, err := appimport.New(appimport.Config{Store: st, DataDir: t.TempDir(), Parse: testParse, Now: func() time.Time { return e.now },
			AfterApply: func(_ context.Context, appID, syncID string) error {
				calls = append(calls, appID+" "+syncID)
				return errors.New("the reviews are down")
			}})
		if err != nil {
			t.Fatal(err)
		}
		e.svc = svc
		first := testFile{Users: []appimport.User{alice, bob}, Grants: []appimport.Grant{
			g("role", "Admins", "member", "u1"), g("role", "Admins", "member", "u2"),
			g("report", "Salaries", "read", "u1"), g("report", "Salaries", "read", "u2"),
		}}
		applied := e.upload(t, "exports/payroll.json", mustJSON(t, first))
		if applied.State != store.RunApplied {
			t.Fatalf("first run %s", applied.State)
		}
		rejected := e.upload(t, "exports/payroll.json", mustJSON(t, testFile{Problems: []store.AppProblem{{File: "exports/payroll.json", Row: 2, Message: "bad"}}}))
		if rejected.State != store.RunRejected {
			t.Fatalf("broken run %s", rejected.State)
		}
		held := e.upload(t, "exports/payroll.json", mustJSON(t, testFile{Users: first.Users, Grants: first.Grants[:1]}))
		if held.State != store.RunHeld {
			t.Fatalf("removing 3 of 4 grants: %s", held.State)
		}
		if want := []string{e.app.ID + " " + applied.ID}; !slices.Equal(calls, want) {
			t.Fatalf("calls after applied, rejected and held runs: %v, want %v", calls, want)
		}
		approved, err := svc.Approve(ctx, "admin@example.com", "", held.ID)
		if err != nil || approved.State != store.RunApplied {
			t.Fatalf("approve: %v %+v", err, approved)
		}
		if want := []string{e.app.ID + " " + applied.ID, e.app.ID + " " + held.ID}; !slices.Equal(calls, want) {
			t.Errorf("calls after the approval: %v, want %v", calls, want)
		}
	})
}
