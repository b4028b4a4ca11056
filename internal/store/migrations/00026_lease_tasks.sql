-- Owner tasks of just-in-time leases in applications imported from files (internal/jit,
-- app_leases.go). Gatehouse cannot change such an application: the grant and the revoke of
-- a lease are tasks for the application's owner, closed when an import of the application
-- shows the change (verified), or marked done by the owner meanwhile (done: not yet seen by
-- an import).
--
-- kind: grant or revoke (one of each per lease at most). state: open (the owner has not
-- acted), done (the owner says it is done; an import has not shown it yet), verified (an
-- import showed it: verified_run), cancelled (no longer needed: closed_note says why).
-- due_at is when an open or done task becomes overdue; alerted_at when that was alerted.

-- +goose Up
CREATE TABLE lease_tasks (
    id           TEXT PRIMARY KEY,
    lease_id     TEXT NOT NULL,
    request_id   TEXT NOT NULL,
    app_id       TEXT NOT NULL,
    kind         TEXT NOT NULL,
    owner        TEXT NOT NULL,
    state        TEXT NOT NULL,
    instruction  TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    due_at       BIGINT NOT NULL,
    done_at      BIGINT,
    done_by      TEXT NOT NULL DEFAULT '',
    done_note    TEXT NOT NULL DEFAULT '',
    verified_at  BIGINT,
    verified_run TEXT NOT NULL DEFAULT '',
    alerted_at   BIGINT,
    closed_note  TEXT NOT NULL DEFAULT '',
    UNIQUE (lease_id, kind)
);
CREATE INDEX lease_tasks_app ON lease_tasks (app_id, state);
CREATE INDEX lease_tasks_due ON lease_tasks (state, due_at);

-- +goose Down
DROP TABLE lease_tasks;
