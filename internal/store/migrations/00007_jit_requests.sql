-- Just-in-time access requests (issue 11): the rules and approval policies document, owners
-- of accounts and permission sets, requests with their approval progress, who may decide
-- them, and every state transition.
--
-- jit_config keeps every version of the document (the highest is in force), so that what
-- applied to a request can be read back; requests also snapshot their policy (policy,
-- steps JSON), so editing the document never changes a request in flight.
-- request_approvers lists everyone who may decide a request at some step (its inbox and
-- who may see it); current marks those who may decide it now.
-- step_due_at is the current approval step's deadline, for the step-timeout job.

-- +goose Up
CREATE TABLE jit_config (
    version     BIGINT PRIMARY KEY,
    doc         TEXT NOT NULL,
    updated_by  TEXT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE owners (
    scope_type  TEXT NOT NULL,
    scope_id    TEXT NOT NULL,
    email       TEXT NOT NULL,
    added_by    TEXT NOT NULL,
    added_at    BIGINT NOT NULL,
    PRIMARY KEY (scope_type, scope_id, email)
);

CREATE TABLE access_requests (
    id                 TEXT PRIMARY KEY,
    requester          TEXT NOT NULL,
    connection_id      TEXT NOT NULL,
    entitlement_id     TEXT NOT NULL,
    access_key         TEXT NOT NULL,
    target             TEXT NOT NULL,
    reason             TEXT NOT NULL,
    duration_ms        BIGINT NOT NULL,
    state              TEXT NOT NULL,
    rule               TEXT NOT NULL,
    policy             TEXT NOT NULL,
    steps              TEXT NOT NULL,
    step_due_at        BIGINT,
    break_glass        BOOLEAN NOT NULL DEFAULT FALSE,
    reviewed_by        TEXT NOT NULL DEFAULT '',
    reviewed_at        BIGINT,
    end_sessions       BOOLEAN NOT NULL DEFAULT FALSE,
    pending_extension  TEXT NOT NULL DEFAULT '',
    error              TEXT NOT NULL DEFAULT '',
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL
);
CREATE INDEX access_requests_requester ON access_requests (requester, created_at, id);
CREATE INDEX access_requests_created ON access_requests (created_at, id);
CREATE INDEX access_requests_access_key ON access_requests (access_key, state);
CREATE INDEX access_requests_due ON access_requests (step_due_at) WHERE step_due_at IS NOT NULL;

CREATE TABLE request_approvers (
    request_id  TEXT NOT NULL,
    email       TEXT NOT NULL,
    current     BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (request_id, email)
);
CREATE INDEX request_approvers_email ON request_approvers (email, current);

CREATE TABLE request_transitions (
    request_id  TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    from_state  TEXT NOT NULL,
    to_state    TEXT NOT NULL,
    actor       TEXT NOT NULL,
    at          BIGINT NOT NULL,
    reason      TEXT NOT NULL,
    PRIMARY KEY (request_id, seq)
);

-- +goose Down
DROP TABLE request_transitions;
DROP TABLE request_approvers;
DROP TABLE access_requests;
DROP TABLE owners;
DROP TABLE jit_config;
