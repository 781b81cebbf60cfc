package registry

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/adminunit"
	"github.com/dancu-vn/dancu/internal/audit"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/personalid"
)

// JoinHousehold places a person in an existing household.
type JoinHousehold struct {
	HouseholdID  string `json:"household_id" doc:"The household to join"`
	Relationship string `json:"relationship" doc:"Relationship to the household head: child, grandchild, …"`
}

// BirthRegistration is what registering a birth needs: the child's details
// (birth_registration_place with a commune is required: its province is
// the first three digits of the new number), parents by personal ID number
// when they are in the registry, and optionally the household to join.
type BirthRegistration struct {
	Details
	Household *JoinHousehold `json:"household,omitempty"`
	// LivesWith names the parent whose permanent residence the child takes
	// when none is given (Luật Cư trú 2020 Điều 12: a minor's residence is
	// the parents', or that of the parent the child lives with).
	LivesWith string `json:"lives_with,omitempty" enum:"mother,father" doc:"When no permanent residence is given: the parent (on record by number) whose residence the child takes; default the mother, else the father"`
	Basis
}

// maxDraws bounds the attempts to draw a free number for one prefix; with a
// million numbers per prefix it is only reached when a prefix is nearly full.
const maxDraws = 64

// RegisterBirth registers a birth: it assigns a new personal ID number from
// the registration province, sex and year, links the parents and joins the
// household, all in one transaction with the first revision. With an
// idempotency key, a retry returns the first registration instead of
// registering the child twice.
func (s *Service) RegisterBirth(ctx context.Context, in BirthRegistration, idemKey string) (Citizen, error) {
	if _, err := access.Require(ctx, access.WriteCitizen); err != nil {
		return Citizen{}, err
	}
	var f errs.Fields
	if strings.TrimSpace(in.Reason) == "" {
		in.Reason = "birth registration"
	}
	f.Merge("", s.check.details(&in.Details))
	if a := in.BirthRegistrationPlace; a == nil || a.Commune == "" || a.Country != "" {
		f.Add("birth_registration_place.commune", "is required: the number is assigned from the registration province")
	}
	for field, set := range map[string]bool{
		"old_id_number": in.OldIDNumber != "", "previous_cards": len(in.PreviousCards) > 0, "spouse": in.Spouse != nil,
		"temporary_absence": in.TemporaryAbsence != nil,
	} {
		if set {
			f.Add(field, "does not apply to a birth registration")
		}
	}
	if in.MaritalStatus != "" && in.MaritalStatus != "single" {
		f.Add("marital_status", "a newborn is single")
	}
	switch in.LivesWith {
	case "", "mother", "father":
	default:
		f.Add("lives_with", "must be mother or father")
	}
	if !storable(idemKey) {
		f.Add("idempotency_key", "must be UTF-8 text without NUL characters")
	}
	if err := f.Err(); err != nil {
		return Citizen{}, err
	}
	in.MaritalStatus = ""
	dob, _ := time.Parse(time.DateOnly, in.BirthDate)
	reg := in.BirthRegistrationPlace
	prefix, err := personalid.Prefix("0"+reg.Province, in.Sex, dob.Year())
	if err != nil {
		return Citizen{}, errs.Field("birth_registration_place", "%s", err)
	}
	hash := requestHash(in)
	var out Record
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		now := s.clock()
		// A retry answers with what the first request did, even if the
		// household or the officer's jurisdiction has changed since: the
		// key belongs to this actor, who made that registration.
		if idemKey != "" {
			prev, err := claimKey(ctx, tx, idemKey, hash, now)
			if err != nil {
				return err
			}
			if prev != "" {
				out, err = loadRecord(ctx, tx, personalid.Number(prev))
				return err
			}
		}
		r := Record{Status: Alive, Details: in.Details, Version: 1}
		if in.Household != nil {
			if err := s.joinHousehold(ctx, tx, &r, in.Household); err != nil {
				return err
			}
		}
		// The officer registers where the birth is registered, or where
		// the stated residence is.
		place := placeOf(&r.Details)
		if place.Commune == "" {
			place = access.Place{Scheme: adminunit.Scheme(reg.Scheme), Commune: reg.Commune}
		}
		if _, err := s.policy.RequireChange(ctx, place); err != nil {
			return err
		}
		if r.PermanentResidence == nil && r.CurrentResidence == nil {
			if err := inheritResidence(ctx, tx, &r.Details, in.LivesWith); err != nil {
				return err
			}
		}
		if err := s.checkParents(ctx, tx, &r.Details, dob); err != nil {
			return err
		}
		pid, err := issueNumber(ctx, tx, prefix, now)
		if err != nil {
			return err
		}
		r.PID, r.CreatedAt, r.UpdatedAt = pid, now, now
		if err := s.insertRecord(ctx, tx, &r); err != nil {
			return err
		}
		if err := relink(ctx, tx, pid, nil, &r.Details, now); err != nil {
			return err
		}
		if err := revise(ctx, tx, &r, "register_birth", in.Basis, diff(nil, &r)); err != nil {
			return err
		}
		if err := emit(ctx, tx, "vn.dancu.citizen.born", string(r.PID), map[string]any{"pid": r.PID, "birth_date": r.BirthDate}, r.CreatedAt); err != nil {
			return err
		}
		if idemKey != "" {
			if err := settleKey(ctx, tx, idemKey, string(pid)); err != nil {
				return err
			}
		}
		out = r
		evs := []audit.Event{audit.NewEvent(ctx, now, "register_birth", string(pid), "")}
		// The answer names the parents found by their numbers: a read of
		// each parent's record.
		for _, p := range []*Relative{r.Father, r.Mother} {
			if p != nil && p.PID != "" {
				ev := audit.NewEvent(ctx, now, "read_parent", p.PID, string(pid))
				ev.Purpose = "birth registration of " + string(pid)
				evs = append(evs, ev)
			}
		}
		return audit.WriteTx(ctx, tx, evs...)
	})
	if err != nil {
		return Citizen{}, err
	}
	return s.viewWithLinks(ctx, out)
}

// inheritResidence gives a newborn without a stated residence the
// permanent residence of the parent it lives with (livesWith, default the
// mother, else the father), when that parent is on record by number with
// one: Luật Cư trú 2020 Điều 12. The commune that holds the parent's record
// then holds the child's. Naming a parent who is not on record, or has no
// residence, is an error; with no parent to take it from, the child has no
// residence yet, as before.
func inheritResidence(ctx context.Context, tx *sql.Tx, d *Details, livesWith string) error {
	order := []string{"mother", "father"}
	if livesWith != "" {
		order = []string{livesWith}
	}
	for _, who := range order {
		p := d.Mother
		if who == "father" {
			p = d.Father
		}
		if p == nil || p.PID == "" {
			if livesWith != "" {
				return errs.Field("lives_with", "the %s is not named by personal ID number", who)
			}
			continue
		}
		parent, err := loadRecord(ctx, tx, personalid.Number(p.PID))
		if errs.Is(err, errs.NotFound) {
			continue // checkParents names the field
		}
		if err != nil {
			return err
		}
		if parent.PermanentResidence == nil || parent.PermanentResidence.Commune == "" {
			if livesWith != "" {
				return errs.Field("lives_with", "the %s has no permanent residence on record: give the child's", who)
			}
			continue
		}
		a := *parent.PermanentResidence
		d.PermanentResidence = &a
		return nil
	}
	return nil
}

// issueNumber draws random tails until it finds a number never issued and
// records it as issued. Numbers are never released, so none is reused; in
// PostgreSQL a concurrent insert of the same number waits for the other
// transaction and then draws again.
func issueNumber(ctx context.Context, tx *sql.Tx, prefix string, now time.Time) (personalid.Number, error) {
	for i := 0; i < maxDraws; i++ {
		n := personalid.New(prefix)
		res, err := tx.ExecContext(ctx, `INSERT INTO pid_issued (pid, origin, issued_at) VALUES ($1, 'birth', $2) ON CONFLICT DO NOTHING`, n, now)
		if err != nil {
			return "", fmt.Errorf("issue personal ID number: %w", err)
		}
		if k, _ := res.RowsAffected(); k == 1 {
			return n, nil
		}
	}
	return "", errs.E(errs.Unavailable, "could not find a free personal ID number with prefix %s after %d draws", prefix, maxDraws)
}

// checkParents verifies that parents named by number exist, have the right
// sex and were born before the child, and fills in their names.
func (s *Service) checkParents(ctx context.Context, tx *sql.Tx, d *Details, dob time.Time) error {
	var f errs.Fields
	for _, p := range []struct {
		field string
		rel   *Relative
		sex   personalid.Sex
	}{{"father", d.Father, personalid.Male}, {"mother", d.Mother, personalid.Female}} {
		if p.rel == nil || p.rel.PID == "" {
			continue
		}
		parent, err := loadRecord(ctx, tx, personalid.Number(p.rel.PID))
		if errs.Is(err, errs.NotFound) {
			f.Add(p.field+".pid", "no citizen with personal ID number %s", p.rel.PID)
			continue
		}
		if err != nil {
			return err
		}
		if parent.Sex != p.sex {
			f.Add(p.field+".pid", "%s is recorded as %s", p.rel.PID, parent.Sex)
		}
		if pdob, err := time.Parse(time.DateOnly, parent.BirthDate); err == nil && !pdob.Before(dob) {
			f.Add(p.field+".pid", "%s was born on %s, not before the child", p.rel.PID, parent.BirthDate)
		}
		p.rel.Name = parent.Name.Full()
		if p.rel.Nationality == "" {
			p.rel.Nationality = parent.Nationality
		}
	}
	return f.Err()
}

// LegacyRecord is a person registered from existing data with the number
// they already hold.
type LegacyRecord struct {
	PID        string         `json:"pid" doc:"The existing personal ID number"`
	Status     Status         `json:"status,omitempty" enum:"alive,dead,missing" doc:"Default alive"`
	StatusDate string         `json:"status_date,omitempty" format:"date"`
	Household  *JoinHousehold `json:"household,omitempty"`
	Details
	Basis
}

// RegisterExisting registers a person from legacy data with their existing
// number, after checking it and its agreement with the date of birth and
// sex. A number already registered, or ever issued here, is refused.
func (s *Service) RegisterExisting(ctx context.Context, in LegacyRecord) (Citizen, error) {
	if _, err := access.Require(ctx, access.WriteCitizen); err != nil {
		return Citizen{}, err
	}
	if err := s.ValidateLegacy(&in); err != nil {
		return Citizen{}, err
	}
	pid := personalid.Number(in.PID)
	var out Record
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		now := s.clock()
		r := Record{PID: pid, Version: 1, Status: in.Status, StatusDate: in.StatusDate, Details: in.Details, CreatedAt: now, UpdatedAt: now}
		if in.Household != nil {
			if err := s.joinHousehold(ctx, tx, &r, in.Household); err != nil {
				return err
			}
		}
		if _, err := s.policy.RequireChange(ctx, placeOf(&r.Details)); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO pid_issued (pid, origin, issued_at) VALUES ($1, 'legacy', $2) ON CONFLICT DO NOTHING`, pid, now)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return errs.E(errs.Conflict, "personal ID number %s is already registered", pid)
		}
		if err := s.insertRecord(ctx, tx, &r); err != nil {
			return err
		}
		if err := relink(ctx, tx, pid, nil, &r.Details, now); err != nil {
			return err
		}
		if err := revise(ctx, tx, &r, "register_existing", in.Basis, diff(nil, &r)); err != nil {
			return err
		}
		out = r
		return audit.WriteTx(ctx, tx, audit.NewEvent(ctx, now, "register_existing", string(pid), ""))
	})
	if err != nil {
		return Citizen{}, err
	}
	return s.viewWithLinks(ctx, out)
}

// ValidateLegacy checks and normalises a record from existing data with the
// rules RegisterExisting applies, without touching the store: the number,
// every field, the number's agreement with date of birth and sex, and the
// status. Bulk import validates every row with it.
func (s *Service) ValidateLegacy(in *LegacyRecord) error {
	var f errs.Fields
	pid, err := personalid.Parse(in.PID)
	if err != nil {
		f.Add("pid", "%s", err)
	}
	if strings.TrimSpace(in.Reason) == "" {
		in.Reason = "registration from existing data"
	}
	verr := s.check.details(&in.Details)
	f.Merge("", verr)
	if err == nil && verr == nil {
		f.Merge("", agree(pid, &in.Details))
	}
	switch in.Status {
	case "":
		in.Status = Alive
	case Alive, Dead, Missing:
	default:
		f.Add("status", "must be alive, dead or missing")
	}
	if in.Status == Alive && in.StatusDate != "" {
		f.Add("status_date", "applies only to the dead or missing")
	}
	if in.StatusDate != "" {
		if _, ok := s.check.date(&f, "status_date", in.StatusDate, false); ok && in.StatusDate < in.BirthDate {
			f.Add("status_date", "is before the date of birth")
		}
	}
	if in.Household != nil {
		if !s.codes.HouseholdRel.Has(in.Household.Relationship) {
			f.Add("household.relationship", "%q is not a relationship to the head: %s", in.Household.Relationship, s.codes.HouseholdRel.Hint())
		}
		if in.Household.HouseholdID == "" || !storable(in.Household.HouseholdID) || len(in.Household.HouseholdID) > 64 {
			f.Add("household.household_id", "must be 1–64 bytes of text")
		}
	}
	return f.Err()
}

// requestHash fingerprints a request for idempotency checks.
func requestHash(v any) string {
	b, _ := json.Marshal(v)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
