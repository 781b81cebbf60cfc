package eid

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"
	"golang.org/x/text/unicode/norm"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/adminunit"
	"github.com/dancu-vn/dancu/internal/audit"
	"github.com/dancu-vn/dancu/internal/card"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/locale"
	"github.com/dancu-vn/dancu/internal/personalid"
	"github.com/dancu-vn/dancu/internal/registry"
	"github.com/dancu-vn/dancu/internal/sqldb"
)

// SelfApplication is a citizen's online application for a level-1 account.
type SelfApplication struct {
	PID            string    `json:"pid" doc:"Personal ID number"`
	Name           string    `json:"name" maxLength:"300" doc:"Full name as in the registry, e.g. Nguyễn Văn An"`
	BirthDate      string    `json:"birth_date" format:"date" doc:"YYYY-MM-DD"`
	Sex            string    `json:"sex" enum:"male,female"`
	Phone          string    `json:"phone" doc:"Mobile number, e.g. 0912345678 or +84912345678"`
	Email          string    `json:"email" maxLength:"254"`
	Face           Biometric `json:"face" doc:"A live portrait photo"`
	IdempotencyKey string    `json:"-"`
}

// CounterApplication is an application taken in person by an officer, for
// a level-2 account or to raise a level-1 account to level 2.
type CounterApplication struct {
	PID            string      `json:"pid"`
	Phone          string      `json:"phone"`
	Email          string      `json:"email,omitempty" maxLength:"254"`
	CardStatus     CardStatus  `json:"card_status" enum:"valid,expired,none" doc:"The chip card the officer saw: valid, expired or none (sets the deadline: 3 or 7 working days)"`
	Biometrics     []Biometric `json:"biometrics" maxItems:"11" doc:"The portrait and one or more fingerprint templates"`
	IdempotencyKey string      `json:"-"`
}

var phonePattern = regexp.MustCompile(`^0[35789][0-9]{8}$`)

// normalisePhone returns a Vietnamese mobile number as 0xxxxxxxxx.
func normalisePhone(f *errs.Fields, field, s string) string {
	s = strings.NewReplacer(" ", "", ".", "", "-", "").Replace(strings.TrimSpace(s))
	if rest, ok := strings.CutPrefix(s, "+84"); ok {
		s = "0" + rest
	} else if rest, ok := strings.CutPrefix(s, "84"); ok && len(s) == 11 {
		s = "0" + rest
	}
	if !phonePattern.MatchString(s) {
		f.Add(field, "must be a Vietnamese mobile number such as 0912345678 or +84912345678")
	}
	return s
}

func checkEmail(f *errs.Fields, field, s string, required bool) string {
	s = strings.TrimSpace(s)
	if s == "" {
		if required {
			f.Add(field, "is required")
		}
		return ""
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || len(s) > 254 {
		f.Add(field, "must be an e-mail address such as an@example.vn")
	}
	return s
}

var imageFormats = map[string]bool{"image/jpeg": true, "image/png": true, "image/jp2": true, "ISO/IEC 19794-5": true}

func checkBiometric(f *errs.Fields, field string, b Biometric) {
	switch b.Kind {
	case "face":
		if b.Position != 0 {
			f.Add(field+".position", "must be 0 for a face")
		}
		if !imageFormats[b.Format] {
			f.Add(field+".format", "must be image/jpeg, image/png, image/jp2 or ISO/IEC 19794-5")
		}
	case "fingerprint":
		if b.Position < 1 || b.Position > 10 {
			f.Add(field+".position", "must be a finger position from 1 to 10")
		}
		if strings.TrimSpace(b.Format) == "" || len(b.Format) > 100 {
			f.Add(field+".format", "must name the template format, e.g. ISO/IEC 19794-2:2005")
		}
	default:
		f.Add(field+".kind", "must be face or fingerprint")
	}
	if len(b.Data) == 0 {
		f.Add(field+".data", "is required")
	} else if len(b.Data) > 2_000_000 {
		f.Add(field+".data", "must be at most 2 MB")
	}
}

// sameName compares names as people type them: NFC, case and spacing
// ignored, diacritics not.
func sameName(a, b string) bool {
	norm1 := func(s string) string { return strings.ToLower(strings.Join(strings.Fields(norm.NFC.String(s)), " ")) }
	return norm1(a) == norm1(b)
}

// ageOn is the age in whole years on day now of someone born on birth
// (YYYY-MM-DD).
func ageOn(birth string, now time.Time) (int, bool) {
	b, err := time.Parse(time.DateOnly, birth)
	if err != nil {
		return 0, false
	}
	age := now.Year() - b.Year()
	if now.Month() < b.Month() || (now.Month() == b.Month() && now.Day() < b.Day()) {
		age--
	}
	return age, true
}

// lookup reads a person for an e-ID check, recorded under the actor in ctx
// (the applicant or the officer), and returns the record and its competent
// commune.
func (s *Service) lookup(ctx context.Context, pid, purpose string) (registry.Citizen, string, error) {
	c, err := s.registry.GetOnBehalf(ctx, pid, purpose)
	if err != nil {
		return c, "", err
	}
	commune := ""
	if r := c.PermanentResidence; r != nil && r.Commune != "" {
		commune = r.Commune
		if r.Scheme == string(adminunit.Scheme2022) {
			commune = r.CurrentCommune
		}
	}
	return c, commune, nil
}

// ApplySelf takes a citizen's online application for a level-1 account.
// The number, name, date of birth and sex are checked against the registry
// (the person exists, is alive and is 14 or over); a mismatch is refused
// without saying which detail differs and nothing is stored. The
// application then waits for approval, due within 1 working day. Anyone may
// apply; no personal data is returned.
func (s *Service) ApplySelf(ctx context.Context, in SelfApplication) (Application, error) {
	var f errs.Fields
	pid, err := personalid.Parse(in.PID)
	if err != nil {
		f.Add("pid", "%s", err)
	}
	if strings.TrimSpace(in.Name) == "" {
		f.Add("name", "is required")
	}
	if _, err := time.Parse(time.DateOnly, in.BirthDate); err != nil {
		f.Add("birth_date", "must be a date YYYY-MM-DD")
	}
	if in.Sex != "male" && in.Sex != "female" {
		f.Add("sex", "must be male or female")
	}
	phone := normalisePhone(&f, "phone", in.Phone)
	email := checkEmail(&f, "email", in.Email, true)
	checkBiometric(&f, "face", in.Face)
	if in.Face.Kind != "face" {
		f.Add("face.kind", "must be face")
	}
	if err := f.Err(); err != nil {
		return Application{}, err
	}
	// From here on the answer must not tell by its timing either whether
	// the person or an account exists.
	defer s.answerNoSooner(ctx, time.Now())
	stored, prefix := idempotency(ctx, in.IdempotencyKey, string(pid), in)
	if app, ok, err := s.byIdempotencyKey(ctx, stored, prefix); ok || err != nil {
		return app, err
	}
	app, err := s.applySelf(ctx, pid, in, phone, email, stored)
	// Anyone may apply: whatever stands in the way once the form is well
	// formed (details that do not match, no such person, a person not
	// alive, under 14, holding an account already or waiting for one) is
	// one answer, so that nobody learns from it whether a person or an
	// account exists.
	if e := (*errs.Error)(nil); errors.As(err, &e) && e.Kind != errs.Internal && e.Kind != errs.Unavailable {
		return Application{}, errRefused
	}
	return app, err
}

// errRefused is the one refusal of an online application after its form
// was checked.
var errRefused = errs.E(errs.Invalid, "an account cannot be opened online with these details: check that the personal ID number, name, date of birth and sex are as in the national population database, or ask the commune police")

func (s *Service) applySelf(ctx context.Context, pid personalid.Number, in SelfApplication, phone, email, idem string) (Application, error) {
	now := s.clock()
	c, commune, err := s.lookup(ctx, string(pid), "e-ID level 1 application check")
	if err != nil {
		return Application{}, err
	}
	if !sameName(c.Name.Full(), in.Name) || c.BirthDate != in.BirthDate || string(c.Sex) != in.Sex || c.Status != registry.Alive {
		return Application{}, errRefused
	}
	if age, ok := ageOn(c.BirthDate, now.Add(7*time.Hour)); !ok || age < 14 {
		return Application{}, errRefused
	}
	app := Application{ID: uuid.Must(uuid.NewV7()).String(), PID: string(pid), Level: Level1, Channel: "self", State: Submitted,
		Phone: phone, Email: email, CardStatus: CardNone, Commune: commune, SubmittedAt: now,
		DueAt: s.cal.Deadline(now, Deadline(Level1, CardNone)).UTC()}
	err = s.submit(ctx, &app, idem, []Biometric{in.Face})
	return app, err
}

// ApplyAtCounter takes an application in person: for a level-2 account, or
// to raise a level-1 account to level 2. The officer has seen the card
// (its status sets the deadline: 3 working days with a valid card, 7
// otherwise) and takes the portrait and at least one fingerprint.
func (s *Service) ApplyAtCounter(ctx context.Context, in CounterApplication) (Application, error) {
	officer, err := access.Require(ctx, access.ReviewEID)
	if err != nil {
		return Application{}, err
	}
	var f errs.Fields
	pid, err := personalid.Parse(in.PID)
	if err != nil {
		f.Add("pid", "%s", err)
	} else if _, err := s.registry.RequireOver(ctx, access.ReviewEID, in.PID); err != nil && !errs.Is(err, errs.NotFound) {
		// An officer takes applications of people of the jurisdiction.
		return Application{}, err
	}
	phone := normalisePhone(&f, "phone", in.Phone)
	email := checkEmail(&f, "email", in.Email, false)
	if in.CardStatus != CardValid && in.CardStatus != CardExpired && in.CardStatus != CardNone {
		f.Add("card_status", "must be valid, expired or none")
	}
	var faces, fingers int
	seen := map[int]bool{}
	for i, b := range in.Biometrics {
		field := fmt.Sprintf("biometrics[%d]", i)
		checkBiometric(&f, field, b)
		switch b.Kind {
		case "face":
			faces++
		case "fingerprint":
			fingers++
			if seen[b.Position] {
				f.Add(field+".position", "finger %d is given twice", b.Position)
			}
			seen[b.Position] = true
		}
	}
	if faces != 1 {
		f.Add("biometrics", "must hold exactly one portrait (kind face), got %d", faces)
	}
	if fingers == 0 {
		f.Add("biometrics", "must hold at least one fingerprint template")
	}
	if err := f.Err(); err != nil {
		return Application{}, err
	}
	// From here on the answer must not tell by its timing either whether
	// the person or an account exists.
	defer s.answerNoSooner(ctx, time.Now())
	stored, prefix := idempotency(ctx, in.IdempotencyKey, string(pid), in)
	if app, ok, err := s.byIdempotencyKey(ctx, stored, prefix); ok || err != nil {
		return app, err
	}
	now := s.clock()
	c, commune, err := s.lookup(ctx, string(pid), "e-ID level 2 application")
	if err != nil {
		return Application{}, err
	}
	if c.Status != registry.Alive {
		return Application{}, errs.E(errs.Conflict, "the national population database does not record this person as alive")
	}
	if age, ok := ageOn(c.BirthDate, now.Add(7*time.Hour)); !ok || age < 14 {
		return Application{}, errs.Field("pid", "a child under 14 cannot hold an account: a parent or guardian attaches the child to their own account")
	}
	// The card the officer saw must agree with the card register, where
	// the register knows the person's card.
	held, err := card.StatusOn(ctx, s.db, string(pid), now.Add(7*time.Hour).Format(time.DateOnly))
	switch {
	case err != nil:
		return Application{}, err
	case held == "active" && in.CardStatus != CardValid:
		return Application{}, errs.Field("card_status", "the card register holds a valid chip card of %s: the status is valid", pid)
	case held != "" && held != "active" && in.CardStatus == CardValid:
		return Application{}, errs.Field("card_status", "the card register has the card of %s as %s, not valid", pid, held)
	}
	app := Application{ID: uuid.Must(uuid.NewV7()).String(), PID: string(pid), Level: Level2, Channel: "counter", State: Submitted,
		Phone: phone, Email: email, CardStatus: in.CardStatus, Commune: commune, SubmittedAt: now, TakenBy: officer.ID,
		DueAt: s.cal.Deadline(now, Deadline(Level2, in.CardStatus)).UTC()}
	err = s.submit(ctx, &app, stored, in.Biometrics)
	return app, err
}

// idempotency is how a submission's Idempotency-Key is kept: scoped to the
// caller (an officer, a citizen, or, for anonymous callers, the number the
// application is for) and bound to a hash of the whole request, so that a
// key replayed by someone else, or with another body, never finds the
// first application. stored is kept with the application; prefix finds it.
func idempotency(ctx context.Context, key, pid string, body any) (stored, prefix string) {
	if key == "" {
		return "", ""
	}
	scope := "anonymous|" + pid
	if a, ok := actor.From(ctx); ok && a.ID != "anonymous" {
		scope = string(a.Kind) + "|" + a.ID
	}
	k := sha256.Sum256([]byte(scope + "\x00" + key))
	b, _ := json.Marshal(body)
	h := sha256.Sum256(b)
	prefix = hex.EncodeToString(k[:])
	return prefix + ":" + hex.EncodeToString(h[:]), prefix
}

// byIdempotencyKey finds the application a retry repeats: the same key
// from the same caller with the same request. The same key with another
// request is a conflict that tells nothing of the first.
func (s *Service) byIdempotencyKey(ctx context.Context, stored, prefix string) (Application, bool, error) {
	if stored == "" {
		return Application{}, false, nil
	}
	var id, held string
	err := s.db.QueryRowContext(ctx, `SELECT id, idempotency_key FROM eid_application WHERE idempotency_key LIKE $1`, prefix+":%").Scan(&id, &held)
	if errors.Is(err, sql.ErrNoRows) {
		return Application{}, false, nil
	}
	if err != nil {
		return Application{}, false, err
	}
	if held != stored {
		return Application{}, false, errs.E(errs.Conflict, "this Idempotency-Key was used for another request: use a new key for a new request")
	}
	app, err := scanApplication(s.db.QueryRowContext(ctx, `SELECT `+appColumns+` FROM eid_application WHERE id = $1`, id))
	return app, err == nil, err
}

// submit stores a new application after checking the account it would
// create or raise, with its sealed biometrics and an audit record.
func (s *Service) submit(ctx context.Context, app *Application, idemKey string, bio []Biometric) error {
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		acc, err := loadAccount(ctx, tx, app.PID)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		case acc.State == Revoked:
			return errs.E(errs.Conflict, "the account %s is revoked", app.PID)
		case acc.Guardian != "":
			// A dependant who turned 14 applies for their own account.
		case acc.Level >= app.Level:
			return errs.E(errs.Conflict, "%s already holds a level-%d account", app.PID, acc.Level)
		}
		var pending int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM eid_application WHERE pid = $1 AND level = $2 AND state = 'submitted'`,
			app.PID, app.Level).Scan(&pending); err != nil {
			return err
		}
		if pending > 0 {
			return errs.E(errs.Conflict, "a level-%d application for %s is already waiting for a decision", app.Level, app.PID)
		}
		var key any
		if idemKey != "" {
			key = idemKey
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO eid_application (id, pid, level, channel, state, phone, email, card_status, commune,
			submitted_at, due_at, taken_by, decided_by, reason, idempotency_key) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,'','',$13)`,
			app.ID, app.PID, app.Level, app.Channel, app.State, app.Phone, app.Email, app.CardStatus, app.Commune,
			app.SubmittedAt, app.DueAt, app.TakenBy, key); err != nil {
			if sqldb.IsUniqueViolation(err) {
				// The unique index on waiting applications: another
				// submission for this person won the race.
				return errs.E(errs.Conflict, "a level-%d application for %s is already waiting for a decision", app.Level, app.PID)
			}
			return err
		}
		for _, b := range bio {
			if _, err := tx.ExecContext(ctx, `INSERT INTO eid_biometric (application_id, kind, position, format, sealed) VALUES ($1,$2,$3,$4,$5)`,
				app.ID, b.Kind, b.Position, b.Format, s.sealer.Seal(b.Data, bioAAD(app.ID, b.Kind, b.Position))); err != nil {
				return err
			}
		}
		return audit.WriteTx(ctx, tx, audit.NewEvent(ctx, app.SubmittedAt, "eid_apply", app.PID,
			fmt.Sprintf("level %d, %s, application %s", app.Level, app.Channel, app.ID)))
	})
}

func bioAAD(appID, kind string, position int) []byte {
	return fmt.Appendf(nil, "eid_biometric|%s|%s|%d", appID, kind, position)
}

// Decide approves or rejects a submitted application. The deciding officer
// must cover the applicant's commune. Approval creates the account (waiting
// for activation) or raises an account to level 2; the citizen is told by
// SMS either way. Of two concurrent decisions only one succeeds.
func (s *Service) Decide(ctx context.Context, id string, approve bool, reason string) (Application, error) {
	if _, err := access.Require(ctx, access.ReviewEID); err != nil {
		return Application{}, err
	}
	reason = strings.TrimSpace(reason)
	if !approve && reason == "" {
		return Application{}, errs.Field("reason", "is required to reject an application")
	}
	if approve {
		// The registry may have changed since the application. Read it
		// before the transaction: the read is recorded, which writes.
		app, err := scanApplication(s.db.QueryRowContext(ctx, `SELECT `+appColumns+` FROM eid_application WHERE id = $1`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return Application{}, errs.E(errs.NotFound, "no e-ID application %s", id)
		}
		if err != nil {
			return Application{}, err
		}
		if _, err := s.policy.RequireIn(ctx, access.ReviewEID, access.Place{Scheme: adminunit.Scheme2025, Commune: app.Commune}); err != nil {
			return Application{}, err
		}
		c, _, err := s.lookup(ctx, app.PID, "e-ID approval check")
		if err != nil {
			return Application{}, err
		}
		if c.Status != registry.Alive {
			return Application{}, errs.E(errs.Conflict, "the national population database no longer records %s as alive: reject the application", app.PID)
		}
	}
	var out Application
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		app, err := scanApplication(tx.QueryRowContext(ctx, `SELECT `+appColumns+` FROM eid_application WHERE id = $1`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return errs.E(errs.NotFound, "no e-ID application %s", id)
		}
		if err != nil {
			return err
		}
		officer, err := s.policy.RequireIn(ctx, access.ReviewEID, access.Place{Scheme: adminunit.Scheme2025, Commune: app.Commune})
		if err != nil {
			return err
		}
		if app.State != Submitted {
			return errs.E(errs.Conflict, "application %s is already %s", id, app.State)
		}
		now := s.clock()
		app.State, app.DecidedAt, app.DecidedBy = Rejected, &now, officer.ID
		if approve {
			app.State, reason = Accepted, ""
		}
		app.Reason = reason
		res, err := tx.ExecContext(ctx, `UPDATE eid_application SET state = $1, decided_at = $2, decided_by = $3, reason = $4 WHERE id = $5 AND state = 'submitted'`,
			app.State, now, officer.ID, reason, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return errs.E(errs.Conflict, "application %s was decided meanwhile", id)
		}
		msg := Message{Channel: "sms", Recipient: app.Phone}
		if approve {
			if err := s.grant(ctx, tx, &app, now); err != nil {
				return err
			}
			msg.Body = locale.Both("notice.eid.approved", app.Level, app.PID)
		} else {
			msg.Body = locale.Both("notice.eid.rejected", app.Level, reason)
		}
		if err := s.sender.Send(ctx, tx, msg); err != nil {
			return err
		}
		out = app
		return audit.WriteTx(ctx, tx, audit.NewEvent(ctx, now, "eid_"+string(app.State), app.PID,
			fmt.Sprintf("application %s, level %d %s", id, app.Level, reason)))
	})
	if err != nil {
		return Application{}, err
	}
	out.Overdue = out.DecidedAt.After(out.DueAt)
	return out, nil
}

// grant creates the account an approved application asks for, or raises
// the level of an existing one.
func (s *Service) grant(ctx context.Context, tx *sql.Tx, app *Application, now time.Time) error {
	if err := s.grantAccount(ctx, tx, app, now); err != nil {
		return err
	}
	acc, err := loadAccount(ctx, tx, app.PID)
	if err != nil {
		return err
	}
	return accountEvent(ctx, tx, app.PID, acc.State, acc.Level, now)
}

func (s *Service) grantAccount(ctx context.Context, tx *sql.Tx, app *Application, now time.Time) error {
	acc, err := loadAccount(ctx, tx, app.PID)
	if errors.Is(err, sql.ErrNoRows) {
		_, err = tx.ExecContext(ctx, `INSERT INTO eid_account (pid, subject, level, state, phone, email, password_hash, passcode_hash, guardian_pid,
			failed_logins, state_reason, session_epoch, version, created_at, updated_at) VALUES ($1,$2,$3,'approved',$4,$5,'','','',0,'',0,1,$6,$6)`,
			app.PID, uuid.NewString(), app.Level, app.Phone, app.Email, now)
		return err
	}
	if err != nil {
		return err
	}
	if acc.State == Revoked {
		return errs.E(errs.Conflict, "the account %s is revoked", app.PID)
	}
	if acc.Guardian != "" {
		// A dependant's account becomes their own, waiting for activation.
		_, err = tx.ExecContext(ctx, `UPDATE eid_account SET guardian_pid = '', state = 'approved', level = $1, phone = $2, email = $3,
			version = version + 1, updated_at = $4 WHERE pid = $5`, app.Level, app.Phone, app.Email, now, app.PID)
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE eid_account SET level = $1, phone = $2, email = CASE WHEN $3 = '' THEN email ELSE $3 END,
		version = version + 1, updated_at = $4 WHERE pid = $5`, max(int(acc.Level), int(app.Level)), app.Phone, app.Email, now, app.PID)
	return err
}

const appColumns = `id, pid, level, channel, state, phone, email, card_status, commune, submitted_at, due_at, taken_by, decided_at, decided_by, reason`

func scanApplication(row interface{ Scan(...any) error }) (Application, error) {
	var a Application
	var decided sql.NullTime
	err := row.Scan(&a.ID, &a.PID, &a.Level, &a.Channel, &a.State, &a.Phone, &a.Email, &a.CardStatus, &a.Commune,
		&a.SubmittedAt, &a.DueAt, &a.TakenBy, &decided, &a.DecidedBy, &a.Reason)
	if decided.Valid {
		t := decided.Time.UTC()
		a.DecidedAt = &t
	}
	a.SubmittedAt, a.DueAt = a.SubmittedAt.UTC(), a.DueAt.UTC()
	return a, err
}
