package indicator

import (
	"context"
	"testing"
	"time"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/adminunit"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

type fakeSource struct{ rows []Tally }

func (f *fakeSource) Tallies(context.Context, time.Time) ([]Tally, error) { return f.rows, nil }

func officer(level actor.Level, code string) context.Context {
	return actor.With(context.Background(), &actor.Actor{ID: "o", Kind: actor.Officer, Role: actor.Viewer,
		Jurisdiction: actor.Jurisdiction{Level: level, Code: code}})
}

// The counts of communes roll up to their province and the nation, by
// month, within the last 12 months; each officer reads the boards of their
// jurisdiction only; a rebuild replaces every count.
func TestBoards(t *testing.T) {
	units, err := adminunit.Load()
	if err != nil {
		t.Fatal(err)
	}
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		now := time.Date(2026, 11, 30, 18, 0, 0, 0, time.UTC) // 1 December in Viet Nam
		clock := func() time.Time { return now }
		src := &fakeSource{rows: []Tally{
			{"00004", "2026-12", People, 10}, {"00008", "2026-12", People, 5}, {"26740", "2026-12", People, 7},
			{"00004", "2026-11", EIDReceived, 4}, {"00004", "2026-12", EIDReceived, 6}, {"00008", "2026-12", EIDReceived, 1},
			{"00004", "2025-12", EIDReceived, 99}, // 12 months back: outside the window
			{"99999", "2026-12", EIDReceived, 50}, // no such commune: the nation only
		}}
		s := NewService(db, units, access.NewPolicy(units), clock, src)
		if got := MonthsUntil(now, 2); got[0] != "2026-11" || got[1] != "2026-12" {
			t.Fatalf("months in Viet Nam: %v", got)
		}
		if err := s.Rebuild(context.Background()); err != nil {
			t.Fatal(err)
		}
		nat, err := s.Read(officer(actor.National, ""), "")
		if err != nil {
			t.Fatal(err)
		}
		if nat.Unit != Nation || nat.Counts[People]["2026-12"] != 22 || nat.Counts[EIDReceived]["2026-12"] != 57 ||
			nat.Counts[EIDReceived]["2026-11"] != 4 || nat.Counts[EIDReceived]["2025-12"] != 0 || len(nat.Months) != Months {
			t.Fatalf("national board: %+v", nat.Counts)
		}
		if len(nat.Children) != 34 || nat.BuiltAt.IsZero() {
			t.Fatalf("the nation has %d provinces below, built %v", len(nat.Children), nat.BuiltAt)
		}
		hn, err := s.Read(officer(actor.Province, "01"), "01")
		if err != nil || hn.Counts[People]["2026-12"] != 15 || hn.Counts[EIDReceived]["2026-12"] != 7 || hn.Parent != "" {
			t.Fatalf("Hà Nội: %+v (parent %q) %v", hn.Counts, hn.Parent, err)
		}
		var kids int64
		for _, c := range hn.Children {
			kids += c.Totals[EIDReceived]
		}
		if kids != 11 {
			t.Fatalf("Hà Nội's communes received %d applications over the months, want 11", kids)
		}
		c, err := s.Read(officer(actor.Commune, "00004"), "")
		if err != nil || c.Unit != "00004" || c.Counts[People]["2026-12"] != 10 || c.Parent != "" {
			t.Fatalf("Ba Đình: %+v %v", c, err)
		}
		if c, err := s.Read(officer(actor.Province, "01"), "00004"); err != nil || c.Parent != "01" {
			t.Fatalf("a province officer's commune board links up: %+v %v", c.Parent, err)
		}
		for _, x := range []struct {
			ctx  context.Context
			unit string
		}{
			{officer(actor.Commune, "00004"), "00008"}, {officer(actor.Commune, "00004"), "01"}, {officer(actor.Commune, "00004"), Nation},
			{officer(actor.Province, "79"), "01"}, {officer(actor.Province, "79"), "00004"}, {officer(actor.Province, "01"), Nation},
			{context.Background(), Nation},
		} {
			if _, err := s.Read(x.ctx, x.unit); !errs.Is(err, errs.Forbidden) && !errs.Is(err, errs.Unauthenticated) {
				t.Errorf("a board outside the jurisdiction (%s): %v", x.unit, err)
			}
		}
		if _, err := s.Read(officer(actor.National, ""), "7x"); !errs.Is(err, errs.Invalid) {
			t.Errorf("an unknown unit: %v", err)
		}
		// A rebuild replaces the counts; a refresh within the gap does not rebuild.
		src.rows = []Tally{{"00004", "2026-12", People, 11}}
		if err := s.Refresh(officer(actor.Commune, "00004")); err != nil {
			t.Fatal(err)
		}
		src.rows = []Tally{{"00004", "2026-12", People, 12}}
		s.Refresh(officer(actor.Commune, "00004"))
		c, _ = s.Read(officer(actor.Commune, "00004"), "")
		if c.Counts[People]["2026-12"] != 11 || c.Counts[EIDReceived]["2026-12"] != 0 {
			t.Fatalf("after a refresh and one within the gap: %+v", c.Counts)
		}
		now = now.Add(RefreshGap + time.Second)
		s.Refresh(officer(actor.Commune, "00004"))
		c, _ = s.Read(officer(actor.Commune, "00004"), "")
		if c.Counts[People]["2026-12"] != 12 {
			t.Fatalf("a refresh after the gap: %+v", c.Counts)
		}
	})
}
