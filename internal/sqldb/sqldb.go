// Package sqldb opens the dancu store on SQLite or PostgreSQL, applies the
// embedded migrations and runs transactions. Every query in dancu is one SQL
// text for both engines ($1 placeholders, ON CONFLICT, RETURNING); the few
// real differences between the engines live in dialect.go.
package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver

	"github.com/dancu-vn/dancu/internal/errs"
)

// DefaultURL is where the embedded store lives unless --db or DANCU_DB says
// otherwise.
const DefaultURL = "sqlite:./dancu-data/dancu.db"

// DB is an open store: a connection pool and the dialect it speaks.
type DB struct {
	*sql.DB
	Dialect Dialect
	url     string
	cache   stmtCache
}

// Open opens the store named by rawURL: "sqlite:PATH" (or a bare path ending
// in .db), or a "postgres://" / "postgresql://" URL. For SQLite the parent
// directory is created, WAL and foreign keys are switched on, and writers
// take the lock at BEGIN so that concurrent transactions queue instead of
// failing half-way.
func Open(ctx context.Context, rawURL string) (*DB, error) {
	if rawURL == "" {
		rawURL = DefaultURL
	}
	switch {
	case strings.HasPrefix(rawURL, "postgres://"), strings.HasPrefix(rawURL, "postgresql://"):
		return openPostgres(ctx, rawURL)
	case strings.HasPrefix(rawURL, "sqlite:"):
		return openSQLite(ctx, strings.TrimPrefix(rawURL, "sqlite:"))
	case strings.HasSuffix(rawURL, ".db"), strings.HasSuffix(rawURL, ".sqlite"):
		return openSQLite(ctx, rawURL)
	}
	return nil, errs.E(errs.Invalid, "database URL %q: want sqlite:PATH or postgres://…", Redact(rawURL))
}

func openSQLite(ctx context.Context, path string) (*DB, error) {
	path = strings.TrimPrefix(path, "//")
	if path == "" {
		return nil, errs.E(errs.Invalid, "database URL: sqlite: needs a file path")
	}
	if path != ":memory:" {
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return nil, fmt.Errorf("create database directory: %w", err)
		}
	}
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "foreign_keys(1)", "busy_timeout(10000)", "synchronous(NORMAL)", "cache_size(-65536)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	q.Set("_time_format", "sqlite")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	// Readers run in parallel under WAL; writers queue on the database lock.
	db.SetMaxOpenConns(max(4, 2*runtime.GOMAXPROCS(0)))
	db.SetMaxIdleConns(max(4, 2*runtime.GOMAXPROCS(0)))
	db.SetConnMaxIdleTime(0)
	d := &DB{DB: db, Dialect: SQLite, url: "sqlite:" + path}
	if err := d.ping(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return d, nil
}

func openPostgres(ctx context.Context, rawURL string) (*DB, error) {
	db, err := sql.Open("pgx", rawURL)
	if err != nil {
		return nil, fmt.Errorf("open postgres %s: %w", Redact(rawURL), err)
	}
	db.SetMaxOpenConns(max(8, 4*runtime.GOMAXPROCS(0)))
	db.SetMaxIdleConns(max(8, 4*runtime.GOMAXPROCS(0)))
	db.SetConnMaxIdleTime(5 * time.Minute)
	d := &DB{DB: db, Dialect: Postgres, url: rawURL}
	if err := d.ping(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return d, nil
}

func (d *DB) ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := d.PingContext(ctx); err != nil {
		return errs.Wrap(errs.Unavailable, err, "cannot reach database %s", Redact(d.url))
	}
	return nil
}

// URL returns the store's URL with any password masked.
func (d *DB) URL() string { return Redact(d.url) }

// Redact masks the password in a database URL, for logs and config dumps.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// TuneForBulk prepares a SQLite store for one bulk writer: a single
// connection with a page cache of cacheMB megabytes. Random-key inserts
// into the citizen indexes outgrow the default cache within a million
// rows, and every miss is a read. PostgreSQL is tuned on the server; this
// does nothing there.
func (d *DB) TuneForBulk(ctx context.Context, cacheMB int) error {
	if d.Dialect != SQLite || cacheMB <= 0 {
		return nil
	}
	d.SetMaxOpenConns(1)
	_, err := d.DB.ExecContext(ctx, fmt.Sprintf("PRAGMA cache_size = -%d", cacheMB*1024))
	return err
}
