package server_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"

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
