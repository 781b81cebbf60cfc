package eid

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/audit"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/personalid"
	"github.com/dancu-vn/dancu/internal/registry"
)

// Dependant is a child under 14 or a ward attached to a guardian's account.
type Dependant struct {
	PID       string       `json:"pid"`
	Name      string       `json:"name"`
	BirthDate string       `json:"birth_date"`
	Relation  string       `json:"relation" enum:"father,mother,legal_representative" doc:"What the guardian is to the dependant, per the registry"`
	State     AccountState `json:"state,omitempty" doc:"The dependant's account"`
}

// AttachDependant attaches a child under 14, or a person the guardian
// legally represents, to the guardian's own active account. The registry
// must record the guardian as the dependant's father, mother or legal
// representative. The dependant's account has no password of its own; the
// guardian acts for them. At 14 the child applies for their own account.
func (s *Service) AttachDependant(ctx context.Context, guardian, dependantText string) (Dependant, error) {
	if !self(ctx, guardian) {
		return Dependant{}, errs.E(errs.Forbidden, "only the guardian attaches a dependant to their own account")
	}
	pid, err := personalid.Parse(dependantText)
	if err != nil {
		return Dependant{}, errs.Field("pid", "%s", err)
	}
	g, err := loadAccount(ctx, s.db, guardian)
	if err != nil || g.State != Active {
		return Dependant{}, errs.E(errs.Conflict, "the guardian's account must be active")
	}
	c, _, err := s.lookup(ctx, string(pid), "attach a dependant to the guardian's e-ID account")
	if errs.Is(err, errs.NotFound) {
		return Dependant{}, errs.Field("pid", "no such person in the national population database")
	}
	if err != nil {
		return Dependant{}, err
	}
	relation := guardianRelation(c, guardian)
	if relation == "" {
		return Dependant{}, errs.Field("pid", "the registry does not record you as this person's parent or legal representative")
	}
	now := s.clock()
	if age, ok := ageOn(c.BirthDate, now.Add(7*time.Hour)); relation != "legal_representative" && (!ok || age >= 14) {
		return Dependant{}, errs.Field("pid", "a child of 14 or over holds their own account")
	}
	if c.Status != registry.Alive {
		return Dependant{}, errs.E(errs.Conflict, "the national population database does not record this person as alive")
	}
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		acc, err := loadAccount(ctx, tx, string(pid))
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		case acc.Guardian == guardian:
			return nil // attached already: a retry
		default:
			return errs.E(errs.Conflict, "%s already has an account or another guardian", pid)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO eid_account (pid, subject, level, state, phone, email, password_hash, passcode_hash, guardian_pid,
			failed_logins, state_reason, session_epoch, version, created_at, updated_at) VALUES ($1,$2,$3,'active',$4,'','','',$5,0,'',0,1,$6,$6)`,
			string(pid), uuid.NewString(), g.Level, g.Phone, guardian, now); err != nil {
			return err
		}
		if err := accountEvent(ctx, tx, string(pid), Active, g.Level, now); err != nil {
			return err
		}
		return audit.WriteTx(ctx, tx, audit.NewEvent(ctx, now, "eid_dependant_attached", string(pid), fmt.Sprintf("guardian %s (%s)", guardian, relation)))
	})
	if err != nil {
		return Dependant{}, err
	}
	return Dependant{PID: string(pid), Name: c.Name.Full(), BirthDate: c.BirthDate, Relation: relation}, nil
}

// Dependants lists the accounts attached to the guardian's (the guardian
// or an officer).
func (s *Service) Dependants(ctx context.Context, guardian string) ([]string, error) {
	if !self(ctx, guardian) {
		if _, err := s.Account(ctx, guardian); err != nil {
			return nil, err
		}
	}
	rows, err := s.db.QueryContext(ctx, `SELECT pid FROM eid_account WHERE guardian_pid = $1 AND state <> 'revoked' ORDER BY pid`, guardian)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// guardianRelation is what the registry records the guardian as to the
// person: father, mother, legal_representative, or "".
func guardianRelation(c registry.Citizen, guardian string) string {
	for _, r := range []struct {
		name string
		rel  *registry.Relative
	}{{"father", c.Father}, {"mother", c.Mother}, {"legal_representative", c.LegalRepresentative}} {
		if r.rel != nil && r.rel.PID == guardian {
			return r.name
		}
	}
	return ""
}

// ActAsGuardian checks that the acting citizen may act for the dependant
// pid now — the dependant's account is attached to theirs, and the
// registry still records them as the parent of a child under 14 or as
// the legal representative — and returns the dependant's record, read as
// the guardian's access for purpose. Anyone else is told there is no such
// dependant.
func (s *Service) ActAsGuardian(ctx context.Context, pid, purpose string) (Dependant, registry.Citizen, error) {
	a, ok := actor.From(ctx)
	if !ok || a.Kind != actor.Citizen {
		return Dependant{}, registry.Citizen{}, errs.E(errs.Forbidden, "only a guardian acts for a dependant")
	}
	none := errs.E(errs.NotFound, "no dependant %s of yours", pid)
	if _, err := personalid.Parse(pid); err != nil {
		return Dependant{}, registry.Citizen{}, none
	}
	acc, err := loadAccount(ctx, s.db, pid)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && (acc.Guardian != a.ID || acc.State == Revoked)) {
		return Dependant{}, registry.Citizen{}, none
	}
	if err != nil {
		return Dependant{}, registry.Citizen{}, err
	}
	c, err := s.registry.GetOnBehalf(ctx, pid, purpose)
	if err != nil {
		return Dependant{}, registry.Citizen{}, err
	}
	rel := guardianRelation(c, a.ID)
	age, ok := ageOn(c.BirthDate, s.clock().Add(7*time.Hour))
	switch {
	case rel == "":
		return Dependant{}, registry.Citizen{}, errs.E(errs.Forbidden, "the registry no longer records you as this person's parent or legal representative")
	case rel != "legal_representative" && (!ok || age >= 14):
		return Dependant{}, registry.Citizen{}, errs.E(errs.Forbidden, "a child of 14 or over holds their own account")
	}
	return Dependant{PID: pid, Name: c.Name.Full(), BirthDate: c.BirthDate, Relation: rel, State: acc.State}, c, nil
}
