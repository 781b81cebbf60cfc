package registry

import (
	"context"
	"time"

	"github.com/dancu-vn/dancu/internal/indicator"
	"github.com/dancu-vn/dancu/internal/workday"
)

// Tallies counts, for the indicators, the people alive with a permanent
// residence in each commune (a stock, as of the month of the count) and
// the births registered since a time, by month and the child's commune
// now. It reveals no person.
func (s *Service) Tallies(ctx context.Context, since time.Time) ([]indicator.Tally, error) {
	month := workday.InVietnam(s.clock()).Format("2006-01")
	people, err := indicator.Count(ctx, s.db, indicator.People,
		`SELECT res_commune, CAST($1 AS TEXT), COUNT(*) FROM citizen WHERE status = 'alive' AND res_commune <> '' GROUP BY res_commune`, month)
	if err != nil {
		return nil, err
	}
	births, err := indicator.Gather(ctx, s.db, since, map[string]string{
		indicator.Births: `SELECT c.res_commune, ` + s.db.Dialect.MonthVN("r.at") + `, COUNT(*) FROM citizen_revision r JOIN citizen c ON c.pid = r.pid
			WHERE r.action = 'register_birth' AND r.at >= $1 AND c.res_commune <> '' GROUP BY 1, 2`,
	})
	return append(people, births...), err
}
