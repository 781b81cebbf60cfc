package access_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/adminunit"
	"github.com/dancu-vn/dancu/internal/errs"
)

var allPermissions = []access.Permission{access.ReadCitizen, access.SearchCitizen, access.WriteCitizen, access.ManageOfficers, access.ReadAccessLog, access.ExportCitizens, access.ReviewEID, access.HandleDossier}

func officerCtx(role actor.Role, j actor.Jurisdiction) context.Context {
	return actor.With(context.Background(), &actor.Actor{ID: "officer-1", Kind: actor.Officer, Name: "lan", Role: role, Jurisdiction: j})
}

func TestPermissions(t *testing.T) {
	// What each role may do, written out independently of the package's
	// table so that a change to the table shows up here.
	want := map[actor.Role][]access.Permission{
		actor.Admin:     allPermissions,
		actor.Registrar: {access.ReadCitizen, access.SearchCitizen, access.WriteCitizen, access.ReviewEID, access.HandleDossier},
		actor.Viewer:    {access.ReadCitizen, access.SearchCitizen},
	}
	if got := access.Roles(); !slices.Equal(got, []actor.Role{actor.Admin, actor.Registrar, actor.Viewer}) {
		t.Errorf("Roles() = %v", got)
	}
	for _, role := range access.Roles() {
		got := access.Permissions(role)
		if !slices.Equal(got, want[role]) {
			t.Errorf("Permissions(%s) = %v, want %v", role, got, want[role])
		}
	}
	if got := access.Permissions("superuser"); len(got) != 0 {
		t.Errorf("Permissions(superuser) = %v, want none", got)
	}
	// The result is a copy: changing it grants nothing.
	p := access.Permissions(actor.Viewer)
	p[0] = access.ManageOfficers
	if _, err := access.Require(officerCtx(actor.Viewer, national), access.ManageOfficers); err == nil {
		t.Error("changing the slice Permissions returned granted a viewer officer:manage")
	}
}

func TestRequire(t *testing.T) {
	for _, role := range append(access.Roles(), "superuser", "") {
		granted := access.Permissions(role)
		for _, perm := range allPermissions {
			t.Run(string(role)+"/"+string(perm), func(t *testing.T) {
				ctx := officerCtx(role, national)
				a, err := access.Require(ctx, perm)
				if slices.Contains(granted, perm) {
					if err != nil {
						t.Fatalf("Require = %v, want nil", err)
					}
					if a.ID != "officer-1" || a.Role != role {
						t.Errorf("Require returned actor %+v", a)
					}
					return
				}
				wantKind(t, err, errs.Forbidden)
				if !strings.Contains(err.Error(), string(perm)) {
					t.Errorf("error %q does not name the permission", err)
				}
			})
		}
	}
	for _, perm := range allPermissions {
		if a, err := access.Require(system(), perm); err != nil || a.Kind != actor.System {
			t.Errorf("system: Require(%s) = %v, %v", perm, a, err)
		}
		_, err := access.Require(context.Background(), perm)
		wantKind(t, err, errs.Unauthenticated)
		// A citizen or an agency is never an officer, whatever role it claims.
		for _, k := range []actor.Kind{actor.Citizen, actor.Agency} {
			ctx := actor.With(context.Background(), &actor.Actor{ID: "x", Kind: k, Role: actor.Admin})
			_, err := access.Require(ctx, perm)
			wantKind(t, err, errs.Forbidden)
		}
	}
}

// places are the real units the jurisdiction tests work with, looked up by
// name so that no code is taken on trust.
type places struct {
	hanoi, hcm            adminunit.Unit // 2025 provinces
	baDinh                adminunit.Unit // 2025 commune in Hà Nội
	hongHa                adminunit.Unit // 2025 commune in Hà Nội, formed across a district boundary
	benThanh              adminunit.Unit // 2025 commune in Hồ Chí Minh City
	trucBach, phucXa      adminunit.Unit // 2022 communes in district Ba Đình
	phucTan               adminunit.Unit // 2022 commune in district Hoàn Kiếm that became part of Hồng Hà
	tanDinh               adminunit.Unit // 2022 commune in Hồ Chí Minh City
	baDinhD, hoanKiemD    adminunit.Unit // 2022 districts
	moved                 adminunit.Unit // 2022 commune of a province that the 2025 reform merged away
	movedNow              adminunit.Unit // the 2025 commune it became
	reused                adminunit.Unit // 2022 commune whose code is a different 2025 commune's code
	reusedNow, reusedTwin adminunit.Unit // the 2025 commune it became, and the 2025 commune with its code
}

func unit(tb testing.TB, s adminunit.Scheme, level adminunit.Level, fullName string) adminunit.Unit {
	tb.Helper()
	found := catalog(tb).Search(s, level, fullName, 1)
	if len(found) == 0 || found[0].FullName() != fullName {
		tb.Fatalf("no %s named %q in the %s scheme (found %v)", level, fullName, s, found)
	}
	return found[0]
}

func current(tb testing.TB, u adminunit.Unit) adminunit.Unit {
	tb.Helper()
	cur, ok := catalog(tb).Current(u.Code)
	if !ok {
		tb.Fatalf("%v has no current commune", u)
	}
	return cur
}

func lookupPlaces(tb testing.TB) places {
	tb.Helper()
	c := catalog(tb)
	s25, s22 := adminunit.Scheme2025, adminunit.Scheme2022
	p := places{
		hanoi:     unit(tb, s25, adminunit.LevelProvince, "Thành phố Hà Nội"),
		hcm:       unit(tb, s25, adminunit.LevelProvince, "Thành phố Hồ Chí Minh"),
		baDinh:    unit(tb, s25, adminunit.LevelCommune, "Phường Ba Đình"),
		hongHa:    unit(tb, s25, adminunit.LevelCommune, "Phường Hồng Hà"),
		benThanh:  unit(tb, s25, adminunit.LevelCommune, "Phường Bến Thành"),
		trucBach:  unit(tb, s22, adminunit.LevelCommune, "Phường Trúc Bạch"),
		phucXa:    unit(tb, s22, adminunit.LevelCommune, "Phường Phúc Xá"),
		phucTan:   unit(tb, s22, adminunit.LevelCommune, "Phường Phúc Tân"),
		baDinhD:   unit(tb, s22, adminunit.LevelDistrict, "Quận Ba Đình"),
		hoanKiemD: unit(tb, s22, adminunit.LevelDistrict, "Quận Hoàn Kiếm"),
	}
	// Tân Định is a ward name in more than one place; take the one in Hồ Chí Minh City.
	for _, u := range c.Search(s22, adminunit.LevelCommune, "Phường Tân Định", 10) {
		if u.Province == p.hcm.Code {
			p.tanDinh = u
		}
	}
	if p.tanDinh.Code == "" {
		tb.Fatal("no 2022 Phường Tân Định in Hồ Chí Minh City")
	}
	must := func(ok bool, format string, args ...any) {
		tb.Helper()
		if !ok {
			tb.Fatalf(format, args...)
		}
	}
	must(current(tb, p.trucBach) == p.baDinh, "Trúc Bạch became %v, not %v", current(tb, p.trucBach), p.baDinh)
	must(current(tb, p.phucXa) == p.hongHa, "Phúc Xá became %v, not %v", current(tb, p.phucXa), p.hongHa)
	must(current(tb, p.phucTan) == p.hongHa, "Phúc Tân became %v, not %v", current(tb, p.phucTan), p.hongHa)
	must(current(tb, p.tanDinh).Province == p.hcm.Code, "Tân Định became %v", current(tb, p.tanDinh))
	must(p.trucBach.Parent == p.baDinhD.Code && p.phucXa.Parent == p.baDinhD.Code, "Trúc Bạch or Phúc Xá is not in %v", p.baDinhD)
	must(p.phucTan.Parent == p.hoanKiemD.Code, "Phúc Tân is not in %v", p.hoanKiemD)
	must(p.baDinh.Province == p.hanoi.Code && p.hongHa.Province == p.hanoi.Code, "Ba Đình or Hồng Hà is not in Hà Nội")
	must(p.benThanh.Province == p.hcm.Code, "Bến Thành is not in Hồ Chí Minh City")
	must(!slices.ContainsFunc(c.Predecessors(p.baDinh.Code), func(u adminunit.Unit) bool { return u.Parent == p.hoanKiemD.Code }),
		"Ba Đình took in part of Hoàn Kiếm")

	// A commune of a 2022 province that no longer exists: it is judged by
	// the 2025 province it now lies in.
	for _, u := range c.Units(s22, adminunit.LevelCommune) {
		if _, ok := c.Province(s25, u.Province); ok {
			continue
		}
		if cur, ok := c.Current(u.Code); ok {
			p.moved, p.movedNow = u, cur
			break
		}
	}
	must(p.moved.Code != "", "no 2022 commune of a merged province has a current commune")

	// A 2022 code that now names another commune: the scheme decides.
	for _, u := range c.Units(s22, adminunit.LevelCommune) {
		twin, ok := c.Commune(s25, u.Code)
		if !ok {
			continue
		}
		if cur, ok := c.Current(u.Code); ok && cur.Code != u.Code {
			p.reused, p.reusedNow, p.reusedTwin = u, cur, twin
			break
		}
	}
	must(p.reused.Code != "", "no 2022 commune code is reused by another 2025 commune")
	return p
}

func TestCovers(t *testing.T) {
	p := lookupPlaces(t)
	pol := access.NewPolicy(catalog(t))
	at25 := func(u adminunit.Unit) access.Place {
		return access.Place{Scheme: adminunit.Scheme2025, Commune: u.Code}
	}
	at22 := func(u adminunit.Unit) access.Place {
		return access.Place{Scheme: adminunit.Scheme2022, Commune: u.Code}
	}
	nat := national
	prov := func(u adminunit.Unit) actor.Jurisdiction {
		return actor.Jurisdiction{Level: actor.Province, Code: u.Code}
	}
	dist := func(u adminunit.Unit) actor.Jurisdiction {
		return actor.Jurisdiction{Level: actor.District, Code: u.Code}
	}
	comm := func(u adminunit.Unit) actor.Jurisdiction {
		return actor.Jurisdiction{Level: actor.Commune, Code: u.Code}
	}
	movedProv, _ := catalog(t).Province(adminunit.Scheme2025, p.movedNow.Province)
	t.Logf("%v became %v in %v; %v became %v, not %v", p.moved, p.movedNow, movedProv, p.reused, p.reusedNow, p.reusedTwin)
	for _, tc := range []struct {
		name  string
		j     actor.Jurisdiction
		place access.Place
		want  bool
	}{
		{"national/2025", nat, at25(p.benThanh), true},
		{"national/2022", nat, at22(p.phucXa), true},
		{"national/empty", nat, access.Place{}, true},
		{"national/unknown", nat, access.Place{Scheme: adminunit.Scheme2025, Commune: "99999"}, true},

		{"province/2025 inside", prov(p.hanoi), at25(p.baDinh), true},
		{"province/2025 outside", prov(p.hanoi), at25(p.benThanh), false},
		{"province/2022 inside", prov(p.hanoi), at22(p.phucXa), true},
		{"province/2022 outside", prov(p.hanoi), at22(p.tanDinh), false},
		{"province/2022 other province", prov(p.hcm), at22(p.tanDinh), true},
		{"province/3-digit code", actor.Jurisdiction{Level: actor.Province, Code: "0" + p.hanoi.Code}, at25(p.baDinh), true},
		{"province/2022 of merged province", prov(movedProv), at22(p.moved), true},
		{"province/2022 of merged province, old code", actor.Jurisdiction{Level: actor.Province, Code: p.moved.Province}, at22(p.moved), false},
		{"province/empty", prov(p.hanoi), access.Place{}, false},
		{"province/unknown", prov(p.hanoi), access.Place{Scheme: adminunit.Scheme2025, Commune: "99999"}, false},
		{"province/unknown 2022", prov(p.hanoi), access.Place{Scheme: adminunit.Scheme2022, Commune: "99999"}, false},

		{"commune/2025 same", comm(p.baDinh), at25(p.baDinh), true},
		{"commune/2025 other", comm(p.baDinh), at25(p.hongHa), false},
		{"commune/2022 became it", comm(p.baDinh), at22(p.trucBach), true},
		{"commune/2022 became another", comm(p.baDinh), at22(p.phucXa), false},
		{"commune/2022 Phúc Xá to Hồng Hà", comm(p.hongHa), at22(p.phucXa), true},
		{"commune/2022 code reused, judged by successor", comm(p.reusedNow), at22(p.reused), true},
		{"commune/2022 code reused, not by the code", comm(p.reusedTwin), at22(p.reused), false},
		{"commune/2025 code reused", comm(p.reusedTwin), at25(p.reusedTwin), true},
		{"commune/empty", comm(p.baDinh), access.Place{}, false},

		{"district/2022 inside", dist(p.baDinhD), at22(p.phucXa), true},
		{"district/2022 inside 2", dist(p.baDinhD), at22(p.trucBach), true},
		{"district/2022 neighbour", dist(p.baDinhD), at22(p.phucTan), false},
		{"district/2022 neighbour own", dist(p.hoanKiemD), at22(p.phucTan), true},
		{"district/2022 in another district of a shared commune", dist(p.hoanKiemD), at22(p.phucXa), false},
		{"district/2025 formed across districts", dist(p.baDinhD), at25(p.hongHa), true},
		{"district/2025 formed across districts 2", dist(p.hoanKiemD), at25(p.hongHa), true},
		{"district/2025 inside", dist(p.baDinhD), at25(p.baDinh), true},
		{"district/2025 outside", dist(p.hoanKiemD), at25(p.baDinh), false},
		{"district/2025 other province", dist(p.baDinhD), at25(p.benThanh), false},
		{"district/empty", dist(p.baDinhD), access.Place{}, false},

		{"unknown level", actor.Jurisdiction{Level: "ward", Code: p.baDinh.Code}, at25(p.baDinh), false},
	} {
		if got := pol.Covers(tc.j, tc.place); got != tc.want {
			t.Errorf("%s: Covers(%s %s, %s %s) = %v, want %v", tc.name, tc.j.Level, tc.j.Code, tc.place.Scheme, tc.place.Commune, got, tc.want)
		}
	}
}

func TestRequireChange(t *testing.T) {
	p := lookupPlaces(t)
	pol := access.NewPolicy(catalog(t))
	at25 := func(u adminunit.Unit) access.Place {
		return access.Place{Scheme: adminunit.Scheme2025, Commune: u.Code}
	}
	baDinhRegistrar := officerCtx(actor.Registrar, actor.Jurisdiction{Level: actor.Commune, Code: p.baDinh.Code})

	if a, err := pol.RequireChange(baDinhRegistrar, at25(p.baDinh)); err != nil || a.ID != "officer-1" {
		t.Errorf("own commune: RequireChange = %v, %v", a, err)
	}
	if _, err := pol.RequireChange(baDinhRegistrar, at25(p.baDinh), access.Place{Scheme: adminunit.Scheme2022, Commune: p.trucBach.Code}); err != nil {
		t.Errorf("own commune before and after (2022 form): %v", err)
	}

	_, err := pol.RequireChange(baDinhRegistrar, at25(p.benThanh))
	wantKind(t, err, errs.Forbidden)
	for _, s := range []string{p.benThanh.Code, "commune " + p.baDinh.Code} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not mention %q", err, s)
		}
	}
	// Moving someone out of the jurisdiction needs both ends.
	_, err = pol.RequireChange(baDinhRegistrar, at25(p.baDinh), at25(p.benThanh))
	wantKind(t, err, errs.Forbidden)
	_, err = pol.RequireChange(baDinhRegistrar, at25(p.benThanh), at25(p.baDinh))
	wantKind(t, err, errs.Forbidden)

	_, err = pol.RequireChange(baDinhRegistrar, access.Place{})
	wantKind(t, err, errs.Forbidden)
	if !strings.Contains(err.Error(), "no recorded residence") {
		t.Errorf("error %q does not say the record has no residence", err)
	}

	hanoiRegistrar := officerCtx(actor.Registrar, actor.Jurisdiction{Level: actor.Province, Code: p.hanoi.Code})
	_, err = pol.RequireChange(hanoiRegistrar, at25(p.benThanh))
	wantKind(t, err, errs.Forbidden)
	if !strings.Contains(err.Error(), "province "+p.hanoi.Code) {
		t.Errorf("error %q does not name the jurisdiction", err)
	}
	if _, err := pol.RequireChange(hanoiRegistrar, at25(p.baDinh), at25(p.hongHa)); err != nil {
		t.Errorf("province registrar within the province: %v", err)
	}

	// Nationally, and for the system, anything goes, even no residence.
	if _, err := pol.RequireChange(officerCtx(actor.Registrar, national), access.Place{}, at25(p.benThanh)); err != nil {
		t.Errorf("national registrar: %v", err)
	}
	if _, err := pol.RequireChange(officerCtx(actor.Admin, national), at25(p.benThanh)); err != nil {
		t.Errorf("national admin: %v", err)
	}
	if _, err := pol.RequireChange(system(), access.Place{}); err != nil {
		t.Errorf("system: %v", err)
	}

	// Jurisdiction does not make up for a role that may not write.
	_, err = pol.RequireChange(officerCtx(actor.Viewer, national), at25(p.baDinh))
	wantKind(t, err, errs.Forbidden)
	_, err = pol.RequireChange(context.Background(), at25(p.baDinh))
	wantKind(t, err, errs.Unauthenticated)
}

func TestCheckJurisdiction(t *testing.T) {
	p := lookupPlaces(t)
	pol := access.NewPolicy(catalog(t))
	for _, tc := range []struct {
		j     actor.Jurisdiction
		field string // "" for valid
	}{
		{national, ""},
		{actor.Jurisdiction{Level: actor.National, Code: p.hanoi.Code}, "jurisdiction.code"},
		{actor.Jurisdiction{Level: actor.Province, Code: p.hanoi.Code}, ""},
		{actor.Jurisdiction{Level: actor.Province, Code: "0" + p.hanoi.Code}, ""},
		{actor.Jurisdiction{Level: actor.Province, Code: p.moved.Province}, "jurisdiction.code"},
		{actor.Jurisdiction{Level: actor.Province, Code: "99"}, "jurisdiction.code"},
		{actor.Jurisdiction{Level: actor.Province}, "jurisdiction.code"},
		{actor.Jurisdiction{Level: actor.District, Code: p.baDinhD.Code}, ""},
		{actor.Jurisdiction{Level: actor.District, Code: "999"}, "jurisdiction.code"},
		{actor.Jurisdiction{Level: actor.Commune, Code: p.baDinh.Code}, ""},
		{actor.Jurisdiction{Level: actor.Commune, Code: p.phucXa.Code}, "jurisdiction.code"}, // 2022 only
		{actor.Jurisdiction{Level: actor.Commune, Code: "99999"}, "jurisdiction.code"},
		{actor.Jurisdiction{Level: actor.Commune}, "jurisdiction.code"},
		{actor.Jurisdiction{Level: "ward", Code: p.baDinh.Code}, "jurisdiction.level"},
		{actor.Jurisdiction{}, "jurisdiction.level"},
	} {
		err := pol.CheckJurisdiction(tc.j)
		if tc.field == "" {
			if err != nil {
				t.Errorf("CheckJurisdiction(%+v) = %v", tc.j, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("CheckJurisdiction(%+v) = nil, want an error naming %s", tc.j, tc.field)
			continue
		}
		wantField(t, err, tc.field)
	}
	if _, ok := catalog(t).Commune(adminunit.Scheme2025, p.phucXa.Code); ok {
		t.Fatalf("the 2022 code of Phúc Xá (%s) is also a 2025 commune; the case above tests nothing", p.phucXa.Code)
	}
}
