-- Findings (issue 14): the CIS AWS Foundations IAM controls and Gatehouse's own
-- (Identity Center, organization) judged after every ingested sync, per connection.
--
-- findings holds the current judgement of each (control, account, resource): its status
-- (pass, fail, unknown), why, the evidence (JSON), the fix, since when it has this status
-- and which sync judged it last. finding_events is the history: one row per change of a
-- finding's status at a sync (from_status '' = opened, to_status '' = the resource is gone
-- and the finding closed with it). finding_counts is what the trend charts read: the
-- number of findings per status of each (account, control) at each sync; its latest sync per
-- connection is the one that judged every current finding of the connection (a finding
-- whose content did not change is not rewritten: only its judging sync would change).

-- +goose Up
CREATE TABLE findings (
    id             TEXT PRIMARY KEY,
    connection_id  TEXT NOT NULL,
    control        TEXT NOT NULL,
    cis_v5         TEXT NOT NULL DEFAULT '',
    title          TEXT NOT NULL DEFAULT '',
    account        TEXT NOT NULL DEFAULT '',
    resource       TEXT NOT NULL,
    status         TEXT NOT NULL,
    reason         TEXT NOT NULL DEFAULT '',
    evidence       TEXT NOT NULL DEFAULT '{}',
    fix            TEXT NOT NULL DEFAULT '',
    since          BIGINT NOT NULL,
    sync_id        TEXT NOT NULL,
    evaluated_at   BIGINT NOT NULL
);
CREATE INDEX findings_connection ON findings (connection_id, control, account, resource);
CREATE INDEX findings_list ON findings (account, control, resource, id);
CREATE INDEX findings_status ON findings (status, account, control);

CREATE TABLE finding_events (
    finding_id     TEXT NOT NULL,
    sync_id        TEXT NOT NULL,
    connection_id  TEXT NOT NULL,
    control        TEXT NOT NULL,
    account        TEXT NOT NULL DEFAULT '',
    resource       TEXT NOT NULL,
    from_status    TEXT NOT NULL DEFAULT '',
    to_status      TEXT NOT NULL DEFAULT '',
    at             BIGINT NOT NULL,
    PRIMARY KEY (finding_id, sync_id)
);
CREATE INDEX finding_events_at ON finding_events (at, finding_id);
CREATE INDEX finding_events_account ON finding_events (account, at);

CREATE TABLE finding_counts (
    connection_id  TEXT NOT NULL,
    sync_id        TEXT NOT NULL,
    account        TEXT NOT NULL DEFAULT '',
    control        TEXT NOT NULL,
    at             BIGINT NOT NULL,
    pass           BIGINT NOT NULL DEFAULT 0,
    fail           BIGINT NOT NULL DEFAULT 0,
    unknown        BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (connection_id, sync_id, account, control)
);
CREATE INDEX finding_counts_at ON finding_counts (at);
CREATE INDEX finding_counts_latest ON finding_counts (connection_id, at);

-- +goose Down
DROP INDEX finding_counts_latest;
DROP TABLE finding_counts;
DROP TABLE finding_events;
DROP TABLE findings;
