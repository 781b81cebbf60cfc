package sqldb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/dancu-vn/dancu/internal/errs"
)

// IsTransient reports whether err says the store cannot do the work now but
// may soon: the connection was lost or refused (a PostgreSQL restart or
// failover, pg_terminate_backend), the server is starting or shutting
// down, it is out of connections, memory or disk, the database refuses
// writes (a read-only replica or default_transaction_read_only, a
// read-only SQLite file), SQLite stayed busy or locked past its timeout,
// or a disk read or write failed. Such an error is the caller's cue to
// try again later, not a bug.
func IsTransient(err error) bool {
	if err == nil {
		return false
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		switch {
		case strings.HasPrefix(pg.Code, "08"): // connection exception
			return true
		case strings.HasPrefix(pg.Code, "53"): // insufficient resources: disk full, out of memory, too many connections
			return true
		case strings.HasPrefix(pg.Code, "58"): // system error: I/O
			return true
		}
		switch pg.Code {
		case "57P01", "57P02", "57P03", // admin shutdown (pg_terminate_backend), crash shutdown, cannot connect now
			"25006",          // read-only SQL transaction: a replica, or writes switched off
			"40001", "40P01", // serialization failure, deadlock: InTx retried them already
			"55P03": // lock not available
			return true
		}
		return false
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_FULL, sqlite3.SQLITE_READONLY,
			sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_NOMEM, sqlite3.SQLITE_PROTOCOL:
			return true
		}
		return false
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	switch {
	case errors.As(err, &ce), errors.As(err, &ne),
		pgconn.SafeToRetry(err), pgconn.Timeout(err),
		errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EROFS),
		// The pool could not give a connection in time.
		errors.Is(err, context.DeadlineExceeded):
		return true
	}
	return false
}

// Classify returns err as an Unavailable error when it is transient
// (IsTransient), so that the API answers 503 with Retry-After instead of
// 500; any other error is returned as it is.
func Classify(err error) error {
	if errs.KindOf(err) != errs.Internal || !IsTransient(err) {
		return err
	}
	return errs.Wrap(errs.Unavailable, err, "the database is unavailable for now, try again")
}

// ProbeWrite checks that the store takes writes now: it deletes nothing
// from the migration table in a transaction it rolls back. A read-only
// PostgreSQL database refuses the statement, a read-only or locked SQLite
// file refuses the transaction; a lost connection fails it. It writes
// nothing, so the probe needs no table of its own.
func (d *DB) ProbeWrite(ctx context.Context) error {
	tx, err := d.BeginTx(ctx, nil)
	if err != nil {
		return Classify(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM schema_migration WHERE 1 = 0`); err != nil {
		return Classify(err)
	}
	return nil
}
