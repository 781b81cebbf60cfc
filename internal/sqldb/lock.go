package sqldb

import (
	"context"
	"database/sql"
)

// TryLockTx takes the exclusive lock named key for the rest of tx, if no
// other transaction holds it, and reports whether it did; a caller that did
// not get it leaves the work to the one that did. PostgreSQL takes an
// advisory transaction lock. SQLite needs none: its writers take the
// database lock at BEGIN (see Open), so one write transaction runs at a
// time anyway.
func (d *DB) TryLockTx(ctx context.Context, tx *sql.Tx, key int64) (bool, error) {
	if d.Dialect != Postgres {
		return true, nil
	}
	var ok bool
	err := tx.QueryRowContext(ctx, `SELECT pg_try_advisory_xact_lock($1)`, key).Scan(&ok)
	return ok, err
}
