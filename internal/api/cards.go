package api

import (
	"context"
	"encoding/base64"
	"strconv"

	"github.com/danielgtaylor/huma/v2"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/card"
	"github.com/dancu-vn/dancu/internal/errs"
)

func (h *handlers) cardRoutes(api huma.API) {
	// The bodies that carry a face image are sized from card.MaxPhoto (in
	// base64), so that what the counter takes, production puts on the chip
	// and a relying party sends back all fit.
	apply := op("card-apply", "POST", "/cards/applications", "Take a card application at the counter (officers)", "cards", 201, officers(access.WriteCitizen))
	apply.MaxBodyBytes = base64Len(card.MaxPhoto) + 10*base64Len(card.MaxTemplate) + 8<<10
	huma.Register(api, apply, h.cardApply)
	huma.Register(api, op("card-decide", "POST", "/cards/applications/{id}/decision", "Approve or reject a card application", "cards", 0, officers(access.WriteCitizen)), h.cardDecide)
	huma.Register(api, op("card-produce", "POST", "/cards/applications/{id}/produce", "Produce the card: printed data, the signed chip and, once, its personalisation with the chip's private keys", "cards", 201, officers(access.WriteCitizen)), h.cardProduce)
	huma.Register(api, op("card-batch", "POST", "/cards/batches", "Produce a commune's approved applications as one batch", "cards", 201, officers(access.WriteCitizen)), h.cardBatch)
	huma.Register(api, op("card-deliver", "POST", "/cards/{id}/delivered", "Record that a card was handed to its holder", "cards", 204, officers(access.WriteCitizen)), h.cardDeliver)
	huma.Register(api, op("card-counts", "GET", "/cards/counts", "Applications received, cards printed and delivered, per commune of my jurisdiction", "cards", 0, officers(access.ReadCitizen)), h.cardCounts)
	huma.Register(api, op("card-lost", "POST", "/cards/{pid}/lost", "Report a person's active card lost", "cards", 204, officers(access.WriteCitizen)), h.cardLost)
	huma.Register(api, op("card-chip", "GET", "/cards/{id}/chip", "What the card's chip holds (EF.SOD and data groups), for the card personalisation machine (officers)", "cards", 0, officers(access.WriteCitizen)), h.cardChip)
	verify := op("card-verify", "POST", "/cards/verify", "Passive authentication of what a reader took from a chip (any authenticated party)", "cards", 0, signedIn)
	verify.MaxBodyBytes = base64Len(card.MaxChip) + 8<<10
	huma.Register(api, verify, h.cardVerify)
}

// base64Len is the length of n bytes in standard base64.
func base64Len(n int) int64 { return int64(base64.StdEncoding.EncodedLen(n)) }

type cardApplyInput struct {
	Body card.Intake
}

type cardAppOutput struct {
	Body card.CardApplication
}

func (h *handlers) cardApply(ctx context.Context, in *cardApplyInput) (*cardAppOutput, error) {
	a, err := h.Cards.Apply(ctx, in.Body)
	return &cardAppOutput{Body: a}, h.problem(ctx, err)
}

type cardDecideInput struct {
	ID   string `path:"id" maxLength:"64"`
	Body struct {
		Approve bool   `json:"approve"`
		Note    string `json:"note,omitempty" maxLength:"500"`
	}
}

func (h *handlers) cardDecide(ctx context.Context, in *cardDecideInput) (*cardAppOutput, error) {
	a, err := h.Cards.Decide(ctx, in.ID, in.Body.Approve, in.Body.Note)
	return &cardAppOutput{Body: a}, h.problem(ctx, err)
}

type cardOutput struct {
	Body card.Card
}

func (h *handlers) cardProduce(ctx context.Context, in *idInput) (*cardOutput, error) {
	c, err := h.Cards.Produce(ctx, in.ID)
	return &cardOutput{Body: c}, h.problem(ctx, err)
}

func (h *handlers) cardLost(ctx context.Context, in *pidInput) (*struct{}, error) {
	return nil, h.problemPath(ctx, h.Cards.ReportLost(ctx, in.PID))
}

type cardVerifyInput struct {
	Body struct {
		SOD             []byte            `json:"sod" maxLength:"100000" doc:"EF.SOD as read, base64"`
		COM             []byte            `json:"com,omitempty" maxLength:"1000" doc:"EF.COM as read, base64; when sent, it must list the data groups the SOD hashes"`
		DataGroups      map[string][]byte `json:"data_groups" doc:"The data groups read, by number (\"1\", \"2\", \"13\", \"14\", \"15\"), base64"`
		CompareRegistry bool              `json:"compare_registry,omitempty" doc:"Also compare the chip's name, date of birth and sex (DG13, else DG1) with the registry now; for member agencies with the verify service"`
		Purpose         string            `json:"purpose,omitempty" maxLength:"200" doc:"The declared purpose of the comparison"`
		AA              *struct {
			Challenge []byte `json:"challenge" doc:"The 8 bytes the caller chose and the reader sent the chip (INTERNAL AUTHENTICATE), base64"`
			Signature []byte `json:"signature" maxLength:"200" doc:"The chip's answer: the plain ECDSA signature r‖s (64 bytes) over SHA-256 of the challenge, as ActiveAuthenticationInfo in DG14 names (ecdsa-plain-SHA256), base64"`
		} `json:"active_authentication,omitempty" doc:"Active Authentication: checked against DG15's key (send DG14 and DG15); check active_authentication, never valid when it fails"`
		CA *struct {
			TerminalKey []byte `json:"terminal_private_key" maxLength:"100" doc:"The terminal's ephemeral P-256 private key (32 bytes, base64), used for this check only: its public key (uncompressed) went to the chip"`
			Token       []byte `json:"token" maxLength:"100" doc:"The chip's authentication token: the first 8 bytes of AES-CMAC under K_MAC (SHA-1 of the ECDH secret and 00000002, 16 bytes) over the terminal's public key, base64"`
		} `json:"chip_authentication,omitempty" doc:"Chip Authentication without a reader's secure messaging: checked against DG14's key (send DG14); check chip_authentication"`
	}
}

type cardVerifyOutput struct {
	Body card.PassiveAuthResult
}

func (h *handlers) cardVerify(ctx context.Context, in *cardVerifyInput) (*cardVerifyOutput, error) {
	groups := map[int][]byte{}
	for k, v := range in.Body.DataGroups {
		n, err := strconv.Atoi(k)
		if err != nil || n < 1 || n > 16 {
			return nil, h.problem(ctx, errs.Field("data_groups", "%q is not a data group number 1–16", k))
		}
		groups[n] = v
	}
	opts := card.VerifyOptions{CompareRegistry: in.Body.CompareRegistry, Purpose: in.Body.Purpose, COM: in.Body.COM}
	if aa := in.Body.AA; aa != nil {
		if len(aa.Challenge) != card.ChallengeSize {
			return nil, h.problem(ctx, errs.Field("active_authentication.challenge", "must be %d bytes", card.ChallengeSize))
		}
		opts.AA = &card.AAProof{Challenge: aa.Challenge, Signature: aa.Signature}
	}
	if ca := in.Body.CA; ca != nil {
		opts.CA = &card.CAProof{TerminalKey: ca.TerminalKey, Token: ca.Token}
	}
	v, err := h.Cards.Verify(ctx, in.Body.SOD, groups, opts)
	return &cardVerifyOutput{Body: v}, h.problem(ctx, err)
}

type batchInput struct {
	Body struct {
		Commune string `json:"commune" maxLength:"5"`
		Limit   int    `json:"limit,omitempty" minimum:"0" maximum:"10000"`
	}
}

type batchOutput struct {
	Body card.Batch
}

func (h *handlers) cardBatch(ctx context.Context, in *batchInput) (*batchOutput, error) {
	b, err := h.Cards.ProduceBatch(ctx, in.Body.Commune, in.Body.Limit)
	return &batchOutput{Body: b}, h.problem(ctx, err)
}

func (h *handlers) cardDeliver(ctx context.Context, in *idInput) (*struct{}, error) {
	return nil, h.problem(ctx, h.Cards.Deliver(ctx, in.ID))
}

type countsOutput struct {
	Body []card.UnitCounts
}

func (h *handlers) cardCounts(ctx context.Context, _ *struct{}) (*countsOutput, error) {
	c, err := h.Cards.Counts(ctx)
	return &countsOutput{Body: c}, h.problem(ctx, err)
}

// Chip is what a card's chip holds.
type Chip struct {
	SOD        []byte            `json:"sod" doc:"EF.SOD, base64"`
	COM        []byte            `json:"com" doc:"EF.COM (LDS version, Unicode version, the tag list of the data groups), base64"`
	DataGroups map[string][]byte `json:"data_groups" doc:"The data groups by number, base64"`
}

type chipOutput struct {
	Body Chip
}

func (h *handlers) cardChip(ctx context.Context, in *idInput) (*chipOutput, error) {
	sod, com, groups, err := h.Cards.Chip(ctx, in.ID)
	if err != nil {
		return nil, h.problem(ctx, err)
	}
	out := Chip{SOD: sod, COM: com, DataGroups: map[string][]byte{}}
	for n, g := range groups {
		out.DataGroups[strconv.Itoa(n)] = g
	}
	return &chipOutput{Body: out}, nil
}
