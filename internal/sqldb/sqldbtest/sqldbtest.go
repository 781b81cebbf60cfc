// Package sqldbtest gives tests a fresh, migrated store on every engine
// available: always SQLite, and PostgreSQL where DANCU_TEST_POSTGRES_URL
// names a server. Each call creates its own database and drops it after.
package sqldbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/dancu-vn/dancu/internal/sqldb"
)

// EnvPostgres names the PostgreSQL server the store tests also run on.
const EnvPostgres = "DANCU_TEST_POSTGRES_URL"

// Engines runs fn once per available engine, as subtests named "sqlite" and
// "postgres", each with a fresh migrated database.
func Engines(t *testing.T, fn func(t *testing.T, db *sqldb.DB)) {
	t.Helper()
	for _, name := range EngineNames() {
		t.Run(name, func(t *testing.T) {
			fn(t, Open(t, name))
		})
	}
}

// EngineNames lists the engines available to this test run.
func EngineNames() []string {
	if os.Getenv(EnvPostgres) != "" {
		return []string{"sqlite", "postgres"}
	}
	return []string{"sqlite"}
}

// Open returns a fresh migrated database on the named engine.
func Open(tb testing.TB, engine string) *sqldb.DB {
	tb.Helper()
	db := OpenEmpty(tb, engine)
	if _, err := db.Migrate(context.Background()); err != nil {
		tb.Fatalf("migrate: %v", err)
	}
	return db
}

// OpenEmpty returns a fresh database with no schema.
func OpenEmpty(tb testing.TB, engine string) *sqldb.DB {
	tb.Helper()
	ctx := context.Background()
	u := URL(tb, engine)
	db, err := sqldb.Open(ctx, u)
	if err != nil {
		tb.Fatalf("open %s: %v", engine, err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// URL creates a fresh empty database on the named engine and returns its
// URL; the database is removed when the test ends.
func URL(tb testing.TB, engine string) string {
	tb.Helper()
	if engine == "sqlite" {
		return "sqlite:" + filepath.Join(tb.TempDir(), "dancu.db")
	}
	base := os.Getenv(EnvPostgres)
	if base == "" {
		tb.Skipf("%s is not set", EnvPostgres)
	}
	var b [6]byte
	rand.Read(b[:])
	name := "dancu_test_" + hex.EncodeToString(b[:])
	admin, err := sql.Open("pgx", base)
	if err != nil {
		tb.Fatalf("postgres: %v", err)
	}
	if _, err := admin.Exec(`CREATE DATABASE ` + name); err != nil {
		admin.Close()
		tb.Fatalf("create database %s: %v", name, err)
	}
	tb.Cleanup(func() {
		defer admin.Close()
		if _, err := admin.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`); err != nil {
			tb.Logf("drop database %s: %v", name, err)
		}
	})
	pu, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("%s: %v", EnvPostgres, err)
	}
	pu.Path = "/" + name
	return pu.String()
}
