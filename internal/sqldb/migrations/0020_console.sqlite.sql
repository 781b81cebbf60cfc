-- Console sessions and the pending tickets of a two-step sign-in are
-- officer tokens of their own kinds; SQLite changes a CHECK by rebuilding
-- the table (nothing references it).
CREATE TABLE officer_token_new (
	id TEXT PRIMARY KEY,
	officer_id TEXT NOT NULL REFERENCES officer (id),
	kind TEXT NOT NULL,
	name TEXT NOT NULL,
	secret_hash TEXT NOT NULL UNIQUE,
	created_at TIMESTAMPTZ NOT NULL,
	expires_at TIMESTAMPTZ,
	last_used_at TIMESTAMPTZ,
	revoked_at TIMESTAMPTZ,
	CHECK (kind IN ('session', 'api', 'console', 'pending'))
);
INSERT INTO officer_token_new SELECT id, officer_id, kind, name, secret_hash, created_at, expires_at, last_used_at, revoked_at FROM officer_token;
DROP TABLE officer_token;
ALTER TABLE officer_token_new RENAME TO officer_token;
CREATE INDEX officer_token_officer ON officer_token (officer_id);
