package sso

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/errs"
)

// AuthenticateCitizen turns an access token this provider issued to a
// citizen's login into the citizen as actor, for the citizens' API: the
// signature must verify with a published key, the token must be unexpired,
// not revoked, and the login not ended by "log out everywhere".
func (s *Service) AuthenticateCitizen(ctx context.Context, token string) (*actor.Actor, error) {
	a, _, err := s.Authenticate(ctx, token)
	if err == nil && a == nil {
		err = errs.E(errs.Unauthenticated, "the token is not valid: log in again")
	}
	return a, err
}

// Authenticate checks an access token this provider issued: a citizen's
// token gives the citizen; a client-credentials token gives the client's
// ID (for the exchange hub to map to an agency), if the client is an
// active service client and the token was not revoked.
func (s *Service) Authenticate(ctx context.Context, token string) (*actor.Actor, string, error) {
	a, client, err := s.authenticate(ctx, token)
	if err != nil {
		return nil, "", err
	}
	return a, client, nil
}

func (s *Service) authenticate(ctx context.Context, token string) (*actor.Actor, string, error) {
	bad := errs.E(errs.Unauthenticated, "the token is not valid: log in again")
	if strings.Count(token, ".") != 2 {
		return nil, "", bad
	}
	sum := sha256.Sum256([]byte(token))
	if client, ok := s.serviceTokens.get(sum, s.clock()); ok {
		return nil, client, nil
	}
	sig, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{jose.ES256, jose.RS256})
	if err != nil || len(sig.Signatures) != 1 {
		return nil, "", bad
	}
	_, keys, err := s.ring(jose.SignatureAlgorithm(sig.Signatures[0].Header.Algorithm)).Current(ctx, s.clock())
	if err != nil {
		return nil, "", err
	}
	kid := sig.Signatures[0].Header.KeyID
	for _, k := range keys {
		if k.ID() != kid {
			continue
		}
		payload, err := sig.Verify(k.Public())
		if err != nil {
			return nil, "", bad
		}
		var claims struct {
			JTI      string `json:"jti"`
			Sub      string `json:"sub"`
			ClientID string `json:"client_id"`
			Exp      int64  `json:"exp"`
		}
		if json.Unmarshal(payload, &claims) != nil || claims.JTI == "" || time.Unix(claims.Exp, 0).Before(s.clock()) {
			return nil, "", bad
		}
		if claims.Sub != claims.ClientID { // a client's own token has the client as subject
			if t, err := s.accessToken(ctx, claims.JTI, claims.Sub); err == nil {
				return &actor.Actor{ID: t.pid, Kind: actor.Citizen, Name: t.pid, TokenID: claims.JTI}, "", nil
			}
		}
		// A client-credentials token: its subject is the client.
		c, err := s.client(ctx, claims.Sub)
		if err != nil || c.AppType != "service" {
			return nil, "", bad
		}
		var revoked int
		if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM oidc_revoked_token WHERE id = $1`, claims.JTI).Scan(&revoked); err != nil {
			return nil, "", err
		}
		if revoked > 0 {
			return nil, "", bad
		}
		s.serviceTokens.put(sum, c.ID, time.Unix(claims.Exp, 0), s.clock())
		return nil, c.ID, nil
	}
	return nil, "", bad
}

// serviceTokenTTL is how long a checked client-credentials token is taken
// as valid without checking it again (signature, client, revocation): an
// agency sends thousands of calls a second with one token. A revoked token
// or a disabled client stops working within this time, as with clients.
const serviceTokenTTL = clientCacheTTL

// tokenCache keeps recently checked client-credentials tokens by their
// SHA-256.
type tokenCache struct {
	mu sync.RWMutex
	m  map[[32]byte]cachedToken
}

type cachedToken struct {
	client         string
	checked, until time.Time
}

func (c *tokenCache) get(sum [32]byte, now time.Time) (string, bool) {
	c.mu.RLock()
	hit, ok := c.m[sum]
	c.mu.RUnlock()
	if !ok || now.Sub(hit.checked) >= serviceTokenTTL || !now.Before(hit.until) {
		return "", false
	}
	return hit.client, true
}

func (c *tokenCache) put(sum [32]byte, client string, until, now time.Time) {
	c.mu.Lock()
	if c.m == nil || len(c.m) > 10000 {
		c.m = map[[32]byte]cachedToken{}
	}
	c.m[sum] = cachedToken{client: client, checked: now, until: until}
	c.mu.Unlock()
}
