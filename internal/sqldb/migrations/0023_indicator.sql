-- The campaign's indicators, pre-aggregated by unit and month so that a
-- dashboard reads units × months rows, never the people: unit is a commune
-- (5 digits), a province (2 digits) or 'VN' (the nation); built from the
-- owning services' counts by indicator.Rebuild.
CREATE TABLE indicator_count (
	unit TEXT NOT NULL,
	month TEXT NOT NULL,
	name TEXT NOT NULL,
	n BIGINT NOT NULL,
	PRIMARY KEY (unit, month, name)
);
CREATE TABLE indicator_build (
	id INTEGER PRIMARY KEY,
	built_at TIMESTAMPTZ NOT NULL,
	took_ms BIGINT NOT NULL
);
