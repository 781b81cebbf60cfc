package dossier_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/dossier"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

func from(addr string) context.Context {
	return actor.With(context.Background(), &actor.Actor{Source: addr})
}

// TestCheckLimitsFailures: the public check of a document refuses an
// address after CheckRule.Free checks that found nothing of ours, before
// looking anything up, and says when to try again; a real document takes
// its own count back, so scanning real documents is never held up; other
// addresses are not affected; the refusal ends when its time has passed.
func TestCheckLimitsFailures(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		e.svc.LimitChecks(access.NewThrottle(db, access.ThrottleRules{Address: dossier.CheckRule}, e.clock.Now))
		pid := e.person(t, baDinh)
		d, err := e.svc.Submit(citizen(pid), "residence.confirmation", nil, "")
		if err != nil {
			t.Fatal(err)
		}
		code, err := e.svc.LinkOf(sys(), d)
		if err != nil || code == "" {
			t.Fatalf("link: %q %v", code, err)
		}
		guess := strings.Repeat("a", 20)
		attacker, office := from("203.0.113.7"), from("198.51.100.2")
		// Real documents from the office, many more than the rule allows
		// failures, are never refused.
		for i := 0; i < dossier.CheckRule.Free+5; i++ {
			if v, err := e.svc.Check(office, code, true); err != nil || v.Status != "valid" {
				t.Fatalf("real check %d: %+v %v", i, v, err)
			}
		}
		for i := 0; i < dossier.CheckRule.Free; i++ {
			if v, err := e.svc.Check(attacker, guess, true); err != nil || v.Valid || v.Status != "invalid" {
				t.Fatalf("guess %d: %+v %v", i, v, err)
			}
			// A real document checked between the guesses hides none.
			if i%10 == 0 {
				if _, err := e.svc.Check(attacker, code, true); err != nil {
					t.Fatalf("a real check between guesses: %v", err)
				}
			}
		}
		_, err = e.svc.Check(attacker, guess, true)
		if !errs.Is(err, errs.TooMany) || errs.RetryAfterOf(err) < time.Minute-time.Second {
			t.Fatalf("guess past the rule: %v (retry after %s)", err, errs.RetryAfterOf(err))
		}
		if _, err := e.svc.Check(attacker, d.Result, false); !errs.Is(err, errs.TooMany) {
			t.Errorf("a refused address checked a pasted document: %v", err)
		}
		if v, err := e.svc.Check(office, code, true); err != nil || !v.Valid {
			t.Errorf("another address after the attacker's refusal: %+v %v", v, err)
		}
		if v, err := e.svc.Check(from("192.0.2.9"), "forged.document.text", false); err != nil || v.Status != "invalid" {
			t.Errorf("a forgery from a fresh address: %+v %v", v, err)
		}
		// IPv6: one /64 is one address; every host of it shares the count.
		for i := 0; i < dossier.CheckRule.Free; i++ {
			e.svc.Check(from(fmt.Sprintf("2001:db8:1:2::%x", i+1)), guess, true)
		}
		if _, err := e.svc.Check(from("2001:db8:1:2::ffff"), guess, true); !errs.Is(err, errs.TooMany) {
			t.Errorf("a fresh host of the same /64: %v", err)
		}
		if _, err := e.svc.Check(from("2001:db8:1:3::1"), guess, true); err != nil {
			t.Errorf("another /64: %v", err)
		}
		e.clock.Add(errs.RetryAfterOf(err) + time.Second)
		if v, err := e.svc.Check(attacker, code, true); err != nil || !v.Valid {
			t.Errorf("after the refusal's time: %+v %v", v, err)
		}
	})
}
