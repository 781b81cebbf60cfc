package api

import (
	"context"
	"strconv"

	"github.com/danielgtaylor/huma/v2"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/card"
	"github.com/dancu-vn/dancu/internal/eid"
	"github.com/dancu-vn/dancu/internal/errs"
)

// Moving an account to a new phone at a counter: the counter's reader
// asks for a challenge, has the chip sign it, and sends what it read with
// the new number.
func (h *handlers) rebindRoutes(api huma.API) {
	huma.Register(api, op("card-challenge", "POST", "/cards/challenges", "A challenge for the counter's reader to send the chip (Active Authentication), for 5 minutes and one use (officers)", "cards", 201, officers(access.ReviewEID)), h.cardChallenge)
	rebind := op("eid-rebind", "POST", "/eid/accounts/{pid}/rebind", "Move an account to a new phone at a counter: the card in the reader and the face checked (officers)", "e-ID", 0, officers(access.ReviewEID))
	rebind.MaxBodyBytes = base64Len(card.MaxChip) + 8<<10
	huma.Register(api, rebind, h.eidRebind)
}

type challengeOutput struct {
	Body card.Challenge
}

func (h *handlers) cardChallenge(ctx context.Context, _ *struct{}) (*challengeOutput, error) {
	c, err := h.Cards.NewChallenge(ctx)
	return &challengeOutput{Body: c}, h.problem(ctx, err)
}

type rebindInput struct {
	PID  string `path:"pid" maxLength:"12"`
	Body struct {
		Phone       string `json:"phone" doc:"The new mobile number"`
		Email       string `json:"email,omitempty" maxLength:"254" doc:"A new e-mail address; empty keeps the one on file"`
		FaceChecked bool   `json:"face_checked" doc:"The officer compared the person's face with the card's photo"`
		Card        struct {
			ChallengeID string            `json:"challenge_id" maxLength:"64" doc:"From POST /cards/challenges"`
			SOD         []byte            `json:"sod" maxLength:"100000" doc:"EF.SOD as read, base64"`
			DataGroups  map[string][]byte `json:"data_groups" doc:"The data groups read, by number, base64 (DG14 and DG15 for Active Authentication)"`
			Signature   []byte            `json:"active_authentication_signature,omitempty" maxLength:"200" doc:"The chip's signature over the challenge (plain ECDSA r‖s), base64"`
		} `json:"card"`
	}
}

func (h *handlers) eidRebind(ctx context.Context, in *rebindInput) (*accountOutput, error) {
	groups := map[int][]byte{}
	for k, v := range in.Body.Card.DataGroups {
		n, err := strconv.Atoi(k)
		if err != nil || n < 1 || n > 16 {
			return nil, h.problem(ctx, errs.Field("card.data_groups", "%q is not a data group number 1–16", k))
		}
		groups[n] = v
	}
	b := in.Body
	acc, err := h.EID.Rebind(ctx, eid.Rebinding{PID: in.PID, Phone: b.Phone, Email: b.Email, FaceChecked: b.FaceChecked,
		Card: card.Presence{ChallengeID: b.Card.ChallengeID, SOD: b.Card.SOD, Groups: groups, Signature: b.Card.Signature}})
	return &accountOutput{Body: acc}, h.problemPath(ctx, err)
}
