package eid

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/adminunit"
	"github.com/dancu-vn/dancu/internal/audit"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/events"
	"github.com/dancu-vn/dancu/internal/registry"
)

const accountColumns = `pid, subject, level, state, phone, email, guardian_pid, state_reason, locked_until, version, created_at, updated_at, activated_at,
	session_epoch, failed_logins, password_hash, passcode_hash, totp_enabled, cooling_until`

func scanAccount(row interface{ Scan(...any) error }) (Account, error) {
	var a Account
	// locked_until and failed_logins are no longer used: logins are
	// throttled by access.Throttle, which never locks an account.
	var locked, activated, cooling sql.NullTime
	var failed int
	err := row.Scan(&a.PID, &a.Subject, &a.Level, &a.State, &a.Phone, &a.Email, &a.Guardian, &a.StateReason, &locked, &a.Version,
		&a.CreatedAt, &a.UpdatedAt, &activated, &a.epoch, &failed, &a.password, &a.passcode, &a.TOTP, &cooling)
	if activated.Valid {
		t := activated.Time.UTC()
		a.ActivatedAt = &t
	}
	if cooling.Valid {
		t := cooling.Time.UTC()
		a.CoolingUntil = &t
	}
	a.CreatedAt, a.UpdatedAt = a.CreatedAt.UTC(), a.UpdatedAt.UTC()
	return a, err
}

func loadAccount(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, pid string) (Account, error) {
	return scanAccount(q.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM eid_account WHERE pid = $1`, pid))
}

// self reports whether the actor in ctx is the citizen pid.
func self(ctx context.Context, pid string) bool {
	a, ok := actor.From(ctx)
	return ok && a.Kind == actor.Citizen && a.ID == pid
}

// Account returns an account to its holder or to an officer who reviews
// e-ID accounts.
func (s *Service) Account(ctx context.Context, pid string) (Account, error) {
	purpose := "the holder's own account"
	if !self(ctx, pid) {
		if err := s.requireOfficerFor(ctx, pid); err != nil {
			return Account{}, err
		}
		purpose = "e-ID account administration"
	}
	acc, err := loadAccount(ctx, s.db, pid)
	if errors.Is(err, sql.ErrNoRows) {
		return Account{}, errs.E(errs.NotFound, "no e-ID account %s", pid)
	}
	if err != nil {
		return Account{}, err
	}
	// The account holds the phone and e-mail: the read is recorded, under
	// the real actor, before it is answered.
	if err := s.recordRead(ctx, "eid_account_read", pid, purpose, ""); err != nil {
		return Account{}, err
	}
	return acc, nil
}

// recordRead records a read of a person's e-ID data by the actor in ctx.
func (s *Service) recordRead(ctx context.Context, action, pid, purpose, detail string) error {
	ev := audit.NewEvent(ctx, s.clock(), action, pid, detail)
	ev.Purpose = purpose
	return s.db.InTx(ctx, func(tx *sql.Tx) error { return audit.WriteTx(ctx, tx, ev) })
}

// Application returns an application to its applicant, or to an officer
// who reviews e-ID accounts and covers the applicant's commune.
func (s *Service) Application(ctx context.Context, id string) (Application, error) {
	a, ok := actor.From(ctx)
	if !ok {
		return Application{}, errs.E(errs.Unauthenticated, "log in first")
	}
	if a.Kind != actor.Citizen {
		if _, err := access.Require(ctx, access.ReviewEID); err != nil {
			return Application{}, err
		}
	}
	app, err := scanApplication(s.db.QueryRowContext(ctx, `SELECT `+appColumns+` FROM eid_application WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) || (err == nil && a.Kind == actor.Citizen && !self(ctx, app.PID)) {
		return Application{}, errs.E(errs.NotFound, "no e-ID application %s", id)
	}
	if err != nil {
		return Application{}, err
	}
	purpose := "the applicant's own application"
	if a.Kind != actor.Citizen {
		if _, err := s.policy.RequireIn(ctx, access.ReviewEID, access.Place{Scheme: adminunit.Scheme2025, Commune: app.Commune}); err != nil {
			return Application{}, err
		}
		purpose = "e-ID application review"
	}
	if err := s.recordRead(ctx, "eid_application_read", app.PID, purpose, app.ID); err != nil {
		return Application{}, err
	}
	return s.withOverdue(app), nil
}

// requireOfficerFor checks that the actor is an officer who reviews e-ID
// accounts and whose jurisdiction covers the person's permanent residence.
func (s *Service) requireOfficerFor(ctx context.Context, pid string) error {
	_, err := s.registry.RequireOver(ctx, access.ReviewEID, pid)
	if errs.Is(err, errs.NotFound) {
		return errs.E(errs.NotFound, "no e-ID account %s", pid)
	}
	return err
}

func (s *Service) withOverdue(a Application) Application {
	end := s.clock()
	if a.DecidedAt != nil {
		end = *a.DecidedAt
	}
	a.Overdue = end.After(a.DueAt)
	return a
}

// Queue lists the applications waiting for a decision in the officer's
// jurisdiction (all of them for a national officer), the oldest deadline
// first; overdueOnly keeps those past their deadline.
func (s *Service) Queue(ctx context.Context, overdueOnly bool, limit int) ([]Application, error) {
	a, err := access.Require(ctx, access.ReviewEID)
	if err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	q := `SELECT ` + appColumns + ` FROM eid_application WHERE state = 'submitted'`
	args := []any{}
	if overdueOnly {
		args = append(args, s.clock())
		q += fmt.Sprintf(" AND due_at < $%d", len(args))
	}
	if a.Kind != actor.System && a.Jurisdiction.Level == actor.Commune {
		args = append(args, a.Jurisdiction.Code)
		q += fmt.Sprintf(" AND commune = $%d", len(args))
	}
	q += " ORDER BY due_at, id"
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Application
	for rows.Next() && len(out) < limit {
		app, err := scanApplication(rows)
		if err != nil {
			return nil, err
		}
		// Province and district officers: filter by the unit tree here.
		if a.Kind != actor.System && a.Jurisdiction.Level != actor.Commune &&
			!s.policy.Covers(a.Jurisdiction, access.Place{Scheme: adminunit.Scheme2025, Commune: app.Commune}) {
			continue
		}
		out = append(out, s.withOverdue(app))
	}
	if err := rows.Err(); err != nil || len(out) == 0 {
		return out, err
	}
	// The queue shows each applicant's phone and e-mail: one group record
	// names them all.
	subjects := make([]string, 0, len(out))
	for _, app := range out {
		subjects = append(subjects, app.PID)
	}
	ev := audit.NewGroupEvent(ctx, s.clock(), "eid_queue", subjects, "")
	ev.Purpose = "e-ID application review"
	if err := s.db.InTx(ctx, func(tx *sql.Tx) error { return audit.WriteTx(ctx, tx, ev) }); err != nil {
		return nil, err
	}
	return out, nil
}

// Lock locks an account at its holder's request or by an officer; Unlock
// reverses it (an officer, or the holder if the holder locked it). A lock
// ends every session.
func (s *Service) Lock(ctx context.Context, pid, reason string) (Account, error) {
	acc, err := s.move(ctx, pid, Locked, reason)
	if err == nil {
		s.sessionsEnded(ctx, pid, "account locked")
	}
	return acc, err
}

// OnSessionsEnded registers fn to be called after a change that ends every
// session of an account has committed ("log out everywhere", a lock): the
// OpenID provider then ends its single sign-on sessions of the account and
// tells the relying parties (back-channel logout).
func (s *Service) OnSessionsEnded(fn func(ctx context.Context, pid, why string)) {
	s.sessionHooks = append(s.sessionHooks, fn)
}

func (s *Service) sessionsEnded(ctx context.Context, pid, why string) {
	for _, fn := range s.sessionHooks {
		fn(context.WithoutCancel(ctx), pid, why)
	}
}

// Unlock makes a locked account active again.
func (s *Service) Unlock(ctx context.Context, pid, reason string) (Account, error) {
	return s.move(ctx, pid, Active, reason)
}

// holderLock is the reason recorded when holders lock their own account;
// officers' reasons are recorded with a prefix, so they never equal it.
const holderLock = "locked by the holder"

func (s *Service) move(ctx context.Context, pid string, to AccountState, reason string) (Account, error) {
	byHolder := self(ctx, pid)
	if !byHolder {
		if err := s.requireOfficerFor(ctx, pid); err != nil {
			return Account{}, err
		}
		reason = "by an officer: " + strings.TrimSpace(reason)
	}
	var out Account
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		acc, err := loadAccount(ctx, tx, pid)
		if errors.Is(err, sql.ErrNoRows) {
			return errs.E(errs.NotFound, "no e-ID account %s", pid)
		}
		if err != nil {
			return err
		}
		// Unlock only undoes a lock: approved → active is activation.
		if !CanMove(acc.State, to) || (to == Active && acc.State != Locked) {
			return errs.E(errs.Conflict, "an account that is %s cannot become %s", acc.State, to)
		}
		if byHolder && to == Active && acc.StateReason != holderLock {
			return errs.E(errs.Forbidden, "this account was locked by an officer: ask the police to unlock it")
		}
		if byHolder {
			reason = holderLock
		}
		if to == Active {
			reason = ""
		}
		now := s.clock()
		if _, err := tx.ExecContext(ctx, `UPDATE eid_account SET state = $1, state_reason = $2, session_epoch = session_epoch + 1,
			failed_logins = 0, locked_until = NULL, version = version + 1, updated_at = $3 WHERE pid = $4`, to, reason, now, pid); err != nil {
			return err
		}
		if to == Active && !byHolder {
			// An officer's unlock also forgets the failed logins counted
			// against the number: the holder, who came to the counter with
			// their card, is not kept waiting by someone else's guessing.
			for _, realm := range []string{"eid", "eid-totp"} {
				if err := s.throttle.Clear(ctx, tx, realm, pid); err != nil {
					return err
				}
			}
		}
		if out, err = loadAccount(ctx, tx, pid); err != nil {
			return err
		}
		if err := accountEvent(ctx, tx, pid, to, out.Level, now); err != nil {
			return err
		}
		return audit.WriteTx(ctx, tx, audit.NewEvent(ctx, now, "eid_"+string(to), pid, reason))
	})
	return out, err
}

// onStatusChange revokes the account of a person recorded as dead and
// closes their pending applications, in the registry's transaction.
func (s *Service) onStatusChange(ctx context.Context, tx *sql.Tx, pid string, to registry.Status) error {
	if to != registry.Dead {
		return nil
	}
	now := s.clock()
	if _, err := tx.ExecContext(ctx, `UPDATE eid_application SET state = 'rejected', decided_at = $1, decided_by = 'system',
		reason = 'death recorded in the national population database' WHERE pid = $2 AND state = 'submitted'`, now, pid); err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, `UPDATE eid_account SET state = 'revoked', state_reason = 'death recorded in the national population database',
		session_epoch = session_epoch + 1, version = version + 1, updated_at = $1 WHERE pid = $2 AND state <> 'revoked'`, now, pid)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n > 0 {
		if err := accountEvent(ctx, tx, pid, Revoked, 0, now); err != nil {
			return err
		}
		return audit.WriteTx(ctx, tx, audit.NewEvent(ctx, now, "eid_revoked", pid, "death"))
	}
	return nil
}

// EventAccountStatus is the change event of an e-ID account: approved (or
// raised to a level), active, locked, revoked.
const EventAccountStatus = "vn.dancu.account.status"

// accountEvent writes the account's change event in tx (level 0: not
// stated).
func accountEvent(ctx context.Context, tx *sql.Tx, pid string, state AccountState, level Level, now time.Time) error {
	data := map[string]any{"pid": pid, "state": state, "at": now}
	if level > 0 {
		data["level"] = level
	}
	return events.Emit(ctx, tx, EventAccountStatus, pid, data, now)
}

// LogoutEverywhere ends every session of the account (the holder's own
// request): tokens issued before now stop working.
func (s *Service) LogoutEverywhere(ctx context.Context, pid string) error {
	if !self(ctx, pid) {
		if err := s.requireOfficerFor(ctx, pid); err != nil {
			return err
		}
	}
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		now := s.clock()
		res, err := tx.ExecContext(ctx, `UPDATE eid_account SET session_epoch = session_epoch + 1, updated_at = $1 WHERE pid = $2`, now, pid)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.E(errs.NotFound, "no e-ID account %s", pid)
		}
		return audit.WriteTx(ctx, tx, audit.NewEvent(ctx, now, "eid_logout_everywhere", pid, ""))
	})
	if err == nil {
		s.sessionsEnded(ctx, pid, "logged out everywhere")
	}
	return err
}

// SessionValid reports whether a session of pid begun at epoch is still
// valid: the account is active and no "log out everywhere" came since.
func (s *Service) SessionValid(ctx context.Context, pid string, epoch int64) (bool, error) {
	var state string
	var cur int64
	err := s.db.QueryRowContext(ctx, `SELECT state, session_epoch FROM eid_account WHERE pid = $1`, pid).Scan(&state, &cur)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil && state == string(Active) && cur == epoch, err
}

// Receipt is what anyone holding an application's number is told of it:
// where it is and by when it is due, nothing the applicant did not send,
// no officer's name and no reason (the decision's notice goes to the
// applicant's phone). The number is random enough (UUIDv7: 74 random
// bits) to be the applicant's proof.
type Receipt struct {
	ID          string     `json:"id"`
	Level       Level      `json:"level"`
	State       AppState   `json:"state"`
	SubmittedAt time.Time  `json:"submitted_at"`
	DueAt       time.Time  `json:"due_at" doc:"The decision is due by then"`
	DecidedAt   *time.Time `json:"decided_at,omitempty"`
}

// ApplicationReceipt returns an application's receipt to anyone who has
// its number.
func (s *Service) ApplicationReceipt(ctx context.Context, id string) (Receipt, error) {
	if _, err := uuid.Parse(id); err != nil {
		return Receipt{}, errs.E(errs.NotFound, "no e-ID application %s", id)
	}
	app, err := scanApplication(s.db.QueryRowContext(ctx, `SELECT `+appColumns+` FROM eid_application WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Receipt{}, errs.E(errs.NotFound, "no e-ID application %s", id)
	}
	if err != nil {
		return Receipt{}, err
	}
	return Receipt{ID: app.ID, Level: app.Level, State: app.State, SubmittedAt: app.SubmittedAt, DueAt: app.DueAt, DecidedAt: app.DecidedAt}, nil
}
