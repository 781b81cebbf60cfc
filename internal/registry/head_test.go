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

// TestChangeHead makes another member head: every other living member's
// relationship is restated to the new head, each changed record gets a
// revision with the reason, and what is refused changes nothing.
func TestChangeHead(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		ctx := communeRegistrar(e.p.baDinh)
		dad := e.existing(t, ctx, person("Cao Văn Bố", "1950-01-01", personalid.Male, e.p.baDinh))
		son := e.existing(t, ctx, person("Cao Văn Con", "1975-03-03", personalid.Male, e.p.baDinh))
		wife := e.existing(t, ctx, person("Lý Thị Dâu", "1977-04-04", personalid.Female, e.p.baDinh))
		grand := e.existing(t, ctx, person("Cao Văn Cháu", "2005-05-05", personalid.Male, e.p.baDinh))
		home := &registry.Address{Commune: e.p.baDinh.Code, Detail: "số 1 phố Quán Thánh"}
		d, err := e.svc.MoveHousehold(ctx, string(dad.PID), 1, registry.Move{NewAddress: home, Basis: basis("lập hộ")})
		mustOK(t, err)
		hid := d.Household.HouseholdID
		for _, j := range []struct {
			p   registry.Citizen
			rel string
		}{{son, "child"}, {wife, "child_in_law"}, {grand, "grandchild"}} {
			_, err := e.svc.MoveHousehold(ctx, string(j.p.PID), 1, registry.Move{HouseholdID: hid, Relationship: j.rel, Basis: basis("nhập hộ")})
			mustOK(t, err)
		}
		ok := registry.HeadChange{NewHeadPID: string(son.PID), FormerHeadRelationship: "parent",
			Relationships: map[string]string{string(wife.PID): "spouse", string(grand.PID): "child"},
			Basis:         registry.Basis{Reason: "chủ hộ cao tuổi, đồng ý chuyển", LegalBasis: "Luật Cư trú 2020, Điều 26"}}

		t.Run("refused", func(t *testing.T) {
			before := e.tables(t)
			with := func(f func(c *registry.HeadChange)) registry.HeadChange {
				c := ok
				c.Relationships = maps.Clone(ok.Relationships)
				f(&c)
				return c
			}
			for _, tt := range []struct {
				c     registry.HeadChange
				field string
			}{
				{with(func(c *registry.HeadChange) { c.Reason = "" }), "reason"},
				{with(func(c *registry.HeadChange) { c.LegalBasis = " " }), "legal_basis"},
				{with(func(c *registry.HeadChange) { c.NewHeadPID = "12" }), "new_head_pid"},
				{with(func(c *registry.HeadChange) { c.NewHeadPID = string(dad.PID) }), "new_head_pid"},
				{with(func(c *registry.HeadChange) { c.FormerHeadRelationship = "head" }), "former_head_relationship"},
				{with(func(c *registry.HeadChange) { delete(c.Relationships, string(grand.PID)) }), "relationships." + string(grand.PID)},
				{with(func(c *registry.HeadChange) { c.Relationships[string(grand.PID)] = "head" }), "relationships." + string(grand.PID)},
				{with(func(c *registry.HeadChange) { c.Relationships[string(grand.PID)] = "cousin" }), "relationships." + string(grand.PID)},
				{with(func(c *registry.HeadChange) { c.Relationships[string(dad.PID)] = "parent" }), "relationships." + string(dad.PID)},
			} {
				_, err := e.svc.ChangeHead(ctx, hid, 0, tt.c)
				wantField(t, err, tt.field)
			}
			outsider := e.existing(t, ctx, person("Trần Văn Ngoài", "1980-01-01", personalid.Male, e.p.baDinh))
			before = e.tables(t)
			_, err := e.svc.ChangeHead(ctx, hid, 0, with(func(c *registry.HeadChange) { c.NewHeadPID = string(outsider.PID) }))
			wantField(t, err, "new_head_pid")
			_, err = e.svc.ChangeHead(ctx, hid, 99, ok)
			wantKind(t, err, errs.Precondition)
			_, err = e.svc.ChangeHead(communeRegistrar(e.p.giangVo), hid, 0, ok)
			wantKind(t, err, errs.Forbidden)
			_, err = e.svc.ChangeHead(viewer(), hid, 0, ok)
			wantKind(t, err, errs.Forbidden)
			_, err = e.svc.ChangeHead(ctx, "no-such-household", 0, ok)
			wantKind(t, err, errs.NotFound)
			e.unchanged(t, before)
		})

		hh, err := e.svc.Household(ctx, hid)
		mustOK(t, err)
		got, err := e.svc.ChangeHead(ctx, hid, hh.Version, ok)
		mustOK(t, err)
		if got.HeadPID != string(son.PID) || got.Version != hh.Version+1 {
			t.Errorf("household after: head %s, version %d (was %d)", got.HeadPID, got.Version, hh.Version)
		}
		want := map[string]string{string(son.PID): "head", string(dad.PID): "parent", string(wife.PID): "spouse", string(grand.PID): "child"}
		if m := members(t, e, hid); !maps.Equal(m, want) {
			t.Errorf("members = %v, want %v", m, want)
		}
		for pid, action := range map[personalid.Number]string{son.PID: "become_household_head", dad.PID: "leave_household_headship",
			wife.PID: "restate_household_relationship", grand.PID: "restate_household_relationship"} {
			h := e.history(t, pid)
			last := h[len(h)-1]
			if last.Action != action || last.Reason != ok.Reason || last.LegalBasis != ok.LegalBasis {
				t.Errorf("%s: last revision %s %q %q, want %s", pid, last.Action, last.Reason, last.LegalBasis, action)
			}
		}
		// The same change again is refused: the household moved on.
		_, err = e.svc.ChangeHead(ctx, hid, hh.Version, ok)
		wantKind(t, err, errs.Precondition)
	})
}
