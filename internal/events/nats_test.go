package events_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/dancu-vn/dancu/internal/eid"
	"github.com/dancu-vn/dancu/internal/events"
	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

// natsURL is the NATS server of the tests: DANCU_TEST_NATS_URL, or the one
// CI runs on 127.0.0.1:4222.
func natsURL(t *testing.T) string {
	u := os.Getenv("DANCU_TEST_NATS_URL")
	if u == "" {
		u = "nats://127.0.0.1:4222"
	}
	conn, err := net.DialTimeout("tcp", u[len("nats://"):], time.Second)
	if err != nil {
		t.Skipf("no NATS server at %s (set DANCU_TEST_NATS_URL): %v", u, err)
	}
	conn.Close()
	return u
}

// TestNATSSink: every event is published once to JetStream, even when the
// sink crashed before it took them off its queue and publishes again.
func TestNATSSink(t *testing.T) {
	url := natsURL(t)
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		sealer, _ := eid.NewSealer(bytes.Repeat([]byte{5}, 32))
		svc := events.NewService(db, sealer, nil, time.Now)
		stream := fmt.Sprintf("DANCU_TEST_%d", time.Now().UnixNano())
		prefix := fmt.Sprintf("dancutest%d", time.Now().UnixNano())
		sink, err := svc.NewNATSSink(ctx, url, stream, prefix)
		if err != nil {
			t.Fatal(err)
		}
		defer sink.Close()
		nc, _ := nats.Connect(url)
		defer nc.Close()
		js, _ := jetstream.New(nc)
		defer js.DeleteStream(ctx, stream)

		emit(t, db, 5)
		if n, err := sink.Publish(ctx, 100); err != nil || n != 5 {
			t.Fatalf("Publish = %d, %v", n, err)
		}
		if n, err := sink.Publish(ctx, 100); err != nil || n != 0 {
			t.Fatalf("second Publish = %d, %v", n, err)
		}
		// A crash after publishing, before the queue was emptied: everything
		// again, deduplicated by JetStream.
		if _, err := db.ExecContext(ctx, `INSERT INTO sink_pending (sink, event_id) SELECT $1, id FROM event_outbox`, "nats:"+stream); err != nil {
			t.Fatal(err)
		}
		if n, err := sink.Publish(ctx, 100); err != nil || n != 5 {
			t.Fatalf("Publish after a crash = %d, %v", n, err)
		}
		s, err := js.Stream(ctx, stream)
		if err != nil {
			t.Fatal(err)
		}
		info, err := s.Info(ctx)
		if err != nil || info.State.Msgs != 5 {
			t.Fatalf("the stream holds %d messages, want 5 (%v)", info.State.Msgs, err)
		}
		msg, err := s.GetMsg(ctx, 1)
		if err != nil || !bytes.Contains(msg.Data, []byte(`"specversion":"1.0"`)) || msg.Subject != prefix+".residence.changed" {
			t.Errorf("first message %s %s, %v", msg.Subject, msg.Data, err)
		}
	})
}
