-- Access reviews (issue 12): campaigns, their frozen items, who may decide each item, every
-- decision and remediation step, and the exports with their hashes.
--
-- review_items are frozen when a campaign starts: the grant as the inventory had it (ids and
-- names copied, so a later sync never changes what was reviewed). access_gone_at marks an
-- item whose access a later sync no longer shows; remediation (JSON) is the change a revoke
-- makes and its verification. steps (JSON) is the resolved reviewers of every step of a
-- sequence; review_item_reviewers lists who may decide an item now (current) or could at any
-- step, for the inbox and for authorization.

-- +goose Up
CREATE TABLE review_campaigns (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    state           TEXT NOT NULL,
    scope           TEXT NOT NULL,
    scope_key       TEXT NOT NULL,
    reviewers       TEXT NOT NULL,
    due_at          BIGINT NOT NULL,
    undecided       TEXT NOT NULL,
    connection_id   TEXT NOT NULL DEFAULT '',
    snapshot_syncs  TEXT NOT NULL DEFAULT '{}',
    previous_id     TEXT NOT NULL DEFAULT '',
    created_by      TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    started_at      BIGINT,
    closed_at       BIGINT,
    closed_by       TEXT NOT NULL DEFAULT '',
    due_handled_at  BIGINT,
    reminded_at     BIGINT,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX review_campaigns_created ON review_campaigns (created_at, id);
CREATE INDEX review_campaigns_scope ON review_campaigns (scope_key, started_at);
CREATE INDEX review_campaigns_state ON review_campaigns (state, due_at);

CREATE TABLE review_items (
    campaign_id       TEXT NOT NULL,
    id                TEXT NOT NULL,
    seq               BIGINT NOT NULL,
    connection_id     TEXT NOT NULL,
    grant_id          TEXT NOT NULL,
    entitlement_id    TEXT NOT NULL,
    entitlement_name  TEXT NOT NULL DEFAULT '',
    resource_type     TEXT NOT NULL,
    resource_id       TEXT NOT NULL,
    resource_name     TEXT NOT NULL DEFAULT '',
    account_id        TEXT NOT NULL DEFAULT '',
    account_name      TEXT NOT NULL DEFAULT '',
    principal_type    TEXT NOT NULL,
    principal_id      TEXT NOT NULL,
    principal_name    TEXT NOT NULL DEFAULT '',
    identity          TEXT NOT NULL DEFAULT '',
    via               TEXT NOT NULL,
    via_name          TEXT NOT NULL DEFAULT '',
    since             BIGINT NOT NULL,
    admin_level       BOOLEAN NOT NULL DEFAULT FALSE,
    context           TEXT NOT NULL DEFAULT '{}',
    steps             TEXT NOT NULL DEFAULT '[]',
    step              BIGINT NOT NULL DEFAULT 0,
    reviewer          TEXT NOT NULL DEFAULT '',
    decision          TEXT NOT NULL DEFAULT '',
    reason            TEXT NOT NULL DEFAULT '',
    decided_by        TEXT NOT NULL DEFAULT '',
    decided_at        BIGINT,
    state             TEXT NOT NULL,
    plan              TEXT NOT NULL DEFAULT '',
    remediation       TEXT NOT NULL DEFAULT '',
    access_gone_at    BIGINT,
    access_gone_sync  TEXT NOT NULL DEFAULT '',
    updated_at        BIGINT NOT NULL,
    PRIMARY KEY (campaign_id, id)
);
CREATE INDEX review_items_seq ON review_items (campaign_id, seq);
CREATE INDEX review_items_state ON review_items (campaign_id, state, seq);
CREATE INDEX review_items_grant ON review_items (connection_id, grant_id);
CREATE INDEX review_items_open ON review_items (connection_id, state) WHERE state IN ('revocation_pending', 'task_open');

CREATE TABLE review_item_reviewers (
    campaign_id  TEXT NOT NULL,
    item_id      TEXT NOT NULL,
    email        TEXT NOT NULL,
    step         BIGINT NOT NULL DEFAULT 0,
    current      BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (campaign_id, item_id, email, step)
);
CREATE INDEX review_item_reviewers_inbox ON review_item_reviewers (email, current, campaign_id, item_id);

CREATE TABLE review_item_events (
    campaign_id  TEXT NOT NULL,
    item_id      TEXT NOT NULL,
    seq          BIGINT NOT NULL,
    kind         TEXT NOT NULL,
    actor        TEXT NOT NULL,
    at           BIGINT NOT NULL,
    detail       TEXT NOT NULL DEFAULT '',
    decision     TEXT NOT NULL DEFAULT '',
    step         BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (campaign_id, item_id, seq)
);

CREATE TABLE review_exports (
    id           TEXT PRIMARY KEY,
    campaign_id  TEXT NOT NULL,
    format       TEXT NOT NULL,
    sha256       TEXT NOT NULL,
    size         BIGINT NOT NULL,
    exported_by  TEXT NOT NULL,
    exported_at  BIGINT NOT NULL
);
CREATE INDEX review_exports_campaign ON review_exports (campaign_id, exported_at);

-- +goose Down
DROP TABLE review_exports;
DROP TABLE review_item_events;
DROP TABLE review_item_reviewers;
DROP TABLE review_items;
DROP TABLE review_campaigns;
