-- Challenges for Active Authentication at a counter: chosen by the
-- platform, for one officer, used once within minutes, so that a recorded
-- answer of a chip cannot be replayed by someone without the card.
CREATE TABLE card_challenge (
	id TEXT PRIMARY KEY,               -- UUIDv7
	officer_id TEXT NOT NULL,          -- the officer it was given to
	challenge BYTEA NOT NULL,          -- 8 random bytes
	expires_at TIMESTAMPTZ NOT NULL,
	used_at TIMESTAMPTZ
);
CREATE INDEX card_challenge_expires ON card_challenge (expires_at);
