package events

import (
	"context"
	"database/sql"
	"encoding/json"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/audit"
	"github.com/dancu-vn/dancu/internal/errs"
)

// SubscriptionStatus is a subscription as the administrators see it: the
// webhook and how many deliveries are pending or given up on.
type SubscriptionStatus struct {
	Subscription
	Disabled bool `json:"disabled"`
	Pending  int  `json:"pending"`
	Dead     int  `json:"dead"`
}

// AllSubscriptions lists every agency's subscriptions with their delivery
// counts, by agency then creation. Administrators only.
func (s *Service) AllSubscriptions(ctx context.Context) ([]SubscriptionStatus, error) {
	if _, err := access.Require(ctx, access.ManageOfficers); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT s.id, s.agency, s.url, s.types, s.disabled, s.created_at,
		(SELECT COUNT(*) FROM delivery d WHERE d.subscription_id = s.id AND d.delivered_at IS NULL AND NOT d.dead),
		(SELECT COUNT(*) FROM delivery d WHERE d.subscription_id = s.id AND d.dead)
		FROM subscription s ORDER BY s.agency, s.created_at`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []SubscriptionStatus{}
	for rows.Next() {
		var x SubscriptionStatus
		var types string
		if err := rows.Scan(&x.ID, &x.Agency, &x.URL, &types, &x.Disabled, &x.CreatedAt, &x.Pending, &x.Dead); err != nil {
			return nil, err
		}
		json.Unmarshal([]byte(types), &x.Types)
		out = append(out, x)
	}
	return out, rows.Err()
}

// SubscriptionDeadLetters lists a subscription's dead letters for the
// administrators (DeadLetters is for the agency owning it).
func (s *Service) SubscriptionDeadLetters(ctx context.Context, id string) ([]DeadLetter, error) {
	if _, err := access.Require(ctx, access.ManageOfficers); err != nil {
		return nil, err
	}
	return s.deadLetters(ctx, id, 500)
}

// RetryDeadLetter puts one dead letter back in the queue: it is attempted
// again at the next delivery round with a fresh count of attempts.
// Administrators only; audited. NotFound when the subscription has no
// such dead letter.
func (s *Service) RetryDeadLetter(ctx context.Context, id, eventID string) error {
	if _, err := access.Require(ctx, access.ManageOfficers); err != nil {
		return err
	}
	now := s.now().UTC()
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE delivery SET dead = false, attempts = 0, next_at = $1, last_error = ''
			WHERE subscription_id = $2 AND event_id = $3 AND dead`, now, id, eventID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.E(errs.NotFound, "no dead letter %s of subscription %s", eventID, id)
		}
		return audit.WriteTx(ctx, tx, audit.NewEvent(ctx, now, "dead_letter_retry", "", id+" "+eventID))
	})
}
