package web

import (
	"net/http"
	"strings"

	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/codelist"
	"github.com/dancu-vn/dancu/internal/personalid"
	"github.com/dancu-vn/dancu/internal/registry"
)

// birthFields are the inputs of the birth registration form.
var birthFields = []string{"family", "middle", "given", "birth_date", "sex", "birth_place_commune", "birth_place_detail",
	"registration_commune", "ethnicity", "religion", "nationality", "father_pid", "mother_pid", "lives_with",
	"household_id", "relationship", "permanent_commune", "permanent_detail"}

var birthErrorFields = map[string]string{
	"name": "family", "name.family": "family", "name.middle": "middle", "name.given": "given",
	"birth_place": "birth_place_commune", "birth_place.detail": "birth_place_detail",
	"birth_registration_place": "registration_commune", "father": "father_pid", "mother": "mother_pid",
	"household": "household_id", "household.relationship": "relationship",
	"permanent_residence": "permanent_commune", "permanent_residence.detail": "permanent_detail",
}

type birthData struct {
	Groups []fieldGroup
	Values map[string]string
	Basis  basisData
	Key    string // the idempotency key of this form: submitting it twice registers one child
	Errors *formErrors
}

// birthGroups are the inputs of the birth registration form.
func (s *Web) birthGroups() []fieldGroup {
	codes := s.Registry.Codes()
	eth, _ := codes.Ethnic(codes.DefaultEthnic)
	return []fieldGroup{
		{"group.child", []formField{
			{Name: "family", Label: "field.family", Width: "w20"},
			{Name: "middle", Label: "field.middle", Width: "w20"},
			{Name: "given", Label: "field.given", Width: "w20"},
			{Name: "birth_date", Label: "field.birth_date", Hint: "hint.date", Width: "w10"},
			{Name: "sex", Label: "field.sex", Kind: "radio", Options: []codelist.Entry{{Code: "male", Name: "sex.male"}, {Code: "female", Name: "sex.female"}}},
			{Name: "ethnicity", Label: "field.ethnicity", Kind: "select", Options: eth.Entries()},
			{Name: "religion", Label: "field.religion", Kind: "select", Options: codes.Religion.Entries()},
			{Name: "nationality", Label: "field.nationality", Width: "w4", Hint: "hint.nationality"},
		}},
		{"group.birthplace", []formField{
			{Name: "birth_place_commune", Label: "field.birth_place.commune", Width: "w6", Hint: "hint.commune"},
			{Name: "birth_place_detail", Label: "field.birth_place.detail"},
			{Name: "registration_commune", Label: "field.birth_registration_place", Width: "w6", Hint: "hint.registration"},
		}},
		{"group.parents", []formField{
			{Name: "mother_pid", Label: "field.mother.pid", Width: "w12"},
			{Name: "father_pid", Label: "field.father.pid", Width: "w12"},
			{Name: "lives_with", Label: "field.lives_with", Kind: "radio", Hint: "hint.lives_with", Options: []codelist.Entry{{Code: "mother", Name: "parent.mother"}, {Code: "father", Name: "parent.father"}}},
		}},
		{"group.residence", []formField{
			{Name: "household_id", Label: "field.household_id", Hint: "hint.household"},
			{Name: "relationship", Label: "field.relationship", Kind: "select", Options: codes.HouseholdRel.Entries()},
			{Name: "permanent_commune", Label: "field.permanent_residence.commune", Width: "w6", Hint: "hint.permanent"},
			{Name: "permanent_detail", Label: "field.permanent_residence.detail"},
		}},
	}
}

func (s *Web) birthForm(w http.ResponseWriter, r *http.Request) error {
	v := map[string]string{"nationality": "VNM", "ethnicity": "01", "religion": "00", "lives_with": "mother", "relationship": "child"}
	if j := me(r).Jurisdiction; j.Level == actor.Commune {
		v["registration_commune"] = j.Code
	}
	for _, k := range []string{"mother_pid", "father_pid", "household_id"} {
		if x := r.URL.Query().Get(k); pidPattern.MatchString(x) || (k == "household_id" && x != "" && len(x) < 100) {
			v[k] = x
		}
	}
	s.render(w, r, http.StatusOK, "birth", birthData{Values: v, Basis: basisData{Reason: tr(r, "birth.reason.default")},
		Key: randomValue(), Errors: &formErrors{}, Groups: s.birthGroups()})
	return nil
}

func (s *Web) birthSubmit(w http.ResponseWriter, r *http.Request) error {
	d := birthData{Values: map[string]string{}, Basis: basisFrom(r), Key: r.PostForm.Get("key"), Errors: &formErrors{}, Groups: s.birthGroups()}
	for _, k := range birthFields {
		d.Values[k] = strings.TrimSpace(r.PostForm.Get(k))
	}
	v := d.Values
	in := registry.BirthRegistration{Basis: d.Basis.basis(), LivesWith: v["lives_with"]}
	in.Name = registry.Name{Family: v["family"], Middle: v["middle"], Given: v["given"]}
	if v["birth_date"] != "" {
		iso, ok := parseDate(v["birth_date"])
		if !ok {
			d.Errors.add("birth_date", tr(r, "date.invalid"))
		}
		in.BirthDate = iso
	} else {
		d.Errors.add("birth_date", tr(r, "birth.date.required"))
	}
	switch v["sex"] {
	case "male", "female":
		in.Sex = personalid.Sex(v["sex"])
	default:
		d.Errors.add("sex", tr(r, "birth.sex.required"))
	}
	if v["birth_place_commune"] != "" || v["birth_place_detail"] != "" {
		in.BirthPlace = &registry.Address{Commune: v["birth_place_commune"], Detail: v["birth_place_detail"]}
	}
	in.BirthRegistrationPlace = &registry.Address{Commune: v["registration_commune"]}
	if v["ethnicity"] != "" {
		in.Ethnicity = &registry.Ethnicity{Code: v["ethnicity"]}
	}
	in.Religion, in.Nationality = v["religion"], v["nationality"]
	if v["father_pid"] != "" {
		in.Father = &registry.Relative{PID: v["father_pid"]}
	}
	if v["mother_pid"] != "" {
		in.Mother = &registry.Relative{PID: v["mother_pid"]}
	}
	if v["household_id"] != "" {
		in.Household = &registry.JoinHousehold{HouseholdID: v["household_id"], Relationship: v["relationship"]}
	}
	if v["permanent_commune"] != "" || v["permanent_detail"] != "" {
		in.PermanentResidence = &registry.Address{Commune: v["permanent_commune"], Detail: v["permanent_detail"]}
	}
	d.Basis.check(r, d.Errors)
	if d.Key == "" {
		d.Key = randomValue()
	}
	if d.Errors.Any() {
		s.render(w, r, http.StatusUnprocessableEntity, "birth", d)
		return nil
	}
	c, err := s.Registry.RegisterBirth(r.Context(), in, "console:"+d.Key)
	if err != nil {
		if fieldErrors(r, d.Errors, err, birthErrorFields) {
			s.render(w, r, http.StatusUnprocessableEntity, "birth", d)
			return nil
		}
		return err
	}
	http.Redirect(w, r, Console+"/citizens/"+string(c.PID)+"?registered=1", http.StatusSeeOther)
	return nil
}
