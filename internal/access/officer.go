package access

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/audit"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/keyring"
	"github.com/dancu-vn/dancu/internal/sqldb"
)

// Officer is a police officer's account.
type Officer struct {
	ID           string             `json:"id"`
	Username     string             `json:"username"`
	DisplayName  string             `json:"display_name"`
	Role         actor.Role         `json:"role"`
	Jurisdiction actor.Jurisdiction `json:"jurisdiction"`
	Disabled     bool               `json:"disabled"`
	CreatedAt    time.Time          `json:"created_at"`
}

// NewOfficer is what CreateOfficer needs.
type NewOfficer struct {
	Username     string             `json:"username"`
	DisplayName  string             `json:"display_name"`
	Role         actor.Role         `json:"role"`
	Jurisdiction actor.Jurisdiction `json:"jurisdiction"`
	Password     string             `json:"password"`
}

// Service manages officers, their passwords and their tokens.
type Service struct {
	db       *sqldb.DB
	policy   *Policy
	throttle *Throttle
	sealer   keyring.Sealer // authenticator secrets (SetSealer)
	now      func() time.Time
}

// NewService returns the officer service.
func NewService(db *sqldb.DB, policy *Policy, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{db: db, policy: policy, throttle: NewThrottle(db, DefaultThrottle, now), now: now}
}

var usernamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{2,63}$`)

// CreateOfficer creates an account. Only an administrator (or the system)
// may. Returns Invalid naming the field, including "username" when it is
// taken.
func (s *Service) CreateOfficer(ctx context.Context, in NewOfficer) (Officer, error) {
	a, err := Require(ctx, ManageOfficers)
	if err != nil {
		return Officer{}, err
	}
	in.Username = strings.ToLower(strings.TrimSpace(in.Username))
	in.DisplayName = strings.TrimSpace(in.DisplayName)
	var f errs.Fields
	if !usernamePattern.MatchString(in.Username) {
		f.Add("username", "must be 3–64 characters of a–z, 0–9, '.', '_' or '-', starting with a letter or digit")
	}
	if in.DisplayName == "" {
		in.DisplayName = in.Username
	}
	if len(in.DisplayName) > 200 {
		f.Add("display_name", "must be at most 200 bytes")
	}
	if _, ok := rolePermissions[in.Role]; !ok {
		f.Add("role", "must be admin, registrar or viewer")
	}
	f.Merge("", s.normaliseJurisdiction(&in.Jurisdiction))
	if in.Jurisdiction.Level != "" && !s.mayManage(a, in.Jurisdiction) {
		f.Add("jurisdiction", "is outside your own jurisdiction")
	}
	f.Merge("", CheckPasswordPolicy(in.Password))
	if err := f.Err(); err != nil {
		return Officer{}, err
	}
	now := s.now().UTC()
	o := Officer{ID: uuid.Must(uuid.NewV7()).String(), Username: in.Username, DisplayName: in.DisplayName,
		Role: in.Role, Jurisdiction: in.Jurisdiction, CreatedAt: now}
	hash := HashPassword(in.Password)
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO officer (id, username, display_name, role, jurisdiction_level, jurisdiction_code,
			password_hash, disabled, failed_logins, created_at, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,FALSE,0,$8,$8)`,
			o.ID, o.Username, o.DisplayName, o.Role, o.Jurisdiction.Level, o.Jurisdiction.Code, hash, now)
		if sqldb.IsUniqueViolation(err) {
			return errs.Field("username", "%q is already taken", o.Username)
		}
		if err != nil {
			return err
		}
		return audit.WriteTx(ctx, tx, audit.NewEvent(ctx, now, "officer_create", "", "officer "+o.Username))
	})
	if err != nil {
		return Officer{}, err
	}
	return o, nil
}

func (s *Service) normaliseJurisdiction(j *actor.Jurisdiction) error {
	if j.Level == "" {
		j.Level = actor.National
	}
	j.Code = strings.TrimSpace(j.Code)
	if err := s.policy.CheckJurisdiction(*j); err != nil {
		return err
	}
	if j.Level == actor.Province {
		u, _ := s.policy.units.Province("2025", j.Code)
		j.Code = u.Code
	}
	return nil
}

const officerColumns = `id, username, display_name, role, jurisdiction_level, jurisdiction_code, disabled, created_at`

func scanOfficer(row interface{ Scan(...any) error }, o *Officer) error {
	return row.Scan(&o.ID, &o.Username, &o.DisplayName, &o.Role, &o.Jurisdiction.Level, &o.Jurisdiction.Code, &o.Disabled, &o.CreatedAt)
}

// ListOfficers returns every account, for administrators.
func (s *Service) ListOfficers(ctx context.Context) ([]Officer, error) {
	a, err := Require(ctx, ManageOfficers)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+officerColumns+` FROM officer ORDER BY username`)
	if err != nil {
		return nil, fmt.Errorf("list officers: %w", err)
	}
	defer rows.Close()
	out := []Officer{}
	for rows.Next() {
		var o Officer
		if err := scanOfficer(rows, &o); err != nil {
			return nil, err
		}
		if s.mayManage(a, o.Jurisdiction) {
			out = append(out, o)
		}
	}
	return out, rows.Err()
}

// OfficerByUsername returns one account. Returns NotFound if there is none.
func (s *Service) OfficerByUsername(ctx context.Context, username string) (Officer, error) {
	a, err := Require(ctx, ManageOfficers)
	if err != nil {
		return Officer{}, err
	}
	return s.managed(ctx, s.db, a, strings.ToLower(username))
}

// ResetPassword replaces an officer's password, for an administrator (or
// the system: `dancu user passwd`), and revokes every session and API token
// the officer holds, and the failures counted against the name. An
// administrator changes their own password with ChangeOwnPassword, which
// asks for the current one.
func (s *Service) ResetPassword(ctx context.Context, username, password string) error {
	a, err := Require(ctx, ManageOfficers)
	if err != nil {
		return err
	}
	username = strings.ToLower(strings.TrimSpace(username))
	if err := CheckPasswordPolicy(password); err != nil {
		return err
	}
	now := s.now().UTC()
	return securityWrite(ctx, func(ctx context.Context) error {
		return s.db.InTx(ctx, func(tx *sql.Tx) error {
			o, err := s.managed(ctx, tx, a, username)
			if err != nil {
				return err
			}
			id := o.ID
			if a.Kind == actor.Officer && a.ID == id {
				return errs.E(errs.Forbidden, "change your own password with your current one (PUT /api/v1/me/password)")
			}
			if _, err := tx.ExecContext(ctx, `UPDATE officer SET password_hash = $1, failed_logins = 0, locked_until = NULL, updated_at = $2 WHERE id = $3`,
				HashPassword(password), now, id); err != nil {
				return err
			}
			if err := revokeAll(ctx, tx, id, "", now); err != nil {
				return err
			}
			if err := s.throttle.Clear(ctx, tx, "officer", username); err != nil {
				return err
			}
			return audit.WriteTx(ctx, tx, audit.NewEvent(ctx, now, "password_reset", "", "officer "+username))
		})
	})
}

// ChangeOwnPassword replaces the acting officer's password after checking
// the current one (a wrong one counts as a failed login), and revokes every
// other session and API token: the session it is called from goes on.
func (s *Service) ChangeOwnPassword(ctx context.Context, current, password string) error {
	a, ok := actor.From(ctx)
	if !ok || a.Kind != actor.Officer {
		return errs.E(errs.Unauthenticated, "log in as an officer first")
	}
	if err := CheckPasswordPolicy(password); err != nil {
		return err
	}
	if current == password {
		return errs.Field("password", "must differ from the current password")
	}
	try, err := s.throttle.Begin(ctx, "officer", a.Name, a.Source)
	if err != nil {
		return err
	}
	var hash string
	if err := s.db.QueryRowContext(ctx, `SELECT password_hash FROM officer WHERE id = $1`, a.ID).Scan(&hash); err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	now := s.now().UTC()
	if !VerifyPassword(hash, current) {
		if err := s.recordAuth(ctx, now, "password_change_refused", "wrong current password"); err != nil {
			return err
		}
		return errs.Field("current_password", "is not your current password")
	}
	if err := try.Succeeded(ctx); err != nil {
		return fmt.Errorf("login throttle: %w", err)
	}
	return securityWrite(ctx, func(ctx context.Context) error {
		return s.db.InTx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `UPDATE officer SET password_hash = $1, updated_at = $2 WHERE id = $3`,
				HashPassword(password), now, a.ID); err != nil {
				return err
			}
			if err := revokeAll(ctx, tx, a.ID, a.TokenID, now); err != nil {
				return err
			}
			return audit.WriteTx(ctx, tx, audit.NewEvent(ctx, now, "password_change", "", "officer "+a.Name))
		})
	})
}

// revokeAll revokes every session and API token of an officer but keep.
func revokeAll(ctx context.Context, tx *sql.Tx, officerID, keep string, now time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE officer_token SET revoked_at = $1 WHERE officer_id = $2 AND revoked_at IS NULL AND id <> $3`,
		now, officerID, keep)
	return err
}

// OfficerChange is what UpdateOfficer changes; absent fields stay.
type OfficerChange struct {
	DisplayName  *string             `json:"display_name,omitempty"`
	Role         *actor.Role         `json:"role,omitempty"`
	Jurisdiction *actor.Jurisdiction `json:"jurisdiction,omitempty"`
}

// UpdateOfficer changes an officer's name, role or jurisdiction, for an
// administrator. A change of role or jurisdiction revokes every session
// and API token of the officer, so no token goes on with the old powers.
// An administrator may not change their own role or jurisdiction (another
// administrator must), so the last one cannot lock everybody out.
func (s *Service) UpdateOfficer(ctx context.Context, username string, ch OfficerChange) (Officer, error) {
	a, err := Require(ctx, ManageOfficers)
	if err != nil {
		return Officer{}, err
	}
	username = strings.ToLower(strings.TrimSpace(username))
	var f errs.Fields
	if ch.DisplayName != nil {
		n := strings.TrimSpace(*ch.DisplayName)
		if n == "" || len(n) > 200 {
			f.Add("display_name", "must be 1–200 bytes")
		}
		ch.DisplayName = &n
	}
	if ch.Role != nil {
		if _, ok := rolePermissions[*ch.Role]; !ok {
			f.Add("role", "must be admin, registrar or viewer")
		}
	}
	if ch.Jurisdiction != nil {
		f.Merge("jurisdiction", s.normaliseJurisdiction(ch.Jurisdiction))
	}
	if err := f.Err(); err != nil {
		return Officer{}, err
	}
	now := s.now().UTC()
	var o Officer
	err = securityWrite(ctx, func(ctx context.Context) error {
		return s.db.InTx(ctx, func(tx *sql.Tx) error {
			var err error
			if o, err = s.managed(ctx, tx, a, username); err != nil {
				return err
			}
			if ch.Jurisdiction != nil && !s.mayManage(a, *ch.Jurisdiction) {
				return errs.Field("jurisdiction", "is outside your own jurisdiction")
			}
			powers := (ch.Role != nil && *ch.Role != o.Role) || (ch.Jurisdiction != nil && *ch.Jurisdiction != o.Jurisdiction)
			if powers && a.Kind == actor.Officer && a.ID == o.ID {
				return errs.E(errs.Forbidden, "another administrator must change your role or jurisdiction")
			}
			if ch.DisplayName != nil {
				o.DisplayName = *ch.DisplayName
			}
			if ch.Role != nil {
				o.Role = *ch.Role
			}
			if ch.Jurisdiction != nil {
				o.Jurisdiction = *ch.Jurisdiction
			}
			if _, err := tx.ExecContext(ctx, `UPDATE officer SET display_name = $1, role = $2, jurisdiction_level = $3, jurisdiction_code = $4,
				updated_at = $5 WHERE id = $6`, o.DisplayName, o.Role, o.Jurisdiction.Level, o.Jurisdiction.Code, now, o.ID); err != nil {
				return err
			}
			detail := "officer " + username
			if powers {
				if err := revokeAll(ctx, tx, o.ID, "", now); err != nil {
					return err
				}
				detail += fmt.Sprintf(": %s %s %s, tokens revoked", o.Role, o.Jurisdiction.Level, o.Jurisdiction.Code)
			}
			return audit.WriteTx(ctx, tx, audit.NewEvent(ctx, now, "officer_update", "", detail))
		})
	})
	return o, err
}

// SetDisabled disables or re-enables an account; disabling also revokes
// every token it holds.
func (s *Service) SetDisabled(ctx context.Context, username string, disabled bool) error {
	a, err := Require(ctx, ManageOfficers)
	if err != nil {
		return err
	}
	if _, err := s.managed(ctx, s.db, a, strings.ToLower(username)); err != nil {
		return err
	}
	now := s.now().UTC()
	return securityWrite(ctx, func(ctx context.Context) error { return s.setDisabled(ctx, username, disabled, now) })
}

func (s *Service) setDisabled(ctx context.Context, username string, disabled bool, now time.Time) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		var id string
		err := tx.QueryRowContext(ctx, `UPDATE officer SET disabled = $1, updated_at = $2 WHERE username = $3 RETURNING id`,
			disabled, now, strings.ToLower(username)).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return errs.E(errs.NotFound, "no officer %q", username)
		}
		if err != nil {
			return err
		}
		if disabled {
			if err := revokeAll(ctx, tx, id, "", now); err != nil {
				return err
			}
		}
		action := "officer_enable"
		if disabled {
			action = "officer_disable"
		}
		return audit.WriteTx(ctx, tx, audit.NewEvent(ctx, now, action, "", "officer "+username))
	})
}

// EnsureAdmin creates the bootstrap administrator "admin" when there is no
// officer at all. It returns the password used (password if given, else a
// random one) and whether the account was created.
func (s *Service) EnsureAdmin(ctx context.Context, password string) (string, bool, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM officer`).Scan(&n); err != nil {
		return "", false, err
	}
	if n > 0 {
		return "", false, nil
	}
	if password == "" {
		password = RandomPassword()
	}
	ctx = actor.With(ctx, actor.SystemActor("bootstrap"))
	_, err := s.CreateOfficer(ctx, NewOfficer{Username: "admin", DisplayName: "Administrator", Role: actor.Admin,
		Jurisdiction: actor.Jurisdiction{Level: actor.National}, Password: password})
	if err != nil {
		if errs.Is(err, errs.Invalid) {
			return "", false, fmt.Errorf("DANCU_ADMIN_PASSWORD: %w", err)
		}
		return "", false, err
	}
	return password, true, nil
}

// UnitOf names an officer's unit for citizens' access logs: the police of
// the officer's jurisdiction, never the officer.
func (s *Service) UnitOf(ctx context.Context, officerID string) string {
	var level, code string
	if err := s.db.QueryRowContext(ctx, `SELECT jurisdiction_level, jurisdiction_code FROM officer WHERE id = $1`, officerID).Scan(&level, &code); err != nil {
		return "Công an"
	}
	return s.policy.UnitName(actor.Jurisdiction{Level: actor.Level(level), Code: code})
}
