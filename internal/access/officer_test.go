package access_test

import (
	"context"
	"strings"
	"testing"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/adminunit"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

func TestCreateOfficer(t *testing.T) {
	p := lookupPlaces(t)
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		ctx := system()
		commune := actor.Jurisdiction{Level: actor.Commune, Code: p.baDinh.Code}

		o, err := e.svc.CreateOfficer(ctx, access.NewOfficer{Username: "  Lan.Nguyen ", DisplayName: " Nguyễn Thị Lan ",
			Role: actor.Registrar, Jurisdiction: commune, Password: goodPassword})
		if err != nil {
			t.Fatalf("CreateOfficer: %v", err)
		}
		if o.ID == "" || o.Username != "lan.nguyen" || o.DisplayName != "Nguyễn Thị Lan" || o.Role != actor.Registrar ||
			o.Jurisdiction != commune || o.Disabled || !o.CreatedAt.Equal(start) {
			t.Errorf("CreateOfficer returned %+v", o)
		}
		got, err := e.svc.OfficerByUsername(ctx, "LAN.NGUYEN")
		if err != nil {
			t.Fatalf("OfficerByUsername: %v", err)
		}
		if got.ID != o.ID || got.Username != o.Username || got.DisplayName != o.DisplayName || got.Role != o.Role ||
			got.Jurisdiction != o.Jurisdiction || got.Disabled || !got.CreatedAt.Equal(o.CreatedAt) {
			t.Errorf("stored officer %+v, created %+v", got, o)
		}
		// The password is kept only as an argon2id hash.
		var hash string
		if err := db.QueryRowContext(context.Background(), `SELECT password_hash FROM officer WHERE id = $1`, o.ID).Scan(&hash); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(hash, "$argon2id$") || strings.Contains(hash, goodPassword) || !access.VerifyPassword(hash, goodPassword) {
			t.Errorf("stored password hash %q", hash)
		}

		// No display name: the username stands in; no level: national.
		o2, err := e.svc.CreateOfficer(ctx, access.NewOfficer{Username: "viewer1", Role: actor.Viewer, Password: goodPassword})
		if err != nil {
			t.Fatalf("CreateOfficer with defaults: %v", err)
		}
		if o2.DisplayName != "viewer1" || o2.Jurisdiction != national {
			t.Errorf("defaults: %+v", o2)
		}

		// A username is unique whatever its case.
		_, err = e.svc.CreateOfficer(ctx, access.NewOfficer{Username: "LAN.nguyen", Role: actor.Viewer, Password: goodPassword})
		wantField(t, err, "username")
		if n := e.count(t, `SELECT COUNT(*) FROM officer`); n != 2 {
			t.Errorf("%d officers after a refused duplicate, want 2", n)
		}
		if n := e.events(t, "officer_create")["officer_create"]; n != 2 {
			t.Errorf("%d officer_create events, want 2", n)
		}

		list, err := e.svc.ListOfficers(ctx)
		if err != nil {
			t.Fatalf("ListOfficers: %v", err)
		}
		if len(list) != 2 || list[0].Username != "lan.nguyen" || list[1].Username != "viewer1" {
			t.Errorf("ListOfficers = %+v", list)
		}
		_, err = e.svc.OfficerByUsername(ctx, "nobody")
		wantKind(t, err, errs.NotFound)
	})
}

func TestCreateOfficerInvalid(t *testing.T) {
	p := lookupPlaces(t)
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		valid := func() access.NewOfficer {
			return access.NewOfficer{Username: "lan", Role: actor.Registrar, Password: goodPassword,
				Jurisdiction: actor.Jurisdiction{Level: actor.Commune, Code: p.baDinh.Code}}
		}
		for _, tc := range []struct {
			name  string
			edit  func(*access.NewOfficer)
			field string
		}{
			{"username empty", func(n *access.NewOfficer) { n.Username = "" }, "username"},
			{"username too short", func(n *access.NewOfficer) { n.Username = "ab" }, "username"},
			{"username too long", func(n *access.NewOfficer) { n.Username = strings.Repeat("a", 65) }, "username"},
			{"username leading dot", func(n *access.NewOfficer) { n.Username = ".lan" }, "username"},
			{"username leading dash", func(n *access.NewOfficer) { n.Username = "-lan" }, "username"},
			{"username space", func(n *access.NewOfficer) { n.Username = "lan nguyen" }, "username"},
			{"username diacritics", func(n *access.NewOfficer) { n.Username = "lân" }, "username"},
			{"username at", func(n *access.NewOfficer) { n.Username = "lan@example.vn" }, "username"},
			{"display name too long", func(n *access.NewOfficer) { n.DisplayName = strings.Repeat("x", 201) }, "display_name"},
			{"role unknown", func(n *access.NewOfficer) { n.Role = "superuser" }, "role"},
			{"role empty", func(n *access.NewOfficer) { n.Role = "" }, "role"},
			{"password weak", func(n *access.NewOfficer) { n.Password = "password" }, "password"},
			{"password empty", func(n *access.NewOfficer) { n.Password = "" }, "password"},
			{"commune unknown", func(n *access.NewOfficer) { n.Jurisdiction.Code = "99999" }, "jurisdiction.code"},
			{"commune of 2022", func(n *access.NewOfficer) { n.Jurisdiction.Code = p.phucXa.Code }, "jurisdiction.code"},
			{"commune empty", func(n *access.NewOfficer) { n.Jurisdiction.Code = "" }, "jurisdiction.code"},
			{"province unknown", func(n *access.NewOfficer) {
				n.Jurisdiction = actor.Jurisdiction{Level: actor.Province, Code: "99"}
			}, "jurisdiction.code"},
			{"province merged away", func(n *access.NewOfficer) {
				n.Jurisdiction = actor.Jurisdiction{Level: actor.Province, Code: p.moved.Province}
			}, "jurisdiction.code"},
			{"district unknown", func(n *access.NewOfficer) {
				n.Jurisdiction = actor.Jurisdiction{Level: actor.District, Code: "999"}
			}, "jurisdiction.code"},
			{"national with a code", func(n *access.NewOfficer) {
				n.Jurisdiction = actor.Jurisdiction{Level: actor.National, Code: p.hanoi.Code}
			}, "jurisdiction.code"},
			{"level unknown", func(n *access.NewOfficer) { n.Jurisdiction.Level = "ward" }, "jurisdiction.level"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				in := valid()
				tc.edit(&in)
				_, err := e.svc.CreateOfficer(system(), in)
				wantField(t, err, tc.field)
			})
		}
		// Every refused field is reported at once.
		_, err := e.svc.CreateOfficer(system(), access.NewOfficer{Username: "x", Role: "boss", Password: "pw",
			Jurisdiction: actor.Jurisdiction{Level: actor.Commune, Code: "1"}})
		for _, f := range []string{"username", "role", "password", "jurisdiction.code"} {
			wantField(t, err, f)
		}
		if n := e.count(t, `SELECT COUNT(*) FROM officer`); n != 0 {
			t.Errorf("%d officers stored from invalid input", n)
		}

		// The edges of the username rule are accepted.
		for _, u := range []string{"abc", "0lan", "nguyen.thi-lan_2", strings.Repeat("a", 64)} {
			in := valid()
			in.Username = u
			if _, err := e.svc.CreateOfficer(system(), in); err != nil {
				t.Errorf("username %q: %v", u, err)
			}
		}
	})
}

func TestCreateOfficerJurisdiction(t *testing.T) {
	p := lookupPlaces(t)
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		// A province is stored under its 2-digit code, however it was given.
		for i, code := range []string{p.hanoi.Code, "0" + p.hanoi.Code, " " + p.hanoi.Code + " "} {
			username := "hanoi" + string(rune('a'+i))
			o := e.officer(t, username, actor.Registrar, actor.Jurisdiction{Level: actor.Province, Code: code})
			if o.Jurisdiction.Code != p.hanoi.Code {
				t.Errorf("province %q returned as %q, want %q", code, o.Jurisdiction.Code, p.hanoi.Code)
			}
			got, err := e.svc.OfficerByUsername(system(), username)
			if err != nil {
				t.Fatal(err)
			}
			if got.Jurisdiction != (actor.Jurisdiction{Level: actor.Province, Code: p.hanoi.Code}) {
				t.Errorf("province %q stored as %+v", code, got.Jurisdiction)
			}
		}
		// A 1-digit province code is not a code the catalog knows: it is
		// refused rather than guessed at.
		_, err := e.svc.CreateOfficer(system(), access.NewOfficer{Username: "hanoi1", Role: actor.Registrar, Password: goodPassword,
			Jurisdiction: actor.Jurisdiction{Level: actor.Province, Code: strings.TrimLeft(p.hanoi.Code, "0")}})
		wantField(t, err, "jurisdiction.code")

		d := e.officer(t, "badinhd", actor.Registrar, actor.Jurisdiction{Level: actor.District, Code: p.baDinhD.Code})
		if d.Jurisdiction != (actor.Jurisdiction{Level: actor.District, Code: p.baDinhD.Code}) {
			t.Errorf("district jurisdiction %+v", d.Jurisdiction)
		}
		c := e.officer(t, "badinh", actor.Registrar, actor.Jurisdiction{Level: actor.Commune, Code: " " + p.baDinh.Code})
		if c.Jurisdiction != (actor.Jurisdiction{Level: actor.Commune, Code: p.baDinh.Code}) {
			t.Errorf("commune jurisdiction %+v", c.Jurisdiction)
		}
		if _, ok := catalog(t).Commune(adminunit.Scheme2025, p.baDinh.Code); !ok {
			t.Fatal("Ba Đình is not a 2025 commune")
		}
	})
}

func TestCreateOfficerWho(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		admin := e.officer(t, "admin", actor.Admin, national)
		registrar := e.officer(t, "registrar", actor.Registrar, national)
		viewer := e.officer(t, "viewer", actor.Viewer, national)
		in := func(u string) access.NewOfficer {
			return access.NewOfficer{Username: u, Role: actor.Viewer, Password: goodPassword}
		}
		if _, err := e.svc.CreateOfficer(as(admin), in("byadmin")); err != nil {
			t.Errorf("admin: %v", err)
		}
		_, err := e.svc.CreateOfficer(as(registrar), in("byregistrar"))
		wantKind(t, err, errs.Forbidden)
		_, err = e.svc.CreateOfficer(as(viewer), in("byviewer"))
		wantKind(t, err, errs.Forbidden)
		_, err = e.svc.CreateOfficer(context.Background(), in("bynobody"))
		wantKind(t, err, errs.Unauthenticated)
		// Permission is checked before the input: a registrar learns
		// nothing about which usernames exist.
		_, err = e.svc.CreateOfficer(as(registrar), in("admin"))
		wantKind(t, err, errs.Forbidden)

		if n := e.count(t, `SELECT COUNT(*) FROM officer`); n != 4 {
			t.Errorf("%d officers, want 4", n)
		}
		var actorID string
		if err := db.QueryRowContext(context.Background(), `SELECT actor_id FROM access_event WHERE action = 'officer_create' AND detail = 'officer byadmin'`).Scan(&actorID); err != nil {
			t.Fatalf("the creation of byadmin was not recorded: %v", err)
		}
		if actorID != admin.ID {
			t.Errorf("creation of byadmin recorded as by %q, want %q", actorID, admin.ID)
		}

		_, err = e.svc.ListOfficers(as(registrar))
		wantKind(t, err, errs.Forbidden)
		_, err = e.svc.OfficerByUsername(as(viewer), "admin")
		wantKind(t, err, errs.Forbidden)
		err = e.svc.SetDisabled(as(registrar), "viewer", true)
		wantKind(t, err, errs.Forbidden)
	})
}

func TestEnsureAdmin(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		pw, created, err := e.svc.EnsureAdmin(ctx, goodPassword)
		if err != nil || !created || pw != goodPassword {
			t.Fatalf("EnsureAdmin = %q, %v, %v; want the given password, true", pw, created, err)
		}
		secret, _ := e.login(t, "admin", goodPassword)
		a, err := e.svc.Authenticate(ctx, secret)
		if err != nil {
			t.Fatal(err)
		}
		if a.Role != actor.Admin || a.Jurisdiction != national {
			t.Errorf("bootstrap admin is %s %+v", a.Role, a.Jurisdiction)
		}

		pw, created, err = e.svc.EnsureAdmin(ctx, "Other-Pass-1")
		if err != nil || created || pw != "" {
			t.Errorf("second EnsureAdmin = %q, %v, %v; want nothing done", pw, created, err)
		}
		if n := e.count(t, `SELECT COUNT(*) FROM officer`); n != 1 {
			t.Errorf("%d officers after two EnsureAdmin, want 1", n)
		}
		if _, _, err := e.svc.Login(ctx, "admin", "Other-Pass-1"); err == nil {
			t.Error("the second EnsureAdmin changed the password")
		}
	})
}

func TestEnsureAdminRandomPassword(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		pw, created, err := e.svc.EnsureAdmin(context.Background(), "")
		if err != nil || !created {
			t.Fatalf("EnsureAdmin = %v, %v", created, err)
		}
		if err := access.CheckPasswordPolicy(pw); err != nil {
			t.Errorf("random admin password %q: %v", pw, err)
		}
		e.login(t, "admin", pw)
	})
}

func TestEnsureAdminBadPassword(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		pw, created, err := e.svc.EnsureAdmin(context.Background(), "admin")
		if err == nil || created || pw != "" {
			t.Fatalf("EnsureAdmin with a weak password = %q, %v, %v", pw, created, err)
		}
		if !strings.Contains(err.Error(), "DANCU_ADMIN_PASSWORD") {
			t.Errorf("error %q does not mention DANCU_ADMIN_PASSWORD", err)
		}
		wantField(t, err, "password")
		if n := e.count(t, `SELECT COUNT(*) FROM officer`); n != 0 {
			t.Fatalf("%d officers after a refused bootstrap", n)
		}
		if _, created, err := e.svc.EnsureAdmin(context.Background(), goodPassword); err != nil || !created {
			t.Errorf("EnsureAdmin after a refused one = %v, %v", created, err)
		}
	})
}

// An existing officer, even one who is not an administrator, means the
// store has been set up: no second way in is opened.
func TestEnsureAdminNotEmpty(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		e.officer(t, "lan", actor.Viewer, national)
		pw, created, err := e.svc.EnsureAdmin(context.Background(), goodPassword)
		if err != nil || created || pw != "" {
			t.Errorf("EnsureAdmin = %q, %v, %v", pw, created, err)
		}
		if n := e.count(t, `SELECT COUNT(*) FROM officer WHERE username = 'admin'`); n != 0 {
			t.Error("EnsureAdmin created admin beside an existing officer")
		}
	})
}
