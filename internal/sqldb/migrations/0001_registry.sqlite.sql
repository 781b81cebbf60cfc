CREATE TRIGGER citizen_revision_no_update BEFORE UPDATE ON citizen_revision
BEGIN SELECT RAISE(ABORT, 'citizen_revision is append-only'); END;
CREATE TRIGGER citizen_revision_no_delete BEFORE DELETE ON citizen_revision
BEGIN SELECT RAISE(ABORT, 'citizen_revision is append-only'); END;
CREATE TRIGGER pid_issued_no_delete BEFORE DELETE ON pid_issued
BEGIN SELECT RAISE(ABORT, 'personal ID numbers are never released'); END;
CREATE TRIGGER access_event_no_update BEFORE UPDATE ON access_event
BEGIN SELECT RAISE(ABORT, 'access_event is append-only'); END;
CREATE TRIGGER access_event_no_delete BEFORE DELETE ON access_event
BEGIN SELECT RAISE(ABORT, 'access_event is append-only'); END;
