package eid

import (
	"context"
	"time"

	"github.com/dancu-vn/dancu/internal/indicator"
)

// Tallies counts, for the indicators, the e-ID applications received and
// approved and the accounts activated, by commune and month since a time.
// It reveals no person.
func (s *Service) Tallies(ctx context.Context, since time.Time) ([]indicator.Tally, error) {
	d := s.db.Dialect
	return indicator.Gather(ctx, s.db, since, map[string]string{
		indicator.EIDReceived: `SELECT commune, ` + d.MonthVN("submitted_at") + `, COUNT(*) FROM eid_application WHERE submitted_at >= $1 GROUP BY 1, 2`,
		indicator.EIDApproved: `SELECT commune, ` + d.MonthVN("decided_at") + `, COUNT(*) FROM eid_application WHERE state = 'approved' AND decided_at >= $1 GROUP BY 1, 2`,
		// An account is counted where its first approved application was taken.
		indicator.EIDActivated: `SELECT COALESCE((SELECT MIN(p.commune) FROM eid_application p WHERE p.pid = a.pid AND p.state = 'approved'), ''), ` +
			d.MonthVN("a.activated_at") + `, COUNT(*) FROM eid_account a WHERE a.activated_at >= $1 GROUP BY 1, 2`,
	})
}
