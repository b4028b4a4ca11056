-- The server's first schema (issue 10). Written once for SQLite and PostgreSQL: see the
-- package comment of internal/store for the rules that keep it portable.

-- +goose Up

-- An AWS connection: what `gatehouse sync` takes. config is JSON without secrets;
-- secrets is the sealed JSON of the secrets (AES-256-GCM, see secrets.go).
CREATE TABLE connections (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    config      TEXT NOT NULL,
    secrets     TEXT NOT NULL DEFAULT '',
    source      TEXT NOT NULL,
    schedule    TEXT NOT NULL DEFAULT '1h',
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

-- One sync of one connection, from queued to a final state.
CREATE TABLE syncs (
    id             TEXT PRIMARY KEY,
    connection_id  TEXT NOT NULL,
    state          TEXT NOT NULL,
    trigger_kind   TEXT NOT NULL,
    requested_by   TEXT NOT NULL DEFAULT '',
    queued_at      BIGINT NOT NULL,
    started_at     BIGINT,
    finished_at    BIGINT,
    api_calls      BIGINT NOT NULL DEFAULT 0,
    throttles      BIGINT NOT NULL DEFAULT 0,
    progress       TEXT NOT NULL DEFAULT '{}',
    summary        TEXT NOT NULL DEFAULT '{}',
    skipped        TEXT NOT NULL DEFAULT '[]',
    error          TEXT NOT NULL DEFAULT '',
    c1z_path       TEXT NOT NULL DEFAULT '',
    attempts       BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX syncs_connection_queued ON syncs (connection_id, queued_at);
CREATE INDEX syncs_queued ON syncs (queued_at);

-- The inventory as intervals. A row is one interval in which a thing existed with this
-- content: first_sync/first_seen when it appeared, removed_sync/removed_at when a later
-- sync no longer found it (NULL while it is present). A thing that comes back gets a new
-- row. scope is the account whose IAM the thing was read from ('' for what comes from
-- Organizations or Identity Center): when that account could not be read, its rows are
-- left open (stale), never closed.
CREATE TABLE inv_resources (
    connection_id  TEXT NOT NULL,
    type           TEXT NOT NULL,
    id             TEXT NOT NULL,
    first_sync     TEXT NOT NULL,
    first_seen     BIGINT NOT NULL,
    removed_sync   TEXT,
    removed_at     BIGINT,
    account_id     TEXT NOT NULL DEFAULT '',
    scope          TEXT NOT NULL DEFAULT '',
    parent_type    TEXT NOT NULL DEFAULT '',
    parent_id      TEXT NOT NULL DEFAULT '',
    display_name   TEXT NOT NULL DEFAULT '',
    email          TEXT NOT NULL DEFAULT '',
    profile        TEXT NOT NULL DEFAULT '{}',
    content_hash   TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (connection_id, type, id, first_sync)
);
CREATE INDEX inv_resources_current ON inv_resources (connection_id, type, display_name) WHERE removed_at IS NULL;
CREATE INDEX inv_resources_email ON inv_resources (email) WHERE email <> '';
CREATE INDEX inv_resources_account ON inv_resources (account_id, type);

CREATE TABLE inv_entitlements (
    connection_id  TEXT NOT NULL,
    id             TEXT NOT NULL,
    first_sync     TEXT NOT NULL,
    first_seen     BIGINT NOT NULL,
    removed_sync   TEXT,
    removed_at     BIGINT,
    resource_type  TEXT NOT NULL,
    resource_id    TEXT NOT NULL,
    slug           TEXT NOT NULL DEFAULT '',
    display_name   TEXT NOT NULL DEFAULT '',
    account_id     TEXT NOT NULL DEFAULT '',
    scope          TEXT NOT NULL DEFAULT '',
    content_hash   TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (connection_id, id, first_sync)
);
CREATE INDEX inv_entitlements_resource ON inv_entitlements (resource_type, resource_id);

-- via is '' for a direct grant, else the entitlement id it comes through (a group's
-- member entitlement, from baton's grant expansion).
CREATE TABLE inv_grants (
    connection_id   TEXT NOT NULL,
    id              TEXT NOT NULL,
    first_sync      TEXT NOT NULL,
    first_seen      BIGINT NOT NULL,
    removed_sync    TEXT,
    removed_at      BIGINT,
    entitlement_id  TEXT NOT NULL,
    resource_type   TEXT NOT NULL,
    resource_id     TEXT NOT NULL,
    principal_type  TEXT NOT NULL,
    principal_id    TEXT NOT NULL,
    account_id      TEXT NOT NULL DEFAULT '',
    scope           TEXT NOT NULL DEFAULT '',
    via             TEXT NOT NULL DEFAULT '',
    content_hash    TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (connection_id, id, first_sync)
);
CREATE INDEX inv_grants_entitlement ON inv_grants (entitlement_id);
CREATE INDEX inv_grants_principal ON inv_grants (principal_type, principal_id);
CREATE INDEX inv_grants_first_seen ON inv_grants (first_seen);
CREATE INDEX inv_grants_removed_at ON inv_grants (removed_at);
CREATE INDEX inv_grants_account ON inv_grants (account_id);

-- What Gatehouse knows about reading each account: an account that could not be read
-- keeps its last known IAM, marked stale since stale_since with the reason and fix.
CREATE TABLE inv_account_reads (
    connection_id   TEXT NOT NULL,
    account_id      TEXT NOT NULL,
    last_read_at    BIGINT,
    last_read_sync  TEXT NOT NULL DEFAULT '',
    stale           BOOLEAN NOT NULL DEFAULT FALSE,
    stale_since     BIGINT,
    stale_reason    TEXT NOT NULL DEFAULT '',
    stale_fix       TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (connection_id, account_id)
);

-- People who signed in (or were named in the configuration), with their roles.
CREATE TABLE users (
    email          TEXT PRIMARY KEY,
    name           TEXT NOT NULL DEFAULT '',
    oidc_issuer    TEXT NOT NULL DEFAULT '',
    oidc_subject   TEXT NOT NULL DEFAULT '',
    roles          TEXT NOT NULL DEFAULT '',
    created_at     BIGINT NOT NULL,
    last_login_at  BIGINT
);

-- Browser sessions; id_hash is the SHA-256 of the cookie value, never the value.
CREATE TABLE sessions (
    id_hash       TEXT PRIMARY KEY,
    email         TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    last_seen_at  BIGINT NOT NULL,
    remote_addr   TEXT NOT NULL DEFAULT '',
    user_agent    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_email ON sessions (email);

-- API tokens; token_hash is the SHA-256 of the token, which is shown once.
CREATE TABLE api_tokens (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    email         TEXT NOT NULL,
    token_hash    TEXT NOT NULL UNIQUE,
    created_at    BIGINT NOT NULL,
    created_by    TEXT NOT NULL DEFAULT '',
    expires_at    BIGINT,
    revoked_at    BIGINT,
    last_used_at  BIGINT
);
CREATE INDEX api_tokens_email ON api_tokens (email);

-- The audit log. hash = SHA-256 over the entry's canonical form and prev_hash, so an
-- edited, deleted or reordered entry breaks the chain. audit_head holds the last seq
-- and hash; appending updates it in the same transaction, which serialises appends.
CREATE TABLE audit_log (
    seq          BIGINT PRIMARY KEY,
    at           BIGINT NOT NULL,
    actor        TEXT NOT NULL,
    action       TEXT NOT NULL,
    target       TEXT NOT NULL DEFAULT '',
    detail       TEXT NOT NULL DEFAULT '{}',
    remote_addr  TEXT NOT NULL DEFAULT '',
    prev_hash    TEXT NOT NULL,
    hash         TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_action ON audit_log (action);
CREATE TABLE audit_head (
    id    BIGINT PRIMARY KEY,
    seq   BIGINT NOT NULL,
    hash  TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');

-- Settings an admin changes in the UI (key -> JSON value).
CREATE TABLE settings (
    key         TEXT PRIMARY KEY,
    value       TEXT NOT NULL,
    updated_at  BIGINT NOT NULL,
    updated_by  TEXT NOT NULL DEFAULT ''
);

-- +goose Down
DROP TABLE settings;
DROP TABLE audit_head;
DROP TABLE audit_log;
DROP TABLE api_tokens;
DROP TABLE sessions;
DROP TABLE users;
DROP TABLE inv_account_reads;
DROP TABLE inv_grants;
DROP TABLE inv_entitlements;
DROP TABLE inv_resources;
DROP TABLE syncs;
DROP TABLE connections;
