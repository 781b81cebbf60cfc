package web

import (
	"encoding/base64"
	"net/http"
	"strings"

	"rsc.io/qr"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/locale"
)

type loginData struct {
	Username string
	Next     string
	Error    string
	// The second step.
	Code, Enrol bool
	Secret      string
	QR          string // data: URL of the otpauth:// QR code
}

// safeNext keeps a redirect after sign-in inside the console.
func safeNext(next string) string {
	if !strings.HasPrefix(next, Console+"/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") || strings.Contains(next, "/..") {
		return Console + "/"
	}
	return next
}

func (s *Web) loginForm(w http.ResponseWriter, r *http.Request) error {
	if me(r) != nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return nil
	}
	s.render(w, r, http.StatusOK, "login", loginData{Next: safeNext(r.URL.Query().Get("next"))})
	return nil
}

// loginError is what a refused sign-in shows: the same for an unknown name
// and a wrong password.
func loginError(r *http.Request, err error) (string, bool) {
	switch errs.KindOf(err) {
	case errs.Unauthenticated:
		if strings.Contains(err.Error(), "disabled") {
			return tr(r, "login.disabled"), true
		}
		if strings.Contains(err.Error(), "expired") {
			return tr(r, "login.expired"), true
		}
		return tr(r, "login.wrong"), true
	case errs.TooMany:
		return tr(r, "login.throttled"), true
	case errs.Invalid:
		return tr(r, "login.code.wrong"), true
	}
	return "", false
}

func (s *Web) loginSubmit(w http.ResponseWriter, r *http.Request) error {
	d := loginData{Username: strings.TrimSpace(r.PostForm.Get("username")), Next: safeNext(r.PostForm.Get("next"))}
	step, err := s.Access.ConsoleLogin(r.Context(), d.Username, r.PostForm.Get("password"))
	if err != nil {
		msg, ok := loginError(r, err)
		if !ok {
			return err
		}
		d.Error = msg
		s.render(w, r, errs.KindOf(err).HTTPStatus(), "login", d)
		return nil
	}
	s.setCookie(w, r, preCookie, "", -1)
	if step.Session != "" {
		s.startSession(w, r, step.Session, d.Next)
		return nil
	}
	s.setCookie(w, r, pendingCookie, step.Ticket, int(access.PendingTTL.Seconds()))
	// The page that follows carries a CSRF token bound to the ticket.
	r = withBind(r, step.Ticket)
	if step.MustEnrol {
		return s.showEnrol(w, r, step.Ticket, d, http.StatusOK)
	}
	d.Code = true
	s.render(w, r, http.StatusOK, "login", d)
	return nil
}

func (s *Web) showEnrol(w http.ResponseWriter, r *http.Request, ticket string, d loginData, status int) error {
	enr, err := s.Access.StartEnrolment(r.Context(), ticket)
	if err != nil {
		if msg, ok := loginError(r, err); ok {
			d.Error = msg
			s.render(w, r, errs.KindOf(err).HTTPStatus(), "login", d)
			return nil
		}
		return err
	}
	code, err := qr.Encode(enr.URL, qr.M)
	if err != nil {
		return err
	}
	d.Code, d.Enrol, d.Secret = true, true, enr.Secret
	d.QR = "data:image/png;base64," + base64.StdEncoding.EncodeToString(code.PNG())
	s.render(w, r, status, "login", d)
	return nil
}

func (s *Web) codeSubmit(w http.ResponseWriter, r *http.Request) error {
	ticket := s.cookie(r, pendingCookie)
	d := loginData{Next: safeNext(r.PostForm.Get("next")), Code: true}
	secret, _, err := s.Access.CompleteLogin(r.Context(), ticket, strings.TrimSpace(r.PostForm.Get("code")))
	if err != nil {
		msg, ok := loginError(r, err)
		if !ok && !errs.Is(err, errs.Conflict) {
			return err
		}
		if errs.Is(err, errs.Unauthenticated) {
			s.setCookie(w, r, pendingCookie, "", -1)
			d.Code = false
		}
		d.Error = msg
		if r.PostForm.Get("enrol") == "1" && d.Code {
			return s.showEnrol(w, r, ticket, d, http.StatusUnprocessableEntity)
		}
		s.render(w, r, errs.KindOf(err).HTTPStatus(), "login", d)
		return nil
	}
	s.setCookie(w, r, pendingCookie, "", -1)
	s.startSession(w, r, secret, d.Next)
	return nil
}

func (s *Web) startSession(w http.ResponseWriter, r *http.Request, secret, next string) {
	s.setCookie(w, r, sessionCookie, secret, int(access.ConsoleTTL.Seconds()))
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Web) logout(w http.ResponseWriter, r *http.Request) error {
	if err := s.Access.RevokeToken(r.Context(), me(r).TokenID); err != nil && !errs.Is(err, errs.NotFound) {
		return err
	}
	s.setCookie(w, r, sessionCookie, "", -1)
	http.Redirect(w, r, Console+"/login", http.StatusSeeOther)
	return nil
}

func (s *Web) logoutEverywhere(w http.ResponseWriter, r *http.Request) error {
	if err := s.Access.SignOutEverywhere(r.Context()); err != nil {
		return err
	}
	s.setCookie(w, r, sessionCookie, "", -1)
	http.Redirect(w, r, Console+"/login", http.StatusSeeOther)
	return nil
}

// setLanguage switches the language, remembered in a cookie and, for a
// signed-in officer, with the account.
func (s *Web) setLanguage(w http.ResponseWriter, r *http.Request) error {
	lang := locale.Parse(r.PostForm.Get("lang"))
	if lang == "" {
		return errs.Field("lang", "must be vi or en")
	}
	if me(r) != nil {
		if err := s.Access.SetLanguage(r.Context(), lang); err != nil {
			return err
		}
	}
	s.setCookie(w, r, langCookie, lang, 365*24*3600)
	next := r.PostForm.Get("next")
	if next != "/" {
		next = safeNext(next)
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}
