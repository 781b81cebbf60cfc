package api

import (
	"context"
	"time"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/adminunit"
	"github.com/dancu-vn/dancu/internal/audit"
	"github.com/dancu-vn/dancu/internal/codelist"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/personalid"
)

type decodedPID struct {
	Body struct {
		PID          string         `json:"pid"`
		Province     string         `json:"province" doc:"3-digit code of the province where the birth was registered"`
		ProvinceName string         `json:"province_name"`
		Sex          personalid.Sex `json:"sex"`
		BirthYear    int            `json:"birth_year"`
	}
}

func (h *handlers) decodePID(ctx context.Context, in *PIDPath) (*decodedPID, error) {
	if _, err := access.Require(ctx, access.ReadCitizen); err != nil {
		return nil, h.problemPath(ctx, err)
	}
	n, err := personalid.Parse(in.PID)
	if err != nil {
		return nil, h.problemPath(ctx, errs.Field("pid", "%s", err))
	}
	out := &decodedPID{}
	out.Body.PID, out.Body.Province, out.Body.Sex, out.Body.BirthYear = n.String(), n.Province(), n.Sex(), n.BirthYear()
	out.Body.ProvinceName, _ = personalid.ProvinceName(n.Province())
	return out, nil
}

type unitJSON struct {
	Code     string `json:"code"`
	Name     string `json:"name"`
	FullName string `json:"full_name"`
	Type     string `json:"type"`
	Level    string `json:"level"`
	Scheme   string `json:"scheme"`
	Parent   string `json:"parent,omitempty"`
	Province string `json:"province,omitempty"`
}

func unitOut(u adminunit.Unit) unitJSON {
	return unitJSON{Code: u.Code, Name: u.Name, FullName: u.FullName(), Type: u.Type, Level: u.Level.String(),
		Scheme: string(u.Scheme), Parent: u.Parent, Province: u.Province}
}

func levelOf(s string) (adminunit.Level, bool) {
	switch s {
	case "province":
		return adminunit.LevelProvince, true
	case "district":
		return adminunit.LevelDistrict, true
	case "commune", "":
		return adminunit.LevelCommune, true
	}
	return 0, false
}

type searchUnitsInput struct {
	Q      string `query:"q" maxLength:"200" doc:"Name, with or without diacritics"`
	Scheme string `query:"scheme" enum:"2025,2022," doc:"Default 2025"`
	Level  string `query:"level" enum:"province,district,commune," doc:"Default commune"`
	Parent string `query:"parent" maxLength:"5" doc:"List the units under this code instead of searching"`
	Limit  int    `query:"limit" minimum:"0" maximum:"1000"`
}

type unitsOutput struct {
	Body []unitJSON
}

// Administrative units are public reference data: no login needed.
func (h *handlers) searchUnits(ctx context.Context, in *searchUnitsInput) (*unitsOutput, error) {
	scheme := adminunit.Scheme(in.Scheme)
	if scheme == "" {
		scheme = adminunit.Scheme2025
	}
	level, _ := levelOf(in.Level)
	if level == adminunit.LevelDistrict && scheme != adminunit.Scheme2022 {
		return nil, h.problemQuery(ctx, errs.Field("level", "districts exist only in the 2022 scheme"))
	}
	if in.Limit == 0 {
		in.Limit = 50
	}
	var units []adminunit.Unit
	switch {
	case in.Parent != "":
		units = h.Registry.Units().Children(scheme, in.Parent)
	case in.Q != "":
		units = h.Registry.Units().Search(scheme, level, in.Q, in.Limit)
	default:
		units = h.Registry.Units().Units(scheme, level)
	}
	out := &unitsOutput{Body: make([]unitJSON, 0, len(units))}
	for i, u := range units {
		if i == in.Limit && in.Parent == "" {
			break
		}
		out.Body = append(out.Body, unitOut(u))
	}
	return out, nil
}

type getUnitInput struct {
	Scheme string `path:"scheme" enum:"2025,2022"`
	Code   string `path:"code" maxLength:"5" doc:"2-digit province, 3-digit district or 5-digit commune code"`
}

type unitOutput struct {
	Body struct {
		unitJSON
		Current      *unitJSON  `json:"current,omitempty" doc:"For a 2022 commune: the commune it became"`
		Predecessors []unitJSON `json:"predecessors,omitempty" doc:"For a 2025 commune: the 2022 communes merged into it"`
	}
}

func (h *handlers) getUnit(ctx context.Context, in *getUnitInput) (*unitOutput, error) {
	units := h.Registry.Units()
	scheme := adminunit.Scheme(in.Scheme)
	var u adminunit.Unit
	ok := false
	for _, l := range []adminunit.Level{adminunit.LevelCommune, adminunit.LevelDistrict, adminunit.LevelProvince} {
		if u, ok = units.Unit(scheme, l, in.Code); ok {
			break
		}
	}
	if !ok {
		if p, found := units.Province(scheme, in.Code); found {
			u, ok = p, true
		}
	}
	if !ok {
		return nil, h.problem(ctx, errs.E(errs.NotFound, "no unit %s in the %s scheme", in.Code, scheme))
	}
	out := &unitOutput{}
	out.Body.unitJSON = unitOut(u)
	if u.Level == adminunit.LevelCommune && scheme == adminunit.Scheme2022 {
		if c, ok := units.Current(u.Code); ok {
			cj := unitOut(c)
			out.Body.Current = &cj
		}
	}
	if u.Level == adminunit.LevelCommune && scheme == adminunit.Scheme2025 {
		for _, p := range units.Predecessors(u.Code) {
			out.Body.Predecessors = append(out.Body.Predecessors, unitOut(p))
		}
	}
	return out, nil
}

type codesOutput struct {
	Body map[string]codeListJSON
}

type codeListJSON struct {
	System  string           `json:"system"`
	Entries []codelist.Entry `json:"entries"`
}

func (h *handlers) codes(ctx context.Context, _ *struct{}) (*codesOutput, error) {
	c := h.Registry.Codes()
	out := &codesOutput{Body: map[string]codeListJSON{}}
	add := func(name string, l *codelist.List) {
		out.Body[name] = codeListJSON{System: l.System, Entries: l.Entries()}
	}
	for sys, l := range c.Ethnicity {
		add("ethnicity:"+sys, l)
	}
	add("religion", c.Religion)
	add("nationality", c.Nationality)
	add("blood_type", c.BloodType)
	add("marital_status", c.MaritalStatus)
	add("household_relationship", c.HouseholdRel)
	return out, nil
}

type accessEventsInput struct {
	Subject string `query:"subject" maxLength:"12" doc:"Personal ID number of the person concerned"`
	Actor   string `query:"actor" maxLength:"64"`
	Before  string `query:"before" maxLength:"64" doc:"Continue after this event ID (newest first)"`
	Limit   int    `query:"limit" minimum:"0" maximum:"500"`
}

type accessEventsOutput struct {
	Body []audit.Event
}

func (h *handlers) accessEvents(ctx context.Context, in *accessEventsInput) (*accessEventsOutput, error) {
	if _, err := access.Require(ctx, access.ReadAccessLog); err != nil {
		return nil, h.problemQuery(ctx, err)
	}
	evs, err := audit.Oversee(ctx, h.DB, audit.Filter{Subject: in.Subject, ActorID: in.Actor, Before: in.Before, Limit: in.Limit}, time.Now())
	if err != nil {
		return nil, h.problemQuery(ctx, err)
	}
	if evs == nil {
		evs = []audit.Event{}
	}
	return &accessEventsOutput{Body: evs}, nil
}

// Access is one entry of a citizen's "who accessed my data".
type Access struct {
	At      string `json:"at"`
	Who     string `json:"who" doc:"The unit, agency or service that read or changed the data"`
	Kind    string `json:"kind" enum:"officer,agency,citizen,system,anonymous"`
	Action  string `json:"action" doc:"read, search, update, register_temporary_residence, …"`
	Purpose string `json:"purpose,omitempty"`
	Detail  string `json:"detail,omitempty" doc:"What was touched, e.g. the fields changed"`
}

type myAccessInput struct {
	Before string `query:"before" maxLength:"64" doc:"Continue after this event ID (newest first)"`
	Limit  int    `query:"limit" minimum:"0" maximum:"500"`
}

type myAccessOutput struct {
	Body []Access
}

// myAccessLog answers a citizen's "who accessed my data": every read and
// change of their record, by whom (the officer's unit, not the officer),
// why and when.
func (h *handlers) myAccessLog(ctx context.Context, in *myAccessInput) (*myAccessOutput, error) {
	pid, err := citizenOf(ctx)
	if err != nil {
		return nil, h.problem(ctx, err)
	}
	seen, err := audit.Mine(ctx, h.DB, audit.Filter{Subject: pid, Before: in.Before, Limit: in.Limit}, h.Access.UnitOf)
	if err != nil {
		return nil, h.problemQuery(ctx, err)
	}
	out := make([]Access, 0, len(seen))
	for _, s := range seen {
		e, who := s.Event, s.Who
		switch {
		case s.Self:
			who = "you"
		case e.Kind == string(actor.Citizen):
			who = "another citizen"
		}
		out = append(out, Access{At: e.At.Format(time.RFC3339), Who: who, Kind: e.Kind, Action: e.Action, Purpose: e.Purpose, Detail: e.SubjectDetail()})
	}
	return &myAccessOutput{Body: out}, nil
}
