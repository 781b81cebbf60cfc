package eid

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/audit"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/locale"
	"github.com/dancu-vn/dancu/internal/personalid"
)

// Getting back into an account without the old phone. Recovery codes are
// shown once — at activation, or when the holder makes a new set — and
// stored as hashes; each works once, and only together with the passcode,
// so that neither a photographed sheet of codes nor a guessed passcode is
// enough alone. Getting back in with one ends every session, removes the
// passkeys and the authenticator app (they were on the lost phone), sets a
// new password and undoes a lock the holder made; the phone and e-mail on
// file are told. For CoolingOff after that no device or factor may be
// added: whoever took the account with a stolen code cannot entrench a
// device of their own before the holder, warned, locks it again or goes to
// the commune police.
const (
	RecoveryCodes = 10
	CoolingOff    = 72 * time.Hour
	// recoveryAlphabet is Crockford's base32: no I, L, O or U to misread.
	recoveryAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
)

func recoveryHash(pid, code string) string {
	h := sha256.Sum256([]byte("eid_recovery|" + pid + "|" + code))
	return hex.EncodeToString(h[:])
}

// newRecoveryCode returns ten characters (50 random bits) as XXXXX-XXXXX.
func newRecoveryCode() string {
	b := make([]byte, 10)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	out := make([]byte, 0, 11)
	for i, c := range b {
		if i == 5 {
			out = append(out, '-')
		}
		out = append(out, recoveryAlphabet[int(c)%32])
	}
	return string(out)
}

// normaliseRecoveryCode reads a code as people copy it: case, spaces and
// dashes ignored, O read as 0 and I or L as 1.
func normaliseRecoveryCode(s string) string {
	s = strings.ToUpper(strings.NewReplacer(" ", "", "-", "", "\t", "").Replace(strings.TrimSpace(s)))
	s = strings.NewReplacer("O", "0", "I", "1", "L", "1").Replace(s)
	if len(s) != 10 || strings.Trim(s, recoveryAlphabet) != "" {
		return ""
	}
	return s[:5] + "-" + s[5:]
}

// makeRecoveryCodes replaces the account's recovery codes with a new set
// and returns it, in the caller's transaction.
func makeRecoveryCodes(ctx context.Context, tx *sql.Tx, pid string, now time.Time) ([]string, error) {
	if _, err := tx.ExecContext(ctx, `DELETE FROM eid_recovery_code WHERE pid = $1`, pid); err != nil {
		return nil, err
	}
	codes := make([]string, RecoveryCodes)
	for i := range codes {
		codes[i] = newRecoveryCode()
		if _, err := tx.ExecContext(ctx, `INSERT INTO eid_recovery_code (pid, id, code_hash, created_at) VALUES ($1, $2, $3, $4)`,
			pid, uuid.Must(uuid.NewV7()).String(), recoveryHash(pid, codes[i]), now); err != nil {
			return nil, err
		}
	}
	return codes, nil
}

// RecoveryCodesLeft is how many of the holder's recovery codes are unused.
func (s *Service) RecoveryCodesLeft(ctx context.Context, pid string) (int, error) {
	if !self(ctx, pid) {
		return 0, errs.E(errs.Forbidden, "only the holder sees their recovery codes")
	}
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM eid_recovery_code WHERE pid = $1 AND used_at IS NULL`, pid).Scan(&n)
	return n, err
}

// verifyPasscode checks the holder's passcode under the login throttle
// (realm "eid-passcode"): six digits are not left to unlimited guessing by
// whoever holds a session or a recovery code.
func (s *Service) verifyPasscode(ctx context.Context, acc Account, passcode string) error {
	source := ""
	if a, ok := actor.From(ctx); ok {
		source = a.Source
	}
	try, err := s.throttle.Begin(ctx, "eid-passcode", acc.PID, source)
	if err != nil {
		return err
	}
	if acc.passcode == "" || !access.VerifyPassword(acc.passcode, passcode) {
		return errs.Field("passcode", "wrong passcode")
	}
	return try.Succeeded(ctx)
}

// coolingRefusal refuses adding a device or factor during the cooling-off
// period after an online recovery.
func (s *Service) coolingRefusal(acc Account) error {
	if acc.CoolingUntil != nil && s.clock().Before(*acc.CoolingUntil) {
		return errs.E(errs.Forbidden, "the account was recovered online: new devices and factors can be added from %s (Vietnam time), or at once at a commune police counter",
			acc.CoolingUntil.Add(7*time.Hour).Format("2006-01-02 15:04"))
	}
	return nil
}

// NewRecoveryCodes makes a new set of recovery codes for the holder,
// confirmed by the passcode; the old set stops working. A notice goes to
// the phone and e-mail on file.
func (s *Service) NewRecoveryCodes(ctx context.Context, pid, passcode string) ([]string, error) {
	if !self(ctx, pid) {
		return nil, errs.E(errs.Forbidden, "only the holder makes recovery codes")
	}
	acc, err := loadAccount(ctx, s.db, pid)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.E(errs.NotFound, "no e-ID account %s", pid)
	}
	if err != nil {
		return nil, err
	}
	if acc.State != Active {
		return nil, errs.E(errs.Conflict, "the account %s is not active", pid)
	}
	if err := s.coolingRefusal(acc); err != nil {
		return nil, err
	}
	if err := s.verifyPasscode(ctx, acc, passcode); err != nil {
		return nil, err
	}
	now := s.clock()
	var codes []string
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		if codes, err = makeRecoveryCodes(ctx, tx, pid, now); err != nil {
			return err
		}
		if err := s.notify(ctx, tx, acc, "notice.recovery.new"); err != nil {
			return err
		}
		return audit.WriteTx(ctx, tx, audit.NewEvent(ctx, now, "eid_recovery_codes_made", pid, ""))
	})
	return codes, err
}

// notify sends a notice about the account to the phone and the e-mail on
// file, in the caller's transaction.
func (s *Service) notify(ctx context.Context, tx *sql.Tx, acc Account, key string, args ...any) error {
	return s.sendNotice(ctx, tx, []Message{{Channel: "sms", Recipient: acc.Phone}, {Channel: "email", Recipient: acc.Email}}, key, args...)
}

// factorNotice tells the phone and e-mail on file of a change of the
// account's factors, in the caller's transaction: a change the holder did
// not make is seen at once.
func (s *Service) factorNotice(ctx context.Context, tx *sql.Tx, pid, key string, args ...any) error {
	acc, err := loadAccount(ctx, tx, pid)
	if err != nil {
		return err
	}
	return s.notify(ctx, tx, acc, key, args...)
}

// sendNotice sends a notice about an account to each recipient once.
func (s *Service) sendNotice(ctx context.Context, tx *sql.Tx, to []Message, key string, args ...any) error {
	told := map[string]bool{}
	for _, m := range to {
		if m.Recipient == "" || told[m.Recipient] {
			continue
		}
		told[m.Recipient] = true
		m.Body = locale.Both(key, args...)
		if m.Channel == "email" {
			m.Subject = locale.T(locale.VI, "notice.account.subject") + " / " + locale.T(locale.EN, "notice.account.subject")
		}
		if err := s.sender.Send(ctx, tx, m); err != nil {
			return err
		}
	}
	return nil
}

// Recovery is getting back into an account with a recovery code.
type Recovery struct {
	PID      string `json:"pid"`
	Code     string `json:"code" doc:"One of the recovery codes, e.g. 7K3QF-2MX9A"`
	Passcode string `json:"passcode" doc:"The account's 6-digit passcode"`
	Password string `json:"password" doc:"The new password: 8–20 characters with upper case, lower case, a digit and a special character"`
}

// errNotRecovered is the one answer to a number, code or passcode that
// does not get an account back: it tells nobody which was wrong, nor
// whether the account exists.
var errNotRecovered = errs.E(errs.Unauthenticated, "wrong ID number, recovery code or passcode")

// Recover gets the holder back into the account with a recovery code and
// the passcode (see RecoveryCodes). Anyone may try: the tries count in the
// login throttle under the number as typed (realm "eid-passcode"), and a
// failed try answers the same, no sooner, whatever was wrong.
func (s *Service) Recover(ctx context.Context, in Recovery) error {
	var f errs.Fields
	pid, err := personalid.Parse(in.PID)
	if err != nil {
		f.Add("pid", "%s", err)
	}
	code := normaliseRecoveryCode(in.Code)
	if code == "" {
		f.Add("code", "must be a recovery code of 10 letters and digits, e.g. 7K3QF-2MX9A")
	}
	if len(in.Passcode) != 6 || strings.Trim(in.Passcode, "0123456789") != "" {
		f.Add("passcode", "must be 6 digits")
	}
	f.Merge("", CheckPassword(in.Password))
	if err := f.Err(); err != nil {
		return err
	}
	source := ""
	if a, ok := actor.From(ctx); ok {
		source = a.Source
	}
	now := s.clock()
	who := actor.With(ctx, citizenActor(string(pid), source))
	defer s.answerNoSooner(ctx, time.Now())
	// The passcode is guessed through this door too: its tries count with
	// those of every other (realm "eid-passcode").
	try, err := s.throttle.Begin(ctx, "eid-passcode", string(pid), source)
	if err != nil {
		if errs.Is(err, errs.TooMany) {
			if werr := s.record(who, now, "eid_recovery_refused", "throttled"); werr != nil {
				return werr
			}
		}
		return err
	}
	acc, err := loadAccount(ctx, s.db, string(pid))
	if errors.Is(err, sql.ErrNoRows) {
		access.VerifyPassword(dummyHash, in.Passcode)
		if err := s.record(who, now, "eid_recovery_failed", "unknown account"); err != nil {
			return err
		}
		return errNotRecovered
	}
	if err != nil {
		return err
	}
	var stored string
	err = s.db.QueryRowContext(ctx, `SELECT code_hash FROM eid_recovery_code WHERE pid = $1 AND code_hash = $2 AND used_at IS NULL`,
		acc.PID, recoveryHash(acc.PID, code)).Scan(&stored)
	codeOK := err == nil && subtle.ConstantTimeCompare([]byte(stored), []byte(recoveryHash(acc.PID, code))) == 1
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	passOK := acc.passcode != "" && access.VerifyPassword(acc.passcode, in.Passcode)
	if !codeOK || !passOK {
		detail := "wrong recovery code"
		if codeOK {
			detail = "wrong passcode"
		}
		if err := s.record(who, now, "eid_recovery_failed", detail); err != nil {
			return err
		}
		return errNotRecovered
	}
	if err := try.Succeeded(ctx); err != nil {
		return err
	}
	// Told only to whoever holds a code and the passcode.
	switch {
	case acc.CoolingUntil != nil && now.Before(*acc.CoolingUntil):
		// Recovered online a moment ago: whoever holds the sheet of codes
		// does not take it back and forth; the counter settles it.
		if err := s.record(who, now, "eid_recovery_refused", "within the cooling-off period"); err != nil {
			return err
		}
		return errs.E(errs.Forbidden, "this account was recovered online less than %d hours ago: go to a commune police counter with your card", int(CoolingOff.Hours()))
	case acc.State == Locked && acc.StateReason != holderLock:
		if err := s.record(who, now, "eid_recovery_refused", "locked by an officer"); err != nil {
			return err
		}
		return errs.E(errs.Forbidden, "this account was locked by an officer: ask the commune police to unlock it")
	case acc.State != Active && acc.State != Locked:
		if err := s.record(who, now, "eid_recovery_refused", "account "+string(acc.State)); err != nil {
			return err
		}
		return errs.E(errs.Forbidden, "this account is %s", acc.State)
	}
	hash := access.HashPassword(in.Password)
	cooling := now.Add(CoolingOff)
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE eid_recovery_code SET used_at = $1 WHERE pid = $2 AND code_hash = $3 AND used_at IS NULL`,
			now, acc.PID, recoveryHash(acc.PID, code))
		if n, _ := rowsAffected(res, err); n != 1 {
			if err != nil {
				return err
			}
			return errNotRecovered // used meanwhile by a concurrent try
		}
		res, err = tx.ExecContext(ctx, `UPDATE eid_account SET state = 'active', state_reason = '', password_hash = $1,
			totp_enabled = false, totp_sealed = NULL, totp_last_step = 0, session_epoch = session_epoch + 1, cooling_until = $2,
			version = version + 1, updated_at = $3 WHERE pid = $4 AND version = $5`, hash, cooling, now, acc.PID, acc.Version)
		if n, _ := rowsAffected(res, err); n != 1 {
			if err != nil {
				return err
			}
			return errs.E(errs.Conflict, "the account changed meanwhile: try again")
		}
		for _, q := range []string{`DELETE FROM eid_passkey WHERE pid = $1`, `DELETE FROM webauthn_ceremony WHERE pid = $1`} {
			if _, err := tx.ExecContext(ctx, q, acc.PID); err != nil {
				return err
			}
		}
		if acc.State == Locked {
			if err := accountEvent(ctx, tx, acc.PID, Active, acc.Level, now); err != nil {
				return err
			}
		}
		if err := s.notify(ctx, tx, acc, "notice.recovery.used", cooling.Add(7*time.Hour).Format("02/01/2006 15:04")); err != nil {
			return err
		}
		return audit.WriteTx(who, tx, audit.NewEvent(who, now, "eid_recovered", acc.PID,
			"recovery code; passkeys and authenticator app removed; sessions ended"))
	})
	if err == nil {
		s.sessionsEnded(ctx, acc.PID, "account recovered")
	}
	return err
}

// ConfirmPresent checks, for an officer at a counter, the passcode the
// citizen present types in (assisted mode): under the login throttle with
// every other passcode try, by the counter's address. A wrong passcode is
// named at field passcode, and so is a citizen without an active account,
// who must activate one first.
func (s *Service) ConfirmPresent(ctx context.Context, pid, passcode string) error {
	a, ok := actor.From(ctx)
	if !ok || a.Kind != actor.Officer {
		return errs.E(errs.Forbidden, "a citizen's presence is confirmed at a counter, by an officer")
	}
	acc, err := loadAccount(ctx, s.db, pid)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && acc.State != Active) {
		return errs.Field("passcode", "this citizen has no active e-ID account to confirm with: activate one first (the counter can take the application)")
	}
	if err != nil {
		return err
	}
	return s.verifyPasscode(ctx, acc, passcode)
}
