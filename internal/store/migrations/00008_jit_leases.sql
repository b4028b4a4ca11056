-- Just-in-time access: leases (internal/jit), the locks that serialise the work on one
-- piece of AWS access, and the AWS limits shared by every replica.

-- +goose Up

-- A lease is the truth about one grant of temporary access. state: pending (not granted
-- yet), active (AWS confirmed the grant), ending (past its end or ended early; the
-- revoke is under way), ended (AWS confirmed the revoke, or another holder keeps the
-- access), failed (the grant failed for good). access_key identifies the AWS access
-- itself: leases with the same key share one assignment. standing means the access
-- existed before any lease (it is never removed by a lease ending). end_reason is set
-- when the lease is asked to end (expired, released, revoked) and kept once it ended.
-- gen numbers the lease's River jobs (one job per generation, unique); job_id is the
-- latest one's river_job id and job_at when it is due, so that the sweeper sees whether
-- a live job will still work on the lease.
CREATE TABLE leases (
    id            TEXT PRIMARY KEY,
    request_id    TEXT NOT NULL,
    requester     TEXT NOT NULL,
    connection_id TEXT NOT NULL,
    access_key    TEXT NOT NULL,
    target        TEXT NOT NULL,
    state         TEXT NOT NULL,
    duration_ms   BIGINT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    starts_at     BIGINT,
    ends_at       BIGINT,
    ended_at      BIGINT,
    end_reason    TEXT NOT NULL DEFAULT '',
    ended_by      TEXT NOT NULL DEFAULT '',
    end_note      TEXT NOT NULL DEFAULT '',
    standing      BOOLEAN NOT NULL DEFAULT FALSE,
    drift         TEXT NOT NULL DEFAULT '',
    attempts      INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT NOT NULL DEFAULT '',
    gen           INTEGER NOT NULL DEFAULT 0,
    job_id        BIGINT,
    job_at        BIGINT,
    reminded_at   BIGINT,
    end_sessions  BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX leases_access ON leases (access_key, state);
CREATE INDEX leases_due ON leases (state, ends_at);
CREATE INDEX leases_request ON leases (request_id);
CREATE INDEX leases_requester ON leases (requester, created_at);

-- The work on one piece of access (a grant, a revoke) is done by one worker at a time,
-- across replicas: the worker holds the access key's lock, renewed while it works, so
-- that a dead replica's lock frees itself when until passes.
CREATE TABLE jit_access_locks (
    access_key TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    until_ms   BIGINT NOT NULL
);

-- AWS limits shared by every replica. aws_limit_slots: the slots of a limit on
-- operations in flight (Identity Center: 10 account assignment creations per instance),
-- each held with an expiry renewed by its holder, so that a dead replica's slot frees
-- itself. aws_limit_rates: a token bucket per scope (Identity Center: 20 calls per
-- second), in thousandths of a token.
CREATE TABLE aws_limit_slots (
    scope      TEXT NOT NULL,
    slot       INTEGER NOT NULL,
    holder     TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (scope, slot)
);
CREATE TABLE aws_limit_rates (
    scope        TEXT PRIMARY KEY,
    tokens_milli BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);

-- +goose Down
DROP TABLE aws_limit_rates;
DROP TABLE aws_limit_slots;
DROP TABLE jit_access_locks;
DROP TABLE leases;
