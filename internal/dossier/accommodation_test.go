package dossier_test

import (
	"strings"
	"testing"
	"time"

	"github.com/dancu-vn/dancu/internal/dossier"
	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

func TestNoticeDue(t *testing.T) {
	at := func(d, h, m int) time.Time { return time.Date(2026, 11, d, h, m, 0, 0, vn) }
	for _, tc := range []struct{ arrival, due time.Time }{
		{at(2, 10, 0), at(2, 23, 0)},
		{at(2, 22, 59), at(2, 23, 0)},
		{at(2, 23, 0), at(3, 8, 0)},
		{at(2, 23, 45), at(3, 8, 0)},
		{at(3, 0, 30), at(3, 23, 0)},                                  // after midnight: a new arrival day
		{time.Date(2026, 11, 2, 16, 30, 0, 0, time.UTC), at(3, 8, 0)}, // 23:30 in Viet Nam
	} {
		if got := dossier.NoticeDue(tc.arrival); !got.Equal(tc.due) {
			t.Errorf("arrival %s: due %s, want %s", tc.arrival, got.In(vn), tc.due)
		}
	}
}

func TestAccommodationNotice(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		host := e.person(t, saiGon)
		guest := e.person(t, baDinh)
		notice := func(guests ...map[string]string) map[string]any {
			return map[string]any{"address": map[string]string{"commune": saiGon, "detail": "Khách sạn Bến Thành, số 2 Lê Lợi"}, "lodging": "hotel", "guests": guests}
		}
		// Clock: Monday 2 November, 09:00. One guest arrived at 08:30
		// (due 23:00 today), one foreigner last night at 23:30 (due 08:00
		// today: late).
		d, err := e.svc.Submit(citizen(host), "residence.accommodation", form(notice(
			map[string]string{"pid": guest, "name": "nguyễn  văn an", "arrival": "2026-11-02T08:30:00+07:00", "until": "2026-11-04", "reason": "business"},
			map[string]string{"passport": "c1234567", "name": "Jane Doe", "arrival": "2026-11-01T23:30:00+07:00", "until": "2026-11-05"},
		)), "")
		if err != nil {
			t.Fatal(err)
		}
		if d.State != dossier.Returned || d.Commune != saiGon || !strings.Contains(d.Result, "2 guest(s)") || !strings.Contains(d.Result, "1 notified late") {
			t.Fatalf("notice %+v", d)
		}
		if n := e.count(t, `SELECT COUNT(*) FROM accommodation_notice WHERE dossier_id = $1`, d.ID); n != 2 {
			t.Errorf("%d guests recorded", n)
		}
		if n := e.count(t, `SELECT COUNT(*) FROM accommodation_notice WHERE dossier_id = $1 AND late AND passport = 'C1234567'`, d.ID); n != 1 {
			t.Errorf("the late guest is not marked late")
		}
		var name string
		db.QueryRowContext(t.Context(), `SELECT name FROM accommodation_notice WHERE pid = $1`, guest).Scan(&name)
		if name != "Nguyễn Văn An" {
			t.Errorf("the Vietnamese guest's name %q, want it from the registry", name)
		}
		// Bad notices name the guest and the field; nothing is stored.
		for _, tc := range []struct {
			guest map[string]string
			field string
		}{
			{map[string]string{"pid": guest, "passport": "B1234567", "arrival": "2026-11-02T08:30:00+07:00", "until": "2026-11-04"}, "data.guests[0]"},
			{map[string]string{"passport": "B1234567", "arrival": "2026-11-02T08:30:00+07:00", "until": "2026-11-04"}, "data.guests[0].name"},
			// A number nobody holds and a name that differs: one answer at
			// the name, so that the form tells nobody whose number it is.
			{map[string]string{"pid": "001090999999", "name": "Nguyễn Văn An", "arrival": "2026-11-02T08:30:00+07:00", "until": "2026-11-04"}, "data.guests[0].name"},
			{map[string]string{"pid": guest, "name": "Trần Văn An", "arrival": "2026-11-02T08:30:00+07:00", "until": "2026-11-04"}, "data.guests[0].name"},
			{map[string]string{"pid": guest, "arrival": "2026-11-02T08:30:00+07:00", "until": "2026-11-04"}, "data.guests[0].name"},
			{map[string]string{"pid": guest, "name": "Nguyễn Văn An", "arrival": "2026-11-09T08:30:00+07:00", "until": "2026-11-10"}, "data.guests[0].arrival"},
			{map[string]string{"pid": guest, "name": "Nguyễn Văn An", "arrival": "yesterday", "until": "2026-11-04"}, "data.guests[0].arrival"},
			{map[string]string{"pid": guest, "name": "Nguyễn Văn An", "arrival": "2026-11-02T08:30:00+07:00", "until": "2026-10-30"}, "data.guests[0].until"},
		} {
			_, err := e.svc.Submit(citizen(host), "residence.accommodation", form(notice(tc.guest)), "")
			wantField(t, err, tc.field)
		}
		if n := e.count(t, `SELECT COUNT(*) FROM dossier`); n != 1 {
			t.Errorf("%d dossiers after refused notices", n)
		}
	})
}
