package sqldb

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dancu-vn/dancu/internal/errs"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migration is one numbered, append-only schema change. Its SQL is written
// once for both engines; a file NNNN_name.sqlite.sql or NNNN_name.postgres.sql
// beside it adds what only one engine needs (triggers, for instance).
type Migration struct {
	Version int
	Name    string
	sql     map[Dialect]string // common part, then the dialect's own part
	extra   map[Dialect]string
}

// Migrations returns the embedded migrations in order.
func Migrations() ([]Migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	byVersion := map[int]*Migration{}
	for _, e := range entries {
		name := strings.TrimSuffix(e.Name(), ".sql")
		dialects := []Dialect{SQLite, Postgres}
		switch {
		case strings.HasSuffix(name, ".sqlite"):
			name, dialects = strings.TrimSuffix(name, ".sqlite"), []Dialect{SQLite}
		case strings.HasSuffix(name, ".postgres"):
			name, dialects = strings.TrimSuffix(name, ".postgres"), []Dialect{Postgres}
		}
		num, label, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration file %s: want NNNN_name.sql", e.Name())
		}
		body, err := migrationFiles.ReadFile("migrations/" + e.Name())
		if err != nil {
			return nil, err
		}
		m := byVersion[v]
		if m == nil {
			m = &Migration{Version: v, Name: label, sql: map[Dialect]string{}, extra: map[Dialect]string{}}
			byVersion[v] = m
		} else if m.Name != label {
			return nil, fmt.Errorf("migration %d has two names: %s and %s", v, m.Name, label)
		}
		for _, d := range dialects {
			if len(dialects) == 1 {
				m.extra[d] += string(body) + "\n"
			} else {
				m.sql[d] += string(body) + "\n"
			}
		}
	}
	out := make([]Migration, 0, len(byVersion))
	for _, m := range byVersion {
		for d, x := range m.extra {
			m.sql[d] += x
		}
		out = append(out, *m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i, m := range out {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migration %d is missing", i+1)
		}
	}
	return out, nil
}

// LatestVersion is the schema version this binary brings.
func LatestVersion() int {
	ms, err := Migrations()
	if err != nil || len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].Version
}

const createMigrationTable = `CREATE TABLE IF NOT EXISTS schema_migration (
	version INTEGER PRIMARY KEY,
	name TEXT NOT NULL,
	applied_at TIMESTAMPTZ NOT NULL
)`

// SchemaVersion returns the version the database is at (0 when empty).
func (d *DB) SchemaVersion(ctx context.Context) (int, error) {
	if _, err := d.ExecContext(ctx, d.Dialect.rewrite(createMigrationTable)); err != nil {
		return 0, fmt.Errorf("create schema_migration: %w", err)
	}
	var v sql.NullInt64
	if err := d.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migration`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return int(v.Int64), nil
}

// Migrate applies every migration the database does not have yet, each in
// its own transaction, and returns the versions applied. It refuses to touch
// a database whose schema is newer than this binary.
func (d *DB) Migrate(ctx context.Context) ([]int, error) {
	ms, err := Migrations()
	if err != nil {
		return nil, err
	}
	cur, err := d.SchemaVersion(ctx)
	if err != nil {
		return nil, err
	}
	if cur > len(ms) {
		return nil, errs.E(errs.Conflict, "the database schema is at version %d, newer than this dancu binary (%d): run a newer dancu", cur, len(ms))
	}
	var applied []int
	for _, m := range ms[cur:] {
		err := d.InTx(ctx, func(tx *sql.Tx) error {
			if d.Dialect == Postgres {
				// Two servers starting together must not both migrate.
				if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7368001)`); err != nil {
					return err
				}
			}
			var done int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migration WHERE version = $1`, m.Version).Scan(&done); err != nil {
				return err
			}
			if done > 0 {
				return nil
			}
			if _, err := tx.ExecContext(ctx, d.Dialect.rewrite(m.sql[d.Dialect])); err != nil {
				return fmt.Errorf("migration %04d_%s: %w", m.Version, m.Name, err)
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migration (version, name, applied_at) VALUES ($1, $2, $3)`,
				m.Version, m.Name, time.Now().UTC())
			return err
		})
		if err != nil {
			return applied, err
		}
		applied = append(applied, m.Version)
	}
	return applied, nil
}

// CheckSchema returns an error unless the database is exactly at this
// binary's schema version.
func (d *DB) CheckSchema(ctx context.Context) error {
	cur, err := d.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	latest := LatestVersion()
	switch {
	case cur > latest:
		return errs.E(errs.Conflict, "the database schema is at version %d, newer than this dancu binary (%d): run a newer dancu", cur, latest)
	case cur < latest:
		return errs.E(errs.Unavailable, "the database schema is at version %d, this binary needs %d: run dancu migrate", cur, latest)
	}
	return nil
}
