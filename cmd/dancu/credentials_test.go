package main

import (
	"strconv"
	"testing"

	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

// TestOfficerCredentials drives the credential rules through the API on
// both stores: no lock-out (guessing slows the guesser's address with
// Retry-After, the same for unknown and known names, and never the owner
// elsewhere — the admin included); the own password changes only with the
// current one; a reset or a change of role ends every session and token;
// API tokens expire.
func TestOfficerCredentials(t *testing.T) {
	for _, engine := range sqldbtest.EngineNames() {
		t.Run(engine, func(t *testing.T) {
			srv := startServer(t, sqldbtest.URL(t, engine))
			admin := login(t, srv.URL, "admin", adminPassword)
			anon := &client{t: t, base: srv.URL}
			admin.must(201, "POST", "/api/v1/officers", map[string]any{"username": "lan", "display_name": "Lan", "role": "registrar", "password": "Pw-lan-first-2026!",
				"jurisdiction": map[string]string{"level": "national"}})

			// Wrong passwords for the admin and for nobody, from this
			// address: the same answers, then a wait with Retry-After.
			for _, name := range []string{"admin", "khong-ai"} {
				var statuses []int
				for range 6 {
					r := anon.do("POST", "/api/v1/auth/login", map[string]string{"username": name, "password": "Wrong-guess-2026!"})
					statuses = append(statuses, r.Status)
					if r.Status == 429 {
						if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s < 30 || s > 32 {
							t.Errorf("%s: Retry-After %q", name, r.Header.Get("Retry-After"))
						}
						expectProblem(t, r, 429, "")
					}
				}
				if want := []int{401, 401, 401, 401, 401, 429}; !equalInts(statuses, want) {
					t.Errorf("%s: statuses %v, want %v", name, statuses, want)
				}
			}
			// The admin's session made before goes on; no lock-out.
			admin.must(200, "GET", "/api/v1/me", nil)

			// The own password: the current one is asked.
			lan := login(t, srv.URL, "lan", "Pw-lan-first-2026!")
			other := login(t, srv.URL, "lan", "Pw-lan-first-2026!")
			var tok struct{ Token string }
			lan.must(201, "POST", "/api/v1/tokens", map[string]any{"name": "script"}).json(t, &tok)
			script := &client{t: t, base: srv.URL, token: tok.Token}
			expectProblem(t, lan.do("PUT", "/api/v1/me/password", map[string]string{"current_password": "Not-it-2026!", "password": "Pw-lan-second-2026!"}),
				422, "body.current_password")
			r := lan.do("PUT", "/api/v1/me/password", map[string]string{"current_password": "Pw-lan-first-2026!", "password": "Pw-lan-second-2026!"})
			if r.Status != 204 {
				t.Fatalf("change own password: %d %s", r.Status, r.Body)
			}
			lan.must(200, "GET", "/api/v1/me", nil)
			other.must(401, "GET", "/api/v1/me", nil)
			script.must(401, "GET", "/api/v1/me", nil)
			// Not through the administrators' reset, even for an admin.
			expectProblem(t, admin.do("PUT", "/api/v1/officers/admin/password", map[string]string{"password": "Pw-admin-new-2026!"}), 403, "")

			// A reset by an administrator ends every session.
			admin.must(204, "PUT", "/api/v1/officers/lan/password", map[string]string{"password": "Pw-lan-third-2026!"})
			lan.must(401, "GET", "/api/v1/me", nil)
			lan = login(t, srv.URL, "lan", "Pw-lan-third-2026!")
			// A change of role ends every session.
			admin.must(200, "PATCH", "/api/v1/officers/lan", map[string]any{"role": "viewer"})
			lan.must(401, "GET", "/api/v1/me", nil)
			var me struct{ Role string }
			login(t, srv.URL, "lan", "Pw-lan-third-2026!").must(200, "GET", "/api/v1/me", nil).json(t, &me)
			if me.Role != "viewer" {
				t.Errorf("role after the change: %q", me.Role)
			}
			expectProblem(t, admin.do("PATCH", "/api/v1/officers/lan", map[string]any{"role": "chief"}), 422, "body.role")

			// API tokens expire: 30 days by default, at most 90.
			var made struct {
				Info struct {
					ExpiresAt *string `json:"expires_at"`
				} `json:"info"`
			}
			admin.must(201, "POST", "/api/v1/tokens", map[string]any{"name": "x"}).json(t, &made)
			if made.Info.ExpiresAt == nil {
				t.Error("an API token without expiry")
			}
			expectProblem(t, admin.do("POST", "/api/v1/tokens", map[string]any{"name": "x", "ttl_seconds": 91 * 86400}), 422, "")
		})
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
