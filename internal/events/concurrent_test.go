package events_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dancu-vn/dancu/internal/eid"
	"github.com/dancu-vn/dancu/internal/events"
	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

// TestConcurrentWritersLoseNothing: many transactions emit events at once,
// each sleeping a little after the event took its ID, so that they commit
// in another order than their IDs; two delivery loops (two servers on one
// database) run all the while. Every event reaches the subscriber, each
// person's in order, none lost.
func TestConcurrentWritersLoseNothing(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		// SQLite's writers take the database lock at BEGIN, one at a time,
		// so commit order is ID order there and a long sleep or many events
		// would only make the test slow (under -race especially).
		writers, people, perPerson, pause := 16, 2, 25, 5000
		if db.Dialect == sqldb.SQLite {
			writers, perPerson, pause = 8, 10, 500
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		sealer, _ := eid.NewSealer(bytes.Repeat([]byte{5}, 32))
		ring, keys := documentKeys(t, db, sealer)
		servers := []*events.Service{newService(db, sealer, ring, time.Now), newService(db, sealer, ring, time.Now)}
		rcv := &receiver{keys: keys}
		srv := httptest.NewServer(rcv)
		defer srv.Close()
		_, secret, err := servers[0].Subscribe(agencyCtx(), srv.URL, []string{"vn.dancu.residence.changed"})
		if err != nil {
			t.Fatal(err)
		}
		rcv.secretFrom(secret)

		var loops sync.WaitGroup
		for _, svc := range servers {
			loops.Go(func() {
				for ctx.Err() == nil {
					if _, err := svc.Deliver(ctx); err != nil && ctx.Err() == nil {
						t.Errorf("deliver: %v", err)
						return
					}
					time.Sleep(time.Millisecond)
				}
			})
		}
		// Each writer owns its people, as the registry's row locks make one
		// person's changes follow each other; the writers race each other.
		var writing sync.WaitGroup
		for w := range writers {
			writing.Go(func() {
				for i := range people * perPerson {
					subject := fmt.Sprintf("0010900%03d%02d", w, i%people)
					err := db.InTx(ctx, func(tx *sql.Tx) error {
						if err := events.Emit(ctx, tx, "vn.dancu.residence.changed", subject, map[string]int{"n": i}, time.Now()); err != nil {
							return err
						}
						time.Sleep(time.Duration(rand.IntN(pause)) * time.Microsecond)
						return nil
					})
					if err != nil {
						t.Errorf("emit: %v", err)
						return
					}
				}
			})
		}
		writing.Wait()
		want := outboxIDs(t, db)
		if len(want) != writers*people*perPerson {
			t.Fatalf("%d events in the outbox, want %d", len(want), writers*people*perPerson)
		}
		// Wait while deliveries progress: a lost event is one still missing
		// when nothing has arrived for a while.
		end := time.Now().Add(15 * time.Second)
		for got, progressed := 0, time.Now(); got < len(want) && time.Now().Before(end) && time.Since(progressed) < 3*time.Second; {
			time.Sleep(20 * time.Millisecond)
			if n := distinct(rcv); n > got {
				got, progressed = n, time.Now()
			}
		}
		// A little longer, so that a late duplicate or a stray event shows.
		time.Sleep(50 * time.Millisecond)
		cancel()
		loops.Wait()

		rcv.mu.Lock()
		defer rcv.mu.Unlock()
		seen := map[string]bool{}
		last := map[string]string{}
		dups := 0
		for _, g := range rcv.got {
			if seen[g.id] {
				dups++
				continue
			}
			seen[g.id] = true
			if g.id < last[g.subject] {
				t.Errorf("events of %s out of order: %s after %s", g.subject, g.id, last[g.subject])
			}
			last[g.subject] = g.id
		}
		var missing []string
		for _, id := range want {
			if !seen[id] {
				missing = append(missing, id)
			}
		}
		if len(missing) > 0 || len(seen) != len(want) || rcv.bad != 0 {
			t.Fatalf("received %d distinct of %d events (%d badly signed); never delivered: %v", len(seen), len(want), rcv.bad, missing)
		}
		t.Logf("%d events, %d duplicates dropped by ID", len(want), dups)
	})
}

// outboxIDs lists every event ID in the outbox.
func outboxIDs(t *testing.T, db *sqldb.DB) []string {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), `SELECT id FROM event_outbox ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return ids
}

// distinct counts the different events the receiver got.
func distinct(r *receiver) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := map[string]bool{}
	for _, g := range r.got {
		seen[g.id] = true
	}
	return len(seen)
}

// TestHungReceiverDoesNotDelayOthers: a subscriber whose receiver takes
// the connection and never answers holds up only itself; another
// subscriber gets every event within a small bound, far below the ten
// seconds a delivery may wait for an answer.
func TestHungReceiverDoesNotDelayOthers(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		sealer, _ := eid.NewSealer(bytes.Repeat([]byte{5}, 32))
		ring, keys := documentKeys(t, db, sealer)
		svc := newService(db, sealer, ring, time.Now)
		release := make(chan struct{})
		var hungCalls atomic.Int32
		hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hungCalls.Add(1)
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}))
		defer hung.Close()
		defer close(release) // before hung.Close, which waits for its handlers
		if _, _, err := svc.Subscribe(agencyCtx(), hung.URL, []string{"vn.dancu.residence.changed"}); err != nil {
			t.Fatal(err)
		}
		rcv := &receiver{keys: keys}
		healthy := httptest.NewServer(rcv)
		defer healthy.Close()
		_, secret, err := svc.Subscribe(agencyCtx(), healthy.URL, []string{"vn.dancu.residence.changed"})
		if err != nil {
			t.Fatal(err)
		}
		rcv.secretFrom(secret)

		done := make(chan struct{})
		go func() {
			defer close(done)
			svc.Run(ctx, 20*time.Millisecond, func(err error) { t.Errorf("run: %v", err) })
		}()
		// The first event gets the hung receiver stuck; the rest come while
		// it is.
		ids := emit(t, db, 1)
		for wait := time.Now(); hungCalls.Load() == 0; time.Sleep(5 * time.Millisecond) {
			if time.Since(wait) > 5*time.Second {
				t.Fatal("the hung receiver was never called")
			}
		}
		start := time.Now()
		for range 5 {
			ids = append(ids, emit(t, db, 6)...)
			time.Sleep(30 * time.Millisecond)
		}
		const bound = 3 * time.Second
		for time.Since(start) < bound && distinct(rcv) < len(ids) {
			time.Sleep(10 * time.Millisecond)
		}
		took := time.Since(start)
		cancel()
		<-done
		if n := distinct(rcv); n != len(ids) {
			t.Fatalf("the healthy subscriber got %d of %d events in %v while another hung", n, len(ids), took)
		}
		t.Logf("all %d events in %v beside a hung receiver", len(ids), took)
	})
}
