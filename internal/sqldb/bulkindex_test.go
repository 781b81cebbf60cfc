package sqldb_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

// indexDefs lists the indexes of table, by name, with their definitions.
func indexDefs(t *testing.T, db *sqldb.DB, table string) map[string]string {
	t.Helper()
	q := `SELECT name, COALESCE(sql, '') FROM sqlite_master WHERE type = 'index' AND tbl_name = $1`
	if db.Dialect == sqldb.Postgres {
		q = `SELECT indexname, indexdef FROM pg_indexes WHERE tablename = $1`
	}
	rows, err := db.QueryContext(context.Background(), q, table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var n, d string
		if err := rows.Scan(&n, &d); err != nil {
			t.Fatal(err)
		}
		out[n] = d
	}
	return out
}

func TestDeferAndRestoreIndexes(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		before := indexDefs(t, db, "citizen")
		want := []string{"citizen_commune_name", "citizen_household", "citizen_name", "citizen_province_name"}
		for _, n := range want {
			if before[n] == "" {
				t.Fatalf("index %s missing before the test: %v", n, before)
			}
		}
		got, err := db.DeferIndexes(ctx, "citizen")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("deferred %v, want %v", got, want)
		}
		during := indexDefs(t, db, "citizen")
		for _, n := range want {
			if _, ok := during[n]; ok {
				t.Errorf("index %s still there while deferred", n)
			}
		}
		if len(during) != len(before)-len(want) {
			t.Errorf("deferring dropped more than the secondary indexes: %v", during)
		}
		// Deferring again changes nothing and still reports what is deferred.
		again, err := db.DeferIndexes(ctx, "citizen")
		if err != nil || !reflect.DeepEqual(again, want) {
			t.Fatalf("second DeferIndexes = %v, %v", again, err)
		}
		var built []string
		if err := db.RestoreIndexes(ctx, func(name string, _ time.Duration) { built = append(built, name) }); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(built, want) {
			t.Errorf("built %v, want %v", built, want)
		}
		if after := indexDefs(t, db, "citizen"); !reflect.DeepEqual(after, before) {
			t.Errorf("indexes after restore differ:\n got %v\nwant %v", after, before)
		}
		if left, err := db.DeferredIndexes(ctx, ""); err != nil || len(left) != 0 {
			t.Errorf("still deferred after restore: %v, %v", left, err)
		}
		// Nothing deferred: restoring is a no-op.
		if err := db.RestoreIndexes(ctx, func(name string, _ time.Duration) { t.Errorf("built %s again", name) }); err != nil {
			t.Fatal(err)
		}
	})
}
