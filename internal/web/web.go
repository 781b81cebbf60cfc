// Package web is the officer console under /console/ and the public pages:
// server-rendered from embedded templates over the same services the API
// uses, in Vietnamese by default and English. Every page works without
// JavaScript.
package web

import (
	"embed"
	"encoding/base64"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/audit"
	"github.com/dancu-vn/dancu/internal/card"
	"github.com/dancu-vn/dancu/internal/dossier"
	"github.com/dancu-vn/dancu/internal/eid"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/events"
	"github.com/dancu-vn/dancu/internal/exchange"
	"github.com/dancu-vn/dancu/internal/indicator"
	"github.com/dancu-vn/dancu/internal/keyring"
	"github.com/dancu-vn/dancu/internal/pki"
	"github.com/dancu-vn/dancu/internal/registry"
	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/sso"
	"github.com/dancu-vn/dancu/internal/workday"
)

// Console is where the officer console lives.
const Console = "/console"

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// Deps are the services the pages work over.
type Deps struct {
	DB         *sqldb.DB
	Access     *access.Service
	Registry   *registry.Service
	EID        *eid.Service
	SSO        *sso.Service
	Dossier    *dossier.Service
	Exchange   *exchange.Service
	Events     *events.Service
	Cards      *card.Service
	Indicators *indicator.Service
	PKI        *pki.Store
	Chain      *audit.Chain
	Calendar   *workday.Calendar
	Policy     *access.Policy
	Log        *slog.Logger
	// PublicURL is the public base URL of absolute links; https:// makes
	// the session cookie Secure.
	PublicURL string
	Now       func() time.Time
	// The citizen portal: the OpenID provider's handler (called in
	// process), the portal's client secret there, and the sealer of its
	// cookies.
	IdP          http.Handler
	PortalSecret string
	Sealer       keyring.Sealer
}

// Web serves the pages.
type Web struct {
	Deps
	tmpl *template.Template
	// The portal's refreshes of one refresh token, made once (portal.go).
	refreshes singleflight.Group
	refreshMu sync.Mutex
	recent    map[string]refreshed
}

// audience is who may open a page: anyone, any signed-in officer, or an
// officer holding a permission.
type audience struct {
	public   bool
	perm     access.Permission
	signedIn bool
	citizen  bool // a citizen signed in to the portal
}

var (
	anyone   = audience{public: true}
	signedIn = audience{signedIn: true}
	citizens = audience{citizen: true}
)

func officers(p access.Permission) audience { return audience{signedIn: true, perm: p} }

// Page is one row of the route table.
type Page struct {
	Method, Path string
	// Public pages need no session; Perm is the permission a console page
	// needs ("" for any signed-in officer).
	Public bool
	Perm   access.Permission
	who    audience
	h      handler
	// upload is the largest multipart form the page takes (a portrait);
	// 0 for the pages that take plain forms only.
	upload int64
}

// handler serves a page; an error is shown as an error page with the
// status of its kind.
type handler func(w http.ResponseWriter, r *http.Request) error

// New returns the pages' handler, mounted at "/" (public pages) and
// Console.
func New(d Deps) (*Web, error) {
	if d.Now == nil {
		d.Now = time.Now
	}
	t, err := template.New("").Funcs(funcs).ParseFS(templateFiles, "templates/*.html")
	if err != nil {
		return nil, err
	}
	return &Web{Deps: d, tmpl: t}, nil
}

// Routes is the route table of the pages.
func (s *Web) Routes() []Page {
	c := Console
	ps := []Page{
		{Method: "GET", Path: "/{$}", who: anyone, h: s.landing},
		{Method: "GET", Path: c + "/login", who: anyone, h: s.loginForm},
		{Method: "POST", Path: c + "/login", who: anyone, h: s.loginSubmit},
		{Method: "POST", Path: c + "/login/code", who: anyone, h: s.codeSubmit},
		{Method: "POST", Path: c + "/logout", who: signedIn, h: s.logout},
		{Method: "POST", Path: c + "/logout-everywhere", who: signedIn, h: s.logoutEverywhere},
		{Method: "POST", Path: c + "/language", who: anyone, h: s.setLanguage},
		{Method: "GET", Path: c + "/{$}", who: signedIn, h: s.home},
		{Method: "GET", Path: c + "/citizens", who: officers(access.SearchCitizen), h: s.search},
		{Method: "GET", Path: c + "/citizens/{pid}", who: officers(access.ReadCitizen), h: s.record},
		{Method: "GET", Path: c + "/citizens/{pid}/edit", who: officers(access.WriteCitizen), h: s.editForm},
		{Method: "POST", Path: c + "/citizens/{pid}/edit", who: officers(access.WriteCitizen), h: s.editSubmit},
		{Method: "GET", Path: c + "/citizens/{pid}/status", who: officers(access.WriteCitizen), h: s.statusForm},
		{Method: "POST", Path: c + "/citizens/{pid}/status", who: officers(access.WriteCitizen), h: s.statusSubmit},
		{Method: "GET", Path: c + "/households/{id}/head", who: officers(access.WriteCitizen), h: s.headForm},
		{Method: "POST", Path: c + "/households/{id}/head", who: officers(access.WriteCitizen), h: s.headSubmit},
		{Method: "GET", Path: c + "/births/new", who: officers(access.WriteCitizen), h: s.birthForm},
		{Method: "POST", Path: c + "/births", who: officers(access.WriteCitizen), h: s.birthSubmit},
		{Method: "GET", Path: c + "/dossiers", who: officers(access.HandleDossier), h: s.dossierQueue},
		{Method: "GET", Path: c + "/dossiers/{id}", who: officers(access.HandleDossier), h: s.dossierPage},
		{Method: "POST", Path: c + "/dossiers/{id}", who: officers(access.HandleDossier), h: s.dossierAct},
		{Method: "GET", Path: c + "/dossiers/{id}/result", who: officers(access.HandleDossier), h: s.dossierResult},
		{Method: "GET", Path: c + "/eid", who: officers(access.ReviewEID), h: s.eidQueue},
		{Method: "POST", Path: c + "/eid/{id}", who: officers(access.ReviewEID), h: s.eidDecide},
		{Method: "GET", Path: c + "/assist", who: officers(access.HandleDossier), h: s.assistForm},
		{Method: "POST", Path: c + "/assist", who: officers(access.HandleDossier), h: s.assist},
		{Method: "GET", Path: c + "/eid/rebind", who: officers(access.ReviewEID), h: s.rebindForm},
		{Method: "POST", Path: c + "/eid/rebind", who: officers(access.ReviewEID), h: s.rebind, upload: int64(base64.StdEncoding.EncodedLen(card.MaxChip)) + 8<<10},
		{Method: "GET", Path: c + "/cards", who: officers(access.WriteCitizen), h: s.cardQueue},
		{Method: "POST", Path: c + "/cards/applications/{id}", who: officers(access.WriteCitizen), h: s.cardDecide},
		{Method: "POST", Path: c + "/cards/deliveries/{id}", who: officers(access.WriteCitizen), h: s.cardDelivered},
		{Method: "GET", Path: c + "/cards/batches", who: officers(access.WriteCitizen), h: s.batchesPage},
	}
	ps = append(ps, s.extraRoutes()...)
	ps = append(ps, s.portalRoutes()...)
	for i := range ps {
		ps[i].Public, ps[i].Perm = ps[i].who.public, ps[i].who.perm
	}
	return ps
}

// Mounts are the patterns the pages are served under in the server's mux.
func (s *Web) Mounts() []string {
	seen := map[string]bool{Console + "/": true, Portal + "/": true}
	out := []string{Console + "/", Portal + "/"}
	for _, p := range s.Routes() {
		if !strings.HasPrefix(p.Path, Console+"/") && !strings.HasPrefix(p.Path, Portal+"/") && !seen[p.Method+" "+p.Path] {
			seen[p.Method+" "+p.Path] = true
			out = append(out, p.Method+" "+p.Path)
		}
	}
	return out
}

// Handler returns the pages under one mux: the route table, the embedded
// static files, and a not-found page for the rest of /console/.
func (s *Web) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, p := range s.Routes() {
		mux.Handle(p.Method+" "+p.Path, s.guard(p))
	}
	static, _ := fs.Sub(staticFiles, "static")
	mux.Handle("GET "+Console+"/static/", http.StripPrefix(Console+"/static/", cacheStatic(http.FileServerFS(static))))
	notFound := s.guard(Page{who: anyone, h: func(w http.ResponseWriter, r *http.Request) error {
		return errs.E(errs.NotFound, "no such page")
	}})
	mux.Handle(Console+"/", notFound)
	mux.Handle(Portal+"/", notFound)
	return mux
}

func cacheStatic(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(w, r)
	})
}

// guard opens the session, applies the page's audience, checks the CSRF
// token of every POST, and shows an error as a page.
func (s *Web) guard(p Page) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		r, err := s.session(w, r)
		if err == nil && r.Method == http.MethodPost {
			err = s.checkCSRF(r, p.upload)
			if r.MultipartForm != nil {
				// The server removes the temporary files of the request it
				// read, not of this copy of it.
				defer r.MultipartForm.RemoveAll()
			}
		}
		if err == nil {
			a, ok := actor.From(r.Context())
			switch {
			case p.who.public:
			case p.who.citizen:
				if !ok || a.Kind != actor.Citizen {
					if r.Method == http.MethodGet {
						http.Redirect(w, r, Portal+"/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
						return
					}
					err = errs.E(errs.Unauthenticated, "sign in first")
				}
			case !ok || a.Kind != actor.Officer:
				if r.Method == http.MethodGet {
					http.Redirect(w, r, Console+"/login?next="+urlEscape(r.URL.RequestURI()), http.StatusSeeOther)
					return
				}
				err = errs.E(errs.Unauthenticated, "sign in first")
			case p.who.perm != "":
				_, err = access.Require(r.Context(), p.who.perm)
			}
		}
		if err == nil {
			err = p.h(w, r)
		}
		if err != nil {
			s.fail(w, r, err)
		}
	})
}

// fail shows an error page: the kind's status and its message; an
// internal error is logged and shown as a generic one.
func (s *Web) fail(w http.ResponseWriter, r *http.Request, err error) {
	err = sqldb.Classify(err)
	var e *errs.Error
	status, msg := http.StatusInternalServerError, tr(r, "err.internal")
	if errors.As(err, &e) && e.Kind != errs.Internal {
		status, msg = e.Kind.HTTPStatus(), e.Msg
		if msg == "" && len(e.Fields) > 0 {
			msg = e.Fields[0].Field + ": " + e.Fields[0].Reason
		}
		switch e.Kind {
		case errs.Forbidden:
			msg = tr(r, "err.forbidden")
		case errs.NotFound:
			msg = tr(r, "err.notfound")
		}
	} else {
		s.Log.ErrorContext(r.Context(), "page", "path", r.URL.Path, "err", err)
	}
	if status == http.StatusUnauthorized && r.Method == http.MethodGet {
		if portalPath(r) {
			http.Redirect(w, r, Portal+"/login", http.StatusSeeOther)
			return
		}
		http.Redirect(w, r, Console+"/login", http.StatusSeeOther)
		return
	}
	s.render(w, r, status, "error", map[string]any{"Status": status, "Message": msg})
}

func urlEscape(s string) string {
	return strings.NewReplacer("%", "%25", "&", "%26", "?", "%3F", "#", "%23", " ", "%20", "+", "%2B").Replace(s)
}
