package web

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/dancu-vn/dancu/internal/card"
	"github.com/dancu-vn/dancu/internal/eid"
	"github.com/dancu-vn/dancu/internal/errs"
)

// The counter: a citizen who lost the phone (and has no recovery code)
// comes with the card. The page gives a challenge for the counter's card
// reader; the reader has the chip sign it and writes what it read to a
// file, which the officer sends with the new phone number once they have
// compared the face with the card's photo (eid.Rebind).

type rebindData struct {
	Challenge card.Challenge
	Form      map[string]string
	Errors    *formErrors
}

func (s *Web) rebindForm(w http.ResponseWriter, r *http.Request) error {
	return s.showRebind(w, r, http.StatusOK, map[string]string{"pid": strings.TrimSpace(r.URL.Query().Get("pid"))}, &formErrors{})
}

// showRebind shows the form with a fresh challenge: one is used up by
// every check, passed or failed.
func (s *Web) showRebind(w http.ResponseWriter, r *http.Request, status int, form map[string]string, f *formErrors) error {
	c, err := s.Cards.NewChallenge(r.Context())
	if err != nil {
		return err
	}
	s.render(w, r, status, "rebind", rebindData{Challenge: c, Form: form, Errors: f})
	return nil
}

// chipRead is the file the counter's reader writes: what it read from the
// chip and its answer to the challenge, in the API's names.
type chipRead struct {
	SOD        []byte            `json:"sod"`
	DataGroups map[string][]byte `json:"data_groups"`
	Signature  []byte            `json:"active_authentication_signature"`
}

func readChipFile(r *http.Request) (chipRead, string) {
	var cr chipRead
	if r.MultipartForm == nil || len(r.MultipartForm.File["chip"]) == 0 {
		return cr, "rebind.chip.required"
	}
	f, err := r.MultipartForm.File["chip"][0].Open()
	if err != nil {
		return cr, "rebind.chip.required"
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, int64(base64.StdEncoding.EncodedLen(card.MaxChip))+8<<10))
	if err != nil || json.Unmarshal(b, &cr) != nil || len(cr.SOD) == 0 {
		return cr, "rebind.chip.format"
	}
	return cr, ""
}

func (s *Web) rebind(w http.ResponseWriter, r *http.Request) error {
	form := map[string]string{"pid": strings.TrimSpace(r.PostForm.Get("pid")), "phone": strings.TrimSpace(r.PostForm.Get("phone")),
		"email": strings.TrimSpace(r.PostForm.Get("email"))}
	f := &formErrors{}
	cr, problem := readChipFile(r)
	if problem != "" {
		f.add("chip", tr(r, problem))
		return s.showRebind(w, r, http.StatusUnprocessableEntity, form, f)
	}
	groups := map[int][]byte{}
	for k, v := range cr.DataGroups {
		if n, err := strconv.Atoi(k); err == nil && n >= 1 && n <= 16 {
			groups[n] = v
		}
	}
	acc, err := s.EID.Rebind(r.Context(), eid.Rebinding{PID: form["pid"], Phone: form["phone"], Email: form["email"],
		FaceChecked: r.PostForm.Get("face_checked") == "yes",
		Card:        card.Presence{ChallengeID: r.PostForm.Get("challenge_id"), SOD: cr.SOD, Groups: groups, Signature: cr.Signature}})
	switch {
	case err == nil:
		s.render(w, r, http.StatusOK, "rebound", acc)
		return nil
	case fieldErrors(r, f, err, map[string]string{"pid": "pid", "phone": "phone", "email": "email", "face_checked": "face_checked", "card": "chip"}):
		return s.showRebind(w, r, http.StatusUnprocessableEntity, form, f)
	case errs.Is(err, errs.NotFound):
		f.add("pid", tr(r, "rebind.noaccount"))
		return s.showRebind(w, r, http.StatusNotFound, form, f)
	case errs.Is(err, errs.Conflict):
		f.add("pid", tr(r, "rebind.revoked"))
		return s.showRebind(w, r, http.StatusConflict, form, f)
	}
	return err
}
