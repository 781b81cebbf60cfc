package api

import (
	"context"

	"github.com/danielgtaylor/huma/v2"

	"github.com/dancu-vn/dancu/internal/exchange"
)

func (h *handlers) exchangeRoutes(api huma.API) {
	huma.Register(api, op("create-agency", "POST", "/agencies", "Register a member agency of the exchange hub (administrators)", "exchange", 201), h.createAgency)
	huma.Register(api, op("verify", "POST", "/verify", "Yes/no verification of a person, signed (agencies with the verify service)", "exchange", 0), h.verify)
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
