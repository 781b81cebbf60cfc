-- Revoked Document Signers (issue 13): each is listed on every CRL the
-- CSCA issues from its revocation on, and the verify service refuses what
-- it signed after the revocation date.
CREATE TABLE pki_revocation (
	serial TEXT PRIMARY KEY,           -- the DS certificate's serial number, lower-case hex
	authority_id TEXT NOT NULL REFERENCES pki_authority (id),
	revoked_at TIMESTAMPTZ NOT NULL,
	reason INTEGER NOT NULL,           -- RFC 5280 CRLReason
	note TEXT NOT NULL
);

-- Link certificates made when the CSCA is renewed (`dancu pki rotate-csca`):
-- the new CSCA's key certified by the old one, so a relying party that
-- trusts the old CSCA can trust the new.
CREATE TABLE pki_link (
	id TEXT PRIMARY KEY,
	old_csca_id TEXT NOT NULL REFERENCES pki_authority (id),
	new_csca_id TEXT NOT NULL REFERENCES pki_authority (id),
	cert BYTEA NOT NULL,
	created_at TIMESTAMPTZ NOT NULL
);

-- Each CSCA issues the CRL of the Document Signers it certified, for as
-- long as its certificate is valid; issuer is the CSCA's authority ID ('' for
-- CRLs made before this column, all by the first CSCA).
ALTER TABLE pki_crl ADD COLUMN issuer TEXT NOT NULL DEFAULT '';
