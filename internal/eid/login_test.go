package eid_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/dancu-vn/dancu/internal/eid"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

const wrongPassword = "Hoa-sen-2025"

// loginEvents counts the login records of action made as pid.
func (e *env) loginEvents(tb testing.TB, action, pid string) int {
	tb.Helper()
	return e.count(tb, `SELECT COUNT(*) FROM access_event WHERE action = $1 AND actor_id = $2`, action, pid)
}

// unknownPID is a well-formed number nobody holds.
func unknownPID(i int) string { return fmt.Sprintf("001090%06d", 900000+i) }

// TestLogin: the right password logs in at the account's level; a wrong
// password, an unknown number and an account not yet activated get the
// same answer.
func TestLogin(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		p := e.adult(t, baDinh)
		e.active(t, p)
		e.clock.Advance(time.Hour)
		l, err := e.svc.Login(context.Background(), " "+p.PID+" ", goodPassword)
		if err != nil {
			t.Fatalf("Login: %v", err)
		}
		want := eid.Login{PID: p.PID, Level: eid.Level1, Epoch: e.account(t, p.PID).Epoch, AuthTime: start.Add(time.Hour).UTC()}
		if l.PID != want.PID || l.Level != want.Level || l.Epoch != want.Epoch || !l.AuthTime.Equal(want.AuthTime) {
			t.Errorf("Login = %+v, want %+v", l, want)
		}
		if ok, err := e.svc.SessionValid(context.Background(), p.PID, l.Epoch); !ok || err != nil {
			t.Errorf("SessionValid of a fresh login = %v, %v", ok, err)
		}

		_, errWrong := e.svc.Login(context.Background(), p.PID, wrongPassword)
		wantKind(t, errWrong, errs.Unauthenticated)
		_, errUnknown := e.svc.Login(context.Background(), unknownPID(1), goodPassword)
		wantKind(t, errUnknown, errs.Unauthenticated)
		q := e.adult(t, baDinh)
		e.approved(t, q)
		_, errApproved := e.svc.Login(context.Background(), q.PID, "")
		wantKind(t, errApproved, errs.Unauthenticated)
		if errWrong.Error() != errUnknown.Error() || errApproved.Error() != errUnknown.Error() {
			t.Errorf("wrong password %q, unknown number %q, not activated %q: the answers differ", errWrong, errUnknown, errApproved)
		}
		if a := e.account(t, p.PID); a.Failed != 1 {
			t.Errorf("%d failures counted, want 1", a.Failed)
		}
		if n, m := e.loginEvents(t, "eid_login", p.PID), e.loginEvents(t, "eid_login_failed", p.PID); n != 1 || m != 1 {
			t.Errorf("%d logins and %d failures recorded, want 1 and 1", n, m)
		}
	})
}

// TestLoginLockout: after five failures in a row the account is locked for
// a minute, then two, four …; even the right password is refused meanwhile,
// and a success resets the count.
func TestLoginLockout(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		p := e.adult(t, baDinh)
		e.active(t, p)
		ctx := context.Background()
		fail := func(n int) {
			t.Helper()
			for range n {
				_, err := e.svc.Login(ctx, p.PID, wrongPassword)
				wantKind(t, err, errs.Unauthenticated)
			}
		}
		login := func() {
			t.Helper()
			if _, err := e.svc.Login(ctx, p.PID, goodPassword); err != nil {
				t.Fatalf("Login at %s: %v", e.clock.Now().In(vn), err)
			}
		}
		refused := func() {
			t.Helper()
			_, err := e.svc.Login(ctx, p.PID, goodPassword)
			wantKind(t, err, errs.TooMany)
		}
		lockedUntil := func(want time.Time) {
			t.Helper()
			a := e.account(t, p.PID)
			if a.LockedUntil == nil || !a.LockedUntil.Equal(want) {
				t.Fatalf("locked until %v, want %s", a.LockedUntil, want)
			}
		}

		fail(4)
		login() // four do not lock; a success resets the count
		if a := e.account(t, p.PID); a.Failed != 0 || a.LockedUntil != nil {
			t.Fatalf("after a success: %d failures, locked until %v", a.Failed, a.LockedUntil)
		}
		fail(4)
		login()
		t0 := e.clock.Now()
		fail(5)
		lockedUntil(t0.Add(time.Minute))
		refused()
		_, err := e.svc.Login(ctx, p.PID, wrongPassword)
		wantKind(t, err, errs.TooMany)
		if a := e.account(t, p.PID); a.Failed != 5 {
			t.Errorf("%d failures counted, want 5: refusals while locked do not count", a.Failed)
		}
		e.clock.Advance(time.Minute - time.Second)
		refused()
		e.clock.Advance(time.Second)
		login()
		if a := e.account(t, p.PID); a.Failed != 0 || a.LockedUntil != nil || a.State != eid.Active {
			t.Errorf("after the lock expired and a login: %+v", a)
		}

		// Failures after a lock lock for longer each time.
		fail(5)
		e.clock.Advance(time.Minute)
		fail(1) // the sixth in a row
		lockedUntil(e.clock.Now().Add(2 * time.Minute))
		e.clock.Advance(2*time.Minute - time.Microsecond)
		refused()
		e.clock.Advance(time.Microsecond)
		fail(1) // the seventh
		lockedUntil(e.clock.Now().Add(4 * time.Minute))

		// However many, an hour at most.
		if _, err := db.ExecContext(ctx, `UPDATE eid_account SET failed_logins = 40 WHERE pid = $1`, p.PID); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(4 * time.Minute)
		fail(1)
		lockedUntil(e.clock.Now().Add(time.Hour))
		e.clock.Advance(time.Hour)
		login()
		if n := e.loginEvents(t, "eid_login_refused", p.PID); n != 4 {
			t.Errorf("%d refusals recorded, want 4", n)
		}
	})
}

// TestLoginSourceThrottle: twenty failures from one address within 15
// minutes, whatever the numbers, refuse that address for 15 minutes; other
// addresses are not affected.
func TestLoginSourceThrottle(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		p := e.adult(t, baDinh)
		e.active(t, p)
		attacker, neighbour := from("203.0.113.7"), from("198.51.100.9")
		for i := range 19 {
			_, err := e.svc.Login(attacker, unknownPID(i%4), "Guess-"+fmt.Sprint(i)+"!a")
			wantKind(t, err, errs.Unauthenticated)
			e.clock.Advance(30 * time.Second)
		}
		// Nineteen: the address may still log in, and a success does not
		// clear its failures.
		if _, err := e.svc.Login(attacker, p.PID, goodPassword); err != nil {
			t.Fatalf("Login after 19 failures from the address: %v", err)
		}
		_, err := e.svc.Login(attacker, unknownPID(9), "Guess-20!a")
		wantKind(t, err, errs.Unauthenticated)
		lockedAt := e.clock.Now()

		_, err = e.svc.Login(attacker, p.PID, goodPassword)
		wantKind(t, err, errs.TooMany)
		_, err = e.svc.Login(attacker, unknownPID(1), "Guess-21!a")
		wantKind(t, err, errs.TooMany)
		if _, err := e.svc.Login(neighbour, p.PID, goodPassword); err != nil {
			t.Errorf("Login from another address: %v", err)
		}
		if n := e.count(t, `SELECT failures FROM auth_throttle WHERE source = '203.0.113.7'`); n != 20 {
			t.Errorf("%d failures counted for the address, want 20", n)
		}
		if a := e.account(t, p.PID); a.Failed != 0 {
			t.Errorf("refusals of the address counted %d failures against the account", a.Failed)
		}

		e.clock.Set(lockedAt.Add(15*time.Minute - time.Microsecond))
		_, err = e.svc.Login(attacker, p.PID, goodPassword)
		wantKind(t, err, errs.TooMany)
		e.clock.Set(lockedAt.Add(15 * time.Minute))
		if _, err := e.svc.Login(attacker, p.PID, goodPassword); err != nil {
			t.Errorf("Login after the address's 15 minutes: %v", err)
		}
	})
}

// TestLoginSourceWindow: failures older than 15 minutes no longer count.
func TestLoginSourceWindow(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		p := e.adult(t, baDinh)
		e.active(t, p)
		src := from("203.0.113.8")
		for i := range 19 {
			_, err := e.svc.Login(src, unknownPID(i), "Guess-1!a")
			wantKind(t, err, errs.Unauthenticated)
		}
		e.clock.Advance(15*time.Minute + time.Microsecond)
		_, err := e.svc.Login(src, unknownPID(0), "Guess-1!a")
		wantKind(t, err, errs.Unauthenticated)
		if _, err := e.svc.Login(src, p.PID, goodPassword); err != nil {
			t.Errorf("Login after 19 old failures and one new: %v", err)
		}
	})
}

// TestLoginSourceBurst: twenty failures within 15 minutes refuse the address
// even when they straddle the start of a new counting window.
func TestLoginSourceBurst(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		p := e.adult(t, baDinh)
		e.active(t, p)
		src := from("203.0.113.9")
		_, err := e.svc.Login(src, unknownPID(0), "Guess-1!a") // opens a window at start
		wantKind(t, err, errs.Unauthenticated)
		e.clock.Advance(14 * time.Minute)
		for i := range 10 {
			_, err := e.svc.Login(src, unknownPID(i), "Guess-1!a")
			wantKind(t, err, errs.Unauthenticated)
		}
		e.clock.Advance(2 * time.Minute) // past the window the first failure opened
		for i := range 10 {
			_, err := e.svc.Login(src, unknownPID(i), "Guess-1!a")
			wantKind(t, err, errs.Unauthenticated)
		}
		// Twenty failures in the last two minutes: the address is refused.
		if _, err := e.svc.Login(src, p.PID, goodPassword); !errs.Is(err, errs.TooMany) {
			t.Errorf("after 20 failures within 2 minutes (%d in the table): %v, want TooMany",
				e.count(t, `SELECT failures FROM auth_throttle WHERE source = '203.0.113.9'`), err)
		}
	})
}

// TestLoginRefusedStates: a locked or revoked account is refused as such
// only to whoever knows the password.
func TestLoginRefusedStates(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		_, errUnknown := e.svc.Login(context.Background(), unknownPID(0), wrongPassword)
		for _, s := range []eid.AccountState{eid.Locked, eid.Revoked} {
			p := e.adult(t, baDinh)
			e.inState(t, p, s)
			_, err := e.svc.Login(context.Background(), p.PID, goodPassword)
			wantKind(t, err, errs.Forbidden)
			_, err = e.svc.Login(context.Background(), p.PID, wrongPassword)
			wantKind(t, err, errs.Unauthenticated)
			if err.Error() != errUnknown.Error() {
				t.Errorf("%s account, wrong password: %q; unknown number: %q", s, err, errUnknown)
			}
			if n := e.loginEvents(t, "eid_login", p.PID); n != 0 {
				t.Errorf("%s account: %d logins recorded", s, n)
			}
		}
		// Locked by its holder: the same.
		p := e.adult(t, baDinh)
		e.active(t, p)
		if _, err := e.svc.Lock(citizen(p.PID), p.PID, ""); err != nil {
			t.Fatal(err)
		}
		_, err := e.svc.Login(context.Background(), p.PID, goodPassword)
		wantKind(t, err, errs.Forbidden)
	})
}

// TestLogoutEverywhere: sessions begun before it, or before a lock, are no
// longer valid; a new login is.
func TestLogoutEverywhere(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		p := e.adult(t, baDinh)
		e.active(t, p)
		valid := func(epoch int64, want bool) {
			t.Helper()
			ok, err := e.svc.SessionValid(ctx, p.PID, epoch)
			if err != nil || ok != want {
				t.Errorf("SessionValid(%d) = %v, %v; want %v", epoch, ok, err, want)
			}
		}
		l, err := e.svc.Login(ctx, p.PID, goodPassword)
		if err != nil {
			t.Fatal(err)
		}
		valid(l.Epoch, true)
		valid(l.Epoch+1, false)

		if err := e.svc.LogoutEverywhere(citizen(p.PID), p.PID); err != nil {
			t.Fatalf("LogoutEverywhere: %v", err)
		}
		valid(l.Epoch, false)
		l2, err := e.svc.Login(ctx, p.PID, goodPassword)
		if err != nil || l2.Epoch != l.Epoch+1 {
			t.Fatalf("Login after LogoutEverywhere = %+v, %v; want epoch %d", l2, err, l.Epoch+1)
		}
		valid(l2.Epoch, true)
		if n := e.events(t, "eid_logout_everywhere", p.PID); n != 1 {
			t.Errorf("%d eid_logout_everywhere events, want 1", n)
		}

		// Only the holder or an officer.
		other := e.adult(t, baDinh)
		wantKind(t, e.svc.LogoutEverywhere(citizen(other.PID), p.PID), errs.Forbidden)
		wantKind(t, e.svc.LogoutEverywhere(ctx, p.PID), errs.Unauthenticated)
		valid(l2.Epoch, true)
		wantKind(t, e.svc.LogoutEverywhere(officer(baDinh), other.PID), errs.NotFound)
		if err := e.svc.LogoutEverywhere(officer(baDinh), p.PID); err != nil {
			t.Errorf("LogoutEverywhere by an officer: %v", err)
		}
		valid(l2.Epoch, false)

		// A lock ends sessions too, and the unlock does not revive them.
		l3, err := e.svc.Login(ctx, p.PID, goodPassword)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Lock(citizen(p.PID), p.PID, ""); err != nil {
			t.Fatal(err)
		}
		valid(l3.Epoch, false)
		valid(l3.Epoch+1, false) // locked: no session at all
		if _, err := e.svc.Unlock(citizen(p.PID), p.PID, ""); err != nil {
			t.Fatal(err)
		}
		valid(l3.Epoch, false)

		if ok, err := e.svc.SessionValid(ctx, unknownPID(0), 0); ok || err != nil {
			t.Errorf("SessionValid of an unknown number = %v, %v", ok, err)
		}
	})
}
