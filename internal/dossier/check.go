package dossier

import (
	"context"
	"time"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/actor"
)

// CheckRule limits the document checks that find nothing of ours from one
// address: 30 within an hour, then a refusal of a minute that doubles with
// each further failure, up to an hour. A real document, valid or not any
// more, takes its own count back: an office scanning a queue of
// confirmations from one address is not slowed, and good checks mixed in
// hide no guess.
var CheckRule = access.ThrottleRule{Free: 30, Base: time.Minute, Max: time.Hour, Window: time.Hour}

// LimitChecks makes Check count its failures in t (see CheckRule).
func (s *Service) LimitChecks(t *access.Throttle) { s.checks = t }

// Check verifies a document presented by anyone on the public pages or the
// API: the signed text itself, or, when code is true, the code of its
// short link. A check that finds no document of ours (a guessed code, a
// forgery) counts against the caller's address; past CheckRule it is
// refused with TooMany and when to try again, before anything is looked
// up.
func (s *Service) Check(ctx context.Context, text string, code bool) (Verification, error) {
	source := ""
	if a, ok := actor.From(ctx); ok {
		source = a.Source
	}
	var try *access.Attempt
	if s.checks != nil {
		var err error
		if try, err = s.checks.BeginAddress(ctx, "document", source); err != nil {
			return Verification{}, err
		}
	}
	var v Verification
	var err error
	if code {
		v, err = s.VerifyLink(ctx, text)
	} else {
		v, err = s.Verify(ctx, text)
	}
	if err != nil {
		return v, err
	}
	if try != nil && v.Status != "unknown" && v.Status != "invalid" {
		if err := try.Succeeded(ctx); err != nil {
			return Verification{}, err
		}
	}
	return v, nil
}
