package store

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
)

// stmtCacheMax bounds the prepared statements kept per pool. The store's SQL is a small
// fixed set of texts (filters add clauses, never values), so the bound is only a guard
// against a query built with values in its text.
const stmtCacheMax = 512

// cachedQuerier is SQLite's read pool with its statements prepared once: modernc's driver
// parses a statement's SQL on every call otherwise, which cost about an eighth of a page's
// CPU under load (docs/performance.md). database/sql prepares a *sql.Stmt again on each
// connection it runs on, and keeps that per connection. PostgreSQL needs none of this:
// pgx caches prepared statements per connection by itself.
type cachedQuerier struct {
	db    *sql.DB
	stmts sync.Map // SQL text -> *sql.Stmt
	n     atomic.Int32
}

func (q *cachedQuerier) stmt(ctx context.Context, s string) (*sql.Stmt, error) {
	if st, ok := q.stmts.Load(s); ok {
		return st.(*sql.Stmt), nil
	}
	if q.n.Load() >= stmtCacheMax {
		return nil, nil
	}
	st, err := q.db.PrepareContext(ctx, s)
	if err != nil {
		return nil, err
	}
	if prev, loaded := q.stmts.LoadOrStore(s, st); loaded {
		st.Close()
		return prev.(*sql.Stmt), nil
	}
	q.n.Add(1)
	return st, nil
}

func (q *cachedQuerier) exec(ctx context.Context, s string, args ...any) (int64, error) {
	st, err := q.stmt(ctx, s)
	if err != nil {
		return 0, err
	}
	var res sql.Result
	if st == nil {
		res, err = q.db.ExecContext(ctx, s, args...)
	} else {
		res, err = st.ExecContext(ctx, args...)
	}
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (q *cachedQuerier) query(ctx context.Context, s string, args ...any) (rows, error) {
	st, err := q.stmt(ctx, s)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return q.db.QueryContext(ctx, s, args...)
	}
	return st.QueryContext(ctx, args...)
}

func (q *cachedQuerier) queryRow(ctx context.Context, s string, args ...any) row {
	st, err := q.stmt(ctx, s)
	if err != nil {
		return errRow{err}
	}
	if st == nil {
		return q.db.QueryRowContext(ctx, s, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// errRow is a row whose Scan returns the error that prevented the query.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// close releases the prepared statements.
func (q *cachedQuerier) close() {
	q.stmts.Range(func(_, v any) bool {
		v.(*sql.Stmt).Close()
		return true
	})
}
