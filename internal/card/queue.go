package card

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/adminunit"
	"github.com/dancu-vn/dancu/internal/audit"
	"github.com/dancu-vn/dancu/internal/errs"
)

// IssueDays is the statutory deadline of a card, in working days from a
// complete application (Luật Căn cước 2023, Điều 26: not more than 7).
const IssueDays = 7

// QueueItem is a card application in a work queue, with its card once
// produced.
type QueueItem struct {
	CardApplication
	CardID      string     `json:"card_id,omitempty"`
	DeliveredAt *time.Time `json:"delivered_at,omitempty"`
}

// QueueStates are the states a queue lists: waiting for a decision, for
// production, and for delivery.
var QueueStates = []string{"submitted", "approved", "produced"}

// Queue lists the card applications of the officer's jurisdiction in a
// state (submitted, approved or produced), the oldest first. The queue
// names each applicant: one group record says whom it showed.
func (s *Service) Queue(ctx context.Context, state string, limit int) ([]QueueItem, error) {
	a, err := access.Require(ctx, access.WriteCitizen)
	if err != nil {
		return nil, err
	}
	switch state {
	case "submitted", "approved", "produced":
	default:
		return nil, errs.Field("state", "must be submitted, approved or produced")
	}
	if limit <= 0 || limit > 500 {
		limit = 200
	}
	q := `SELECT a.id, a.pid, a.kind, a.reason, a.state, a.commune, a.submitted_at, a.decided_at, a.note, COALESCE(c.id, ''), c.delivered_at
		FROM card_application a LEFT JOIN card c ON c.application_id = a.id WHERE a.state = $1`
	args := []any{state}
	if a.Kind != actor.System && a.Jurisdiction.Level == actor.Commune {
		args = append(args, a.Jurisdiction.Code)
		q += fmt.Sprintf(" AND a.commune = $%d", len(args))
	}
	q += " ORDER BY a.submitted_at, a.id"
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []QueueItem
	for rows.Next() && len(out) < limit {
		var it QueueItem
		var decided, delivered sql.NullTime
		if err := rows.Scan(&it.ID, &it.PID, &it.Kind, &it.Reason, &it.State, &it.Commune, &it.SubmittedAt, &decided, &it.Note, &it.CardID, &delivered); err != nil {
			return nil, err
		}
		if a.Kind != actor.System && a.Jurisdiction.Level != actor.Commune &&
			!s.policy.Covers(a.Jurisdiction, access.Place{Scheme: adminunit.Scheme2025, Commune: it.Commune}) {
			continue
		}
		it.SubmittedAt = it.SubmittedAt.UTC()
		if decided.Valid {
			t := decided.Time.UTC()
			it.DecidedAt = &t
		}
		if delivered.Valid {
			t := delivered.Time.UTC()
			it.DeliveredAt = &t
		}
		out = append(out, it)
	}
	if err := rows.Err(); err != nil || len(out) == 0 {
		return out, err
	}
	rows.Close()
	subjects := make([]string, 0, len(out))
	for _, it := range out {
		subjects = append(subjects, it.PID)
	}
	ev := audit.NewGroupEvent(ctx, s.clock(), "card_queue", subjects, state)
	ev.Purpose = "card applications"
	if err := s.db.InTx(ctx, func(tx *sql.Tx) error { return audit.WriteTx(ctx, tx, ev) }); err != nil {
		return nil, err
	}
	return out, nil
}
