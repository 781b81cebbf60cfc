package audit

import (
	"context"

	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/sqldb"
)

// Sighting is one entry of a citizen's "who accessed my data": the event,
// and who it names to the citizen — an officer's unit (never the officer),
// the agency, service or system by name; Self when it was the citizen, and
// no name for another citizen.
type Sighting struct {
	Event Event
	Who   string
	Self  bool
}

// Mine lists, newest first, the events that concern the citizen acting in
// ctx, as Sightings; unitOf names an officer's unit. Only the citizen
// reads their own.
func Mine(ctx context.Context, q sqldb.Querier, f Filter, unitOf func(ctx context.Context, officerID string) string) ([]Sighting, error) {
	a, ok := actor.From(ctx)
	if !ok || a.Kind != actor.Citizen {
		return nil, errs.E(errs.Forbidden, "only a citizen reads who accessed their own data")
	}
	f.Subject, f.ActorID = a.ID, ""
	evs, err := List(ctx, q, f)
	if err != nil {
		return nil, err
	}
	units := map[string]string{}
	out := make([]Sighting, 0, len(evs))
	for _, e := range evs {
		s := Sighting{Event: e, Who: e.Name}
		switch e.Kind {
		case string(actor.Officer):
			if _, ok := units[e.ActorID]; !ok {
				units[e.ActorID] = unitOf(ctx, e.ActorID)
			}
			s.Who = units[e.ActorID]
		case string(actor.Citizen):
			s.Self, s.Who = e.ActorID == a.ID, ""
		}
		out = append(out, s)
	}
	return out, nil
}

// ProveMine returns the inclusion proof of one entry of the acting
// citizen's own access log (an event whose subject is the citizen; any
// other is not found), with the event. The proof commits to the whole
// entry, the officer's identity too, which the citizen is not shown: what
// the citizen keeps is the entry's position, its leaf hash and the signed
// checkpoint, against which any later change or deletion of the entry
// shows, and which an inspector holding the entry checks.
func (c *Chain) ProveMine(ctx context.Context, eventID string) (InclusionProof, Event, error) {
	a, ok := actor.From(ctx)
	if !ok || a.Kind != actor.Citizen {
		return InclusionProof{}, Event{}, errs.E(errs.Forbidden, "a citizen's own access log is the citizen's")
	}
	ev, err := ByID(ctx, c.db, eventID)
	if err != nil || ev.Subject != a.ID {
		if err == nil || errs.Is(err, errs.NotFound) {
			return InclusionProof{}, Event{}, errs.E(errs.NotFound, "no entry %s in your access log", eventID)
		}
		return InclusionProof{}, Event{}, err
	}
	idx, err := c.IndexOf(ctx, eventID)
	if err != nil {
		return InclusionProof{}, Event{}, err
	}
	p, err := c.ProveInclusion(ctx, idx)
	return p, ev, err
}
