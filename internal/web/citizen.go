package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/audit"
	"github.com/dancu-vn/dancu/internal/card"
	"github.com/dancu-vn/dancu/internal/eid"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/locale"
	"github.com/dancu-vn/dancu/internal/personalid"
	"github.com/dancu-vn/dancu/internal/registry"
	"github.com/dancu-vn/dancu/internal/vnname"
)

// searchPageSize is the number of results on one page of the search.
const searchPageSize = 20

type searchData struct {
	Q, Sex, Province, Commune string
	Searched                  bool
	Items                     []searchRow
	Next                      string // the query string of the next page
	Errors                    *formErrors
}

var (
	pidPattern  = regexp.MustCompile(`^\d{12}$`)
	dmyPattern  = regexp.MustCompile(`^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$`)
	isoPattern  = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
	yearPattern = regexp.MustCompile(`^(19|20)\d{2}$`)
)

// searchRow is one result as the page shows it.
type searchRow struct{ PID, Name, Birth, Sex, Residence, Status, StatusText string }

// parseDate reads a date typed as dd/mm/yyyy (or with dots or dashes) or
// YYYY-MM-DD, and returns it as YYYY-MM-DD.
func parseDate(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if isoPattern.MatchString(s) {
		if _, err := time.Parse(time.DateOnly, s); err == nil {
			return s, true
		}
		return "", false
	}
	m := dmyPattern.FindStringSubmatch(s)
	if m == nil {
		return "", false
	}
	d, _ := strconv.Atoi(m[1])
	mo, _ := strconv.Atoi(m[2])
	iso := fmt.Sprintf("%s-%02d-%02d", m[3], mo, d)
	if _, err := time.Parse(time.DateOnly, iso); err != nil {
		return "", false
	}
	return iso, true
}

// searchQuery reads the one search box: words that are a date or a year
// of birth filter on it, the rest is the name (a prefix of the folded
// name, so "nguyen van" finds every Nguyễn Văn …).
func searchQuery(q string) (registry.Query, string) {
	var out registry.Query
	var name []string
	for _, w := range strings.Fields(q) {
		switch {
		case dmyPattern.MatchString(w) || isoPattern.MatchString(w):
			iso, ok := parseDate(w)
			if !ok {
				return out, fmt.Sprintf("%q is not a date", w)
			}
			out.BirthDate = iso
		case yearPattern.MatchString(w):
			out.BirthYear, _ = strconv.Atoi(w)
		default:
			name = append(name, w)
		}
	}
	out.Name = strings.Join(name, " ")
	out.NamePrefix = len(vnname.Fold(out.Name)) >= 3
	return out, ""
}

func (s *Web) search(w http.ResponseWriter, r *http.Request) error {
	qs := r.URL.Query()
	d := searchData{Q: strings.TrimSpace(qs.Get("q")), Sex: qs.Get("sex"), Province: strings.TrimSpace(qs.Get("province")),
		Commune: strings.TrimSpace(qs.Get("commune")), Errors: &formErrors{}}
	if d.Q == "" && d.Province == "" && d.Commune == "" {
		s.render(w, r, http.StatusOK, "search", d)
		return nil
	}
	d.Searched = true
	if pidPattern.MatchString(d.Q) {
		http.Redirect(w, r, Console+"/citizens/"+d.Q, http.StatusSeeOther)
		return nil
	}
	q, msg := searchQuery(d.Q)
	if msg != "" {
		d.Errors.add("q", msg)
		s.render(w, r, http.StatusUnprocessableEntity, "search", d)
		return nil
	}
	q.Sex, q.Province, q.Commune = personalid.Sex(d.Sex), d.Province, d.Commune
	// A date or year alone lists the officer's own unit.
	if q.Name == "" && q.Province == "" && q.Commune == "" {
		switch j := me(r).Jurisdiction; j.Level {
		case actor.Commune:
			q.Commune = j.Code
		case actor.Province:
			q.Province = j.Code
		default:
			d.Errors.add("q", tr(r, "search.needname"))
			s.render(w, r, http.StatusUnprocessableEntity, "search", d)
			return nil
		}
	}
	q.Cursor, q.Limit, q.Purpose = qs.Get("after"), searchPageSize, "search by an officer"
	page, err := s.Registry.Search(r.Context(), q)
	if err != nil {
		if !fieldErrors(r, d.Errors, err, map[string]string{"name": "q", "birth_date": "q", "cursor": "q"}) {
			return err
		}
		s.render(w, r, http.StatusUnprocessableEntity, "search", d)
		return nil
	}
	// The rows are written out here, not in the template: a page of 20
	// rows costs a fifth of what per-cell template calls cost.
	v := s.view(r)
	for _, it := range page.Items {
		d.Items = append(d.Items, searchRow{PID: string(it.PID), Name: it.FullName, Birth: locale.CivilDate(it.BirthDate),
			Sex: v.T("sex." + string(it.Sex)), Residence: v.Unit(it.PermanentResidence), Status: string(it.Status), StatusText: v.T("status." + string(it.Status))})
	}
	if page.Next != "" {
		next := url.Values{"q": {d.Q}, "after": {page.Next}}
		for k, v := range map[string]string{"sex": d.Sex, "province": d.Province, "commune": d.Commune} {
			if v != "" {
				next.Set(k, v)
			}
		}
		d.Next = Console + "/citizens?" + next.Encode()
	}
	s.render(w, r, http.StatusOK, "search", d)
	return nil
}

// fieldErrors puts the field errors of an Invalid error on a form, a
// field's path mapped to the form's field by its longest known prefix (or
// its first segment); it reports false for an error of another kind.
func fieldErrors(r *http.Request, f *formErrors, err error, fields map[string]string) bool {
	var e *errs.Error
	if !errors.As(err, &e) || e.Kind != errs.Invalid {
		return false
	}
	for _, fe := range e.Fields {
		path := strings.TrimPrefix(fe.Field, "changes.")
		id := ""
		for p := path; p != ""; {
			if v, ok := fields[p]; ok {
				id = v
				break
			}
			i := strings.LastIndexByte(p, '.')
			if i < 0 {
				break
			}
			p = p[:i]
		}
		msg := locale.Reason(langOf(r), fe.Format, fe.Args, fe.Reason)
		if id == "" {
			id, _, _ = strings.Cut(path, ".")
			msg = fe.Field + ": " + msg
		}
		f.add(id, msg)
	}
	if len(e.Fields) == 0 {
		f.add("form", e.Msg)
	}
	return true
}

// recordData is the citizen record page.
type recordData struct {
	C         registry.Citizen
	Household *registry.Household
	History   []registry.Revision
	Account   *eid.Account
	Cards     []card.Card
	AccessLog []audit.Event
	// What the officer may do and see.
	CanWrite, CanSeeLog, CanSeeAccount bool
	Registered                         bool // just registered: show the new number
	Sections                           []section
	Revisions                          []revView
	BirthLink                          string
}

// section is a part of the record page: rows of label and value, as on
// the paper form.
type section struct {
	ID, Title string
	Rows      []row
}

type row struct{ Label, Value, Href, Note string }

type revView struct {
	registry.Revision
	Action  string
	Changes []changeView
}

type changeView struct{ Label, Before, After string }

func relativeRow(label string, x *registry.Relative) row {
	if x == nil {
		return row{Label: label}
	}
	r := row{Label: label, Value: x.Name}
	if x.PID != "" {
		r.Href = Console + "/citizens/" + x.PID
		if r.Value == "" {
			r.Value = x.PID
		} else {
			r.Note = x.PID
		}
	}
	if x.OldIDNumber != "" {
		r.Note = strings.TrimSpace(r.Note + " CMND " + x.OldIDNumber)
	}
	return r
}

func addressRow(v view, label string, a *registry.Address) row {
	if a == nil {
		return row{Label: label}
	}
	r := row{Label: label, Value: a.Text}
	if r.Value == "" {
		r.Value = strings.TrimSpace(a.Detail + " " + a.Commune)
	}
	if a.CurrentCommune != "" {
		r.Note = v.T("record.now") + " " + v.Unit(a.CurrentCommune)
	}
	return r
}

// recordSections lays out the 26 fields of a record.
func (s *Web) recordSections(r *http.Request, c registry.Citizen) []section {
	v := s.view(r)
	d := &c.Details
	eth := ""
	if d.Ethnicity != nil {
		eth = d.Ethnicity.Name
		if eth == "" {
			eth = d.Ethnicity.Code
		}
	}
	var prev []string
	for _, pc := range d.PreviousCards {
		prev = append(prev, fmt.Sprintf("%s %s %s", pc.Kind, pc.Number, locale.CivilDate(pc.IssueDate)))
	}
	var children, represented []row
	for _, x := range c.Children {
		children = append(children, relativeRow("field.child", &x))
	}
	for _, x := range c.Represented {
		represented = append(represented, relativeRow("field.represented", &x))
	}
	absence := ""
	if a := d.TemporaryAbsence; a != nil {
		absence = locale.CivilDate(a.From)
		if a.Until != "" {
			absence += " – " + locale.CivilDate(a.Until)
		}
		if a.Destination != nil {
			absence += ", " + a.Destination.Text
		}
		if a.Reason != "" {
			absence += " (" + a.Reason + ")"
		}
	}
	var other []string
	for k, x := range d.Other {
		other = append(other, k+": "+x)
	}
	slices.Sort(other)
	family := []row{
		relativeRow("field.father", d.Father), relativeRow("field.mother", d.Mother),
		relativeRow("field.spouse", d.Spouse), relativeRow("field.legal_representative", d.LegalRepresentative),
	}
	family = append(append(family, children...), represented...)
	family = append(family, row{Label: "field.marital_status", Value: v.CodeName("marital", d.MaritalStatus)})
	residence := []row{
		addressRow(v, "field.permanent_residence", d.PermanentResidence),
		addressRow(v, "field.temporary_residence", d.TemporaryResidence),
		{Label: "field.temporary_residence_until", Value: locale.CivilDate(d.TemporaryResidenceUntil)},
		addressRow(v, "field.current_residence", d.CurrentResidence),
		{Label: "field.temporary_absence", Value: absence},
		{Label: "field.residence_file_number", Value: d.ResidenceFileNumber},
	}
	if h := c.Household; h != nil {
		head := row{Label: "field.household_head", Value: h.HeadName}
		if h.HeadPID != "" && h.HeadPID != string(c.PID) {
			head.Href, head.Note = Console+"/citizens/"+h.HeadPID, h.HeadPID
		}
		residence = append(residence, head, row{Label: "field.relationship", Value: v.CodeName("household", h.Relationship)})
	}
	status := []row{{Label: "field.status", Value: v.T("status." + string(c.Status))}}
	if c.StatusDate != "" {
		status = append(status, row{Label: "field.status_date", Value: locale.CivilDate(c.StatusDate)})
	}
	return []section{
		{"identity", "group.identity", []row{
			{Label: "field.name", Value: c.FullName},
			{Label: "field.other_names", Value: strings.Join(d.OtherNames, "; ")},
			{Label: "field.pid", Value: string(c.PID)},
			{Label: "field.birth_date", Value: locale.CivilDate(d.BirthDate)},
			{Label: "field.sex", Value: v.T("sex." + string(d.Sex))},
			addressRow(v, "field.birth_place", d.BirthPlace),
			addressRow(v, "field.birth_registration_place", d.BirthRegistrationPlace),
			addressRow(v, "field.place_of_origin", d.PlaceOfOrigin),
			{Label: "field.ethnicity", Value: eth},
			{Label: "field.religion", Value: v.CodeName("religion", d.Religion)},
			{Label: "field.nationality", Value: d.Nationality},
			{Label: "field.blood_type", Value: d.BloodType},
			{Label: "field.old_id_number", Value: d.OldIDNumber},
			{Label: "field.previous_cards", Value: strings.Join(prev, "; ")},
		}},
		{"family", "group.family", family},
		{"residence", "group.residence", residence},
		{"status", "group.status", status},
		{"contact", "group.contact", []row{
			{Label: "field.phone", Value: d.Phone}, {Label: "field.email", Value: d.Email},
			{Label: "field.other", Value: strings.Join(other, "; ")},
		}},
	}
}

// revisions makes the history readable: each field's label, and its
// values before and after as written for people.
func revisions(v view, hist []registry.Revision) []revView {
	out := make([]revView, 0, len(hist))
	for i := len(hist) - 1; i >= 0; i-- {
		h := hist[i]
		rv := revView{Revision: h, Action: locale.Label(v.Lang, "action.", h.Action)}
		for _, c := range h.Changes {
			rv.Changes = append(rv.Changes, changeView{Label: fieldLabel(c.Field), Before: v.show(c.Field, c.Before), After: v.show(c.Field, c.After)})
		}
		out = append(out, rv)
	}
	return out
}

// fieldLabel is the locale key of a field's label, or the field's name
// when it has none.
func fieldLabel(field string) string {
	if locale.Has("field." + field) {
		return "field." + field
	}
	return field
}

func (s *Web) record(w http.ResponseWriter, r *http.Request) error {
	ctx, pid := r.Context(), r.PathValue("pid")
	c, err := s.Registry.Get(ctx, pid, "reading the record")
	if err != nil {
		return err
	}
	d := recordData{C: c, Registered: r.URL.Query().Get("registered") == "1"}
	if d.History, err = s.Registry.History(ctx, pid); err != nil {
		return err
	}
	if c.Household != nil {
		h, err := s.Registry.Household(ctx, c.Household.HouseholdID)
		if err != nil && !errs.Is(err, errs.NotFound) {
			return err
		}
		if err == nil {
			d.Household = &h
		}
	}
	if _, err := access.Require(ctx, access.ReviewEID); err == nil {
		d.CanSeeAccount = true
		acc, err := s.EID.Account(ctx, pid)
		switch {
		case err == nil:
			d.Account = &acc
		case errs.Is(err, errs.NotFound), errs.Is(err, errs.Forbidden):
		default:
			return err
		}
	}
	if d.Cards, err = s.Cards.OfPerson(ctx, pid); err != nil && !errs.Is(err, errs.Forbidden) {
		return err
	}
	if _, err := access.Require(ctx, access.ReadAccessLog); err == nil {
		d.CanSeeLog = true
		if d.AccessLog, err = audit.Oversee(ctx, s.DB, audit.Filter{Subject: pid, Limit: 50}, s.Now()); err != nil {
			return err
		}
	}
	_, err = access.Require(ctx, access.WriteCitizen)
	d.CanWrite = err == nil && c.Status != registry.Dead
	d.Sections, d.Revisions = s.recordSections(r, c), revisions(s.view(r), d.History)
	parent := "father_pid"
	if c.Sex == personalid.Female {
		parent = "mother_pid"
	}
	link := url.Values{parent: {string(c.PID)}}
	if c.Household != nil {
		link.Set("household_id", c.Household.HouseholdID)
	}
	d.BirthLink = Console + "/births/new?" + link.Encode()
	s.render(w, r, http.StatusOK, "record", d)
	return nil
}

// show writes a value of a field for people: an address with its units
// named, a name as written, codes with their names, a list one item after
// another.
func (v view) show(field string, x any) string {
	switch field {
	case "sex":
		if s, ok := x.(string); ok && s != "" {
			return v.T("sex." + s)
		}
	case "status":
		if s, ok := x.(string); ok && s != "" {
			return v.T("status." + s)
		}
	case "marital_status":
		if s, ok := x.(string); ok {
			return v.CodeName("marital", s)
		}
	case "religion":
		if s, ok := x.(string); ok {
			return v.CodeName("religion", s)
		}
	}
	switch x := x.(type) {
	case nil:
		return ""
	case string:
		if iso, ok := parseDate(x); ok && iso == x {
			return locale.CivilDate(x)
		}
		return x
	case bool:
		return map[bool]string{true: "✓", false: "✗"}[x]
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = v.show("", e)
		}
		return strings.Join(parts, "; ")
	case map[string]any:
		str := func(k string) string { s, _ := x[k].(string); return s }
		switch {
		case str("text") != "":
			return str("text")
		case str("given") != "":
			return registry.Name{Family: str("family"), Middle: str("middle"), Given: str("given")}.Full()
		case str("household_id") != "":
			return v.CodeName("household", str("relationship")) + " · " + v.T("field.household") + " " + str("household_id")
		case str("commune") != "" || str("province") != "" || str("country") != "":
			var parts []string
			if d := str("detail"); d != "" {
				parts = append(parts, d)
			}
			switch {
			case str("commune") != "":
				parts = append(parts, v.place(str("scheme"), str("commune")))
			case str("province") != "":
				parts = append(parts, v.Unit(str("province")))
			}
			if c := str("country"); c != "" && c != "VNM" {
				parts = append(parts, c)
			}
			return strings.Join(parts, ", ")
		case str("name") != "" && str("code") == "":
			if p := str("pid"); p != "" {
				return str("name") + " (" + p + ")"
			}
			return str("name")
		case str("code") != "":
			if n := str("name"); n != "" {
				return str("code") + " – " + n
			}
			return str("code")
		}
		var parts []string
		for _, k := range []string{"pid", "kind", "number", "from", "until", "reason"} {
			if s := str(k); s != "" {
				parts = append(parts, v.show("", s))
			}
		}
		if len(parts) > 0 {
			return strings.Join(parts, ", ")
		}
		b, _ := json.Marshal(x)
		return string(b)
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}
