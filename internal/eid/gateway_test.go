package eid_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dancu-vn/dancu/internal/eid"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

// TestMessagesLeaveThroughGateway: an activation code is queued sealed
// with the data key (no code in the table, in any column), handed to the
// gateway, and erased once it took it; administrators follow the delivery
// but read no text unless the demo lets them.
func TestMessagesLeaveThroughGateway(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		p := e.adult(t, baDinh)
		e.approved(t, p)
		if err := e.svc.StartActivation(context.Background(), p.PID, p.Phone); err != nil {
			t.Fatal(err)
		}
		// Queued (the approval's notice and the code): the table holds no
		// readable text.
		stored := func() (bodies []string, sealed [][]byte) {
			rows, err := db.QueryContext(context.Background(), `SELECT body, body_sealed FROM outbox_message WHERE recipient = $1`, p.Phone)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			for rows.Next() {
				var b string
				var s []byte
				if err := rows.Scan(&b, &s); err != nil {
					t.Fatal(err)
				}
				bodies, sealed = append(bodies, b), append(sealed, s)
			}
			return bodies, sealed
		}
		bodies, sealed := stored()
		for i := range bodies {
			if bodies[i] != "" || len(sealed[i]) == 0 || strings.Contains(string(sealed[i]), "VNeID") {
				t.Fatalf("queued message stored as body %q, sealed %d bytes", bodies[i], len(sealed[i]))
			}
		}
		entries, err := e.svc.Messages(admin(), p.Phone, 10)
		if err != nil || len(entries) != 2 || entries[0].Body != "" || entries[0].State != "queued" {
			t.Fatalf("outbox for an administrator: %+v, %v", entries, err)
		}
		_, err = e.svc.Messages(officer(baDinh), p.Phone, 10)
		wantKind(t, err, errs.Forbidden)

		// A gateway that fails: tried again later, with the error kept.
		e.gateway.fail = errors.New("gateway answered 503 Service Unavailable")
		if n, err := e.svc.DeliverMessages(context.Background(), e.gateway, 10); n != 0 || err != nil {
			t.Fatalf("delivery to a failing gateway: %d, %v", n, err)
		}
		if n, _ := e.svc.DeliverMessages(context.Background(), e.gateway, 10); n != 0 {
			t.Fatal("tried again before its backoff")
		}
		entries, _ = e.svc.Messages(admin(), p.Phone, 10)
		if entries[0].Attempts != 1 || !strings.Contains(entries[0].LastError, "503") || entries[0].State != "queued" {
			t.Errorf("after a failed attempt: %+v", entries[0])
		}
		e.gateway.fail = nil
		e.clock.Advance(time.Minute)
		code := e.lastCode(t, p.Phone)
		if len(code) != 6 {
			t.Fatalf("code %q", code)
		}
		// Delivered: the bodies are gone from the store.
		bodies, sealed = stored()
		for i := range bodies {
			if bodies[i] != "" || sealed[i] != nil {
				t.Errorf("a delivered message kept its body: %q, %d bytes", bodies[i], len(sealed[i]))
			}
		}
		entries, _ = e.svc.Messages(admin(), p.Phone, 10)
		if entries[0].State != "sent" || entries[0].SentAt == nil || entries[0].Body != "" {
			t.Errorf("after delivery: %+v", entries[0])
		}
		if _, err := e.svc.Activate(context.Background(), eid.Activation{PID: p.PID, Code: code, Password: goodPassword, Passcode: "240719"}); err != nil {
			t.Errorf("Activate with the delivered code: %v", err)
		}
	})
}

// TestMessagesDemoBodies: in a demo the text of a queued message is shown
// to administrators, so demos work without a gateway.
func TestMessagesDemoBodies(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		p := e.adult(t, baDinh)
		e.approved(t, p)
		if err := e.svc.StartActivation(context.Background(), p.PID, p.Phone); err != nil {
			t.Fatal(err)
		}
		e.svc.ShowMessageBodies(true)
		entries, err := e.svc.Messages(admin(), p.Phone, 10)
		if err != nil || len(entries) != 2 || !codePattern.MatchString(entries[0].Body) {
			t.Fatalf("demo outbox: %+v, %v", entries, err)
		}
	})
}

// TestMessagesDeliveredOnce: several workers on one store hand each
// message to the gateway once.
func TestMessagesDeliveredOnce(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		for range 6 {
			p := e.adult(t, baDinh)
			e.approved(t, p)
			if err := e.svc.StartActivation(context.Background(), p.PID, p.Phone); err != nil {
				t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				if _, err := e.svc.DeliverMessages(context.Background(), e.gateway, 100); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		seen := map[string]int{}
		for _, id := range e.gateway.ids {
			seen[id]++
		}
		for id, n := range seen {
			if n != 1 {
				t.Errorf("message %s delivered %d times", id, n)
			}
		}
		if len(seen) != 12 { // an approval notice and a code each
			t.Errorf("%d messages delivered, want 12", len(seen))
		}
	})
}
