package events_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/eid"
	"github.com/dancu-vn/dancu/internal/events"
	"github.com/dancu-vn/dancu/internal/keyring"
	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

// receiver is a webhook endpoint that can be down, checks signatures and
// records what it got.
type receiver struct {
	mu     sync.Mutex
	secret []byte
	keys   *jose.JSONWebKeySet // the published document keys
	down   atomic.Bool
	got    []struct{ id, subject string }
	bad    int
	last   struct{ jws, signed string }
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if r.down.Load() {
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
		return
	}
	body, _ := io.ReadAll(req.Body)
	mac := hmac.New(sha256.New, r.secret)
	mac.Write([]byte(req.Header.Get("webhook-id") + "." + req.Header.Get("webhook-timestamp") + "."))
	mac.Write(body)
	var ev struct{ ID, Subject, Specversion, Type string }
	json.Unmarshal(body, &ev)
	r.mu.Lock()
	defer r.mu.Unlock()
	signed := []byte(req.Header.Get("webhook-id") + "." + req.Header.Get("webhook-timestamp") + "." + string(body))
	if req.Header.Get("webhook-signature") != "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)) || ev.Specversion != "1.0" || ev.ID != req.Header.Get("webhook-id") ||
		!verifiesDetached(req.Header.Get("webhook-jws"), signed, r.keys) {
		r.bad++
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	r.got = append(r.got, struct{ id, subject string }{ev.ID, ev.Subject})
	r.last.jws, r.last.signed = req.Header.Get("webhook-jws"), string(signed)
}

// verifiesDetached checks a compact JWS with a detached payload against
// the published keys.
func verifiesDetached(jws string, payload []byte, keys *jose.JSONWebKeySet) bool {
	obj, err := jose.ParseDetached(jws, payload, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil || len(obj.Signatures) != 1 {
		return false
	}
	for _, k := range keys.Key(obj.Signatures[0].Header.KeyID) {
		if _, err := obj.Verify(k.Key); err == nil {
			return true
		}
	}
	return false
}

// documentKeys is the document key ring and its published key set.
func documentKeys(t *testing.T, db *sqldb.DB, sealer *eid.Sealer) (*keyring.Ring, *jose.JSONWebKeySet) {
	t.Helper()
	ring := keyring.New(db, sealer, "doc_signing_key", 90*24*time.Hour, 400*24*time.Hour)
	_, keys, err := ring.Current(context.Background(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	set := &jose.JSONWebKeySet{}
	for _, k := range keys {
		set.Keys = append(set.Keys, k.JWK())
	}
	return ring, set
}

func (r *receiver) secretFrom(s string) {
	b, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, "whsec_"))
	r.secret = b
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func agencyCtx() context.Context {
	return actor.With(context.Background(), &actor.Actor{ID: "moh", Kind: actor.Agency, Name: "Bộ Y tế", Grants: []string{"events:subscribe"}})
}

// emit writes n events for three people, interleaved, each in its own
// transaction as a change would, and returns their IDs.
func emit(t *testing.T, db *sqldb.DB, n int) []string {
	t.Helper()
	ctx := context.Background()
	before := len(outboxIDs(t, db))
	for i := 0; i < n; i++ {
		subject := fmt.Sprintf("00109000000%d", i%3)
		if err := db.InTx(ctx, func(tx *sql.Tx) error {
			return events.Emit(ctx, tx, "vn.dancu.residence.changed", subject, map[string]int{"n": i}, time.Now().UTC())
		}); err != nil {
			t.Fatal(err)
		}
	}
	return outboxIDs(t, db)[before:]
}

func TestDeliveryAfterOutage(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		clk := &clock{t: time.Now()}
		sealer, _ := eid.NewSealer(bytes.Repeat([]byte{5}, 32))
		ring, keys := documentKeys(t, db, sealer)
		svc := newService(db, sealer, ring, clk.now)
		rcv := &receiver{keys: keys}
		srv := httptest.NewServer(rcv)
		defer srv.Close()
		_, _, err := svc.Subscribe(agencyCtx(), "http://example.vn/hook", []string{"vn.dancu.residence.changed"})
		if err == nil {
			t.Fatal("an http URL was accepted")
		}
		sub, secret, err := svc.Subscribe(agencyCtx(), srv.URL, []string{"vn.dancu.residence.changed"})
		if err != nil {
			t.Fatal(err)
		}
		rcv.secretFrom(secret)
		rcv.down.Store(true)
		ids := emit(t, db, 12)
		// While the receiver is down: only the first event of each person
		// is tried, and nothing is lost.
		for round := 0; round < 4; round++ {
			if n, err := svc.Deliver(ctx); err != nil || n != 0 {
				t.Fatalf("round %d while down: %d, %v", round, n, err)
			}
			clk.add(time.Hour)
		}
		rcv.down.Store(false)
		for round := 0; round < 20 && len(rcv.got) < len(ids); round++ {
			if _, err := svc.Deliver(ctx); err != nil {
				t.Fatal(err)
			}
			clk.add(time.Hour)
		}
		seen := map[string]bool{}
		last := map[string]string{}
		for _, g := range rcv.got {
			if seen[g.id] {
				continue // at least once: the receiver drops duplicates by ID
			}
			seen[g.id] = true
			if g.id < last[g.subject] {
				t.Errorf("events of %s out of order: %s after %s", g.subject, g.id, last[g.subject])
			}
			last[g.subject] = g.id
		}
		if !verifiesDetached(rcv.last.jws, []byte(rcv.last.signed), keys) || verifiesDetached(rcv.last.jws, []byte(rcv.last.signed+" "), keys) ||
			verifiesDetached(rcv.last.jws, []byte(rcv.last.signed), &jose.JSONWebKeySet{}) {
			t.Error("the JWS check of the receiver does not tell a changed body or an unknown key")
		}
		if len(seen) != len(ids) || rcv.bad != 0 {
			t.Fatalf("received %d distinct of %d events (%d badly signed)", len(seen), len(ids), rcv.bad)
		}
		if dl, _ := svc.DeadLetters(agencyCtx(), sub.ID); len(dl) != 0 {
			t.Errorf("dead letters after recovery: %+v", dl)
		}
	})
}

func TestDeadLettersAndReplay(t *testing.T) {
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
		ids := emit(t, db, 6)
		for round := 0; round < 3*events.MaxAttempts+5; round++ {
			if _, err := svc.Deliver(ctx); err != nil {
				t.Fatal(err)
			}
			clk.add(2 * time.Hour)
		}
		dl, err := svc.DeadLetters(agencyCtx(), sub.ID)
		if err != nil || len(dl) != len(ids) || dl[0].Attempts != events.MaxAttempts || !strings.Contains(dl[0].LastError, "503") {
			t.Fatalf("dead letters %+v, %v", dl, err)
		}
		// Another agency does not see them.
		other := actor.With(context.Background(), &actor.Actor{ID: "bank", Kind: actor.Agency, Grants: []string{"events:subscribe"}})
		if _, err := svc.DeadLetters(other, sub.ID); err == nil {
			t.Error("another agency read the dead letters")
		}
		// Fixed: replay from the start delivers everything.
		rcv.down.Store(false)
		n, err := svc.Replay(agencyCtx(), sub.ID, ids[0])
		if err != nil || n != len(ids) {
			t.Fatalf("replay = %d, %v", n, err)
		}
		for round := 0; round < 10; round++ {
			svc.Deliver(ctx)
		}
		if len(rcv.got) != len(ids) {
			t.Errorf("after replay %d of %d events", len(rcv.got), len(ids))
		}
	})
}
