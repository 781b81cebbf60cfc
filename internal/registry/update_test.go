package registry_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"golang.org/x/text/unicode/norm"

	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/personalid"
	"github.com/dancu-vn/dancu/internal/registry"
	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

// patch sets one field to a JSON value, with a reason.
func patch(field, value string) registry.Patch {
	return registry.Patch{Set: map[string]json.RawMessage{field: json.RawMessage(value)}, Basis: registry.Basis{Reason: "cập nhật theo tờ khai"}}
}

// asJSON is v as a generic JSON value, to compare with revision values.
func asJSON(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	mustOK(t, err)
	var out any
	mustOK(t, json.Unmarshal(b, &out))
	return out
}

func TestUpdate(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		ctx := communeRegistrar(e.p.baDinh)
		c := e.existing(t, ctx, person("Đặng Văn Long", "1988-08-18", personalid.Male, e.p.baDinh))
		e.clock.Advance(3600e9)
		p := registry.Patch{
			Set: map[string]json.RawMessage{
				"phone":               json.RawMessage(`"+84 912.345.678"`),
				"permanent_residence": json.RawMessage(`{"commune":"` + e.p.baDinh.Code + `","detail":"số 40 phố Kim Mã"}`),
				"birth_date":          json.RawMessage(`"1988-08-18"`), // unchanged: not a change
			},
			Basis: registry.Basis{Reason: "công dân khai báo", LegalBasis: "Luật Cư trú 2020 Điều 22", DossierRef: "HS-42"},
		}
		u, err := e.svc.Update(ctx, string(c.PID), 1, p)
		mustOK(t, err)
		if u.Version != 2 || u.Phone != "0912345678" || u.PermanentResidence.Detail != "số 40 phố Kim Mã" {
			t.Errorf("updated record: version %d, phone %q, residence %+v", u.Version, u.Phone, u.PermanentResidence)
		}
		got := e.get(t, c.PID)
		if got.Version != 2 || got.Phone != "0912345678" || got.PermanentResidence.Detail != "số 40 phố Kim Mã" || !got.UpdatedAt.Equal(e.clock.Now()) {
			t.Errorf("stored record: version %d, phone %q, residence %+v, updated %v", got.Version, got.Phone, got.PermanentResidence, got.UpdatedAt)
		}
		h := e.history(t, c.PID)
		if len(h) != 2 {
			t.Fatalf("%d revisions, want 2", len(h))
		}
		r := h[1]
		if r.Version != 2 || r.Action != "update" || r.ActorID != actorOf(ctx).ID || r.Reason != "công dân khai báo" ||
			r.LegalBasis != "Luật Cư trú 2020 Điều 22" || r.DossierRef != "HS-42" || !r.At.Equal(e.clock.Now()) {
			t.Errorf("revision = %+v", r)
		}
		wantChanges := []registry.Change{
			{Field: "permanent_residence", Before: asJSON(t, c.PermanentResidence), After: asJSON(t, u.Record.PermanentResidence)},
			{Field: "phone", After: "0912345678"},
		}
		// Read-only parts are not stored.
		for _, ch := range wantChanges {
			if m, ok := ch.Before.(map[string]any); ok {
				delete(m, "text")
			}
			if m, ok := ch.After.(map[string]any); ok {
				delete(m, "text")
			}
		}
		if !reflect.DeepEqual(r.Changes, wantChanges) {
			t.Errorf("changes = %#v\nwant      %#v", r.Changes, wantChanges)
		}

		// A stale version changes nothing.
		before := e.tables(t)
		_, err = e.svc.Update(ctx, string(c.PID), 1, patch("phone", `"0987654321"`))
		wantKind(t, err, errs.Precondition)
		e.unchanged(t, before)
		if got := e.get(t, c.PID); got.Version != 2 || got.Phone != "0912345678" {
			t.Errorf("after a stale update: version %d, phone %s", got.Version, got.Phone)
		}
	})
}

func TestUpdateRefuses(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		ctx := communeRegistrar(e.p.baDinh)
		c := e.existing(t, ctx, person("Đặng Văn Long", "1988-08-18", personalid.Male, e.p.baDinh))
		tests := []struct {
			name  string
			p     registry.Patch
			field string
		}{
			{"no reason", registry.Patch{Set: patch("phone", `"0912345678"`).Set}, "reason"},
			{"nothing to change", registry.Patch{Basis: registry.Basis{Reason: "x"}}, "changes"},
			{"unknown field", patch("nickname", `"Long"`), "changes.nickname"},
			{"status has its own operation", patch("status", `"dead"`), "changes.status"},
			{"household has its own operation", patch("household", `{"household_id":"h"}`), "changes.household"},
			{"number", patch("pid", `"001088000001"`), "changes.pid"},
			{"wrong type", patch("phone", `912345678`), "changes.phone"},
			{"wrong type inside", patch("name", `{"family":"Đặng","given":7}`), "changes.name.given"},
			{"null", patch("phone", `null`), "changes.phone"},
			{"bad phone", patch("phone", `"12345"`), "phone"},
			{"clear required", registry.Patch{Clear: []string{"name"}, Basis: registry.Basis{Reason: "x"}}, "clear"},
			{"clear unknown", registry.Patch{Clear: []string{"nickname"}, Basis: registry.Basis{Reason: "x"}}, "clear"},
			{"empty given name", patch("name", `{"family":"Đặng","given":""}`), "name.given"},
			{"another birth year", patch("birth_date", `"1989-08-18"`), "birth_date"},
			{"another sex", patch("sex", `"female"`), "sex"},
			{"unknown commune", patch("permanent_residence", `{"commune":"99999"}`), "permanent_residence.commune"},
			{"unknown spouse", patch("spouse", `{"pid":"`+legacyPID(t, "1990-01-01", personalid.Female)+`"}`), "spouse.pid"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before := e.tables(t)
				_, err := e.svc.Update(ctx, string(c.PID), 1, tt.p)
				wantField(t, err, tt.field)
				e.unchanged(t, before)
				if got := e.get(t, c.PID); got.Version != 1 {
					t.Errorf("refused update moved the record to version %d", got.Version)
				}
			})
		}
		_, err := e.svc.Update(ctx, string(c.PID), 1, patch("sex", `"female"`))
		var ee *errs.Error
		if !errors.As(err, &ee) || ee.Msg == "invalid input" {
			t.Errorf("a change of sex should say it needs the number re-established, got %v", err)
		}
		_, err = e.svc.Update(ctx, "001088000000", 1, patch("phone", `"0912345678"`))
		wantKind(t, err, errs.NotFound)
	})
}

func TestUpdateWithoutChangeMakesNoRevision(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		ctx := communeRegistrar(e.p.baDinh)
		d := person("Đặng Văn Long", "1988-08-18", personalid.Male, e.p.baDinh)
		d.Phone = "0912345678"
		c := e.existing(t, ctx, d)
		before := e.tables(t)
		// The same number in another spelling normalises to what is stored.
		u, err := e.svc.Update(ctx, string(c.PID), 1, patch("phone", `"+84 912 345 678"`))
		mustOK(t, err)
		if u.Version != 1 {
			t.Errorf("no-op update moved the record to version %d", u.Version)
		}
		e.unchanged(t, before)
		// A date of birth within the same year agrees with the number.
		u, err = e.svc.Update(ctx, string(c.PID), 1, patch("birth_date", `"1988-01-02"`))
		mustOK(t, err)
		if u.Version != 2 || u.BirthDate != "1988-01-02" {
			t.Errorf("after changing the date of birth: version %d, %s", u.Version, u.BirthDate)
		}
		// Clearing an optional field is a change.
		u, err = e.svc.Update(ctx, string(c.PID), 2, registry.Patch{Clear: []string{"phone"}, Basis: registry.Basis{Reason: "thu hồi số"}})
		mustOK(t, err)
		if u.Version != 3 || u.Phone != "" {
			t.Errorf("after clearing the phone: version %d, phone %q", u.Version, u.Phone)
		}
		if h := e.history(t, c.PID); len(h) != 3 || h[2].Changes[0].Field != "phone" || h[2].Changes[0].After != nil {
			t.Errorf("history = %+v, want the phone cleared in revision 3", h)
		}
	})
}

func TestUpdateStoresNFC(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		ctx := communeRegistrar(e.p.baDinh)
		c := e.existing(t, ctx, person("Đặng Văn Long", "1988-08-18", personalid.Male, e.p.baDinh))
		name := registry.Name{Family: norm.NFD.String("Đặng"), Middle: norm.NFD.String("Quốc"), Given: norm.NFD.String("Việt")}
		if name.Family == "Đặng" {
			t.Fatal("NFD left the name composed; the test proves nothing")
		}
		nb, _ := json.Marshal(name)
		addr, _ := json.Marshal(registry.Address{Commune: e.p.baDinh.Code, Detail: norm.NFD.String("ngõ Văn Chương")})
		p := registry.Patch{Set: map[string]json.RawMessage{"name": nb, "permanent_residence": addr}, Basis: registry.Basis{Reason: "cải chính"}}
		_, err := e.svc.Update(ctx, string(c.PID), 1, p)
		mustOK(t, err)
		got := e.get(t, c.PID)
		if got.Name != (registry.Name{Family: "Đặng", Middle: "Quốc", Given: "Việt"}) || got.FullName != "Đặng Quốc Việt" {
			t.Errorf("name stored as %q %q %q, want NFC", got.Name.Family, got.Name.Middle, got.Name.Given)
		}
		if got.PermanentResidence.Detail != "ngõ Văn Chương" {
			t.Errorf("address detail stored as %q, want NFC", got.PermanentResidence.Detail)
		}
		var family string
		if err := db.QueryRowContext(t.Context(), `SELECT family_name FROM citizen WHERE pid = $1`, c.PID).Scan(&family); err != nil || family != "Đặng" {
			t.Errorf("family_name column = %q (%v), want NFC", family, err)
		}
	})
}
