package sso

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/audit"
)

// Lifetimes.
const (
	AuthRequestTTL  = 15 * time.Minute // to log in and consent
	CodeTTL         = time.Minute      // to redeem an authorization code
	AccessTokenTTL  = 15 * time.Minute
	RefreshTokenTTL = 30 * 24 * time.Hour
)

// authRequest is one login transaction of the authorization code flow.
type authRequest struct {
	ID       string
	Req      oidc.AuthRequest
	Subject  string
	PID      string
	AuthTime time.Time
	ACRv     string
	AMRv     []string
	Epoch    int64
	Nonce    string // browser binding
	Pending  string // a second factor still to give
	IsDone   bool
	Expires  time.Time
	SID      string // the single sign-on session that authenticated it
	Redeemed bool   // its code was exchanged
}

func (a *authRequest) GetID() string                      { return a.ID }
func (a *authRequest) GetACR() string                     { return a.ACRv }
func (a *authRequest) GetAMR() []string                   { return a.AMRv }
func (a *authRequest) GetAudience() []string              { return []string{a.Req.ClientID} }
func (a *authRequest) GetAuthTime() time.Time             { return a.AuthTime }
func (a *authRequest) GetClientID() string                { return a.Req.ClientID }
func (a *authRequest) GetNonce() string                   { return a.Req.Nonce }
func (a *authRequest) GetRedirectURI() string             { return a.Req.RedirectURI }
func (a *authRequest) GetResponseType() oidc.ResponseType { return a.Req.ResponseType }
func (a *authRequest) GetResponseMode() oidc.ResponseMode { return a.Req.ResponseMode }
func (a *authRequest) GetScopes() []string                { return a.Req.Scopes }
func (a *authRequest) GetState() string                   { return a.Req.State }
func (a *authRequest) GetSubject() string                 { return a.Subject }
func (a *authRequest) Done() bool                         { return a.IsDone }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge {
	if a.Req.CodeChallenge == "" {
		return nil
	}
	return &oidc.CodeChallenge{Challenge: a.Req.CodeChallenge, Method: a.Req.CodeChallengeMethod}
}

// wantsLevel is the e-ID level this request needs: the client's minimum,
// raised by acr_values that ask only for level 2.
func (a *authRequest) wantsLevel(c *Client) int {
	level := c.MinLevel
	if len(a.Req.ACRValues) > 0 && !slices.Contains(a.Req.ACRValues, ACRLevel1) && slices.Contains(a.Req.ACRValues, ACRLevel2) {
		level = 2
	}
	return level
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// CreateAuthRequest stores a new login transaction. A public client must
// use PKCE with S256.
func (s *Service) CreateAuthRequest(ctx context.Context, req *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	c, err := s.client(ctx, req.ClientID)
	if err != nil {
		return nil, oidc.ErrInvalidClient().WithParent(err)
	}
	if c.AuthMethod() == oidc.AuthMethodNone && (req.CodeChallenge == "" || req.CodeChallengeMethod != oidc.CodeChallengeMethodS256) {
		return nil, oidc.ErrInvalidRequest().WithDescription("a public client must use PKCE with code_challenge_method=S256")
	}
	if req.CodeChallenge != "" && req.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return nil, oidc.ErrInvalidRequest().WithDescription("only code_challenge_method=S256 is supported")
	}
	if req.ResponseMode != "" && req.ResponseMode != oidc.ResponseModeQuery {
		return nil, oidc.ErrInvalidRequest().WithDescription("only response_mode=query is supported")
	}
	// Scopes are limited to the client's registration: op drops only the
	// unknown ones, so a client could otherwise ask for phone or address
	// it was never allowed.
	var scopes []string
	for _, sc := range req.Scopes {
		if c.IsScopeAllowed(sc) && !slices.Contains(scopes, sc) {
			scopes = append(scopes, sc)
		}
	}
	if !slices.Contains(scopes, oidc.ScopeOpenID) {
		return nil, oidc.ErrInvalidScope().WithDescription("the openid scope is required")
	}
	req.Scopes = scopes
	now := s.clock()
	a := &authRequest{ID: uuid.NewString(), Req: *req, Expires: now.Add(AuthRequestTTL)}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO oidc_auth_request (id, client_id, request, subject, pid, acr, amr, epoch, browser_nonce, done, created_at, expires_at)
		VALUES ($1, $2, $3, '', '', '', '', 0, '', false, $4, $5)`, a.ID, req.ClientID, string(body), now, a.Expires)
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	return a, nil
}

const authColumns = `id, request, subject, pid, auth_time, acr, amr, epoch, browser_nonce, pending, done, expires_at, sid, redeemed_at`

func scanAuth(row interface{ Scan(...any) error }) (*authRequest, error) {
	var a authRequest
	var body, amr string
	var at, redeemed sql.NullTime
	if err := row.Scan(&a.ID, &body, &a.Subject, &a.PID, &at, &a.ACRv, &amr, &a.Epoch, &a.Nonce, &a.Pending, &a.IsDone, &a.Expires, &a.SID, &redeemed); err != nil {
		return nil, err
	}
	a.Redeemed = redeemed.Valid
	if err := json.Unmarshal([]byte(body), &a.Req); err != nil {
		return nil, err
	}
	if at.Valid {
		a.AuthTime = at.Time.UTC()
	}
	if amr != "" {
		a.AMRv = strings.Split(amr, " ")
	}
	return &a, nil
}

func (s *Service) authRequest(ctx context.Context, id string) (*authRequest, error) {
	a, err := scanAuth(s.db.QueryRowContext(ctx, `SELECT `+authColumns+` FROM oidc_auth_request WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) || (err == nil && (a.Redeemed || !a.Expires.After(s.clock()))) {
		return nil, errors.New("the login request is unknown or has expired")
	}
	return a, err
}

// AuthRequestByID returns a live login transaction.
func (s *Service) AuthRequestByID(ctx context.Context, id string) (op.AuthRequest, error) {
	return s.authRequest(ctx, id)
}

// AuthRequestByCode returns the transaction of an unexpired, unredeemed
// code. A code redeemed before revokes what its first redemption issued
// (RFC 6749 §4.1.2): someone else has it.
func (s *Service) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	a, err := scanAuth(s.db.QueryRowContext(ctx, `SELECT `+authColumns+` FROM oidc_auth_request WHERE code_hash = $1`, hashSecret(code)))
	if err == nil && a.Redeemed {
		s.revokeRedemption(ctx, a.ID, a.PID)
		return nil, oidc.ErrInvalidGrant().WithDescription("the authorization code was already used: the tokens issued for it are revoked")
	}
	if errors.Is(err, sql.ErrNoRows) || (err == nil && (!a.IsDone || !a.Expires.After(s.clock()))) {
		return nil, oidc.ErrInvalidGrant().WithDescription("the authorization code is unknown, used or expired")
	}
	return a, err
}

// redeemedKept is how long a redeemed code is remembered, so that a
// second redemption revokes the tokens of the first.
const redeemedKept = RefreshTokenTTL

// redeem marks a login transaction's code as exchanged, with what the
// exchange issued; false if it was exchanged already.
func (s *Service) redeem(ctx context.Context, q interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, id, accessID, family string) (bool, error) {
	now := s.clock()
	res, err := q.ExecContext(ctx, `UPDATE oidc_auth_request SET redeemed_at = $1, access_id = $2, token_family = $3, expires_at = $4
		WHERE id = $5 AND redeemed_at IS NULL`, now, accessID, family, now.Add(redeemedKept), id)
	n, err := rowsAffected(res, err)
	return n == 1, err
}

// revokeRedemption revokes the access token and refresh tokens a code's
// first redemption issued.
// It is a security write: it completes when the client has gone away, and
// its failure fails the request.
func (s *Service) revokeRedemption(ctx context.Context, id, pid string) error {
	now := s.clock()
	return access.SecurityWrite(ctx, func(ctx context.Context) error { return s.revokeRedemptionTx(ctx, id, pid, now) })
}

func (s *Service) revokeRedemptionTx(ctx context.Context, id, pid string, now time.Time) error {
	var accessID, family string
	if err := s.db.QueryRowContext(ctx, `SELECT access_id, token_family FROM oidc_auth_request WHERE id = $1`, id).Scan(&accessID, &family); err != nil {
		return fmt.Errorf("revoke the tokens of a reused code: %w", err)
	}
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		if accessID != "" {
			if _, err := tx.ExecContext(ctx, `DELETE FROM oidc_access_token WHERE id = $1`, accessID); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO oidc_revoked_token (id, expires_at) VALUES ($1, $2) ON CONFLICT DO NOTHING`, accessID, now.Add(AccessTokenTTL)); err != nil {
				return err
			}
		}
		if family != "" {
			if _, err := tx.ExecContext(ctx, `UPDATE oidc_refresh_token SET revoked_at = $1 WHERE family = $2 AND revoked_at IS NULL`, now, family); err != nil {
				return err
			}
		}
		return audit.WriteTx(ctx, tx, audit.NewEvent(actor.With(ctx, actor.SystemActor("sso")), now, "oidc_code_reused", pid, id))
	})
	if err != nil {
		return fmt.Errorf("revoke the tokens of a reused code: %w", err)
	}
	return nil
}

// SaveAuthCode attaches the code to a completed transaction; the code is
// valid for CodeTTL.
func (s *Service) SaveAuthCode(ctx context.Context, id, code string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE oidc_auth_request SET code_hash = $1, expires_at = $2 WHERE id = $3 AND done AND code_hash IS NULL`,
		hashSecret(code), s.clock().Add(CodeTTL), id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return errors.New("the login request is not complete or already has a code")
	}
	return nil
}

// DeleteAuthRequest is called by op once a code is redeemed. The
// transaction is kept, marked redeemed (by the token creation, in the same
// transaction as the tokens), so that a second redemption is recognised.
func (s *Service) DeleteAuthRequest(ctx context.Context, id string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE oidc_auth_request SET redeemed_at = $1 WHERE id = $2 AND redeemed_at IS NULL`, s.clock(), id)
	return err
}

// tokenRequest is a client-credentials grant.
type tokenRequest struct {
	subject string
	scopes  []string
}

func (t *tokenRequest) GetSubject() string    { return t.subject }
func (t *tokenRequest) GetAudience() []string { return []string{t.subject} }
func (t *tokenRequest) GetScopes() []string   { return t.scopes }

// refreshRequest is a refresh-token grant.
type refreshRequest struct {
	hash, family, clientID, subject, pid string
	scopes, audience, amr                []string
	acr                                  string
	authTime                             time.Time
	epoch                                int64
}

func (r *refreshRequest) GetAMR() []string             { return r.amr }
func (r *refreshRequest) GetAudience() []string        { return r.audience }
func (r *refreshRequest) GetAuthTime() time.Time       { return r.authTime }
func (r *refreshRequest) GetClientID() string          { return r.clientID }
func (r *refreshRequest) GetScopes() []string          { return r.scopes }
func (r *refreshRequest) GetSubject() string           { return r.subject }
func (r *refreshRequest) SetCurrentScopes(sc []string) { r.scopes = sc }

// citizenGrant is what a token for a citizen carries, from either kind of
// request.
type citizenGrant struct {
	clientID, subject, pid, acr string
	scopes, audience, amr       []string
	authTime                    time.Time
	epoch                       int64
	family                      string
}

func grantOf(req op.TokenRequest) (citizenGrant, bool) {
	switch r := req.(type) {
	case *authRequest:
		return citizenGrant{clientID: r.Req.ClientID, subject: r.Subject, pid: r.PID, acr: r.ACRv, scopes: r.Req.Scopes,
			audience: r.GetAudience(), amr: r.AMRv, authTime: r.AuthTime, epoch: r.Epoch}, true
	case *refreshRequest:
		return citizenGrant{clientID: r.clientID, subject: r.subject, pid: r.pid, acr: r.acr, scopes: r.scopes,
			audience: r.audience, amr: r.amr, authTime: r.authTime, epoch: r.epoch, family: r.family}, true
	}
	return citizenGrant{}, false
}

// CreateAccessToken returns the ID and expiry of a new access token. Tokens
// for citizens are recorded (for userinfo and revocation); client
// credentials tokens are not, so that agencies' token requests cost no
// write.
func (s *Service) CreateAccessToken(ctx context.Context, req op.TokenRequest) (string, time.Time, error) {
	now := s.clock()
	exp := now.Add(AccessTokenTTL)
	id := uuid.NewString()
	g, ok := grantOf(req)
	if !ok {
		return id, exp, nil
	}
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		if a, ok := req.(*authRequest); ok {
			if ok, err := s.redeem(ctx, tx, a.ID, id, ""); err != nil || !ok {
				if err == nil {
					err = oidc.ErrInvalidGrant().WithDescription("the authorization code was already used")
				}
				return err
			}
		}
		return s.storeAccess(ctx, tx, id, g, exp)
	})
	if err != nil {
		return "", time.Time{}, err
	}
	return id, exp, nil
}

func (s *Service) storeAccess(ctx context.Context, q interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, id string, g citizenGrant, exp time.Time) error {
	_, err := q.ExecContext(ctx, `INSERT INTO oidc_access_token (id, client_id, subject, pid, scopes, epoch, expires_at, family) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)`,
		id, g.clientID, g.subject, g.pid, strings.Join(g.scopes, " "), g.epoch, exp, g.family)
	return err
}

// CreateAccessAndRefreshTokens issues an access token and a refresh token.
// Given the refresh token being redeemed, it rotates: the old one is marked
// used in the same transaction, and if it was used already (two redemptions
// racing, or a stolen token replayed) the whole family is revoked.
func (s *Service) CreateAccessAndRefreshTokens(ctx context.Context, req op.TokenRequest, current string) (string, string, time.Time, error) {
	g, ok := grantOf(req)
	if !ok {
		return "", "", time.Time{}, oidc.ErrUnsupportedGrantType().WithDescription("refresh tokens are only issued to citizens' logins")
	}
	now := s.clock()
	exp := now.Add(AccessTokenTTL)
	id, refresh := uuid.NewString(), randomToken()
	if g.family == "" {
		g.family = uuid.NewString()
	}
	reused, codeReused := false, false
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		reused, codeReused = false, false
		if a, ok := req.(*authRequest); ok {
			ok, err := s.redeem(ctx, tx, a.ID, id, g.family)
			if err != nil {
				return err
			}
			if !ok {
				codeReused = true
				return nil
			}
		}
		if current != "" {
			res, err := tx.ExecContext(ctx, `UPDATE oidc_refresh_token SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND revoked_at IS NULL`,
				now, hashSecret(current))
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n != 1 {
				reused = true
				return nil
			}
		}
		if err := s.storeAccess(ctx, tx, id, g, exp); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO oidc_refresh_token (token_hash, family, client_id, subject, pid, scopes, audience, acr, amr,
			auth_time, epoch, created_at, expires_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)`,
			hashSecret(refresh), g.family, g.clientID, g.subject, g.pid, strings.Join(g.scopes, " "), strings.Join(g.audience, " "),
			g.acr, strings.Join(g.amr, " "), g.authTime, g.epoch, now, now.Add(RefreshTokenTTL))
		return err
	})
	if err != nil {
		return "", "", time.Time{}, err
	}
	if codeReused {
		a := req.(*authRequest)
		if err := s.revokeRedemption(ctx, a.ID, a.PID); err != nil {
			return "", "", time.Time{}, err
		}
		return "", "", time.Time{}, oidc.ErrInvalidGrant().WithDescription("the authorization code was already used: the tokens issued for it are revoked")
	}
	if reused {
		if err := s.revokeFamily(ctx, g.family, g.pid, "refresh token used twice"); err != nil {
			return "", "", time.Time{}, err
		}
		return "", "", time.Time{}, oidc.ErrInvalidGrant().WithDescription("the refresh token was already used: every token of this login is revoked")
	}
	return id, refresh, exp, nil
}

// revokeFamily revokes every refresh token of a login and its access
// tokens. It is a security write: it completes when the client has gone
// away, and its failure fails the request.
func (s *Service) revokeFamily(ctx context.Context, family, pid, why string) error {
	now := s.clock()
	return access.SecurityWrite(ctx, func(ctx context.Context) error { return s.revokeFamilyTx(ctx, family, pid, why, now) })
}

func (s *Service) revokeFamilyTx(ctx context.Context, family, pid, why string, now time.Time) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE oidc_refresh_token SET revoked_at = $1 WHERE family = $2 AND revoked_at IS NULL`, now, family); err != nil {
			return err
		}
		// The access tokens of the same grant end too (RFC 7009 §2.1).
		if _, err := tx.ExecContext(ctx, `DELETE FROM oidc_access_token WHERE family = $1`, family); err != nil {
			return err
		}
		return audit.WriteTx(ctx, tx, audit.NewEvent(actor.With(ctx, actor.SystemActor("sso")), now, "oidc_refresh_revoked", pid, why))
	})
}

// TokenRequestByRefreshToken checks a refresh token: known, unexpired, not
// revoked, not used before (a second use revokes its family), and the
// account still active with no "log out everywhere" since the login.
func (s *Service) TokenRequestByRefreshToken(ctx context.Context, token string) (op.RefreshTokenRequest, error) {
	var r refreshRequest
	var scopes, aud, amr string
	var used, revoked sql.NullTime
	var expires time.Time
	r.hash = hashSecret(token)
	err := s.db.QueryRowContext(ctx, `SELECT family, client_id, subject, pid, scopes, audience, acr, amr, auth_time, epoch, expires_at, used_at, revoked_at
		FROM oidc_refresh_token WHERE token_hash = $1`, r.hash).Scan(&r.family, &r.clientID, &r.subject, &r.pid, &scopes, &aud, &r.acr, &amr,
		&r.authTime, &r.epoch, &expires, &used, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, op.ErrInvalidRefreshToken
	}
	if err != nil {
		return nil, err
	}
	if used.Valid && !revoked.Valid {
		if err := s.revokeFamily(ctx, r.family, r.pid, "refresh token used twice"); err != nil {
			return nil, err
		}
	}
	if used.Valid || revoked.Valid || !expires.After(s.clock()) {
		return nil, op.ErrInvalidRefreshToken
	}
	if ok, err := s.eid.SessionValid(ctx, r.pid, r.epoch); err != nil || !ok {
		return nil, op.ErrInvalidRefreshToken
	}
	r.scopes, r.audience, r.amr = strings.Fields(scopes), strings.Fields(aud), strings.Fields(amr)
	r.authTime = r.authTime.UTC()
	return &r, nil
}

// TerminateSession ends a citizen's tokens at one client (RP-initiated
// logout).
func (s *Service) TerminateSession(ctx context.Context, subject, clientID string) error {
	now := s.clock()
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE oidc_refresh_token SET revoked_at = $1 WHERE subject = $2 AND client_id = $3 AND revoked_at IS NULL`,
			now, subject, clientID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM oidc_access_token WHERE subject = $1 AND client_id = $2`, subject, clientID)
		return err
	})
}

// RevokeToken revokes a refresh token (with its family) or an access token.
// op passes a refresh token as the hash GetRefreshTokenInfo returned, an
// access token as its ID (jti) with its subject, and an unknown token as
// given.
func (s *Service) RevokeToken(ctx context.Context, tokenOrID, userID, clientID string) *oidc.Error {
	now := s.clock()
	var family, owner, pid string
	err := s.db.QueryRowContext(ctx, `SELECT family, client_id, pid FROM oidc_refresh_token WHERE token_hash = $1 OR token_hash = $2`,
		tokenOrID, hashSecret(tokenOrID)).Scan(&family, &owner, &pid)
	if err == nil {
		if owner != clientID {
			return oidc.ErrInvalidClient().WithDescription("the token was not issued to this client")
		}
		if err := s.revokeFamily(ctx, family, pid, "revoked by the client"); err != nil {
			return oidc.ErrServerError().WithParent(err)
		}
		return nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return oidc.ErrServerError().WithParent(err)
	}
	if userID != "" {
		var holder string
		err := s.db.QueryRowContext(ctx, `SELECT client_id FROM oidc_access_token WHERE id = $1`, tokenOrID).Scan(&holder)
		if err == nil && holder != clientID {
			return oidc.ErrInvalidClient().WithDescription("the token was not issued to this client")
		}
		if errors.Is(err, sql.ErrNoRows) && userID != clientID {
			return nil // RFC 7009: an unknown or expired token is not an error
		}
		err = s.db.InTx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `DELETE FROM oidc_access_token WHERE id = $1`, tokenOrID); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO oidc_revoked_token (id, expires_at) VALUES ($1, $2) ON CONFLICT DO NOTHING`, tokenOrID, now.Add(AccessTokenTTL))
			return err
		})
		if err != nil {
			return oidc.ErrServerError().WithParent(err)
		}
		return nil
	}
	return nil // RFC 7009: an unknown token is not an error
}

// GetRefreshTokenInfo identifies a refresh token for revocation.
func (s *Service) GetRefreshTokenInfo(ctx context.Context, clientID, token string) (string, string, error) {
	var subject, owner string
	h := hashSecret(token)
	err := s.db.QueryRowContext(ctx, `SELECT subject, client_id FROM oidc_refresh_token WHERE token_hash = $1`, h).Scan(&subject, &owner)
	if err != nil || owner != clientID {
		return "", "", op.ErrInvalidRefreshToken
	}
	return subject, h, nil
}

// GetClientByClientID loads a relying party.
func (s *Service) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	return s.client(ctx, id)
}

// AuthorizeClientIDSecret checks a client's secret.
func (s *Service) AuthorizeClientIDSecret(ctx context.Context, id, secret string) error {
	c, err := s.client(ctx, id)
	if err != nil {
		return err
	}
	if !c.checkSecret(secret) {
		return errors.New("wrong client secret")
	}
	return nil
}

// ClientCredentials authenticates a service client for the client
// credentials grant.
func (s *Service) ClientCredentials(ctx context.Context, id, secret string) (op.Client, error) {
	c, err := s.client(ctx, id)
	if err != nil {
		return nil, err
	}
	if !c.checkSecret(secret) {
		return nil, errors.New("wrong client secret")
	}
	if !slices.Contains(c.Grants, string(oidc.GrantTypeClientCredentials)) {
		return nil, errors.New("this client may not use client credentials")
	}
	return c, nil
}

// ClientCredentialsTokenRequest is the grant of a service client: the
// scopes it asked for that it is allowed.
func (s *Service) ClientCredentialsTokenRequest(ctx context.Context, id string, scopes []string) (op.TokenRequest, error) {
	c, err := s.client(ctx, id)
	if err != nil {
		return nil, err
	}
	var granted []string
	for _, sc := range scopes {
		if c.IsScopeAllowed(sc) {
			granted = append(granted, sc)
		}
	}
	return &tokenRequest{subject: id, scopes: granted}, nil
}

// accessToken is what userinfo and introspection need of a token.
type accessToken struct {
	clientID, subject, pid string
	scopes                 []string
	epoch                  int64
}

func (s *Service) accessToken(ctx context.Context, id, subject string) (accessToken, error) {
	var t accessToken
	var scopes string
	var exp time.Time
	err := s.db.QueryRowContext(ctx, `SELECT client_id, subject, pid, scopes, epoch, expires_at FROM oidc_access_token WHERE id = $1`, id).
		Scan(&t.clientID, &t.subject, &t.pid, &scopes, &t.epoch, &exp)
	if err != nil || t.subject != subject || !exp.After(s.clock()) {
		return t, errors.New("the access token is unknown, revoked or expired")
	}
	if ok, err := s.eid.SessionValid(ctx, t.pid, t.epoch); err != nil || !ok {
		return t, errors.New("the login has ended")
	}
	t.scopes = strings.Fields(scopes)
	return t, nil
}

// SetUserinfoFromScopes is deprecated in op; SetUserinfoFromRequest does
// the work.
func (s *Service) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

// SetUserinfoFromRequest fills the ID token's claims. It holds only the
// subject and the authentication (with the session's sid); the data goes
// through userinfo. op sets acr only for a login, so a refreshed ID token
// gets the login's acr here.
func (s *Service) SetUserinfoFromRequest(_ context.Context, info *oidc.UserInfo, req op.IDTokenRequest, _ []string) error {
	info.Subject = req.GetSubject()
	switch r := req.(type) {
	case *authRequest:
		if r.SID != "" {
			info.AppendClaims("sid", r.SID)
		}
	case *refreshRequest:
		if r.acr != "" {
			info.AppendClaims("acr", r.acr)
		}
	}
	return nil
}

// SetUserinfoFromToken fills userinfo for an access token from the
// registry, by the token's scopes.
func (s *Service) SetUserinfoFromToken(ctx context.Context, info *oidc.UserInfo, tokenID, subject, _ string) error {
	t, err := s.accessToken(ctx, tokenID, subject)
	if err != nil {
		return err
	}
	return s.fillClaims(ctx, info, t)
}

// SetIntrospectionFromToken answers token introspection.
func (s *Service) SetIntrospectionFromToken(ctx context.Context, resp *oidc.IntrospectionResponse, tokenID, subject, clientID string) error {
	t, err := s.accessToken(ctx, tokenID, subject)
	if err != nil {
		return err
	}
	resp.Active, resp.Scope, resp.ClientID, resp.Subject = true, t.scopes, t.clientID, t.subject
	return nil
}

// GetPrivateClaimsFromScopes adds nothing to access tokens.
func (s *Service) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

// GetKeyByIDAndClientID returns a public key of a private_key_jwt client.
func (s *Service) GetKeyByIDAndClientID(ctx context.Context, keyID, clientID string) (*jose.JSONWebKey, error) {
	c, err := s.client(ctx, clientID)
	if err != nil {
		return nil, err
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal([]byte(c.jwks), &set); err != nil {
		return nil, fmt.Errorf("client %s has no usable key set", clientID)
	}
	for _, k := range set.Key(keyID) {
		if k.IsPublic() {
			return &k, nil
		}
	}
	return nil, fmt.Errorf("client %s has no key %q", clientID, keyID)
}

// ValidateJWTProfileScopes: the JWT profile grant is not offered.
func (s *Service) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, oidc.ErrUnsupportedGrantType()
}

// Health reports whether the store answers.
func (s *Service) Health(ctx context.Context) error { return s.db.PingContext(ctx) }
