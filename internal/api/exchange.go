package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/danielgtaylor/huma/v2"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/events"
	"github.com/dancu-vn/dancu/internal/exchange"
)

func (h *handlers) exchangeRoutes(api huma.API) {
	huma.Register(api, op("create-agency", "POST", "/agencies", "Register a member agency of the exchange hub (administrators)", "exchange", 201, officers(access.ManageOfficers)), h.createAgency)
	huma.Register(api, op("set-agency-disabled", "PUT", "/agencies/{agency}/disabled", "Stop or restart a member's access (administrators)", "exchange", 204, officers(access.ManageOfficers)), h.setAgencyDisabled)
	huma.Register(api, op("verify", "POST", "/verify", "Yes/no verification of a person, signed (agencies with the verify service)", "exchange", 0, agencies(access.VerifyCitizen)), h.verify)
	huma.Register(api, op("query", "POST", "/query", "Read the fields of a person the agency's mandate and the citizen's consent allow (agencies with the query service)", "exchange", 0, agencies(access.QueryCitizen)), h.query)
	huma.Register(api, op("grant-agency-consent", "POST", "/me/agency-consents", "Allow a business member to read some of my fields for a purpose (citizens)", "exchange", 201, citizens), h.grantAgencyConsent)
	huma.Register(api, op("agency-consents", "GET", "/me/agency-consents", "What I allow members to read (citizens)", "exchange", 0, citizens), h.agencyConsents)
	batchOp := op("submit-verify-job", "POST", "/verify-jobs", "Batch verification: upload JSON Lines of {pid, claims}; checked in the background (agencies)", "exchange", 202, agencies(access.VerifyCitizen))
	batchOp.MaxBodyBytes = maxJobBytes
	// The file is read as it arrives, not by huma into memory first.
	batchOp.RequestBody = &huma.RequestBody{Required: true, Description: "JSON Lines of {pid, claims}, at most 500,000 records and 100 MiB",
		Content: map[string]*huma.MediaType{"application/x-ndjson": {Schema: &huma.Schema{Type: "string"}}}}
	batchOp.Responses = map[string]*huma.Response{"429": {Description: "The agency or the service runs as many batch jobs as it may; see Retry-After"}}
	huma.Register(api, batchOp, h.submitVerifyJob)
	huma.Register(api, op("verify-job", "GET", "/verify-jobs/{id}", "A batch verification's progress", "exchange", 0, agencies(access.VerifyCitizen)), h.verifyJob)
	resultsOp := op("verify-job-results", "GET", "/verify-jobs/{id}/results", "A finished batch's answers, JSON Lines in input order", "exchange", 0, agencies(access.VerifyCitizen))
	resultsOp.Responses = map[string]*huma.Response{"200": {Description: "JSON Lines of {line, pid, match, fields, error}, streamed",
		Content: map[string]*huma.MediaType{"application/x-ndjson": {Schema: &huma.Schema{Type: "string"}}}}}
	huma.Register(api, resultsOp, h.verifyJobResults)
	enrichOp := op("enrich", "POST", "/enrichment", "Send sector records (JSON Lines) to be tied to citizens; returns the match report (agencies with the enrich service)", "exchange", 0, agencies(access.EnrichRegistry))
	enrichOp.MaxBodyBytes = maxJobBytes
	enrichOp.RequestBody = &huma.RequestBody{Required: true, Description: "JSON Lines of sector records, at most 100 MiB",
		Content: map[string]*huma.MediaType{"application/x-ndjson": {Schema: &huma.Schema{Type: "string"}}}}
	huma.Register(api, enrichOp, h.enrich)
	huma.Register(api, op("disagreements", "GET", "/data-quality/disagreements", "Sector records that disagree with the registry (administrators)", "exchange", 0, officers(access.ManageOfficers)), h.disagreements)
	huma.Register(api, op("subscribe", "POST", "/subscriptions", "Subscribe to change events by signed webhook (agencies with the events service)", "exchange", 201, agencies(access.SubscribeEvents)), h.subscribe)
	huma.Register(api, op("dead-letters", "GET", "/subscriptions/{id}/dead-letters", "Events given up on after the retries", "exchange", 0, agencies(access.SubscribeEvents)), h.deadLetters)
	huma.Register(api, op("replay", "POST", "/subscriptions/{id}/replay", "Deliver again every event from a given one on", "exchange", 0, agencies(access.SubscribeEvents)), h.replay)
	huma.Register(api, op("revoke-agency-consent", "DELETE", "/me/agency-consents/{agency}", "Withdraw a consent (citizens)", "exchange", 204, citizens), h.revokeAgencyConsent)
}

type queryInput struct {
	Body exchange.Query
}

type queryOutput struct {
	Body exchange.QueryResult
}

func (h *handlers) query(ctx context.Context, in *queryInput) (*queryOutput, error) {
	r, err := h.Exchange.Query(ctx, in.Body)
	return &queryOutput{Body: r}, h.problem(ctx, err)
}

type grantConsentInput struct {
	Body struct {
		Agency  string   `json:"agency" maxLength:"64"`
		Fields  []string `json:"fields" maxItems:"30"`
		Purpose string   `json:"purpose" maxLength:"200"`
		Days    int      `json:"days" minimum:"1" maximum:"365"`
	}
}

type agencyConsentOutput struct {
	Body exchange.AgencyConsent
}

func (h *handlers) grantAgencyConsent(ctx context.Context, in *grantConsentInput) (*agencyConsentOutput, error) {
	c, err := h.Exchange.GrantConsent(ctx, in.Body.Agency, in.Body.Fields, in.Body.Purpose, in.Body.Days)
	return &agencyConsentOutput{Body: c}, h.problem(ctx, err)
}

type agencyConsentsOutput struct {
	Body []exchange.AgencyConsent
}

func (h *handlers) agencyConsents(ctx context.Context, _ *struct{}) (*agencyConsentsOutput, error) {
	c, err := h.Exchange.Consents(ctx)
	return &agencyConsentsOutput{Body: c}, h.problem(ctx, err)
}

type agencyPathInput struct {
	Agency string `path:"agency" maxLength:"64"`
}

func (h *handlers) revokeAgencyConsent(ctx context.Context, in *agencyPathInput) (*struct{}, error) {
	return nil, h.problem(ctx, h.Exchange.RevokeConsent(ctx, in.Agency))
}

type agencyInput struct {
	Body exchange.Agency
}

type agencyOutput struct {
	Body exchange.Agency
}

func (h *handlers) createAgency(ctx context.Context, in *agencyInput) (*agencyOutput, error) {
	a, err := h.Exchange.CreateAgency(ctx, in.Body)
	return &agencyOutput{Body: a}, h.problem(ctx, err)
}

type verifyRequest struct {
	Body exchange.Request
}

type verifyAnswer struct {
	Body exchange.Answer
}

func (h *handlers) verify(ctx context.Context, in *verifyRequest) (*verifyAnswer, error) {
	a, err := h.Exchange.Verify(ctx, in.Body)
	return &verifyAnswer{Body: a}, h.problem(ctx, err)
}

type subscribeInput struct {
	Body struct {
		URL   string   `json:"url" maxLength:"2000" doc:"The webhook: https to a public host (the operator may allow other hosts for tests)"`
		Types []string `json:"types" maxItems:"20" doc:"Event types, e.g. vn.dancu.residence.changed"`
	}
}

type subscribeOutput struct {
	Body struct {
		Subscription events.Subscription `json:"subscription"`
		Secret       string              `json:"secret" doc:"HMAC key of webhook-signature (Standard Webhooks), shown once"`
	}
}

func (h *handlers) subscribe(ctx context.Context, in *subscribeInput) (*subscribeOutput, error) {
	sub, secret, err := h.Events.Subscribe(ctx, in.Body.URL, in.Body.Types)
	out := &subscribeOutput{}
	out.Body.Subscription, out.Body.Secret = sub, secret
	return out, h.problem(ctx, err)
}

type deadLettersOutput struct {
	Body []events.DeadLetter
}

func (h *handlers) deadLetters(ctx context.Context, in *idInput) (*deadLettersOutput, error) {
	d, err := h.Events.DeadLetters(ctx, in.ID)
	return &deadLettersOutput{Body: d}, h.problem(ctx, err)
}

type replayInput struct {
	ID   string `path:"id" maxLength:"64"`
	Body struct {
		From string `json:"from" maxLength:"64" doc:"Event ID to start from (inclusive)"`
	}
}

type replayOutput struct {
	Body struct {
		Queued int `json:"queued"`
	}
}

func (h *handlers) replay(ctx context.Context, in *replayInput) (*replayOutput, error) {
	n, err := h.Events.Replay(ctx, in.ID, in.Body.From)
	out := &replayOutput{}
	out.Body.Queued = n
	return out, h.problem(ctx, err)
}

// maxJobBytes is the largest batch file.
const maxJobBytes = 100 << 20

type submitJobInput struct {
	Purpose string `query:"purpose" required:"true" maxLength:"200" doc:"One of the agency's declared purposes"`
	body    io.Reader
}

// Resolve keeps the request body to be read as it arrives.
func (in *submitJobInput) Resolve(ctx huma.Context) []error {
	in.body = &limitedBody{r: ctx.BodyReader(), left: maxJobBytes}
	return nil
}

// limitedBody refuses a body beyond its limit, as http.MaxBytesReader does.
type limitedBody struct {
	r    io.Reader
	left int64
}

func (l *limitedBody) Read(p []byte) (int, error) {
	if l.left < 0 {
		return 0, &http.MaxBytesError{Limit: maxJobBytes}
	}
	if int64(len(p)) > l.left+1 {
		p = p[:l.left+1]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if l.left < 0 {
		return n, &http.MaxBytesError{Limit: maxJobBytes}
	}
	return n, err
}

type jobOutput struct {
	Body exchange.Job
}

func (h *handlers) submitVerifyJob(ctx context.Context, in *submitJobInput) (*jobOutput, error) {
	j, err := h.Exchange.SubmitBatch(ctx, in.Purpose, in.body)
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return nil, huma.NewError(http.StatusRequestEntityTooLarge, fmt.Sprintf("a batch file holds at most %d bytes: split it", tooLarge.Limit))
	case errs.Is(err, errs.TooMany):
		return nil, huma.ErrorWithHeaders(h.problem(ctx, err), http.Header{"Retry-After": {strconv.Itoa(exchange.JobRetryAfter)}})
	}
	return &jobOutput{Body: j}, h.problem(ctx, err)
}

func (h *handlers) verifyJob(ctx context.Context, in *idInput) (*jobOutput, error) {
	j, err := h.Exchange.Job(ctx, in.ID)
	return &jobOutput{Body: j}, h.problem(ctx, err)
}

// verifyJobResults streams the answers from the store to the caller:
// a job of 500,000 records is never held whole in memory.
func (h *handlers) verifyJobResults(ctx context.Context, in *idInput) (*huma.StreamResponse, error) {
	write, err := h.Exchange.OpenResults(ctx, in.ID)
	if err != nil {
		return nil, h.problem(ctx, err)
	}
	return &huma.StreamResponse{Body: func(hctx huma.Context) {
		hctx.SetHeader("Content-Type", "application/x-ndjson")
		if err := write(hctx.BodyWriter()); err != nil && ctx.Err() == nil {
			// The answer has started: all that can be done is to cut
			// it short, which the client sees as an incomplete body.
			h.Log.ErrorContext(ctx, "stream batch results", "job", in.ID, "err", err)
			panic(http.ErrAbortHandler)
		}
	}}, nil
}

type enrichInput struct {
	Kind string `query:"kind" required:"true" maxLength:"40" doc:"What the records are, e.g. social_insurance"`
	body io.Reader
}

// Resolve keeps the request body to be read as it arrives.
func (in *enrichInput) Resolve(ctx huma.Context) []error {
	in.body = &limitedBody{r: ctx.BodyReader(), left: maxJobBytes}
	return nil
}

type enrichOutput struct {
	Body exchange.EnrichReport
}

func (h *handlers) enrich(ctx context.Context, in *enrichInput) (*enrichOutput, error) {
	r, err := h.Exchange.Enrich(ctx, in.Kind, in.body)
	if tooLarge := new(http.MaxBytesError); errors.As(err, &tooLarge) {
		return nil, huma.NewError(http.StatusRequestEntityTooLarge, fmt.Sprintf("a file holds at most %d bytes: split it", tooLarge.Limit))
	}
	return &enrichOutput{Body: r}, h.problemQuery(ctx, err)
}

type disagreementsOutput struct {
	Body []exchange.Disagreement
}

func (h *handlers) disagreements(ctx context.Context, in *limitInput) (*disagreementsOutput, error) {
	d, err := h.Exchange.Disagreements(ctx, in.Limit)
	return &disagreementsOutput{Body: d}, h.problemQuery(ctx, err)
}

type agencyDisabledInput struct {
	Agency string `path:"agency" maxLength:"64"`
	Body   struct {
		Disabled bool `json:"disabled"`
	}
}

func (h *handlers) setAgencyDisabled(ctx context.Context, in *agencyDisabledInput) (*struct{}, error) {
	return nil, h.problem(ctx, h.Exchange.SetDisabled(ctx, in.Agency, in.Body.Disabled))
}
