package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/dancu-vn/dancu/internal/codelist"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/registry"
)

// The change of household head: the officer picks the new head among the
// living members, states the former head's and every other member's
// relationship to the new head, and gives the reason and legal basis.

type headData struct {
	H       registry.Household
	Version int64
	NewHead string
	Former  string
	Rels    map[string]string // member → relationship to the new head, as entered
	Options []codelist.Entry  // the relationships to a head, "head" left out
	Basis   basisData
	Errors  *formErrors
	// Changed: the household changed since the form was opened.
	Changed bool
}

// headable reads a household for the form, once RequireOverHousehold has
// let the officer in.
func (s *Web) headable(r *http.Request) (registry.Household, error) {
	h, err := s.Registry.Household(r.Context(), r.PathValue("id"))
	if err != nil {
		return h, err
	}
	if h.HeadPID == "" {
		return h, errs.E(errs.Conflict, "%s", tr(r, "head.nohead"))
	}
	return h, nil
}

func (s *Web) headForm(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.Registry.RequireOverHousehold(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	h, err := s.headable(r)
	if err != nil {
		return err
	}
	d := headData{H: h, Version: h.Version, Rels: map[string]string{}, Options: s.relationships(), Errors: &formErrors{}}
	for _, m := range h.Members {
		if m.PID != h.HeadPID {
			d.Rels[m.PID] = ""
		}
	}
	s.render(w, r, http.StatusOK, "head", d)
	return nil
}

func (s *Web) headSubmit(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.Registry.RequireOverHousehold(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	h, err := s.headable(r)
	if err != nil {
		return err
	}
	f := r.PostForm
	version, verr := strconv.ParseInt(f.Get("version"), 10, 64)
	if verr != nil || version <= 0 {
		// A form without the version it was opened at cannot say what
		// it changes: shown again, as the household now is.
		d := headData{H: h, Version: h.Version, Rels: map[string]string{}, Options: s.relationships(), Errors: &formErrors{}, Changed: true}
		d.Errors.add("form", tr(r, "head.conflict"))
		s.render(w, r, http.StatusConflict, "head", d)
		return nil
	}
	d := headData{H: h, Version: version, NewHead: f.Get("new_head"), Former: f.Get("former"), Rels: map[string]string{}, Options: s.relationships(),
		Basis: basisFrom(r), Errors: &formErrors{}}
	ch := registry.HeadChange{NewHeadPID: d.NewHead, FormerHeadRelationship: d.Former, Relationships: map[string]string{}, Basis: d.Basis.basis()}
	for _, m := range h.Members {
		if m.PID == h.HeadPID {
			continue
		}
		d.Rels[m.PID] = strings.TrimSpace(f.Get("rel-" + m.PID))
		if m.PID != d.NewHead && m.Status == registry.Alive {
			ch.Relationships[m.PID] = d.Rels[m.PID]
		}
	}
	if d.NewHead == "" {
		d.Errors.add("new_head", tr(r, "head.newhead.required"))
	}
	if d.Former == "" {
		d.Errors.add("former", tr(r, "head.former.required"))
	}
	d.Basis.check(r, d.Errors)
	if d.Errors.Any() {
		s.render(w, r, http.StatusUnprocessableEntity, "head", d)
		return nil
	}
	_, err = s.Registry.ChangeHead(r.Context(), h.ID, version, ch)
	switch {
	case err == nil:
		http.Redirect(w, r, Console+"/citizens/"+d.NewHead+"?saved=1", http.StatusSeeOther)
		return nil
	case errs.Is(err, errs.Precondition):
		d.Version, d.Changed = h.Version, true
		d.Errors.add("form", tr(r, "head.conflict"))
		s.render(w, r, http.StatusConflict, "head", d)
		return nil
	}
	fields := map[string]string{"new_head_pid": "new_head", "former_head_relationship": "former", "reason": "reason", "legal_basis": "legal_basis"}
	for pid := range d.Rels {
		fields["relationships."+pid] = "rel-" + pid
	}
	if fieldErrors(r, d.Errors, err, fields) {
		s.render(w, r, http.StatusUnprocessableEntity, "head", d)
		return nil
	}
	return err
}

func (s *Web) relationships() []codelist.Entry {
	var out []codelist.Entry
	for _, e := range s.Registry.Codes().HouseholdRel.Entries() {
		if e.Code != "head" {
			out = append(out, e)
		}
	}
	return out
}
