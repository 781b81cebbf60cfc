package sso

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/rs/cors"
	httphelper "github.com/zitadel/oidc/v3/pkg/http"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// Handler serves the protocol endpoints (discovery, authorize, token,
// userinfo, keys, revocation, introspection, end_session) and the pages.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle(LoginPath+"/", s.pageHandler())
	mux.Handle(LoginPath, s.pageHandler())
	mux.HandleFunc("POST /oauth/token", s.token)
	mux.HandleFunc("POST /oauth/introspect", s.assertionChecked)
	mux.HandleFunc("POST /revoke", s.assertionChecked)
	mux.HandleFunc("GET /.well-known/openid-configuration", s.discovery)
	mux.HandleFunc("/userinfo", s.userinfo)
	mux.HandleFunc("/end_session", s.endSessionHandler)
	mux.Handle("/", s.provider)
	return s.protocolHeaders(mux)
}

// publicCORS is the CORS policy of the endpoints a single-page client may
// call from another origin: any origin, never with credentials (cookies
// or HTTP authentication the browser adds); bearer tokens and PKCE do not
// need them.
var publicCORS = cors.Options{
	AllowedOrigins:   []string{"*"},
	AllowedMethods:   []string{http.MethodGet, http.MethodHead, http.MethodPost},
	AllowedHeaders:   []string{"Accept", "Accept-Language", "Authorization", "Content-Type"},
	AllowCredentials: false,
}

// noCORS is given to op, whose own CORS handler would otherwise reflect
// every origin with credentials on every endpoint.
var noCORS = cors.Options{AllowOriginFunc: func(string) bool { return false }}

func isPublicAPI(path string) bool {
	switch path {
	case "/.well-known/openid-configuration", "/keys", "/oauth/token", "/userinfo", "/revoke", "/oauth/introspect":
		return true
	}
	return false
}

// protocolHeaders adds what the standards ask of each endpoint's answers:
// no caching of tokens and userinfo (RFC 6749 §5.1, OIDC Core §5.3.2),
// WWW-Authenticate on every 401 (RFC 6750 §3, RFC 6749 §5.2), the
// issuer in every authorization response (RFC 9207), and CORS without
// credentials on the public API endpoints only.
func (s *Service) protocolHeaders(next http.Handler) http.Handler {
	c := cors.New(publicCORS)
	withCORS := c.Handler(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/userinfo":
			w.Header().Set("Cache-Control", "no-store")
			w.Header().Set("Pragma", "no-cache")
			w = &challengeWriter{ResponseWriter: w, challenge: bearerChallenge(r)}
		case r.URL.Path == "/oauth/token" || r.URL.Path == "/oauth/introspect" || r.URL.Path == "/revoke":
			w.Header().Set("Cache-Control", "no-store")
			w.Header().Set("Pragma", "no-cache")
			w = &challengeWriter{ResponseWriter: w, challenge: `Basic realm="dancu", charset="UTF-8"`}
		case strings.HasPrefix(r.URL.Path, "/authorize") || r.URL.Path == s.loginPath || strings.HasPrefix(r.URL.Path, s.loginPath+"/"):
			w = &issWriter{ResponseWriter: w, s: s}
		}
		if isPublicAPI(r.URL.Path) {
			withCORS.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func bearerChallenge(r *http.Request) string {
	if strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
		return `Bearer realm="dancu", error="invalid_token", error_description="the access token is invalid, revoked or expired"`
	}
	return `Bearer realm="dancu"`
}

// challengeWriter adds a WWW-Authenticate challenge to a 401.
type challengeWriter struct {
	http.ResponseWriter
	challenge string
}

func (c *challengeWriter) WriteHeader(status int) {
	if status == http.StatusUnauthorized && c.Header().Get("WWW-Authenticate") == "" {
		c.Header().Set("WWW-Authenticate", c.challenge)
	}
	c.ResponseWriter.WriteHeader(status)
}

// issWriter adds iss (RFC 9207) to a redirect to a relying party: any
// redirect that does not stay within the provider's login and authorize
// endpoints.
type issWriter struct {
	http.ResponseWriter
	s *Service
}

func (iw *issWriter) WriteHeader(status int) {
	if status == http.StatusFound || status == http.StatusSeeOther {
		if loc := iw.Header().Get("Location"); loc != "" && !iw.s.internalLocation(loc) {
			if u, err := url.Parse(loc); err == nil && u.IsAbs() {
				q := u.Query()
				if !q.Has("iss") {
					q.Set("iss", iw.s.issuer)
					u.RawQuery = q.Encode()
					iw.Header().Set("Location", u.String())
				}
			}
		}
	}
	iw.ResponseWriter.WriteHeader(status)
}

func (s *Service) internalLocation(loc string) bool {
	for _, p := range []string{s.loginPath, "/authorize"} {
		if strings.HasPrefix(loc, p) || strings.HasPrefix(loc, s.issuer+p) {
			return true
		}
	}
	return false
}

// userinfo refuses an access token in the query (RFC 9700 §2.4.2: it ends
// up in logs and Referer headers), then passes to op.
func (s *Service) userinfo(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Has("access_token") {
		w.Header().Set("WWW-Authenticate", `Bearer realm="dancu", error="invalid_request", error_description="send the access token in the Authorization header"`)
		httphelper.MarshalJSONWithStatus(w, oidc.ErrInvalidRequest().WithDescription("access tokens are not accepted in the query: use the Authorization header"), http.StatusBadRequest)
		return
	}
	s.provider.ServeHTTP(w, r)
}

// assertionChecked checks a private_key_jwt client assertion of a
// revocation or introspection request (jti, iss = sub) before op.
func (s *Service) assertionChecked(w http.ResponseWriter, r *http.Request) {
	if r.ParseForm() == nil && (r.PostForm.Has("client_assertion") || r.PostForm.Has("client_assertion_type")) {
		if _, err := s.checkAssertion(r.Context(), r.PostForm); err != nil {
			op.RequestError(w, r, err, s.log)
			return
		}
	}
	s.provider.ServeHTTP(w, r)
}

type algKey struct{}

// token serves the token endpoint: the grants offered (authorization code,
// refresh token, client credentials), client assertions checked first,
// and the tokens signed with the client's algorithm.
func (s *Service) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		op.RequestError(w, r, oidc.ErrInvalidRequest().WithDescription("unreadable form"), s.log)
		return
	}
	grant := oidc.GrantType(r.PostForm.Get("grant_type"))
	switch grant {
	case oidc.GrantTypeCode, oidc.GrantTypeRefreshToken, oidc.GrantTypeClientCredentials:
	case "":
		op.RequestError(w, r, oidc.ErrInvalidRequest().WithDescription("grant_type missing"), s.log)
		return
	default:
		op.RequestError(w, r, oidc.ErrUnsupportedGrantType().WithDescription("%s is not supported", grant), s.log)
		return
	}
	ctx := op.ContextWithIssuer(r.Context(), s.issuer)
	clientID := r.PostForm.Get("client_id")
	if u, _, ok := r.BasicAuth(); ok {
		clientID, _ = url.QueryUnescape(u)
	}
	var ex op.Exchanger = s.provider
	if r.PostForm.Has("client_assertion") || r.PostForm.Has("client_assertion_type") {
		a, err := s.checkAssertion(ctx, r.PostForm)
		if err != nil {
			op.RequestError(w, r, err, s.log)
			return
		}
		clientID, ex = a.clientID, assertionExchanger{Provider: s.provider, aud: a.aud}
		if grant == oidc.GrantTypeClientCredentials {
			s.assertionClientCredentials(w, r.WithContext(ctx), a.clientID)
			return
		}
	}
	if c, err := s.client(ctx, clientID); err == nil {
		ctx = context.WithValue(ctx, algKey{}, c.idTokenAlg())
	}
	op.Exchange(w, r.WithContext(ctx), ex)
}

// assertionClientCredentials issues a client-credentials token to a
// client that authenticated with private_key_jwt (RFC 7523 client
// assertion), which op offers only for the code flow.
func (s *Service) assertionClientCredentials(w http.ResponseWriter, r *http.Request, id string) {
	ctx := r.Context()
	c, err := s.client(ctx, id)
	if err != nil || c.AuthMethod() != oidc.AuthMethodPrivateKeyJWT || !c.hasGrant(oidc.GrantTypeClientCredentials) {
		op.RequestError(w, r, oidc.ErrUnauthorizedClient().WithDescription("this client may not use client credentials with private_key_jwt"), s.log)
		return
	}
	ctx = context.WithValue(ctx, algKey{}, c.idTokenAlg())
	treq, err := s.ClientCredentialsTokenRequest(ctx, id, strings.Fields(r.PostForm.Get("scope")))
	if err != nil {
		op.RequestError(w, r, err, s.log)
		return
	}
	resp, err := op.CreateClientCredentialsTokenResponse(ctx, treq, s.provider, c)
	if err != nil {
		op.RequestError(w, r, err, s.log)
		return
	}
	httphelper.MarshalJSON(w, resp)
}

// discovery is op's discovery document, corrected to what the provider
// actually does: only the code flow (no implicit, no id_token response
// type, no JWT bearer grant, no device flow), only query responses with
// iss (RFC 9207), RS256 and ES256 ID tokens, the assurance levels, prompt
// values and back-channel logout with sid.
func (s *Service) discovery(w http.ResponseWriter, r *http.Request) {
	ctx := op.ContextWithIssuer(r.Context(), s.issuer)
	d := op.CreateDiscoveryConfig(ctx, s.provider, s)
	d.ResponseTypesSupported = []string{string(oidc.ResponseTypeCode)}
	d.ResponseModesSupported = []string{string(oidc.ResponseModeQuery)}
	d.GrantTypesSupported = []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken, oidc.GrantTypeClientCredentials}
	d.DeviceAuthorizationEndpoint, d.CheckSessionIframe = "", ""
	d.ACRValuesSupported = []string{ACRLevel1, ACRLevel2}
	d.IDTokenSigningAlgValuesSupported = []string{"RS256", "ES256"}
	d.TokenEndpointAuthSigningAlgValuesSupported = []string{"ES256", "ES384", "RS256", "PS256"}
	d.IntrospectionEndpointAuthSigningAlgValuesSupported = d.TokenEndpointAuthSigningAlgValuesSupported
	d.RevocationEndpointAuthSigningAlgValuesSupported = d.TokenEndpointAuthSigningAlgValuesSupported
	d.RequestObjectSigningAlgValuesSupported, d.RequestParameterSupported = nil, false
	d.CodeChallengeMethodsSupported = []oidc.CodeChallengeMethod{oidc.CodeChallengeMethodS256}
	d.BackChannelLogoutSupported, d.BackChannelLogoutSessionSupported = true, true
	b, err := json.Marshal(d)
	if err != nil {
		op.RequestError(w, r, err, s.log)
		return
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		op.RequestError(w, r, err, s.log)
		return
	}
	m["authorization_response_iss_parameter_supported"] = true
	m["request_uri_parameter_supported"] = false
	m["claims_parameter_supported"] = false
	m["prompt_values_supported"] = []string{"none", "login", "consent", "select_account"}
	w.Header().Set("Cache-Control", "public, max-age=300")
	httphelper.MarshalJSON(w, m)
}
