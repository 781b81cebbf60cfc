package access_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/adminunit"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/sqldb"
)

// The catalog is immutable, so one load serves the whole test binary.
var loadCatalog = sync.OnceValues(adminunit.Load)

func catalog(tb testing.TB) *adminunit.Catalog {
	tb.Helper()
	c, err := loadCatalog()
	if err != nil {
		tb.Fatalf("load administrative units: %v", err)
	}
	return c
}

// clock is a controllable time source: it stands still until advanced.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// start is when every test's clock starts: after the 2025 reform.
var start = time.Date(2025, 9, 15, 3, 0, 0, 0, time.UTC)

// goodPassword meets the policy and is what every test officer starts with.
const goodPassword = "Mật-khẩu-2025"

// env is one access service over a fresh store.
type env struct {
	db     *sqldb.DB
	svc    *access.Service
	policy *access.Policy
	clock  *clock
}

func newEnv(tb testing.TB, db *sqldb.DB) *env {
	tb.Helper()
	policy := access.NewPolicy(catalog(tb))
	clk := &clock{now: start}
	return &env{db: db, svc: access.NewService(db, policy, clk.Now), policy: policy, clock: clk}
}

// system is a context acting as the system.
func system() context.Context {
	return actor.With(context.Background(), actor.SystemActor("test"))
}

// as is a context acting as officer o, as Authenticate would describe them.
func as(o access.Officer) context.Context {
	return actor.With(context.Background(), &actor.Actor{ID: o.ID, Kind: actor.Officer, Name: o.Username,
		Role: o.Role, Jurisdiction: o.Jurisdiction})
}

// officer creates an account with goodPassword, as the system.
func (e *env) officer(tb testing.TB, username string, role actor.Role, j actor.Jurisdiction) access.Officer {
	tb.Helper()
	o, err := e.svc.CreateOfficer(system(), access.NewOfficer{Username: username, Role: role, Jurisdiction: j, Password: goodPassword})
	if err != nil {
		tb.Fatalf("CreateOfficer %s: %v", username, err)
	}
	return o
}

// login logs in and fails the test if it does not succeed.
func (e *env) login(tb testing.TB, username, password string) (string, access.Token) {
	tb.Helper()
	secret, tok, err := e.svc.Login(context.Background(), username, password)
	if err != nil {
		tb.Fatalf("Login %s: %v", username, err)
	}
	return secret, tok
}

// authenticated returns a context acting as the owner of secret.
func (e *env) authenticated(tb testing.TB, secret string) context.Context {
	tb.Helper()
	a, err := e.svc.Authenticate(context.Background(), secret)
	if err != nil {
		tb.Fatalf("Authenticate: %v", err)
	}
	return actor.With(context.Background(), a)
}

// count runs a COUNT(*) query.
func (e *env) count(tb testing.TB, query string, args ...any) int {
	tb.Helper()
	var n int
	if err := e.db.QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
	return n
}

// events counts the access_event rows of each action.
func (e *env) events(tb testing.TB, actions ...string) map[string]int {
	tb.Helper()
	m := map[string]int{}
	for _, a := range actions {
		m[a] = e.count(tb, `SELECT COUNT(*) FROM access_event WHERE action = $1`, a)
	}
	return m
}

var national = actor.Jurisdiction{Level: actor.National}

// wantKind fails the test unless err is of kind k.
func wantKind(tb testing.TB, err error, k errs.Kind) {
	tb.Helper()
	if err == nil {
		tb.Fatalf("got no error, want %s", k)
	}
	if got := errs.KindOf(err); got != k {
		tb.Fatalf("got %s error %q, want %s", got, err, k)
	}
}

// wantField fails the test unless err is Invalid and names field.
func wantField(tb testing.TB, err error, field string) {
	tb.Helper()
	wantKind(tb, err, errs.Invalid)
	var e *errs.Error
	errors.As(err, &e)
	if !slices.ContainsFunc(e.Fields, func(f errs.FieldError) bool { return f.Field == field }) {
		tb.Fatalf("error %q does not name field %q (fields %v)", err, field, e.Fields)
	}
}
