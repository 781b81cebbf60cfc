package registry_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/adminunit"
	"github.com/dancu-vn/dancu/internal/audit"
	"github.com/dancu-vn/dancu/internal/codelist"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/personalid"
	"github.com/dancu-vn/dancu/internal/registry"
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

// unit finds a unit by its full name ("Phường Ba Đình") and insists the
// catalog knows it under exactly that name, so that no code in these tests
// is taken on trust.
func unit(tb testing.TB, s adminunit.Scheme, level adminunit.Level, fullName string) adminunit.Unit {
	tb.Helper()
	found := catalog(tb).Search(s, level, fullName, 1)
	if len(found) == 0 || found[0].FullName() != fullName {
		tb.Fatalf("no %s %s named %q in the %s scheme (found %v)", level, fullName, fullName, s, found)
	}
	return found[0]
}

// places are the real units the tests work with.
type places struct {
	hanoi, hcm adminunit.Unit // 2025 provinces
	baDinh     adminunit.Unit // 2025 commune in Hà Nội
	giangVo    adminunit.Unit // another 2025 commune in Hà Nội
	benThanh   adminunit.Unit // 2025 commune in Hồ Chí Minh City
	phucXa     adminunit.Unit // 2022 commune in Hà Nội
	phucXaNow  adminunit.Unit // the 2025 commune Phúc Xá became
}

func lookupPlaces(tb testing.TB) places {
	tb.Helper()
	s25, s22 := adminunit.Scheme2025, adminunit.Scheme2022
	p := places{
		hanoi:    unit(tb, s25, adminunit.LevelProvince, "Thành phố Hà Nội"),
		hcm:      unit(tb, s25, adminunit.LevelProvince, "Thành phố Hồ Chí Minh"),
		baDinh:   unit(tb, s25, adminunit.LevelCommune, "Phường Ba Đình"),
		giangVo:  unit(tb, s25, adminunit.LevelCommune, "Phường Giảng Võ"),
		benThanh: unit(tb, s25, adminunit.LevelCommune, "Phường Bến Thành"),
		phucXa:   unit(tb, s22, adminunit.LevelCommune, "Phường Phúc Xá"),
	}
	cur, ok := catalog(tb).Current(p.phucXa.Code)
	if !ok {
		tb.Fatalf("%v has no current commune", p.phucXa)
	}
	p.phucXaNow = cur
	for _, c := range []adminunit.Unit{p.baDinh, p.giangVo, p.phucXaNow} {
		if c.Province != p.hanoi.Code {
			tb.Fatalf("%v is not in %v", c, p.hanoi)
		}
	}
	if p.benThanh.Province != p.hcm.Code {
		tb.Fatalf("%v is not in %v", p.benThanh, p.hcm)
	}
	if p.phucXaNow.Code == p.baDinh.Code || p.phucXaNow.Code == p.giangVo.Code {
		tb.Fatalf("Phúc Xá became %v; the jurisdiction tests need a commune other than Ba Đình and Giảng Võ", p.phucXaNow)
	}
	return p
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

// env is one registry service over a fresh store.
type env struct {
	db    *sqldb.DB
	svc   *registry.Service
	units *adminunit.Catalog
	clock *clock
	p     places
}

func newEnv(tb testing.TB, db *sqldb.DB) *env {
	tb.Helper()
	units := catalog(tb)
	rec := audit.NewRecorder(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	tb.Cleanup(rec.Close)
	clk := &clock{now: start}
	svc := registry.NewService(db, units, codelist.New(), access.NewPolicy(units), rec, clk.Now)
	return &env{db: db, svc: svc, units: units, clock: clk, p: lookupPlaces(tb)}
}

var officerSeq atomic.Int64

// as returns a context carrying an officer of the given role and jurisdiction.
func as(role actor.Role, level actor.Level, code string) context.Context {
	id := fmt.Sprintf("officer-%d", officerSeq.Add(1))
	return actor.With(context.Background(), &actor.Actor{ID: id, Kind: actor.Officer, Name: "Cán bộ " + id,
		Role: role, Jurisdiction: actor.Jurisdiction{Level: level, Code: code}})
}

func communeRegistrar(u adminunit.Unit) context.Context {
	return as(actor.Registrar, actor.Commune, u.Code)
}

func provinceRegistrar(u adminunit.Unit) context.Context {
	return as(actor.Registrar, actor.Province, u.Code)
}

func nationalAdmin() context.Context { return as(actor.Admin, actor.National, "") }

func viewer() context.Context { return as(actor.Viewer, actor.National, "") }

func actorOf(ctx context.Context) *actor.Actor {
	a, _ := actor.From(ctx)
	return a
}

// person builds the details of someone living in commune; name is split into
// family name, middle names and given name.
func person(name, dob string, sex personalid.Sex, commune adminunit.Unit) registry.Details {
	w := strings.Fields(name)
	return registry.Details{
		Name:               registry.Name{Family: w[0], Middle: strings.Join(w[1:len(w)-1], " "), Given: w[len(w)-1]},
		BirthDate:          dob,
		Sex:                sex,
		PermanentResidence: &registry.Address{Commune: commune.Code, Detail: "số 12 ngõ 5"},
	}
}

var tailSeq atomic.Int64

// legacyPID returns a fresh number, registered in Hà Nội, that agrees with
// dob and sex.
func legacyPID(tb testing.TB, dob string, sex personalid.Sex) string {
	tb.Helper()
	year, err := strconv.Atoi(dob[:4])
	if err != nil {
		tb.Fatal(err)
	}
	prefix, err := personalid.Prefix("001", sex, year)
	if err != nil {
		tb.Fatal(err)
	}
	return fmt.Sprintf("%s%06d", prefix, tailSeq.Add(1))
}

// existing registers d from legacy data with a fresh number.
func (e *env) existing(tb testing.TB, ctx context.Context, d registry.Details) registry.Citizen {
	tb.Helper()
	c, err := e.svc.RegisterExisting(ctx, registry.LegacyRecord{PID: legacyPID(tb, d.BirthDate, d.Sex), Details: d})
	if err != nil {
		tb.Fatalf("RegisterExisting %s: %v", d.Name.Full(), err)
	}
	return c
}

// birth is a birth registered at the child's commune of residence.
func birth(name, dob string, sex personalid.Sex, commune adminunit.Unit) registry.BirthRegistration {
	d := person(name, dob, sex, commune)
	d.BirthRegistrationPlace = &registry.Address{Commune: commune.Code}
	return registry.BirthRegistration{Details: d}
}

func (e *env) get(tb testing.TB, pid personalid.Number) registry.Citizen {
	tb.Helper()
	c, err := e.svc.Get(nationalAdmin(), string(pid), "test")
	if err != nil {
		tb.Fatalf("Get %s: %v", pid, err)
	}
	return c
}

func (e *env) history(tb testing.TB, pid personalid.Number) []registry.Revision {
	tb.Helper()
	h, err := e.svc.History(nationalAdmin(), string(pid))
	if err != nil {
		tb.Fatalf("History %s: %v", pid, err)
	}
	return h
}

func count(tb testing.TB, db *sqldb.DB, query string, args ...any) int {
	tb.Helper()
	var n int
	if err := db.QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
	return n
}

// tables are the row counts of what a registration or change writes.
type tables struct{ citizen, issued, revisions, links, households int }

func (e *env) tables(tb testing.TB) tables {
	tb.Helper()
	return tables{
		citizen:    count(tb, e.db, `SELECT COUNT(*) FROM citizen`),
		issued:     count(tb, e.db, `SELECT COUNT(*) FROM pid_issued`),
		revisions:  count(tb, e.db, `SELECT COUNT(*) FROM citizen_revision`),
		links:      count(tb, e.db, `SELECT COUNT(*) FROM citizen_link`),
		households: count(tb, e.db, `SELECT COUNT(*) FROM household`),
	}
}

// unchanged fails unless the store holds what it held before.
func (e *env) unchanged(tb testing.TB, before tables) {
	tb.Helper()
	if after := e.tables(tb); after != before {
		tb.Fatalf("a refused request wrote to the store: before %+v, after %+v", before, after)
	}
}

func wantKind(tb testing.TB, err error, k errs.Kind) {
	tb.Helper()
	if err == nil {
		tb.Fatalf("got no error, want %s", k)
	}
	if got := errs.KindOf(err); got != k {
		tb.Fatalf("got %s error %q, want %s", got, err, k)
	}
}

// wantField fails unless err is Invalid and names field.
func wantField(tb testing.TB, err error, field string) {
	tb.Helper()
	wantKind(tb, err, errs.Invalid)
	var e *errs.Error
	errors.As(err, &e)
	if !slices.ContainsFunc(e.Fields, func(f errs.FieldError) bool { return f.Field == field }) {
		tb.Fatalf("error %q does not name field %s", err, field)
	}
}

func mustOK(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}
