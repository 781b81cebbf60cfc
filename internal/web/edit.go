package web

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/codelist"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/registry"
)

// formField is one input of a form: its name (also its id, f-NAME), the
// locale key of its label, and how it is entered.
type formField struct {
	Name, Label, Hint string
	Kind              string // text, lines, select, date, number
	Options           []codelist.Entry
	Width             string // a CSS width class
}

type fieldGroup struct {
	Legend string
	Fields []formField
}

// editGroups are the fields an officer corrects on the edit form, grouped
// as on the paper form. The number, date of birth and sex are fixed by the
// number; status, household and residences have their own procedures.
func (s *Web) editGroups() []fieldGroup {
	codes := s.Registry.Codes()
	eth, _ := codes.Ethnic(codes.DefaultEthnic)
	return []fieldGroup{
		{"group.identity", []formField{
			{Name: "family", Label: "field.family", Width: "w20"},
			{Name: "middle", Label: "field.middle", Width: "w20"},
			{Name: "given", Label: "field.given", Width: "w20"},
			{Name: "other_names", Label: "field.other_names", Kind: "lines", Hint: "hint.lines"},
			{Name: "ethnicity", Label: "field.ethnicity", Kind: "select", Options: eth.Entries()},
			{Name: "religion", Label: "field.religion", Kind: "select", Options: codes.Religion.Entries()},
			{Name: "nationality", Label: "field.nationality", Width: "w4", Hint: "hint.nationality"},
			{Name: "blood_type", Label: "field.blood_type", Kind: "select", Options: codes.BloodType.Entries()},
			{Name: "old_id_number", Label: "field.old_id_number", Width: "w10"},
			{Name: "marital_status", Label: "field.marital_status", Kind: "select", Options: codes.MaritalStatus.Entries()},
		}},
		{"group.places", []formField{
			{Name: "birth_place_commune", Label: "field.birth_place.commune", Width: "w6", Hint: "hint.commune"},
			{Name: "birth_place_detail", Label: "field.birth_place.detail"},
			{Name: "place_of_origin_commune", Label: "field.place_of_origin.commune", Width: "w6", Hint: "hint.commune"},
			{Name: "place_of_origin_detail", Label: "field.place_of_origin.detail"},
			{Name: "current_residence_commune", Label: "field.current_residence.commune", Width: "w6", Hint: "hint.commune"},
			{Name: "current_residence_detail", Label: "field.current_residence.detail"},
			{Name: "residence_file_number", Label: "field.residence_file_number", Width: "w20"},
		}},
		{"group.family", []formField{
			{Name: "father_pid", Label: "field.father.pid", Width: "w12"},
			{Name: "father_name", Label: "field.father.name"},
			{Name: "mother_pid", Label: "field.mother.pid", Width: "w12"},
			{Name: "mother_name", Label: "field.mother.name"},
			{Name: "spouse_pid", Label: "field.spouse.pid", Width: "w12"},
			{Name: "spouse_name", Label: "field.spouse.name"},
		}},
		{"group.contact", []formField{
			{Name: "phone", Label: "field.phone", Width: "w12"},
			{Name: "email", Label: "field.email"},
		}},
	}
}

// editErrorFields maps the paths of the registry's field errors to the
// edit form's inputs.
var editErrorFields = map[string]string{
	"name": "family", "name.family": "family", "name.middle": "middle", "name.given": "given",
	"birth_place": "birth_place_commune", "birth_place.detail": "birth_place_detail",
	"place_of_origin": "place_of_origin_commune", "place_of_origin.detail": "place_of_origin_detail",
	"current_residence": "current_residence_commune", "current_residence.detail": "current_residence_detail",
	"father": "father_pid", "father.name": "father_name", "mother": "mother_pid", "mother.name": "mother_name",
	"spouse": "spouse_pid", "spouse.name": "spouse_name", "changes": "form", "clear": "form",
}

// scalarFields are the text fields of Details that the form edits as
// they are.
var scalarFields = []string{"religion", "nationality", "blood_type", "old_id_number", "marital_status", "phone", "email", "residence_file_number"}

// addressFields and relativeFields are edited as two inputs each.
var (
	addressFields  = []string{"birth_place", "place_of_origin", "current_residence"}
	relativeFields = []string{"father", "mother", "spouse"}
)

func scalar(d *registry.Details, name string) string {
	switch name {
	case "religion":
		return d.Religion
	case "nationality":
		return d.Nationality
	case "blood_type":
		return d.BloodType
	case "old_id_number":
		return d.OldIDNumber
	case "marital_status":
		return d.MaritalStatus
	case "phone":
		return d.Phone
	case "email":
		return d.Email
	case "residence_file_number":
		return d.ResidenceFileNumber
	}
	return ""
}

func address(d *registry.Details, name string) *registry.Address {
	switch name {
	case "birth_place":
		return d.BirthPlace
	case "place_of_origin":
		return d.PlaceOfOrigin
	case "current_residence":
		return d.CurrentResidence
	}
	return nil
}

func relative(d *registry.Details, name string) *registry.Relative {
	switch name {
	case "father":
		return d.Father
	case "mother":
		return d.Mother
	case "spouse":
		return d.Spouse
	}
	return nil
}

// editValues are the edit form's values for a record.
func editValues(d *registry.Details) map[string]string {
	v := map[string]string{"family": d.Name.Family, "middle": d.Name.Middle, "given": d.Name.Given,
		"other_names": strings.Join(d.OtherNames, "\n")}
	if d.Ethnicity != nil {
		v["ethnicity"] = d.Ethnicity.Code
	}
	for _, f := range scalarFields {
		v[f] = scalar(d, f)
	}
	for _, f := range addressFields {
		if a := address(d, f); a != nil {
			v[f+"_commune"], v[f+"_detail"] = a.Commune, a.Detail
		}
	}
	for _, f := range relativeFields {
		if x := relative(d, f); x != nil {
			v[f+"_pid"], v[f+"_name"] = x.PID, x.Name
		}
	}
	return v
}

// editPatch is what the submitted form changes in the record as it was
// when the form was opened: only fields whose inputs differ.
func editPatch(d *registry.Details, was, now map[string]string) registry.Patch {
	p := registry.Patch{Set: map[string]json.RawMessage{}}
	set := func(k string, v any) { b, _ := json.Marshal(v); p.Set[k] = b }
	changed := func(keys ...string) bool {
		for _, k := range keys {
			if was[k] != now[k] {
				return true
			}
		}
		return false
	}
	if changed("family", "middle", "given") {
		set("name", registry.Name{Family: now["family"], Middle: now["middle"], Given: now["given"]})
	}
	if changed("other_names") {
		var names []string
		for _, l := range strings.Split(now["other_names"], "\n") {
			if l = strings.TrimSpace(l); l != "" {
				names = append(names, l)
			}
		}
		if len(names) == 0 {
			p.Clear = append(p.Clear, "other_names")
		} else {
			set("other_names", names)
		}
	}
	if changed("ethnicity") {
		if now["ethnicity"] == "" {
			p.Clear = append(p.Clear, "ethnicity")
		} else {
			e := registry.Ethnicity{Code: now["ethnicity"]}
			if d.Ethnicity != nil {
				e.System = d.Ethnicity.System
			}
			set("ethnicity", e)
		}
	}
	for _, f := range scalarFields {
		if changed(f) {
			if now[f] == "" {
				p.Clear = append(p.Clear, f)
			} else {
				set(f, now[f])
			}
		}
	}
	for _, f := range addressFields {
		c, dt := f+"_commune", f+"_detail"
		if !changed(c, dt) {
			continue
		}
		if now[c] == "" && now[dt] == "" {
			p.Clear = append(p.Clear, f)
			continue
		}
		a := registry.Address{Commune: now[c], Detail: now[dt]}
		if old := address(d, f); old != nil {
			a.Country = old.Country
			if !changed(c) {
				a.Scheme, a.Province = old.Scheme, old.Province
			}
		}
		set(f, a)
	}
	for _, f := range relativeFields {
		pk, nk := f+"_pid", f+"_name"
		if !changed(pk, nk) {
			continue
		}
		if now[pk] == "" && now[nk] == "" {
			p.Clear = append(p.Clear, f)
			continue
		}
		x := registry.Relative{PID: now[pk], Name: now[nk]}
		if old := relative(d, f); old != nil && !changed(pk) {
			x.OldIDNumber, x.Nationality = old.OldIDNumber, old.Nationality
		}
		set(f, x)
	}
	return p
}

// basisData is the reason of a change as entered.
type basisData struct{ Reason, LegalBasis, DossierRef string }

func basisFrom(r *http.Request) basisData {
	f := r.PostForm
	return basisData{strings.TrimSpace(f.Get("reason")), strings.TrimSpace(f.Get("legal_basis")), strings.TrimSpace(f.Get("dossier_ref"))}
}

// check requires what the console requires of every change: the reason
// and its legal basis.
func (b basisData) check(r *http.Request, f *formErrors) {
	if b.Reason == "" {
		f.add("reason", tr(r, "basis.reason.required"))
	}
	if b.LegalBasis == "" {
		f.add("legal_basis", tr(r, "basis.legal.required"))
	}
}

func (b basisData) basis() registry.Basis {
	return registry.Basis{Reason: b.Reason, LegalBasis: b.LegalBasis, DossierRef: b.DossierRef}
}

type editData struct {
	C       registry.Citizen
	Version int64
	Groups  []fieldGroup
	Values  map[string]string
	Basis   basisData
	Errors  *formErrors
	// Conflict: the record changed since the form was opened.
	Conflict     []registry.Revision
	ConflictRows []changeView // per field: the record as it now is, and this officer's value
}

// changeable reads a record for a change form: only an officer whose
// jurisdiction covers the person opens the form, even by URL.
func (s *Web) changeable(r *http.Request, purpose string) (registry.Citizen, error) {
	pid := r.PathValue("pid")
	if _, err := s.Registry.RequireOver(r.Context(), access.WriteCitizen, pid); err != nil {
		return registry.Citizen{}, err
	}
	return s.Registry.Get(r.Context(), pid, purpose)
}

func (s *Web) editForm(w http.ResponseWriter, r *http.Request) error {
	c, err := s.changeable(r, "correcting the record")
	if err != nil {
		return err
	}
	if c.Status == registry.Dead {
		return errs.E(errs.Conflict, "%s", tr(r, "edit.dead"))
	}
	// From a correction request: the change cites its dossier.
	b := basisData{DossierRef: strings.TrimSpace(r.URL.Query().Get("dossier_ref"))}
	s.render(w, r, http.StatusOK, "edit", editData{C: c, Version: c.Version, Groups: s.editGroups(), Values: editValues(&c.Details), Basis: b, Errors: &formErrors{}})
	return nil
}

func (s *Web) editSubmit(w http.ResponseWriter, r *http.Request) error {
	ctx, pid := r.Context(), r.PathValue("pid")
	version, _ := strconv.ParseInt(r.PostForm.Get("version"), 10, 64)
	c, err := s.changeable(r, "correcting the record")
	if err != nil {
		return err
	}
	d := editData{C: c, Version: version, Groups: s.editGroups(), Values: map[string]string{}, Basis: basisFrom(r), Errors: &formErrors{}}
	for _, g := range d.Groups {
		for _, f := range g.Fields {
			d.Values[f.Name] = strings.TrimSpace(strings.ReplaceAll(r.PostForm.Get(f.Name), "\r\n", "\n"))
		}
	}
	// The patch is what this officer changed in the version they opened.
	opened := c.Details
	if version != c.Version {
		hist, err := s.Registry.History(ctx, pid)
		if err != nil {
			return err
		}
		if old, ok := detailsAt(hist, version, c.Details); ok {
			opened = old
		}
	}
	p := editPatch(&opened, editValues(&opened), d.Values)
	p.Basis = d.Basis.basis()
	d.Basis.check(r, d.Errors)
	if len(p.Set) == 0 && len(p.Clear) == 0 {
		d.Errors.add("form", tr(r, "edit.nochange"))
	}
	if d.Errors.Any() {
		s.render(w, r, http.StatusUnprocessableEntity, "edit", d)
		return nil
	}
	_, err = s.Registry.Update(ctx, pid, version, p)
	switch {
	case err == nil:
		http.Redirect(w, r, Console+"/citizens/"+pid+"?saved=1", http.StatusSeeOther)
		return nil
	case errs.Is(err, errs.Precondition):
		hist, herr := s.Registry.History(ctx, pid)
		if herr != nil {
			return herr
		}
		for _, rev := range hist {
			if rev.Version > version {
				d.Conflict = append(d.Conflict, rev)
			}
		}
		d.ConflictRows = mine(s.view(r), &c.Details, p)
		d.Version = c.Version
		s.render(w, r, http.StatusConflict, "edit", d)
		return nil
	case fieldErrors(r, d.Errors, err, editErrorFields):
		s.render(w, r, http.StatusUnprocessableEntity, "edit", d)
		return nil
	}
	return err
}

// mine is the change this officer tried, beside the record as it now is.
func mine(v view, cur *registry.Details, p registry.Patch) []changeView {
	var m map[string]any
	b, _ := json.Marshal(cur)
	json.Unmarshal(b, &m)
	var out []changeView
	keys := make([]string, 0, len(p.Set))
	for k := range p.Set {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		var after any
		json.Unmarshal(p.Set[k], &after)
		out = append(out, changeView{Label: fieldLabel(k), Before: v.show(k, m[k]), After: v.show(k, after)})
	}
	for _, k := range p.Clear {
		out = append(out, changeView{Label: fieldLabel(k), Before: v.show(k, m[k])})
	}
	return out
}

// detailsAt rebuilds a record's details as they were at a version, from
// the current details and the history's changes after it.
func detailsAt(hist []registry.Revision, version int64, cur registry.Details) (registry.Details, bool) {
	var m map[string]any
	b, _ := json.Marshal(cur)
	json.Unmarshal(b, &m)
	found := false
	for i := len(hist) - 1; i >= 0; i-- {
		rev := hist[i]
		if rev.Version <= version {
			found = found || rev.Version == version
			continue
		}
		for _, c := range rev.Changes {
			if c.Before == nil {
				delete(m, c.Field)
			} else {
				m[c.Field] = c.Before
			}
		}
	}
	if !found {
		return cur, false
	}
	var d registry.Details
	b, _ = json.Marshal(m)
	if json.Unmarshal(b, &d) != nil {
		return cur, false
	}
	return d, true
}

type statusData struct {
	C       registry.Citizen
	Version int64
	To      string
	Options []registry.Status
	Date    string
	Basis   basisData
	Errors  *formErrors
}

func statusOptions(from registry.Status) []registry.Status {
	switch from {
	case registry.Alive:
		return []registry.Status{registry.Dead, registry.Missing}
	case registry.Missing:
		return []registry.Status{registry.Dead, registry.Alive}
	}
	return nil
}

func (s *Web) statusForm(w http.ResponseWriter, r *http.Request) error {
	c, err := s.changeable(r, "recording a death or disappearance")
	if err != nil {
		return err
	}
	d := statusData{C: c, Version: c.Version, Options: statusOptions(c.Status), Errors: &formErrors{}}
	if len(d.Options) == 0 {
		return errs.E(errs.Conflict, "%s", tr(r, "edit.dead"))
	}
	d.To = string(d.Options[0])
	if t := r.URL.Query().Get("to"); slices.Contains(d.Options, registry.Status(t)) {
		d.To = t
	}
	s.render(w, r, http.StatusOK, "status", d)
	return nil
}

func (s *Web) statusSubmit(w http.ResponseWriter, r *http.Request) error {
	ctx, pid := r.Context(), r.PathValue("pid")
	c, err := s.changeable(r, "recording a death or disappearance")
	if err != nil {
		return err
	}
	version, _ := strconv.ParseInt(r.PostForm.Get("version"), 10, 64)
	d := statusData{C: c, Version: version, To: r.PostForm.Get("to"), Options: statusOptions(c.Status),
		Date: strings.TrimSpace(r.PostForm.Get("date")), Basis: basisFrom(r), Errors: &formErrors{}}
	if !slices.Contains(d.Options, registry.Status(d.To)) {
		d.Errors.add("to", tr(r, "status.to.invalid"))
	}
	iso, ok := parseDate(d.Date)
	if !ok {
		d.Errors.add("date", tr(r, "date.invalid"))
	}
	d.Basis.check(r, d.Errors)
	if d.Errors.Any() {
		s.render(w, r, http.StatusUnprocessableEntity, "status", d)
		return nil
	}
	_, err = s.Registry.SetStatus(ctx, pid, version, registry.Status(d.To), registry.StatusChange{Date: iso, Basis: d.Basis.basis()})
	switch {
	case err == nil:
		http.Redirect(w, r, Console+"/citizens/"+pid+"?saved=1", http.StatusSeeOther)
		return nil
	case errs.Is(err, errs.Precondition):
		d.Version = c.Version
		d.Errors.add("form", tr(r, "status.conflict"))
		s.render(w, r, http.StatusConflict, "status", d)
		return nil
	case fieldErrors(r, d.Errors, err, map[string]string{"date": "date", "reason": "reason", "status": "to"}):
		s.render(w, r, http.StatusUnprocessableEntity, "status", d)
		return nil
	}
	return err
}
