package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// DeferIndexes drops the secondary indexes of table (not its primary key
// and not its unique indexes, which keep the data correct) and records how
// to build each again, all in one transaction. A bulk load into an empty
// table then only appends to the primary key, and RestoreIndexes builds each
// index afterwards in one sorted pass, far faster than millions of random
// inserts. Calling it again while indexes are deferred changes nothing. It
// returns the names of the deferred indexes.
func (d *DB) DeferIndexes(ctx context.Context, table string) ([]string, error) {
	var names []string
	err := d.InTx(ctx, func(tx *sql.Tx) error {
		names = names[:0]
		q := `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = $1 AND sql IS NOT NULL
			AND upper(sql) NOT LIKE 'CREATE UNIQUE%' ORDER BY name`
		if d.Dialect == Postgres {
			q = `SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
				WHERE i.indrelid = to_regclass($1) AND NOT i.indisprimary AND NOT i.indisunique ORDER BY c.relname`
		}
		rows, err := tx.QueryContext(ctx, q, table)
		if err != nil {
			return err
		}
		var defs [][2]string
		for rows.Next() {
			var name, ddl string
			if err := rows.Scan(&name, &ddl); err != nil {
				rows.Close()
				return err
			}
			defs = append(defs, [2]string{name, ddl})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		now := time.Now().UTC()
		for _, def := range defs {
			if _, err := tx.ExecContext(ctx, `INSERT INTO deferred_index (name, tbl, ddl, deferred_at) VALUES ($1, $2, $3, $4)`,
				def[0], table, def[1], now); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `DROP INDEX `+quoteIdent(def[0])); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("defer indexes of %s: %w", table, err)
	}
	return d.DeferredIndexes(ctx, table)
}

// DeferredIndexes lists the indexes of table (of every table if table is
// "") that a bulk load dropped and that are not built again yet.
func (d *DB) DeferredIndexes(ctx context.Context, table string) ([]string, error) {
	rows, err := d.QueryContext(ctx, `SELECT name FROM deferred_index WHERE tbl = $1 OR $1 = '' ORDER BY name`, table)
	if err != nil {
		return nil, fmt.Errorf("deferred indexes: %w", err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		names = append(names, n)
	}
	return names, rows.Err()
}

// RestoreIndexes builds every deferred index again, each in its own
// transaction together with the removal of its record, so that an
// interruption loses at most the index being built. onIndex, if not nil, is
// told each index as it is built and how long it took.
func (d *DB) RestoreIndexes(ctx context.Context, onIndex func(name string, took time.Duration)) error {
	names, err := d.DeferredIndexes(ctx, "")
	if err != nil {
		return err
	}
	for _, name := range names {
		start := time.Now()
		err := d.InTx(ctx, func(tx *sql.Tx) error {
			var ddl string
			if err := tx.QueryRowContext(ctx, `SELECT ddl FROM deferred_index WHERE name = $1`, name).Scan(&ddl); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, ddl); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `DELETE FROM deferred_index WHERE name = $1`, name)
			return err
		})
		if err != nil {
			return fmt.Errorf("build index %s: %w", name, err)
		}
		if onIndex != nil {
			onIndex(name, time.Since(start))
		}
	}
	return nil
}

// quoteIdent quotes an SQL identifier for both engines.
func quoteIdent(s string) string {
	out := []byte{'"'}
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			out = append(out, '"')
		}
		out = append(out, s[i])
	}
	return string(append(out, '"'))
}
