// Package access is who may do what: officer accounts, passwords, bearer
// tokens, the permissions of each role and the jurisdiction rule that a
// commune officer changes only records of their own commune. Services call
// it once per operation; no query encodes policy.
package access

import (
	"context"
	"slices"

	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/adminunit"
	"github.com/dancu-vn/dancu/internal/errs"
)

// Permission is an action a role may be granted.
type Permission string

// The permissions.
const (
	ReadCitizen     Permission = "citizen:read"
	SearchCitizen   Permission = "citizen:search"
	WriteCitizen    Permission = "citizen:write"
	ManageOfficers  Permission = "officer:manage"
	ReadAccessLog   Permission = "access-log:read"
	ExportCitizens  Permission = "citizen:export"
	ReviewEID       Permission = "eid:review"       // take, approve and reject e-ID applications; lock and unlock accounts
	HandleDossier   Permission = "dossier:handle"   // receive, ask for information, decide on dossiers of public services
	VerifyCitizen   Permission = "citizen:verify"   // yes/no verification (agencies)
	QueryCitizen    Permission = "citizen:query"    // scoped reads of the fields of a mandate (agencies)
	SubscribeEvents Permission = "events:subscribe" // change events by webhook (agencies)
	EnrichRegistry  Permission = "citizen:enrich"   // send sector records to be linked (agencies)
)

// rolePermissions is the one table of what each role may do.
var rolePermissions = map[actor.Role][]Permission{
	actor.Admin:     {ReadCitizen, SearchCitizen, WriteCitizen, ManageOfficers, ReadAccessLog, ExportCitizens, ReviewEID, HandleDossier},
	actor.Registrar: {ReadCitizen, SearchCitizen, WriteCitizen, ReviewEID, HandleDossier},
	actor.Viewer:    {ReadCitizen, SearchCitizen},
}

// Roles lists the roles in order of power.
func Roles() []actor.Role { return []actor.Role{actor.Admin, actor.Registrar, actor.Viewer} }

// Permissions returns what role may do.
func Permissions(role actor.Role) []Permission { return slices.Clone(rolePermissions[role]) }

// Require returns the actor in ctx if it holds perm: Unauthenticated when
// there is no actor, Forbidden when the actor lacks the permission.
func Require(ctx context.Context, perm Permission) (*actor.Actor, error) {
	a, ok := actor.From(ctx)
	if !ok {
		return nil, errs.E(errs.Unauthenticated, "log in first")
	}
	if a.Kind == actor.System {
		return a, nil
	}
	if a.Kind == actor.Agency {
		if !slices.Contains(a.Grants, string(perm)) {
			return nil, errs.E(errs.Forbidden, "the mandate of %s does not include %s", a.Name, perm)
		}
		return a, nil
	}
	if a.Kind != actor.Officer || !slices.Contains(rolePermissions[a.Role], perm) {
		return nil, errs.E(errs.Forbidden, "your role (%s) does not allow %s", a.Role, perm)
	}
	return a, nil
}

// Place is where a record belongs for jurisdiction: a commune in the scheme
// it was recorded in.
type Place struct {
	Scheme  adminunit.Scheme
	Commune string
}

// Policy applies jurisdiction rules; it needs the administrative units.
type Policy struct {
	units *adminunit.Catalog
}

// NewPolicy returns a policy over the given units.
func NewPolicy(units *adminunit.Catalog) *Policy { return &Policy{units: units} }

// Covers reports whether jurisdiction j includes place p. A place recorded
// in the 2022 scheme is judged by the commune it has become.
func (p *Policy) Covers(j actor.Jurisdiction, place Place) bool {
	if j.Level == actor.National {
		return true
	}
	if place.Commune == "" {
		return false
	}
	current := place.Commune
	if place.Scheme == adminunit.Scheme2022 {
		u, ok := p.units.Current(place.Commune)
		if !ok {
			return false
		}
		current = u.Code
	}
	switch j.Level {
	case actor.Commune:
		return current == j.Code
	case actor.Province:
		return p.units.InProvince(adminunit.Scheme2025, current, j.Code)
	case actor.District:
		if place.Scheme == adminunit.Scheme2022 {
			return p.units.InDistrict(adminunit.Scheme2022, place.Commune, j.Code)
		}
		return p.units.InDistrict(adminunit.Scheme2025, current, j.Code)
	}
	return false
}

// RequireChange returns nil if the actor in ctx may change a record that
// belongs at every one of places (its residence before and after the
// change). Records with no place at all can only be changed nationally.
func (p *Policy) RequireChange(ctx context.Context, places ...Place) (*actor.Actor, error) {
	return p.RequireIn(ctx, WriteCitizen, places...)
}

// RequireIn returns the actor in ctx if it holds perm and its jurisdiction
// covers every one of places (none: national jurisdiction only).
func (p *Policy) RequireIn(ctx context.Context, perm Permission, places ...Place) (*actor.Actor, error) {
	a, err := Require(ctx, perm)
	if err != nil {
		return nil, err
	}
	if a.Kind == actor.System {
		return a, nil
	}
	if len(places) == 0 {
		places = []Place{{}} // no place at all: national jurisdiction only
	}
	for _, pl := range places {
		if !p.Covers(a.Jurisdiction, pl) {
			where := pl.Commune
			if where == "" {
				where = "no recorded residence"
			}
			return nil, errs.E(errs.Forbidden, "the permanent residence (%s) is outside your jurisdiction (%s %s)", where, a.Jurisdiction.Level, a.Jurisdiction.Code)
		}
	}
	return a, nil
}

// CheckJurisdiction validates a jurisdiction: province and commune codes of
// the current scheme, district codes of the 2022 scheme.
func (p *Policy) CheckJurisdiction(j actor.Jurisdiction) error {
	switch j.Level {
	case actor.National:
		if j.Code != "" {
			return errs.Field("jurisdiction.code", "must be empty for a national jurisdiction")
		}
		return nil
	case actor.Province:
		if _, ok := p.units.Province(adminunit.Scheme2025, j.Code); !ok {
			return errs.Field("jurisdiction.code", "%q is not a current province code", j.Code)
		}
	case actor.District:
		if _, ok := p.units.District(j.Code); !ok {
			return errs.Field("jurisdiction.code", "%q is not a district code (2022 scheme)", j.Code)
		}
	case actor.Commune:
		if _, ok := p.units.Commune(adminunit.Scheme2025, j.Code); !ok {
			return errs.Field("jurisdiction.code", "%q is not a current commune code", j.Code)
		}
	default:
		return errs.Field("jurisdiction.level", "must be national, province, district or commune")
	}
	return nil
}

// UnitName is the name of the police unit of a jurisdiction, e.g. "Công an
// Phường Ba Đình".
func (p *Policy) UnitName(j actor.Jurisdiction) string {
	switch j.Level {
	case actor.Province:
		if u, ok := p.units.Province(adminunit.Scheme2025, j.Code); ok {
			return "Công an " + u.FullName()
		}
	case actor.District:
		if u, ok := p.units.District(j.Code); ok {
			return "Công an " + u.FullName()
		}
	case actor.Commune:
		if u, ok := p.units.Commune(adminunit.Scheme2025, j.Code); ok {
			return "Công an " + u.FullName()
		}
	case actor.National:
		return "Bộ Công an (C06)"
	}
	return "Công an"
}
