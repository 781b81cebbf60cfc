package eid_test

import (
	"testing"
	"time"

	"github.com/dancu-vn/dancu/internal/eid"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/personalid"
	"github.com/dancu-vn/dancu/internal/registry"
	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
	"github.com/dancu-vn/dancu/internal/workday"
)

// TestAttachDependant: a parent attaches a child under 14, a guardian an
// adult ward; nobody else, and no older child. At 14 the child's account
// becomes their own.
func TestAttachDependant(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		parent := e.adult(t, baDinh)
		e.active(t, parent)
		childOf := func() func(*registry.LegacyRecord) {
			return func(r *registry.LegacyRecord) { r.Father = &registry.Relative{PID: parent.PID} }
		}
		// 14 on 2026-02-15, two days after the test clock's start.
		child := e.register(t, "Nguyễn Minh Khôi", "2012-02-15", personalid.Male, baDinh, childOf())
		teen := e.register(t, "Nguyễn Thu Hà", "2010-01-01", personalid.Female, baDinh, childOf())
		stranger := e.register(t, "Lê Văn Tư", "2016-06-06", personalid.Male, baDinh)
		ward := e.register(t, "Trần Văn Năm", "1950-01-01", personalid.Male, baDinh, func(r *registry.LegacyRecord) {
			r.LegalRepresentative = &registry.Relative{PID: parent.PID}
		})

		d, err := e.svc.AttachDependant(citizen(parent.PID), parent.PID, child.PID)
		if err != nil || d.Relation != "father" || d.Name != "Nguyễn Minh Khôi" {
			t.Fatalf("AttachDependant(child) = %+v, %v", d, err)
		}
		if _, err := e.svc.AttachDependant(citizen(parent.PID), parent.PID, child.PID); err != nil {
			t.Errorf("attaching again (a retry): %v", err)
		}
		if d, err := e.svc.AttachDependant(citizen(parent.PID), parent.PID, ward.PID); err != nil || d.Relation != "legal_representative" {
			t.Errorf("AttachDependant(ward) = %+v, %v", d, err)
		}
		_, err = e.svc.AttachDependant(citizen(parent.PID), parent.PID, teen.PID)
		wantField(t, err, "pid")
		_, err = e.svc.AttachDependant(citizen(parent.PID), parent.PID, stranger.PID)
		wantField(t, err, "pid")
		_, err = e.svc.AttachDependant(citizen(stranger.PID), parent.PID, stranger.PID)
		wantKind(t, err, errs.Forbidden)
		deps, err := e.svc.Dependants(citizen(parent.PID), parent.PID)
		if err != nil || len(deps) != 2 {
			t.Fatalf("Dependants = %v, %v", deps, err)
		}
		// A dependant's account has no password: nobody logs in to it.
		_, err = e.svc.Login(from("192.0.2.1"), child.PID, goodPassword)
		wantKind(t, err, errs.Unauthenticated)

		// A guardian whose account is not active cannot attach anyone.
		other := e.adult(t, baDinh)
		e.approved(t, other)
		otherChild := e.register(t, "Phạm Bảo An", "2020-01-01", personalid.Male, baDinh, func(r *registry.LegacyRecord) {
			r.Mother = &registry.Relative{PID: other.PID}
		})
		_, err = e.svc.AttachDependant(citizen(other.PID), other.PID, otherChild.PID)
		wantKind(t, err, errs.Conflict)

		// Before 14 the child cannot apply; at 14 the account becomes theirs.
		_, err = e.svc.ApplySelf(from("192.0.2.2"), selfApp(child))
		wantRefused(t, err)
		e.clock.Advance(3 * 24 * time.Hour)
		app := e.applySelf(t, child)
		e.decide(t, officer(baDinh), app.ID, true, "")
		acc := e.account(t, child.PID)
		if acc.State != eid.Approved {
			t.Errorf("the child's account at 14: %+v", acc)
		}
		deps, _ = e.svc.Dependants(citizen(parent.PID), parent.PID)
		if len(deps) != 1 || deps[0] != ward.PID {
			t.Errorf("dependants after the child turned 14: %v", deps)
		}
	})
}

// TestOrganisation: an organisation is registered by a level-2
// representative who confirms with the passcode, decided by the police of
// its head office's commune within 15 working days.
func TestOrganisation(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		rep := e.adult(t, baDinh)
		e.active(t, rep)
		in := eid.NewOrganisation{Name: "Công ty TNHH Sen Hồng", RegistrationNumber: "0109876543", Founded: "2019-07-01",
			Commune: baDinh, Address: "số 1 Điện Biên Phủ", Passcode: goodPasscode}
		_, err := e.svc.ApplyOrganisation(citizen(rep.PID), rep.PID, in)
		wantKind(t, err, errs.Forbidden) // level 1
		e.decide(t, officer(baDinh), e.applyCounter(t, officer(baDinh), rep, eid.CardValid).ID, true, "")

		bad := in
		bad.Passcode = "135791"
		_, err = e.svc.ApplyOrganisation(citizen(rep.PID), rep.PID, bad)
		wantField(t, err, "passcode")
		bad = in
		bad.Commune, bad.Founded, bad.Name = "99999", "2099-01-01", " "
		_, err = e.svc.ApplyOrganisation(citizen(rep.PID), rep.PID, bad)
		wantField(t, err, "commune")
		wantField(t, err, "founded")
		wantField(t, err, "name")
		_, err = e.svc.ApplyOrganisation(citizen(rep.PID), "001090000001", in)
		wantKind(t, err, errs.Forbidden)

		o, err := e.svc.ApplyOrganisation(citizen(rep.PID), rep.PID, in)
		if err != nil {
			t.Fatal(err)
		}
		if want := workday.Vietnam().Deadline(start, eid.OrganisationDeadline).UTC(); o.State != "submitted" || !o.DueAt.Equal(want) || len(o.ID) != 12 {
			t.Errorf("organisation %+v, want due %s", o, want)
		}
		_, err = e.svc.ApplyOrganisation(citizen(rep.PID), rep.PID, in)
		wantField(t, err, "registration_number")

		_, err = e.svc.DecideOrganisation(officer(saiGon), o.ID, true, "")
		wantKind(t, err, errs.Forbidden)
		_, err = e.svc.DecideOrganisation(officer(baDinh), o.ID, false, "")
		wantField(t, err, "reason")
		got, err := e.svc.DecideOrganisation(officer(baDinh), o.ID, true, "")
		if err != nil || got.State != "approved" || got.DecidedAt == nil {
			t.Fatalf("approve = %+v, %v", got, err)
		}
		_, err = e.svc.DecideOrganisation(officer(baDinh), o.ID, false, "changed my mind")
		wantKind(t, err, errs.Conflict)
		if _, err := e.svc.Organisation(citizen(rep.PID), o.ID); err != nil {
			t.Errorf("the representative reads the organisation: %v", err)
		}
		other := e.adult(t, baDinh)
		// Another citizen learns nothing, not even that it exists.
		_, err = e.svc.Organisation(citizen(other.PID), o.ID)
		wantKind(t, err, errs.NotFound)
	})
}

// TestActivationByEmail: the code can go to the account's e-mail address
// instead of its phone; another address gets nothing.
func TestActivationByEmail(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		p := e.adult(t, baDinh)
		e.approved(t, p)
		if err := e.svc.StartActivation(from("192.0.2.3"), p.PID, "someone@example.vn"); err != nil || len(e.messages(t, "someone@example.vn")) != 0 {
			t.Fatalf("another address: %v, or it got a code", err)
		}
		wantField(t, e.svc.StartActivation(from("192.0.2.3"), p.PID, "not@an address"), "email")
		if err := e.svc.StartActivation(from("192.0.2.3"), p.PID, p.Email); err != nil {
			t.Fatal(err)
		}
		msgs := e.messages(t, p.Email)
		if len(msgs) != 1 || msgs[0].Channel != "email" || msgs[0].Subject == "" {
			t.Fatalf("messages to %s: %+v", p.Email, msgs)
		}
		code := e.lastCode(t, p.Email)
		if _, err := e.svc.Activate(from("192.0.2.3"), eid.Activation{PID: p.PID, Code: code, Password: goodPassword, Passcode: goodPasscode}); err != nil {
			t.Fatalf("activation with the e-mailed code: %v", err)
		}
	})
}
