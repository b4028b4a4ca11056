// Package store is the only package that speaks SQL. It keeps Gatehouse's own objects
// (connections, syncs, the inventory with its history, people, sign-in sessions, API
// tokens, the audit log) in SQLite (the default, one file in the data directory) or in
// PostgreSQL (for several replicas), with one schema and the same behaviour on both.
//
// The SQL is written once for both databases: '?' placeholders (rewritten to $n for
// PostgreSQL), TEXT, BIGINT and BOOLEAN columns only, times as BIGINT milliseconds since
// the Unix epoch in UTC, ids generated in Go, and INSERT ... ON CONFLICT for upserts.
// The migrations (goose) are embedded and applied at start, together with River's own.
//
// One file per aggregate: connections.go, syncs.go, inventory.go (ingest and history),
// people.go, auth.go (users, sessions, tokens), audit.go.
package store
