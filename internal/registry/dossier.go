package registry

import (
	"context"
	"database/sql"
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
		return Record{}, errs.Field("pid", "%s", err.Error())
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
		return Record{}, errs.Field("pid", "%s", err.Error())
	}
	r, err := loadRecord(ctx, tx, pid)
	if err != nil {
		return Record{}, err
	}
	ev := audit.NewEvent(ctx, s.clock(), "read", string(pid), "")
	ev.Purpose = purpose
	return r, audit.WriteTx(ctx, tx, ev)
}
