package eid_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/adminunit"
	"github.com/dancu-vn/dancu/internal/eid"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/personalid"
	"github.com/dancu-vn/dancu/internal/registry"
	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

func TestDeadlineDays(t *testing.T) {
	tests := []struct {
		level eid.Level
		card  eid.CardStatus
		want  int
	}{
		{eid.Level1, eid.CardNone, 1},
		{eid.Level1, eid.CardValid, 1},
		{eid.Level2, eid.CardValid, 3},
		{eid.Level2, eid.CardExpired, 7},
		{eid.Level2, eid.CardNone, 7},
	}
	for _, tt := range tests {
		if got := eid.Deadline(tt.level, tt.card); got != tt.want {
			t.Errorf("Deadline(%d, %s) = %d, want %d", tt.level, tt.card, got, tt.want)
		}
	}
}

// midnight is the start of a day in Viet Nam: the end of the day before.
func midnight(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, vn) }

// TestDeadlines: applications received on Friday 13 February 2026, the
// last working day before Tết (16–20 February off, with the weekends
// around), are due after the holiday; the day of receipt is the date in
// Viet Nam.
func TestDeadlines(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		check := func(name string, app eid.Application, want time.Time) {
			t.Helper()
			if !app.DueAt.Equal(want) {
				t.Errorf("%s: due %s, want %s", name, app.DueAt.In(vn), want)
			}
			got, err := e.svc.Application(nationalOfficer(), app.ID)
			if err != nil || !got.DueAt.Equal(want) {
				t.Errorf("%s: stored due %s, %v; want %s", name, got.DueAt.In(vn), err, want)
			}
		}
		// Level 1: one working day, Monday 23 February.
		check("level 1", e.applySelf(t, e.adult(t, baDinh)), midnight(2026, 2, 24))
		// Level 2 with a valid card: 3 working days, 23–25 February.
		check("level 2, valid card", e.applyCounter(t, officer(baDinh), e.adult(t, baDinh), eid.CardValid), midnight(2026, 2, 26))
		// Without a valid card: 7 working days, 23 February to 3 March.
		check("level 2, expired card", e.applyCounter(t, officer(baDinh), e.adult(t, baDinh), eid.CardExpired), midnight(2026, 3, 4))
		check("level 2, no card", e.applyCounter(t, officer(baDinh), e.adult(t, baDinh), eid.CardNone), midnight(2026, 3, 4))

		// Thursday 23:30 in Viet Nam is Thursday: due at the end of Friday ...
		e.clock.Set(time.Date(2026, 2, 12, 23, 30, 0, 0, vn))
		check("Thursday night", e.applySelf(t, e.adult(t, baDinh)), midnight(2026, 2, 14))
		// ... 17:30 UTC on Thursday is already Friday in Viet Nam.
		e.clock.Set(time.Date(2026, 2, 12, 17, 30, 0, 0, time.UTC))
		check("Friday 00:30", e.applySelf(t, e.adult(t, baDinh)), midnight(2026, 2, 24))
	})
}

func ids(apps []eid.Application) []string {
	out := make([]string, len(apps))
	for i, a := range apps {
		out[i] = a.ID
	}
	return out
}

func (e *env) queue(tb testing.TB, ctx context.Context, overdueOnly bool) []string {
	tb.Helper()
	apps, err := e.svc.Queue(ctx, overdueOnly, 0)
	if err != nil {
		tb.Fatalf("Queue: %v", err)
	}
	for _, a := range apps {
		if a.State != eid.Submitted {
			tb.Errorf("queue holds %s application %s", a.State, a.ID)
		}
		if a.Overdue != e.clock.Now().After(a.DueAt) {
			tb.Errorf("queue says %s is overdue %v at %s, due %s", a.ID, a.Overdue, e.clock.Now(), a.DueAt)
		}
	}
	return ids(apps)
}

// TestQueueOverdue: an application is overdue only once its deadline has
// passed, not at the instant it ends.
func TestQueueOverdue(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		one := e.applySelf(t, e.adult(t, baDinh))                                    // due 24 February
		two := e.applyCounter(t, officer(baDinh), e.adult(t, baDinh), eid.CardValid) // due 26 February
		o := nationalOfficer()
		if got := e.queue(t, o, true); len(got) != 0 {
			t.Errorf("overdue queue on the day of receipt: %v", got)
		}
		if got, want := e.queue(t, o, false), []string{one.ID, two.ID}; !slices.Equal(got, want) {
			t.Errorf("queue %v, want %v (earliest deadline first)", got, want)
		}
		e.clock.Set(one.DueAt)
		if got := e.queue(t, o, true); len(got) != 0 {
			t.Errorf("overdue queue at the deadline: %v", got)
		}
		if a, _ := e.svc.Application(o, one.ID); a.Overdue {
			t.Error("an application is overdue at its deadline")
		}
		e.clock.Advance(time.Microsecond)
		if got, want := e.queue(t, o, true), []string{one.ID}; !slices.Equal(got, want) {
			t.Errorf("overdue queue just after the first deadline: %v, want %v", got, want)
		}
		if a, _ := e.svc.Application(o, one.ID); !a.Overdue {
			t.Error("an application past its deadline is not overdue")
		}
		e.clock.Set(two.DueAt.Add(time.Second))
		if got, want := e.queue(t, o, true), []string{one.ID, two.ID}; !slices.Equal(got, want) {
			t.Errorf("overdue queue after both deadlines: %v, want %v", got, want)
		}
		if got, err := e.svc.Queue(o, true, 1); err != nil || len(got) != 1 || got[0].ID != one.ID {
			t.Errorf("Queue limit 1 = %v, %v", ids(got), err)
		}
		// Decided, it leaves the queue.
		e.decide(t, o, one.ID, true, "")
		if got, want := e.queue(t, o, true), []string{two.ID}; !slices.Equal(got, want) {
			t.Errorf("overdue queue after a decision: %v, want %v", got, want)
		}
	})
}

// TestOverdueDecided: an application decided late stays overdue; one
// decided on the last day does not become overdue later.
func TestOverdueDecided(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		inTime := e.applySelf(t, e.adult(t, baDinh))
		late := e.applySelf(t, e.adult(t, baDinh))
		o := officer(baDinh)

		e.clock.Set(time.Date(2026, 2, 23, 23, 59, 0, 0, vn))
		if got := e.decide(t, o, inTime.ID, true, ""); got.Overdue {
			t.Errorf("decided on the last day: overdue")
		}
		e.clock.Set(time.Date(2026, 2, 24, 8, 0, 0, 0, vn))
		if got := e.decide(t, o, late.ID, false, "the portrait is blurred"); !got.Overdue {
			t.Errorf("decided the day after the deadline: not overdue")
		}
		e.clock.Set(time.Date(2026, 6, 1, 0, 0, 0, 0, vn))
		for _, tt := range []struct {
			app  eid.Application
			want bool
		}{{inTime, false}, {late, true}} {
			got, err := e.svc.Application(o, tt.app.ID)
			if err != nil || got.Overdue != tt.want {
				t.Errorf("months later: Application %s overdue %v, %v; want %v", tt.app.ID, got.Overdue, err, tt.want)
			}
		}
		if got := e.queue(t, o, true); len(got) != 0 {
			t.Errorf("decided applications in the overdue queue: %v", got)
		}
	})
}

// TestQueueJurisdiction: an officer's queue holds the applications of their
// jurisdiction only; a 2022-scheme residence counts at the commune it
// became.
func TestQueueJurisdiction(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		const truc = "00013" // a 2022 commune of Hà Nội that is now part of Ba Đình
		if u, ok := catalog(t).Current(truc); !ok || u.Code != baDinh {
			t.Fatalf("2022 commune %s became %v (%v), want %s", truc, u, ok, baDinh)
		}
		a := e.applySelf(t, e.adult(t, baDinh))
		b := e.applySelf(t, e.adult(t, ngocHa))
		c := e.applySelf(t, e.adult(t, saiGon))
		old := e.register(t, "Đỗ Văn Hải", "1975-09-02", personalid.Male, baDinh, func(r *registry.LegacyRecord) {
			r.PermanentResidence = &registry.Address{Scheme: string(adminunit.Scheme2022), Commune: truc, Detail: "số 3 phố Trúc Bạch"}
		})
		d := e.applySelf(t, old)
		if d.Commune != baDinh {
			t.Errorf("application of a 2022-scheme resident in %s goes to commune %q, want %s", truc, d.Commune, baDinh)
		}
		for name, tt := range map[string]struct {
			ctx  context.Context
			want []string
		}{
			"Ba Đình":      {officer(baDinh), []string{a.ID, d.ID}},
			"Ngọc Hà":      {officer(ngocHa), []string{b.ID}},
			"Sài Gòn":      {officer(saiGon), []string{c.ID}},
			"Hà Nội":       {officerAt(actor.Registrar, actor.Province, hanoi), []string{a.ID, b.ID, d.ID}},
			"Hồ Chí Minh":  {officerAt(actor.Registrar, actor.Province, "79"), []string{c.ID}},
			"national":     {nationalOfficer(), []string{a.ID, b.ID, c.ID, d.ID}},
			"system":       {system(), []string{a.ID, b.ID, c.ID, d.ID}},
			"no such unit": {officer("99999"), nil},
		} {
			if got := e.queue(t, tt.ctx, false); !slices.Equal(got, tt.want) {
				t.Errorf("%s queue %v, want %v", name, got, tt.want)
			}
		}
		for _, ctx := range []context.Context{officerAt(actor.Viewer, actor.National, ""), citizen(e.adult(t, baDinh).PID)} {
			_, err := e.svc.Queue(ctx, false, 0)
			wantKind(t, err, errs.Forbidden)
		}
		_, err := e.svc.Queue(context.Background(), false, 0)
		wantKind(t, err, errs.Unauthenticated)
	})
}
