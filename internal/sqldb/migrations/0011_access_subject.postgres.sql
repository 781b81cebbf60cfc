-- The people an access event concerns when it concerns many at once (a
-- chunk of a batch verification): one narrow row per person, so that the
-- person's access log finds the event. The event's detail carries a SHA-256
-- over its sorted subjects, which the hash chain seals.
CREATE TABLE access_subject (
	subject_pid TEXT NOT NULL,
	event_id TEXT NOT NULL,
	PRIMARY KEY (subject_pid, event_id)
);
CREATE TRIGGER access_subject_append_only BEFORE UPDATE OR DELETE ON access_subject
	FOR EACH ROW EXECUTE FUNCTION dancu_append_only();
