-- Console sessions and the pending tickets of a two-step sign-in are
-- officer tokens of their own kinds.
ALTER TABLE officer_token DROP CONSTRAINT officer_token_kind_check;
ALTER TABLE officer_token ADD CONSTRAINT officer_token_kind_check CHECK (kind IN ('session', 'api', 'console', 'pending'));
