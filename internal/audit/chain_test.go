package audit_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/audit"
	"github.com/dancu-vn/dancu/internal/eid"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

// writeEvents records n access events, one per transaction.
func writeEvents(t *testing.T, db *sqldb.DB, n int, at time.Time) {
	t.Helper()
	ctx := actor.With(context.Background(), &actor.Actor{ID: "o1", Kind: actor.Officer, Name: "lan"})
	for i := 0; i < n; i++ {
		err := db.InTx(ctx, func(tx *sql.Tx) error {
			return audit.WriteTx(ctx, tx, audit.NewEvent(ctx, at.Add(time.Duration(i)*time.Millisecond), "read", fmt.Sprintf("0010900%05d", i), "a purpose"))
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func newChain(t *testing.T, db *sqldb.DB, now func() time.Time) *audit.Chain {
	return audit.NewChain(db, testSealer(t), "test.dancu/access-log", now)
}

func testSealer(t *testing.T) *eid.Sealer {
	sealer, err := eid.NewSealer(bytes.Repeat([]byte{3}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return sealer
}

// allowTampering drops the append-only triggers, as someone with direct
// access to the database could.
func allowTampering(t *testing.T, db *sqldb.DB) {
	t.Helper()
	var stmts []string
	for _, table := range []string{"access_event", "access_subject", "audit_leaf", "audit_tree_hash", "audit_tree_checkpoint", "audit_note_key"} {
		if db.Dialect == sqldb.Postgres {
			stmts = append(stmts, fmt.Sprintf(`ALTER TABLE %s DISABLE TRIGGER %s_append_only`, table, table))
		} else {
			stmts = append(stmts, fmt.Sprintf(`DROP TRIGGER %s_no_update`, table), fmt.Sprintf(`DROP TRIGGER %s_no_delete`, table))
		}
	}
	for _, s := range stmts {
		if _, err := db.ExecContext(context.Background(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func kinds(r audit.Report) string {
	var out []string
	for _, p := range r.Problems {
		out = append(out, p.String())
	}
	return strings.Join(out, "\n")
}

func TestChainVerifies(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		now := time.Now()
		chain := newChain(t, db, func() time.Time { return now })
		w, err := audit.NewDirWitness(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		opt := audit.VerifyOptions{Grace: time.Minute, Witnesses: []audit.Witness{w}}
		// Before anything is sealed there is no key, and verifying makes none.
		if r, err := chain.Verify(ctx, opt); err != nil || len(r.Problems) != 0 || r.Entries != 0 {
			t.Fatalf("empty log: %+v, %v", r, err)
		}
		if _, err := chain.VerifierKey(ctx); !errs.Is(err, errs.NotFound) {
			t.Fatalf("verify made a note key: %v", err)
		}
		writeEvents(t, db, audit.CheckpointEvery+20, now.Add(-time.Hour))
		n, err := chain.Seal(ctx, 0)
		if err != nil || n != audit.CheckpointEvery+20 {
			t.Fatalf("Seal = %d, %v", n, err)
		}
		if n, err := chain.Seal(ctx, 0); err != nil || n != 0 {
			t.Fatalf("second Seal = %d, %v", n, err)
		}
		// Signed but not yet copied out is fine within the grace.
		r, err := chain.Verify(ctx, opt)
		if err != nil || len(r.Problems) != 0 || r.Entries != int64(audit.CheckpointEvery+20) || r.Checkpoints != 2 || r.Signed != r.Entries {
			t.Fatalf("intact log: %+v, %v\n%s", r, err, kinds(r))
		}
		later := newChain(t, db, func() time.Time { return now.Add(time.Hour) })
		if r, _ := later.Verify(ctx, opt); r.FirstBad() != 0 || !strings.Contains(kinds(r), "unpinned") {
			t.Errorf("a witness left empty past the grace: %s", kinds(r))
		}
		if err := chain.Publish(ctx, w); err != nil {
			t.Fatal(err)
		}
		if err := chain.Publish(ctx, w); err != nil {
			t.Fatalf("publishing again: %v", err)
		}
		if sizes, _ := w.Sizes(ctx); len(sizes) != 2 || sizes[0] != audit.CheckpointEvery || sizes[1] != r.Entries {
			t.Errorf("the witness holds %v", sizes)
		}
		if r, err := later.Verify(ctx, opt); err != nil || len(r.Problems) != 0 || len(r.Outside) != 1 || r.Outside[0].Size != r.Entries {
			t.Fatalf("intact and pinned: %+v, %v\n%s", r, err, kinds(r))
		}
		// Events not yet sealed are reported once they are older than the grace.
		writeEvents(t, db, 3, now.Add(-time.Hour))
		r, _ = chain.Verify(ctx, opt)
		if r.Unchained != 3 || len(r.Problems) != 1 || r.Problems[0].Kind != "unchained" {
			t.Errorf("unsealed events: %+v", r)
		}
		if n, _ := chain.Seal(ctx, 0); n != 3 {
			t.Errorf("sealed %d of the 3 new events", n)
		}
		// Sealed and signed, but not copied out for longer than the grace.
		if r, _ := later.Verify(ctx, opt); r.FirstBad() != r.Entries-3 || !strings.Contains(kinds(r), "unpinned") {
			t.Errorf("checkpoints not copied out: %s", kinds(r))
		}
	})
}

// TestInclusionAndConsistencyProofs: every entry proves against the latest
// checkpoint, the proof checks offline with the verifier key, and fails for
// a changed record; an older checkpoint is proven a prefix of the newer.
func TestInclusionAndConsistencyProofs(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		chain := newChain(t, db, nil)
		writeEvents(t, db, 7, time.Now())
		if _, err := chain.Seal(ctx, 0); err != nil {
			t.Fatal(err)
		}
		first, err := chain.LatestCheckpoint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := chain.ProveInclusion(ctx, 7); !errs.Is(err, errs.NotFound) {
			t.Errorf("proof past the end: %v", err)
		}
		writeEvents(t, db, 6, time.Now())
		if _, err := chain.Seal(ctx, 0); err != nil {
			t.Fatal(err)
		}
		vkey, err := chain.VerifierKey(ctx)
		if err != nil {
			t.Fatal(err)
		}
		v, err := note.NewVerifier(vkey)
		if err != nil {
			t.Fatal(err)
		}
		keys := note.VerifierList(v)
		for i := int64(0); i < 13; i++ {
			p, err := chain.ProveInclusion(ctx, i)
			if err != nil {
				t.Fatal(err)
			}
			ev, err := audit.ByID(ctx, db, p.EventID)
			if err != nil {
				t.Fatal(err)
			}
			if idx, err := chain.IndexOf(ctx, ev.ID); err != nil || idx != i {
				t.Errorf("IndexOf = %d, %v, want %d", idx, err, i)
			}
			cp, err := audit.CheckInclusion(p, ev, "test.dancu/access-log", keys)
			if err != nil || cp.Size != 13 {
				t.Fatalf("entry %d: %v (size %d)", i, err, cp.Size)
			}
			ev.Purpose = "another purpose"
			if _, err := audit.CheckInclusion(p, ev, "test.dancu/access-log", keys); err == nil {
				t.Errorf("entry %d: a changed record proved", i)
			}
		}
		latest, _ := chain.LatestCheckpoint(ctx)
		proof, err := chain.ProveConsistency(ctx, first.Size, latest.Size)
		if err != nil {
			t.Fatal(err)
		}
		if err := tlog.CheckTree(proof, latest.Size, latest.Root, first.Size, first.Root); err != nil {
			t.Errorf("consistency proof 7 -> 13: %v", err)
		}
		if err := tlog.CheckTree(proof, latest.Size, latest.Root, first.Size, tlog.RecordHash([]byte("x"))); err == nil {
			t.Error("a consistency proof checked against another root")
		}
	})
}

// TestGroupEventSubjects: a group event (a batch chunk) is found in each
// of its people's access log, and the chain catches a person added to it,
// one removed from it, and subjects of an event that never existed.
func TestGroupEventSubjects(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		ctx := actor.With(context.Background(), &actor.Actor{ID: "bank-1", Kind: actor.Agency, Name: "Ngân hàng A"})
		now := time.Now()
		chain := newChain(t, db, func() time.Time { return now })
		writeEvents(t, db, 5, now.Add(-time.Hour))
		rec := audit.NewRecorder(db, quiet())
		defer rec.Close()
		group := audit.NewGroupEvent(ctx, now.Add(-time.Minute), "verify", []string{"001090000003", "001090000001", "001090000002", "001090000001"}, "batch; fields name")
		if len(group.Subjects) != 3 || !strings.Contains(group.Detail, "; 3 persons; subjects sha256:") {
			t.Fatalf("group event %+v", group)
		}
		if err := rec.Record(ctx, group); err != nil {
			t.Fatal(err)
		}
		for _, pid := range []string{"001090000001", "001090000002", "001090000003"} {
			evs, err := audit.List(ctx, db, audit.Filter{Subject: pid})
			if err != nil || len(evs) == 0 || evs[0].ID != group.ID || evs[0].Subject != pid || evs[0].SubjectDetail() != "batch; fields name" {
				t.Fatalf("access log of %s: %+v, %v", pid, evs, err)
			}
		}
		if evs, _ := audit.List(ctx, db, audit.Filter{Subject: "001090000004"}); len(evs) != 1 || evs[0].ID == group.ID {
			t.Errorf("someone outside the group sees %+v", evs)
		}
		if _, err := chain.Seal(ctx, 0); err != nil {
			t.Fatal(err)
		}
		if r, err := chain.Verify(ctx, audit.VerifyOptions{Grace: time.Minute}); err != nil || len(r.Problems) != 0 {
			t.Fatalf("intact: %v\n%s", err, kinds(r))
		}
		if _, err := db.ExecContext(ctx, `DELETE FROM access_subject WHERE subject_pid = '001090000002'`); err == nil {
			t.Fatal("access_subject took a DELETE")
		}
		tamper := []string{`DROP TRIGGER access_subject_no_delete`, `DROP TRIGGER access_subject_no_update`}
		if db.Dialect == sqldb.Postgres {
			tamper = []string{`ALTER TABLE access_subject DISABLE TRIGGER access_subject_append_only`}
		}
		tamper = append(tamper, `DELETE FROM access_subject WHERE subject_pid = '001090000002'`,
			`INSERT INTO access_subject (subject_pid, event_id) VALUES ('001090000009', 'no-such-event')`)
		for _, s := range tamper {
			if _, err := db.ExecContext(ctx, s); err != nil {
				t.Fatal(err)
			}
		}
		r, _ := chain.Verify(ctx, audit.VerifyOptions{Grace: time.Minute})
		if got := kinds(r); len(r.Problems) != 2 || !strings.Contains(got, "people of this group event were changed (2 stored)") ||
			!strings.Contains(got, "inserted") || !strings.Contains(got, group.ID) {
			t.Errorf("a person removed: %s", got)
		}
		db.ExecContext(ctx, `INSERT INTO access_subject (subject_pid, event_id) VALUES ('001090000002', $1), ('001090000007', $1)`, group.ID)
		r, _ = chain.Verify(ctx, audit.VerifyOptions{Grace: time.Minute})
		if got := kinds(r); !strings.Contains(got, "(4 stored)") {
			t.Errorf("a person added: %s", got)
		}
	})
}

// TestGroupEventOfOne: a group of one reads "1 person" and still carries
// a digest the chain checks.
func TestGroupEventOfOne(t *testing.T) {
	ev := audit.NewGroupEvent(context.Background(), time.Now(), "verify", []string{"001090000001"}, "batch")
	if !strings.Contains(ev.Detail, "; 1 person; subjects sha256:") || ev.SubjectDetail() != "batch" {
		t.Errorf("detail %q, for the person %q", ev.Detail, ev.SubjectDetail())
	}
}
