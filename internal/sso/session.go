package sso

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/google/uuid"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/audit"
)

// Single sign-on session timeouts, the defaults of Config.SessionIdle and
// Config.SessionMax: a browser that logged in is not asked for the
// password again by the next relying party until it has been idle for
// SessionIdle, or SessionMax after the login, whichever comes first.
const (
	DefaultSessionIdle = 30 * time.Minute
	DefaultSessionMax  = 8 * time.Hour
)

// session is a browser's single sign-on session at the provider.
type session struct {
	hash, sid, pid, subject, acr string
	amr                          []string
	authTime                     time.Time
	epoch                        int64
}

// level is the e-ID level the session was established at.
func (se *session) level() int {
	if se.acr == ACRLevel2 {
		return 2
	}
	return 1
}

// cookieName is __Host- prefixed when the issuer is https, so that the
// cookie is bound to this host, secure and path /.
func (s *Service) cookieName() string {
	if s.secureCookies {
		return "__Host-dancu_sso"
	}
	return "dancu_sso"
}

// startSession establishes the session of a complete authentication
// (every factor given) and sets its cookie. The same citizen logging in
// again in this browser (prompt=login, max_age, a step-up) keeps the
// session and its sid, so that its relying parties stay one session for
// logout, with the new authentication and a fresh absolute timeout;
// another citizen's session in this browser ends. The cookie value is a
// new 256-bit random token each time (no fixation); only its SHA-256 is
// stored.
func (s *Service) startSession(ctx context.Context, w http.ResponseWriter, r *http.Request, pid, subject, acr string, amr []string,
	authTime time.Time, epoch int64) (string, error) {
	now := s.clock()
	value, sid := randomToken(), uuid.NewString()
	var ended string
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		sid, ended = uuid.NewString(), ""
		if old := cookie(r, s.cookieName()); old != "" {
			var oldSID, oldPID string
			var oldEpoch int64
			var lastSeen, expires time.Time
			err := tx.QueryRowContext(ctx, `SELECT sid, pid, epoch, last_seen, expires_at FROM oidc_session WHERE id_hash = $1 AND ended_at IS NULL`,
				hashSecret(old)).Scan(&oldSID, &oldPID, &oldEpoch, &lastSeen, &expires)
			live := err == nil && oldEpoch == epoch && expires.After(now) && lastSeen.Add(s.sessionIdle).After(now)
			switch {
			case live && oldPID == pid:
				_, err := tx.ExecContext(ctx, `UPDATE oidc_session SET id_hash = $1, acr = $2, amr = $3, auth_time = $4, epoch = $5, last_seen = $6,
					expires_at = $7 WHERE sid = $8`, hashSecret(value), acr, strings.Join(amr, " "), authTime, epoch, now, now.Add(s.sessionMax), oldSID)
				sid = oldSID
				return err
			case err == nil:
				ended = oldSID
			case !errors.Is(err, sql.ErrNoRows):
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO oidc_session (id_hash, sid, pid, subject, acr, amr, auth_time, epoch, created_at, last_seen, expires_at)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$9,$10)`, hashSecret(value), sid, pid, subject, acr, strings.Join(amr, " "), authTime, epoch, now, now.Add(s.sessionMax))
		return err
	})
	if err != nil {
		return "", err
	}
	if ended != "" {
		if err := s.endSession(ctx, ended, "another citizen logged in in this browser"); err != nil {
			s.log.Error("sso session: end the previous one", "err", err)
		}
	}
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(), Value: value, Path: "/", HttpOnly: true, Secure: s.secureCookies,
		SameSite: http.SameSiteLaxMode, MaxAge: int(s.sessionMax.Seconds())})
	return sid, nil
}

// currentSession returns the browser's live session: known, not ended,
// not idle longer than SessionIdle, not older than SessionMax, and the
// account's session epoch unchanged (so "log out everywhere", a lock or a
// revocation ends it). Using it counts as activity.
func (s *Service) currentSession(ctx context.Context, r *http.Request) (*session, bool) {
	value := cookie(r, s.cookieName())
	if value == "" {
		return nil, false
	}
	now := s.clock()
	var se session
	var amr string
	var lastSeen, expires time.Time
	var ended sql.NullTime
	se.hash = hashSecret(value)
	err := s.db.QueryRowContext(ctx, `SELECT sid, pid, subject, acr, amr, auth_time, epoch, last_seen, expires_at, ended_at FROM oidc_session WHERE id_hash = $1`,
		se.hash).Scan(&se.sid, &se.pid, &se.subject, &se.acr, &amr, &se.authTime, &se.epoch, &lastSeen, &expires, &ended)
	if err != nil || ended.Valid || !expires.After(now) || !lastSeen.Add(s.sessionIdle).After(now) {
		return nil, false
	}
	if ok, err := s.eid.SessionValid(ctx, se.pid, se.epoch); err != nil || !ok {
		return nil, false
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE oidc_session SET last_seen = $1 WHERE id_hash = $2`, now, se.hash); err != nil {
		s.log.Error("sso session: last seen", "err", err)
	}
	se.amr, se.authTime = strings.Fields(amr), se.authTime.UTC()
	return &se, true
}

// hintSubject is the sub of an id_token_hint op has verified already.
func hintSubject(hint string) string {
	parts := strings.Split(hint, ".")
	if len(parts) != 3 {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var c struct {
		Sub string `json:"sub"`
	}
	if json.Unmarshal(b, &c) != nil {
		return ""
	}
	return c.Sub
}

func hasPrompt(a *authRequest, p string) bool { return slices.Contains(a.Req.Prompt, p) }

// satisfies reports whether a session may complete the request without a
// new login: the level it was established at is enough (acr_values and the
// client's minimum; a lower one needs a step-up), and it is no older than
// max_age (prompt=login sets max_age to 0).
func (s *Service) satisfies(se *session, a *authRequest, c *Client) bool {
	if se.level() < a.wantsLevel(c) {
		return false
	}
	// An id_token_hint (verified by op at the authorization endpoint) for
	// another citizen than the session's: not this session (OIDC Core
	// §3.1.2.1).
	if sub := hintSubject(a.Req.IDTokenHint); sub != "" && sub != se.subject {
		return false
	}
	if ma := a.Req.MaxAge; ma != nil && (*ma == 0 || s.clock().Sub(se.authTime) > time.Duration(*ma)*time.Second) {
		return false
	}
	return true
}

// resume completes a login request from the browser's session: the
// request takes the session's authentication, then consent (or
// consent_required with prompt=none).
func (s *Service) resume(w http.ResponseWriter, r *http.Request, a *authRequest, c *Client, d pageData, se *session) {
	nonce := randomToken()
	res, err := s.db.ExecContext(r.Context(), `UPDATE oidc_auth_request SET subject = $1, pid = $2, auth_time = $3, acr = $4, amr = $5, epoch = $6,
		browser_nonce = $7, pending = '', sid = $8 WHERE id = $9 AND NOT done`, se.subject, se.pid, se.authTime, se.acr, strings.Join(se.amr, " "), se.epoch, nonce, se.sid, a.ID)
	if n, _ := rowsAffected(res, err); n != 1 {
		d.Error, d.ID = translate(d.Lang, "err.expired"), ""
		s.render(w, http.StatusBadRequest, "refused", d)
		return
	}
	a.PID, a.Subject, a.Nonce, a.SID = se.pid, se.subject, nonce, se.sid
	http.SetCookie(w, &http.Cookie{Name: "dancu_login", Value: nonce, Path: s.loginPath, HttpOnly: true, Secure: s.secureCookies,
		SameSite: http.SameSiteStrictMode, MaxAge: int(AuthRequestTTL.Seconds())})
	s.consentOrComplete(w, r, a, c, d, se.pid)
}

// errConsentRequired is the answer to prompt=none when the citizen has not
// consented to what the client asks.
func errConsentRequired() *oidc.Error {
	return &oidc.Error{ErrorType: "consent_required", Description: "the citizen has not consented to these scopes for this client"}
}

type sessionCookieKey struct{}

// endSessionHandler passes RP-initiated logout to op with the browser's
// session cookie in the context (TerminateSessionFromRequest ends it),
// and removes the cookie.
func (s *Service) endSessionHandler(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if v := cookie(r, s.cookieName()); v != "" {
		ctx = context.WithValue(ctx, sessionCookieKey{}, hashSecret(v))
	}
	http.SetCookie(w, &http.Cookie{Name: s.cookieName(), Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.secureCookies, SameSite: http.SameSiteLaxMode})
	s.provider.ServeHTTP(w, r.WithContext(ctx))
}

// TerminateSessionFromRequest ends an RP-initiated logout: the client's
// tokens for the citizen are revoked, and the single sign-on session ends
// — the browser's own (its cookie), or the one the id_token_hint names
// (sid) — and every other relying party of that session with a
// back-channel logout URI is told.
func (s *Service) TerminateSessionFromRequest(ctx context.Context, req *op.EndSessionRequest) (string, error) {
	if req.UserID != "" && req.ClientID != "" {
		if err := s.TerminateSession(ctx, req.UserID, req.ClientID); err != nil {
			return "", err
		}
	}
	var sids []string
	if h, ok := ctx.Value(sessionCookieKey{}).(string); ok {
		var sid string
		if err := s.db.QueryRowContext(ctx, `SELECT sid FROM oidc_session WHERE id_hash = $1 AND ended_at IS NULL`, h).Scan(&sid); err == nil {
			sids = append(sids, sid)
		}
	}
	if req.IDTokenHintClaims != nil {
		if sid, _ := req.IDTokenHintClaims.Claims["sid"].(string); sid != "" && !slices.Contains(sids, sid) {
			sids = append(sids, sid)
		}
	}
	for _, sid := range sids {
		if err := s.endSession(ctx, sid, "logout"); err != nil {
			return "", err
		}
	}
	return req.RedirectURI, nil
}

type sessionClient struct{ clientID, subject string }

// endSession ends a session and sends a logout token to each of its
// relying parties that registered a back-channel logout URI.
func (s *Service) endSession(ctx context.Context, sid, why string) error {
	now := s.clock()
	var pid string
	var clients []sessionClient
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		clients = nil
		err := tx.QueryRowContext(ctx, `UPDATE oidc_session SET ended_at = $1 WHERE sid = $2 AND ended_at IS NULL RETURNING pid`, now, sid).Scan(&pid)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT client_id, subject FROM oidc_session_client WHERE sid = $1 ORDER BY client_id`, sid)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var c sessionClient
			if err := rows.Scan(&c.clientID, &c.subject); err != nil {
				return err
			}
			clients = append(clients, c)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		return audit.WriteTx(ctx, tx, audit.NewEvent(actor.With(ctx, actor.SystemActor("sso")), now, "oidc_session_end", pid, why))
	})
	if err != nil {
		return err
	}
	for _, c := range clients {
		s.backchannelLogout(context.WithoutCancel(ctx), sid, c)
	}
	return nil
}

// endSessionsOf ends every open single sign-on session of pid, with
// back-channel logout to their relying parties. A failure is logged: the
// account's session epoch, moved already, refuses the sessions anyway.
func (s *Service) endSessionsOf(ctx context.Context, pid, why string) {
	rows, err := s.db.QueryContext(ctx, `SELECT sid FROM oidc_session WHERE pid = $1 AND ended_at IS NULL AND expires_at > $2`, pid, s.clock())
	if err != nil {
		s.log.Error("end the sessions of an account", "err", err)
		return
	}
	var sids []string
	for rows.Next() {
		var sid string
		if rows.Scan(&sid) == nil {
			sids = append(sids, sid)
		}
	}
	rows.Close()
	for _, sid := range sids {
		if err := s.endSession(ctx, sid, why); err != nil {
			s.log.Error("end a session of an account", "err", err)
		}
	}
}

// backchannelLogoutEvent is the event of an OpenID Connect Back-Channel
// Logout 1.0 logout token.
const backchannelLogoutEvent = "http://schemas.openid.net/event/backchannel-logout"

// backchannelLogout POSTs a logout token to the client's back-channel
// logout URI, in the background: a relying party that does not answer
// does not hold up the logout; a failure is logged.
func (s *Service) backchannelLogout(ctx context.Context, sid string, sc sessionClient) {
	c, err := s.client(ctx, sc.clientID)
	if err != nil || c.BackchannelURI == "" {
		return
	}
	token, err := s.logoutToken(ctx, c, sc.subject, sid)
	if err != nil {
		s.log.Error("back-channel logout: token", "client", c.ID, "err", err)
		return
	}
	s.background.Add(1)
	go func() {
		defer s.background.Done()
		ctx, cancel := context.WithTimeout(ctx, backchannelTimeout)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.BackchannelURI, strings.NewReader(url.Values{"logout_token": {token}}.Encode()))
		if err != nil {
			s.log.Error("back-channel logout", "client", c.ID, "err", err)
			return
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, err := s.httpClient.Do(req)
		if err != nil {
			s.log.Warn("back-channel logout not delivered", "client", c.ID, "err", err)
			return
		}
		res.Body.Close()
		if res.StatusCode/100 != 2 {
			s.log.Warn("back-channel logout refused", "client", c.ID, "status", res.StatusCode)
		}
	}()
}

// backchannelTimeout bounds one delivery of a logout token.
const backchannelTimeout = 5 * time.Second

// logoutToken signs a logout token (OpenID Connect Back-Channel Logout 1.0
// §2.4) with the client's ID token algorithm.
func (s *Service) logoutToken(ctx context.Context, c *Client, subject, sid string) (string, error) {
	k, _, err := s.ring(c.idTokenAlg()).Current(ctx, s.clock())
	if err != nil {
		return "", err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: k.SignatureAlgorithm(), Key: jose.JSONWebKey{Key: k.Key(), KeyID: k.ID()}},
		(&jose.SignerOptions{}).WithType("logout+jwt"))
	if err != nil {
		return "", err
	}
	now := s.clock()
	return jwt.Signed(signer).Claims(jwt.Claims{Issuer: s.issuer, Audience: jwt.Audience{c.ID}, IssuedAt: jwt.NewNumericDate(now),
		Expiry: jwt.NewNumericDate(now.Add(2 * time.Minute)), ID: uuid.NewString(), Subject: subject}).
		Claims(map[string]any{"sid": sid, "events": map[string]any{backchannelLogoutEvent: map[string]any{}}}).Serialize()
}

// Wait waits for background deliveries (back-channel logout) to finish.
func (s *Service) Wait() { s.background.Wait() }
