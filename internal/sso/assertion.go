package sso

import (
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/dancu-vn/dancu/internal/sqldb"
)

// maxAssertionLifetime bounds a client assertion's lifetime (exp − iat),
// and so how long its jti is kept.
const maxAssertionLifetime = time.Hour

// assertionAlgs are the algorithms a client may sign assertions with.
var assertionAlgs = []jose.SignatureAlgorithm{jose.ES256, jose.ES384, jose.RS256, jose.PS256}

// checkedAssertion is a client assertion (RFC 7523 §3, OIDC Core §9) that
// passed every check: its client and the audience it named.
type checkedAssertion struct{ clientID, aud string }

// checkAssertion verifies a private_key_jwt client assertion before op
// sees it, for what op does not check: iss = sub = the client_id given
// (if any), a jti that was never accepted before (stored in the database
// until the assertion expires, so every server of one database agrees),
// a bounded lifetime, and an audience that is the issuer or the token
// endpoint URL.
func (s *Service) checkAssertion(ctx context.Context, form url.Values) (checkedAssertion, error) {
	bad := func(why string) (checkedAssertion, error) {
		return checkedAssertion{}, oidc.ErrInvalidClient().WithDescription("client assertion: %s", why)
	}
	if form.Get("client_assertion_type") != oidc.ClientAssertionTypeJWTAssertion {
		return bad("client_assertion_type must be " + oidc.ClientAssertionTypeJWTAssertion)
	}
	sig, err := jose.ParseSigned(form.Get("client_assertion"), assertionAlgs)
	if err != nil || len(sig.Signatures) != 1 {
		return bad("not a signed JWT")
	}
	var claims jwt.Claims
	if err := json.Unmarshal(sig.UnsafePayloadWithoutVerification(), &claims); err != nil {
		return bad("unreadable claims")
	}
	if claims.Issuer == "" || claims.Subject != claims.Issuer {
		return bad("iss and sub must both be the client_id")
	}
	if id := form.Get("client_id"); id != "" && id != claims.Issuer {
		return bad("client_id differs from the assertion's iss and sub")
	}
	c, err := s.client(ctx, claims.Issuer)
	if err != nil || c.AuthMethod() != oidc.AuthMethodPrivateKeyJWT {
		return bad("unknown client, or not registered for private_key_jwt")
	}
	key, err := s.GetKeyByIDAndClientID(ctx, sig.Signatures[0].Header.KeyID, c.ID)
	if err != nil {
		return bad("no registered key with this kid")
	}
	if _, err := sig.Verify(key.Key); err != nil {
		return bad("signature does not verify")
	}
	now := s.clock()
	if claims.Expiry == nil || !claims.Expiry.Time().After(now) {
		return bad("expired or without exp")
	}
	start := now
	if claims.IssuedAt != nil {
		start = claims.IssuedAt.Time()
	}
	if claims.Expiry.Time().Sub(start) > maxAssertionLifetime {
		return bad("lives longer than an hour")
	}
	if claims.NotBefore != nil && claims.NotBefore.Time().After(now.Add(time.Minute)) {
		return bad("not valid yet")
	}
	aud := ""
	for _, want := range []string{s.issuer, s.tokenEndpoint()} {
		if slices.Contains(claims.Audience, want) {
			aud = want
			break
		}
	}
	if aud == "" {
		return bad("aud must be the issuer or the token endpoint URL")
	}
	if claims.ID == "" {
		return bad("jti is required")
	}
	if _, err := s.db.ExecContext(ctx, `DELETE FROM oidc_client_assertion WHERE expires_at < $1`, now); err != nil {
		return checkedAssertion{}, oidc.ErrServerError().WithParent(err)
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO oidc_client_assertion (client_id, jti, expires_at) VALUES ($1, $2, $3)`, c.ID, claims.ID, claims.Expiry.Time())
	if sqldb.IsUniqueViolation(err) {
		return bad("this jti was used before (replay)")
	}
	if err != nil {
		return checkedAssertion{}, oidc.ErrServerError().WithParent(err)
	}
	return checkedAssertion{clientID: c.ID, aud: aud}, nil
}

func (s *Service) tokenEndpoint() string { return s.issuer + "/oauth/token" }

// assertionExchanger is op's provider for one token request whose client
// assertion checkAssertion accepted: op verifies the assertion again, with
// the audience it actually names (op would take only the issuer).
type assertionExchanger struct {
	*op.Provider
	aud string
}

func (e assertionExchanger) JWTProfileVerifier(context.Context) *op.JWTProfileVerifier {
	return op.NewJWTProfileVerifier(e.Storage(), e.aud, maxAssertionLifetime, time.Second)
}
