package indicator

import (
	"context"
	"testing"
	"time"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/adminunit"
	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

// fullTallies is the most any population can give the indicators: every
// current commune counting every indicator in every month of the window.
// The table's size, and so a board's read, depends on units × months ×
// indicators, not on how many people there are: 10M people fill it no
// more than this.
func fullTallies(units *adminunit.Catalog, now time.Time) []Tally {
	var out []Tally
	for _, c := range units.Units(adminunit.Scheme2025, adminunit.LevelCommune) {
		for i, m := range MonthsUntil(now, Months) {
			for j, n := range Names {
				out = append(out, Tally{Commune: c.Code, Month: m, Name: n, N: int64(1000 + i*10 + j)})
			}
		}
	}
	return out
}

// BenchmarkFullTable rebuilds the indicators from full tallies (the
// rebuild's own cost beyond the owning services' counting queries) and
// reads the boards of the nation, a province and a commune from the full
// table, on both stores.
func BenchmarkFullTable(b *testing.B) {
	units, err := adminunit.Load()
	if err != nil {
		b.Fatal(err)
	}
	for _, engine := range sqldbtest.EngineNames() {
		b.Run(engine, func(b *testing.B) { fullTable(b, units, sqldbtest.Open(b, engine)) })
	}
}

func fullTable(b *testing.B, units *adminunit.Catalog, db *sqldb.DB) {
	{
		now := time.Now()
		src := &fakeSource{rows: fullTallies(units, now)}
		s := NewService(db, units, access.NewPolicy(units), time.Now, src)
		ctx := context.Background()
		start := time.Now()
		if err := s.Rebuild(ctx); err != nil {
			b.Fatal(err)
		}
		var rows int
		db.QueryRowContext(ctx, `SELECT COUNT(*) FROM indicator_count`).Scan(&rows)
		var gather int64
		db.QueryRowContext(ctx, `SELECT took_ms FROM indicator_build`).Scan(&gather)
		b.Logf("%d tallies → %d rows, rebuild %s (gathering %d ms)", len(src.rows), rows, time.Since(start).Round(time.Millisecond), gather)
		// Five minutes later a few counts changed: only they are written.
		for i := range src.rows {
			if i%100 == 0 {
				src.rows[i].N++
			}
		}
		start = time.Now()
		if err := s.Rebuild(ctx); err != nil {
			b.Fatal(err)
		}
		b.Logf("a rebuild with 1%% of the tallies changed: %s", time.Since(start).Round(time.Millisecond))
		// The ceiling: the raw query of one unit's months, the read's own
		// first query, nothing else.
		b.Run("raw-unit-query", func(b *testing.B) {
			for b.Loop() {
				rows, err := db.QueryContext(ctx, `SELECT month, name, n FROM indicator_count WHERE unit = $1`, Nation)
				if err != nil {
					b.Fatal(err)
				}
				for rows.Next() {
				}
				rows.Close()
			}
		})
		nation := officer(actor.National, "")
		for _, unit := range []string{Nation, "01", "00004"} {
			b.Run("read-"+unit, func(b *testing.B) {
				for b.Loop() {
					bd, err := s.Read(nation, unit)
					if err != nil || len(bd.Counts) != len(Names) {
						b.Fatalf("read %s: %d indicators, %v", unit, len(bd.Counts), err)
					}
				}
			})
		}
	}
}
