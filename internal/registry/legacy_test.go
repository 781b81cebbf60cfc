package registry_test

import (
	"testing"

	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/personalid"
	"github.com/dancu-vn/dancu/internal/registry"
	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

func TestRegisterExisting(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		ctx := communeRegistrar(e.p.baDinh)
		d := person("Nguyễn Thị Hồng", "1968-04-30", personalid.Female, e.p.baDinh)
		d.OldIDNumber = "011234567"
		d.Ethnicity = &registry.Ethnicity{Code: "01"}
		pid := legacyPID(t, d.BirthDate, d.Sex)
		c, err := e.svc.RegisterExisting(ctx, registry.LegacyRecord{PID: pid, Details: d})
		mustOK(t, err)
		if string(c.PID) != pid || c.Version != 1 || c.Status != registry.Alive {
			t.Errorf("registered %s version %d %s, want %s version 1 alive", c.PID, c.Version, c.Status, pid)
		}
		got := e.get(t, c.PID)
		if got.FullName != "Nguyễn Thị Hồng" || got.OldIDNumber != "011234567" || got.Nationality != "VNM" {
			t.Errorf("record read back = %+v", got.Details)
		}
		if r := got.PermanentResidence; r == nil || r.Province != e.p.hanoi.Code || r.Text == "" {
			t.Errorf("permanent residence = %+v, want province %s filled in and the address written out", r, e.p.hanoi.Code)
		}
		if got.Ethnicity == nil || got.Ethnicity.Name == "" {
			t.Errorf("ethnicity = %+v, want its name", got.Ethnicity)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM pid_issued WHERE pid = $1 AND origin = 'legacy'`, pid); n != 1 {
			t.Errorf("number recorded as legacy %d times, want 1", n)
		}
		h := e.history(t, c.PID)
		if len(h) != 1 || h[0].Action != "register_existing" || h[0].Reason == "" {
			t.Errorf("history = %+v, want one register_existing revision with a reason", h)
		}
	})
}

func TestRegisterExistingRefuses(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		ctx := nationalAdmin()
		taken := e.existing(t, ctx, person("Lý Văn Tám", "1970-01-01", personalid.Male, e.p.baDinh))
		born, err := e.svc.RegisterBirth(ctx, birth("Lý Thị Chín", "2025-01-01", personalid.Female, e.p.baDinh), "")
		mustOK(t, err)
		male1980 := legacyPID(t, "1980-05-05", personalid.Male)
		tests := []struct {
			name  string
			pid   string
			set   func(*registry.LegacyRecord)
			kind  errs.Kind
			field string
		}{
			{"year disagrees with number", male1980, func(r *registry.LegacyRecord) { r.BirthDate = "1981-05-05" }, errs.Invalid, "birth_date"},
			{"sex disagrees with number", male1980, func(r *registry.LegacyRecord) { r.Sex = personalid.Female }, errs.Invalid, "sex"},
			{"too short", "00108012345", nil, errs.Invalid, "pid"},
			{"letters", "00108012345X", nil, errs.Invalid, "pid"},
			{"unknown province", "003080123456", nil, errs.Invalid, "pid"},
			{"unknown commune", male1980, func(r *registry.LegacyRecord) { r.PermanentResidence.Commune = "99999" }, errs.Invalid, "permanent_residence.commune"},
			{"commune of another province", male1980, func(r *registry.LegacyRecord) {
				r.PermanentResidence.Province = e.p.hcm.Code
			}, errs.Invalid, "permanent_residence.province"},
			{"alive with a date of death", male1980, func(r *registry.LegacyRecord) { r.StatusDate = "2020-01-01" }, errs.Invalid, "status_date"},
			{"dead before birth", male1980, func(r *registry.LegacyRecord) { r.Status, r.StatusDate = registry.Dead, "1979-01-01" }, errs.Invalid, "status_date"},
			{"unknown status", male1980, func(r *registry.LegacyRecord) { r.Status = "asleep" }, errs.Invalid, "status"},
			{"registered before", string(taken.PID), func(r *registry.LegacyRecord) { r.BirthDate = "1970-01-01" }, errs.Conflict, ""},
			{"issued at birth here", string(born.PID), func(r *registry.LegacyRecord) {
				r.BirthDate, r.Sex = "2025-01-01", personalid.Female
			}, errs.Conflict, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				in := registry.LegacyRecord{PID: tt.pid, Details: person("Lý Văn Mười", "1980-05-05", personalid.Male, e.p.baDinh)}
				if tt.set != nil {
					tt.set(&in)
				}
				before := e.tables(t)
				_, err := e.svc.RegisterExisting(ctx, in)
				if tt.field != "" {
					wantField(t, err, tt.field)
				} else {
					wantKind(t, err, tt.kind)
				}
				e.unchanged(t, before)
			})
		}
	})
}

// A legacy address in the 2022 scheme is kept as recorded and judged, for
// jurisdiction and search, by the 2025 commune it became.
func TestRegisterExistingOldSchemeAddress(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		d := person("Bùi Quang Huy", "1975-12-12", personalid.Male, e.p.baDinh)
		d.PermanentResidence = &registry.Address{Scheme: "2022", Commune: e.p.phucXa.Code, Detail: "số 3 phố Phúc Xá"}
		in := registry.LegacyRecord{PID: legacyPID(t, d.BirthDate, d.Sex), Details: d}

		before := e.tables(t)
		_, err := e.svc.RegisterExisting(communeRegistrar(e.p.baDinh), in)
		wantKind(t, err, errs.Forbidden)
		e.unchanged(t, before)

		c, err := e.svc.RegisterExisting(communeRegistrar(e.p.phucXaNow), in)
		mustOK(t, err)
		r := c.PermanentResidence
		if r.Scheme != "2022" || r.Commune != e.p.phucXa.Code || r.CurrentCommune != e.p.phucXaNow.Code {
			t.Errorf("permanent residence = %+v, want 2022 commune %s, now %s", r, e.p.phucXa.Code, e.p.phucXaNow.Code)
		}
		page, err := e.svc.Search(viewer(), registry.Query{Commune: e.p.phucXaNow.Code})
		mustOK(t, err)
		if len(page.Items) != 1 || page.Items[0].PID != c.PID || page.Items[0].PermanentResidence != e.p.phucXaNow.Code {
			t.Errorf("search in %v = %+v, want the record", e.p.phucXaNow, page.Items)
		}
		page, err = e.svc.Search(viewer(), registry.Query{Province: e.p.hanoi.Code})
		mustOK(t, err)
		if len(page.Items) != 1 {
			t.Errorf("search in %v = %+v, want the record", e.p.hanoi, page.Items)
		}
		// The officer of the new commune, and of its province, may change it.
		c, err = e.svc.Update(communeRegistrar(e.p.phucXaNow), string(c.PID), c.Version, patch("phone", `"0912345678"`))
		mustOK(t, err)
		_, err = e.svc.Update(provinceRegistrar(e.p.hanoi), string(c.PID), c.Version, patch("phone", `"0912345679"`))
		mustOK(t, err)
		_, err = e.svc.Update(provinceRegistrar(e.p.hcm), string(c.PID), c.Version+1, patch("phone", `"0912345670"`))
		wantKind(t, err, errs.Forbidden)
	})
}
