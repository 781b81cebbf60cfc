package eid

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/adminunit"
	"github.com/dancu-vn/dancu/internal/audit"
	"github.com/dancu-vn/dancu/internal/errs"
)

// OrganisationDeadline is the time to decide an organisation's
// application, in working days: 15, the deadline when the organisation's
// data is not in a national database. dancu is not connected to the
// national business register, so the 3-day case does not arise yet.
const OrganisationDeadline = 15

// NewOrganisation is an organisation's application.
type NewOrganisation struct {
	Name               string `json:"name" maxLength:"300" doc:"Vietnamese name"`
	ShortName          string `json:"short_name,omitempty" maxLength:"100"`
	ForeignName        string `json:"foreign_name,omitempty" maxLength:"300"`
	RegistrationNumber string `json:"registration_number" maxLength:"50" doc:"Enterprise (tax) code, or the number of the establishing decision"`
	Founded            string `json:"founded" format:"date" doc:"Founding date, YYYY-MM-DD"`
	Commune            string `json:"commune" doc:"Head office: current commune code"`
	Address            string `json:"address" maxLength:"300" doc:"Head office: street and number"`
	Passcode           string `json:"passcode" doc:"The representative's passcode, to confirm"`
}

// Organisation is an organisation's electronic identity.
type Organisation struct {
	ID                 string     `json:"id" doc:"The organisation's e-ID code"`
	Name               string     `json:"name"`
	ShortName          string     `json:"short_name,omitempty"`
	ForeignName        string     `json:"foreign_name,omitempty"`
	RegistrationNumber string     `json:"registration_number"`
	Founded            string     `json:"founded"`
	Commune            string     `json:"commune"`
	Address            string     `json:"address"`
	Representative     string     `json:"representative_pid"`
	State              string     `json:"state" enum:"submitted,approved,rejected,revoked"`
	SubmittedAt        time.Time  `json:"submitted_at"`
	DueAt              time.Time  `json:"due_at"`
	DecidedAt          *time.Time `json:"decided_at,omitempty"`
	DecidedBy          string     `json:"decided_by,omitempty"`
	Reason             string     `json:"reason,omitempty"`
}

// orgCode makes an organisation e-ID code: "TC" and 10 random digits.
func orgCode() string {
	b := make([]byte, 10)
	rand.Read(b)
	for i := range b {
		b[i] = '0' + b[i]%10
	}
	return "TC" + string(b)
}

// ApplyOrganisation registers an organisation on behalf of the acting
// citizen, its representative, who must hold an active level-2 account and
// confirms with the passcode. The application is decided by the police of
// the head office's commune within OrganisationDeadline working days.
func (s *Service) ApplyOrganisation(ctx context.Context, rep string, in NewOrganisation) (Organisation, error) {
	if !self(ctx, rep) {
		return Organisation{}, errs.E(errs.Forbidden, "an organisation is registered by its representative, logged in with their own account")
	}
	var f errs.Fields
	trim := func(field, v string, required bool) string {
		v = strings.TrimSpace(v)
		if required && v == "" {
			f.Add(field, "is required")
		}
		return v
	}
	o := Organisation{Name: trim("name", in.Name, true), ShortName: trim("short_name", in.ShortName, false), ForeignName: trim("foreign_name", in.ForeignName, false),
		RegistrationNumber: trim("registration_number", in.RegistrationNumber, true), Founded: in.Founded, Commune: in.Commune,
		Address: trim("address", in.Address, true), Representative: rep, State: "submitted"}
	now := s.clock()
	if d, err := time.Parse(time.DateOnly, in.Founded); err != nil {
		f.Add("founded", "must be a date YYYY-MM-DD")
	} else if d.After(now) {
		f.Add("founded", "is in the future")
	}
	if _, ok := s.registry.Units().Commune(adminunit.Scheme2025, in.Commune); !ok {
		f.Add("commune", "%q is not a current commune code", in.Commune)
	}
	if err := f.Err(); err != nil {
		return Organisation{}, err
	}
	acc, err := loadAccount(ctx, s.db, rep)
	if err != nil || acc.State != Active || acc.Level < Level2 {
		return Organisation{}, errs.E(errs.Forbidden, "registering an organisation needs an active level-2 account")
	}
	if err := s.verifyPasscode(ctx, acc, in.Passcode); err != nil {
		return Organisation{}, err
	}
	o.ID, o.SubmittedAt, o.DueAt = orgCode(), now, s.cal.Deadline(now, OrganisationDeadline).UTC()
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM eid_organisation WHERE registration_number = $1 AND state IN ('submitted', 'approved')`,
			o.RegistrationNumber).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return errs.Field("registration_number", "an organisation with this number is registered or waiting for a decision")
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO eid_organisation (id, name, short_name, foreign_name, registration_number, founded, commune, address,
			representative_pid, state, submitted_at, due_at, decided_by, reason) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,'submitted',$10,$11,'','')`,
			o.ID, o.Name, o.ShortName, o.ForeignName, o.RegistrationNumber, o.Founded, o.Commune, o.Address, rep, o.SubmittedAt, o.DueAt); err != nil {
			return err
		}
		return audit.WriteTx(ctx, tx, audit.NewEvent(ctx, now, "eid_org_apply", rep, o.ID+" "+o.Name))
	})
	if err != nil {
		return Organisation{}, err
	}
	return o, nil
}

const orgColumns = `id, name, short_name, foreign_name, registration_number, founded, commune, address, representative_pid, state,
	submitted_at, due_at, decided_at, decided_by, reason`

func scanOrg(row interface{ Scan(...any) error }) (Organisation, error) {
	var o Organisation
	var decided sql.NullTime
	err := row.Scan(&o.ID, &o.Name, &o.ShortName, &o.ForeignName, &o.RegistrationNumber, &o.Founded, &o.Commune, &o.Address,
		&o.Representative, &o.State, &o.SubmittedAt, &o.DueAt, &decided, &o.DecidedBy, &o.Reason)
	if decided.Valid {
		t := decided.Time.UTC()
		o.DecidedAt = &t
	}
	o.SubmittedAt, o.DueAt = o.SubmittedAt.UTC(), o.DueAt.UTC()
	return o, err
}

// DecideOrganisation approves or rejects an organisation's application; the
// officer must cover the head office's commune.
func (s *Service) DecideOrganisation(ctx context.Context, id string, approve bool, reason string) (Organisation, error) {
	reason = strings.TrimSpace(reason)
	if !approve && reason == "" {
		return Organisation{}, errs.Field("reason", "is required to reject an application")
	}
	var out Organisation
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		o, err := scanOrg(tx.QueryRowContext(ctx, `SELECT `+orgColumns+` FROM eid_organisation WHERE id = $1`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return errs.E(errs.NotFound, "no organisation %s", id)
		}
		if err != nil {
			return err
		}
		officer, err := s.policy.RequireIn(ctx, access.ReviewEID, access.Place{Scheme: adminunit.Scheme2025, Commune: o.Commune})
		if err != nil {
			return err
		}
		now := s.clock()
		o.State, o.DecidedAt, o.DecidedBy, o.Reason = "rejected", &now, officer.ID, reason
		if approve {
			o.State, o.Reason = "approved", ""
		}
		res, err := tx.ExecContext(ctx, `UPDATE eid_organisation SET state = $1, decided_at = $2, decided_by = $3, reason = $4 WHERE id = $5 AND state = 'submitted'`,
			o.State, now, officer.ID, o.Reason, id)
		if n, _ := rowsAffected(res, err); n != 1 {
			if err != nil {
				return err
			}
			return errs.E(errs.Conflict, "the application %s was already decided", id)
		}
		out = o
		return audit.WriteTx(ctx, tx, audit.NewEvent(ctx, now, "eid_org_"+o.State, o.Representative, fmt.Sprintf("%s %s", id, reason)))
	})
	return out, err
}

// Organisation returns an organisation to its representative or an officer.
func (s *Service) Organisation(ctx context.Context, id string) (Organisation, error) {
	a, ok := actor.From(ctx)
	if !ok {
		return Organisation{}, errs.E(errs.Unauthenticated, "log in first")
	}
	if a.Kind != actor.Citizen {
		if _, err := access.Require(ctx, access.ReviewEID); err != nil {
			return Organisation{}, err
		}
	}
	o, err := scanOrg(s.db.QueryRowContext(ctx, `SELECT `+orgColumns+` FROM eid_organisation WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) || (err == nil && a.Kind == actor.Citizen && !self(ctx, o.Representative)) {
		return Organisation{}, errs.E(errs.NotFound, "no organisation %s", id)
	}
	if err != nil {
		return Organisation{}, err
	}
	purpose := "the representative's own organisation"
	if a.Kind != actor.Citizen {
		// Officers of the unit of the head office, as for deciding it.
		if _, err := s.policy.RequireIn(ctx, access.ReviewEID, access.Place{Scheme: adminunit.Scheme2025, Commune: o.Commune}); err != nil {
			return Organisation{}, err
		}
		purpose = "organisation e-ID review"
	}
	if err := s.recordRead(ctx, "eid_org_read", o.Representative, purpose, o.ID); err != nil {
		return Organisation{}, err
	}
	return o, nil
}
