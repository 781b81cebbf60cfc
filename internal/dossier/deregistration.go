package dossier

import (
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/personalid"
	"github.com/dancu-vn/dancu/internal/registry"
)

// PermanentDeregistrationCases are the cases of Luật Cư trú 2020 Art.
// 24(1) in which a permanent residence is deregistered (the letters of the
// law; "dd" is đ).
var PermanentDeregistrationCases = map[string]string{
	"a":  "death, or declared missing or dead by a court",
	"b":  "settled abroad",
	"c":  "the permanent residence registration was annulled",
	"d":  "absent for 12 months or more without registering a temporary residence or declaring a temporary absence",
	"dd": "Vietnamese nationality given up, withdrawn or its grant annulled",
	"e":  "the rental, loan or stay ended and no new permanent residence was registered within 12 months",
	"g":  "the dwelling changed owner and no new permanent residence was registered within 12 months, without the new owner's consent",
	"h":  "registered at a dwelling whose ownership passed to another, without the new owner's consent to stay",
	"i":  "the dwelling was demolished, confiscated or can no longer be lived in",
}

// PermanentDeregistrationForm is the form of a permanent residence
// deregistration, by the person (or the household's representative).
type PermanentDeregistrationForm struct {
	Case       string `json:"case" doc:"The legal case (Luật Cư trú 2020 Điều 24 khoản 1): a, b, c, d, dd, e, g, h or i"`
	NewHeadPID string `json:"new_head_pid,omitempty" doc:"If you head a household others stay in: its new head"`
	Note       string `json:"note,omitempty" maxLength:"500"`
}

type permanentDeregistration struct{}

func (permanentDeregistration) prepare(_ context.Context, s *Service, rec registry.Citizen, data json.RawMessage, _ time.Time) (string, any, error) {
	var in PermanentDeregistrationForm
	if err := decode(data, &in); err != nil {
		return "", nil, err
	}
	var f errs.Fields
	if _, ok := PermanentDeregistrationCases[in.Case]; !ok {
		keys := make([]string, 0, len(PermanentDeregistrationCases))
		for k := range PermanentDeregistrationCases {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		f.Add("data.case", "must be one of the legal cases %s", strings.Join(keys, ", "))
	}
	if in.NewHeadPID != "" {
		if _, err := personalid.Parse(in.NewHeadPID); err != nil {
			f.Add("data.new_head_pid", "%s", err)
		}
	}
	if len(in.Note) > 500 {
		f.Add("data.note", "must be at most 500 bytes")
	}
	if err := f.Err(); err != nil {
		return "", nil, err
	}
	commune := communeOf(rec.PermanentResidence)
	if commune == "" {
		return "", nil, errs.Field("service", "you have no permanent residence to deregister")
	}
	return commune, in, nil
}

func (permanentDeregistration) apply(ctx context.Context, s *Service, tx *sql.Tx, d *Dossier, now time.Time) (string, error) {
	var in PermanentDeregistrationForm
	if err := json.Unmarshal(d.Data, &in); err != nil {
		return "", err
	}
	err := s.registry.LeaveForDossier(ctx, tx, d.Applicant, in.NewHeadPID,
		basis("permanent residence deregistration, case "+in.Case+": "+PermanentDeregistrationCases[in.Case], "Luật Cư trú 2020 Điều 24; Nghị định 62/2021 Điều 7", d))
	if err != nil {
		return "", renamed(err, "new_head_pid", "data.new_head_pid")
	}
	return "Permanent residence deregistered.", residenceEvent(ctx, tx, d, now)
}
