package dossier_test

import (
	"testing"
	"time"

	"github.com/dancu-vn/dancu/internal/dossier"
	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

// TestResidenceConfirmation: a CT07 is issued at once, signed; it verifies,
// fails after one byte is changed, reports "superseded" once the person
// moves, and "expired" after a year.
func TestResidenceConfirmation(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		pid := e.person(t, baDinh)
		d, err := e.svc.Submit(citizen(pid), "residence.confirmation", form(map[string]string{"purpose": "bank account"}), "")
		if err != nil {
			t.Fatal(err)
		}
		if d.State != dossier.Returned || d.Result == "" || d.Commune != baDinh {
			t.Fatalf("confirmation dossier %+v", d)
		}
		v, err := e.svc.Verify(sys(), d.Result)
		if err != nil || !v.Valid || v.Status != "valid" || v.Document.PID != pid || v.Document.Permanent == nil ||
			v.Document.Permanent.Commune != baDinh || v.Document.Issuer == "" {
			t.Fatalf("verify = %+v, %v", v, err)
		}
		if v.Document.ExpiresAt-v.Document.IssuedAt != int64(dossier.ConfirmationValidity/time.Second) {
			t.Errorf("valid for %d s", v.Document.ExpiresAt-v.Document.IssuedAt)
		}
		// One byte changed anywhere: the signature no longer verifies.
		for _, i := range []int{10, len(d.Result) / 2, len(d.Result) - 5} {
			b := []byte(d.Result)
			if b[i] == 'A' {
				b[i] = 'B'
			} else {
				b[i] = 'A'
			}
			if v, err := e.svc.Verify(sys(), string(b)); err != nil || v.Valid || v.Status != "invalid" {
				t.Errorf("byte %d changed: %+v, %v", i, v, err)
			}
		}
		keys, err := e.svc.DocumentKeys(sys())
		if err != nil || len(keys.Keys) != 1 || !keys.Keys[0].IsPublic() {
			t.Fatalf("document keys %+v, %v", keys, err)
		}
		// The person registers a temporary residence: the confirmation no
		// longer states the current data.
		m, err := e.svc.Submit(citizen(pid), "residence.temporary", temporaryForm(saiGon, day(90)), "")
		if err != nil {
			t.Fatal(err)
		}
		e.svc.Receive(officer(saiGon), m.ID, "")
		if _, err := e.svc.Decide(officer(saiGon), m.ID, true, ""); err != nil {
			t.Fatal(err)
		}
		if v, err := e.svc.Verify(sys(), d.Result); err != nil || v.Valid || v.Status != "superseded" {
			t.Errorf("after the move: %+v, %v", v, err)
		}
		// A new confirmation states the temporary residence too, and is
		// valid until a year has passed.
		d2, err := e.svc.Submit(citizen(pid), "residence.confirmation", nil, "")
		if err != nil {
			t.Fatal(err)
		}
		v, _ = e.svc.Verify(sys(), d2.Result)
		if !v.Valid || v.Document.Temporary == nil || v.Document.Temporary.Until != day(90) {
			t.Errorf("second confirmation %+v", v)
		}
		e.clock.Add(dossier.ConfirmationValidity + time.Hour)
		if v, err := e.svc.Verify(sys(), d2.Result); err != nil || v.Valid || v.Status != "expired" {
			t.Errorf("after a year: %+v, %v", v, err)
		}
		if _, err := e.svc.Verify(sys(), "not a document"); err != nil {
			t.Errorf("garbage: %v", err)
		}
	})
}
