package web

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/errs"
)

// The citizen portal signs citizens in through the platform's own OpenID
// provider, as a relying party like any public-service portal: the code
// flow with PKCE and its client secret, the provider's single sign-on
// session, its login and consent pages. The portal keeps the tokens in a
// sealed cookie and acts, on each page, as the citizen the access token
// names — checked by the provider exactly as the citizens' API checks it.
const (
	// Portal is where the citizen portal lives.
	Portal = "/portal"
	// PortalClient is the portal's client ID at the OpenID provider.
	PortalClient = "dancu-portal"

	portalCookie = "dancu_portal"      // the sealed tokens
	flowCookie   = "dancu_portal_flow" // the sealed state of a sign-in under way
)

// portalSession is what the portal cookie seals.
type portalSession struct {
	Access  string `json:"a"`
	Refresh string `json:"r,omitempty"`
	// SID is a random value of the sign-in, which the forms' CSRF tokens
	// are bound to: it survives a refresh of the tokens.
	SID string `json:"s"`
}

// portalFlow is what the flow cookie seals between the redirect to the
// provider and the callback.
type portalFlow struct {
	State, Verifier, Next string
}

func (s *Web) sealCookie(w http.ResponseWriter, r *http.Request, name string, v any, maxAge int) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	s.setCookie(w, r, name, base64.RawURLEncoding.EncodeToString(s.Sealer.Seal(b, []byte("dancu "+name))), maxAge)
	return nil
}

func (s *Web) openCookie(r *http.Request, name string, v any) bool {
	raw, err := base64.RawURLEncoding.DecodeString(s.cookie(r, name))
	if err != nil || len(raw) == 0 || s.Sealer == nil {
		return false
	}
	b, err := s.Sealer.Open(raw, []byte("dancu "+name))
	return err == nil && json.Unmarshal(b, v) == nil
}

// inProcess carries the portal's requests to the OpenID provider's
// handler in this process: the token and revocation endpoints are called
// as any relying party calls them, without a network hop (which a public
// URL behind a proxy may not allow).
type inProcess struct{ h http.Handler }

func (t inProcess) RoundTrip(req *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	req.RemoteAddr = "127.0.0.1:0"
	t.h.ServeHTTP(rec, req)
	return rec.Result(), nil
}

func (s *Web) portalOAuth() oauth2.Config {
	return oauth2.Config{ClientID: PortalClient, ClientSecret: s.PortalSecret, RedirectURL: s.PublicURL + Portal + "/callback",
		Scopes:   []string{"openid", "profile", "pid", "offline_access"},
		Endpoint: oauth2.Endpoint{AuthURL: s.PublicURL + "/authorize", TokenURL: s.PublicURL + "/oauth/token", AuthStyle: oauth2.AuthStyleInHeader}}
}

func (s *Web) idpContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, &http.Client{Transport: inProcess{s.IdP}, Timeout: 10 * time.Second})
}

// portalActor resolves the portal cookie to the citizen its access token
// names, refreshing the tokens once they have expired; a cookie that no
// longer signs anyone in is removed. It returns the CSRF binding too.
func (s *Web) portalActor(w http.ResponseWriter, r *http.Request, src string) (*actor.Actor, string, error) {
	var ps portalSession
	if !s.openCookie(r, portalCookie, &ps) || s.SSO == nil {
		return nil, "", nil
	}
	a, err := s.SSO.AuthenticateCitizen(r.Context(), ps.Access)
	if errs.Is(err, errs.Unauthenticated) && ps.Refresh != "" {
		cfg := s.portalOAuth()
		tok, rerr := cfg.TokenSource(s.idpContext(r.Context()), &oauth2.Token{RefreshToken: ps.Refresh, Expiry: time.Unix(1, 0)}).Token()
		if rerr == nil {
			ps.Access = tok.AccessToken
			if tok.RefreshToken != "" {
				ps.Refresh = tok.RefreshToken
			}
			if a, err = s.SSO.AuthenticateCitizen(r.Context(), ps.Access); err == nil {
				if err := s.sealCookie(w, r, portalCookie, ps, 0); err != nil {
					return nil, "", err
				}
			}
		}
	}
	switch {
	case err == nil:
		a.Source = src
		return a, ps.SID, nil
	case errs.Is(err, errs.Unauthenticated):
		s.setCookie(w, r, portalCookie, "", -1)
		return nil, "", nil
	}
	return nil, "", err
}

// safePortalNext keeps a return address inside the portal.
func safePortalNext(next string) string {
	if !strings.HasPrefix(next, Portal+"/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") || strings.Contains(next, "/..") {
		return Portal + "/"
	}
	return next
}

// portalLogin sends the browser to the provider's authorization endpoint.
func (s *Web) portalLogin(w http.ResponseWriter, r *http.Request) error {
	f := portalFlow{State: oauth2.GenerateVerifier(), Verifier: oauth2.GenerateVerifier(), Next: safePortalNext(r.URL.Query().Get("next"))}
	if err := s.sealCookie(w, r, flowCookie, f, 600); err != nil {
		return err
	}
	cfg := s.portalOAuth()
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(f.Verifier), oauth2.SetAuthURLParam("ui_locales", langOf(r))}
	if r.URL.Query().Get("prompt") == "login" {
		opts = append(opts, oauth2.SetAuthURLParam("prompt", "login"))
	}
	http.Redirect(w, r, cfg.AuthCodeURL(f.State, opts...), http.StatusFound)
	return nil
}

// portalCallback redeems the provider's code, with the verifier of this
// browser's sign-in, and opens the portal session.
func (s *Web) portalCallback(w http.ResponseWriter, r *http.Request) error {
	var f portalFlow
	ok := s.openCookie(r, flowCookie, &f)
	s.setCookie(w, r, flowCookie, "", -1)
	q := r.URL.Query()
	switch {
	case q.Get("error") == "access_denied":
		return s.portalProblem(w, r, http.StatusForbidden, "portal.denied")
	case q.Get("error") != "":
		return s.portalProblem(w, r, http.StatusBadRequest, "portal.failed")
	case !ok || q.Get("state") == "" || q.Get("state") != f.State:
		return s.portalProblem(w, r, http.StatusBadRequest, "portal.stale")
	}
	cfg := s.portalOAuth()
	tok, err := cfg.Exchange(s.idpContext(r.Context()), q.Get("code"), oauth2.VerifierOption(f.Verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			return s.portalProblem(w, r, http.StatusBadRequest, "portal.stale")
		}
		return err
	}
	if _, err := s.SSO.AuthenticateCitizen(r.Context(), tok.AccessToken); err != nil {
		return err
	}
	if err := s.sealCookie(w, r, portalCookie, portalSession{Access: tok.AccessToken, Refresh: tok.RefreshToken, SID: randomValue()}, 0); err != nil {
		return err
	}
	http.Redirect(w, r, f.Next, http.StatusSeeOther)
	return nil
}

// portalLogout ends the portal session, revokes its refresh token and
// ends the provider's single sign-on session, then comes back to the
// portal's home.
func (s *Web) portalLogout(w http.ResponseWriter, r *http.Request) error {
	var ps portalSession
	if s.openCookie(r, portalCookie, &ps) && ps.Refresh != "" {
		form := url.Values{"token": {ps.Refresh}, "token_type_hint": {"refresh_token"}}
		req, err := http.NewRequestWithContext(r.Context(), http.MethodPost, s.PublicURL+"/revoke", strings.NewReader(form.Encode()))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(url.QueryEscape(PortalClient), url.QueryEscape(s.PortalSecret))
		res, err := inProcess{s.IdP}.RoundTrip(req)
		if err != nil {
			return err
		}
		res.Body.Close()
	}
	s.setCookie(w, r, portalCookie, "", -1)
	end := s.PublicURL + "/end_session?" + url.Values{"client_id": {PortalClient}, "post_logout_redirect_uri": {s.PublicURL + Portal + "/"}}.Encode()
	http.Redirect(w, r, end, http.StatusSeeOther)
	return nil
}

// portalProblem shows a sign-in that did not complete, with a way to try
// again.
func (s *Web) portalProblem(w http.ResponseWriter, r *http.Request, status int, key string) error {
	s.render(w, r, status, "portal-problem", map[string]string{"Message": key})
	return nil
}
