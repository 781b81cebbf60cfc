package sso

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

// TestProtocolHeaders: token answers are not cached (RFC 6749 §5.1); a
// 401 carries WWW-Authenticate (RFC 6749 §5.2 for the token endpoint,
// RFC 6750 §3 for userinfo); userinfo refuses a token in the query; CORS
// never allows credentials and is absent outside the public API.
func TestProtocolHeaders(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		s, _, srv := newServer(t, db, nil)
		_, secret, err := s.CreateClient(admin, NewClient{ID: "bank", Name: "Bank", Type: "service"})
		if err != nil {
			t.Fatal(err)
		}
		send := func(method, path, body string, header ...string) *http.Response {
			t.Helper()
			req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
			if body != "" {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			for i := 0; i+1 < len(header); i += 2 {
				req.Header.Set(header[i], header[i+1])
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			return res
		}
		basic := func(id, secret string) string {
			r, _ := http.NewRequest("GET", "/", nil)
			r.SetBasicAuth(id, secret)
			return r.Header.Get("Authorization")
		}
		res := send("POST", "/oauth/token", "grant_type=client_credentials&scope=openid", "Authorization", basic("bank", secret))
		if res.StatusCode != 200 || res.Header.Get("Cache-Control") != "no-store" || res.Header.Get("Pragma") != "no-cache" {
			t.Errorf("token response %d: Cache-Control %q, Pragma %q", res.StatusCode, res.Header.Get("Cache-Control"), res.Header.Get("Pragma"))
		}
		res = send("POST", "/oauth/token", "grant_type=client_credentials&scope=openid", "Authorization", basic("bank", "wrong"))
		if res.StatusCode != 401 || !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Basic ") || res.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("wrong client secret: %d, WWW-Authenticate %q", res.StatusCode, res.Header.Get("WWW-Authenticate"))
		}
		res = send("GET", "/userinfo", "")
		if res.StatusCode != 401 || !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Bearer ") {
			t.Errorf("userinfo without a token: %d, WWW-Authenticate %q", res.StatusCode, res.Header.Get("WWW-Authenticate"))
		}
		res = send("GET", "/userinfo", "", "Authorization", "Bearer not.a.token")
		if res.StatusCode != 401 || !strings.Contains(res.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
			t.Errorf("userinfo with a bad token: %d, WWW-Authenticate %q", res.StatusCode, res.Header.Get("WWW-Authenticate"))
		}
		res = send("GET", "/userinfo?access_token=x.y.z", "")
		if res.StatusCode != 400 || !strings.Contains(res.Header.Get("WWW-Authenticate"), `error="invalid_request"`) {
			t.Errorf("userinfo with a token in the query: %d, WWW-Authenticate %q", res.StatusCode, res.Header.Get("WWW-Authenticate"))
		}
		const evil = "https://evil.example"
		for _, c := range []struct{ method, path, body string }{
			{"POST", "/oauth/token", "grant_type=client_credentials"},
			{"GET", "/userinfo", ""},
			{"OPTIONS", "/userinfo", ""},
			{"OPTIONS", "/oauth/token", ""},
			{"GET", "/.well-known/openid-configuration", ""},
			{"GET", "/keys", ""},
		} {
			res := send(c.method, c.path, c.body, "Origin", evil, "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "authorization")
			if acao := res.Header.Get("Access-Control-Allow-Origin"); acao == evil || res.Header.Get("Access-Control-Allow-Credentials") != "" {
				t.Errorf("%s %s from %s: Allow-Origin %q, Allow-Credentials %q", c.method, c.path, evil, acao, res.Header.Get("Access-Control-Allow-Credentials"))
			}
		}
		res = send("GET", "/.well-known/openid-configuration", "", "Origin", evil)
		if res.Header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("discovery is not readable cross-origin: %q", res.Header.Get("Access-Control-Allow-Origin"))
		}
		res = send("GET", "/authorize?client_id=x", "", "Origin", evil)
		if res.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("authorize answers CORS: %q", res.Header.Get("Access-Control-Allow-Origin"))
		}
	})
}

// TestDiscovery: the discovery document says what the provider does, and
// no more.
func TestDiscovery(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		_, _, srv := newServer(t, db, nil)
		res, err := http.Get(srv.URL + "/.well-known/openid-configuration")
		if err != nil {
			t.Fatal(err)
		}
		var d map[string]any
		json.NewDecoder(res.Body).Decode(&d)
		res.Body.Close()
		list := func(k string) []string {
			var out []string
			for _, v := range d[k].([]any) {
				out = append(out, v.(string))
			}
			return out
		}
		if d["issuer"] != srv.URL || d["authorization_response_iss_parameter_supported"] != true || d["backchannel_logout_supported"] != true ||
			d["backchannel_logout_session_supported"] != true || d["end_session_endpoint"] != srv.URL+"/end_session" {
			t.Errorf("discovery: %v", d)
		}
		if got := list("acr_values_supported"); !slices.Equal(got, []string{ACRLevel1, ACRLevel2}) {
			t.Errorf("acr_values_supported %v", got)
		}
		if got := list("response_types_supported"); !slices.Equal(got, []string{"code"}) {
			t.Errorf("response_types_supported %v", got)
		}
		if got := list("grant_types_supported"); slices.ContainsFunc(got, func(g string) bool {
			return g == "implicit" || strings.Contains(g, "jwt-bearer") || strings.Contains(g, "device_code") || strings.Contains(g, "token-exchange")
		}) {
			t.Errorf("grant_types_supported %v", got)
		}
		if got := list("id_token_signing_alg_values_supported"); !slices.Contains(got, "RS256") || !slices.Contains(got, "ES256") {
			t.Errorf("id_token_signing_alg_values_supported %v", got)
		}
		if _, ok := d["device_authorization_endpoint"]; ok {
			t.Error("a device authorization endpoint is advertised")
		}
		if got := list("prompt_values_supported"); !slices.Contains(got, "none") || !slices.Contains(got, "login") {
			t.Errorf("prompt_values_supported %v", got)
		}
		// The key set publishes both algorithms.
		res, err = http.Get(srv.URL + "/keys")
		if err != nil {
			t.Fatal(err)
		}
		var set jose.JSONWebKeySet
		json.NewDecoder(res.Body).Decode(&set)
		res.Body.Close()
		algs := map[string]bool{}
		for _, k := range set.Keys {
			algs[k.Algorithm] = true
		}
		if !algs["RS256"] || !algs["ES256"] {
			t.Errorf("JWKS algorithms %v", algs)
		}
		// An implicit or hybrid request is refused.
		res, err = http.Get(srv.URL + "/authorize?client_id=x&response_type=id_token&scope=openid&redirect_uri=http://127.0.0.1:9/cb")
		if err == nil {
			res.Body.Close()
			if res.Request.URL.Query().Get("id_token") != "" {
				t.Error("response_type=id_token answered")
			}
		}
	})
}

// TestIssuerRequired: the provider cannot be built without a fixed issuer,
// so it never takes one from a request's Host.
func TestIssuerRequired(t *testing.T) {
	for _, issuer := range []string{"", "/relative", "localhost:8080"} {
		if _, err := New(nil, nil, nil, Config{Issuer: issuer, DataKey: make([]byte, 32)}, nil, nil); err == nil {
			t.Errorf("New with issuer %q succeeded", issuer)
		}
	}
}
