-- The Country Signing CA and the Document Signers, private keys sealed with
-- the data key (a hardware module would hold them in production).
CREATE TABLE pki_authority (
	id TEXT PRIMARY KEY,
	role TEXT NOT NULL,                -- csca or ds
	cert BYTEA NOT NULL,               -- DER
	key_sealed BYTEA NOT NULL,
	active BOOLEAN NOT NULL,           -- the DS that signs new cards, the CSCA that signs new DS
	created_at TIMESTAMPTZ NOT NULL,
	CHECK (role IN ('csca', 'ds'))
);

-- The CSCA's certificate revocation lists, newest published.
CREATE TABLE pki_crl (
	number BIGINT PRIMARY KEY,
	der BYTEA NOT NULL,
	issued_at TIMESTAMPTZ NOT NULL
);
