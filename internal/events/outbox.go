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
func Emit(ctx context.Context, tx *sql.Tx, typ, subject string, data any, now time.Time) error {
	body, err := json.Marshal(data)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO event_outbox (id, type, subject, data, created_at) VALUES ($1, $2, $3, $4, $5)`,
		uuid.Must(uuid.NewV7()).String(), typ, subject, string(body), now)
	return err
}
