package web

import (
	"context"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"strings"

	"github.com/google/uuid"

	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/eid"
	"github.com/dancu-vn/dancu/internal/errs"
)

// Getting an account without curl: apply online for level 1 (the same
// checks as the API, the same one refusal whatever detail differs), follow
// the application by its number, activate with the code sent to the phone
// or e-mail on the application — the recovery codes shown then, once — and
// get back in with a recovery code when the phone is lost. None of these
// pages is signed in, and none tells whether a person or an account exists.

// maxPortrait is the largest portrait the application form takes.
const maxPortrait = 2_000_000

type applyData struct {
	Form   map[string]string
	Errors *formErrors
}

func (s *Web) portalApplyForm(w http.ResponseWriter, r *http.Request) error {
	// The key makes a form sent twice (a double click, a retry after a
	// lost answer) one application.
	s.render(w, r, http.StatusOK, "portal-apply", applyData{Form: map[string]string{"key": uuid.NewString()}, Errors: &formErrors{}})
	return nil
}

// readPortrait reads the uploaded portrait of the application form.
func readPortrait(r *http.Request) (eid.Biometric, string) {
	if r.MultipartForm == nil {
		return eid.Biometric{}, "portal.apply.face.required"
	}
	fhs := r.MultipartForm.File["face"]
	if len(fhs) == 0 {
		return eid.Biometric{}, "portal.apply.face.required"
	}
	fh := fhs[0]
	if fh.Size > maxPortrait {
		return eid.Biometric{}, "portal.apply.face.large"
	}
	f, err := fh.Open()
	if err != nil {
		return eid.Biometric{}, "portal.apply.face.required"
	}
	defer func(f multipart.File) { f.Close() }(f)
	data, err := io.ReadAll(io.LimitReader(f, maxPortrait+1))
	if err != nil || len(data) == 0 {
		return eid.Biometric{}, "portal.apply.face.required"
	}
	format := http.DetectContentType(data)
	if format != "image/jpeg" && format != "image/png" {
		return eid.Biometric{}, "portal.apply.face.format"
	}
	return eid.Biometric{Kind: "face", Format: format, Data: data}, ""
}

// portalApply takes an online level-1 application and shows its receipt.
func (s *Web) portalApply(w http.ResponseWriter, r *http.Request) error {
	in := eid.SelfApplication{PID: strings.TrimSpace(r.PostForm.Get("pid")), Name: strings.TrimSpace(r.PostForm.Get("name")),
		BirthDate: r.PostForm.Get("birth_date"), Sex: r.PostForm.Get("sex"), Phone: r.PostForm.Get("phone"),
		Email: strings.TrimSpace(r.PostForm.Get("email")), IdempotencyKey: r.PostForm.Get("key")}
	d := applyData{Form: map[string]string{"pid": in.PID, "name": in.Name, "birth_date": in.BirthDate, "sex": in.Sex,
		"phone": in.Phone, "email": in.Email, "key": in.IdempotencyKey}, Errors: &formErrors{}}
	face, problem := readPortrait(r)
	in.Face = face
	app, err := s.EID.ApplySelf(anonymous(r), in)
	if problem != "" {
		// The service named the form's other problems; the portrait's is
		// the page's to say, in the reader's words.
		if err == nil {
			// Unreachable: the service refuses an empty portrait.
			return errs.E(errs.Internal, "an application without a portrait was taken")
		}
		d.Errors.add("face", tr(r, problem))
	}
	switch {
	case err == nil:
		http.Redirect(w, r, Portal+"/apply/"+app.ID+"?done=submitted", http.StatusSeeOther)
		return nil
	case errs.Is(err, errs.Invalid):
		var e *errs.Error
		if errors.As(err, &e) && len(e.Fields) == 0 {
			d.Errors.add("form", tr(r, "portal.apply.refused"))
		} else {
			fieldErrors(r, d.Errors, err, map[string]string{"pid": "pid", "name": "name", "birth_date": "birth_date", "sex": "sex",
				"phone": "phone", "email": "email", "face": "face"})
		}
		s.render(w, r, http.StatusUnprocessableEntity, "portal-apply", d)
		return nil
	}
	return err
}

// anonymous is the request's context with the anonymous applicant as its
// actor, as the API takes an online application: whoever is signed in, the
// application is only its applicant's act.
func anonymous(r *http.Request) context.Context {
	src := ""
	if a, ok := actor.From(r.Context()); ok {
		src = a.Source
	}
	return actor.With(r.Context(), &actor.Actor{ID: "anonymous", Kind: actor.Citizen, Name: "anonymous", Source: src})
}

func (s *Web) portalReceipt(w http.ResponseWriter, r *http.Request) error {
	rc, err := s.EID.ApplicationReceipt(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "portal-receipt", map[string]any{"R": rc, "Done": r.URL.Query().Get("done") == "submitted"})
	return nil
}

// portalFollow takes an application's number typed in and shows it.
func (s *Web) portalFollow(w http.ResponseWriter, r *http.Request) error {
	id := strings.TrimSpace(r.URL.Query().Get("id"))
	if _, err := uuid.Parse(id); err != nil {
		f := &formErrors{}
		f.add("id", tr(r, "portal.follow.invalid"))
		s.render(w, r, http.StatusUnprocessableEntity, "portal-apply", applyData{Form: map[string]string{"id": id, "key": uuid.NewString()}, Errors: f})
		return nil
	}
	http.Redirect(w, r, Portal+"/apply/"+id, http.StatusSeeOther)
	return nil
}

type activateData struct {
	Step   string // "code" asks for the number and contact; "set" for the code and secrets
	Form   map[string]string
	Errors *formErrors
}

func (s *Web) portalActivateForm(w http.ResponseWriter, r *http.Request) error {
	s.render(w, r, http.StatusOK, "portal-activate", activateData{Step: "code", Form: map[string]string{}, Errors: &formErrors{}})
	return nil
}

// portalActivationCode sends the code; the answer is the same whether the
// number and contact match an approved account or not.
func (s *Web) portalActivationCode(w http.ResponseWriter, r *http.Request) error {
	pid, contact := strings.TrimSpace(r.PostForm.Get("pid")), strings.TrimSpace(r.PostForm.Get("contact"))
	d := activateData{Step: "code", Form: map[string]string{"pid": pid, "contact": contact}, Errors: &formErrors{}}
	err := s.EID.StartActivation(r.Context(), pid, contact)
	if err != nil {
		if !fieldErrors(r, d.Errors, err, map[string]string{"pid": "pid", "phone": "contact", "email": "contact"}) {
			return err
		}
		s.render(w, r, http.StatusUnprocessableEntity, "portal-activate", d)
		return nil
	}
	d.Step = "set"
	s.render(w, r, http.StatusOK, "portal-activate", d)
	return nil
}

// portalActivate completes activation and shows the recovery codes, once.
func (s *Web) portalActivate(w http.ResponseWriter, r *http.Request) error {
	pid := strings.TrimSpace(r.PostForm.Get("pid"))
	d := activateData{Step: "set", Form: map[string]string{"pid": pid, "contact": r.PostForm.Get("contact")}, Errors: &formErrors{}}
	if r.PostForm.Get("password") != r.PostForm.Get("password2") {
		d.Errors.add("password2", tr(r, "admin.officer.password.mismatch"))
		s.render(w, r, http.StatusUnprocessableEntity, "portal-activate", d)
		return nil
	}
	acc, err := s.EID.Activate(r.Context(), eid.Activation{PID: pid, Code: strings.TrimSpace(r.PostForm.Get("code")),
		Password: r.PostForm.Get("password"), Passcode: r.PostForm.Get("passcode")})
	switch {
	case err == nil:
		s.render(w, r, http.StatusOK, "portal-codes", map[string]any{"Codes": acc.RecoveryCodes, "Activated": true})
		return nil
	case fieldErrors(r, d.Errors, err, map[string]string{"pid": "pid", "code": "code", "password": "password", "passcode": "passcode"}):
	case errs.Is(err, errs.Conflict):
		// Told only to whoever had a valid code for the account.
		d.Errors.add("form", tr(r, "portal.activate.notwaiting"))
	default:
		return err
	}
	s.render(w, r, http.StatusUnprocessableEntity, "portal-activate", d)
	return nil
}

type recoverData struct {
	Form   map[string]string
	Errors *formErrors
}

func (s *Web) portalRecoverForm(w http.ResponseWriter, r *http.Request) error {
	s.render(w, r, http.StatusOK, "portal-recover", recoverData{Form: map[string]string{}, Errors: &formErrors{}})
	return nil
}

// portalRecover gets a citizen back in with a recovery code and the
// passcode.
func (s *Web) portalRecover(w http.ResponseWriter, r *http.Request) error {
	pid := strings.TrimSpace(r.PostForm.Get("pid"))
	d := recoverData{Form: map[string]string{"pid": pid}, Errors: &formErrors{}}
	if r.PostForm.Get("password") != r.PostForm.Get("password2") {
		d.Errors.add("password2", tr(r, "admin.officer.password.mismatch"))
		s.render(w, r, http.StatusUnprocessableEntity, "portal-recover", d)
		return nil
	}
	err := s.EID.Recover(r.Context(), eid.Recovery{PID: pid, Code: r.PostForm.Get("code"), Passcode: r.PostForm.Get("passcode"),
		Password: r.PostForm.Get("password")})
	status := http.StatusUnprocessableEntity
	switch {
	case err == nil:
		s.render(w, r, http.StatusOK, "portal-ended", map[string]string{"Message": "portal.recover.done"})
		return nil
	case fieldErrors(r, d.Errors, err, map[string]string{"pid": "pid", "code": "code", "passcode": "passcode", "password": "password"}):
	case errs.Is(err, errs.Unauthenticated):
		d.Errors.add("form", tr(r, "portal.recover.wrong"))
		status = http.StatusUnauthorized
	case errs.Is(err, errs.TooMany):
		d.Errors.add("form", tr(r, "login.throttled"))
		status = http.StatusTooManyRequests
	case errs.Is(err, errs.Forbidden):
		d.Errors.add("form", tr(r, "portal.recover.officerlock"))
		status = http.StatusForbidden
	default:
		return err
	}
	s.render(w, r, status, "portal-recover", d)
	return nil
}

// portalNewCodes makes a new set of recovery codes, confirmed by the
// passcode, and shows it once.
func (s *Web) portalNewCodes(w http.ResponseWriter, r *http.Request) error {
	codes, err := s.EID.NewRecoveryCodes(r.Context(), citizen(r).ID, r.PostForm.Get("passcode"))
	f := &formErrors{}
	status := http.StatusUnprocessableEntity
	switch {
	case err == nil:
		s.render(w, r, http.StatusOK, "portal-codes", map[string]any{"Codes": codes})
		return nil
	case fieldErrors(r, f, err, map[string]string{"passcode": "passcode"}):
	case errs.Is(err, errs.TooMany):
		f.add("passcode", tr(r, "login.throttled"))
		status = http.StatusTooManyRequests
	case errs.Is(err, errs.Forbidden):
		f.add("passcode", tr(r, "portal.codes.cooling"))
		status = http.StatusForbidden
	default:
		return err
	}
	return s.showSecurity(w, r, status, f)
}
