package sso

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/google/uuid"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/dancu-vn/dancu/internal/eid"
	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

// assertionKey is a client's key pair for private_key_jwt.
type assertionKey struct {
	priv *ecdsa.PrivateKey
	jwks string
}

func newAssertionKey(t *testing.T) assertionKey {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	set, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &priv.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})
	return assertionKey{priv: priv, jwks: string(set)}
}

// sign makes a client assertion with these claims.
func (k assertionKey) sign(t *testing.T, c jwt.Claims) string {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: k.priv, KeyID: "k1"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jwt.Signed(signer).Claims(c).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func assertionClaims(client, aud string) jwt.Claims {
	now := time.Now()
	return jwt.Claims{Issuer: client, Subject: client, Audience: jwt.Audience{aud}, IssuedAt: jwt.NewNumericDate(now),
		Expiry: jwt.NewNumericDate(now.Add(time.Minute)), ID: uuid.NewString()}
}

func postAssertion(t *testing.T, base string, form url.Values, assertion string) (int, string) {
	t.Helper()
	form.Set("client_assertion_type", oidc.ClientAssertionTypeJWTAssertion)
	form.Set("client_assertion", assertion)
	res, err := http.PostForm(base+"/oauth/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestClientAssertionChecks: a private_key_jwt assertion needs a jti never
// used before (also at another server on the same database), iss = sub =
// client_id, and an audience that is the issuer or the token endpoint URL.
func TestClientAssertionChecks(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		s, _, srv := newServer(t, db, nil)
		key := newAssertionKey(t)
		if _, _, err := s.CreateClient(admin, NewClient{ID: "vss", Name: "Social insurance", Type: "service", AuthMethod: "private_key_jwt", JWKS: key.jwks}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.CreateClient(admin, NewClient{ID: "other", Name: "Other", Type: "service", AuthMethod: "private_key_jwt", JWKS: key.jwks}); err != nil {
			t.Fatal(err)
		}
		cc := func() url.Values { return url.Values{"grant_type": {"client_credentials"}, "scope": {"openid"}} }
		ok := key.sign(t, assertionClaims("vss", srv.URL))
		if status, body := postAssertion(t, srv.URL, cc(), ok); status != 200 || !strings.Contains(body, "access_token") {
			t.Fatalf("a good assertion: %d %s", status, body)
		}
		if status, _ := postAssertion(t, srv.URL, cc(), ok); status != 401 {
			t.Errorf("a replayed assertion (same jti): %d, want 401", status)
		}
		// Another server on the same database knows the jti too.
		replay := key.sign(t, assertionClaims("vss", srv.URL))
		s2, err := New(db, s.eid, s.registry, Config{Issuer: srv.URL, DataKey: make([]byte, 32), Insecure: true}, slog.New(slog.NewTextHandler(io.Discard, nil)), s.now)
		if err != nil {
			t.Fatal(err)
		}
		srv2 := httptest.NewServer(s2.Handler())
		defer srv2.Close()
		if status, _ := postAssertion(t, srv2.URL, cc(), replay); status != 200 {
			t.Fatalf("the assertion at the second server: %d", status)
		}
		if status, _ := postAssertion(t, srv.URL, cc(), replay); status != 401 {
			t.Errorf("an assertion replayed at another server of the database: %d, want 401", status)
		}
		noJTI := assertionClaims("vss", srv.URL)
		noJTI.ID = ""
		if status, _ := postAssertion(t, srv.URL, cc(), key.sign(t, noJTI)); status != 401 {
			t.Errorf("an assertion without jti: %d, want 401", status)
		}
		mixed := assertionClaims("vss", srv.URL)
		mixed.Subject = "other"
		if status, _ := postAssertion(t, srv.URL, cc(), key.sign(t, mixed)); status != 401 {
			t.Errorf("iss vss, sub other: %d, want 401", status)
		}
		form := cc()
		form.Set("client_id", "other")
		if status, _ := postAssertion(t, srv.URL, form, key.sign(t, assertionClaims("vss", srv.URL))); status != 401 {
			t.Errorf("client_id other, iss = sub = vss: %d, want 401", status)
		}
		long := assertionClaims("vss", srv.URL)
		long.Expiry = jwt.NewNumericDate(time.Now().Add(2 * time.Hour))
		if status, _ := postAssertion(t, srv.URL, cc(), key.sign(t, long)); status != 401 {
			t.Errorf("an assertion living two hours: %d, want 401", status)
		}
		if status, _ := postAssertion(t, srv.URL, cc(), key.sign(t, assertionClaims("vss", "https://elsewhere.example"))); status != 401 {
			t.Errorf("an assertion for another audience: %d, want 401", status)
		}
		if status, body := postAssertion(t, srv.URL, cc(), key.sign(t, assertionClaims("vss", srv.URL+"/oauth/token"))); status != 200 {
			t.Errorf("aud = the token endpoint URL (OIDC Core §9): %d %s", status, body)
		}
	})
}

// TestPrivateKeyJWTCodeFlow: a web client authenticating with
// private_key_jwt redeems its code with an assertion whose aud is the
// token endpoint URL; a replay of that assertion is refused.
func TestPrivateKeyJWTCodeFlow(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		s, _, srv := newServer(t, db, nil)
		pid := newCitizen(t, s, eid.Level1)
		key := newAssertionKey(t)
		webClient(t, s, NewClient{ID: "portal", AuthMethod: "private_key_jwt", JWKS: key.jwks})
		ag := newAgent(t, srv.URL)
		ag.login(ag.authorize("portal", nil), pid)
		assertion := key.sign(t, assertionClaims("portal", srv.URL+"/oauth/token"))
		form := url.Values{"grant_type": {"authorization_code"}, "code": {ag.code()}, "redirect_uri": {testRedirect}, "code_verifier": {pkceVerifier}}
		if status, body := postAssertion(t, srv.URL, form, assertion); status != 200 || !strings.Contains(body, "id_token") {
			t.Fatalf("code exchange with aud = token endpoint: %d %s", status, body)
		}
		ag.authorize("portal", nil)
		form.Set("code", ag.code())
		if status, _ := postAssertion(t, srv.URL, form, assertion); status != 401 {
			t.Errorf("a replayed assertion in the code flow: %d, want 401", status)
		}
	})
}
