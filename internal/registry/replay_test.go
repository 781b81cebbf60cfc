package registry_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/personalid"
	"github.com/dancu-vn/dancu/internal/registry"
	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

// A retry answers with the first registration even when the officer has
// since moved to another commune: the key is theirs, and so was the act.
func TestBirthReplayAfterJurisdictionChange(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		ctx := communeRegistrar(e.p.baDinh)
		first, err := e.svc.RegisterBirth(ctx, birth("Lê Minh Châu", "2025-08-01", personalid.Female, e.p.baDinh), "retry-1")
		mustOK(t, err)
		moved := *actorOf(ctx)
		moved.Jurisdiction = actor.Jurisdiction{Level: actor.Commune, Code: e.p.benThanh.Code}
		again, err := e.svc.RegisterBirth(actor.With(context.Background(), &moved), birth("Lê Minh Châu", "2025-08-01", personalid.Female, e.p.baDinh), "retry-1")
		mustOK(t, err)
		if again.PID != first.PID {
			t.Fatalf("replay gave %s, first was %s", again.PID, first.PID)
		}
		// A new request from the moved officer is judged by the new jurisdiction.
		_, err = e.svc.RegisterBirth(actor.With(context.Background(), &moved), birth("Lê Minh Anh", "2025-08-01", personalid.Female, e.p.baDinh), "retry-2")
		wantKind(t, err, errs.Forbidden)
	})
}

func TestBasisLimitsAndStatusTarget(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		ctx := communeRegistrar(e.p.baDinh)
		c := e.existing(t, ctx, person("Đỗ Văn Tâm", "1970-01-01", personalid.Male, e.p.baDinh))
		before := e.tables(t)
		for field, basis := range map[string]registry.Basis{
			"reason":      {Reason: strings.Repeat("x", 1001)},
			"legal_basis": {Reason: "ok", LegalBasis: strings.Repeat("x", 501)},
			"dossier_ref": {Reason: "ok", DossierRef: strings.Repeat("x", 101)},
		} {
			_, err := e.svc.Update(ctx, string(c.PID), c.Version, registry.Patch{Set: map[string]json.RawMessage{"phone": json.RawMessage(`"0912345678"`)}, Basis: basis})
			wantField(t, err, field)
		}
		_, err := e.svc.SetStatus(ctx, string(c.PID), 0, "asleep", registry.StatusChange{Date: "2020-01-01", Basis: registry.Basis{Reason: "x"}})
		wantField(t, err, "status")
		e.unchanged(t, before)
	})
}

// A record may name its household and also give the permanent residence,
// as legacy exports and generated data do, if the two agree.
func TestHouseholdAndResidenceMustAgree(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		ctx := communeRegistrar(e.p.baDinh)
		head := e.existing(t, ctx, person("Phan Văn Lộc", "1975-04-04", personalid.Male, e.p.baDinh))
		addr := &registry.Address{Commune: e.p.baDinh.Code, Detail: "Số 9 Phố Đội Cấn"}
		moved, err := e.svc.MoveHousehold(ctx, string(head.PID), 0, registry.Move{NewAddress: addr, Basis: registry.Basis{Reason: "x"}})
		mustOK(t, err)
		hid := moved.Household.HouseholdID

		same := person("Phan Thị Liên", "1978-06-06", personalid.Female, e.p.baDinh)
		same.PermanentResidence = &registry.Address{Commune: e.p.baDinh.Code, Detail: "Số 9  Phố Đội Cấn"} // spacing is normalised
		_, err = e.svc.RegisterExisting(ctx, registry.LegacyRecord{PID: legacyPID(t, same.BirthDate, same.Sex), Details: same,
			Household: &registry.JoinHousehold{HouseholdID: hid, Relationship: "spouse"}})
		mustOK(t, err)

		before := e.tables(t)
		other := person("Phan Thị Lan", "1980-06-06", personalid.Female, e.p.baDinh)
		other.PermanentResidence = &registry.Address{Commune: e.p.benThanh.Code, Detail: "elsewhere"}
		_, err = e.svc.RegisterExisting(ctx, registry.LegacyRecord{PID: legacyPID(t, other.BirthDate, other.Sex), Details: other,
			Household: &registry.JoinHousehold{HouseholdID: hid, Relationship: "sibling"}})
		wantField(t, err, "permanent_residence")
		e.unchanged(t, before)
	})
}
