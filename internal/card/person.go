package card

import (
	"context"
	"database/sql"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/audit"
)

// OfPerson lists a person's cards, newest first, to their holder or to an
// officer who may read the person's record; the read is recorded.
func (s *Service) OfPerson(ctx context.Context, pid string) ([]Card, error) {
	purpose := "reading the record"
	if a, ok := actor.From(ctx); ok && a.Kind == actor.Citizen && a.ID == pid {
		purpose = "the holder's own cards"
	} else if _, err := s.registry.RequireOver(ctx, access.ReadCitizen, pid); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, pid, status, issued_on, expires_on, commune FROM card WHERE pid = $1 ORDER BY issued_on DESC, id DESC LIMIT 50`, pid)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Card
	for rows.Next() {
		var c Card
		if err := rows.Scan(&c.ID, &c.PID, &c.Status, &c.IssuedOn, &c.ExpiresOn, &c.Commune); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	ev := audit.NewEvent(ctx, s.clock(), "card_list", pid, "")
	ev.Purpose = purpose
	if err := s.db.InTx(ctx, func(tx *sql.Tx) error { return audit.WriteTx(ctx, tx, ev) }); err != nil {
		return nil, err
	}
	return out, nil
}
