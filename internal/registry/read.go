package registry

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/audit"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/personalid"
	"github.com/dancu-vn/dancu/internal/sqldb"
)

// Get returns a citizen's record. The read is recorded, with the actor and
// the stated purpose, before the data is returned; if it cannot be
// recorded, nothing is returned.
func (s *Service) Get(ctx context.Context, pidText, purpose string) (Citizen, error) {
	if _, err := access.Require(ctx, access.ReadCitizen); err != nil {
		return Citizen{}, err
	}
	pid, err := personalid.Parse(pidText)
	if err != nil {
		return Citizen{}, errs.Field("pid", "%s", err)
	}
	// The purpose goes into the access log, whose group commit would fail
	// with it every read waiting in the same batch.
	if !storable(purpose) {
		return Citizen{}, errs.Field("purpose", "must be UTF-8 text without NUL characters")
	}
	r, err := loadRecord(ctx, s.db, pid)
	if err != nil {
		return Citizen{}, err
	}
	c, err := s.viewWithLinks(ctx, r)
	if err != nil {
		return Citizen{}, err
	}
	ev := audit.NewEvent(ctx, s.clock(), "read", string(pid), "")
	ev.Purpose = purpose
	if err := s.audit.Record(ctx, ev); err != nil {
		return Citizen{}, err
	}
	return c, nil
}

// GetOnBehalf returns a citizen's record to another service acting for the
// actor in ctx (a citizen filling in a form, an applicant whose details are
// checked) after that service has decided the actor may have it. The
// access record names that actor, not the service, so that the citizen's
// "who accessed my data" tells the truth.
func (s *Service) GetOnBehalf(ctx context.Context, pidText, purpose string) (Citizen, error) {
	a, ok := actor.From(ctx)
	if !ok {
		a = &actor.Actor{ID: "anonymous", Kind: "anonymous", Name: "anonymous"}
	}
	pid, err := personalid.Parse(pidText)
	if err != nil {
		return Citizen{}, errs.Field("pid", "%s", err)
	}
	r, err := loadRecord(ctx, s.db, pid)
	if err != nil {
		return Citizen{}, err
	}
	c, err := s.viewWithLinks(ctx, r)
	if err != nil {
		return Citizen{}, err
	}
	ev := audit.NewEvent(actor.With(ctx, a), s.clock(), "read", string(pid), "")
	ev.Purpose = purpose
	if err := s.audit.Record(ctx, ev); err != nil {
		return Citizen{}, err
	}
	return c, nil
}

// viewWithLinks is view plus what other records say about this one:
// children, persons represented, and the household head.
func (s *Service) viewWithLinks(ctx context.Context, r Record) (Citizen, error) {
	c := s.view(r)
	var household string
	if c.Household != nil {
		household = c.Household.HouseholdID
	}
	// One query for everything other records say: the reverse links and
	// the household head.
	rows, err := s.db.QueryContext(ctx, `SELECT l.role, l.other_pid, c.family_name, c.middle_name, c.given_name
		FROM citizen_link l LEFT JOIN citizen c ON c.pid = l.other_pid
		WHERE l.pid = $1 AND l.role IN ('child', 'represented')
		UNION ALL
		SELECT 'head', h.head_pid, c.family_name, c.middle_name, c.given_name
		FROM household h LEFT JOIN citizen c ON c.pid = h.head_pid WHERE h.id = $2
		ORDER BY 1, 2`, r.PID, household)
	if err != nil {
		return Citizen{}, fmt.Errorf("read links of %s: %w", r.PID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var role, other string
		var fam, mid, giv sql.NullString
		if err := rows.Scan(&role, &other, &fam, &mid, &giv); err != nil {
			return Citizen{}, err
		}
		rel := Relative{PID: other}
		if fam.Valid {
			rel.Name = Name{Family: fam.String, Middle: mid.String, Given: giv.String}.Full()
		}
		switch role {
		case "child":
			c.Children = append(c.Children, rel)
		case "represented":
			c.Represented = append(c.Represented, rel)
		case "head":
			m := *c.Household
			m.HeadPID, m.HeadName = rel.PID, rel.Name
			c.Household = &m
		}
	}
	if err := rows.Err(); err != nil {
		return Citizen{}, err
	}
	// Relatives named only by number (registered before them, from legacy
	// data) take their name from their own record.
	for _, rel := range []*Relative{c.Father, c.Mother, c.Spouse, c.LegalRepresentative} {
		if rel == nil || rel.PID == "" || rel.Name != "" {
			continue
		}
		var n Name
		err := s.db.QueryRowContext(ctx, `SELECT family_name, middle_name, given_name FROM citizen WHERE pid = $1`, rel.PID).Scan(&n.Family, &n.Middle, &n.Given)
		if err == nil {
			rel.Name = n.Full()
		} else if !errors.Is(err, sql.ErrNoRows) {
			return Citizen{}, err
		}
	}
	return c, nil
}

// History returns every revision of a record, oldest first. Reading the
// history is reading personal data, and is recorded as such.
func (s *Service) History(ctx context.Context, pidText string) ([]Revision, error) {
	if _, err := access.Require(ctx, access.ReadCitizen); err != nil {
		return nil, err
	}
	pid, err := personalid.Parse(pidText)
	if err != nil {
		return nil, errs.Field("pid", "%s", err)
	}
	revs, err := history(ctx, s.db, pid)
	if err != nil {
		return nil, err
	}
	if len(revs) == 0 {
		return nil, errs.E(errs.NotFound, "no citizen with personal ID number %s", pid)
	}
	if err := s.audit.Record(ctx, historyRead(ctx, s.clock(), pid)); err != nil {
		return nil, err
	}
	return revs, nil
}

func history(ctx context.Context, q sqldb.Querier, pid personalid.Number) ([]Revision, error) {
	rows, err := q.QueryContext(ctx, `SELECT version, at, action, actor_id, actor_kind, actor_name, reason, legal_basis, dossier_ref, changes
		FROM citizen_revision WHERE pid = $1 ORDER BY version`, pid)
	if err != nil {
		return nil, fmt.Errorf("read history of %s: %w", pid, err)
	}
	defer rows.Close()
	var out []Revision
	for rows.Next() {
		var r Revision
		var changes string
		if err := rows.Scan(&r.Version, &r.At, &r.Action, &r.ActorID, &r.ActorKind, &r.ActorName, &r.Reason, &r.LegalBasis, &r.DossierRef, &changes); err != nil {
			return nil, err
		}
		r.At = r.At.UTC()
		if err := json.Unmarshal([]byte(changes), &r.Changes); err != nil {
			return nil, fmt.Errorf("decode revision %s/%d: %w", pid, r.Version, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// RequireOver returns the actor in ctx if it holds perm and its
// jurisdiction covers where the person pid lives (the permanent residence,
// else the current one): the rule for every service that changes or
// reveals a person, such as cards and e-ID accounts. The permission is
// checked before the record is looked at, so who lacks it learns nothing,
// not even whether the person exists.
func (s *Service) RequireOver(ctx context.Context, perm access.Permission, pidText string) (*actor.Actor, error) {
	return s.RequireOverIn(ctx, s.db, perm, pidText)
}

// RequireOverIn is RequireOver reading the record through q, the caller's
// transaction when it holds one.
func (s *Service) RequireOverIn(ctx context.Context, q sqldb.Querier, perm access.Permission, pidText string) (*actor.Actor, error) {
	a, err := access.Require(ctx, perm)
	if err != nil {
		return nil, err
	}
	if a.Kind == actor.System || a.Jurisdiction.Level == actor.National {
		return a, nil
	}
	pid, err := personalid.Parse(pidText)
	if err != nil {
		return nil, errs.Field("pid", "%s", err)
	}
	r, err := loadRecord(ctx, q, pid)
	if err != nil {
		return nil, err
	}
	return s.policy.RequireIn(ctx, perm, placeOf(&r.Details))
}

func historyRead(ctx context.Context, now time.Time, pid personalid.Number) audit.Event {
	ev := audit.NewEvent(ctx, now, "read_history", string(pid), "")
	ev.Purpose = "the record's history of changes"
	return ev
}
