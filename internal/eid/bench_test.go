package eid_test

import (
	"testing"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

// BenchmarkLogin is a whole citizen password login: the account read, the
// argon2id verification (19 MiB, 2 passes) and the audit record.
func BenchmarkLogin(b *testing.B) {
	e := newEnv(b, sqldbtest.Open(b, "sqlite"))
	p := e.adult(b, baDinh)
	e.active(b, p)
	ctx := from("192.0.2.10")
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := e.svc.Login(ctx, p.PID, goodPassword); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkArgon2id is the password hash alone, for comparison.
func BenchmarkArgon2id(b *testing.B) {
	h := access.HashPassword(goodPassword)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if !access.VerifyPassword(h, goodPassword) {
				b.Fatal("no match")
			}
		}
	})
}
