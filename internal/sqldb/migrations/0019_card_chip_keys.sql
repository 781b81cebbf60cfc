-- Chip Authentication and Active Authentication (issue 13): every card's
-- chip holds DG14 (SecurityInfos with its Chip Authentication public key)
-- and DG15 (its Active Authentication public key), both hashed in the
-- SOD. Only the public data groups are kept; the private keys go to the
-- card factory in the production answer and are never stored. NULL for
-- cards produced before.
ALTER TABLE card ADD COLUMN dg14 BYTEA;
ALTER TABLE card ADD COLUMN dg15 BYTEA;
