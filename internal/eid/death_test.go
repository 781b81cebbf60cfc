package eid_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/dancu-vn/dancu/internal/eid"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/events/eventstest"
	"github.com/dancu-vn/dancu/internal/registry"
	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

func (e *env) status(tb testing.TB, pid string) registry.Status {
	tb.Helper()
	c, err := e.reg.Get(system(), pid, "test")
	if err != nil {
		tb.Fatalf("Get %s: %v", pid, err)
	}
	return c.Status
}

// TestDeathRevokes: a death recorded in the registry revokes the account
// in the same transaction: every session ends and the password no longer
// logs in.
func TestDeathRevokes(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		// A hook after the e-ID one that fails on demand: the registry then
		// rolls back, and the revocation with it.
		var failHook atomic.Bool
		e.reg.OnStatusChange(func(ctx context.Context, tx *sql.Tx, pid string, to registry.Status) error {
			if failHook.Load() {
				return errors.New("the card service is down")
			}
			return nil
		})
		p := e.adult(t, baDinh)
		e.active(t, p)
		l, err := e.svc.Login(context.Background(), p.PID, goodPassword)
		if err != nil {
			t.Fatal(err)
		}
		before := e.account(t, p.PID)
		change := registry.StatusChange{Date: "2026-02-12", Basis: registry.Basis{Reason: "death certificate"}}

		failHook.Store(true)
		if _, err := e.reg.SetStatus(officer(baDinh), p.PID, 0, registry.Dead, change); err == nil {
			t.Fatal("SetStatus succeeded though a hook failed")
		}
		if after := e.account(t, p.PID); after != before {
			t.Errorf("a death that was rolled back changed the account:\n%+v, was\n%+v", after, before)
		}
		if s := e.status(t, p.PID); s != registry.Alive {
			t.Errorf("status %s after a failed SetStatus", s)
		}
		if n := e.events(t, "eid_revoked", p.PID); n != 0 {
			t.Errorf("%d eid_revoked events after a rollback", n)
		}

		failHook.Store(false)
		if _, err := e.reg.SetStatus(officer(baDinh), p.PID, 0, registry.Dead, change); err != nil {
			t.Fatalf("SetStatus dead: %v", err)
		}
		after := e.account(t, p.PID)
		want := before
		want.State, want.Reason, want.Epoch, want.Version = eid.Revoked, "death recorded in the national population database", before.Epoch+1, before.Version+1
		if after != want {
			t.Errorf("account after the death:\n%+v, want\n%+v", after, want)
		}
		if n := e.events(t, "eid_revoked", p.PID); n != 1 {
			t.Errorf("%d eid_revoked events, want 1", n)
		}
		// Subscribers heard of every step, in order, once; not of the rollback.
		states := eventstest.Field(t, db, eid.EventAccountStatus, p.PID, "state")
		if got := strings.Join(states, " "); got != "approved active revoked" {
			t.Errorf("account events: %s", got)
		}
		if ok, err := e.svc.SessionValid(context.Background(), p.PID, l.Epoch); ok || err != nil {
			t.Errorf("SessionValid of a session begun before the death = %v, %v", ok, err)
		}
		_, err = e.svc.Login(context.Background(), p.PID, goodPassword)
		wantKind(t, err, errs.Forbidden)
		_, err = e.svc.Unlock(officer(baDinh), p.PID, "mistake")
		wantKind(t, err, errs.Conflict)
	})
}

// TestMissingKeepsAccount: only a death revokes; a disappearance, and the
// person being found, leave the account alone; a death without an account
// is recorded as usual.
func TestMissingKeepsAccount(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		p := e.adult(t, baDinh)
		e.active(t, p)
		before := e.account(t, p.PID)
		for _, to := range []registry.Status{registry.Missing, registry.Alive} {
			if _, err := e.reg.SetStatus(system(), p.PID, 0, to, registry.StatusChange{Date: "2026-02-01", Basis: registry.Basis{Reason: "court decision"}}); err != nil {
				t.Fatalf("SetStatus %s: %v", to, err)
			}
			if after := e.account(t, p.PID); after != before {
				t.Errorf("status %s changed the account: %+v, was %+v", to, after, before)
			}
		}
		q := e.adult(t, baDinh)
		if err := e.die(t, q); err != nil {
			t.Errorf("death of someone without an account: %v", err)
		}
		if n := e.count(t, `SELECT COUNT(*) FROM eid_account WHERE pid = $1`, q.PID); n != 0 {
			t.Errorf("a death created an account")
		}
	})
}

// TestDeathWhilePending: an application waiting for a decision when the
// applicant dies must not become an account.
func TestDeathWhilePending(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		for _, level := range []eid.Level{eid.Level1, eid.Level2} {
			p := e.adult(t, baDinh)
			var app eid.Application
			if level == eid.Level1 {
				app = e.applySelf(t, p)
			} else {
				app = e.applyCounter(t, officer(baDinh), p, eid.CardValid)
			}
			if err := e.die(t, p); err != nil {
				t.Fatal(err)
			}
			_, err := e.svc.Decide(officer(baDinh), app.ID, true, "")
			if n := e.count(t, `SELECT COUNT(*) FROM eid_account WHERE pid = $1 AND state <> 'revoked'`, p.PID); n != 0 {
				t.Errorf("level %d: approving the application of a dead person made an account", level)
				// What follows: the dead person's account is activated and used.
				code := e.startActivation(t, p)
				if _, err := e.svc.Activate(context.Background(), activation(p, code)); err == nil {
					if l, err := e.svc.Login(context.Background(), p.PID, goodPassword); err == nil {
						t.Errorf("level %d: the dead person logs in at level %d", level, l.Level)
					}
				}
			}
			if !errs.Is(err, errs.Conflict) {
				t.Errorf("level %d: approving the application of a dead person: %v, want a conflict", level, err)
			}
		}
	})
}
