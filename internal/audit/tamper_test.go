package audit_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"slices"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/audit"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

// tamperLog is a log of 60 entries sealed in six seals of ten, each
// checkpoint copied to a directory outside the database, with the
// append-only triggers dropped: the state an attacker who can write the
// database starts from.
type tamperLog struct {
	t       *testing.T
	ctx     context.Context
	db      *sqldb.DB
	chain   *audit.Chain
	witness *audit.DirWitness
	vkey    string
}

const tamperOrigin = "test.dancu/access-log"

func newTamperLog(t *testing.T, db *sqldb.DB) *tamperLog {
	ctx := context.Background()
	w, err := audit.NewDirWitness(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	l := &tamperLog{t: t, ctx: ctx, db: db, chain: newChain(t, db, nil), witness: w}
	for k := 0; k < 6; k++ {
		writeEvents(t, db, 10, time.Now().Add(-time.Hour))
		if n, err := l.chain.Seal(ctx, 0); err != nil || n != 10 {
			t.Fatalf("seal %d: %d, %v", k, n, err)
		}
		if err := l.chain.Publish(ctx, w); err != nil {
			t.Fatal(err)
		}
	}
	if l.vkey, err = l.chain.VerifierKey(ctx); err != nil {
		t.Fatal(err)
	}
	if r := l.verify(nil); len(r.Problems) != 0 || r.Entries != 60 || len(r.Outside) != 1 || r.Outside[0].Size != 60 {
		t.Fatalf("the untouched log: %+v\n%s", r, kinds(r))
	}
	allowTampering(t, db)
	return l
}

func (l *tamperLog) verify(pinned []string) audit.Report {
	l.t.Helper()
	r, err := l.chain.Verify(l.ctx, audit.VerifyOptions{Grace: time.Minute, Witnesses: []audit.Witness{l.witness}, VerifierKeys: pinned})
	if err != nil {
		l.t.Fatal(err)
	}
	return r
}

func (l *tamperLog) exec(q string, args ...any) {
	l.t.Helper()
	if _, err := l.db.ExecContext(l.ctx, q, args...); err != nil {
		l.t.Fatalf("%s: %v", q, err)
	}
}

// id is the event sealed at index i.
func (l *tamperLog) id(i int64) string {
	l.t.Helper()
	var s string
	if err := l.db.QueryRowContext(l.ctx, `SELECT event_id FROM audit_leaf WHERE idx = $1`, i).Scan(&s); err != nil {
		l.t.Fatal(err)
	}
	return s
}

// newEvent writes one more access event, as a forger would.
func (l *tamperLog) newEvent() string {
	l.t.Helper()
	ctx := actor.With(l.ctx, &actor.Actor{ID: "o9", Kind: actor.Officer, Name: "nobody"})
	ev := audit.NewEvent(ctx, time.Now().Add(-time.Hour), "read", "001090099999", "a forged purpose")
	if err := l.db.InTx(ctx, func(tx *sql.Tx) error { return audit.WriteTx(ctx, tx, ev) }); err != nil {
		l.t.Fatal(err)
	}
	return ev.ID
}

// rebuildTree recomputes every stored hash from the events as they are
// now, as an attacker who knows the tree layout would: each leaf and its
// links are then correct.
func (l *tamperLog) rebuildTree() {
	l.t.Helper()
	l.exec(`DELETE FROM audit_tree_hash`)
	rows, err := l.db.QueryContext(l.ctx, `SELECT e.id FROM audit_leaf l JOIN access_event e ON e.id = l.event_id ORDER BY l.idx`)
	if err != nil {
		l.t.Fatal(err)
	}
	var ids []string
	for rows.Next() {
		var id string
		rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	var all []tlog.Hash
	r := tlog.HashReaderFunc(func(xs []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(xs))
		for i, x := range xs {
			out[i] = all[x]
		}
		return out, nil
	})
	for i, id := range ids {
		ev, err := audit.ByID(l.ctx, l.db, id)
		if err != nil {
			l.t.Fatal(err)
		}
		hs, err := tlog.StoredHashes(int64(i), audit.LeafData(ev), r)
		if err != nil {
			l.t.Fatal(err)
		}
		all = append(all, hs...)
	}
	for x, h := range all {
		l.exec(`INSERT INTO audit_tree_hash (idx, hash) VALUES ($1, $2)`, int64(x), h[:])
	}
}

// appendEntry seals a forged event at the end with correct hashes.
func (l *tamperLog) appendEntry() {
	l.t.Helper()
	id := l.newEvent()
	var n int64
	l.db.QueryRowContext(l.ctx, `SELECT COUNT(*) FROM audit_leaf`).Scan(&n)
	l.exec(`INSERT INTO audit_leaf (idx, event_id, sealed_at) VALUES ($1, $2, $3)`, n, id, time.Now())
	l.rebuildTree()
}

// cutTail deletes the entries from index n on, with their events and
// tree hashes.
func (l *tamperLog) cutTail(n int64) {
	l.exec(`DELETE FROM access_event WHERE id IN (SELECT event_id FROM audit_leaf WHERE idx >= $1)`, n)
	l.exec(`DELETE FROM audit_leaf WHERE idx >= $1`, n)
	l.exec(`DELETE FROM audit_tree_hash WHERE idx >= $1`, tlog.StoredHashCount(n))
}

func (l *tamperLog) change(i int64) {
	l.exec(`UPDATE access_event SET purpose = 'nothing to see' WHERE id = $1`, l.id(i))
}

// TestTamperSuite: with the append-only triggers dropped, every way of
// changing the log is caught and the verify result names the first entry
// concerned, on both engines. A rewrite is known only between two
// checkpoints (the outside copy pins roots, not entries): the result names
// the first entry after the last checkpoint that still matches.
func TestTamperSuite(t *testing.T) {
	type want struct {
		kind        string
		index, last int64 // last 0: not checked
	}
	cases := []struct {
		name   string
		tamper func(l *tamperLog)
		pinned bool // verify with the published verifier key pinned
		want   []want
		first  int64
		after  func(t *testing.T, l *tamperLog)
	}{
		{name: "change", tamper: func(l *tamperLog) { l.change(12) },
			want: []want{{"modified", 12, 0}}, first: 12},
		{name: "delete event", tamper: func(l *tamperLog) { l.exec(`DELETE FROM access_event WHERE id = $1`, l.id(20)) },
			want: []want{{"deleted", 20, 0}}, first: 20},
		{name: "delete entry", tamper: func(l *tamperLog) {
			l.exec(`DELETE FROM access_event WHERE id = $1`, l.id(20))
			l.exec(`DELETE FROM audit_leaf WHERE idx = 20`)
		}, want: []want{{"deleted", 20, 20}}, first: 20},
		{name: "reorder", tamper: func(l *tamperLog) {
			a, b := l.id(30), l.id(31)
			l.exec(`UPDATE audit_leaf SET event_id = 'tmp' WHERE idx = 30`)
			l.exec(`UPDATE audit_leaf SET event_id = $1 WHERE idx = 31`, a)
			l.exec(`UPDATE audit_leaf SET event_id = $1 WHERE idx = 30`, b)
		}, want: []want{{"reordered", 30, 0}, {"reordered", 31, 0}}, first: 30},
		{name: "insert in the middle", tamper: func(l *tamperLog) {
			id := l.newEvent()
			// Shift the entries from 25 on by one, through negative
			// indexes so that no two rows ever share one.
			l.exec(`UPDATE audit_leaf SET idx = -idx - 1 WHERE idx >= 25`)
			l.exec(`UPDATE audit_leaf SET idx = -idx WHERE idx < 0`)
			l.exec(`INSERT INTO audit_leaf (idx, event_id, sealed_at) VALUES (25, $1, $2)`, id, time.Now())
		}, want: []want{{"inserted", 25, 0}}, first: 25},
		{name: "insert in the middle, tree rebuilt", tamper: func(l *tamperLog) {
			id := l.newEvent()
			l.exec(`UPDATE audit_leaf SET idx = -idx - 1 WHERE idx >= 25`)
			l.exec(`UPDATE audit_leaf SET idx = -idx WHERE idx < 0`)
			l.exec(`INSERT INTO audit_leaf (idx, event_id, sealed_at) VALUES (25, $1, $2)`, id, time.Now())
			l.rebuildTree()
		}, want: []want{{"rewritten", 20, 29}}, first: 20},
		{name: "insert at the end", tamper: func(l *tamperLog) { l.appendEntry() },
			want: []want{{"unsigned", 60, 60}}, first: 60},
		{name: "insert at the end with a forged checkpoint", tamper: func(l *tamperLog) {
			l.appendEntry()
			// The attacker signs with a key of their own under the log's name.
			skey, _, err := note.GenerateKey(rand.Reader, tamperOrigin)
			if err != nil {
				l.t.Fatal(err)
			}
			s, _ := note.NewSigner(skey)
			root := tlogRoot(l, 61)
			msg, _ := note.Sign(&note.Note{Text: audit.Checkpoint{Origin: tamperOrigin, Size: 61, Root: root}.Text()}, s)
			l.exec(`INSERT INTO audit_tree_checkpoint (size, root, at, note) VALUES (61, $1, $2, $3)`, root[:], time.Now(), string(msg))
		}, want: []want{{"checkpoint", 60, 60}, {"unsigned", 60, 60}}, first: 60},
		{name: "truncate the tail", tamper: func(l *tamperLog) { l.cutTail(50) },
			want: []want{{"truncated", 50, 59}}, first: 50},
		{name: "truncate the tail and its checkpoints", tamper: func(l *tamperLog) {
			l.cutTail(50)
			l.exec(`DELETE FROM audit_tree_checkpoint WHERE size > 50`)
		}, want: []want{{"truncated", 50, 59}}, first: 50},
		{name: "rewrite, checkpoints kept", tamper: func(l *tamperLog) {
			l.change(33)
			l.rebuildTree()
		}, want: []want{{"rewritten", 30, 39}}, first: 30},
		{name: "rewrite, checkpoints deleted", tamper: func(l *tamperLog) {
			l.change(33)
			l.rebuildTree()
			l.exec(`DELETE FROM audit_tree_checkpoint`)
		}, want: []want{{"unsigned", 0, 59}, {"rewritten", 30, 39}}, first: 0},
		{name: "rewrite with the signing key", tamper: func(l *tamperLog) {
			l.change(33)
			l.exec(`DELETE FROM audit_leaf`)
			l.exec(`DELETE FROM audit_tree_hash`)
			l.exec(`DELETE FROM audit_tree_checkpoint`)
			if _, err := l.chain.Seal(l.ctx, 0); err != nil {
				l.t.Fatal(err)
			}
		}, want: []want{{"rewritten", 30, 39}}, first: 30,
			after: func(t *testing.T, l *tamperLog) {
				// The sealer will not copy the rewritten log out.
				if err := l.chain.Publish(l.ctx, l.witness); !errs.Is(err, errs.Conflict) {
					t.Errorf("Publish of a rewritten log = %v, want a Conflict", err)
				}
				if sizes, _ := l.witness.Sizes(l.ctx); !slices.Equal(sizes, []int64{10, 20, 30, 40, 50, 60}) {
					t.Errorf("the witness now holds %v", sizes)
				}
			}},
		{name: "truncate and re-sign with the signing key", tamper: func(l *tamperLog) {
			l.cutTail(45)
			l.exec(`DELETE FROM audit_tree_checkpoint WHERE size > 40`)
			if _, err := l.chain.Seal(l.ctx, 0); err != nil { // nothing to seal: sign 45 by hand
				l.t.Fatal(err)
			}
			forgeCheckpoint(l, 45)
		}, want: []want{{"truncated", 45, 59}}, first: 45},
		{name: "rewrite with a new key of the attacker's", pinned: true, tamper: func(l *tamperLog) {
			l.change(33)
			for _, tb := range []string{"audit_leaf", "audit_tree_hash", "audit_tree_checkpoint", "audit_note_key"} {
				l.exec(`DELETE FROM ` + tb)
			}
			// Holding the data key too, the attacker makes a note key the
			// database trusts; the pinned key does not sign its checkpoints.
			if _, err := audit.NewChain(l.db, testSealer(l.t), tamperOrigin, nil).Seal(l.ctx, 0); err != nil {
				l.t.Fatal(err)
			}
		}, want: []want{{"key", -1, 0}, {"checkpoint", 0, 59}, {"unsigned", 0, 59}, {"rewritten", 30, 39}}, first: 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
				l := newTamperLog(t, db)
				c.tamper(l)
				var pinned []string
				if c.pinned {
					pinned = []string{l.vkey}
				}
				// A fresh chain, as a later `dancu audit verify` would be.
				l.chain = newChain(t, db, nil)
				r := l.verify(pinned)
				if r.FirstBad() != c.first {
					t.Errorf("first bad entry %d, want %d\n%s", r.FirstBad(), c.first, kinds(r))
				}
				for _, w := range c.want {
					if !slices.ContainsFunc(r.Problems, func(p audit.Problem) bool {
						return p.Kind == w.kind && p.Index == w.index && (w.last == 0 || p.Last == w.last)
					}) {
						t.Errorf("no %q problem at %d-%d:\n%s", w.kind, w.index, w.last, kinds(r))
					}
				}
				if c.after != nil {
					c.after(t, l)
				}
			})
		})
	}
}

// tlogRoot is the root of the stored tree of size n.
func tlogRoot(l *tamperLog, n int64) tlog.Hash {
	l.t.Helper()
	h, err := tlog.TreeHash(n, tlog.HashReaderFunc(func(xs []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(xs))
		for i, x := range xs {
			var b []byte
			if err := l.db.QueryRowContext(l.ctx, `SELECT hash FROM audit_tree_hash WHERE idx = $1`, x).Scan(&b); err != nil {
				return nil, fmt.Errorf("hash %d: %w", x, err)
			}
			copy(out[i][:], b)
		}
		return out, nil
	}))
	if err != nil {
		l.t.Fatal(err)
	}
	return h
}

// forgeCheckpoint signs a checkpoint of size n with the log's own key, as
// someone holding the data key (and so the sealed note key) can.
func forgeCheckpoint(l *tamperLog, n int64) {
	l.t.Helper()
	var sealed []byte
	if err := l.db.QueryRowContext(l.ctx, `SELECT skey_sealed FROM audit_note_key`).Scan(&sealed); err != nil {
		l.t.Fatal(err)
	}
	skey, err := testSealer(l.t).Open(sealed, []byte("audit_note_key|"+tamperOrigin))
	if err != nil {
		l.t.Fatal(err)
	}
	s, err := note.NewSigner(string(skey))
	if err != nil {
		l.t.Fatal(err)
	}
	root := tlogRoot(l, n)
	msg, _ := note.Sign(&note.Note{Text: audit.Checkpoint{Origin: tamperOrigin, Size: n, Root: root}.Text()}, s)
	l.exec(`INSERT INTO audit_tree_checkpoint (size, root, at, note) VALUES ($1, $2, $3, $4)`, n, root[:], time.Now(), string(msg))
}

// TestVerifyNamesNothingOnAnIntactLog guards the suite against a verifier
// that reports everything: the same setup, untouched, has no problem
// even verified with the pinned key.
func TestVerifyNamesNothingOnAnIntactLog(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		l := newTamperLog(t, db)
		if r := l.verify([]string{l.vkey}); len(r.Problems) != 0 || r.FirstBad() != -1 {
			t.Errorf("intact log: %s", kinds(r))
		}
		_, other, err := note.GenerateKey(rand.Reader, tamperOrigin)
		if err != nil {
			t.Fatal(err)
		}
		if r := l.verify([]string{other}); r.FirstBad() != 0 {
			t.Errorf("a log verified with another key pinned: %s", kinds(r))
		}
	})
}
