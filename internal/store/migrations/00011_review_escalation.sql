-- Access reviews: when a campaign's undecided items were escalated to the fallback reviewers
-- (undecided "escalate" moves the due date once; the second due date leaves what is still
-- undecided pending for an admin or auditor).

-- +goose Up
ALTER TABLE review_campaigns ADD COLUMN escalated_at BIGINT;

-- +goose Down
ALTER TABLE review_campaigns DROP COLUMN escalated_at;
