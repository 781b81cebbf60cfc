package bulk_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/dancu-vn/dancu/internal/bulk"
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
		rows := preparedColumns(b, newService(b, db), recs)
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

func preparedColumns(b *testing.B, svc *registry.Service, recs []registry.LegacyRecord) [][]any {
	b.Helper()
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
	return rows
}

// BenchmarkImportPostgres is the import into PostgreSQL (COPY through pgx).
func BenchmarkImportPostgres(b *testing.B) {
	input := jsonl(b, population(10000)) // 30k people
	for b.Loop() {
		b.StopTimer()
		db := sqldbtest.Open(b, "postgres")
		svc := newService(b, db)
		b.StartTimer()
		p, err := bulk.Import(system, svc, bytes.NewReader(input), bulk.Options{BatchSize: 10000})
		if err != nil || p.Imported != 30000 {
			b.Fatal(p, err)
		}
	}
	b.ReportMetric(float64(30000*b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkRawCopyPostgres is its baseline: a raw COPY of the same
// people's numbers and citizen rows, prepared outside the timer, in
// transactions of 10,000.
func BenchmarkRawCopyPostgres(b *testing.B) {
	recs := population(10000)
	for b.Loop() {
		b.StopTimer()
		db := sqldbtest.Open(b, "postgres")
		rows := preparedColumns(b, newService(b, db), recs)
		b.StartTimer()
		now := time.Now().UTC()
		for start := 0; start < len(rows); start += 10000 {
			chunk := rows[start:min(start+10000, len(rows))]
			conn, err := db.Conn(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			err = conn.Raw(func(dc any) error {
				c := dc.(*stdlib.Conn).Conn()
				return pgx.BeginFunc(context.Background(), c, func(tx pgx.Tx) error {
					if _, err := tx.CopyFrom(context.Background(), pgx.Identifier{"pid_issued"}, []string{"pid", "origin", "issued_at"},
						pgx.CopyFromSlice(len(chunk), func(i int) ([]any, error) { return []any{chunk[i][0], "legacy", now}, nil })); err != nil {
						return err
					}
					_, err := tx.CopyFrom(context.Background(), pgx.Identifier{"citizen"}, []string{"pid", "version", "status", "family_name",
						"middle_name", "given_name", "name_key", "birth_date", "birth_year", "sex", "res_commune", "res_province", "household_id",
						"doc", "created_at", "updated_at"}, pgx.CopyFromRows(chunk))
					return err
				})
			})
			conn.Close()
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(len(recs)*b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkPrepareRow is the per-row work of an import before the store:
// decode a JSON line, validate it with the registry's rules, build the
// document and projections.
func BenchmarkPrepareRow(b *testing.B) {
	db := sqldbtest.Open(b, "sqlite")
	svc := newService(b, db)
	lines := bytes.Split(bytes.TrimSpace(jsonl(b, population(100))), []byte("\n"))
	now := time.Now()
	i := 0
	for b.Loop() {
		var r registry.LegacyRecord
		if err := json.Unmarshal(lines[i%len(lines)], &r); err != nil {
			b.Fatal(err)
		}
		if _, err := svc.PrepareImport(&r, now); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
