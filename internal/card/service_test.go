package card_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/adminunit"
	"github.com/dancu-vn/dancu/internal/audit"
	"github.com/dancu-vn/dancu/internal/card"
	"github.com/dancu-vn/dancu/internal/codelist"
	"github.com/dancu-vn/dancu/internal/eid"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/personalid"
	"github.com/dancu-vn/dancu/internal/pki"
	"github.com/dancu-vn/dancu/internal/registry"
	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

// TestCardLife: first card, passive authentication, a refused second
// first card, loss, a reissue that supersedes, and revocation on death.
func TestCardLife(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		units, err := adminunit.Load()
		if err != nil {
			t.Fatal(err)
		}
		rec := audit.NewRecorder(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
		defer rec.Close()
		policy := access.NewPolicy(units)
		reg := registry.NewService(db, units, codelist.New(), policy, rec, time.Now)
		sealer, _ := eid.NewSealer(bytes.Repeat([]byte{4}, 32))
		store := pki.NewStore(db, sealer)
		svc := card.NewService(db, reg, store, policy, time.Now)
		sys := actor.With(ctx, actor.SystemActor("test"))
		officer := actor.With(ctx, &actor.Actor{ID: "o1", Kind: actor.Officer, Name: "lan", Role: actor.Registrar,
			Jurisdiction: actor.Jurisdiction{Level: actor.Commune, Code: "00004"}})
		const pid = "001090123456"
		if _, err := reg.RegisterExisting(sys, registry.LegacyRecord{PID: pid, Details: registry.Details{
			Name: registry.Name{Family: "Nguyễn", Middle: "Văn", Given: "An"}, BirthDate: "1990-05-17", Sex: personalid.Male,
			PermanentResidence: &registry.Address{Commune: "00004", Detail: "Phố Phan Đình Phùng 12"}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Apply(officer, pid, "first", ""); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Apply(officer, pid, "first", ""); !errs.Is(err, errs.Conflict) {
			t.Fatalf("a second open application: %v", err)
		}
		issue := func(kind, reason string) card.Card {
			t.Helper()
			app, err := svc.Apply(officer, pid, kind, reason)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := svc.Produce(officer, app.ID); !errs.Is(err, errs.Conflict) {
				t.Fatalf("produced before approval: %v", err)
			}
			if _, err := svc.Decide(officer, app.ID, true, ""); err != nil {
				t.Fatal(err)
			}
			c, err := svc.Produce(officer, app.ID)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		// No Document Signer yet: production waits for pki init.
		var first card.CardApplication
		db.QueryRowContext(ctx, `SELECT id FROM card_application WHERE pid = $1`, pid).Scan(&first.ID)
		svc.Decide(officer, first.ID, true, "")
		if _, err := svc.Produce(officer, first.ID); !errs.Is(err, errs.Unavailable) {
			t.Fatalf("production without a PKI: %v", err)
		}
		if _, _, err := store.Init(ctx, time.Now()); err != nil {
			t.Fatal(err)
		}
		c1, err := svc.Produce(officer, first.ID)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := card.Expiry("1990-05-17", c1.IssuedOn)
		if c1.Status != "active" || c1.ExpiresOn != want || c1.PID != pid {
			t.Fatalf("card %+v, want expiry %s", c1, want)
		}
		sod1, groups1, err := svc.Chip(officer, c1.ID)
		if err != nil {
			t.Fatal(err)
		}
		v, err := svc.Verify(officer, sod1, groups1)
		if err != nil || !v.Valid || v.CardStatus != "active" {
			t.Fatalf("verify a fresh card: %+v, %v", v, err)
		}
		changed := map[int][]byte{1: bytes.Clone(groups1[1]), 13: groups1[13]}
		changed[1][10] ^= 1
		if v, _ := svc.Verify(officer, sod1, changed); v.Valid {
			t.Error("a changed DG1 passed")
		}
		if _, err := svc.Apply(officer, pid, "first", ""); err == nil {
			t.Error("a first card for someone who holds one")
		}
		// Lost, then reissued: the old card is superseded.
		if err := svc.ReportLost(officer, pid); err != nil {
			t.Fatal(err)
		}
		if v, _ := svc.Verify(officer, sod1, groups1); v.Valid || v.CardStatus != "lost" {
			t.Errorf("a lost card: %+v", v)
		}
		c2 := issue("reissue", "lost")
		if v, _ := svc.Verify(officer, sod1, groups1); v.CardStatus != "lost" {
			t.Errorf("the lost card after the reissue: %+v", v)
		}
		sod2, groups2, _ := svc.Chip(officer, c2.ID)
		if v, _ := svc.Verify(officer, sod2, groups2); !v.Valid {
			t.Errorf("the reissued card: %+v", v)
		}
		c3 := issue("renewal", "")
		if v, _ := svc.Verify(officer, sod2, groups2); v.CardStatus != "superseded" || v.Valid {
			t.Errorf("a superseded card: %+v", v)
		}
		var active int
		db.QueryRowContext(ctx, `SELECT COUNT(*) FROM card WHERE pid = $1 AND status = 'active'`, pid).Scan(&active)
		if active != 1 {
			t.Errorf("%d active cards", active)
		}
		// A death revokes the card.
		if _, err := reg.SetStatus(officer, pid, 0, registry.Dead, registry.StatusChange{Date: "2026-11-01", Basis: registry.Basis{Reason: "death certificate"}}); err != nil {
			t.Fatal(err)
		}
		sod3, groups3, _ := svc.Chip(officer, c3.ID)
		if v, _ := svc.Verify(officer, sod3, groups3); v.Valid || v.CardStatus != "revoked" {
			t.Errorf("after death: %+v", v)
		}
		if _, err := svc.Verify(context.Background(), sod3, groups3); !errs.Is(err, errs.Unauthenticated) {
			t.Errorf("verify without an actor: %v", err)
		}
	})
}
