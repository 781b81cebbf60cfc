package access_test

import (
	"context"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/eid"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

func code(tb testing.TB, secret string, at time.Time) string {
	tb.Helper()
	c, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func withSealer(tb testing.TB, e *env) {
	s, err := eid.NewSealer(make([]byte, 32))
	if err != nil {
		tb.Fatal(err)
	}
	e.svc.SetSealer(s)
}

// TestConsoleSecondFactor: a registrar cannot open a console session with
// the password alone; the first sign-in enrols an authenticator app, the
// next ones ask for its code, each code is accepted once, the ticket opens
// nothing by itself and expires, and the API login then asks for the code.
func TestConsoleSecondFactor(t *testing.T) {
	p := lookupPlaces(t)
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		withSealer(t, e)
		e.officer(t, "lan", actor.Registrar, actor.Jurisdiction{Level: actor.Commune, Code: p.baDinh.Code})
		ctx := context.Background()

		step, err := e.svc.ConsoleLogin(ctx, "lan", goodPassword)
		if err != nil {
			t.Fatal(err)
		}
		if step.Session != "" || step.Ticket == "" || !step.MustEnrol {
			t.Fatalf("first sign-in of a registrar: %+v, want a ticket that must enrol", step)
		}
		if _, err := e.svc.Authenticate(ctx, step.Ticket); !errs.Is(err, errs.Unauthenticated) {
			t.Fatalf("a pending ticket authenticated: %v", err)
		}
		if _, _, err := e.svc.CompleteLogin(ctx, step.Ticket, "123456"); err == nil {
			t.Fatal("a code was accepted before any app was set up")
		}
		enr, err := e.svc.StartEnrolment(ctx, step.Ticket)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.svc.CompleteLogin(ctx, step.Ticket, "000000"); !errs.Is(err, errs.Invalid) {
			t.Fatalf("a wrong code: %v, want invalid", err)
		}
		// Shown again after a mistyped code, the key is the one already scanned.
		if again, err := e.svc.StartEnrolment(ctx, step.Ticket); err != nil || again.Secret != enr.Secret {
			t.Fatalf("the enrolment shown again has another key (%v)", err)
		}
		secret, tok, err := e.svc.CompleteLogin(ctx, step.Ticket, code(t, enr.Secret, e.clock.Now()))
		if err != nil {
			t.Fatal(err)
		}
		if tok.Kind != "console" {
			t.Errorf("session kind %q", tok.Kind)
		}
		if _, err := e.svc.Authenticate(ctx, secret); err != nil {
			t.Fatalf("console session: %v", err)
		}
		if _, _, err := e.svc.CompleteLogin(ctx, step.Ticket, code(t, enr.Secret, e.clock.Now())); !errs.Is(err, errs.Unauthenticated) {
			t.Fatalf("a ticket used twice: %v", err)
		}
		if _, err := e.svc.StartEnrolment(ctx, step.Ticket); err == nil {
			t.Fatal("a used ticket enrolled a new app")
		}

		// The next sign-in asks for the code; the same code is not accepted twice.
		step, err = e.svc.ConsoleLogin(ctx, "lan", goodPassword)
		if err != nil || step.MustEnrol || step.Ticket == "" {
			t.Fatalf("second sign-in: %+v %v", step, err)
		}
		if _, err := e.svc.StartEnrolment(ctx, step.Ticket); !errs.Is(err, errs.Conflict) {
			t.Fatalf("enrolling over an app that is on: %v", err)
		}
		if _, _, err := e.svc.CompleteLogin(ctx, step.Ticket, code(t, enr.Secret, e.clock.Now())); !errs.Is(err, errs.Invalid) {
			t.Fatalf("a code used twice: %v", err)
		}
		e.clock.Advance(30 * time.Second)
		if _, _, err := e.svc.CompleteLogin(ctx, step.Ticket, code(t, enr.Secret, e.clock.Now())); err != nil {
			t.Fatalf("next step's code: %v", err)
		}

		// A ticket lasts PendingTTL.
		step, _ = e.svc.ConsoleLogin(ctx, "lan", goodPassword)
		e.clock.Advance(access.PendingTTL + time.Second)
		if _, _, err := e.svc.CompleteLogin(ctx, step.Ticket, code(t, enr.Secret, e.clock.Now())); !errs.Is(err, errs.Unauthenticated) {
			t.Fatalf("an expired ticket: %v", err)
		}

		// The API login of an officer with an app asks for its code.
		if _, _, err := e.svc.Login(ctx, "lan", goodPassword); !errs.Is(err, errs.Unauthenticated) {
			t.Fatalf("API login without the code: %v", err)
		}
		e.clock.Advance(30 * time.Second)
		if _, _, err := e.svc.LoginWithCode(ctx, "lan", goodPassword, code(t, enr.Secret, e.clock.Now())); err != nil {
			t.Fatalf("API login with the code: %v", err)
		}
	})
}

// TestConsoleSessionIdle: a console session ends after ConsoleIdle
// without use, and is kept alive by use; a viewer without an app signs in
// with the password alone; sign out everywhere and a second-factor reset
// end every session.
func TestConsoleSessionIdle(t *testing.T) {
	p := lookupPlaces(t)
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		withSealer(t, e)
		e.officer(t, "xem", actor.Viewer, actor.Jurisdiction{Level: actor.Commune, Code: p.baDinh.Code})
		admin := e.officer(t, "quantri", actor.Admin, actor.Jurisdiction{Level: actor.National})
		ctx := context.Background()
		step, err := e.svc.ConsoleLogin(ctx, "xem", goodPassword)
		if err != nil || step.Session == "" {
			t.Fatalf("viewer sign-in: %+v %v", step, err)
		}
		for range 3 {
			e.clock.Advance(access.ConsoleIdle - 2*time.Minute)
			if _, err := e.svc.Authenticate(ctx, step.Session); err != nil {
				t.Fatalf("a session in use ended: %v", err)
			}
		}
		e.clock.Advance(access.ConsoleIdle + time.Minute)
		if _, err := e.svc.Authenticate(ctx, step.Session); !errs.Is(err, errs.Unauthenticated) {
			t.Fatalf("an idle session still works: %v", err)
		}

		s1, _ := e.svc.ConsoleLogin(ctx, "xem", goodPassword)
		s2, _ := e.svc.ConsoleLogin(ctx, "xem", goodPassword)
		a, err := e.svc.Authenticate(ctx, s1.Session)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.svc.SignOutEverywhere(actor.With(ctx, a)); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Authenticate(ctx, s2.Session); err == nil {
			t.Fatal("sign out everywhere left a session")
		}

		s3, _ := e.svc.ConsoleLogin(ctx, "xem", goodPassword)
		if err := e.svc.ResetSecondFactor(as(admin), "xem"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Authenticate(ctx, s3.Session); err == nil {
			t.Fatal("a second-factor reset left a session")
		}
		if err := e.svc.ResetSecondFactor(actor.With(ctx, a), "quantri"); !errs.Is(err, errs.Forbidden) && !errs.Is(err, errs.Unauthenticated) {
			t.Fatalf("a viewer reset an admin's factor: %v", err)
		}
	})
}
