package events

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/google/uuid"
)

// Emit writes a change event to the transactional outbox in tx, the
// transaction of the change itself, so an event exists exactly when its
// change committed. subject is the personal ID number the event is about
// (events of one subject are delivered in order); data holds no more than
// the event needs: numbers, dates, codes, never names or addresses.
//
// The event also joins the fan-out queue (event_pending) in tx, so that
// the fan-out finds it whenever tx commits, however long after its ID was
// drawn.
func Emit(ctx context.Context, tx *sql.Tx, typ, subject string, data any, now time.Time) error {
	body, err := json.Marshal(data)
	if err != nil {
		return err
	}
	id := uuid.Must(uuid.NewV7()).String()
	if _, err := tx.ExecContext(ctx, `INSERT INTO event_outbox (id, type, subject, data, created_at) VALUES ($1, $2, $3, $4, $5)`,
		id, typ, subject, string(body), now); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO event_pending (event_id) VALUES ($1)`, id)
	return err
}
