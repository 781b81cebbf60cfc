package access_test

import (
	"context"
	"testing"

	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

// BenchmarkLogin is one login on SQLite: an argon2id verification, a new
// session token and its access_event row.
func BenchmarkLogin(b *testing.B) {
	e := newEnv(b, sqldbtest.Open(b, "sqlite"))
	e.officer(b, "lan", actor.Registrar, national)
	ctx := context.Background()
	for b.Loop() {
		if _, _, err := e.svc.Login(ctx, "lan", goodPassword); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAuthenticate is the bearer-token lookup every API request makes,
// on SQLite; the clock stands still, so last_used_at is written only once.
func BenchmarkAuthenticate(b *testing.B) {
	e := newEnv(b, sqldbtest.Open(b, "sqlite"))
	e.officer(b, "lan", actor.Registrar, national)
	secret, _ := e.login(b, "lan", goodPassword)
	ctx := context.Background()
	for b.Loop() {
		if _, err := e.svc.Authenticate(ctx, secret); err != nil {
			b.Fatal(err)
		}
	}
}
