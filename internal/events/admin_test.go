package events_test

import (
	"bytes"
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/eid"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/events"
	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

func officerCtx(role actor.Role) context.Context {
	return actor.With(context.Background(), &actor.Actor{ID: "off-" + string(role), Kind: actor.Officer, Name: string(role), Role: role,
		Jurisdiction: actor.Jurisdiction{Level: actor.National}})
}

// An administrator sees every subscription with its pending and dead
// deliveries, and puts one dead letter back in the queue; it is delivered
// at the next round. Others may not.
func TestAdminDeadLetters(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		clk := &clock{t: time.Now()}
		sealer, _ := eid.NewSealer(bytes.Repeat([]byte{5}, 32))
		ring, keys := documentKeys(t, db, sealer)
		svc := newService(db, sealer, ring, clk.now)
		rcv := &receiver{keys: keys}
		rcv.down.Store(true)
		srv := httptest.NewServer(rcv)
		defer srv.Close()
		sub, secret, err := svc.Subscribe(agencyCtx(), srv.URL, []string{"vn.dancu.residence.changed"})
		if err != nil {
			t.Fatal(err)
		}
		rcv.secretFrom(secret)
		ids := emit(t, db, 3)
		for round := 0; round < 3*events.MaxAttempts+5; round++ {
			if _, err := svc.Deliver(ctx); err != nil {
				t.Fatal(err)
			}
			clk.add(2 * time.Hour)
		}
		adm := officerCtx(actor.Admin)
		all, err := svc.AllSubscriptions(adm)
		if err != nil || len(all) != 1 || all[0].ID != sub.ID || all[0].Dead != 3 || all[0].Pending != 0 || all[0].Agency != "moh" {
			t.Fatalf("subscriptions %+v, %v", all, err)
		}
		for _, who := range []context.Context{officerCtx(actor.Registrar), agencyCtx()} {
			if _, err := svc.AllSubscriptions(who); !errs.Is(err, errs.Forbidden) {
				t.Errorf("AllSubscriptions by a non-admin: %v, want Forbidden", err)
			}
			if err := svc.RetryDeadLetter(who, sub.ID, ids[0]); !errs.Is(err, errs.Forbidden) {
				t.Errorf("RetryDeadLetter by a non-admin: %v, want Forbidden", err)
			}
		}
		if err := svc.RetryDeadLetter(adm, sub.ID, ids[0]); err != nil {
			t.Fatal(err)
		}
		if err := svc.RetryDeadLetter(adm, sub.ID, ids[0]); !errs.Is(err, errs.NotFound) {
			t.Errorf("retrying a letter no longer dead: %v, want NotFound", err)
		}
		dl, err := svc.SubscriptionDeadLetters(adm, sub.ID)
		if err != nil || len(dl) != 2 {
			t.Fatalf("dead letters after a retry: %+v, %v", dl, err)
		}
		rcv.down.Store(false)
		if _, err := svc.Deliver(ctx); err != nil {
			t.Fatal(err)
		}
		if len(rcv.got) != 1 || rcv.got[0].id != ids[0] {
			t.Errorf("delivered after the retry: %+v, want only %s", rcv.got, ids[0])
		}
		var n int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM access_event WHERE action = 'dead_letter_retry'`).Scan(&n); err != nil || n != 1 {
			t.Errorf("audit records of the retry: %d, %v", n, err)
		}
	})
}
