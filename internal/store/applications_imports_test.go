package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

func TestAppsImportsRuns(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
		app := store.App{ID: "app_1", Name: "Payroll", Owner: "owner@example.com", RemoveThreshold: 20, CreatedBy: "admin@example.com", CreatedAt: at}
		im := store.AppImport{ID: "imp_1", AppID: "app_1", DatasourceID: "ds_1", Files: []string{"exports/payroll.csv"},
			Format: "csv", Mapping: map[string]string{"Email Address": "mail"}, CreatedBy: "admin@example.com", CreatedAt: at}
		other := store.AppImport{ID: "imp_2", AppID: "app_1", DatasourceID: "ds_1", Files: []string{"ids.csv", "grants.csv"}, CreatedAt: at}
		if err := s.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.InsertApp(ctx, app); err != nil {
				return err
			}
			if err := tx.InsertAppImport(ctx, im); err != nil {
				return err
			}
			return tx.InsertAppImport(ctx, other)
		}); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetApp(ctx, "app_1")
		if err != nil || !reflect.DeepEqual(*got, app) {
			t.Fatalf("GetApp: %+v %v, want %+v", got, err, app)
		}
		if _, err := s.GetApp(ctx, "app_x"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown app: %v", err)
		}
		ims, err := s.AppImportsOfObject(ctx, "ds_1", "grants.csv")
		if err != nil || len(ims) != 1 || ims[0].ID != "imp_2" || !reflect.DeepEqual(ims[0].Files, []string{"ids.csv", "grants.csv"}) {
			t.Fatalf("imports of grants.csv: %+v %v", ims, err)
		}
		ims, err = s.AppImportsOfObject(ctx, "ds_2", "grants.csv")
		if err != nil || len(ims) != 0 {
			t.Fatalf("imports of another data source: %+v %v", ims, err)
		}
		gotIm, err := s.GetAppImport(ctx, "imp_1")
		if err != nil || !reflect.DeepEqual(*gotIm, im) {
			t.Fatalf("GetAppImport: %+v %v, want %+v", gotIm, err, im)
		}

		rejected := store.AppRun{ID: "run_1", ImportID: "imp_1", AppID: "app_1", State: store.RunRejected, At: at,
			Errors:         []store.AppProblem{{File: "exports/payroll.csv", Row: 3, Column: "Email Address", Message: "bad"}},
			Provenance:     []store.AppProvenance{{Key: "exports/payroll.csv", VersionID: "v1", ETag: `"e1"`, Size: 10, Checksum: "c", ReadAt: at}},
			NearDuplicates: json.RawMessage("[]")}
		held := store.AppRun{ID: "run_2", ImportID: "imp_1", AppID: "app_1", State: store.RunHeld, At: at.Add(time.Minute),
			HeldReason: "removes 3 of 4 grants", Diff: store.AppDiff{GrantsBefore: 4, GrantsRemoved: 3}, C1ZPath: "/x.c1z",
			Errors: []store.AppProblem{}, Provenance: []store.AppProvenance{}, NearDuplicates: json.RawMessage("[]")}
		if err := s.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.InsertAppRun(ctx, rejected); err != nil {
				return err
			}
			return tx.InsertAppRun(ctx, held)
		}); err != nil {
			t.Fatal(err)
		}
		runs, next, err := s.ListAppRuns(ctx, "app_1", store.Page{Size: 1})
		if err != nil || len(runs) != 1 || !reflect.DeepEqual(runs[0], held) || next == "" {
			t.Fatalf("first page: %+v %q %v", runs, next, err)
		}
		runs, next, err = s.ListAppRuns(ctx, "app_1", store.Page{Size: 1, Token: next})
		if err != nil || len(runs) != 1 || !reflect.DeepEqual(runs[0], rejected) || next != "" {
			t.Fatalf("second page: %+v %q %v", runs, next, err)
		}
		decided := at.Add(time.Hour)
		var ok1, ok2 bool
		if err := s.InTx(ctx, func(tx *store.Tx) (err error) {
			if ok1, err = tx.DecideAppRun(ctx, "run_2", store.RunApplied, "admin@example.com", decided, "run_2"); err != nil {
				return err
			}
			ok2, err = tx.DecideAppRun(ctx, "run_2", store.RunRejected, "admin@example.com", decided, "")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if !ok1 || ok2 {
			t.Fatalf("decide held: %v, decide again: %v", ok1, ok2)
		}
		last, err := s.LatestAppRun(ctx, "app_1")
		if err != nil || last.State != store.RunApplied || last.DecidedBy != "admin@example.com" || !last.DecidedAt.Equal(decided) || last.SyncID != "run_2" {
			t.Fatalf("latest: %+v %v", last, err)
		}
	})
}
