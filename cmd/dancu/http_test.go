package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

// checkProblem asserts that r is RFC 9457 problem details of status: the
// media type, and type, title, status and detail in the body.
func checkProblem(t *testing.T, what string, r response, status int) map[string]any {
	t.Helper()
	if r.Status != status {
		t.Errorf("%s: status %d, want %d: %.300s", what, r.Status, status, r.Body)
		return nil
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("%s: Content-Type %q, want application/problem+json: %.300s", what, ct, r.Body)
		return nil
	}
	var p map[string]any
	if err := json.Unmarshal(r.Body, &p); err != nil {
		t.Errorf("%s: body is not JSON: %v: %.300s", what, err, r.Body)
		return nil
	}
	for _, k := range []string{"type", "title", "detail"} {
		if s, _ := p[k].(string); s == "" {
			t.Errorf("%s: problem without %s: %s", what, k, r.Body)
		}
	}
	if n, _ := p["status"].(float64); int(n) != status {
		t.Errorf("%s: problem status %v, want %d", what, p["status"], status)
	}
	if got := r.Header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("%s: X-Content-Type-Options %q", what, got)
	}
	return p
}

// TestErrorsAreProblems walks the kinds of error a client can provoke under
// /api/ and checks each is problem details: an unknown path, a wrong
// method (with Allow), a body too large, header fields too large, a bad
// token, invalid input, and /metrics, which the public listener does not
// serve.
func TestErrorsAreProblems(t *testing.T) {
	for _, engine := range sqldbtest.EngineNames() {
		t.Run(engine, func(t *testing.T) {
			srv := startServer(t, sqldbtest.URL(t, engine), "--metrics-addr", "127.0.0.1:0")
			anon := &client{t: t, base: srv.URL}

			checkProblem(t, "unknown path", anon.do("GET", "/api/v1/no-such-thing", nil), 404)
			checkProblem(t, "unknown path, deeper", anon.do("GET", "/api/v2/citizens", nil), 404)
			r := anon.do("DELETE", "/api/v1/auth/login", nil)
			checkProblem(t, "wrong method", r, 405)
			if !strings.Contains(r.Header.Get("Allow"), "POST") {
				t.Errorf("405 without Allow: POST: %q", r.Header.Get("Allow"))
			}
			big := fmt.Sprintf(`{"username":"admin","password":%q}`, strings.Repeat("x", 70<<10))
			checkProblem(t, "body too large", anon.do("POST", "/api/v1/auth/login", big), 413)
			checkProblem(t, "header fields too large", anon.do("GET", "/api/v1/codes", nil, "X-Padding", strings.Repeat("a", 40<<10)), 431)
			checkProblem(t, "bad token", (&client{t: t, base: srv.URL, token: "nope"}).do("GET", "/api/v1/me", nil), 401)
			checkProblem(t, "no token", anon.do("GET", "/api/v1/me", nil), 401)
			checkProblem(t, "invalid input", anon.do("POST", "/api/v1/auth/login", `{"username": 5}`), 422)
			checkProblem(t, "malformed JSON", anon.do("POST", "/api/v1/auth/login", `{"username": `), 400)
			checkProblem(t, "metrics on the public listener", anon.do("GET", "/metrics", nil), 404)
			checkProblem(t, "unknown path outside the API", anon.do("GET", "/no/such/page", nil), 404)

			// Beyond what a handler sees, net/http answers 431 itself in
			// plain text and closes the connection: no handler runs.
			if status := rawHeaderStatus(t, srv.Addr, 100<<10); status != 431 {
				t.Errorf("100 KiB of header fields: status %d, want 431", status)
			}

			// The metrics are served on their own listener.
			if srv.MetricsAddr == "" {
				t.Fatal("no metrics address printed")
			}
			res, err := http.Get("http://" + srv.MetricsAddr + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 200 || !strings.Contains(string(b), "dancu_http_request_duration_seconds") {
				t.Errorf("metrics listener: %d %.200s", res.StatusCode, b)
			}
		})
	}
}

// rawHeaderStatus sends a request with n bytes of header fields and
// returns the status of the answer.
func rawHeaderStatus(t *testing.T, addr string, n int) int {
	t.Helper()
	c, err := net.DialTimeout("tcp", strings.TrimPrefix(addr, "http://"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	go fmt.Fprintf(c, "GET /api/v1/codes HTTP/1.1\r\nHost: x\r\nX-Padding: %s\r\n\r\n", strings.Repeat("a", n))
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("read answer: %v", err)
	}
	res.Body.Close()
	return res.StatusCode
}

// TestErrorsEchoNoSecret sends malformed credentials to the login and
// the other credential endpoints: the validation errors name the field and
// the reason, never the value refused.
func TestErrorsEchoNoSecret(t *testing.T) {
	srv := startServer(t, sqldbtest.URL(t, "sqlite"))
	anon := &client{t: t, base: srv.URL}
	admin := login(t, srv.URL, "admin", adminPassword)
	const secret = "Hunter2-Secret-4242"
	cases := []struct {
		what, method, path string
		c                  *client
		body               string
		location           string
	}{
		{"login: password too long", "POST", "/api/v1/auth/login", anon, `{"username":"admin","password":"` + strings.Repeat(secret, 20) + `"}`, "body.password"},
		{"login: password not a string", "POST", "/api/v1/auth/login", anon, `{"username":"admin","password":42424242}`, "body.password"},
		{"login: unknown field", "POST", "/api/v1/auth/login", anon, `{"username":"admin","password":"x","pass":"` + secret + `"}`, ""},
		{"activation: code, password, passcode", "POST", "/api/v1/eid/activation", anon, `{"pid":"001099012345","code":42424242,"password":{"x":"` + secret + `"},"passcode":[42424242]}`, "body.code"},
		{"officer password too long", "PUT", "/api/v1/officers/admin/password", admin, `{"password":"` + strings.Repeat(secret, 20) + `"}`, "body.password"},
		{"TOTP code", "POST", "/api/v1/me/totp/confirm", anon, `{"code":"` + secret + `"}`, ""},
	}
	for _, c := range cases {
		r := c.c.do(c.method, c.path, c.body)
		if r.Status < 400 {
			t.Errorf("%s: %d, want a refusal", c.what, r.Status)
			continue
		}
		if strings.Contains(string(r.Body), secret) || strings.Contains(string(r.Body), "42424242") {
			t.Errorf("%s: the answer echoes the secret: %s", c.what, r.Body)
		}
		if strings.Contains(string(r.Body), `"value"`) {
			t.Errorf("%s: the answer echoes a value: %s", c.what, r.Body)
		}
		if c.location != "" {
			expectProblem(t, r, 422, c.location)
		}
	}
}

// TestSecurityHeaders checks the headers of pages and of the API: nosniff
// on everything, no framing and no referrer on pages, and no-store on
// the API except the public reference data and the API's own document.
func TestSecurityHeaders(t *testing.T) {
	srv := startServer(t, sqldbtest.URL(t, "sqlite"))
	anon := &client{t: t, base: srv.URL}
	admin := login(t, srv.URL, "admin", adminPassword)
	for _, c := range []struct {
		what  string
		c     *client
		path  string
		cache string // "" for no-store
	}{
		{"me", admin, "/api/v1/me", ""},
		{"tokens", admin, "/api/v1/tokens", ""},
		{"refusal", anon, "/api/v1/citizens?name=x", ""},
		{"code lists", anon, "/api/v1/codes", "public, max-age=300"},
		{"units", anon, "/api/v1/units?q=Ha", "public, max-age=300"},
		{"openapi", anon, "/api/v1/openapi.json", "public, max-age=300"},
		{"docs page", anon, "/api/v1/docs", "public, max-age=300"},
		{"health", anon, "/healthz", "-"},
		{"login page", anon, "/login", "-"},
	} {
		r := c.c.do("GET", c.path, nil)
		h := r.Header
		if h.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: X-Content-Type-Options %q", c.what, h.Get("X-Content-Type-Options"))
		}
		if h.Get("X-Frame-Options") != "DENY" || !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
			t.Errorf("%s: may be framed: X-Frame-Options %q, CSP %q", c.what, h.Get("X-Frame-Options"), h.Get("Content-Security-Policy"))
		}
		if h.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("%s: Referrer-Policy %q", c.what, h.Get("Referrer-Policy"))
		}
		switch want := c.cache; {
		case want == "" && h.Get("Cache-Control") != "no-store":
			t.Errorf("%s (%d): Cache-Control %q, want no-store", c.what, r.Status, h.Get("Cache-Control"))
		case want != "" && want != "-" && h.Get("Cache-Control") != want:
			t.Errorf("%s (%d): Cache-Control %q, want %q", c.what, r.Status, h.Get("Cache-Control"), want)
		}
	}
	// A login answers a token: never stored.
	r := anon.do("POST", "/api/v1/auth/login", map[string]string{"username": "admin", "password": adminPassword})
	if r.Status != 200 || r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("login: %d, Cache-Control %q", r.Status, r.Header.Get("Cache-Control"))
	}
}
