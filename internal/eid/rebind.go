package eid

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/audit"
	"github.com/dancu-vn/dancu/internal/card"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/personalid"
)

// Getting back in at a counter, without the old phone and without a
// recovery code: at any commune police counter the officer has the card's
// chip read (passive and Active Authentication against a challenge of the
// platform's, card.Service.CheckPresence), compares the face with the
// card's photo, and moves the account to the new phone number. Every
// session, passkey, authenticator app, recovery code, the password and the
// passcode end with the old phone; the account waits for activation with
// a code sent to the new phone, which sets new ones. The old phone and
// e-mail are told, and the new phone. An online cooling-off period is
// lifted: the holder was seen.

// CardCounter checks at a counter that the card of a person is in the
// reader (card.Service).
type CardCounter interface {
	CheckPresence(ctx context.Context, pid string, p card.Presence) (card.Present, error)
}

// SetCards gives the service the counter check of cards.
func (s *Service) SetCards(c CardCounter) { s.cards = c }

// Rebinding moves an account to a new phone at a counter.
type Rebinding struct {
	PID         string        `json:"pid"`
	Phone       string        `json:"phone" doc:"The new mobile number"`
	Email       string        `json:"email,omitempty" maxLength:"254" doc:"A new e-mail address; empty keeps the one on file"`
	FaceChecked bool          `json:"face_checked" doc:"The officer compared the person's face with the card's photo"`
	Card        card.Presence `json:"-"`
}

// Rebind moves the account of a person present at the counter to a new
// phone (see above). Any officer who reviews e-ID accounts may, at any
// commune: the card in the reader is the proof. An account an officer
// locked is moved only by an officer whose jurisdiction covers the
// person.
func (s *Service) Rebind(ctx context.Context, in Rebinding) (Account, error) {
	officer, err := access.Require(ctx, access.ReviewEID)
	if err != nil {
		return Account{}, err
	}
	var f errs.Fields
	pid, err := personalid.Parse(in.PID)
	if err != nil {
		f.Add("pid", "%s", err)
	}
	phone := normalisePhone(&f, "phone", in.Phone)
	email := checkEmail(&f, "email", in.Email, false)
	if !in.FaceChecked {
		f.Add("face_checked", "must be confirmed: compare the person's face with the card's photo")
	}
	if err := f.Err(); err != nil {
		return Account{}, err
	}
	if s.cards == nil {
		return Account{}, errs.E(errs.Unavailable, "the counter check of cards is not configured")
	}
	acc, err := loadAccount(ctx, s.db, string(pid))
	if errors.Is(err, sql.ErrNoRows) {
		return Account{}, errs.E(errs.NotFound, "no e-ID account %s", pid)
	}
	if err != nil {
		return Account{}, err
	}
	switch {
	case acc.Guardian != "":
		return Account{}, errs.E(errs.Conflict, "the account of %s is its guardian's: move the guardian's account", pid)
	case acc.State == Revoked:
		return Account{}, errs.E(errs.Conflict, "the account %s is revoked", pid)
	case acc.State == Locked && acc.StateReason != holderLock:
		if err := s.requireOfficerFor(ctx, string(pid)); err != nil {
			return Account{}, errs.E(errs.Forbidden, "this account was locked by an officer: only the police of the person's commune move it")
		}
	}
	present, err := s.cards.CheckPresence(ctx, string(pid), in.Card)
	if err != nil {
		// A failed counter check is in the person's log, with the officer.
		if werr := s.db.InTx(ctx, func(tx *sql.Tx) error {
			return audit.WriteTx(ctx, tx, audit.NewEvent(ctx, s.clock(), "eid_rebind_refused", acc.PID, err.Error()))
		}); werr != nil {
			return Account{}, werr
		}
		return Account{}, err
	}
	if email == "" {
		email = acc.Email
	}
	now := s.clock()
	var out Account
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE eid_account SET phone = $1, email = $2, state = 'approved', state_reason = '',
			password_hash = '', passcode_hash = '', totp_enabled = false, totp_sealed = NULL, totp_last_step = 0, cooling_until = NULL,
			session_epoch = session_epoch + 1, version = version + 1, updated_at = $3 WHERE pid = $4 AND version = $5`,
			phone, email, now, acc.PID, acc.Version)
		if n, _ := rowsAffected(res, err); n != 1 {
			if err != nil {
				return err
			}
			return errs.E(errs.Conflict, "the account changed meanwhile: try again")
		}
		for _, q := range []string{`DELETE FROM eid_passkey WHERE pid = $1`, `DELETE FROM eid_recovery_code WHERE pid = $1`, `DELETE FROM webauthn_ceremony WHERE pid = $1`} {
			if _, err := tx.ExecContext(ctx, q, acc.PID); err != nil {
				return err
			}
		}
		// Every channel on file, the old ones first: whoever lost the
		// phone hears of it there too.
		if err := s.sendNotice(ctx, tx, []Message{{Channel: "sms", Recipient: acc.Phone}, {Channel: "email", Recipient: acc.Email},
			{Channel: "sms", Recipient: phone}, {Channel: "email", Recipient: email}}, "notice.rebound", maskPhone(phone)); err != nil {
			return err
		}
		if err := accountEvent(ctx, tx, acc.PID, Approved, acc.Level, now); err != nil {
			return err
		}
		if out, err = loadAccount(ctx, tx, acc.PID); err != nil {
			return err
		}
		return audit.WriteTx(ctx, tx, audit.NewEvent(ctx, now, "eid_rebound", acc.PID,
			fmt.Sprintf("at the counter by %s: card %s (%s), face compared; phone changed, sessions and factors removed", officer.Name, present.CardID, strings.Join(present.Checks, ", "))))
	})
	if err == nil {
		s.sessionsEnded(ctx, acc.PID, "account moved to a new phone at a counter")
	}
	return out, err
}

// maskPhone shows the last three digits of a number only, as a notice to
// an old phone should.
func maskPhone(p string) string {
	if len(p) < 3 {
		return p
	}
	return strings.Repeat("•", len(p)-3) + p[len(p)-3:]
}
