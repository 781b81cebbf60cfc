package card_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
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
	"github.com/dancu-vn/dancu/internal/events/eventstest"
	"github.com/dancu-vn/dancu/internal/keyring"
	"github.com/dancu-vn/dancu/internal/personalid"
	"github.com/dancu-vn/dancu/internal/pki"
	"github.com/dancu-vn/dancu/internal/registry"
	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
	"github.com/dancu-vn/dancu/internal/synth"
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
		*e.clock = time.Date(2026, 6, 1, 3, 0, 0, 0, time.UTC)
		if _, err := svc.Apply(officer, intake(pid, "first", "")); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Apply(officer, intake(pid, "first", "")); !errs.Is(err, errs.Conflict) {
			t.Fatalf("a second open application: %v", err)
		}
		issue := func(kind, reason string) card.Card {
			t.Helper()
			app, err := svc.Apply(officer, intake(pid, kind, reason))
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
		if _, _, err := store.Init(ctx, *e.clock); err != nil {
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
		sod1, com1, groups1, err := svc.Chip(officer, c1.ID)
		if err != nil {
			t.Fatal(err)
		}
		// EF.COM is part of the chip: LDS 1.7 and the groups the SOD hashes.
		if ci, err := card.ParseCOM(com1); err != nil || ci.LDSVersion != "0107" || !slices.Equal(ci.DataGroups, []int{1, 2, 13, 14, 15}) {
			t.Errorf("EF.COM of the card: %+v, %v", ci, err)
		}
		if ch := card.CheckCOM(com1, sod1); !ch.OK {
			t.Errorf("EF.COM against the SOD: %+v", ch)
		}
		if p := c1.Printed; p == nil || !strings.HasPrefix(p.QR, "001090123456||Nguyễn Văn An|17051990|Nam|Phố Phan Đình Phùng 12") ||
			!strings.HasSuffix(p.QR, "|01062026") || p.ExpiresOn != "17/05/2030" || p.IssuedOn != "01/06/2026" || !p.Photo || p.IssuedBy != "Bộ Công an" {
			t.Errorf("printed %+v", p)
		} else if lines, _ := card.ParseDG1(groups1[1]); lines != p.MRZ {
			t.Errorf("printed MRZ %q, chip %q", p.MRZ, lines)
		}
		if img, _, err := card.ParseDG2(groups1[2]); err != nil || !bytes.Equal(img, face) {
			t.Fatalf("DG2 of the card: %q, %v", img, err)
		}
		v, err := svc.Verify(officer, sod1, groups1, card.VerifyOptions{})
		if err != nil || !v.Valid || v.CardStatus != "active" || strings.Count(v.Signature, ".") != 2 || len(v.Failed) != 0 || v.Failed == nil {
			t.Fatalf("verify a fresh card: %+v, %v", v, err)
		}
		var names []string
		for _, c := range v.Checks {
			names = append(names, c.Name)
		}
		if want := []string{"data_groups", "sod", "econtent_type", "signature", "chain", "ds_key_usage", "security_object", "dg1", "dg2", "dg13", "dg14", "dg15", "dg2_image", "revocation"}; !slices.Equal(names, want) {
			t.Errorf("checks %v, want %v", names, want)
		}
		for _, n := range []int{1, 2, 13, 14, 15} {
			changed := maps.Clone(groups1)
			changed[n] = bytes.Clone(groups1[n])
			changed[n][len(changed[n])/2] ^= 1
			if v, _ := svc.Verify(officer, sod1, changed, card.VerifyOptions{}); v.Valid || !slices.Contains(v.Failed, fmt.Sprintf("dg_hash_mismatch:DG%d", n)) {
				t.Errorf("a changed DG%d: %+v", n, v.Failed)
			}
		}
		if _, err := svc.Apply(officer, intake(pid, "first", "")); !errs.Is(err, errs.Invalid) {
			t.Errorf("a first card for someone who holds one: %v", err)
		}
		// A renewal before the 2 years ahead of the card's expiry is refused.
		if _, err := svc.Apply(officer, intake(pid, "renewal", "")); !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "from 2028-05-17") {
			t.Errorf("an early renewal: %v", err)
		}
		// Lost, then reissued: the old card is superseded.
		if err := svc.ReportLost(officer, pid); err != nil {
			t.Fatal(err)
		}
		if v, _ := svc.Verify(officer, sod1, groups1, card.VerifyOptions{}); v.Valid || v.CardStatus != "lost" {
			t.Errorf("a lost card: %+v", v)
		}
		if _, err := svc.Apply(officer, intake(pid, "renewal", "")); !errs.Is(err, errs.Invalid) {
			t.Errorf("a renewal of a lost card: %v", err)
		}
		c2 := issue("reissue", "lost")
		if v, _ := svc.Verify(officer, sod1, groups1, card.VerifyOptions{}); v.CardStatus != "lost" {
			t.Errorf("the lost card after the reissue: %+v", v)
		}
		if c2.ExpiresOn != "2030-05-17" {
			t.Errorf("reissued card expires %s", c2.ExpiresOn)
		}
		sod2, _, groups2, _ := svc.Chip(officer, c2.ID)
		if v, _ := svc.Verify(officer, sod2, groups2, card.VerifyOptions{}); !v.Valid {
			t.Errorf("the reissued card: %+v", v)
		}
		// From 2 years before the 40th birthday a renewal is taken, and the
		// new card is valid until 60.
		*e.clock = time.Date(2028, 5, 15, 17, 0, 0, 0, time.UTC) // 16 May in Viet Nam
		if _, err := svc.Apply(officer, intake(pid, "renewal", "")); !errs.Is(err, errs.Invalid) {
			t.Errorf("a renewal the day before: %v", err)
		}
		*e.clock = time.Date(2028, 5, 16, 17, 0, 0, 0, time.UTC) // 17 May in Viet Nam
		c3 := issue("renewal", "")
		if c3.ExpiresOn != "2050-05-17" {
			t.Errorf("renewed card expires %s", c3.ExpiresOn)
		}
		if v, _ := svc.Verify(officer, sod2, groups2, card.VerifyOptions{}); v.CardStatus != "superseded" || v.Valid {
			t.Errorf("a superseded card: %+v", v)
		}
		var active int
		db.QueryRowContext(ctx, `SELECT COUNT(*) FROM card WHERE pid = $1 AND status = 'active'`, pid).Scan(&active)
		if active != 1 {
			t.Errorf("%d active cards", active)
		}
		// After its last day the card is reported expired.
		sod3, _, groups3, _ := svc.Chip(officer, c3.ID)
		*e.clock = time.Date(2050, 5, 16, 16, 59, 0, 0, time.UTC) // 16 May, 23:59 in Viet Nam
		if v, _ := svc.Verify(officer, sod3, groups3, card.VerifyOptions{}); v.CardStatus != "active" {
			t.Errorf("on its last day: %+v", v.CardStatus)
		}
		*e.clock = time.Date(2050, 5, 17, 17, 0, 0, 0, time.UTC)
		if v, _ := svc.Verify(officer, sod3, groups3, card.VerifyOptions{}); v.Valid || v.CardStatus != "expired" {
			t.Errorf("after its last day: %+v", v)
		}
		// A death revokes the card.
		if _, err := reg.SetStatus(officer, pid, 0, registry.Dead, registry.StatusChange{Date: "2026-11-01", Basis: registry.Basis{Reason: "death certificate"}}); err != nil {
			t.Fatal(err)
		}
		if v, _ := svc.Verify(officer, sod3, groups3, card.VerifyOptions{}); v.Valid || v.CardStatus != "revoked" {
			t.Errorf("after death: %+v", v)
		}
		// Every change of the card went out as an event, in order.
		statuses := eventstest.Field(t, db, card.EventCardStatus, pid, "status")
		if got := strings.Join(statuses, " "); got != "active lost active superseded active revoked" {
			t.Errorf("card events: %s", got)
		}
		if _, err := svc.Verify(context.Background(), sod3, groups3, card.VerifyOptions{}); !errs.Is(err, errs.Unauthenticated) {
			t.Errorf("verify without an actor: %v", err)
		}
	})
}

type cardEnv struct {
	svc          *card.Service
	reg          *registry.Service
	store        *pki.Store
	sys, officer context.Context
	clock        *time.Time  // what the service takes for now; tests move it
	log          *syncBuffer // what the service's audit recorder logged, at debug level
}

// syncBuffer is a bytes.Buffer for a logger on another goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.b.Bytes())
}

// firstCard registers a person of Ba Đình and takes their first card
// through application, approval and production.
func (e cardEnv) firstCard(t testing.TB, pid string, name registry.Name, birth string, sex personalid.Sex) card.Card {
	t.Helper()
	if _, err := e.reg.RegisterExisting(e.sys, registry.LegacyRecord{PID: pid, Details: registry.Details{
		Name: name, BirthDate: birth, Sex: sex, PermanentResidence: &registry.Address{Commune: "00004", Detail: "số 3"}}}); err != nil {
		t.Fatal(err)
	}
	app, err := e.svc.Apply(e.officer, intake(pid, "first", ""))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Decide(e.officer, app.ID, true, ""); err != nil {
		t.Fatal(err)
	}
	c, err := e.svc.Produce(e.officer, app.ID)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// face is a real (small) JPEG portrait.
var face = makeJPEG(48, 64, false)

// intake is an application with the face image and both index fingers.
func intake(pid, kind, reason string) card.Intake {
	return card.Intake{PID: pid, Kind: kind, Reason: reason, Photo: face, Fingerprints: []card.Fingerprint{
		{Finger: "right_index", Template: []byte("FMR\x00 right")}, {Finger: "left_index", Template: []byte("FMR\x00 left")}}}
}

func newCardEnv(t testing.TB, db *sqldb.DB) cardEnv {
	t.Helper()
	units, err := adminunit.Load()
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	rec := audit.NewRecorder(db, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(rec.Close)
	policy := access.NewPolicy(units)
	reg := registry.NewService(db, units, codelist.New(), policy, rec, time.Now)
	sealer, _ := eid.NewSealer(bytes.Repeat([]byte{4}, 32))
	store := pki.NewStore(db, sealer)
	docs := keyring.New(db, sealer, "doc_signing_key", 90*24*time.Hour, 400*24*time.Hour)
	clock := time.Now()
	now := func() time.Time { return clock }
	return cardEnv{svc: card.NewService(db, reg, store, policy, sealer, docs, now), reg: reg, store: store, clock: &clock, log: logs,
		sys: actor.With(context.Background(), actor.SystemActor("test")),
		officer: actor.With(context.Background(), &actor.Actor{ID: "o1", Kind: actor.Officer, Name: "lan", Role: actor.Registrar,
			Jurisdiction: actor.Jurisdiction{Level: actor.Commune, Code: "00004"}})}
}

// TestBatchDeliveryCounts: a unit's approved applications are produced as
// one batch, delivered one by one, and counted per unit.
func TestBatchDeliveryCounts(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newCardEnv(t, db)
		if _, _, err := e.store.Init(context.Background(), *e.clock); err != nil {
			t.Fatal(err)
		}
		for _, pid := range []string{"001090000101", "001090000102", "001090000103"} {
			if _, err := e.reg.RegisterExisting(e.sys, registry.LegacyRecord{PID: pid, Details: registry.Details{
				Name: registry.Name{Family: "Trần", Given: "Minh"}, BirthDate: "1990-01-01", Sex: personalid.Male,
				PermanentResidence: &registry.Address{Commune: "00004", Detail: "số 1"}}}); err != nil {
				t.Fatal(err)
			}
			app, err := e.svc.Apply(e.officer, intake(pid, "first", ""))
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

// TestIntake: the face image and fingerprints are checked field by field
// (nothing is stored when they are wrong), fingerprints are sealed at rest,
// and a child under 6 gets a card without them.
func TestIntake(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newCardEnv(t, db)
		*e.clock = time.Date(2026, 6, 1, 3, 0, 0, 0, time.UTC)
		if _, _, err := e.store.Init(ctx, *e.clock); err != nil {
			t.Fatal(err)
		}
		for pid, birth := range map[string]string{"001190000201": "1990-01-01", "001322000202": "2022-01-01"} {
			if _, err := e.reg.RegisterExisting(e.sys, registry.LegacyRecord{PID: pid, Details: registry.Details{
				Name: registry.Name{Family: "Lê", Given: "Hoa"}, BirthDate: birth, Sex: personalid.Female,
				PermanentResidence: &registry.Address{Commune: "00004", Detail: "số 2"}}}); err != nil {
				t.Fatal(err)
			}
		}
		const adult, child = "001190000201", "001322000202"
		bad := map[string]func(*card.Intake){
			"photo":                    func(in *card.Intake) { in.Photo = nil },
			"photo ":                   func(in *card.Intake) { in.Photo = []byte("GIF89a") },
			"photo  ":                  func(in *card.Intake) { in.Photo = append(bytes.Clone(face), make([]byte, card.MaxPhoto)...) },
			"photo   ":                 func(in *card.Intake) { in.Photo = []byte("\xff\xd8\xff\xe0 no frame header \xff\xd9") },
			"fingerprints":             func(in *card.Intake) { in.Fingerprints = in.Fingerprints[:1] },
			"fingerprints[1].finger":   func(in *card.Intake) { in.Fingerprints[1].Finger = "right_index" },
			"fingerprints[0].finger":   func(in *card.Intake) { in.Fingerprints[0].Finger = "nose" },
			"fingerprints[1].template": func(in *card.Intake) { in.Fingerprints[1].Template = nil },
			"reason":                   func(in *card.Intake) { in.Reason = "lost" },
		}
		for field, spoil := range bad {
			in := intake(adult, "first", "")
			spoil(&in)
			_, err := e.svc.Apply(e.officer, in)
			if !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), strings.TrimSpace(field)+":") {
				t.Errorf("%s: %v", field, err)
			}
		}
		var n int
		db.QueryRowContext(ctx, `SELECT COUNT(*) FROM card_application`).Scan(&n)
		if n != 0 {
			t.Fatalf("%d applications stored from bad input", n)
		}
		app, err := e.svc.Apply(e.officer, intake(adult, "first", ""))
		if err != nil {
			t.Fatal(err)
		}
		var sealed []byte
		db.QueryRowContext(ctx, `SELECT fingerprints FROM card_application WHERE id = $1`, app.ID).Scan(&sealed)
		if len(sealed) == 0 || bytes.Contains(sealed, []byte("FMR")) || bytes.Contains(sealed, []byte("right_index")) {
			t.Errorf("fingerprints stored in the clear: %q", sealed)
		}
		// A four-year-old: no face or fingerprints are taken (the law
		// forbids it), and the chip has no DG2: EF.COM and the SOD list
		// DG1 and DG13 only.
		withFace := intake(child, "first", "")
		withFace.Fingerprints = nil
		if _, err := e.svc.Apply(e.officer, withFace); !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "photo:") {
			t.Errorf("a child's face taken: %v", err)
		}
		withPrints := intake(child, "first", "")
		withPrints.Photo = nil
		if _, err := e.svc.Apply(e.officer, withPrints); !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "fingerprints:") {
			t.Errorf("a child's fingerprints taken: %v", err)
		}
		kid, err := e.svc.Apply(e.officer, card.Intake{PID: child, Kind: "first"})
		if err != nil {
			t.Fatal(err)
		}
		e.svc.Decide(e.officer, kid.ID, true, "")
		// Even a face stored with an application from before the counter
		// refused it does not go on a child's chip.
		if _, err := db.ExecContext(ctx, `UPDATE card_application SET photo = $1 WHERE id = $2`, face, kid.ID); err != nil {
			t.Fatal(err)
		}
		c, err := e.svc.Produce(e.officer, kid.ID)
		if err != nil {
			t.Fatal(err)
		}
		if c.ExpiresOn != "2036-01-01" {
			t.Errorf("a child's card expires %s", c.ExpiresOn)
		}
		if c.Printed.Photo {
			t.Error("a child's card prints a photo")
		}
		sod, com, groups, _ := e.svc.Chip(e.officer, c.ID)
		if _, ok := groups[2]; ok {
			t.Error("a child's chip has a DG2")
		}
		if ci, err := card.ParseCOM(com); err != nil || !slices.Equal(ci.DataGroups, []int{1, 13, 14, 15}) {
			t.Errorf("a child's EF.COM: %+v, %v", ci, err)
		}
		if si, err := card.ParseSOD(sod); err != nil || !slices.Equal(si.DataGroups, []int{1, 13, 14, 15}) {
			t.Errorf("a child's SOD: %+v, %v", si, err)
		}
		if v, _ := e.svc.Verify(e.officer, sod, groups, card.VerifyOptions{}); !v.Valid {
			t.Errorf("a child's card: %+v", v)
		}
	})
}

// TestChipAgainstRegistry: a member agency asks whether the chip's data
// still agrees with the registry; after a name change it no longer does,
// field by field, and the answer carries no data. Others may not ask.
func TestChipAgainstRegistry(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newCardEnv(t, db)
		if _, _, err := e.store.Init(ctx, *e.clock); err != nil {
			t.Fatal(err)
		}
		const pid = "001190000301"
		c := e.firstCard(t, pid, registry.Name{Family: "Đặng", Middle: "Thu", Given: "Hà"}, "1990-03-04", personalid.Female)
		sod, _, groups, _ := e.svc.Chip(e.officer, c.ID)
		bank := actor.With(ctx, &actor.Actor{ID: "bank-1", Kind: actor.Agency, Name: "Ngân hàng A", Grants: []string{string(access.VerifyCitizen)}})
		hospital := actor.With(ctx, &actor.Actor{ID: "hosp-1", Kind: actor.Agency, Name: "Bệnh viện B"})
		opts := card.VerifyOptions{CompareRegistry: true, Purpose: "account opening"}
		v, err := e.svc.Verify(bank, sod, groups, opts)
		if err != nil || !v.Valid || v.Registry == nil || !v.Registry.Match || len(v.Registry.Fields) != 3 || v.Registry.Fields["name"] != registry.Exact {
			t.Fatalf("chip against registry: %+v, %+v, %v", v, v.Registry, err)
		}
		if _, err := e.svc.Verify(hospital, sod, groups, opts); !errs.Is(err, errs.Forbidden) {
			t.Errorf("an agency without the verify service: %v", err)
		}
		var early int
		db.QueryRowContext(ctx, `SELECT COUNT(*) FROM access_event WHERE actor_id = 'hosp-1'`).Scan(&early)
		if early != 0 {
			t.Errorf("a refused comparison left %d access records: it should be refused before any work", early)
		}
		if v, err := e.svc.Verify(hospital, sod, groups, card.VerifyOptions{}); err != nil || !v.Valid || v.Registry != nil {
			t.Errorf("plain passive authentication by the hospital: %+v, %v", v, err)
		}
		// Only DG1 sent: the MRZ (without diacritics) is compared.
		v, _ = e.svc.Verify(bank, sod, map[int][]byte{1: groups[1]}, opts)
		if v.Registry == nil || !v.Registry.Match || v.Registry.Fields["name"] != registry.Normalized {
			t.Errorf("from DG1: %+v", v.Registry)
		}
		// The registry changes the name: the chip no longer agrees.
		cur, err := e.reg.Get(e.sys, pid, "test")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.reg.Update(e.sys, pid, cur.Version, registry.Patch{Set: map[string]json.RawMessage{"name": json.RawMessage(`{"family":"Đặng","middle":"Thu","given":"Hằng"}`)},
			Basis: registry.Basis{Reason: "name change"}}); err != nil {
			t.Fatal(err)
		}
		v, _ = e.svc.Verify(bank, sod, groups, opts)
		if v.Registry == nil || v.Registry.Match || v.Registry.Fields["name"] != registry.Mismatch || v.Registry.Fields["birth_date"] != registry.Exact {
			t.Errorf("after a name change: %+v", v.Registry)
		}
		payload, _ := json.Marshal(v)
		for _, leak := range []string{"Hằng", "Hà", "1990", "Đặng"} {
			if strings.Contains(string(payload), leak) {
				t.Errorf("the answer holds %q: %s", leak, payload)
			}
		}
		// A changed DG13 is not compared: it is not the chip's data.
		spoilt := map[int][]byte{1: groups[1], 13: bytes.Clone(groups[13])}
		spoilt[13][20] ^= 1
		if v, _ := e.svc.Verify(bank, sod, spoilt, opts); v.Valid || (v.Registry != nil && v.Registry.Fields["name"] == registry.Exact) {
			t.Errorf("a changed DG13: %+v", v)
		}
		var audited int
		db.QueryRowContext(ctx, `SELECT COUNT(*) FROM access_event WHERE subject_pid = $1 AND actor_id = 'bank-1'`, pid).Scan(&audited)
		if audited < 4 {
			t.Errorf("%d accesses of the bank recorded", audited)
		}
	})
}

// TestGeneratedPeopleCards: cards made for a generated population pass
// passive authentication, and what the chip says reads back as the
// registry and the validity rules have it.
func TestGeneratedPeopleCards(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newCardEnv(t, db)
		*e.clock = time.Date(2026, 1, 1, 3, 0, 0, 0, time.UTC)
		if _, _, err := e.store.Init(ctx, *e.clock); err != nil {
			t.Fatal(err)
		}
		units, _ := adminunit.Load()
		var people []registry.LegacyRecord
		if _, err := synth.Generate(ctx, synth.Config{Count: 40, Seed: 7}, units, func(r *registry.LegacyRecord) error {
			r.Household = nil // households are the importer's business, not this test's
			if _, err := e.reg.RegisterExisting(e.sys, *r); err != nil {
				return err
			}
			people = append(people, *r)
			return nil
		}, nil); err != nil {
			t.Fatal(err)
		}
		made := 0
		for _, p := range people {
			if p.Status != "" && p.Status != registry.Alive {
				continue
			}
			in := intake(p.PID, "first", "")
			if card.AgeOn(p.BirthDate, "2026-01-01") < card.BiometricAge {
				in.Photo, in.Fingerprints = nil, nil
			}
			app, err := e.svc.Apply(e.sys, in)
			if err != nil {
				t.Fatalf("%s: %v", p.PID, err)
			}
			if _, err := e.svc.Decide(e.sys, app.ID, true, ""); err != nil {
				t.Fatal(err)
			}
			c, err := e.svc.Produce(e.sys, app.ID)
			if err != nil {
				t.Fatal(err)
			}
			made++
			sod, _, groups, _ := e.svc.Chip(e.sys, c.ID)
			if v, err := e.svc.Verify(e.sys, sod, groups, card.VerifyOptions{}); err != nil || !v.Valid {
				t.Fatalf("%s: %+v, %v", p.PID, v, err)
			}
			lines, err := card.ParseDG1(groups[1])
			if err != nil {
				t.Fatal(err)
			}
			m, err := card.ParseMRZ(lines)
			want, _ := card.Expiry(p.BirthDate, "2026-01-01")
			if err != nil || m.PID != p.PID || m.BirthDate != p.BirthDate || m.Sex != string(p.Sex) || m.Expiry != want || c.ExpiresOn != want {
				t.Errorf("%s: MRZ %+v (%v), card %+v, want expiry %q", p.PID, m, err, c, want)
			}
			fields, err := card.ParseDG13(groups[13])
			if err != nil || fields[0].Value != p.PID || fields[1].Value != p.Name.Full() {
				t.Errorf("%s: DG13 %v, %v", p.PID, fields, err)
			}
		}
		if made < 30 {
			t.Errorf("only %d cards made", made)
		}
	})
}

// TestVerifyRevokedSigner: a card signed by a Document Signer before its
// revocation still verifies; a card it signed after the revocation date
// does not (ds_revoked), whatever its signature says.
func TestVerifyRevokedSigner(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newCardEnv(t, db)
		*e.clock = time.Date(2026, 6, 1, 3, 0, 0, 0, time.UTC)
		if _, _, err := e.store.Init(ctx, *e.clock); err != nil {
			t.Fatal(err)
		}
		produce := func(pid string) ([]byte, map[int][]byte) {
			t.Helper()
			c := e.firstCard(t, pid, registry.Name{Family: "Trần", Middle: "Văn", Given: "Bình"}, "1990-03-04", personalid.Male)
			sod, _, groups, err := e.svc.Chip(e.officer, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			return sod, groups
		}
		verify := func(sod []byte, groups map[int][]byte) card.PassiveAuthResult {
			t.Helper()
			v, err := e.svc.Verify(e.officer, sod, groups, card.VerifyOptions{})
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		sodA, groupsA := produce("001090000501")
		ds, _ := e.store.Active(ctx, "ds")
		*e.clock = e.clock.Add(time.Hour)
		if _, err := e.store.RevokeDS(ctx, fmt.Sprintf("%x", ds.Cert.SerialNumber), "keyCompromise", "", *e.clock); err != nil {
			t.Fatal(err)
		}
		if v := verify(sodA, groupsA); !v.Valid {
			t.Errorf("a card signed before its signer's revocation: %+v", v.Failed)
		}
		// A card the next signer made, whose compromise is found later and
		// dated back before the card: refused.
		*e.clock = e.clock.Add(time.Hour)
		sodB, groupsB := produce("001090000502")
		if v := verify(sodB, groupsB); !v.Valid {
			t.Fatalf("a card of the new signer: %+v", v.Failed)
		}
		ds2, _ := e.store.Active(ctx, "ds")
		if _, err := e.store.RevokeDS(ctx, fmt.Sprintf("%x", ds2.Cert.SerialNumber), "keyCompromise", "found in a leak", e.clock.Add(-30*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if v := verify(sodB, groupsB); v.Valid || !slices.Contains(v.Failed, card.CodeDSRevoked) {
			t.Errorf("a card signed after its signer's revocation: valid %v, failed %v", v.Valid, v.Failed)
		}
	})
}
