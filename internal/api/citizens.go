package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/personalid"
	"github.com/dancu-vn/dancu/internal/registry"
)

type citizenOutput struct {
	ETag     string `header:"ETag" doc:"The record's version; send it back in If-Match to change the record"`
	Location string `header:"Location"`
	Body     registry.Citizen
}

func citizenOut(c registry.Citizen) *citizenOutput {
	return &citizenOutput{ETag: etag(c.Version), Location: Prefix + "/citizens/" + string(c.PID), Body: c}
}

func etag(v int64) string { return `"` + strconv.FormatInt(v, 10) + `"` }

// parseIfMatch reads an If-Match header holding one strong ETag from us.
func parseIfMatch(h string, required bool) (int64, error) {
	h = strings.TrimSpace(h)
	if h == "" {
		if required {
			return 0, errs.E(errs.Precondition, "If-Match is required: send the ETag of the version you read")
		}
		return 0, nil
	}
	v, err := strconv.ParseInt(strings.Trim(h, `"`), 10, 64)
	if err != nil || v <= 0 || !strings.HasPrefix(h, `"`) || !strings.HasSuffix(h, `"`) {
		return 0, errs.Field("If-Match", "must be one ETag as returned by this API, such as \"3\"")
	}
	return v, nil
}

// huma428 answers an update that did not say which version it is based on.
func huma428(err error) error {
	msg := "If-Match is required"
	if e := new(errs.Error); errors.As(err, &e) {
		msg = e.Msg
	}
	return huma.NewError(http.StatusPreconditionRequired, msg)
}

type birthInput struct {
	IdempotencyKey string `header:"Idempotency-Key" maxLength:"200" doc:"Makes a retry return the first registration instead of registering twice"`
	Body           registry.BirthRegistration
}

func (h *handlers) registerBirth(ctx context.Context, in *birthInput) (*citizenOutput, error) {
	c, err := h.Registry.RegisterBirth(ctx, in.Body, in.IdempotencyKey)
	if err != nil {
		return nil, h.problem(ctx, err)
	}
	return citizenOut(c), nil
}

type legacyInput struct {
	Body registry.LegacyRecord
}

func (h *handlers) registerExisting(ctx context.Context, in *legacyInput) (*citizenOutput, error) {
	c, err := h.Registry.RegisterExisting(ctx, in.Body)
	if err != nil {
		return nil, h.problem(ctx, err)
	}
	return citizenOut(c), nil
}

// PIDPath is the personal ID number in a path; exported so huma can fill it when embedded.
type PIDPath struct {
	PID string `path:"pid" maxLength:"12" doc:"Personal ID number, 12 digits"`
}

type getCitizenInput struct {
	PIDPath
	Purpose string `query:"purpose" maxLength:"200" doc:"Why the record is read; kept in the access log"`
}

func (h *handlers) getCitizen(ctx context.Context, in *getCitizenInput) (*citizenOutput, error) {
	c, err := h.Registry.Get(ctx, in.PID, in.Purpose)
	if err != nil {
		return nil, h.problemPath(ctx, err)
	}
	out := citizenOut(c)
	out.Location = ""
	return out, nil
}

type updateInput struct {
	PIDPath
	IfMatch string `header:"If-Match" doc:"The ETag of the version the change is based on (required)"`
	Body    struct {
		Changes map[string]any `json:"changes,omitempty" doc:"New values, keyed by field name as in the record (name, phone, permanent_residence, …)"`
		Clear   []string       `json:"clear,omitempty" maxItems:"30" doc:"Optional fields to empty"`
		registry.Basis
	}
}

func (h *handlers) updateCitizen(ctx context.Context, in *updateInput) (*citizenOutput, error) {
	v, err := parseIfMatch(in.IfMatch, true)
	if err != nil {
		if errs.Is(err, errs.Precondition) {
			return nil, huma428(err)
		}
		return nil, h.problemPath(ctx, err)
	}
	set := make(map[string]json.RawMessage, len(in.Body.Changes))
	for k, val := range in.Body.Changes {
		b, _ := json.Marshal(val)
		set[k] = b
	}
	c, err := h.Registry.Update(ctx, in.PID, v, registry.Patch{Set: set, Clear: in.Body.Clear, Basis: in.Body.Basis})
	if err != nil {
		return nil, h.problemPath(ctx, err)
	}
	out := citizenOut(c)
	out.Location = ""
	return out, nil
}

type historyOutput struct {
	Body []registry.Revision
}

func (h *handlers) history(ctx context.Context, in *PIDPath) (*historyOutput, error) {
	revs, err := h.Registry.History(ctx, in.PID)
	return &historyOutput{Body: revs}, h.problemPath(ctx, err)
}

type statusInput struct {
	PIDPath
	IfMatch string `header:"If-Match" doc:"Optional: the ETag the change is based on"`
	Body    registry.StatusChange
}

func (h *handlers) status(to registry.Status) func(context.Context, *statusInput) (*citizenOutput, error) {
	return func(ctx context.Context, in *statusInput) (*citizenOutput, error) {
		v, err := parseIfMatch(in.IfMatch, false)
		if err != nil {
			return nil, h.problemPath(ctx, err)
		}
		c, err := h.Registry.SetStatus(ctx, in.PID, v, to, in.Body)
		if err != nil {
			return nil, h.problemPath(ctx, err)
		}
		out := citizenOut(c)
		out.Location = ""
		return out, nil
	}
}

type moveInput struct {
	PIDPath
	IfMatch string `header:"If-Match" doc:"Optional: the ETag the move is based on"`
	Body    registry.Move
}

func (h *handlers) move(ctx context.Context, in *moveInput) (*citizenOutput, error) {
	v, err := parseIfMatch(in.IfMatch, false)
	if err != nil {
		return nil, h.problemPath(ctx, err)
	}
	c, err := h.Registry.MoveHousehold(ctx, in.PID, v, in.Body)
	if err != nil {
		return nil, h.problemPath(ctx, err)
	}
	out := citizenOut(c)
	out.Location = ""
	return out, nil
}

type householdOutput struct {
	ETag string `header:"ETag" doc:"The household's version; send it back in If-Match to change its head"`
	Body registry.Household
}

type headInput struct {
	ID      string `path:"id" maxLength:"64"`
	IfMatch string `header:"If-Match" doc:"Optional: the ETag of the household the change is based on"`
	Body    registry.HeadChange
}

func (h *handlers) changeHead(ctx context.Context, in *headInput) (*householdOutput, error) {
	v, err := parseIfMatch(in.IfMatch, false)
	if err != nil {
		return nil, h.problemPath(ctx, err)
	}
	hh, err := h.Registry.ChangeHead(ctx, in.ID, v, in.Body)
	if err != nil {
		return nil, h.problemPath(ctx, err)
	}
	return &householdOutput{ETag: etag(hh.Version), Body: hh}, nil
}

func (h *handlers) household(ctx context.Context, in *idPath) (*householdOutput, error) {
	hh, err := h.Registry.Household(ctx, in.ID)
	if err != nil {
		return nil, h.problem(ctx, err)
	}
	return &householdOutput{ETag: etag(hh.Version), Body: hh}, nil
}

type searchInput struct {
	Name      string `query:"name" maxLength:"200" doc:"Full name, with or without diacritics"`
	Prefix    bool   `query:"prefix" doc:"Match names that start with name"`
	BirthDate string `query:"birth_date" doc:"YYYY-MM-DD"`
	BirthYear int    `query:"birth_year" minimum:"0" maximum:"2399"`
	Sex       string `query:"sex" enum:"male,female,"`
	Province  string `query:"province" maxLength:"3" doc:"Current province code of the permanent residence"`
	Commune   string `query:"commune" maxLength:"5" doc:"Current commune code of the permanent residence"`
	Cursor    string `query:"cursor" maxLength:"500" doc:"The next value of the previous page"`
	Limit     int    `query:"limit" minimum:"0" maximum:"200" doc:"Page size, default 50"`
	Purpose   string `query:"purpose" maxLength:"200"`
}

type searchOutput struct {
	Body registry.Page
}

func (h *handlers) search(ctx context.Context, in *searchInput) (*searchOutput, error) {
	p, err := h.Registry.Search(ctx, registry.Query{Name: in.Name, NamePrefix: in.Prefix, BirthDate: in.BirthDate, BirthYear: in.BirthYear,
		Sex: personalid.Sex(in.Sex), Province: in.Province, Commune: in.Commune, Cursor: in.Cursor, Limit: in.Limit, Purpose: in.Purpose})
	if err != nil {
		return nil, h.problemQuery(ctx, err)
	}
	return &searchOutput{Body: p}, nil
}
