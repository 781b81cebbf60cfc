package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/dancu-vn/dancu/internal/dossier"
	"github.com/dancu-vn/dancu/internal/errs"
)

// publicRoutes are the public pages beyond the landing page: the document
// check a phone opens from a residence confirmation's QR code, the same
// check for a pasted document, and the service catalog.
func (s *Web) publicRoutes() []Page {
	return []Page{
		{Method: "GET", Path: "/verify", who: anyone, h: s.verifyForm},
		{Method: "POST", Path: "/verify", who: anyone, h: s.verifySubmit},
		{Method: "GET", Path: dossier.LinkPath + "{code}", who: anyone, h: s.verifyLink},
		{Method: "GET", Path: "/catalog", who: anyone, h: s.catalog},
	}
}

type verifyData struct {
	Checked bool
	V       dossier.Verification
	Errors  *formErrors
	Text    string
}

func (s *Web) verifyForm(w http.ResponseWriter, r *http.Request) error {
	s.render(w, r, http.StatusOK, "verify", verifyData{Errors: &formErrors{}})
	return nil
}

// verifySubmit checks a pasted document: the signed text itself, or the
// link (or code) its QR code holds.
func (s *Web) verifySubmit(w http.ResponseWriter, r *http.Request) error {
	d := verifyData{Errors: &formErrors{}, Text: strings.TrimSpace(r.PostForm.Get("document"))}
	if d.Text == "" || len(d.Text) > 20000 {
		d.Errors.add("document", tr(r, "verify.empty"))
		s.render(w, r, http.StatusUnprocessableEntity, "verify", d)
		return nil
	}
	var err error
	if i := strings.LastIndex(d.Text, dossier.LinkPath); i >= 0 || !strings.Contains(d.Text, ".") {
		code := d.Text
		if i >= 0 {
			code = d.Text[i+len(dossier.LinkPath):]
		}
		d.V, err = s.Dossier.Check(r.Context(), code, true)
	} else {
		d.V, err = s.Dossier.Check(r.Context(), d.Text, false)
	}
	if errs.Is(err, errs.TooMany) {
		return s.checksRefused(w, r, d, err)
	}
	if err != nil {
		return err
	}
	d.Checked = true
	s.render(w, r, http.StatusOK, "verify", d)
	return nil
}

// verifyLink is the page the QR code opens.
func (s *Web) verifyLink(w http.ResponseWriter, r *http.Request) error {
	// A link's code is 100 random bits: guessing one is hopeless, and a
	// page elsewhere could make visitors' browsers open links to spend
	// their address's allowance, so links are not counted; typed or pasted
	// checks are.
	v, err := s.Dossier.VerifyLink(r.Context(), r.PathValue("code"))
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "verify", verifyData{Checked: true, V: v, Errors: &formErrors{}})
	return nil
}

// checksRefused answers a check refused for the failures of the
// caller's address: the form again, saying when to try.
func (s *Web) checksRefused(w http.ResponseWriter, r *http.Request, d verifyData, err error) error {
	wait := errs.RetryAfterOf(err)
	w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())))
	d.Errors.add("document", tr(r, "verify.throttled", int(wait.Minutes())+1))
	s.render(w, r, http.StatusTooManyRequests, "verify", d)
	return nil
}

type catalogEntry struct {
	dossier.CatalogEntry
	Name string
}

func (s *Web) catalog(w http.ResponseWriter, r *http.Request) error {
	var out []catalogEntry
	for _, e := range dossier.Catalog {
		out = append(out, catalogEntry{CatalogEntry: e, Name: serviceName(langOf(r), e.Code)})
	}
	s.render(w, r, http.StatusOK, "catalog", out)
	return nil
}
