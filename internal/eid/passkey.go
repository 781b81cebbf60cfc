package eid

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/google/uuid"

	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/audit"
	"github.com/dancu-vn/dancu/internal/errs"
)

// RP is the WebAuthn relying party a ceremony runs for: the provider's
// host name and its origin (scheme, host and port), as the browser sees
// them.
type RP struct {
	ID     string // e.g. id.dancu.vn or localhost
	Origin string // e.g. https://id.dancu.vn or http://localhost:8080
}

// ceremonyTTL is how long a begun WebAuthn ceremony may take.
const ceremonyTTL = 5 * time.Minute

// Passkey is a registered passkey, without its key.
type Passkey struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	CreatedAt time.Time  `json:"created_at"`
	LastUsed  *time.Time `json:"last_used_at,omitempty"`
}

// webUser is an account as go-webauthn sees it. The user handle is the
// account's opaque subject, never the personal ID number.
type webUser struct {
	pid, subject string
	creds        []webauthn.Credential
}

func (u *webUser) WebAuthnID() []byte                         { return []byte(u.subject) }
func (u *webUser) WebAuthnName() string                       { return u.pid }
func (u *webUser) WebAuthnDisplayName() string                { return u.pid }
func (u *webUser) WebAuthnCredentials() []webauthn.Credential { return u.creds }

func (rp RP) webauthn() (*webauthn.WebAuthn, error) {
	if rp.ID == "" || rp.Origin == "" {
		return nil, errs.E(errs.Invalid, "passkeys need the provider's host name and origin")
	}
	return webauthn.New(&webauthn.Config{RPID: rp.ID, RPDisplayName: "dancu e-ID", RPOrigins: []string{rp.Origin}})
}

func (s *Service) webUser(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, pid string) (*webUser, Account, error) {
	acc, err := loadAccount(ctx, q, pid)
	if err != nil {
		return nil, acc, err
	}
	u := &webUser{pid: pid, subject: acc.Subject}
	rows, err := q.QueryContext(ctx, `SELECT credential FROM eid_passkey WHERE pid = $1 ORDER BY created_at`, pid)
	if err != nil {
		return nil, acc, err
	}
	defer rows.Close()
	for rows.Next() {
		var raw string
		var c webauthn.Credential
		if err := rows.Scan(&raw); err != nil {
			return nil, acc, err
		}
		if err := json.Unmarshal([]byte(raw), &c); err != nil {
			return nil, acc, err
		}
		u.creds = append(u.creds, c)
	}
	return u, acc, rows.Err()
}

func (s *Service) saveCeremony(ctx context.Context, pid string, data *webauthn.SessionData) (string, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return "", err
	}
	id := uuid.NewString()
	now := s.clock()
	_, err = s.db.ExecContext(ctx, `INSERT INTO webauthn_ceremony (id, pid, data, expires_at) VALUES ($1, $2, $3, $4)`, id, pid, string(raw), now.Add(ceremonyTTL))
	return id, err
}

// takeCeremony reads and deletes a ceremony: each is finished at most once.
func (s *Service) takeCeremony(ctx context.Context, id, pid string) (webauthn.SessionData, error) {
	var data webauthn.SessionData
	var raw, owner string
	var exp time.Time
	err := s.db.QueryRowContext(ctx, `DELETE FROM webauthn_ceremony WHERE id = $1 RETURNING pid, data, expires_at`, id).Scan(&owner, &raw, &exp)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && (owner != pid || !exp.After(s.clock()))) {
		return data, errs.Field("ceremony", "unknown or expired: start again")
	}
	if err != nil {
		return data, err
	}
	return data, json.Unmarshal([]byte(raw), &data)
}

// BeginPasskeyRegistration starts adding a passkey to the holder's own
// active account: the options go to navigator.credentials.create.
func (s *Service) BeginPasskeyRegistration(ctx context.Context, rp RP, pid string) (json.RawMessage, string, error) {
	if !self(ctx, pid) {
		return nil, "", errs.E(errs.Forbidden, "only the account holder adds a passkey")
	}
	wa, err := rp.webauthn()
	if err != nil {
		return nil, "", err
	}
	u, acc, err := s.webUser(ctx, s.db, pid)
	if err != nil {
		return nil, "", err
	}
	if acc.State != Active {
		return nil, "", errs.E(errs.Conflict, "the account %s is not active", pid)
	}
	if err := s.coolingRefusal(acc); err != nil {
		return nil, "", err
	}
	exclude := make([]protocol.CredentialDescriptor, len(u.creds))
	for i, c := range u.creds {
		exclude[i] = c.Descriptor()
	}
	creation, data, err := wa.BeginRegistration(u, webauthn.WithResidentKeyRequirement(protocol.ResidentKeyRequirementRequired),
		webauthn.WithExclusions(exclude), webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{
			ResidentKey: protocol.ResidentKeyRequirementRequired, RequireResidentKey: protocol.ResidentKeyRequired(),
			UserVerification: protocol.VerificationRequired}))
	if err != nil {
		return nil, "", err
	}
	id, err := s.saveCeremony(ctx, pid, data)
	if err != nil {
		return nil, "", err
	}
	opts, err := json.Marshal(creation)
	return opts, id, err
}

// FinishPasskeyRegistration checks the authenticator's answer and stores
// the passkey.
func (s *Service) FinishPasskeyRegistration(ctx context.Context, rp RP, pid, ceremony, name string, response []byte) (Passkey, error) {
	if !self(ctx, pid) {
		return Passkey{}, errs.E(errs.Forbidden, "only the account holder adds a passkey")
	}
	name = strings.TrimSpace(name)
	if name == "" || len([]rune(name)) > 100 {
		return Passkey{}, errs.Field("name", "must be 1 to 100 characters, e.g. \"my phone\"")
	}
	wa, err := rp.webauthn()
	if err != nil {
		return Passkey{}, err
	}
	data, err := s.takeCeremony(ctx, ceremony, pid)
	if err != nil {
		return Passkey{}, err
	}
	// Checked again at the finish: a ceremony begun before a recovery or
	// a lock does not add a passkey after it.
	acc, err := loadAccount(ctx, s.db, pid)
	if err != nil {
		return Passkey{}, err
	}
	if acc.State != Active {
		return Passkey{}, errs.E(errs.Conflict, "the account %s is not active", pid)
	}
	if err := s.coolingRefusal(acc); err != nil {
		return Passkey{}, err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBody(bytes.NewReader(response))
	if err != nil {
		return Passkey{}, errs.Field("credential", "not a WebAuthn registration response: %s", protocolReason(err))
	}
	u, _, err := s.webUser(ctx, s.db, pid)
	if err != nil {
		return Passkey{}, err
	}
	cred, err := wa.CreateCredential(u, data, parsed)
	if err != nil {
		return Passkey{}, errs.Field("credential", "refused: %s", protocolReason(err))
	}
	raw, err := json.Marshal(cred)
	if err != nil {
		return Passkey{}, err
	}
	now := s.clock()
	p := Passkey{ID: base64.RawURLEncoding.EncodeToString(cred.ID), Name: name, CreatedAt: now}
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO eid_passkey (id, pid, name, credential, created_at) VALUES ($1, $2, $3, $4, $5)`,
			p.ID, pid, name, string(raw), now); err != nil {
			return err
		}
		if err := s.factorNotice(ctx, tx, pid, "notice.factor.passkey.added", name); err != nil {
			return err
		}
		return audit.WriteTx(ctx, tx, audit.NewEvent(ctx, now, "eid_passkey_added", pid, name))
	})
	return p, err
}

func protocolReason(err error) string {
	var pe *protocol.Error
	if errors.As(err, &pe) && pe.Details != "" {
		return pe.Details
	}
	return err.Error()
}

// BeginPasskeyLogin starts a login with a passkey; the authenticator tells
// who is logging in.
func (s *Service) BeginPasskeyLogin(ctx context.Context, rp RP) (json.RawMessage, string, error) {
	wa, err := rp.webauthn()
	if err != nil {
		return nil, "", err
	}
	assertion, data, err := wa.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return nil, "", err
	}
	id, err := s.saveCeremony(ctx, "", data)
	if err != nil {
		return nil, "", err
	}
	opts, err := json.Marshal(assertion)
	return opts, id, err
}

// FinishPasskeyLogin checks a passkey assertion. A passkey with user
// verification is two factors in one (something held, and a PIN or a
// biometric on the device), so no authenticator code is asked after it.
func (s *Service) FinishPasskeyLogin(ctx context.Context, rp RP, ceremony string, response []byte) (Login, error) {
	source := sourceOfCtx(ctx)
	now := s.clock()
	refused := errs.E(errs.Unauthenticated, "the passkey was not accepted")
	wa, err := rp.webauthn()
	if err != nil {
		return Login{}, err
	}
	data, err := s.takeCeremony(ctx, ceremony, "")
	if err != nil {
		return Login{}, err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBody(bytes.NewReader(response))
	if err != nil {
		return Login{}, errs.Field("credential", "not a WebAuthn login response: %s", protocolReason(err))
	}
	var acc Account
	var user *webUser
	handler := func(_, userHandle []byte) (webauthn.User, error) {
		var pid string
		if err := s.db.QueryRowContext(ctx, `SELECT pid FROM eid_account WHERE subject = $1`, string(userHandle)).Scan(&pid); err != nil {
			return nil, fmt.Errorf("no account for this passkey")
		}
		u, a, err := s.webUser(ctx, s.db, pid)
		user, acc = u, a
		return u, err
	}
	cred, err := wa.ValidateDiscoverableLogin(handler, data, parsed)
	if err != nil || user == nil {
		who := actor.With(ctx, citizenActor("unknown", source))
		if user != nil {
			who = actor.With(ctx, citizenActor(user.pid, source))
		}
		if werr := s.record(who, now, "eid_login_failed", "passkey refused: "+protocolReason(errOr(err, "no account"))); werr != nil {
			return Login{}, werr
		}
		return Login{}, refused
	}
	who := actor.With(ctx, citizenActor(user.pid, source))
	if acc.State != Active {
		if err := s.record(who, now, "eid_login_refused", "account "+string(acc.State)); err != nil {
			return Login{}, err
		}
		return Login{}, errs.E(errs.Forbidden, "this account is %s", acc.State)
	}
	raw, _ := json.Marshal(cred)
	id := base64.RawURLEncoding.EncodeToString(cred.ID)
	if _, err := s.db.ExecContext(ctx, `UPDATE eid_passkey SET credential = $1, last_used_at = $2 WHERE id = $3 AND pid = $4`, string(raw), now, id, user.pid); err != nil {
		return Login{}, err
	}
	if err := s.record(who, now, "eid_login", fmt.Sprintf("level %d, passkey", acc.Level)); err != nil {
		return Login{}, err
	}
	return Login{PID: user.pid, Level: acc.Level, Epoch: acc.epoch, AuthTime: now, Passkey: true}, nil
}

func errOr(err error, msg string) error {
	if err != nil {
		return err
	}
	return errors.New(msg)
}

// Passkeys lists the holder's passkeys.
func (s *Service) Passkeys(ctx context.Context, pid string) ([]Passkey, error) {
	if !self(ctx, pid) {
		return nil, errs.E(errs.Forbidden, "only the account holder sees their passkeys")
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, name, created_at, last_used_at FROM eid_passkey WHERE pid = $1 ORDER BY created_at`, pid)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Passkey
	for rows.Next() {
		var p Passkey
		var last sql.NullTime
		if err := rows.Scan(&p.ID, &p.Name, &p.CreatedAt, &last); err != nil {
			return nil, err
		}
		p.CreatedAt = p.CreatedAt.UTC()
		if last.Valid {
			t := last.Time.UTC()
			p.LastUsed = &t
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// RemovePasskey deletes one of the holder's passkeys.
func (s *Service) RemovePasskey(ctx context.Context, pid, id string) error {
	if !self(ctx, pid) {
		return errs.E(errs.Forbidden, "only the account holder removes their passkeys")
	}
	now := s.clock()
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM eid_passkey WHERE id = $1 AND pid = $2`, id, pid)
		if n, _ := rowsAffected(res, err); n != 1 {
			if err != nil {
				return err
			}
			return errs.E(errs.NotFound, "no passkey %s", id)
		}
		if err := s.factorNotice(ctx, tx, pid, "notice.factor.passkey.removed"); err != nil {
			return err
		}
		return audit.WriteTx(ctx, tx, audit.NewEvent(ctx, now, "eid_passkey_removed", pid, id))
	})
}
