package registry

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/audit"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/personalid"
)

// ChangeForDossier changes a record inside the caller's transaction as the
// outcome of a dossier (a residence procedure) that the competent
// authority has decided. The caller has checked that authority: it is the
// police of the procedure's commune, which for a temporary residence is
// not the commune of permanent residence, so the registry's jurisdiction
// rule (changes by the commune of permanent residence) does not apply
// here; the data rules do. The revision names action and cites the dossier
// (p.DossierRef, required). The actor in ctx must hold citizen:write.
// A change that changes nothing makes no revision.
func (s *Service) ChangeForDossier(ctx context.Context, tx *sql.Tx, pidText, action string, p Patch) (Record, error) {
	if _, err := access.Require(ctx, access.WriteCitizen); err != nil {
		return Record{}, err
	}
	pid, err := personalid.Parse(pidText)
	if err != nil {
		return Record{}, errs.Field("pid", "%s", err)
	}
	if strings.TrimSpace(p.DossierRef) == "" || strings.TrimSpace(p.Reason) == "" {
		return Record{}, errs.E(errs.Internal, "a dossier change needs its dossier reference and reason")
	}
	cur, err := loadRecord(ctx, tx, pid)
	if err != nil {
		return Record{}, err
	}
	if cur.Status != Alive {
		return Record{}, errs.E(errs.Conflict, "the national population database records %s as %s", pid, cur.Status)
	}
	next := cur
	if next.Details, err = applyPatch(cur.Details, p); err != nil {
		return Record{}, err
	}
	if err := s.check.details(&next.Details); err != nil {
		return Record{}, err
	}
	changes := diff(&cur, &next)
	if len(changes) == 0 {
		return cur, nil
	}
	now := s.clock()
	next.Version, next.UpdatedAt = cur.Version+1, now
	if err := s.updateRecord(ctx, tx, &next); err != nil {
		return Record{}, err
	}
	if err := revise(ctx, tx, &next, action, p.Basis, changes); err != nil {
		return Record{}, err
	}
	return next, audit.WriteTx(ctx, tx, audit.NewEvent(ctx, now, action, string(pid), p.DossierRef+": "+changedFields(changes)))
}

// RecordTx reads a record inside the caller's transaction, for a
// procedure that decides on it; the read is recorded with purpose.
func (s *Service) RecordTx(ctx context.Context, tx *sql.Tx, pidText, purpose string) (Record, error) {
	if _, err := access.Require(ctx, access.ReadCitizen); err != nil {
		return Record{}, err
	}
	pid, err := personalid.Parse(pidText)
	if err != nil {
		return Record{}, errs.Field("pid", "%s", err)
	}
	r, err := loadRecord(ctx, tx, pid)
	if err != nil {
		return Record{}, err
	}
	ev := audit.NewEvent(ctx, s.clock(), "read", string(pid), "")
	ev.Purpose = purpose
	return r, audit.WriteTx(ctx, tx, ev)
}

// MoveForDossier moves a person between households (joining one, or
// founding one at a new address) inside the caller's transaction, as the
// outcome of a permanent-residence dossier whose competent authority the
// caller has checked; see ChangeForDossier.
func (s *Service) MoveForDossier(ctx context.Context, tx *sql.Tx, pidText, action string, m Move) (Record, error) {
	if _, err := access.Require(ctx, access.WriteCitizen); err != nil {
		return Record{}, err
	}
	pid, err := personalid.Parse(pidText)
	if err != nil {
		return Record{}, errs.Field("pid", "%s", err)
	}
	if strings.TrimSpace(m.DossierRef) == "" || strings.TrimSpace(m.Reason) == "" {
		return Record{}, errs.E(errs.Internal, "a dossier change needs its dossier reference and reason")
	}
	return s.moveIn(ctx, tx, pid, 0, m, action, false)
}

// HouseholdInfo is what a procedure needs to know of a household.
type HouseholdInfo struct {
	ID      string
	Head    string // personal ID number of the head
	Commune string // current commune of its address
	Address Address
}

// HouseholdFor reads a household for a procedure (no personal data beyond
// the head's number).
func (s *Service) HouseholdFor(ctx context.Context, id string) (HouseholdInfo, error) {
	var h HouseholdInfo
	var addr string
	if !storable(id) || id == "" {
		return h, errs.Field("household_id", "no household %q", id)
	}
	err := s.db.QueryRowContext(ctx, `SELECT id, head_pid, commune, address FROM household WHERE id = $1`, id).Scan(&h.ID, &h.Head, &h.Commune, &addr)
	if errors.Is(err, sql.ErrNoRows) {
		return h, errs.Field("household_id", "no household %s", id)
	}
	if err != nil {
		return h, err
	}
	return h, json.Unmarshal([]byte(addr), &h.Address)
}

// ChangeHeadForDossier makes another member head of the household that
// pidText heads, inside the caller's transaction, as the outcome of a
// residence-update dossier; the former head stays a member with the
// relationship formerRel to the new head. Both records get a revision
// citing the dossier.
func (s *Service) ChangeHeadForDossier(ctx context.Context, tx *sql.Tx, pidText, newHead, formerRel string, b Basis) error {
	if _, err := access.Require(ctx, access.WriteCitizen); err != nil {
		return err
	}
	pid, err := personalid.Parse(pidText)
	if err != nil {
		return errs.Field("pid", "%s", err)
	}
	cur, err := loadRecord(ctx, tx, pid)
	if err != nil {
		return err
	}
	return s.changeHead(ctx, tx, cur, newHead, formerRel, nil, b)
}

// LeaveForDossier deregisters a person's permanent residence inside the
// caller's transaction, as the outcome of a deregistration dossier: the
// person leaves the household (handing it to newHead if they head it and
// others stay) and has no permanent residence recorded any more.
func (s *Service) LeaveForDossier(ctx context.Context, tx *sql.Tx, pidText, newHead string, b Basis) error {
	if _, err := access.Require(ctx, access.WriteCitizen); err != nil {
		return err
	}
	pid, err := personalid.Parse(pidText)
	if err != nil {
		return errs.Field("pid", "%s", err)
	}
	cur, err := loadRecord(ctx, tx, pid)
	if err != nil {
		return err
	}
	now := s.clock()
	if cur.Household != nil && cur.Household.Relationship == "head" {
		if err := s.handOver(ctx, tx, cur.Household.HouseholdID, pid, Move{NewHeadPID: newHead, Basis: b}, now); err != nil {
			return err
		}
	}
	next := cur
	next.PermanentResidence, next.Household = nil, nil
	changes := diff(&cur, &next)
	if len(changes) == 0 {
		return errs.E(errs.Conflict, "%s has no permanent residence recorded", pid)
	}
	next.Version, next.UpdatedAt = cur.Version+1, now
	if err := s.updateRecord(ctx, tx, &next); err != nil {
		return err
	}
	if err := revise(ctx, tx, &next, "deregister_permanent_residence", b, changes); err != nil {
		return err
	}
	return audit.WriteTx(ctx, tx, audit.NewEvent(ctx, now, "deregister_permanent_residence", string(pid), b.DossierRef))
}

// CitesDossier reports whether a revision of the record cites the dossier
// code as its reference, in the caller's transaction: a correction
// request is approved only once the record was corrected for it.
func (s *Service) CitesDossier(ctx context.Context, tx *sql.Tx, pidText, code string) (bool, error) {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM citizen_revision WHERE pid = $1 AND dossier_ref = $2`, pidText, code).Scan(&n)
	return n > 0, err
}
