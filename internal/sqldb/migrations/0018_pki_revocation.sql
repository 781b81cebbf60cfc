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
