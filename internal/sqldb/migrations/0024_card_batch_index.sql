-- The cards of a production batch, for the batches page's delivered count.
CREATE INDEX card_of_batch ON card (batch_id) WHERE batch_id <> '';
CREATE INDEX card_batch_by_time ON card_batch (created_at);
-- Who made a batch, by name as at the time, like a revision's actor.
ALTER TABLE card_batch ADD COLUMN created_by_name TEXT NOT NULL DEFAULT '';
