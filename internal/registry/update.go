package registry

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/audit"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/personalid"
)

// Patch is a change to some fields of a record: Set holds new values keyed
// by field name (as in Details), Clear names optional fields to empty.
type Patch struct {
	Set   map[string]json.RawMessage
	Clear []string
	Basis
}

// required fields cannot be cleared.
var requiredFields = []string{"name", "birth_date", "sex"}

// Update changes fields of a record with a reason. ifMatch is the version
// the caller read; if the record has moved on, nothing changes and the
// error is Precondition. A date of birth or sex that would no longer agree
// with the personal ID number is refused: that needs the number itself
// re-established. An update that changes nothing makes no revision.
func (s *Service) Update(ctx context.Context, pidText string, ifMatch int64, p Patch) (Citizen, error) {
	// Who may not write at all learns nothing from the refusal: not whether
	// the record exists, its version, nor what is wrong with the request.
	if _, err := access.Require(ctx, access.WriteCitizen); err != nil {
		return Citizen{}, err
	}
	pid, err := personalid.Parse(pidText)
	if err != nil {
		return Citizen{}, errs.Field("pid", "%s", err)
	}
	if strings.TrimSpace(p.Reason) == "" {
		return Citizen{}, errs.Field("reason", "is required: every change to a record states why")
	}
	if len(p.Set) == 0 && len(p.Clear) == 0 {
		return Citizen{}, errs.Field("changes", "name at least one field to change")
	}
	var out Record
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		cur, err := loadRecord(ctx, tx, pid)
		if err != nil {
			return err
		}
		// Jurisdiction first: an officer outside it learns neither the
		// version nor what else is wrong with the change.
		if _, err := s.policy.RequireChange(ctx, placeOf(&cur.Details)); err != nil {
			return err
		}
		if ifMatch != cur.Version {
			return errs.E(errs.Precondition, "record %s is at version %d, not %d: read it again", pid, cur.Version, ifMatch)
		}
		next := cur
		if next.Details, err = applyPatch(cur.Details, p); err != nil {
			return err
		}
		if err := s.check.details(&next.Details); err != nil {
			return err
		}
		if err := agree(pid, &next.Details); err != nil {
			var e *errs.Error
			if !errors.As(err, &e) {
				return err
			}
			return &errs.Error{Kind: errs.Invalid, Msg: "the record would no longer agree with its personal ID number; that needs the number re-established",
				Fields: e.Fields}
		}
		if err := s.checkRelatives(ctx, tx, &cur.Details, &next.Details); err != nil {
			return err
		}
		if _, err := s.policy.RequireChange(ctx, placeOf(&cur.Details), placeOf(&next.Details)); err != nil {
			return err
		}
		changes := diff(&cur, &next)
		if len(changes) == 0 {
			out = cur
			return nil
		}
		now := s.clock()
		next.Version, next.UpdatedAt = cur.Version+1, now
		if err := s.updateRecord(ctx, tx, &next); err != nil {
			return err
		}
		if err := relink(ctx, tx, pid, &cur.Details, &next.Details, now); err != nil {
			return err
		}
		if err := revise(ctx, tx, &next, "update", p.Basis, changes); err != nil {
			return err
		}
		var fields []string
		for _, c := range changes {
			fields = append(fields, c.Field)
		}
		if err := emit(ctx, tx, "vn.dancu.citizen.updated", string(pid), map[string]any{"pid": pid, "fields": fields, "version": next.Version}, now); err != nil {
			return err
		}
		out = next
		return audit.WriteTx(ctx, tx, audit.NewEvent(ctx, now, "update", string(pid), changedFields(changes)))
	})
	if err != nil {
		return Citizen{}, err
	}
	return s.viewWithLinks(ctx, out)
}

func changedFields(cs []Change) string {
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = c.Field
	}
	return strings.Join(names, ",")
}

// applyPatch overlays p on d through their JSON form, refusing unknown
// fields and values of the wrong type with the field's name.
func applyPatch(d Details, p Patch) (Details, error) {
	var f errs.Fields
	allowed := detailFields()
	m := map[string]json.RawMessage{}
	cur, _ := json.Marshal(d)
	json.Unmarshal(cur, &m)
	for k, v := range p.Set {
		if !slices.Contains(allowed, k) {
			f.Add("changes."+k, "is not a field that can be changed here (status, household and the number have their own operations)")
			continue
		}
		if bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
			f.Add("changes."+k, "use clear to empty a field")
			continue
		}
		m[k] = v
	}
	for _, k := range p.Clear {
		switch {
		case !slices.Contains(allowed, k):
			f.Add("clear", "%q is not a field of a record", k)
		case slices.Contains(requiredFields, k):
			f.Add("clear", "%q is required and cannot be cleared", k)
		case p.Set[k] != nil:
			f.Add("clear", "%q is both set and cleared", k)
		default:
			delete(m, k)
		}
	}
	if err := f.Err(); err != nil {
		return d, err
	}
	merged, _ := json.Marshal(m)
	var out Details
	dec := json.NewDecoder(bytes.NewReader(merged))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return d, errs.Field("changes."+te.Field, "must be %s, not a JSON %s", te.Type, te.Value)
		}
		return d, errs.Field("changes", "%s", strings.TrimPrefix(err.Error(), "json: "))
	}
	return out, nil
}

// detailFields lists the JSON names of the fields of Details.
func detailFields() []string {
	var m map[string]json.RawMessage
	b, _ := json.Marshal(Details{
		OtherNames: []string{""}, BirthPlace: &Address{}, BirthRegistrationPlace: &Address{}, PlaceOfOrigin: &Address{},
		Ethnicity: &Ethnicity{}, Religion: "x", Nationality: "x", BloodType: "x", OldIDNumber: "x",
		PreviousCards: []PreviousCard{{}}, Father: &Relative{}, Mother: &Relative{}, Spouse: &Relative{},
		LegalRepresentative: &Relative{}, PermanentResidence: &Address{}, TemporaryResidence: &Address{},
		TemporaryResidenceUntil: "x", CurrentResidence: &Address{}, TemporaryAbsence: &Absence{}, ResidenceFileNumber: "x",
		MaritalStatus: "x", Phone: "x", Email: "x", Other: map[string]string{"x": "x"},
	})
	json.Unmarshal(b, &m)
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// checkRelatives verifies that relatives newly named by number are in the
// registry, and fills in their names.
func (s *Service) checkRelatives(ctx context.Context, tx *sql.Tx, before, after *Details) error {
	var f errs.Fields
	for _, l := range linkRoles {
		r := l.get(after)
		if r == nil || r.PID == "" {
			continue
		}
		if old := l.get(before); old != nil && old.PID == r.PID {
			continue
		}
		rel, err := loadRecord(ctx, tx, personalid.Number(r.PID))
		if errs.Is(err, errs.NotFound) {
			f.Add(l.role+".pid", "no citizen with personal ID number %s", r.PID)
			continue
		}
		if err != nil {
			return err
		}
		r.Name = rel.Name.Full()
	}
	return f.Err()
}

// StatusChange records a death, a disappearance, or that a missing person
// was found.
type StatusChange struct {
	Date string `json:"date" format:"date" doc:"Date of death or disappearance (or of being found)"`
	Basis
}

// allowedStatus is the life-cycle of a record.
var allowedStatus = map[Status][]Status{
	Alive:   {Dead, Missing},
	Missing: {Dead, Alive},
}

// SetStatus moves a record to status to (dead, missing, or back to alive
// for a missing person who is found). ifMatch 0 skips the version check.
func (s *Service) SetStatus(ctx context.Context, pidText string, ifMatch int64, to Status, in StatusChange) (Citizen, error) {
	if _, err := access.Require(ctx, access.WriteCitizen); err != nil {
		return Citizen{}, err
	}
	pid, err := personalid.Parse(pidText)
	if err != nil {
		return Citizen{}, errs.Field("pid", "%s", err)
	}
	var f errs.Fields
	if to != Alive && to != Dead && to != Missing {
		f.Add("status", "must be alive, dead or missing")
	}
	if strings.TrimSpace(in.Reason) == "" {
		f.Add("reason", "is required")
	}
	s.check.date(&f, "date", in.Date, true)
	if err := f.Err(); err != nil {
		return Citizen{}, err
	}
	var out Record
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		cur, err := loadRecord(ctx, tx, pid)
		if err != nil {
			return err
		}
		if _, err := s.policy.RequireChange(ctx, placeOf(&cur.Details)); err != nil {
			return err
		}
		if ifMatch != 0 && ifMatch != cur.Version {
			return errs.E(errs.Precondition, "record %s is at version %d, not %d: read it again", pid, cur.Version, ifMatch)
		}
		if !slices.Contains(allowedStatus[cur.Status], to) {
			return errs.E(errs.Conflict, "a record that is %s cannot become %s", cur.Status, to)
		}
		if in.Date < cur.BirthDate {
			return errs.Field("date", "%s is before the date of birth %s", in.Date, cur.BirthDate)
		}
		now := s.clock()
		next := cur
		next.Status, next.StatusDate = to, in.Date
		if to == Alive {
			next.StatusDate = ""
		}
		next.Version, next.UpdatedAt = cur.Version+1, now
		if err := s.updateRecord(ctx, tx, &next); err != nil {
			return err
		}
		action := map[Status]string{Dead: "record_death", Missing: "record_disappearance", Alive: "record_found"}[to]
		if err := revise(ctx, tx, &next, action, in.Basis, diff(&cur, &next)); err != nil {
			return err
		}
		if err := emit(ctx, tx, "vn.dancu.citizen.status", string(pid), map[string]any{"pid": pid, "status": to, "date": in.Date}, now); err != nil {
			return err
		}
		for _, h := range s.hooks {
			if err := h(ctx, tx, string(pid), to); err != nil {
				return err
			}
		}
		out = next
		return audit.WriteTx(ctx, tx, audit.NewEvent(ctx, now, action, string(pid), fmt.Sprintf("%s on %s", to, in.Date)))
	})
	if err != nil {
		return Citizen{}, err
	}
	return s.viewWithLinks(ctx, out)
}
