package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/appimport"

	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

func TestApplicationsAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		if err := st.UpsertConnection(ctx, store.Connection{ID: "aws", Name: "Production organization", Kind: "aws", Source: store.SourceConfig, Schedule: "1h", Config: []byte("{}")}); err != nil {
			t.Fatal(err)
		}
		seedInventory(t, st)
		a := newTestAPI(t, st)
		code, body := a.do("auditor", "GET", "/api/v1/applications", nil)
		if code != 200 {
			t.Fatalf("%d %v", code, body)
		}
		sameJSON(t, "applications", body["items"], `[{"id":"aws","name":"Production organization","kind":"aws","connection_id":"aws","counts":{},"last_sync":null}]`)
		if code, _ := a.do("person", "GET", "/api/v1/applications", nil); code != 403 {
			t.Fatalf("a person without a role: %d", code)
		}
		if code, body := a.do("auditor", "GET", "/api/v1/applications/nope", nil); code != 404 || body["detail"] != "no application nope (GET /api/v1/applications lists them)" {
			t.Fatalf("unknown application: %d %v", code, body)
		}
	})
}

// jsonDataset parses the test files: an appimport.Dataset as JSON, or {"Problems": [...]}.
// The real formats are internal/appfile's (TestFileApplicationCSV).
func jsonDataset(_ context.Context, _ store.AppImport, files []appimport.File) (*appimport.Parsed, error) {
	var f struct {
		appimport.Dataset
		Problems []store.AppProblem
	}
	raw, err := os.ReadFile(files[0].Path)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, err
	}
	if len(f.Problems) > 0 {
		return &appimport.Parsed{Problems: f.Problems}, nil
	}
	return &appimport.Parsed{Data: &f.Dataset}, nil
}

// withApplications gives the test API an imports service with parse.
func withApplications(t *testing.T, a *testAPI, parse appimport.ParseFunc) {
	t.Helper()
	svc, err := appimport.New(appimport.Config{Store: a.app.Store, DataDir: t.TempDir(), Parse: parse})
	if err != nil {
		t.Fatal(err)
	}
	a.app.Applications = svc
}

// read hands a read of key (by the data source ds_1) to the imports.
func read(t *testing.T, a *testAPI, key, version string, body []byte) {
	t.Helper()
	obj := appimport.Object{Key: key, VersionID: version, ETag: `"` + version + `"`, Size: int64(len(body)), Checksum: "ck-" + version,
		ReadAt: time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)}
	if err := a.app.Applications.OnObject(context.Background(), "ds_1", obj, bytes.NewReader(body)); err != nil {
		t.Fatal(err)
	}
}

func TestFileApplicationsAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		if err := st.UpsertConnection(context.Background(), store.Connection{ID: "aws", Name: "Production organization", Kind: "aws", Source: store.SourceConfig, Schedule: "1h", Config: []byte("{}")}); err != nil {
			t.Fatal(err)
		}
		a := newTestAPI(t, st)
		withApplications(t, a, jsonDataset)

		if code, body := a.do("auditor", "POST", "/api/v1/applications", map[string]any{"name": "Payroll", "owner": "o@example.com"}); code != 403 {
			t.Fatalf("an auditor creates: %d %v", code, body)
		}
		if code, body := a.do("admin", "POST", "/api/v1/applications", map[string]any{"name": "Payroll", "owner": "nobody"}); code != 400 ||
			body["detail"] != `owner must be the email address of the application's owner, got "nobody"` {
			t.Fatalf("bad owner: %d %v", code, body)
		}
		code, created := a.do("admin", "POST", "/api/v1/applications", map[string]any{"name": "Payroll", "owner": "o@example.com"})
		if code != 201 || created["kind"] != "file" || created["owner"] != "o@example.com" || created["remove_threshold"] != float64(20) {
			t.Fatalf("create: %d %v", code, created)
		}
		id := created["id"].(string)
		if !strings.HasPrefix(id, "app_") || created["connection_id"] != id {
			t.Fatalf("id %q", id)
		}
		if code, body := a.do("admin", "POST", "/api/v1/applications/"+id+"/imports", map[string]any{"datasource_id": "ds_1"}); code != 400 ||
			body["detail"] != "file is required: the key of the file in the data source's bucket, e.g. exports/app.csv" {
			t.Fatalf("no file: %d %v", code, body)
		}
		if code, body := a.do("admin", "POST", "/api/v1/applications/app_nope/imports", map[string]any{"datasource_id": "ds_1", "file": "a.json"}); code != 404 {
			t.Fatalf("unknown app: %d %v", code, body)
		}
		code, im := a.do("admin", "POST", "/api/v1/applications/"+id+"/imports", map[string]any{"datasource_id": "ds_1", "file": "payroll.json"})
		if code != 201 || im["file"] != "payroll.json" || im["format"] != "json" || im["application_id"] != id {
			t.Fatalf("import: %d %v", code, im)
		}

		users := []map[string]any{{"ID": "u1", "Email": "alice@example.com", "Name": "Alice"}, {"ID": "u2", "Email": "bob@example.com", "Name": "Bob"}}
		grant := func(ent, user string) map[string]any {
			return map[string]any{"ResourceType": "Group", "ResourceName": "Admins", "Entitlement": ent, "UserID": user}
		}
		body, _ := json.Marshal(map[string]any{"Users": users, "Grants": []any{grant("member", "u1"), grant("member", "u2"), grant("owner", "u1")}})
		read(t, a, "payroll.json", "v1", body)
		code, got := a.do("auditor", "GET", "/api/v1/applications/"+id, nil)
		if code != 200 {
			t.Fatalf("get: %d %v", code, got)
		}
		last := got["last_import"].(map[string]any)
		if last["state"] != "applied" {
			t.Fatalf("last import %v", last)
		}
		sameJSON(t, "provenance", last["provenance"], `[{"key":"payroll.json","version_id":"v1","etag":"\"v1\"","size":`+strconv.Itoa(len(body))+`,"checksum":"ck-v1","read_at":"2026-05-01T10:00:00Z"}]`)
		sameJSON(t, "errors", last["errors"], `[]`)
		sameJSON(t, "counts", got["counts"], `{"app_resource":1,"app_user":2,"entitlements":2,"grants":3,"people":2}`)

		_, res := a.do("auditor", "GET", "/api/v1/resources?connection_id="+id+"&type=app_user", nil)
		var lines []string
		for _, it := range res["items"].([]any) {
			r := it.(map[string]any)
			lines = append(lines, r["id"].(string)+" "+r["email"].(string))
		}
		if strings.Join(lines, ",") != id+":u1 alice@example.com,"+id+":u2 bob@example.com" {
			t.Fatalf("app users: %v", lines)
		}

		// The person page of Alice has her application access.
		_, acc := a.do("auditor", "GET", "/api/v1/people/alice@example.com/access", nil)
		var access []string
		for _, it := range acc["items"].([]any) {
			access = append(access, it.(map[string]any)["grant_id"].(string))
		}
		slices.Sort(access)
		ents := "app_resource:" + id + ":group:admins:"
		if strings.Join(access, ",") != ents+"member:app_user:"+id+":u1,"+ents+"owner:app_user:"+id+":u1" {
			t.Fatalf("Alice's access: %v", access)
		}

		// A broken file: rejected with its row-precise errors; the data stays.
		broken, _ := json.Marshal(map[string]any{"Problems": []store.AppProblem{{File: "payroll.json", Row: 3, Column: "user_id", Message: "unknown user u9"}}})
		read(t, a, "payroll.json", "v2", broken)
		_, got = a.do("auditor", "GET", "/api/v1/applications/"+id, nil)
		last = got["last_import"].(map[string]any)
		if last["state"] != "rejected" {
			t.Fatalf("broken: %v", last)
		}
		sameJSON(t, "errors", last["errors"], `[{"file":"payroll.json","row":3,"column":"user_id","message":"unknown user u9"}]`)
		sameJSON(t, "counts after a broken file", got["counts"], `{"app_resource":1,"app_user":2,"entitlements":2,"grants":3,"people":2}`)

		// Removing 2 of 3 grants: held; approve applies it.
		body, _ = json.Marshal(map[string]any{"Users": users, "Grants": []any{grant("member", "u1")}})
		read(t, a, "payroll.json", "v3", body)
		_, got = a.do("auditor", "GET", "/api/v1/applications/"+id, nil)
		last = got["last_import"].(map[string]any)
		if last["state"] != "held" || last["held_reason"] != "the import removes 2 of the application's 3 grants (66%), more than its threshold of 20%; an admin approves or rejects it" {
			t.Fatalf("held: %v", last)
		}
		run := last["id"].(string)
		if code, _ := a.do("auditor", "POST", "/api/v1/applications/"+id+"/runs/"+run+"/approve", nil); code != 403 {
			t.Fatalf("an auditor approves: %d", code)
		}
		if code, _ := a.do("admin", "POST", "/api/v1/applications/aws/runs/"+run+"/approve", nil); code != 404 {
			t.Fatalf("a run of another application: %d", code)
		}
		code, dec := a.do("admin", "POST", "/api/v1/applications/"+id+"/runs/"+run+"/approve", nil)
		if code != 200 || dec["state"] != "applied" || dec["decided_by"] != "admin@example.com" || dec["sync_id"] != run {
			t.Fatalf("approve: %d %v", code, dec)
		}
		if code, body := a.do("admin", "POST", "/api/v1/applications/"+id+"/runs/"+run+"/reject", nil); code != 409 ||
			body["detail"] != "run "+run+" is applied, only a held run can be rejected" {
			t.Fatalf("reject an applied run: %d %v", code, body)
		}
		_, ch := a.do("auditor", "GET", "/api/v1/changes?from="+run, nil)
		if n := len(ch["items"].([]any)); n != 0 {
			t.Fatalf("changes after the approved run: %d", n)
		}
		_, ch = a.do("auditor", "GET", "/api/v1/changes?to="+run, nil)
		var removed []string
		for _, it := range ch["items"].([]any) {
			c := it.(map[string]any)
			if c["sync_id"] == run {
				removed = append(removed, c["kind"].(string)+" "+c["grant_id"].(string))
			}
		}
		ent := "app_resource:" + id + ":group:admins:"
		slices.Sort(removed)
		if strings.Join(removed, ",") != "removed "+ent+"member:app_user:"+id+":u2,removed "+ent+"owner:app_user:"+id+":u1" {
			t.Fatalf("changes of the approved run: %v", removed)
		}

		_, runs := a.do("auditor", "GET", "/api/v1/applications/"+id+"/runs", nil)
		var states []string
		for _, it := range runs["items"].([]any) {
			states = append(states, it.(map[string]any)["state"].(string))
		}
		if strings.Join(states, ",") != "applied,rejected,applied" {
			t.Fatalf("runs: %v", states)
		}
		_, list := a.do("auditor", "GET", "/api/v1/applications", nil)
		var kinds []string
		for _, it := range list["items"].([]any) {
			kinds = append(kinds, it.(map[string]any)["id"].(string)+" "+it.(map[string]any)["kind"].(string))
		}
		if strings.Join(kinds, ",") != "aws aws,"+id+" file" {
			t.Fatalf("applications: %v", kinds)
		}
	})
}
