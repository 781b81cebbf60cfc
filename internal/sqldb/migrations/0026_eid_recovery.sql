-- Recovery codes of e-ID accounts: shown once to the holder, stored as
-- hashes, each usable once. A new set voids the old one.
CREATE TABLE eid_recovery_code (
	pid TEXT NOT NULL,
	id TEXT NOT NULL,                  -- UUIDv7
	code_hash TEXT NOT NULL,           -- SHA-256 of the account and the code (the codes are random, 50 bits)
	created_at TIMESTAMPTZ NOT NULL,
	used_at TIMESTAMPTZ,
	PRIMARY KEY (pid, id)
);

-- After a change made online that gets an account back (a recovery code),
-- no new device or factor may be added before this time: the notices sent
-- to the phone and e-mail on file have time to reach the holder.
ALTER TABLE eid_account ADD COLUMN cooling_until TIMESTAMPTZ;
