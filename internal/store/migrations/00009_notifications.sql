-- The notification outbox (internal/notify). A row is one delivery of one just-in-time access
-- event to one configured endpoint (a generic webhook or a Slack incoming webhook). It is
-- written in the transaction of the change it tells about, together with the River job that
-- delivers it, so that a notification goes out if and only if the change committed. The row
-- keeps the exact body sent (the signature covers it) and how delivery went; it never holds an
-- endpoint's URL or secret, which stay in the server's configuration.

-- +goose Up
CREATE TABLE notifications (
    id           TEXT PRIMARY KEY,
    channel      TEXT NOT NULL,              -- webhook | slack
    endpoint     TEXT NOT NULL,              -- the configured endpoint's name
    event        TEXT NOT NULL,              -- requested, approved, granted, ...
    request_id   TEXT NOT NULL DEFAULT '',
    payload      TEXT NOT NULL,              -- the JSON body, exactly as sent
    state        TEXT NOT NULL,              -- queued | sent | failed
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_status  INTEGER NOT NULL DEFAULT 0, -- the endpoint's last HTTP status (0: no answer)
    last_error   TEXT NOT NULL DEFAULT '',
    job_id       BIGINT,
    created_at   BIGINT NOT NULL,
    attempted_at BIGINT,
    sent_at      BIGINT
);
CREATE INDEX notifications_created ON notifications (created_at, id);
CREATE INDEX notifications_request ON notifications (request_id);

-- +goose Down
DROP INDEX notifications_request;
DROP INDEX notifications_created;
DROP TABLE notifications;
