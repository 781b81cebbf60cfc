package registry_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"testing"

	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/personalid"
	"github.com/dancu-vn/dancu/internal/registry"
	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

// FuzzDecodeCitizen feeds outside JSON to the legacy registration: whatever
// arrives, the registry either takes it or refuses it with a kind the caller
// can act on, and never fails inside.
func FuzzDecodeCitizen(f *testing.F) {
	e := newEnv(f, sqldbtest.Open(f, "sqlite"))
	ba, phucXa := e.p.baDinh.Code, e.p.phucXa.Code
	for _, seed := range []string{
		`{"pid":"001080000001","name":{"family":"Nguyễn","middle":"Văn","given":"An"},"birth_date":"1980-01-01","sex":"male",
		  "permanent_residence":{"commune":"` + ba + `","detail":"số 1"}}`,
		`{"pid":"001180000002","name":{"family":"Lê","given":"Hoa"},"birth_date":"1980-02-29","sex":"female",
		  "permanent_residence":{"scheme":"2022","commune":"` + phucXa + `"},"status":"dead","status_date":"2020-01-01",
		  "father":{"name":"Lê Văn Bố"},"ethnicity":{"code":"01"},"religion":"00","blood_type":"o+","phone":"+84912345678",
		  "other":{"ghi_chu":"x"},"previous_cards":[{"kind":"cmnd9","number":"012345678"}],"reason":"nhập dữ liệu cũ"}`,
		`{"pid":"001080000003","name":{"family":"Trần","given":"Nam"},"birth_date":"1980-01-01","sex":"male",
		  "household":{"household_id":"h1","relationship":"child"}}`,
		`{"pid":"001080000001","name":{"family":"Nguyễn","given":"An"},"birth_date":"1981-01-01","sex":"female"}`,
		`{"pid":"0010800","name":{"family":"","given":"1"},"birth_date":"01/01/1980","sex":"x","status":"asleep"}`,
		`{"pid":"001080000004","name":{"family":"Nguyễn","given":"An"},"birth_date":"1980-01-01","sex":"male",
		  "current_residence":{"country":"fra","detail":"Paris"},"temporary_absence":{"from":"2025-01-01","until":"2024-01-01"}}`,
		`{"pid":1,"name":"An"}`,
		`{"name":{"family":"Nguyễn"`,
		`null`,
		`{}`,
	} {
		f.Add([]byte(seed))
	}
	actors := []context.Context{nationalAdmin(), communeRegistrar(e.p.baDinh)}
	f.Fuzz(func(t *testing.T, data []byte) {
		var in registry.LegacyRecord
		if err := json.Unmarshal(data, &in); err != nil {
			return
		}
		ctx := actors[len(data)%len(actors)]
		c, err := e.svc.RegisterExisting(ctx, in)
		switch k := errs.KindOf(err); {
		case err == nil:
		case k == errs.Invalid, k == errs.Conflict, k == errs.Forbidden:
			return
		default:
			t.Fatalf("RegisterExisting(%s) = %v (%s), want success, Invalid, Conflict or Forbidden", data, err, k)
		}
		if string(c.PID) != in.PID || c.Version != 1 {
			t.Fatalf("registered %s version %d from pid %q", c.PID, c.Version, in.PID)
		}
		got, err := e.svc.Get(ctx, string(c.PID), "")
		if err != nil {
			t.Fatalf("Get of a record just registered: %v", err)
		}
		if got.Name != c.Name || got.BirthDate != c.BirthDate || got.Sex != c.Sex {
			t.Fatalf("read back %+v, registered %+v", got.Details, c.Details)
		}
	})
}

// Text PostgreSQL cannot store (NUL characters, invalid UTF-8) is refused
// as invalid input on both engines, never left to fail inside the store.
func TestTextNeitherEngineStores(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		ctx := communeRegistrar(e.p.baDinh)
		c := e.existing(t, ctx, person("Quách Văn Chữ", "1980-05-05", personalid.Male, e.p.baDinh))
		_, err := e.svc.MoveHousehold(ctx, string(c.PID), 1, registry.Move{NewAddress: &registry.Address{Commune: e.p.baDinh.Code}, Basis: basis("x")})
		mustOK(t, err)
		before := e.tables(t)

		legacy := []struct {
			field string
			set   func(*registry.LegacyRecord)
		}{
			{"permanent_residence.detail", func(r *registry.LegacyRecord) { r.PermanentResidence.Detail = "số 1\x00" }},
			{"other.ghi_chu", func(r *registry.LegacyRecord) { r.Other = map[string]string{"ghi_chu": "\x00"} }},
			{"other", func(r *registry.LegacyRecord) { r.Other = map[string]string{"k\x00": "v"} }},
			{"residence_file_number", func(r *registry.LegacyRecord) { r.ResidenceFileNumber = "HK\x00" }},
			{"other_names", func(r *registry.LegacyRecord) { r.OtherNames = []string{"Chữ\x00"} }},
			{"reason", func(r *registry.LegacyRecord) { r.Reason = "nhập\x00" }},
			{"reason", func(r *registry.LegacyRecord) { r.Reason = "nh\xffập" }},
			{"dossier_ref", func(r *registry.LegacyRecord) { r.DossierRef = "\x00" }},
			{"household.household_id", func(r *registry.LegacyRecord) {
				r.PermanentResidence = nil
				r.Household = &registry.JoinHousehold{HouseholdID: "h\x00", Relationship: "child"}
			}},
		}
		for _, tt := range legacy {
			d := person("Quách Văn Mực", "1980-05-05", personalid.Male, e.p.baDinh)
			in := registry.LegacyRecord{PID: legacyPID(t, d.BirthDate, d.Sex), Details: d}
			tt.set(&in)
			_, err := e.svc.RegisterExisting(ctx, in)
			wantField(t, err, tt.field)
		}

		_, err = e.svc.RegisterBirth(ctx, birth("Quách Thị Bút", "2025-01-01", personalid.Female, e.p.baDinh), "key\x00")
		wantField(t, err, "idempotency_key")
		_, err = e.svc.Update(ctx, string(c.PID), 2, patch("other", `{"k":"\u0000"}`))
		wantField(t, err, "other.k")
		p := patch("phone", `"0912345678"`)
		p.Reason = "\x00"
		_, err = e.svc.Update(ctx, string(c.PID), 2, p)
		wantField(t, err, "reason")
		_, err = e.svc.MoveHousehold(ctx, string(c.PID), 2, registry.Move{NewAddress: &registry.Address{Commune: e.p.baDinh.Code, Detail: "\x00"}, Basis: basis("x")})
		wantField(t, err, "new_household_address.detail")
		_, err = e.svc.MoveHousehold(ctx, string(c.PID), 2, registry.Move{HouseholdID: "h\x00", Relationship: "child", Basis: basis("x")})
		wantField(t, err, "household_id")
		_, err = e.svc.MoveHousehold(ctx, string(c.PID), 2, registry.Move{NewAddress: &registry.Address{Commune: e.p.baDinh.Code},
			NewHeadPID: "00108\x00000001", Basis: basis("x")})
		wantField(t, err, "new_head_pid")
		_, err = e.svc.SetStatus(ctx, string(c.PID), 2, registry.Dead, registry.StatusChange{Date: "2025-01-01", Basis: basis("\x00")})
		wantField(t, err, "reason")
		e.unchanged(t, before)

		_, err = e.svc.Search(viewer(), registry.Query{Name: "Quách\x00"})
		wantField(t, err, "name")
		cursor, _ := json.Marshal([2]string{"quach\x00", "001080000001"})
		_, err = e.svc.Search(viewer(), registry.Query{Name: "Quách", Cursor: base64.RawURLEncoding.EncodeToString(cursor)})
		wantField(t, err, "cursor")
		_, err = e.svc.Search(viewer(), registry.Query{Name: "Quách", Purpose: "\x00"})
		wantField(t, err, "purpose")
		_, err = e.svc.Get(viewer(), string(c.PID), "tra cứu\x00")
		wantField(t, err, "purpose")
		_, err = e.svc.Household(viewer(), "h\x00")
		wantKind(t, err, errs.NotFound)
		if n := count(t, db, `SELECT COUNT(*) FROM access_event WHERE action IN ('read', 'search_result')`); n != 0 {
			t.Errorf("%d reads recorded for refused reads", n)
		}
	})
}
