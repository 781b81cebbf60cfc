package server

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/bulk"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/personalid"
	"github.com/dancu-vn/dancu/internal/registry"
	"github.com/dancu-vn/dancu/internal/synth"
)

// DemoPassword is the password of every demo account. Demo data is for
// trying dancu out, never for a real deployment.
const DemoPassword = "Demo-2026!"

// DemoLogin describes one demo account for the start-up banner.
type DemoLogin struct {
	Username, Role, Where string
}

type demoOfficer struct {
	username, name string
	role           actor.Role
	level          actor.Level
	code           string
}

var demoOfficers = []demoOfficer{
	{"badinh", "Nguyễn Thị Lan", actor.Registrar, actor.Commune, "00004"},  // Phường Ba Đình, Hà Nội
	{"hoankiem", "Trần Văn Minh", actor.Registrar, actor.Commune, "00070"}, // Phường Hoàn Kiếm, Hà Nội
	{"saigon", "Võ Thị Hồng", actor.Registrar, actor.Commune, "26740"},     // Phường Sài Gòn, TP Hồ Chí Minh
	{"hanoi", "Lê Quốc Hùng", actor.Registrar, actor.Province, "01"},       // Thành phố Hà Nội
	{"analyst", "Phạm Minh Anh", actor.Viewer, actor.National, ""},         // reads and searches everywhere
}

// LoadDemo creates the demo officers and a small demo population (two
// households) unless they exist already, so it is safe on every start.
func (a *App) LoadDemo(ctx context.Context) ([]DemoLogin, error) {
	ctx = actor.With(ctx, actor.SystemActor("demo"))
	var out []DemoLogin
	for _, d := range demoOfficers {
		_, err := a.Access.OfficerByUsername(ctx, d.username)
		if errs.Is(err, errs.NotFound) {
			_, err = a.Access.CreateOfficer(ctx, access.NewOfficer{Username: d.username, DisplayName: d.name, Role: d.role,
				Jurisdiction: actor.Jurisdiction{Level: d.level, Code: d.code}, Password: DemoPassword})
		}
		if err != nil {
			return nil, fmt.Errorf("demo officer %s: %w", d.username, err)
		}
		where := "national"
		if d.level == actor.Province {
			u, _ := a.Units.Province("2025", d.code)
			where = u.FullName()
		} else if d.level == actor.Commune {
			u, _ := a.Units.Commune("2025", d.code)
			p, _ := a.Units.Province("2025", u.Province)
			where = u.FullName() + ", " + p.FullName()
		}
		out = append(out, DemoLogin{Username: d.username, Role: string(d.role), Where: where})
	}
	if err := a.demoFamily(ctx, "00004", "Phố Phan Đình Phùng 12",
		demoPerson{"001085012345", registry.Name{Family: "Nguyễn", Middle: "Văn", Given: "An"}, "1985-03-12", personalid.Male},
		demoPerson{"001188054321", registry.Name{Family: "Trần", Middle: "Thị", Given: "Bình"}, "1988-07-04", personalid.Female},
		registry.Name{Family: "Nguyễn", Middle: "Minh", Given: "Khôi"}, "2015-09-01", personalid.Male); err != nil {
		return nil, err
	}
	if err := a.demoFamily(ctx, "26740", "Đường Lê Lợi 45",
		demoPerson{"079080111222", registry.Name{Family: "Võ", Middle: "Văn", Given: "Hùng"}, "1980-01-20", personalid.Male},
		demoPerson{"079183333444", registry.Name{Family: "Huỳnh", Middle: "Thị Ngọc", Given: "Anh"}, "1983-11-02", personalid.Female},
		registry.Name{Family: "Võ", Middle: "Ngọc", Given: "Vy"}, "2012-04-18", personalid.Female); err != nil {
		return nil, err
	}
	if err := a.demoPopulation(ctx, DemoPopulation); err != nil {
		return nil, err
	}
	// A demo Country Signing CA and Document Signer, so that chip cards can
	// be produced (a real deployment runs dancu pki init once).
	if _, _, err := a.PKI.Init(ctx, time.Now()); err != nil && !errs.Is(err, errs.Conflict) {
		return nil, fmt.Errorf("demo PKI: %w", err)
	}
	return out, nil
}

// DemoPopulation is how many synthetic people --demo loads.
const DemoPopulation = 5000

// demoPopulation generates n synthetic people (always the same ones) and
// imports them, unless the registry already holds that many.
func (a *App) demoPopulation(ctx context.Context, n int) error {
	var have int
	if err := a.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM citizen`).Scan(&have); err != nil {
		return err
	}
	if have >= n {
		return nil
	}
	pr, pw := io.Pipe()
	go func() {
		w, err := synth.NewWriter(pw, synth.JSONL)
		if err == nil {
			_, err = synth.Generate(ctx, synth.Config{Count: n, Seed: 6}, a.Units, w.Write, nil)
		}
		if err == nil {
			err = w.Flush()
		}
		pw.CloseWithError(err)
	}()
	p, err := bulk.Import(ctx, a.Registry, pr, bulk.Options{Source: "demo population (dancu generate --seed 6)"})
	pr.Close()
	if err != nil {
		return fmt.Errorf("demo population: %w", err)
	}
	a.Log.Info("demo population loaded", "imported", p.Imported, "already", p.Existing, "rejected", p.Rejected)
	return nil
}

type demoPerson struct {
	pid  string
	name registry.Name
	dob  string
	sex  personalid.Sex
}

// demoFamily registers two parents from "legacy" data, founds their
// household and registers their child's birth, unless the father exists.
func (a *App) demoFamily(ctx context.Context, commune, street string, father, mother demoPerson, child registry.Name, childDOB string, childSex personalid.Sex) error {
	if _, err := a.Registry.Get(ctx, father.pid, "demo set-up"); err == nil {
		return nil
	}
	addr := registry.Address{Commune: commune, Detail: street}
	basis := registry.Basis{Reason: "demo data", LegalBasis: "none: synthetic demo record"}
	reg := func(p demoPerson, spouse string) error {
		_, err := a.Registry.RegisterExisting(ctx, registry.LegacyRecord{PID: p.pid, Basis: basis, Details: registry.Details{
			Name: p.name, BirthDate: p.dob, Sex: p.sex, Ethnicity: &registry.Ethnicity{Code: "01"}, Religion: "00",
			MaritalStatus: "married", PlaceOfOrigin: &registry.Address{Province: p.pid[1:3]},
			Spouse: &registry.Relative{PID: spouse}, CurrentResidence: &addr,
		}})
		return err
	}
	if err := reg(father, mother.pid); err != nil {
		return fmt.Errorf("demo citizen %s: %w", father.pid, err)
	}
	if err := reg(mother, father.pid); err != nil {
		return fmt.Errorf("demo citizen %s: %w", mother.pid, err)
	}
	f, err := a.Registry.MoveHousehold(ctx, father.pid, 0, registry.Move{NewAddress: &addr, Basis: basis})
	if err != nil {
		return fmt.Errorf("demo household: %w", err)
	}
	hh := f.Household.HouseholdID
	if _, err := a.Registry.MoveHousehold(ctx, mother.pid, 0, registry.Move{HouseholdID: hh, Relationship: "spouse", Basis: basis}); err != nil {
		return fmt.Errorf("demo household: %w", err)
	}
	_, err = a.Registry.RegisterBirth(ctx, registry.BirthRegistration{Basis: basis,
		Household: &registry.JoinHousehold{HouseholdID: hh, Relationship: "child"},
		Details: registry.Details{Name: child, BirthDate: childDOB, Sex: childSex, Ethnicity: &registry.Ethnicity{Code: "01"},
			BirthRegistrationPlace: &registry.Address{Commune: commune},
			Father:                 &registry.Relative{PID: father.pid}, Mother: &registry.Relative{PID: mother.pid}},
	}, "demo-birth-"+father.pid)
	if err != nil {
		return fmt.Errorf("demo birth: %w", err)
	}
	return nil
}
