package dossier_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/adminunit"
	"github.com/dancu-vn/dancu/internal/audit"
	"github.com/dancu-vn/dancu/internal/codelist"
	"github.com/dancu-vn/dancu/internal/dossier"
	"github.com/dancu-vn/dancu/internal/eid"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/personalid"
	"github.com/dancu-vn/dancu/internal/registry"
	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/workday"
)

const (
	baDinh = "00004" // Phường Ba Đình, Hà Nội
	saiGon = "26740" // Phường Sài Gòn, TP Hồ Chí Minh
)

var vn = time.FixedZone("UTC+7", 7*3600)

// start: Monday 2 November 2026, 09:00 in Viet Nam.
var start = time.Date(2026, 11, 2, 9, 0, 0, 0, vn)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Set(t time.Time)     { c.mu.Lock(); defer c.mu.Unlock(); c.now = t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.now = c.now.Add(d) }

var (
	unitsOnce sync.Once
	units     *adminunit.Catalog
)

type env struct {
	db    *sqldb.DB
	reg   *registry.Service
	svc   *dossier.Service
	clock *clock
}

func newEnv(tb testing.TB, db *sqldb.DB) *env {
	tb.Helper()
	unitsOnce.Do(func() {
		var err error
		if units, err = adminunit.Load(); err != nil {
			panic(err)
		}
	})
	rec := audit.NewRecorder(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	tb.Cleanup(rec.Close)
	clk := &clock{now: start}
	policy := access.NewPolicy(units)
	reg := registry.NewService(db, units, codelist.New(), policy, rec, clk.Now)
	sealer, err := eid.NewSealer(bytes.Repeat([]byte{9}, 32))
	if err != nil {
		tb.Fatal(err)
	}
	return &env{db: db, reg: reg, svc: dossier.NewService(db, reg, policy, workday.Vietnam(), nil, sealer, clk.Now), clock: clk}
}

var seq atomic.Int64

// person registers a man born in 1990 with permanent residence in commune.
func (e *env) person(tb testing.TB, commune string, edit ...func(*registry.LegacyRecord)) string {
	tb.Helper()
	prefix, _ := personalid.Prefix("001", personalid.Male, 1990)
	rec := registry.LegacyRecord{PID: fmt.Sprintf("%s%06d", prefix, seq.Add(1)), Details: registry.Details{
		Name: registry.Name{Family: "Nguyễn", Middle: "Văn", Given: "An"}, BirthDate: "1990-05-17", Sex: personalid.Male,
		PermanentResidence: &registry.Address{Commune: commune, Detail: "số 12 ngõ 5"},
	}}
	for _, f := range edit {
		f(&rec)
	}
	if _, err := e.reg.RegisterExisting(sys(), rec); err != nil {
		tb.Fatalf("RegisterExisting: %v", err)
	}
	return rec.PID
}

func sys() context.Context { return actor.With(context.Background(), actor.SystemActor("test")) }

func citizen(pid string) context.Context {
	return actor.With(context.Background(), &actor.Actor{ID: pid, Kind: actor.Citizen, Name: pid})
}

func officer(commune string) context.Context {
	return actor.With(context.Background(), &actor.Actor{ID: "officer-" + commune, Kind: actor.Officer, Name: "officer " + commune,
		Role: actor.Registrar, Jurisdiction: actor.Jurisdiction{Level: actor.Commune, Code: commune}})
}

// form marshals a form.
func form(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// day is a civil date n days from the clock's start.
func day(n int) string { return start.AddDate(0, 0, n).Format(time.DateOnly) }

func temporaryForm(commune, until string) json.RawMessage {
	return form(map[string]any{"address": map[string]string{"commune": commune, "detail": "số 45 Lê Lợi"}, "until": until,
		"lawful_residence": "Hợp đồng thuê nhà số 12/2026"})
}

func (e *env) record(tb testing.TB, pid string) registry.Citizen {
	tb.Helper()
	c, err := e.reg.Get(sys(), pid, "test")
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func (e *env) count(tb testing.TB, q string, args ...any) int {
	tb.Helper()
	var n int
	if err := e.db.QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		tb.Fatalf("%s: %v", q, err)
	}
	return n
}

func wantKind(tb testing.TB, err error, k errs.Kind) {
	tb.Helper()
	if !errs.Is(err, k) {
		tb.Fatalf("error %v, want kind %s", err, k)
	}
}

func wantField(tb testing.TB, err error, field string) {
	tb.Helper()
	e, ok := err.(*errs.Error)
	if !ok || e.Kind != errs.Invalid {
		tb.Fatalf("error %v, want a field error on %s", err, field)
	}
	for _, f := range e.Fields {
		if f.Field == field {
			return
		}
	}
	tb.Fatalf("error %v names %v, not %s", err, e.Fields, field)
}

func itoa(n int) string { return strconv.Itoa(n) }
