package dossier_test

import (
	"testing"

	"github.com/dancu-vn/dancu/internal/dossier"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/registry"
	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

// TestPermanentResidence: joining a household waits for its head's
// consent, given through the head's own login; then the approval moves
// the applicant into the household, the revision citing the dossier. A
// refusal changes nothing.
func TestPermanentResidence(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		head := e.person(t, baDinh)
		hh, err := e.reg.MoveHousehold(sys(), head, 0, registry.Move{NewAddress: &registry.Address{Commune: saiGon, Detail: "số 9 Pasteur"},
			Basis: registry.Basis{Reason: "test household"}})
		if err != nil {
			t.Fatal(err)
		}
		hhID := hh.Household.HouseholdID
		applicant := e.person(t, baDinh)
		_, err = e.svc.Submit(citizen(applicant), "residence.permanent", form(map[string]string{"household_id": hhID, "relationship": "head",
			"lawful_residence": "Sổ đỏ số AB 123"}), "")
		wantField(t, err, "data.relationship")
		_, err = e.svc.Submit(citizen(applicant), "residence.permanent", form(map[string]string{"household_id": "nope", "relationship": "child",
			"lawful_residence": "Sổ đỏ số AB 123"}), "")
		wantField(t, err, "data.household_id")
		d, err := e.svc.Submit(citizen(applicant), "residence.permanent", form(map[string]string{"household_id": hhID, "relationship": "child",
			"lawful_residence": "Sổ đỏ số AB 123"}), "")
		if err != nil || d.Commune != saiGon {
			t.Fatalf("submit %+v, %v", d, err)
		}
		if _, err := e.svc.Receive(officer(saiGon), d.ID, ""); err != nil {
			t.Fatal(err)
		}
		// Not before the head consents; the failed approval leaves all as it was.
		_, err = e.svc.Decide(officer(saiGon), d.ID, true, "")
		wantKind(t, err, errs.Conflict)
		if got, _ := e.svc.Get(officer(saiGon), d.ID); got.State != dossier.Received {
			t.Fatalf("after the refused approval: %s", got.State)
		}
		_, err = e.svc.Consent(citizen(e.person(t, baDinh)), d.ID)
		wantKind(t, err, errs.NotFound)
		if _, err := e.svc.Consent(citizen(head), d.ID); err != nil {
			t.Fatal(err)
		}
		d, err = e.svc.Decide(officer(saiGon), d.ID, true, "")
		if err != nil || d.State != dossier.Returned {
			t.Fatalf("approval %+v, %v", d, err)
		}
		c := e.record(t, applicant)
		if c.Household == nil || c.Household.HouseholdID != hhID || c.Household.Relationship != "child" || c.PermanentResidence == nil ||
			c.PermanentResidence.Commune != saiGon {
			t.Errorf("after approval household %+v, residence %+v", c.Household, c.PermanentResidence)
		}
		if ref, action := e.latestRevision(t, applicant); ref != d.Code || action != "register_permanent_residence" {
			t.Errorf("revision %s %s", ref, action)
		}

		// A new household at an address, refused: nothing changes.
		other := e.person(t, baDinh)
		before := e.record(t, other)
		d2, err := e.svc.Submit(citizen(other), "residence.permanent", form(map[string]any{"new_household_address": map[string]string{"commune": saiGon,
			"detail": "số 3 Hai Bà Trưng"}, "lawful_residence": "Hợp đồng mua nhà số 5"}), "")
		if err != nil || len(d2.Data) == 0 {
			t.Fatalf("submit a new household: %v", err)
		}
		e.svc.Receive(officer(saiGon), d2.ID, "")
		if _, err := e.svc.Decide(officer(saiGon), d2.ID, false, "the purchase contract is not notarised"); err != nil {
			t.Fatal(err)
		}
		if after := e.record(t, other); after.Version != before.Version {
			t.Errorf("a refused registration changed the record")
		}
	})
}

// TestHeadChange: the head hands the household to a member; both records
// change, citing the dossier; a non-member cannot be named.
func TestHeadChange(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		head := e.person(t, baDinh)
		hh, err := e.reg.MoveHousehold(sys(), head, 0, registry.Move{NewAddress: &registry.Address{Commune: baDinh, Detail: "số 1 Đội Cấn"},
			Basis: registry.Basis{Reason: "test household"}})
		if err != nil {
			t.Fatal(err)
		}
		son := e.person(t, baDinh)
		if _, err := e.reg.MoveHousehold(sys(), son, 0, registry.Move{HouseholdID: hh.Household.HouseholdID, Relationship: "child",
			Basis: registry.Basis{Reason: "test"}}); err != nil {
			t.Fatal(err)
		}
		stranger := e.person(t, baDinh)
		_, err = e.svc.Submit(citizen(son), "residence.update", form(map[string]string{"new_head_pid": head, "former_head_relationship": "child"}), "")
		wantField(t, err, "service") // only the head applies
		d, err := e.svc.Submit(citizen(head), "residence.update", form(map[string]string{"new_head_pid": stranger, "former_head_relationship": "parent"}), "")
		if err != nil {
			t.Fatal(err)
		}
		e.svc.Receive(officer(baDinh), d.ID, "")
		_, err = e.svc.Decide(officer(baDinh), d.ID, true, "")
		wantField(t, err, "data.new_head_pid")
		e.svc.Decide(officer(baDinh), d.ID, false, "not a member of the household")
		d, err = e.svc.Submit(citizen(head), "residence.update", form(map[string]string{"new_head_pid": son, "former_head_relationship": "parent"}), "")
		if err != nil {
			t.Fatal(err)
		}
		e.svc.Receive(officer(baDinh), d.ID, "")
		if _, err := e.svc.Decide(officer(baDinh), d.ID, true, ""); err != nil {
			t.Fatal(err)
		}
		if c := e.record(t, son); c.Household.Relationship != "head" {
			t.Errorf("new head %+v", c.Household)
		}
		if c := e.record(t, head); c.Household.Relationship != "parent" || c.Household.HouseholdID != hh.Household.HouseholdID {
			t.Errorf("former head %+v", c.Household)
		}
		if ref, action := e.latestRevision(t, head); ref != d.Code || action != "leave_household_headship" {
			t.Errorf("former head's revision %s %s", ref, action)
		}
		if ref, action := e.latestRevision(t, son); ref != d.Code || action != "become_household_head" {
			t.Errorf("new head's revision %s %s", ref, action)
		}
	})
}

// TestPermanentDeregistration: a head who leaves names the new head; the
// record has no permanent residence or household afterwards.
func TestPermanentDeregistration(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		head := e.person(t, baDinh)
		hh, err := e.reg.MoveHousehold(sys(), head, 0, registry.Move{NewAddress: &registry.Address{Commune: baDinh, Detail: "số 7 Kim Mã"},
			Basis: registry.Basis{Reason: "test household"}})
		if err != nil {
			t.Fatal(err)
		}
		wife := e.person(t, baDinh)
		e.reg.MoveHousehold(sys(), wife, 0, registry.Move{HouseholdID: hh.Household.HouseholdID, Relationship: "spouse", Basis: registry.Basis{Reason: "test"}})
		_, err = e.svc.Submit(citizen(head), "residence.permanent.deregistration", form(map[string]string{"case": "x"}), "")
		wantField(t, err, "data.case")
		d, err := e.svc.Submit(citizen(head), "residence.permanent.deregistration", form(map[string]string{"case": "b"}), "")
		if err != nil {
			t.Fatal(err)
		}
		e.svc.Receive(officer(baDinh), d.ID, "")
		_, err = e.svc.Decide(officer(baDinh), d.ID, true, "")
		wantField(t, err, "data.new_head_pid") // others stay: name a new head
		e.svc.Decide(officer(baDinh), d.ID, false, "name the new head of the household")
		d, err = e.svc.Submit(citizen(head), "residence.permanent.deregistration", form(map[string]string{"case": "b", "new_head_pid": wife}), "")
		if err != nil {
			t.Fatal(err)
		}
		e.svc.Receive(officer(baDinh), d.ID, "")
		if _, err := e.svc.Decide(officer(baDinh), d.ID, true, ""); err != nil {
			t.Fatal(err)
		}
		if c := e.record(t, head); c.PermanentResidence != nil || c.Household != nil {
			t.Errorf("after deregistration: %+v %+v", c.PermanentResidence, c.Household)
		}
		if c := e.record(t, wife); c.Household == nil || c.Household.Relationship != "head" {
			t.Errorf("the new head: %+v", c.Household)
		}
		if ref, action := e.latestRevision(t, head); ref != d.Code || action != "deregister_permanent_residence" {
			t.Errorf("revision %s %s", ref, action)
		}
	})
}
