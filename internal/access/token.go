package access

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/audit"
	"github.com/dancu-vn/dancu/internal/errs"
)

// Token describes a bearer credential; the secret itself is shown once, at
// creation, and never stored.
type Token struct {
	ID         string     `json:"id"`
	Kind       string     `json:"kind"` // session or api
	Name       string     `json:"name"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// SessionTTL is how long a login lasts.
const SessionTTL = 12 * time.Hour

// API tokens always expire: DefaultTokenTTL when no lifetime is asked for,
// and never later than MaxTokenTTL after they were made (tokens made
// before this rule without an expiry are held to it too).
const (
	DefaultTokenTTL = 30 * 24 * time.Hour
	MaxTokenTTL     = 90 * 24 * time.Hour
)

const tokenPrefix = "dcu_"

func newSecret() (secret, hash string) {
	b := make([]byte, 32)
	rand.Read(b)
	secret = tokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	return secret, hashSecret(secret)
}

func hashSecret(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// Login checks a username and password and opens a session. Failures are
// slowed down by the login throttle (throttle.go), never locked out; the
// answer to an unknown name and to a wrong password is the same, and the
// account's state is told only to whoever knows the password. Every
// attempt is recorded; a login whose record or count cannot be written
// fails.
func (s *Service) Login(ctx context.Context, username, password string) (string, Token, error) {
	return s.LoginWithCode(ctx, username, password, "")
}

// LoginWithCode is Login for an officer who may have an authenticator app:
// when the account has one, its code is required as well.
func (s *Service) LoginWithCode(ctx context.Context, username, password, code string) (string, Token, error) {
	who, f, err := s.checkPassword(ctx, username, password)
	if err != nil {
		return "", Token{}, err
	}
	if f.enabled {
		if code == "" {
			return "", Token{}, errs.E(errs.Unauthenticated, "this account signs in with a code from its authenticator app as well: send it as otp")
		}
		if err := s.checkCode(actor.With(ctx, who), who.ID, code, false); err != nil {
			return "", Token{}, err
		}
	}
	var secret string
	var tok Token
	err = securityWrite(ctx, func(wctx context.Context) error {
		secret, tok, err = s.issue(actor.With(wctx, who), who.ID, "session", "login", SessionTTL, nil)
		return err
	})
	return secret, tok, err
}

// factorState is what a login needs to know of an officer's second factor.
type factorState struct {
	role    actor.Role
	enabled bool
}

// checkPassword checks a username and password under the login throttle.
// Every attempt is recorded; a login whose record or count cannot be
// written fails.
func (s *Service) checkPassword(ctx context.Context, username, password string) (*actor.Actor, factorState, error) {
	username = strings.ToLower(strings.TrimSpace(username))
	now := s.now().UTC()
	source := ""
	if src, ok := actor.From(ctx); ok {
		source = src.Source
	}
	refused := errs.E(errs.Unauthenticated, "wrong username or password")
	try, err := s.throttle.Begin(ctx, "officer", username, source)
	if err != nil {
		if errs.Is(err, errs.TooMany) {
			if werr := s.recordAuth(ctx, now, "login_refused", "throttled: "+username); werr != nil {
				return nil, factorState{}, werr
			}
		}
		return nil, factorState{}, err
	}
	var (
		id, hash string
		disabled bool
		f        factorState
	)
	err = s.db.QueryRowContext(ctx, `SELECT id, role, password_hash, disabled, totp_enabled FROM officer WHERE username = $1`,
		username).Scan(&id, &f.role, &hash, &disabled, &f.enabled)
	if errors.Is(err, sql.ErrNoRows) {
		VerifyPassword(dummyHash, password)
		if err := s.recordAuth(ctx, now, "login_failed", "unknown user "+username); err != nil {
			return nil, factorState{}, err
		}
		return nil, factorState{}, refused
	}
	if err != nil {
		return nil, factorState{}, fmt.Errorf("login: %w", err)
	}
	who := &actor.Actor{ID: id, Kind: actor.Officer, Name: username, Source: source}
	actx := actor.With(ctx, who)
	if !VerifyPassword(hash, password) {
		if err := s.recordAuth(actx, now, "login_failed", "wrong password"); err != nil {
			return nil, factorState{}, err
		}
		return nil, factorState{}, refused
	}
	if err := try.Succeeded(ctx); err != nil {
		return nil, factorState{}, fmt.Errorf("login throttle: %w", err)
	}
	if disabled {
		if err := s.recordAuth(actx, now, "login_refused", "account disabled"); err != nil {
			return nil, factorState{}, err
		}
		return nil, factorState{}, errs.E(errs.Unauthenticated, "this account is disabled")
	}
	return who, f, nil
}

// recordAuth records a login attempt; the caller fails when it cannot.
func (s *Service) recordAuth(ctx context.Context, now time.Time, action, detail string) error {
	return securityWrite(ctx, func(ctx context.Context) error {
		return s.db.InTx(ctx, func(tx *sql.Tx) error {
			return audit.WriteTx(ctx, tx, audit.NewEvent(ctx, now, action, "", detail))
		})
	})
}

// CreateToken gives the acting officer an API token for scripts, for ttl
// (0: DefaultTokenTTL; at most MaxTokenTTL).
func (s *Service) CreateToken(ctx context.Context, name string, ttl time.Duration) (string, Token, error) {
	a, ok := actor.From(ctx)
	if !ok || a.Kind != actor.Officer {
		return "", Token{}, errs.E(errs.Unauthenticated, "log in as an officer first")
	}
	name, err := checkToken(name, &ttl)
	if err != nil {
		return "", Token{}, err
	}
	return s.issue(ctx, a.ID, "api", name, ttl, nil)
}

// checkToken validates what an API token is for and how long it lasts; a
// negative ttl would otherwise mean no expiry at all.
func checkToken(name string, ttl *time.Duration) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 100 {
		return "", errs.Field("name", "must be 1–100 bytes")
	}
	switch {
	case *ttl < 0:
		return "", errs.Field("ttl", "must not be negative")
	case *ttl > MaxTokenTTL:
		return "", errs.Field("ttl", "must be at most %d days", int(MaxTokenTTL.Hours()/24))
	case *ttl == 0:
		*ttl = DefaultTokenTTL
	}
	return name, nil
}

// CreateTokenFor gives the named officer an API token; for the CLI, which
// acts as the system.
func (s *Service) CreateTokenFor(ctx context.Context, username, name string, ttl time.Duration) (string, Token, error) {
	if _, err := Require(ctx, ManageOfficers); err != nil {
		return "", Token{}, err
	}
	name, err := checkToken(name, &ttl)
	if err != nil {
		return "", Token{}, err
	}
	var id string
	err = s.db.QueryRowContext(ctx, `SELECT id FROM officer WHERE username = $1 AND NOT disabled`, strings.ToLower(username)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", Token{}, errs.E(errs.NotFound, "no active officer %q", username)
	}
	if err != nil {
		return "", Token{}, err
	}
	return s.issue(ctx, id, "api", name, ttl, nil)
}

func (s *Service) issue(ctx context.Context, officerID, kind, name string, ttl time.Duration, also func(*sql.Tx) error) (string, Token, error) {
	now := s.now().UTC()
	secret, hash := newSecret()
	t := Token{ID: uuid.Must(uuid.NewV7()).String(), Kind: kind, Name: name, CreatedAt: now}
	if ttl > 0 {
		exp := now.Add(ttl)
		t.ExpiresAt = &exp
	}
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO officer_token (id, officer_id, kind, name, secret_hash, created_at, expires_at)
			VALUES ($1,$2,$3,$4,$5,$6,$7)`, t.ID, officerID, kind, name, hash, now, t.ExpiresAt); err != nil {
			return err
		}
		if also != nil {
			if err := also(tx); err != nil {
				return err
			}
		}
		action := "token_create"
		if kind == "session" {
			action = "login"
		}
		return audit.WriteTx(ctx, tx, audit.NewEvent(ctx, now, action, "", kind+" token "+t.ID))
	})
	if err != nil {
		return "", Token{}, fmt.Errorf("issue token: %w", err)
	}
	return secret, t, nil
}

// Authenticate resolves a bearer secret to its officer. Returns
// Unauthenticated for an unknown, expired or revoked token or a disabled
// account.
func (s *Service) Authenticate(ctx context.Context, secret string) (*actor.Actor, error) {
	if !strings.HasPrefix(secret, tokenPrefix) || len(secret) > 200 {
		return nil, errs.E(errs.Unauthenticated, "not a dancu token")
	}
	now := s.now().UTC()
	var (
		a                 actor.Actor
		expires, lastUsed sql.NullTime
		created           time.Time
		revoked           sql.NullTime
		disabled          bool
		kind              string
	)
	a.Kind = actor.Officer
	err := s.db.QueryRowContext(ctx, `SELECT t.kind, t.id, t.created_at, t.expires_at, t.revoked_at, t.last_used_at, o.id, o.username, o.role,
		o.jurisdiction_level, o.jurisdiction_code, o.disabled
		FROM officer_token t JOIN officer o ON o.id = t.officer_id WHERE t.secret_hash = $1`, hashSecret(secret)).
		Scan(&kind, &a.TokenID, &created, &expires, &revoked, &lastUsed, &a.ID, &a.Name, &a.Role, &a.Jurisdiction.Level, &a.Jurisdiction.Code, &disabled)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, errs.E(errs.Unauthenticated, "unknown token")
	case err != nil:
		return nil, fmt.Errorf("authenticate: %w", err)
	case revoked.Valid:
		return nil, errs.E(errs.Unauthenticated, "this token was revoked")
	case expires.Valid && !expires.Time.After(now), !expires.Valid && !created.Add(MaxTokenTTL).After(now):
		return nil, errs.E(errs.Unauthenticated, "this token has expired: log in again")
	case disabled:
		return nil, errs.E(errs.Unauthenticated, "this account is disabled")
	case kind == pendingKind:
		// Half a console sign-in: the password was right, the second
		// factor is still to come. It opens nothing.
		return nil, errs.E(errs.Unauthenticated, "unknown token")
	case kind == consoleKind && idleSince(created, lastUsed).Add(ConsoleIdle).Before(now):
		return nil, errs.E(errs.Unauthenticated, "this session ended after %d minutes without use: sign in again", int(ConsoleIdle.Minutes()))
	}
	// Touch last_used_at at most once a minute: not a write per request.
	if !lastUsed.Valid || now.Sub(lastUsed.Time) > time.Minute {
		// Best effort, and never a wait behind another writer's lock.
		tctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		s.db.ExecContext(tctx, `UPDATE officer_token SET last_used_at = $1 WHERE id = $2`, now, a.TokenID)
		cancel()
	}
	return &a, nil
}

// ListTokens returns the acting officer's tokens.
func (s *Service) ListTokens(ctx context.Context) ([]Token, error) {
	a, ok := actor.From(ctx)
	if !ok || a.Kind != actor.Officer {
		return nil, errs.E(errs.Unauthenticated, "log in as an officer first")
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, kind, name, created_at, expires_at, last_used_at, revoked_at
		FROM officer_token WHERE officer_id = $1 ORDER BY id DESC LIMIT 200`, a.ID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Token{}
	for rows.Next() {
		var t Token
		var exp, used, rev sql.NullTime
		if err := rows.Scan(&t.ID, &t.Kind, &t.Name, &t.CreatedAt, &exp, &used, &rev); err != nil {
			return nil, err
		}
		t.ExpiresAt, t.LastUsedAt, t.RevokedAt = nullTime(exp), nullTime(used), nullTime(rev)
		out = append(out, t)
	}
	return out, rows.Err()
}

func nullTime(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	v := t.Time.UTC()
	return &v
}

// RevokeToken revokes one of the acting officer's tokens (an administrator
// may revoke anyone's). Logging out is revoking the session's own token.
func (s *Service) RevokeToken(ctx context.Context, id string) error {
	a, ok := actor.From(ctx)
	if !ok {
		return errs.E(errs.Unauthenticated, "log in first")
	}
	now := s.now().UTC()
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		var owner string
		err := tx.QueryRowContext(ctx, `SELECT officer_id FROM officer_token WHERE id = $1`, id).Scan(&owner)
		if errors.Is(err, sql.ErrNoRows) {
			return errs.E(errs.NotFound, "no token %q", id)
		}
		if err != nil {
			return err
		}
		if owner != a.ID {
			if _, err := Require(ctx, ManageOfficers); err != nil {
				return errs.E(errs.NotFound, "no token %q", id)
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE officer_token SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL`, now, id); err != nil {
			return err
		}
		return audit.WriteTx(ctx, tx, audit.NewEvent(ctx, now, "token_revoke", "", "token "+id))
	})
}
