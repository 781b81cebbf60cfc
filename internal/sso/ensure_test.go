package sso

import (
	"context"
	"testing"

	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

// EnsureClient registers the platform's own client, keeps it as it is
// when nothing changed (no write, no record), rewrites it when the public
// URL or the secret changed (recorded), leaves an operator's disabling,
// and is the system's only.
func TestEnsureClient(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		s, _ := newService(t, db)
		sys := actor.With(context.Background(), actor.SystemActor("test"))
		in := NewClient{ID: "own-portal", Name: "Cổng", Type: "web", RedirectURIs: []string{"http://localhost:8080/portal/callback"}, Scopes: []string{"pid"}}
		count := func() int {
			var n int
			db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM access_event WHERE action = 'oidc_client_update'`).Scan(&n)
			return n
		}
		if err := s.EnsureClient(sys, in, "secret-1"); err != nil {
			t.Fatal(err)
		}
		if err := s.EnsureClient(sys, in, "secret-1"); err != nil || count() != 0 {
			t.Fatalf("the same start again: %v, %d updates recorded", err, count())
		}
		in.RedirectURIs = []string{"http://127.0.0.1:9000/portal/callback"}
		if err := s.EnsureClient(sys, in, "secret-2"); err != nil || count() != 1 {
			t.Fatalf("a new public URL and secret: %v, %d updates recorded", err, count())
		}
		c, err := s.readClient(context.Background(), "own-portal")
		if err != nil || !c.checkSecret("secret-2") || c.checkSecret("secret-1") || c.RedirectURIv[0] != in.RedirectURIs[0] {
			t.Fatalf("the client after the change: %+v %v", c, err)
		}
		if _, err := db.ExecContext(context.Background(), `UPDATE oidc_client SET disabled = true WHERE id = 'own-portal'`); err != nil {
			t.Fatal(err)
		}
		in.Name = "Cổng mới"
		s.EnsureClient(sys, in, "secret-2")
		var disabled bool
		db.QueryRowContext(context.Background(), `SELECT disabled FROM oidc_client WHERE id = 'own-portal'`).Scan(&disabled)
		if !disabled {
			t.Error("a start re-enabled a client an operator disabled")
		}
		officer := actor.With(context.Background(), &actor.Actor{ID: "o", Kind: actor.Officer, Role: actor.Admin, Jurisdiction: actor.Jurisdiction{Level: actor.National}})
		if err := s.EnsureClient(officer, in, "x"); !errs.Is(err, errs.Forbidden) {
			t.Errorf("an administrator ensured a platform client: %v", err)
		}
	})
}
