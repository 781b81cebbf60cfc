package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"github.com/dancu-vn/dancu/internal/actor"

	"github.com/danielgtaylor/huma/v2"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/dossier"
	"github.com/dancu-vn/dancu/internal/errs"
)

func (h *handlers) dossierRoutes(api huma.API) {
	huma.Register(api, op("list-services", "GET", "/services", "The catalog of essential public services (no login)", "dossiers", 0, anyone), h.listServices)
	huma.Register(api, op("prefill", "GET", "/me/prefill", "What the registry holds that a form would ask for (citizens)", "dossiers", 0, citizens), h.prefill)
	huma.Register(api, op("submit-dossier", "POST", "/dossiers", "Submit a dossier (citizens)", "dossiers", 201, citizens), h.submitDossier)
	huma.Register(api, op("submit-assisted", "POST", "/dossiers/assisted", "File a dossier at a counter for a citizen present, who confirms with their passcode (officers)", "dossiers", 201, officers(access.HandleDossier)), h.submitAssisted)
	huma.Register(api, op("my-dossiers", "GET", "/me/dossiers", "My dossiers, newest first (citizens)", "dossiers", 0, citizens), h.myDossiers)
	huma.Register(api, op("dossier-queue", "GET", "/dossiers", "Dossiers of my jurisdiction, oldest deadline first (officers)", "dossiers", 0, officers(access.HandleDossier)), h.dossierQueue)
	huma.Register(api, op("dossier-stats", "GET", "/dossiers/stats", "On-time and resolution rates per unit and service for a month (officers)", "dossiers", 0, officers(access.HandleDossier)), h.dossierStats)
	huma.Register(api, op("get-dossier", "GET", "/dossiers/{id}", "A dossier and its steps (its applicant or an officer of its commune)", "dossiers", 0, citizensOr(access.HandleDossier)), h.getDossier)
	huma.Register(api, op("receive-dossier", "POST", "/dossiers/{id}/receive", "Receive a complete file: the receipt (CT04) and the deadline", "dossiers", 0, officers(access.HandleDossier)), h.dossierNote(h.receive))
	huma.Register(api, op("request-info", "POST", "/dossiers/{id}/request-info", "Ask the applicant to complete the file (CT05)", "dossiers", 0, officers(access.HandleDossier)), h.dossierNote(h.requestInfo))
	huma.Register(api, op("supplement-dossier", "POST", "/dossiers/{id}/supplement", "Complete the file after a request (citizens)", "dossiers", 0, citizens), h.supplement)
	huma.Register(api, op("decide-dossier", "POST", "/dossiers/{id}/decision", "Approve (the registry changes) or refuse with reasons (CT06)", "dossiers", 0, officers(access.HandleDossier)), h.decideDossier)
	huma.Register(api, op("consent-dossier", "POST", "/dossiers/{id}/consent", "Give the consent a dossier waits for, e.g. as household head (citizens)", "dossiers", 0, citizens), h.consentDossier)
	huma.Register(api, op("withdraw-dossier", "POST", "/dossiers/{id}/withdraw", "Withdraw a dossier not yet decided (citizens)", "dossiers", 0, citizens), h.dossierNote(h.withdraw))
	huma.Register(api, op("dossier-result", "GET", "/dossiers/{id}/result", "Download the result: a signed document, its verification link and QR code", "dossiers", 0, citizensOr(access.HandleDossier)), h.dossierResult)
	huma.Register(api, op("verify-document", "POST", "/documents/verify", "Verify a signed residence confirmation (no login)", "dossiers", 0, anyone), h.verifyDocument)
}

// dossierView is a dossier as the API shows it.
type dossierView struct {
	dossier.Dossier
	Data map[string]any `json:"data"`
}

func view(d dossier.Dossier) dossierView {
	v := dossierView{Dossier: d}
	json.Unmarshal(d.Data, &v.Data)
	return v
}

type servicesOutput struct {
	Body []dossier.CatalogEntry
}

func (h *handlers) listServices(ctx context.Context, _ *struct{}) (*servicesOutput, error) {
	return &servicesOutput{Body: dossier.Catalog}, nil
}

type prefillOutput struct {
	Body map[string]any
}

func (h *handlers) prefill(ctx context.Context, _ *struct{}) (*prefillOutput, error) {
	p, err := h.Dossier.Prefill(ctx)
	return &prefillOutput{Body: p}, h.problem(ctx, err)
}

type submitInput struct {
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"200" doc:"Makes a retry return the first dossier"`
	Body           struct {
		Service string         `json:"service" maxLength:"100" doc:"A service code of GET /services"`
		Data    map[string]any `json:"data,omitempty" doc:"The form: only what the registry does not hold"`
	}
}

type dossierOutput struct {
	Body dossierView
}

type assistedInput struct {
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"200" doc:"Makes a retry return the first dossier; the officer's own"`
	Body           struct {
		PID      string         `json:"pid" maxLength:"12" doc:"The applicant, present at the counter"`
		Passcode string         `json:"passcode" maxLength:"6" doc:"The applicant's e-ID passcode, typed in by the applicant"`
		Service  string         `json:"service" maxLength:"100" doc:"A service code of GET /services"`
		Data     map[string]any `json:"data,omitempty" doc:"The form: only what the registry does not hold"`
	}
}

func (h *handlers) submitAssisted(ctx context.Context, in *assistedInput) (*dossierOutput, error) {
	data, _ := json.Marshal(in.Body.Data)
	if in.Body.Data == nil {
		data = []byte(`{}`)
	}
	d, err := h.Dossier.SubmitAssisted(ctx, dossier.Assisted{PID: in.Body.PID, Passcode: in.Body.Passcode, Service: in.Body.Service,
		Data: data, IdempotencyKey: in.IdempotencyKey})
	return &dossierOutput{Body: view(d)}, h.problem(ctx, err)
}

func (h *handlers) submitDossier(ctx context.Context, in *submitInput) (*dossierOutput, error) {
	data, _ := json.Marshal(in.Body.Data)
	if in.Body.Data == nil {
		data = []byte(`{}`)
	}
	d, err := h.Dossier.Submit(ctx, in.Body.Service, data, in.IdempotencyKey)
	return &dossierOutput{Body: view(d)}, h.problem(ctx, err)
}

type dossiersOutput struct {
	Body []dossierView
}

func views(ds []dossier.Dossier) []dossierView {
	out := make([]dossierView, len(ds))
	for i, d := range ds {
		out[i] = view(d)
	}
	return out
}

type limitInput struct {
	Limit int `query:"limit" minimum:"0" maximum:"1000"`
}

func (h *handlers) myDossiers(ctx context.Context, in *limitInput) (*dossiersOutput, error) {
	ds, err := h.Dossier.Mine(ctx, in.Limit)
	return &dossiersOutput{Body: views(ds)}, h.problemQuery(ctx, err)
}

type queueInput struct {
	State   string `query:"state" enum:"submitted,received,info_requested,approved,refused,returned,withdrawn," doc:"Default: all open ones"`
	Overdue bool   `query:"overdue"`
	Limit   int    `query:"limit" minimum:"0" maximum:"1000"`
}

func (h *handlers) dossierQueue(ctx context.Context, in *queueInput) (*dossiersOutput, error) {
	ds, err := h.Dossier.Queue(ctx, dossier.State(in.State), in.Overdue, in.Limit)
	return &dossiersOutput{Body: views(ds)}, h.problemQuery(ctx, err)
}

type statsInput struct {
	Month string `query:"month" required:"true" doc:"YYYY-MM"`
}

type statsOutput struct {
	Body []dossier.Stat
}

func (h *handlers) dossierStats(ctx context.Context, in *statsInput) (*statsOutput, error) {
	st, err := h.Dossier.Stats(ctx, in.Month)
	return &statsOutput{Body: st}, h.problemQuery(ctx, err)
}

func (h *handlers) getDossier(ctx context.Context, in *idInput) (*dossierOutput, error) {
	d, err := h.Dossier.Get(ctx, in.ID)
	return &dossierOutput{Body: view(d)}, h.problem(ctx, err)
}

type noteInput struct {
	ID   string `path:"id" maxLength:"64"`
	Body *struct {
		Note string `json:"note,omitempty" maxLength:"2000" doc:"A note, or what information is missing (request-info)"`
	} `required:"false"`
}

func (h *handlers) receive(ctx context.Context, id, note string) (dossier.Dossier, error) {
	return h.Dossier.Receive(ctx, id, note)
}

func (h *handlers) requestInfo(ctx context.Context, id, note string) (dossier.Dossier, error) {
	d, err := h.Dossier.RequestInfo(ctx, id, note)
	if err != nil {
		err = renameField(err, "reasons", "note")
	}
	return d, err
}

func (h *handlers) withdraw(ctx context.Context, id, note string) (dossier.Dossier, error) {
	return h.Dossier.Withdraw(ctx, id, note)
}

func (h *handlers) dossierNote(fn func(ctx context.Context, id, note string) (dossier.Dossier, error)) func(context.Context, *noteInput) (*dossierOutput, error) {
	return func(ctx context.Context, in *noteInput) (*dossierOutput, error) {
		note := ""
		if in.Body != nil {
			note = in.Body.Note
		}
		d, err := fn(ctx, in.ID, note)
		return &dossierOutput{Body: view(d)}, h.problem(ctx, err)
	}
}

type supplementInput struct {
	ID   string `path:"id" maxLength:"64"`
	Body struct {
		Data map[string]any `json:"data"`
	}
}

func (h *handlers) supplement(ctx context.Context, in *supplementInput) (*dossierOutput, error) {
	data, _ := json.Marshal(in.Body.Data)
	d, err := h.Dossier.Supplement(ctx, in.ID, data)
	return &dossierOutput{Body: view(d)}, h.problem(ctx, err)
}

type decideDossierInput struct {
	ID   string `path:"id" maxLength:"64"`
	Body struct {
		Approve bool   `json:"approve"`
		Reasons string `json:"reasons,omitempty" maxLength:"2000" doc:"Required to refuse (CT06)"`
	}
}

func (h *handlers) decideDossier(ctx context.Context, in *decideDossierInput) (*dossierOutput, error) {
	d, err := h.Dossier.Decide(ctx, in.ID, in.Body.Approve, in.Body.Reasons)
	return &dossierOutput{Body: view(d)}, h.problem(ctx, err)
}

type resultOutput struct {
	Body struct {
		Dossier   string                `json:"dossier"`
		State     string                `json:"state" enum:"approved,returned,refused" doc:"The decision"`
		Text      string                `json:"text,omitempty" doc:"The outcome, when it is not a document; the reasons of a refusal (CT06)"`
		Document  *dossier.Confirmation `json:"document,omitempty" doc:"The signed content"`
		JWS       string                `json:"jws,omitempty" doc:"The signed document (compact JWS, ES256; keys at /.well-known/dancu-document-keys)"`
		VerifyURL string                `json:"verify_url,omitempty" doc:"The API operation that verifies a document (POST the JWS)"`
		ShortURL  string                `json:"short_url,omitempty" doc:"The document's verification page: what its QR code holds; anyone with it sees whether the document is valid and what it states"`
		QRPNG     string                `json:"qr_png,omitempty" doc:"A QR code of short_url, PNG, base64"`
	}
}

func (h *handlers) dossierResult(ctx context.Context, in *idInput) (*resultOutput, error) {
	d, err := h.Dossier.Get(ctx, in.ID)
	if err != nil {
		return nil, h.problem(ctx, err)
	}
	switch d.State {
	case dossier.Approved, dossier.Returned, dossier.Refused:
	default:
		// Nothing was decided: there is no result to give, and an empty
		// answer would read as one.
		return nil, h.problem(ctx, errs.E(errs.Conflict, "dossier %s is %s: it has a result once it is decided", d.Code, d.State))
	}
	out := &resultOutput{}
	out.Body.Dossier, out.Body.State = d.Code, string(d.State)
	if d.State == dossier.Refused {
		out.Body.Text = d.Reasons
		return out, nil
	}
	if d.Service != "residence.confirmation" {
		out.Body.Text = d.Result
		return out, nil
	}
	v, err := h.Dossier.Verify(ctx, d.Result)
	if err != nil {
		return nil, h.problem(ctx, err)
	}
	out.Body.Document, out.Body.JWS = v.Document, d.Result
	out.Body.VerifyURL = h.PublicURL + Prefix + "/documents/verify"
	code, err := h.Dossier.LinkOf(ctx, d)
	if err != nil {
		return nil, h.problem(ctx, err)
	}
	if code == "" {
		return out, nil // not decided yet: no document to point at
	}
	out.Body.ShortURL = h.PublicURL + dossier.LinkPath + code
	png, err := dossier.QR(out.Body.ShortURL)
	if err != nil {
		return nil, h.problem(ctx, err)
	}
	out.Body.QRPNG = base64.StdEncoding.EncodeToString(png)
	return out, nil
}

type verifyInput struct {
	Body struct {
		Document string `json:"document" maxLength:"20000" doc:"The signed document (compact JWS) as issued, e.g. read from its QR code"`
	}
}

type verifyOutput struct {
	Body dossier.Verification
}

func (h *handlers) verifyDocument(ctx context.Context, in *verifyInput) (*verifyOutput, error) {
	if _, ok := actor.From(ctx); !ok {
		// Anonymous: the check counts its failures against the address.
		ctx = actor.With(ctx, &actor.Actor{ID: "anonymous", Name: "anonymous", Source: sourceOf(ctx)})
	}
	v, err := h.Dossier.Check(ctx, in.Body.Document, false)
	return &verifyOutput{Body: v}, h.problem(ctx, err)
}

// renameField names an input field as the API calls it.
func renameField(err error, from, to string) error {
	var e *errs.Error
	if errors.As(err, &e) {
		for i := range e.Fields {
			if e.Fields[i].Field == from {
				e.Fields[i].Field = to
			}
		}
	}
	return err
}

func (h *handlers) consentDossier(ctx context.Context, in *idInput) (*dossierOutput, error) {
	d, err := h.Dossier.Consent(ctx, in.ID)
	return &dossierOutput{Body: view(d)}, h.problem(ctx, err)
}
