package eid_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/eid"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/personalid"
	"github.com/dancu-vn/dancu/internal/registry"
	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

// TestApplySelfInput: every malformed field of an online application is
// named, and nothing is stored.
func TestApplySelfInput(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		p := e.adult(t, baDinh)
		tests := []struct {
			name   string
			edit   func(*eid.SelfApplication)
			fields []string
		}{
			{"bad number", func(a *eid.SelfApplication) { a.PID = "00109012345" }, []string{"pid"}},
			{"no name", func(a *eid.SelfApplication) { a.Name = "  " }, []string{"name"}},
			{"bad date", func(a *eid.SelfApplication) { a.BirthDate = "17/05/1990" }, []string{"birth_date"}},
			{"bad sex", func(a *eid.SelfApplication) { a.Sex = "m" }, []string{"sex"}},
			{"landline", func(a *eid.SelfApplication) { a.Phone = "0243825 1234" }, []string{"phone"}},
			{"no e-mail", func(a *eid.SelfApplication) { a.Email = "" }, []string{"email"}},
			{"bad e-mail", func(a *eid.SelfApplication) { a.Email = "An <an@example.vn>" }, []string{"email"}},
			{"fingerprint for a face", func(a *eid.SelfApplication) { a.Face = finger(1, "x") }, []string{"face.kind"}},
			{"face at a finger position", func(a *eid.SelfApplication) { a.Face.Position = 3 }, []string{"face.position"}},
			{"gif", func(a *eid.SelfApplication) { a.Face.Format = "image/gif" }, []string{"face.format"}},
			{"no photo", func(a *eid.SelfApplication) { a.Face.Data = nil }, []string{"face.data"}},
			{"huge photo", func(a *eid.SelfApplication) { a.Face.Data = make([]byte, 2_000_001) }, []string{"face.data"}},
			{"several", func(a *eid.SelfApplication) { a.Name, a.Sex = "", "" }, []string{"name", "sex"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				in := selfApp(p)
				tt.edit(&in)
				_, err := e.svc.ApplySelf(context.Background(), in)
				wantKind(t, err, errs.Invalid)
				if got := fieldsOf(err); !slices.Equal(got, tt.fields) {
					t.Errorf("fields %v, want %v (%v)", got, tt.fields, err)
				}
			})
		}
		if s := e.stored(t); s != (stored{}) {
			t.Errorf("refused applications stored %+v", s)
		}
	})
}

// TestApplySelfRegistryCheck: an application that does not match the
// registry is refused without saying which detail differs, and leaves
// nothing behind; names match regardless of case, spacing and Unicode form.
func TestApplySelfRegistryCheck(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		p := e.register(t, "Lê Thị Hồng Nhung", "1992-11-03", personalid.Female, baDinh)
		unknown, _ := personalid.Prefix("001", personalid.Female, 1992)
		var first string
		for name, edit := range map[string]func(*eid.SelfApplication){
			"unknown number":           func(a *eid.SelfApplication) { a.PID = unknown + "999999" },
			"another name":             func(a *eid.SelfApplication) { a.Name = "Lê Thị Hồng Nhân" },
			"name without diacritics":  func(a *eid.SelfApplication) { a.Name = "Le Thi Hong Nhung" },
			"another date of birth":    func(a *eid.SelfApplication) { a.BirthDate = "1992-11-04" },
			"another sex":              func(a *eid.SelfApplication) { a.Sex = "male" },
			"name and date both wrong": func(a *eid.SelfApplication) { a.Name, a.BirthDate = "Lê Văn Nam", "1992-01-01" },
		} {
			in := selfApp(p)
			edit(&in)
			_, err := e.svc.ApplySelf(context.Background(), in)
			wantKind(t, err, errs.Invalid)
			if len(fieldsOf(err)) != 0 {
				t.Errorf("%s: the refusal names fields %v, telling which detail differs", name, fieldsOf(err))
			}
			if first == "" {
				first = err.Error()
			} else if err.Error() != first {
				t.Errorf("%s: refused with %q, another mismatch with %q", name, err, first)
			}
		}
		if s := e.stored(t); s != (stored{}) {
			t.Errorf("refused applications stored %+v", s)
		}

		// Case, spacing and decomposed diacritics do not matter.
		in := selfApp(p)
		in.Name = norm.NFD.String("  lê THỊ  hồng nhung ")
		in.Phone = "+84 " + p.Phone[1:4] + " " + p.Phone[4:]
		app, err := e.svc.ApplySelf(context.Background(), in)
		if err != nil {
			t.Fatalf("ApplySelf with the name typed differently: %v", err)
		}
		if app.Phone != p.Phone {
			t.Errorf("phone stored as %q, want %q", app.Phone, p.Phone)
		}
	})
}

// TestApplySelfAge: a child under 14 cannot hold an account; the age is
// counted on the date in Viet Nam.
func TestApplySelfAge(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		child := e.register(t, "Phạm Minh Khôi", "2015-06-01", personalid.Male, baDinh)
		_, err := e.svc.ApplySelf(context.Background(), selfApp(child))
		wantRefused(t, err)

		today := e.register(t, "Phạm Thu Trang", "2012-02-13", personalid.Female, baDinh)   // 14 on 13 February 2026
		tomorrow := e.register(t, "Phạm Thu Hằng", "2012-02-14", personalid.Female, baDinh) // 14 on 14 February 2026
		e.applySelf(t, today)
		_, err = e.svc.ApplySelf(context.Background(), selfApp(tomorrow))
		wantRefused(t, err)
		if n := e.count(t, `SELECT COUNT(*) FROM eid_application`); n != 1 {
			t.Fatalf("%d applications stored, want 1", n)
		}
		// 23:59:59 on 13 February in Viet Nam is still too early ...
		e.clock.Set(time.Date(2026, 2, 13, 23, 59, 59, 0, vn))
		_, err = e.svc.ApplySelf(context.Background(), selfApp(tomorrow))
		wantRefused(t, err)
		// ... midnight in Viet Nam (17:00 UTC) is the birthday.
		e.clock.Set(time.Date(2026, 2, 13, 17, 0, 0, 0, time.UTC))
		e.applySelf(t, tomorrow)
	})
}

// TestApplyNotAlive: the dead and the missing cannot apply, online or at
// the counter.
func TestApplyNotAlive(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		for _, status := range []registry.Status{registry.Dead, registry.Missing} {
			p := e.register(t, "Hoàng Văn Thái", "1950-08-19", personalid.Male, baDinh, func(r *registry.LegacyRecord) {
				r.Status, r.StatusDate = status, "2025-12-01"
			})
			_, err := e.svc.ApplySelf(context.Background(), selfApp(p))
			wantRefused(t, err)
			_, err = e.svc.ApplyAtCounter(officer(baDinh), counterApp(p, eid.CardValid))
			wantKind(t, err, errs.Conflict)
		}
		if s := e.stored(t); s != (stored{}) {
			t.Errorf("refused applications stored %+v", s)
		}
	})
}

// TestApprove: an approved level-1 application creates an account waiting
// for activation, and the citizen is told by SMS.
func TestApprove(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		p := e.adult(t, baDinh)
		app := e.applySelf(t, p)
		want := eid.Application{ID: app.ID, PID: p.PID, Level: eid.Level1, Channel: "self", State: eid.Submitted, Phone: p.Phone, Email: p.Email,
			CardStatus: eid.CardNone, Commune: baDinh, SubmittedAt: start.UTC(), DueAt: time.Date(2026, 2, 24, 0, 0, 0, 0, vn).UTC()}
		if app.ID == "" || !sameApp(app, want) {
			t.Errorf("ApplySelf =\n%+v, want\n%+v", app, want)
		}
		if got, err := e.svc.Application(citizen(p.PID), app.ID); err != nil || !sameApp(got, want) {
			t.Errorf("Application by the applicant =\n%+v, %v; want\n%+v", got, err, want)
		}
		if n := e.events(t, "eid_apply", p.PID); n != 1 {
			t.Errorf("%d eid_apply events, want 1", n)
		}

		e.clock.Advance(2 * time.Hour)
		o := officer(baDinh)
		got := e.decide(t, o, app.ID, true, "")
		decided := start.Add(2 * time.Hour).UTC()
		want.State, want.DecidedAt, want.DecidedBy = eid.Accepted, &decided, actorID(o)
		if !sameApp(got, want) {
			t.Errorf("Decide =\n%+v, want\n%+v", got, want)
		}
		if got, err := e.svc.Application(nationalOfficer(), app.ID); err != nil || !sameApp(got, want) {
			t.Errorf("Application by an officer =\n%+v, %v; want\n%+v", got, err, want)
		}
		acc := e.account(t, p.PID)
		if acc.State != eid.Approved || acc.Level != 1 || acc.Phone != p.Phone || acc.Email != p.Email || acc.Version != 1 || acc.HasPassword {
			t.Errorf("account after approval: %+v", acc)
		}
		ms := e.messages(t, p.Phone)
		if len(ms) != 1 || ms[0].Channel != "sms" || !strings.Contains(ms[0].Body, "approved") || !strings.Contains(ms[0].Body, p.PID) {
			t.Errorf("messages to %s after approval: %+v", p.Phone, ms)
		}
		if n := e.events(t, "eid_approved", p.PID); n != 1 {
			t.Errorf("%d eid_approved events, want 1", n)
		}
		// The outbox is for administrators.
		_, err := e.svc.Messages(officer(baDinh), p.Phone, 10)
		wantKind(t, err, errs.Forbidden)
	})
}

// sameApp compares applications, times by instant.
func sameApp(a, b eid.Application) bool {
	if !a.SubmittedAt.Equal(b.SubmittedAt) || !a.DueAt.Equal(b.DueAt) ||
		(a.DecidedAt == nil) != (b.DecidedAt == nil) || (a.DecidedAt != nil && !a.DecidedAt.Equal(*b.DecidedAt)) {
		return false
	}
	a.SubmittedAt, a.DueAt, a.DecidedAt = time.Time{}, time.Time{}, nil
	b.SubmittedAt, b.DueAt, b.DecidedAt = time.Time{}, time.Time{}, nil
	return a == b
}

// TestReject: a rejection needs a reason, creates no account and tells the
// citizen why.
func TestReject(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		p := e.adult(t, baDinh)
		app := e.applySelf(t, p)
		for _, reason := range []string{"", "  \t "} {
			_, err := e.svc.Decide(officer(baDinh), app.ID, false, reason)
			wantField(t, err, "reason")
		}
		got := e.decide(t, officer(baDinh), app.ID, false, " the portrait is not of the applicant ")
		if got.State != eid.Rejected || got.Reason != "the portrait is not of the applicant" || got.DecidedAt == nil {
			t.Errorf("Decide reject = %+v", got)
		}
		if n := e.count(t, `SELECT COUNT(*) FROM eid_account`); n != 0 {
			t.Errorf("%d accounts after a rejection", n)
		}
		ms := e.messages(t, p.Phone)
		if len(ms) != 1 || !strings.Contains(ms[0].Body, "rejected: the portrait is not of the applicant") {
			t.Errorf("messages after rejection: %+v", ms)
		}
		// A rejected applicant may apply again.
		e.applySelf(t, p)
	})
}

// TestDecideTwice: a decided application cannot be decided again either way.
func TestDecideTwice(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		for _, first := range []bool{true, false} {
			p := e.adult(t, baDinh)
			app := e.applySelf(t, p)
			e.decide(t, officer(baDinh), app.ID, first, "not the applicant")
			before := e.stored(t)
			for _, again := range []bool{true, false} {
				_, err := e.svc.Decide(nationalOfficer(), app.ID, again, "second thoughts")
				wantKind(t, err, errs.Conflict)
			}
			if after := e.stored(t); after != before {
				t.Errorf("a refused decision wrote: before %+v, after %+v", before, after)
			}
			if got, _ := e.svc.Application(nationalOfficer(), app.ID); got.Reason == "second thoughts" {
				t.Errorf("a refused decision changed the application: %+v", got)
			}
		}
		_, err := e.svc.Decide(nationalOfficer(), "0198c0de-0000-7000-8000-000000000000", true, "")
		wantKind(t, err, errs.NotFound)
	})
}

// TestDecideConcurrent: of two decisions on one application taken at the
// same time exactly one wins; the loser changes nothing.
func TestDecideConcurrent(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		for round := range 5 {
			p := e.adult(t, baDinh)
			app := e.applySelf(t, p)
			approve := []bool{true, round%2 == 0} // approve against approve, then approve against reject
			errList := make([]error, len(approve))
			results := make([]eid.Application, len(approve))
			var wg sync.WaitGroup
			ready := make(chan struct{})
			for i, a := range approve {
				wg.Go(func() {
					<-ready
					results[i], errList[i] = e.svc.Decide(officer(baDinh), app.ID, a, "duplicate application")
				})
			}
			close(ready)
			wg.Wait()
			var won []int
			for i, err := range errList {
				if err == nil {
					won = append(won, i)
				} else if !errs.Is(err, errs.Conflict) {
					t.Errorf("round %d: the losing Decide failed with %v, want conflict", round, err)
				}
			}
			if len(won) != 1 {
				t.Fatalf("round %d: %d decisions succeeded (%v), want exactly 1", round, len(won), errList)
			}
			w := results[won[0]]
			got, _ := e.svc.Application(nationalOfficer(), app.ID)
			if got.State != w.State || got.DecidedBy != w.DecidedBy {
				t.Errorf("round %d: stored %s by %s, the winner decided %s by %s", round, got.State, got.DecidedBy, w.State, w.DecidedBy)
			}
			wantAccounts := 0
			if w.State == eid.Accepted {
				wantAccounts = 1
			}
			if n := e.count(t, `SELECT COUNT(*) FROM eid_account WHERE pid = $1`, p.PID); n != wantAccounts {
				t.Errorf("round %d: %d accounts, want %d", round, n, wantAccounts)
			}
			if n := len(e.messages(t, p.Phone)); n != 1 {
				t.Errorf("round %d: %d messages, want 1", round, n)
			}
			if n := e.events(t, "eid_approved", p.PID) + e.events(t, "eid_rejected", p.PID); n != 1 {
				t.Errorf("round %d: %d decision events, want 1", round, n)
			}
		}
	})
}

// TestDecideJurisdiction: the deciding officer must cover the applicant's
// commune of permanent residence and hold eid:review.
func TestDecideJurisdiction(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		p := e.adult(t, baDinh)
		app := e.applySelf(t, p)
		for name, ctx := range map[string]context.Context{
			"another commune":       officer(ngocHa),
			"another province":      officer(saiGon),
			"another province head": officerAt(actor.Registrar, actor.Province, "79"),
			"a viewer":              officerAt(actor.Viewer, actor.National, ""),
			"the applicant":         citizen(p.PID),
		} {
			_, err := e.svc.Decide(ctx, app.ID, true, "")
			wantKind(t, err, errs.Forbidden)
			t.Logf("%s: %v", name, err)
		}
		_, err := e.svc.Decide(context.Background(), app.ID, true, "")
		wantKind(t, err, errs.Unauthenticated)
		if got, _ := e.svc.Application(nationalOfficer(), app.ID); got.State != eid.Submitted || got.DecidedAt != nil {
			t.Fatalf("refused decisions changed the application: %+v", got)
		}
		if s := e.stored(t); s.accounts != 0 || s.messages != 0 {
			t.Errorf("refused decisions stored %+v", s)
		}
		// The province covers its communes.
		e.decide(t, officerAt(actor.Registrar, actor.Province, hanoi), app.ID, true, "")
	})
}

// TestApplicationRead: an application is shown to its applicant and to
// officers only.
func TestApplicationRead(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		p, other := e.adult(t, baDinh), e.adult(t, baDinh)
		app := e.applySelf(t, p)
		// Another citizen is not told the application exists.
		_, err := e.svc.Application(citizen(other.PID), app.ID)
		wantKind(t, err, errs.NotFound)
		_, err = e.svc.Application(officer(saiGon), app.ID)
		wantKind(t, err, errs.Forbidden)
		_, err = e.svc.Application(officerAt(actor.Viewer, actor.National, ""), app.ID)
		wantKind(t, err, errs.Forbidden)
		_, err = e.svc.Application(context.Background(), app.ID)
		wantKind(t, err, errs.Unauthenticated)
		_, err = e.svc.Application(nationalOfficer(), app.ID+"x")
		wantKind(t, err, errs.NotFound)
	})
}

// TestCounterRaisesLevel: an in-person application raises an active
// level-1 account to level 2 on approval; a level-2 account cannot apply
// again either way.
func TestCounterRaisesLevel(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		p := e.adult(t, baDinh)
		e.active(t, p)
		before := e.account(t, p.PID)

		o := officer(baDinh)
		in := counterApp(p, eid.CardValid)
		in.Phone = "0387654321"
		app, err := e.svc.ApplyAtCounter(o, in)
		if err != nil {
			t.Fatalf("ApplyAtCounter: %v", err)
		}
		if app.Level != eid.Level2 || app.Channel != "counter" || app.TakenBy != actorID(o) || app.CardStatus != eid.CardValid || app.Commune != baDinh {
			t.Errorf("ApplyAtCounter = %+v", app)
		}
		e.decide(t, officer(baDinh), app.ID, true, "")
		after := e.account(t, p.PID)
		want := before
		want.Level, want.Phone, want.Version = 2, "0387654321", before.Version+1
		if after != want {
			t.Errorf("account after level 2:\n%+v, want\n%+v", after, want)
		}
		l, err := e.svc.Login(context.Background(), p.PID, goodPassword)
		if err != nil || l.Level != eid.Level2 {
			t.Errorf("Login after level 2 = %+v, %v", l, err)
		}
		if ms := e.messages(t, "0387654321"); len(ms) != 1 || !strings.Contains(ms[0].Body, "level-2 application was approved") {
			t.Errorf("messages to the new phone: %+v", ms)
		}

		before2 := e.stored(t)
		_, err = e.svc.ApplyAtCounter(officer(baDinh), counterApp(p, eid.CardValid))
		wantKind(t, err, errs.Conflict)
		_, err = e.svc.ApplySelf(context.Background(), selfApp(p))
		wantRefused(t, err)
		if s := e.stored(t); s != before2 {
			t.Errorf("refused applications stored: before %+v, after %+v", before2, s)
		}

		// A level-2 account can also be made at the counter from nothing.
		q := e.adult(t, saiGon)
		app = e.applyCounter(t, officer(saiGon), q, eid.CardExpired)
		e.decide(t, officer(saiGon), app.ID, true, "")
		if a := e.account(t, q.PID); a.State != eid.Approved || a.Level != 2 {
			t.Errorf("new level-2 account: %+v", a)
		}
	})
}

// TestPendingBlocks: while an application waits for a decision another of
// the same level is refused.
func TestPendingBlocks(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		p := e.adult(t, baDinh)
		first := e.applySelf(t, p)
		before := e.stored(t)
		_, err := e.svc.ApplySelf(context.Background(), selfApp(p))
		wantRefused(t, err)

		c := e.applyCounter(t, officer(baDinh), p, eid.CardValid)
		_, err = e.svc.ApplyAtCounter(officer(ngocHa), counterApp(p, eid.CardNone))
		wantKind(t, err, errs.Forbidden) // not a person of that commune
		_, err = e.svc.ApplyAtCounter(officer(baDinh), counterApp(p, eid.CardNone))
		wantKind(t, err, errs.Conflict)
		if s := e.stored(t); s.applications != before.applications+1 || s.biometrics != before.biometrics+3 {
			t.Errorf("stored %+v, want one application (of 3 biometrics) more than %+v", s, before)
		}

		// Once decided, the applicant may apply again.
		e.decide(t, officer(baDinh), first.ID, false, "photo too dark")
		e.applySelf(t, p)
		e.decide(t, officer(baDinh), c.ID, false, "fingerprints unreadable")
		e.applyCounter(t, officer(baDinh), p, eid.CardValid)
	})
}

// TestPendingBlocksConcurrent: applications sent together (a double click)
// leave one waiting application.
func TestPendingBlocksConcurrent(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		if db.Dialect == sqldb.Postgres {
		}
		e := newEnv(t, db)
		for round := range 3 {
			p := e.adult(t, baDinh)
			const n = 4
			var wg sync.WaitGroup
			var mu sync.Mutex
			var ok, conflict int
			ready := make(chan struct{})
			for range n {
				wg.Go(func() {
					<-ready
					_, err := e.svc.ApplySelf(context.Background(), selfApp(p))
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err == nil:
						ok++
					case errs.Is(err, errs.Invalid):
						conflict++ // the one refusal: another application waits
					default:
						t.Errorf("ApplySelf: %v", err)
					}
				})
			}
			close(ready)
			wg.Wait()
			if got := e.count(t, `SELECT COUNT(*) FROM eid_application WHERE pid = $1 AND state = 'submitted'`, p.PID); ok != 1 || conflict != n-1 || got != 1 {
				t.Errorf("round %d: %d applications sent together: %d accepted, %d conflicts, %d waiting; want 1, %d, 1", round, n, ok, conflict, got, n-1)
			}
		}
	})
}

// TestIdempotencyKey: a retried submission returns the first application
// and stores nothing more; a key is bound to one applicant.
func TestIdempotencyKey(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		p, q := e.adult(t, baDinh), e.adult(t, baDinh)
		in := selfApp(p)
		in.IdempotencyKey = "retry-1"
		first, err := e.svc.ApplySelf(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		before := e.stored(t)
		e.clock.Advance(time.Minute)
		again, err := e.svc.ApplySelf(context.Background(), in)
		if err != nil || !sameApp(again, first) {
			t.Errorf("retry = %+v, %v; want the first %+v", again, err, first)
		}
		if s := e.stored(t); s != before {
			t.Errorf("retries stored: before %+v, after %+v", before, s)
		}
		// The key of one applicant is nothing to another: q's application
		// with the same key is q's own (TestIdempotencyKeyScoped).
		other := selfApp(q)
		other.IdempotencyKey = "retry-1"
		if got, err := e.svc.ApplySelf(context.Background(), other); err != nil || got.ID == first.ID {
			t.Errorf("another applicant with the same key: %+v, %v", got, err)
		}
		// A retry after the decision still returns the application.
		e.decide(t, officer(baDinh), first.ID, true, "")
		again, err = e.svc.ApplySelf(context.Background(), in)
		if err != nil || again.ID != first.ID || again.State != eid.Accepted {
			t.Errorf("retry after approval = %+v, %v", again, err)
		}

		c := counterApp(q, eid.CardValid)
		c.IdempotencyKey = "counter-1"
		counter := officer(baDinh) // a key is the officer's own
		firstC, err := e.svc.ApplyAtCounter(counter, c)
		if err != nil {
			t.Fatal(err)
		}
		againC, err := e.svc.ApplyAtCounter(counter, c)
		if err != nil || !sameApp(againC, firstC) {
			t.Errorf("counter retry = %+v, %v; want %+v", againC, err, firstC)
		}
		if n := e.count(t, `SELECT COUNT(*) FROM eid_biometric WHERE application_id = $1`, firstC.ID); n != 3 {
			t.Errorf("%d biometrics after a retried counter application, want 3", n)
		}
	})
}

// TestCounterInput: the officer's input is checked field by field; each
// refused biometric is named by its index.
func TestCounterInput(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		p := e.adult(t, baDinh)
		bio := func(b ...eid.Biometric) func(*eid.CounterApplication) {
			return func(a *eid.CounterApplication) { a.Biometrics = b }
		}
		f, r, l := face("face"), finger(1, "r"), finger(6, "l")
		tests := []struct {
			name   string
			edit   func(*eid.CounterApplication)
			fields []string
		}{
			{"finger position 0", bio(f, finger(0, "x")), []string{"biometrics[1].position"}},
			{"finger position 11", bio(f, r, finger(11, "x")), []string{"biometrics[2].position"}},
			{"face at a finger position", bio(eid.Biometric{Kind: "face", Position: 2, Format: "image/png", Data: []byte("x")}, r), []string{"biometrics[0].position"}},
			{"finger twice", bio(f, r, l, finger(1, "again")), []string{"biometrics[3].position"}},
			{"gif face", bio(eid.Biometric{Kind: "face", Format: "image/gif", Data: []byte("x")}, r), []string{"biometrics[0].format"}},
			{"unnamed template", bio(f, eid.Biometric{Kind: "fingerprint", Position: 2, Data: []byte("x")}), []string{"biometrics[1].format"}},
			{"iris", bio(f, r, eid.Biometric{Kind: "iris", Format: "image/png", Data: []byte("x")}), []string{"biometrics[2].kind"}},
			{"empty template", bio(f, finger(2, "")), []string{"biometrics[1].data"}},
			{"no face", bio(r, l), []string{"biometrics"}},
			{"two faces", bio(f, face("another"), r), []string{"biometrics"}},
			{"no fingerprint", bio(f), []string{"biometrics"}},
			{"nothing", bio(), []string{"biometrics", "biometrics"}},
			{"card lost", func(a *eid.CounterApplication) { a.CardStatus = "lost" }, []string{"card_status"}},
			{"no phone", func(a *eid.CounterApplication) { a.Phone = "" }, []string{"phone"}},
			{"bad e-mail", func(a *eid.CounterApplication) { a.Email = "an@" }, []string{"email"}},
			{"bad number", func(a *eid.CounterApplication) { a.PID = "0010900000AB" }, []string{"pid"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				in := counterApp(p, eid.CardValid)
				tt.edit(&in)
				_, err := e.svc.ApplyAtCounter(officer(baDinh), in)
				wantKind(t, err, errs.Invalid)
				if got := fieldsOf(err); !slices.Equal(got, tt.fields) {
					t.Errorf("fields %v, want %v (%v)", got, tt.fields, err)
				}
			})
		}
		if s := e.stored(t); s != (stored{}) {
			t.Errorf("refused applications stored %+v", s)
		}
	})
}

// TestCounterPermission: only an officer who reviews e-ID takes
// applications at the counter.
func TestCounterPermission(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		p := e.adult(t, baDinh)
		for _, ctx := range []context.Context{citizen(p.PID), officerAt(actor.Viewer, actor.Commune, baDinh)} {
			_, err := e.svc.ApplyAtCounter(ctx, counterApp(p, eid.CardValid))
			wantKind(t, err, errs.Forbidden)
		}
		_, err := e.svc.ApplyAtCounter(context.Background(), counterApp(p, eid.CardValid))
		wantKind(t, err, errs.Unauthenticated)
		// Unknown to the registry: not found, nothing stored.
		unknown, _ := personalid.Prefix("001", personalid.Male, 1990)
		in := counterApp(p, eid.CardValid)
		in.PID = unknown + "999999"
		_, err = e.svc.ApplyAtCounter(officer(baDinh), in)
		wantKind(t, err, errs.NotFound)
		if s := e.stored(t); s != (stored{}) {
			t.Errorf("refused applications stored %+v", s)
		}
	})
}

// TestBiometricsSealed: portraits and templates are stored encrypted and
// bound to their row: the plaintext is nowhere in the row, the row opens
// with the data key, and a blob moved to another slot does not open.
func TestBiometricsSealed(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		p := e.adult(t, baDinh)
		in := counterApp(p, eid.CardValid)
		in.Biometrics = []eid.Biometric{
			{Kind: "face", Format: "image/jpeg", Data: []byte("PLAINTEXT-PORTRAIT-0001")},
			{Kind: "fingerprint", Position: 1, Format: "ISO/IEC 19794-2:2005", Data: []byte("PLAINTEXT-RIGHT-THUMB-01")},
			{Kind: "fingerprint", Position: 7, Format: "ANSI 378", Data: []byte("PLAINTEXT-LEFT-INDEX-007")},
		}
		app, err := e.svc.ApplyAtCounter(officer(baDinh), in)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := db.QueryContext(context.Background(), `SELECT kind, position, format, sealed FROM eid_biometric WHERE application_id = $1 ORDER BY kind, position`, app.ID)
		if err != nil {
			t.Fatal(err)
		}
		type blob struct {
			kind, format string
			position     int
			sealed       []byte
		}
		var got []blob
		for rows.Next() {
			var b blob
			if err := rows.Scan(&b.kind, &b.position, &b.format, &b.sealed); err != nil {
				t.Fatal(err)
			}
			got = append(got, b)
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
		if len(got) != len(in.Biometrics) {
			t.Fatalf("%d biometric rows, want %d", len(got), len(in.Biometrics))
		}
		aad := func(kind string, pos int) []byte {
			return fmt.Appendf(nil, "eid_biometric|%s|%s|%d", app.ID, kind, pos)
		}
		for i, b := range got {
			want := in.Biometrics[i]
			if b.kind != want.Kind || b.position != want.Position || b.format != want.Format {
				t.Errorf("row %d: %s %d %s, want %s %d %s", i, b.kind, b.position, b.format, want.Kind, want.Position, want.Format)
			}
			if bytes.Contains(b.sealed, want.Data) || bytes.Contains(b.sealed, []byte("PLAINTEXT")) {
				t.Errorf("row %d holds the plaintext: %q", i, b.sealed)
			}
			if len(b.sealed) != 12+len(want.Data)+16 {
				t.Errorf("row %d: %d sealed bytes, want nonce, %d bytes and tag", i, len(b.sealed), len(want.Data))
			}
			plain, err := e.sealer.Open(b.sealed, aad(b.kind, b.position))
			if err != nil || !bytes.Equal(plain, want.Data) {
				t.Errorf("row %d opens to %q, %v; want %q", i, plain, err, want.Data)
			}
			other := got[(i+1)%len(got)]
			if _, err := e.sealer.Open(b.sealed, aad(other.kind, other.position)); err == nil {
				t.Errorf("row %d opens as the %s at %d", i, other.kind, other.position)
			}
		}
		// Two seals of the same data differ (fresh nonces).
		if bytes.Equal(e.sealer.Seal([]byte("x"), nil), e.sealer.Seal([]byte("x"), nil)) {
			t.Error("Seal is deterministic")
		}
	})
}

// TestCounterCardAgreesWithRegister: where the card register knows the
// person's chip card, the status the officer gives must agree with it;
// where it does not (a card from before the register), the officer's word
// stands.
func TestCounterCardAgreesWithRegister(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		ctx := officer(baDinh)
		holder, lost, unknown := e.adult(t, baDinh), e.adult(t, baDinh), e.adult(t, baDinh)
		for pid, status := range map[string]string{holder.PID: "active", lost.PID: "lost"} {
			if _, err := db.ExecContext(context.Background(), `INSERT INTO card (id, pid, application_id, status, issued_on, expires_on, commune, sod_sha256, sod, dg1, dg13, created_at)
				VALUES ($1, $2, 'app', $3, '2025-01-01', '2040-01-01', $4, 'x', $5, $5, $5, $6)`, "card-"+pid, pid, status, baDinh, []byte{0}, time.Now()); err != nil {
				t.Fatal(err)
			}
		}
		_, err := e.svc.ApplyAtCounter(ctx, counterApp(holder, eid.CardNone))
		wantField(t, err, "card_status")
		_, err = e.svc.ApplyAtCounter(ctx, counterApp(lost, eid.CardValid))
		wantField(t, err, "card_status")
		if n := e.count(t, `SELECT COUNT(*) FROM eid_application`); n != 0 {
			t.Fatalf("%d applications stored from a wrong card status", n)
		}
		if app := e.applyCounter(t, ctx, holder, eid.CardValid); app.CardStatus != eid.CardValid {
			t.Errorf("valid card: %+v", app)
		}
		e.applyCounter(t, ctx, lost, eid.CardNone)
		e.applyCounter(t, ctx, unknown, eid.CardExpired)
	})
}

// wantRefused checks the one answer an online application gets when it
// cannot go ahead.
func wantRefused(tb testing.TB, err error) {
	tb.Helper()
	wantKind(tb, err, errs.Invalid)
	if err != nil && !strings.Contains(err.Error(), "cannot be opened online") {
		tb.Errorf("refusal %q is not the one answer of online applications", err)
	}
}
