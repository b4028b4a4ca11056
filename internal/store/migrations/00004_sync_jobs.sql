-- Syncs run as River jobs (internal/jobs).

-- +goose Up

-- job_id is the River job (river_job.id) that runs the sync, so that a sync whose job
-- River gave up on (discarded, cancelled) is found and closed. runner is the River
-- client id of the replica running (or that last ran) it: its data directory holds the
-- .c1z.
ALTER TABLE syncs ADD COLUMN job_id BIGINT;
ALTER TABLE syncs ADD COLUMN runner TEXT NOT NULL DEFAULT '';

-- At most one queued or running sync per connection, even when two replicas start one
-- at the same moment: the second insert fails and the caller answers 409.
CREATE UNIQUE INDEX syncs_one_active ON syncs (connection_id) WHERE state IN ('queued', 'running');

-- +goose Down
DROP INDEX syncs_one_active;
ALTER TABLE syncs DROP COLUMN runner;
ALTER TABLE syncs DROP COLUMN job_id;
