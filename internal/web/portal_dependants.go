package web

import (
	"net/http"
	"slices"
	"strings"

	"github.com/dancu-vn/dancu/internal/errs"
)

// Dependants: a parent's children under 14 and the people a citizen
// legally represents, as the registry records them, attached to the
// citizen's own account with one button, and their records read by the
// guardian (each read in the dependant's access log, as the guardian's).
// The registry's relations decide: a page of anyone else's is not found.

type dependantItem struct {
	PID, Name string
	Attached  bool
}

func (s *Web) portalDependants(w http.ResponseWriter, r *http.Request) error {
	return s.showDependants(w, r, http.StatusOK, &formErrors{})
}

func (s *Web) showDependants(w http.ResponseWriter, r *http.Request, status int, f *formErrors) error {
	me := citizen(r).ID
	c, err := s.Registry.GetOnBehalf(r.Context(), me, "the citizen's own record")
	if err != nil {
		return err
	}
	attached, err := s.EID.Dependants(r.Context(), me)
	if err != nil {
		return err
	}
	var items []dependantItem
	seen := map[string]bool{}
	for _, rel := range append(slices.Clone(c.Children), c.Represented...) {
		if rel.PID == "" || seen[rel.PID] {
			continue
		}
		seen[rel.PID] = true
		items = append(items, dependantItem{PID: rel.PID, Name: rel.Name, Attached: slices.Contains(attached, rel.PID)})
	}
	for _, p := range attached {
		if !seen[p] {
			items = append(items, dependantItem{PID: p, Attached: true})
		}
	}
	s.render(w, r, status, "portal-dependants", map[string]any{"Items": items, "Errors": f, "Done": r.URL.Query().Get("done") == "attached"})
	return nil
}

// portalAttach attaches a child under 14 or a ward to the citizen's account.
func (s *Web) portalAttach(w http.ResponseWriter, r *http.Request) error {
	pid := strings.TrimSpace(r.PostForm.Get("pid"))
	_, err := s.EID.AttachDependant(r.Context(), citizen(r).ID, pid)
	f := &formErrors{}
	switch {
	case err == nil:
		http.Redirect(w, r, Portal+"/dependants?done=attached", http.StatusSeeOther)
		return nil
	case fieldErrors(r, f, err, map[string]string{"pid": "form"}):
		return s.showDependants(w, r, http.StatusUnprocessableEntity, f)
	case errs.Is(err, errs.Conflict):
		f.add("form", tr(r, "pdependant.conflict"))
		return s.showDependants(w, r, http.StatusConflict, f)
	}
	return err
}

// portalDependant is a dependant's record, read by the guardian.
func (s *Web) portalDependant(w http.ResponseWriter, r *http.Request) error {
	d, c, err := s.EID.ActAsGuardian(r.Context(), r.PathValue("pid"), "the guardian reads their dependant's record")
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "portal-dependant", map[string]any{"D": d, "Sections": s.citizenSections(r, c)})
	return nil
}
