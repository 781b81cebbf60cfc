package sqldb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Dialect is one of the two SQL engines. The differences between them are
// kept here and nowhere else.
type Dialect int

// The supported engines.
const (
	SQLite Dialect = iota
	Postgres
)

func (d Dialect) String() string {
	if d == Postgres {
		return "postgres"
	}
	return "sqlite"
}

// typeWords are the column types the migrations are written with (the
// PostgreSQL names) and what SQLite calls them. modernc's driver turns a
// TIMESTAMP column back into time.Time, and JSON is plain text in SQLite.
var typeWords = strings.NewReplacer(
	"TIMESTAMPTZ", "TIMESTAMP",
	"JSONB", "TEXT",
	"BYTEA", "BLOB",
	`COLLATE "C"`, "COLLATE BINARY",
)

// rewrite adapts migration SQL written for PostgreSQL to the dialect.
func (d Dialect) rewrite(sql string) string {
	if d == Postgres {
		return sql
	}
	return typeWords.Replace(sql)
}

// IsUniqueViolation reports whether err is a unique or primary-key violation.
func IsUniqueViolation(err error) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code == "23505"
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// IsForeignKeyViolation reports whether err is a foreign-key violation.
func IsForeignKeyViolation(err error) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code == "23503"
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
	}
	return false
}

// isRetryable reports whether a transaction failed only because of
// contention, so that running it again from the start is safe.
func isRetryable(err error) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code == "40001" || pg.Code == "40P01" // serialization failure, deadlock
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		c := se.Code() & 0xff
		return c == sqlite3.SQLITE_BUSY || c == sqlite3.SQLITE_LOCKED
	}
	return false
}

// AnyOf is the condition "column is one of values", the values bound as
// the one parameter $n: a JSON array unpacked by json_each in SQLite, a
// text array in PostgreSQL. One statement then reads many rows by their
// keys through the index, instead of one round trip per key.
func (d Dialect) AnyOf(column string, n int, values []string) (string, any) {
	if d == SQLite {
		arr, _ := json.Marshal(values)
		return fmt.Sprintf("%s IN (SELECT value FROM json_each($%d))", column, n), string(arr)
	}
	return fmt.Sprintf("%s = ANY($%d::text[])", column, n), values
}

// LockKey serializes, until tx ends, the transactions that lock the same
// key: a check-then-write on a counter (a throttle) is then atomic, across
// every process on the database. PostgreSQL takes a transaction-scoped
// advisory lock; SQLite has one writer, so a transaction that writes before
// it reads is serialized already and nothing is taken.
func (d Dialect) LockKey(ctx context.Context, tx *sql.Tx, key string) error {
	if d != Postgres {
		return nil
	}
	_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, key)
	return err
}

// MonthVN is the SQL expression of the month (YYYY-MM) of a timestamp
// column on Vietnam's clock (UTC+7, no daylight saving).
func (d Dialect) MonthVN(column string) string {
	if d == Postgres {
		return "to_char(" + column + " AT TIME ZONE 'Asia/Ho_Chi_Minh', 'YYYY-MM')"
	}
	return "strftime('%Y-%m', " + column + ", '+7 hours')"
}

// JSONRows is a SELECT of the rows of a JSON array of arrays bound as the
// parameter param ("$1"): column i is element i of each row, as text, or
// as a BIGINT where kinds[i] is "int". One statement then writes any
// number of rows with one parameter (INSERT … SELECT), where a VALUES list
// would bind four parameters a row and SQLite looks each up by name.
func (d Dialect) JSONRows(param string, kinds ...string) string {
	cols := make([]string, len(kinds))
	for i, k := range kinds {
		switch {
		case d == Postgres && k == "int":
			cols[i] = fmt.Sprintf("(r->>%d)::bigint", i)
		case d == Postgres:
			cols[i] = fmt.Sprintf("r->>%d", i)
		case k == "int":
			cols[i] = fmt.Sprintf("CAST(json_extract(value, '$[%d]') AS INTEGER)", i)
		default:
			cols[i] = fmt.Sprintf("json_extract(value, '$[%d]')", i)
		}
	}
	if d == Postgres {
		return "SELECT " + strings.Join(cols, ", ") + " FROM jsonb_array_elements(CAST(" + param + " AS JSONB)) r"
	}
	return "SELECT " + strings.Join(cols, ", ") + " FROM json_each(" + param + ")"
}
