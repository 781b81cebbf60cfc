package registry

import (
	"context"
	"database/sql"
	"errors"
	"sort"
	"strings"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/audit"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/personalid"
)

// HeadChange makes another member head of a household (Luật Cư trú 2020,
// Điều 26: the household book is rewritten with the new head). Every
// other member's relationship is restated relative to the new head, as the
// register records relationships to the head.
type HeadChange struct {
	NewHeadPID string `json:"new_head_pid" doc:"The member who becomes head"`
	// FormerHeadRelationship is the former head's relationship to the new
	// head; the former head stays a member.
	FormerHeadRelationship string `json:"former_head_relationship" doc:"The former head's relationship to the new head (a code of household_relationship)"`
	// Relationships gives each other living member's relationship to the
	// new head, by personal ID number.
	Relationships map[string]string `json:"relationships,omitempty" doc:"Each other living member's relationship to the new head, by personal ID number"`
	Basis
}

// ChangeHead changes the head of a household. ifMatch, when not 0, is the
// household version the change is based on. The officer must be allowed
// to change the records of the household's place.
func (s *Service) ChangeHead(ctx context.Context, householdID string, ifMatch int64, ch HeadChange) (Household, error) {
	// Nothing of a household outside the officer's reach is looked at.
	if _, err := s.RequireOverHousehold(ctx, householdID); err != nil {
		return Household{}, err
	}
	var f errs.Fields
	if strings.TrimSpace(ch.Reason) == "" {
		f.Add("reason", "is required")
	}
	if strings.TrimSpace(ch.LegalBasis) == "" {
		f.Add("legal_basis", "is required")
	}
	if _, err := personalid.Parse(ch.NewHeadPID); err != nil {
		f.Add("new_head_pid", "%s", err)
	}
	if err := f.Err(); err != nil {
		return Household{}, err
	}
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		h, err := loadHousehold(ctx, tx, householdID)
		if err != nil {
			return err
		}
		if h.head == "" {
			return errs.E(errs.Conflict, "household %s has no head to replace", householdID)
		}
		cur, err := loadRecord(ctx, tx, personalid.Number(h.head))
		if err != nil {
			return err
		}
		if _, err := s.policy.RequireChange(ctx, placeOf(&cur.Details)); err != nil {
			return err
		}
		if ifMatch != 0 && ifMatch != h.version {
			return errs.E(errs.Precondition, "household %s is at version %d, not %d: read it again", householdID, h.version, ifMatch)
		}
		if ch.NewHeadPID == h.head {
			return errs.Field("new_head_pid", "%s heads the household already", h.head)
		}
		others, err := s.restated(ctx, tx, householdID, h.head, ch)
		if err != nil {
			return err
		}
		return s.changeHead(ctx, tx, cur, ch.NewHeadPID, ch.FormerHeadRelationship, others, ch.Basis)
	})
	if err != nil {
		return Household{}, err
	}
	return s.Household(ctx, householdID)
}

// restated checks the relationships given for the other living members:
// one for each, a code of the list, not head, and no one else's.
func (s *Service) restated(ctx context.Context, tx *sql.Tx, householdID, head string, ch HeadChange) (map[string]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT pid FROM citizen WHERE household_id = $1 AND status = 'alive' ORDER BY pid`, householdID)
	if err != nil {
		return nil, err
	}
	var members []string
	for rows.Next() {
		var pid string
		if err := rows.Scan(&pid); err != nil {
			rows.Close()
			return nil, err
		}
		members = append(members, pid)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	member := map[string]bool{}
	for _, pid := range members {
		member[pid] = true
	}
	if !member[ch.NewHeadPID] {
		return nil, errs.Field("new_head_pid", "%s is not a living member of household %s", ch.NewHeadPID, householdID)
	}
	var f errs.Fields
	out := map[string]string{}
	for _, pid := range members {
		if pid == head || pid == ch.NewHeadPID {
			continue
		}
		rel := ch.Relationships[pid]
		switch {
		case rel == "":
			f.Add("relationships."+pid, "give %s's relationship to the new head", pid)
		case rel == "head" || !s.codes.HouseholdRel.Has(rel):
			f.Add("relationships."+pid, "%q is not a relationship to the head: %s", rel, s.codes.HouseholdRel.Hint())
		default:
			out[pid] = rel
		}
	}
	extra := []string{}
	for pid := range ch.Relationships {
		if !member[pid] || pid == head || pid == ch.NewHeadPID {
			extra = append(extra, pid)
		}
	}
	sort.Strings(extra)
	for _, pid := range extra {
		f.Add("relationships."+pid, "%s is not another living member of household %s", pid, householdID)
	}
	return out, f.Err()
}

// changeHead hands the household cur heads to newHead: the new head's
// record, the former head's (now a member related by formerRel) and each
// restated member's get a revision citing b.
func (s *Service) changeHead(ctx context.Context, tx *sql.Tx, cur Record, newHead, formerRel string, others map[string]string, b Basis) error {
	if !s.codes.HouseholdRel.Has(formerRel) || formerRel == "head" {
		return errs.Field("former_head_relationship", "give the former head's relationship to the new head: %s", s.codes.HouseholdRel.Hint())
	}
	if cur.Household == nil || cur.Household.Relationship != "head" {
		return errs.Field("pid", "%s does not head a household", cur.PID)
	}
	now := s.clock()
	householdID := cur.Household.HouseholdID
	if err := s.handOver(ctx, tx, householdID, cur.PID, Move{NewHeadPID: newHead, Basis: b}, now); err != nil {
		return err
	}
	next := cur
	m := *cur.Household
	m.Relationship = formerRel
	next.Household = &m
	next.Version, next.UpdatedAt = cur.Version+1, now
	if err := s.updateRecord(ctx, tx, &next); err != nil {
		return err
	}
	if err := revise(ctx, tx, &next, "leave_household_headship", b, diff(&cur, &next)); err != nil {
		return err
	}
	pids := make([]string, 0, len(others))
	for pid := range others {
		pids = append(pids, pid)
	}
	sort.Strings(pids)
	for _, pid := range pids {
		r, err := loadRecord(ctx, tx, personalid.Number(pid))
		if err != nil {
			return err
		}
		if r.Household == nil || r.Household.Relationship == others[pid] {
			continue
		}
		n := r
		hm := *r.Household
		hm.Relationship = others[pid]
		n.Household = &hm
		n.Version, n.UpdatedAt = r.Version+1, now
		if err := s.updateRecord(ctx, tx, &n); err != nil {
			return err
		}
		if err := revise(ctx, tx, &n, "restate_household_relationship", b, diff(&r, &n)); err != nil {
			return err
		}
	}
	return audit.WriteTx(ctx, tx, audit.NewEvent(ctx, now, "change_household_head", string(cur.PID), householdID+" → "+newHead))
}

// RequireOverHousehold checks that the caller may change the records of
// a household's place (that of its head), before anything of it is read.
func (s *Service) RequireOverHousehold(ctx context.Context, householdID string) (*actor.Actor, error) {
	a, err := access.Require(ctx, access.WriteCitizen)
	if err != nil {
		return nil, err
	}
	if !storable(householdID) {
		return nil, errs.E(errs.NotFound, "no household %q", householdID)
	}
	var head string
	err = s.db.QueryRowContext(ctx, `SELECT head_pid FROM household WHERE id = $1`, householdID).Scan(&head)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.E(errs.NotFound, "no household %q", householdID)
	}
	if err != nil {
		return nil, err
	}
	if head == "" {
		if a.Kind == actor.System || a.Jurisdiction.Level == actor.National {
			return a, nil
		}
		return nil, errs.E(errs.Forbidden, "household %s has no head whose place would decide", householdID)
	}
	return s.RequireOverIn(ctx, s.db, access.WriteCitizen, head)
}
