-- Electronic identity accounts (VNeID levels 1 and 2). The account number is
-- the personal ID number.
CREATE TABLE eid_account (
	pid TEXT PRIMARY KEY,
	subject TEXT NOT NULL UNIQUE,      -- the opaque OpenID subject (sub) given to relying parties, not the number
	level INTEGER NOT NULL,            -- assurance level granted: 1 or 2
	state TEXT NOT NULL,               -- approved (waiting for activation), active, locked, revoked
	phone TEXT NOT NULL,
	email TEXT NOT NULL,
	password_hash TEXT NOT NULL,       -- argon2id, '' until activated
	passcode_hash TEXT NOT NULL,       -- argon2id of the 6-digit passcode, '' until activated
	guardian_pid TEXT NOT NULL,        -- for a child under 14 or a ward: the guardian's account, else ''
	failed_logins INTEGER NOT NULL,
	locked_until TIMESTAMPTZ,          -- a temporary lock after failed logins
	state_reason TEXT NOT NULL,        -- why it is locked or revoked
	session_epoch INTEGER NOT NULL,    -- raised by "log out everywhere": older sessions are void
	totp_sealed BYTEA,                 -- authenticator-app secret, sealed with the data key
	totp_enabled BOOLEAN NOT NULL DEFAULT false,
	totp_last_step BIGINT NOT NULL DEFAULT 0, -- the last time step used: a code works once
	version BIGINT NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	updated_at TIMESTAMPTZ NOT NULL,
	activated_at TIMESTAMPTZ,
	CHECK (level IN (1, 2)),
	CHECK (state IN ('approved', 'active', 'locked', 'revoked'))
);
CREATE INDEX eid_account_guardian ON eid_account (guardian_pid, pid);

-- Applications for an account or for raising one to level 2.
CREATE TABLE eid_application (
	id TEXT PRIMARY KEY,               -- UUIDv7
	pid TEXT NOT NULL,
	level INTEGER NOT NULL,
	channel TEXT NOT NULL,             -- self (online) or counter (in person, taken by an officer)
	state TEXT NOT NULL,               -- submitted, approved, rejected
	phone TEXT NOT NULL,
	email TEXT NOT NULL,
	card_status TEXT NOT NULL,         -- valid, expired, none: sets the level-2 deadline
	commune TEXT NOT NULL,             -- the competent commune (permanent residence), for officers' queues
	submitted_at TIMESTAMPTZ NOT NULL,
	due_at TIMESTAMPTZ NOT NULL,       -- end of the statutory deadline in working days
	taken_by TEXT NOT NULL,            -- officer who took an in-person application, else ''
	decided_at TIMESTAMPTZ,
	decided_by TEXT NOT NULL,
	reason TEXT NOT NULL,              -- why it was rejected
	idempotency_key TEXT,              -- a retried submission finds the first one
	CHECK (level IN (1, 2)),
	CHECK (channel IN ('self', 'counter')),
	CHECK (state IN ('submitted', 'approved', 'rejected'))
);
CREATE INDEX eid_application_queue ON eid_application (state, commune, due_at);
CREATE INDEX eid_application_due ON eid_application (state, due_at);
CREATE INDEX eid_application_pid ON eid_application (pid, submitted_at);
CREATE UNIQUE INDEX eid_application_idem ON eid_application (idempotency_key);
-- At most one application of each level waits for a decision per person.
CREATE UNIQUE INDEX eid_application_pending ON eid_application (pid, level) WHERE state = 'submitted';

-- Portrait and fingerprint templates, as opaque blobs sealed with the data
-- key (AES-256-GCM); format names what the blob holds (image/jpeg, ISO/IEC
-- 19794-2, ANSI 378...).
CREATE TABLE eid_biometric (
	application_id TEXT NOT NULL REFERENCES eid_application (id),
	kind TEXT NOT NULL,                -- face or fingerprint
	position INTEGER NOT NULL,         -- finger position (ISO/IEC 19794-2), 0 for the face
	format TEXT NOT NULL,
	sealed BYTEA NOT NULL,
	PRIMARY KEY (application_id, kind, position),
	CHECK (kind IN ('face', 'fingerprint'))
);

-- One-time codes, stored hashed; single use, short-lived, few attempts.
CREATE TABLE eid_otp (
	id TEXT PRIMARY KEY,
	pid TEXT NOT NULL,
	purpose TEXT NOT NULL,             -- activation, ...
	code_hash TEXT NOT NULL,
	expires_at TIMESTAMPTZ NOT NULL,
	used_at TIMESTAMPTZ,
	attempts INTEGER NOT NULL
);
CREATE INDEX eid_otp_pid ON eid_otp (pid, purpose);

-- Failed logins by source address, across accounts: each failure, kept
-- for the sliding window, and per address the count in the window at the
-- last failure and until when the address is refused.
CREATE TABLE auth_failure (
	source TEXT NOT NULL,
	at TIMESTAMPTZ NOT NULL
);
CREATE INDEX auth_failure_source ON auth_failure (source, at);
CREATE TABLE auth_throttle (
	source TEXT PRIMARY KEY,
	failures INTEGER NOT NULL,
	window_start TIMESTAMPTZ NOT NULL, -- the last failure
	locked_until TIMESTAMPTZ
);

-- Messages to citizens (SMS, e-mail). The built-in sender writes here, so
-- demos work offline and the console can show them; a gateway reads them.
CREATE TABLE outbox_message (
	id TEXT PRIMARY KEY,
	channel TEXT NOT NULL,             -- sms or email
	recipient TEXT NOT NULL,
	subject TEXT NOT NULL,
	body TEXT NOT NULL,
	created_at TIMESTAMPTZ NOT NULL
);

-- The OpenID provider: relying parties, login transactions, refresh tokens,
-- consents and signing keys.
CREATE TABLE oidc_client (
	id TEXT PRIMARY KEY,
	name TEXT NOT NULL,
	secret_hash TEXT NOT NULL,         -- SHA-256 of a generated high-entropy secret; '' for public clients and private_key_jwt
	auth_method TEXT NOT NULL,         -- none, client_secret_basic, client_secret_post, private_key_jwt
	app_type TEXT NOT NULL,            -- web, native, user_agent
	redirect_uris TEXT NOT NULL,       -- JSON arrays
	post_logout_uris TEXT NOT NULL,
	grant_types TEXT NOT NULL,
	scopes TEXT NOT NULL,              -- scopes it may ask for
	min_level INTEGER NOT NULL,        -- the assurance level it requires of logins: 1 or 2
	jwks TEXT NOT NULL,                -- public keys for private_key_jwt, JSON Web Key Set
	disabled BOOLEAN NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	CHECK (min_level IN (1, 2))
);

CREATE TABLE oidc_auth_request (
	id TEXT PRIMARY KEY,
	client_id TEXT NOT NULL,
	request JSONB NOT NULL,            -- the authorization request as received
	subject TEXT NOT NULL,             -- '' until a login completes it
	pid TEXT NOT NULL,
	auth_time TIMESTAMPTZ,
	acr TEXT NOT NULL,
	amr TEXT NOT NULL,
	epoch INTEGER NOT NULL,            -- the account's session epoch at login
	browser_nonce TEXT NOT NULL,       -- binds the consent step to the browser that logged in
	pending TEXT NOT NULL DEFAULT '',  -- a second factor still to give ('totp'), else ''
	done BOOLEAN NOT NULL,
	code_hash TEXT,                    -- SHA-256 of the authorization code, once issued
	created_at TIMESTAMPTZ NOT NULL,
	expires_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX oidc_auth_request_code ON oidc_auth_request (code_hash);
CREATE INDEX oidc_auth_request_expiry ON oidc_auth_request (expires_at);

-- Refresh tokens, stored hashed. Each use rotates the token; a token of a
-- family used twice revokes the whole family (reuse detection).
CREATE TABLE oidc_refresh_token (
	token_hash TEXT PRIMARY KEY,
	family TEXT NOT NULL,
	client_id TEXT NOT NULL,
	subject TEXT NOT NULL,
	pid TEXT NOT NULL,
	scopes TEXT NOT NULL,
	audience TEXT NOT NULL,
	acr TEXT NOT NULL,
	amr TEXT NOT NULL,
	auth_time TIMESTAMPTZ NOT NULL,
	epoch INTEGER NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	expires_at TIMESTAMPTZ NOT NULL,
	used_at TIMESTAMPTZ,               -- rotated: using it again is reuse
	revoked_at TIMESTAMPTZ
);
CREATE INDEX oidc_refresh_token_family ON oidc_refresh_token (family);
CREATE INDEX oidc_refresh_token_subject ON oidc_refresh_token (pid, client_id);

-- Access tokens issued for a citizen (signed JWTs; this row holds what
-- userinfo needs and lets them be revoked). Client-credentials tokens are
-- not stored.
CREATE TABLE oidc_access_token (
	id TEXT PRIMARY KEY,
	client_id TEXT NOT NULL,
	subject TEXT NOT NULL,
	pid TEXT NOT NULL,
	scopes TEXT NOT NULL,
	epoch INTEGER NOT NULL,
	expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX oidc_access_token_expiry ON oidc_access_token (expires_at);

-- Access tokens revoked before they expire (they are signed JWTs).
CREATE TABLE oidc_revoked_token (
	id TEXT PRIMARY KEY,
	expires_at TIMESTAMPTZ NOT NULL
);

-- What each citizen agreed to share with each relying party.
CREATE TABLE oidc_consent (
	pid TEXT NOT NULL,
	client_id TEXT NOT NULL,
	scopes TEXT NOT NULL,              -- JSON array
	granted_at TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (pid, client_id)
);

-- Signing keys, private halves sealed with the data key. A key signs from
-- its creation until the next one is made, and is published until retire_at,
-- after every token it signed has expired.
CREATE TABLE oidc_signing_key (
	id TEXT PRIMARY KEY,
	alg TEXT NOT NULL,
	private_sealed BYTEA NOT NULL,
	public_jwk TEXT NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	retire_at TIMESTAMPTZ
);

-- Organisations' electronic identities (NĐ 69/2024), registered by their
-- representative with a level-2 account.
CREATE TABLE eid_organisation (
	id TEXT PRIMARY KEY,               -- the organisation's e-ID code
	name TEXT NOT NULL,                -- Vietnamese name
	short_name TEXT NOT NULL,
	foreign_name TEXT NOT NULL,
	registration_number TEXT NOT NULL, -- enterprise (tax) code or the establishing decision's number
	founded TEXT NOT NULL,             -- YYYY-MM-DD
	commune TEXT NOT NULL,             -- head office: current commune code
	address TEXT NOT NULL,             -- head office: street and number
	representative_pid TEXT NOT NULL,
	state TEXT NOT NULL,               -- submitted, approved, rejected, revoked
	submitted_at TIMESTAMPTZ NOT NULL,
	due_at TIMESTAMPTZ NOT NULL,
	decided_at TIMESTAMPTZ,
	decided_by TEXT NOT NULL,
	reason TEXT NOT NULL,
	CHECK (state IN ('submitted', 'approved', 'rejected', 'revoked'))
);
CREATE INDEX eid_organisation_queue ON eid_organisation (state, commune, due_at);
CREATE INDEX eid_organisation_rep ON eid_organisation (representative_pid);
CREATE INDEX eid_organisation_regno ON eid_organisation (registration_number);

-- Passkeys (WebAuthn credentials) of e-ID accounts.
CREATE TABLE eid_passkey (
	id TEXT PRIMARY KEY,               -- the credential ID, base64url
	pid TEXT NOT NULL,
	name TEXT NOT NULL,                -- what the holder called it ("phone")
	credential TEXT NOT NULL,          -- the go-webauthn credential (public key, flags, counter), JSON
	created_at TIMESTAMPTZ NOT NULL,
	last_used_at TIMESTAMPTZ
);
CREATE INDEX eid_passkey_pid ON eid_passkey (pid);

-- WebAuthn ceremonies in progress: the challenge between begin and finish.
CREATE TABLE webauthn_ceremony (
	id TEXT PRIMARY KEY,
	pid TEXT NOT NULL,                 -- '' for a login (the passkey says who)
	data TEXT NOT NULL,                -- go-webauthn session data, JSON
	expires_at TIMESTAMPTZ NOT NULL
);
