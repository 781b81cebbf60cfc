-- The tamper-evident audit log: access events are chained in the order
-- they are sealed, each link the SHA-256 of the previous link and the
-- event; signed checkpoints fix the chain's head from time to time.
CREATE TABLE audit_chain (
	seq BIGINT PRIMARY KEY,
	event_id TEXT NOT NULL UNIQUE,
	hash TEXT NOT NULL,
	chained_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE audit_checkpoint (
	seq BIGINT PRIMARY KEY,            -- the chain position it covers
	hash TEXT NOT NULL,                -- the chain's hash there
	at TIMESTAMPTZ NOT NULL,
	jws TEXT NOT NULL                  -- {seq, hash, at} signed with an audit key
);

-- Keys that sign checkpoints, like oidc_signing_key.
CREATE TABLE audit_signing_key (
	id TEXT PRIMARY KEY,
	alg TEXT NOT NULL,
	private_sealed BYTEA NOT NULL,
	public_jwk TEXT NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	retire_at TIMESTAMPTZ
);
