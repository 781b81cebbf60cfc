package audit_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/dancu-vn/dancu/internal/audit"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

// TestDirWitnessIsAppendOnly: a checkpoint file is written once; the same
// note again is a no-op, another note of the same size is a fork.
func TestDirWitnessIsAppendOnly(t *testing.T) {
	ctx := context.Background()
	w, err := audit.NewDirWitness(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Latest(ctx); !errs.Is(err, errs.NotFound) {
		t.Fatalf("Latest of an empty copy = %v", err)
	}
	for _, size := range []int64{5, 1_000_003, 12} {
		if err := w.Publish(ctx, size, []byte(fmt.Sprintf("note %d\n", size))); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Publish(ctx, 12, []byte("note 12\n")); err != nil {
		t.Errorf("the same note again: %v", err)
	}
	if err := w.Publish(ctx, 12, []byte("another note 12\n")); !errs.Is(err, errs.Conflict) {
		t.Errorf("a second note of size 12 = %v, want a Conflict", err)
	}
	if got, err := w.Latest(ctx); err != nil || string(got) != "note 1000003\n" {
		t.Errorf("Latest = %q, %v", got, err)
	}
	if sizes, _ := w.Sizes(ctx); len(sizes) != 3 || sizes[0] != 5 || sizes[1] != 12 {
		t.Errorf("Sizes = %v", sizes)
	}
}

// TestNATSWitness: checkpoints copied to JetStream pin the log like the
// directory does: a tail cut with its checkpoints is caught.
func TestNATSWitness(t *testing.T) {
	url := os.Getenv("DANCU_TEST_NATS_URL")
	if url == "" {
		url = "nats://127.0.0.1:4222"
	}
	conn, err := net.DialTimeout("tcp", url[len("nats://"):], time.Second)
	if err != nil {
		t.Skipf("no NATS server at %s (set DANCU_TEST_NATS_URL): %v", url, err)
	}
	conn.Close()
	ctx := context.Background()
	stream := fmt.Sprintf("DANCU_AUDIT_TEST_%d", rand.Uint64())
	w, err := audit.NewNATSWitness(ctx, url, stream, "dancu.audittest."+stream)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	t.Cleanup(func() {
		nc, err := nats.Connect(url)
		if err != nil {
			return
		}
		defer nc.Close()
		if js, err := jetstream.New(nc); err == nil {
			js.DeleteStream(context.Background(), stream)
		}
	})
	db := sqldbtest.Open(t, "sqlite")
	chain := newChain(t, db, nil)
	for k := 0; k < 2; k++ {
		writeEvents(t, db, 10, time.Now())
		if _, err := chain.Seal(ctx, 0); err != nil {
			t.Fatal(err)
		}
		if err := chain.Publish(ctx, w); err != nil {
			t.Fatal(err)
		}
	}
	if err := chain.Publish(ctx, w); err != nil {
		t.Fatalf("publishing again: %v", err)
	}
	opt := audit.VerifyOptions{Grace: time.Minute, Witnesses: []audit.Witness{w}}
	if r, err := chain.Verify(ctx, opt); err != nil || len(r.Problems) != 0 || len(r.Outside) != 1 || r.Outside[0].Size != 20 {
		t.Fatalf("intact: %+v, %v\n%s", r, err, kinds(r))
	}
	allowTampering(t, db)
	for _, q := range []string{`DELETE FROM access_event WHERE id IN (SELECT event_id FROM audit_leaf WHERE idx >= 10)`,
		`DELETE FROM audit_leaf WHERE idx >= 10`, `DELETE FROM audit_tree_checkpoint WHERE size > 10`,
		fmt.Sprintf(`DELETE FROM audit_tree_hash WHERE idx >= %d`, tlog.StoredHashCount(10))} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if r, _ := chain.Verify(ctx, opt); r.FirstBad() != 10 || r.Problems[0].Kind != "truncated" {
		t.Errorf("cut tail: %s", kinds(r))
	}
}
