package access_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

// from is an anonymous caller at addr, as the API describes a login.
func from(addr string) context.Context {
	return actor.With(context.Background(), &actor.Actor{ID: "anonymous", Name: "anonymous", Source: addr})
}

// answer is what a login attempt told its caller: the error kind and when
// to try again.
type answer struct {
	kind  string
	retry time.Duration
}

func (e *env) try(addr, username, password string) answer {
	_, _, err := e.svc.Login(from(addr), username, password)
	if err == nil {
		return answer{kind: "ok"}
	}
	return answer{kind: errs.KindOf(err).String(), retry: errs.RetryAfterOf(err)}
}

const wrongPassword = "Wrong-pass-1"

// Guessing one account from one address slows down by growing delays;
// a correct password is refused too while the delay lasts, but never after.
func TestThrottleGrowingDelays(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		e.officer(t, "lan", actor.Viewer, national)
		const a = "203.0.113.7"
		for i := range 4 {
			if got := e.try(a, "lan", wrongPassword); got.kind != "unauthenticated" {
				t.Fatalf("failure %d: %+v", i+1, got)
			}
		}
		// Four failures do not slow anything, and a success starts again.
		if got := e.try(a, "lan", goodPassword); got.kind != "ok" {
			t.Fatalf("after four failures: %+v", got)
		}
		for range 5 {
			e.try(a, "lan", wrongPassword)
		}
		// After the fifth: 30 s, then 1, 2, 4, 8 minutes, capped at 15.
		for _, d := range []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 15 * time.Minute, 15 * time.Minute} {
			got := e.try(a, "lan", goodPassword)
			if got.kind != "too many requests" || got.retry < d || got.retry > d+2*time.Second {
				t.Fatalf("refused for %s? got %+v", d, got)
			}
			e.clock.Advance(d - time.Second)
			if got := e.try(a, "lan", goodPassword); got.kind != "too many requests" {
				t.Fatalf("a second before the %s delay ends: %+v", d, got)
			}
			e.clock.Advance(time.Second)
			if got := e.try(a, "lan", wrongPassword); got.kind != "unauthenticated" {
				t.Fatalf("when the %s delay ends: %+v", d, got)
			}
		}
		e.clock.Advance(15 * time.Minute)
		if got := e.try(a, "lan", goodPassword); got.kind != "ok" {
			t.Fatalf("after the delay: %+v", got)
		}
		// Refused tries were recorded, and not counted as tries.
		if n := e.events(t, "login_refused")["login_refused"]; n != 14 {
			t.Errorf("%d refused logins recorded, want 14", n)
		}
	})
}

// Guessing from elsewhere never keeps the owner out: not from one address
// (which only slows that address), not from many (the owner's address,
// known from an earlier login, is not held up).
func TestThrottleOwnerNotLockedOut(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		e.officer(t, "admin2", actor.Admin, national)
		const owner = "198.51.100.1"
		if got := e.try(owner, "admin2", goodPassword); got.kind != "ok" {
			t.Fatal(got)
		}
		for i := range 60 {
			e.try("203.0.113.9", "admin2", wrongPassword)
			if i%5 == 4 {
				e.clock.Advance(16 * time.Minute)
			}
		}
		// And from 40 addresses, a few tries each.
		for i := range 40 {
			for range 3 {
				e.try(fmt.Sprintf("192.0.2.%d", i), "admin2", wrongPassword)
			}
		}
		if got := e.try(owner, "admin2", goodPassword); got.kind != "ok" {
			t.Fatalf("the owner after 180 failures elsewhere: %+v", got)
		}
		// A new address, though, is slowed down while the account is under
		// attack from many: that is the trade-off, stated in SECURITY.md.
		if got := e.try("192.0.2.200", "admin2", goodPassword); got.kind != "too many requests" {
			t.Fatalf("a new address while many guess: %+v", got)
		}
	})
}

// An unknown name and a known name with a wrong password get the same
// answers, delays included: the throttle tells nobody which names exist.
func TestThrottleUnknownLikeKnown(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		e.officer(t, "lan", actor.Viewer, national)
		var known, unknown []answer
		for i := range 12 {
			known = append(known, e.try("203.0.113.1", "lan", wrongPassword))
			unknown = append(unknown, e.try("203.0.113.2", "khong-co", wrongPassword))
			if i == 8 {
				e.clock.Advance(time.Minute)
			}
		}
		if fmt.Sprint(known) != fmt.Sprint(unknown) {
			t.Errorf("known name: %v\nunknown name: %v", known, unknown)
		}
		if known[5].kind != "too many requests" {
			t.Errorf("the sixth try was not slowed down: %v", known)
		}
	})
}

// Spraying many names from one address slows that address down, and no
// other.
func TestThrottleAddress(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		e.officer(t, "lan", actor.Viewer, national)
		const a = "203.0.113.50"
		for i := range access.DefaultThrottle.Address.Free {
			if got := e.try(a, fmt.Sprintf("name-%d", i), wrongPassword); got.kind != "unauthenticated" {
				t.Fatalf("try %d: %+v", i, got)
			}
		}
		if got := e.try(a, "lan", goodPassword); got.kind != "too many requests" || got.retry < time.Minute {
			t.Errorf("after %d failures from one address: %+v", access.DefaultThrottle.Address.Free, got)
		}
		if got := e.try("203.0.113.51", "lan", goodPassword); got.kind != "ok" {
			t.Errorf("another address: %+v", got)
		}
	})
}

// Tries made together are counted one after the other: no more passwords
// are compared than the rule allows.
func TestThrottleConcurrent(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		e.officer(t, "lan", actor.Viewer, national)
		const n = 16
		var wg sync.WaitGroup
		var mu sync.Mutex
		kinds := map[string]int{}
		for range n {
			wg.Go(func() {
				got := e.try("203.0.113.3", "lan", wrongPassword)
				mu.Lock()
				kinds[got.kind]++
				mu.Unlock()
			})
		}
		wg.Wait()
		if kinds["unauthenticated"] != access.DefaultThrottle.AccountAddress.Free || kinds["too many requests"] != n-access.DefaultThrottle.AccountAddress.Free {
			t.Errorf("%d concurrent tries answered %v, want %d compared", n, kinds, access.DefaultThrottle.AccountAddress.Free)
		}
	})
}

// A failed login that cannot be counted or recorded fails closed: not even
// the correct password logs in.
func TestLoginFailsClosed(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		e.officer(t, "lan", actor.Viewer, national)
		if _, err := db.ExecContext(context.Background(), `DROP TABLE login_throttle`); err != nil {
			t.Fatal(err)
		}
		_, _, err := e.svc.Login(from("203.0.113.4"), "lan", goodPassword)
		if err == nil || errs.KindOf(err) != errs.Internal {
			t.Fatalf("Login without its throttle: %v", err)
		}
		if n := e.count(t, `SELECT COUNT(*) FROM officer_token`); n != 0 {
			t.Errorf("%d tokens issued", n)
		}
	})
}

// A cancelled request still counts its failure: the client cannot hang
// up to escape the count.
func TestThrottleCountsCancelled(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		e.officer(t, "lan", actor.Viewer, national)
		for range 5 {
			ctx, cancel := context.WithCancel(from("203.0.113.5"))
			cancel()
			e.svc.Login(ctx, "lan", wrongPassword)
		}
		if got := e.try("203.0.113.5", "lan", goodPassword); got.kind != "too many requests" {
			t.Errorf("after five cancelled wrong tries: %+v", got)
		}
	})
}

func TestResetAndChangePassword(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		admin := e.officer(t, "admin", actor.Admin, national)
		e.officer(t, "lan", actor.Registrar, national)
		other := e.officer(t, "minh", actor.Registrar, national)
		session, _ := e.login(t, "lan", goodPassword)
		self := e.authenticated(t, session)
		second, _ := e.login(t, "lan", goodPassword)
		api, _, err := e.svc.CreateToken(self, "script", 0)
		if err != nil {
			t.Fatal(err)
		}
		minhSession, _ := e.login(t, "minh", goodPassword)
		const newPassword = "Mật-khẩu-mới-2026"

		// Changing one's own password asks for the current one.
		wantField(t, e.svc.ChangeOwnPassword(self, "Not-the-one-1", newPassword), "current_password")
		wantField(t, e.svc.ChangeOwnPassword(self, goodPassword, "weak"), "password")
		if err := e.svc.ChangeOwnPassword(self, goodPassword, newPassword); err != nil {
			t.Fatalf("ChangeOwnPassword: %v", err)
		}
		// The session it came from goes on; every other session and token ends.
		if _, err := e.svc.Authenticate(context.Background(), session); err != nil {
			t.Errorf("the changing session: %v", err)
		}
		for name, s := range map[string]string{"second session": second, "API token": api} {
			if _, err := e.svc.Authenticate(context.Background(), s); !errs.Is(err, errs.Unauthenticated) {
				t.Errorf("%s after a password change: %v", name, err)
			}
		}
		if _, err := e.svc.Authenticate(context.Background(), minhSession); err != nil {
			t.Errorf("another officer's session: %v", err)
		}
		if got := e.try("", "lan", goodPassword); got.kind != "unauthenticated" {
			t.Errorf("the old password: %+v", got)
		}

		// A reset is for administrators, and ends every session and token.
		wantKind(t, e.svc.ResetPassword(as(other), "lan", goodPassword), errs.Forbidden)
		wantKind(t, e.svc.ResetPassword(context.Background(), "lan", goodPassword), errs.Unauthenticated)
		wantKind(t, e.svc.ResetPassword(as(admin), "admin", goodPassword), errs.Forbidden) // own: with the current one
		wantKind(t, e.svc.ResetPassword(system(), "nobody", goodPassword), errs.NotFound)
		if err := e.svc.ResetPassword(as(admin), "LAN", goodPassword); err != nil {
			t.Fatalf("ResetPassword: %v", err)
		}
		if _, err := e.svc.Authenticate(context.Background(), session); !errs.Is(err, errs.Unauthenticated) {
			t.Errorf("a session after a reset: %v", err)
		}
		// A reset also clears the delays counted against the name.
		for range 6 {
			e.try("203.0.113.6", "lan", wrongPassword)
		}
		if got := e.try("203.0.113.6", "lan", goodPassword); got.kind != "too many requests" {
			t.Fatalf("after six failures: %+v", got)
		}
		if err := e.svc.ResetPassword(system(), "lan", newPassword); err != nil {
			t.Fatal(err)
		}
		if got := e.try("203.0.113.6", "lan", newPassword); got.kind != "ok" {
			t.Errorf("after a reset: %+v", got)
		}
		ev := e.events(t, "password_change", "password_reset", "password_change_refused")
		if ev["password_change"] != 1 || ev["password_reset"] != 2 || ev["password_change_refused"] != 1 {
			t.Errorf("events %v", ev)
		}
	})
}

func TestUpdateOfficerRevokes(t *testing.T) {
	p := lookupPlaces(t)
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		admin := e.officer(t, "admin", actor.Admin, national)
		lan := e.officer(t, "lan", actor.Registrar, national)
		session, _ := e.login(t, "lan", goodPassword)
		api, _, err := e.svc.CreateToken(e.authenticated(t, session), "script", 0)
		if err != nil {
			t.Fatal(err)
		}
		name := "Nguyễn Thị Lan"
		o, err := e.svc.UpdateOfficer(as(admin), "lan", access.OfficerChange{DisplayName: &name})
		if err != nil || o.DisplayName != name {
			t.Fatalf("UpdateOfficer name: %+v, %v", o, err)
		}
		// A new name leaves the tokens alone.
		if _, err := e.svc.Authenticate(context.Background(), api); err != nil {
			t.Errorf("token after a name change: %v", err)
		}
		wantKind(t, func() error {
			_, err := e.svc.UpdateOfficer(as(lan), "lan", access.OfficerChange{DisplayName: &name})
			return err
		}(), errs.Forbidden)
		bad := actor.Role("chief")
		wantField(t, func() error {
			_, err := e.svc.UpdateOfficer(as(admin), "lan", access.OfficerChange{Role: &bad})
			return err
		}(), "role")

		// A narrower jurisdiction ends every token, so none goes on with
		// the national powers.
		j := actor.Jurisdiction{Level: actor.Commune, Code: p.baDinh.Code}
		o, err = e.svc.UpdateOfficer(as(admin), "lan", access.OfficerChange{Jurisdiction: &j})
		if err != nil || o.Jurisdiction != j {
			t.Fatalf("UpdateOfficer jurisdiction: %+v, %v", o, err)
		}
		for name, s := range map[string]string{"session": session, "API token": api} {
			if _, err := e.svc.Authenticate(context.Background(), s); !errs.Is(err, errs.Unauthenticated) {
				t.Errorf("%s after a jurisdiction change: %v", name, err)
			}
		}
		s2, _ := e.login(t, "lan", goodPassword)
		a, _ := e.svc.Authenticate(context.Background(), s2)
		if a.Jurisdiction != j {
			t.Errorf("new session's jurisdiction %+v", a.Jurisdiction)
		}
		viewer := actor.Viewer
		if _, err := e.svc.UpdateOfficer(as(admin), "lan", access.OfficerChange{Role: &viewer}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Authenticate(context.Background(), s2); !errs.Is(err, errs.Unauthenticated) {
			t.Errorf("session after a role change: %v", err)
		}
		// An administrator does not change their own powers.
		wantKind(t, func() error {
			_, err := e.svc.UpdateOfficer(as(admin), "admin", access.OfficerChange{Role: &viewer})
			return err
		}(), errs.Forbidden)
	})
}

// API tokens always expire, and tokens made without an expiry before the
// rule are held to the longest lifetime.
func TestTokenLifetime(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		e.officer(t, "lan", actor.Viewer, national)
		session, _ := e.login(t, "lan", goodPassword)
		self := e.authenticated(t, session)
		_, tok, err := e.svc.CreateToken(self, "script", 0)
		if err != nil || tok.ExpiresAt == nil || !tok.ExpiresAt.Equal(e.clock.Now().UTC().Add(access.DefaultTokenTTL)) {
			t.Fatalf("token without a lifetime: %+v, %v", tok, err)
		}
		_, _, err = e.svc.CreateToken(self, "script", access.MaxTokenTTL+time.Second)
		wantField(t, err, "ttl")
		_, _, err = e.svc.CreateTokenFor(system(), "lan", "cli", 100*24*time.Hour)
		wantField(t, err, "ttl")

		old, tok, err := e.svc.CreateToken(self, "old", access.MaxTokenTTL)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(context.Background(), `UPDATE officer_token SET expires_at = NULL WHERE id = $1`, tok.ID); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(access.MaxTokenTTL - time.Minute)
		if _, err := e.svc.Authenticate(context.Background(), old); err != nil {
			t.Fatalf("before the longest lifetime: %v", err)
		}
		e.clock.Advance(time.Minute)
		if _, err := e.svc.Authenticate(context.Background(), old); !errs.Is(err, errs.Unauthenticated) {
			t.Errorf("a token without expiry after %s: %v", access.MaxTokenTTL, err)
		}
	})
}

// Sweep forgets keys whose window has passed, and only those.
func TestThrottleSweep(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		e.try("203.0.113.20", "a", wrongPassword)
		e.clock.Advance(23 * time.Hour)
		e.try("203.0.113.21", "b", wrongPassword)
		if err := e.svc.SweepThrottle(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n := e.count(t, `SELECT COUNT(*) FROM login_throttle`); n != 6 {
			t.Errorf("%d keys before any window passed, want 6", n)
		}
		e.clock.Advance(2 * time.Hour)
		if err := e.svc.SweepThrottle(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n := e.count(t, `SELECT COUNT(*) FROM login_throttle`); n != 3 {
			t.Errorf("%d keys after the first try's windows passed, want 3", n)
		}
	})
}

// With a key (as serve sets one), the table holds HMACs, not hashes anyone
// could recompute from a guessed name; the rules work the same.
func TestThrottleKeyed(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		e.svc.KeyThrottle([]byte("a deployment secret"))
		e.officer(t, "lan", actor.Viewer, national)
		for range 5 {
			e.try("203.0.113.30", "lan", wrongPassword)
		}
		if got := e.try("203.0.113.30", "lan", goodPassword); got.kind != "too many requests" {
			t.Errorf("keyed throttle after five failures: %+v", got)
		}
		unkeyed := access.NewThrottle(db, access.DefaultThrottle, e.clock.Now)
		a, err := unkeyed.Begin(from("203.0.113.30"), "officer", "lan", "203.0.113.30")
		if err != nil {
			t.Errorf("the unkeyed hashes found the keyed rows: %v", err)
		} else {
			a.Succeeded(context.Background())
		}
	})
}
