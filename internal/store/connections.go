package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Connection sources: from the config file (managed there, not deletable in the UI) or
// created by an admin in the UI or API.
const (
	SourceConfig = "config"
	SourceUI     = "ui"
)

// Connection is one AWS connection as stored. Config is the JSON of its settings without
// secrets; SealedSecrets is the sealed JSON of its secrets (internal/secrets), never
// plaintext. internal/connection owns both shapes.
type Connection struct {
	ID        string
	Name      string
	Kind      string // "aws"
	Source    string // SourceConfig or SourceUI
	Schedule  string // Go duration between scheduled syncs, e.g. "1h"
	CreatedAt time.Time
	UpdatedAt time.Time
	Config    json.RawMessage
	// SealedSecrets is "" when the connection has no secrets.
	SealedSecrets string
}

const connectionColumns = "id, name, kind, source, schedule, created_at, updated_at, config, secrets"

func scanConnection(r interface{ Scan(...any) error }) (Connection, error) {
	var c Connection
	var created, updated int64
	var cfg string
	if err := r.Scan(&c.ID, &c.Name, &c.Kind, &c.Source, &c.Schedule, &created, &updated, &cfg, &c.SealedSecrets); err != nil {
		return Connection{}, err
	}
	c.CreatedAt, c.UpdatedAt, c.Config = fromMS(created), fromMS(updated), json.RawMessage(cfg)
	return c, nil
}

// ListConnections returns every connection, by id.
func (s *Store) ListConnections(ctx context.Context) ([]Connection, error) {
	return listConnections(ctx, s.read)
}

// ListConnections is ListConnections inside tx.
func (t *Tx) ListConnections(ctx context.Context) ([]Connection, error) {
	return listConnections(ctx, t.q)
}

func listConnections(ctx context.Context, q querier) ([]Connection, error) {
	rs, err := q.query(ctx, "SELECT "+connectionColumns+" FROM connections ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("list connections: %w", err)
	}
	defer rs.Close()
	var out []Connection
	for rs.Next() {
		c, err := scanConnection(rs)
		if err != nil {
			return nil, fmt.Errorf("list connections: %w", err)
		}
		out = append(out, c)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("list connections: %w", err)
	}
	return out, nil
}

// GetConnection returns the connection id, or ErrNotFound.
func (s *Store) GetConnection(ctx context.Context, id string) (*Connection, error) {
	return getConnection(ctx, s.read, id)
}

// GetConnection is GetConnection inside tx (read what the transaction is about to change).
func (t *Tx) GetConnection(ctx context.Context, id string) (*Connection, error) {
	return getConnection(ctx, t.q, id)
}

func getConnection(ctx context.Context, q querier, id string) (*Connection, error) {
	c, err := scanConnection(q.queryRow(ctx, "SELECT "+connectionColumns+" FROM connections WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("connection %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("connection %q: %w", id, err)
	}
	return &c, nil
}

// UpsertConnection creates or replaces the connection c.ID in its own transaction. Use
// Tx.UpsertConnection to write it together with its audit entry.
func (s *Store) UpsertConnection(ctx context.Context, c Connection) error {
	return s.InTx(ctx, func(tx *Tx) error { return tx.UpsertConnection(ctx, c) })
}

// UpsertConnection creates the connection or replaces every field but CreatedAt (which is
// kept from the first insert). A zero CreatedAt or UpdatedAt is now.
func (t *Tx) UpsertConnection(ctx context.Context, c Connection) error {
	if c.ID == "" {
		return errors.New("connection: empty id")
	}
	now := time.Now()
	if c.CreatedAt.IsZero() {
		c.CreatedAt = now
	}
	if c.UpdatedAt.IsZero() {
		c.UpdatedAt = now
	}
	if len(c.Config) == 0 {
		c.Config = json.RawMessage("{}")
	}
	_, err := t.q.exec(ctx, `INSERT INTO connections (`+connectionColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, kind = excluded.kind, source = excluded.source,
			schedule = excluded.schedule, updated_at = excluded.updated_at, config = excluded.config, secrets = excluded.secrets`,
		c.ID, c.Name, c.Kind, c.Source, c.Schedule, ms(c.CreatedAt), ms(c.UpdatedAt), string(c.Config), c.SealedSecrets)
	if err != nil {
		return fmt.Errorf("save connection %q: %w", c.ID, err)
	}
	return nil
}

// DeleteConnection deletes the connection id in its own transaction (ErrNotFound when
// there is none).
func (s *Store) DeleteConnection(ctx context.Context, id string) error {
	return s.InTx(ctx, func(tx *Tx) error { return tx.DeleteConnection(ctx, id) })
}

// DeleteConnection deletes the connection id (ErrNotFound when there is none). Its syncs
// and inventory history are kept: they are evidence of what was.
func (t *Tx) DeleteConnection(ctx context.Context, id string) error {
	n, err := t.q.exec(ctx, "DELETE FROM connections WHERE id = ?", id)
	if err != nil {
		return fmt.Errorf("delete connection %q: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("connection %q: %w", id, ErrNotFound)
	}
	return nil
}
