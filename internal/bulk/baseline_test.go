package bulk_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"testing"
	"time"

	"github.com/dancu-vn/dancu/internal/registry"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

// BenchmarkRawInsertSQLite is the baseline for BenchmarkImportSQLite: the
// same people, decoded and prepared outside the timer, inserted as their
// number and citizen row (the two rows every registered person needs) with
// prepared statements in transactions of 5,000, the fastest plain way into
// SQLite. The import does this plus decoding, validation, revisions, links
// and households.
func BenchmarkRawInsertSQLite(b *testing.B) {
	recs := population(3334)
	for b.Loop() {
		b.StopTimer()
		db := sqldbtest.Open(b, "sqlite")
		svc := newService(b, db)
		rows := make([][]any, len(recs))
		for i := range recs {
			line, _ := json.Marshal(recs[i])
			var r registry.LegacyRecord
			json.NewDecoder(bytes.NewReader(line)).Decode(&r)
			ir, err := svc.PrepareImport(&r, time.Now())
			if err != nil {
				b.Fatal(err)
			}
			rows[i] = ir.CitizenColumns()
		}
		b.StartTimer()
		for start := 0; start < len(rows); start += 5000 {
			err := db.InTx(context.Background(), func(tx *sql.Tx) error {
				num, err := tx.Prepare(`INSERT INTO pid_issued (pid, origin, issued_at) VALUES ($1, 'legacy', $2)`)
				if err != nil {
					return err
				}
				defer num.Close()
				stmt, err := tx.Prepare(registry.CitizenInsert)
				if err != nil {
					return err
				}
				defer stmt.Close()
				now := time.Now().UTC()
				for _, r := range rows[start:min(start+5000, len(rows))] {
					if _, err := num.Exec(r[0], now); err != nil {
						return err
					}
					if _, err := stmt.Exec(r...); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(len(recs)*b.N)/b.Elapsed().Seconds(), "rows/s")
}
