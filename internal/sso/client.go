// Package sso is the OpenID provider: single sign-on for public-service
// portals and other relying parties with the citizens' e-ID accounts, and
// client credentials for agencies. The protocol is zitadel's op package;
// this package is its storage (clients, login transactions, tokens,
// consents, signing keys in the database) and the login and consent pages.
package sso

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/audit"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/sqldb"
)

// The assurance levels as acr values.
const (
	ACRLevel1 = "urn:dancu:loa:1" // VNeID level 1
	ACRLevel2 = "urn:dancu:loa:2" // VNeID level 2
)

// ACR is the acr value of an e-ID level.
func ACR(level int) string {
	if level >= 2 {
		return ACRLevel2
	}
	return ACRLevel1
}

// Scopes a client may be allowed, beyond openid and offline_access.
var knownScopes = []string{oidc.ScopeOpenID, oidc.ScopeOfflineAccess, oidc.ScopeProfile, oidc.ScopeEmail, oidc.ScopePhone, oidc.ScopeAddress, ScopePID}

// ScopePID asks for the personal ID number (claim "pid").
const ScopePID = "pid"

// NewClient is what an administrator registers.
type NewClient struct {
	ID           string   `json:"id" pattern:"^[a-z0-9][a-z0-9._-]{2,63}$" doc:"Client ID, e.g. dichvucong"`
	Name         string   `json:"name" maxLength:"200" doc:"Shown on the consent page"`
	Type         string   `json:"type" enum:"web,native,service" doc:"web: a server-side portal (confidential); native: an app or single-page site (public, PKCE); service: an agency system using client credentials"`
	AuthMethod   string   `json:"auth_method,omitempty" enum:"client_secret_basic,client_secret_post,private_key_jwt,none" doc:"Default: none for native, client_secret_basic otherwise"`
	RedirectURIs []string `json:"redirect_uris,omitempty" maxItems:"20"`
	LogoutURIs   []string `json:"post_logout_redirect_uris,omitempty" maxItems:"20"`
	Scopes       []string `json:"scopes,omitempty" doc:"Scopes it may ask for: profile, email, phone, address, pid, offline_access (openid always)"`
	MinLevel     int      `json:"min_level,omitempty" minimum:"0" maximum:"2" doc:"The e-ID level its logins need: 1 (default) or 2"`
	JWKS         string   `json:"jwks,omitempty" maxLength:"20000" doc:"For private_key_jwt: the client's public keys as a JSON Web Key Set"`
	IDTokenAlg   string   `json:"id_token_signed_response_alg,omitempty" enum:"RS256,ES256" doc:"How its ID tokens (and access tokens) are signed. Default: RS256 for web and native clients, ES256 for services"`
	Backchannel  string   `json:"backchannel_logout_uri,omitempty" maxLength:"2000" doc:"Where a logout token is POSTed when a citizen's single sign-on session ends (OpenID Connect Back-Channel Logout 1.0)"`
}

// Client is a registered relying party.
type Client struct {
	ID           string   `json:"id"`
	Name         string   `json:"name"`
	AuthMethodV  string   `json:"auth_method"`
	AppType      string   `json:"type"`
	RedirectURIv []string `json:"redirect_uris"`
	LogoutURIs   []string `json:"post_logout_redirect_uris"`
	Grants       []string `json:"grant_types"`
	Scopes       []string `json:"scopes"`
	MinLevel     int      `json:"min_level"`
	IDTokenAlg   string   `json:"id_token_signed_response_alg"`
	// BackchannelURI receives logout tokens.
	BackchannelURI string    `json:"backchannel_logout_uri,omitempty"`
	Disabled       bool      `json:"disabled"`
	CreatedAt      time.Time `json:"created_at"`
	secretHash     string
	jwks           string
	loginPath      string
}

var clientIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{2,63}$`)

// CreateClient registers a relying party and returns it with its secret
// (shown once; only its hash is kept). Secrets are 256 random bits, so a
// fast hash protects them as well as a slow one would. Administrators only.
func (s *Service) CreateClient(ctx context.Context, in NewClient) (Client, string, error) {
	if _, err := access.Require(ctx, access.ManageOfficers); err != nil {
		return Client{}, "", err
	}
	c, err := s.checkClient(in)
	if err != nil {
		return Client{}, "", err
	}
	secret := ""
	if c.AuthMethodV == string(oidc.AuthMethodBasic) || c.AuthMethodV == string(oidc.AuthMethodPost) {
		b := make([]byte, 32)
		rand.Read(b)
		secret = base64.RawURLEncoding.EncodeToString(b)
		c.secretHash = hashSecret(secret)
	}
	return c, secret, s.insertClient(ctx, &c)
}

// EnsureClient registers or updates, with the secret given, a relying
// party the platform runs itself (the citizen portal): its secret is
// derived from the data key at each start, so only its hash is ever
// stored, and its addresses follow the public URL. The system only.
func (s *Service) EnsureClient(ctx context.Context, in NewClient, secret string) error {
	if a, ok := actor.From(ctx); !ok || a.Kind != actor.System {
		return errs.E(errs.Forbidden, "only the platform registers its own clients")
	}
	c, err := s.checkClient(in)
	if err != nil {
		return err
	}
	c.secretHash = hashSecret(secret)
	// Every column is set again; an operator's disabling stays. A change
	// is recorded; a start that changes nothing writes nothing.
	updated := false
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE oidc_client SET name = $1, secret_hash = $2, auth_method = $3, app_type = $4, redirect_uris = $5,
			post_logout_uris = $6, grant_types = $7, scopes = $8, min_level = $9, jwks = $10, id_token_alg = $11, backchannel_logout_uri = $12
			WHERE id = $13 AND NOT (name = $1 AND secret_hash = $2 AND auth_method = $3 AND app_type = $4 AND redirect_uris = $5 AND post_logout_uris = $6
			AND grant_types = $7 AND scopes = $8 AND min_level = $9 AND jwks = $10 AND id_token_alg = $11 AND backchannel_logout_uri = $12)`,
			c.Name, c.secretHash, c.AuthMethodV, c.AppType, jsonList(c.RedirectURIv), jsonList(c.LogoutURIs), jsonList(c.Grants), jsonList(c.Scopes),
			c.MinLevel, c.jwks, c.IDTokenAlg, c.BackchannelURI, c.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			updated = true
			return audit.WriteTx(ctx, tx, audit.NewEvent(ctx, s.clock(), "oidc_client_update", "", c.ID))
		}
		return nil
	})
	if err != nil {
		return err
	}
	if updated {
		s.forgetClient(c.ID)
		return nil
	}
	var exists bool
	if err := s.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM oidc_client WHERE id = $1)`, c.ID).Scan(&exists); err != nil || exists {
		return err
	}
	return s.insertClient(ctx, &c)
}

// checkClient validates a new client's registration.
func (s *Service) checkClient(in NewClient) (Client, error) {
	var f errs.Fields
	if !clientIDPattern.MatchString(in.ID) {
		f.Add("id", "must be 3–64 characters: lower-case letters, digits, '.', '_' or '-'")
	}
	if strings.TrimSpace(in.Name) == "" {
		f.Add("name", "is required")
	}
	c := Client{ID: in.ID, Name: strings.TrimSpace(in.Name), MinLevel: max(in.MinLevel, 1), RedirectURIv: in.RedirectURIs, LogoutURIs: in.LogoutURIs,
		AuthMethodV: in.AuthMethod, jwks: in.JWKS, IDTokenAlg: in.IDTokenAlg, BackchannelURI: in.Backchannel}
	switch in.Type {
	case "web":
		c.AppType, c.Grants = "web", []string{string(oidc.GrantTypeCode), string(oidc.GrantTypeRefreshToken)}
		if c.AuthMethodV == "" {
			c.AuthMethodV = string(oidc.AuthMethodBasic)
		}
	case "native":
		c.AppType, c.Grants = "native", []string{string(oidc.GrantTypeCode), string(oidc.GrantTypeRefreshToken)}
		if c.AuthMethodV == "" {
			c.AuthMethodV = string(oidc.AuthMethodNone)
		}
		if c.AuthMethodV != string(oidc.AuthMethodNone) {
			f.Add("auth_method", "must be none for a native client (it cannot keep a secret; PKCE protects it)")
		}
	case "service":
		c.AppType, c.Grants = "service", []string{string(oidc.GrantTypeClientCredentials)}
		if c.AuthMethodV == "" {
			c.AuthMethodV = string(oidc.AuthMethodBasic)
		}
		if c.AuthMethodV == string(oidc.AuthMethodNone) {
			f.Add("auth_method", "a service must authenticate: client_secret_basic, client_secret_post or private_key_jwt")
		}
	default:
		f.Add("type", "must be web, native or service")
	}
	switch oidc.AuthMethod(c.AuthMethodV) {
	case oidc.AuthMethodBasic, oidc.AuthMethodPost, oidc.AuthMethodNone:
	case oidc.AuthMethodPrivateKeyJWT:
		var set jose.JSONWebKeySet
		if err := json.Unmarshal([]byte(in.JWKS), &set); err != nil || len(set.Keys) == 0 {
			f.Add("jwks", "must be a JSON Web Key Set with at least one public key for private_key_jwt")
		}
		for i, k := range set.Keys {
			if !k.IsPublic() || k.KeyID == "" {
				f.Add(fmt.Sprintf("jwks.keys[%d]", i), "must be a public key with a kid")
			}
		}
	default:
		f.Add("auth_method", "must be client_secret_basic, client_secret_post, private_key_jwt or none")
	}
	switch c.IDTokenAlg {
	case "":
		c.IDTokenAlg = string(jose.RS256)
		if c.AppType == "service" {
			c.IDTokenAlg = string(jose.ES256)
		}
	case string(jose.RS256), string(jose.ES256):
	default:
		f.Add("id_token_signed_response_alg", "must be RS256 or ES256")
	}
	if c.BackchannelURI != "" {
		if p, err := url.Parse(c.BackchannelURI); err != nil || p.Host == "" || p.Fragment != "" || (p.Scheme != "https" && !(p.Scheme == "http" && isLoopback(p.Hostname()))) {
			f.Add("backchannel_logout_uri", "must be an absolute https URL without a fragment (http only for 127.0.0.1 or localhost)")
		} else if c.AppType == "service" {
			f.Add("backchannel_logout_uri", "a service client has no citizens' logins to end")
		}
	}
	if c.AppType != "service" && len(in.RedirectURIs) == 0 {
		f.Add("redirect_uris", "at least one is required")
	}
	for i, u := range append(slices.Clone(in.RedirectURIs), in.LogoutURIs...) {
		field := fmt.Sprintf("redirect_uris[%d]", i)
		if i >= len(in.RedirectURIs) {
			field = fmt.Sprintf("post_logout_redirect_uris[%d]", i-len(in.RedirectURIs))
		}
		p, err := url.Parse(u)
		if err != nil || p.Scheme == "" || p.Host == "" || p.Fragment != "" {
			f.Add(field, "must be an absolute URL without a fragment")
		} else if p.Scheme != "https" && !isLoopback(p.Hostname()) && c.AppType != "native" {
			f.Add(field, "must use https (http only for 127.0.0.1 or localhost)")
		}
	}
	c.Scopes = []string{oidc.ScopeOpenID}
	for i, sc := range in.Scopes {
		if !slices.Contains(knownScopes, sc) {
			f.Add(fmt.Sprintf("scopes[%d]", i), "%q is not one of %s", sc, strings.Join(knownScopes, ", "))
		} else if !slices.Contains(c.Scopes, sc) {
			c.Scopes = append(c.Scopes, sc)
		}
	}
	if in.MinLevel < 0 || in.MinLevel > 2 {
		f.Add("min_level", "must be 1 or 2")
	}
	return c, f.Err()
}

// insertClient stores a checked client.
func (s *Service) insertClient(ctx context.Context, c *Client) error {
	c.CreatedAt = s.clock()
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO oidc_client (id, name, secret_hash, auth_method, app_type, redirect_uris, post_logout_uris,
			grant_types, scopes, min_level, jwks, disabled, created_at, id_token_alg, backchannel_logout_uri) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,false,$12,$13,$14)`,
			c.ID, c.Name, c.secretHash, c.AuthMethodV, c.AppType, jsonList(c.RedirectURIv), jsonList(c.LogoutURIs), jsonList(c.Grants),
			jsonList(c.Scopes), c.MinLevel, c.jwks, c.CreatedAt, c.IDTokenAlg, c.BackchannelURI)
		if err != nil {
			if sqldb.IsUniqueViolation(err) {
				return errs.Field("id", "a client %s exists already", c.ID)
			}
			return err
		}
		return audit.WriteTx(ctx, tx, audit.NewEvent(ctx, c.CreatedAt, "oidc_client_create", "", c.ID))
	})
}

func isLoopback(host string) bool { return host == "127.0.0.1" || host == "localhost" || host == "::1" }

func hashSecret(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func jsonList(v []string) string {
	if v == nil {
		v = []string{}
	}
	b, _ := json.Marshal(v)
	return string(b)
}

const clientColumns = `id, name, secret_hash, auth_method, app_type, redirect_uris, post_logout_uris, grant_types, scopes, min_level, jwks, disabled, created_at,
	id_token_alg, backchannel_logout_uri`

func scanClient(row interface{ Scan(...any) error }) (*Client, error) {
	var c Client
	var redirect, logout, grants, scopes string
	if err := row.Scan(&c.ID, &c.Name, &c.secretHash, &c.AuthMethodV, &c.AppType, &redirect, &logout, &grants, &scopes, &c.MinLevel,
		&c.jwks, &c.Disabled, &c.CreatedAt, &c.IDTokenAlg, &c.BackchannelURI); err != nil {
		return nil, err
	}
	for _, p := range []struct {
		s   string
		dst *[]string
	}{{redirect, &c.RedirectURIv}, {logout, &c.LogoutURIs}, {grants, &c.Grants}, {scopes, &c.Scopes}} {
		if err := json.Unmarshal([]byte(p.s), p.dst); err != nil {
			return nil, err
		}
	}
	c.CreatedAt = c.CreatedAt.UTC()
	return &c, nil
}

// Clients lists the relying parties. Administrators only.
func (s *Service) Clients(ctx context.Context) ([]Client, error) {
	if _, err := access.Require(ctx, access.ManageOfficers); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+clientColumns+` FROM oidc_client ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Client
	for rows.Next() {
		c, err := scanClient(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *c)
	}
	return out, rows.Err()
}

// clientCacheTTL is how long a client read from the store is reused: a
// token request looks its client up two or three times, and agencies ask
// for thousands of tokens a second. A disabled client stops working within
// this time.
const clientCacheTTL = 5 * time.Second

type cachedClient struct {
	c    *Client
	read time.Time
}

// clientCache keeps recently read clients.
type clientCache struct {
	mu sync.RWMutex
	m  map[string]cachedClient
}

func (s *Service) client(ctx context.Context, id string) (*Client, error) {
	now := time.Now()
	s.clients.mu.RLock()
	hit, ok := s.clients.m[id]
	s.clients.mu.RUnlock()
	if ok && now.Sub(hit.read) < clientCacheTTL {
		c := *hit.c
		return &c, nil
	}
	c, err := s.readClient(ctx, id)
	if err != nil {
		return nil, err
	}
	s.clients.mu.Lock()
	if s.clients.m == nil || len(s.clients.m) > 10000 {
		s.clients.m = map[string]cachedClient{}
	}
	s.clients.m[id] = cachedClient{c: c, read: now}
	s.clients.mu.Unlock()
	cp := *c
	return &cp, nil
}

func (s *Service) readClient(ctx context.Context, id string) (*Client, error) {
	c, err := scanClient(s.db.QueryRowContext(ctx, `SELECT `+clientColumns+` FROM oidc_client WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("unknown client %q", id)
	}
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	if c.Disabled {
		return nil, fmt.Errorf("client %q is disabled", id)
	}
	c.loginPath = s.loginPath
	return c, nil
}

// checkSecret compares a presented secret with the stored hash.
func (c *Client) checkSecret(secret string) bool {
	return c.secretHash != "" && subtle.ConstantTimeCompare([]byte(hashSecret(secret)), []byte(c.secretHash)) == 1
}

// The op.Client interface.

func (c *Client) GetID() string                    { return c.ID }
func (c *Client) RedirectURIs() []string           { return c.RedirectURIv }
func (c *Client) PostLogoutRedirectURIs() []string { return c.LogoutURIs }
func (c *Client) ApplicationType() op.ApplicationType {
	switch c.AppType {
	case "native":
		return op.ApplicationTypeNative
	case "user_agent":
		return op.ApplicationTypeUserAgent
	}
	return op.ApplicationTypeWeb
}
func (c *Client) AuthMethod() oidc.AuthMethod { return oidc.AuthMethod(c.AuthMethodV) }
func (c *Client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (c *Client) GrantTypes() []oidc.GrantType {
	out := make([]oidc.GrantType, len(c.Grants))
	for i, g := range c.Grants {
		out[i] = oidc.GrantType(g)
	}
	return out
}
func (c *Client) LoginURL(id string) string            { return c.loginPath + "?id=" + url.QueryEscape(id) }
func (c *Client) AccessTokenType() op.AccessTokenType  { return op.AccessTokenTypeJWT }
func (c *Client) IDTokenLifetime() time.Duration       { return 10 * time.Minute }
func (c *Client) DevMode() bool                        { return false }
func (c *Client) IDTokenUserinfoClaimsAssertion() bool { return false }
func (c *Client) ClockSkew() time.Duration             { return 0 }
func (c *Client) IsScopeAllowed(scope string) bool     { return slices.Contains(c.Scopes, scope) }
func (c *Client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *Client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

// idTokenAlg is how the client's tokens are signed; clients registered
// before the choice existed keep ES256.
func (c *Client) idTokenAlg() jose.SignatureAlgorithm {
	if c.IDTokenAlg == string(jose.RS256) {
		return jose.RS256
	}
	return jose.ES256
}

func (c *Client) hasGrant(g oidc.GrantType) bool { return slices.Contains(c.Grants, string(g)) }

// forgetClient drops a client from this process's cache after a change.
func (s *Service) forgetClient(id string) {
	s.clients.mu.Lock()
	delete(s.clients.m, id)
	s.clients.mu.Unlock()
}
