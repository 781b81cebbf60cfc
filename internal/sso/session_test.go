package sso

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/eid"
	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

// TestSingleSignOnAcrossClients: a citizen who logged in at one relying
// party is not asked for the password by the next one (only for consent);
// "log out everywhere" ends the session.
func TestSingleSignOnAcrossClients(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		s, _, srv := newServer(t, db, nil)
		pid := newCitizen(t, s, eid.Level1)
		webClient(t, s, NewClient{ID: "rp-a", Scopes: []string{"profile"}})
		webClient(t, s, NewClient{ID: "rp-b", Scopes: []string{"profile"}})
		ag := newAgent(t, srv.URL)
		ag.login(ag.authorize("rp-a", nil), pid)
		ag.code()
		p := ag.authorize("rp-b", url.Values{"scope": {"openid profile"}})
		if p.isLogin() || !strings.Contains(p.body, `name="decision"`) {
			t.Fatalf("the second relying party did not go straight to consent: %d %.300s", p.status, p.body)
		}
		ag.do("POST", srv.URL+LoginPath+"/consent", url.Values{"id": {p.url.Query().Get("id")}, "decision": {"allow"}})
		ag.code()
		if p := ag.authorize("rp-a", nil); ag.end == nil || p.isLogin() {
			t.Fatal("a third login through the session asked again")
		}
		// The session is stored by the hash of its cookie, never the cookie.
		var stored int
		db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM oidc_session WHERE pid = $1`, pid).Scan(&stored)
		if stored != 1 {
			t.Fatalf("%d sessions stored, want 1", stored)
		}
		u, _ := url.Parse(srv.URL)
		for _, c := range ag.hc.Jar.Cookies(u) {
			if c.Name == s.cookieName() {
				var n int
				db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM oidc_session WHERE id_hash = $1 OR id_hash = $2`, c.Value, hashSecret(c.Value)).Scan(&n)
				var plain int
				db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM oidc_session WHERE id_hash = $1`, c.Value).Scan(&plain)
				if n != 1 || plain != 0 {
					t.Fatalf("the session cookie is not stored hashed (%d, %d)", n, plain)
				}
			}
		}
		// Log out everywhere (the account's session epoch) ends it.
		if err := s.eid.LogoutEverywhere(actor.With(context.Background(), &actor.Actor{ID: pid, Kind: actor.Citizen, Name: pid}), pid); err != nil {
			t.Fatal(err)
		}
		if p := ag.authorize("rp-a", nil); !p.isLogin() {
			t.Fatalf("after log out everywhere the session still logs in: %v", ag.end)
		}
	})
}

// TestSessionCookie: HttpOnly, SameSite=Lax, path /; on an https issuer
// also Secure and __Host- prefixed.
func TestSessionCookie(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		for _, issuer := range []string{"", "https://id.dancu.vn"} {
			s, _, _ := newServer(t, db, func(c *Config) {
				if issuer != "" {
					c.Issuer = issuer
				}
			})
			w := httptest.NewRecorder()
			r := httptest.NewRequest("GET", "/login", nil)
			if _, err := s.startSession(context.Background(), w, r, "001090000001", "sub", ACRLevel1, []string{"pwd"}, s.clock(), 1); err != nil {
				t.Fatal(err)
			}
			cs := w.Result().Cookies()
			if len(cs) != 1 {
				t.Fatalf("cookies %v", cs)
			}
			c := cs[0]
			https := issuer != ""
			if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Secure != https || (c.Name == "__Host-dancu_sso") != https ||
				c.MaxAge != int(DefaultSessionMax.Seconds()) {
				t.Errorf("issuer %q: session cookie %+v", issuer, c)
			}
		}
	})
}

// TestSessionTimeouts: a session ends after SessionIdle without use, and
// SessionMax after its login however much it is used.
func TestSessionTimeouts(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		const idle, maxAge = 30 * time.Minute, 2 * time.Hour
		s, clk, srv := newServer(t, db, func(c *Config) { c.SessionIdle, c.SessionMax = idle, maxAge })
		pid := newCitizen(t, s, eid.Level1)
		webClient(t, s, NewClient{ID: "rp-a"})
		ag := newAgent(t, srv.URL)
		ag.login(ag.authorize("rp-a", nil), pid)
		ag.code()
		clk.add(idle - time.Minute)
		if p := ag.authorize("rp-a", nil); p.isLogin() {
			t.Fatal("the session ended before its idle timeout")
		}
		clk.add(idle + time.Second)
		if p := ag.authorize("rp-a", nil); !p.isLogin() {
			t.Fatal("the session outlived its idle timeout")
		}
		// Used every 20 minutes, it still ends SessionMax after the login.
		ag.login(ag.authorize("rp-a", nil), pid)
		ag.code()
		start := clk.now()
		for {
			clk.add(20 * time.Minute)
			p := ag.authorize("rp-a", nil)
			if p.isLogin() {
				if got := clk.now().Sub(start); got < maxAge || got > maxAge+20*time.Minute {
					t.Fatalf("the session ended %s after the login, want %s", got, maxAge)
				}
				break
			}
			if clk.now().Sub(start) > maxAge {
				t.Fatal("the session outlived its absolute timeout")
			}
		}
	})
}

// TestPrompt: prompt=none answers login_required or consent_required to
// the relying party (with state and iss) instead of showing a page;
// prompt=login and select_account ask for the password despite a session;
// prompt=consent shows the consent page despite a consent given.
func TestPrompt(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		s, _, srv := newServer(t, db, nil)
		pid := newCitizen(t, s, eid.Level1)
		webClient(t, s, NewClient{ID: "rp-a", Scopes: []string{"profile"}})
		webClient(t, s, NewClient{ID: "rp-b", Scopes: []string{"profile"}})
		ag := newAgent(t, srv.URL)
		rpError := func(client string, params url.Values, want string) {
			t.Helper()
			p := ag.authorize(client, params)
			if ag.end == nil || ag.end.Query().Get("error") != want || ag.end.Query().Get("state") != "st-"+client ||
				ag.end.Query().Get("iss") != srv.URL || ag.end.Query().Get("code") != "" {
				t.Fatalf("%s %v: the relying party got %v, want error=%s with state and iss (page %d)", client, params, ag.end, want, p.status)
			}
		}
		none := url.Values{"prompt": {"none"}}
		rpError("rp-a", none, "login_required")
		ag.login(ag.authorize("rp-a", url.Values{"scope": {"openid profile"}}), pid)
		if ag.code(); ag.end.Query().Get("iss") != srv.URL {
			t.Errorf("the code response has no iss (RFC 9207): %v", ag.end)
		}
		// A session and the consent: prompt=none gives a code.
		ag.authorize("rp-a", url.Values{"prompt": {"none"}, "scope": {"openid profile"}})
		ag.code()
		// No consent at rp-b yet.
		rpError("rp-b", url.Values{"prompt": {"none"}, "scope": {"openid profile"}}, "consent_required")
		for _, prompt := range []string{"login", "select_account"} {
			if p := ag.authorize("rp-a", url.Values{"prompt": {prompt}}); !p.isLogin() || ag.end != nil {
				t.Errorf("prompt=%s did not ask for the password: %v", prompt, ag.end)
			}
		}
		if p := ag.authorize("rp-a", url.Values{"prompt": {"consent"}, "scope": {"openid profile"}}); p.isLogin() || !strings.Contains(p.body, `name="decision"`) {
			t.Errorf("prompt=consent did not show the consent page: %d %v", p.status, ag.end)
		}
	})
}

// TestMaxAgeAndACRStepUp: a session older than max_age asks for the
// password again, and the ID token's auth_time is the new login; a level-1
// session does not satisfy a request for level 2 (step up), not even with
// prompt=none.
func TestMaxAgeAndACRStepUp(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		s, clk, srv := newServer(t, db, nil)
		pid := newCitizen(t, s, eid.Level2)
		secret := webClient(t, s, NewClient{ID: "rp-a"})
		ag := newAgent(t, srv.URL)
		ag.login(ag.authorize("rp-a", nil), pid)
		first := clk.now()
		tok, _ := exchange(t, srv.URL, "rp-a", secret, ag.code())
		if at := int64(claims(t, tok.IDToken)["auth_time"].(float64)); at != first.Unix() {
			t.Fatalf("auth_time %d, want %d", at, first.Unix())
		}
		// Another citizen's session in another browser does not answer a
		// request whose id_token_hint names this citizen.
		other := newAgent(t, srv.URL)
		other.login(other.authorize("rp-a", nil), newCitizen(t, s, eid.Level1))
		other.code()
		if other.authorize("rp-a", url.Values{"prompt": {"none"}, "id_token_hint": {tok.IDToken}}); other.end == nil || other.end.Query().Get("error") != "login_required" {
			t.Fatalf("prompt=none with an id_token_hint for another citizen: %v", other.end)
		}
		if ag.authorize("rp-a", url.Values{"prompt": {"none"}, "id_token_hint": {tok.IDToken}}); ag.end == nil || ag.end.Query().Get("code") == "" {
			t.Fatalf("prompt=none with the session's own id_token_hint: %v", ag.end)
		}
		clk.add(10 * time.Minute)
		if p := ag.authorize("rp-a", url.Values{"max_age": {"3600"}}); p.isLogin() {
			t.Fatal("a 10-minute-old session did not satisfy max_age=3600")
		}
		ag.code()
		p := ag.authorize("rp-a", url.Values{"max_age": {"300"}})
		if !p.isLogin() {
			t.Fatal("a 10-minute-old session satisfied max_age=300")
		}
		ag.login(p, pid)
		tok, _ = exchange(t, srv.URL, "rp-a", secret, ag.code())
		if c := claims(t, tok.IDToken); int64(c["auth_time"].(float64)) != clk.now().Unix() || c["acr"] != ACRLevel2 {
			t.Fatalf("after re-authentication: auth_time %v acr %v, want %d %s", c["auth_time"], c["acr"], clk.now().Unix(), ACRLevel2)
		}
		// A session established at level 1 (the account was raised since).
		if _, err := db.ExecContext(context.Background(), `UPDATE oidc_session SET acr = $1 WHERE pid = $2`, ACRLevel1, pid); err != nil {
			t.Fatal(err)
		}
		level2 := url.Values{"acr_values": {ACRLevel2}}
		if p := ag.authorize("rp-a", url.Values{"acr_values": {ACRLevel2}, "prompt": {"none"}}); ag.end == nil || ag.end.Query().Get("error") != "login_required" {
			t.Fatalf("prompt=none with a level-1 session for acr level 2: %v (page %d)", ag.end, p.status)
		}
		p = ag.authorize("rp-a", level2)
		if !p.isLogin() {
			t.Fatal("a level-1 session satisfied acr_values level 2: no step-up")
		}
		ag.login(p, pid)
		tok, _ = exchange(t, srv.URL, "rp-a", secret, ag.code())
		if c := claims(t, tok.IDToken); c["acr"] != ACRLevel2 {
			t.Fatalf("after the step-up acr %v", c["acr"])
		}
	})
}

// TestScopesLimitedToRegistration: a client registered for profile and pid
// that asks for phone and address gets neither, and the consent page lists
// exactly what will be released.
func TestScopesLimitedToRegistration(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		s, _, srv := newServer(t, db, nil)
		pid := newCitizen(t, s, eid.Level1)
		secret := webClient(t, s, NewClient{ID: "narrow", Scopes: []string{"profile", "pid"}})
		ag := newAgent(t, srv.URL)
		p := ag.authorize("narrow", url.Values{"scope": {"openid profile pid phone address email"}})
		id := p.url.Query().Get("id")
		p = ag.do("POST", srv.URL+LoginPath, url.Values{"id": {id}, "pid": {pid}, "password": {testPassword}, "lang": {"en"}})
		for _, want := range []string{translate("en", "claim.profile"), translate("en", "claim.pid"), translate("en", "claim.openid")} {
			if !strings.Contains(p.body, want) {
				t.Errorf("the consent page does not list %q", want)
			}
		}
		for _, not := range []string{translate("en", "claim.phone"), translate("en", "claim.address"), translate("en", "claim.email")} {
			if strings.Contains(p.body, not) {
				t.Errorf("the consent page lists %q, which the client may not have", not)
			}
		}
		ag.do("POST", srv.URL+LoginPath+"/consent", url.Values{"id": {id}, "decision": {"allow"}})
		tok, _ := exchange(t, srv.URL, "narrow", secret, ag.code())
		status, info := userinfo(t, srv.URL, tok.AccessToken)
		if status != 200 || info["pid"] != pid || info["name"] == nil {
			t.Fatalf("userinfo %d %v", status, info)
		}
		for _, claim := range []string{"phone_number", "address", "email"} {
			if _, ok := info[claim]; ok {
				t.Errorf("userinfo released %s to a client registered for profile pid: %v", claim, info)
			}
		}
	})
}

func userinfo(t *testing.T, base, token string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	json.NewDecoder(res.Body).Decode(&m)
	return res.StatusCode, m
}

// TestRevocation: RFC 7009 revocation of a refresh token (its family) and
// of an access token, both by the client they were issued to; the
// refreshed ID token keeps acr and auth_time.
func TestRevocation(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		s, clk, srv := newServer(t, db, nil)
		pid := newCitizen(t, s, eid.Level2)
		secret := webClient(t, s, NewClient{ID: "rp-a", Scopes: []string{"profile", "offline_access"}})
		other := webClient(t, s, NewClient{ID: "rp-b"})
		ag := newAgent(t, srv.URL)
		login := func() tokens {
			t.Helper()
			p := ag.authorize("rp-a", url.Values{"scope": {"openid profile offline_access"}, "prompt": {"login"}})
			ag.login(p, pid)
			tok, _ := exchange(t, srv.URL, "rp-a", secret, ag.code())
			if tok.RefreshToken == "" {
				t.Fatalf("no refresh token: %+v", tok)
			}
			return tok
		}
		revoke := func(clientID, secret, token, hint string) int {
			t.Helper()
			form := url.Values{"token": {token}}
			if hint != "" {
				form.Set("token_type_hint", hint)
			}
			req, _ := http.NewRequest("POST", srv.URL+"/revoke", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(clientID, secret)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			return res.StatusCode
		}
		refresh := func(token string) (tokens, int) {
			tok, res := postToken(t, srv.URL, "rp-a", secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {token}})
			return tok, res.StatusCode
		}
		tok := login()
		authTime := claims(t, tok.IDToken)["auth_time"]
		clk.add(time.Minute)
		fresh, status := refresh(tok.RefreshToken)
		if status != 200 {
			t.Fatalf("refresh: %d", status)
		}
		if c := claims(t, fresh.IDToken); c["acr"] != ACRLevel2 || c["auth_time"] != authTime {
			t.Errorf("refreshed ID token: acr %v auth_time %v, want %s %v", c["acr"], c["auth_time"], ACRLevel2, authTime)
		}
		// Another client cannot revoke it; its owner can, with or without the hint.
		if got := revoke("rp-b", other, fresh.RefreshToken, ""); got == 200 {
			if _, status := refresh(fresh.RefreshToken); status != 200 {
				t.Fatal("another client revoked rp-a's refresh token")
			}
		}
		if got := revoke("rp-a", secret, fresh.RefreshToken, "refresh_token"); got != 200 {
			t.Fatalf("revoke refresh token: %d", got)
		}
		if _, status := refresh(fresh.RefreshToken); status == 200 {
			t.Fatal("a revoked refresh token still works")
		}
		tok = login()
		if got := revoke("rp-a", secret, tok.RefreshToken, ""); got != 200 {
			t.Fatalf("revoke refresh token without hint: %d", got)
		}
		if _, status := refresh(tok.RefreshToken); status == 200 {
			t.Fatal("a refresh token revoked without a hint still works")
		}
		// The access tokens of the revoked grant end with it (RFC 7009 §2.1).
		if status, _ := userinfo(t, srv.URL, tok.AccessToken); status == 200 {
			t.Error("the access token of a revoked refresh token still works")
		}
		// An access token.
		tok = login()
		if status, _ := userinfo(t, srv.URL, tok.AccessToken); status != 200 {
			t.Fatalf("userinfo before revocation: %d", status)
		}
		if got := revoke("rp-a", secret, tok.AccessToken, "access_token"); got != 200 {
			t.Fatalf("revoke access token: %d", got)
		}
		if status, _ := userinfo(t, srv.URL, tok.AccessToken); status == 200 {
			t.Fatal("a revoked access token still works at userinfo")
		}
	})
}

// TestTokensSignedRS256AndES256: a client's ID tokens are signed with the
// algorithm it registered (RS256 by default), verifiable with the
// published keys.
func TestTokensSignedRS256AndES256(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		s, _, srv := newServer(t, db, nil)
		pid := newCitizen(t, s, eid.Level1)
		rs := webClient(t, s, NewClient{ID: "rp-rs"})
		es := webClient(t, s, NewClient{ID: "rp-es", IDTokenAlg: "ES256"})
		res, err := http.Get(srv.URL + "/keys")
		if err != nil {
			t.Fatal(err)
		}
		var set jose.JSONWebKeySet
		json.NewDecoder(res.Body).Decode(&set)
		res.Body.Close()
		ag := newAgent(t, srv.URL)
		for _, c := range []struct{ id, secret, alg string }{{"rp-rs", rs, "RS256"}, {"rp-es", es, "ES256"}} {
			p := ag.authorize(c.id, nil)
			if p.isLogin() {
				ag.login(p, pid)
			} else {
				ag.consent(p)
			}
			tok, _ := exchange(t, srv.URL, c.id, c.secret, ag.code())
			sig, err := jose.ParseSigned(tok.IDToken, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(c.alg)})
			if err != nil {
				t.Fatalf("%s: ID token not %s: %v", c.id, c.alg, err)
			}
			keys := set.Key(sig.Signatures[0].Header.KeyID)
			if len(keys) != 1 || keys[0].Algorithm != c.alg {
				t.Fatalf("%s: no published %s key %s", c.id, c.alg, sig.Signatures[0].Header.KeyID)
			}
			if _, err := sig.Verify(keys[0].Key); err != nil {
				t.Fatalf("%s: %v", c.id, err)
			}
			if status, _ := userinfo(t, srv.URL, tok.AccessToken); status != 200 {
				t.Errorf("%s: the %s access token is refused at userinfo: %d", c.id, c.alg, status)
			}
			if a, _, err := s.Authenticate(context.Background(), tok.AccessToken); err != nil || a == nil || a.ID != pid {
				t.Errorf("%s: the citizens' API refuses the %s access token: %v", c.id, c.alg, err)
			}
		}
	})
}

// TestLogoutAndBackchannel: RP-initiated logout with id_token_hint returns
// to the registered post-logout URI with state, ends the session, and the
// other relying party of the session receives a valid logout token.
func TestLogoutAndBackchannel(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		receiver, got := logoutReceiver(t)
		s, _, srv := newServer(t, db, nil)
		pid := newCitizen(t, s, eid.Level1)
		webClient(t, s, NewClient{ID: "rp-a", Backchannel: receiver.URL + "/bc"})
		secret := webClient(t, s, NewClient{ID: "rp-b", LogoutURIs: []string{testRedirect + "/bye"}})
		if _, _, err := s.CreateClient(admin, NewClient{ID: "rp-bad", Name: "x", Type: "web", RedirectURIs: []string{testRedirect},
			Backchannel: "http://bc.example.vn/logout"}); err == nil {
			t.Error("an http back-channel logout URI on a public host was accepted")
		}
		ag := newAgent(t, srv.URL)
		ag.login(ag.authorize("rp-a", nil), pid)
		ag.code()
		ag.consent(ag.authorize("rp-b", nil))
		ag.code()
		// Logging in again (prompt=login) keeps the session: rp-a still
		// belongs to it when rp-b logs out.
		ag.login(ag.authorize("rp-b", url.Values{"prompt": {"login"}}), pid)
		tok, _ := exchange(t, srv.URL, "rp-b", secret, ag.code())
		sid, _ := claims(t, tok.IDToken)["sid"].(string)
		if sid == "" {
			t.Fatal("the ID token has no sid")
		}
		ag.end = nil
		ag.do("GET", srv.URL+"/end_session?"+url.Values{"id_token_hint": {tok.IDToken}, "post_logout_redirect_uri": {testRedirect + "/bye"},
			"state": {"bye"}}.Encode(), nil)
		if ag.end == nil || ag.end.Path != "/cb/bye" || ag.end.Query().Get("state") != "bye" {
			t.Fatalf("end_session did not return to the registered URI with state: %v", ag.end)
		}
		var lt string
		select {
		case lt = <-got:
		case <-time.After(10 * time.Second):
			t.Fatal("no logout token delivered to rp-a")
		}
		sig, err := jose.ParseSigned(lt, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
		if err != nil {
			t.Fatal(err)
		}
		if typ, _ := sig.Signatures[0].Header.ExtraHeaders["typ"].(string); typ != "logout+jwt" {
			t.Errorf("logout token typ %q", typ)
		}
		keys, _ := s.KeySet(context.Background())
		verified := false
		for _, k := range keys {
			if k.ID() == sig.Signatures[0].Header.KeyID {
				_, err := sig.Verify(k.Key())
				verified = err == nil
			}
		}
		c := claims(t, lt)
		events, _ := c["events"].(map[string]any)
		if _, ok := events[backchannelLogoutEvent]; !verified || !ok || c["iss"] != srv.URL || c["aud"] != "rp-a" || c["sid"] != sid ||
			c["sub"] == "" || c["jti"] == "" || c["nonce"] != nil {
			t.Errorf("logout token (verified %v): %v", verified, c)
		}
		// The session has ended: the next login asks for the password.
		if p := ag.authorize("rp-a", nil); !p.isLogin() {
			t.Fatal("after logout the session still logs in")
		}
	})
}

// TestLogoutBackchannelFailureTolerated: a relying party that does not
// answer does not hold up the logout.
func TestLogoutBackchannelFailureTolerated(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		s, _, srv := newServer(t, db, nil)
		pid := newCitizen(t, s, eid.Level1)
		secret := webClient(t, s, NewClient{ID: "rp-a", Backchannel: "http://127.0.0.1:9/down", LogoutURIs: []string{testRedirect + "/bye"}})
		ag := newAgent(t, srv.URL)
		ag.login(ag.authorize("rp-a", nil), pid)
		tok, _ := exchange(t, srv.URL, "rp-a", secret, ag.code())
		ag.end = nil
		ag.do("GET", srv.URL+"/end_session?"+url.Values{"id_token_hint": {tok.IDToken}, "post_logout_redirect_uri": {testRedirect + "/bye"}}.Encode(), nil)
		if ag.end == nil || ag.end.Path != "/cb/bye" {
			t.Fatalf("logout with an unreachable back-channel URI: %v", ag.end)
		}
		s.Wait()
	})
}

// TestRevocationIsASecurityWrite: revoking a refresh-token family
// completes when the request was cancelled (a client that hangs up after
// replaying a stolen token does not keep the family alive), and a store
// that refuses the write fails the request instead of being ignored.
func TestRevocationIsASecurityWrite(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		s, _, _ := newServer(t, db, nil)
		pid := newCitizen(t, s, eid.Level1)
		webClient(t, s, NewClient{ID: "rp-a"})
		now := s.clock()
		if _, err := db.ExecContext(context.Background(), `INSERT INTO oidc_refresh_token (token_hash, family, client_id, subject, pid, scopes, audience, acr, amr,
			auth_time, epoch, expires_at, created_at) VALUES ('h1', 'fam-1', 'rp-a', 'sub', $1, 'openid', 'rp-a', '', '', $2, 0, $3, $2)`,
			pid, now, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := s.revokeFamily(ctx, "fam-1", pid, "test"); err != nil {
			t.Fatalf("revokeFamily with a cancelled request: %v", err)
		}
		var revoked int
		db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM oidc_refresh_token WHERE family = 'fam-1' AND revoked_at IS NOT NULL`).Scan(&revoked)
		if revoked != 1 {
			t.Errorf("the family was not revoked")
		}
		if _, err := db.ExecContext(context.Background(), `DROP TABLE oidc_access_token`); err != nil {
			t.Fatal(err)
		}
		if err := s.revokeFamily(context.Background(), "fam-1", pid, "test"); err == nil {
			t.Error("a revocation the store refused reported success")
		}
	})
}

// TestSweep: what has expired goes, what is live stays.
func TestSweep(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		s, clk, _ := newServer(t, db, nil)
		pid := newCitizen(t, s, eid.Level1)
		webClient(t, s, NewClient{ID: "rp-a"})
		now := s.clock()
		for hash, exp := range map[string]time.Time{"old": now.Add(time.Minute), "live": now.Add(48 * time.Hour)} {
			if _, err := db.ExecContext(context.Background(), `INSERT INTO oidc_refresh_token (token_hash, family, client_id, subject, pid, scopes,
				audience, acr, amr, auth_time, epoch, expires_at, created_at) VALUES ($1, $1, 'rp-a', 'sub', $2, 'openid', 'rp-a', '', '', $3, 0, $4, $3)`,
				hash, pid, now, exp); err != nil {
				t.Fatal(err)
			}
		}
		clk.add(2 * time.Minute)
		if _, err := s.Sweep(context.Background()); err != nil {
			t.Fatal(err)
		}
		var left []string
		rows, _ := db.QueryContext(context.Background(), `SELECT token_hash FROM oidc_refresh_token ORDER BY token_hash`)
		for rows.Next() {
			var h string
			rows.Scan(&h)
			left = append(left, h)
		}
		rows.Close()
		if len(left) != 1 || left[0] != "live" {
			t.Errorf("refresh tokens after the sweep: %v", left)
		}
	})
}

// TestLogoutEverywhereEndsSessions: an account's "log out everywhere" (or
// a lock) ends its single sign-on sessions and sends a logout token to each
// relying party that registered for back-channel logout.
func TestLogoutEverywhereEndsSessions(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		receiver, got := logoutReceiver(t)
		s, _, srv := newServer(t, db, nil)
		pid := newCitizen(t, s, eid.Level1)
		webClient(t, s, NewClient{ID: "rp-a", Backchannel: receiver.URL + "/bc"})
		ag := newAgent(t, srv.URL)
		ag.login(ag.authorize("rp-a", nil), pid)
		ag.code()
		holder := actor.With(context.Background(), &actor.Actor{ID: pid, Kind: actor.Citizen, Name: pid})
		if err := s.eid.LogoutEverywhere(holder, pid); err != nil {
			t.Fatal(err)
		}
		select {
		case lt := <-got:
			if c := claims(t, lt); c["aud"] != "rp-a" || c["sid"] == "" {
				t.Errorf("logout token %v", c)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no logout token after log out everywhere")
		}
		var open int
		db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM oidc_session WHERE pid = $1 AND ended_at IS NULL`, pid).Scan(&open)
		if open != 0 {
			t.Errorf("%d sessions still open", open)
		}
	})
}

// logoutReceiver is a relying party's back-channel logout endpoint: it
// passes on every logout token it is sent.
func logoutReceiver(t *testing.T) (*httptest.Server, chan string) {
	got := make(chan string, 4)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		got <- r.PostForm.Get("logout_token")
	}))
	t.Cleanup(receiver.Close)
	return receiver, got
}
