package registry_test

import (
	"slices"
	"testing"

	"github.com/dancu-vn/dancu/internal/adminunit"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/personalid"
	"github.com/dancu-vn/dancu/internal/registry"
	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

func TestRegisterBirthAssignsNumber(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		ctx := nationalAdmin()
		tests := []struct {
			dob    string
			sex    personalid.Sex
			place  adminunit.Unit
			digits string // century-and-sex digit and the two year digits
		}{
			{"2025-08-20", personalid.Female, e.p.baDinh, "325"},
			{"2024-12-31", personalid.Male, e.p.giangVo, "224"},
			{"1999-01-02", personalid.Male, e.p.benThanh, "099"},
			{"1985-06-30", personalid.Female, e.p.benThanh, "185"},
		}
		for _, tt := range tests {
			c, err := e.svc.RegisterBirth(ctx, birth("Lê Thị Hoa", tt.dob, tt.sex, tt.place), "")
			mustOK(t, err)
			want := "0" + tt.place.Province + tt.digits
			if len(c.PID) != 12 || string(c.PID[:6]) != want {
				t.Errorf("born %s %s in %v: number %s, want prefix %s", tt.dob, tt.sex, tt.place, c.PID, want)
			}
			if _, err := personalid.Parse(string(c.PID)); err != nil {
				t.Errorf("number %s does not parse: %v", c.PID, err)
			}
			if c.Version != 1 || c.Status != registry.Alive {
				t.Errorf("new record is version %d, %s; want version 1, alive", c.Version, c.Status)
			}
			if n := count(t, db, `SELECT COUNT(*) FROM pid_issued WHERE pid = $1 AND origin = 'birth'`, c.PID); n != 1 {
				t.Errorf("%s recorded as issued at birth %d times", c.PID, n)
			}
		}
	})
}

func TestRegisterBirthRevision(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		ctx := communeRegistrar(e.p.baDinh)
		in := birth("Phạm Minh Khôi", "2025-09-01", personalid.Male, e.p.baDinh)
		in.Reason, in.DossierRef = "đăng ký khai sinh", "HS-2025-0001"
		c, err := e.svc.RegisterBirth(ctx, in, "")
		mustOK(t, err)
		h := e.history(t, c.PID)
		if len(h) != 1 {
			t.Fatalf("%d revisions after registration, want 1", len(h))
		}
		r, a := h[0], actorOf(ctx)
		if r.Version != 1 || r.Action != "register_birth" || r.ActorID != a.ID || r.ActorKind != "officer" || r.ActorName != a.Name {
			t.Errorf("revision = %+v, want version 1, register_birth by %s", r, a.ID)
		}
		if r.Reason != "đăng ký khai sinh" || r.DossierRef != "HS-2025-0001" || !r.At.Equal(start) {
			t.Errorf("revision reason %q, dossier %q, at %v", r.Reason, r.DossierRef, r.At)
		}
		fields := changedFields(r)
		for _, f := range []string{"name", "birth_date", "sex", "permanent_residence", "status"} {
			if !slices.Contains(fields, f) {
				t.Errorf("first revision does not record %s (has %v)", f, fields)
			}
		}
	})
}

func changedFields(r registry.Revision) []string {
	var out []string
	for _, c := range r.Changes {
		out = append(out, c.Field)
	}
	return out
}

func TestRegisterBirthLinksParents(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		ctx := communeRegistrar(e.p.baDinh)
		father := e.existing(t, ctx, person("Trần Văn Nam", "1990-03-04", personalid.Male, e.p.baDinh))
		mother := e.existing(t, ctx, person("Đỗ Thị Lan", "1992-11-20", personalid.Female, e.p.baDinh))
		in := birth("Trần Minh Anh", "2025-07-01", personalid.Female, e.p.baDinh)
		in.Father = &registry.Relative{PID: string(father.PID)}
		in.Mother = &registry.Relative{PID: string(mother.PID)}
		child, err := e.svc.RegisterBirth(ctx, in, "")
		mustOK(t, err)
		if child.Father == nil || child.Father.Name != "Trần Văn Nam" || child.Mother == nil || child.Mother.Name != "Đỗ Thị Lan" {
			t.Errorf("parents' names not filled in: father %+v, mother %+v", child.Father, child.Mother)
		}
		for _, parent := range []registry.Citizen{father, mother} {
			got := e.get(t, parent.PID).Children
			want := []registry.Relative{{PID: string(child.PID), Name: "Trần Minh Anh"}}
			if !slices.Equal(got, want) {
				t.Errorf("children of %s = %+v, want %+v", parent.PID, got, want)
			}
		}
	})
}

func TestRegisterBirthChecksParents(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		ctx := communeRegistrar(e.p.baDinh)
		man := e.existing(t, ctx, person("Trần Văn Nam", "1990-03-04", personalid.Male, e.p.baDinh))
		woman := e.existing(t, ctx, person("Đỗ Thị Lan", "1992-11-20", personalid.Female, e.p.baDinh))
		boy := e.existing(t, ctx, person("Trần Văn Bé", "2025-08-01", personalid.Male, e.p.baDinh))
		unknown := legacyPID(t, "1980-01-01", personalid.Male) // well formed, never registered
		tests := []struct {
			name           string
			father, mother string
			field          string
		}{
			{"unknown father", unknown, "", "father.pid"},
			{"malformed father", "00109012345", "", "father.pid"},
			{"mother is a man", "", string(man.PID), "mother.pid"},
			{"father is a woman", string(woman.PID), "", "father.pid"},
			{"father born after the child", string(boy.PID), string(woman.PID), "father.pid"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				in := birth("Trần Minh Anh", "2025-07-01", personalid.Female, e.p.baDinh)
				if tt.father != "" {
					in.Father = &registry.Relative{PID: tt.father}
				}
				if tt.mother != "" {
					in.Mother = &registry.Relative{PID: tt.mother}
				}
				before := e.tables(t)
				_, err := e.svc.RegisterBirth(ctx, in, "")
				wantField(t, err, tt.field)
				e.unchanged(t, before)
			})
		}
	})
}

func TestRegisterBirthJoinsHousehold(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		ctx := communeRegistrar(e.p.baDinh)
		head := e.existing(t, ctx, person("Vũ Văn Hùng", "1985-02-02", personalid.Male, e.p.baDinh))
		home := &registry.Address{Commune: e.p.baDinh.Code, Detail: "số 8 phố Đội Cấn"}
		moved, err := e.svc.MoveHousehold(ctx, string(head.PID), head.Version, registry.Move{NewAddress: home, Basis: registry.Basis{Reason: "tách hộ"}})
		mustOK(t, err)
		hid := moved.Household.HouseholdID

		in := birth("Vũ Thị Mai", "2025-08-08", personalid.Female, e.p.baDinh)
		in.PermanentResidence = nil
		in.Household = &registry.JoinHousehold{HouseholdID: hid, Relationship: "child"}
		c, err := e.svc.RegisterBirth(ctx, in, "")
		mustOK(t, err)
		got := e.get(t, c.PID)
		if r := got.PermanentResidence; r == nil || r.Commune != e.p.baDinh.Code || r.Detail != "số 8 phố Đội Cấn" {
			t.Errorf("permanent residence = %+v, want the household's address", r)
		}
		if h := got.Household; h == nil || h.HouseholdID != hid || h.Relationship != "child" || h.HeadPID != string(head.PID) || h.HeadName != "Vũ Văn Hùng" {
			t.Errorf("household = %+v, want child of %s in %s", h, head.PID, hid)
		}
		hh, err := e.svc.Household(ctx, hid)
		mustOK(t, err)
		if len(hh.Members) != 2 {
			t.Fatalf("household members = %+v, want head and child", hh.Members)
		}

		t.Run("refused", func(t *testing.T) {
			before := e.tables(t)
			both := birth("Vũ Thị Hoa", "2025-08-08", personalid.Female, e.p.baDinh)
			both.PermanentResidence = &registry.Address{Commune: e.p.benThanh.Code, Detail: "elsewhere"}
			both.Household = &registry.JoinHousehold{HouseholdID: hid, Relationship: "child"}
			_, err := e.svc.RegisterBirth(ctx, both, "")
			wantField(t, err, "permanent_residence")
			none := birth("Vũ Thị Hoa", "2025-08-08", personalid.Female, e.p.baDinh)
			none.PermanentResidence = nil
			none.Household = &registry.JoinHousehold{HouseholdID: "no-such-household", Relationship: "child"}
			_, err = e.svc.RegisterBirth(ctx, none, "")
			wantField(t, err, "household.household_id")
			none.Household = &registry.JoinHousehold{HouseholdID: hid, Relationship: "head"}
			_, err = e.svc.RegisterBirth(ctx, none, "")
			wantField(t, err, "household.relationship")
			e.unchanged(t, before)
		})
	})
}

func TestRegisterBirthIdempotencyKey(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		ctx := communeRegistrar(e.p.baDinh)
		in := birth("Hoàng Gia Bảo", "2025-09-10", personalid.Male, e.p.baDinh)
		first, err := e.svc.RegisterBirth(ctx, in, "key-1")
		mustOK(t, err)
		before := e.tables(t)
		again, err := e.svc.RegisterBirth(ctx, birth("Hoàng Gia Bảo", "2025-09-10", personalid.Male, e.p.baDinh), "key-1")
		mustOK(t, err)
		if again.PID != first.PID {
			t.Errorf("retry registered %s, first registration was %s", again.PID, first.PID)
		}
		e.unchanged(t, before)
		if n := count(t, db, `SELECT COUNT(*) FROM citizen WHERE name_key = 'hoang gia bao'`); n != 1 {
			t.Errorf("%d records for the child, want 1", n)
		}

		other := birth("Hoàng Gia Huy", "2025-09-10", personalid.Male, e.p.baDinh)
		_, err = e.svc.RegisterBirth(ctx, other, "key-1")
		wantKind(t, err, errs.Conflict)
		e.unchanged(t, before)

		// Keys belong to the actor: another officer's key-1 is another request.
		c, err := e.svc.RegisterBirth(communeRegistrar(e.p.baDinh), other, "key-1")
		mustOK(t, err)
		if c.PID == first.PID {
			t.Errorf("another officer's request returned the first registration")
		}
	})
}

func TestRegisterBirthRefusesWhatDoesNotApply(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		ctx := communeRegistrar(e.p.baDinh)
		spouse := e.existing(t, ctx, person("Trần Văn Nam", "1990-03-04", personalid.Male, e.p.baDinh))
		tests := []struct {
			field string
			set   func(*registry.BirthRegistration)
		}{
			{"old_id_number", func(b *registry.BirthRegistration) { b.OldIDNumber = "012345678" }},
			{"previous_cards", func(b *registry.BirthRegistration) {
				b.PreviousCards = []registry.PreviousCard{{Kind: "cmnd9", Number: "012345678"}}
			}},
			{"spouse", func(b *registry.BirthRegistration) { b.Spouse = &registry.Relative{PID: string(spouse.PID)} }},
			{"temporary_absence", func(b *registry.BirthRegistration) { b.TemporaryAbsence = &registry.Absence{From: "2025-09-01"} }},
			{"marital_status", func(b *registry.BirthRegistration) { b.MaritalStatus = "married" }},
			{"birth_registration_place.commune", func(b *registry.BirthRegistration) { b.BirthRegistrationPlace = nil }},
			{"birth_registration_place.commune", func(b *registry.BirthRegistration) {
				b.BirthRegistrationPlace = &registry.Address{Country: "FRA", Detail: "Paris"}
			}},
			{"birth_date", func(b *registry.BirthRegistration) { b.BirthDate = "2025-09-16" }}, // tomorrow
			{"name.given", func(b *registry.BirthRegistration) { b.Name.Given = "" }},
			{"sex", func(b *registry.BirthRegistration) { b.Sex = "x" }},
		}
		for _, tt := range tests {
			t.Run(tt.field, func(t *testing.T) {
				in := birth("Trần Minh Anh", "2025-07-01", personalid.Female, e.p.baDinh)
				tt.set(&in)
				before := e.tables(t)
				_, err := e.svc.RegisterBirth(ctx, in, "")
				wantField(t, err, tt.field)
				e.unchanged(t, before)
			})
		}
	})
}

// TestBirthTakesParentsResidence: a birth registered without a residence
// takes the permanent residence of the parent the child lives with (Luật
// Cư trú 2020 Điều 12): the mother by default, the father when named, so
// the commune holding the parent's record can change the child's.
func TestBirthTakesParentsResidence(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		admin := nationalAdmin()
		father := e.existing(t, admin, person("Trần Văn Nam", "1990-03-04", personalid.Male, e.p.giangVo))
		mother := e.existing(t, admin, person("Đỗ Thị Lan", "1992-11-20", personalid.Female, e.p.baDinh))
		born := func(livesWith string) (registry.Citizen, error) {
			in := birth("Trần Minh Anh", "2025-07-01", personalid.Female, e.p.baDinh)
			in.PermanentResidence = nil
			in.Father = &registry.Relative{PID: string(father.PID)}
			in.Mother = &registry.Relative{PID: string(mother.PID)}
			in.LivesWith = livesWith
			return e.svc.RegisterBirth(communeRegistrar(e.p.baDinh), in, "")
		}
		c, err := born("")
		mustOK(t, err)
		if c.PermanentResidence == nil || c.PermanentResidence.Commune != e.p.baDinh.Code || c.PermanentResidence.Detail != "số 12 ngõ 5" {
			t.Fatalf("the child's residence %+v, want the mother's", c.PermanentResidence)
		}
		c, err = born("father")
		mustOK(t, err)
		if c.PermanentResidence == nil || c.PermanentResidence.Commune != e.p.giangVo.Code {
			t.Errorf("living with the father: residence %+v", c.PermanentResidence)
		}
		in := birth("Trần Minh Anh", "2025-07-01", personalid.Female, e.p.baDinh)
		in.PermanentResidence, in.LivesWith = nil, "father"
		_, err = e.svc.RegisterBirth(communeRegistrar(e.p.baDinh), in, "")
		wantField(t, err, "lives_with")
		in.LivesWith = "grandmother"
		_, err = e.svc.RegisterBirth(communeRegistrar(e.p.baDinh), in, "")
		wantField(t, err, "lives_with")
	})
}
