package card_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
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
	"github.com/dancu-vn/dancu/internal/keyring"
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
		e := newCardEnv(t, db)
		svc, reg, store, sys, officer := e.svc, e.reg, e.store, e.sys, e.officer
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
		if err != nil || !v.Valid || v.CardStatus != "active" || strings.Count(v.Signature, ".") != 2 {
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

type cardEnv struct {
	svc          *card.Service
	reg          *registry.Service
	store        *pki.Store
	sys, officer context.Context
}

func newCardEnv(t *testing.T, db *sqldb.DB) cardEnv {
	t.Helper()
	units, err := adminunit.Load()
	if err != nil {
		t.Fatal(err)
	}
	rec := audit.NewRecorder(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	t.Cleanup(rec.Close)
	policy := access.NewPolicy(units)
	reg := registry.NewService(db, units, codelist.New(), policy, rec, time.Now)
	sealer, _ := eid.NewSealer(bytes.Repeat([]byte{4}, 32))
	store := pki.NewStore(db, sealer)
	docs := keyring.New(db, sealer, "doc_signing_key", 90*24*time.Hour, 400*24*time.Hour)
	return cardEnv{svc: card.NewService(db, reg, store, policy, docs, time.Now), reg: reg, store: store,
		sys: actor.With(context.Background(), actor.SystemActor("test")),
		officer: actor.With(context.Background(), &actor.Actor{ID: "o1", Kind: actor.Officer, Name: "lan", Role: actor.Registrar,
			Jurisdiction: actor.Jurisdiction{Level: actor.Commune, Code: "00004"}})}
}

// TestBatchDeliveryCounts: a unit's approved applications are produced as
// one batch, delivered one by one, and counted per unit.
func TestBatchDeliveryCounts(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newCardEnv(t, db)
		if _, _, err := e.store.Init(context.Background(), time.Now()); err != nil {
			t.Fatal(err)
		}
		for _, pid := range []string{"001090000101", "001090000102", "001090000103"} {
			if _, err := e.reg.RegisterExisting(e.sys, registry.LegacyRecord{PID: pid, Details: registry.Details{
				Name: registry.Name{Family: "Trần", Given: "Minh"}, BirthDate: "1990-01-01", Sex: personalid.Male,
				PermanentResidence: &registry.Address{Commune: "00004", Detail: "số 1"}}}); err != nil {
				t.Fatal(err)
			}
			app, err := e.svc.Apply(e.officer, pid, "first", "")
			if err != nil {
				t.Fatal(err)
			}
			if pid != "001090000103" { // one stays waiting for a decision
				e.svc.Decide(e.officer, app.ID, true, "")
			}
		}
		other := actor.With(context.Background(), &actor.Actor{ID: "o2", Kind: actor.Officer, Name: "hong", Role: actor.Registrar,
			Jurisdiction: actor.Jurisdiction{Level: actor.Commune, Code: "26740"}})
		if _, err := e.svc.ProduceBatch(other, "00004", 0); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("a batch by another commune: %v", err)
		}
		b, err := e.svc.ProduceBatch(e.officer, "00004", 0)
		if err != nil || len(b.Cards) != 2 || len(b.Failed) != 0 {
			t.Fatalf("batch %+v, %v", b, err)
		}
		if err := e.svc.Deliver(e.officer, b.Cards[0].ID); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Deliver(e.officer, b.Cards[0].ID); !errs.Is(err, errs.Conflict) {
			t.Errorf("delivered twice: %v", err)
		}
		counts, err := e.svc.Counts(e.officer)
		if err != nil || len(counts) != 1 || counts[0] != (card.UnitCounts{Commune: "00004", Received: 3, Printed: 2, Delivered: 1}) {
			t.Errorf("counts %+v, %v", counts, err)
		}
		if c, _ := e.svc.Counts(other); len(c) != 0 {
			t.Errorf("another commune sees %+v", c)
		}
	})
}
