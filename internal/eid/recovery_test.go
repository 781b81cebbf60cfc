package eid_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dancu-vn/dancu/internal/eid"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

const newPassword = "Sen-hong-2027"

// activeWithCodes activates p's account and returns the recovery codes
// the activation showed.
func (e *env) activeWithCodes(tb testing.TB, p person) []string {
	tb.Helper()
	e.approved(tb, p)
	code := e.startActivation(tb, p)
	acc, err := e.svc.Activate(context.Background(), eid.Activation{PID: p.PID, Code: code, Password: goodPassword, Passcode: goodPasscode})
	if err != nil {
		tb.Fatalf("Activate %s: %v", p.PID, err)
	}
	if len(acc.RecoveryCodes) != eid.RecoveryCodes {
		tb.Fatalf("activation showed %d recovery codes, want %d", len(acc.RecoveryCodes), eid.RecoveryCodes)
	}
	return acc.RecoveryCodes
}

// TestRecoveryCodes: activation shows ten distinct codes once and stores
// only their hashes; a code with the passcode gets the holder back in once,
// with a new password, every session ended, passkeys and the authenticator
// app removed, a lock of the holder's own undone, notices to the phone and
// e-mail and a record in the holder's log; the code does not work twice.
func TestRecoveryCodes(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		p := e.adult(t, baDinh)
		codes := e.activeWithCodes(t, p)
		seen := map[string]bool{}
		for _, c := range codes {
			if len(c) != 11 || c[5] != '-' || seen[c] {
				t.Errorf("recovery code %q: want XXXXX-XXXXX, distinct", c)
			}
			seen[c] = true
			if n := e.count(t, `SELECT COUNT(*) FROM eid_recovery_code WHERE code_hash LIKE $1 OR code_hash = $2`, "%"+c+"%", c); n != 0 {
				t.Errorf("the code %s is stored as it is", c)
			}
		}
		if acc, err := e.svc.Account(citizen(p.PID), p.PID); err != nil || len(acc.RecoveryCodes) != 0 {
			t.Errorf("Account shows the codes again: %v %v", acc.RecoveryCodes, err)
		}
		if n, err := e.svc.RecoveryCodesLeft(citizen(p.PID), p.PID); n != eid.RecoveryCodes || err != nil {
			t.Errorf("RecoveryCodesLeft = %d, %v", n, err)
		}
		e.enableTOTP(t, p.PID)
		l, err := e.svc.Login(context.Background(), p.PID, goodPassword)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Lock(citizen(p.PID), p.PID, "lost my phone"); err != nil {
			t.Fatal(err)
		}
		before := len(e.messages(t, p.Phone))

		// Typed as people copy it: lower case, without the dash, O for 0.
		typed := strings.ToLower(strings.ReplaceAll(strings.ReplaceAll(codes[3], "-", ""), "0", "O"))
		if err := e.svc.Recover(context.Background(), eid.Recovery{PID: p.PID, Code: typed, Passcode: goodPasscode, Password: newPassword}); err != nil {
			t.Fatalf("Recover: %v", err)
		}
		acc := e.account(t, p.PID)
		if acc.State != "active" || acc.Epoch == l.Epoch {
			t.Errorf("after recovery: state %s, epoch %d (was %d)", acc.State, acc.Epoch, l.Epoch)
		}
		if ok, _ := e.svc.SessionValid(context.Background(), p.PID, l.Epoch); ok {
			t.Error("the session from before the recovery still works")
		}
		if _, err := e.svc.Login(context.Background(), p.PID, goodPassword); !errs.Is(err, errs.Unauthenticated) {
			t.Errorf("the old password after recovery: %v", err)
		}
		nl, err := e.svc.Login(context.Background(), p.PID, newPassword)
		if err != nil || nl.SecondFactor {
			t.Errorf("the new password: %+v %v (the authenticator app must be gone)", nl, err)
		}
		if ms := e.messages(t, p.Phone); len(ms) != before+1 || !strings.Contains(ms[0].Body, "recovery code") || !strings.Contains(ms[0].Body, "mã khôi phục") {
			t.Errorf("notice to the phone: %d messages (was %d)", len(ms), before)
		}
		if ms := e.messages(t, p.Email); len(ms) == 0 || !strings.Contains(ms[0].Body, "recovery code") {
			t.Error("no notice to the e-mail on file")
		}
		if e.events(t, "eid_recovered", p.PID) != 1 {
			t.Error("the recovery is not in the holder's log")
		}
		if n, _ := e.svc.RecoveryCodesLeft(citizen(p.PID), p.PID); n != eid.RecoveryCodes-1 {
			t.Errorf("codes left after one use = %d", n)
		}
		err = e.svc.Recover(context.Background(), eid.Recovery{PID: p.PID, Code: codes[3], Passcode: goodPasscode, Password: "Sen-trang-2028"})
		wantKind(t, err, errs.Unauthenticated)
	})
}

// TestRecoveryRefusals: a wrong code, a wrong passcode and an unknown
// number get the one answer; tries are throttled; an account an officer
// locked is not unlocked by a code; a malformed code is named.
func TestRecoveryRefusals(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		p := e.adult(t, baDinh)
		codes := e.activeWithCodes(t, p)
		ctx := from("203.0.113.9")
		wrongCode := eid.Recovery{PID: p.PID, Code: "ZZZZZ-ZZZZZ", Passcode: goodPasscode, Password: newPassword}
		wrongPass := eid.Recovery{PID: p.PID, Code: codes[0], Passcode: "135792", Password: newPassword}
		unknown := eid.Recovery{PID: unknownPID(7), Code: codes[0], Passcode: goodPasscode, Password: newPassword}
		var answers []string
		for _, in := range []eid.Recovery{wrongCode, wrongPass, unknown} {
			err := e.svc.Recover(ctx, in)
			wantKind(t, err, errs.Unauthenticated)
			answers = append(answers, err.Error())
		}
		if answers[0] != answers[1] || answers[1] != answers[2] {
			t.Errorf("the answers differ: %q", answers)
		}
		if e.events(t, "eid_recovered", p.PID) != 0 || e.account(t, p.PID).State != "active" {
			t.Error("a failed try changed the account")
		}
		wantField(t, e.svc.Recover(ctx, eid.Recovery{PID: p.PID, Code: "12345", Passcode: goodPasscode, Password: newPassword}), "code")

		// Guessing is slowed down by the login throttle.
		var throttled bool
		for i := 0; i < 30 && !throttled; i++ {
			throttled = errs.Is(e.svc.Recover(ctx, wrongCode), errs.TooMany)
		}
		if !throttled {
			t.Error("30 wrong recovery codes in a row were never throttled")
		}

		q := e.adult(t, baDinh)
		qcodes := e.activeWithCodes(t, q)
		if _, err := e.svc.Lock(officer(baDinh), q.PID, "suspected fraud"); err != nil {
			t.Fatal(err)
		}
		err := e.svc.Recover(context.Background(), eid.Recovery{PID: q.PID, Code: qcodes[0], Passcode: goodPasscode, Password: newPassword})
		wantKind(t, err, errs.Forbidden)
		if e.account(t, q.PID).State != "locked" {
			t.Error("a recovery code unlocked an account an officer locked")
		}
	})
}

// TestCoolingOff: after an online recovery no passkey, authenticator app
// or new set of codes is added for CoolingOff, to the second; then they
// are. A new set of codes needs the passcode and voids the old set.
func TestCoolingOff(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		p := e.adult(t, baDinh)
		codes := e.activeWithCodes(t, p)
		if err := e.svc.Recover(context.Background(), eid.Recovery{PID: p.PID, Code: codes[0], Passcode: goodPasscode, Password: newPassword}); err != nil {
			t.Fatal(err)
		}
		me := citizen(p.PID)
		e.clock.Advance(eid.CoolingOff - time.Second)
		// Whoever holds the sheet does not take the account back and forth
		// online: within the cooling-off the counter settles it. The code
		// is not spent.
		err := e.svc.Recover(context.Background(), eid.Recovery{PID: p.PID, Code: codes[5], Passcode: goodPasscode, Password: goodPassword})
		wantKind(t, err, errs.Forbidden)
		if n, _ := e.svc.RecoveryCodesLeft(me, p.PID); n != eid.RecoveryCodes-1 {
			t.Errorf("a refused recovery spent a code: %d left", n)
		}
		_, err = e.svc.StartTOTP(me, p.PID)
		wantKind(t, err, errs.Forbidden)
		_, _, err = e.svc.BeginPasskeyRegistration(me, eid.RP{ID: "localhost", Origin: "http://localhost:8080"}, p.PID)
		wantKind(t, err, errs.Forbidden)
		_, err = e.svc.NewRecoveryCodes(me, p.PID, goodPasscode)
		wantKind(t, err, errs.Forbidden)

		e.clock.Advance(time.Second)
		if _, err := e.svc.StartTOTP(me, p.PID); err != nil {
			t.Errorf("StartTOTP after the cooling-off: %v", err)
		}
		_, err = e.svc.NewRecoveryCodes(me, p.PID, "135792")
		wantField(t, err, "passcode")
		fresh, err := e.svc.NewRecoveryCodes(me, p.PID, goodPasscode)
		if err != nil || len(fresh) != eid.RecoveryCodes {
			t.Fatalf("NewRecoveryCodes: %d, %v", len(fresh), err)
		}
		err = e.svc.Recover(context.Background(), eid.Recovery{PID: p.PID, Code: codes[1], Passcode: goodPasscode, Password: goodPassword})
		wantKind(t, err, errs.Unauthenticated)
		if err := e.svc.Recover(context.Background(), eid.Recovery{PID: p.PID, Code: fresh[9], Passcode: goodPasscode, Password: goodPassword}); err != nil {
			t.Errorf("a code of the new set: %v", err)
		}
		_, err = e.svc.NewRecoveryCodes(citizen(unknownPID(3)), p.PID, goodPasscode)
		wantKind(t, err, errs.Forbidden)
	})
}

// TestFactorNotices: turning the authenticator app on or off tells the
// phone and the e-mail on file.
func TestFactorNotices(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		p := e.adult(t, baDinh)
		e.active(t, p)
		before := len(e.messages(t, p.Phone))
		e.enableTOTP(t, p.PID)
		if ms := e.messages(t, p.Phone); len(ms) != before+1 || !strings.Contains(ms[0].Body, "authenticator app was just turned on") {
			t.Errorf("no notice of the authenticator app turned on: %d messages", len(ms))
		}
		if err := e.svc.DisableTOTP(citizen(p.PID), p.PID, goodPasscode); err != nil {
			t.Fatal(err)
		}
		if ms := e.messages(t, p.Email); len(ms) == 0 || !strings.Contains(ms[0].Body, "turned off") {
			t.Error("no notice to the e-mail of the authenticator app turned off")
		}
	})
}
