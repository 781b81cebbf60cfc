package access

import (
	"context"
	"database/sql"
	"errors"

	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/adminunit"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/sqldb"
)

// mayManage reports whether administrator a may manage an officer of
// jurisdiction j — create, change, reset, disable, see: the system and
// national administrators every officer; a province's administrator the
// officers of the province and of its communes; a commune's administrator
// those of the commune. No administrator reaches an officer above their
// own jurisdiction, so none can take over a wider account or grant more
// than they hold.
func (s *Service) mayManage(a *actor.Actor, j actor.Jurisdiction) bool {
	if a.Kind == actor.System || a.Jurisdiction.Level == actor.National {
		return true
	}
	switch {
	case j.Level == a.Jurisdiction.Level:
		return j.Code == a.Jurisdiction.Code
	case j.Level == actor.Commune:
		return s.policy.Covers(a.Jurisdiction, Place{Scheme: adminunit.Scheme2025, Commune: j.Code})
	}
	return false
}

// managed loads the officer an administrator acts on, answering NotFound
// alike for an unknown name and for an officer outside the
// administrator's reach, so the answer tells nothing of other units.
func (s *Service) managed(ctx context.Context, q sqldb.Querier, a *actor.Actor, username string) (Officer, error) {
	var o Officer
	err := scanOfficer(q.QueryRowContext(ctx, `SELECT `+officerColumns+` FROM officer WHERE username = $1`, username), &o)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !s.mayManage(a, o.Jurisdiction)) {
		return Officer{}, errs.E(errs.NotFound, "no officer %q", username)
	}
	return o, err
}
