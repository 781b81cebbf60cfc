package registry

import (
	"context"
	"time"

	"github.com/dancu-vn/dancu/internal/indicator"
	"github.com/dancu-vn/dancu/internal/workday"
)

// Tallies counts, for the indicators, the people alive with a permanent
// residence in each commune: a stock, as of the month of the count. It
// reveals no person.
func (s *Service) Tallies(ctx context.Context, _ time.Time) ([]indicator.Tally, error) {
	month := workday.InVietnam(s.clock()).Format("2006-01")
	return indicator.Count(ctx, s.db, indicator.People,
		`SELECT res_commune, CAST($1 AS TEXT), COUNT(*) FROM citizen WHERE status = 'alive' AND res_commune <> '' GROUP BY res_commune`, month)
}
