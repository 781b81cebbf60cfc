package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/sqldb"
)

// Filter selects access events. Zero fields do not filter.
type Filter struct {
	Subject string
	ActorID string
	Before  string // event ID to continue after (keyset, newest first)
	Limit   int
}

// List returns events newest first.
func List(ctx context.Context, q sqldb.Querier, f Filter) ([]Event, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	where, args := "1=1", []any{}
	add := func(cond string, v any) {
		args = append(args, v)
		where += fmt.Sprintf(" AND "+cond, len(args))
	}
	if f.Subject != "" {
		// Events about the person alone, and group events naming them.
		add("(subject_pid = $%[1]d OR id IN (SELECT event_id FROM access_subject WHERE subject_pid = $%[1]d))", f.Subject)
	}
	if f.ActorID != "" {
		add("actor_id = $%d", f.ActorID)
	}
	if f.Before != "" {
		add("id < $%d", f.Before)
	}
	args = append(args, f.Limit)
	rows, err := q.QueryContext(ctx, `SELECT id, at, actor_id, actor_kind, actor_name, action, subject_pid, purpose, detail, source
		FROM access_event WHERE `+where+fmt.Sprintf(` ORDER BY id DESC LIMIT $%d`, len(args)), args...)
	if err != nil {
		return nil, fmt.Errorf("list access events: %w", err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		if err := rows.Scan(&e.ID, &e.At, &e.ActorID, &e.Kind, &e.Name, &e.Action, &e.Subject, &e.Purpose, &e.Detail, &e.Source); err != nil {
			return nil, err
		}
		e.At = e.At.In(time.UTC)
		if e.Subject == "" && f.Subject != "" {
			e.Subject = f.Subject // a group event, found through access_subject
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// ByID returns one access event, NotFound if there is none.
func ByID(ctx context.Context, q sqldb.Querier, id string) (Event, error) {
	e, err := scanEvent(q.QueryRowContext(ctx, `SELECT `+eventColumns+` FROM access_event WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return e, errs.E(errs.NotFound, "no access event %s", id)
	}
	return e, err
}

// Oversee lists events for an overseer (the caller has checked the
// permission) and records the reading: the log says whom was read, so
// reading it is itself a read of those people, recorded as one group
// record before the events are returned.
func Oversee(ctx context.Context, db *sqldb.DB, f Filter, now time.Time) ([]Event, error) {
	evs, err := List(ctx, db, f)
	if err != nil {
		return nil, err
	}
	var subjects []string
	for _, e := range evs {
		if e.Subject != "" {
			subjects = append(subjects, e.Subject)
		}
	}
	if f.Subject != "" {
		subjects = append(subjects, f.Subject)
	}
	if len(subjects) > 0 {
		ev := NewGroupEvent(ctx, now, "read_access_log", subjects, "")
		ev.Purpose = "oversight of the access log"
		if err := db.InTx(ctx, func(tx *sql.Tx) error { return WriteTx(ctx, tx, ev) }); err != nil {
			return nil, err
		}
	}
	return evs, nil
}
