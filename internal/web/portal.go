package web

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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

// The portal session's limits, whatever the tokens allow: signed out
// after PortalIdle without a page, and PortalMax after signing in (a
// shared computer is not left signed in).
const (
	PortalIdle = 30 * time.Minute
	PortalMax  = 10 * time.Hour
)

// portalSession is what the portal cookie seals.
type portalSession struct {
	Access  string `json:"a"`
	Refresh string `json:"r,omitempty"`
	Since   int64  `json:"t,omitempty"` // signed in at (Unix seconds)
	Seen    int64  `json:"u,omitempty"` // last page at, to the minute
	// SID is a random value of the sign-in, which the forms' CSRF tokens
	// are bound to: it survives a refresh of the tokens.
	SID string `json:"s"`
	// Name is the citizen's name as the provider's userinfo gave it at
	// sign-in (the profile scope), for the pages' greeting.
	Name string `json:"n,omitempty"`
}

// live reports whether a portal session is within its limits at now.
func (ps portalSession) live(now time.Time) bool {
	return now.Sub(time.Unix(ps.Since, 0)) <= PortalMax && now.Sub(time.Unix(ps.Seen, 0)) <= PortalIdle
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
	now := s.Now()
	if ps.Access == "" {
		return nil, ps.SID, nil
	}
	var a *actor.Actor
	var err error
	if !ps.live(now) {
		err = errs.E(errs.Unauthenticated, "the portal session has ended")
	} else {
		a, err = s.SSO.AuthenticateCitizen(r.Context(), ps.Access)
		if errs.Is(err, errs.Unauthenticated) && ps.Refresh != "" {
			if tok, rerr := s.refresh(r.Context(), ps.Refresh); rerr == nil {
				ps.Access, ps.Seen = tok.AccessToken, 0
				if tok.RefreshToken != "" {
					ps.Refresh = tok.RefreshToken
				}
				a, err = s.SSO.AuthenticateCitizen(r.Context(), ps.Access)
			}
		}
		if err == nil && now.Sub(time.Unix(ps.Seen, 0)) > time.Minute {
			ps.Seen = now.Unix()
			if err := s.sealCookie(w, r, portalCookie, ps, 0); err != nil {
				return nil, "", err
			}
		}
	}
	switch {
	case err == nil:
		a.Source = src
		if ps.Name != "" {
			a.Name = ps.Name
		}
		return a, ps.SID, nil
	case errs.Is(err, errs.Unauthenticated):
		// The tokens are dead: forget them, but keep the sign-in's SID
		// until signing out, so the page's forms (the sign-out) still
		// carry a token that matches.
		if ps.Access != "" || ps.Refresh != "" {
			if err := s.sealCookie(w, r, portalCookie, portalSession{SID: ps.SID}, 0); err != nil {
				return nil, "", err
			}
		}
		return nil, ps.SID, nil
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
		if errs.Is(err, errs.Unauthenticated) {
			// Not a login loop: say so, with a way to try again.
			return s.portalProblem(w, r, http.StatusBadRequest, "portal.failed")
		}
		return err
	}
	name, err := s.userName(r, tok.AccessToken)
	if err != nil {
		return err
	}
	now := s.Now().Unix()
	if err := s.sealCookie(w, r, portalCookie, portalSession{Access: tok.AccessToken, Refresh: tok.RefreshToken, SID: randomValue(), Since: now, Seen: now, Name: name}, 0); err != nil {
		return err
	}
	http.Redirect(w, r, f.Next, http.StatusSeeOther)
	return nil
}

// userName asks the provider's userinfo endpoint for the citizen's name,
// as a relying party does once at sign-in (the read is in the citizen's
// access log, by the portal's client).
func (s *Web) userName(r *http.Request, access string) (string, error) {
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, s.PublicURL+"/userinfo", nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+access)
	res, err := (&http.Client{Transport: inProcess{s.IdP}, Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return "", fmt.Errorf("userinfo: %s", res.Status)
	}
	var info struct {
		Name string `json:"name"`
	}
	if err := json.NewDecoder(io.LimitReader(res.Body, 64<<10)).Decode(&info); err != nil {
		return "", fmt.Errorf("userinfo: %w", err)
	}
	return info.Name, nil
}

// portalLogout ends the portal session, revokes its refresh token and
// ends the provider's single sign-on session, then comes back to the
// portal's home.
func (s *Web) portalLogout(w http.ResponseWriter, r *http.Request) error {
	var ps portalSession
	if s.openCookie(r, portalCookie, &ps) {
		for _, t := range []struct{ token, hint string }{{ps.Refresh, "refresh_token"}, {ps.Access, "access_token"}} {
			if t.token == "" {
				continue
			}
			if err := s.revoke(r, t.token, t.hint); err != nil {
				return err
			}
		}
	}
	s.setCookie(w, r, portalCookie, "", -1)
	end := s.PublicURL + "/end_session?" + url.Values{"client_id": {PortalClient}, "post_logout_redirect_uri": {s.PublicURL + Portal + "/"}}.Encode()
	http.Redirect(w, r, end, http.StatusSeeOther)
	return nil
}

// revoke revokes a token at the provider (RFC 7009), as the portal's
// client; a token already dead is revoked as well.
func (s *Web) revoke(r *http.Request, token, hint string) error {
	form := url.Values{"token": {token}, "token_type_hint": {hint}}
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
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("revoking the portal's %s: %s", hint, res.Status)
	}
	return nil
}

// portalProblem shows a sign-in that did not complete, with a way to try
// again.
func (s *Web) portalProblem(w http.ResponseWriter, r *http.Request, status int, key string) error {
	s.render(w, r, status, "portal-problem", map[string]string{"Message": key})
	return nil
}

// refreshed is a refresh's answer, kept a little while for the other
// requests that came with the same refresh token.
type refreshed struct {
	tok *oauth2.Token
	at  time.Time
}

// refreshCoalesce is how long a refresh's answer serves the requests
// that carried the same refresh token (two tabs, a double click): the
// provider takes a refresh token once and revokes its family when it sees
// it again.
const refreshCoalesce = 30 * time.Second

// refresh redeems a refresh token once for all the requests of this
// process that carry it at the same time.
func (s *Web) refresh(ctx context.Context, token string) (*oauth2.Token, error) {
	sum := sha256.Sum256([]byte(token))
	key := string(sum[:])
	now := s.Now()
	s.refreshMu.Lock()
	if r, ok := s.recent[key]; ok && now.Sub(r.at) < refreshCoalesce {
		s.refreshMu.Unlock()
		return r.tok, nil
	}
	s.refreshMu.Unlock()
	v, err, _ := s.refreshes.Do(key, func() (any, error) {
		cfg := s.portalOAuth()
		tok, err := cfg.TokenSource(s.idpContext(context.WithoutCancel(ctx)), &oauth2.Token{RefreshToken: token, Expiry: time.Unix(1, 0)}).Token()
		if err != nil {
			return nil, err
		}
		s.refreshMu.Lock()
		if s.recent == nil {
			s.recent = map[string]refreshed{}
		}
		for k, r := range s.recent {
			if now.Sub(r.at) >= refreshCoalesce {
				delete(s.recent, k)
			}
		}
		s.recent[key] = refreshed{tok: tok, at: now}
		s.refreshMu.Unlock()
		return tok, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*oauth2.Token), nil
}
