package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/gatehouse/gatehouse/internal/appimport"
	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/review"
	"github.com/gatehouse/gatehouse/internal/server"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// syncNow starts a sync through the API and waits for it to end; it returns its id. The
// scheduler queues a first sync as the server starts, so the request can meet it (409): then
// it waits for that one to end and asks again, so the sync returned started after the call.
func syncNow(t *testing.T, h http.Handler, admin *auth.Caller) string {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		code, body := call(t, h, admin, "POST", "/api/v1/syncs", "")
		if code == http.StatusConflict && time.Now().Before(deadline) {
			_, list := call(t, h, admin, "GET", "/api/v1/syncs?page_size=1", "")
			var running struct{ Items []apiSync }
			if err := json.Unmarshal([]byte(list), &running); err != nil || len(running.Items) == 0 {
				t.Fatalf("a sync is running but the list of syncs is %s (%v)", list, err)
			}
			awaitSync(t, h, admin, running.Items[0].ID, deadline, false)
			continue
		}
		if code != http.StatusAccepted {
			t.Fatalf("POST sync: %d %s", code, body)
		}
		var s apiSync
		if err := json.Unmarshal([]byte(body), &s); err != nil {
			t.Fatal(err)
		}
		awaitSync(t, h, admin, s.ID, deadline, true)
		return s.ID
	}
}

// awaitSync waits for sync id to end; a failed sync fails the test when mustSucceed.
func awaitSync(t *testing.T, h http.Handler, admin *auth.Caller, id string, deadline time.Time, mustSucceed bool) {
	t.Helper()
	for {
		_, body := call(t, h, admin, "GET", "/api/v1/syncs/"+id, "")
		var got apiSync
		if err := json.Unmarshal([]byte(body), &got); err != nil {
			t.Fatal(err)
		}
		if got.State == "succeeded" || got.State == "partial" || (got.State == "failed" && !mustSucceed) {
			return
		}
		if got.State == "failed" || time.Now().After(deadline) {
			t.Fatalf("sync %s", body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// The server wires reviews into its jobs: a revoke decided in a campaign is made in AWS by
// the server's review_remediate job (through the leases' provisioner), and the server's next
// sync verifies it (AfterIngest after the ingestion), naming that sync.
func TestReviewRevokeMadeAndVerifiedByTheServer(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			db := storetest.Config(t, d)
			srv := newServer(t, server.Config{DataDir: t.TempDir(), DatabaseURL: db.DatabaseURL,
				Connections: []server.Connection{demoConnection(t)}, SecretKey: testSecretKey})
			h := srv.Handler()
			ctx := context.Background()
			admin := &auth.Caller{Email: "admin@example.com", Roles: []string{auth.RoleAdmin}}
			syncNow(t, h, admin)
			reads, err := srv.App.Store.AccountReads(ctx, "aws")
			if err != nil {
				t.Fatal(err)
			}
			read := map[string]bool{}
			for _, r := range reads {
				read[r.AccountID] = !r.Stale
			}
			svc := srv.App.Reviews
			c, err := svc.CreateCampaign(ctx, admin, review.CampaignInput{Name: "server wiring",
				Reviewers: review.Reviewers{People: []string{"reviewer@example.com"}}, Due: time.Now().Add(7 * 24 * time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			if c, err = svc.Start(ctx, admin, c.ID); err != nil {
				t.Fatal(err)
			}
			items, _, err := svc.Items(ctx, admin, c.ID, review.ItemQuery{ResourceType: "account", Via: "direct", Page: store.Page{Size: 1000}})
			if err != nil {
				t.Fatal(err)
			}
			var it *review.Item
			for i := range items {
				if items[i].PrincipalType == "sso_user" && read[items[i].AccountID] {
					it = &items[i]
					break
				}
			}
			if it == nil {
				t.Fatalf("no direct assignment of a user in a read account among %d items", len(items))
			}
			reviewer := &auth.Caller{Email: "reviewer@example.com"}
			if _, err := svc.Decide(ctx, reviewer, c.ID, it.ID, review.DecisionInput{Decision: review.DecisionRevoke, Reason: "not needed"}); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(60 * time.Second)
			for {
				cur, err := svc.Item(ctx, admin, c.ID, it.ID)
				if err != nil {
					t.Fatal(err)
				}
				if cur.Remediation != nil && cur.Remediation.State == review.RemediationDone {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("remediation %+v, events %+v", cur.Remediation, cur.Events)
				}
				time.Sleep(100 * time.Millisecond)
			}
			s2 := syncNow(t, h, admin)
			cur, err := svc.Item(ctx, admin, c.ID, it.ID)
			if err != nil {
				t.Fatal(err)
			}
			if cur.State != review.ItemRemediated || cur.Remediation.VerifiedSync != s2 {
				t.Fatalf("after the server's sync %s: state %s remediation %+v", s2, cur.State, cur.Remediation)
			}
		})
	}
}

// A failure of the reviews' verification after an ingestion is logged and does not fail the
// sync: the inventory is in, and the next sync verifies what this one could not.
func TestReviewVerificationFailureDoesNotFailTheSync(t *testing.T) {
	core, logs := observer.New(zap.ErrorLevel)
	cfg := server.Config{DataDir: t.TempDir(), Connections: []server.Connection{demoConnection(t)}, SecretKey: testSecretKey,
		KeepSyncs: 3, SyncSchedule: time.Hour}
	srv, err := server.New(context.Background(), cfg, zap.New(core))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	// The verification reads review_items: without it, it fails.
	if _, err := srv.App.Store.SQLiteDB().Exec("ALTER TABLE review_items RENAME TO review_items_gone"); err != nil {
		t.Fatal(err)
	}
	admin := &auth.Caller{Email: "admin@example.com", Roles: []string{auth.RoleAdmin}}
	id := syncNow(t, srv.Handler(), admin) // fails the test unless the sync succeeded (or is partial)
	var found bool
	for _, e := range logs.All() {
		if e.Message == "access reviews could not verify against the sync" && e.ContextMap()["sync"] == id {
			found = true
		}
	}
	if !found {
		t.Fatalf("no error logged for the failed verification of sync %s: %v", id, logs.All())
	}
	counts, err := srv.App.Store.InventoryCounts(context.Background())
	if err != nil || counts["account"] == 0 {
		t.Fatalf("the sync's inventory was not kept: %v %v", counts, err)
	}
}

// The server verifies access reviews against imports of applications as against syncs:
// a revoke of imported access is the owner's task until the application's next applied
// import no longer shows it (the imports' AfterApply is the reviews' AfterIngest).
func TestReviewOwnerTaskVerifiedByTheServersImport(t *testing.T) {
	srv := newServer(t, server.Config{DataDir: t.TempDir(), SecretKey: testSecretKey})
	ctx := context.Background()
	admin := &auth.Caller{Email: "admin@example.com", Roles: []string{auth.RoleAdmin}}
	apps := srv.App.Applications
	app, err := apps.CreateApplication(ctx, admin.Email, "", appimport.AppInput{Name: "Payroll", Owner: "owner@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	// The import of a data source that is never read by the server (its file is handed to
	// the imports below, as the data source's read would): written as AttachImport does,
	// without a data source whose schedule would reach for a bucket.
	if err := srv.App.Store.InTx(ctx, func(tx *store.Tx) error {
		return tx.InsertAppImport(ctx, store.AppImport{ID: store.NewAppImportID(), AppID: app.ID, DatasourceID: "ds_1", Files: []string{"payroll.csv"},
			Format: "csv", Mapping: map[string]string{}, CreatedBy: admin.Email, CreatedAt: time.Now().UTC().Truncate(time.Millisecond)})
	}); err != nil {
		t.Fatal(err)
	}
	version := 0
	upload := func(body string) *store.AppRun {
		t.Helper()
		version++
		v := strconv.Itoa(version)
		if err := apps.OnObject(ctx, "ds_1", appimport.Object{Key: "payroll.csv", VersionID: v, ETag: `"` + v + `"`, Size: int64(len(body)),
			ReadAt: time.Now()}, strings.NewReader(body)); err != nil {
			t.Fatal(err)
		}
		run, err := srv.App.Store.LatestAppRun(ctx, app.ID)
		if err != nil || run.State != store.RunApplied {
			t.Fatalf("import %s: %v %+v", v, err, run)
		}
		return run
	}
	const head = "User ID,Email Address,Resource Type,Resource Name,Entitlement\n"
	rows := []string{"alice,alice@example.com,group,Billing,admin\n", "bob,bob@example.com,group,Billing,member\n",
		"carol,carol@example.com,group,Billing,member\n", "dave,dave@example.com,group,Billing,member\n", "erin,erin@example.com,group,Billing,member\n"}
	upload(head + strings.Join(rows, ""))
	svc := srv.App.Reviews
	c, err := svc.CreateCampaign(ctx, admin, review.CampaignInput{Name: "payroll", Scope: review.Scope{Applications: []string{app.ID}},
		Reviewers: review.Reviewers{Owner: true}, Due: time.Now().Add(7 * 24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if c, err = svc.Start(ctx, admin, c.ID); err != nil {
		t.Fatal(err)
	}
	owner := &auth.Caller{Email: "owner@example.com"}
	items, _, err := svc.Items(ctx, owner, c.ID, review.ItemQuery{Identity: "alice@example.com"})
	if err != nil || len(items) != 1 {
		t.Fatalf("alice's items: %v %+v", err, items)
	}
	it, err := svc.Decide(ctx, owner, c.ID, items[0].ID, review.DecisionInput{Decision: review.DecisionRevoke, Reason: "left payroll"})
	if err != nil {
		t.Fatal(err)
	}
	if it.State != review.ItemTaskOpen || it.Remediation.Task != "Remove alice@example.com (user ID alice) from admin on group Billing in Payroll" {
		t.Fatalf("after the revoke: %s %+v", it.State, it.Remediation)
	}
	rows = append(rows, "frank,frank@example.com,group,Billing,member\n")
	upload(head + strings.Join(rows, "")) // still shows alice's admin
	if cur, err := svc.Item(ctx, admin, c.ID, it.ID); err != nil || cur.State != review.ItemTaskOpen {
		t.Fatalf("after an import still showing the grant: %v %s", err, cur.State)
	}
	run := upload(head + strings.Join(rows[1:], ""))
	cur, err := svc.Item(ctx, admin, c.ID, it.ID)
	if err != nil || cur.State != review.ItemRemediated || cur.Remediation.VerifiedSync != run.ID {
		t.Fatalf("after the import without it (%s): %v %s %+v", run.ID, err, cur.State, cur.Remediation)
	}
}
