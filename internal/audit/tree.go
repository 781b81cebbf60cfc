package audit

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/keyring"
	"github.com/dancu-vn/dancu/internal/sqldb"
)

// Chain makes the access log a verifiable log, as Certificate Transparency
// and the Go checksum database are: Seal appends the events not yet sealed
// as the leaves of a Merkle tree (RFC 6962 hashing, through
// golang.org/x/mod/sumdb/tlog) and signs a checkpoint of the tree in the
// same transaction; Publish copies the checkpoints outside the database;
// Verify recomputes the tree from the events and holds it against the
// signed checkpoints, inside and outside; ProveInclusion and
// ProveConsistency give the O(log n) proofs anyone can check offline.
type Chain struct {
	db     *sqldb.DB
	sealer keyring.Sealer
	origin string
	now    func() time.Time

	mu sync.Mutex
	nk *noteKey

	pubMu     sync.Mutex
	published map[string]int64 // outside copy → the size it holds
}

// CheckpointEvery is how many entries one signed checkpoint covers at most,
// so that a large seal still leaves checkpoints to hold a rewrite against.
const CheckpointEvery = 1000

// DefaultOrigin names the log in its checkpoints when the deployment names
// it nothing else. The origin is fixed by the first seal (it is the note
// key's name); later configuration does not change it.
const DefaultOrigin = "dancu/access-log"

// NewChain returns the verifiable log over db's access events, its note key
// sealed with sealer (the data key), named origin (DefaultOrigin if empty)
// when it is first sealed.
func NewChain(db *sqldb.DB, sealer keyring.Sealer, origin string, now func() time.Time) *Chain {
	if now == nil {
		now = time.Now
	}
	if origin == "" {
		origin = DefaultOrigin
	}
	return &Chain{db: db, sealer: sealer, origin: origin, now: now, published: map[string]int64{}}
}

const eventColumns = `id, at, actor_id, actor_kind, actor_name, action, subject_pid, purpose, detail, source`

func scanEvent(row interface{ Scan(...any) error }) (Event, error) {
	var e Event
	err := row.Scan(&e.ID, &e.At, &e.ActorID, &e.Kind, &e.Name, &e.Action, &e.Subject, &e.Purpose, &e.Detail, &e.Source)
	e.At = e.At.UTC()
	return e, err
}

// leafPrefix versions the leaf encoding.
const leafPrefix = "dancu-access-event-v1\n"

// LeafData is the entry the tree commits to for an event: every stored
// field, the event ID first, as a JSON array.
func LeafData(e Event) []byte {
	body, _ := json.Marshal([]string{e.ID, e.At.UTC().Format(time.RFC3339Nano), e.ActorID, e.Kind, e.Name, e.Action, e.Subject, e.Purpose, e.Detail, e.Source})
	return append([]byte(leafPrefix), body...)
}

// storedHashes reads tlog's stored hashes from audit_tree_hash, first from
// overlay (the hashes a seal wrote in its own transaction and still needs).
type storedHashes struct {
	ctx     context.Context
	q       sqldb.Querier
	overlay map[int64]tlog.Hash
}

func (r *storedHashes) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	var need []any
	where := map[int64][]int{}
	for i, x := range indexes {
		if h, ok := r.overlay[x]; ok {
			out[i] = h
			continue
		}
		if _, dup := where[x]; !dup {
			need = append(need, x)
		}
		where[x] = append(where[x], i)
	}
	if len(need) == 0 {
		return out, nil
	}
	marks := make([]string, len(need))
	for i := range need {
		marks[i] = fmt.Sprintf("$%d", i+1)
	}
	rows, err := r.q.QueryContext(r.ctx, `SELECT idx, hash FROM audit_tree_hash WHERE idx IN (`+strings.Join(marks, ",")+`)`, need...)
	if err != nil {
		return nil, fmt.Errorf("read the audit tree: %w", err)
	}
	defer rows.Close()
	found := 0
	for rows.Next() {
		var x int64
		var b []byte
		if err := rows.Scan(&x, &b); err != nil {
			return nil, err
		}
		if len(b) != tlog.HashSize {
			return nil, errs.E(errs.Internal, "audit tree hash %d has %d bytes", x, len(b))
		}
		for _, i := range where[x] {
			copy(out[i][:], b)
		}
		found++
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if found != len(need) {
		return nil, errs.E(errs.Internal, "the audit tree lacks %d of the hashes it needs", len(need)-found)
	}
	return out, nil
}

// Seal adds the events not sealed yet, up to limit of them, to the tree in
// order of ID, and signs a checkpoint every CheckpointEvery entries and at
// the end, all in one transaction: a committed tree always ends at a
// signed checkpoint, so an entry past the last one is an insertion. It
// returns how many it sealed. Several servers may seal at once: on
// PostgreSQL an advisory lock takes turns, on SQLite the write transaction
// does.
func (c *Chain) Seal(ctx context.Context, limit int) (int, error) {
	if limit <= 0 {
		limit = 10000
	}
	key, err := c.key(ctx, true)
	if err != nil {
		return 0, err
	}
	now := c.now().UTC()
	n := 0
	err = c.db.InTx(ctx, func(tx *sql.Tx) error {
		n = 0
		if c.db.Dialect == sqldb.Postgres {
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(727273)`); err != nil {
				return err
			}
		}
		var size, signed int64
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(idx) + 1, 0) FROM audit_leaf`).Scan(&size); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(size), 0) FROM audit_tree_checkpoint`).Scan(&signed); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+eventColumns+` FROM access_event e
			WHERE NOT EXISTS (SELECT 1 FROM audit_leaf l WHERE l.event_id = e.id) ORDER BY e.id LIMIT $1`, limit)
		if err != nil {
			return err
		}
		var evs []Event
		for rows.Next() {
			e, err := scanEvent(rows)
			if err != nil {
				rows.Close()
				return err
			}
			evs = append(evs, e)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(evs) == 0 {
			return nil
		}
		leafStmt, err := tx.PrepareContext(ctx, `INSERT INTO audit_leaf (idx, event_id, sealed_at) VALUES ($1, $2, $3)`)
		if err != nil {
			return err
		}
		defer leafStmt.Close()
		hashStmt, err := tx.PrepareContext(ctx, `INSERT INTO audit_tree_hash (idx, hash) VALUES ($1, $2)`)
		if err != nil {
			return err
		}
		defer hashStmt.Close()
		r := &storedHashes{ctx: ctx, q: tx, overlay: map[int64]tlog.Hash{}}
		for _, e := range evs {
			hashes, err := tlog.StoredHashes(size, LeafData(e), r)
			if err != nil {
				return err
			}
			base := tlog.StoredHashIndex(0, size)
			for i, h := range hashes {
				r.overlay[base+int64(i)] = h
				if _, err := hashStmt.ExecContext(ctx, base+int64(i), h[:]); err != nil {
					return fmt.Errorf("store audit tree hash: %w", err)
				}
			}
			if _, err := leafStmt.ExecContext(ctx, size, e.ID, now); err != nil {
				return fmt.Errorf("seal access event %s: %w", e.ID, err)
			}
			size++
			if size-signed >= CheckpointEvery {
				if err := c.checkpoint(ctx, tx, key, size, r, now); err != nil {
					return err
				}
				signed = size
			}
		}
		n = len(evs)
		if signed != size {
			return c.checkpoint(ctx, tx, key, size, r, now)
		}
		return nil
	})
	return n, err
}

func (c *Chain) checkpoint(ctx context.Context, tx *sql.Tx, key *noteKey, size int64, r tlog.HashReader, now time.Time) error {
	root, err := tlog.TreeHash(size, r)
	if err != nil {
		return err
	}
	msg, err := signCheckpoint(Checkpoint{Origin: key.origin, Size: size, Root: root}, key.signer)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO audit_tree_checkpoint (size, root, at, note) VALUES ($1, $2, $3, $4)`, size, root[:], now, string(msg))
	if err != nil {
		return fmt.Errorf("store audit checkpoint: %w", err)
	}
	return nil
}

// SignedCheckpoint is a checkpoint as the database keeps it.
type SignedCheckpoint struct {
	Checkpoint
	At   time.Time
	Note []byte // the signed note
}

// LatestCheckpoint returns the newest signed checkpoint in the database,
// NotFound before the first seal. It does not check the signature: the
// caller holding the verifier key does.
func (c *Chain) LatestCheckpoint(ctx context.Context) (SignedCheckpoint, error) {
	cps, err := checkpointsAfter(ctx, c.db, -1, 1, true)
	if err != nil {
		return SignedCheckpoint{}, err
	}
	if len(cps) == 0 {
		return SignedCheckpoint{}, errs.E(errs.NotFound, "the access log has no signed checkpoint yet")
	}
	return cps[0], nil
}

// checkpointsAfter lists the checkpoints of size > after, oldest first
// (newest first when latest is set), at most limit of them (0: all).
func checkpointsAfter(ctx context.Context, q sqldb.Querier, after int64, limit int, latest bool) ([]SignedCheckpoint, error) {
	order := "ASC"
	if latest {
		order = "DESC"
	}
	lim := ""
	if limit > 0 {
		lim = fmt.Sprintf(" LIMIT %d", limit)
	}
	rows, err := q.QueryContext(ctx, `SELECT size, root, at, note FROM audit_tree_checkpoint WHERE size > $1 ORDER BY size `+order+lim, after)
	if err != nil {
		return nil, fmt.Errorf("audit checkpoints: %w", err)
	}
	defer rows.Close()
	var out []SignedCheckpoint
	for rows.Next() {
		var cp SignedCheckpoint
		var root []byte
		var msg string
		if err := rows.Scan(&cp.Size, &root, &cp.At, &msg); err != nil {
			return nil, err
		}
		copy(cp.Root[:], root)
		cp.At, cp.Note = cp.At.UTC(), []byte(msg)
		out = append(out, cp)
	}
	return out, rows.Err()
}
