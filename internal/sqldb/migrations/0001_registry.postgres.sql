CREATE FUNCTION dancu_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END $$;
CREATE TRIGGER citizen_revision_append_only BEFORE UPDATE OR DELETE ON citizen_revision
	FOR EACH ROW EXECUTE FUNCTION dancu_append_only();
CREATE TRIGGER pid_issued_append_only BEFORE DELETE ON pid_issued
	FOR EACH ROW EXECUTE FUNCTION dancu_append_only();
CREATE TRIGGER access_event_append_only BEFORE UPDATE OR DELETE ON access_event
	FOR EACH ROW EXECUTE FUNCTION dancu_append_only();
