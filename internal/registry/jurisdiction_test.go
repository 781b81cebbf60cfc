package registry_test

import (
	"context"
	"testing"

	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/personalid"
	"github.com/dancu-vn/dancu/internal/registry"
	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

func TestJurisdiction(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		c := e.existing(t, nationalAdmin(), person("Ngô Thị Thu", "1979-09-09", personalid.Female, e.p.baDinh))
		agency := actor.With(context.Background(), &actor.Actor{ID: "agency-1", Kind: actor.Agency, Name: "Bảo hiểm xã hội"})
		version := c.Version
		tests := []struct {
			name string
			ctx  context.Context
			want errs.Kind // 0 (Internal) stands for success
		}{
			{"officer of the commune", communeRegistrar(e.p.baDinh), 0},
			{"officer of another commune", communeRegistrar(e.p.giangVo), errs.Forbidden},
			{"officer of a commune in another province", communeRegistrar(e.p.benThanh), errs.Forbidden},
			{"officer of the province", provinceRegistrar(e.p.hanoi), 0},
			{"officer of another province", provinceRegistrar(e.p.hcm), errs.Forbidden},
			{"national officer", as(actor.Registrar, actor.National, ""), 0},
			{"viewer of the commune", as(actor.Viewer, actor.Commune, e.p.baDinh.Code), errs.Forbidden},
			{"agency", agency, errs.Forbidden},
			{"nobody", context.Background(), errs.Unauthenticated},
		}
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before := e.tables(t)
				phone := "091234560" + string(rune('0'+i))
				u, err := e.svc.Update(tt.ctx, string(c.PID), version, patch("phone", `"`+phone+`"`))
				if tt.want != 0 {
					wantKind(t, err, tt.want)
					e.unchanged(t, before)
					if got := e.get(t, c.PID); got.Version != version {
						t.Errorf("refused update moved the record to version %d", got.Version)
					}
					return
				}
				mustOK(t, err)
				if u.Phone != phone || u.Version != version+1 {
					t.Errorf("update by %s: phone %s version %d", tt.name, u.Phone, u.Version)
				}
				version = u.Version
			})
		}
	})
}

// A change of residence needs jurisdiction over both the old and the new one.
func TestJurisdictionOverMoves(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		c := e.existing(t, nationalAdmin(), person("Ngô Thị Thu", "1979-09-09", personalid.Female, e.p.baDinh))
		toGiangVo := patch("permanent_residence", `{"commune":"`+e.p.giangVo.Code+`"}`)
		for _, ctx := range []context.Context{communeRegistrar(e.p.baDinh), communeRegistrar(e.p.giangVo)} {
			_, err := e.svc.Update(ctx, string(c.PID), 1, toGiangVo)
			wantKind(t, err, errs.Forbidden)
		}
		u, err := e.svc.Update(provinceRegistrar(e.p.hanoi), string(c.PID), 1, toGiangVo)
		mustOK(t, err)
		if u.PermanentResidence.Commune != e.p.giangVo.Code {
			t.Fatalf("residence = %+v", u.PermanentResidence)
		}
		// Now it belongs to Giảng Võ.
		_, err = e.svc.Update(communeRegistrar(e.p.baDinh), string(c.PID), 2, patch("phone", `"0912345678"`))
		wantKind(t, err, errs.Forbidden)
		_, err = e.svc.Update(communeRegistrar(e.p.giangVo), string(c.PID), 2, patch("phone", `"0912345678"`))
		mustOK(t, err)
	})
}

func TestJurisdictionOverRegistration(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		before := e.tables(t)
		in := birth("Mai Anh Tuấn", "2025-06-06", personalid.Male, e.p.baDinh)
		for _, ctx := range []context.Context{communeRegistrar(e.p.giangVo), provinceRegistrar(e.p.hcm), viewer()} {
			_, err := e.svc.RegisterBirth(ctx, in, "")
			wantKind(t, err, errs.Forbidden)
		}
		_, err := e.svc.RegisterBirth(context.Background(), in, "")
		wantKind(t, err, errs.Unauthenticated)
		legacy := registry.LegacyRecord{PID: legacyPID(t, "1960-01-01", personalid.Male), Details: person("Mai Văn Sơn", "1960-01-01", personalid.Male, e.p.baDinh)}
		_, err = e.svc.RegisterExisting(communeRegistrar(e.p.giangVo), legacy)
		wantKind(t, err, errs.Forbidden)
		_, err = e.svc.RegisterExisting(context.Background(), legacy)
		wantKind(t, err, errs.Unauthenticated)
		e.unchanged(t, before)
	})
}

// Who may not write learns nothing of the record from the refusal: not
// whether it exists, nor its version, nor what is wrong with the request.
func TestRefusalRevealsNothing(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		c := e.existing(t, nationalAdmin(), person("Ngô Thị Thu", "1979-09-09", personalid.Female, e.p.baDinh))
		missing := legacyPID(t, "1979-09-09", personalid.Female)
		agency := actor.With(context.Background(), &actor.Actor{ID: "agency-1", Kind: actor.Agency, Name: "Bảo hiểm xã hội"})
		for _, tt := range []struct {
			ctx  context.Context
			want errs.Kind
		}{{context.Background(), errs.Unauthenticated}, {agency, errs.Forbidden}, {viewer(), errs.Forbidden}} {
			for _, pid := range []string{string(c.PID), missing} {
				_, err := e.svc.Update(tt.ctx, pid, 7, patch("phone", `"0912345678"`))
				wantKind(t, err, tt.want)
				_, err = e.svc.Update(tt.ctx, pid, 1, patch("sex", `"male"`))
				wantKind(t, err, tt.want)
				_, err = e.svc.SetStatus(tt.ctx, pid, 7, registry.Dead, registry.StatusChange{Date: "2025-01-01", Basis: registry.Basis{Reason: "x"}})
				wantKind(t, err, tt.want)
				_, err = e.svc.MoveHousehold(tt.ctx, pid, 7, registry.Move{HouseholdID: "h", Relationship: "child", Basis: registry.Basis{Reason: "x"}})
				wantKind(t, err, tt.want)
			}
		}
	})
}
