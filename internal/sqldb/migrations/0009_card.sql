-- Chip ID cards: applications and the cards produced.
CREATE TABLE card_application (
	id TEXT PRIMARY KEY,
	pid TEXT NOT NULL,
	kind TEXT NOT NULL,                -- first, renewal, reissue
	reason TEXT NOT NULL,              -- for a reissue: lost, damaged, data_changed
	state TEXT NOT NULL,               -- submitted, approved, rejected, produced, delivered
	commune TEXT NOT NULL,             -- where it was taken
	submitted_at TIMESTAMPTZ NOT NULL,
	taken_by TEXT NOT NULL,
	decided_at TIMESTAMPTZ,
	decided_by TEXT NOT NULL,
	note TEXT NOT NULL,
	CHECK (state IN ('submitted', 'approved', 'rejected', 'produced', 'delivered'))
);
CREATE INDEX card_application_queue ON card_application (state, commune);
CREATE UNIQUE INDEX card_application_open ON card_application (pid) WHERE state IN ('submitted', 'approved');

CREATE TABLE card (
	id TEXT PRIMARY KEY,
	pid TEXT NOT NULL,                 -- the card number is the personal ID number
	application_id TEXT NOT NULL,
	status TEXT NOT NULL,              -- active, lost, revoked, expired, superseded
	issued_on TEXT NOT NULL,
	expires_on TEXT NOT NULL,          -- '' for a card valid for life
	commune TEXT NOT NULL,
	sod_sha256 TEXT NOT NULL,          -- identifies the chip in passive authentication
	sod BYTEA NOT NULL,
	dg1 BYTEA NOT NULL,
	dg13 BYTEA NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	delivered_at TIMESTAMPTZ,
	CHECK (status IN ('active', 'lost', 'revoked', 'expired', 'superseded'))
);
CREATE UNIQUE INDEX card_one_active ON card (pid) WHERE status = 'active';
CREATE INDEX card_sod ON card (sod_sha256);

-- Production batches: the approved applications of a unit, printed together.
CREATE TABLE card_batch (
	id TEXT PRIMARY KEY,
	commune TEXT NOT NULL,
	cards INTEGER NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	created_by TEXT NOT NULL
);
ALTER TABLE card ADD COLUMN batch_id TEXT NOT NULL DEFAULT '';
