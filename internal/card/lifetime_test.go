package card_test

import (
	"context"
	"crypto/x509"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/dancu-vn/dancu/internal/card"
	"github.com/dancu-vn/dancu/internal/personalid"
	"github.com/dancu-vn/dancu/internal/registry"
	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

// TestCardTimeTravel: two genuine cards verified as the years pass, with
// the signer, CRLs and CSCAs of each time — the PKI maintained monthly as
// serve does, the Document Signer rotating every quarter, the CSCA renewed
// twice. A card with an expiry (issued at 38, valid to 60) verifies at
// issue and 10 and 20 years on, and is refused as expired after its 22
// years, its chain still good; a card for life (issued at 60) still
// verifies 40 years on. At every check the CRL of the card's CSCA is
// current.
func TestCardTimeTravel(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		e := newCardEnv(t, db)
		t0 := time.Date(2026, 6, 1, 3, 0, 0, 0, time.UTC)
		*e.clock = t0
		if _, _, err := e.store.Init(ctx, t0); err != nil {
			t.Fatal(err)
		}
		produce := func(pid, birth string) ([]byte, map[int][]byte, card.Card) {
			t.Helper()
			c := e.firstCard(t, pid, registry.Name{Family: "Phạm", Middle: "Thị", Given: "Hoa"}, birth, personalid.Female)
			sod, _, groups, err := e.svc.Chip(e.officer, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			return sod, groups, c
		}
		sodA, groupsA, a := produce("001188000601", "1988-01-10") // 38: valid to 60
		sodL, groupsL, l := produce("001166000602", "1966-03-01") // 60: for life
		if a.ExpiresOn != "2048-01-10" || l.ExpiresOn != "" {
			t.Fatalf("expiries %q and %q", a.ExpiresOn, l.ExpiresOn)
		}
		check := func(label string, sod []byte, groups map[int][]byte, wantValid bool, wantFailed ...string) {
			t.Helper()
			v, err := e.svc.Verify(e.officer, sod, groups, card.VerifyOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if v.Valid != wantValid || !slices.Equal(v.Failed, append([]string{}, wantFailed...)) {
				t.Errorf("%s at %s: valid %v, failed %v", label, e.clock.Format(time.DateOnly), v.Valid, v.Failed)
			}
		}
		cscaCRLCurrent := func() {
			t.Helper()
			cscas, _ := e.store.CSCACertificates(ctx)
			for _, c := range cscas {
				if !c.NotAfter.After(*e.clock) {
					continue
				}
				der, err := e.store.CRLOf(ctx, fmt.Sprintf("%x", c.SubjectKeyId))
				if err != nil {
					t.Fatal(err)
				}
				crl, _ := x509.ParseRevocationList(der)
				if !crl.NextUpdate.After(*e.clock) || crl.CheckSignatureFrom(c) != nil {
					t.Fatalf("at %s the CRL of CSCA %x is not current (next update %s)", e.clock.Format(time.DateOnly), c.SubjectKeyId, crl.NextUpdate)
				}
			}
		}
		check("the card to 60, at issue", sodA, groupsA, true)
		check("the life card, at issue", sodL, groupsL, true)
		rotations := 0
		for years := 1; years <= 40; years++ {
			for month := 0; month < 12; month++ {
				*e.clock = e.clock.AddDate(0, 1, 0)
				m, err := e.store.Maintain(ctx, *e.clock)
				if err != nil {
					t.Fatal(err)
				}
				if m.RotatedDS != nil {
					rotations++
				}
			}
			if years == 3 || years == 6 {
				if _, _, err := e.store.RotateCSCA(ctx, *e.clock); err != nil {
					t.Fatal(err)
				}
				check("the card to 60, after a CSCA renewal", sodA, groupsA, true)
			}
			cscaCRLCurrent()
			switch years {
			case 10, 20:
				check(fmt.Sprintf("the card to 60, %d years on", years), sodA, groupsA, true)
				check(fmt.Sprintf("the life card, %d years on", years), sodL, groupsL, true)
			case 22:
				check("the card to 60, after its expiry", sodA, groupsA, false, "card_status:expired")
			case 40:
				check("the life card, 40 years on", sodL, groupsL, true)
			}
		}
		if rotations < 150 {
			t.Errorf("%d Document Signer rotations in 40 years, want one a quarter", rotations)
		}
	})
}
