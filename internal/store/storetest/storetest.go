// Package storetest opens fresh, migrated stores for tests, on SQLite and on PostgreSQL,
// so that every store and job test runs against both databases.
//
// PostgreSQL comes from GATEHOUSE_TEST_DATABASE_URL, the URL of a server in which each
// test creates (and drops) its own database; scripts/test.sh starts a private cluster
// and sets it. Without it the PostgreSQL half of a test is skipped with a message saying
// so, unless GATEHOUSE_REQUIRE_POSTGRES=1 (set by scripts/test.sh), which makes it fail.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/gatehouse/gatehouse/internal/store"
)

// EnvURL names the PostgreSQL server URL variable.
const EnvURL = "GATEHOUSE_TEST_DATABASE_URL"

// Dialects are the databases every store test runs on.
var Dialects = []store.Dialect{store.SQLite, store.Postgres}

// Each runs fn as a subtest per database, with a fresh migrated store.
func Each(t *testing.T, fn func(t *testing.T, s *store.Store)) {
	t.Helper()
	for _, d := range Dialects {
		t.Run(string(d), func(t *testing.T) {
			fn(t, Open(t, d))
		})
	}
}

// Open returns a fresh migrated store of the dialect, closed (and dropped) at cleanup.
func Open(t testing.TB, d store.Dialect) *store.Store {
	t.Helper()
	cfg := Config(t, d)
	ctx := context.Background()
	s, err := store.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("open %s store: %v", d, err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrate %s store: %v", d, err)
	}
	return s
}

// Config returns the configuration of a fresh, empty database of the dialect: a new
// temporary directory for SQLite, a new database on the test server for PostgreSQL.
func Config(t testing.TB, d store.Dialect) store.Config {
	t.Helper()
	if d == store.SQLite {
		return store.Config{DataDir: t.TempDir()}
	}
	return store.Config{DatabaseURL: NewDatabase(t)}
}

// NewDatabase creates a database on the PostgreSQL test server and returns its URL; it is
// dropped at cleanup.
func NewDatabase(t testing.TB) string {
	t.Helper()
	server := os.Getenv(EnvURL)
	if server == "" {
		if os.Getenv("GATEHOUSE_REQUIRE_POSTGRES") == "1" {
			t.Fatalf("PostgreSQL is required (GATEHOUSE_REQUIRE_POSTGRES=1) but %s is not set", EnvURL)
		}
		t.Skipf("PostgreSQL half skipped: %s is not set (scripts/test.sh starts a server and sets it)", EnvURL)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, server)
	if err != nil {
		t.Fatalf("connect to the PostgreSQL test server %s: %v", EnvURL, err)
	}
	defer conn.Close(ctx)
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "gh_test_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(ctx, server)
		if err != nil {
			return
		}
		defer c.Close(ctx)
		_, _ = c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	u, err := url.Parse(server)
	if err != nil {
		t.Fatalf("%s: %v", EnvURL, err)
	}
	u.Path = "/" + name
	return u.String()
}
