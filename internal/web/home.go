package web

import (
	"net/http"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/dossier"
)

// homeLink is a card on the console's home page, shown to officers with
// its permission.
type homeLink struct {
	Href, Title, Text string
	Perm              access.Permission
}

func (s *Web) landing(w http.ResponseWriter, r *http.Request) error {
	s.render(w, r, http.StatusOK, "landing", nil)
	return nil
}

func (s *Web) home(w http.ResponseWriter, r *http.Request) error {
	a := me(r)
	d := struct {
		Jurisdiction      string
		Dossiers, Overdue int
		Links             []homeLink
	}{Jurisdiction: s.jurisdictionName(r, a.Jurisdiction)}
	if _, err := access.Require(r.Context(), access.HandleDossier); err == nil {
		q, err := s.Dossier.Queue(r.Context(), "", false, 500)
		if err != nil {
			return err
		}
		for _, x := range q {
			if x.State == dossier.Submitted || x.State == dossier.Received {
				d.Dossiers++
				if x.Overdue {
					d.Overdue++
				}
			}
		}
	}
	for _, l := range s.homeLinks() {
		if _, err := access.Require(r.Context(), l.Perm); l.Perm == "" || err == nil {
			d.Links = append(d.Links, l)
		}
	}
	s.render(w, r, http.StatusOK, "home", d)
	return nil
}

func (s *Web) jurisdictionName(r *http.Request, j actor.Jurisdiction) string {
	if j.Level == actor.National {
		return tr(r, "jurisdiction.national")
	}
	return s.Policy.UnitName(j)
}

// extraRoutes are the pages beyond the officer's daily work: the public
// pages, the administration and the dashboards.
func (s *Web) extraRoutes() []Page {
	return append(append(s.publicRoutes(), s.adminRoutes()...), s.dashboardRoutes()...)
}

// homeLinks are the home page's cards beyond the daily work.
func (s *Web) homeLinks() []homeLink { return append(s.dashboardLinks(), s.adminLinks()...) }
