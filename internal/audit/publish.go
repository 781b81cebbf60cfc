package audit

import (
	"context"
	"errors"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/sqldb"
)

// Publish copies to each witness the signed checkpoints it does not hold
// yet, oldest first. Like a witness of a transparency log, it first checks
// that the database's log extends the latest checkpoint the witness holds
// (a consistency proof): a log rewritten under the sealer is refused with
// a Conflict and never copied out, so the outside copy keeps pinning the
// honest root. An error with one witness does not stop the others.
func (c *Chain) Publish(ctx context.Context, ws ...Witness) error {
	if len(ws) == 0 {
		return nil
	}
	key, err := c.key(ctx, false)
	if errs.Is(err, errs.NotFound) {
		return nil // nothing sealed yet
	}
	if err != nil {
		return err
	}
	var all []error
	for _, w := range ws {
		if err := c.publishTo(ctx, key, w); err != nil {
			all = append(all, err)
		}
	}
	return errors.Join(all...)
}

func (c *Chain) publishTo(ctx context.Context, key *noteKey, w Witness) error {
	keys := note.VerifierList(key.verifier)
	var held Checkpoint
	msg, err := w.Latest(ctx)
	switch {
	case errs.Is(err, errs.NotFound):
	case err != nil:
		return err
	default:
		if held, err = OpenCheckpoint(msg, key.origin, keys); err != nil {
			return errs.Wrap(errs.Conflict, err, "%s holds a checkpoint this log's key did not sign: not publishing", w)
		}
	}
	c.pubMu.Lock()
	c.published[w.String()] = held.Size
	c.pubMu.Unlock()
	// The database's newest checkpoint must extend what the witness holds,
	// even when there is nothing new to copy: a rewrite is an alarm at the
	// next tick, not at the next access.
	newest, err := c.LatestCheckpoint(ctx)
	if errs.Is(err, errs.NotFound) && held.Size == 0 {
		return nil
	}
	if err != nil && !errs.Is(err, errs.NotFound) {
		return err
	}
	if held.Size > newest.Size {
		return errs.E(errs.Conflict, "%s holds a checkpoint of size %d but the database's newest is of size %d: the log was truncated; not publishing", w, held.Size, newest.Size)
	}
	if _, err := OpenCheckpoint(newest.Note, key.origin, keys); err != nil {
		return errs.Wrap(errs.Conflict, err, "the database's newest audit checkpoint (size %d) is not signed by the log's key: not publishing", newest.Size)
	}
	if err := c.consistent(ctx, c.db, held, newest.Checkpoint); err != nil {
		return errs.Wrap(errs.Conflict, err, "the access log in the database does not extend the checkpoint of size %d that %s holds: it was truncated or rewritten; not publishing", held.Size, w)
	}
	cps, err := checkpointsAfter(ctx, c.db, held.Size, 0, false)
	if err != nil {
		return err
	}
	for _, cp := range cps {
		if _, err := OpenCheckpoint(cp.Note, key.origin, keys); err != nil {
			return errs.Wrap(errs.Conflict, err, "audit checkpoint of size %d is not signed by the log's key: not publishing", cp.Size)
		}
		if err := w.Publish(ctx, cp.Size, cp.Note); err != nil {
			return err
		}
		c.pubMu.Lock()
		c.published[w.String()] = cp.Size
		c.pubMu.Unlock()
	}
	return nil
}

// Published reports the size of the latest checkpoint each witness was
// found or made to hold, by name.
func (c *Chain) Published() map[string]int64 {
	c.pubMu.Lock()
	defer c.pubMu.Unlock()
	out := make(map[string]int64, len(c.published))
	for k, v := range c.published {
		out[k] = v
	}
	return out
}

// consistent checks, with a consistency proof built from the stored tree,
// that the tree of newer extends the tree of older.
func (c *Chain) consistent(ctx context.Context, q sqldb.Querier, older, newer Checkpoint) error {
	if older.Size == 0 {
		return nil // the empty tree is a prefix of every tree
	}
	if older.Size > newer.Size {
		return errs.E(errs.Conflict, "the tree has %d entries, fewer than the %d of the older checkpoint", newer.Size, older.Size)
	}
	proof, err := tlog.ProveTree(newer.Size, older.Size, &storedHashes{ctx: ctx, q: q})
	if err != nil {
		return err
	}
	return tlog.CheckTree(proof, newer.Size, newer.Root, older.Size, older.Root)
}
