package appimport_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/appimport"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

type events struct{ got []appimport.Event }

func (e *events) NotifyImportTx(_ context.Context, _ *store.Tx, ev appimport.Event) error {
	e.got = append(e.got, ev)
	return nil
}

// A rejected file and a held import alert (through the notifier, in the run's
// transaction); an applied import does not.
func TestAlerts(t *testing.T) {
	st := storetest.Open(t, store.SQLite)
	ev := &events{}
	now := t0
	svc, err := appimport.New(appimport.Config{Store: st, DataDir: t.TempDir(), Parse: appimport.ParseFiles, Notifier: ev, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	app, err := svc.CreateApplication(ctx, "admin@example.com", "", appimport.AppInput{Name: "Payroll", Owner: "o@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	im, err := svc.AttachImport(ctx, "admin@example.com", "", app.ID, appimport.ImportInput{DatasourceID: "ds", Files: []string{"p.csv"}})
	if err != nil {
		t.Fatal(err)
	}
	read := func(body string) *store.AppRun {
		now = now.Add(time.Hour)
		if err := svc.OnObject(ctx, "ds", appimport.Object{Key: "p.csv", ETag: body[:0] + now.String()}, strings.NewReader(body)); err != nil {
			t.Fatal(err)
		}
		r, err := st.LatestAppRun(ctx, app.ID)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	read(payrollCSV)
	if len(ev.got) != 0 {
		t.Fatalf("an applied import alerted: %+v", ev.got)
	}
	bad := read(payrollCSV + "u3,c@example.com,,actv,Report,,Read\n")
	held := read(strings.SplitAfterN(payrollCSV, "\n", 3)[0] + strings.SplitAfterN(payrollCSV, "\n", 3)[1])
	want := []appimport.Event{
		{Kind: appimport.EventRejected, AppID: app.ID, AppName: "Payroll", Owner: "o@example.com", RunID: bad.ID, ImportID: im.ID,
			Files: []string{"p.csv"}, At: bad.At,
			Detail: `p.csv, row 5, column "Resource Name": empty "Resource Name": every grant needs Resource Type, Resource Name, Entitlement and User ID (and 1 more problem)`},
		{Kind: appimport.EventHeld, AppID: app.ID, AppName: "Payroll", Owner: "o@example.com", RunID: held.ID, ImportID: im.ID,
			Files: []string{"p.csv"}, At: held.At, Detail: held.HeldReason},
	}
	if held.State != store.RunHeld || len(ev.got) != 2 || !slices.EqualFunc(ev.got, want, func(a, b appimport.Event) bool {
		return a.Kind == b.Kind && a.AppID == b.AppID && a.AppName == b.AppName && a.Owner == b.Owner && a.RunID == b.RunID &&
			a.ImportID == b.ImportID && slices.Equal(a.Files, b.Files) && a.At.Equal(b.At) && a.Detail == b.Detail
	}) {
		t.Fatalf("events %+v\nwant %+v", ev.got, want)
	}
}
