-- The OpenID provider's single sign-on sessions: one per browser that
-- logged in, found by the SHA-256 of its cookie. A session ends when idle
-- too long, when too old, when ended (logout), or when the account's
-- session epoch moves on ("log out everywhere", lock, revocation).
CREATE TABLE oidc_session (
	id_hash TEXT PRIMARY KEY,          -- SHA-256 of the cookie value
	sid TEXT NOT NULL UNIQUE,          -- the session's public ID (sid claim, back-channel logout)
	pid TEXT NOT NULL,
	subject TEXT NOT NULL,
	acr TEXT NOT NULL,                 -- the level it was established at
	amr TEXT NOT NULL,
	auth_time TIMESTAMPTZ NOT NULL,
	epoch INTEGER NOT NULL,            -- the account's session epoch at login
	created_at TIMESTAMPTZ NOT NULL,
	last_seen TIMESTAMPTZ NOT NULL,
	expires_at TIMESTAMPTZ NOT NULL,   -- the absolute timeout
	ended_at TIMESTAMPTZ
);
CREATE INDEX oidc_session_pid ON oidc_session (pid);

-- The relying parties a session logged in to (for back-channel logout).
CREATE TABLE oidc_session_client (
	sid TEXT NOT NULL,
	client_id TEXT NOT NULL,
	subject TEXT NOT NULL,
	PRIMARY KEY (sid, client_id)
);

-- The jti of every private_key_jwt client assertion accepted, kept until
-- the assertion expires, so that none is accepted twice (RFC 7523 §3).
CREATE TABLE oidc_client_assertion (
	client_id TEXT NOT NULL,
	jti TEXT NOT NULL,
	expires_at TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (client_id, jti)
);
CREATE INDEX oidc_client_assertion_expiry ON oidc_client_assertion (expires_at);

-- Per client: the ID token signing algorithm (RS256 or ES256) and the
-- back-channel logout endpoint.
ALTER TABLE oidc_client ADD COLUMN id_token_alg TEXT NOT NULL DEFAULT '';
ALTER TABLE oidc_client ADD COLUMN backchannel_logout_uri TEXT NOT NULL DEFAULT '';

-- A login transaction keeps its session and, once its code is redeemed,
-- what the redemption issued, so that a second redemption revokes it
-- (RFC 6749 §4.1.2).
ALTER TABLE oidc_auth_request ADD COLUMN sid TEXT NOT NULL DEFAULT '';
ALTER TABLE oidc_auth_request ADD COLUMN redeemed_at TIMESTAMPTZ;
ALTER TABLE oidc_auth_request ADD COLUMN token_family TEXT NOT NULL DEFAULT '';
ALTER TABLE oidc_auth_request ADD COLUMN access_id TEXT NOT NULL DEFAULT '';

-- The refresh-token family an access token was issued with, so that
-- revoking the family (RFC 7009 §2.1, reuse detection) ends its access
-- tokens too.
ALTER TABLE oidc_access_token ADD COLUMN family TEXT NOT NULL DEFAULT '';
CREATE INDEX oidc_access_token_family ON oidc_access_token (family);

-- RS256 signing keys, beside the ES256 ones of oidc_signing_key.
CREATE TABLE oidc_rsa_signing_key (
	id TEXT PRIMARY KEY,
	alg TEXT NOT NULL,
	private_sealed BYTEA NOT NULL,
	public_jwk TEXT NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	retire_at TIMESTAMPTZ
);
