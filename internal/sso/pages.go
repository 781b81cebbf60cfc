package sso

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"slices"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/audit"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/locale"
)

//go:embed templates/*.html
var templateFiles embed.FS

type pages struct{ t *template.Template }

func newPages() (*pages, error) {
	t, err := template.New("").Funcs(template.FuncMap{"t": translate}).ParseFS(templateFiles, "templates/*.html")
	if err != nil {
		return nil, err
	}
	return &pages{t: t}, nil
}

// translate is a text of the pages (in internal/locale, with the other
// pages' texts).
func translate(lang, key string) string { return locale.T(lang, "sso."+key) }

type pageData struct {
	Lang, ID, Client, PID, Error, Path string
	Nonce                              string // of the page's script, for the CSP
	Level                              int
	Claims                             []string
}

// lang picks the page language: the form or query, then a cookie, then the
// request's ui_locales, then Accept-Language; Vietnamese by default.
func pickLang(r *http.Request, a *authRequest) string {
	for _, l := range []string{r.FormValue("lang"), cookie(r, "lang")} {
		if l == "vi" || l == "en" {
			return l
		}
	}
	if a != nil {
		for _, t := range a.Req.UILocales {
			if b, _ := t.Base(); b.String() == "vi" || b.String() == "en" {
				return b.String()
			}
		}
	}
	if al := r.Header.Get("Accept-Language"); strings.HasPrefix(al, "en") {
		return "en"
	}
	return "vi"
}

func cookie(r *http.Request, name string) string {
	if c, err := r.Cookie(name); err == nil {
		return c.Value
	}
	return ""
}

func (s *Service) render(w http.ResponseWriter, status int, name string, d pageData) {
	d.Path = s.loginPath
	d.Nonce = randomToken()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-"+d.Nonce+"'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	if err := s.pages.t.ExecuteTemplate(w, name, d); err != nil {
		s.log.Error("render page", "page", name, "err", err)
	}
}

func (s *Service) pageHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+s.loginPath, s.loginPage)
	mux.HandleFunc("POST "+s.loginPath, s.loginSubmit)
	mux.HandleFunc("POST "+s.loginPath+"/consent", s.consentSubmit)
	mux.HandleFunc("POST "+s.loginPath+"/otp", s.otpSubmit)
	mux.HandleFunc("GET "+s.loginPath+"/consent", s.consentPage)
	mux.HandleFunc("POST "+s.loginPath+"/passkey/options", s.passkeyOptions)
	mux.HandleFunc("POST "+s.loginPath+"/passkey", s.passkeyLogin)
	mux.HandleFunc("POST "+s.loginPath+"/cancel", s.cancel)
	return mux
}

// start loads the transaction and its client for a page.
func (s *Service) start(w http.ResponseWriter, r *http.Request) (*authRequest, *Client, pageData, bool) {
	a, err := s.authRequest(r.Context(), r.FormValue("id"))
	d := pageData{Lang: pickLang(r, a), ID: r.FormValue("id")}
	if err != nil {
		d.ID, d.Error = "", translate(d.Lang, "err.expired")
		s.render(w, http.StatusBadRequest, "refused", d)
		return nil, nil, d, false
	}
	c, err := s.client(r.Context(), a.Req.ClientID)
	if err != nil {
		d.ID, d.Error = "", translate(d.Lang, "err.expired")
		s.render(w, http.StatusBadRequest, "refused", d)
		return nil, nil, d, false
	}
	d.Client, d.Level = c.Name, a.wantsLevel(c)
	if v := r.FormValue("lang"); v == "vi" || v == "en" {
		http.SetCookie(w, &http.Cookie{Name: "lang", Value: v, Path: "/", MaxAge: 365 * 86400, SameSite: http.SameSiteLaxMode, HttpOnly: true})
	}
	return a, c, d, true
}

// loginPage is where op sends the browser for each authorization request.
// A live single sign-on session that satisfies the request (level,
// max_age) completes it without a password, unless prompt=login or
// select_account asks for a login; prompt=none without one answers
// login_required.
func (s *Service) loginPage(w http.ResponseWriter, r *http.Request) {
	a, c, d, ok := s.start(w, r)
	if !ok {
		return
	}
	if a.Done() {
		d.Error, d.ID = translate(d.Lang, "err.expired"), ""
		s.render(w, http.StatusBadRequest, "refused", d)
		return
	}
	forceLogin := hasPrompt(a, oidc.PromptLogin) || hasPrompt(a, oidc.PromptSelectAccount)
	if se, ok := s.currentSession(r.Context(), r); ok && !forceLogin && s.satisfies(se, a, c) {
		s.resume(w, r, a, c, d, se)
		return
	}
	if hasPrompt(a, oidc.PromptNone) {
		op.AuthRequestError(w, r, a, oidc.ErrLoginRequired().WithDescription("no login at the provider satisfies this request"), s.provider)
		return
	}
	s.render(w, http.StatusOK, "login", d)
}

// establish starts the single sign-on session of a finished
// authentication (every factor given) and ties the login transaction to
// it.
func (s *Service) establish(w http.ResponseWriter, r *http.Request, a *authRequest) error {
	sid, err := s.startSession(r.Context(), w, r, a.PID, a.Subject, a.ACRv, a.AMRv, a.AuthTime, a.Epoch)
	if err != nil {
		return err
	}
	if _, err := s.db.ExecContext(r.Context(), `UPDATE oidc_auth_request SET sid = $1 WHERE id = $2`, sid, a.ID); err != nil {
		return err
	}
	a.SID = sid
	return nil
}

func sourceOf(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (s *Service) loginSubmit(w http.ResponseWriter, r *http.Request) {
	a, c, d, ok := s.start(w, r)
	if !ok {
		return
	}
	ctx := actor.With(r.Context(), &actor.Actor{ID: "anonymous", Kind: actor.Citizen, Source: sourceOf(r)})
	d.PID = strings.TrimSpace(r.FormValue("pid"))
	login, err := s.eid.Login(ctx, d.PID, r.FormValue("password"))
	if err != nil {
		switch errs.KindOf(err) {
		case errs.Unauthenticated:
			d.Error = translate(d.Lang, "err.credentials")
		case errs.TooMany:
			d.Error = translate(d.Lang, "err.throttled")
		case errs.Forbidden:
			d.Error = translate(d.Lang, "err.locked")
		default:
			s.log.Error("login", "err", err)
			d.Error = translate(d.Lang, "err.server")
		}
		status := map[errs.Kind]int{errs.Unauthenticated: http.StatusUnauthorized, errs.TooMany: http.StatusTooManyRequests,
			errs.Forbidden: http.StatusForbidden}[errs.KindOf(err)]
		if status == 0 {
			status = http.StatusInternalServerError
		}
		s.render(w, status, "login", d)
		return
	}
	if int(login.Level) < d.Level {
		s.record(ctx, "oidc_login_refused", login.PID, fmt.Sprintf("client %s needs level %d, account is level %d", c.ID, d.Level, login.Level))
		d.Error = translate(d.Lang, "err.level")
		s.render(w, http.StatusForbidden, "refused", d)
		return
	}
	acc, err := s.eid.Account(actor.With(r.Context(), &actor.Actor{ID: login.PID, Kind: actor.Citizen}), login.PID)
	if err != nil {
		s.log.Error("login: account", "err", err)
		d.Error = translate(d.Lang, "err.server")
		s.render(w, http.StatusInternalServerError, "login", d)
		return
	}
	nonce := randomToken()
	pending := ""
	if login.SecondFactor {
		pending = "totp"
	}
	res, err := s.db.ExecContext(r.Context(), `UPDATE oidc_auth_request SET subject = $1, pid = $2, auth_time = $3, acr = $4, amr = 'pwd', epoch = $5,
		browser_nonce = $6, pending = $7 WHERE id = $8 AND NOT done`, acc.Subject, login.PID, login.AuthTime, ACR(int(login.Level)), login.Epoch, nonce, pending, a.ID)
	if n, _ := rowsAffected(res, err); n != 1 {
		d.Error = translate(d.Lang, "err.expired")
		d.ID = ""
		s.render(w, http.StatusBadRequest, "refused", d)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: "dancu_login", Value: nonce, Path: s.loginPath, HttpOnly: true, Secure: s.secureCookies,
		SameSite: http.SameSiteStrictMode, MaxAge: int(AuthRequestTTL.Seconds())})
	if pending != "" {
		s.render(w, http.StatusOK, "otp", d)
		return
	}
	a.Subject, a.PID, a.AuthTime, a.ACRv, a.AMRv, a.Epoch, a.Nonce = acc.Subject, login.PID, login.AuthTime, ACR(int(login.Level)), []string{"pwd"}, login.Epoch, nonce
	if err := s.establish(w, r, a); err != nil {
		s.log.Error("login: session", "err", err)
		d.Error = translate(d.Lang, "err.server")
		s.render(w, http.StatusInternalServerError, "login", d)
		return
	}
	s.consentOrComplete(w, r, a, c, d, login.PID)
}

// consentOrComplete finishes an authenticated login: straight back to the
// client if the citizen consented to these scopes before, else the consent
// page.
func (s *Service) consentOrComplete(w http.ResponseWriter, r *http.Request, a *authRequest, c *Client, d pageData, pid string) {
	granted, err := s.consented(r.Context(), pid, c.ID)
	if err != nil {
		s.log.Error("login: consent", "err", err)
	}
	if missing := missingConsent(a.Req.Scopes, granted); len(missing) == 0 && !hasPrompt(a, oidc.PromptConsent) {
		s.complete(w, r, a.ID, pid, c.ID, nil)
		return
	}
	if hasPrompt(a, oidc.PromptNone) {
		op.AuthRequestError(w, r, a, errConsentRequired(), s.provider)
		return
	}
	for _, sc := range a.Req.Scopes {
		if c.IsScopeAllowed(sc) {
			d.Claims = append(d.Claims, "claim."+sc)
		}
	}
	s.render(w, http.StatusOK, "consent", d)
}

// sameBrowser reports whether the request comes from the browser that
// logged in to a.
func sameBrowser(r *http.Request, a *authRequest) bool {
	return a.PID != "" && a.Nonce != "" && subtle.ConstantTimeCompare([]byte(cookie(r, "dancu_login")), []byte(a.Nonce)) == 1
}

// otpSubmit takes the authenticator code of a login with a second factor.
func (s *Service) otpSubmit(w http.ResponseWriter, r *http.Request) {
	a, c, d, ok := s.start(w, r)
	if !ok {
		return
	}
	if !sameBrowser(r, a) || a.Pending != "totp" {
		d.Error, d.ID = translate(d.Lang, "err.expired"), ""
		s.render(w, http.StatusForbidden, "refused", d)
		return
	}
	ctx := actor.With(r.Context(), &actor.Actor{ID: a.PID, Kind: actor.Citizen, Name: a.PID, Source: sourceOf(r)})
	if err := s.eid.VerifyTOTP(ctx, a.PID, strings.TrimSpace(r.FormValue("code"))); err != nil {
		d.Error = translate(d.Lang, "err.otp")
		s.render(w, http.StatusUnauthorized, "otp", d)
		return
	}
	res, err := s.db.ExecContext(r.Context(), `UPDATE oidc_auth_request SET pending = '', amr = 'pwd otp' WHERE id = $1 AND pending = 'totp' AND NOT done`, a.ID)
	if n, _ := rowsAffected(res, err); n != 1 {
		d.Error, d.ID = translate(d.Lang, "err.expired"), ""
		s.render(w, http.StatusConflict, "refused", d)
		return
	}
	a.Pending, a.AMRv = "", []string{"pwd", "otp"}
	if err := s.establish(w, r, a); err != nil {
		s.log.Error("login: session", "err", err)
		d.Error = translate(d.Lang, "err.server")
		s.render(w, http.StatusInternalServerError, "otp", d)
		return
	}
	s.consentOrComplete(w, r, a, c, d, a.PID)
}

func rowsAffected(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func missingConsent(asked, granted []string) []string {
	var out []string
	for _, sc := range asked {
		if !slices.Contains(granted, sc) {
			out = append(out, sc)
		}
	}
	return out
}

func (s *Service) consentSubmit(w http.ResponseWriter, r *http.Request) {
	a, c, d, ok := s.start(w, r)
	if !ok {
		return
	}
	if !sameBrowser(r, a) || a.Pending != "" {
		d.Error, d.ID = translate(d.Lang, "err.expired"), ""
		s.render(w, http.StatusForbidden, "refused", d)
		return
	}
	if r.FormValue("decision") != "allow" {
		s.record(actor.With(r.Context(), &actor.Actor{ID: a.PID, Kind: actor.Citizen, Source: sourceOf(r)}), "oidc_consent_denied", a.PID, c.ID)
		op.AuthRequestError(w, r, a, oidc.ErrAccessDenied().WithDescription("the citizen declined to share the information"), s.provider)
		return
	}
	var scopes []string
	for _, sc := range a.Req.Scopes {
		if c.IsScopeAllowed(sc) {
			scopes = append(scopes, sc)
		}
	}
	s.complete(w, r, a.ID, a.PID, c.ID, scopes)
}

// complete marks the transaction done (saving the consent given, if any)
// and sends the browser back to op, which issues the code.
func (s *Service) complete(w http.ResponseWriter, r *http.Request, id, pid, clientID string, consent []string) {
	ctx := actor.With(r.Context(), &actor.Actor{ID: pid, Kind: actor.Citizen, Name: pid, Source: sourceOf(r)})
	now := s.clock()
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		if consent != nil {
			var old string
			err := tx.QueryRowContext(ctx, `SELECT scopes FROM oidc_consent WHERE pid = $1 AND client_id = $2`, pid, clientID).Scan(&old)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			var merged []string
			json.Unmarshal([]byte(old), &merged)
			for _, sc := range consent {
				if !slices.Contains(merged, sc) {
					merged = append(merged, sc)
				}
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO oidc_consent (pid, client_id, scopes, granted_at) VALUES ($1, $2, $3, $4)
				ON CONFLICT (pid, client_id) DO UPDATE SET scopes = excluded.scopes, granted_at = excluded.granted_at`,
				pid, clientID, jsonList(merged), now); err != nil {
				return err
			}
			if err := audit.WriteTx(ctx, tx, audit.NewEvent(ctx, now, "oidc_consent", pid, clientID+": "+strings.Join(consent, " "))); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, `UPDATE oidc_auth_request SET done = true WHERE id = $1 AND pid = $2 AND pending = '' AND NOT done`, id, pid)
		if n, _ := rowsAffected(res, err); n != 1 {
			return errs.E(errs.Conflict, "the login request is already complete")
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO oidc_session_client (sid, client_id, subject) SELECT sid, client_id, subject FROM oidc_auth_request
			WHERE id = $1 AND sid <> '' ON CONFLICT DO NOTHING`, id); err != nil {
			return err
		}
		return audit.WriteTx(ctx, tx, audit.NewEvent(ctx, now, "oidc_login", pid, clientID))
	})
	if err != nil {
		d := pageData{Lang: pickLang(r, nil), Error: translate(pickLang(r, nil), "err.expired")}
		s.render(w, http.StatusConflict, "refused", d)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: "dancu_login", Path: s.loginPath, MaxAge: -1})
	http.Redirect(w, r, op.AuthCallbackURL(s.provider)(r.Context(), id), http.StatusFound)
}

// cancel returns to the relying party with access_denied.
func (s *Service) cancel(w http.ResponseWriter, r *http.Request) {
	a, _, _, ok := s.start(w, r)
	if !ok {
		return
	}
	op.AuthRequestError(w, r, a, oidc.ErrAccessDenied().WithDescription("the login did not reach the assurance level this client requires"), s.provider)
}

func (s *Service) record(ctx context.Context, action, pid, detail string) {
	now := s.clock()
	s.db.InTx(ctx, func(tx *sql.Tx) error {
		return audit.WriteTx(ctx, tx, audit.NewEvent(ctx, now, action, pid, detail))
	})
}

// consented returns the scopes the citizen agreed to give the client.
func (s *Service) consented(ctx context.Context, pid, clientID string) ([]string, error) {
	var raw string
	err := s.db.QueryRowContext(ctx, `SELECT scopes FROM oidc_consent WHERE pid = $1 AND client_id = $2`, pid, clientID).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	return out, json.Unmarshal([]byte(raw), &out)
}

// Consent is what a citizen agreed to share with a relying party.
type Consent struct {
	ClientID   string   `json:"client_id"`
	ClientName string   `json:"client_name"`
	Scopes     []string `json:"scopes"`
	GrantedAt  string   `json:"granted_at"`
}

// Consents lists the citizen's consents (the citizen only).
func (s *Service) Consents(ctx context.Context, pid string) ([]Consent, error) {
	if a, ok := actor.From(ctx); !ok || a.Kind != actor.Citizen || a.ID != pid {
		return nil, errs.E(errs.Forbidden, "only the citizen sees their consents")
	}
	rows, err := s.db.QueryContext(ctx, `SELECT c.client_id, COALESCE(o.name, ''), c.scopes, c.granted_at FROM oidc_consent c
		LEFT JOIN oidc_client o ON o.id = c.client_id WHERE c.pid = $1 ORDER BY c.client_id`, pid)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Consent
	for rows.Next() {
		var c Consent
		var scopes string
		var at sql.NullTime
		if err := rows.Scan(&c.ClientID, &c.ClientName, &scopes, &at); err != nil {
			return nil, err
		}
		json.Unmarshal([]byte(scopes), &c.Scopes)
		c.GrantedAt = at.Time.UTC().Format("2006-01-02T15:04:05Z")
		out = append(out, c)
	}
	return out, rows.Err()
}

// RevokeConsent withdraws a consent and ends the client's tokens for the
// citizen; the next login asks again.
func (s *Service) RevokeConsent(ctx context.Context, pid, clientID string) error {
	if a, ok := actor.From(ctx); !ok || a.Kind != actor.Citizen || a.ID != pid {
		return errs.E(errs.Forbidden, "only the citizen withdraws their consents")
	}
	now := s.clock()
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM oidc_consent WHERE pid = $1 AND client_id = $2`, pid, clientID)
		if n, _ := rowsAffected(res, err); n != 1 {
			if err != nil {
				return err
			}
			return errs.E(errs.NotFound, "no consent for %s", clientID)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE oidc_refresh_token SET revoked_at = $1 WHERE pid = $2 AND client_id = $3 AND revoked_at IS NULL`, now, pid, clientID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM oidc_access_token WHERE pid = $1 AND client_id = $2`, pid, clientID); err != nil {
			return err
		}
		return audit.WriteTx(ctx, tx, audit.NewEvent(ctx, now, "oidc_consent_revoked", pid, clientID))
	})
}
