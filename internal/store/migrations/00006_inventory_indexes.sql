-- Indexes that a planner cannot take for something else. Without statistics (SQLite
-- gathers none by itself), SQLite's planner prefers an index that yields the ORDER BY of
-- a query, and these two did for the wrong queries:
--
-- inv_resources_current (connection_id, type, display_name), from 00001, gave part of the
-- resources list's order: the list index now holds the whole order (type, display_name,
-- id, connection_id), and the other goes.
--
-- inv_grants_removed (removed_at, id) served "removed_at IS NULL" in id order, so a
-- person's 47 grants were looked for by walking all 170,000 open grants of the large
-- preset. It serves the change feed's removed grants only, so it now holds removed
-- grants only (a comparison removed_at > ? implies removed_at IS NOT NULL for both
-- databases' planners).

-- +goose Up
DROP INDEX inv_resources_current;
DROP INDEX inv_resources_list;
CREATE INDEX inv_resources_list ON inv_resources (type, display_name, id, connection_id) WHERE removed_at IS NULL;
DROP INDEX inv_grants_removed;
CREATE INDEX inv_grants_removed ON inv_grants (removed_at, id) WHERE removed_at IS NOT NULL;

-- +goose Down
DROP INDEX inv_grants_removed;
CREATE INDEX inv_grants_removed ON inv_grants (removed_at, id);
DROP INDEX inv_resources_list;
CREATE INDEX inv_resources_list ON inv_resources (type, display_name, id) WHERE removed_at IS NULL;
CREATE INDEX inv_resources_current ON inv_resources (connection_id, type, display_name) WHERE removed_at IS NULL;
