-- Change events are fanned out from a queue instead of by a cursor over
-- event IDs. An event takes its ID (UUIDv7) when its transaction writes
-- it and becomes visible only when that transaction commits, so a slower
-- transaction commits an older ID after a faster one committed a newer
-- one; a cursor that had already moved past the newer ID never saw the
-- older event. Events.Emit now writes a row here in the transaction of
-- the event; the fan-out takes rows from here (one fan-out at a time) and
-- deletes them in the transaction that creates the deliveries, so an
-- event is fanned out exactly once, whenever it commits.
CREATE TABLE event_pending (
	event_id TEXT PRIMARY KEY REFERENCES event_outbox (id)
);

-- The events after the oldest subscription cursor are not yet fanned out
-- to every subscription; the fan-out skips deliveries that already exist.
INSERT INTO event_pending (event_id)
	SELECT id FROM event_outbox WHERE id > (SELECT MIN(cursor) FROM subscription WHERE NOT disabled);

-- Stream sinks (NATS JetStream) registered with this database: the
-- fan-out gives each a queue entry for every event, which the sink
-- deletes once the event is published.
CREATE TABLE event_sink (
	name TEXT PRIMARY KEY,
	created_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE sink_pending (
	sink TEXT NOT NULL REFERENCES event_sink (name),
	event_id TEXT NOT NULL REFERENCES event_outbox (id),
	PRIMARY KEY (sink, event_id)
);
INSERT INTO event_sink (name, created_at) SELECT name, CURRENT_TIMESTAMP FROM sink_cursor;
INSERT INTO sink_pending (sink, event_id)
	SELECT c.name, e.id FROM sink_cursor c JOIN event_outbox e ON e.id > c.cursor;
-- subscription.cursor and sink_cursor are no longer read.
