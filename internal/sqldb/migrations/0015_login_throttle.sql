-- Login throttling without lock-out (issue 12, class 6). Failures are
-- counted per account and address together, per address, and per account
-- from addresses that never logged in to it; each count blocks only its own
-- key for a growing time, so guessing from one place never keeps the owner
-- out from another. Keys are SHA-256 hashes of realm, key kind, the login
-- name as typed (normalised) and the address, so a key exists for an
-- unknown name just as for a known one and the table holds no login names.
CREATE TABLE login_throttle (
	key TEXT PRIMARY KEY,
	name_key TEXT NOT NULL, -- the hash of realm and name alone: a new password clears every key of the name
	failures INTEGER NOT NULL,
	last_failure TIMESTAMPTZ NOT NULL,
	blocked_until TIMESTAMPTZ
);
CREATE INDEX login_throttle_name ON login_throttle (name_key);

-- Addresses an account logged in from successfully (hashed as above): the
-- per-account count does not apply to them.
CREATE TABLE login_known_source (
	key TEXT PRIMARY KEY,
	last_success TIMESTAMPTZ NOT NULL
);
