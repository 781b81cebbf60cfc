package api

import (
	"net/http"
	"slices"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/actor"
)

// audience is who may call an operation at all: the kinds of actor, and the
// permission an officer's role or an agency's mandate must hold. It is part
// of every row of the route table and checked before the request's input is
// read, so an anonymous caller gets 401 and a caller of the wrong kind 403
// without learning anything about the operation's schema or data. The
// services check the same permission again, with the jurisdiction, the
// subject and the state they alone know.
type audience struct {
	kinds []actor.Kind      // nil: anyone, without logging in
	perm  access.Permission // required of officers and agencies; "" for none
	// name is how the OpenAPI document describes it.
	name string
}

var (
	// anyone needs no login: public reference data, the catalog, the steps
	// a citizen takes before having an account.
	anyone = audience{name: "anyone"}
	// signedIn is any authenticated party.
	signedIn = audience{kinds: []actor.Kind{actor.Officer, actor.Citizen, actor.Agency, actor.System}, name: "any authenticated party"}
	// citizens are citizens logged in with their e-ID.
	citizens = audience{kinds: []actor.Kind{actor.Citizen}, name: "citizens"}
)

// officers are officers whose role holds perm.
func officers(perm access.Permission) audience {
	return audience{kinds: []actor.Kind{actor.Officer, actor.System}, perm: perm, name: "officers with " + string(perm)}
}

// officersOnly are officers of any role (their own session and tokens).
var officersOnly = audience{kinds: []actor.Kind{actor.Officer}, name: "officers"}

// citizensOr are the citizen concerned (the service decides whose data it
// is) and officers whose role holds perm.
func citizensOr(perm access.Permission) audience {
	return audience{kinds: []actor.Kind{actor.Citizen, actor.Officer, actor.System}, perm: perm, name: "the citizen concerned, or officers with " + string(perm)}
}

// agencies are member agencies whose mandate holds perm.
func agencies(perm access.Permission) audience {
	return audience{kinds: []actor.Kind{actor.Agency}, perm: perm, name: "member agencies with " + string(perm)}
}

// check answers whether a may call an operation for aud: 0 when it may,
// else the status that refuses it.
func (aud audience) check(a *actor.Actor) (int, string) {
	if aud.kinds == nil {
		return 0, ""
	}
	if a == nil {
		return http.StatusUnauthorized, "log in first"
	}
	if !slices.Contains(aud.kinds, a.Kind) {
		return http.StatusForbidden, "this operation is for " + aud.name
	}
	if aud.perm == "" || a.Kind == actor.Citizen || a.Kind == actor.System {
		return 0, ""
	}
	if a.Kind == actor.Agency {
		if !slices.Contains(a.Grants, string(aud.perm)) {
			return http.StatusForbidden, "the mandate of " + a.Name + " does not include " + string(aud.perm)
		}
		return 0, ""
	}
	if !slices.Contains(access.Permissions(a.Role), aud.perm) {
		return http.StatusForbidden, "your role (" + string(a.Role) + ") does not allow " + string(aud.perm)
	}
	return 0, ""
}

// guard is the per-operation middleware that applies aud before huma reads
// and validates the input.
func guard(api huma.API, aud audience) func(huma.Context, func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		a, _ := actor.From(ctx.Context())
		status, msg := aud.check(a)
		if status == 0 {
			next(ctx)
			return
		}
		if status == http.StatusUnauthorized {
			ctx.SetHeader("WWW-Authenticate", `Bearer realm="dancu"`)
		}
		huma.WriteErr(api, ctx, status, msg)
	}
}

// describe adds the audience to an operation's OpenAPI description, and
// marks public operations as needing no credentials.
func (aud audience) describe(o *huma.Operation) {
	if aud.kinds == nil {
		o.Security = []map[string][]string{}
	}
	note := "Who may call it: " + aud.name + "."
	if o.Description == "" {
		o.Description = note
	} else if !strings.Contains(o.Description, note) {
		o.Description += "\n\n" + note
	}
	if o.Extensions == nil {
		o.Extensions = map[string]any{}
	}
	o.Extensions["x-dancu-audience"] = aud.name
}
