package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/locale"
)

// The console's cookies. All are HttpOnly and SameSite=Lax, Secure and
// __Host- prefixed when the console is served over TLS. The session cookie
// holds a console session token (access.ConsoleTTL, ended after
// access.ConsoleIdle without use); the pending cookie the ticket between
// the password and the second factor; the pre cookie a random value the
// sign-in form's CSRF token is bound to.
const (
	sessionCookie = "dancu_console"
	pendingCookie = "dancu_pending"
	preCookie     = "dancu_pre"
	langCookie    = "dancu_lang"
)

type ctxKey int

const (
	bindKey ctxKey = iota // the secret the CSRF token is bound to
	langKey
)

func (s *Web) secure(r *http.Request) bool {
	return r.TLS != nil || strings.HasPrefix(s.PublicURL, "https://")
}

func (s *Web) cookieName(r *http.Request, name string) string {
	if s.secure(r) {
		return "__Host-" + name
	}
	return name
}

func (s *Web) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(r, name), Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: s.secure(r), SameSite: http.SameSiteLaxMode})
}

func (s *Web) cookie(r *http.Request, name string) string {
	c, err := r.Cookie(s.cookieName(r, name))
	if err != nil {
		return ""
	}
	return c.Value
}

func randomValue() string {
	b := make([]byte, 24)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// portalPath reports whether a request is for the citizen portal.
func portalPath(r *http.Request) bool {
	return r.URL.Path == Portal || strings.HasPrefix(r.URL.Path, Portal+"/")
}

// session resolves the session cookie to the acting officer (a cookie that
// no longer opens a session is removed), and picks the language and the
// secret the CSRF token is bound to.
func (s *Web) session(w http.ResponseWriter, r *http.Request) (*http.Request, error) {
	src, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		src = r.RemoteAddr
	}
	ctx := actor.With(r.Context(), nil)
	bind := ""
	if portalPath(r) {
		// The portal: the citizen of its cookie, never an officer.
		a, sid, err := s.portalActor(w, r, src)
		if err != nil {
			return r, err
		}
		bind = sid
		if a != nil {
			ctx = actor.With(ctx, a)
		} else if sid != "" {
			ctx = actor.With(ctx, &actor.Actor{ID: "anonymous", Name: "anonymous", Source: src})
		}
	} else if secret := s.cookie(r, sessionCookie); secret != "" {
		a, err := s.Access.Authenticate(ctx, secret)
		switch {
		case err == nil:
			a.Source = src
			ctx, bind = actor.With(ctx, a), secret
		case errs.Is(err, errs.Unauthenticated):
			s.setCookie(w, r, sessionCookie, "", -1)
		default:
			return r, err
		}
	}
	if bind == "" {
		ctx = actor.With(ctx, &actor.Actor{ID: "anonymous", Name: "anonymous", Source: src})
		if t := s.cookie(r, pendingCookie); t != "" {
			bind = t
		} else if p := s.cookie(r, preCookie); p != "" {
			bind = p
		} else {
			bind = randomValue()
			s.setCookie(w, r, preCookie, bind, 0)
		}
	}
	lang := locale.Parse(r.URL.Query().Get("lang"))
	if lang == "" {
		if a, ok := actor.From(ctx); ok && a.Kind == actor.Officer {
			lang = locale.Parse(s.Access.Language(ctx))
		}
	}
	if lang == "" {
		lang = locale.Parse(s.cookie(r, langCookie))
	}
	if lang == "" {
		lang = locale.VI
	}
	ctx = context.WithValue(ctx, bindKey, bind)
	ctx = context.WithValue(ctx, langKey, lang)
	return r.WithContext(ctx), nil
}

// csrfToken is the token every form of this session carries: a hash of
// the session's secret, which only the browser holding the HttpOnly cookie
// and the pages the server gave it know.
func csrfToken(r *http.Request) string {
	bind, _ := r.Context().Value(bindKey).(string)
	h := sha256.Sum256([]byte("dancu console csrf|" + bind))
	return hex.EncodeToString(h[:16])
}

// checkCSRF refuses a form without this session's token, or sent from
// another origin.
// A page that takes an upload reads a multipart form of at most upload
// bytes; every other page only a plain form of 256 KiB.
func (s *Web) checkCSRF(r *http.Request, upload int64) error {
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		u, err := url.Parse(o)
		if err != nil || u.Host != r.Host {
			return errs.E(errs.Forbidden, "a form from another site")
		}
	}
	if upload > 0 && strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		r.Body = http.MaxBytesReader(nil, r.Body, upload+64<<10)
		if err := r.ParseMultipartForm(upload + 64<<10); err != nil {
			return errs.E(errs.Invalid, "the form could not be read: at most %d MB", (upload+(1<<20)-1)>>20)
		}
	} else {
		r.Body = http.MaxBytesReader(nil, r.Body, 256<<10)
		if err := r.ParseForm(); err != nil {
			return errs.E(errs.Invalid, "the form could not be read")
		}
	}
	got := r.PostForm.Get("csrf")
	if subtle.ConstantTimeCompare([]byte(got), []byte(csrfToken(r))) != 1 {
		return errs.E(errs.Forbidden, "this form has expired: open the page again")
	}
	return nil
}

func langOf(r *http.Request) string {
	l, _ := r.Context().Value(langKey).(string)
	if l == "" {
		return locale.VI
	}
	return l
}

// tr is a text in the request's language.
func tr(r *http.Request, key string, args ...any) string { return locale.T(langOf(r), key, args...) }

// citizen is the citizen signed in to the portal (the guard let the
// request in only with one).
func citizen(r *http.Request) *actor.Actor {
	a, _ := actor.From(r.Context())
	return a
}

// me is the signed-in officer, or nil.
func me(r *http.Request) *actor.Actor {
	a, ok := actor.From(r.Context())
	if !ok || a.Kind != actor.Officer {
		return nil
	}
	return a
}

// withBind binds the CSRF token of the page being rendered to a new secret
// (the pending ticket just issued).
func withBind(r *http.Request, secret string) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), bindKey, secret))
}
