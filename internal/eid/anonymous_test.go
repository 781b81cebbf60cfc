package eid_test

import (
	"strings"
	"testing"
	"time"

	"github.com/dancu-vn/dancu/internal/eid"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/sqldb/sqldbtest"
)

// TestIdempotencyKeyScoped: an Idempotency-Key finds the first application
// only for the same caller with the same request. Someone who replays a
// key with another body gets a conflict that holds nothing of the first
// application; another caller with the same key gets no part of it.
func TestIdempotencyKeyScoped(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		p := e.adult(t, baDinh)
		in := selfApp(p)
		in.IdempotencyKey = "retry-1"
		first, err := e.svc.ApplySelf(from("192.0.2.1"), in)
		if err != nil {
			t.Fatal(err)
		}
		again, err := e.svc.ApplySelf(from("192.0.2.9"), in)
		if err != nil || again.ID != first.ID {
			t.Fatalf("the same request again: %+v, %v; want application %s", again, err, first.ID)
		}
		wrong := in
		wrong.Name = "Không Phải Tên"
		got, err := e.svc.ApplySelf(from("192.0.2.9"), wrong)
		wantKind(t, err, errs.Conflict)
		if got.ID != "" || strings.Contains(err.Error(), p.Phone) || strings.Contains(err.Error(), p.Email) || strings.Contains(err.Error(), first.ID) {
			t.Errorf("a replay with another body got %+v, %q", got, err)
		}
		// The same key for another person is another scope: no answer of
		// the first, and that person's own application goes its own way.
		q := e.adult(t, baDinh)
		other := selfApp(q)
		other.IdempotencyKey = "retry-1"
		if got, err := e.svc.ApplySelf(from("192.0.2.9"), other); err != nil || got.ID == first.ID || got.PID != q.PID {
			t.Errorf("another person with the same key: %+v, %v", got, err)
		}
		// A citizen who is logged in replays the anonymous key: not found.
		if got, err := e.svc.ApplySelf(citizen(p.PID), in); err == nil || got.ID == first.ID {
			t.Errorf("another caller with the same key and body: %+v, %v", got, err)
		}
	})
}

// TestAnonymousApplicationTellsNothing: once the form is well formed, an
// online application that cannot go ahead is refused with one answer,
// whether the details do not match, there is no such person, or the
// person already holds or waits for an account.
func TestAnonymousApplicationTellsNothing(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		holder, waiting, stranger := e.adult(t, baDinh), e.adult(t, baDinh), e.adult(t, baDinh)
		e.active(t, holder)
		e.applySelf(t, waiting)
		mismatch := selfApp(stranger)
		mismatch.BirthDate = "1901-01-01"
		nobody := selfApp(stranger)
		nobody.PID = stranger.PID[:6] + "999999"
		answers := map[string]error{}
		for name, in := range map[string]eid.SelfApplication{
			"details do not match": mismatch, "no such person": nobody,
			"holds an account": selfApp(holder), "waits for one": selfApp(waiting),
		} {
			_, err := e.svc.ApplySelf(from("192.0.2.1"), in)
			answers[name] = err
		}
		var first string
		for name, err := range answers {
			wantKind(t, err, errs.Invalid)
			if first == "" {
				first = err.Error()
			} else if err.Error() != first {
				t.Errorf("%s: %q; another refusal says %q", name, err, first)
			}
		}
	})
}

// TestAnonymousAnswersTakeTheFloor: with the answer floor serve sets,
// accepted and refused online applications and activation-code requests
// all take at least the floor, so a refusal (which writes nothing) is not
// told apart by being quicker.
func TestAnonymousAnswersTakeTheFloor(t *testing.T) {
	sqldbtest.Engines(t, func(t *testing.T, db *sqldb.DB) {
		e := newEnv(t, db)
		const floor = 120 * time.Millisecond
		e.svc.SetAnswerFloor(floor)
		accepted, refused := e.adult(t, baDinh), e.adult(t, baDinh)
		wrong := selfApp(refused)
		wrong.BirthDate = "1901-01-01"
		timed := func(name string, f func() error) {
			t.Helper()
			start := time.Now()
			err := f()
			if d := time.Since(start); d < floor {
				t.Errorf("%s answered in %s (%v), before the floor %s", name, d, err, floor)
			}
		}
		timed("accepted application", func() error { _, err := e.svc.ApplySelf(from("192.0.2.2"), selfApp(accepted)); return err })
		timed("refused application", func() error { _, err := e.svc.ApplySelf(from("192.0.2.2"), wrong); return err })
		timed("code for no account", func() error { return e.svc.StartActivation(from("192.0.2.2"), refused.PID, refused.Phone) })
		// A malformed form is answered at once: it tells nothing of anyone.
		start := time.Now()
		bad := selfApp(accepted)
		bad.Sex = "x"
		if _, err := e.svc.ApplySelf(from("192.0.2.2"), bad); !errs.Is(err, errs.Invalid) || time.Since(start) >= floor {
			t.Errorf("a malformed form: %v after %s", err, time.Since(start))
		}
	})
}
