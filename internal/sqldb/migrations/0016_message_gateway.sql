-- Messages to citizens (activation codes, notices) leave through a
-- gateway (an SMS / e-mail / app-push adapter) instead of being read out of
-- the table (issue 12, class 2). The body is sealed with the data key while
-- it waits, and erased once the gateway took it; what stays is the record
-- of the delivery. Outside --demo nobody reads bodies through the API.
ALTER TABLE outbox_message ADD COLUMN body_sealed BYTEA;
ALTER TABLE outbox_message ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox_message ADD COLUMN next_at TIMESTAMPTZ;
ALTER TABLE outbox_message ADD COLUMN sent_at TIMESTAMPTZ;
ALTER TABLE outbox_message ADD COLUMN last_error TEXT NOT NULL DEFAULT '';
CREATE INDEX outbox_message_due ON outbox_message (next_at) WHERE sent_at IS NULL;
CREATE INDEX outbox_message_recipient ON outbox_message (recipient, id);

-- Bodies written in plain text before this migration are erased: the codes
-- in them expired long ago, and no gateway will take them now.
UPDATE outbox_message SET body = '', sent_at = created_at, last_error = 'written before the message gateway; body erased';
