package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/dancu-vn/dancu/internal/adminunit"
	"github.com/dancu-vn/dancu/internal/dossier"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/locale"
)

// Procedures: the catalog, a form for each residence procedure that asks
// only for what the registry does not hold (the rest is shown, read from
// the record), each dossier followed with its steps and deadline, a
// request for information answered on the form as it was filled in, a
// withdrawal, and the notices of the steps others took. The forms are
// plain HTML: a field's name is its path in the dossier's data
// ("address.detail", "guests[0].pid"), so the service's errors name the
// form's fields.

// procField is one field of a procedure's form.
type procField struct {
	Name  string // the path in the dossier's data
	Kind  string // text, date, datetime, commune, textarea, select
	Label string // a message key
	Hint  string // a message key, or ""
	// Options of a select, each shown as Label+"."+value, or as the
	// code list List names it.
	Options []string
	List    string
	// Group starts a fieldset with this legend (a message key).
	Group string
}

// procedureForms are the forms of the procedures the portal runs; the
// others of the catalog are listed with their agency.
var procedureForms = map[string][]procField{
	"residence.temporary": {
		{Name: "address.commune", Kind: "commune", Label: "pform.commune", Hint: "pform.commune.hint", Group: "pform.address"},
		{Name: "address.detail", Kind: "text", Label: "pform.detail", Hint: "pform.detail.hint"},
		{Name: "until", Kind: "date", Label: "dform.until", Hint: "pform.until.hint"},
		{Name: "lawful_residence", Kind: "textarea", Label: "dform.lawful_residence", Hint: "pform.lawful.hint"},
	},
	"residence.temporary.renewal": {
		{Name: "until", Kind: "date", Label: "dform.until", Hint: "pform.until.hint", Group: "pform.renewal"},
	},
	"residence.absence": {
		{Name: "destination.commune", Kind: "commune", Label: "pform.commune", Hint: "pform.commune.hint", Group: "dform.destination"},
		{Name: "destination.detail", Kind: "text", Label: "pform.detail", Hint: "pform.detail.hint"},
		{Name: "from", Kind: "date", Label: "dform.from", Group: "pform.when"},
		{Name: "until", Kind: "date", Label: "dform.until", Hint: "pform.optional"},
		{Name: "reason", Kind: "textarea", Label: "dform.reason"},
	},
	"residence.permanent": {
		{Name: "household_id", Kind: "text", Label: "pform.household_id", Hint: "pform.household_id.hint", Group: "pform.join"},
		{Name: "relationship", Kind: "select", Label: "dform.relationship", List: "household",
			Options: []string{"", "spouse", "child", "parent", "parent_in_law", "child_in_law", "grandparent", "grandchild", "sibling", "relative", "other"}},
		{Name: "new_household_address.commune", Kind: "commune", Label: "pform.commune", Hint: "pform.commune.hint", Group: "pform.found"},
		{Name: "new_household_address.detail", Kind: "text", Label: "pform.detail", Hint: "pform.detail.hint"},
		{Name: "lawful_residence", Kind: "textarea", Label: "dform.lawful_residence", Hint: "pform.lawful.hint", Group: "pform.proof"},
		{Name: "new_head_pid", Kind: "text", Label: "dform.new_head_pid", Hint: "pform.new_head.hint"},
	},
	"registry.correction": {
		{Name: "field", Kind: "select", Label: "pform.correction.field", List: "fields", Group: "pform.correction",
			Options: append([]string{""}, dossier.CorrectableFields...)},
		{Name: "correct", Kind: "textarea", Label: "pform.correction.correct", Hint: "pform.correction.correct.hint"},
		{Name: "evidence", Kind: "textarea", Label: "pform.correction.evidence", Hint: "pform.correction.evidence.hint"},
	},
	"residence.accommodation": {
		{Name: "lodging", Kind: "select", Label: "pform.lodging", Options: []string{"household", "hotel", "hospital", "other"}, Group: "dform.lodging"},
		{Name: "address.commune", Kind: "commune", Label: "pform.commune", Hint: "pform.commune.hint"},
		{Name: "address.detail", Kind: "text", Label: "pform.detail", Hint: "pform.detail.hint"},
		{Name: "guests[0].pid", Kind: "text", Label: "field.pid", Hint: "pform.guest.pid.hint", Group: "pform.guest"},
		{Name: "guests[0].passport", Kind: "text", Label: "dform.passport", Hint: "pform.guest.passport.hint"},
		{Name: "guests[0].name", Kind: "text", Label: "field.name", Hint: "pform.guest.name.hint"},
		{Name: "guests[0].arrival", Kind: "datetime", Label: "dform.arrival"},
		{Name: "guests[0].until", Kind: "date", Label: "dform.until"},
		{Name: "guests[0].reason", Kind: "text", Label: "dform.reason", Hint: "pform.optional"},
	},
}

type serviceItem struct {
	E    dossier.CatalogEntry
	Name string
	Form bool // the portal has its form
}

func (s *Web) portalServices(w http.ResponseWriter, r *http.Request) error {
	var run, other []serviceItem
	for _, e := range dossier.Catalog {
		it := serviceItem{E: e, Name: serviceName(langOf(r), e.Code)}
		_, it.Form = procedureForms[e.Code]
		switch {
		case it.Form || e.Code == "residence.confirmation":
			run = append(run, it)
		case !e.Executable:
			other = append(other, it)
		}
	}
	s.render(w, r, http.StatusOK, "portal-services", map[string]any{"Run": run, "Other": other})
	return nil
}

// procedureData is a procedure's form page.
type procedureData struct {
	Service string
	Name    string
	Entry   dossier.CatalogEntry
	Fields  []procField
	Values  map[string]string
	Errors  *formErrors
	Key     string
	// Record is what the registry holds that the form does not ask for.
	Record map[string]any
	// Dossier: the form answers a request for information of this dossier.
	Dossier *dossier.Dossier
}

func (s *Web) procedureForm(r *http.Request, code string) (procedureData, error) {
	fields, ok := procedureForms[code]
	e, _ := dossier.Entry(code)
	if !ok {
		return procedureData{}, errs.E(errs.NotFound, "no form for %s", code)
	}
	rec, err := s.Dossier.Prefill(r.Context())
	if err != nil {
		return procedureData{}, err
	}
	return procedureData{Service: code, Name: serviceName(langOf(r), code), Entry: e, Fields: fields, Values: map[string]string{},
		Errors: &formErrors{}, Key: randomValue(), Record: rec}, nil
}

func (s *Web) portalServiceForm(w http.ResponseWriter, r *http.Request) error {
	d, err := s.procedureForm(r, r.PathValue("code"))
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "portal-procedure", d)
	return nil
}

var pathPart = regexp.MustCompile(`^([a-z_]+)(?:\[([0-9])\])?$`)

// setPath sets a value at a field's path in a form's data.
func setPath(m map[string]any, path string, v any) {
	parts := strings.Split(path, ".")
	cur := m
	for i, p := range parts {
		sm := pathPart.FindStringSubmatch(p)
		if sm == nil {
			return
		}
		last := i == len(parts)-1
		if sm[2] == "" {
			if last {
				cur[sm[1]] = v
				return
			}
			next, _ := cur[sm[1]].(map[string]any)
			if next == nil {
				next = map[string]any{}
				cur[sm[1]] = next
			}
			cur = next
			continue
		}
		n, _ := strconv.Atoi(sm[2])
		list, _ := cur[sm[1]].([]any)
		for len(list) <= n {
			list = append(list, map[string]any{})
		}
		cur[sm[1]] = list
		if last {
			list[n] = v
			return
		}
		next, ok := list[n].(map[string]any)
		if !ok {
			return // a leaf already: a form declares no field under it
		}
		cur = next
	}
}

// flatten lists a form's data by field path, as the form's values.
func flatten(prefix string, v any, out map[string]string) {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			flatten(p, val, out)
		}
	case []any:
		for i, val := range x {
			flatten(fmt.Sprintf("%s[%d]", prefix, i), val, out)
		}
	case string:
		out[prefix] = x
	case nil:
	default:
		out[prefix] = fmt.Sprint(x)
	}
}

// readProcedure builds a dossier's data from the posted form. A commune
// is found by its name or code; one that matches several or none is an
// error at its field before anything is sent.
func (s *Web) readProcedure(r *http.Request, d *procedureData) json.RawMessage {
	data := map[string]any{}
	for _, f := range d.Fields {
		v := strings.TrimSpace(r.PostForm.Get(f.Name))
		d.Values[f.Name] = v
		if v == "" {
			continue
		}
		switch f.Kind {
		case "commune":
			code, problem := s.findCommune(r, v)
			if problem != "" {
				d.Errors.add(f.Name, problem)
				continue
			}
			setPath(data, f.Name, code)
		case "datetime":
			t, err := time.ParseInLocation("2006-01-02T15:04", v, ict)
			if err != nil {
				d.Errors.add(f.Name, tr(r, "pform.datetime.invalid"))
				continue
			}
			setPath(data, f.Name, t.Format(time.RFC3339))
		default:
			setPath(data, f.Name, v)
		}
	}
	b, _ := json.Marshal(data)
	return b
}

// ict is Vietnam's time zone (UTC+7, no daylight saving).
var ict = time.FixedZone("ICT", 7*3600)

// findCommune finds a current commune by its 5-digit code or its name
// ("Ba Đình", "Phường Ba Đình, Hà Nội").
func (s *Web) findCommune(r *http.Request, v string) (string, string) {
	units := s.Registry.Units()
	if len(v) == 5 && strings.Trim(v, "0123456789") == "" {
		if _, ok := units.Commune(adminunit.Scheme2025, v); ok {
			return v, ""
		}
		return "", tr(r, "pform.commune.unknown", v)
	}
	name, province, _ := strings.Cut(v, ",")
	found := units.Search(adminunit.Scheme2025, adminunit.LevelCommune, name, 50)
	if p := strings.TrimSpace(province); p != "" {
		var in []adminunit.Unit
		for _, u := range found {
			if pu, ok := units.Province(adminunit.Scheme2025, u.Province); ok && (strings.EqualFold(pu.Name, p) || strings.EqualFold(pu.FullName(), p)) {
				in = append(in, u)
			}
		}
		found = in
	}
	switch len(found) {
	case 0:
		return "", tr(r, "pform.commune.unknown", v)
	case 1:
		return found[0].Code, ""
	}
	var names []string
	for i, u := range found {
		if i == 5 {
			names = append(names, "…")
			break
		}
		names = append(names, s.view(r).Unit(u.Code))
	}
	return "", tr(r, "pform.commune.several", strings.Join(names, "; "))
}

// procedureErrors names the service's errors at the form's fields.
func procedureErrors(r *http.Request, d *procedureData, err error) bool {
	var e *errs.Error
	if !errors.As(err, &e) || e.Kind != errs.Invalid {
		return false
	}
	for _, fe := range e.Fields {
		msg := locale.Reason(langOf(r), fe.Format, fe.Args, fe.Reason)
		path := strings.TrimPrefix(fe.Field, "data.")
		id := ""
		for _, f := range d.Fields {
			if f.Name == path {
				id = f.Name
				break
			}
			if id == "" && (strings.HasPrefix(f.Name, path+".") || strings.HasPrefix(f.Name, path+"[")) {
				id = f.Name
			}
		}
		if id == "" {
			id = "form"
			if fe.Field != "data" {
				msg = tr(r, dformKeyOf(path)) + ": " + msg
			}
		}
		d.Errors.add(id, msg)
	}
	if len(e.Fields) == 0 {
		d.Errors.add("form", e.Msg)
	}
	return true
}

func dformKeyOf(path string) string {
	name, _, _ := strings.Cut(path, ".")
	name, _, _ = strings.Cut(name, "[")
	if locale.Has("dform." + name) {
		return "dform." + name
	}
	return fieldLabel(name)
}

// portalSubmit files a dossier from a procedure's form.
func (s *Web) portalSubmit(w http.ResponseWriter, r *http.Request) error {
	code := r.PathValue("code")
	d, err := s.procedureForm(r, code)
	if err != nil {
		return err
	}
	data := s.readProcedure(r, &d)
	d.Key = r.PostForm.Get("key")
	if d.Errors.Any() {
		s.render(w, r, http.StatusUnprocessableEntity, "portal-procedure", d)
		return nil
	}
	key := ""
	if d.Key != "" {
		key = "portal-" + d.Key
	}
	x, err := s.Dossier.Submit(r.Context(), code, data, key)
	if procedureErrors(r, &d, err) {
		s.render(w, r, http.StatusUnprocessableEntity, "portal-procedure", d)
		return nil
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, Portal+"/dossiers/"+x.ID+"?done=submitted", http.StatusSeeOther)
	return nil
}

type myDossier struct {
	D        dossier.Dossier
	Name     string
	DaysLeft int
	Urgency  string
}

func (s *Web) portalDossiers(w http.ResponseWriter, r *http.Request) error {
	mine, err := s.Dossier.Mine(r.Context(), 100)
	if err != nil {
		return err
	}
	items := make([]myDossier, 0, len(mine))
	for _, d := range mine {
		it := myDossier{D: d, Name: serviceName(langOf(r), d.Service)}
		it.DaysLeft, it.Urgency = s.deadline(d.DueAt, d.Overdue)
		items = append(items, it)
	}
	s.render(w, r, http.StatusOK, "portal-dossiers", map[string]any{"Items": items})
	return nil
}

// citizenStep is a step of a dossier as its applicant is shown it: by
// the applicant, or by the commune police (never an officer's name).
type citizenStep struct {
	dossier.Step
	Mine bool
}

type portalDossierData struct {
	It    myDossier
	Data  []kv
	Steps []citizenStep
	Form  *procedureData // the form to complete after a request for information
	Done  string
	Open  bool // may still be withdrawn
	Print bool
	// Errors are the withdrawal form's.
	Errors *formErrors
}

func (s *Web) showPortalDossier(w http.ResponseWriter, r *http.Request, status int, x dossier.Dossier, form *procedureData, withdraw *formErrors) error {
	if withdraw == nil {
		withdraw = &formErrors{}
	}
	d := portalDossierData{It: myDossier{D: x, Name: serviceName(langOf(r), x.Service)}, Data: formData(s.view(r), x.Data), Form: form,
		Done: r.URL.Query().Get("done"), Errors: withdraw}
	d.It.DaysLeft, d.It.Urgency = s.deadline(x.DueAt, x.Overdue)
	for _, st := range x.Steps {
		d.Steps = append(d.Steps, citizenStep{Step: st, Mine: st.ActorID == x.Applicant})
	}
	d.Open = dossier.CanMove(x.State, dossier.Withdrawn)
	for _, st := range hasDocument {
		d.Print = d.Print || st == x.State
	}
	if x.State == dossier.InfoRequested && d.Form == nil {
		if f, err := s.procedureForm(r, x.Service); err == nil {
			var m map[string]any
			if json.Unmarshal(x.Data, &m) == nil {
				flatten("", m, f.Values)
			}
			v := s.view(r)
			for _, fd := range f.Fields {
				switch val := f.Values[fd.Name]; fd.Kind {
				case "datetime":
					if t, err := time.Parse(time.RFC3339, val); err == nil {
						f.Values[fd.Name] = t.In(ict).Format("2006-01-02T15:04")
					}
				case "commune":
					// Shown by its name, which the form reads back.
					if val != "" {
						f.Values[fd.Name] = v.Unit(val)
					}
				}
			}
			f.Dossier = &x
			d.Form = &f
		}
	}
	s.render(w, r, status, "portal-dossier", d)
	return nil
}

func (s *Web) portalDossier(w http.ResponseWriter, r *http.Request) error {
	x, err := s.Dossier.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return s.showPortalDossier(w, r, http.StatusOK, x, nil, nil)
}

// portalSupplement answers a request for information on the form as it
// was filled in.
func (s *Web) portalSupplement(w http.ResponseWriter, r *http.Request) error {
	x, err := s.Dossier.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if x.State != dossier.InfoRequested {
		return errs.E(errs.Conflict, "this dossier is not waiting for more information")
	}
	f, err := s.procedureForm(r, x.Service)
	if err != nil {
		return err
	}
	f.Dossier = &x
	data := s.readProcedure(r, &f)
	if f.Errors.Any() {
		return s.showPortalDossier(w, r, http.StatusUnprocessableEntity, x, &f, nil)
	}
	_, err = s.Dossier.Supplement(r.Context(), x.ID, data)
	if procedureErrors(r, &f, err) {
		return s.showPortalDossier(w, r, http.StatusUnprocessableEntity, x, &f, nil)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, Portal+"/dossiers/"+x.ID+"?done=supplemented", http.StatusSeeOther)
	return nil
}

func (s *Web) portalWithdrawDossier(w http.ResponseWriter, r *http.Request) error {
	f := &formErrors{}
	if r.PostForm.Get("confirm") != "yes" {
		f.add("confirm", tr(r, "pdossier.withdraw.confirm.required"))
	} else {
		x, err := s.Dossier.Withdraw(r.Context(), r.PathValue("id"), strings.TrimSpace(r.PostForm.Get("note")))
		if err == nil {
			http.Redirect(w, r, Portal+"/dossiers/"+x.ID+"?done=withdrawn", http.StatusSeeOther)
			return nil
		}
		if !errs.Is(err, errs.Conflict) {
			return err
		}
		f.add("confirm", tr(r, "pdossier.withdraw.late"))
	}
	x, err := s.Dossier.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	r.URL.RawQuery = ""
	return s.showPortalDossier(w, r, http.StatusUnprocessableEntity, x, nil, f)
}

// portalNotifications lists the steps the commune police (or a household
// head's consent) took on the citizen's dossiers, newest first: the
// notices the phone received, in the portal.
func (s *Web) portalNotifications(w http.ResponseWriter, r *http.Request) error {
	ns, err := s.Dossier.Notices(r.Context(), 50)
	if err != nil {
		return err
	}
	type item struct {
		dossier.Notice
		Name string
	}
	items := make([]item, 0, len(ns))
	for _, n := range ns {
		items = append(items, item{Notice: n, Name: serviceName(langOf(r), n.Service)})
	}
	s.render(w, r, http.StatusOK, "portal-notifications", map[string]any{"Items": items})
	return nil
}
