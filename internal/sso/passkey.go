package sso

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"

	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/eid"
	"github.com/dancu-vn/dancu/internal/errs"
)

// RP is the WebAuthn relying party: the issuer's host, never the host a
// request names.
func (s *Service) RP(string, bool) eid.RP {
	u, _ := url.Parse(s.issuer) // checked by New
	return eid.RP{ID: u.Hostname(), Origin: u.Scheme + "://" + u.Host}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// passkeyOptions begins a passkey login for a login page.
func (s *Service) passkeyOptions(w http.ResponseWriter, r *http.Request) {
	if _, err := s.authRequest(r.Context(), r.URL.Query().Get("id")); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "expired"})
		return
	}
	opts, ceremony, err := s.eid.BeginPasskeyLogin(r.Context(), s.RP(r.Host, r.TLS != nil))
	if err != nil {
		s.log.Error("passkey options", "err", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "server"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"options": opts, "ceremony": ceremony})
}

// passkeyLogin finishes a passkey login of a login page and tells the page
// where to go next: the consent page, or back to the client.
func (s *Service) passkeyLogin(w http.ResponseWriter, r *http.Request) {
	var in struct {
		ID         string          `json:"id"`
		Ceremony   string          `json:"ceremony"`
		Credential json.RawMessage `json:"credential"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&in); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "bad request"})
		return
	}
	a, err := s.authRequest(r.Context(), in.ID)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": translate(pickLang(r, nil), "err.expired")})
		return
	}
	c, err := s.client(r.Context(), a.Req.ClientID)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": translate(pickLang(r, a), "err.expired")})
		return
	}
	lang := pickLang(r, a)
	ctx := actor.With(r.Context(), &actor.Actor{ID: "anonymous", Kind: actor.Citizen, Source: sourceOf(r)})
	login, err := s.eid.FinishPasskeyLogin(ctx, s.RP(r.Host, r.TLS != nil), in.Ceremony, in.Credential)
	if err != nil {
		key := "err.passkey"
		if errs.Is(err, errs.Forbidden) {
			key = "err.locked"
		}
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": translate(lang, key)})
		return
	}
	if int(login.Level) < a.wantsLevel(c) {
		s.record(ctx, "oidc_login_refused", login.PID, "level too low for "+c.ID)
		writeJSON(w, http.StatusForbidden, map[string]string{"error": translate(lang, "err.level")})
		return
	}
	acc, err := s.eid.Account(actor.With(r.Context(), &actor.Actor{ID: login.PID, Kind: actor.Citizen}), login.PID)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": translate(lang, "err.server")})
		return
	}
	nonce := randomToken()
	res, err := s.db.ExecContext(r.Context(), `UPDATE oidc_auth_request SET subject = $1, pid = $2, auth_time = $3, acr = $4, amr = 'hwk user', epoch = $5,
		browser_nonce = $6, pending = '' WHERE id = $7 AND NOT done`, acc.Subject, login.PID, login.AuthTime, ACR(int(login.Level)), login.Epoch, nonce, a.ID)
	if n, _ := rowsAffected(res, err); n != 1 {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": translate(lang, "err.expired")})
		return
	}
	http.SetCookie(w, &http.Cookie{Name: "dancu_login", Value: nonce, Path: s.loginPath, HttpOnly: true, Secure: s.secureCookies,
		SameSite: http.SameSiteStrictMode, MaxAge: int(AuthRequestTTL.Seconds())})
	a.Subject, a.PID, a.AuthTime, a.ACRv, a.AMRv, a.Epoch, a.Nonce = acc.Subject, login.PID, login.AuthTime, ACR(int(login.Level)), []string{"hwk", "user"}, login.Epoch, nonce
	if err := s.establish(w, r, a); err != nil {
		s.log.Error("passkey login: session", "err", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": translate(lang, "err.server")})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"next": s.loginPath + "/consent?id=" + url.QueryEscape(a.ID) + "&lang=" + lang})
}

// consentPage shows the consent page of an authenticated login (after a
// passkey login), or goes straight back to the client when the citizen
// consented before.
func (s *Service) consentPage(w http.ResponseWriter, r *http.Request) {
	a, c, d, ok := s.start(w, r)
	if !ok {
		return
	}
	if !sameBrowser(r, a) || a.Pending != "" {
		d.Error, d.ID = translate(d.Lang, "err.expired"), ""
		s.render(w, http.StatusForbidden, "refused", d)
		return
	}
	s.consentOrComplete(w, r, a, c, d, a.PID)
}
