package web

import (
	"errors"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/locale"
)

// The administration: officers, relying parties, member agencies, their
// subscriptions, the PKI and the access log's seal. Every page is for
// officers holding access.ManageOfficers, the permission the API's
// operations and the services themselves require; the services check it
// again and write the audit records.

const adminBase = Console + "/admin"

// adminRoutes are the administrators' pages.
func (s *Web) adminRoutes() []Page {
	c, m := adminBase, officers(access.ManageOfficers)
	return []Page{
		{Method: "GET", Path: c, who: m, h: s.adminIndex},
		{Method: "GET", Path: c + "/officers", who: m, h: s.adminOfficers},
		{Method: "POST", Path: c + "/officers", who: m, h: s.adminOfficerCreate},
		{Method: "GET", Path: c + "/officers/{username}", who: m, h: s.adminOfficer},
		{Method: "POST", Path: c + "/officers/{username}", who: m, h: s.adminOfficerUpdate},
		{Method: "POST", Path: c + "/officers/{username}/password", who: m, h: s.adminOfficerPassword},
		{Method: "POST", Path: c + "/officers/{username}/disabled", who: m, h: s.adminOfficerDisabled},
		{Method: "GET", Path: c + "/officers/{username}/second-factor", who: m, h: s.adminResetForm},
		{Method: "POST", Path: c + "/officers/{username}/second-factor", who: m, h: s.adminResetSubmit},
		{Method: "GET", Path: c + "/clients", who: m, h: s.adminClients},
		{Method: "POST", Path: c + "/clients", who: m, h: s.adminClientCreate},
		{Method: "GET", Path: c + "/agencies", who: m, h: s.adminAgencies},
		{Method: "POST", Path: c + "/agencies", who: m, h: s.adminAgencyCreate},
		{Method: "POST", Path: c + "/agencies/{id}/disabled", who: m, h: s.adminAgencyDisabled},
		{Method: "GET", Path: c + "/subscriptions", who: m, h: s.adminSubscriptions},
		{Method: "POST", Path: c + "/subscriptions/{id}/retry", who: m, h: s.adminRetry},
		{Method: "GET", Path: c + "/pki", who: m, h: s.adminPKI},
		{Method: "GET", Path: c + "/audit", who: m, h: s.adminAudit},
		{Method: "POST", Path: c + "/audit/verify", who: m, h: s.adminAuditVerify},
	}
}

// adminSections are the cards of the administration's index and of the
// home page.
var adminSections = []homeLink{
	{Href: adminBase + "/officers", Title: "admin.officers", Text: "admin.officers.text", Perm: access.ManageOfficers},
	{Href: adminBase + "/clients", Title: "admin.clients", Text: "admin.clients.text", Perm: access.ManageOfficers},
	{Href: adminBase + "/agencies", Title: "admin.agencies", Text: "admin.agencies.text", Perm: access.ManageOfficers},
	{Href: adminBase + "/subscriptions", Title: "admin.subs", Text: "admin.subs.text", Perm: access.ManageOfficers},
	{Href: adminBase + "/pki", Title: "admin.pki", Text: "admin.pki.text", Perm: access.ManageOfficers},
	{Href: adminBase + "/audit", Title: "admin.audit", Text: "admin.audit.text", Perm: access.ManageOfficers},
}

// adminLinks are the home page's cards of the administration.
func (s *Web) adminLinks() []homeLink {
	return []homeLink{{Href: adminBase, Title: "admin.title", Text: "admin.index.text", Perm: access.ManageOfficers}}
}

func (s *Web) adminIndex(w http.ResponseWriter, r *http.Request) error {
	s.render(w, r, http.StatusOK, "admin-index", adminSections)
	return nil
}

// done is the success banner's key named by ?done= after a redirect,
// when it is one the page knows.
func done(r *http.Request, known ...string) string {
	d := r.URL.Query().Get("done")
	for _, k := range known {
		if d == k {
			return d
		}
	}
	return ""
}

// serviceErrors shows a service's Invalid error at the form's fields:
// "services[2]" and "jurisdiction.code" are shown at "services" and
// "jurisdiction_code", a field the form lacks in the summary. It reports
// whether err was such an error.
func serviceErrors(r *http.Request, f *formErrors, err error, rename map[string]string, known ...string) bool {
	var e *errs.Error
	if !errors.As(err, &e) || e.Kind != errs.Invalid {
		return false
	}
	for _, fe := range e.Fields {
		name := fe.Field
		if i := strings.IndexByte(name, '['); i >= 0 {
			name = name[:i]
		}
		if v, ok := rename[name]; ok {
			name = v
		}
		id := "form"
		for _, k := range known {
			if k == name {
				id = name
			}
		}
		msg := locale.Reason(langOf(r), fe.Format, fe.Args, fe.Reason)
		if id == "form" && fe.Field != "" {
			msg = fe.Field + ": " + msg
		}
		f.add(id, msg)
	}
	if len(e.Fields) == 0 {
		f.add("form", e.Msg)
	}
	return true
}

// lines splits a textarea or a comma-separated input into its non-empty
// entries.
func lines(s string) []string {
	var out []string
	for _, l := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' || r == ',' }) {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// ---- Officers ----

type officerRow struct {
	Username, Name, Role, Jurisdiction string
	SecondFactor, Disabled, Self       bool
	LastUsed                           string
}

type officersData struct {
	Rows   []officerRow
	Values map[string]string
	Errors *formErrors
	Done   string
	Roles  []actor.Role
	Levels []actor.Level
}

var officerForm = []string{"username", "display_name", "role", "level", "code", "password"}

func (s *Web) officersView(r *http.Request, d *officersData) error {
	os, err := s.Access.ListOfficers(r.Context())
	if err != nil {
		return err
	}
	uses, err := s.Access.OfficerUses(r.Context())
	if err != nil {
		return err
	}
	self := me(r)
	for _, o := range os {
		u := uses[o.ID]
		row := officerRow{Username: o.Username, Name: o.DisplayName, Role: string(o.Role), Jurisdiction: s.jurisdictionName(r, o.Jurisdiction),
			SecondFactor: u.SecondFactor, Disabled: o.Disabled, Self: o.ID == self.ID}
		if u.LastUsedAt != nil {
			row.LastUsed = locale.DateTime(*u.LastUsedAt)
		}
		d.Rows = append(d.Rows, row)
	}
	d.Roles = []actor.Role{actor.Viewer, actor.Registrar, actor.Admin}
	d.Levels = []actor.Level{actor.Commune, actor.Province, actor.National}
	return nil
}

func (s *Web) adminOfficers(w http.ResponseWriter, r *http.Request) error {
	d := officersData{Values: map[string]string{"role": "viewer", "level": "commune"}, Errors: &formErrors{},
		Done: done(r, "created", "disabled", "enabled", "reset")}
	if err := s.officersView(r, &d); err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "admin-officers", d)
	return nil
}

func (s *Web) adminOfficerCreate(w http.ResponseWriter, r *http.Request) error {
	d := officersData{Values: map[string]string{}, Errors: &formErrors{}}
	for _, k := range officerForm {
		if k == "password" {
			continue // never written back into the page
		}
		d.Values[k] = strings.TrimSpace(r.PostForm.Get(k))
	}
	v := d.Values
	in := access.NewOfficer{Username: v["username"], DisplayName: v["display_name"], Role: actor.Role(v["role"]),
		Jurisdiction: actor.Jurisdiction{Level: actor.Level(v["level"]), Code: v["code"]}, Password: r.PostForm.Get("password")}
	_, err := s.Access.CreateOfficer(r.Context(), in)
	if err == nil {
		http.Redirect(w, r, adminBase+"/officers?done=created", http.StatusSeeOther)
		return nil
	}
	if !serviceErrors(r, d.Errors, err, map[string]string{"jurisdiction.code": "code", "jurisdiction.level": "level"}, officerForm...) {
		return err
	}
	if err := s.officersView(r, &d); err != nil {
		return err
	}
	s.render(w, r, http.StatusUnprocessableEntity, "admin-officers", d)
	return nil
}

func (s *Web) adminOfficerDisabled(w http.ResponseWriter, r *http.Request) error {
	user := r.PathValue("username")
	off := r.PostForm.Get("disabled") == "1"
	if off {
		o, err := s.Access.OfficerByUsername(r.Context(), user)
		if err != nil {
			return err
		}
		if o.ID == me(r).ID {
			return errs.Field("disabled", "%s", tr(r, "admin.officer.self"))
		}
	}
	if err := s.Access.SetDisabled(r.Context(), user, off); err != nil {
		return err
	}
	http.Redirect(w, r, adminBase+"/officers?done="+map[bool]string{true: "disabled", false: "enabled"}[off], http.StatusSeeOther)
	return nil
}

func (s *Web) adminResetForm(w http.ResponseWriter, r *http.Request) error {
	o, err := s.Access.OfficerByUsername(r.Context(), r.PathValue("username"))
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "admin-reset", map[string]any{"Username": o.Username, "Name": o.DisplayName,
		"Jurisdiction": s.jurisdictionName(r, o.Jurisdiction)})
	return nil
}

func (s *Web) adminResetSubmit(w http.ResponseWriter, r *http.Request) error {
	if r.PostForm.Get("confirm") != "yes" {
		http.Redirect(w, r, adminBase+"/officers/"+urlEscape(r.PathValue("username"))+"/second-factor", http.StatusSeeOther)
		return nil
	}
	if err := s.Access.ResetSecondFactor(r.Context(), r.PathValue("username")); err != nil {
		return err
	}
	http.Redirect(w, r, adminBase+"/officers?done=reset", http.StatusSeeOther)
	return nil
}

// sortedKeys are a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func atoi(s string) int {
	n, _ := strconv.Atoi(strings.TrimSpace(s))
	return n
}
