// Package api is the JSON API under /api/v1/: one route table, errors as
// RFC 9457 problem details, and the OpenAPI 3.1 document at
// /api/v1/openapi.json, generated from the same types the handlers use.
package api

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/card"
	"github.com/dancu-vn/dancu/internal/dossier"
	"github.com/dancu-vn/dancu/internal/eid"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/events"
	"github.com/dancu-vn/dancu/internal/exchange"
	"github.com/dancu-vn/dancu/internal/registry"
	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/sso"
)

// Prefix is where the API lives.
const Prefix = "/api/v1"

// Deps are the services the API exposes.
type Deps struct {
	DB       *sqldb.DB
	Access   *access.Service
	Registry *registry.Service
	EID      *eid.Service
	SSO      *sso.Service
	Dossier  *dossier.Service
	Exchange *exchange.Service
	Events   *events.Service
	Cards    *card.Service
	Log      *slog.Logger
	Version  string
	// PublicURL is the public base URL of absolute links (never a
	// request's Host).
	PublicURL string
}

type handlers struct{ Deps }

// New returns the API handler, to be mounted at Prefix.
func New(d Deps) http.Handler {
	mux := http.NewServeMux()
	cfg := huma.DefaultConfig("dancu API", d.Version)
	cfg.OpenAPIPath = Prefix + "/openapi"
	cfg.DocsPath = "" // our own reference, offline: docs.go
	cfg.SchemasPath = Prefix + "/schemas"
	cfg.CreateHooks = nil // no $schema links in response bodies
	cfg.Info.Description = "The dancu population registry. Authenticate with `POST /api/v1/auth/login` or an API token, " +
		"then send `Authorization: Bearer <token>`. Errors are RFC 9457 problem details; `errors[].location` names the field."
	cfg.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"bearer": {Type: "http", Scheme: "bearer", Description: "A session token from /auth/login or an API token"},
	}
	cfg.Security = []map[string][]string{{"bearer": {}}}
	cfg.Transformers = append(cfg.Transformers, shapeProblem)
	api := humago.New(mux, cfg)
	api.UseMiddleware(guardAll(api), cacheHeaders)
	h := &handlers{d}
	h.routes(api)
	mux.HandleFunc("GET "+Prefix+"/docs", docsHandler(api.OpenAPI()))
	return noStore(h.authenticate(Fallback(mux)))
}

// routes is the route table of the whole API.
func (h *handlers) routes(api huma.API) {
	// Sessions and tokens.
	huma.Register(api, op("login", "POST", "/auth/login", "Log in with username and password", "auth", 0, anyone), h.login)
	huma.Register(api, op("logout", "POST", "/auth/logout", "End the current session", "auth", 0, signedIn), h.logout)
	huma.Register(api, op("me", "GET", "/me", "Who am I", "auth", 0, officersOnly), h.me)
	huma.Register(api, op("change-my-password", "PUT", "/me/password", "Change my password (the current one is asked; my other sessions and tokens end)", "auth", 204, officersOnly), h.changeOwnPassword)
	huma.Register(api, op("list-tokens", "GET", "/tokens", "List my tokens", "auth", 0, officersOnly), h.listTokens)
	huma.Register(api, op("create-token", "POST", "/tokens", "Create an API token for scripts", "auth", 201, officersOnly), h.createToken)
	huma.Register(api, op("revoke-token", "DELETE", "/tokens/{id}", "Revoke a token", "auth", 204, officersOnly), h.revokeToken)
	// Officers.
	huma.Register(api, op("list-officers", "GET", "/officers", "List officer accounts", "officers", 0, officers(access.ManageOfficers)), h.listOfficers)
	huma.Register(api, op("create-officer", "POST", "/officers", "Create an officer account", "officers", 201, officers(access.ManageOfficers)), h.createOfficer)
	huma.Register(api, op("set-officer-disabled", "PUT", "/officers/{username}/disabled", "Disable or enable an account", "officers", 204, officers(access.ManageOfficers)), h.setDisabled)
	huma.Register(api, op("reset-officer-second-factor", "DELETE", "/officers/{username}/second-factor", "Reset a lost second factor: the officer enrols a new authenticator app at the next sign-in (every session and token ends)", "officers", 204, officers(access.ManageOfficers)), h.resetSecondFactor)
	huma.Register(api, op("set-officer-password", "PUT", "/officers/{username}/password", "Reset a password (every session and token of the officer ends)", "officers", 204, officers(access.ManageOfficers)), h.setPassword)
	huma.Register(api, op("update-officer", "PATCH", "/officers/{username}", "Change an officer's name, role or jurisdiction (a new role or jurisdiction ends every session and token)", "officers", 0, officers(access.ManageOfficers)), h.updateOfficer)
	// Citizens.
	huma.Register(api, op("register-birth", "POST", "/births", "Register a birth and assign a personal ID number", "citizens", 201, officers(access.WriteCitizen)), h.registerBirth)
	huma.Register(api, op("register-citizen", "POST", "/citizens", "Register a person from existing data with their number", "citizens", 201, officers(access.WriteCitizen)), h.registerExisting)
	huma.Register(api, op("search-citizens", "GET", "/citizens", "Search citizens by name, birth and unit", "citizens", 0, officers(access.SearchCitizen)), h.search)
	huma.Register(api, op("get-citizen", "GET", "/citizens/{pid}", "Read a citizen's record", "citizens", 0, officers(access.ReadCitizen)), h.getCitizen)
	huma.Register(api, op("update-citizen", "PATCH", "/citizens/{pid}", "Change fields of a record (If-Match required)", "citizens", 0, officers(access.WriteCitizen)), h.updateCitizen)
	huma.Register(api, op("citizen-history", "GET", "/citizens/{pid}/history", "The record's revisions", "citizens", 0, officers(access.ReadCitizen)), h.history)
	huma.Register(api, op("record-death", "POST", "/citizens/{pid}/death", "Record a death", "citizens", 0, officers(access.WriteCitizen)), h.status(registry.Dead))
	huma.Register(api, op("record-disappearance", "POST", "/citizens/{pid}/disappearance", "Record a disappearance", "citizens", 0, officers(access.WriteCitizen)), h.status(registry.Missing))
	huma.Register(api, op("record-found", "POST", "/citizens/{pid}/found", "Record that a missing person was found", "citizens", 0, officers(access.WriteCitizen)), h.status(registry.Alive))
	huma.Register(api, op("move-household", "POST", "/citizens/{pid}/household", "Move to another or a new household", "citizens", 0, officers(access.WriteCitizen)), h.move)
	huma.Register(api, op("change-household-head", "PUT", "/households/{id}/head", "Make another member head of the household", "citizens", 0, officers(access.WriteCitizen)), h.changeHead)
	huma.Register(api, op("get-household", "GET", "/households/{id}", "A household and its members", "citizens", 0, officers(access.ReadCitizen)), h.household)
	huma.Register(api, op("decode-personal-id", "GET", "/personal-ids/{pid}", "Check and decode a personal ID number", "reference", 0, officers(access.ReadCitizen)), h.decodePID)
	// Reference data.
	huma.Register(api, cacheable(op("search-units", "GET", "/units", "Search administrative units", "reference", 0, anyone)), h.searchUnits)
	huma.Register(api, cacheable(op("get-unit", "GET", "/units/{scheme}/{code}", "An administrative unit by code", "reference", 0, anyone)), h.getUnit)
	huma.Register(api, cacheable(op("code-lists", "GET", "/codes", "The code lists of citizen fields", "reference", 0, anyone)), h.codes)
	// Electronic identity.
	h.eidRoutes(api)
	h.rebindRoutes(api)
	// Online public services.
	h.dossierRoutes(api)
	// The data-exchange hub.
	h.exchangeRoutes(api)
	// Chip ID cards.
	h.cardRoutes(api)
	// Access log.
	huma.Register(api, op("access-events", "GET", "/access-events", "Who read or changed personal data", "audit", 0, officers(access.ReadAccessLog)), h.accessEvents)
	huma.Register(api, op("my-access-log", "GET", "/me/access-log", "Who accessed my data: unit or agency, purpose, time (citizens)", "audit", 0, citizens), h.myAccessLog)
}

// op is one row of the route table: the operation and who may call it.
func op(id, method, path, summary, tag string, status int, aud audience) huma.Operation {
	o := huma.Operation{OperationID: id, Method: method, Path: Prefix + path, Summary: summary, Tags: []string{tag},
		DefaultStatus: status, MaxBodyBytes: 64 << 10, Metadata: map[string]any{audienceKey: aud}}
	aud.describe(&o)
	return o
}

// audienceKey is where an operation's audience is kept in its metadata.
const audienceKey = "dancu-audience"

// guardAll applies each operation's audience before its input is read. An
// operation registered without one is refused to everybody: fail closed.
func guardAll(api huma.API) func(huma.Context, func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		aud, ok := ctx.Operation().Metadata[audienceKey].(audience)
		if !ok {
			huma.WriteErr(api, ctx, http.StatusForbidden, "this operation declares no audience")
			return
		}
		guard(api, aud)(ctx, next)
	}
}

// problem turns a service error into problem details. Field errors become
// errors[] with the field as location ("body.name.given"); internal
// details are logged and replaced by a generic message.
func (h *handlers) problem(ctx context.Context, err error) error {
	return h.problemIn(ctx, err, "body", nil)
}

// problemPath is problem for operations with the personal ID number in the
// path: an error about "pid" is located there.
func (h *handlers) problemPath(ctx context.Context, err error) error {
	return h.problemIn(ctx, err, "body", map[string]string{"pid": "path"})
}

// problemQuery is problem for operations whose input is the query string.
func (h *handlers) problemQuery(ctx context.Context, err error) error {
	return h.problemIn(ctx, err, "query", nil)
}

func (h *handlers) problemIn(ctx context.Context, err error, in string, fieldIn map[string]string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) {
		return huma.NewError(499, "request cancelled")
	}
	// A store that cannot work now (a lost connection, a read-only or
	// full disk) is "try again later", not a bug.
	err = sqldb.Classify(err)
	var e *errs.Error
	if !errors.As(err, &e) || e.Kind == errs.Internal {
		h.Log.ErrorContext(ctx, "internal error", "err", err)
		return huma.NewError(http.StatusInternalServerError, "internal error; it has been logged")
	}
	status := e.Kind.HTTPStatus()
	var details []error
	for _, f := range e.Fields {
		where := in
		if w, ok := fieldIn[f.Field]; ok {
			where = w
		}
		loc := where
		if f.Field != "" {
			loc = where + "." + f.Field
		}
		details = append(details, &huma.ErrorDetail{Location: loc, Message: f.Reason})
	}
	msg := e.Msg
	if msg == "" {
		msg = e.Kind.String()
	}
	herr := huma.NewError(status, msg, details...)
	if d := e.RetryAfter; d > 0 {
		return huma.ErrorWithHeaders(herr, http.Header{"Retry-After": {strconv.Itoa(int((d + time.Second - 1) / time.Second))}})
	}
	return herr
}

// authenticate resolves a bearer token, if any, to the acting officer. A
// request without one goes on anonymous, and every operation that needs an
// actor refuses it; a request with a bad one is refused here.
func (h *handlers) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		src, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			src = r.RemoteAddr
		}
		auth := r.Header.Get("Authorization")
		if auth == "" {
			ctx := actor.With(r.Context(), nil)
			next.ServeHTTP(w, r.WithContext(withSource(ctx, src)))
			return
		}
		scheme, secret, _ := strings.Cut(auth, " ")
		if !strings.EqualFold(scheme, "Bearer") || secret == "" {
			writeProblem(w, http.StatusUnauthorized, "the Authorization header must be: Bearer <token>")
			return
		}
		secret = strings.TrimSpace(secret)
		var a *actor.Actor
		if strings.Count(secret, ".") == 2 && h.SSO != nil {
			// An OpenID access token: a citizen's, or an agency's (client credentials).
			var client string
			a, client, err = h.SSO.Authenticate(r.Context(), secret)
			if err == nil && a == nil {
				a, err = h.Exchange.Actor(r.Context(), client)
			}
		} else {
			a, err = h.Access.Authenticate(r.Context(), secret)
		}
		if err != nil {
			status, msg := authProblem(err)
			if status == http.StatusUnauthorized {
				w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			} else {
				h.Log.ErrorContext(r.Context(), "authenticate", "err", err)
			}
			writeProblem(w, status, msg)
			return
		}
		a.Source = src
		next.ServeHTTP(w, r.WithContext(actor.With(r.Context(), a)))
	})
}

// authProblem is the answer to a token that could not be resolved: 401
// with the service's message when it is refused, however deeply the
// refusal is wrapped; 503 when it could not be checked.
func authProblem(err error) (int, string) {
	var e *errs.Error
	if errors.As(err, &e) && e.Kind == errs.Unauthenticated {
		return http.StatusUnauthorized, e.Msg
	}
	return http.StatusServiceUnavailable, "cannot check the token now, try again"
}

type sourceKey struct{}

func withSource(ctx context.Context, src string) context.Context {
	return context.WithValue(ctx, sourceKey{}, src)
}

// sourceOf is the client address of an anonymous request.
func sourceOf(ctx context.Context) string {
	if a, ok := actor.From(ctx); ok {
		return a.Source
	}
	s, _ := ctx.Value(sourceKey{}).(string)
	return s
}
