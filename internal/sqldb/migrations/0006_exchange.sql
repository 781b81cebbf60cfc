-- The data-exchange hub: member agencies and what each may do.
CREATE TABLE agency (
	id TEXT PRIMARY KEY,               -- its OpenID client ID (client credentials)
	name TEXT NOT NULL,
	kind TEXT NOT NULL,                -- ministry, locality, state_enterprise, bank, telecom, hospital, other
	services TEXT NOT NULL,            -- JSON array: verify, query, batch, events, enrich
	fields TEXT NOT NULL,              -- JSON array: fields a scoped query may read
	purposes TEXT NOT NULL,            -- JSON array: declared purposes
	needs_consent BOOLEAN NOT NULL,    -- businesses read only with the citizen's consent
	rate_per_second INTEGER NOT NULL,  -- verification quota
	disabled BOOLEAN NOT NULL,
	created_at TIMESTAMPTZ NOT NULL
);

-- Verifications that did not match, per person: many in a short time
-- against one number look like enumeration and are throttled.
CREATE TABLE verify_mismatch (
	pid TEXT NOT NULL,
	agency TEXT NOT NULL,
	at TIMESTAMPTZ NOT NULL
);
CREATE INDEX verify_mismatch_pid ON verify_mismatch (pid, at);

-- What a citizen allows a business member to read, for which purpose,
-- until when.
CREATE TABLE exchange_consent (
	pid TEXT NOT NULL,
	agency TEXT NOT NULL,
	fields TEXT NOT NULL,              -- JSON array
	purpose TEXT NOT NULL,
	granted_at TIMESTAMPTZ NOT NULL,
	expires_at TIMESTAMPTZ NOT NULL,
	revoked_at TIMESTAMPTZ,
	PRIMARY KEY (pid, agency)
);

-- Batch verification jobs: an agency's file of records, checked in the
-- background; results kept per chunk of records, in order.
CREATE TABLE verify_job (
	id TEXT PRIMARY KEY,
	agency TEXT NOT NULL,
	purpose TEXT NOT NULL,
	state TEXT NOT NULL,               -- running, done, failed
	total INTEGER NOT NULL,
	done INTEGER NOT NULL,
	matched INTEGER NOT NULL,
	errors INTEGER NOT NULL,           -- records that could not be checked (malformed)
	created_at TIMESTAMPTZ NOT NULL,
	finished_at TIMESTAMPTZ,
	error TEXT NOT NULL
);
CREATE INDEX verify_job_agency ON verify_job (agency, created_at);

CREATE TABLE verify_job_chunk (
	job_id TEXT NOT NULL REFERENCES verify_job (id),
	seq INTEGER NOT NULL,
	results TEXT NOT NULL,             -- JSON Lines, one per record
	PRIMARY KEY (job_id, seq)
);

-- Records of sector databases (social insurance, vaccination, driving
-- licences...) sent by agencies, tied to citizens, with what disagrees
-- with the registry: attributes for services, a data-quality feed for
-- officers.
CREATE TABLE sector_record (
	id TEXT PRIMARY KEY,
	agency TEXT NOT NULL,
	kind TEXT NOT NULL,                -- e.g. social_insurance, vaccination, driving_licence
	external_id TEXT NOT NULL,         -- the sector's own key
	pid TEXT NOT NULL,                 -- the citizen it is tied to, or ''
	method TEXT NOT NULL,              -- pid, demographic, none, ambiguous
	disagree TEXT NOT NULL,            -- JSON array of fields that differ from the registry
	data JSONB NOT NULL,               -- the sector's attributes
	dated TEXT NOT NULL,               -- the date the sector gives its data
	received_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX sector_record_key ON sector_record (agency, kind, external_id);
CREATE INDEX sector_record_pid ON sector_record (pid);
CREATE INDEX sector_record_disagree ON sector_record (agency, kind, method);
