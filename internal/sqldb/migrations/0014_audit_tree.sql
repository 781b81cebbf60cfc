-- The access log as a verifiable log (Certificate Transparency, the Go
-- checksum database): a Merkle tree over the access events in the order
-- they are sealed, kept in the stored-hash layout of
-- golang.org/x/mod/sumdb/tlog so that inclusion and consistency proofs read
-- O(log n) rows, and checkpoints that are C2SP signed notes. The hash chain
-- of 0005 (audit_chain, audit_checkpoint) is no longer written; its tables
-- stay as they were, and every event, old ones included, is sealed into the
-- tree.
CREATE TABLE audit_leaf (
	idx BIGINT PRIMARY KEY,            -- the entry's index in the tree, from 0
	event_id TEXT NOT NULL UNIQUE,
	sealed_at TIMESTAMPTZ NOT NULL
);

-- tlog's stored hashes: index tlog.StoredHashIndex(level, n).
CREATE TABLE audit_tree_hash (
	idx BIGINT PRIMARY KEY,
	hash BYTEA NOT NULL
);

CREATE TABLE audit_tree_checkpoint (
	size BIGINT PRIMARY KEY,           -- the tree size it signs
	root BYTEA NOT NULL,               -- the tree hash at that size
	at TIMESTAMPTZ NOT NULL,
	note TEXT NOT NULL                 -- the signed note (C2SP tlog-checkpoint)
);

-- The Ed25519 note key that signs checkpoints: one per log, its private
-- half sealed with the data key like the keyrings' keys, its verifier key
-- in the clear for publication.
CREATE TABLE audit_note_key (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	origin TEXT NOT NULL,
	vkey TEXT NOT NULL,
	skey_sealed BYTEA NOT NULL,
	created_at TIMESTAMPTZ NOT NULL
);
