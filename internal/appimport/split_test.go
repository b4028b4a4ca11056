package appimport_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/appimport"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// Identities and grants in separate files: the import waits for both, then runs with the
// latest read of each; a grant to a user neither file has is rejected with its row.
func TestSplitFiles(t *testing.T) {
	st := storetest.Open(t, store.SQLite)
	now := t0
	svc, err := appimport.New(appimport.Config{Store: st, DataDir: t.TempDir(), Parse: appimport.ParseFiles, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	app, err := svc.CreateApplication(ctx, "admin@example.com", "", appimport.AppInput{Name: "Wiki", Owner: "o@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AttachImport(ctx, "admin@example.com", "", app.ID, appimport.ImportInput{DatasourceID: "ds", Files: []string{"users.csv", "grants.csv"}}); err != nil {
		t.Fatal(err)
	}
	read := func(key, body string) {
		t.Helper()
		now = now.Add(time.Hour)
		if err := svc.OnObject(ctx, "ds", appimport.Object{Key: key, ETag: now.String(), ReadAt: now}, strings.NewReader(body)); err != nil {
			t.Fatal(err)
		}
	}
	read("users.csv", "User ID,Email Address,Full Name\nu1,alice@example.com,Alice\nu2,bob@example.com,Bob\n")
	if _, err := st.LatestAppRun(ctx, app.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a run before the grants file was read: %v", err)
	}
	read("grants.csv", "User ID,Resource Type,Resource Name,Entitlement\nu1,Space,Eng,admin\nu2,Space,Eng,read\n")
	run, err := st.LatestAppRun(ctx, app.ID)
	if err != nil || run.State != store.RunApplied || len(run.Provenance) != 2 || run.Provenance[0].Key != "users.csv" || run.Provenance[1].Key != "grants.csv" {
		t.Fatalf("run %+v %v", run, err)
	}
	ent := "app_resource:" + app.ID + ":space:eng:"
	same(t, "grants", grantIDs(t, st, app.ID), []string{ent + "admin:app_user:" + app.ID + ":u1", ent + "read:app_user:" + app.ID + ":u2"})

	read("grants.csv", "User ID,Resource Type,Resource Name,Entitlement\nu1,Space,Eng,admin\nu2,Space,Eng,read\nu9,Space,Eng,read\n")
	bad, _ := st.LatestAppRun(ctx, app.ID)
	if bad.State != store.RunRejected || len(bad.Errors) != 1 || bad.Errors[0].File != "grants.csv" || bad.Errors[0].Row != 4 || bad.Errors[0].Column != "User ID" {
		t.Fatalf("unknown user across files: %+v", bad)
	}
	same(t, "grants after the rejected run", grantIDs(t, st, app.ID), []string{ent + "admin:app_user:" + app.ID + ":u1", ent + "read:app_user:" + app.ID + ":u2"})
}

func grantIDs(t *testing.T, st *store.Store, appID string) []string {
	t.Helper()
	ids, err := st.OpenGrantIDs(context.Background(), appID)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for id := range ids {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}
