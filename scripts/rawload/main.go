// Command rawload is the raw baseline of the import benchmark. With
// -prepare it turns a JSON Lines file into the exact citizen rows dancu
// import would write (untimed, TSV). With -load it inserts those rows with
// nothing else: a prepared INSERT in transactions of 5,000 into SQLite, or
// COPY in chunks of 10,000 into PostgreSQL (each with the pid_issued row the
// citizen row's key refers to), and prints rows/s.
//
//	go run ./scripts/rawload -prepare people.jsonl -out rows.tsv
//	go run ./scripts/rawload -load rows.tsv -db sqlite:/tmp/raw.db
package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/adminunit"
	"github.com/dancu-vn/dancu/internal/codelist"
	"github.com/dancu-vn/dancu/internal/registry"
	"github.com/dancu-vn/dancu/internal/sqldb"
)

func main() {
	prepare := flag.String("prepare", "", "JSON Lines input to turn into rows")
	out := flag.String("out", "rows.tsv", "TSV output of -prepare")
	load := flag.String("load", "", "TSV rows to insert")
	dbURL := flag.String("db", "", "store to insert into (created and migrated)")
	cacheMB := flag.Int("cache-mb", 0, "SQLite page cache in MB, as dancu import --cache-mb (0: default)")
	flag.Parse()
	var err error
	switch {
	case *prepare != "":
		err = prepareRows(*prepare, *out)
	case *load != "" && *dbURL != "":
		err = loadRows(*load, *dbURL, *cacheMB)
	default:
		err = fmt.Errorf("give -prepare FILE [-out FILE] or -load FILE -db URL")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "rawload:", err)
		os.Exit(1)
	}
}

func prepareRows(in, out string) error {
	units, err := adminunit.Load()
	if err != nil {
		return err
	}
	svc := registry.NewService(nil, units, codelist.New(), access.NewPolicy(units), nil, nil)
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	o, err := os.Create(out)
	if err != nil {
		return err
	}
	defer o.Close()
	w := bufio.NewWriterSize(o, 1<<20)
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	now := time.Now()
	n := 0
	for sc.Scan() {
		var r registry.LegacyRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			continue
		}
		row, err := svc.PrepareImport(&r, now)
		if err != nil {
			continue
		}
		cols := row.CitizenColumns()
		parts := make([]string, len(cols))
		for i, c := range cols {
			switch v := c.(type) {
			case time.Time:
				parts[i] = v.UTC().Format(time.RFC3339Nano)
			default:
				parts[i] = fmt.Sprint(v)
			}
		}
		w.WriteString(strings.Join(parts, "\t"))
		w.WriteByte('\n')
		n++
	}
	if err := sc.Err(); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "prepared %d rows\n", n)
	return w.Flush()
}

// row turns a TSV line back into column values.
func row(line string) []any {
	p := strings.Split(line, "\t")
	out := make([]any, len(p))
	for i, s := range p {
		out[i] = s
	}
	out[1], _ = strconv.ParseInt(p[1], 10, 64)
	out[8], _ = strconv.Atoi(p[8])
	for _, i := range []int{14, 15} {
		out[i], _ = time.Parse(time.RFC3339Nano, p[i])
	}
	return out
}

func loadRows(in, dbURL string, cacheMB int) error {
	ctx := context.Background()
	db, err := sqldb.Open(ctx, dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		return err
	}
	if err := db.TuneForBulk(ctx, cacheMB); err != nil {
		return err
	}
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(bufio.NewReaderSize(f, 1<<20))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	chunk := 5000
	if db.Dialect == sqldb.Postgres {
		chunk = 10000
	}
	start := time.Now()
	total := 0
	for {
		var rows [][]any
		for len(rows) < chunk && sc.Scan() {
			rows = append(rows, row(sc.Text()))
		}
		if len(rows) == 0 {
			break
		}
		if db.Dialect == sqldb.Postgres {
			err = copyChunk(ctx, db, rows)
		} else {
			err = insertChunk(ctx, db, rows)
		}
		if err != nil {
			return err
		}
		total += len(rows)
	}
	if err := sc.Err(); err != nil {
		return err
	}
	d := time.Since(start)
	fmt.Printf("raw %s: %d rows in %.1fs = %.0f rows/s\n", db.Dialect, total, d.Seconds(), float64(total)/d.Seconds())
	return nil
}

func insertChunk(ctx context.Context, db *sqldb.DB, rows [][]any) error {
	now := time.Now().UTC()
	return db.InTx(ctx, func(tx *sql.Tx) error {
		num, err := tx.PrepareContext(ctx, `INSERT INTO pid_issued (pid, origin, issued_at) VALUES ($1, 'legacy', $2)`)
		if err != nil {
			return err
		}
		defer num.Close()
		cit, err := tx.PrepareContext(ctx, registry.CitizenInsert)
		if err != nil {
			return err
		}
		defer cit.Close()
		for _, r := range rows {
			if _, err := num.ExecContext(ctx, r[0], now); err != nil {
				return err
			}
			if _, err := cit.ExecContext(ctx, r...); err != nil {
				return err
			}
		}
		return nil
	})
}

func copyChunk(ctx context.Context, db *sqldb.DB, rows [][]any) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	now := time.Now().UTC()
	return conn.Raw(func(dc any) error {
		return pgx.BeginFunc(ctx, dc.(*stdlib.Conn).Conn(), func(tx pgx.Tx) error {
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"pid_issued"}, []string{"pid", "origin", "issued_at"},
				pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) { return []any{rows[i][0], "legacy", now}, nil })); err != nil {
				return err
			}
			_, err := tx.CopyFrom(ctx, pgx.Identifier{"citizen"}, []string{"pid", "version", "status", "family_name", "middle_name",
				"given_name", "name_key", "birth_date", "birth_year", "sex", "res_commune", "res_province", "household_id", "doc",
				"created_at", "updated_at"}, pgx.CopyFromRows(rows))
			return err
		})
	})
}
