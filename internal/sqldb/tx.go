package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/dancu-vn/dancu/internal/errs"
)

// Querier is what both *sql.DB and *sql.Tx offer; read paths take it so that
// they work inside and outside a transaction.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// waitedOut is how long a failed attempt must have taken for InTx to take
// it that the engine waited for the lock itself, and not try again.
const waitedOut = time.Second

// InTx runs fn in a transaction and commits it if fn returns nil. A
// transaction that failed only because of contention (a serialization
// failure or deadlock in PostgreSQL, a busy database in SQLite) is run again
// from the start, a few times, with jittered backoff, unless the engine had
// waited for the lock already; fn must therefore have no effects outside
// the transaction. A store that cannot work now answers Unavailable.
func (d *DB) InTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	const attempts = 5
	var err error
	for i := 0; i < attempts; i++ {
		began := time.Now()
		err = d.inTxOnce(ctx, fn)
		if err == nil || !isRetryable(err) {
			return Classify(err)
		}
		if time.Since(began) > waitedOut {
			// The engine waited for the lock already (SQLite's busy
			// timeout): another try would make the caller wait as long
			// again for the same answer.
			break
		}
		backoff := time.Duration(1<<i)*5*time.Millisecond + time.Duration(rand.IntN(5))*time.Millisecond
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
	}
	return errs.Wrap(errs.Unavailable, err, "the database is busy, try again")
}

func (d *DB) inTxOnce(ctx context.Context, fn func(tx *sql.Tx) error) (err error) {
	tx, err := d.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			tx.Rollback()
			panic(p)
		}
		if err != nil {
			tx.Rollback()
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}
