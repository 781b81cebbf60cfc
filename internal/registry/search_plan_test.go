package registry

import (
	"context"
	"strings"
	"testing"

	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

// TestSearchUsesIndexes checks the plans of the queries Search builds: on
// millions of rows a table scan would be fatal, so every search shape must
// be answered from an index.
func TestSearchUsesIndexes(t *testing.T) {
	shapes := map[string]Query{
		"name":                  {},
		"name prefix":           {NamePrefix: true},
		"name and birth year":   {BirthYear: 1990},
		"name, sex and date":    {Sex: "male", BirthDate: "1990-05-17"},
		"name in a commune":     {Commune: "00004"},
		"name in a province":    {Province: "01"},
		"commune listing":       {Name: "-"},
		"province listing":      {Name: "-", Province: "01"},
		"next page of a search": {Cursor: "x"},
	}
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		for name, q := range shapes {
			key, afterKey, afterPID := "nguyen van an", "", ""
			if q.Name == "-" {
				key = ""
				if q.Province == "" {
					q.Commune = "00004"
				}
			}
			if q.Cursor != "" {
				afterKey, afterPID = "nguyen van an", "001090000001"
			}
			q.Limit = 50
			sqlText, args := searchSQL(q, key, afterKey, afterPID)
			plan := explain(t, ctx, db, sqlText, args)
			// A search, not a scan (a full scan of some index is still a scan).
			if db.Dialect == sqldb.SQLite {
				if !strings.Contains(plan, "SEARCH citizen USING") || strings.Contains(plan, "SCAN citizen") {
					t.Errorf("%s: SQLite plan is not an index search:\n%s", name, plan)
				}
			} else if strings.Contains(plan, "Seq Scan") || !strings.Contains(plan, "Index Cond") {
				t.Errorf("%s: PostgreSQL plan is not an index search:\n%s", name, plan)
			}
		}
	})
}

func explain(t *testing.T, ctx context.Context, db *sqldb.DB, query string, args []any) string {
	t.Helper()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	prefix := "EXPLAIN QUERY PLAN "
	if db.Dialect == sqldb.Postgres {
		// An empty table would make a scan cheapest; ask whether an index
		// can answer, as it must on a real registry.
		if _, err := tx.ExecContext(ctx, `SET LOCAL enable_seqscan = off`); err != nil {
			t.Fatal(err)
		}
		prefix = "EXPLAIN "
	}
	rows, err := tx.QueryContext(ctx, prefix+query, args...)
	if err != nil {
		t.Fatalf("explain %s: %v", query, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var lines []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		if s, ok := vals[len(vals)-1].(string); ok {
			lines = append(lines, s)
		} else if b, ok := vals[len(vals)-1].([]byte); ok {
			lines = append(lines, string(b))
		}
	}
	return strings.Join(lines, "\n")
}
