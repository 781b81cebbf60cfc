package registry_test

import (
	"maps"
	"testing"

	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/personalid"
	"github.com/dancu-vn/dancu/internal/registry"
	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

func basis(reason string) registry.Basis { return registry.Basis{Reason: reason} }

// members returns the household's members as pid → relationship.
func members(t *testing.T, e *env, id string) map[string]string {
	t.Helper()
	h, err := e.svc.Household(nationalAdmin(), id)
	mustOK(t, err)
	out := map[string]string{}
	for i, m := range h.Members {
		if i > 0 && h.Members[i-1].PID >= m.PID {
			t.Errorf("members not ordered by number: %+v", h.Members)
		}
		out[m.PID] = m.Relationship
	}
	return out
}

func TestMoveHousehold(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		ctx := provinceRegistrar(e.p.hanoi)
		dad := e.existing(t, ctx, person("Cao Văn Bố", "1970-01-01", personalid.Male, e.p.baDinh))
		mum := e.existing(t, ctx, person("Cao Thị Mẹ", "1972-02-02", personalid.Female, e.p.giangVo))
		son := e.existing(t, ctx, person("Cao Văn Con", "2000-03-03", personalid.Male, e.p.giangVo))
		aunt := e.existing(t, ctx, person("Cao Thị Cô", "1975-04-04", personalid.Female, e.p.giangVo))

		// Found a household: the founder heads it and lives at its address.
		home := &registry.Address{Commune: e.p.baDinh.Code, Detail: "số 1 phố Quán Thánh"}
		d, err := e.svc.MoveHousehold(ctx, string(dad.PID), 1, registry.Move{NewAddress: home, Basis: basis("lập hộ mới")})
		mustOK(t, err)
		hid := d.Household.HouseholdID
		if d.Household.Relationship != "head" || d.Household.HeadPID != string(dad.PID) || d.Version != 2 {
			t.Errorf("founder: household %+v, version %d", d.Household, d.Version)
		}
		if d.PermanentResidence.Detail != "số 1 phố Quán Thánh" || d.PermanentResidence.Province != e.p.hanoi.Code {
			t.Errorf("founder's residence = %+v", d.PermanentResidence)
		}
		if h := e.history(t, dad.PID); len(h) != 2 || h[1].Action != "move_household" {
			t.Errorf("founder's history = %+v", h)
		}

		// Join it: the residence becomes the household's.
		m, err := e.svc.MoveHousehold(ctx, string(mum.PID), 1, registry.Move{HouseholdID: hid, Relationship: "spouse", Basis: basis("nhập hộ")})
		mustOK(t, err)
		if m.PermanentResidence.Commune != e.p.baDinh.Code || m.PermanentResidence.Detail != "số 1 phố Quán Thánh" ||
			m.Household.HeadPID != string(dad.PID) || m.Household.HeadName != "Cao Văn Bố" {
			t.Errorf("joined: residence %+v, household %+v", m.PermanentResidence, m.Household)
		}
		_, err = e.svc.MoveHousehold(ctx, string(son.PID), 1, registry.Move{HouseholdID: hid, Relationship: "child", Basis: basis("nhập hộ")})
		mustOK(t, err)
		want := map[string]string{string(dad.PID): "head", string(mum.PID): "spouse", string(son.PID): "child"}
		if got := members(t, e, hid); !maps.Equal(got, want) {
			t.Errorf("members = %v, want %v", got, want)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM access_event WHERE action = 'read_household'`); n != 3 {
			t.Errorf("%d read_household events, want one per member", n)
		}

		t.Run("refused", func(t *testing.T) {
			before := e.tables(t)
			tests := []struct {
				pid   personalid.Number
				m     registry.Move
				field string
			}{
				{dad.PID, registry.Move{NewAddress: home, Basis: basis("tách hộ")}, "new_head_pid"},
				{dad.PID, registry.Move{NewAddress: home, NewHeadPID: legacyPID(t, "1990-01-01", personalid.Male), Basis: basis("tách hộ")}, "new_head_pid"},
				{son.PID, registry.Move{HouseholdID: hid, Relationship: "child", Basis: basis("nhập hộ")}, "household_id"},
				{son.PID, registry.Move{HouseholdID: "no-such-household", Relationship: "child", Basis: basis("x")}, "household_id"},
				{aunt.PID, registry.Move{HouseholdID: hid, Relationship: "head", Basis: basis("x")}, "relationship"},
				{aunt.PID, registry.Move{HouseholdID: hid, Relationship: "cousin", Basis: basis("x")}, "relationship"},
				{aunt.PID, registry.Move{NewAddress: home, Relationship: "child", Basis: basis("x")}, "relationship"},
				{son.PID, registry.Move{Basis: basis("x")}, "household_id"},
				{son.PID, registry.Move{HouseholdID: hid, NewAddress: home, Basis: basis("x")}, "household_id"},
				{son.PID, registry.Move{NewAddress: &registry.Address{Commune: "99999"}, Basis: basis("x")}, "new_household_address.commune"},
				{son.PID, registry.Move{NewAddress: home}, "reason"},
			}
			for _, tt := range tests {
				_, err := e.svc.MoveHousehold(ctx, string(tt.pid), 0, tt.m)
				wantField(t, err, tt.field)
			}
			_, err := e.svc.MoveHousehold(ctx, string(son.PID), 1, registry.Move{NewAddress: home, Basis: basis("x")})
			wantKind(t, err, errs.Precondition)
			// Moving to another province needs jurisdiction there too.
			far := &registry.Address{Commune: e.p.benThanh.Code}
			_, err = e.svc.MoveHousehold(ctx, string(son.PID), 0, registry.Move{NewAddress: far, Basis: basis("x")})
			wantKind(t, err, errs.Forbidden)
			e.unchanged(t, before)
		})

		// The head leaves; the mother takes over.
		home2 := &registry.Address{Commune: e.p.giangVo.Code, Detail: "số 9 phố Kim Mã"}
		d, err = e.svc.MoveHousehold(ctx, string(dad.PID), 2, registry.Move{NewAddress: home2, NewHeadPID: string(mum.PID), Basis: basis("tách hộ")})
		mustOK(t, err)
		if d.Household.HouseholdID == hid || d.Household.Relationship != "head" {
			t.Errorf("leaving head: household %+v", d.Household)
		}
		m = e.get(t, mum.PID)
		if m.Household.Relationship != "head" || m.Household.HeadPID != string(mum.PID) || m.Version != 3 {
			t.Errorf("new head: household %+v, version %d", m.Household, m.Version)
		}
		if h := e.history(t, mum.PID); len(h) != 3 || h[2].Action != "become_household_head" || h[2].Reason != "tách hộ" {
			t.Errorf("new head's history = %+v", h)
		}
		hh, err := e.svc.Household(ctx, hid)
		mustOK(t, err)
		if hh.HeadPID != string(mum.PID) || hh.Version != 2 {
			t.Errorf("household: head %s, version %d", hh.HeadPID, hh.Version)
		}
		want = map[string]string{string(mum.PID): "head", string(son.PID): "child"}
		if got := members(t, e, hid); !maps.Equal(got, want) {
			t.Errorf("members = %v, want %v", got, want)
		}
		if got := members(t, e, d.Household.HouseholdID); !maps.Equal(got, map[string]string{string(dad.PID): "head"}) {
			t.Errorf("new household's members = %v", got)
		}
	})
}

// A head who leaves alone dissolves the household; nobody can join it then.
func TestMoveHouseholdDissolves(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		ctx := communeRegistrar(e.p.baDinh)
		a := e.existing(t, ctx, person("Cao Văn Một", "1970-01-01", personalid.Male, e.p.baDinh))
		b := e.existing(t, ctx, person("Cao Văn Hai", "1971-01-01", personalid.Male, e.p.baDinh))
		first, err := e.svc.MoveHousehold(ctx, string(a.PID), 1, registry.Move{NewAddress: &registry.Address{Commune: e.p.baDinh.Code}, Basis: basis("x")})
		mustOK(t, err)
		old := first.Household.HouseholdID
		_, err = e.svc.MoveHousehold(ctx, string(a.PID), 2, registry.Move{NewAddress: &registry.Address{Commune: e.p.baDinh.Code, Detail: "khác"}, Basis: basis("x")})
		mustOK(t, err)
		hh, err := e.svc.Household(ctx, old)
		mustOK(t, err)
		if hh.HeadPID != "" || len(hh.Members) != 0 {
			t.Errorf("dissolved household: head %q, members %+v", hh.HeadPID, hh.Members)
		}
		_, err = e.svc.MoveHousehold(ctx, string(b.PID), 1, registry.Move{HouseholdID: old, Relationship: "sibling", Basis: basis("x")})
		wantField(t, err, "household_id")
		_, err = e.svc.Household(ctx, "no-such-household")
		wantKind(t, err, errs.NotFound)

		// The dead do not move.
		_, err = e.svc.SetStatus(ctx, string(b.PID), 1, registry.Dead, statusChange("2025-01-01"))
		mustOK(t, err)
		_, err = e.svc.MoveHousehold(ctx, string(b.PID), 0, registry.Move{NewAddress: &registry.Address{Commune: e.p.baDinh.Code}, Basis: basis("x")})
		wantKind(t, err, errs.Conflict)
	})
}

// A head who leaves cannot name themselves as the new head.
func TestMoveHouseholdNewHeadIsSomeoneElse(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		ctx := communeRegistrar(e.p.baDinh)
		a := e.existing(t, ctx, person("Cao Văn Một", "1970-01-01", personalid.Male, e.p.baDinh))
		b := e.existing(t, ctx, person("Cao Văn Hai", "1971-01-01", personalid.Male, e.p.baDinh))
		h, err := e.svc.MoveHousehold(ctx, string(a.PID), 1, registry.Move{NewAddress: &registry.Address{Commune: e.p.baDinh.Code}, Basis: basis("x")})
		mustOK(t, err)
		_, err = e.svc.MoveHousehold(ctx, string(b.PID), 1, registry.Move{HouseholdID: h.Household.HouseholdID, Relationship: "sibling", Basis: basis("x")})
		mustOK(t, err)
		before := e.tables(t)
		_, err = e.svc.MoveHousehold(ctx, string(a.PID), 2, registry.Move{NewAddress: &registry.Address{Commune: e.p.baDinh.Code},
			NewHeadPID: string(a.PID), Basis: basis("x")})
		wantField(t, err, "new_head_pid")
		e.unchanged(t, before)
	})
}
