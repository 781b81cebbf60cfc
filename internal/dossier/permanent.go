package dossier

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/audit"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/personalid"
	"github.com/dancu-vn/dancu/internal/registry"
)

// PermanentResidenceForm is the form of a permanent residence registration
// (Luật Cư trú 2020 Art. 20–22): join an existing household, with its
// head's consent, or found a new one at an address.
type PermanentResidenceForm struct {
	HouseholdID     string            `json:"household_id,omitempty" doc:"The household to join"`
	Relationship    string            `json:"relationship,omitempty" doc:"Relationship to its head (household relationship code list)"`
	NewAddress      *registry.Address `json:"new_household_address,omitempty" doc:"Or: found a new household at this address"`
	NewHeadPID      string            `json:"new_head_pid,omitempty" doc:"If you head a household others stay in: its new head"`
	LawfulResidence string            `json:"lawful_residence" maxLength:"500" doc:"Proof of lawful residence, e.g. a land-use right certificate's number"`
	ConsentFrom     []string          `json:"consent_from,omitempty" readOnly:"true" doc:"Whose consent the registration waits for (set by dancu)"`
}

type permanentResidence struct{}

func (permanentResidence) prepare(ctx context.Context, s *Service, rec registry.Citizen, data json.RawMessage, _ time.Time) (string, any, error) {
	var in PermanentResidenceForm
	if err := decode(data, &in); err != nil {
		return "", nil, err
	}
	in.ConsentFrom = nil
	var f errs.Fields
	in.LawfulResidence = strings.TrimSpace(in.LawfulResidence)
	if in.LawfulResidence == "" || len(in.LawfulResidence) > 500 {
		f.Add("data.lawful_residence", "name the proof of lawful residence (at most 500 bytes)")
	}
	if in.NewHeadPID != "" {
		if _, err := personalid.Parse(in.NewHeadPID); err != nil {
			f.Add("data.new_head_pid", "%s", err)
		}
	}
	commune := ""
	switch {
	case (in.HouseholdID == "") == (in.NewAddress == nil):
		f.Add("data.household_id", "give either household_id (to join) or new_household_address (to found one)")
	case in.NewAddress != nil:
		s.place(&f, "data.new_household_address", in.NewAddress, true)
		commune = in.NewAddress.Commune
	default:
		if !s.registry.Codes().HouseholdRel.Has(in.Relationship) || in.Relationship == "head" {
			f.Add("data.relationship", "give your relationship to the household's head: %s", s.registry.Codes().HouseholdRel.Hint())
		}
	}
	if err := f.Err(); err != nil {
		return "", nil, err
	}
	if in.HouseholdID != "" {
		h, err := s.registry.HouseholdFor(ctx, in.HouseholdID)
		if err != nil {
			return "", nil, renamed(err, "household_id", "data.household_id")
		}
		if rec.Household != nil && rec.Household.HouseholdID == h.ID {
			return "", nil, errs.Field("data.household_id", "you are in this household already")
		}
		commune = h.Commune
		if h.Head != string(rec.PID) {
			in.ConsentFrom = []string{h.Head}
		}
	}
	return commune, in, nil
}

func renamed(err error, from, to string) error {
	if e := new(errs.Error); errors.As(err, &e) {
		for i := range e.Fields {
			if e.Fields[i].Field == from {
				e.Fields[i].Field = to
			}
		}
	}
	return err
}

func (permanentResidence) apply(ctx context.Context, s *Service, tx *sql.Tx, d *Dossier, now time.Time) (string, error) {
	var in PermanentResidenceForm
	if err := json.Unmarshal(d.Data, &in); err != nil {
		return "", err
	}
	for _, pid := range in.ConsentFrom {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM dossier_consent WHERE dossier_id = $1 AND pid = $2`, d.ID, pid).Scan(&n); err != nil {
			return "", err
		}
		if n == 0 {
			return "", errs.E(errs.Conflict, "the registration waits for the consent of the household head (%s)", pid)
		}
	}
	m := registry.Move{HouseholdID: in.HouseholdID, NewAddress: in.NewAddress, Relationship: in.Relationship, NewHeadPID: in.NewHeadPID,
		Basis: basis("permanent residence registration", "Luật Cư trú 2020 Điều 20–22", d)}
	r, err := s.registry.MoveForDossier(ctx, tx, d.Applicant, "register_permanent_residence", m)
	if err != nil {
		return "", err
	}
	return "Permanent residence registered in household " + r.Household.HouseholdID + ".", residenceEvent(ctx, tx, d, now)
}

// Consent records the acting citizen's consent to a dossier that waits for
// it (a household head's, for a permanent residence in their household).
func (s *Service) Consent(ctx context.Context, id string) (Dossier, error) {
	a, err := citizen(ctx)
	if err != nil {
		return Dossier{}, err
	}
	var out Dossier
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		d, err := scanDossier(tx.QueryRowContext(ctx, `SELECT `+dossierColumns+` FROM dossier WHERE id = $1 OR code = $1`, id))
		var in PermanentResidenceForm
		if err == nil {
			json.Unmarshal(d.Data, &in)
		}
		if err != nil || !slices.Contains(in.ConsentFrom, a.ID) {
			return errs.E(errs.NotFound, "no dossier %s waits for your consent", id)
		}
		if d.State != Submitted && d.State != Received && d.State != InfoRequested {
			return errs.E(errs.Conflict, "dossier %s is %s", d.Code, d.State)
		}
		now := s.clock()
		if _, err := tx.ExecContext(ctx, `INSERT INTO dossier_consent (dossier_id, pid, given_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
			d.ID, a.ID, now); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO dossier_step (dossier_id, seq, at, state, actor_id, actor_kind, actor_name, note)
			VALUES ($1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM dossier_step WHERE dossier_id = $1), $2, $3, $4, $5, $6, 'consent given by the household head')`,
			d.ID, now, d.State, a.ID, string(actor.Citizen), a.Name); err != nil {
			return err
		}
		out = s.withOverdue(d)
		return audit.WriteTx(ctx, tx, audit.NewEvent(ctx, now, "dossier_consent", d.Applicant, d.Code))
	})
	return out, err
}
