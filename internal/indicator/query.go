package indicator

import (
	"context"
	"time"

	"github.com/dancu-vn/dancu/internal/sqldb"
)

// Count runs a counting query whose rows are (commune, month, count) and
// tallies them under name: the one helper the sources share.
func Count(ctx context.Context, db *sqldb.DB, name, query string, args ...any) ([]Tally, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Tally
	for rows.Next() {
		t := Tally{Name: name}
		if err := rows.Scan(&t.Commune, &t.Month, &t.N); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// Gather runs several counts of one source.
func Gather(ctx context.Context, db *sqldb.DB, since time.Time, counts map[string]string) ([]Tally, error) {
	var out []Tally
	for name, q := range counts {
		ts, err := Count(ctx, db, name, q, since.UTC())
		if err != nil {
			return nil, err
		}
		out = append(out, ts...)
	}
	return out, nil
}
