-- The inventory's counts as of each ingestion (resources per type, entitlements, grants,
-- people), so that the home page reads one row per connection instead of counting
-- 100,000 grants on every view. Ingestion is the only writer of the inventory, so the
-- counts of a connection's last ingestion are its current counts.

-- +goose Up
ALTER TABLE inv_ingests ADD COLUMN counts TEXT NOT NULL DEFAULT '{}';

-- +goose Down
ALTER TABLE inv_ingests DROP COLUMN counts;
