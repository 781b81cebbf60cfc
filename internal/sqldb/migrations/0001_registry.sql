-- Every personal ID number this registry has assigned or taken in from
-- legacy data. Rows are never deleted: a number is never reused.
CREATE TABLE pid_issued (
	pid TEXT PRIMARY KEY,
	origin TEXT NOT NULL,              -- 'birth' (assigned here) or 'legacy'
	issued_at TIMESTAMPTZ NOT NULL,
	CHECK (origin IN ('birth', 'legacy'))
);

-- One row per citizen, keyed by personal ID number (the shard key). doc holds
-- the whole record as JSON; the other columns are projections of it kept for
-- indexes, filters and jurisdiction checks, rewritten on every change.
CREATE TABLE citizen (
	pid TEXT PRIMARY KEY REFERENCES pid_issued (pid),
	version BIGINT NOT NULL,
	status TEXT NOT NULL,
	family_name TEXT NOT NULL,
	middle_name TEXT NOT NULL,
	given_name TEXT NOT NULL,
	name_key TEXT COLLATE "C" NOT NULL,           -- folded full name: lower case, no diacritics
	birth_date TEXT NOT NULL,          -- YYYY-MM-DD
	birth_year INTEGER NOT NULL,
	sex TEXT NOT NULL,
	res_commune TEXT NOT NULL,         -- permanent residence: current (2025) commune code, or ''
	res_province TEXT NOT NULL,        -- its province code, or ''
	household_id TEXT NOT NULL,        -- '' when in no household
	doc JSONB NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	updated_at TIMESTAMPTZ NOT NULL,
	CHECK (status IN ('alive', 'dead', 'missing')),
	CHECK (sex IN ('male', 'female')),
	CHECK (version > 0)
);
CREATE INDEX citizen_name ON citizen (name_key, pid);
CREATE INDEX citizen_commune_name ON citizen (res_commune, name_key, pid);
CREATE INDEX citizen_province_name ON citizen (res_province, name_key, pid);
CREATE INDEX citizen_household ON citizen (household_id, pid);

-- Links between citizens in both directions, so that a parent's children or
-- a representative's wards are found from the parent's own key.
CREATE TABLE citizen_link (
	pid TEXT NOT NULL,
	role TEXT NOT NULL,                -- what other_pid is to pid: father, mother, spouse, representative, child, represented
	other_pid TEXT NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (pid, role, other_pid)
);

-- The immutable history of every record: one row per version.
CREATE TABLE citizen_revision (
	pid TEXT NOT NULL REFERENCES citizen (pid),
	version BIGINT NOT NULL,
	at TIMESTAMPTZ NOT NULL,
	action TEXT NOT NULL,
	actor_id TEXT NOT NULL,
	actor_kind TEXT NOT NULL,
	actor_name TEXT NOT NULL,
	reason TEXT NOT NULL,
	legal_basis TEXT NOT NULL,
	dossier_ref TEXT NOT NULL,
	changes JSONB NOT NULL,            -- [{"field":…, "before":…, "after":…}]
	PRIMARY KEY (pid, version)
);

CREATE TABLE household (
	id TEXT PRIMARY KEY,
	version BIGINT NOT NULL,
	head_pid TEXT NOT NULL,            -- '' only while being formed
	commune TEXT NOT NULL,             -- current (2025) commune code
	address JSONB NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX household_commune ON household (commune);

-- Requests that carried an Idempotency-Key, so a retry returns the first
-- result instead of acting twice.
CREATE TABLE idempotency_key (
	actor_id TEXT NOT NULL,
	key TEXT NOT NULL,
	request_hash TEXT NOT NULL,
	resource TEXT NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (actor_id, key)
);

CREATE TABLE officer (
	id TEXT PRIMARY KEY,
	username TEXT NOT NULL UNIQUE,
	display_name TEXT NOT NULL,
	role TEXT NOT NULL,
	jurisdiction_level TEXT NOT NULL,
	jurisdiction_code TEXT NOT NULL,
	password_hash TEXT NOT NULL,
	disabled BOOLEAN NOT NULL,
	failed_logins INTEGER NOT NULL,
	locked_until TIMESTAMPTZ,
	created_at TIMESTAMPTZ NOT NULL,
	updated_at TIMESTAMPTZ NOT NULL,
	CHECK (role IN ('admin', 'registrar', 'viewer')),
	CHECK (jurisdiction_level IN ('national', 'province', 'district', 'commune'))
);

-- Bearer tokens: login sessions and API tokens for scripts. Only a SHA-256
-- of the secret is kept; the secrets are 256-bit random, so no slow hash is
-- needed.
CREATE TABLE officer_token (
	id TEXT PRIMARY KEY,
	officer_id TEXT NOT NULL REFERENCES officer (id),
	kind TEXT NOT NULL,
	name TEXT NOT NULL,
	secret_hash TEXT NOT NULL UNIQUE,
	created_at TIMESTAMPTZ NOT NULL,
	expires_at TIMESTAMPTZ,
	last_used_at TIMESTAMPTZ,
	revoked_at TIMESTAMPTZ,
	CHECK (kind IN ('session', 'api'))
);
CREATE INDEX officer_token_officer ON officer_token (officer_id);

-- Every read and change of personal data and every authentication event.
-- The tamper-evident audit log is built on this table.
CREATE TABLE access_event (
	id TEXT PRIMARY KEY,               -- UUIDv7: time-ordered, no sequence
	at TIMESTAMPTZ NOT NULL,
	actor_id TEXT NOT NULL,
	actor_kind TEXT NOT NULL,
	actor_name TEXT NOT NULL,
	action TEXT NOT NULL,
	subject_pid TEXT NOT NULL,
	purpose TEXT NOT NULL,
	detail TEXT NOT NULL,
	source TEXT NOT NULL
);
CREATE INDEX access_event_subject ON access_event (subject_pid, id);
CREATE INDEX access_event_actor ON access_event (actor_id, id);
