-- Online public services: dossiers (hồ sơ) and their steps.
CREATE TABLE dossier (
	id TEXT PRIMARY KEY,               -- UUIDv7
	code TEXT NOT NULL UNIQUE,         -- the reference printed on receipts, e.g. HS-20261123-4F7K2Q
	service TEXT NOT NULL,             -- catalog code
	applicant_pid TEXT NOT NULL,
	commune TEXT NOT NULL,             -- the competent commune police
	state TEXT NOT NULL,
	data JSONB NOT NULL,               -- the form, without what the registry already holds
	submitted_at TIMESTAMPTZ NOT NULL,
	month TEXT NOT NULL,               -- YYYY-MM of submission in Viet Nam time, for statistics
	received_at TIMESTAMPTZ,
	due_at TIMESTAMPTZ,                -- end of the statutory deadline, from receipt of a complete file
	decided_at TIMESTAMPTZ,
	decided_by TEXT NOT NULL,
	reasons TEXT NOT NULL,             -- refusal reasons (CT06) or information asked for (CT05)
	result TEXT NOT NULL,              -- the result document (e.g. a signed CT07), once returned
	version BIGINT NOT NULL,
	idempotency_key TEXT,
	CHECK (state IN ('submitted', 'received', 'info_requested', 'approved', 'refused', 'returned', 'withdrawn'))
);
CREATE UNIQUE INDEX dossier_idem ON dossier (applicant_pid, idempotency_key);
CREATE INDEX dossier_queue ON dossier (commune, state, due_at);
-- One open dossier per applicant and service: a second is a duplicate.
CREATE UNIQUE INDEX dossier_open ON dossier (applicant_pid, service) WHERE state IN ('submitted', 'received', 'info_requested');
CREATE INDEX dossier_applicant ON dossier (applicant_pid, submitted_at);
CREATE INDEX dossier_stats ON dossier (month, service, commune);

-- Every step of a dossier: who, when, what, why.
CREATE TABLE dossier_step (
	dossier_id TEXT NOT NULL REFERENCES dossier (id),
	seq INTEGER NOT NULL,
	at TIMESTAMPTZ NOT NULL,
	state TEXT NOT NULL,
	actor_id TEXT NOT NULL,
	actor_kind TEXT NOT NULL,
	actor_name TEXT NOT NULL,
	note TEXT NOT NULL,
	PRIMARY KEY (dossier_id, seq)
);

-- Events for subscribers (births, deaths, residence changes, dossier
-- statuses...), written in the transaction of the change that causes them
-- and delivered later by the data-exchange hub.
CREATE TABLE event_outbox (
	id TEXT PRIMARY KEY,               -- UUIDv7: the order of events
	type TEXT NOT NULL,                -- e.g. vn.dancu.dossier.status
	subject TEXT NOT NULL,             -- the person (personal ID number) or object the event is about
	data JSONB NOT NULL,
	created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX event_outbox_subject ON event_outbox (subject, id);

-- Residence confirmations (CT07) issued, as signed.
CREATE TABLE residence_confirmation (
	id TEXT PRIMARY KEY,
	pid TEXT NOT NULL,
	dossier_id TEXT NOT NULL,
	issued_at TIMESTAMPTZ NOT NULL,
	expires_at TIMESTAMPTZ NOT NULL,
	residence_hash TEXT NOT NULL,      -- SHA-256 of the residence data it states
	jws TEXT NOT NULL
);
CREATE INDEX residence_confirmation_pid ON residence_confirmation (pid);

-- Keys that sign documents (residence confirmations), like oidc_signing_key.
CREATE TABLE doc_signing_key (
	id TEXT PRIMARY KEY,
	alg TEXT NOT NULL,
	private_sealed BYTEA NOT NULL,
	public_jwk TEXT NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	retire_at TIMESTAMPTZ
);

-- Accommodation notices (thông báo lưu trú): one row per guest. No
-- approval; lateness against the 23:00 / 08:00 rule is recorded.
CREATE TABLE accommodation_notice (
	dossier_id TEXT NOT NULL REFERENCES dossier (id),
	guest INTEGER NOT NULL,            -- position in the notice
	pid TEXT NOT NULL,                 -- personal ID number of a Vietnamese guest, else ''
	passport TEXT NOT NULL,            -- passport number of a foreign guest, else ''
	name TEXT NOT NULL,
	commune TEXT NOT NULL,
	address TEXT NOT NULL,
	arrival TIMESTAMPTZ NOT NULL,
	until_date TEXT NOT NULL,
	reason TEXT NOT NULL,
	due TIMESTAMPTZ NOT NULL,          -- when the notice had to be given
	late BOOLEAN NOT NULL,
	PRIMARY KEY (dossier_id, guest)
);
CREATE INDEX accommodation_notice_commune ON accommodation_notice (commune, arrival);
CREATE INDEX accommodation_notice_pid ON accommodation_notice (pid);

-- Consents a procedure needs from others (the household head's, for a
-- permanent residence in their household), given through their own login.
CREATE TABLE dossier_consent (
	dossier_id TEXT NOT NULL REFERENCES dossier (id),
	pid TEXT NOT NULL,
	given_at TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (dossier_id, pid)
);
