package eid

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/audit"
	"github.com/dancu-vn/dancu/internal/errs"
)

// TOTP (RFC 6238) second factor with an authenticator app: 6 digits, 30 s
// steps, one step of clock drift either way; a code is accepted once.
const totpPeriod = 30

func totpAAD(pid string) []byte { return []byte("eid_totp|" + pid) }

// TOTPEnrolment is what the citizen's authenticator app needs.
type TOTPEnrolment struct {
	Secret string `json:"secret" doc:"Base32 secret to type into the app"`
	URL    string `json:"url" doc:"otpauth:// URL, to show as a QR code"`
}

// StartTOTP makes a new authenticator secret for the holder's own active
// account. It takes effect once ConfirmTOTP sees a code from the app.
func (s *Service) StartTOTP(ctx context.Context, pid string) (TOTPEnrolment, error) {
	if !self(ctx, pid) {
		return TOTPEnrolment{}, errs.E(errs.Forbidden, "only the account holder sets up an authenticator app")
	}
	acc, err := loadAccount(ctx, s.db, pid)
	if errors.Is(err, sql.ErrNoRows) {
		return TOTPEnrolment{}, errs.E(errs.NotFound, "no e-ID account %s", pid)
	}
	if err != nil {
		return TOTPEnrolment{}, err
	}
	if err := s.coolingRefusal(acc); err != nil {
		return TOTPEnrolment{}, err
	}
	if acc.TOTP {
		// A new setup would turn the one in use off unconfirmed: whoever
		// holds a session must not drop a factor that way.
		return TOTPEnrolment{}, errs.E(errs.Conflict, "an authenticator app is on already: turn it off first, with the passcode")
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: "dancu", AccountName: pid, Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return TOTPEnrolment{}, err
	}
	now := s.clock()
	res, err := s.db.ExecContext(ctx, `UPDATE eid_account SET totp_sealed = $1, totp_enabled = false, totp_last_step = 0, updated_at = $2
		WHERE pid = $3 AND state = 'active' AND NOT totp_enabled`, s.sealer.Seal([]byte(key.Secret()), totpAAD(pid)), now, pid)
	if n, _ := rowsAffected(res, err); n != 1 {
		if err != nil {
			return TOTPEnrolment{}, err
		}
		return TOTPEnrolment{}, errs.E(errs.Conflict, "the account %s is not active", pid)
	}
	return TOTPEnrolment{Secret: key.Secret(), URL: key.URL()}, nil
}

func rowsAffected(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// ConfirmTOTP turns the second factor on with a code from the app.
func (s *Service) ConfirmTOTP(ctx context.Context, pid, code string) error {
	if !self(ctx, pid) {
		return errs.E(errs.Forbidden, "only the account holder sets up an authenticator app")
	}
	// Checked again here: a setup begun as a recovery went through does not
	// turn on during its cooling-off.
	acc, err := loadAccount(ctx, s.db, pid)
	if err != nil {
		return err
	}
	if err := s.coolingRefusal(acc); err != nil {
		return err
	}
	return s.checkTOTP(ctx, pid, code, true)
}

// DisableTOTP turns the second factor off; the passcode confirms it.
func (s *Service) DisableTOTP(ctx context.Context, pid, passcode string) error {
	if !self(ctx, pid) {
		if _, err := access.Require(ctx, access.ReviewEID); err != nil {
			return err
		}
	} else {
		acc, err := loadAccount(ctx, s.db, pid)
		if err != nil {
			return err
		}
		if err := s.verifyPasscode(ctx, acc, passcode); err != nil {
			return err
		}
	}
	now := s.clock()
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE eid_account SET totp_sealed = NULL, totp_enabled = false, updated_at = $1 WHERE pid = $2`, now, pid); err != nil {
			return err
		}
		if err := s.factorNotice(ctx, tx, pid, "notice.factor.totp.disabled"); err != nil {
			return err
		}
		return audit.WriteTx(ctx, tx, audit.NewEvent(ctx, now, "eid_totp_disabled", pid, ""))
	})
}

// VerifyTOTP checks the second factor of a login. Wrong codes count as
// failed logins.
func (s *Service) VerifyTOTP(ctx context.Context, pid, code string) error {
	return s.checkTOTP(ctx, pid, code, false)
}

func (s *Service) checkTOTP(ctx context.Context, pid, code string, enabling bool) error {
	if len(code) != 6 {
		return errs.Field("code", "must be the 6 digits the app shows")
	}
	now := s.clock()
	var try *access.Attempt
	if !enabling {
		// Six digits are guessed quickly: the second factor is throttled
		// like the password.
		t, err := s.throttle.Begin(ctx, "eid-totp", pid, sourceOfCtx(ctx))
		if err != nil {
			return err
		}
		try = t
	}
	var sealed []byte
	var enabled bool
	var last int64
	err := s.db.QueryRowContext(ctx, `SELECT totp_sealed, totp_enabled, totp_last_step FROM eid_account WHERE pid = $1`, pid).Scan(&sealed, &enabled, &last)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && (sealed == nil || enabled == enabling)) {
		return errs.E(errs.Conflict, "no authenticator app to check for %s", pid)
	}
	if err != nil {
		return err
	}
	secret, err := s.sealer.Open(sealed, totpAAD(pid))
	if err != nil {
		return err
	}
	step := int64(-1)
	for d := -1; d <= 1; d++ {
		t := now.Add(time.Duration(d*totpPeriod) * time.Second)
		if ok, _ := totp.ValidateCustom(code, string(secret), t, totp.ValidateOpts{Period: totpPeriod, Skew: 0, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}); ok {
			step = t.Unix() / totpPeriod
			break
		}
	}
	if step < 0 || step <= last {
		if !enabling {
			if err := s.record(ctx, now, "eid_login_failed", "wrong authenticator code"); err != nil {
				return err
			}
		}
		return errs.Field("code", "wrong or already used code")
	}
	if try != nil {
		if err := try.Succeeded(ctx); err != nil {
			return err
		}
	}
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE eid_account SET totp_last_step = $1, totp_enabled = true, failed_logins = 0 WHERE pid = $2 AND totp_last_step < $1`, step, pid)
		if n, _ := rowsAffected(res, err); n != 1 {
			if err != nil {
				return err
			}
			return errs.Field("code", "wrong or already used code")
		}
		action := "eid_totp_ok"
		if enabling {
			action = "eid_totp_enabled"
			if err := s.factorNotice(ctx, tx, pid, "notice.factor.totp.enabled"); err != nil {
				return err
			}
		}
		return audit.WriteTx(ctx, tx, audit.NewEvent(ctx, now, action, pid, ""))
	})
}

func sourceOfCtx(ctx context.Context) string {
	if a, ok := actor.From(ctx); ok {
		return a.Source
	}
	return ""
}
