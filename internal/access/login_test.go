package access_test

import (
	"context"
	"reflect"
	"sync"
	"testing"
	"time"

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

func TestLoginLockout(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		e.officer(t, "lan", actor.Viewer, national)
		ctx := context.Background()
		fail := func(n int) {
			t.Helper()
			for range n {
				_, _, err := e.svc.Login(ctx, "lan", "Wrong-pass-1")
				wantKind(t, err, errs.Unauthenticated)
			}
		}
		locked := func() {
			t.Helper()
			_, _, err := e.svc.Login(ctx, "lan", goodPassword)
			wantKind(t, err, errs.TooMany)
		}

		fail(4)
		e.login(t, "lan", goodPassword) // four failures do not lock, and a success resets the count
		fail(4)
		e.login(t, "lan", goodPassword)

		fail(5)
		locked()
		e.clock.Advance(59 * time.Second)
		locked()
		e.clock.Advance(2 * time.Second)
		e.login(t, "lan", goodPassword)

		// Failures after a lock lock for longer each time: 1, 2, 4 minutes.
		fail(5)
		e.clock.Advance(61 * time.Second)
		fail(1) // sixth in a row
		e.clock.Advance(61 * time.Second)
		locked()
		e.clock.Advance(60 * time.Second)
		fail(1) // seventh
		e.clock.Advance(3*time.Minute + 59*time.Second)
		locked()
		e.clock.Advance(2 * time.Second)
		e.login(t, "lan", goodPassword)

		got := e.events(t, "login", "login_failed", "login_refused")
		if want := map[string]int{"login": 4, "login_failed": 4 + 4 + 5 + 5 + 2, "login_refused": 4}; got["login"] != want["login"] ||
			got["login_failed"] != want["login_failed"] || got["login_refused"] != want["login_refused"] {
			t.Errorf("events %v, want %v", got, want)
		}
	})
}

// The lock caps at an hour however many failures there were.
func TestLoginLockoutCap(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		e.officer(t, "lan", actor.Viewer, national)
		if _, err := db.ExecContext(context.Background(), `UPDATE officer SET failed_logins = 40 WHERE username = 'lan'`); err != nil {
			t.Fatal(err)
		}
		_, _, err := e.svc.Login(context.Background(), "lan", "Wrong-pass-1")
		wantKind(t, err, errs.Unauthenticated)
		e.clock.Advance(time.Hour - time.Second)
		_, _, err = e.svc.Login(context.Background(), "lan", goodPassword)
		wantKind(t, err, errs.TooMany)
		e.clock.Advance(2 * time.Second)
		e.login(t, "lan", goodPassword)
	})
}

// Failed logins that arrive together are all counted: an attacker cannot
// keep the counter down by guessing in parallel.
func TestLoginLockoutConcurrent(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		o := e.officer(t, "lan", actor.Viewer, national)
		const n = 6
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				_, _, err := e.svc.Login(context.Background(), "lan", "Wrong-pass-1")
				if !errs.Is(err, errs.Unauthenticated) && !errs.Is(err, errs.TooMany) {
					t.Errorf("Login: %v", err)
				}
			})
		}
		wg.Wait()
		failed := e.count(t, `SELECT failed_logins FROM officer WHERE id = $1`, o.ID)
		refused := e.count(t, `SELECT COUNT(*) FROM access_event WHERE action = 'login_refused'`)
		if failed+refused != n {
			t.Errorf("%d concurrent wrong passwords counted %d failures (%d refused as locked)", n, failed, refused)
		}
		_, _, err := e.svc.Login(context.Background(), "lan", goodPassword)
		wantKind(t, err, errs.TooMany)
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

func TestSetPassword(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		admin := e.officer(t, "admin", actor.Admin, national)
		e.officer(t, "lan", actor.Registrar, national)
		other := e.officer(t, "minh", actor.Registrar, national)
		session, _ := e.login(t, "lan", goodPassword)
		self := e.authenticated(t, session)
		api, _, err := e.svc.CreateToken(self, "script", 0)
		if err != nil {
			t.Fatal(err)
		}
		minhSession, _ := e.login(t, "minh", goodPassword)

		const newPassword = "Mật-khẩu-mới-2026"
		err = e.svc.SetPassword(self, "lan", "weak")
		wantField(t, err, "password")
		if err := e.svc.SetPassword(self, "lan", newPassword); err != nil {
			t.Fatalf("SetPassword by self: %v", err)
		}
		// Sessions end; API tokens for scripts stay; other officers are untouched.
		_, err = e.svc.Authenticate(context.Background(), session)
		wantKind(t, err, errs.Unauthenticated)
		if _, err := e.svc.Authenticate(context.Background(), api); err != nil {
			t.Errorf("API token after a password change: %v", err)
		}
		if _, err := e.svc.Authenticate(context.Background(), minhSession); err != nil {
			t.Errorf("another officer's session after a password change: %v", err)
		}
		_, _, err = e.svc.Login(context.Background(), "lan", goodPassword)
		wantKind(t, err, errs.Unauthenticated)
		e.login(t, "lan", newPassword)

		// Only an administrator changes someone else's password.
		err = e.svc.SetPassword(as(other), "lan", goodPassword)
		wantKind(t, err, errs.Forbidden)
		err = e.svc.SetPassword(context.Background(), "lan", goodPassword)
		wantKind(t, err, errs.Unauthenticated)
		if err := e.svc.SetPassword(as(admin), "LAN", goodPassword); err != nil {
			t.Fatalf("SetPassword by admin: %v", err)
		}
		e.login(t, "lan", goodPassword)
		if err := e.svc.SetPassword(system(), "lan", newPassword); err != nil {
			t.Fatalf("SetPassword by system: %v", err)
		}
		err = e.svc.SetPassword(system(), "nobody", goodPassword)
		wantKind(t, err, errs.NotFound)

		// A new password also lifts a lock.
		for range 5 {
			e.svc.Login(context.Background(), "lan", "Wrong-pass-1")
		}
		_, _, err = e.svc.Login(context.Background(), "lan", newPassword)
		wantKind(t, err, errs.TooMany)
		if err := e.svc.SetPassword(as(admin), "lan", goodPassword); err != nil {
			t.Fatal(err)
		}
		e.login(t, "lan", goodPassword)

		if n := e.events(t, "password_change")["password_change"]; n != 4 {
			t.Errorf("%d password_change events, want 4", n)
		}
	})
}
