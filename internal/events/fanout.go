package events

import (
	"context"
	"database/sql"
	"encoding/json"
	"slices"
)

const (
	// fanOutBatch is how many queued events one fan-out transaction takes.
	fanOutBatch = 1000
	// fanOutLock names the lock that lets one server at a time fan out.
	fanOutLock = 7368013
)

// fanOut gives every subscription a delivery, and every stream sink a
// queue entry, for each event in the fan-out queue, and takes the events
// off the queue in the same transaction. The queue holds exactly the
// committed events not yet fanned out, whatever order their transactions
// committed in, so none is skipped, and none is fanned out twice.
//
// One fan-out runs at a time across all servers on the database: two
// fanning out at once (each skipping the rows the other locked) could
// commit one person's later event before the earlier one, and the
// delivery of the later one would then overtake it. Fanning out is a few
// inserts per event; the slow part, delivery, runs in parallel.
//
// A subscription receives the events fanned out after it was created, so
// also those committed up to about one delivery interval before it.
func (s *Service) fanOut(ctx context.Context) error {
	for {
		n, err := s.fanOutBatch(ctx)
		if err != nil || n < fanOutBatch {
			return err
		}
	}
}

func (s *Service) fanOutBatch(ctx context.Context) (int, error) {
	now := s.now().UTC()
	n := 0
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		n = 0
		if ok, err := s.db.TryLockTx(ctx, tx, fanOutLock); err != nil || !ok {
			return err // another server is fanning out: it takes these too
		}
		rows, err := tx.QueryContext(ctx, `SELECT p.event_id, e.type FROM event_pending p JOIN event_outbox e ON e.id = p.event_id
			ORDER BY p.event_id LIMIT $1`, fanOutBatch)
		if err != nil {
			return err
		}
		var ids, types []string
		for rows.Next() {
			var id, typ string
			if err := rows.Scan(&id, &typ); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
			if !slices.Contains(types, typ) {
				types = append(types, typ)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil || len(ids) == 0 {
			return err
		}
		subs, err := subscriptionTypes(ctx, tx)
		if err != nil {
			return err
		}
		for id, want := range subs {
			want = slices.DeleteFunc(want, func(t string) bool { return !slices.Contains(types, t) })
			if len(want) == 0 {
				continue
			}
			inIDs, idArg := s.db.Dialect.AnyOf("id", 3, ids)
			inTypes, typeArg := s.db.Dialect.AnyOf("type", 4, want)
			if _, err := tx.ExecContext(ctx, `INSERT INTO delivery (subscription_id, event_id, subject, attempts, next_at, dead, last_error)
				SELECT $1, id, subject, 0, $2, false, '' FROM event_outbox WHERE `+inIDs+` AND `+inTypes+` ON CONFLICT DO NOTHING`,
				id, now, idArg, typeArg); err != nil {
				return err
			}
		}
		inIDs, idArg := s.db.Dialect.AnyOf("e.id", 1, ids)
		if _, err := tx.ExecContext(ctx, `INSERT INTO sink_pending (sink, event_id)
			SELECT k.name, e.id FROM event_sink k, event_outbox e WHERE `+inIDs+` ON CONFLICT DO NOTHING`, idArg); err != nil {
			return err
		}
		inIDs, idArg = s.db.Dialect.AnyOf("event_id", 1, ids)
		if _, err := tx.ExecContext(ctx, `DELETE FROM event_pending WHERE `+inIDs, idArg); err != nil {
			return err
		}
		n = len(ids)
		return nil
	})
	return n, err
}

// subscriptionTypes returns the event types of every enabled subscription.
func subscriptionTypes(ctx context.Context, tx *sql.Tx) (map[string][]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, types FROM subscription WHERE NOT disabled`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var id, types string
		if err := rows.Scan(&id, &types); err != nil {
			return nil, err
		}
		var list []string
		if err := json.Unmarshal([]byte(types), &list); err != nil {
			return nil, err
		}
		out[id] = list
	}
	return out, rows.Err()
}
