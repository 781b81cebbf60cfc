package access_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

func TestCreateToken(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		o := e.officer(t, "lan", actor.Registrar, national)
		session, _ := e.login(t, "lan", goodPassword)
		ctx := e.authenticated(t, session)

		secret, tok, err := e.svc.CreateToken(ctx, " nightly export ", 0)
		if err != nil {
			t.Fatalf("CreateToken: %v", err)
		}
		if !strings.HasPrefix(secret, "dcu_") || tok.Kind != "api" || tok.Name != "nightly export" || tok.ExpiresAt == nil {
			t.Errorf("CreateToken = %q, %+v", secret, tok)
		}
		a, err := e.svc.Authenticate(context.Background(), secret)
		if err != nil {
			t.Fatalf("Authenticate API token: %v", err)
		}
		if a.ID != o.ID || a.TokenID != tok.ID || a.Role != actor.Registrar {
			t.Errorf("API token authenticates as %+v", a)
		}
		// A token outlives a session, but not its lifetime (TestTokenLifetime).
		e.clock.Advance(access.SessionTTL + time.Hour)
		if _, err := e.svc.Authenticate(context.Background(), secret); err != nil {
			t.Errorf("API token after a session's lifetime: %v", err)
		}

		for _, tc := range []struct {
			name, field string
			ttl         time.Duration
		}{
			{"", "name", 0},
			{"   ", "name", 0},
			{strings.Repeat("x", 101), "name", 0},
			{"ok", "ttl", -time.Hour},
		} {
			_, _, err := e.svc.CreateToken(ctx, tc.name, tc.ttl)
			wantField(t, err, tc.field)
		}
		if _, _, err := e.svc.CreateToken(ctx, strings.Repeat("x", 100), time.Hour); err != nil {
			t.Errorf("100-byte name: %v", err)
		}
		// Only an officer holds tokens; the system names one with CreateTokenFor.
		_, _, err = e.svc.CreateToken(system(), "script", 0)
		wantKind(t, err, errs.Unauthenticated)
		_, _, err = e.svc.CreateToken(context.Background(), "script", 0)
		wantKind(t, err, errs.Unauthenticated)

		cli, tok, err := e.svc.CreateTokenFor(system(), "LAN", "cli", 0)
		if err != nil {
			t.Fatalf("CreateTokenFor: %v", err)
		}
		if a, err := e.svc.Authenticate(context.Background(), cli); err != nil || a.ID != o.ID || a.TokenID != tok.ID {
			t.Errorf("CreateTokenFor token authenticates as %+v, %v", a, err)
		}
		_, _, err = e.svc.CreateTokenFor(ctx, "lan", "cli", 0) // a registrar
		wantKind(t, err, errs.Forbidden)
		_, _, err = e.svc.CreateTokenFor(system(), "nobody", "cli", 0)
		wantKind(t, err, errs.NotFound)
		// The CLI passes its flags straight through: a negative --ttl must
		// not become a token that never expires.
		_, _, err = e.svc.CreateTokenFor(system(), "lan", "cli", -24*time.Hour)
		wantField(t, err, "ttl")
		_, _, err = e.svc.CreateTokenFor(system(), "lan", " ", 0)
		wantField(t, err, "name")
		if _, tok, err := e.svc.CreateTokenFor(system(), "lan", "cli", time.Hour); err != nil || tok.ExpiresAt == nil {
			t.Errorf("CreateTokenFor with a ttl = %+v, %v", tok, err)
		}

		if n := e.events(t, "token_create")["token_create"]; n != 4 {
			t.Errorf("%d token_create events, want 4", n)
		}
	})
}

func TestTokenExpiry(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		e.officer(t, "lan", actor.Viewer, national)
		session, _ := e.login(t, "lan", goodPassword)
		api, tok, err := e.svc.CreateToken(e.authenticated(t, session), "hourly", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if tok.ExpiresAt == nil || !tok.ExpiresAt.Equal(start.Add(time.Hour)) {
			t.Errorf("ExpiresAt = %v, want %v", tok.ExpiresAt, start.Add(time.Hour))
		}

		e.clock.Advance(time.Hour - time.Second)
		if _, err := e.svc.Authenticate(context.Background(), api); err != nil {
			t.Errorf("API token a second before expiry: %v", err)
		}
		e.clock.Advance(time.Second)
		_, err = e.svc.Authenticate(context.Background(), api)
		wantKind(t, err, errs.Unauthenticated)

		e.clock.Advance(access.SessionTTL - time.Hour - time.Second)
		if _, err := e.svc.Authenticate(context.Background(), session); err != nil {
			t.Errorf("session a second before expiry: %v", err)
		}
		e.clock.Advance(2 * time.Second)
		_, err = e.svc.Authenticate(context.Background(), session)
		wantKind(t, err, errs.Unauthenticated)
		if !strings.Contains(err.Error(), "expired") {
			t.Errorf("error %q does not say the token expired", err)
		}
	})
}

func TestRevokeToken(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		admin := e.officer(t, "admin", actor.Admin, national)
		lan := e.officer(t, "lan", actor.Registrar, national)
		e.officer(t, "minh", actor.Registrar, national)
		lanSession, lanTok := e.login(t, "lan", goodPassword)
		minhSession, minhTok := e.login(t, "minh", goodPassword)
		lanCtx := e.authenticated(t, lanSession)

		// Logging out is revoking the session's own token.
		if err := e.svc.RevokeToken(lanCtx, lanTok.ID); err != nil {
			t.Fatalf("RevokeToken own: %v", err)
		}
		_, err := e.svc.Authenticate(context.Background(), lanSession)
		wantKind(t, err, errs.Unauthenticated)
		if !strings.Contains(err.Error(), "revoked") {
			t.Errorf("error %q does not say the token was revoked", err)
		}

		// Another officer's token looks as if it did not exist.
		lanAPI, _, err := e.svc.CreateToken(as(lan), "script", 0)
		if err != nil {
			t.Fatal(err)
		}
		err = e.svc.RevokeToken(as(lan), minhTok.ID)
		wantKind(t, err, errs.NotFound)
		errMissing := e.svc.RevokeToken(as(lan), "0190a1b2-0000-7000-8000-000000000000")
		wantKind(t, errMissing, errs.NotFound)
		if _, err := e.svc.Authenticate(context.Background(), minhSession); err != nil {
			t.Fatalf("minh's session after lan tried to revoke it: %v", err)
		}
		err = e.svc.RevokeToken(context.Background(), minhTok.ID)
		wantKind(t, err, errs.Unauthenticated)

		// An administrator revokes anyone's.
		if err := e.svc.RevokeToken(as(admin), minhTok.ID); err != nil {
			t.Fatalf("RevokeToken by admin: %v", err)
		}
		_, err = e.svc.Authenticate(context.Background(), minhSession)
		wantKind(t, err, errs.Unauthenticated)
		if _, err := e.svc.Authenticate(context.Background(), lanAPI); err != nil {
			t.Errorf("lan's API token after minh's was revoked: %v", err)
		}

		// Revocation is recorded with the token's time of revocation.
		toks, err := e.svc.ListTokens(as(lan))
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(toks, func(tk access.Token) bool { return tk.ID == lanTok.ID })
		if i < 0 || toks[i].RevokedAt == nil || !toks[i].RevokedAt.Equal(start) {
			t.Errorf("revoked session listed as %+v", toks)
		}
		if n := e.events(t, "token_revoke")["token_revoke"]; n != 2 {
			t.Errorf("%d token_revoke events, want 2", n)
		}
	})
}

func TestListTokens(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		lan := e.officer(t, "lan", actor.Registrar, national)
		admin := e.officer(t, "admin", actor.Admin, national)
		lanSession, s1 := e.login(t, "lan", goodPassword)
		e.clock.Advance(time.Minute)
		_, s2 := e.login(t, "lan", goodPassword)
		_, a1, err := e.svc.CreateToken(as(lan), "script", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		_, adminTok := e.login(t, "admin", goodPassword)
		if _, _, err := e.svc.CreateToken(as(admin), "admin script", 0); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(5 * time.Minute)
		e.authenticated(t, lanSession)

		toks, err := e.svc.ListTokens(as(lan))
		if err != nil {
			t.Fatalf("ListTokens: %v", err)
		}
		var ids []string
		for _, tk := range toks {
			ids = append(ids, tk.ID)
		}
		// Newest first, and only the officer's own, even for an administrator.
		if want := []string{a1.ID, s2.ID, s1.ID}; !slices.Equal(ids, want) {
			t.Errorf("ListTokens(lan) = %v, want %v", ids, want)
		}
		byID := map[string]access.Token{}
		for _, tk := range toks {
			byID[tk.ID] = tk
		}
		if got := byID[s1.ID]; got.LastUsedAt == nil || !got.LastUsedAt.Equal(start.Add(6*time.Minute)) || got.Kind != "session" {
			t.Errorf("used session listed as %+v", got)
		}
		if got := byID[s2.ID]; got.LastUsedAt != nil {
			t.Errorf("unused session listed with last use %v", got.LastUsedAt)
		}
		if got := byID[a1.ID]; got.Kind != "api" || got.Name != "script" || got.ExpiresAt == nil || !got.ExpiresAt.Equal(start.Add(time.Minute+time.Hour)) {
			t.Errorf("API token listed as %+v", got)
		}

		adminToks, err := e.svc.ListTokens(as(admin))
		if err != nil {
			t.Fatal(err)
		}
		if len(adminToks) != 2 || !slices.ContainsFunc(adminToks, func(tk access.Token) bool { return tk.ID == adminTok.ID }) {
			t.Errorf("ListTokens(admin) = %+v", adminToks)
		}
		_, err = e.svc.ListTokens(system())
		wantKind(t, err, errs.Unauthenticated)
		_, err = e.svc.ListTokens(context.Background())
		wantKind(t, err, errs.Unauthenticated)
	})
}

func TestAuthenticateGarbage(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		e.officer(t, "lan", actor.Viewer, national)
		secret, _ := e.login(t, "lan", goodPassword)
		random := make([]byte, 32)
		rand.Read(random)
		for name, s := range map[string]string{
			"empty":            "",
			"prefix only":      "dcu_",
			"garbage":          "not a token",
			"without prefix":   strings.TrimPrefix(secret, "dcu_"),
			"upper-case":       "DCU_" + strings.TrimPrefix(secret, "dcu_"),
			"bearer scheme":    "Bearer " + secret,
			"trailing space":   secret + " ",
			"leading space":    " " + secret,
			"extra character":  secret + "A",
			"truncated":        secret[:len(secret)-1],
			"random":           "dcu_" + base64.RawURLEncoding.EncodeToString(random),
			"very long":        secret + strings.Repeat("A", 1000),
			"SQL":              "dcu_' OR '1'='1",
			"hash of a secret": "dcu_" + strings.Repeat("0", 64),
		} {
			t.Run(name, func(t *testing.T) {
				a, err := e.svc.Authenticate(context.Background(), s)
				wantKind(t, err, errs.Unauthenticated)
				if a != nil {
					t.Errorf("Authenticate returned actor %+v with an error", a)
				}
			})
		}
		if _, err := e.svc.Authenticate(context.Background(), secret); err != nil {
			t.Fatalf("the real secret: %v", err)
		}
	})
}

// The store holds enough to check a secret, never the secret itself.
func TestTokenSecretNotStored(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		lan := e.officer(t, "lan", actor.Viewer, national)
		session, _ := e.login(t, "lan", goodPassword)
		api, _, err := e.svc.CreateToken(as(lan), "script", 0)
		if err != nil {
			t.Fatal(err)
		}
		cli, _, err := e.svc.CreateTokenFor(system(), "lan", "cli", 0)
		if err != nil {
			t.Fatal(err)
		}
		e.authenticated(t, api)
		secrets := []string{session, api, cli}
		for _, s := range secrets {
			if !strings.HasPrefix(s, "dcu_") || len(s) < 4+43 {
				t.Errorf("secret %q is not dcu_ and 256 random bits", s)
			}
		}

		ctx := context.Background()
		rows, err := db.QueryContext(ctx, `SELECT id, officer_id, kind, name, secret_hash FROM officer_token`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		n := 0
		hashes := map[string]bool{}
		for rows.Next() {
			var cols [5]string
			if err := rows.Scan(&cols[0], &cols[1], &cols[2], &cols[3], &cols[4]); err != nil {
				t.Fatal(err)
			}
			n++
			hash := cols[4]
			if len(hash) != 64 || strings.Trim(hash, "0123456789abcdef") != "" {
				t.Errorf("secret_hash %q is not a hex SHA-256", hash)
			}
			hashes[hash] = true
			for _, s := range secrets {
				random := strings.TrimPrefix(s, "dcu_")
				for _, c := range cols {
					if strings.Contains(c, random) || strings.Contains(c, random[:16]) {
						t.Errorf("officer_token stores (part of) secret %q in %q", s, c)
					}
				}
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if n != 3 || len(hashes) != 3 {
			t.Errorf("%d token rows with %d distinct hashes, want 3", n, len(hashes))
		}

		// Nor does the access log.
		rows, err = db.QueryContext(ctx, `SELECT actor_id, actor_name, action, subject_pid, purpose, detail, source FROM access_event`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var cols [7]string
			if err := rows.Scan(&cols[0], &cols[1], &cols[2], &cols[3], &cols[4], &cols[5], &cols[6]); err != nil {
				t.Fatal(err)
			}
			for _, c := range cols {
				for _, s := range secrets {
					if strings.Contains(c, strings.TrimPrefix(s, "dcu_")[:16]) {
						t.Errorf("access_event stores (part of) secret %q in %q", s, c)
					}
				}
				if strings.Contains(c, goodPassword) {
					t.Errorf("access_event stores the password in %q", c)
				}
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	})
}
