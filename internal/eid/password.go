package eid

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/audit"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/locale"
)

// ChangePassword replaces the holder's password after checking the current
// one under the login throttle (a wrong one counts as a failed login). It
// ends every session of the account — the one it is made from too — and
// sends a notice to the phone and e-mail on file, so that a change the
// holder did not make is seen at once.
func (s *Service) ChangePassword(ctx context.Context, pid, current, password string) error {
	if !self(ctx, pid) {
		return errs.E(errs.Forbidden, "only the holder changes the password")
	}
	var f errs.Fields
	if current == "" {
		f.Add("current", "is required")
	}
	f.Merge("", CheckPassword(password))
	if password != "" && password == current {
		f.Add("password", "must differ from the current password")
	}
	if err := f.Err(); err != nil {
		return err
	}
	a, _ := actor.From(ctx)
	try, err := s.throttle.Begin(ctx, "eid", pid, a.Source)
	if err != nil {
		return err
	}
	acc, err := loadAccount(ctx, s.db, pid)
	if errors.Is(err, sql.ErrNoRows) {
		return errs.E(errs.NotFound, "no e-ID account %s", pid)
	}
	if err != nil {
		return err
	}
	now := s.clock()
	if !access.VerifyPassword(acc.password, current) {
		if err := s.db.InTx(ctx, func(tx *sql.Tx) error {
			return audit.WriteTx(ctx, tx, audit.NewEvent(ctx, now, "eid_password_change_refused", pid, "wrong current password"))
		}); err != nil {
			return err
		}
		return errs.Field("current", "is not your current password")
	}
	if err := try.Succeeded(ctx); err != nil {
		return fmt.Errorf("login throttle: %w", err)
	}
	hash := access.HashPassword(password)
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE eid_account SET password_hash = $1, session_epoch = session_epoch + 1, version = version + 1,
			updated_at = $2 WHERE pid = $3 AND state = 'active'`, hash, now, pid)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return errs.E(errs.Conflict, "the account is not active")
		}
		for _, m := range []Message{{Channel: "sms", Recipient: acc.Phone}, {Channel: "email", Recipient: acc.Email}} {
			if m.Recipient == "" {
				continue
			}
			m.Body = locale.Both("notice.password.changed")
			if m.Channel == "email" {
				m.Subject = locale.T(locale.VI, "notice.password.subject") + " / " + locale.T(locale.EN, "notice.password.subject")
			}
			if err := s.sender.Send(ctx, tx, m); err != nil {
				return err
			}
		}
		return audit.WriteTx(ctx, tx, audit.NewEvent(ctx, now, "eid_password_changed", pid, ""))
	})
	if err == nil {
		s.sessionsEnded(ctx, pid, "password changed")
	}
	return err
}
