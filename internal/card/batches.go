package card

import (
	"context"
	"fmt"
	"time"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/adminunit"
)

// BatchSummary is a production batch as the batches page lists it: how
// many cards it produced and how many have reached their holders.
type BatchSummary struct {
	ID        string    `json:"id"`
	Commune   string    `json:"commune"`
	Cards     int       `json:"cards"`
	Delivered int       `json:"delivered"`
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by"`
	ByName    string    `json:"created_by_name"`
}

// Awaiting is the number of approved applications of a commune waiting to
// be produced, and since when the oldest has waited.
type Awaiting struct {
	Commune string    `json:"commune"`
	Count   int       `json:"count"`
	Oldest  time.Time `json:"oldest"`
}

// jurisdictionFilter narrows a query on a commune column to the officer's
// jurisdiction: in SQL for a commune officer, after the query (keep) for
// wider ones.
func (s *Service) jurisdictionFilter(a *actor.Actor, col string, args []any) (string, []any, func(commune string) bool) {
	keep := func(string) bool { return true }
	if a.Kind == actor.System {
		return "", args, keep
	}
	if a.Jurisdiction.Level == actor.Commune {
		args = append(args, a.Jurisdiction.Code)
		return fmt.Sprintf(" AND %s = $%d", col, len(args)), args, keep
	}
	j := a.Jurisdiction
	return "", args, func(commune string) bool {
		return s.policy.Covers(j, access.Place{Scheme: adminunit.Scheme2025, Commune: commune})
	}
}

// Batches lists the production batches of the officer's jurisdiction, the
// newest first. A batch names no person, so reading it is not recorded.
func (s *Service) Batches(ctx context.Context, limit int) ([]BatchSummary, error) {
	a, err := access.Require(ctx, access.WriteCitizen)
	if err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	where, args, keep := s.jurisdictionFilter(a, "b.commune", nil)
	rows, err := s.db.QueryContext(ctx, `SELECT b.id, b.commune, b.cards, b.created_at, b.created_by, b.created_by_name,
		(SELECT COUNT(*) FROM card c WHERE c.batch_id = b.id AND c.batch_id <> '' AND c.delivered_at IS NOT NULL)
		FROM card_batch b WHERE 1 = 1`+where+` ORDER BY b.created_at DESC, b.id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []BatchSummary{}
	for rows.Next() && len(out) < limit {
		var b BatchSummary
		if err := rows.Scan(&b.ID, &b.Commune, &b.Cards, &b.CreatedAt, &b.CreatedBy, &b.ByName, &b.Delivered); err != nil {
			return nil, err
		}
		if keep(b.Commune) {
			b.CreatedAt = b.CreatedAt.UTC()
			out = append(out, b)
		}
	}
	return out, rows.Err()
}

// AwaitingProduction counts the approved applications of each commune of
// the officer's jurisdiction that no batch has produced yet, the commune
// waiting longest first.
func (s *Service) AwaitingProduction(ctx context.Context) ([]Awaiting, error) {
	a, err := access.Require(ctx, access.WriteCitizen)
	if err != nil {
		return nil, err
	}
	where, args, keep := s.jurisdictionFilter(a, "commune", nil)
	rows, err := s.db.QueryContext(ctx, `SELECT commune, submitted_at FROM card_application
		WHERE state = 'approved'`+where+` ORDER BY submitted_at, id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Awaiting{}
	at := map[string]int{}
	for rows.Next() {
		var commune string
		var submitted time.Time
		if err := rows.Scan(&commune, &submitted); err != nil {
			return nil, err
		}
		if !keep(commune) {
			continue
		}
		i, ok := at[commune]
		if !ok {
			i, at[commune] = len(out), len(out)
			out = append(out, Awaiting{Commune: commune, Oldest: submitted.UTC()})
		}
		out[i].Count++
	}
	return out, rows.Err()
}
