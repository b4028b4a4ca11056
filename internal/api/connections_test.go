package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/gatehouse/gatehouse/internal/api"
	"github.com/gatehouse/gatehouse/internal/app"
	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/connection"
	"github.com/gatehouse/gatehouse/internal/secrets"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// testAPI serves the API with the caller named by the X-Test-Caller header ("admin",
// "auditor", "person", or none for anonymous), standing in for the sign-in middleware.
type testAPI struct {
	t    *testing.T
	srv  *httptest.Server
	app  *app.App
	logs *observer.ObservedLogs
	// seen collects every response body, to check no secret was ever sent.
	seen bytes.Buffer
}

var callers = map[string]*auth.Caller{
	"admin":   {Email: "admin@example.com", Roles: []string{auth.RoleAdmin}, RemoteAddr: "192.0.2.1"},
	"auditor": {Email: "audrey@example.com", Roles: []string{auth.RoleAuditor}, RemoteAddr: "192.0.2.2"},
	"person":  {Email: "pat@example.com", RemoteAddr: "192.0.2.3"},
}

func newTestAPI(t *testing.T, st *store.Store) *testAPI {
	t.Helper()
	keys, err := secrets.NewKeyring(bytes.Repeat([]byte{3}, secrets.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	core, logs := observer.New(zapcore.DebugLevel)
	log := zap.New(core)
	a := &app.App{Store: st, Log: log, Secrets: keys, Connections: connection.NewService(st, keys, log, time.Hour)}
	r := auth.NewRouter()
	api.Register(r, a)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if c := callers[req.Header.Get("X-Test-Caller")]; c != nil {
			req = req.WithContext(auth.WithCaller(req.Context(), c))
		}
		r.ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	return &testAPI{t: t, srv: srv, app: a, logs: logs}
}

// do sends a request as who and returns the status and the decoded JSON body.
func (a *testAPI) do(who, method, path string, body any) (int, map[string]any) {
	a.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, a.srv.URL+path, rd)
	if who != "" {
		req.Header.Set("X-Test-Caller", who)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	a.seen.Write(raw)
	var out map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			a.t.Fatalf("%s %s: not JSON: %s", method, path, raw)
		}
	}
	return res.StatusCode, out
}

const (
	apiExternalID = "api-external-id-77aa88bb99cc"
	apiSCIMToken  = "api-scim-token-00112233445566778899"
	apiSecretKey  = "api/secret+access/key0123456789ABCDEF"
)

func TestConnectionsAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		a := newTestAPI(t, st)
		create := map[string]any{
			"id": "prod", "name": "Production", "role_arn": "arn:aws:iam::111111111111:role/GatehouseConnector",
			"external_id": apiExternalID, "identity_center": true, "scim_endpoint": "https://scim.example.com/scim/v2",
			"scim_token": apiSCIMToken, "access_key_id": "AKIAAPI", "secret_access_key": apiSecretKey, "schedule": "2h",
		}

		// Who may call: admins only.
		for who, want := range map[string]int{"": 401, "person": 403, "auditor": 403, "admin": 200} {
			if code, _ := a.do(who, "GET", "/api/v1/connections", nil); code != want {
				t.Errorf("GET /api/v1/connections as %q: %d, want %d", who, code, want)
			}
		}
		if code, _ := a.do("auditor", "POST", "/api/v1/connections", create); code != 403 {
			t.Errorf("POST as auditor: %d", code)
		}

		code, body := a.do("admin", "POST", "/api/v1/connections", create)
		if code != 201 {
			t.Fatalf("create: %d %v", code, body)
		}
		wantSecrets := map[string]any{"external_id": "•••• 99cc", "member_external_id": "", "scim_token": "•••• 8899", "secret_access_key": "•••• CDEF"}
		if body["id"] != "prod" || body["source"] != "ui" || body["deletable"] != true || body["schedule"] != "2h0m0s" ||
			body["role_arn"] != create["role_arn"] || body["kind"] != "aws" || !equalJSON(body["secrets"], wantSecrets) {
			t.Errorf("created = %v", body)
		}
		if _, err := time.Parse(time.RFC3339, body["created_at"].(string)); err != nil {
			t.Errorf("created_at %v: %v", body["created_at"], err)
		}
		if code, body = a.do("admin", "POST", "/api/v1/connections", create); code != 409 || !strings.Contains(body["detail"].(string), "exists") {
			t.Errorf("create twice: %d %v", code, body)
		}

		// Bad input: 400 with the field errors.
		code, body = a.do("admin", "POST", "/api/v1/connections", map[string]any{"id": "x", "role_arn": "nope", "identity_center_region": "eu-west-1"})
		if code != 400 {
			t.Fatalf("invalid: %d %v", code, body)
		}
		wantErrs := []any{
			map[string]any{"field": "role_arn", "message": `role_arn must be a role ARN like arn:aws:iam::123456789012:role/GatehouseConnector, got "nope"`},
			map[string]any{"field": "identity_center_region", "message": "identity_center_region has no effect without identity_center; set identity_center too"},
		}
		if !equalJSON(body["errors"], wantErrs) || body["status"] != float64(400) {
			t.Errorf("invalid: errors = %v", body["errors"])
		}
		if code, body = a.do("admin", "POST", "/api/v1/connections", `{"id":"x","rolearn":"y"}`); code != 400 || !strings.Contains(body["detail"].(string), `unknown field "rolearn"`) {
			t.Errorf("unknown field: %d %v", code, body)
		}
		if code, body = a.do("admin", "POST", "/api/v1/connections", `{"id":`); code != 400 || !strings.Contains(body["detail"].(string), "not valid JSON") && !strings.Contains(body["detail"].(string), "JSON object") {
			t.Errorf("broken JSON: %d %v", code, body)
		}

		code, body = a.do("admin", "GET", "/api/v1/connections/prod", nil)
		if code != 200 || !equalJSON(body["secrets"], wantSecrets) {
			t.Errorf("get: %d %v", code, body)
		}
		if code, _ = a.do("admin", "GET", "/api/v1/connections/nope", nil); code != 404 {
			t.Errorf("get missing: %d", code)
		}

		// PATCH changes only what it names; the secrets stay.
		code, body = a.do("admin", "PATCH", "/api/v1/connections/prod", map[string]any{"name": "Prod org"})
		if code != 200 || body["name"] != "Prod org" || body["role_arn"] != create["role_arn"] || body["schedule"] != "2h0m0s" || !equalJSON(body["secrets"], wantSecrets) {
			t.Errorf("patch: %d %v", code, body)
		}
		// PUT replaces the settings; empty secrets are kept, clear_secrets removes.
		put := map[string]any{"role_arn": create["role_arn"], "external_id": "", "access_key_id": "AKIAAPI", "clear_secrets": []string{"scim_token"}}
		code, body = a.do("admin", "PUT", "/api/v1/connections/prod", put)
		want := map[string]any{"external_id": "•••• 99cc", "member_external_id": "", "scim_token": "", "secret_access_key": "•••• CDEF"}
		if code != 200 || body["name"] != "prod" || body["identity_center"] != nil || body["schedule"] != "1h0m0s" || !equalJSON(body["secrets"], want) {
			t.Errorf("put: %d %v", code, body)
		}
		cfg, err := a.app.Connections.FetchConfig(context.Background(), "prod")
		if err != nil || cfg.ExternalID != apiExternalID || cfg.SCIMToken != "" {
			t.Errorf("FetchConfig after PUT: external id kept %v, scim token cleared %v, %v", cfg.ExternalID == apiExternalID, cfg.SCIMToken == "", err)
		}
		if code, body = a.do("admin", "PUT", "/api/v1/connections/prod", map[string]any{"id": "other"}); code != 400 || !strings.Contains(body["detail"].(string), "cannot change") {
			t.Errorf("put with another id: %d %v", code, body)
		}

		// A config-file connection cannot be deleted or changed here.
		if err := a.app.Connections.ApplyConfig(context.Background(), []connection.Input{{ID: "from-file"}}); err != nil {
			t.Fatal(err)
		}
		code, body = a.do("admin", "DELETE", "/api/v1/connections/from-file", nil)
		if code != 409 || !strings.Contains(body["detail"].(string), "remove it from the config file") {
			t.Errorf("delete config connection: %d %v", code, body)
		}
		if code, _ = a.do("admin", "PATCH", "/api/v1/connections/from-file", map[string]any{"name": "x"}); code != 409 {
			t.Errorf("patch config connection: %d", code)
		}
		code, body = a.do("admin", "GET", "/api/v1/connections", nil)
		items, _ := body["items"].([]any)
		if code != 200 || len(items) != 2 || items[0].(map[string]any)["id"] != "from-file" || items[0].(map[string]any)["deletable"] != false {
			t.Errorf("list: %d %v", code, body)
		}

		if code, body = a.do("admin", "DELETE", "/api/v1/connections/prod", nil); code != 204 || body != nil {
			t.Errorf("delete: %d %v", code, body)
		}
		if code, _ = a.do("admin", "DELETE", "/api/v1/connections/prod", nil); code != 404 {
			t.Errorf("delete twice: %d", code)
		}

		// Each change is audited with the admin and their address.
		entries, _ := st.ListAudit(context.Background(), store.AuditFilter{Actor: "admin@example.com"})
		var actions []string
		for _, e := range entries {
			actions = append(actions, e.Action+" "+e.Target+" "+e.RemoteAddr)
		}
		wantActions := []string{"connection.create connection:prod 192.0.2.1", "connection.update connection:prod 192.0.2.1",
			"connection.update connection:prod 192.0.2.1", "connection.delete connection:prod 192.0.2.1"}
		if strings.Join(actions, "\n") != strings.Join(wantActions, "\n") {
			t.Errorf("audit:\n%s\nwant\n%s", strings.Join(actions, "\n"), strings.Join(wantActions, "\n"))
		}

		// No secret in any response, log line, or (SQLite) the database file.
		var logged strings.Builder
		for _, l := range a.logs.All() {
			b, _ := json.Marshal(l.ContextMap())
			logged.WriteString(l.Message + string(b))
		}
		db := dumpSQLite(t, st)
		for _, s := range []string{apiExternalID, apiSCIMToken, apiSecretKey} {
			if strings.Contains(a.seen.String(), s) {
				t.Errorf("a response holds the secret %q", s)
			}
			if strings.Contains(logged.String(), s) {
				t.Errorf("a log line holds the secret %q", s)
			}
			if bytes.Contains(db, []byte(s)) {
				t.Errorf("the database file holds the secret %q", s)
			}
		}
	})
}

// dumpSQLite returns the bytes of a SQLite store's files (nil on PostgreSQL, whose rows
// the connection package's tests check).
func dumpSQLite(t *testing.T, st *store.Store) []byte {
	t.Helper()
	if st.Dialect() != store.SQLite {
		return nil
	}
	path := strings.TrimPrefix(st.Describe(), "SQLite ")
	var all []byte
	for _, suffix := range []string{"", "-wal"} {
		b, _ := os.ReadFile(filepath.Clean(path + suffix))
		all = append(all, b...)
	}
	if !bytes.Contains(all, []byte("GatehouseConnector")) {
		t.Fatal("the SQLite files do not hold the connection's role ARN: the dump misses the rows")
	}
	return all
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}
