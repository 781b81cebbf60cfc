package dossier

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/registry"
)

// A correction request: the citizen says which field of their record is
// wrong, what it should say and which papers show it; the police of the
// commune where they live check the papers, correct the record (the
// revision citing the dossier) and approve, or refuse with reasons. The
// approval does not change the record itself — an officer's correction,
// with its reason and legal basis, does — but it cannot be given before
// the record holds a revision citing the dossier: a request is not closed
// as done when nothing was done.

// CorrectionForm is a request to correct the applicant's own record.
type CorrectionForm struct {
	Field    string `json:"field" doc:"The field that is wrong (one of CorrectableFields)"`
	Correct  string `json:"correct" maxLength:"500" doc:"What it should say"`
	Evidence string `json:"evidence" maxLength:"500" doc:"The papers that show it, e.g. the birth certificate's number and date"`
	Recorded string `json:"recorded,omitempty" readOnly:"true" doc:"What the record said when the request was made (set by dancu)"`
}

// CorrectableFields are the fields a citizen may ask to have corrected;
// residence has its own procedures, and the personal ID number is never
// changed.
var CorrectableFields = []string{"name", "other_names", "birth_date", "sex", "birth_place", "birth_registration_place", "ethnicity",
	"religion", "nationality", "place_of_origin", "marital_status", "blood_type", "father", "mother", "spouse", "legal_representative"}

type correction struct{}

func (correction) prepare(_ context.Context, _ *Service, rec registry.Citizen, data json.RawMessage, _ time.Time) (string, any, error) {
	var in CorrectionForm
	if err := decode(data, &in); err != nil {
		return "", nil, err
	}
	var f errs.Fields
	if !slices.Contains(CorrectableFields, in.Field) {
		f.Add("data.field", "must be one of %s", strings.Join(CorrectableFields, ", "))
	}
	in.Correct, in.Evidence = strings.TrimSpace(in.Correct), strings.TrimSpace(in.Evidence)
	if in.Correct == "" || len(in.Correct) > 500 {
		f.Add("data.correct", "say what it should be (at most 500 bytes)")
	}
	if in.Evidence == "" || len(in.Evidence) > 500 {
		f.Add("data.evidence", "name the papers that show it (at most 500 bytes)")
	}
	if err := f.Err(); err != nil {
		return "", nil, err
	}
	commune := communeOf(rec.PermanentResidence)
	if commune == "" {
		commune = communeOf(rec.CurrentResidence)
	}
	if commune == "" {
		commune = communeOf(rec.TemporaryResidence)
	}
	if commune == "" {
		return "", nil, errs.Field("service", "no residence is recorded to route the request to: ask any commune police in person")
	}
	in.Recorded = recordedValue(rec, in.Field)
	return commune, in, nil
}

// recordedValue is a field of a record as text.
func recordedValue(rec registry.Citizen, field string) string {
	b, _ := json.Marshal(rec.Details)
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return ""
	}
	switch v := m[field].(type) {
	case nil:
		return ""
	case string:
		return v
	default:
		out, _ := json.Marshal(v)
		return string(out)
	}
}

func (correction) apply(ctx context.Context, s *Service, tx *sql.Tx, d *Dossier, _ time.Time) (string, error) {
	ok, err := s.registry.CitesDossier(ctx, tx, d.Applicant, d.Code)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", errs.E(errs.Conflict, "correct the record first, giving dossier %s as the change's dossier reference; or refuse the request with reasons", d.Code)
	}
	return fmt.Sprintf("The record was corrected (its revision cites dossier %s).", d.Code), nil
}
