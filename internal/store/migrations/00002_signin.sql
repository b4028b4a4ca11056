-- Sign-ins in progress (issue 10). A row is one OpenID Connect authorization request that
-- a browser started at /login: the PKCE verifier and the nonce stay here, on the server,
-- keyed by the SHA-256 of the state that the browser holds in a cookie. The callback
-- deletes the row as it reads it, so a state (and with it a code) is good for one try,
-- on whichever replica the browser comes back to.

-- +goose Up
CREATE TABLE signin_attempts (
    state_hash  TEXT PRIMARY KEY,
    nonce       TEXT NOT NULL,
    verifier    TEXT NOT NULL,
    next_path   TEXT NOT NULL DEFAULT '/',
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX signin_attempts_expires ON signin_attempts (expires_at);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- +goose Down
DROP INDEX sessions_expires;
DROP TABLE signin_attempts;
