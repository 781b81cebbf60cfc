package access_test

import (
	"testing"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

// An administrator manages only the officers within their own
// jurisdiction: a province's administrator neither sees, resets, changes
// nor disables a national administrator or another province's officer
// (answered as unknown), cannot create one above their reach, nor move
// one there; a national administrator reaches everyone.
func TestAdministratorsStayInTheirJurisdiction(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		hanoi := actor.Jurisdiction{Level: actor.Province, Code: "01"}
		boss := e.officer(t, "boss", actor.Admin, national)
		hn := e.officer(t, "hn-admin", actor.Admin, hanoi)
		local := e.officer(t, "badinh", actor.Registrar, actor.Jurisdiction{Level: actor.Commune, Code: "00004"})
		far := e.officer(t, "saigon", actor.Registrar, actor.Jurisdiction{Level: actor.Commune, Code: "26740"})
		ctx := as(hn)

		list, err := e.svc.ListOfficers(ctx)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, o := range list {
			seen[o.Username] = true
		}
		if !seen["badinh"] || !seen["hn-admin"] || seen["boss"] || seen["saigon"] {
			t.Errorf("a province's administrator lists %v", seen)
		}
		for _, target := range []access.Officer{boss, far} {
			_, err := e.svc.OfficerByUsername(ctx, target.Username)
			wantKind(t, err, errs.NotFound)
			wantKind(t, e.svc.ResetPassword(ctx, target.Username, "New-Pass-2026!"), errs.NotFound)
			wantKind(t, e.svc.ResetSecondFactor(ctx, target.Username), errs.NotFound)
			wantKind(t, e.svc.SetDisabled(ctx, target.Username, true), errs.NotFound)
			name := "taken over"
			_, err = e.svc.UpdateOfficer(ctx, target.Username, access.OfficerChange{DisplayName: &name})
			wantKind(t, err, errs.NotFound)
		}
		_, err = e.svc.CreateOfficer(ctx, access.NewOfficer{Username: "accomplice", Role: actor.Admin, Jurisdiction: national, Password: goodPassword})
		wantField(t, err, "jurisdiction")
		_, err = e.svc.CreateOfficer(ctx, access.NewOfficer{Username: "hcm-reg", Role: actor.Registrar, Jurisdiction: far.Jurisdiction, Password: goodPassword})
		wantField(t, err, "jurisdiction")
		_, err = e.svc.UpdateOfficer(ctx, local.Username, access.OfficerChange{Jurisdiction: &national})
		wantField(t, err, "jurisdiction")
		// Within the province: all of it.
		if _, err := e.svc.OfficerByUsername(ctx, local.Username); err != nil {
			t.Errorf("a province's administrator reads its commune's officer: %v", err)
		}
		if err := e.svc.ResetPassword(ctx, local.Username, "New-Pass-2026!"); err != nil {
			t.Errorf("a province's administrator resets its commune's officer: %v", err)
		}
		if _, err := e.svc.CreateOfficer(ctx, access.NewOfficer{Username: "hoankiem", Role: actor.Viewer,
			Jurisdiction: actor.Jurisdiction{Level: actor.Commune, Code: "00070"}, Password: goodPassword}); err != nil {
			t.Errorf("a province's administrator creates an officer of its commune: %v", err)
		}
		// The national administrator reaches the far commune.
		if err := e.svc.SetDisabled(as(boss), far.Username, true); err != nil {
			t.Errorf("a national administrator disables any officer: %v", err)
		}
	})
}
