package registry_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/dancu-vn/dancu/internal/personalid"
	"github.com/dancu-vn/dancu/internal/registry"
	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

// TestChangesEmitEvents: a birth, an update and a death each write one
// event to the outbox, in the transaction of the change, with no personal
// data beyond the number, dates and field names.
func TestChangesEmitEvents(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		ctx := communeRegistrar(e.p.baDinh)
		c, err := e.svc.RegisterBirth(ctx, birth("Lê Thị Hoa", "2025-08-01", personalid.Female, e.p.baDinh), "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Update(ctx, string(c.PID), c.Version, patch("blood_type", `"O+"`)); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.SetStatus(ctx, string(c.PID), 0, registry.Dead, statusChange("2025-09-01")); err != nil {
			t.Fatal(err)
		}
		rows, err := db.QueryContext(context.Background(), `SELECT type, data FROM event_outbox WHERE subject = $1 ORDER BY id`, string(c.PID))
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var types []string
		var data []map[string]any
		for rows.Next() {
			var typ, raw string
			rows.Scan(&typ, &raw)
			var m map[string]any
			json.Unmarshal([]byte(raw), &m)
			types, data = append(types, typ), append(data, m)
		}
		want := []string{"vn.dancu.citizen.born", "vn.dancu.citizen.updated", "vn.dancu.citizen.status"}
		if len(types) != 3 || types[0] != want[0] || types[1] != want[1] || types[2] != want[2] {
			t.Fatalf("events %v, want %v", types, want)
		}
		if f, _ := data[1]["fields"].([]any); len(f) != 1 || f[0] != "blood_type" || data[2]["status"] != "dead" {
			t.Errorf("event data %v", data)
		}
		for _, d := range data {
			if _, ok := d["name"]; ok {
				t.Errorf("an event carries a name: %v", d)
			}
		}
	})
}
