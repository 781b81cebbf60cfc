package card_test

import (
	"context"
	"crypto/x509"
	"fmt"
	"testing"
	"time"

	"github.com/dancu-vn/dancu/internal/card"
	"github.com/dancu-vn/dancu/internal/card/chiptest"
	"github.com/dancu-vn/dancu/internal/personalid"
	"github.com/dancu-vn/dancu/internal/registry"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

// BenchmarkProduceChip is the chip's cryptography of one card: its Chip
// and Active Authentication key pairs, DG14, DG15 and the SOD signed over
// DG1, DG13, DG14 and DG15 (keys=true); keys=false is the SOD over DG1
// and DG13 alone, as before (no database).
func BenchmarkProduceChip(b *testing.B) {
	p, csca := personalised(b, time.Now())
	ds, err := csca.NewDocumentSigner(time.Now(), "Document Signer 001")
	if err != nil {
		b.Fatal(err)
	}
	for _, keys := range []bool{true, false} {
		b.Run(fmt.Sprintf("keys=%v", keys), func(b *testing.B) {
			for b.Loop() {
				groups := map[int][]byte{1: p.DataGroups[1], 13: p.DataGroups[13]}
				if keys {
					_, dg14, dg15, err := card.NewChipKeys()
					if err != nil {
						b.Fatal(err)
					}
					groups[14], groups[15] = dg14, dg15
				}
				if _, err := card.SOD(ds, groups); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkProduce is Service.Produce of an approved application on
// SQLite: the MRZ, DG1, DG2, DG13, the two key pairs, DG14, DG15, the SOD
// and the card's rows (the application and approval are not timed).
func BenchmarkProduce(b *testing.B) {
	db := sqldbtest.Open(b, "sqlite")
	e := newCardEnv(b, db)
	ctx := context.Background()
	if _, _, err := e.store.Init(ctx, *e.clock); err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		b.StopTimer()
		pid := fmt.Sprintf("001090%06d", i)
		i++
		if _, err := e.reg.RegisterExisting(e.sys, registry.LegacyRecord{PID: pid, Details: registry.Details{
			Name: registry.Name{Family: "Trần", Given: "Bình"}, BirthDate: "1990-02-03", Sex: personalid.Male,
			PermanentResidence: &registry.Address{Commune: "00004", Detail: "số 1"}}}); err != nil {
			b.Fatal(err)
		}
		app, err := e.svc.Apply(e.officer, intake(pid, "first", ""))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := e.svc.Decide(e.officer, app.ID, true, ""); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := e.svc.Produce(e.officer, app.ID); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyAA is passive authentication of DG1, DG13, DG14 and
// DG15 and Active Authentication of the chip's answer (no database).
func BenchmarkVerifyAA(b *testing.B) {
	now := time.Now()
	p, csca := personalised(b, now)
	chip := chiptest.New(p)
	challenge := []byte("12345678")
	sig, err := chip.InternalAuthenticate(challenge)
	if err != nil {
		b.Fatal(err)
	}
	cscas := []*x509.Certificate{csca.Cert}
	for b.Loop() {
		checks, _ := card.PassiveAuth(p.SOD, p.DataGroups, cscas, now)
		checks = append(checks, card.ActiveAuth(p.DataGroups, card.AAProof{Challenge: challenge, Signature: sig}))
		if !card.Passed(checks) {
			b.Fatal(card.FailedCodes(checks))
		}
	}
}

// BenchmarkVerifyService is Service.Verify on SQLite of a produced card
// (DG1, DG2, DG13, DG14, DG15) with Active Authentication: passive
// authentication, AA, the card's status, the audit record and the signed
// answer.
func BenchmarkVerifyService(b *testing.B) {
	db := sqldbtest.Open(b, "sqlite")
	e := newCardEnv(b, db)
	ctx := context.Background()
	if _, _, err := e.store.Init(ctx, *e.clock); err != nil {
		b.Fatal(err)
	}
	const pid = "001090000777"
	if _, err := e.reg.RegisterExisting(e.sys, registry.LegacyRecord{PID: pid, Details: registry.Details{
		Name: registry.Name{Family: "Trần", Given: "Bình"}, BirthDate: "1990-02-03", Sex: personalid.Male,
		PermanentResidence: &registry.Address{Commune: "00004", Detail: "số 1"}}}); err != nil {
		b.Fatal(err)
	}
	app, err := e.svc.Apply(e.officer, intake(pid, "first", ""))
	if err != nil {
		b.Fatal(err)
	}
	e.svc.Decide(e.officer, app.ID, true, "")
	c, err := e.svc.Produce(e.officer, app.ID)
	if err != nil {
		b.Fatal(err)
	}
	chip := chiptest.New(*c.Personalisation)
	sod, com, groups := chip.Read()
	challenge := []byte("12345678")
	sig, err := chip.InternalAuthenticate(challenge)
	if err != nil {
		b.Fatal(err)
	}
	opts := card.VerifyOptions{COM: com, AA: &card.AAProof{Challenge: challenge, Signature: sig}}
	for b.Loop() {
		v, err := e.svc.Verify(e.officer, sod, groups, opts)
		if err != nil || !v.Valid {
			b.Fatal(v.Failed, err)
		}
	}
}
