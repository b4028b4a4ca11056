package server_test

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

	"github.com/spf13/pflag"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/secrets"
	"github.com/gatehouse/gatehouse/internal/server"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// The config file's connections are in the store after start, from the file, with their
// secrets sealed under a key created 0600 in the data directory.
func TestServeUpsertsConfigConnections(t *testing.T) {
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "gatehouse.yaml")
	yaml := `data_dir: ` + filepath.Join(dir, "data") + `
connections:
  - id: aws
    name: Production
    role_arn: arn:aws:iam::111111111111:role/GatehouseConnector
    external_id: file-external-id-0123456789
    identity_center: true
    schedule: 30m
`
	if err := os.WriteFile(cfgFile, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	fl := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	server.RegisterFlags(fl)
	server.RegisterServeFlags(fl)
	if err := fl.Parse([]string{"--config", cfgFile}); err != nil {
		t.Fatal(err)
	}
	cfg, err := server.Load(fl)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	srv, err := server.New(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown(ctx)
	v, err := srv.App.Connections.Get(ctx, "aws")
	if err != nil {
		t.Fatal(err)
	}
	if v.Source != "config" || v.Name != "Production" || v.Schedule != "30m0s" || !v.Settings.IdentityCenter || v.Secrets["external_id"] != "•••• 6789" {
		t.Fatalf("connection from the file = %+v", v)
	}
	fc, err := srv.App.Connections.FetchConfig(ctx, "aws")
	if err != nil || fc.ExternalID != "file-external-id-0123456789" {
		t.Fatalf("FetchConfig: %v", err)
	}
	fi, err := os.Stat(filepath.Join(dir, "data", secrets.KeyFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("secret key file: %v %v", fi, err)
	}
}

// With PostgreSQL every replica must share one key: start refuses without secret_key.
func TestServeOnPostgresRequiresSecretKey(t *testing.T) {
	cfg := server.Config{DatabaseURL: storetest.NewDatabase(t), DataDir: t.TempDir(), SyncSchedule: 3600e9}
	_, err := server.New(context.Background(), cfg, nil)
	if err == nil || !strings.Contains(err.Error(), "secret_key is required with a PostgreSQL database_url") || !strings.Contains(err.Error(), "openssl rand -base64 32") {
		t.Fatalf("New on PostgreSQL without secret_key: %v", err)
	}
	cfg.SecretKey = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	srv, err := server.New(context.Background(), cfg, nil)
	if err != nil {
		t.Fatalf("New on PostgreSQL with secret_key: %v", err)
	}
	if srv.App.Secrets.Source != "secret_key" {
		t.Fatalf("key from %s", srv.App.Secrets.Source)
	}
	_ = srv.Shutdown(context.Background())
}

// Through the whole server (sign-in middleware, API, web pages, logs), a connection's
// secrets are never sent back, never logged and never stored in clear: neither those
// from the config file nor those an admin sends.
func TestConnectionSecretsNeverLeaveTheServer(t *testing.T) {
	const (
		fileExternalID = "file-external-id-aaaa-bbbb-cccc"
		fileSCIMToken  = "file-scim-token-dddd-eeee-ffff-0000"
		apiExternalID  = "api-external-id-1111-2222-3333"
		apiSecretKey   = "api-secret-access-key/4444+5555-6666"
		apiSCIMToken   = "api-scim-token-7777-8888-9999-zzzz"
	)
	leaks := []string{fileExternalID, fileSCIMToken, apiExternalID, apiSecretKey, apiSCIMToken}
	cfg, err := server.Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DataDir = t.TempDir()
	cfg.Admins = []string{"admin@example.com"}
	cfg.Connections = []server.Connection{{ID: "aws", RoleARN: "arn:aws:iam::111111111111:role/GatehouseConnector",
		ExternalID: fileExternalID, IdentityCenter: true, SCIMEndpoint: "https://scim.example.com/scim/v2", SCIMToken: fileSCIMToken}}
	core, logs := observer.New(zapcore.DebugLevel)
	ctx := context.Background()
	srv, err := server.New(ctx, cfg, zap.New(core))
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	token, _, err := auth.CreateToken(ctx, srv.App.Store, auth.NewToken{Email: "admin@example.com", Name: "leak test", Actor: "cli"})
	if err != nil {
		t.Fatal(err)
	}
	var seen strings.Builder
	call := func(method, path, body string, want int) {
		t.Helper()
		req, _ := http.NewRequest(method, hs.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		seen.Write(b)
		if res.StatusCode != want {
			t.Fatalf("%s %s: %d, want %d: %s", method, path, res.StatusCode, want, b)
		}
	}
	call("POST", "/api/v1/connections", `{"id":"prod","role_arn":"arn:aws:iam::222222222222:role/GatehouseConnector","external_id":"`+apiExternalID+
		`","access_key_id":"AKIAPROD","secret_access_key":"`+apiSecretKey+`","identity_center":true,"scim_endpoint":"https://scim.example.com/v2","scim_token":"`+apiSCIMToken+`"}`, 201)
	call("POST", "/api/v1/connections", `{"id":"bad","role_arn":"nope","external_id":"`+apiExternalID+`"}`, 400)
	call("GET", "/api/v1/connections", "", 200)
	call("GET", "/api/v1/connections/aws", "", 200)
	call("PATCH", "/api/v1/connections/prod", `{"name":"Production"}`, 200)
	call("PUT", "/api/v1/connections/aws", `{"external_id":"`+apiExternalID+`"}`, 409)
	call("GET", "/api/v1/connections/prod", "", 200)
	call("GET", "/api/v1/audit", "", 200)
	// The web pages show the same masks.
	call("GET", "/admin/connections", "", 200)
	call("GET", "/admin/connections/prod", "", 200)
	call("GET", "/admin/connections/aws", "", 200)
	for _, s := range leaks {
		if strings.Contains(seen.String(), s) {
			t.Errorf("an answer holds the secret %q", s)
		}
	}
	if !strings.Contains(seen.String(), `"external_id":"•••• 3333"`) {
		t.Errorf("the answers do not show the masked external id •••• 3333")
	}
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	var logged strings.Builder
	for _, l := range logs.All() {
		b, _ := json.Marshal(l.ContextMap())
		logged.WriteString(l.Message + " " + string(b) + "\n")
	}
	if !strings.Contains(logged.String(), "connection created") {
		t.Fatalf("the log does not record the creation; it was:\n%s", logged.String())
	}
	var db []byte
	for _, suffix := range []string{"", "-wal"} {
		b, _ := os.ReadFile(filepath.Join(cfg.DataDir, "gatehouse.db"+suffix))
		db = append(db, b...)
	}
	if !bytes.Contains(db, []byte("role/GatehouseConnector")) {
		t.Fatal("the database files do not hold the connections' settings: the check reads the wrong file")
	}
	for _, s := range leaks {
		if strings.Contains(logged.String(), s) {
			t.Errorf("a log line holds the secret %q", s)
		}
		if bytes.Contains(db, []byte(s)) {
			t.Errorf("the database file holds the secret %q in clear", s)
		}
	}
}

// A secrets key file that group or others can read stops the server at start, saying how
// to fix it.
func TestServeRefusesAReadableKeyFile(t *testing.T) {
	dir := t.TempDir()
	cfg := server.Config{DataDir: dir, SyncSchedule: 3600e9}
	srv, err := server.New(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = srv.Shutdown(context.Background())
	key := filepath.Join(dir, secrets.KeyFile)
	if err := os.Chmod(key, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = server.New(context.Background(), cfg, nil)
	if err == nil || !strings.Contains(err.Error(), "chmod 600 "+key) {
		t.Fatalf("start with a 0644 key file: %v", err)
	}
}
