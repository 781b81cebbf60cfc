package registry

import (
	"context"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/personalid"
	"github.com/dancu-vn/dancu/internal/vnname"
)

// Linkage is how a sector record was tied to a citizen.
type Linkage struct {
	PID      string   `json:"pid,omitempty"`
	Method   string   `json:"method" enum:"pid,demographic,none,ambiguous"`
	Disagree []string `json:"disagree,omitempty" doc:"Fields where the sector record and the registry differ"`
}

// Link ties a sector record to a citizen: by its personal ID number when
// it carries one that exists, else by demographic match (the folded full
// name and the date of birth, and the sex if given) when exactly one
// citizen fits. The fields the record states are compared with the
// registry. No access record is written here: the caller records the
// enrichment. Requires citizen:enrich.
func (s *Service) Link(ctx context.Context, pidText string, c Claims) (Linkage, error) {
	if _, err := access.Require(ctx, access.EnrichRegistry); err != nil {
		return Linkage{}, err
	}
	if pid, err := personalid.Parse(pidText); err == nil {
		r, err := loadForCompare(ctx, s.db, pid, c)
		if err == nil {
			return Linkage{PID: string(pid), Method: "pid", Disagree: disagreements(&r, c)}, nil
		}
	}
	if c.Name == "" || c.BirthDate == "" {
		return Linkage{Method: "none"}, nil
	}
	rows, err := s.db.QueryContext(ctx, `SELECT pid, sex FROM citizen WHERE name_key = $1 AND birth_date = $2 LIMIT 3`, vnname.Fold(c.Name), c.BirthDate)
	if err != nil {
		return Linkage{}, err
	}
	defer rows.Close()
	var found []string
	for rows.Next() {
		var pid, sex string
		if err := rows.Scan(&pid, &sex); err != nil {
			return Linkage{}, err
		}
		if c.Sex == "" || c.Sex == sex {
			found = append(found, pid)
		}
	}
	if err := rows.Err(); err != nil {
		return Linkage{}, err
	}
	switch len(found) {
	case 0:
		return Linkage{Method: "none"}, nil
	case 1:
		r, err := loadForCompare(ctx, s.db, personalid.Number(found[0]), c)
		if err != nil {
			return Linkage{}, err
		}
		return Linkage{PID: found[0], Method: "demographic", Disagree: disagreements(&r, c)}, nil
	}
	return Linkage{Method: "ambiguous"}, nil
}

func disagreements(r *Record, c Claims) []string {
	var out []string
	for f, m := range compare(heldOf(r), true, c).Fields {
		if m == Mismatch {
			out = append(out, f)
		}
	}
	return out
}
