package eid_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	pqotp "github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

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
		if n, m := e.loginEvents(t, "eid_login", p.PID), e.loginEvents(t, "eid_login_failed", p.PID); n != 1 || m != 1 {
			t.Errorf("%d logins and %d failures recorded, want 1 and 1", n, m)
		}
	})
}

// TestLoginThrottled: citizens' logins are slowed down by the platform's
// one login throttle (its rules are tested in internal/access): guessing
// from one address slows that address, an unknown number behaves like a
// known one, and the owner at their own address is never kept out.
func TestLoginThrottled(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		p := e.adult(t, baDinh)
		e.active(t, p)
		owner, attacker := from("198.51.100.9"), from("203.0.113.7")
		if _, err := e.svc.Login(owner, p.PID, goodPassword); err != nil {
			t.Fatal(err)
		}
		answers := func(pid string) []string {
			var out []string
			for range 7 {
				_, err := e.svc.Login(attacker, pid, wrongPassword)
				out = append(out, errs.KindOf(err).String()+fmt.Sprint(errs.RetryAfterOf(err).Round(time.Second)))
			}
			return out
		}
		known, unknown := answers(p.PID), answers(unknownPID(1))
		if fmt.Sprint(known) != fmt.Sprint(unknown) {
			t.Errorf("known number %v, unknown number %v", known, unknown)
		}
		if known[4] != "unauthenticated0s" || known[5] != "too many requests31s" {
			t.Errorf("answers %v: the sixth try is not slowed down", known)
		}
		_, err := e.svc.Login(attacker, p.PID, goodPassword)
		wantKind(t, err, errs.TooMany)
		if _, err := e.svc.Login(owner, p.PID, goodPassword); err != nil {
			t.Errorf("the owner at their own address: %v", err)
		}
		e.clock.Advance(31 * time.Second)
		if _, err := e.svc.Login(attacker, p.PID, goodPassword); err != nil {
			t.Errorf("after the delay: %v", err)
		}
		if n := e.loginEvents(t, "eid_login_refused", p.PID); n != 3 {
			t.Errorf("%d refusals recorded, want 3", n)
		}
	})
}

// TestTOTPThrottled: wrong authenticator codes are throttled like
// passwords, so six digits cannot be run through.
func TestTOTPThrottled(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		p := e.adult(t, baDinh)
		e.active(t, p)
		e.enableTOTP(t, p.PID)
		ctx := from("203.0.113.10")
		var kinds []string
		for range 7 {
			kinds = append(kinds, errs.KindOf(e.svc.VerifyTOTP(ctx, p.PID, "000000")).String())
		}
		if kinds[4] != "invalid" || kinds[5] != "too many requests" {
			t.Errorf("wrong codes answered %v", kinds)
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

// enableTOTP sets up an authenticator app for pid, as its holder would.
func (e *env) enableTOTP(tb testing.TB, pid string) {
	tb.Helper()
	en, err := e.svc.StartTOTP(citizen(pid), pid)
	if err != nil {
		tb.Fatal(err)
	}
	code, err := totp.GenerateCodeCustom(en.Secret, e.clock.Now(), totp.ValidateOpts{Period: 30, Digits: pqotp.DigitsSix, Algorithm: pqotp.AlgorithmSHA1})
	if err != nil {
		tb.Fatal(err)
	}
	if err := e.svc.ConfirmTOTP(citizen(pid), pid, code); err != nil {
		tb.Fatal(err)
	}
}
