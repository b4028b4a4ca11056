package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Dialect names the database behind a Store.
type Dialect string

// The two databases Gatehouse runs on.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// SQLiteFile is the database file's name in the data directory.
const SQLiteFile = "gatehouse.db"

// Config says which database to open.
type Config struct {
	// DataDir holds the SQLite database (when DatabaseURL is empty). It is created 0700
	// when missing.
	DataDir string
	// DatabaseURL is a postgres:// (or postgresql://) URL; empty means SQLite in DataDir.
	DatabaseURL string
}

// Store is an open database. Its methods are safe for concurrent use.
type Store struct {
	dialect Dialect
	// SQLite: writer is the one connection that writes (SQLite has one writer at a time;
	// River shares it), reader a pool of read-only connections (WAL lets them read while
	// the writer writes).
	writer *sql.DB
	reader *sql.DB
	// PostgreSQL: one pgx pool for everything, and a database/sql view of it for goose.
	pool   *pgxpool.Pool
	poolDB *sql.DB

	read  querier
	write querier
	path  string // SQLite file
}

// Open opens (and for SQLite creates) the database. It does not migrate: call Migrate.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.DatabaseURL != "" {
		return openPostgres(ctx, cfg.DatabaseURL)
	}
	if cfg.DataDir == "" {
		return nil, errors.New("no database: set a data directory (--data-dir) or a PostgreSQL URL (--database-url)")
	}
	return openSQLite(ctx, cfg.DataDir)
}

func openSQLite(ctx context.Context, dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory %s: %w", dir, err)
	}
	path := filepath.Join(dir, SQLiteFile)
	// The inventory is sensitive: the database is readable by its owner only, and so are
	// the WAL and shared-memory files SQLite creates next to it (they inherit the umask).
	if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600); err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	} else {
		f.Close()
	}
	_ = os.Chmod(path, 0o600)
	// synchronous(FULL): a commit is on disk before it is acknowledged, so that not even a
	// power loss takes back an audit entry, a sync's state or a revoked token (NORMAL, the
	// usual WAL setting, keeps the database consistent but may lose the last commits).
	// Gatehouse writes rarely (syncs, sign-ins, admin changes), so the fsync per commit
	// costs little.
	base := "file:" + filepath.ToSlash(path) + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)&_time_format=sqlite"
	writer, err := sql.Open("sqlite", base+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	writer.SetMaxOpenConns(1)
	writer.SetConnMaxLifetime(0)
	writer.SetConnMaxIdleTime(0)
	reader, err := sql.Open("sqlite", base+"&_pragma=query_only(1)")
	if err != nil {
		writer.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	reader.SetMaxOpenConns(8)
	reader.SetMaxIdleConns(8)
	if err := writer.PingContext(ctx); err != nil {
		writer.Close()
		reader.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	for _, suffix := range []string{"-wal", "-shm"} {
		_ = os.Chmod(path+suffix, 0o600)
	}
	return &Store{
		dialect: SQLite, writer: writer, reader: reader, path: path,
		read: &cachedQuerier{db: reader}, write: sqlQuerier{writer},
	}, nil
}

func openPostgres(ctx context.Context, dsn string) (*Store, error) {
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, fmt.Errorf("database URL %s: want postgres://user:password@host:port/database", redactURL(dsn))
	}
	pcfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("database URL %s: %v", redactURL(dsn), err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", redactURL(dsn), err)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to PostgreSQL at %s: %w", redactURL(dsn), err)
	}
	q := pgxQuerier{pool}
	return &Store{dialect: Postgres, pool: pool, poolDB: stdlib.OpenDBFromPool(pool), read: q, write: q}, nil
}

// redactURL hides the password of a database URL for messages.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Redacted()
}

// Dialect says which database the store uses.
func (s *Store) Dialect() Dialect { return s.dialect }

// Describe names the database for people: the SQLite file, or the PostgreSQL URL without
// its password.
func (s *Store) Describe() string {
	if s.dialect == SQLite {
		return "SQLite " + s.path
	}
	cfg := s.pool.Config().ConnConfig
	return fmt.Sprintf("PostgreSQL %s:%d/%s", cfg.Host, cfg.Port, cfg.Database)
}

// Close closes the database.
func (s *Store) Close() error {
	if s.dialect == SQLite {
		if c, ok := s.read.(*cachedQuerier); ok {
			c.close()
		}
		err := s.reader.Close()
		return errors.Join(err, s.writer.Close())
	}
	s.poolDB.Close()
	s.pool.Close()
	return nil
}

// SQLiteDB is the SQLite writer connection, for River's riversqlite driver (nil on
// PostgreSQL). River and the store share the one writer, so a job can be inserted in the
// transaction of the change that needs it.
func (s *Store) SQLiteDB() *sql.DB { return s.writer }

// PGXPool is the PostgreSQL pool, for River's riverpgxv5 driver (nil on SQLite).
func (s *Store) PGXPool() *pgxpool.Pool { return s.pool }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	var one int64
	return s.read.queryRow(ctx, "SELECT 1").Scan(&one)
}

func (s *Store) gooseProvider() (*goose.Provider, error) {
	fsys, err := fsSub(migrationFS, "migrations")
	if err != nil {
		return nil, err
	}
	if s.dialect == SQLite {
		return goose.NewProvider(goose.DialectSQLite3, s.writer, fsys)
	}
	// Two replicas starting at once must not both migrate: goose takes a PostgreSQL
	// advisory lock for the run.
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return nil, err
	}
	return goose.NewProvider(goose.DialectPostgres, s.poolDB, fsys, goose.WithSessionLocker(locker))
}

// MigrationResult says what Migrate applied.
type MigrationResult struct {
	Applied      []string // Gatehouse's migrations applied now, by file name
	RiverApplied []int    // River's migration versions applied now
	Version      int64    // Gatehouse's schema version after the run
}

// Migrate applies Gatehouse's migrations and River's. It is safe to run from several
// replicas at once on PostgreSQL and does nothing when everything is applied.
func (s *Store) Migrate(ctx context.Context) (*MigrationResult, error) {
	p, err := s.gooseProvider()
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	res, err := p.Up(ctx)
	if err != nil {
		return nil, fmt.Errorf("apply migrations: %w", err)
	}
	out := &MigrationResult{}
	for _, r := range res {
		out.Applied = append(out.Applied, r.Source.Path)
	}
	if out.Version, err = p.GetDBVersion(ctx); err != nil {
		return nil, fmt.Errorf("schema version: %w", err)
	}
	var rres *rivermigrate.MigrateResult
	if s.dialect == SQLite {
		m, err := rivermigrate.New(riversqlite.New(s.writer), nil)
		if err != nil {
			return nil, fmt.Errorf("River migrations: %w", err)
		}
		rres, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
		if err != nil {
			return nil, fmt.Errorf("apply River migrations: %w", err)
		}
	} else {
		m, err := rivermigrate.New(riverpgxv5.New(s.pool), nil)
		if err != nil {
			return nil, fmt.Errorf("River migrations: %w", err)
		}
		rres, err = s.withPGAdvisoryLock(ctx, func() (*rivermigrate.MigrateResult, error) {
			return m.Migrate(ctx, rivermigrate.DirectionUp, nil)
		})
		if err != nil {
			return nil, fmt.Errorf("apply River migrations: %w", err)
		}
	}
	for _, v := range rres.Versions {
		out.RiverApplied = append(out.RiverApplied, v.Version)
	}
	return out, nil
}

// withPGAdvisoryLock runs fn holding a session advisory lock, so that replicas starting
// together apply River's migrations once.
func (s *Store) withPGAdvisoryLock(ctx context.Context, fn func() (*rivermigrate.MigrateResult, error)) (*rivermigrate.MigrateResult, error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Release()
	const key = 0x6761746568 // "gateh"
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", int64(key)); err != nil {
		return nil, err
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", int64(key)) //nolint:errcheck
	return fn()
}

// Pending says whether migrations remain to be applied (readiness fails until they are).
func (s *Store) Pending(ctx context.Context) (bool, error) {
	p, err := s.gooseProvider()
	if err != nil {
		return false, err
	}
	return p.HasPending(ctx)
}

// Tx is a transaction. On SQLite it is a *sql.Tx, on PostgreSQL a pgx.Tx; Driver gives it
// to River's InsertTx so that a job is inserted with the change that needs it.
type Tx struct {
	q      querier
	driver any
	store  *Store
}

// Driver is the underlying transaction: *sql.Tx on SQLite, pgx.Tx on PostgreSQL.
func (t *Tx) Driver() any { return t.driver }

// InTx runs fn in a transaction, committed when fn returns nil and rolled back otherwise.
func (s *Store) InTx(ctx context.Context, fn func(tx *Tx) error) error {
	if s.dialect == SQLite {
		stx, err := s.writer.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("begin: %w", err)
		}
		if err := fn(&Tx{q: sqlQuerier{stx}, driver: stx, store: s}); err != nil {
			_ = stx.Rollback()
			return err
		}
		if err := stx.Commit(); err != nil {
			return fmt.Errorf("commit: %w", err)
		}
		return nil
	}
	ptx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(&Tx{q: pgxQuerier{ptx}, driver: ptx, store: s}); err != nil {
		_ = ptx.Rollback(context.WithoutCancel(ctx))
		return err
	}
	if err := ptx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// Every query helper below runs through a querier, so the same SQL serves both databases.
type querier interface {
	exec(ctx context.Context, q string, args ...any) (int64, error)
	query(ctx context.Context, q string, args ...any) (rows, error)
	queryRow(ctx context.Context, q string, args ...any) row
}

type rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close() error
}

type row interface{ Scan(dest ...any) error }

type sqlDB interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

type sqlQuerier struct{ db sqlDB }

func (q sqlQuerier) exec(ctx context.Context, s string, args ...any) (int64, error) {
	res, err := q.db.ExecContext(ctx, s, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (q sqlQuerier) query(ctx context.Context, s string, args ...any) (rows, error) {
	return q.db.QueryContext(ctx, s, args...)
}

func (q sqlQuerier) queryRow(ctx context.Context, s string, args ...any) row {
	return q.db.QueryRowContext(ctx, s, args...)
}

type pgxQuerier struct {
	db interface {
		Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
		QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	}
}

func (q pgxQuerier) exec(ctx context.Context, s string, args ...any) (int64, error) {
	// pool and tx both have Exec; reach it through the concrete types.
	switch db := q.db.(type) {
	case *pgxpool.Pool:
		tag, err := db.Exec(ctx, rebind(s), args...)
		return tag.RowsAffected(), err
	case pgx.Tx:
		tag, err := db.Exec(ctx, rebind(s), args...)
		return tag.RowsAffected(), err
	}
	return 0, fmt.Errorf("store: unexpected PostgreSQL handle %T", q.db)
}

func (q pgxQuerier) query(ctx context.Context, s string, args ...any) (rows, error) {
	r, err := q.db.Query(ctx, rebind(s), args...)
	if err != nil {
		return nil, err
	}
	return pgxRows{r}, nil
}

func (q pgxQuerier) queryRow(ctx context.Context, s string, args ...any) row {
	return pgxRow{q.db.QueryRow(ctx, rebind(s), args...)}
}

type pgxRows struct{ pgx.Rows }

func (r pgxRows) Close() error { r.Rows.Close(); return r.Rows.Err() }

type pgxRow struct{ r pgx.Row }

// Scan maps pgx's no-rows error to database/sql's, so callers test one error.
func (r pgxRow) Scan(dest ...any) error {
	err := r.r.Scan(dest...)
	if errors.Is(err, pgx.ErrNoRows) {
		return sql.ErrNoRows
	}
	return err
}

// rebind turns '?' placeholders into PostgreSQL's $1, $2, ... The store's SQL never has
// a '?' inside a string literal.
func rebind(q string) string {
	if !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}
