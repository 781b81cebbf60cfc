package registry

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/adminunit"
	"github.com/dancu-vn/dancu/internal/audit"
	"github.com/dancu-vn/dancu/internal/errs"
)

// ExportFilter selects what Export writes; zero fields do not filter.
// Province and Commune are current codes of the permanent residence.
type ExportFilter struct {
	Province  string
	Commune   string
	BirthYear int
}

// exportPage is how many records one query reads.
const exportPage = 2000

// Export streams the selected records, in personal ID order, as records
// from existing data (the form Import reads), so that an export imports
// back as it was. Pages are read by keyset on the primary key, so the
// export holds no long transaction and memory stays flat. Every exported
// person is recorded in the access log before their record is written out.
func (s *Service) Export(ctx context.Context, f ExportFilter, emit func(*LegacyRecord) error) (int64, error) {
	if _, err := access.Require(ctx, access.ExportCitizens); err != nil {
		return 0, err
	}
	if f.Province != "" {
		p, ok := s.units.Province(adminunit.Scheme2025, f.Province)
		if !ok {
			return 0, errs.Field("province", "%q is not a current province code", f.Province)
		}
		f.Province = p.Code
	}
	if f.Commune != "" {
		if _, ok := s.units.Commune(adminunit.Scheme2025, f.Commune); !ok {
			return 0, errs.Field("commune", "%q is not a current commune code", f.Commune)
		}
	}
	where, args := "pid > $1", []any{""}
	if f.Province != "" {
		args = append(args, f.Province)
		where += fmt.Sprintf(" AND res_province = $%d", len(args))
	}
	if f.Commune != "" {
		args = append(args, f.Commune)
		where += fmt.Sprintf(" AND res_commune = $%d", len(args))
	}
	if f.BirthYear != 0 {
		args = append(args, f.BirthYear)
		where += fmt.Sprintf(" AND birth_year = $%d", len(args))
	}
	query := `SELECT pid, doc FROM citizen WHERE ` + where + fmt.Sprintf(` ORDER BY pid LIMIT %d`, exportPage)
	var n int64
	for {
		recs, err := s.exportPage(ctx, query, args)
		if err != nil {
			return n, err
		}
		if len(recs) == 0 {
			return n, nil
		}
		now := s.clock()
		evs := make([]audit.Event, len(recs))
		for i := range recs {
			evs[i] = audit.NewEvent(ctx, now, "export", recs[i].PID, "")
		}
		if err := s.audit.Record(ctx, evs...); err != nil {
			return n, err
		}
		for i := range recs {
			if err := emit(&recs[i]); err != nil {
				return n, err
			}
			n++
		}
		args[0] = recs[len(recs)-1].PID
	}
}

func (s *Service) exportPage(ctx context.Context, query string, args []any) ([]LegacyRecord, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	defer rows.Close()
	out := make([]LegacyRecord, 0, exportPage)
	for rows.Next() {
		var pid, doc string
		if err := rows.Scan(&pid, &doc); err != nil {
			return nil, err
		}
		var r Record
		if err := json.Unmarshal([]byte(doc), &r); err != nil {
			return nil, fmt.Errorf("export: decode %s: %w", pid, err)
		}
		l := LegacyRecord{PID: pid, Status: r.Status, StatusDate: r.StatusDate, Details: r.Details}
		if r.Household != nil {
			l.Household = &JoinHousehold{HouseholdID: r.Household.HouseholdID, Relationship: r.Household.Relationship}
			// The household brings the address on import; keep it too, as
			// Import takes both.
		}
		out = append(out, l)
	}
	return out, rows.Err()
}
