package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/dancu-vn/dancu/internal/errs"
)

// InclusionProof shows that one access record is in the log a signed
// checkpoint vouches for. A citizen who keeps it, or anyone who checks it
// with the published verifier key, will see a later deletion or change of
// the record contradict the checkpoint.
type InclusionProof struct {
	Index      int64       `json:"index" doc:"The entry's position in the log, from 0"`
	EventID    string      `json:"event_id"`
	LeafHash   tlog.Hash   `json:"leaf_hash" doc:"RFC 6962 leaf hash of the entry"`
	Checkpoint string      `json:"checkpoint" doc:"The signed checkpoint note (C2SP tlog-checkpoint) the proof is against"`
	Proof      []tlog.Hash `json:"proof" doc:"Sibling hashes from the leaf up to the root"`
}

// IndexOf returns the position of an access event in the log: NotFound if
// there is no such event, Unavailable if it is not sealed yet.
func (c *Chain) IndexOf(ctx context.Context, eventID string) (int64, error) {
	var idx int64
	err := c.db.QueryRowContext(ctx, `SELECT idx FROM audit_leaf WHERE event_id = $1`, eventID).Scan(&idx)
	if errors.Is(err, sql.ErrNoRows) {
		var n int
		if err := c.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM access_event WHERE id = $1`, eventID).Scan(&n); err != nil {
			return 0, err
		}
		if n > 0 {
			return 0, errs.E(errs.Unavailable, "access event %s is not sealed yet: try again in a few seconds", eventID)
		}
		return 0, errs.E(errs.NotFound, "no access event %s", eventID)
	}
	return idx, err
}

// ProveInclusion returns the proof that the entry at index is in the tree
// of the latest signed checkpoint: NotFound past the end of the log,
// Unavailable while no checkpoint covers it yet. The proof reads O(log n)
// stored hashes, and is checked before it is returned.
func (c *Chain) ProveInclusion(ctx context.Context, index int64) (InclusionProof, error) {
	cp, err := c.LatestCheckpoint(ctx)
	if err != nil {
		return InclusionProof{}, err
	}
	p := InclusionProof{Index: index, Checkpoint: string(cp.Note)}
	err = c.db.QueryRowContext(ctx, `SELECT event_id FROM audit_leaf WHERE idx = $1`, index).Scan(&p.EventID)
	if errors.Is(err, sql.ErrNoRows) || index < 0 {
		return p, errs.E(errs.NotFound, "the access log has no entry %d", index)
	}
	if err != nil {
		return p, err
	}
	if index >= cp.Size {
		return p, errs.E(errs.Unavailable, "entry %d is not covered by a signed checkpoint yet: try again in a few seconds", index)
	}
	r := &storedHashes{ctx: ctx, q: c.db}
	leaf, err := r.ReadHashes([]int64{tlog.StoredHashIndex(0, index)})
	if err != nil {
		return p, err
	}
	p.LeafHash = leaf[0]
	if p.Proof, err = tlog.ProveRecord(cp.Size, index, r); err != nil {
		return p, fmt.Errorf("prove entry %d: %w", index, err)
	}
	if err := tlog.CheckRecord(p.Proof, cp.Size, cp.Root, index, p.LeafHash); err != nil {
		return p, errs.Wrap(errs.Internal, err, "the stored audit tree does not prove entry %d against its own checkpoint: run dancu audit verify", index)
	}
	return p, nil
}

// CheckInclusion checks p offline: the checkpoint is signed by one of keys
// for origin, and the event e (as the citizen was shown it) is the entry
// at p.Index of that tree. It returns the checkpoint.
func CheckInclusion(p InclusionProof, e Event, origin string, keys note.Verifiers) (Checkpoint, error) {
	cp, err := OpenCheckpoint([]byte(p.Checkpoint), origin, keys)
	if err != nil {
		return cp, err
	}
	leaf := tlog.RecordHash(LeafData(e))
	if leaf != p.LeafHash {
		return cp, errs.E(errs.Invalid, "the access record is not the one the proof is for")
	}
	if err := tlog.CheckRecord(p.Proof, cp.Size, cp.Root, p.Index, leaf); err != nil {
		return cp, errs.Wrap(errs.Invalid, err, "the access record is not in the signed log")
	}
	return cp, nil
}

// ProveConsistency returns the proof that the tree of size newer extends
// the tree of size older (both at most the log's size), for someone
// holding the checkpoint of size older.
func (c *Chain) ProveConsistency(ctx context.Context, older, newer int64) (tlog.TreeProof, error) {
	var size int64
	if err := c.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(idx) + 1, 0) FROM audit_leaf`).Scan(&size); err != nil {
		return nil, err
	}
	if older < 0 || older > newer || newer > size {
		return nil, errs.E(errs.Invalid, "want 0 <= older <= newer <= %d, got %d and %d", size, older, newer)
	}
	return tlog.ProveTree(newer, older, &storedHashes{ctx: ctx, q: c.db})
}
