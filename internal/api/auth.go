package api

import (
	"context"
	"time"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/errs"
)

type loginInput struct {
	Body struct {
		Username string `json:"username" maxLength:"64"`
		Password string `json:"password" maxLength:"200"`
		OTP      string `json:"otp,omitempty" maxLength:"6" doc:"The code of the officer's authenticator app, when the account has one"`
	}
}

type sessionOutput struct {
	Body struct {
		Token     string     `json:"token" doc:"Send as Authorization: Bearer <token>"`
		TokenID   string     `json:"token_id"`
		ExpiresAt *time.Time `json:"expires_at,omitempty"`
	}
}

func (h *handlers) login(ctx context.Context, in *loginInput) (*sessionOutput, error) {
	ctx = actor.With(ctx, &actor.Actor{ID: "anonymous", Name: "anonymous", Source: sourceOf(ctx)})
	secret, tok, err := h.Access.LoginWithCode(ctx, in.Body.Username, in.Body.Password, in.Body.OTP)
	if err != nil {
		return nil, h.problem(ctx, err)
	}
	out := &sessionOutput{}
	out.Body.Token, out.Body.TokenID, out.Body.ExpiresAt = secret, tok.ID, tok.ExpiresAt
	return out, nil
}

func (h *handlers) logout(ctx context.Context, _ *struct{}) (*struct{}, error) {
	a, ok := actor.From(ctx)
	if !ok {
		return nil, h.problem(ctx, errs.E(errs.Unauthenticated, "log in first"))
	}
	return nil, h.problem(ctx, h.Access.RevokeToken(ctx, a.TokenID))
}

type meOutput struct {
	Body struct {
		ID           string              `json:"id"`
		Username     string              `json:"username"`
		Role         actor.Role          `json:"role"`
		Jurisdiction actor.Jurisdiction  `json:"jurisdiction"`
		Permissions  []access.Permission `json:"permissions"`
	}
}

func (h *handlers) me(ctx context.Context, _ *struct{}) (*meOutput, error) {
	a, ok := actor.From(ctx)
	if !ok {
		return nil, h.problem(ctx, errs.E(errs.Unauthenticated, "log in first"))
	}
	out := &meOutput{}
	out.Body.ID, out.Body.Username, out.Body.Role, out.Body.Jurisdiction = a.ID, a.Name, a.Role, a.Jurisdiction
	out.Body.Permissions = access.Permissions(a.Role)
	return out, nil
}

type tokensOutput struct {
	Body []access.Token
}

func (h *handlers) listTokens(ctx context.Context, _ *struct{}) (*tokensOutput, error) {
	ts, err := h.Access.ListTokens(ctx)
	return &tokensOutput{Body: ts}, h.problem(ctx, err)
}

type createTokenInput struct {
	Body struct {
		Name       string `json:"name" maxLength:"100" doc:"What the token is for"`
		TTLSeconds int64  `json:"ttl_seconds,omitempty" minimum:"0" doc:"Lifetime; 0 or absent for 30 days; at most 90 days"`
	}
}

type createTokenOutput struct {
	Body struct {
		Token string       `json:"token" doc:"Shown once; store it safely"`
		Info  access.Token `json:"info"`
	}
}

func (h *handlers) createToken(ctx context.Context, in *createTokenInput) (*createTokenOutput, error) {
	secret, t, err := h.Access.CreateToken(ctx, in.Body.Name, time.Duration(in.Body.TTLSeconds)*time.Second)
	if err != nil {
		return nil, h.problem(ctx, err)
	}
	out := &createTokenOutput{}
	out.Body.Token, out.Body.Info = secret, t
	return out, nil
}

type idPath struct {
	ID string `path:"id" maxLength:"64"`
}

func (h *handlers) revokeToken(ctx context.Context, in *idPath) (*struct{}, error) {
	return nil, h.problem(ctx, h.Access.RevokeToken(ctx, in.ID))
}

type officersOutput struct {
	Body []access.Officer
}

func (h *handlers) listOfficers(ctx context.Context, _ *struct{}) (*officersOutput, error) {
	os, err := h.Access.ListOfficers(ctx)
	return &officersOutput{Body: os}, h.problem(ctx, err)
}

type createOfficerInput struct {
	Body access.NewOfficer
}

type officerOutput struct {
	Body access.Officer
}

func (h *handlers) createOfficer(ctx context.Context, in *createOfficerInput) (*officerOutput, error) {
	o, err := h.Access.CreateOfficer(ctx, in.Body)
	if err != nil {
		return nil, h.problem(ctx, err)
	}
	return &officerOutput{Body: o}, nil
}

type setDisabledInput struct {
	Username string `path:"username" maxLength:"64"`
	Body     struct {
		Disabled bool `json:"disabled"`
	}
}

func (h *handlers) setDisabled(ctx context.Context, in *setDisabledInput) (*struct{}, error) {
	return nil, h.problem(ctx, h.Access.SetDisabled(ctx, in.Username, in.Body.Disabled))
}

type usernameInput struct {
	Username string `path:"username" maxLength:"64"`
}

func (h *handlers) resetSecondFactor(ctx context.Context, in *usernameInput) (*struct{}, error) {
	return nil, h.problem(ctx, h.Access.ResetSecondFactor(ctx, in.Username))
}

type setPasswordInput struct {
	Username string `path:"username" maxLength:"64"`
	Body     struct {
		Password string `json:"password" maxLength:"200"`
	}
}

func (h *handlers) setPassword(ctx context.Context, in *setPasswordInput) (*struct{}, error) {
	return nil, h.problem(ctx, h.Access.ResetPassword(ctx, in.Username, in.Body.Password))
}

type changeOwnPasswordInput struct {
	Body struct {
		CurrentPassword string `json:"current_password" maxLength:"200"`
		Password        string `json:"password" maxLength:"200" doc:"The new password"`
	}
}

func (h *handlers) changeOwnPassword(ctx context.Context, in *changeOwnPasswordInput) (*struct{}, error) {
	return nil, h.problem(ctx, h.Access.ChangeOwnPassword(ctx, in.Body.CurrentPassword, in.Body.Password))
}

type updateOfficerInput struct {
	Username string `path:"username" maxLength:"64"`
	Body     access.OfficerChange
}

func (h *handlers) updateOfficer(ctx context.Context, in *updateOfficerInput) (*officerOutput, error) {
	o, err := h.Access.UpdateOfficer(ctx, in.Username, in.Body)
	if err != nil {
		return nil, h.problem(ctx, err)
	}
	return &officerOutput{Body: o}, nil
}
