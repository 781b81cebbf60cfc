// Package actor is who is acting: an officer, a citizen, an agency or the
// system itself. The actor travels in the request context so that every
// service method, revision and audit record knows who did what.
package actor

import "context"

// Kind is the kind of actor.
type Kind string

// The kinds of actor.
const (
	Officer Kind = "officer"
	Citizen Kind = "citizen"
	Agency  Kind = "agency"
	System  Kind = "system"
)

// Role is an officer's role. What each role may do is decided in package
// access, in one table.
type Role string

// The officer roles.
const (
	Admin     Role = "admin"     // manages officers and tokens, reads the access log, does everything a registrar does nationally
	Registrar Role = "registrar" // registers births and deaths, updates records within the jurisdiction
	Viewer    Role = "viewer"    // reads and searches records
)

// Level is the level of an officer's jurisdiction.
type Level string

// The jurisdiction levels, from widest to narrowest.
const (
	National Level = "national"
	Province Level = "province"
	District Level = "district" // a district of the 2022 scheme; districts were abolished in July 2025
	Commune  Level = "commune"
)

// Jurisdiction is the administrative unit an officer works for: a current
// province or commune code, a 2022 district code, or national (no code).
type Jurisdiction struct {
	Level Level  `json:"level"`
	Code  string `json:"code,omitempty"`
}

// Actor is an authenticated party.
type Actor struct {
	ID           string // officer ID, personal ID number, agency ID, or "system"
	Kind         Kind
	Name         string       // display name, kept in revisions and audit records
	Role         Role         // officers only
	Jurisdiction Jurisdiction // officers only
	TokenID      string       // the credential used, if any
	Source       string       // client address, for the audit record
	Grants       []string     // agencies only: the permissions of their mandate
}

type ctxKey struct{}

// With returns a context carrying a.
func With(ctx context.Context, a *Actor) context.Context {
	return context.WithValue(ctx, ctxKey{}, a)
}

// From returns the actor in ctx, if any.
func From(ctx context.Context) (*Actor, bool) {
	a, ok := ctx.Value(ctxKey{}).(*Actor)
	return a, ok && a != nil
}

// SystemActor is the actor for work the system does on its own (migrations,
// demo data, scheduled jobs).
func SystemActor(name string) *Actor {
	return &Actor{ID: "system", Kind: System, Name: name, Role: Admin, Jurisdiction: Jurisdiction{Level: National}}
}
