package eid_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
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
	"github.com/dancu-vn/dancu/internal/eid"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/personalid"
	"github.com/dancu-vn/dancu/internal/registry"
	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/workday"
)

// The communes the tests work with, in the current (2025) scheme. The
// catalog is asked to confirm each, so no code here is taken on trust.
const (
	baDinh = "00004" // Phường Ba Đình, Hà Nội
	ngocHa = "00008" // Phường Ngọc Hà, Hà Nội
	saiGon = "26740" // Phường Sài Gòn, Thành phố Hồ Chí Minh
	hanoi  = "01"    // the province Thành phố Hà Nội
)

var loadCatalog = sync.OnceValues(adminunit.Load)

func catalog(tb testing.TB) *adminunit.Catalog {
	tb.Helper()
	c, err := loadCatalog()
	if err != nil {
		tb.Fatalf("load administrative units: %v", err)
	}
	for code, want := range map[string]string{baDinh: "Phường Ba Đình", ngocHa: "Phường Ngọc Hà", saiGon: "Phường Sài Gòn"} {
		u, ok := c.Commune(adminunit.Scheme2025, code)
		if !ok || u.FullName() != want {
			tb.Fatalf("commune %s is %v (found %v), want %s", code, u, ok, want)
		}
	}
	return c
}

// vn is the zone deadlines are counted in.
var vn = time.FixedZone("UTC+7", 7*3600)

// start is when every test's clock starts: Friday 13 February 2026, 10:00
// in Viet Nam, the last working day before the Tết 2026 holiday (16–20
// February, with the weekends around it).
var start = time.Date(2026, 2, 13, 10, 0, 0, 0, vn)

// clock is a controllable time source: it stands still until moved.
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

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// env is a registry and an e-ID service over one fresh store, sharing a
// clock.
type env struct {
	db      *sqldb.DB
	reg     *registry.Service
	svc     *eid.Service
	sealer  *eid.Sealer
	clock   *clock
	gateway *capture
}

func newEnv(tb testing.TB, db *sqldb.DB) *env {
	tb.Helper()
	units := catalog(tb)
	rec := audit.NewRecorder(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	tb.Cleanup(rec.Close)
	clk := &clock{now: start}
	policy := access.NewPolicy(units)
	reg := registry.NewService(db, units, codelist.New(), policy, rec, clk.Now)
	sealer, err := eid.NewSealer(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		tb.Fatal(err)
	}
	svc := eid.NewService(db, reg, policy, workday.Vietnam(), nil, sealer, clk.Now)
	return &env{db: db, reg: reg, svc: svc, sealer: sealer, clock: clk, gateway: &capture{}}
}

// Actors.

func system() context.Context {
	return actor.With(context.Background(), actor.SystemActor("test"))
}

var officerSeq atomic.Int64

func officerAt(role actor.Role, level actor.Level, code string) context.Context {
	id := fmt.Sprintf("o%d", officerSeq.Add(1))
	return actor.With(context.Background(), &actor.Actor{ID: id, Kind: actor.Officer, Name: "lan " + id, Role: role,
		Jurisdiction: actor.Jurisdiction{Level: level, Code: code}})
}

// officer is a registrar (who holds eid:review) of a commune.
func officer(commune string) context.Context {
	return officerAt(actor.Registrar, actor.Commune, commune)
}

func nationalOfficer() context.Context { return officerAt(actor.Registrar, actor.National, "") }

// admin may read the outbox.
func admin() context.Context { return officerAt(actor.Admin, actor.National, "") }

func citizen(pid string) context.Context {
	return actor.With(context.Background(), &actor.Actor{ID: pid, Kind: actor.Citizen, Name: pid})
}

func from(source string) context.Context {
	return actor.With(context.Background(), &actor.Actor{ID: "anonymous", Kind: actor.Citizen, Name: "anonymous", Source: source})
}

func actorID(ctx context.Context) string {
	a, _ := actor.From(ctx)
	return a.ID
}

// People.

// person is someone in the registry, as they would fill in an application.
type person struct {
	PID, Name, BirthDate, Sex, Phone, Email, Commune string
}

var seq atomic.Int64

// provinceOf is the province part of a personal ID number for people of a
// commune.
func provinceOf(commune string) string {
	if commune == saiGon {
		return "079"
	}
	return "001"
}

// register records a person in the registry with a fresh personal ID number
// that agrees with the date of birth and sex; edit may change the record
// before it is stored (a status, another residence).
func (e *env) register(tb testing.TB, name, dob string, sex personalid.Sex, commune string, edit ...func(*registry.LegacyRecord)) person {
	tb.Helper()
	year, err := strconv.Atoi(dob[:4])
	if err != nil {
		tb.Fatal(err)
	}
	prefix, err := personalid.Prefix(provinceOf(commune), sex, year)
	if err != nil {
		tb.Fatal(err)
	}
	n := seq.Add(1)
	w := strings.Fields(name)
	rec := registry.LegacyRecord{PID: fmt.Sprintf("%s%06d", prefix, n), Details: registry.Details{
		Name:               registry.Name{Family: w[0], Middle: strings.Join(w[1:len(w)-1], " "), Given: w[len(w)-1]},
		BirthDate:          dob,
		Sex:                sex,
		PermanentResidence: &registry.Address{Commune: commune, Detail: "số 12 ngõ 5"},
	}}
	for _, f := range edit {
		f(&rec)
	}
	if _, err := e.reg.RegisterExisting(system(), rec); err != nil {
		tb.Fatalf("RegisterExisting %s: %v", name, err)
	}
	return person{PID: rec.PID, Name: name, BirthDate: dob, Sex: string(sex), Phone: fmt.Sprintf("09%08d", n),
		Email: fmt.Sprintf("p%d@example.vn", n), Commune: commune}
}

// adult is a man of 36 living in commune.
func (e *env) adult(tb testing.TB, commune string) person {
	tb.Helper()
	return e.register(tb, "Nguyễn Văn An", "1990-05-17", personalid.Male, commune)
}

// face is a valid portrait.
func face(data string) eid.Biometric {
	return eid.Biometric{Kind: "face", Format: "image/jpeg", Data: []byte(data)}
}

func finger(pos int, data string) eid.Biometric {
	return eid.Biometric{Kind: "fingerprint", Position: pos, Format: "ISO/IEC 19794-2:2005", Data: []byte(data)}
}

// selfApp is a correct online application of p.
func selfApp(p person) eid.SelfApplication {
	return eid.SelfApplication{PID: p.PID, Name: p.Name, BirthDate: p.BirthDate, Sex: p.Sex, Phone: p.Phone, Email: p.Email,
		Face: face("portrait of " + p.PID)}
}

// counterApp is a correct in-person application of p.
func counterApp(p person, card eid.CardStatus) eid.CounterApplication {
	return eid.CounterApplication{PID: p.PID, Phone: p.Phone, CardStatus: card,
		Biometrics: []eid.Biometric{face("portrait of " + p.PID), finger(1, "right thumb of "+p.PID), finger(6, "left thumb of "+p.PID)}}
}

func (e *env) applySelf(tb testing.TB, p person) eid.Application {
	tb.Helper()
	app, err := e.svc.ApplySelf(context.Background(), selfApp(p))
	if err != nil {
		tb.Fatalf("ApplySelf %s: %v", p.PID, err)
	}
	return app
}

func (e *env) applyCounter(tb testing.TB, ctx context.Context, p person, card eid.CardStatus) eid.Application {
	tb.Helper()
	app, err := e.svc.ApplyAtCounter(ctx, counterApp(p, card))
	if err != nil {
		tb.Fatalf("ApplyAtCounter %s: %v", p.PID, err)
	}
	return app
}

func (e *env) decide(tb testing.TB, ctx context.Context, id string, approve bool, reason string) eid.Application {
	tb.Helper()
	app, err := e.svc.Decide(ctx, id, approve, reason)
	if err != nil {
		tb.Fatalf("Decide %s: %v", id, err)
	}
	return app
}

// approved gives p an approved level-1 account waiting for activation.
func (e *env) approved(tb testing.TB, p person) {
	tb.Helper()
	app := e.applySelf(tb, p)
	e.decide(tb, officer(p.Commune), app.ID, true, "")
}

const (
	goodPassword = "Hoa-sen-2026"
	goodPasscode = "246813"
)

// active gives p an active level-1 account with goodPassword.
func (e *env) active(tb testing.TB, p person) {
	tb.Helper()
	e.approved(tb, p)
	code := e.startActivation(tb, p)
	if _, err := e.svc.Activate(context.Background(), eid.Activation{PID: p.PID, Code: code, Password: goodPassword, Passcode: goodPasscode}); err != nil {
		tb.Fatalf("Activate %s: %v", p.PID, err)
	}
}

// startActivation asks for a code and returns it, read from the outbox.
func (e *env) startActivation(tb testing.TB, p person) string {
	tb.Helper()
	if err := e.svc.StartActivation(context.Background(), p.PID, p.Phone); err != nil {
		tb.Fatalf("StartActivation %s: %v", p.PID, err)
	}
	return e.lastCode(tb, p.Phone)
}

var codePattern = regexp.MustCompile(`activation code is ([0-9]{6})\.`)

// lastCode is the code in the newest message to phone.
func (e *env) lastCode(tb testing.TB, phone string) string {
	tb.Helper()
	ms := e.messages(tb, phone)
	if len(ms) == 0 {
		tb.Fatalf("no message to %s", phone)
	}
	m := codePattern.FindStringSubmatch(ms[0].Body)
	if m == nil {
		tb.Fatalf("the newest message to %s holds no code: %q", phone, ms[0].Body)
	}
	return m[1]
}

// messages are those to recipient, newest first, as the message gateway
// received them: what is queued is handed over first.
func (e *env) messages(tb testing.TB, recipient string) []eid.Message {
	tb.Helper()
	if _, err := e.svc.DeliverMessages(context.Background(), e.gateway, 1000); err != nil {
		tb.Fatalf("DeliverMessages: %v", err)
	}
	return e.gateway.to(recipient)
}

// capture is a message gateway that keeps what it is given.
type capture struct {
	mu   sync.Mutex
	ids  []string
	msgs []eid.Message
	fail error // answer this instead of accepting
}

func (c *capture) Deliver(_ context.Context, id string, m eid.Message) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail != nil {
		return c.fail
	}
	c.ids = append(c.ids, id)
	c.msgs = append(c.msgs, m)
	return nil
}

func (c *capture) to(recipient string) []eid.Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []eid.Message
	for i := len(c.msgs) - 1; i >= 0; i-- {
		if c.msgs[i].Recipient == recipient {
			out = append(out, c.msgs[i])
		}
	}
	return out
}

// wrongCode is a 6-digit code other than code.
func wrongCode(code string) string {
	n, _ := strconv.Atoi(code)
	return fmt.Sprintf("%06d", (n+1)%1_000_000)
}

// The store as it is.

// row is an account as stored, with what Account does not show.
type row struct {
	State        eid.AccountState
	Level        int
	Reason       string
	Failed       int
	Epoch        int64
	Version      int64
	LockedUntil  *time.Time
	HasPassword  bool
	Phone, Email string
}

func (e *env) account(tb testing.TB, pid string) row {
	tb.Helper()
	var r row
	var locked sql.NullTime
	var pw string
	err := e.db.QueryRowContext(context.Background(), `SELECT state, level, state_reason, failed_logins, session_epoch, version, locked_until,
		password_hash, phone, email FROM eid_account WHERE pid = $1`, pid).
		Scan(&r.State, &r.Level, &r.Reason, &r.Failed, &r.Epoch, &r.Version, &locked, &pw, &r.Phone, &r.Email)
	if err != nil {
		tb.Fatalf("account %s: %v", pid, err)
	}
	if locked.Valid {
		t := locked.Time.UTC()
		r.LockedUntil = &t
	}
	r.HasPassword = pw != ""
	return r
}

func (e *env) count(tb testing.TB, query string, args ...any) int {
	tb.Helper()
	var n int
	if err := e.db.QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
	return n
}

// events counts the audit records of action about pid.
func (e *env) events(tb testing.TB, action, pid string) int {
	tb.Helper()
	return e.count(tb, `SELECT COUNT(*) FROM access_event WHERE action = $1 AND subject_pid = $2`, action, pid)
}

// stored counts what applying writes.
type stored struct{ applications, biometrics, accounts, messages int }

func (e *env) stored(tb testing.TB) stored {
	tb.Helper()
	return stored{
		applications: e.count(tb, `SELECT COUNT(*) FROM eid_application`),
		biometrics:   e.count(tb, `SELECT COUNT(*) FROM eid_biometric`),
		accounts:     e.count(tb, `SELECT COUNT(*) FROM eid_account`),
		messages:     e.count(tb, `SELECT COUNT(*) FROM outbox_message`),
	}
}

// Errors.

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

func fieldsOf(err error) []string {
	var e *errs.Error
	if !errors.As(err, &e) {
		return nil
	}
	var out []string
	for _, f := range e.Fields {
		out = append(out, f.Field)
	}
	return out
}
