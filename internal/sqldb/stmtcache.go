package sqldb

import (
	"context"
	"database/sql"
	"sync"
)

// maxCached bounds the statement cache; queries built from optional
// filters have a bounded number of shapes, far below it.
const maxCached = 512

// stmtCache keeps prepared statements of reads run outside transactions.
// database/sql prepares nothing by itself, and SQLite spends a good part of
// a point read parsing the SQL; pgx caches statements per connection on
// its own, so PostgreSQL does not use this.
type stmtCache struct {
	mu sync.RWMutex
	m  map[string]*sql.Stmt
}

func (d *DB) stmt(ctx context.Context, query string) *sql.Stmt {
	if d.Dialect != SQLite {
		return nil
	}
	d.cache.mu.RLock()
	s := d.cache.m[query]
	d.cache.mu.RUnlock()
	if s != nil {
		return s
	}
	d.cache.mu.Lock()
	defer d.cache.mu.Unlock()
	if s = d.cache.m[query]; s != nil {
		return s
	}
	if len(d.cache.m) >= maxCached {
		return nil
	}
	s, err := d.DB.PrepareContext(ctx, query)
	if err != nil {
		return nil // let the plain query report the error
	}
	if d.cache.m == nil {
		d.cache.m = map[string]*sql.Stmt{}
	}
	d.cache.m[query] = s
	return s
}

// QueryContext runs a read, with a cached prepared statement on SQLite.
func (d *DB) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if s := d.stmt(ctx, query); s != nil {
		return s.QueryContext(ctx, args...)
	}
	return d.DB.QueryContext(ctx, query, args...)
}

// QueryRowContext runs a one-row read, with a cached prepared statement on
// SQLite.
func (d *DB) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if s := d.stmt(ctx, query); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	return d.DB.QueryRowContext(ctx, query, args...)
}

// Close closes the cached statements and the pool.
func (d *DB) Close() error {
	d.cache.mu.Lock()
	for _, s := range d.cache.m {
		s.Close()
	}
	d.cache.m = nil
	d.cache.mu.Unlock()
	return d.DB.Close()
}
