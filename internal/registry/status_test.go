package registry_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/personalid"
	"github.com/dancu-vn/dancu/internal/registry"
	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

func statusChange(date string) registry.StatusChange {
	return registry.StatusChange{Date: date, Basis: registry.Basis{Reason: "trích lục khai tử", DossierRef: "KT-7"}}
}

func TestSetStatus(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		ctx := communeRegistrar(e.p.baDinh)
		dies := e.existing(t, ctx, person("Tạ Văn Thọ", "1930-01-01", personalid.Male, e.p.baDinh))
		lost := e.existing(t, ctx, person("Tạ Thị Nga", "1960-02-02", personalid.Female, e.p.baDinh))

		d, err := e.svc.SetStatus(ctx, string(dies.PID), 1, registry.Dead, statusChange("2025-09-01"))
		mustOK(t, err)
		if d.Status != registry.Dead || d.StatusDate != "2025-09-01" || d.Version != 2 {
			t.Errorf("after death: %s on %s, version %d", d.Status, d.StatusDate, d.Version)
		}
		for _, to := range []registry.Status{registry.Missing, registry.Alive, registry.Dead} {
			before := e.tables(t)
			_, err := e.svc.SetStatus(ctx, string(dies.PID), 0, to, statusChange("2025-09-02"))
			wantKind(t, err, errs.Conflict)
			e.unchanged(t, before)
		}

		steps := []struct {
			to     registry.Status
			date   string
			action string
		}{
			{registry.Missing, "2020-05-05", "record_disappearance"},
			{registry.Alive, "2024-01-01", "record_found"},
			{registry.Missing, "2024-06-01", "record_disappearance"},
			{registry.Dead, "2024-07-01", "record_death"},
		}
		for i, s := range steps {
			e.clock.Advance(time.Hour)
			c, err := e.svc.SetStatus(ctx, string(lost.PID), int64(i+1), s.to, statusChange(s.date))
			mustOK(t, err)
			wantDate := s.date
			if s.to == registry.Alive {
				wantDate = ""
			}
			if c.Status != s.to || c.StatusDate != wantDate || c.Version != int64(i+2) {
				t.Errorf("step %d: %s on %q, version %d; want %s on %q, version %d", i, c.Status, c.StatusDate, c.Version, s.to, wantDate, i+2)
			}
		}
		h := e.history(t, lost.PID)
		if len(h) != 1+len(steps) {
			t.Fatalf("%d revisions, want %d", len(h), 1+len(steps))
		}
		for i, s := range steps {
			r := h[i+1]
			if r.Version != int64(i+2) || r.Action != s.action || r.Reason != "trích lục khai tử" || r.DossierRef != "KT-7" ||
				!r.At.Equal(start.Add(time.Duration(i+1)*time.Hour)) {
				t.Errorf("revision %d = %+v, want %s", i+2, r, s.action)
			}
			if f := changedFields(r); !slices.Contains(f, "status") || !slices.Contains(f, "status_date") {
				t.Errorf("revision %d changes %v, want status and status_date", i+2, f)
			}
		}
		if got := e.get(t, lost.PID); got.Status != registry.Dead || got.StatusDate != "2024-07-01" {
			t.Errorf("stored: %s on %s", got.Status, got.StatusDate)
		}
	})
}

func TestSetStatusRefuses(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		ctx := communeRegistrar(e.p.baDinh)
		c := e.existing(t, ctx, person("Tạ Văn Thọ", "1930-01-01", personalid.Male, e.p.baDinh))
		tests := []struct {
			name    string
			ctx     context.Context
			ifMatch int64
			to      registry.Status
			in      registry.StatusChange
			kind    errs.Kind
			field   string
		}{
			{"before birth", ctx, 1, registry.Dead, statusChange("1929-12-31"), errs.Invalid, "date"},
			{"in the future", ctx, 1, registry.Dead, statusChange("2025-09-16"), errs.Invalid, "date"},
			{"no date", ctx, 1, registry.Dead, statusChange(""), errs.Invalid, "date"},
			{"no reason", ctx, 1, registry.Dead, registry.StatusChange{Date: "2025-01-01"}, errs.Invalid, "reason"},
			{"alive already", ctx, 1, registry.Alive, statusChange("2025-01-01"), errs.Conflict, ""},
			{"stale version", ctx, 5, registry.Dead, statusChange("2025-01-01"), errs.Precondition, ""},
			{"another commune", communeRegistrar(e.p.giangVo), 1, registry.Dead, statusChange("2025-01-01"), errs.Forbidden, ""},
			{"viewer", viewer(), 1, registry.Dead, statusChange("2025-01-01"), errs.Forbidden, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before := e.tables(t)
				_, err := e.svc.SetStatus(tt.ctx, string(c.PID), tt.ifMatch, tt.to, tt.in)
				if tt.field != "" {
					wantField(t, err, tt.field)
				} else {
					wantKind(t, err, tt.kind)
				}
				e.unchanged(t, before)
			})
		}
		if got := e.get(t, c.PID); got.Status != registry.Alive || got.Version != 1 {
			t.Errorf("after refusals: %s, version %d", got.Status, got.Version)
		}
	})
}

func TestHistory(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		ctx := communeRegistrar(e.p.baDinh)
		c := e.existing(t, ctx, person("Lưu Văn Sử", "1950-10-10", personalid.Male, e.p.baDinh))
		phones := []string{"0912000001", "0912000002", "0912000003"}
		for i, ph := range phones {
			e.clock.Advance(time.Minute)
			_, err := e.svc.Update(ctx, string(c.PID), int64(i+1), patch("phone", `"`+ph+`"`))
			mustOK(t, err)
		}
		h := e.history(t, c.PID)
		if len(h) != 4 {
			t.Fatalf("%d revisions, want 4", len(h))
		}
		for i, r := range h {
			if r.Version != int64(i+1) || !r.At.Equal(start.Add(time.Duration(i)*time.Minute)) {
				t.Errorf("revision %d: version %d at %v", i, r.Version, r.At)
			}
			if i == 0 {
				continue
			}
			want := registry.Change{Field: "phone", After: phones[i-1]}
			if i > 1 {
				want.Before = phones[i-2]
			}
			if len(r.Changes) != 1 || r.Changes[0] != want {
				t.Errorf("revision %d changes %+v, want %+v", r.Version, r.Changes, want)
			}
		}
		if n := count(t, db, `SELECT COUNT(*) FROM access_event WHERE action = 'read_history' AND subject_pid = $1`, c.PID); n != 1 {
			t.Errorf("%d read_history events, want 1", n)
		}
		_, err := e.svc.History(context.Background(), string(c.PID))
		wantKind(t, err, errs.Unauthenticated)
		_, err = e.svc.History(ctx, legacyPID(t, "1950-10-10", personalid.Male))
		wantKind(t, err, errs.NotFound)

		// The revisions are immutable, whoever holds the database.
		for _, stmt := range []string{
			`UPDATE citizen_revision SET reason = 'rewritten' WHERE pid = $1`,
			`UPDATE citizen_revision SET version = version + 10 WHERE pid = $1`,
			`DELETE FROM citizen_revision WHERE pid = $1`,
			`DELETE FROM pid_issued WHERE pid = $1`,
		} {
			if _, err := db.ExecContext(t.Context(), stmt, c.PID); err == nil {
				t.Errorf("%s succeeded", stmt)
			}
		}
		if after := e.history(t, c.PID); len(after) != 4 || after[1].Reason != h[1].Reason {
			t.Errorf("history changed: %+v", after)
		}
	})
}
