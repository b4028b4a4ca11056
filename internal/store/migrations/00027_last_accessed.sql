-- IAM's service last accessed details of users and roles (internal/awsfetch,
-- lastaccess.go), read on a budget over syncs: a job is started in one sync and collected
-- in a later one, so the state outlives a sync. One row per entity of a connection.
--
-- job_id / job_started_at: a job started and not collected yet ('' / NULL without one).
-- completed_at / services / read_sync: the last collected result (the job's completion
-- time, the services as JSON: namespace, name, last_authenticated, entities) and the
-- sync that collected it; NULL / '[]' / '' before the first. error / error_at: the last
-- failure to read (a denial, throttling beyond the retries, a FAILED job), '' when the
-- last attempt worked; it never erases the last result.

-- +goose Up
CREATE TABLE last_accessed (
    connection_id  TEXT NOT NULL,
    entity_arn     TEXT NOT NULL,
    account_id     TEXT NOT NULL,
    job_id         TEXT NOT NULL DEFAULT '',
    job_started_at BIGINT,
    completed_at   BIGINT,
    services       TEXT NOT NULL DEFAULT '[]',
    read_sync      TEXT NOT NULL DEFAULT '',
    error          TEXT NOT NULL DEFAULT '',
    error_at       BIGINT,
    updated_at     BIGINT NOT NULL,
    PRIMARY KEY (connection_id, entity_arn)
);

-- +goose Down
DROP TABLE last_accessed;
