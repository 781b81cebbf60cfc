package audit_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/audit"
	"github.com/dancu-vn/dancu/internal/eid"
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
	sealer, err := eid.NewSealer(bytes.Repeat([]byte{3}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return audit.NewChain(db, audit.NewChainKeys(db, sealer), now)
}

// allowTampering drops the append-only triggers, as someone with direct
// access to the database could.
func allowTampering(t *testing.T, db *sqldb.DB) {
	t.Helper()
	stmts := []string{`DROP TRIGGER access_event_no_update`, `DROP TRIGGER access_event_no_delete`,
		`DROP TRIGGER audit_chain_no_update`, `DROP TRIGGER audit_chain_no_delete`}
	if db.Dialect == sqldb.Postgres {
		stmts = []string{`ALTER TABLE access_event DISABLE TRIGGER access_event_append_only`, `ALTER TABLE audit_chain DISABLE TRIGGER audit_chain_append_only`}
	}
	for _, s := range stmts {
		if _, err := db.ExecContext(context.Background(), s); err != nil {
			t.Fatal(err)
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
		writeEvents(t, db, audit.CheckpointEvery+20, now.Add(-time.Hour))
		n, err := chain.Seal(ctx, 0)
		if err != nil || n != audit.CheckpointEvery+20 {
			t.Fatalf("Seal = %d, %v", n, err)
		}
		if n, err := chain.Seal(ctx, 0); err != nil || n != 0 {
			t.Fatalf("second Seal = %d, %v", n, err)
		}
		r, err := chain.Verify(ctx, time.Minute)
		if err != nil || len(r.Problems) != 0 || r.Links != int64(audit.CheckpointEvery+20) || r.Checkpoints != 2 {
			t.Fatalf("intact log: %+v, %v\n%s", r, err, kinds(r))
		}
		// Events not yet sealed are reported once they are older than the grace.
		writeEvents(t, db, 3, now.Add(-time.Hour))
		r, _ = chain.Verify(ctx, time.Minute)
		if r.Unchained != 3 || len(r.Problems) != 1 || r.Problems[0].Kind != "unchained" {
			t.Errorf("unsealed events: %+v", r)
		}
		if n, _ := chain.Seal(ctx, 0); n != 3 {
			t.Errorf("sealed %d of the 3 new events", n)
		}
	})
}

// TestChainPinpointsTampering: a modified, a deleted and a reordered
// entry are each reported at their place; a chain rewritten to hide a
// change contradicts the signed checkpoints.
func TestChainPinpointsTampering(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		now := time.Now()
		chain := newChain(t, db, func() time.Time { return now })
		writeEvents(t, db, 60, now.Add(-time.Hour))
		if _, err := chain.Seal(ctx, 0); err != nil {
			t.Fatal(err)
		}
		id := func(seq int) string {
			var s string
			if err := db.QueryRowContext(ctx, `SELECT event_id FROM audit_chain WHERE seq = $1`, seq).Scan(&s); err != nil {
				t.Fatal(err)
			}
			return s
		}
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := db.ExecContext(ctx, q, args...); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		// The triggers refuse tampering until dropped.
		if _, err := db.ExecContext(ctx, `UPDATE access_event SET detail = 'x' WHERE id = $1`, id(10)); err == nil {
			t.Fatal("the access log accepted an update")
		}
		allowTampering(t, db)
		exec(`UPDATE access_event SET purpose = 'nothing to see' WHERE id = $1`, id(10))
		exec(`DELETE FROM access_event WHERE id = $1`, id(20))
		// Swap the events sealed at 30 and 31.
		a, b := id(30), id(31)
		exec(`UPDATE audit_chain SET event_id = 'tmp' WHERE seq = 30`)
		exec(`UPDATE audit_chain SET event_id = $1 WHERE seq = 31`, a)
		exec(`UPDATE audit_chain SET event_id = $1 WHERE seq = 30`, b)
		r, err := chain.Verify(ctx, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int64{"modified": 10, "deleted": 20}
		got := map[string][]int64{}
		for _, p := range r.Problems {
			got[p.Kind] = append(got[p.Kind], p.Seq)
		}
		for k, seq := range want {
			if len(got[k]) != 1 || got[k][0] != seq {
				t.Errorf("%s reported at %v, want seq %d\n%s", k, got[k], seq, kinds(r))
			}
		}
		if len(got["reordered"]) != 2 || got["reordered"][0] != 30 || got["reordered"][1] != 31 {
			t.Errorf("reordered reported at %v, want 30 and 31\n%s", got["reordered"], kinds(r))
		}
		if len(r.Problems) != 4 {
			t.Errorf("%d problems, want 4:\n%s", len(r.Problems), kinds(r))
		}
	})
}

// TestRewrittenChainContradictsCheckpoint: whoever changes an event and
// recomputes every later link still cannot match the signed checkpoint.
func TestRewrittenChainContradictsCheckpoint(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		now := time.Now()
		chain := newChain(t, db, func() time.Time { return now })
		writeEvents(t, db, 30, now.Add(-time.Hour))
		if _, err := chain.Seal(ctx, 0); err != nil {
			t.Fatal(err)
		}
		allowTampering(t, db)
		// Change event 12, then rebuild the chain from scratch as a careful
		// attacker would: drop every link and seal again.
		var id string
		db.QueryRowContext(ctx, `SELECT event_id FROM audit_chain WHERE seq = 12`).Scan(&id)
		if _, err := db.ExecContext(ctx, `UPDATE access_event SET detail = 'rewritten' WHERE id = $1`, id); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, `DELETE FROM audit_chain`); err != nil {
			t.Fatal(err)
		}
		if _, err := chain.Seal(ctx, 0); err != nil {
			t.Fatal(err)
		}
		r, err := chain.Verify(ctx, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, p := range r.Problems {
			found = found || (p.Kind == "checkpoint" && p.Seq == 30)
		}
		if !found {
			t.Errorf("a rewritten chain passed:\n%s", kinds(r))
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
		if r, err := chain.Verify(ctx, time.Minute); err != nil || len(r.Problems) != 0 {
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
		r, _ := chain.Verify(ctx, time.Minute)
		if got := kinds(r); len(r.Problems) != 2 || !strings.Contains(got, "people of this group event were changed (2 stored)") ||
			!strings.Contains(got, "inserted") || !strings.Contains(got, group.ID) {
			t.Errorf("a person removed: %s", got)
		}
		db.ExecContext(ctx, `INSERT INTO access_subject (subject_pid, event_id) VALUES ('001090000002', $1), ('001090000007', $1)`, group.ID)
		r, _ = chain.Verify(ctx, time.Minute)
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
