package sso

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	httphelper "github.com/zitadel/oidc/v3/pkg/http"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"

	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/eid"
	"github.com/dancu-vn/dancu/internal/keyring"
	"github.com/dancu-vn/dancu/internal/registry"
	"github.com/dancu-vn/dancu/internal/sqldb"
)

// Config configures the provider.
type Config struct {
	// Issuer is the provider's public URL, e.g. https://id.dancu.vn. Empty:
	// taken from each request's Host (for development and tests).
	Issuer string
	// DataKey seals the signing keys and derives the key that protects
	// authorization codes.
	DataKey []byte
	// Insecure allows an http issuer (development on 127.0.0.1).
	Insecure bool
}

// LoginPath is where the login and consent pages are served.
const LoginPath = "/login"

// Service is the OpenID provider: op's storage and the pages.
type Service struct {
	db        *sqldb.DB
	eid       *eid.Service
	registry  *registry.Service
	keys      *keyring.Ring
	now       func() time.Time
	log       *slog.Logger
	loginPath string
	provider  *op.Provider
	pages     *pages
	issuer    string // fixed issuer, or "" for the request's host
	clients   clientCache
	// serviceTokens keeps client-credentials tokens recently checked.
	serviceTokens tokenCache
}

var _ op.Storage = (*Service)(nil)
var _ op.ClientCredentialsStorage = (*Service)(nil)
var _ op.CanSetUserinfoFromRequest = (*Service)(nil)

// New builds the provider.
func New(db *sqldb.DB, e *eid.Service, reg *registry.Service, cfg Config, log *slog.Logger, now func() time.Time) (*Service, error) {
	if now == nil {
		now = time.Now
	}
	sealer, err := eid.NewSealer(cfg.DataKey)
	if err != nil {
		return nil, err
	}
	s := &Service{db: db, eid: e, registry: reg, keys: keyring.New(db, sealer, "oidc_signing_key", KeyRotation, keyOverlap), now: now, log: log, loginPath: LoginPath, issuer: cfg.Issuer}
	opCfg := &op.Config{
		CryptoKey:               sha256.Sum256(append([]byte("dancu oidc codes|"), cfg.DataKey...)),
		CodeMethodS256:          true,
		AuthMethodPost:          true,
		AuthMethodPrivateKeyJWT: true,
		GrantTypeRefreshToken:   true,
		SupportedUILocales:      []language.Tag{language.Vietnamese, language.English},
		SupportedScopes:         knownScopes,
		SupportedClaims: []string{"sub", "aud", "exp", "iat", "iss", "auth_time", "nonce", "acr", "amr", "at_hash", "c_hash",
			"name", "family_name", "given_name", "middle_name", "birthdate", "gender", "address", "phone_number", "phone_number_verified",
			"email", "email_verified", "pid"},
	}
	issuer := op.IssuerFromHost("")
	if cfg.Issuer != "" {
		issuer = op.StaticIssuer(cfg.Issuer)
	}
	opts := []op.Option{op.WithLogger(log)}
	if cfg.Insecure {
		opts = append(opts, op.WithAllowInsecure())
	}
	if s.provider, err = op.NewProvider(opCfg, s, issuer, opts...); err != nil {
		return nil, fmt.Errorf("openid provider: %w", err)
	}
	if s.pages, err = newPages(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// Handler serves the protocol endpoints (discovery, authorize, token,
// userinfo, keys, revocation, introspection, end_session) and the pages.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle(LoginPath+"/", s.pageHandler())
	mux.Handle(LoginPath, s.pageHandler())
	mux.HandleFunc("POST /oauth/token", s.token)
	mux.Handle("/", s.provider)
	return mux
}

// token passes token requests to op, except client credentials
// authenticated with private_key_jwt (RFC 7523 client assertion), which op
// offers only for the code flow: those are verified here with op's own JWT
// profile verifier against the client's registered keys.
func (s *Service) token(w http.ResponseWriter, r *http.Request) {
	if r.ParseForm() != nil || r.PostForm.Get("grant_type") != string(oidc.GrantTypeClientCredentials) ||
		r.PostForm.Get("client_assertion_type") != oidc.ClientAssertionTypeJWTAssertion {
		s.provider.ServeHTTP(w, r)
		return
	}
	issuer := s.issuer
	if issuer == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		issuer = scheme + "://" + r.Host
	}
	ctx := op.ContextWithIssuer(r.Context(), issuer)
	id, err := op.ClientJWTAuth(ctx, oidc.ClientAssertionParams{ClientAssertion: r.PostForm.Get("client_assertion"),
		ClientAssertionType: oidc.ClientAssertionTypeJWTAssertion}, s.provider)
	if err != nil {
		op.RequestError(w, r, err, s.log)
		return
	}
	c, err := s.client(ctx, id)
	if err != nil || c.AuthMethod() != oidc.AuthMethodPrivateKeyJWT || !c.hasGrant(oidc.GrantTypeClientCredentials) {
		op.RequestError(w, r, oidc.ErrUnauthorizedClient().WithDescription("this client may not use client credentials with private_key_jwt"), s.log)
		return
	}
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

// fillClaims reads what the token's scopes allow from the registry, as the
// relying party's agent, so that the read is recorded.
func (s *Service) fillClaims(ctx context.Context, info *oidc.UserInfo, t accessToken) error {
	info.Subject = t.subject
	want := map[string]bool{}
	for _, sc := range t.scopes {
		want[sc] = true
	}
	if want[oidc.ScopeProfile] || want[oidc.ScopeAddress] {
		sys := actor.SystemActor("sso")
		sys.Name = "openid client " + t.clientID
		c, err := s.registry.Get(actor.With(ctx, sys), t.pid, "OpenID userinfo for "+t.clientID+", with the citizen's consent")
		if err != nil {
			return err
		}
		if want[oidc.ScopeProfile] {
			info.Name, info.FamilyName, info.GivenName, info.MiddleName = c.Name.Full(), c.Name.Family, c.Name.Given, c.Name.Middle
			info.Birthdate, info.Gender = c.BirthDate, oidc.Gender(c.Sex)
		}
		if want[oidc.ScopeAddress] && c.PermanentResidence != nil {
			info.Address = &oidc.UserInfoAddress{Formatted: c.PermanentResidence.Text, Country: "VN"}
		}
	}
	if want[oidc.ScopePhone] || want[oidc.ScopeEmail] {
		acc, err := s.eid.Account(actor.With(ctx, &actor.Actor{ID: t.pid, Kind: actor.Citizen, Name: t.pid}), t.pid)
		if err != nil {
			return err
		}
		if want[oidc.ScopePhone] {
			info.PhoneNumber, info.PhoneNumberVerified = acc.Phone, true
		}
		if want[oidc.ScopeEmail] && acc.Email != "" {
			info.Email, info.EmailVerified = acc.Email, false
		}
	}
	if want[ScopePID] {
		info.AppendClaims("pid", t.pid)
	}
	return nil
}
