package api_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/appimport"
	"github.com/gatehouse/gatehouse/internal/store"
)

// Just-in-time access to an application imported from files, over the API of a real server
// (its imports' AfterApply is wired to the leases): the request shows the owner's task, only
// the owner or an admin marks it done (403 for others, 409 once nothing is open), and an
// import that shows the grant verifies it.
func TestJITAPIImportedApplicationTask(t *testing.T) {
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			s := newJITServer(t, d, false)
			ctx := context.Background()
			rules := `rules:
  - name: accounts
    requesters: {everyone: true}
    approval_policy: default
  - name: payroll
    match: {application: Payroll}
    requesters: {everyone: true}
    approval_policy: owner
policies:
  - name: default
    steps:
      - approvers: {admins: true}
  - name: owner
    steps:
      - approvers: {owners: true}
`
			if code, raw := s.call("alice", "PUT", "/api/v1/rules", rules, nil); code != 200 {
				t.Fatalf("rules: %d %s", code, raw)
			}
			var ds, app struct {
				ID string `json:"id"`
			}
			if code, raw := s.call("alice", "POST", "/api/v1/datasources", `{"type": "s3", "name": "exports", "role_arn": "arn:aws:iam::111111111111:role/R", "bucket": "exports", "region": "us-east-1"}`, &ds); code != 201 {
				t.Fatalf("datasource: %d %s", code, raw)
			}
			if code, raw := s.call("alice", "POST", "/api/v1/applications", `{"name": "Payroll", "owner": "dave@example.com", "remove_threshold": 100}`, &app); code != 201 {
				t.Fatalf("application: %d %s", code, raw)
			}
			// The bucket is not there: the import is attached, the file comes below.
			if code, raw := s.call("alice", "POST", "/api/v1/applications/"+app.ID+"/imports", `{"datasource_id": "`+ds.ID+`", "file": "payroll.csv"}`, nil); code != 201 {
				t.Fatalf("import: %d %s", code, raw)
			}
			n := 0
			read := func(bobAdmin bool) string {
				t.Helper()
				body := "User ID,Email Address,Resource Type,Resource Name,Entitlement\nbob,bob@example.com,role,Payroll,viewer\nolga,olga@example.com,role,Payroll Admins,admin\n"
				if bobAdmin {
					body += "bob,bob@example.com,role,Payroll Admins,admin\n"
				}
				n++
				if err := s.srv.App.Applications.OnObject(ctx, ds.ID, appimport.Object{Key: "payroll.csv", ETag: strings.Repeat("e", n), ReadAt: time.Now()}, strings.NewReader(body)); err != nil {
					t.Fatal(err)
				}
				run, err := s.srv.App.Store.LatestAppRun(ctx, app.ID)
				if err != nil || run.State != store.RunApplied {
					t.Fatalf("run %+v %v", run, err)
				}
				return run.ID
			}
			read(false)
			ent := appimport.EntitlementID(app.ID, "role", "Payroll Admins", "admin")

			var entry struct {
				Requestable bool   `json:"requestable"`
				Application string `json:"application"`
				Note        string `json:"note"`
			}
			if code, raw := s.call("carol", "GET", "/api/v1/catalog/"+ent, "", &entry); code != 200 || !entry.Requestable || entry.Application != app.ID ||
				entry.Note != "Payroll has no user with your email carol@example.com yet: its owner creates one when granting the access, so the grant may take longer." {
				t.Fatalf("carol's entry: %d %s", code, raw)
			}
			var req struct {
				ID    string `json:"id"`
				State string `json:"state"`
				Task  *struct {
					Kind        string  `json:"kind"`
					Owner       string  `json:"owner"`
					State       string  `json:"state"`
					Instruction string  `json:"instruction"`
					DoneBy      string  `json:"done_by"`
					VerifiedRun string  `json:"verified_run"`
					DueAt       string  `json:"due_at"`
					DoneAt      *string `json:"done_at"`
				} `json:"task"`
				StartsAt *string `json:"starts_at"`
				Lease    *struct {
					State      string `json:"state"`
					Unverified bool   `json:"unverified"`
					Tasks      []struct {
						Kind  string `json:"kind"`
						State string `json:"state"`
					} `json:"tasks"`
				} `json:"lease"`
			}
			if code, raw := s.call("bob", "POST", "/api/v1/requests", `{"entitlement_id": "`+ent+`", "duration": "1h"}`, &req); code != 201 || req.State != "pending_approval" || req.Task != nil {
				t.Fatalf("create: %d %s", code, raw)
			}
			id := req.ID
			if d := s.problem("dave", "POST", "/api/v1/requests/"+id+"/task_done", `{}`, 409); d != "request "+id+" is pending approval: it has no task yet" {
				t.Errorf("before the approval: %s", d)
			}
			if code, raw := s.call("dave", "POST", "/api/v1/requests/"+id+"/approve", `{"reason": "ok"}`, &req); code != 200 || req.State != "provisioning" ||
				req.Task == nil || req.Task.Kind != "grant" || req.Task.State != "open" || req.Task.Owner != "dave@example.com" ||
				!strings.HasPrefix(req.Task.Instruction, `Grant entitlement "admin" on role "Payroll Admins" in Payroll to user bob (bob@example.com)`) ||
				req.Lease == nil || req.Lease.State != "pending" || req.StartsAt != nil {
				t.Fatalf("approve: %d %s", code, raw)
			}
			if d := s.problem("bob", "POST", "/api/v1/requests/"+id+"/task_done", `{"note": "x"}`, 403); d != "only the owner of Payroll (or an admin) marks its tasks done" {
				t.Errorf("bob: %s", d)
			}
			if d := s.problem("carol", "POST", "/api/v1/requests/"+id+"/task_done", `{}`, 403); d != "only the owner of Payroll (or an admin) marks its tasks done" {
				t.Errorf("carol (auditor): %s", d)
			}
			s.problem("dave", "POST", "/api/v1/requests/"+id+"/task_done", `{"notes": "x"}`, 400)
			if code, raw := s.call("dave", "POST", "/api/v1/requests/"+id+"/task_done", `{"note": "added bob"}`, &req); code != 200 || req.State != "active" ||
				req.Task.State != "done" || req.Task.DoneBy != "dave@example.com" || req.StartsAt == nil || !req.Lease.Unverified {
				t.Fatalf("task_done: %d %s", code, raw)
			}
			if d := s.problem("dave", "POST", "/api/v1/requests/"+id+"/task_done", `{}`, 409); d != "request "+id+" has no open task (its tasks: grant done)" {
				t.Errorf("again: %s", d)
			}
			// The import that shows the grant verifies it (the server's AfterApply).
			run := read(true)
			if code, raw := s.call("bob", "GET", "/api/v1/requests/"+id, "", &req); code != 200 || req.State != "active" || req.Task.State != "verified" ||
				req.Task.VerifiedRun != run || req.Lease.Unverified {
				t.Fatalf("after the import: %d %s", code, raw)
			}
			var leases struct {
				Items []struct {
					RequestID string `json:"request_id"`
					Tasks     []struct {
						Kind  string `json:"kind"`
						State string `json:"state"`
					} `json:"tasks"`
				} `json:"items"`
			}
			if code, raw := s.call("bob", "GET", "/api/v1/leases", "", &leases); code != 200 || len(leases.Items) != 1 || leases.Items[0].RequestID != id ||
				len(leases.Items[0].Tasks) != 1 || leases.Items[0].Tasks[0].Kind != "grant" || leases.Items[0].Tasks[0].State != "verified" {
				t.Fatalf("leases: %d %s", code, raw)
			}
			// Bob releases: a revoke task; the import without the grant ends it.
			if code, raw := s.call("bob", "POST", "/api/v1/requests/"+id+"/release", `{}`, &req); code != 200 || req.State != "expiring" || req.Task.Kind != "revoke" || req.Task.State != "open" {
				t.Fatalf("release: %d %s", code, raw)
			}
			read(false)
			if code, raw := s.call("bob", "GET", "/api/v1/requests/"+id, "", &req); code != 200 || req.State != "revoked" || req.Task.State != "verified" || req.Lease.State != "ended" {
				t.Fatalf("after the import without the grant: %d %s", code, raw)
			}
		})
	}
}
