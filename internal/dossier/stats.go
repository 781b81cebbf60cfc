package dossier

import (
	"context"
	"regexp"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/adminunit"
	"github.com/dancu-vn/dancu/internal/errs"
)

// Stat is how one unit handled one service in one month.
type Stat struct {
	Month      string  `json:"month" doc:"YYYY-MM of submission (Viet Nam time)"`
	Commune    string  `json:"commune"`
	Service    string  `json:"service"`
	Submitted  int     `json:"submitted"`
	Decided    int     `json:"decided" doc:"Approved or refused"`
	OnTime     int     `json:"on_time" doc:"Decided within the statutory deadline"`
	Overdue    int     `json:"overdue_open" doc:"Received, undecided and past the deadline now"`
	Withdrawn  int     `json:"withdrawn"`
	OnTimeRate float64 `json:"on_time_rate" doc:"on_time / decided"`
	Resolution float64 `json:"resolution_rate" doc:"decided / (submitted - withdrawn)"`
}

var monthPattern = regexp.MustCompile(`^20[0-9]{2}-(0[1-9]|1[0-2])$`)

// Stats gives on-time and resolution rates per unit and service for a
// month, within the officer's jurisdiction.
func (s *Service) Stats(ctx context.Context, month string) ([]Stat, error) {
	a, err := access.Require(ctx, access.HandleDossier)
	if err != nil {
		return nil, err
	}
	if !monthPattern.MatchString(month) {
		return nil, errs.Field("month", "must be a month YYYY-MM")
	}
	rows, err := s.db.QueryContext(ctx, `SELECT commune, service, COUNT(*),
		SUM(CASE WHEN state IN ('approved', 'refused', 'returned') THEN 1 ELSE 0 END),
		SUM(CASE WHEN decided_at IS NOT NULL AND state <> 'withdrawn' AND decided_at <= due_at THEN 1 ELSE 0 END),
		SUM(CASE WHEN state = 'received' AND due_at < $2 THEN 1 ELSE 0 END),
		SUM(CASE WHEN state = 'withdrawn' THEN 1 ELSE 0 END)
		FROM dossier WHERE month = $1 GROUP BY commune, service ORDER BY commune, service`, month, s.clock())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Stat{}
	for rows.Next() {
		st := Stat{Month: month}
		if err := rows.Scan(&st.Commune, &st.Service, &st.Submitted, &st.Decided, &st.OnTime, &st.Overdue, &st.Withdrawn); err != nil {
			return nil, err
		}
		if a.Kind != actor.System && !s.policy.Covers(a.Jurisdiction, access.Place{Scheme: adminunit.Scheme2025, Commune: st.Commune}) {
			continue
		}
		if st.Decided > 0 {
			st.OnTimeRate = float64(st.OnTime) / float64(st.Decided)
		}
		if n := st.Submitted - st.Withdrawn; n > 0 {
			st.Resolution = float64(st.Decided) / float64(n)
		}
		out = append(out, st)
	}
	return out, rows.Err()
}
