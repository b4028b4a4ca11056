package connection_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/gatehouse/gatehouse/internal/auth"
	"github.com/gatehouse/gatehouse/internal/awsfetch"
	"github.com/gatehouse/gatehouse/internal/awssim"
	"github.com/gatehouse/gatehouse/internal/connection"
	"github.com/gatehouse/gatehouse/internal/secrets"
	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

// The secrets of the tests: long enough to be shown as their last 4 characters.
const (
	externalID   = "ext-id-5f1c2a9e7b3d4c60"
	memberExtID  = "member-ext-9a8b7c6d5e4f3021"
	scimToken    = "scim-token-0123456789abcdefXYZ1"
	secretKey    = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	shortSecret  = "short"
	adminEmail   = "ann@example.com"
	adminAddress = "192.0.2.10"
)

var allSecrets = []string{externalID, memberExtID, scimToken, secretKey}

type env struct {
	st   *store.Store
	svc  *connection.Service
	logs *observer.ObservedLogs
	// dump returns every byte the database holds (the SQLite files, or the rows of
	// PostgreSQL's tables as text), to check no secret is there in clear.
	dump func() []byte
}

// each runs fn on both databases with a fresh store, a new key and a logger that records
// everything at debug level.
func each(t *testing.T, fn func(t *testing.T, e *env)) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			cfg := storetest.Config(t, d)
			ctx := context.Background()
			st, err := store.Open(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			if _, err := st.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			key := make([]byte, secrets.KeySize)
			_, _ = rand.Read(key)
			keys, err := secrets.NewKeyring(key)
			if err != nil {
				t.Fatal(err)
			}
			core, logs := observer.New(zapcore.DebugLevel)
			e := &env{st: st, svc: connection.NewService(st, keys, zap.New(core), time.Hour), logs: logs}
			if d == store.SQLite {
				e.dump = func() []byte {
					var all []byte
					for _, suffix := range []string{"", "-wal", "-shm"} {
						b, err := os.ReadFile(filepath.Join(cfg.DataDir, store.SQLiteFile+suffix))
						if err != nil && !os.IsNotExist(err) {
							t.Fatal(err)
						}
						all = append(all, b...)
					}
					if len(all) == 0 {
						t.Fatal("the SQLite database file is empty")
					}
					return all
				}
			} else {
				e.dump = func() []byte {
					conn, err := pgx.Connect(ctx, cfg.DatabaseURL)
					if err != nil {
						t.Fatal(err)
					}
					defer conn.Close(ctx)
					var all []byte
					for _, table := range []string{"connections", "audit_log"} {
						rows, err := conn.Query(ctx, "SELECT t::text FROM "+table+" t")
						if err != nil {
							t.Fatal(err)
						}
						for rows.Next() {
							var s string
							if err := rows.Scan(&s); err != nil {
								t.Fatal(err)
							}
							all = append(all, s...)
						}
						rows.Close()
					}
					return all
				}
			}
			fn(t, e)
		})
	}
}

var admin = &auth.Caller{Email: adminEmail, Roles: []string{auth.RoleAdmin}, RemoteAddr: adminAddress}

func fullInput() connection.Input {
	return connection.Input{
		ID: "prod-org", Name: "Production organization", Schedule: "30m",
		Settings: connection.Settings{
			Region: "us-east-1", EndpointURL: "http://127.0.0.1:4566", RoleARN: "arn:aws:iam::111111111111:role/GatehouseConnector",
			Orgs: true, MemberRoleName: "GatehouseMemberRead", IdentityCenter: true, IdentityCenterRegion: "eu-west-1",
			SyncSecrets: true, SCIMEndpoint: "https://scim.eu-west-1.amazonaws.com/abc/scim/v2", AccessKeyID: "AKIAEXAMPLE", Concurrency: 8,
		},
		Secrets: connection.Secrets{ExternalID: externalID, MemberExternalID: memberExtID, SCIMToken: scimToken, SecretAccessKey: secretKey},
	}
}

// noSecretsAnywhere fails when a secret is in the database's bytes, in a log line, or in
// what is given.
func noSecretsAnywhere(t *testing.T, e *env, shown ...any) {
	t.Helper()
	db := e.dump()
	// The dump sees the rows: the role ARN, a setting, is there in clear.
	if !bytes.Contains(db, []byte("role/GatehouseConnector")) {
		t.Fatal("the database dump does not hold the connection's role ARN: it does not read the rows")
	}
	var logged bytes.Buffer
	for _, l := range e.logs.All() {
		b, _ := json.Marshal(l.ContextMap())
		logged.WriteString(l.Message + " " + string(b) + "\n")
	}
	for _, s := range allSecrets {
		if bytes.Contains(db, []byte(s)) {
			t.Errorf("the database holds the secret %q in clear", s)
		}
		if strings.Contains(logged.String(), s) {
			t.Errorf("a log line holds the secret %q:\n%s", s, logged.String())
		}
		for _, v := range shown {
			b, _ := json.Marshal(v)
			if strings.Contains(string(b)+" "+fmtErr(v), s) {
				t.Errorf("%T shows the secret %q: %s", v, s, b)
			}
		}
	}
}

func fmtErr(v any) string {
	if err, ok := v.(error); ok && err != nil {
		return err.Error()
	}
	return ""
}

func TestCreateMasksSecretsAndFetchConfigUnsealsThem(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		v, err := e.svc.Create(ctx, admin, fullInput())
		if err != nil {
			t.Fatal(err)
		}
		wantMasks := map[string]string{
			"external_id": "•••• 4c60", "member_external_id": "•••• 3021",
			"scim_token": "•••• XYZ1", "secret_access_key": "•••• EKEY",
		}
		if !reflect.DeepEqual(v.Secrets, wantMasks) {
			t.Errorf("masked secrets = %v, want %v", v.Secrets, wantMasks)
		}
		if v.Source != "ui" || v.Kind != "aws" || v.Schedule != "30m0s" || !v.Deletable() || v.Settings != fullInput().Settings {
			t.Errorf("view = %+v", v)
		}
		got, err := e.svc.Get(ctx, "prod-org")
		if err != nil || !reflect.DeepEqual(got.Secrets, wantMasks) {
			t.Fatalf("Get = %+v, %v", got, err)
		}
		list, err := e.svc.List(ctx)
		if err != nil || len(list) != 1 || list[0].ID != "prod-org" {
			t.Fatalf("List = %+v, %v", list, err)
		}

		cfg, err := e.svc.FetchConfig(ctx, "prod-org")
		if err != nil {
			t.Fatal(err)
		}
		if cfg.ExternalID != externalID || cfg.MemberExternalID != memberExtID || cfg.SCIMToken != scimToken ||
			cfg.RoleARN != fullInput().RoleARN || !cfg.Orgs || cfg.MemberRoleName != "GatehouseMemberRead" ||
			!cfg.IdentityCenter || cfg.IdentityCenterRegion != "eu-west-1" || !cfg.SyncSecrets ||
			cfg.SCIMEndpoint != fullInput().SCIMEndpoint || cfg.EndpointURL != "http://127.0.0.1:4566" ||
			cfg.Region != "us-east-1" || cfg.Concurrency != 8 || !cfg.AllowPartial {
			t.Errorf("FetchConfig = %+v", cfg)
		}
		if cfg.Credentials == nil {
			t.Fatal("FetchConfig: no static credentials for a connection with an access key")
		}
		creds, err := cfg.Credentials.Retrieve(ctx)
		if err != nil || creds.AccessKeyID != "AKIAEXAMPLE" || creds.SecretAccessKey != secretKey {
			t.Errorf("credentials = %s, %v", creds.AccessKeyID, err)
		}

		entries, err := e.st.ListAudit(ctx, store.AuditFilter{})
		if err != nil || len(entries) != 1 {
			t.Fatalf("audit = %+v, %v", entries, err)
		}
		a := entries[0]
		if a.Actor != adminEmail || a.Action != "connection.create" || a.Target != "connection:prod-org" || a.RemoteAddr != adminAddress {
			t.Errorf("audit entry = %+v", a)
		}
		var detail struct {
			SecretsSet []string            `json:"secrets_set"`
			Settings   connection.Settings `json:"settings"`
		}
		if err := json.Unmarshal([]byte(a.Detail), &detail); err != nil || !reflect.DeepEqual(detail.SecretsSet, connection.SecretFields) || detail.Settings != fullInput().Settings {
			t.Errorf("audit detail = %s", a.Detail)
		}
		noSecretsAnywhere(t, e, v, got, list)
	})
}

func TestShortSecretsShowAsSet(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		in := connection.Input{ID: "aws", Settings: connection.Settings{RoleARN: "arn:aws:iam::111111111111:role/R"}, Secrets: connection.Secrets{ExternalID: shortSecret}}
		v, err := e.svc.Create(context.Background(), admin, in)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"external_id": "set", "member_external_id": "", "scim_token": "", "secret_access_key": ""}
		if !reflect.DeepEqual(v.Secrets, want) || v.Name != "aws" || v.Schedule != "1h0m0s" {
			t.Fatalf("view = %+v", v)
		}
		cfg, err := e.svc.FetchConfig(context.Background(), "aws")
		if err != nil || cfg.ExternalID != shortSecret || cfg.Credentials != nil {
			t.Fatalf("FetchConfig = %+v, %v (no access key: the standard chain, so no Credentials)", cfg, err)
		}
	})
}

func TestUpdateKeepsEmptySecretsAndClearsNamedOnes(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		if _, err := e.svc.Create(ctx, admin, fullInput()); err != nil {
			t.Fatal(err)
		}
		// Change a setting, leave every secret empty (kept), and clear the SCIM pair.
		in := fullInput()
		in.Secrets = connection.Secrets{}
		in.Name = "Prod"
		in.SCIMEndpoint = ""
		in.ClearSecrets = []string{"scim_token"}
		v, err := e.svc.Update(ctx, admin, "prod-org", in)
		if err != nil {
			t.Fatal(err)
		}
		if v.Name != "Prod" || v.Secrets["external_id"] != "•••• 4c60" || v.Secrets["scim_token"] != "" || v.Secrets["secret_access_key"] != "•••• EKEY" {
			t.Fatalf("after update: %+v", v)
		}
		cfg, err := e.svc.FetchConfig(ctx, "prod-org")
		if err != nil || cfg.ExternalID != externalID || cfg.MemberExternalID != memberExtID || cfg.SCIMToken != "" || cfg.SCIMEndpoint != "" {
			t.Fatalf("FetchConfig after update = %+v, %v", cfg, err)
		}
		// A new secret replaces the old.
		in = fullInput()
		in.Secrets = connection.Secrets{ExternalID: "a-brand-new-external-id-0042"}
		in.SCIMEndpoint = ""
		if _, err := e.svc.Update(ctx, admin, "prod-org", in); err != nil {
			t.Fatal(err)
		}
		cfg, _ = e.svc.FetchConfig(ctx, "prod-org")
		creds, _ := cfg.Credentials.Retrieve(ctx)
		if cfg.ExternalID != "a-brand-new-external-id-0042" || creds.SecretAccessKey != secretKey {
			t.Fatalf("after the new external id: %q", cfg.ExternalID)
		}
		entries, _ := e.st.ListAudit(ctx, store.AuditFilter{Action: "connection.update"})
		if len(entries) != 2 {
			t.Fatalf("%d update entries, want 2", len(entries))
		}
		var d1, d2 struct{ Changed []string }
		_ = json.Unmarshal([]byte(entries[0].Detail), &d1)
		_ = json.Unmarshal([]byte(entries[1].Detail), &d2)
		if !reflect.DeepEqual(d1.Changed, []string{"name", "scim_endpoint", "scim_token"}) {
			t.Errorf("first update changed %v", d1.Changed)
		}
		if !reflect.DeepEqual(d2.Changed, []string{"name", "external_id"}) {
			t.Errorf("second update changed %v", d2.Changed)
		}
		if strings.Contains(entries[1].Detail, "a-brand-new") {
			t.Errorf("the audit detail shows the new secret: %s", entries[1].Detail)
		}
		noSecretsAnywhere(t, e)
	})
}

func TestValidationSaysWhatToFix(t *testing.T) {
	arn := "arn:aws:iam::111111111111:role/R"
	cases := []struct {
		name string
		in   connection.Input
		want []connection.FieldError
	}{
		{"no id", connection.Input{}, []connection.FieldError{{Field: "id", Message: "id is required: a short name such as aws or prod-org"}}},
		{"bad id", connection.Input{ID: "Prod Org"}, []connection.FieldError{{Field: "id", Message: `id must be a short name of lowercase letters, digits, '-' and '_' (such as aws or prod-org), got "Prod Org"`}}},
		{"external id without role", connection.Input{ID: "a", Secrets: connection.Secrets{ExternalID: "x"}},
			[]connection.FieldError{{Field: "external_id", Message: "external_id is passed when assuming role_arn; set role_arn too"}}},
		{"bad role arn", connection.Input{ID: "a", Settings: connection.Settings{RoleARN: "GatehouseConnector"}},
			[]connection.FieldError{{Field: "role_arn", Message: `role_arn must be a role ARN like arn:aws:iam::123456789012:role/GatehouseConnector, got "GatehouseConnector"`}}},
		{"scim endpoint alone", connection.Input{ID: "a", Settings: connection.Settings{IdentityCenter: true, SCIMEndpoint: "https://scim.example/v2"}},
			[]connection.FieldError{{Field: "scim_token", Message: "scim_endpoint and scim_token go together; set both or neither"}}},
		{"scim without identity center", connection.Input{ID: "a", Settings: connection.Settings{SCIMEndpoint: "https://scim.example/v2"}, Secrets: connection.Secrets{SCIMToken: "t"}},
			[]connection.FieldError{{Field: "scim_endpoint", Message: "scim_endpoint reads Identity Center user status; set identity_center too"}}},
		{"identity center region alone", connection.Input{ID: "a", Settings: connection.Settings{IdentityCenterRegion: "eu-west-1"}},
			[]connection.FieldError{{Field: "identity_center_region", Message: "identity_center_region has no effect without identity_center; set identity_center too"}}},
		{"member external id without orgs", connection.Input{ID: "a", Settings: connection.Settings{RoleARN: arn}, Secrets: connection.Secrets{MemberExternalID: "m"}},
			[]connection.FieldError{{Field: "member_external_id", Message: "member_external_id is used when assuming roles in member accounts; set orgs too"}}},
		{"access key alone", connection.Input{ID: "a", Settings: connection.Settings{AccessKeyID: "AKIA"}},
			[]connection.FieldError{{Field: "secret_access_key", Message: "access_key_id and secret_access_key go together; set both or neither"}}},
		{"schedule", connection.Input{ID: "a", Schedule: "10s"},
			[]connection.FieldError{{Field: "schedule", Message: `schedule must be a duration of at least 1m such as 1h or 30m, got "10s"`}}},
		{"concurrency", connection.Input{ID: "a", Settings: connection.Settings{Concurrency: -1}},
			[]connection.FieldError{{Field: "concurrency", Message: "concurrency must be at least 1 (or 0 for the default), got -1"}}},
		{"endpoint", connection.Input{ID: "a", Settings: connection.Settings{EndpointURL: "localhost:4566"}},
			[]connection.FieldError{{Field: "endpoint_url", Message: `endpoint_url must be an absolute http(s) URL such as the one gatehouse sim prints, got "localhost:4566"`}}},
		{"two problems at once", connection.Input{ID: "a", Settings: connection.Settings{RoleARN: "x", Concurrency: -2}}, []connection.FieldError{
			{Field: "role_arn", Message: `role_arn must be a role ARN like arn:aws:iam::123456789012:role/GatehouseConnector, got "x"`},
			{Field: "concurrency", Message: "concurrency must be at least 1 (or 0 for the default), got -2"}}},
	}
	each(t, func(t *testing.T, e *env) {
		for _, c := range cases {
			_, err := e.svc.Create(context.Background(), admin, c.in)
			var ve *connection.ValidationError
			if !errors.As(err, &ve) {
				t.Errorf("%s: err = %v, want a ValidationError", c.name, err)
				continue
			}
			if !reflect.DeepEqual(ve.Fields, c.want) {
				t.Errorf("%s: fields\n%+v\nwant\n%+v", c.name, ve.Fields, c.want)
			}
		}
		if list, _ := e.svc.List(context.Background()); len(list) != 0 {
			t.Errorf("invalid inputs were stored: %+v", list)
		}
		if n, _ := e.st.ListAudit(context.Background(), store.AuditFilter{}); len(n) != 0 {
			t.Errorf("invalid inputs were audited: %+v", n)
		}
	})
}

func TestCreateTakenIDAndDelete(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		if _, err := e.svc.Create(ctx, admin, fullInput()); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Create(ctx, admin, fullInput()); !errors.Is(err, connection.ErrExists) {
			t.Fatalf("second create: %v, want ErrExists", err)
		}
		if err := e.svc.Delete(ctx, admin, "prod-org"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Get(ctx, "prod-org"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Get after delete: %v", err)
		}
		if err := e.svc.Delete(ctx, admin, "prod-org"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("second delete: %v", err)
		}
		if _, err := e.svc.FetchConfig(ctx, "prod-org"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("FetchConfig of a deleted connection: %v", err)
		}
		entries, _ := e.st.ListAudit(ctx, store.AuditFilter{})
		if len(entries) != 2 || entries[1].Action != "connection.delete" || entries[1].Target != "connection:prod-org" ||
			entries[1].Actor != adminEmail || entries[1].Detail != `{"name":"Production organization"}` {
			t.Fatalf("audit = %+v", entries)
		}
	})
}

func TestConfigFileConnections(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		fromFile := fullInput()
		fromFile.ID = "aws"
		if err := e.svc.ApplyConfig(ctx, []connection.Input{fromFile}); err != nil {
			t.Fatal(err)
		}
		v, err := e.svc.Get(ctx, "aws")
		if err != nil || v.Source != "config" || v.Deletable() {
			t.Fatalf("config connection = %+v, %v", v, err)
		}
		err = e.svc.Delete(ctx, admin, "aws")
		if !errors.Is(err, connection.ErrConfigManaged) || !strings.Contains(err.Error(), "remove it from the config file") {
			t.Fatalf("deleting a config connection: %v", err)
		}
		_, err = e.svc.Update(ctx, admin, "aws", fromFile)
		if !errors.Is(err, connection.ErrConfigManaged) || !strings.Contains(err.Error(), "change it in the config file") {
			t.Fatalf("updating a config connection: %v", err)
		}
		// The same file at the next start changes nothing and audits nothing.
		if err := e.svc.ApplyConfig(ctx, []connection.Input{fromFile}); err != nil {
			t.Fatal(err)
		}
		entries, _ := e.st.ListAudit(ctx, store.AuditFilter{})
		if len(entries) != 1 || entries[0].Action != "connection.create" || entries[0].Actor != "system" {
			t.Fatalf("audit after two identical starts = %+v", entries)
		}
		// A changed secret in the file is an update.
		fromFile.SCIMToken = "scim-token-rotated-000000009999"
		if err := e.svc.ApplyConfig(ctx, []connection.Input{fromFile}); err != nil {
			t.Fatal(err)
		}
		cfg, _ := e.svc.FetchConfig(ctx, "aws")
		if cfg.SCIMToken != "scim-token-rotated-000000009999" {
			t.Fatalf("SCIM token after the file changed: not the new one")
		}
		entries, _ = e.st.ListAudit(ctx, store.AuditFilter{})
		if len(entries) != 2 || entries[1].Action != "connection.update" || !strings.Contains(entries[1].Detail, `"changed":["scim_token"]`) {
			t.Fatalf("audit after a changed file = %+v", entries)
		}
		// Gone from the file: it becomes an ordinary connection an admin may delete.
		if err := e.svc.ApplyConfig(ctx, nil); err != nil {
			t.Fatal(err)
		}
		v, _ = e.svc.Get(ctx, "aws")
		if v.Source != "ui" || !v.Deletable() {
			t.Fatalf("after removal from the file: %+v", v)
		}
		if err := e.svc.Delete(ctx, admin, "aws"); err != nil {
			t.Fatal(err)
		}
		// A bad file says which connection and what to fix, and changes nothing.
		bad := connection.Input{ID: "x", Settings: connection.Settings{RoleARN: "nope"}}
		err = e.svc.ApplyConfig(ctx, []connection.Input{bad})
		if err == nil || !strings.Contains(err.Error(), `connections[0] (x): role_arn must be a role ARN`) {
			t.Fatalf("bad config: %v", err)
		}
		if list, _ := e.svc.List(ctx); len(list) != 0 {
			t.Fatalf("a bad config file stored %+v", list)
		}
		noSecretsAnywhere(t, e)
	})
}

func TestWrongKeyIsReportedNotHidden(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		if _, err := e.svc.Create(ctx, admin, fullInput()); err != nil {
			t.Fatal(err)
		}
		other, _ := secrets.NewKeyring(bytes.Repeat([]byte{7}, secrets.KeySize))
		svc := connection.NewService(e.st, other, nil, time.Hour)
		_, err := svc.FetchConfig(ctx, "prod-org")
		if !errors.Is(err, secrets.ErrWrongKey) {
			t.Fatalf("FetchConfig with another key: %v, want ErrWrongKey", err)
		}
		v, err := svc.Get(ctx, "prod-org")
		if err != nil || v.Secrets["scim_token"] != "unreadable" || len(v.Warnings) != 1 {
			t.Fatalf("Get with another key = %+v, %v", v, err)
		}
	})
}

// A connection's FetchConfig reaches AWS: a sync of the simulator's demo organization
// with the connection's role, External ID, SCIM token and static credentials.
func TestFetchConfigSyncsTheSimulator(t *testing.T) {
	w, err := awssim.Preset("demo", 1)
	if err != nil {
		t.Fatal(err)
	}
	sim := awssim.New(w, awssim.Options{})
	if _, err := sim.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	info := sim.Info()
	st := storetest.Open(t, store.SQLite)
	keys, _ := secrets.NewKeyring(bytes.Repeat([]byte{1}, secrets.KeySize))
	svc := connection.NewService(st, keys, nil, time.Hour)
	in := connection.Input{ID: "demo",
		Settings: connection.Settings{Region: info.Region, EndpointURL: info.Endpoint, RoleARN: info.RoleARN, Orgs: true,
			MemberRoleName: info.MemberRoleName, IdentityCenter: true, IdentityCenterRegion: info.IdentityCenterRegion,
			SCIMEndpoint: info.SCIMEndpoint, AccessKeyID: info.AccessKeyID},
		Secrets: connection.Secrets{ExternalID: info.ExternalID, SCIMToken: info.SCIMToken, SecretAccessKey: info.SecretAccessKey}}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := svc.Create(ctx, admin, in); err != nil {
		t.Fatal(err)
	}
	cfg, err := svc.FetchConfig(ctx, "demo")
	if err != nil {
		t.Fatal(err)
	}
	snap, stats, err := awsfetch.Fetch(ctx, cfg)
	if err != nil {
		t.Fatalf("sync with the connection's configuration: %v", err)
	}
	if snap.Org == nil || snap.IdentityCenter == nil || len(snap.Accounts) < 2 || snap.CallerAccountID != info.ManagementAccountID {
		t.Fatalf("snapshot: org %v, identity center %v, %d accounts, caller %s", snap.Org != nil, snap.IdentityCenter != nil, len(snap.Accounts), snap.CallerAccountID)
	}
	// The demo organization has an account whose member role is missing: a server sync
	// records it as skipped rather than failing (AllowPartial).
	if len(stats.Skipped) == 0 {
		t.Errorf("no skipped account: the demo's account without a member role should be skipped, not fail the sync")
	}
}
