// Package audit records every read and change of personal data, and every
// authentication event, in the append-only access_event table. The
// tamper-evident chain over these records is built on the same table.
package audit

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/sqldb"
)

// Event is one access to, or change of, personal data.
type Event struct {
	ID      string    `json:"id"`
	At      time.Time `json:"at"`
	ActorID string    `json:"actor_id"`
	Kind    string    `json:"actor_kind"`
	Name    string    `json:"actor_name"`
	Action  string    `json:"action"`            // read, search, register_birth, update, login, login_failed, …
	Subject string    `json:"subject,omitempty"` // personal ID number of the person concerned
	Purpose string    `json:"purpose,omitempty"`
	Detail  string    `json:"detail,omitempty"`
	Source  string    `json:"source,omitempty"`
	// Subjects are the people a group event concerns (NewGroupEvent).
	Subjects []string `json:"-"`
}

// NewEvent fills in the ID, time and actor of an event from ctx.
func NewEvent(ctx context.Context, now time.Time, action, subject, detail string) Event {
	ev := Event{ID: uuid.Must(uuid.NewV7()).String(), At: now.UTC(), Action: action, Subject: subject, Detail: detail}
	if a, ok := actor.From(ctx); ok {
		ev.ActorID, ev.Kind, ev.Name, ev.Source = a.ID, string(a.Kind), a.Name, a.Source
	} else {
		ev.ActorID, ev.Kind, ev.Name = "anonymous", "anonymous", "anonymous"
	}
	return ev
}

const insertEvent = `INSERT INTO access_event (id, at, actor_id, actor_kind, actor_name, action, subject_pid, purpose, detail, source) VALUES `

func (e Event) args() []any {
	return []any{e.ID, e.At, e.ActorID, e.Kind, e.Name, e.Action, e.Subject, e.Purpose, e.Detail, e.Source}
}

// WriteTx records events inside the caller's transaction, so that a change
// and its record commit or fail together.
func WriteTx(ctx context.Context, tx *sql.Tx, evs ...Event) error {
	for _, e := range evs {
		if _, err := tx.ExecContext(ctx, insertEvent+"($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)", e.args()...); err != nil {
			return fmt.Errorf("record access event: %w", err)
		}
	}
	for _, e := range evs {
		for _, pid := range e.Subjects {
			if _, err := tx.ExecContext(ctx, `INSERT INTO access_subject (subject_pid, event_id) VALUES ($1, $2)`, pid, e.ID); err != nil {
				return fmt.Errorf("record the subjects of access event %s: %w", e.ID, err)
			}
		}
	}
	return nil
}

// rowsPerInsert keeps one multi-row INSERT under PostgreSQL's limit on
// bound parameters (10 per row).
const rowsPerInsert = 200

// writeMany records many events. PostgreSQL takes them in multi-row
// INSERTs. SQLite takes them through one prepared single-row statement:
// modernc's driver binds each parameter by scanning the argument list, so
// a multi-row INSERT would be quadratic in its parameters.
func writeMany(ctx context.Context, tx *sql.Tx, d sqldb.Dialect, evs []Event) error {
	if d == sqldb.SQLite {
		stmt, err := tx.PrepareContext(ctx, insertEvent+"($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)")
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, e := range evs {
			if _, err := stmt.ExecContext(ctx, e.args()...); err != nil {
				return fmt.Errorf("record access events: %w", err)
			}
		}
		return nil
	}
	for len(evs) > 0 {
		n := min(len(evs), rowsPerInsert)
		var q strings.Builder
		q.WriteString(insertEvent)
		args := make([]any, 0, 10*n)
		for i, e := range evs[:n] {
			if i > 0 {
				q.WriteString(", ")
			}
			b := len(args)
			fmt.Fprintf(&q, "($%d,$%d,$%d,$%d,$%d,$%d,$%d,$%d,$%d,$%d)", b+1, b+2, b+3, b+4, b+5, b+6, b+7, b+8, b+9, b+10)
			args = append(args, e.args()...)
		}
		if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
			return fmt.Errorf("record access events: %w", err)
		}
		evs = evs[n:]
	}
	return nil
}

// Recorder writes read events with group commit: each caller waits until
// its event is durably stored, but many callers share one transaction, so a
// read-heavy load does not queue one write per read on the database lock.
type Recorder struct {
	db    *sqldb.DB
	log   *slog.Logger
	queue chan pending
	stop  chan struct{}
	done  chan struct{}
	// mu orders senders against Close: once closed is set no event enters
	// the queue, so the run loop's final drain answers every accepted one.
	mu     sync.RWMutex
	closed bool
}

type pending struct {
	evs   []Event
	reply chan error
}

// maxBatch bounds one group-commit transaction.
const maxBatch = 512

// NewRecorder starts a recorder writing to db. Close stops it.
func NewRecorder(db *sqldb.DB, log *slog.Logger) *Recorder {
	r := &Recorder{db: db, log: log, queue: make(chan pending, 4*maxBatch), stop: make(chan struct{}), done: make(chan struct{})}
	go r.run()
	return r
}

// Record stores evs and returns once they are committed. Personal data must
// not be returned to a caller whose read could not be recorded.
func (r *Recorder) Record(ctx context.Context, evs ...Event) error {
	if len(evs) == 0 {
		return nil
	}
	for i := range evs {
		evs[i].sanitise()
	}
	p := pending{evs: evs, reply: make(chan error, 1)}
	r.mu.RLock()
	if r.closed {
		r.mu.RUnlock()
		return errs.E(errs.Unavailable, "the audit recorder is shutting down")
	}
	select {
	case r.queue <- p:
		r.mu.RUnlock()
	case <-ctx.Done():
		r.mu.RUnlock()
		return ctx.Err()
	}
	select {
	case err := <-p.reply:
		return err
	case <-ctx.Done():
		// The event may still commit; the caller gets no data either way.
		return ctx.Err()
	}
}

func (r *Recorder) run() {
	defer close(r.done)
	batch := make([]pending, 0, maxBatch)
	for {
		select {
		case p := <-r.queue:
			batch = append(batch[:0], p)
		case <-r.stop:
			// Drain what was queued before Close.
			for {
				select {
				case p := <-r.queue:
					r.flush([]pending{p})
				default:
					return
				}
			}
		}
	fill:
		for len(batch) < maxBatch {
			select {
			case p := <-r.queue:
				batch = append(batch, p)
			default:
				break fill
			}
		}
		r.flush(batch)
	}
}

func (r *Recorder) flush(batch []pending) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := r.db.InTx(ctx, func(tx *sql.Tx) error {
		var evs []Event
		for _, p := range batch {
			evs = append(evs, p.evs...)
		}
		if err := writeMany(ctx, tx, r.db.Dialect, evs); err != nil {
			return err
		}
		return writeSubjects(ctx, tx, r.db.Dialect, evs)
	})
	if err != nil {
		r.log.Error("audit: cannot record access events", "count", len(batch), "err", err)
		err = errs.Wrap(errs.Unavailable, err, "the access could not be recorded, try again")
	}
	for _, p := range batch {
		p.reply <- err
	}
}

// Close stops the recorder after writing what is queued. Record calls
// after Close return Unavailable.
func (r *Recorder) Close() {
	r.mu.Lock()
	if !r.closed {
		r.closed = true
		close(r.stop)
	}
	r.mu.Unlock()
	<-r.done
}

// sanitise makes every text field storable on both engines (valid UTF-8,
// no NUL), so that one caller's odd input can never fail the batch it
// shares with other callers' reads.
func (e *Event) sanitise() {
	for _, f := range []*string{&e.ID, &e.ActorID, &e.Kind, &e.Name, &e.Action, &e.Subject, &e.Purpose, &e.Detail, &e.Source} {
		if !utf8.ValidString(*f) || strings.ContainsRune(*f, 0) {
			*f = strings.ReplaceAll(strings.ToValidUTF8(*f, "\uFFFD"), "\x00", "")
		}
	}
}
