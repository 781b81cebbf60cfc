package access_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

func TestLogin(t *testing.T) {
	p := lookupPlaces(t)
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		j := actor.Jurisdiction{Level: actor.Commune, Code: p.baDinh.Code}
		o := e.officer(t, "lan", actor.Registrar, j)

		secret, tok, err := e.svc.Login(context.Background(), " LAN ", goodPassword)
		if err != nil {
			t.Fatalf("Login: %v", err)
		}
		if tok.ID == "" || tok.Kind != "session" || !tok.CreatedAt.Equal(start) ||
			tok.ExpiresAt == nil || !tok.ExpiresAt.Equal(start.Add(access.SessionTTL)) || tok.RevokedAt != nil {
			t.Errorf("session token %+v", tok)
		}
		a, err := e.svc.Authenticate(context.Background(), secret)
		if err != nil {
			t.Fatalf("Authenticate: %v", err)
		}
		want := actor.Actor{ID: o.ID, Kind: actor.Officer, Name: "lan", Role: actor.Registrar, Jurisdiction: j, TokenID: tok.ID}
		if !reflect.DeepEqual(*a, want) {
			t.Errorf("Authenticate = %+v, want %+v", *a, want)
		}
		if got := e.events(t, "login", "login_failed", "login_refused"); got["login"] != 1 || got["login_failed"] != 0 || got["login_refused"] != 0 {
			t.Errorf("events after one login: %v", got)
		}

		// Each login is a new session.
		secret2, tok2 := e.login(t, "lan", goodPassword)
		if secret2 == secret || tok2.ID == tok.ID {
			t.Error("two logins share a token")
		}
	})
}

func TestLoginWrong(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		o := e.officer(t, "lan", actor.Viewer, national)
		ctx := context.Background()

		_, _, errWrong := e.svc.Login(ctx, "lan", "Wrong-pass-1")
		wantKind(t, errWrong, errs.Unauthenticated)
		_, _, errUnknown := e.svc.Login(ctx, "nobody", goodPassword)
		wantKind(t, errUnknown, errs.Unauthenticated)
		// The answers do not tell a wrong password from an unknown user.
		if errWrong.Error() != errUnknown.Error() {
			t.Errorf("wrong password says %q, unknown user says %q", errWrong, errUnknown)
		}
		_, _, err := e.svc.Login(ctx, "", "")
		wantKind(t, err, errs.Unauthenticated)

		if got := e.events(t, "login", "login_failed", "login_refused"); got["login"] != 0 || got["login_failed"] != 3 || got["login_refused"] != 0 {
			t.Errorf("events after three failed logins: %v", got)
		}
		// A failure against a real account is recorded against it.
		if n := e.count(t, `SELECT COUNT(*) FROM access_event WHERE action = 'login_failed' AND actor_id = $1`, o.ID); n != 1 {
			t.Errorf("%d failed logins recorded against %s, want 1", n, o.Username)
		}
		if n := e.count(t, `SELECT COUNT(*) FROM officer_token`); n != 0 {
			t.Errorf("%d tokens issued by failed logins", n)
		}
	})
}

func TestLoginDisabled(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		admin := e.officer(t, "admin", actor.Admin, national)
		o := e.officer(t, "lan", actor.Viewer, national)
		session, _ := e.login(t, "lan", goodPassword)
		api, _, err := e.svc.CreateToken(e.authenticated(t, session), "script", 0)
		if err != nil {
			t.Fatal(err)
		}

		if err := e.svc.SetDisabled(as(admin), "LAN", true); err != nil {
			t.Fatalf("SetDisabled: %v", err)
		}
		for name, s := range map[string]string{"session": session, "api": api} {
			_, err := e.svc.Authenticate(context.Background(), s)
			wantKind(t, err, errs.Unauthenticated)
			t.Logf("%s token of a disabled account: %v", name, err)
		}
		_, _, err = e.svc.Login(context.Background(), "lan", goodPassword)
		wantKind(t, err, errs.Unauthenticated)
		got, err := e.svc.OfficerByUsername(as(admin), "lan")
		if err != nil || !got.Disabled {
			t.Errorf("OfficerByUsername after disabling = %+v, %v", got, err)
		}
		_, _, err = e.svc.CreateTokenFor(system(), "lan", "cli", 0)
		wantKind(t, err, errs.NotFound)

		// Enabling lets the officer log in again, but old tokens stay revoked.
		if err := e.svc.SetDisabled(as(admin), "lan", false); err != nil {
			t.Fatalf("SetDisabled false: %v", err)
		}
		e.login(t, "lan", goodPassword)
		for _, s := range []string{session, api} {
			_, err := e.svc.Authenticate(context.Background(), s)
			wantKind(t, err, errs.Unauthenticated)
		}
		err = e.svc.SetDisabled(as(admin), "nobody", true)
		wantKind(t, err, errs.NotFound)

		ev := e.events(t, "login", "login_refused", "officer_disable", "officer_enable")
		if ev["login"] != 2 || ev["login_refused"] != 1 || ev["officer_disable"] != 1 || ev["officer_enable"] != 1 {
			t.Errorf("events %v", ev)
		}
		if n := e.count(t, `SELECT COUNT(*) FROM access_event WHERE action = 'login_refused' AND actor_id = $1`, o.ID); n != 1 {
			t.Errorf("%d refused logins recorded against the disabled officer, want 1", n)
		}
	})
}
