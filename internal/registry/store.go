package registry

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/adminunit"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/events"
	"github.com/dancu-vn/dancu/internal/personalid"
	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/vnname"
)

// projection is what the citizen table indexes beside the JSON document.
type projection struct {
	nameKey, resCommune, resProvince, household string
	birthYear                                   int
}

func (s *Service) project(r *Record) projection {
	p := projection{nameKey: vnname.Fold(r.Name.Full())}
	if len(r.BirthDate) >= 4 {
		fmt.Sscanf(r.BirthDate[:4], "%d", &p.birthYear)
	}
	if a := r.PermanentResidence; a != nil && a.Commune != "" {
		p.resCommune = a.Commune
		if a.Scheme == string(adminunit.Scheme2022) {
			if u, ok := s.units.Current(a.Commune); ok {
				p.resCommune = u.Code
			}
		}
		if u, ok := s.units.Commune(adminunit.Scheme2025, p.resCommune); ok {
			p.resProvince = u.Province
		}
	}
	if r.Household != nil {
		p.household = r.Household.HouseholdID
	}
	return p
}

// docOf is the JSON kept in citizen.doc: the record without the columns
// that are stored on their own.
func docOf(r *Record) ([]byte, error) {
	d := *r
	d.Version = 0
	if d.Household != nil {
		h := *d.Household
		h.HeadPID, h.HeadName = "", ""
		d.Household = &h
	}
	return json.Marshal(d)
}

func (s *Service) insertRecord(ctx context.Context, tx *sql.Tx, r *Record) error {
	doc, err := docOf(r)
	if err != nil {
		return err
	}
	p := s.project(r)
	_, err = tx.ExecContext(ctx, `INSERT INTO citizen (pid, version, status, family_name, middle_name, given_name, name_key,
		birth_date, birth_year, sex, res_commune, res_province, household_id, doc, created_at, updated_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16)`,
		r.PID, r.Version, r.Status, r.Name.Family, r.Name.Middle, r.Name.Given, p.nameKey,
		r.BirthDate, p.birthYear, r.Sex, p.resCommune, p.resProvince, p.household, string(doc), r.CreatedAt, r.UpdatedAt)
	if sqldb.IsUniqueViolation(err) {
		return errs.E(errs.Conflict, "personal ID number %s is already registered", r.PID)
	}
	return err
}

// updateRecord writes r as version r.Version, provided the stored record is
// still at r.Version-1; otherwise nothing changes and the error is
// Precondition.
func (s *Service) updateRecord(ctx context.Context, tx *sql.Tx, r *Record) error {
	doc, err := docOf(r)
	if err != nil {
		return err
	}
	p := s.project(r)
	res, err := tx.ExecContext(ctx, `UPDATE citizen SET version = $1, status = $2, family_name = $3, middle_name = $4,
		given_name = $5, name_key = $6, birth_date = $7, birth_year = $8, sex = $9, res_commune = $10, res_province = $11,
		household_id = $12, doc = $13, updated_at = $14 WHERE pid = $15 AND version = $16`,
		r.Version, r.Status, r.Name.Family, r.Name.Middle, r.Name.Given, p.nameKey, r.BirthDate, p.birthYear, r.Sex,
		p.resCommune, p.resProvince, p.household, string(doc), r.UpdatedAt, r.PID, r.Version-1)
	if err != nil {
		return fmt.Errorf("update citizen %s: %w", r.PID, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return errs.E(errs.Precondition, "record %s was changed by someone else (now past version %d): read it again", r.PID, r.Version-1)
	}
	return nil
}

// loadRecord reads a stored record. Returns NotFound if there is none.
func loadRecord(ctx context.Context, q sqldb.Querier, pid personalid.Number) (Record, error) {
	var (
		r   Record
		doc string
	)
	err := q.QueryRowContext(ctx, `SELECT version, doc FROM citizen WHERE pid = $1`, pid).Scan(&r.Version, &doc)
	if errors.Is(err, sql.ErrNoRows) {
		return Record{}, errs.E(errs.NotFound, "no citizen with personal ID number %s", pid)
	}
	if err != nil {
		return Record{}, fmt.Errorf("read citizen %s: %w", pid, err)
	}
	v := r.Version
	if err := json.Unmarshal([]byte(doc), &r); err != nil {
		return Record{}, fmt.Errorf("decode citizen %s: %w", pid, err)
	}
	r.Version = v
	r.PID = pid
	return r, nil
}

// revise appends the revision for r's current version.
func revise(ctx context.Context, tx *sql.Tx, r *Record, action string, b Basis, changes []Change) error {
	for _, f := range []struct {
		name, value string
		max         int
	}{{"reason", b.Reason, 1000}, {"legal_basis", b.LegalBasis, 500}, {"dossier_ref", b.DossierRef, 100}} {
		if !storable(f.value) {
			return errs.Field(f.name, "must be UTF-8 text without NUL characters")
		}
		if len(f.value) > f.max {
			return errs.Field(f.name, "must be at most %d bytes", f.max)
		}
	}
	a, _ := actor.From(ctx)
	body, err := json.Marshal(changes)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO citizen_revision (pid, version, at, action, actor_id, actor_kind, actor_name,
		reason, legal_basis, dossier_ref, changes) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)`,
		r.PID, r.Version, r.UpdatedAt, action, a.ID, string(a.Kind), a.Name, b.Reason, b.LegalBasis, b.DossierRef, string(body))
	if sqldb.IsUniqueViolation(err) {
		return errs.E(errs.Precondition, "record %s was changed by someone else: read it again", r.PID)
	}
	return err
}

// linkRoles maps a forward link to the role the other person gets back.
var linkRoles = []struct {
	role, inverse string
	get           func(*Details) *Relative
}{
	{"father", "child", func(d *Details) *Relative { return d.Father }},
	{"mother", "child", func(d *Details) *Relative { return d.Mother }},
	{"spouse", "spouse_of", func(d *Details) *Relative { return d.Spouse }},
	{"representative", "represented", func(d *Details) *Relative { return d.LegalRepresentative }},
}

// relink brings citizen_link in line with the relatives of after, given
// those of before (nil for a new record). Only the reverse link is stored
// (the father's row says "child"): the forward one is in the record itself.
func relink(ctx context.Context, tx *sql.Tx, pid personalid.Number, before, after *Details, now time.Time) error {
	for _, l := range linkRoles {
		var old, cur string
		if before != nil {
			if r := l.get(before); r != nil {
				old = r.PID
			}
		}
		if r := l.get(after); r != nil {
			cur = r.PID
		}
		if old == cur {
			continue
		}
		if old != "" {
			if _, err := tx.ExecContext(ctx, `DELETE FROM citizen_link WHERE pid = $1 AND role = $2 AND other_pid = $3`, old, l.inverse, pid); err != nil {
				return err
			}
		}
		if cur != "" {
			if _, err := tx.ExecContext(ctx, `INSERT INTO citizen_link (pid, role, other_pid, created_at) VALUES ($1, $2, $3, $4)
				ON CONFLICT DO NOTHING`, cur, l.inverse, pid, now); err != nil {
				return err
			}
		}
	}
	return nil
}

// claimKey records an idempotency key for the acting party. If the key was
// used before with the same request, it returns the resource created then;
// with a different request, Conflict.
func claimKey(ctx context.Context, tx *sql.Tx, key, requestHash string, now time.Time) (string, error) {
	a, _ := actor.From(ctx)
	res, err := tx.ExecContext(ctx, `INSERT INTO idempotency_key (actor_id, key, request_hash, resource, created_at)
		VALUES ($1,$2,$3,'',$4) ON CONFLICT DO NOTHING`, a.ID, key, requestHash, now)
	if err != nil {
		return "", fmt.Errorf("idempotency key: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return "", nil
	}
	var hash, resource string
	if err := tx.QueryRowContext(ctx, `SELECT request_hash, resource FROM idempotency_key WHERE actor_id = $1 AND key = $2`,
		a.ID, key).Scan(&hash, &resource); err != nil {
		return "", fmt.Errorf("idempotency key: %w", err)
	}
	if hash != requestHash {
		return "", errs.E(errs.Conflict, "Idempotency-Key %q was already used for a different request", key)
	}
	return resource, nil
}

func settleKey(ctx context.Context, tx *sql.Tx, key, resource string) error {
	a, _ := actor.From(ctx)
	_, err := tx.ExecContext(ctx, `UPDATE idempotency_key SET resource = $1 WHERE actor_id = $2 AND key = $3`, resource, a.ID, key)
	return err
}

// emit writes a change event to the transactional outbox, in the
// transaction of the change; the exchange hub delivers it to subscribers.
func emit(ctx context.Context, tx *sql.Tx, typ, pid string, data map[string]any, now time.Time) error {
	return events.Emit(ctx, tx, typ, pid, data, now)
}
