package dossier

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/dancu-vn/dancu/internal/adminunit"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/events"
	"github.com/dancu-vn/dancu/internal/registry"
)

// MaxTemporaryStay is the longest temporary residence one registration
// gives (Luật Cư trú 2020 Art. 27): 2 years, renewable.
const MaxTemporaryStay = 2

// RenewalWindow is how long before its end a temporary residence is renewed.
const RenewalWindow = 15 * 24 * time.Hour

// decode reads a form strictly: an unknown or mistyped field is named.
func decode(data json.RawMessage, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &te):
			return errs.Field("data."+te.Field, "must be a %s", te.Type)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			return errs.Field("data."+strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`), "is not a field of this form")
		case errors.Is(err, io.EOF):
			return errs.Field("data", "the form is empty")
		}
		return errs.Field("data", "is not a JSON object: %v", err)
	}
	return nil
}

// place checks a Vietnamese address of the current scheme in a form.
func (s *Service) place(f *errs.Fields, field string, a *registry.Address, required bool) {
	if a == nil {
		if required {
			f.Add(field, "is required")
		}
		return
	}
	if a.Country != "" && a.Country != "VNM" {
		f.Add(field+".country", "must be in Viet Nam (VNM)")
	}
	if a.Scheme != "" && a.Scheme != string(adminunit.Scheme2025) {
		f.Add(field+".scheme", "must be 2025: give the current commune code")
	}
	if _, ok := s.units.Commune(adminunit.Scheme2025, a.Commune); !ok {
		f.Add(field+".commune", "%q is not a current commune code of Viet Nam", a.Commune)
	}
	a.Detail = strings.TrimSpace(a.Detail)
	if a.Detail == "" || len(a.Detail) > 300 {
		f.Add(field+".detail", "give the house number and street (at most 300 bytes)")
	}
	a.Country, a.Scheme, a.Text, a.CurrentCommune, a.Province = "", "", "", "", ""
}

// communeOf is the current commune of a recorded address, or "".
func communeOf(a *registry.Address) string {
	if a == nil || a.Commune == "" {
		return ""
	}
	if a.Scheme == string(adminunit.Scheme2022) {
		return a.CurrentCommune
	}
	return a.Commune
}

func date(f *errs.Fields, field, v string, required bool) (time.Time, bool) {
	if v == "" {
		if required {
			f.Add(field, "is required (YYYY-MM-DD)")
		}
		return time.Time{}, false
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		f.Add(field, "must be a date YYYY-MM-DD")
		return time.Time{}, false
	}
	return t, true
}

func basis(reason, law string, d *Dossier) registry.Basis {
	return registry.Basis{Reason: reason, LegalBasis: law, DossierRef: d.Code}
}

func jsonOf(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

// residenceEvent tells subscribers that a person's residence changed.
func residenceEvent(ctx context.Context, tx *sql.Tx, d *Dossier, now time.Time) error {
	return events.Emit(ctx, tx, "vn.dancu.residence.changed", d.Applicant, map[string]any{"pid": d.Applicant, "dossier": d.Code, "service": d.Service, "at": now}, now)
}

// TemporaryResidenceForm is the form of a temporary residence registration.
type TemporaryResidenceForm struct {
	Address         *registry.Address `json:"address" doc:"Where the applicant stays: current commune code and street"`
	Until           string            `json:"until" format:"date" doc:"End of the stay, at most 2 years from today"`
	LawfulResidence string            `json:"lawful_residence" maxLength:"500" doc:"Proof of lawful residence, e.g. a rental contract's number and date"`
}

type temporaryResidence struct{}

func (temporaryResidence) prepare(_ context.Context, s *Service, rec registry.Citizen, data json.RawMessage, now time.Time) (string, any, error) {
	var in TemporaryResidenceForm
	if err := decode(data, &in); err != nil {
		return "", nil, err
	}
	var f errs.Fields
	s.place(&f, "data.address", in.Address, true)
	if until, ok := date(&f, "data.until", in.Until, true); ok {
		day, _ := time.Parse(time.DateOnly, today(now))
		switch {
		case !until.After(day):
			f.Add("data.until", "must be after today")
		case until.After(day.AddDate(MaxTemporaryStay, 0, 0)):
			f.Add("data.until", "a temporary residence is registered for at most %d years, until %s; renew it later", MaxTemporaryStay,
				day.AddDate(MaxTemporaryStay, 0, 0).Format(time.DateOnly))
		}
	}
	in.LawfulResidence = strings.TrimSpace(in.LawfulResidence)
	if in.LawfulResidence == "" || len(in.LawfulResidence) > 500 {
		f.Add("data.lawful_residence", "name the proof of lawful residence (at most 500 bytes)")
	}
	if err := f.Err(); err != nil {
		return "", nil, err
	}
	if communeOf(rec.PermanentResidence) == in.Address.Commune {
		return "", nil, errs.Field("data.address.commune", "is the commune of your permanent residence: temporary residence is registered in another commune")
	}
	return in.Address.Commune, in, nil
}

func (temporaryResidence) apply(ctx context.Context, s *Service, tx *sql.Tx, d *Dossier, now time.Time) (string, error) {
	var in TemporaryResidenceForm
	if err := json.Unmarshal(d.Data, &in); err != nil {
		return "", err
	}
	_, err := s.registry.ChangeForDossier(ctx, tx, d.Applicant, "register_temporary_residence", registry.Patch{
		Set:   map[string]json.RawMessage{"temporary_residence": jsonOf(in.Address), "temporary_residence_until": jsonOf(in.Until)},
		Basis: basis("temporary residence registration", "Luật Cư trú 2020 Điều 27–28", d)})
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("Temporary residence registered at %s, commune %s, until %s.", in.Address.Detail, in.Address.Commune, in.Until), residenceEvent(ctx, tx, d, now)
}

// RenewalForm is the form of a temporary residence renewal.
type RenewalForm struct {
	Until string `json:"until" format:"date" doc:"New end of the stay, at most 2 years from today"`
}

type temporaryRenewal struct{}

func (temporaryRenewal) prepare(_ context.Context, s *Service, rec registry.Citizen, data json.RawMessage, now time.Time) (string, any, error) {
	var in RenewalForm
	if err := decode(data, &in); err != nil {
		return "", nil, err
	}
	commune := communeOf(rec.TemporaryResidence)
	if commune == "" || rec.TemporaryResidenceUntil == "" {
		return "", nil, errs.Field("service", "you have no temporary residence with an end date to renew: register one")
	}
	day, _ := time.Parse(time.DateOnly, today(now))
	end, _ := time.Parse(time.DateOnly, rec.TemporaryResidenceUntil)
	if day.After(end) {
		return "", nil, errs.Field("service", "your temporary residence ended on %s: register a new one", rec.TemporaryResidenceUntil)
	}
	if end.Sub(day) > RenewalWindow {
		return "", nil, errs.Field("service", "a temporary residence is renewed in the 15 days before it ends (%s): from %s",
			rec.TemporaryResidenceUntil, end.Add(-RenewalWindow).Format(time.DateOnly))
	}
	var f errs.Fields
	if until, ok := date(&f, "data.until", in.Until, true); ok {
		switch {
		case !until.After(end):
			f.Add("data.until", "must be after the current end, %s", rec.TemporaryResidenceUntil)
		case until.After(day.AddDate(MaxTemporaryStay, 0, 0)):
			f.Add("data.until", "a renewal gives at most %d years from today, until %s", MaxTemporaryStay, day.AddDate(MaxTemporaryStay, 0, 0).Format(time.DateOnly))
		}
	}
	if err := f.Err(); err != nil {
		return "", nil, err
	}
	return commune, in, nil
}

func (temporaryRenewal) apply(ctx context.Context, s *Service, tx *sql.Tx, d *Dossier, now time.Time) (string, error) {
	var in RenewalForm
	if err := json.Unmarshal(d.Data, &in); err != nil {
		return "", err
	}
	if _, err := s.registry.ChangeForDossier(ctx, tx, d.Applicant, "renew_temporary_residence", registry.Patch{
		Set:   map[string]json.RawMessage{"temporary_residence_until": jsonOf(in.Until)},
		Basis: basis("temporary residence renewal", "Luật Cư trú 2020 Điều 28", d)}); err != nil {
		return "", err
	}
	return "Temporary residence renewed until " + in.Until + ".", residenceEvent(ctx, tx, d, now)
}

// AbsenceForm is the form of a temporary absence declaration.
type AbsenceForm struct {
	Destination *registry.Address `json:"destination,omitempty" doc:"Where to: a commune code and street, or country (ISO alpha-3) and place abroad"`
	From        string            `json:"from" format:"date"`
	Until       string            `json:"until,omitempty" format:"date"`
	Reason      string            `json:"reason" maxLength:"500"`
}

type temporaryAbsence struct{}

func (temporaryAbsence) prepare(_ context.Context, s *Service, rec registry.Citizen, data json.RawMessage, now time.Time) (string, any, error) {
	var in AbsenceForm
	if err := decode(data, &in); err != nil {
		return "", nil, err
	}
	commune := communeOf(rec.PermanentResidence)
	if commune == "" {
		return "", nil, errs.Field("service", "a temporary absence is declared from a permanent residence, and you have none recorded")
	}
	var f errs.Fields
	if in.Destination != nil && in.Destination.Country != "" && in.Destination.Country != "VNM" {
		if !s.registry.Codes().Nationality.Has(in.Destination.Country) {
			f.Add("data.destination.country", "%q is not an ISO 3166-1 alpha-3 country code", in.Destination.Country)
		}
		in.Destination.Commune, in.Destination.Scheme = "", ""
	} else if in.Destination != nil {
		s.place(&f, "data.destination", in.Destination, false)
	}
	from, okFrom := date(&f, "data.from", in.From, true)
	if until, ok := date(&f, "data.until", in.Until, false); ok && okFrom && !until.After(from) {
		f.Add("data.until", "must be after from")
	}
	day, _ := time.Parse(time.DateOnly, today(now))
	if okFrom && from.Before(day.AddDate(0, 0, -30)) {
		f.Add("data.from", "a temporary absence is declared when it starts, not more than 30 days after")
	}
	in.Reason = strings.TrimSpace(in.Reason)
	if in.Reason == "" || len(in.Reason) > 500 {
		f.Add("data.reason", "is required (at most 500 bytes)")
	}
	if err := f.Err(); err != nil {
		return "", nil, err
	}
	return commune, in, nil
}

func (temporaryAbsence) apply(ctx context.Context, s *Service, tx *sql.Tx, d *Dossier, now time.Time) (string, error) {
	var in AbsenceForm
	if err := json.Unmarshal(d.Data, &in); err != nil {
		return "", err
	}
	abs := registry.Absence{From: in.From, Until: in.Until, Destination: in.Destination, Reason: in.Reason}
	if _, err := s.registry.ChangeForDossier(ctx, tx, d.Applicant, "declare_temporary_absence", registry.Patch{
		Set: map[string]json.RawMessage{"temporary_absence": jsonOf(abs)}, Basis: basis("temporary absence declaration", "Luật Cư trú 2020 Điều 31", d)}); err != nil {
		return "", err
	}
	return "Temporary absence declared from " + in.From + ".", residenceEvent(ctx, tx, d, now)
}

// DeregistrationCases are the cases of Luật Cư trú 2020 Art. 29(1) in which
// a temporary residence is deregistered.
var DeregistrationCases = map[string]string{
	"a": "death, or declared missing or dead by a court",
	"b": "the temporary residence registration was annulled",
	"c": "absent from the temporary residence for 6 months or more without declaring it",
	"d": "Vietnamese nationality given up, withdrawn or its grant annulled",
	"e": "permanent residence registered at the same place",
	"f": "the rental, loan or stay at the lodging ended",
	"g": "the dwelling changed owner, without the new owner's consent",
	"h": "the dwelling was demolished, confiscated or is otherwise no longer usable",
}

// DeregistrationForm is the form of a temporary residence deregistration.
type DeregistrationForm struct {
	Case string `json:"case" doc:"The legal case (Luật Cư trú 2020 Điều 29 khoản 1): a to h"`
	Note string `json:"note,omitempty" maxLength:"500"`
}

type temporaryDeregistration struct{}

func (temporaryDeregistration) prepare(_ context.Context, s *Service, rec registry.Citizen, data json.RawMessage, _ time.Time) (string, any, error) {
	var in DeregistrationForm
	if err := decode(data, &in); err != nil {
		return "", nil, err
	}
	if _, ok := DeregistrationCases[in.Case]; !ok {
		keys := make([]string, 0, len(DeregistrationCases))
		for k := range DeregistrationCases {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		return "", nil, errs.Field("data.case", "must be one of the legal cases %s", strings.Join(keys, ", "))
	}
	if len(in.Note) > 500 {
		return "", nil, errs.Field("data.note", "must be at most 500 bytes")
	}
	commune := communeOf(rec.TemporaryResidence)
	if commune == "" {
		return "", nil, errs.Field("service", "you have no temporary residence to deregister")
	}
	return commune, in, nil
}

func (temporaryDeregistration) apply(ctx context.Context, s *Service, tx *sql.Tx, d *Dossier, now time.Time) (string, error) {
	var in DeregistrationForm
	if err := json.Unmarshal(d.Data, &in); err != nil {
		return "", err
	}
	if _, err := s.registry.ChangeForDossier(ctx, tx, d.Applicant, "deregister_temporary_residence", registry.Patch{
		Clear: []string{"temporary_residence", "temporary_residence_until"},
		Basis: basis("temporary residence deregistration, case "+in.Case+": "+DeregistrationCases[in.Case], "Luật Cư trú 2020 Điều 29; Nghị định 62/2021 Điều 8", d)}); err != nil {
		return "", err
	}
	return "Temporary residence deregistered.", residenceEvent(ctx, tx, d, now)
}
