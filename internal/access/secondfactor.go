package access

import (
	"context"
	"database/sql"
	"encoding/base32"
	"errors"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/audit"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/keyring"
)

// The officer console signs in in two steps: the password opens a pending
// ticket (a token that authenticates nothing, for PendingTTL), and the code
// of the officer's authenticator app turns it into a console session. An
// officer whose role needs a second factor and who has none enrols one
// with the ticket before the first session opens.
const (
	pendingKind = "pending"
	consoleKind = "console"

	// PendingTTL is how long the second step of a sign-in may take.
	PendingTTL = 5 * time.Minute
	// ConsoleTTL is the longest a console session lasts, used or not.
	ConsoleTTL = 10 * time.Hour
	// ConsoleIdle ends a console session that was not used for this long
	// (the last use is kept to the minute).
	ConsoleIdle = 30 * time.Minute
)

// totpPeriod: 6 digits, 30 s steps, one step of drift either way.
const totpPeriod = 30

func idleSince(created time.Time, lastUsed sql.NullTime) time.Time {
	if lastUsed.Valid && lastUsed.Time.After(created) {
		return lastUsed.Time
	}
	return created
}

// SecondFactorRequired reports whether officers of a role must sign in to
// the console with a second factor: those who change records and those who
// manage accounts.
func SecondFactorRequired(r actor.Role) bool { return r == actor.Admin || r == actor.Registrar }

// SetSealer gives the service the key that seals authenticator secrets;
// without one no officer can enrol an authenticator app.
func (s *Service) SetSealer(k keyring.Sealer) { s.sealer = k }

func officerTOTPAAD(id string) []byte { return []byte("officer_totp|" + id) }

// ConsoleStep is the answer to a console password: either a session, or a
// ticket for the second step.
type ConsoleStep struct {
	Session string // the session secret, when no second factor is asked
	Token   Token
	Ticket  string // the pending ticket, when one is
	// MustEnrol says the officer has no authenticator app and must set one
	// up (StartEnrolment) before the first session.
	MustEnrol bool
}

// ConsoleLogin checks a console sign-in's password, under the same
// throttle and records as Login.
func (s *Service) ConsoleLogin(ctx context.Context, username, password string) (ConsoleStep, error) {
	who, f, err := s.checkPassword(ctx, username, password)
	if err != nil {
		return ConsoleStep{}, err
	}
	var step ConsoleStep
	err = securityWrite(ctx, func(wctx context.Context) error {
		wctx = actor.With(wctx, who)
		if !f.enabled && !SecondFactorRequired(f.role) {
			step.Session, step.Token, err = s.issue(wctx, who.ID, consoleKind, "console", ConsoleTTL, nil)
			return err
		}
		step.MustEnrol = !f.enabled
		step.Ticket, _, err = s.issue(wctx, who.ID, pendingKind, "second factor", PendingTTL, nil)
		return err
	})
	return step, err
}

// pending resolves a ticket to its officer; it is refused once used,
// revoked or expired.
func (s *Service) pending(ctx context.Context, ticket string) (*actor.Actor, string, error) {
	var (
		a       actor.Actor
		tokenID string
		exp     sql.NullTime
		revoked sql.NullTime
		kind    string
	)
	a.Kind = actor.Officer
	err := s.db.QueryRowContext(ctx, `SELECT t.id, t.kind, t.expires_at, t.revoked_at, o.id, o.username, o.role FROM officer_token t
		JOIN officer o ON o.id = t.officer_id WHERE t.secret_hash = $1 AND NOT o.disabled`, hashSecret(ticket)).
		Scan(&tokenID, &kind, &exp, &revoked, &a.ID, &a.Name, &a.Role)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && (kind != pendingKind || revoked.Valid || !exp.Valid || !exp.Time.After(s.now()))) {
		return nil, "", errs.E(errs.Unauthenticated, "this sign-in has expired: enter your password again")
	}
	if err != nil {
		return nil, "", err
	}
	if src, ok := actor.From(ctx); ok {
		a.Source = src.Source
	}
	return &a, tokenID, nil
}

// TOTPEnrolment is what an authenticator app needs.
type TOTPEnrolment struct {
	Secret string `json:"secret"`
	URL    string `json:"url"` // otpauth://, to show as a QR code
}

// StartEnrolment makes a new authenticator secret for the officer of a
// pending ticket who has none turned on yet. It takes effect when
// CompleteLogin sees a code from the app.
func (s *Service) StartEnrolment(ctx context.Context, ticket string) (TOTPEnrolment, error) {
	who, _, err := s.pending(ctx, ticket)
	if err != nil {
		return TOTPEnrolment{}, err
	}
	if s.sealer == nil {
		return TOTPEnrolment{}, errs.E(errs.Unavailable, "no data key: authenticator apps cannot be set up")
	}
	opts := totp.GenerateOpts{Issuer: "dancu", AccountName: who.Name, Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}
	// An enrolment not yet confirmed keeps its key: the officer who
	// scanned it and mistyped a code does not have to scan again.
	var sealed []byte
	var enabled bool
	if err := s.db.QueryRowContext(ctx, `SELECT totp_sealed, totp_enabled FROM officer WHERE id = $1`, who.ID).Scan(&sealed, &enabled); err != nil {
		return TOTPEnrolment{}, err
	}
	if enabled {
		return TOTPEnrolment{}, errs.E(errs.Conflict, "an authenticator app is already set up for this account")
	}
	if sealed != nil {
		if prev, err := s.sealer.Open(sealed, officerTOTPAAD(who.ID)); err == nil {
			if raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(string(prev)); err == nil {
				opts.Secret = raw
			}
		}
	}
	key, err := totp.Generate(opts)
	if err != nil {
		return TOTPEnrolment{}, err
	}
	res, err := s.db.ExecContext(ctx, `UPDATE officer SET totp_sealed = $1, totp_last_step = 0, updated_at = $2 WHERE id = $3 AND NOT totp_enabled`,
		s.sealer.Seal([]byte(key.Secret()), officerTOTPAAD(who.ID)), s.now().UTC(), who.ID)
	if err != nil {
		return TOTPEnrolment{}, err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return TOTPEnrolment{}, errs.E(errs.Conflict, "an authenticator app is already set up for this account")
	}
	return TOTPEnrolment{Secret: key.Secret(), URL: key.URL()}, nil
}

// CompleteLogin checks the code of the officer's authenticator app (turning
// it on when the officer is enrolling) and opens a console session; the
// ticket is used up. Wrong codes count in the login throttle.
func (s *Service) CompleteLogin(ctx context.Context, ticket, code string) (string, Token, error) {
	who, ticketID, err := s.pending(ctx, ticket)
	if err != nil {
		return "", Token{}, err
	}
	ctx = actor.With(ctx, who)
	var enabled bool
	if err := s.db.QueryRowContext(ctx, `SELECT totp_enabled FROM officer WHERE id = $1`, who.ID).Scan(&enabled); err != nil {
		return "", Token{}, err
	}
	if err := s.checkCode(ctx, who.ID, code, !enabled); err != nil {
		return "", Token{}, err
	}
	var secret string
	var tok Token
	err = securityWrite(ctx, func(wctx context.Context) error {
		secret, tok, err = s.issue(wctx, who.ID, consoleKind, "console", ConsoleTTL, func(tx *sql.Tx) error {
			res, err := tx.ExecContext(wctx, `UPDATE officer_token SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL`, s.now().UTC(), ticketID)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n != 1 {
				return errs.E(errs.Unauthenticated, "this sign-in has expired: enter your password again")
			}
			return nil
		})
		return err
	})
	return secret, tok, err
}

// checkCode checks a code of the officer's authenticator app, once per time
// step; enrolling turns the app on.
func (s *Service) checkCode(ctx context.Context, officerID, code string, enrolling bool) error {
	if len(code) != 6 {
		return errs.Field("code", "must be the 6 digits the app shows")
	}
	now := s.now().UTC()
	try, err := s.throttle.Begin(ctx, "officer-totp", officerID, sourceOf(ctx))
	if err != nil {
		return err
	}
	var sealed []byte
	var enabled bool
	var last int64
	err = s.db.QueryRowContext(ctx, `SELECT totp_sealed, totp_enabled, totp_last_step FROM officer WHERE id = $1`, officerID).Scan(&sealed, &enabled, &last)
	if err != nil {
		return err
	}
	if sealed == nil || enabled == enrolling || s.sealer == nil {
		return errs.E(errs.Conflict, "no authenticator app to check: set one up first")
	}
	secret, err := s.sealer.Open(sealed, officerTOTPAAD(officerID))
	if err != nil {
		return err
	}
	step := int64(-1)
	for d := -1; d <= 1; d++ {
		t := now.Add(time.Duration(d*totpPeriod) * time.Second)
		if ok, _ := totp.ValidateCustom(code, string(secret), t, totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}); ok {
			step = t.Unix() / totpPeriod
			break
		}
	}
	if step < 0 || step <= last {
		if err := s.recordAuth(ctx, now, "login_failed", "wrong authenticator code"); err != nil {
			return err
		}
		return errs.Field("code", "wrong or already used code")
	}
	if err := try.Succeeded(ctx); err != nil {
		return err
	}
	return securityWrite(ctx, func(wctx context.Context) error {
		return s.db.InTx(wctx, func(tx *sql.Tx) error {
			res, err := tx.ExecContext(wctx, `UPDATE officer SET totp_last_step = $1, totp_enabled = TRUE WHERE id = $2 AND totp_last_step < $1`, step, officerID)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n != 1 {
				return errs.Field("code", "wrong or already used code")
			}
			action := "login_second_factor"
			if enrolling {
				action = "officer_totp_enabled"
			}
			return audit.WriteTx(wctx, tx, audit.NewEvent(wctx, now, action, "", ""))
		})
	})
}

// ResetSecondFactor removes an officer's authenticator app (an
// administrator's act, when the phone is lost); the next console sign-in
// enrols a new one. Every session of the officer ends.
func (s *Service) ResetSecondFactor(ctx context.Context, username string) error {
	a, err := Require(ctx, ManageOfficers)
	if err != nil {
		return err
	}
	now := s.now().UTC()
	return securityWrite(ctx, func(wctx context.Context) error {
		return s.db.InTx(wctx, func(tx *sql.Tx) error {
			o, err := s.managed(wctx, tx, a, strings.ToLower(username))
			if err != nil {
				return err
			}
			id := o.ID
			if _, err := tx.ExecContext(wctx, `UPDATE officer SET totp_sealed = NULL, totp_enabled = FALSE, totp_last_step = 0, updated_at = $1 WHERE id = $2`, now, id); err != nil {
				return err
			}
			if _, err := tx.ExecContext(wctx, `UPDATE officer_token SET revoked_at = $1 WHERE officer_id = $2 AND revoked_at IS NULL`, now, id); err != nil {
				return err
			}
			return audit.WriteTx(wctx, tx, audit.NewEvent(wctx, now, "officer_totp_reset", "", "officer "+username))
		})
	})
}

// SignOutEverywhere ends every session and token of the acting officer.
func (s *Service) SignOutEverywhere(ctx context.Context) error {
	a, ok := actor.From(ctx)
	if !ok || a.Kind != actor.Officer {
		return errs.E(errs.Unauthenticated, "log in as an officer first")
	}
	now := s.now().UTC()
	return securityWrite(ctx, func(wctx context.Context) error {
		return s.db.InTx(wctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(wctx, `UPDATE officer_token SET revoked_at = $1 WHERE officer_id = $2 AND revoked_at IS NULL`, now, a.ID); err != nil {
				return err
			}
			return audit.WriteTx(wctx, tx, audit.NewEvent(wctx, now, "logout_everywhere", "", ""))
		})
	})
}

// Language is the language the acting officer reads pages in.
func (s *Service) Language(ctx context.Context) string {
	a, ok := actor.From(ctx)
	if !ok || a.Kind != actor.Officer {
		return ""
	}
	var lang string
	if err := s.db.QueryRowContext(ctx, `SELECT lang FROM officer WHERE id = $1`, a.ID).Scan(&lang); err != nil {
		return ""
	}
	return lang
}

// SetLanguage remembers the acting officer's language ("vi" or "en").
func (s *Service) SetLanguage(ctx context.Context, lang string) error {
	a, ok := actor.From(ctx)
	if !ok || a.Kind != actor.Officer {
		return errs.E(errs.Unauthenticated, "log in as an officer first")
	}
	if lang != "vi" && lang != "en" {
		return errs.Field("lang", "must be vi or en")
	}
	_, err := s.db.ExecContext(ctx, `UPDATE officer SET lang = $1 WHERE id = $2`, lang, a.ID)
	return err
}

func sourceOf(ctx context.Context) string {
	if a, ok := actor.From(ctx); ok {
		return a.Source
	}
	return ""
}
