package card

import (
	"context"
	"time"

	"github.com/dancu-vn/dancu/internal/indicator"
)

// Tallies counts, for the indicators, the card applications received and
// the cards produced and handed over, by commune and month since a time.
// It reveals no person.
func (s *Service) Tallies(ctx context.Context, since time.Time) ([]indicator.Tally, error) {
	d := s.db.Dialect
	return indicator.Gather(ctx, s.db, since, map[string]string{
		indicator.CardReceived:  `SELECT commune, ` + d.MonthVN("submitted_at") + `, COUNT(*) FROM card_application WHERE submitted_at >= $1 GROUP BY 1, 2`,
		indicator.CardPrinted:   `SELECT commune, ` + d.MonthVN("created_at") + `, COUNT(*) FROM card WHERE created_at >= $1 GROUP BY 1, 2`,
		indicator.CardDelivered: `SELECT commune, ` + d.MonthVN("delivered_at") + `, COUNT(*) FROM card WHERE delivered_at >= $1 GROUP BY 1, 2`,
	})
}
