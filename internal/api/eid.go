package api

import (
	"context"
	"encoding/json"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/eid"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/sso"
)

func (h *handlers) eidRoutes(api huma.API) {
	huma.Register(api, op("eid-apply", "POST", "/eid/applications", "Apply online for a level-1 e-ID account (no login)", "e-ID", 201, anyone), h.eidApply)
	huma.Register(api, op("eid-apply-counter", "POST", "/eid/counter-applications", "Take an in-person level-2 application (officer)", "e-ID", 201, officers(access.ReviewEID)), h.eidApplyCounter)
	huma.Register(api, op("eid-queue", "GET", "/eid/applications", "Applications waiting for a decision in my jurisdiction, oldest deadline first", "e-ID", 0, officers(access.ReviewEID)), h.eidQueue)
	huma.Register(api, op("eid-application", "GET", "/eid/applications/{id}", "An application", "e-ID", 0, citizensOr(access.ReviewEID)), h.eidApplication)
	huma.Register(api, op("eid-decide", "POST", "/eid/applications/{id}/decision", "Approve or reject an application", "e-ID", 0, officers(access.ReviewEID)), h.eidDecide)
	huma.Register(api, op("eid-activation-start", "POST", "/eid/activation/code", "Send an activation code to the account's phone (no login)", "e-ID", 202, anyone), h.eidActivationStart)
	huma.Register(api, op("eid-activate", "POST", "/eid/activation", "Activate an account with the code, a password and a passcode (no login)", "e-ID", 0, anyone), h.eidActivate)
	huma.Register(api, op("eid-account", "GET", "/eid/accounts/{pid}", "An e-ID account (its holder or an officer)", "e-ID", 0, citizensOr(access.ReviewEID)), h.eidAccount)
	huma.Register(api, op("eid-lock", "POST", "/eid/accounts/{pid}/lock", "Lock an account (its holder or an officer)", "e-ID", 0, citizensOr(access.ReviewEID)), h.eidMove(true))
	huma.Register(api, op("eid-unlock", "POST", "/eid/accounts/{pid}/unlock", "Unlock an account", "e-ID", 0, citizensOr(access.ReviewEID)), h.eidMove(false))
	huma.Register(api, op("eid-logout-everywhere", "POST", "/eid/accounts/{pid}/logout-everywhere", "End every session of an account", "e-ID", 204, citizensOr(access.ReviewEID)), h.eidLogoutEverywhere)
	huma.Register(api, op("outbox", "GET", "/outbox", "Messages to a phone, e-mail or account and their delivery (administrators; their text only in --demo)", "e-ID", 0, officers(access.ManageOfficers)), h.outbox)
	huma.Register(api, op("totp-start", "POST", "/me/totp", "Set up an authenticator app as second factor (citizens)", "e-ID", 0, citizens), h.totpStart)
	huma.Register(api, op("totp-confirm", "POST", "/me/totp/confirm", "Turn the authenticator app on with a code from it (citizens)", "e-ID", 204, citizens), h.totpConfirm)
	huma.Register(api, op("totp-disable", "POST", "/me/totp/disable", "Turn the authenticator app off, confirmed by the passcode (citizens)", "e-ID", 204, citizens), h.totpDisable)
	huma.Register(api, op("attach-dependant", "POST", "/me/dependants", "Attach my child under 14 or my ward to my account (citizens)", "e-ID", 201, citizens), h.attachDependant)
	huma.Register(api, op("my-dependants", "GET", "/me/dependants", "The accounts attached to mine (citizens)", "e-ID", 0, citizens), h.myDependants)
	huma.Register(api, op("org-apply", "POST", "/me/organisations", "Register an organisation I represent (citizens with a level-2 account)", "e-ID", 201, citizens), h.orgApply)
	huma.Register(api, op("org-get", "GET", "/eid/organisations/{id}", "An organisation's e-ID (its representative or an officer)", "e-ID", 0, citizensOr(access.ReviewEID)), h.orgGet)
	huma.Register(api, op("org-decide", "POST", "/eid/organisations/{id}/decision", "Approve or reject an organisation", "e-ID", 0, officers(access.ReviewEID)), h.orgDecide)
	huma.Register(api, op("passkey-options", "POST", "/me/passkeys/options", "Begin adding a passkey: options for navigator.credentials.create (citizens)", "e-ID", 0, citizens), h.passkeyOptions)
	huma.Register(api, op("passkey-add", "POST", "/me/passkeys", "Finish adding a passkey with the authenticator's answer (citizens)", "e-ID", 201, citizens), h.passkeyAdd)
	huma.Register(api, op("passkey-list", "GET", "/me/passkeys", "My passkeys (citizens)", "e-ID", 0, citizens), h.passkeyList)
	huma.Register(api, op("passkey-remove", "DELETE", "/me/passkeys/{id}", "Remove a passkey (citizens)", "e-ID", 204, citizens), h.passkeyRemove)
	huma.Register(api, op("my-consents", "GET", "/me/consents", "What I agreed to share with each service (citizens)", "e-ID", 0, citizens), h.myConsents)
	huma.Register(api, op("revoke-consent", "DELETE", "/me/consents/{client}", "Withdraw a consent (citizens)", "e-ID", 204, citizens), h.revokeConsent)
	huma.Register(api, op("list-clients", "GET", "/oidc/clients", "OpenID relying parties (administrators)", "e-ID", 0, officers(access.ManageOfficers)), h.listClients)
	huma.Register(api, op("create-client", "POST", "/oidc/clients", "Register an OpenID relying party (administrators)", "e-ID", 201, officers(access.ManageOfficers)), h.createClient)
}

type applicationOutput struct {
	Body eid.Application
}

type eidApplyInput struct {
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"200" doc:"Makes a retry return the first application"`
	Body           eid.SelfApplication
}

// Receipt is what an online applicant is told: the application and its
// deadline, nothing the applicant did not send and no officer's name.
type Receipt struct {
	ID          string    `json:"id"`
	Level       eid.Level `json:"level"`
	State       string    `json:"state"`
	SubmittedAt time.Time `json:"submitted_at"`
	DueAt       time.Time `json:"due_at" doc:"The decision is due by then"`
}

type receiptOutput struct {
	Body Receipt
}

func (h *handlers) eidApply(ctx context.Context, in *eidApplyInput) (*receiptOutput, error) {
	// Whoever calls, the application is the anonymous applicant's: an
	// officer's or a citizen's token gives it no other scope.
	ctx = actor.With(ctx, &actor.Actor{ID: "anonymous", Kind: actor.Citizen, Name: "anonymous", Source: sourceOf(ctx)})
	in.Body.IdempotencyKey = in.IdempotencyKey
	app, err := h.EID.ApplySelf(ctx, in.Body)
	if err != nil {
		return nil, h.problem(ctx, err)
	}
	return &receiptOutput{Body: Receipt{ID: app.ID, Level: app.Level, State: string(app.State), SubmittedAt: app.SubmittedAt, DueAt: app.DueAt}}, nil
}

type eidCounterInput struct {
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"200" doc:"Makes a retry return the first application"`
	Body           eid.CounterApplication
}

func (h *handlers) eidApplyCounter(ctx context.Context, in *eidCounterInput) (*applicationOutput, error) {
	in.Body.IdempotencyKey = in.IdempotencyKey
	app, err := h.EID.ApplyAtCounter(ctx, in.Body)
	return &applicationOutput{Body: app}, h.problem(ctx, err)
}

type eidQueueInput struct {
	Overdue bool `query:"overdue" doc:"Only those past their deadline"`
	Limit   int  `query:"limit" minimum:"0" maximum:"1000" doc:"At most this many (default 100)"`
}

type applicationsOutput struct {
	Body []eid.Application
}

func (h *handlers) eidQueue(ctx context.Context, in *eidQueueInput) (*applicationsOutput, error) {
	apps, err := h.EID.Queue(ctx, in.Overdue, in.Limit)
	if apps == nil {
		apps = []eid.Application{}
	}
	return &applicationsOutput{Body: apps}, h.problemQuery(ctx, err)
}

type idInput struct {
	ID string `path:"id" maxLength:"64"`
}

func (h *handlers) eidApplication(ctx context.Context, in *idInput) (*applicationOutput, error) {
	app, err := h.EID.Application(ctx, in.ID)
	return &applicationOutput{Body: app}, h.problem(ctx, err)
}

type decideInput struct {
	ID   string `path:"id" maxLength:"64"`
	Body struct {
		Approve bool   `json:"approve"`
		Reason  string `json:"reason,omitempty" maxLength:"1000" doc:"Required to reject"`
	}
}

func (h *handlers) eidDecide(ctx context.Context, in *decideInput) (*applicationOutput, error) {
	app, err := h.EID.Decide(ctx, in.ID, in.Body.Approve, in.Body.Reason)
	return &applicationOutput{Body: app}, h.problem(ctx, err)
}

type activationStartInput struct {
	Body struct {
		PID   string `json:"pid"`
		Phone string `json:"phone,omitempty" doc:"The account's phone: the code goes by SMS"`
		Email string `json:"email,omitempty" maxLength:"254" doc:"Or the account's e-mail address: the code goes by e-mail"`
	}
}

func (h *handlers) eidActivationStart(ctx context.Context, in *activationStartInput) (*struct{}, error) {
	contact := in.Body.Phone
	if contact == "" {
		contact = in.Body.Email
		if contact == "" {
			return nil, h.problem(ctx, errs.Field("phone", "give the account's phone number or e-mail address"))
		}
	}
	return nil, h.problem(ctx, h.EID.StartActivation(ctx, in.Body.PID, contact))
}

type accountOutput struct {
	Body eid.Account
}

type activateInput struct {
	Body eid.Activation
}

func (h *handlers) eidActivate(ctx context.Context, in *activateInput) (*accountOutput, error) {
	acc, err := h.EID.Activate(ctx, in.Body)
	return &accountOutput{Body: acc}, h.problem(ctx, err)
}

type pidInput struct {
	PID string `path:"pid" maxLength:"12"`
}

func (h *handlers) eidAccount(ctx context.Context, in *pidInput) (*accountOutput, error) {
	acc, err := h.EID.Account(ctx, in.PID)
	return &accountOutput{Body: acc}, h.problemPath(ctx, err)
}

type eidMoveInput struct {
	PID  string `path:"pid" maxLength:"12"`
	Body *struct {
		Reason string `json:"reason,omitempty" maxLength:"500"`
	} `required:"false"`
}

func (h *handlers) eidMove(lock bool) func(context.Context, *eidMoveInput) (*accountOutput, error) {
	return func(ctx context.Context, in *eidMoveInput) (*accountOutput, error) {
		move := h.EID.Unlock
		if lock {
			move = h.EID.Lock
		}
		reason := ""
		if in.Body != nil {
			reason = in.Body.Reason
		}
		acc, err := move(ctx, in.PID, reason)
		return &accountOutput{Body: acc}, h.problemPath(ctx, err)
	}
}

func (h *handlers) eidLogoutEverywhere(ctx context.Context, in *pidInput) (*struct{}, error) {
	return nil, h.problemPath(ctx, h.EID.LogoutEverywhere(ctx, in.PID))
}

type outboxInput struct {
	Recipient string `query:"recipient" maxLength:"254" required:"true"`
}

type outboxOutput struct {
	Body []eid.OutboxEntry
}

func (h *handlers) outbox(ctx context.Context, in *outboxInput) (*outboxOutput, error) {
	m, err := h.EID.Messages(ctx, in.Recipient, 20)
	if m == nil {
		m = []eid.OutboxEntry{}
	}
	return &outboxOutput{Body: m}, h.problemQuery(ctx, err)
}

type consentsOutput struct {
	Body []sso.Consent
}

func citizenOf(ctx context.Context) (string, error) {
	a, ok := actor.From(ctx)
	if !ok {
		return "", errs.E(errs.Unauthenticated, "log in first")
	}
	if a.Kind != actor.Citizen {
		return "", errs.E(errs.Forbidden, "only for citizens logged in with their e-ID")
	}
	return a.ID, nil
}

func (h *handlers) myConsents(ctx context.Context, _ *struct{}) (*consentsOutput, error) {
	pid, err := citizenOf(ctx)
	if err != nil {
		return nil, h.problem(ctx, err)
	}
	c, err := h.SSO.Consents(ctx, pid)
	if c == nil {
		c = []sso.Consent{}
	}
	return &consentsOutput{Body: c}, h.problem(ctx, err)
}

type clientPathInput struct {
	Client string `path:"client" maxLength:"64"`
}

func (h *handlers) revokeConsent(ctx context.Context, in *clientPathInput) (*struct{}, error) {
	pid, err := citizenOf(ctx)
	if err != nil {
		return nil, h.problem(ctx, err)
	}
	return nil, h.problem(ctx, h.SSO.RevokeConsent(ctx, pid, in.Client))
}

type clientsOutput struct {
	Body []sso.Client
}

func (h *handlers) listClients(ctx context.Context, _ *struct{}) (*clientsOutput, error) {
	c, err := h.SSO.Clients(ctx)
	if c == nil {
		c = []sso.Client{}
	}
	return &clientsOutput{Body: c}, h.problem(ctx, err)
}

type createClientInput struct {
	Body sso.NewClient
}

type createClientOutput struct {
	Body struct {
		Client sso.Client `json:"client"`
		Secret string     `json:"secret,omitempty" doc:"Shown once: only its hash is kept"`
	}
}

func (h *handlers) createClient(ctx context.Context, in *createClientInput) (*createClientOutput, error) {
	c, secret, err := h.SSO.CreateClient(ctx, in.Body)
	out := &createClientOutput{}
	out.Body.Client, out.Body.Secret = c, secret
	return out, h.problem(ctx, err)
}

type totpOutput struct {
	Body eid.TOTPEnrolment
}

func (h *handlers) totpStart(ctx context.Context, _ *struct{}) (*totpOutput, error) {
	pid, err := citizenOf(ctx)
	if err != nil {
		return nil, h.problem(ctx, err)
	}
	e, err := h.EID.StartTOTP(ctx, pid)
	return &totpOutput{Body: e}, h.problem(ctx, err)
}

type totpCodeInput struct {
	Body struct {
		Code string `json:"code" maxLength:"6" doc:"The 6 digits the app shows"`
	}
}

func (h *handlers) totpConfirm(ctx context.Context, in *totpCodeInput) (*struct{}, error) {
	pid, err := citizenOf(ctx)
	if err != nil {
		return nil, h.problem(ctx, err)
	}
	return nil, h.problem(ctx, h.EID.ConfirmTOTP(ctx, pid, in.Body.Code))
}

type passcodeInput struct {
	Body struct {
		Passcode string `json:"passcode" maxLength:"6"`
	}
}

func (h *handlers) totpDisable(ctx context.Context, in *passcodeInput) (*struct{}, error) {
	pid, err := citizenOf(ctx)
	if err != nil {
		return nil, h.problem(ctx, err)
	}
	return nil, h.problem(ctx, h.EID.DisableTOTP(ctx, pid, in.Body.Passcode))
}

type dependantInput struct {
	Body struct {
		PID string `json:"pid" doc:"The child's or ward's personal ID number"`
	}
}

type dependantOutput struct {
	Body eid.Dependant
}

func (h *handlers) attachDependant(ctx context.Context, in *dependantInput) (*dependantOutput, error) {
	pid, err := citizenOf(ctx)
	if err != nil {
		return nil, h.problem(ctx, err)
	}
	d, err := h.EID.AttachDependant(ctx, pid, in.Body.PID)
	return &dependantOutput{Body: d}, h.problem(ctx, err)
}

type dependantsOutput struct {
	Body []string
}

func (h *handlers) myDependants(ctx context.Context, _ *struct{}) (*dependantsOutput, error) {
	pid, err := citizenOf(ctx)
	if err != nil {
		return nil, h.problem(ctx, err)
	}
	d, err := h.EID.Dependants(ctx, pid)
	if d == nil {
		d = []string{}
	}
	return &dependantsOutput{Body: d}, h.problem(ctx, err)
}

type orgApplyInput struct {
	Body eid.NewOrganisation
}

type orgOutput struct {
	Body eid.Organisation
}

func (h *handlers) orgApply(ctx context.Context, in *orgApplyInput) (*orgOutput, error) {
	pid, err := citizenOf(ctx)
	if err != nil {
		return nil, h.problem(ctx, err)
	}
	o, err := h.EID.ApplyOrganisation(ctx, pid, in.Body)
	return &orgOutput{Body: o}, h.problem(ctx, err)
}

func (h *handlers) orgGet(ctx context.Context, in *idInput) (*orgOutput, error) {
	o, err := h.EID.Organisation(ctx, in.ID)
	return &orgOutput{Body: o}, h.problem(ctx, err)
}

func (h *handlers) orgDecide(ctx context.Context, in *decideInput) (*orgOutput, error) {
	o, err := h.EID.DecideOrganisation(ctx, in.ID, in.Body.Approve, in.Body.Reason)
	return &orgOutput{Body: o}, h.problem(ctx, err)
}

// rp is the WebAuthn relying party: the configured public URL's host.
func (h *handlers) rp(context.Context) eid.RP {
	return h.SSO.RP("", false)
}

type passkeyOptionsOutput struct {
	Body struct {
		Options  map[string]any `json:"options" doc:"Give options.publicKey to navigator.credentials.create"`
		Ceremony string         `json:"ceremony" doc:"Send back with the answer"`
	}
}

func (h *handlers) passkeyOptions(ctx context.Context, _ *struct{}) (*passkeyOptionsOutput, error) {
	pid, err := citizenOf(ctx)
	if err != nil {
		return nil, h.problem(ctx, err)
	}
	raw, ceremony, err := h.EID.BeginPasskeyRegistration(ctx, h.rp(ctx), pid)
	if err != nil {
		return nil, h.problem(ctx, err)
	}
	out := &passkeyOptionsOutput{}
	out.Body.Ceremony = ceremony
	return out, h.problem(ctx, json.Unmarshal(raw, &out.Body.Options))
}

type passkeyAddInput struct {
	Body struct {
		Ceremony   string         `json:"ceremony" maxLength:"64"`
		Name       string         `json:"name" maxLength:"100" doc:"What to call it, e.g. my phone"`
		Credential map[string]any `json:"credential" doc:"The PublicKeyCredential from navigator.credentials.create, binary fields base64url"`
	}
}

type passkeyOutput struct {
	Body eid.Passkey
}

func (h *handlers) passkeyAdd(ctx context.Context, in *passkeyAddInput) (*passkeyOutput, error) {
	pid, err := citizenOf(ctx)
	if err != nil {
		return nil, h.problem(ctx, err)
	}
	raw, _ := json.Marshal(in.Body.Credential)
	p, err := h.EID.FinishPasskeyRegistration(ctx, h.rp(ctx), pid, in.Body.Ceremony, in.Body.Name, raw)
	return &passkeyOutput{Body: p}, h.problem(ctx, err)
}

type passkeysOutput struct {
	Body []eid.Passkey
}

func (h *handlers) passkeyList(ctx context.Context, _ *struct{}) (*passkeysOutput, error) {
	pid, err := citizenOf(ctx)
	if err != nil {
		return nil, h.problem(ctx, err)
	}
	p, err := h.EID.Passkeys(ctx, pid)
	if p == nil {
		p = []eid.Passkey{}
	}
	return &passkeysOutput{Body: p}, h.problem(ctx, err)
}

func (h *handlers) passkeyRemove(ctx context.Context, in *idInput) (*struct{}, error) {
	pid, err := citizenOf(ctx)
	if err != nil {
		return nil, h.problem(ctx, err)
	}
	return nil, h.problem(ctx, h.EID.RemovePasskey(ctx, pid, in.ID))
}
