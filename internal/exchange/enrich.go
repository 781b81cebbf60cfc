package exchange

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/audit"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/registry"
)

// SectorRecord is one record of a sector database, as an agency sends it.
type SectorRecord struct {
	ExternalID string         `json:"external_id" doc:"The sector's own key, e.g. a social-insurance number"`
	PID        string         `json:"pid,omitempty" doc:"The personal ID number, when the sector holds it"`
	Name       string         `json:"name,omitempty"`
	BirthDate  string         `json:"birth_date,omitempty"`
	Sex        string         `json:"sex,omitempty"`
	Dated      string         `json:"dated,omitempty" doc:"The date of the sector's data, YYYY-MM-DD"`
	Data       map[string]any `json:"data,omitempty" doc:"The sector's attributes"`
}

// EnrichReport is what an enrichment found: how records were tied to
// citizens, and what disagrees with the registry.
type EnrichReport struct {
	Kind          string         `json:"kind"`
	Records       int            `json:"records"`
	ByPID         int            `json:"linked_by_pid"`
	ByDemographic int            `json:"linked_by_demographics"`
	Unmatched     int            `json:"unmatched"`
	Ambiguous     int            `json:"ambiguous"`
	MatchRate     float64        `json:"match_rate"`
	Disagreements map[string]int `json:"disagreements" doc:"Records whose field differs from the registry, per field"`
}

var kindPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{1,40}$`)

// Enrich takes an agency's sector records (JSON Lines), ties each to a
// citizen by personal ID number or, when it has none, by demographic match,
// stores them as the citizen's attributes with their source and date, and
// reports the match rate and the fields that disagree with the registry.
// A record sent again (same external ID) replaces the earlier one.
func (s *Service) Enrich(ctx context.Context, kind string, in io.Reader) (EnrichReport, error) {
	a, err := access.Require(ctx, access.EnrichRegistry)
	if err != nil {
		return EnrichReport{}, err
	}
	if !kindPattern.MatchString(kind) {
		return EnrichReport{}, errs.Field("kind", "must be a lower-case name such as social_insurance")
	}
	var recs []SectorRecord
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 64<<10)
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var r SectorRecord
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r); err != nil {
			return EnrichReport{}, errs.Field("", "line %d: %v", line, err)
		}
		if r.ExternalID == "" || len(r.ExternalID) > 100 {
			return EnrichReport{}, errs.Field("", "line %d: external_id is required (at most 100 bytes)", line)
		}
		if len(recs) == MaxBatch {
			return EnrichReport{}, errs.Field("", "at most %d records per file", MaxBatch)
		}
		recs = append(recs, r)
	}
	if err := sc.Err(); err != nil {
		e := errs.Field("", "line %d: %v", line+1, err)
		e.Err = err // a body too large stays one for the API
		return EnrichReport{}, e
	}
	rep := EnrichReport{Kind: kind, Records: len(recs), Disagreements: map[string]int{}}
	now := s.now().UTC().Truncate(time.Microsecond)
	for start := 0; start < len(recs); start += batchChunk {
		chunk := recs[start:min(start+batchChunk, len(recs))]
		links := make([]registry.Linkage, len(chunk))
		for i, r := range chunk {
			if links[i], err = s.registry.Link(ctx, r.PID, registry.Claims{Name: r.Name, BirthDate: r.BirthDate, Sex: r.Sex}); err != nil {
				return rep, err
			}
		}
		err := s.db.InTx(ctx, func(tx *sql.Tx) error {
			var evs []audit.Event
			for i, r := range chunk {
				l := links[i]
				switch l.Method {
				case "pid":
					rep.ByPID++
				case "demographic":
					rep.ByDemographic++
				case "ambiguous":
					rep.Ambiguous++
				default:
					rep.Unmatched++
				}
				for _, f := range l.Disagree {
					rep.Disagreements[f]++
				}
				slices.Sort(l.Disagree)
				dis, _ := json.Marshal(append([]string{}, l.Disagree...))
				data, _ := json.Marshal(r.Data)
				if r.Data == nil {
					data = []byte("{}")
				}
				if _, err := tx.ExecContext(ctx, `INSERT INTO sector_record (id, agency, kind, external_id, pid, method, disagree, data, dated, received_at)
					VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)
					ON CONFLICT (agency, kind, external_id) DO UPDATE SET pid = excluded.pid, method = excluded.method, disagree = excluded.disagree,
					data = excluded.data, dated = excluded.dated, received_at = excluded.received_at`,
					uuid.Must(uuid.NewV7()).String(), a.ID, kind, r.ExternalID, l.PID, l.Method, string(dis), string(data), r.Dated, now); err != nil {
					return err
				}
				if l.PID != "" {
					evs = append(evs, audit.NewEvent(ctx, now, "enrich", l.PID, fmt.Sprintf("%s record %s linked by %s", kind, r.ExternalID, l.Method)))
				}
			}
			return audit.WriteTx(ctx, tx, evs...)
		})
		if err != nil {
			return rep, err
		}
	}
	if rep.Records > 0 {
		rep.MatchRate = float64(rep.ByPID+rep.ByDemographic) / float64(rep.Records)
	}
	return rep, nil
}

// Disagreement is a sector record that disagrees with the registry, for
// the officers who keep the data correct.
type Disagreement struct {
	Agency     string   `json:"agency"`
	Kind       string   `json:"kind"`
	ExternalID string   `json:"external_id"`
	PID        string   `json:"pid"`
	Fields     []string `json:"fields"`
	Dated      string   `json:"dated,omitempty"`
}

// Disagreements lists sector records that disagree with the registry
// (administrators).
func (s *Service) Disagreements(ctx context.Context, limit int) ([]Disagreement, error) {
	if _, err := access.Require(ctx, access.ManageOfficers); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	rows, err := s.db.QueryContext(ctx, `SELECT agency, kind, external_id, pid, disagree, dated FROM sector_record
		WHERE disagree <> '[]' ORDER BY received_at DESC, id LIMIT $1`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Disagreement{}
	for rows.Next() {
		var d Disagreement
		var raw string
		if err := rows.Scan(&d.Agency, &d.Kind, &d.ExternalID, &d.PID, &raw, &d.Dated); err != nil {
			return nil, err
		}
		json.Unmarshal([]byte(raw), &d.Fields)
		out = append(out, d)
	}
	return out, rows.Err()
}
