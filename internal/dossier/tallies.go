package dossier

import (
	"context"
	"time"

	"github.com/dancu-vn/dancu/internal/indicator"
)

// Tallies counts, for the indicators, the residence dossiers received and
// decided, and those decided by their statutory deadline, by commune and
// month since a time. It reveals no person.
func (s *Service) Tallies(ctx context.Context, since time.Time) ([]indicator.Tally, error) {
	d := s.db.Dialect
	decided := `state IN ('approved', 'refused', 'returned') AND decided_at >= $1`
	return indicator.Gather(ctx, s.db, since, map[string]string{
		indicator.DossierReceived: `SELECT commune, ` + d.MonthVN("received_at") + `, COUNT(*) FROM dossier WHERE received_at >= $1 GROUP BY 1, 2`,
		indicator.DossierDecided:  `SELECT commune, ` + d.MonthVN("decided_at") + `, COUNT(*) FROM dossier WHERE ` + decided + ` GROUP BY 1, 2`,
		indicator.DossierOnTime:   `SELECT commune, ` + d.MonthVN("decided_at") + `, COUNT(*) FROM dossier WHERE ` + decided + ` AND (due_at IS NULL OR decided_at <= due_at) GROUP BY 1, 2`,
	})
}
