package eid_test

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/dancu-vn/dancu/internal/eid"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

// otp is the newest activation code of pid as stored.
type otp struct {
	Hash     string
	Expires  time.Time
	Used     bool
	Attempts int
}

func (e *env) otp(tb testing.TB, pid string) otp {
	tb.Helper()
	var o otp
	var used sql.NullTime
	err := e.db.QueryRowContext(context.Background(), `SELECT code_hash, expires_at, used_at, attempts FROM eid_otp
		WHERE pid = $1 AND purpose = 'activation' ORDER BY id DESC LIMIT 1`, pid).Scan(&o.Hash, &o.Expires, &used, &o.Attempts)
	if err != nil {
		tb.Fatalf("otp of %s: %v", pid, err)
	}
	o.Used = used.Valid
	return o
}

func activation(p person, code string) eid.Activation {
	return eid.Activation{PID: p.PID, Code: code, Password: goodPassword, Passcode: goodPasscode}
}

// reason is the reason given for field in an Invalid error.
func reason(err error, field string) string {
	var e *errs.Error
	if errors.As(err, &e) {
		for _, f := range e.Fields {
			if f.Field == field {
				return f.Reason
			}
		}
	}
	return ""
}

// TestStartActivation: a code goes by SMS to the phone of an approved
// account; a wrong number or phone is refused without saying which.
func TestStartActivation(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		p, q, r := e.adult(t, baDinh), e.adult(t, baDinh), e.adult(t, baDinh)
		e.approved(t, p)
		e.active(t, q)
		before := e.stored(t)
		for name, tt := range map[string][2]string{
			"another phone":      {p.PID, r.Phone},
			"no account":         {r.PID, r.Phone},
			"active account":     {q.PID, q.Phone},
			"another's phone":    {p.PID, q.Phone},
			"another's number":   {q.PID, p.Phone},
			"unapplied neighbor": {r.PID, p.Phone},
		} {
			// The answer is the one a caller gets when a code is sent: it
			// tells nobody whether the number has an account, or its phone.
			if err := e.svc.StartActivation(context.Background(), tt[0], tt[1]); err != nil {
				t.Errorf("%s: %v, want the same answer as when a code is sent", name, err)
			}
		}
		wantField(t, e.svc.StartActivation(context.Background(), "12345", p.Phone), "pid")
		wantField(t, e.svc.StartActivation(context.Background(), p.PID, "0241234567"), "phone")
		if s := e.stored(t); s != before || e.count(t, `SELECT COUNT(*) FROM eid_otp`) != 1 {
			t.Fatalf("requests that match no account waiting for activation sent codes: before %+v, after %+v", before, s)
		}

		if err := e.svc.StartActivation(context.Background(), p.PID, "+84"+p.Phone[1:]); err != nil {
			t.Fatalf("StartActivation: %v", err)
		}
		code := e.lastCode(t, p.Phone)
		o := e.otp(t, p.PID)
		if o.Used || o.Attempts != 0 || !o.Expires.Equal(start.Add(eid.OTPTTL)) || strings.Contains(o.Hash, code) {
			t.Errorf("stored code %+v for code %s", o, code)
		}
	})
}

// TestActivate: a wrong code is counted; the right one activates the
// account once.
func TestActivate(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		p := e.adult(t, baDinh)
		e.approved(t, p)
		code := e.startActivation(t, p)

		_, err := e.svc.Activate(context.Background(), activation(p, wrongCode(code)))
		wantField(t, err, "code")
		if o, a := e.otp(t, p.PID), e.account(t, p.PID); o.Attempts != 1 || o.Used || a.State != eid.Approved {
			t.Fatalf("after a wrong code: code %+v, account %+v", o, a)
		}

		e.clock.Advance(time.Minute)
		acc, err := e.svc.Activate(context.Background(), activation(p, code))
		if err != nil {
			t.Fatalf("Activate: %v", err)
		}
		now := start.Add(time.Minute)
		if acc.State != eid.Active || acc.ActivatedAt == nil || !acc.ActivatedAt.Equal(now) || acc.Version != 2 || acc.Level != eid.Level1 {
			t.Errorf("Activate = %+v", acc)
		}
		if o := e.otp(t, p.PID); !o.Used {
			t.Error("the code is not marked used")
		}
		if n := e.events(t, "eid_activated", p.PID); n != 1 {
			t.Errorf("%d eid_activated events, want 1", n)
		}
		if _, err := e.svc.Login(context.Background(), p.PID, goodPassword); err != nil {
			t.Errorf("Login with the new password: %v", err)
		}

		// Once only.
		before := e.account(t, p.PID)
		_, err = e.svc.Activate(context.Background(), eid.Activation{PID: p.PID, Code: code, Password: "Other-pass-9", Passcode: "975318"})
		wantField(t, err, "code")
		if after := e.account(t, p.PID); after != before {
			t.Errorf("a used code changed the account: %+v, was %+v", after, before)
		}
		if _, err := e.svc.Login(context.Background(), p.PID, "Other-pass-9"); !errs.Is(err, errs.Unauthenticated) {
			t.Errorf("Login with the password of the refused activation: %v", err)
		}
		// Without any code.
		q := e.adult(t, baDinh)
		e.approved(t, q)
		_, err = e.svc.Activate(context.Background(), activation(q, "123456"))
		wantField(t, err, "code")
	})
}

// TestActivateWrongCodes: five wrong codes make the code void, even for
// the right one after; a new code works.
func TestActivateWrongCodes(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		p := e.adult(t, baDinh)
		e.approved(t, p)
		code := e.startActivation(t, p)
		for i := range 5 {
			_, err := e.svc.Activate(context.Background(), activation(p, wrongCode(code)))
			wantField(t, err, "code")
			if got := e.otp(t, p.PID).Attempts; got != i+1 {
				t.Fatalf("after %d wrong codes %d attempts are counted", i+1, got)
			}
		}
		_, err := e.svc.Activate(context.Background(), activation(p, code))
		wantField(t, err, "code")
		if o, a := e.otp(t, p.PID), e.account(t, p.PID); o.Used || o.Attempts != 5 || a.State != eid.Approved {
			t.Fatalf("the right code after five wrong ones: code %+v, account %+v", o, a)
		}
		code = e.startActivation(t, p)
		if _, err := e.svc.Activate(context.Background(), activation(p, code)); err != nil {
			t.Fatalf("Activate with a new code: %v", err)
		}
	})
}

// TestActivateConcurrentGuesses: guesses sent together count like guesses
// sent one by one: no more than five are checked against a code.
func TestActivateConcurrentGuesses(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		if db.Dialect == sqldb.Postgres {
		}
		e := newEnv(t, db)
		p := e.adult(t, baDinh)
		e.approved(t, p)
		code := e.startActivation(t, p)
		const n = 12
		reasons := make([]string, n)
		var wg sync.WaitGroup
		ready := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-ready
				guess := wrongCode(code)
				for range i {
					guess = wrongCode(guess)
				}
				_, err := e.svc.Activate(context.Background(), activation(p, guess))
				reasons[i] = reason(err, "code")
			})
		}
		close(ready)
		wg.Wait()
		// One refusal for every guess, whatever befell it; the code's row
		// counts how many were compared: never more than five.
		for _, r := range reasons {
			if r != "wrong or expired code: ask for a new one" {
				t.Errorf("a wrong guess was answered %q", r)
			}
		}
		if got := e.otp(t, p.PID).Attempts; got != 5 {
			t.Errorf("of %d guesses sent together %d were compared with the code, want 5", n, got)
		}
		if _, err := e.svc.Activate(context.Background(), activation(p, code)); err == nil {
			t.Error("the right code worked after five wrong ones")
		}
	})
}

// TestActivateExpired: a code is valid for OTPTTL and not an instant more.
func TestActivateExpired(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		p, q := e.adult(t, baDinh), e.adult(t, baDinh)
		e.approved(t, p)
		e.approved(t, q)
		codeP, codeQ := e.startActivation(t, p), e.startActivation(t, q)

		e.clock.Advance(eid.OTPTTL)
		_, err := e.svc.Activate(context.Background(), activation(p, codeP))
		wantField(t, err, "code")
		if a := e.account(t, p.PID); a.State != eid.Approved || a.HasPassword {
			t.Errorf("an expired code changed the account: %+v", a)
		}
		// A fresh code works.
		if _, err := e.svc.Activate(context.Background(), activation(p, e.startActivation(t, p))); err != nil {
			t.Errorf("Activate with a fresh code: %v", err)
		}

		e.clock.Set(start.Add(eid.OTPTTL - time.Microsecond))
		if _, err := e.svc.Activate(context.Background(), activation(q, codeQ)); err != nil {
			t.Errorf("Activate just before the code expires: %v", err)
		}
	})
}

// TestStartActivationRate: three codes per account in 15 minutes.
func TestStartActivationRate(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		p := e.adult(t, baDinh)
		e.approved(t, p)
		for range 3 {
			e.startActivation(t, p)
			e.clock.Advance(time.Minute)
		}
		// A fourth request sends nothing, and says so no differently:
		// "too many" would tell that the account exists.
		if err := e.svc.StartActivation(context.Background(), p.PID, p.Phone); err != nil {
			t.Errorf("a fourth request: %v, want the usual answer", err)
		}
		if n, m := e.count(t, `SELECT COUNT(*) FROM eid_otp WHERE pid = $1`, p.PID), len(e.messages(t, p.Phone)); n != 3 || m != 1+3 {
			t.Errorf("%d codes stored and %d messages sent, want 3 codes and 4 messages (approval and codes)", n, m)
		}
		// The first code was sent at start: it counts until start+15m.
		e.clock.Set(start.Add(15*time.Minute - time.Microsecond))
		if err := e.svc.StartActivation(context.Background(), p.PID, p.Phone); err != nil || e.count(t, `SELECT COUNT(*) FROM eid_otp WHERE pid = $1`, p.PID) != 3 {
			t.Errorf("at the end of the window: %v; a code was sent", err)
		}
		e.clock.Set(start.Add(15 * time.Minute))
		code := e.startActivation(t, p)
		if _, err := e.svc.Activate(context.Background(), activation(p, code)); err != nil {
			t.Errorf("Activate with the code sent after the window: %v", err)
		}
	})
}

// TestActivationCredentials: the password (8–20 characters of four kinds)
// and the passcode (6 digits, not trivial) are checked before the code, and
// a refusal uses nothing up.
func TestActivationCredentials(t *testing.T) {
	twenty := "Đặng-Thị-Hoa-2026!!x"
	if utf8.RuneCountInString(twenty) != 20 {
		t.Fatalf("%q is not 20 characters", twenty)
	}
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		p := e.adult(t, baDinh)
		e.approved(t, p)
		code := e.startActivation(t, p)
		tests := []struct {
			name               string
			password, passcode string
			code               string
			fields             []string
		}{
			{"7 characters", "Ab1!efg", goodPasscode, code, []string{"password"}},
			{"21 characters", twenty + "y", goodPasscode, code, []string{"password"}},
			{"no upper case", "hoa-sen-2026", goodPasscode, code, []string{"password"}},
			{"no lower case", "HOA-SEN-2026", goodPasscode, code, []string{"password"}},
			{"no digit", "Hoa-sen-dep", goodPasscode, code, []string{"password"}},
			{"no special", "Hoasen2026", goodPasscode, code, []string{"password"}},
			{"one digit repeated", goodPassword, "111111", code, []string{"passcode"}},
			{"zeros", goodPassword, "000000", code, []string{"passcode"}},
			{"a run up", goodPassword, "123456", code, []string{"passcode"}},
			{"a run down", goodPassword, "987654", code, []string{"passcode"}},
			{"a run up to zero", goodPassword, "567890", code, []string{"passcode"}},
			{"a run down from zero", goodPassword, "098765", code, []string{"passcode"}},
			{"5 digits", goodPassword, "24681", code, []string{"passcode"}},
			{"7 digits", goodPassword, "2468135", code, []string{"passcode"}},
			{"letters", goodPassword, "24a813", code, []string{"passcode"}},
			{"short code", goodPassword, goodPasscode, "12345", []string{"code"}},
			{"everything", "short", "123456", "", []string{"code", "password", "passcode"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := e.svc.Activate(context.Background(), eid.Activation{PID: p.PID, Code: tt.code, Password: tt.password, Passcode: tt.passcode})
				wantKind(t, err, errs.Invalid)
				if got := fieldsOf(err); !slices.Equal(got, tt.fields) {
					t.Errorf("fields %v, want %v (%v)", got, tt.fields, err)
				}
			})
		}
		if o, a := e.otp(t, p.PID), e.account(t, p.PID); o.Attempts != 0 || o.Used || a.State != eid.Approved {
			t.Fatalf("refused credentials touched the code %+v or the account %+v", o, a)
		}
		// The limits themselves are accepted.
		if _, err := e.svc.Activate(context.Background(), eid.Activation{PID: p.PID, Code: code, Password: twenty, Passcode: "135792"}); err != nil {
			t.Fatalf("Activate with a 20-character password: %v", err)
		}
		if _, err := e.svc.Login(context.Background(), p.PID, twenty); err != nil {
			t.Errorf("Login with the 20-character password: %v", err)
		}
		q := e.adult(t, baDinh)
		e.approved(t, q)
		if _, err := e.svc.Activate(context.Background(), eid.Activation{PID: q.PID, Code: e.startActivation(t, q), Password: "Ab1!efgh", Passcode: "975318"}); err != nil {
			t.Fatalf("Activate with an 8-character password: %v", err)
		}
	})
}
