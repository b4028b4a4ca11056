-- Applications imported from files (issue 13). An application's inventory lives in the
-- inv_* tables like an AWS connection's, with the application's id as connection_id;
-- these tables hold what is not inventory: the application, its imports (which file of
-- which data source, in which format, with which column mapping) and every run of an
-- import with its state, its errors and the provenance of the files it read.

-- +goose Up
CREATE TABLE apps (
    id                TEXT PRIMARY KEY,
    name              TEXT NOT NULL,
    owner             TEXT NOT NULL DEFAULT '',
    remove_threshold  BIGINT NOT NULL DEFAULT 20,
    created_by        TEXT NOT NULL DEFAULT '',
    created_at        BIGINT NOT NULL
);

-- files is the JSON array of the object keys the import reads (one, or several for
-- identities and grants in separate files); mapping the JSON object of canonical column
-- -> the file's header.
CREATE TABLE app_imports (
    id             TEXT PRIMARY KEY,
    app_id         TEXT NOT NULL,
    datasource_id  TEXT NOT NULL,
    files          TEXT NOT NULL,
    format         TEXT NOT NULL DEFAULT '',
    mapping        TEXT NOT NULL DEFAULT '{}',
    sheet          TEXT NOT NULL DEFAULT '',
    created_by     TEXT NOT NULL DEFAULT '',
    created_at     BIGINT NOT NULL
);
CREATE INDEX app_imports_app ON app_imports (app_id);
CREATE INDEX app_imports_datasource ON app_imports (datasource_id);

-- One run of an import: state applied, rejected or held (then applied or rejected by an
-- admin: decided_by/decided_at). errors, provenance, diff and near_duplicates are JSON.
-- c1z_path is the file a held run applies when approved.
CREATE TABLE app_import_runs (
    id               TEXT PRIMARY KEY,
    import_id        TEXT NOT NULL,
    app_id           TEXT NOT NULL,
    state            TEXT NOT NULL,
    errors           TEXT NOT NULL DEFAULT '[]',
    provenance       TEXT NOT NULL DEFAULT '[]',
    diff             TEXT NOT NULL DEFAULT '{}',
    near_duplicates  TEXT NOT NULL DEFAULT '[]',
    held_reason      TEXT NOT NULL DEFAULT '',
    decided_by       TEXT NOT NULL DEFAULT '',
    decided_at       BIGINT,
    sync_id          TEXT NOT NULL DEFAULT '',
    c1z_path         TEXT NOT NULL DEFAULT '',
    at               BIGINT NOT NULL
);
CREATE INDEX app_import_runs_app ON app_import_runs (app_id, at);

-- +goose Down
DROP TABLE app_import_runs;
DROP TABLE app_imports;
DROP TABLE apps;
