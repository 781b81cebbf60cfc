package web

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"strings"

	"github.com/dancu-vn/dancu/internal/dossier"
	"github.com/dancu-vn/dancu/internal/eid"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/locale"
)

// The security of the citizen's account: the second factors on file, the
// passkeys (each removable), signing out on every device, and locking the
// account at once when the phone is lost — which ends every session, the
// portal's too.

type securityData struct {
	Account  eid.Account
	Passkeys []eid.Passkey
	// CodesLeft is how many recovery codes are unused.
	CodesLeft int
	Done      string
	Errors    *formErrors
}

func (s *Web) portalSecurity(w http.ResponseWriter, r *http.Request) error {
	return s.showSecurity(w, r, http.StatusOK, &formErrors{})
}

func (s *Web) showSecurity(w http.ResponseWriter, r *http.Request, status int, f *formErrors) error {
	pid := citizen(r).ID
	d := securityData{Done: done(r, "passkey", "passkeyadded", "totp", "totpoff"), Errors: f}
	var err error
	if d.Account, err = s.EID.Account(r.Context(), pid); err != nil {
		return err
	}
	if d.Passkeys, err = s.EID.Passkeys(r.Context(), pid); err != nil {
		return err
	}
	if d.CodesLeft, err = s.EID.RecoveryCodesLeft(r.Context(), pid); err != nil {
		return err
	}
	s.render(w, r, status, "portal-security", d)
	return nil
}

func (s *Web) portalRemovePasskey(w http.ResponseWriter, r *http.Request) error {
	if err := s.EID.RemovePasskey(r.Context(), citizen(r).ID, r.PathValue("id")); err != nil {
		return err
	}
	http.Redirect(w, r, Portal+"/security?done=passkey", http.StatusSeeOther)
	return nil
}

// portalLogoutEverywhere ends every session of the account: the portal's,
// the provider's single sign-on sessions, and every relying party's tokens.
func (s *Web) portalLogoutEverywhere(w http.ResponseWriter, r *http.Request) error {
	if err := s.EID.LogoutEverywhere(r.Context(), citizen(r).ID); err != nil {
		return err
	}
	// The cookie's tokens are dead now; it keeps the sign-in's SID until
	// the sign-out from the provider.
	s.render(w, r, http.StatusOK, "portal-ended", map[string]string{"Message": "portal.security.ended"})
	return nil
}

// portalLock locks the account at once ("I lost my phone"), once the
// citizen has ticked that they mean it.
func (s *Web) portalLock(w http.ResponseWriter, r *http.Request) error {
	if r.PostForm.Get("confirm") != "yes" {
		f := &formErrors{}
		f.add("confirm", tr(r, "portal.lock.confirm.required"))
		return s.showSecurity(w, r, http.StatusUnprocessableEntity, f)
	}
	if _, err := s.EID.Lock(r.Context(), citizen(r).ID, ""); err != nil {
		if errs.Is(err, errs.Conflict) {
			f := &formErrors{}
			f.add("confirm", tr(r, "portal.lock.cannot"))
			return s.showSecurity(w, r, http.StatusConflict, f)
		}
		return err
	}
	s.render(w, r, http.StatusOK, "portal-ended", map[string]string{"Message": "portal.lock.done"})
	return nil
}

// portalPassword changes the password with the current one; every
// session ends, the portal's too, and a notice goes to the phone and
// e-mail on file.
func (s *Web) portalPassword(w http.ResponseWriter, r *http.Request) error {
	f := &formErrors{}
	pw := r.PostForm.Get("password")
	if pw != r.PostForm.Get("password2") {
		f.add("password2", tr(r, "admin.officer.password.mismatch"))
		return s.showSecurity(w, r, http.StatusUnprocessableEntity, f)
	}
	err := s.EID.ChangePassword(r.Context(), citizen(r).ID, r.PostForm.Get("current"), pw)
	switch {
	case err == nil:
		s.render(w, r, http.StatusOK, "portal-ended", map[string]string{"Message": "portal.password.done"})
		return nil
	case fieldErrors(r, f, err, map[string]string{"current": "current", "password": "password"}):
		return s.showSecurity(w, r, http.StatusUnprocessableEntity, f)
	case errs.Is(err, errs.TooMany):
		f.add("current", tr(r, "login.throttled"))
		return s.showSecurity(w, r, http.StatusTooManyRequests, f)
	}
	return err
}

// portalTOTPStart makes a new authenticator secret and shows it as a QR
// code, with the form that turns it on with a code from the app.
func (s *Web) portalTOTPStart(w http.ResponseWriter, r *http.Request) error {
	en, err := s.EID.StartTOTP(r.Context(), citizen(r).ID)
	if errs.Is(err, errs.Forbidden) || errs.Is(err, errs.Conflict) {
		f := &formErrors{}
		key := "portal.codes.cooling"
		if errs.Is(err, errs.Conflict) {
			key = "portal.totp.already"
		}
		f.add("totp", tr(r, key))
		return s.showSecurity(w, r, errs.KindOf(err).HTTPStatus(), f)
	}
	if err != nil {
		return err
	}
	return s.showTOTP(w, r, http.StatusOK, en.Secret, en.URL, &formErrors{})
}

func (s *Web) showTOTP(w http.ResponseWriter, r *http.Request, status int, secret, otpURL string, f *formErrors) error {
	png, err := dossier.QR(otpURL)
	if err != nil {
		return err
	}
	s.render(w, r, status, "portal-totp", map[string]any{"Secret": secret, "URL": otpURL, "QR": template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png)), "Errors": f})
	return nil
}

// portalTOTPConfirm turns the authenticator app on with a code from it.
func (s *Web) portalTOTPConfirm(w http.ResponseWriter, r *http.Request) error {
	err := s.EID.ConfirmTOTP(r.Context(), citizen(r).ID, strings.TrimSpace(r.PostForm.Get("code")))
	if err == nil {
		http.Redirect(w, r, Portal+"/security?done=totp", http.StatusSeeOther)
		return nil
	}
	f := &formErrors{}
	switch {
	case fieldErrors(r, f, err, map[string]string{"code": "code"}):
	case errs.Is(err, errs.TooMany):
		f.add("code", tr(r, "login.throttled"))
	default:
		return err
	}
	// The secret is the one the page showed: the form carries it back for
	// the QR code, and the service checks the code against its own copy.
	otpURL := r.PostForm.Get("url")
	if !strings.HasPrefix(otpURL, "otpauth://totp/") {
		otpURL = ""
	}
	return s.showTOTP(w, r, http.StatusUnprocessableEntity, r.PostForm.Get("secret"), otpURL, f)
}

// portalTOTPOff turns the authenticator app off, confirmed by the passcode.
func (s *Web) portalTOTPOff(w http.ResponseWriter, r *http.Request) error {
	err := s.EID.DisableTOTP(r.Context(), citizen(r).ID, r.PostForm.Get("passcode"))
	f := &formErrors{}
	switch {
	case err == nil:
		http.Redirect(w, r, Portal+"/security?done=totpoff", http.StatusSeeOther)
		return nil
	case fieldErrors(r, f, err, map[string]string{"passcode": "totp-passcode"}):
	case errs.Is(err, errs.TooMany):
		f.add("totp-passcode", tr(r, "login.throttled"))
	default:
		return err
	}
	return s.showSecurity(w, r, http.StatusUnprocessableEntity, f)
}

// portalPasskeyOptions begins adding a passkey (a second device): the
// options for navigator.credentials.create, as JSON for the page's script.
func (s *Web) portalPasskeyOptions(w http.ResponseWriter, r *http.Request) error {
	opts, ceremony, err := s.EID.BeginPasskeyRegistration(r.Context(), s.SSO.RP("", false), citizen(r).ID)
	if err != nil {
		return jsonProblem(w, r, err)
	}
	w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(w).Encode(map[string]any{"options": opts, "ceremony": ceremony})
}

// portalPasskeyAdd finishes adding a passkey with the authenticator's
// answer (the form field credential, JSON).
func (s *Web) portalPasskeyAdd(w http.ResponseWriter, r *http.Request) error {
	name := strings.TrimSpace(r.PostForm.Get("name"))
	if name == "" {
		name = tr(r, "portal.passkey.default")
	}
	_, err := s.EID.FinishPasskeyRegistration(r.Context(), s.SSO.RP("", false), citizen(r).ID, r.PostForm.Get("ceremony"), name, []byte(r.PostForm.Get("credential")))
	if err != nil {
		return jsonProblem(w, r, err)
	}
	w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(w).Encode(map[string]string{"next": Portal + "/security?done=passkeyadded"})
}

// jsonProblem answers the page's script with the error's status and its
// message in the reader's language where the service gave a field reason.
func jsonProblem(w http.ResponseWriter, r *http.Request, err error) error {
	var e *errs.Error
	if !errors.As(err, &e) || e.Kind == errs.Internal {
		return err
	}
	msg := e.Msg
	if len(e.Fields) > 0 {
		msg = locale.Reason(langOf(r), e.Fields[0].Format, e.Fields[0].Args, e.Fields[0].Reason)
	}
	if e.Kind == errs.Forbidden && e.Msg != "" {
		msg = tr(r, "portal.codes.cooling")
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.Kind.HTTPStatus())
	return json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
