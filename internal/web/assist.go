package web

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/dancu-vn/dancu/internal/dossier"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/locale"
)

// Assisted mode: at a commune counter an officer files a procedure for a
// citizen who is there and needs help (an elderly person without a
// smartphone), on the portal's own form; the citizen types their passcode
// to confirm. The dossier is the citizen's, and both are recorded.

type assistData struct {
	PID      string
	Services []serviceItem
	Form     *procedureData // the chosen service's form
	Errors   *formErrors
}

func (s *Web) assistServices(r *http.Request) []serviceItem {
	var out []serviceItem
	for _, e := range dossier.Catalog {
		if _, ok := procedureForms[e.Code]; ok || e.Code == "residence.confirmation" {
			out = append(out, serviceItem{E: e, Name: serviceName(langOf(r), e.Code), Form: ok})
		}
	}
	return out
}

func (s *Web) assistForm(w http.ResponseWriter, r *http.Request) error {
	d := assistData{PID: strings.TrimSpace(r.URL.Query().Get("pid")), Services: s.assistServices(r), Errors: &formErrors{}}
	if code := r.URL.Query().Get("service"); code != "" {
		d.Form = s.counterForm(code)
	}
	s.render(w, r, http.StatusOK, "assist", d)
	return nil
}

// counterForm is a service's form without the record (the officer reads
// none before the citizen confirms).
func (s *Web) counterForm(code string) *procedureData {
	e, ok := dossier.Entry(code)
	if !ok || !slices.ContainsFunc(dossier.Catalog, func(c dossier.CatalogEntry) bool { return c.Code == code }) {
		return nil
	}
	if _, ok := procedureForms[code]; !ok && code != "residence.confirmation" {
		return nil
	}
	return &procedureData{Service: code, Name: e.NameVI, Entry: e, Fields: procedureForms[code], Values: map[string]string{},
		Errors: &formErrors{}, Key: randomValue()}
}

func (s *Web) assist(w http.ResponseWriter, r *http.Request) error {
	pid := strings.TrimSpace(r.PostForm.Get("pid"))
	d := assistData{PID: pid, Services: s.assistServices(r), Errors: &formErrors{}}
	d.Form = s.counterForm(r.PostForm.Get("service"))
	if d.Form == nil {
		d.Errors.add("service", tr(r, "assist.service.required"))
		s.render(w, r, http.StatusUnprocessableEntity, "assist", d)
		return nil
	}
	d.Form.Name = serviceName(langOf(r), d.Form.Service)
	d.Form.Key = r.PostForm.Get("key")
	data := s.readProcedure(r, d.Form)
	if d.Form.Errors.Any() {
		s.render(w, r, http.StatusUnprocessableEntity, "assist", d)
		return nil
	}
	x, err := s.Dossier.SubmitAssisted(r.Context(), dossier.Assisted{PID: pid, Passcode: r.PostForm.Get("passcode"), Service: d.Form.Service,
		Data: data, IdempotencyKey: d.Form.Key})
	if e := (*errs.Error)(nil); errors.As(err, &e) && e.Kind == errs.Invalid {
		// The counter's own fields on the page, the form's on the form.
		var formPart []errs.FieldError
		for _, fe := range e.Fields {
			switch fe.Field {
			case "pid", "passcode", "service":
				d.Errors.add(fe.Field, locale.Reason(langOf(r), fe.Format, fe.Args, fe.Reason))
			default:
				formPart = append(formPart, fe)
			}
		}
		if len(formPart) > 0 {
			procedureErrors(r, d.Form, &errs.Error{Kind: errs.Invalid, Fields: formPart})
		}
		if len(e.Fields) == 0 {
			d.Errors.add("form", e.Msg)
		}
		s.render(w, r, http.StatusUnprocessableEntity, "assist", d)
		return nil
	}
	if errs.Is(err, errs.TooMany) {
		d.Errors.add("passcode", tr(r, "login.throttled"))
		s.render(w, r, http.StatusTooManyRequests, "assist", d)
		return nil
	}
	if err != nil {
		return err
	}
	// The dossier may be another commune's to decide: the counter is
	// shown its receipt here, not the other commune's page.
	s.render(w, r, http.StatusCreated, "assisted", map[string]any{"D": x, "Name": serviceName(langOf(r), x.Service)})
	return nil
}
