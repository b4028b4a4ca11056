-- S3 data sources (internal/datasource): buckets of application access files that Gatehouse
-- reads through a role the customer created. external_id is generated once when the data
-- source is created and never written again (no UPDATE statement of the store sets it), so a
-- role whose trust policy names it keeps working across restarts and edits.
-- datasource_objects is the provenance of every read: which object (key, version, ETag, size,
-- checksum) was fetched when. An object whose ETag did not change since its last row here is
-- not fetched again.

-- +goose Up
CREATE TABLE datasources (
    id            TEXT PRIMARY KEY,
    type          TEXT NOT NULL,                -- s3
    name          TEXT NOT NULL UNIQUE,
    role_arn      TEXT NOT NULL,
    bucket        TEXT NOT NULL,
    prefix        TEXT NOT NULL DEFAULT '',
    region        TEXT NOT NULL DEFAULT '',
    external_id   TEXT NOT NULL,
    schedule      TEXT NOT NULL DEFAULT '1h',   -- Go duration between scheduled syncs
    created_by    TEXT NOT NULL DEFAULT '',
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    last_sync_at  BIGINT,                       -- when the last sync finished (either way)
    last_state    TEXT NOT NULL DEFAULT '',     -- '' (never synced) | succeeded | failed
    last_error    TEXT NOT NULL DEFAULT '',     -- what failed and what to do; '' after a success
    last_summary  TEXT NOT NULL DEFAULT '{}'    -- JSON: objects listed, fetched, unchanged; notes
);

CREATE TABLE datasource_objects (
    id                 TEXT PRIMARY KEY,
    datasource_id      TEXT NOT NULL,
    key                TEXT NOT NULL,
    version_id         TEXT NOT NULL DEFAULT '',
    etag               TEXT NOT NULL,            -- without quotes
    size               BIGINT NOT NULL,
    checksum           TEXT NOT NULL DEFAULT '', -- ALGORITHM:base64, as S3 keeps it
    last_modified      BIGINT NOT NULL,
    read_at            BIGINT NOT NULL,
    note               TEXT NOT NULL DEFAULT ''  -- what the import hook said about the read
);
CREATE INDEX datasource_objects_key ON datasource_objects (datasource_id, key, read_at);

-- +goose Down
DROP INDEX datasource_objects_key;
DROP TABLE datasource_objects;
DROP TABLE datasources;
