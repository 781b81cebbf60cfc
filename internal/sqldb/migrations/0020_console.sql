-- The officer console (issue 14): an authenticator app (TOTP, RFC 6238) as
-- the second factor of officers, sealed with the data key, with the last
-- accepted time step so a code is accepted once; and the language each
-- officer reads the pages in.
ALTER TABLE officer ADD COLUMN totp_sealed BYTEA;
ALTER TABLE officer ADD COLUMN totp_enabled BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE officer ADD COLUMN totp_last_step BIGINT NOT NULL DEFAULT 0;
ALTER TABLE officer ADD COLUMN lang TEXT NOT NULL DEFAULT 'vi';
