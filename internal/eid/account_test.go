package eid_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/eid"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/registry"
	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

var states = []eid.AccountState{eid.Approved, eid.Active, eid.Locked, eid.Revoked}

// TestCanMove holds the account life to the intended table over every pair
// of states, the same state included.
func TestCanMove(t *testing.T) {
	allowed := map[[2]eid.AccountState]bool{
		{eid.Approved, eid.Active}:  true, // activation
		{eid.Approved, eid.Revoked}: true,
		{eid.Active, eid.Locked}:    true,
		{eid.Active, eid.Revoked}:   true,
		{eid.Locked, eid.Active}:    true, // unlock
		{eid.Locked, eid.Revoked}:   true,
	}
	for _, from := range states {
		for _, to := range states {
			if got, want := eid.CanMove(from, to), allowed[[2]eid.AccountState{from, to}]; got != want {
				t.Errorf("CanMove(%s, %s) = %v, want %v", from, to, got, want)
			}
		}
	}
	if eid.CanMove("", eid.Active) || eid.CanMove(eid.Active, "") || eid.CanMove("deleted", eid.Revoked) {
		t.Error("CanMove allows a move from or to a state that does not exist")
	}
}

// die records p's death in the registry, as the commune's registrar would.
func (e *env) die(tb testing.TB, p person) error {
	tb.Helper()
	_, err := e.reg.SetStatus(system(), p.PID, 0, registry.Dead, registry.StatusChange{Date: "2026-02-12",
		Basis: registry.Basis{Reason: "death certificate", DossierRef: "KT-2026-001"}})
	return err
}

// inState gives p an account in state s.
func (e *env) inState(tb testing.TB, p person, s eid.AccountState) {
	tb.Helper()
	switch s {
	case eid.Approved:
		e.approved(tb, p)
	case eid.Active:
		e.active(tb, p)
	case eid.Locked:
		e.active(tb, p)
		if _, err := e.svc.Lock(officer(p.Commune), p.PID, "reported stolen phone"); err != nil {
			tb.Fatalf("Lock: %v", err)
		}
	case eid.Revoked:
		e.active(tb, p)
		if err := e.die(tb, p); err != nil {
			tb.Fatalf("SetStatus dead: %v", err)
		}
	}
	if got := e.account(tb, p.PID).State; got != s {
		tb.Fatalf("set up an account %s, got %s", s, got)
	}
}

// TestAccountMoves runs every operation that changes an account's state on
// an account in each state, and checks what the store holds after: the move
// happens exactly when the life table allows it (activation only from
// approved), and a refused move changes nothing.
func TestAccountMoves(t *testing.T) {
	const none = errs.Kind(-1)
	type op struct {
		name string
		to   eid.AccountState // the state the operation moves to
		run  func(t *testing.T, e *env, p person) error
	}
	activate := op{"activate", eid.Active, func(t *testing.T, e *env, p person) error {
		if err := e.svc.StartActivation(context.Background(), p.PID, p.Phone); err != nil {
			return err
		}
		_, err := e.svc.Activate(context.Background(), eid.Activation{PID: p.PID, Code: e.lastCode(t, p.Phone),
			Password: goodPassword, Passcode: goodPasscode})
		return err
	}}
	unlock := op{"unlock", eid.Active, func(t *testing.T, e *env, p person) error {
		_, err := e.svc.Unlock(officer(p.Commune), p.PID, "holder came to the counter")
		return err
	}}
	lock := op{"lock", eid.Locked, func(t *testing.T, e *env, p person) error {
		_, err := e.svc.Lock(officer(p.Commune), p.PID, "suspected misuse")
		return err
	}}
	death := op{"death", eid.Revoked, func(t *testing.T, e *env, p person) error { return e.die(t, p) }}
	tests := []struct {
		from eid.AccountState
		op   op
		want errs.Kind
	}{
		{eid.Approved, activate, none},
		{eid.Approved, unlock, errs.Conflict},
		{eid.Approved, lock, errs.Conflict},
		{eid.Approved, death, none},
		{eid.Active, activate, errs.Invalid}, // no account waiting for activation
		{eid.Active, unlock, errs.Conflict},
		{eid.Active, lock, none},
		{eid.Active, death, none},
		{eid.Locked, activate, errs.Invalid},
		{eid.Locked, unlock, none},
		{eid.Locked, lock, errs.Conflict},
		{eid.Locked, death, none},
		{eid.Revoked, activate, errs.Invalid},
		{eid.Revoked, unlock, errs.Conflict},
		{eid.Revoked, lock, errs.Conflict},
		{eid.Revoked, death, errs.Conflict}, // the registry holds the person dead already
	}
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s→%s by %s", tt.from, tt.op.to, tt.op.name), func(t *testing.T) {
				p := e.adult(t, baDinh)
				e.inState(t, p, tt.from)
				before := e.account(t, p.PID)
				err := tt.op.run(t, e, p)
				after := e.account(t, p.PID)
				if tt.want == none {
					if err != nil {
						t.Fatalf("%s of a %s account: %v", tt.op.name, tt.from, err)
					}
					if !eid.CanMove(tt.from, tt.op.to) {
						t.Errorf("the service moved %s→%s, which CanMove forbids", tt.from, tt.op.to)
					}
					if after.State != tt.op.to || after.Version != before.Version+1 {
						t.Errorf("after %s: state %s version %d, want %s version %d", tt.op.name, after.State, after.Version, tt.op.to, before.Version+1)
					}
					if tt.op.name != "activate" && after.Epoch != before.Epoch+1 {
						t.Errorf("after %s: session epoch %d, want %d (every session ends)", tt.op.name, after.Epoch, before.Epoch+1)
					}
					return
				}
				wantKind(t, err, tt.want)
				if after != before {
					t.Errorf("a refused %s changed the account:\nbefore %+v\nafter  %+v", tt.op.name, before, after)
				}
			})
		}
	})
}

// TestUnlockApproved: Unlock lifts a lock; on an account that was never
// activated it must be refused, else the account becomes active without a
// password and can neither be activated nor used.
func TestUnlockApproved(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		p := e.adult(t, baDinh)
		e.approved(t, p)
		_, err := e.svc.Unlock(officer(baDinh), p.PID, "by mistake")
		if a := e.account(t, p.PID); a.State != eid.Approved {
			t.Errorf("after Unlock of an approved account: state %s, password set %v", a.State, a.HasPassword)
		}
		wantKind(t, err, errs.Conflict)
		// The holder can still activate it.
		if err := e.svc.StartActivation(context.Background(), p.PID, p.Phone); err != nil {
			t.Fatalf("StartActivation after the refused Unlock: %v", err)
		}
	})
}

// TestNoMoveBackToApproved: approving a level-2 application for an account
// raises its level and leaves its state alone; only a new account starts
// approved. A revoked account cannot apply at all.
func TestNoMoveBackToApproved(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		for _, s := range states {
			t.Run(string(s), func(t *testing.T) {
				p := e.adult(t, baDinh)
				e.inState(t, p, s)
				before := e.account(t, p.PID)
				app, err := e.svc.ApplyAtCounter(officer(baDinh), counterApp(p, eid.CardValid))
				if s == eid.Revoked {
					wantKind(t, err, errs.Conflict)
					return
				}
				if err != nil {
					t.Fatalf("ApplyAtCounter: %v", err)
				}
				e.decide(t, officer(baDinh), app.ID, true, "")
				after := e.account(t, p.PID)
				if after.State != s || after.Level != 2 || after.Version != before.Version+1 || after.Epoch != before.Epoch {
					t.Errorf("after approving level 2 the account is %+v, want state %s level 2 version %d", after, s, before.Version+1)
				}
			})
		}
	})
}

// TestActivateAfterRevocation: a code sent while the account waited for
// activation does not activate it once it is revoked, and is not used up.
func TestActivateAfterRevocation(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		p := e.adult(t, baDinh)
		e.approved(t, p)
		code := e.startActivation(t, p)
		if err := e.die(t, p); err != nil {
			t.Fatal(err)
		}
		_, err := e.svc.Activate(context.Background(), eid.Activation{PID: p.PID, Code: code, Password: goodPassword, Passcode: goodPasscode})
		wantKind(t, err, errs.Conflict)
		if a := e.account(t, p.PID); a.State != eid.Revoked || a.HasPassword {
			t.Errorf("account after activating a revoked one: %+v", a)
		}
		if n := e.count(t, `SELECT COUNT(*) FROM eid_otp WHERE pid = $1 AND used_at IS NULL`, p.PID); n != 1 {
			t.Errorf("%d unused codes, want 1: the refused activation used the code", n)
		}
	})
}

// TestLockByHolder: the holder locks and unlocks their own account; a lock
// by an officer only an officer lifts.
func TestLockByHolder(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		p := e.adult(t, baDinh)
		e.active(t, p)
		holder := citizen(p.PID)

		acc, err := e.svc.Lock(holder, p.PID, "my phone was stolen")
		if err != nil {
			t.Fatalf("holder Lock: %v", err)
		}
		if acc.State != eid.Locked || acc.StateReason != "locked by the holder" {
			t.Errorf("holder Lock = state %s reason %q", acc.State, acc.StateReason)
		}
		acc, err = e.svc.Unlock(holder, p.PID, "")
		if err != nil {
			t.Fatalf("holder Unlock of their own lock: %v", err)
		}
		if acc.State != eid.Active || acc.StateReason != "" {
			t.Errorf("holder Unlock = state %s reason %q", acc.State, acc.StateReason)
		}

		// Locked by an officer: the holder cannot lift it.
		if _, err := e.svc.Lock(officer(baDinh), p.PID, "used in a fraud"); err != nil {
			t.Fatal(err)
		}
		before := e.account(t, p.PID)
		_, err = e.svc.Unlock(holder, p.PID, "")
		wantKind(t, err, errs.Forbidden)
		if after := e.account(t, p.PID); after != before || after.Reason != "by an officer: used in a fraud" {
			t.Errorf("a refused unlock changed the account: %+v, was %+v", after, before)
		}
		if _, err := e.svc.Unlock(officer(baDinh), p.PID, "cleared"); err != nil {
			t.Fatalf("officer Unlock: %v", err)
		}

		// Locked by the holder: an officer may lift it.
		if _, err := e.svc.Lock(holder, p.PID, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Unlock(officer(baDinh), p.PID, "holder asked at the counter"); err != nil {
			t.Fatalf("officer Unlock of a holder's lock: %v", err)
		}
		if got := e.account(t, p.PID).State; got != eid.Active {
			t.Errorf("state %s, want active", got)
		}

		// Nobody else may lock it.
		other := e.register(t, "Trần Thị Bình", "1985-03-02", "female", baDinh)
		for name, ctx := range map[string]context.Context{
			"another citizen": citizen(other.PID),
			"a viewer":        officerAt(actor.Viewer, actor.National, ""),
		} {
			_, err := e.svc.Lock(ctx, p.PID, "")
			wantKind(t, err, errs.Forbidden)
			t.Logf("%s: %v", name, err)
		}
		_, err = e.svc.Lock(context.Background(), p.PID, "")
		wantKind(t, err, errs.Unauthenticated)
		_, err = e.svc.Lock(officer(baDinh), other.PID, "")
		wantKind(t, err, errs.NotFound)
		if got := e.account(t, p.PID).State; got != eid.Active {
			t.Errorf("state %s after refused locks, want active", got)
		}
		if n, m := e.events(t, "eid_locked", p.PID), e.events(t, "eid_active", p.PID); n != 3 || m != 3 {
			t.Errorf("%d lock and %d unlock events, want 3 and 3", n, m)
		}
	})
}

// TestAccountRead: an account is shown to its holder and to officers.
func TestAccountRead(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		p := e.adult(t, baDinh)
		e.active(t, p)
		acc, err := e.svc.Account(citizen(p.PID), p.PID)
		if err != nil {
			t.Fatalf("Account by the holder: %v", err)
		}
		if acc.PID != p.PID || acc.Level != eid.Level1 || acc.State != eid.Active || acc.Phone != p.Phone || acc.Email != p.Email ||
			acc.Subject == "" || acc.Subject == p.PID || acc.ActivatedAt == nil || !acc.ActivatedAt.Equal(start) {
			t.Errorf("Account = %+v", acc)
		}
		if _, err := e.svc.Account(officer(baDinh), p.PID); err != nil {
			t.Errorf("Account by an officer of the holder's commune: %v", err)
		}
		if _, err := e.svc.Account(nationalOfficer(), p.PID); err != nil {
			t.Errorf("Account by a national officer: %v", err)
		}
		// An officer elsewhere may not read or lock it.
		_, err = e.svc.Account(officer(saiGon), p.PID)
		wantKind(t, err, errs.Forbidden)
		_, err = e.svc.Lock(officer(saiGon), p.PID, "not mine")
		wantKind(t, err, errs.Forbidden)
		other := e.adult(t, baDinh)
		_, err = e.svc.Account(citizen(other.PID), p.PID)
		wantKind(t, err, errs.Forbidden)
		_, err = e.svc.Account(officer(baDinh), other.PID)
		wantKind(t, err, errs.NotFound)
	})
}
