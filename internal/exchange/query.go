package exchange

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/actor"
	"github.com/dancu-vn/dancu/internal/audit"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/personalid"
)

// Query is a scoped read: some fields of one person, for a declared purpose.
type Query struct {
	PID     string   `json:"pid"`
	Fields  []string `json:"fields" minItems:"1" maxItems:"30" doc:"Fields of the record, within the agency's mandate"`
	Purpose string   `json:"purpose" maxLength:"200" doc:"One of the agency's declared purposes"`
}

// QueryResult is what a scoped query returns.
type QueryResult struct {
	PID    string         `json:"pid"`
	Fields map[string]any `json:"fields"`
}

// Query reads the fields of a person that the acting agency's mandate
// allows, for one of its declared purposes; a business also needs the
// citizen's consent, unexpired and covering the fields and the purpose.
// Anything outside the mandate, the purposes or the consent is Forbidden,
// and reads nothing.
func (s *Service) Query(ctx context.Context, q Query) (QueryResult, error) {
	a, err := access.Require(ctx, access.QueryCitizen)
	if err != nil {
		return QueryResult{}, err
	}
	ag, err := s.agency(ctx, a.ID)
	if err != nil {
		return QueryResult{}, errs.E(errs.Forbidden, "only member agencies query")
	}
	if _, err := personalid.Parse(q.PID); err != nil {
		return QueryResult{}, errs.Field("pid", "%s", err)
	}
	if len(q.Fields) == 0 {
		return QueryResult{}, errs.Field("fields", "name at least one field")
	}
	if !slices.Contains(ag.Purposes, q.Purpose) {
		return QueryResult{}, errs.E(errs.Forbidden, "%q is not a purpose declared for %s", q.Purpose, ag.ID)
	}
	var outside []string
	for _, f := range q.Fields {
		if !slices.Contains(ag.Fields, f) {
			outside = append(outside, f)
		}
	}
	if len(outside) > 0 {
		return QueryResult{}, errs.E(errs.Forbidden, "the mandate of %s does not cover %s", ag.ID, strings.Join(outside, ", "))
	}
	if ag.NeedsConsent {
		if err := s.consented(ctx, q.PID, ag.ID, q.Fields, q.Purpose); err != nil {
			return QueryResult{}, err
		}
	}
	got, err := s.registry.Fields(ctx, q.PID, q.Fields, q.Purpose)
	if err != nil {
		return QueryResult{}, err
	}
	return QueryResult{PID: q.PID, Fields: got}, nil
}

func (s *Service) consented(ctx context.Context, pid, agency string, fields []string, purpose string) error {
	var raw, granted string
	var expires time.Time
	var revoked sql.NullTime
	err := s.db.QueryRowContext(ctx, `SELECT fields, purpose, expires_at, revoked_at FROM exchange_consent WHERE pid = $1 AND agency = $2`, pid, agency).
		Scan(&raw, &granted, &expires, &revoked)
	refused := errs.E(errs.Forbidden, "%s has no consent of this citizen covering these fields for this purpose", agency)
	if errors.Is(err, sql.ErrNoRows) {
		return refused
	}
	if err != nil {
		return err
	}
	var allowed []string
	json.Unmarshal([]byte(raw), &allowed)
	if revoked.Valid || !expires.After(s.now()) || granted != purpose {
		return refused
	}
	for _, f := range fields {
		if !slices.Contains(allowed, f) {
			return refused
		}
	}
	return nil
}

// AgencyConsent is what a citizen allows a business member to read.
type AgencyConsent struct {
	Agency     string     `json:"agency"`
	AgencyName string     `json:"agency_name,omitempty"`
	Fields     []string   `json:"fields"`
	Purpose    string     `json:"purpose"`
	GrantedAt  time.Time  `json:"granted_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// MaxConsentDays is the longest a consent may last.
const MaxConsentDays = 365

// GrantConsent lets the acting citizen allow a member to read some fields
// for one of its purposes, for days days. It replaces an earlier consent
// to the same member.
func (s *Service) GrantConsent(ctx context.Context, agency string, fields []string, purpose string, days int) (AgencyConsent, error) {
	a, ok := actor.From(ctx)
	if !ok || a.Kind != actor.Citizen {
		return AgencyConsent{}, errs.E(errs.Forbidden, "consent is given by the citizen, logged in with their e-ID")
	}
	ag, err := s.agency(ctx, agency)
	if errors.Is(err, sql.ErrNoRows) {
		return AgencyConsent{}, errs.Field("agency", "no member %s", agency)
	}
	if err != nil {
		return AgencyConsent{}, err
	}
	var f errs.Fields
	if len(fields) == 0 {
		f.Add("fields", "name at least one field")
	}
	for i, fl := range fields {
		if !slices.Contains(ag.Fields, fl) {
			f.Add(fmt.Sprintf("fields[%d]", i), "%s may not read %q whatever you allow", ag.Name, fl)
		}
	}
	if !slices.Contains(ag.Purposes, purpose) {
		f.Add("purpose", "must be one of the purposes of %s: %s", ag.Name, strings.Join(ag.Purposes, "; "))
	}
	if days < 1 || days > MaxConsentDays {
		f.Add("days", "must be from 1 to %d", MaxConsentDays)
	}
	if err := f.Err(); err != nil {
		return AgencyConsent{}, err
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	c := AgencyConsent{Agency: agency, Fields: fields, Purpose: purpose, GrantedAt: now, ExpiresAt: now.Add(time.Duration(days) * 24 * time.Hour)}
	raw, _ := json.Marshal(fields)
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO exchange_consent (pid, agency, fields, purpose, granted_at, expires_at) VALUES ($1,$2,$3,$4,$5,$6)
			ON CONFLICT (pid, agency) DO UPDATE SET fields = excluded.fields, purpose = excluded.purpose, granted_at = excluded.granted_at,
			expires_at = excluded.expires_at, revoked_at = NULL`, a.ID, agency, string(raw), purpose, now, c.ExpiresAt); err != nil {
			return err
		}
		return audit.WriteTx(ctx, tx, audit.NewEvent(ctx, now, "consent_granted", a.ID, agency+": "+strings.Join(fields, ",")+" for "+purpose))
	})
	return c, err
}

// RevokeConsent withdraws the acting citizen's consent to a member.
func (s *Service) RevokeConsent(ctx context.Context, agency string) error {
	a, ok := actor.From(ctx)
	if !ok || a.Kind != actor.Citizen {
		return errs.E(errs.Forbidden, "consent is withdrawn by the citizen, logged in with their e-ID")
	}
	now := s.now().UTC()
	return s.db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE exchange_consent SET revoked_at = $1 WHERE pid = $2 AND agency = $3 AND revoked_at IS NULL`, now, a.ID, agency)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.E(errs.NotFound, "no consent to %s to withdraw", agency)
		}
		return audit.WriteTx(ctx, tx, audit.NewEvent(ctx, now, "consent_revoked", a.ID, agency))
	})
}

// Consents lists the acting citizen's consents to members.
func (s *Service) Consents(ctx context.Context) ([]AgencyConsent, error) {
	a, ok := actor.From(ctx)
	if !ok || a.Kind != actor.Citizen {
		return nil, errs.E(errs.Forbidden, "only the citizen sees their consents")
	}
	rows, err := s.db.QueryContext(ctx, `SELECT c.agency, COALESCE(g.name, c.agency), c.fields, c.purpose, c.granted_at, c.expires_at, c.revoked_at
		FROM exchange_consent c LEFT JOIN agency g ON g.id = c.agency WHERE c.pid = $1 ORDER BY c.agency`, a.ID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []AgencyConsent{}
	for rows.Next() {
		var c AgencyConsent
		var raw string
		var revoked sql.NullTime
		if err := rows.Scan(&c.Agency, &c.AgencyName, &raw, &c.Purpose, &c.GrantedAt, &c.ExpiresAt, &revoked); err != nil {
			return nil, err
		}
		json.Unmarshal([]byte(raw), &c.Fields)
		if revoked.Valid {
			t := revoked.Time.UTC()
			c.RevokedAt = &t
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
