-- Secondary indexes dropped for a bulk load into an empty table, with the
-- statement that builds each again. A row here means the index is missing:
-- the load that dropped it, `dancu migrate` or `dancu serve` builds it and
-- deletes the row in one transaction.
CREATE TABLE deferred_index (
	name TEXT PRIMARY KEY,
	tbl TEXT NOT NULL,
	ddl TEXT NOT NULL,
	deferred_at TIMESTAMPTZ NOT NULL
);
