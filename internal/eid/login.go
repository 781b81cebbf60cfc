package eid

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
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

// One-time codes and login throttling.
const (
	OTPTTL       = 5 * time.Minute
	otpAttempts  = 5                // wrong codes before a code is void
	otpPerWindow = 3                // codes sent per account per window
	otpWindow    = 15 * time.Minute //
)

// Activation is the second step of activation.
type Activation struct {
	PID      string `json:"pid"`
	Code     string `json:"code" doc:"The 6-digit one-time code sent to the phone"`
	Password string `json:"password" doc:"8–20 characters with upper case, lower case, a digit and a special character"`
	Passcode string `json:"passcode" doc:"6 digits, asked to confirm sensitive actions"`
}

func otpHash(id, code string) string {
	h := sha256.Sum256([]byte(id + "|" + code))
	return hex.EncodeToString(h[:])
}

// StartActivation sends a one-time code for an approved account, by SMS
// when contact is the account's phone number, by e-mail when it is the
// account's e-mail address. The number and the contact must match the
// account; the answer is the same whether they do, do not, or enough codes
// were sent already (otpPerWindow), so it tells nobody whether the account
// exists.
func (s *Service) StartActivation(ctx context.Context, pidText, contact string) error {
	var f errs.Fields
	pid, err := personalid.Parse(pidText)
	if err != nil {
		f.Add("pid", "%s", err)
	}
	channel, to := "sms", ""
	if strings.Contains(contact, "@") {
		channel, to = "email", checkEmail(&f, "email", contact, true)
	} else {
		to = normalisePhone(&f, "phone", contact)
	}
	if err := f.Err(); err != nil {
		return err
	}
	now := s.clock()
	defer s.answerNoSooner(ctx, time.Now())
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		acc, err := loadAccount(ctx, tx, string(pid))
		matches := err == nil && acc.State == Approved && ((channel == "sms" && acc.Phone == to) || (channel == "email" && strings.EqualFold(acc.Email, to)))
		if errors.Is(err, sql.ErrNoRows) || (err == nil && !matches) {
			// The same answer as when a code is sent: an anonymous caller
			// must not learn whether a number has an account, nor its phone.
			return nil
		}
		if err != nil {
			return err
		}
		var recent int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM eid_otp WHERE pid = $1 AND purpose = 'activation' AND expires_at > $2`,
			string(pid), now.Add(OTPTTL-otpWindow)).Scan(&recent); err != nil {
			return err
		}
		if recent >= otpPerWindow {
			// Enough codes are on their way; saying so would tell that the
			// account exists.
			return nil
		}
		n, _ := rand.Int(rand.Reader, big.NewInt(1_000_000))
		code := fmt.Sprintf("%06d", n.Int64())
		id := uuid.Must(uuid.NewV7()).String()
		if _, err := tx.ExecContext(ctx, `INSERT INTO eid_otp (id, pid, purpose, code_hash, expires_at, attempts) VALUES ($1, $2, 'activation', $3, $4, 0)`,
			id, string(pid), otpHash(id, code), now.Add(OTPTTL)); err != nil {
			return err
		}
		m := Message{Channel: channel, Recipient: to,
			Body: locale.Both("notice.otp", code, int(OTPTTL.Minutes()))}
		if channel == "email" {
			m.Subject = locale.T(locale.VI, "notice.otp.subject") + " / " + locale.T(locale.EN, "notice.otp.subject")
		}
		return s.sender.Send(ctx, tx, m)
	})
}

// checkPasscode enforces 6 digits that are not trivially guessed.
func checkPasscode(p string) error {
	if len(p) != 6 || strings.Trim(p, "0123456789") != "" {
		return errs.Field("passcode", "must be 6 digits")
	}
	if strings.Count(p, p[:1]) == 6 || strings.Contains("0123456789012345", p) || strings.Contains("9876543210987654", p) {
		return errs.Field("passcode", "must not be one repeated digit or a run such as 123456")
	}
	return nil
}

// CheckPassword enforces the e-ID password rule: 8–20 characters with
// upper case, lower case, a digit and a special character.
func CheckPassword(pw string) error {
	if n := len([]rune(pw)); n > 20 {
		return errs.Field("password", "must be 8 to 20 characters long, got %d", n)
	}
	if err := access.CheckPasswordPolicy(pw); err != nil {
		return errs.Field("password", "must be 8 to 20 characters with an upper-case letter, a lower-case letter, a digit and a special character")
	}
	return nil
}

// Activate completes activation with the one-time code, a password and a
// passcode. A code is single-use, expires after OTPTTL and is void after
// five wrong tries.
func (s *Service) Activate(ctx context.Context, in Activation) (Account, error) {
	var f errs.Fields
	pid, err := personalid.Parse(in.PID)
	if err != nil {
		f.Add("pid", "%s", err)
	}
	if len(in.Code) != 6 || strings.Trim(in.Code, "0123456789") != "" {
		f.Add("code", "must be the 6 digits sent to your phone")
	}
	f.Merge("", CheckPassword(in.Password))
	f.Merge("", checkPasscode(in.Passcode))
	if err := f.Err(); err != nil {
		return Account{}, err
	}
	// From here on neither the answer nor its timing tells whether a code
	// was sent to the number (which would confirm that a phone or e-mail
	// goes with an approved account): no code, a wrong one, a used one and
	// one worn out by wrong tries get one refusal, no sooner than the
	// floor. A code is compared at most otpAttempts times, and at most
	// otpPerWindow codes are sent in a window.
	defer s.answerNoSooner(ctx, time.Now())
	pwHash, pcHash := access.HashPassword(in.Password), access.HashPassword(in.Passcode)
	now := s.clock()
	var out Account
	var wrong bool
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		wrong = false
		var id, hash string
		var attempts int
		err := tx.QueryRowContext(ctx, `SELECT id, code_hash, attempts FROM eid_otp WHERE pid = $1 AND purpose = 'activation'
			AND used_at IS NULL AND expires_at > $2 ORDER BY id DESC LIMIT 1`, string(pid), now).Scan(&id, &hash, &attempts)
		if errors.Is(err, sql.ErrNoRows) {
			return errCodeRefused
		}
		if err != nil {
			return err
		}
		// Count the try before comparing, in one conditional update that
		// locks the code's row: tries made together are counted one after
		// the other, so no more than otpAttempts are ever compared.
		res, err := tx.ExecContext(ctx, `UPDATE eid_otp SET attempts = attempts + 1 WHERE id = $1 AND attempts < $2 AND used_at IS NULL`, id, otpAttempts)
		if n, _ := rowsAffected(res, err); n != 1 {
			if err != nil {
				return err
			}
			return errCodeRefused
		}
		if subtle.ConstantTimeCompare([]byte(otpHash(id, in.Code)), []byte(hash)) != 1 {
			wrong = true
			return nil
		}
		res, err = tx.ExecContext(ctx, `UPDATE eid_otp SET used_at = $1 WHERE id = $2 AND used_at IS NULL`, now, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return errCodeRefused
		}
		res, err = tx.ExecContext(ctx, `UPDATE eid_account SET state = 'active', password_hash = $1, passcode_hash = $2, activated_at = $3,
			version = version + 1, updated_at = $3 WHERE pid = $4 AND state = 'approved'`, pwHash, pcHash, now, string(pid))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return errs.E(errs.Conflict, "the account %s is not waiting for activation", pid)
		}
		if out, err = loadAccount(ctx, tx, string(pid)); err != nil {
			return err
		}
		if out.RecoveryCodes, err = makeRecoveryCodes(ctx, tx, out.PID, now); err != nil {
			return err
		}
		if err := accountEvent(ctx, tx, out.PID, Active, out.Level, now); err != nil {
			return err
		}
		return audit.WriteTx(ctx, tx, audit.NewEvent(actor.With(ctx, citizenActor(out.PID, "")), now, "eid_activated", out.PID, ""))
	})
	if err == nil && wrong {
		err = errCodeRefused
	}
	return out, err
}

// errCodeRefused is the one refusal of an activation code.
var errCodeRefused = errs.Field("code", "wrong or expired code: ask for a new one")

func citizenActor(pid, source string) *actor.Actor {
	return &actor.Actor{ID: pid, Kind: actor.Citizen, Name: pid, Source: source}
}

// Login is a successful password login.
type Login struct {
	PID      string    `json:"pid"`
	Level    Level     `json:"level"`
	Epoch    int64     `json:"-"` // the account's session epoch when logged in
	AuthTime time.Time `json:"auth_time"`
	// SecondFactor: the account has an authenticator app, and the login is
	// complete only after VerifyTOTP.
	SecondFactor bool `json:"second_factor"`
	// Passkey: logged in with a passkey (possession and user verification).
	Passkey bool `json:"passkey"`
}

// dummyHash equalises the time of a login for an unknown number.
var dummyHash = access.HashPassword("dancu-eid-timing-equaliser")

// Login checks a citizen's password. Failures are slowed down by the
// platform's one login throttle (access.Throttle, realm "eid"): never a
// lock-out the owner could be kept out by. The answer to a wrong number or
// a wrong password is the same, and so is the throttle, which counts by the
// number as typed; the account's state is told only to whoever knows the
// password. Every attempt is recorded, and a login whose count or record
// cannot be written fails.
func (s *Service) Login(ctx context.Context, pidText, password string) (Login, error) {
	source := ""
	if a, ok := actor.From(ctx); ok {
		source = a.Source
	}
	now := s.clock()
	pid := strings.TrimSpace(pidText)
	who := actor.With(ctx, citizenActor(pid, source))
	refused := errs.E(errs.Unauthenticated, "wrong ID number or password")
	try, err := s.throttle.Begin(ctx, "eid", pid, source)
	if err != nil {
		if errs.Is(err, errs.TooMany) {
			if werr := s.record(who, now, "eid_login_refused", "throttled"); werr != nil {
				return Login{}, werr
			}
		}
		return Login{}, err
	}
	acc, err := loadAccount(ctx, s.db, pid)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && acc.password == "") {
		access.VerifyPassword(dummyHash, password)
		if err := s.record(who, now, "eid_login_failed", "unknown or not activated account"); err != nil {
			return Login{}, err
		}
		return Login{}, refused
	}
	if err != nil {
		return Login{}, err
	}
	if !access.VerifyPassword(acc.password, password) {
		if err := s.record(who, now, "eid_login_failed", "wrong password"); err != nil {
			return Login{}, err
		}
		return Login{}, refused
	}
	if err := try.Succeeded(ctx); err != nil {
		return Login{}, err
	}
	switch acc.State {
	case Active:
	case Locked:
		if err := s.record(who, now, "eid_login_refused", "account locked"); err != nil {
			return Login{}, err
		}
		return Login{}, errs.E(errs.Forbidden, "this account is locked (%s)", acc.StateReason)
	default:
		if err := s.record(who, now, "eid_login_refused", "account "+string(acc.State)); err != nil {
			return Login{}, err
		}
		return Login{}, errs.E(errs.Forbidden, "this account is %s", acc.State)
	}
	if err := s.record(who, now, "eid_login", fmt.Sprintf("level %d", acc.Level)); err != nil {
		return Login{}, err
	}
	return Login{PID: pid, Level: acc.Level, Epoch: acc.epoch, AuthTime: now, SecondFactor: acc.TOTP}, nil
}

// record writes a login record; the caller fails when it cannot. It
// completes even when the client has gone away.
func (s *Service) record(ctx context.Context, now time.Time, action, detail string) error {
	return access.SecurityWrite(ctx, func(ctx context.Context) error {
		return s.db.InTx(ctx, func(tx *sql.Tx) error {
			return audit.WriteTx(ctx, tx, audit.NewEvent(ctx, now, action, "", detail))
		})
	})
}
