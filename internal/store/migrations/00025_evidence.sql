-- Evidence packs (issue 14): a ZIP of the inventory at a period's start and end, the
-- changes between, findings, just-in-time requests with their approvals and leases,
-- review campaigns and the audit log excerpt, built by a River job (queue "evidence").
-- A row is one pack from its request to its file: state queued, building, ready or
-- failed (error says why); sha256 and size are those of the ZIP at path (in the data
-- directory of runner, the replica that built it). scope is the JSON object
-- {"accounts", "ous", "applications"}; summary the JSON counts and chain check.
-- schedule_key names the period of a scheduled pack ("monthly:2026-03"), unique, so that
-- replicas never build one period twice; '' for packs people request.

-- +goose Up
CREATE TABLE evidence_packs (
    id            TEXT PRIMARY KEY,
    state         TEXT NOT NULL,
    period_from   BIGINT NOT NULL,
    period_to     BIGINT NOT NULL,
    scope         TEXT NOT NULL DEFAULT '{}',
    requested_by  TEXT NOT NULL,
    requested_at  BIGINT NOT NULL,
    started_at    BIGINT,
    finished_at   BIGINT,
    error         TEXT NOT NULL DEFAULT '',
    sha256        TEXT NOT NULL DEFAULT '',
    size          BIGINT NOT NULL DEFAULT 0,
    path          TEXT NOT NULL DEFAULT '',
    runner        TEXT NOT NULL DEFAULT '',
    attempts      BIGINT NOT NULL DEFAULT 0,
    schedule_key  TEXT NOT NULL DEFAULT '',
    summary       TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX evidence_packs_requested ON evidence_packs (requested_at, id);
CREATE UNIQUE INDEX evidence_packs_schedule ON evidence_packs (schedule_key) WHERE schedule_key <> '';

-- +goose Down
DROP INDEX evidence_packs_schedule;
DROP INDEX evidence_packs_requested;
DROP TABLE evidence_packs;
