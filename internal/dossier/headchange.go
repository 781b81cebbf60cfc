package dossier

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/personalid"
	"github.com/dancu-vn/dancu/internal/registry"
)

// HeadChangeForm is the form of a change of household head (Luật Cư trú
// 2020 Art. 26), submitted by the current head.
type HeadChangeForm struct {
	NewHeadPID             string `json:"new_head_pid" doc:"A member of the household, who becomes its head"`
	FormerHeadRelationship string `json:"former_head_relationship" doc:"The applicant's relationship to the new head, e.g. parent"`
}

type headChange struct{}

func (headChange) prepare(ctx context.Context, s *Service, rec registry.Citizen, data json.RawMessage, _ time.Time) (string, any, error) {
	var in HeadChangeForm
	if err := decode(data, &in); err != nil {
		return "", nil, err
	}
	var f errs.Fields
	if _, err := personalid.Parse(in.NewHeadPID); err != nil {
		f.Add("data.new_head_pid", "%s", err)
	} else if in.NewHeadPID == string(rec.PID) {
		f.Add("data.new_head_pid", "is you: name another member")
	}
	if !s.registry.Codes().HouseholdRel.Has(in.FormerHeadRelationship) || in.FormerHeadRelationship == "head" {
		f.Add("data.former_head_relationship", "give your relationship to the new head: %s", s.registry.Codes().HouseholdRel.Hint())
	}
	if err := f.Err(); err != nil {
		return "", nil, err
	}
	if rec.Household == nil || rec.Household.Relationship != "head" {
		return "", nil, errs.Field("service", "you do not head a household: its head applies")
	}
	h, err := s.registry.HouseholdFor(ctx, rec.Household.HouseholdID)
	if err != nil {
		return "", nil, err
	}
	return h.Commune, in, nil
}

func (headChange) apply(ctx context.Context, s *Service, tx *sql.Tx, d *Dossier, now time.Time) (string, error) {
	var in HeadChangeForm
	if err := json.Unmarshal(d.Data, &in); err != nil {
		return "", err
	}
	err := s.registry.ChangeHeadForDossier(ctx, tx, d.Applicant, in.NewHeadPID, in.FormerHeadRelationship,
		basis("change of household head", "Luật Cư trú 2020 Điều 26", d))
	if err != nil {
		return "", renamed(renamed(err, "new_head_pid", "data.new_head_pid"), "former_head_relationship", "data.former_head_relationship")
	}
	return "The household head is now " + in.NewHeadPID + ".", residenceEvent(ctx, tx, d, now)
}
