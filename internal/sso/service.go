package sso

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"

	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/eid"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/keyring"
	"github.com/dancu-vn/dancu/internal/registry"
	"github.com/dancu-vn/dancu/internal/sqldb"
)

// Config configures the provider.
type Config struct {
	// Issuer is the provider's public URL, e.g. https://id.dancu.vn
	// (serve's --public-url). Required: the issuer never comes from a
	// request's Host header.
	Issuer string
	// DataKey seals the signing keys and derives the key that protects
	// authorization codes.
	DataKey []byte
	// Insecure allows an http issuer (development on 127.0.0.1).
	Insecure bool
	// SessionIdle ends a single sign-on session not used for this long;
	// default DefaultSessionIdle.
	SessionIdle time.Duration
	// SessionMax ends a single sign-on session this long after its login,
	// used or not; default DefaultSessionMax.
	SessionMax time.Duration
	// HTTPClient delivers back-channel logout tokens; default a client
	// with a 5-second timeout that follows no redirects.
	HTTPClient *http.Client
}

// LoginPath is where the login and consent pages are served.
const LoginPath = "/login"

// Service is the OpenID provider: op's storage and the pages.
type Service struct {
	db        *sqldb.DB
	eid       *eid.Service
	registry  *registry.Service
	keys      *keyring.Ring // ES256
	rsaKeys   *keyring.Ring // RS256
	now       func() time.Time
	log       *slog.Logger
	loginPath string
	provider  *op.Provider
	pages     *pages
	issuer    string
	clients   clientCache
	// secureCookies: the issuer is https, so cookies are Secure (and the
	// session cookie __Host- prefixed).
	secureCookies           bool
	sessionIdle, sessionMax time.Duration
	httpClient              *http.Client
	background              sync.WaitGroup
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
	u, err := url.Parse(cfg.Issuer)
	if cfg.Issuer == "" || err != nil || !u.IsAbs() || u.Host == "" {
		return nil, errs.E(errs.Invalid, "the OpenID issuer must be an absolute URL (the public URL), got %q", cfg.Issuer)
	}
	sealer, err := eid.NewSealer(cfg.DataKey)
	if err != nil {
		return nil, err
	}
	s := &Service{db: db, eid: e, registry: reg, keys: keyring.New(db, sealer, "oidc_signing_key", KeyRotation, keyOverlap),
		rsaKeys: keyring.NewRSA(db, sealer, "oidc_rsa_signing_key", KeyRotation, keyOverlap), now: now, log: log, loginPath: LoginPath,
		issuer: strings.TrimSuffix(cfg.Issuer, "/"), secureCookies: u.Scheme == "https", sessionIdle: cfg.SessionIdle, sessionMax: cfg.SessionMax,
		httpClient: cfg.HTTPClient}
	if s.sessionIdle <= 0 {
		s.sessionIdle = DefaultSessionIdle
	}
	if s.sessionMax <= 0 {
		s.sessionMax = DefaultSessionMax
	}
	if s.httpClient == nil {
		s.httpClient = &http.Client{Timeout: backchannelTimeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
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
	issuer := op.StaticIssuer(s.issuer)
	noCORSOpts := noCORS
	opts := []op.Option{op.WithLogger(log), op.WithCORSOptions(&noCORSOpts)}
	if cfg.Insecure {
		opts = append(opts, op.WithAllowInsecure())
	}
	if s.provider, err = op.NewProvider(opCfg, s, issuer, opts...); err != nil {
		return nil, fmt.Errorf("openid provider: %w", err)
	}
	if s.pages, err = newPages(); err != nil {
		return nil, err
	}
	// "Log out everywhere" and a lock end the provider's sessions too, and
	// the relying parties hear of it by back-channel logout.
	e.OnSessionsEnded(s.endSessionsOf)
	return s, nil
}

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

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
