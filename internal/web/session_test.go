package web

import (
	"crypto/tls"
	"net/http/httptest"
	"strings"
	"testing"
)

// The session cookie: HttpOnly and SameSite=Lax always; Secure with the
// __Host- prefix when the console is served over TLS or at an https
// public URL.
func TestCookieFlags(t *testing.T) {
	for _, c := range []struct {
		public string
		tls    bool
		secure bool
	}{{"http://localhost:8080", false, false}, {"https://dancu.example.vn", false, true}, {"http://localhost:8080", true, true}} {
		s := &Web{Deps: Deps{PublicURL: c.public}}
		r := httptest.NewRequest("GET", "/console/", nil)
		if c.tls {
			r.TLS = &tls.ConnectionState{}
		}
		w := httptest.NewRecorder()
		s.setCookie(w, r, sessionCookie, "secret", 60)
		h := w.Header().Get("Set-Cookie")
		for _, want := range []string{"HttpOnly", "SameSite=Lax", "Path=/"} {
			if !strings.Contains(h, want) {
				t.Errorf("%s tls=%v: %q lacks %s", c.public, c.tls, h, want)
			}
		}
		if got := strings.Contains(h, "Secure") && strings.HasPrefix(h, "__Host-"+sessionCookie+"="); got != c.secure {
			t.Errorf("%s tls=%v: %q, want secure=%v", c.public, c.tls, h, c.secure)
		}
		if !c.secure && strings.Contains(h, "Secure") {
			t.Errorf("%s: a Secure cookie over plain HTTP would never come back: %q", c.public, h)
		}
	}
}

// safeNext keeps the redirect after sign-in inside the console.
func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/console/citizens?q=a": "/console/citizens?q=a", "https://evil.example/": "/console/", "//evil.example/console/": "/console/",
		"/console/\\evil": "/console/", "/consolex": "/console/", "": "/console/", "/console/../api": "/console/",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}
