package sqldbtest

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/dancu-vn/dancu/internal/sqldb"
)

// Holding returns the table.column of every value in every table of db
// that holds any of needles (a []byte value as it is, anything else as
// fmt.Sprint prints it): for tests that a secret is stored nowhere.
func Holding(tb testing.TB, db *sqldb.DB, needles [][]byte) []string {
	tb.Helper()
	ctx := context.Background()
	q := `SELECT name FROM sqlite_master WHERE type = 'table'`
	if db.Dialect == sqldb.Postgres {
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`
	}
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		tb.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			tb.Fatal(err)
		}
		tables = append(tables, n)
	}
	rows.Close()
	if len(tables) == 0 {
		tb.Fatal("no tables")
	}
	var found []string
	for _, table := range tables {
		rows, err := db.QueryContext(ctx, `SELECT * FROM `+table)
		if err != nil {
			tb.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				tb.Fatal(err)
			}
			for i, v := range vals {
				b, ok := v.([]byte)
				if !ok {
					b = []byte(fmt.Sprint(v))
				}
				if at := table + "." + cols[i]; !slices.Contains(found, at) && slices.ContainsFunc(needles, func(n []byte) bool { return bytes.Contains(b, n) }) {
					found = append(found, at)
				}
			}
		}
		rows.Close()
	}
	return found
}
