package sqldb_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

// TestTransientSQLite: a read-only file and a write lock held too long are
// transient (Unavailable), and the write probe sees the lock.
func TestTransientSQLite(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "dancu.db")
	db, err := sqldb.Open(ctx, "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.ProbeWrite(ctx); err != nil {
		t.Fatalf("probe of a writable store: %v", err)
	}

	// A read-only file (as a read-only mount would make it).
	ro, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	_, err = ro.ExecContext(ctx, `DELETE FROM schema_migration WHERE 1 = 0`)
	if err == nil {
		t.Fatal("a read-only database took a write")
	}
	if !sqldb.IsTransient(err) || !errs.Is(sqldb.Classify(fmt.Errorf("store: %w", err)), errs.Unavailable) {
		t.Errorf("read-only: %v is not transient", err)
	}

	// Another writer holds the lock past the probe's patience.
	lock, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(0)")
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	conn, err := lock.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	pctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	err = db.ProbeWrite(pctx)
	if !errs.Is(err, errs.Unavailable) {
		t.Errorf("probe under a held lock: %v, want Unavailable", err)
	}
	busy, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(0)")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	if _, err = busy.ExecContext(ctx, `DELETE FROM schema_migration WHERE 1 = 0`); err == nil || !sqldb.IsTransient(err) {
		t.Errorf("a busy database: %v, want a transient error", err)
	}
	conn.ExecContext(ctx, "ROLLBACK")
	if err := db.ProbeWrite(ctx); err != nil {
		t.Errorf("probe after the lock: %v", err)
	}
}

// TestTransientPostgres: a connection terminated by the server
// (pg_terminate_backend, as in a restart) and a database that refuses
// writes are transient, and the write probe sees the second.
func TestTransientPostgres(t *testing.T) {
	if os.Getenv(sqldbtest.EnvPostgres) == "" {
		t.Skip(sqldbtest.EnvPostgres + " is not set")
	}
	ctx := context.Background()
	u := sqldbtest.URL(t, "postgres")
	db, err := sqldb.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	admin, err := sql.Open("pgx", os.Getenv(sqldbtest.EnvPostgres))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	pu, _ := url.Parse(u)
	name := strings.TrimPrefix(pu.Path, "/")

	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := admin.ExecContext(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1`, name); err != nil {
		t.Fatal(err)
	}
	_, err = conn.ExecContext(ctx, `SELECT 1`)
	if err == nil {
		t.Fatal("a terminated connection answered")
	}
	if !sqldb.IsTransient(err) || !errs.Is(sqldb.Classify(err), errs.Unavailable) {
		t.Errorf("terminated connection: %v (%T) is not transient", err, errors.Unwrap(err))
	}

	if _, err := admin.ExecContext(ctx, `ALTER DATABASE `+name+` SET default_transaction_read_only = on`); err != nil {
		t.Fatal(err)
	}
	admin.ExecContext(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1`, name)
	if err := db.ProbeWrite(ctx); !errs.Is(err, errs.Unavailable) {
		t.Errorf("probe of a read-only database: %v, want Unavailable", err)
	}
	err = db.InTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM schema_migration WHERE 1 = 0`)
		return err
	})
	if !errs.Is(err, errs.Unavailable) {
		t.Errorf("a write to a read-only database: %v, want Unavailable", err)
	}
	admin.ExecContext(ctx, `ALTER DATABASE `+name+` SET default_transaction_read_only = off`)
}
