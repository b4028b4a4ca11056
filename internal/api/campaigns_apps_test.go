package api_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/gatehouse/gatehouse/internal/appimport"
	"github.com/gatehouse/gatehouse/internal/review"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// noJobs is a queue that refuses jobs: an imported application's revoke is an owner task
// and must not queue one.
type noJobs struct{ t *testing.T }

func (q noJobs) InsertTx(_ context.Context, _ *store.Tx, args river.JobArgs, _ *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	q.t.Errorf("a job was queued: %s", args.Kind())
	return &rivertype.JobInsertResult{Job: &rivertype.JobRow{}}, nil
}

// A campaign over an imported application through the API: its items name the application
// (not an account) with the file's context; the owner's revoke is a task with the exact
// change, remediated by the next import that no longer shows the grant.
func TestCampaignAPIImportedApplication(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		a := newTestAPI(t, st)
		revs, err := review.New(review.Config{Store: st})
		if err != nil {
			t.Fatal(err)
		}
		revs.SetQueue(noJobs{t})
		a.app.Reviews = revs
		apps, err := appimport.New(appimport.Config{Store: st, DataDir: t.TempDir(), Parse: jsonDataset, AfterApply: revs.AfterIngest})
		if err != nil {
			t.Fatal(err)
		}
		a.app.Applications = apps

		// pat@example.com (the "person" caller) owns Payroll.
		code, created := a.do("admin", "POST", "/api/v1/applications", map[string]any{"name": "Payroll", "owner": "pat@example.com", "remove_threshold": 50})
		if code != 201 {
			t.Fatalf("create: %d %v", code, created)
		}
		id := created["id"].(string)
		if code, im := a.do("admin", "POST", "/api/v1/applications/"+id+"/imports", map[string]any{"datasource_id": "ds_1", "file": "payroll.json"}); code != 201 {
			t.Fatalf("import: %d %v", code, im)
		}
		users := []map[string]any{{"ID": "u1", "Email": "alice@example.com", "Name": "Alice", "Status": "enabled", "LastLogin": "2026-04-30T08:00:00Z"},
			{"ID": "u2", "Email": "bob@example.com", "Name": "Bob", "Status": "disabled"}}
		grant := func(ent, user string) map[string]any {
			return map[string]any{"ResourceType": "Group", "ResourceName": "Admins", "Entitlement": ent, "UserID": user}
		}
		body, _ := json.Marshal(map[string]any{"Users": users, "Grants": []any{grant("member", "u1"), grant("member", "u2"), grant("owner", "u1")}})
		read(t, a, "payroll.json", "v1", body)

		code, camp := a.do("auditor", "POST", "/api/v1/campaigns", map[string]any{"name": "Payroll access", "scope": map[string]any{"applications": []string{"Payroll"}},
			"reviewers": map[string]any{"owner": true}, "due": time.Now().Add(7 * 24 * time.Hour).UTC().Format(time.RFC3339)})
		if code != 201 {
			t.Fatalf("create campaign: %d %v", code, camp)
		}
		cid := camp["id"].(string)
		if code, body := a.do("auditor", "POST", "/api/v1/campaigns/"+cid+"/start", nil); code != 200 {
			t.Fatalf("start: %d %v", code, body)
		}
		code, list := a.do("person", "GET", "/api/v1/campaigns/"+cid+"/items", nil)
		if code != 200 || len(list["items"].([]any)) != 3 {
			t.Fatalf("the owner's items: %d %v", code, list)
		}
		var owner map[string]any
		for _, x := range list["items"].([]any) {
			it := x.(map[string]any)
			if it["grant_id"] == appimport.GrantID(id, "Group", "Admins", "owner", "u1") {
				owner = it
			}
		}
		if owner == nil {
			t.Fatalf("no item of alice's owner grant among %v", list["items"])
		}
		ctx := owner["context"].(map[string]any)
		ent := owner["entitlement"].(map[string]any)
		if owner["application"] != "Payroll" || owner["account_id"] != "" || owner["connection_id"] != id || owner["identity"] != "alice@example.com" ||
			owner["admin_level"] != true || owner["reviewer"] != "pat@example.com" || ent["name"] != "owner on Group Admins" ||
			ent["resource_type"] != "app_resource" || ent["resource_name"] != "Admins" || ctx["last_used"] != "2026-04-30T08:00:00Z" ||
			ctx["last_used_source"] != "last login, from Payroll's file" || ctx["active"] != true ||
			owner["plan"] != "Gatehouse cannot make this change; the owner must: Remove alice@example.com (user ID u1) from owner on Group Admins in Payroll" {
			t.Fatalf("alice's owner item: %v", owner)
		}
		code, decided := a.do("person", "POST", "/api/v1/campaigns/"+cid+"/items/"+owner["id"].(string)+"/decision",
			map[string]any{"decision": "revoke", "reason": "not an owner any more"})
		rem, _ := decided["remediation"].(map[string]any)
		if code != 200 || decided["state"] != "task_open" || rem["owner"] != "pat@example.com" ||
			rem["task"] != "Remove alice@example.com (user ID u1) from owner on Group Admins in Payroll" {
			t.Fatalf("revoke: %d %v", code, decided)
		}
		// The next file no longer has it: the import verifies the task.
		body, _ = json.Marshal(map[string]any{"Users": users, "Grants": []any{grant("member", "u1"), grant("member", "u2")}})
		read(t, a, "payroll.json", "v2", body)
		run, err := st.LatestAppRun(context.Background(), id)
		if err != nil || run.State != store.RunApplied {
			t.Fatalf("second import: %v %+v", err, run)
		}
		code, got := a.do("auditor", "GET", "/api/v1/campaigns/"+cid+"/items/"+owner["id"].(string), nil)
		rem, _ = got["remediation"].(map[string]any)
		if code != 200 || got["state"] != "remediated" || rem["verified_sync"] != run.ID {
			t.Fatalf("after the import without the grant (%s): %d %v", run.ID, code, got)
		}
	})
}
