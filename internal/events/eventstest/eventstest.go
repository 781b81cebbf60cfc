// Package eventstest reads the change-event outbox in tests.
package eventstest

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/dancu-vn/dancu/internal/sqldb"
)

// Field returns one field of the data of every outbox event of a type
// about a subject, in the order they were written.
func Field(t testing.TB, db *sqldb.DB, typ, subject, field string) []string {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), `SELECT data FROM event_outbox WHERE type = $1 AND subject = $2 ORDER BY id`, typ, subject)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var data string
		if err := rows.Scan(&data); err != nil {
			t.Fatal(err)
		}
		var ev map[string]any
		if err := json.Unmarshal([]byte(data), &ev); err != nil {
			t.Fatalf("event data %s: %v", data, err)
		}
		v, _ := ev[field].(string)
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
