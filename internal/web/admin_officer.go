package web

import (
	"net/http"
	"strings"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/errs"
)

// One officer's page for an administrator: the name, role and
// jurisdiction changed (a change of powers ends the officer's sessions),
// and a new password set for an officer who lost theirs. An administrator
// changes neither their own powers nor their own password here.

type officerData struct {
	Username string
	Self     bool
	Values   map[string]string
	Errors   *formErrors
	Done     string
	Roles    []actor.Role
	Levels   []actor.Level
}

var officerEditForm = []string{"display_name", "role", "level", "code"}

func (s *Web) officerPage(r *http.Request, username string) (officerData, error) {
	o, err := s.Access.OfficerByUsername(r.Context(), username)
	if err != nil {
		return officerData{}, err
	}
	return officerData{Username: o.Username, Self: o.ID == me(r).ID, Errors: &formErrors{},
		Values: map[string]string{"display_name": o.DisplayName, "role": string(o.Role), "level": string(o.Jurisdiction.Level), "code": o.Jurisdiction.Code},
		Roles:  []actor.Role{actor.Viewer, actor.Registrar, actor.Admin}, Levels: []actor.Level{actor.Commune, actor.Province, actor.National}}, nil
}

func (s *Web) adminOfficer(w http.ResponseWriter, r *http.Request) error {
	d, err := s.officerPage(r, r.PathValue("username"))
	if err != nil {
		return err
	}
	d.Done = done(r, "saved", "password")
	s.render(w, r, http.StatusOK, "admin-officer", d)
	return nil
}

func (s *Web) adminOfficerUpdate(w http.ResponseWriter, r *http.Request) error {
	d, err := s.officerPage(r, r.PathValue("username"))
	if err != nil {
		return err
	}
	for _, k := range officerEditForm {
		d.Values[k] = strings.TrimSpace(r.PostForm.Get(k))
	}
	name := d.Values["display_name"]
	ch := access.OfficerChange{DisplayName: &name}
	if !d.Self {
		role, j := actor.Role(d.Values["role"]), actor.Jurisdiction{Level: actor.Level(d.Values["level"]), Code: d.Values["code"]}
		ch.Role, ch.Jurisdiction = &role, &j
	}
	_, err = s.Access.UpdateOfficer(r.Context(), d.Username, ch)
	if err == nil {
		http.Redirect(w, r, adminBase+"/officers/"+urlEscape(d.Username)+"?done=saved", http.StatusSeeOther)
		return nil
	}
	if !serviceErrors(r, d.Errors, err, map[string]string{"jurisdiction.code": "code", "jurisdiction.level": "level", "jurisdiction": "code"}, officerEditForm...) {
		return err
	}
	s.render(w, r, http.StatusUnprocessableEntity, "admin-officer", d)
	return nil
}

func (s *Web) adminOfficerPassword(w http.ResponseWriter, r *http.Request) error {
	d, err := s.officerPage(r, r.PathValue("username"))
	if err != nil {
		return err
	}
	if d.Self {
		return errs.E(errs.Forbidden, "%s", tr(r, "admin.officer.ownpassword"))
	}
	pw := r.PostForm.Get("password")
	if pw != r.PostForm.Get("password2") {
		d.Errors.add("password2", tr(r, "admin.officer.password.mismatch"))
		s.render(w, r, http.StatusUnprocessableEntity, "admin-officer", d)
		return nil
	}
	err = s.Access.ResetPassword(r.Context(), d.Username, pw)
	if err == nil {
		http.Redirect(w, r, adminBase+"/officers/"+urlEscape(d.Username)+"?done=password", http.StatusSeeOther)
		return nil
	}
	if !serviceErrors(r, d.Errors, err, nil, "password") {
		return err
	}
	s.render(w, r, http.StatusUnprocessableEntity, "admin-officer", d)
	return nil
}
