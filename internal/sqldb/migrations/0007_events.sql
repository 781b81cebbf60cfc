-- Delivery of change events to subscribed agencies, as CloudEvents over
-- signed webhooks, at least once and in order per person.
CREATE TABLE subscription (
	id TEXT PRIMARY KEY,
	agency TEXT NOT NULL,
	url TEXT NOT NULL,
	secret_sealed BYTEA NOT NULL,      -- the HMAC key, sealed with the data key
	types TEXT NOT NULL,               -- JSON array of event types
	cursor TEXT NOT NULL,              -- the last event_outbox id fanned out to it
	disabled BOOLEAN NOT NULL,
	created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE delivery (
	subscription_id TEXT NOT NULL REFERENCES subscription (id),
	event_id TEXT NOT NULL,
	subject TEXT NOT NULL,
	attempts INTEGER NOT NULL,
	next_at TIMESTAMPTZ NOT NULL,
	delivered_at TIMESTAMPTZ,
	dead BOOLEAN NOT NULL,             -- gave up: in the dead-letter list
	last_error TEXT NOT NULL,
	PRIMARY KEY (subscription_id, event_id)
);
CREATE INDEX delivery_pending ON delivery (subscription_id, delivered_at, dead, event_id);
CREATE INDEX delivery_subject ON delivery (subscription_id, subject, event_id);

-- How far each stream sink (NATS JetStream) has published the outbox.
CREATE TABLE sink_cursor (
	name TEXT PRIMARY KEY,
	cursor TEXT NOT NULL
);
