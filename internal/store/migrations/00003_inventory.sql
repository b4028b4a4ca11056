-- The inventory's history (issue 10): what ingestion needs beyond 00001.
--
-- inv_grants.direct: a grant can be held directly and through groups at once (baton then
-- records the grant's own entitlement among its sources); via lists the groups, direct
-- says whether it is also held directly.
-- inv_ingests: one row per ingested sync, so that a sync id names a point in time for
-- "what changed between two syncs", and what each ingestion did.
-- The indexes serve the read paths: keyset pages in the order each list is sorted, the
-- change feed from both ends of the intervals, and lookups by (type, id) across
-- connections.

-- +goose Up
ALTER TABLE inv_grants ADD COLUMN direct BOOLEAN NOT NULL DEFAULT TRUE;

CREATE TABLE inv_ingests (
    connection_id      TEXT NOT NULL,
    sync_id            TEXT NOT NULL,
    at                 BIGINT NOT NULL,
    grants_added       BIGINT NOT NULL DEFAULT 0,
    grants_removed     BIGINT NOT NULL DEFAULT 0,
    grants_changed     BIGINT NOT NULL DEFAULT 0,
    resources_added    BIGINT NOT NULL DEFAULT 0,
    resources_removed  BIGINT NOT NULL DEFAULT 0,
    rows_written       BIGINT NOT NULL DEFAULT 0,
    stale_accounts     TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (connection_id, sync_id)
);
CREATE INDEX inv_ingests_sync ON inv_ingests (sync_id);
CREATE INDEX inv_ingests_at ON inv_ingests (at);

DROP INDEX inv_grants_first_seen;
DROP INDEX inv_grants_removed_at;
DROP INDEX inv_grants_entitlement;
CREATE INDEX inv_grants_added ON inv_grants (first_seen, id);
CREATE INDEX inv_grants_removed ON inv_grants (removed_at, id);
CREATE INDEX inv_grants_entitlement_id ON inv_grants (entitlement_id, id);
CREATE INDEX inv_grants_current ON inv_grants (account_id) WHERE removed_at IS NULL;
CREATE INDEX inv_resources_type_id ON inv_resources (type, id);
CREATE INDEX inv_resources_list ON inv_resources (type, display_name, id) WHERE removed_at IS NULL;
CREATE INDEX inv_resources_people ON inv_resources (email, type) WHERE removed_at IS NULL AND email <> '';
CREATE INDEX inv_entitlements_id ON inv_entitlements (id);

-- +goose Down
DROP INDEX inv_entitlements_id;
DROP INDEX inv_resources_people;
DROP INDEX inv_resources_list;
DROP INDEX inv_resources_type_id;
DROP INDEX inv_grants_current;
DROP INDEX inv_grants_entitlement_id;
DROP INDEX inv_grants_removed;
DROP INDEX inv_grants_added;
CREATE INDEX inv_grants_entitlement ON inv_grants (entitlement_id);
CREATE INDEX inv_grants_removed_at ON inv_grants (removed_at);
CREATE INDEX inv_grants_first_seen ON inv_grants (first_seen);
DROP TABLE inv_ingests;
ALTER TABLE inv_grants DROP COLUMN direct;
