package store_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/gatehouse/gatehouse/internal/store"
	"github.com/gatehouse/gatehouse/internal/store/storetest"
)

func TestMigrateIsIdempotentAndReady(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		pending, err := s.Pending(ctx)
		if err != nil || pending {
			t.Fatalf("after Migrate: pending=%v err=%v", pending, err)
		}
		res, err := s.Migrate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Applied) != 0 || len(res.RiverApplied) != 0 {
			t.Fatalf("second Migrate applied %v / River %v, want nothing", res.Applied, res.RiverApplied)
		}
		if res.Version < 1 {
			t.Fatalf("schema version %d", res.Version)
		}
		if err := s.Ping(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

func TestFreshDatabaseIsPending(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			s, err := store.Open(ctx, storetest.Config(t, d))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			pending, err := s.Pending(ctx)
			if err != nil || !pending {
				t.Fatalf("fresh database: pending=%v err=%v, want pending", pending, err)
			}
		})
	}
}

func TestSQLiteFileIsPrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "data")
	s, err := store.Open(context.Background(), store.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for path, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, store.SQLiteFile): 0o600} {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Mode().Perm(); got != want {
			t.Errorf("%s: mode %v, want %v", path, got, want)
		}
	}
}

func TestBadDatabaseURL(t *testing.T) {
	_, err := store.Open(context.Background(), store.Config{DatabaseURL: "mysql://u:secret@h/db"})
	if err == nil || err.Error() != "database URL mysql://u:xxxxx@h/db: want postgres://user:password@host:port/database" {
		t.Fatalf("err = %v", err)
	}
}

// SQLite runs in WAL mode (pages read while a sync writes) and syncs every commit to disk
// before acknowledging it.
func TestSQLiteIsWALAndDurable(t *testing.T) {
	s, err := store.Open(context.Background(), store.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var mode string
	var sync int
	if err := s.SQLiteDB().QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode %q, %v", mode, err)
	}
	if err := s.SQLiteDB().QueryRow("PRAGMA synchronous").Scan(&sync); err != nil || sync != 2 {
		t.Fatalf("synchronous %d (2 is FULL), %v", sync, err)
	}
}
