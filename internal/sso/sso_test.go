package sso

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/adminunit"
	"github.com/dancu-vn/dancu/internal/audit"
	"github.com/dancu-vn/dancu/internal/codelist"
	"github.com/dancu-vn/dancu/internal/eid"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/keyring"
	"github.com/dancu-vn/dancu/internal/registry"
	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
	"github.com/dancu-vn/dancu/internal/workday"
)

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newService(t *testing.T, db *sqldb.DB) (*Service, *clock) {
	t.Helper()
	s, clk, _ := newServer(t, db, nil)
	return s, clk
}

// newServer builds the provider with its issuer at a started test server
// that serves its handler; edit changes the configuration first.
func newServer(t *testing.T, db *sqldb.DB, edit func(*Config)) (*Service, *clock, *httptest.Server) {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	srv.Start()
	t.Cleanup(srv.Close)
	units, err := adminunit.Load()
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	// Near the real time: op checks some expiries (access tokens at
	// userinfo, client assertions) against the real clock.
	clk := &clock{t: time.Now().UTC().Truncate(time.Second)}
	policy := access.NewPolicy(units)
	rec := audit.NewRecorder(db, log)
	t.Cleanup(rec.Close)
	reg := registry.NewService(db, units, codelist.New(), policy, rec, clk.now)
	key := make([]byte, 32)
	sealer, _ := eid.NewSealer(key)
	e := eid.NewService(db, reg, policy, workday.Vietnam(), nil, sealer, clk.now)
	cfg := Config{Issuer: srv.URL, DataKey: key, Insecure: true}
	if edit != nil {
		edit(&cfg)
	}
	s, err := New(db, e, reg, cfg, log, clk.now)
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = s.Handler()
	t.Cleanup(s.Wait)
	return s, clk, srv
}

var admin = actor.With(context.Background(), actor.SystemActor("test"))

func TestCodeExpires(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		s, clk := newService(t, db)
		ctx := context.Background()
		if _, _, err := s.CreateClient(admin, NewClient{ID: "portal", Name: "Portal", Type: "native", RedirectURIs: []string{"http://127.0.0.1/cb"}}); err != nil {
			t.Fatal(err)
		}
		// A public client without PKCE is refused.
		if _, err := s.CreateAuthRequest(ctx, &oidc.AuthRequest{ClientID: "portal", RedirectURI: "http://127.0.0.1/cb", Scopes: []string{"openid"}}, ""); err == nil {
			t.Fatal("a public client's request without PKCE was accepted")
		}
		req := &oidc.AuthRequest{ClientID: "portal", RedirectURI: "http://127.0.0.1/cb", Scopes: []string{"openid"},
			CodeChallenge: "abc", CodeChallengeMethod: oidc.CodeChallengeMethodS256}
		ar, err := s.CreateAuthRequest(ctx, req, "")
		if err != nil {
			t.Fatal(err)
		}
		// No code before the login is done.
		if err := s.SaveAuthCode(ctx, ar.GetID(), "code-0"); err == nil {
			t.Fatal("a code was saved for an unfinished login")
		}
		if _, err := db.ExecContext(ctx, `UPDATE oidc_auth_request SET subject = 's', pid = '001090012345', done = true WHERE id = $1`, ar.GetID()); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveAuthCode(ctx, ar.GetID(), "code-1"); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveAuthCode(ctx, ar.GetID(), "code-2"); err == nil {
			t.Fatal("a second code was saved for one login")
		}
		if _, err := s.AuthRequestByCode(ctx, "code-1"); err != nil {
			t.Fatalf("fresh code: %v", err)
		}
		clk.add(CodeTTL + time.Second)
		if _, err := s.AuthRequestByCode(ctx, "code-1"); err == nil {
			t.Fatal("an expired code was accepted")
		}
		// An unfinished login request expires too.
		ar2, err := s.CreateAuthRequest(ctx, req, "")
		if err != nil {
			t.Fatal(err)
		}
		clk.add(AuthRequestTTL + time.Second)
		if _, err := s.AuthRequestByID(ctx, ar2.GetID()); err == nil {
			t.Fatal("an expired login request was found")
		}
	})
}

func TestSigningKeyRotation(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		s, clk := newService(t, db)
		ctx := context.Background()
		k1, err := s.SigningKey(ctx)
		if err != nil {
			t.Fatal(err)
		}
		ids := func() []string {
			keys, err := s.KeySet(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, k := range keys {
				if k.Algorithm() == jose.ES256 {
					out = append(out, k.ID())
				}
			}
			return out
		}
		if got := ids(); len(got) != 1 || got[0] != k1.ID() {
			t.Fatalf("key set %v, want [%s]", got, k1.ID())
		}
		// Rotation: the new key signs, the old one stays published.
		clk.add(KeyRotation)
		k2, err := s.SigningKey(ctx)
		if err != nil || k2.ID() == k1.ID() {
			t.Fatalf("after %s the signing key is still %s (%v)", KeyRotation, k1.ID(), err)
		}
		if got := ids(); len(got) != 2 || got[0] != k2.ID() || got[1] != k1.ID() {
			t.Fatalf("key set after rotation %v, want [%s %s]", got, k2.ID(), k1.ID())
		}
		// Until every token it signed has expired; then it is withdrawn.
		clk.add(keyOverlap + keyReload + time.Second)
		if got := ids(); len(got) != 1 || got[0] != k2.ID() {
			t.Fatalf("key set after the overlap %v, want [%s]", got, k2.ID())
		}
		// The private key is sealed at rest: another data key cannot open it.
		wrongKey, _ := eid.NewSealer([]byte(strings.Repeat("x", 32)))
		other := keyring.New(db, wrongKey, "oidc_signing_key", KeyRotation, keyOverlap)
		if _, _, err := other.Current(ctx, clk.now()); err == nil || !strings.Contains(err.Error(), "data key") {
			t.Fatalf("keys opened with the wrong data key: %v", err)
		}
	})
}

func TestCreateClientRefusesBadInput(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		s, _ := newService(t, db)
		ok := NewClient{ID: "portal", Name: "Portal", Type: "web", RedirectURIs: []string{"https://portal.example.vn/cb"}}
		with := func(f func(*NewClient)) NewClient { c := ok; f(&c); return c }
		cases := []struct {
			name  string
			in    NewClient
			field string
		}{
			{"bad id", with(func(c *NewClient) { c.ID = "Bad ID" }), "id"},
			{"no name", with(func(c *NewClient) { c.Name = " " }), "name"},
			{"unknown type", with(func(c *NewClient) { c.Type = "spa" }), "type"},
			{"http redirect", with(func(c *NewClient) { c.RedirectURIs = []string{"http://portal.example.vn/cb"} }), "redirect_uris[0]"},
			{"relative redirect", with(func(c *NewClient) { c.RedirectURIs = []string{"/cb"} }), "redirect_uris[0]"},
			{"no redirect", with(func(c *NewClient) { c.RedirectURIs = nil }), "redirect_uris"},
			{"unknown scope", with(func(c *NewClient) { c.Scopes = []string{"profile", "everything"} }), "scopes[1]"},
			{"native with a secret", with(func(c *NewClient) { c.Type, c.AuthMethod = "native", "client_secret_basic" }), "auth_method"},
			{"service without auth", with(func(c *NewClient) { c.Type, c.AuthMethod = "service", "none" }), "auth_method"},
			{"private_key_jwt without keys", with(func(c *NewClient) { c.AuthMethod = "private_key_jwt" }), "jwks"},
			{"level 3", with(func(c *NewClient) { c.MinLevel = 3 }), "min_level"},
		}
		for _, tc := range cases {
			_, _, err := s.CreateClient(admin, tc.in)
			var e *errs.Error
			if !errs.Is(err, errs.Invalid) || !errorsAs(err, &e) || !hasField(e, tc.field) {
				t.Errorf("%s: %v, want a field error on %s", tc.name, err, tc.field)
			}
		}
		if _, _, err := s.CreateClient(context.Background(), ok); !errs.Is(err, errs.Unauthenticated) {
			t.Errorf("without an actor: %v", err)
		}
		if _, _, err := s.CreateClient(admin, ok); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.CreateClient(admin, ok); !errs.Is(err, errs.Invalid) {
			t.Errorf("a second client with one ID: %v", err)
		}
		if cs, _ := s.Clients(admin); len(cs) != 1 {
			t.Errorf("clients: %+v", cs)
		}
	})
}

func errorsAs(err error, e **errs.Error) bool {
	x, ok := err.(*errs.Error)
	*e = x
	return ok
}

func hasField(e *errs.Error, f string) bool {
	for _, fe := range e.Fields {
		if fe.Field == f {
			return true
		}
	}
	return false
}

// TestPrivateKeyJWT: a service client authenticates with a JWT signed by
// its own key (RFC 7523) and gets a token; a key it did not register fails.
func TestPrivateKeyJWT(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		s, _, srv := newServer(t, db, nil)
		priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		set, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &priv.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})
		if _, _, err := s.CreateClient(admin, NewClient{ID: "vss", Name: "Social insurance", Type: "service", AuthMethod: "private_key_jwt", JWKS: string(set)}); err != nil {
			t.Fatal(err)
		}
		token := func(key *ecdsa.PrivateKey) int {
			signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: key, KeyID: "k1"}}, nil)
			now := time.Now()
			assertion, _ := jwt.Signed(signer).Claims(jwt.Claims{Issuer: "vss", Subject: "vss", Audience: jwt.Audience{srv.URL},
				IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(time.Minute)), ID: now.String()}).Serialize()
			form := url.Values{"grant_type": {"client_credentials"}, "scope": {"openid"}, "client_id": {"vss"},
				"client_assertion_type": {oidc.ClientAssertionTypeJWTAssertion}, "client_assertion": {assertion}}
			res, err := http.PostForm(srv.URL+"/oauth/token", form)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode == 200 && !strings.Contains(string(body), "access_token") {
				t.Errorf("token response %s", body)
			}
			return res.StatusCode
		}
		if got := token(priv); got != 200 {
			t.Fatalf("private_key_jwt with the registered key: %d", got)
		}
		other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if got := token(other); got == 200 {
			t.Fatal("private_key_jwt with another key succeeded")
		}
	})
}

// TestServiceTokenCache: a checked client-credentials token is reused for
// serviceTokenTTL; once revoked, it stops working within that time.
func TestServiceTokenCache(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		s, clk, srv := newServer(t, db, nil)
		_, secret, err := s.CreateClient(admin, NewClient{ID: "bank", Name: "Ngân hàng", Type: "service"})
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest("POST", srv.URL+"/oauth/token", strings.NewReader("grant_type=client_credentials&scope=openid"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("bank", secret)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		json.NewDecoder(res.Body).Decode(&tok)
		res.Body.Close()
		ctx := context.Background()
		if _, client, err := s.Authenticate(ctx, tok.AccessToken); err != nil || client != "bank" {
			t.Fatalf("Authenticate = %q, %v", client, err)
		}
		parts := strings.Split(tok.AccessToken, ".")
		payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
		var claims struct{ JTI string }
		json.Unmarshal(payload, &claims)
		if _, err := db.ExecContext(ctx, `INSERT INTO oidc_revoked_token (id, expires_at) VALUES ($1, $2)`, claims.JTI, clk.now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if _, client, err := s.Authenticate(ctx, tok.AccessToken); err != nil || client != "bank" {
			t.Fatalf("within the cache time: %q, %v", client, err)
		}
		clk.add(serviceTokenTTL)
		if _, _, err := s.Authenticate(ctx, tok.AccessToken); !errs.Is(err, errs.Unauthenticated) {
			t.Fatalf("a revoked token after the cache time: %v", err)
		}
		if _, _, err := s.Authenticate(ctx, tok.AccessToken+"x"); !errs.Is(err, errs.Unauthenticated) {
			t.Fatalf("a changed token: %v", err)
		}
	})
}
