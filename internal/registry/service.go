package registry

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"sort"
	"strings"
	"time"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/adminunit"
	"github.com/dancu-vn/dancu/internal/audit"
	"github.com/dancu-vn/dancu/internal/codelist"
	"github.com/dancu-vn/dancu/internal/sqldb"
)

// Service is the population registry. Every method takes the acting party
// from ctx, checks what it may do once, and does all its writes in one
// transaction together with the revision they make.
type Service struct {
	db     *sqldb.DB
	units  *adminunit.Catalog
	codes  *codelist.Lists
	policy *access.Policy
	audit  *audit.Recorder
	now    func() time.Time
	check  validator
	hooks  []StatusHook
}

// StatusHook is told, inside the transaction that makes the change, that a
// record's status changed; an error rolls the change back. Other parts of
// the system use it to act on a death (revoking an e-ID account, a card).
type StatusHook func(ctx context.Context, tx *sql.Tx, pid string, to Status) error

// OnStatusChange adds a hook. Call it while wiring the services, before
// any request is served.
func (s *Service) OnStatusChange(h StatusHook) { s.hooks = append(s.hooks, h) }

// NewService returns the registry service.
func NewService(db *sqldb.DB, units *adminunit.Catalog, codes *codelist.Lists, policy *access.Policy, rec *audit.Recorder, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	s := &Service{db: db, units: units, codes: codes, policy: policy, audit: rec, now: now}
	s.check = validator{units: units, codes: codes, today: func() time.Time { return s.clock().Truncate(24 * time.Hour) }}
	return s
}

// clock is the current time in UTC, at microsecond precision (what both
// engines store).
func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// Units returns the administrative units the registry validates against.
func (s *Service) Units() *adminunit.Catalog { return s.units }

// Codes returns the code lists the registry validates against.
func (s *Service) Codes() *codelist.Lists { return s.codes }

// placeOf is where a record belongs for jurisdiction: its permanent
// residence, else its current place of living.
func placeOf(d *Details) access.Place {
	for _, a := range []*Address{d.PermanentResidence, d.CurrentResidence} {
		if a != nil && a.Commune != "" {
			return access.Place{Scheme: adminunit.Scheme(a.Scheme), Commune: a.Commune}
		}
	}
	return access.Place{}
}

// describe fills in the read-only parts of an address.
func (s *Service) describe(a *Address) {
	if a == nil {
		return
	}
	var parts []string
	if a.Detail != "" {
		parts = append(parts, a.Detail)
	}
	scheme := adminunit.Scheme(a.Scheme)
	if a.Commune != "" {
		if c, ok := s.units.Commune(scheme, a.Commune); ok {
			parts = append(parts, c.FullName())
			if scheme == adminunit.Scheme2022 {
				if d, ok := s.units.District(c.Parent); ok {
					parts = append(parts, d.FullName())
				}
				if cur, ok := s.units.Current(a.Commune); ok {
					a.CurrentCommune = cur.Code
				}
			}
		}
	}
	if a.Province != "" {
		if p, ok := s.units.Province(scheme, a.Province); ok {
			parts = append(parts, p.FullName())
		}
	}
	if a.Country != "" {
		if n, ok := s.codes.Nationality.Name(a.Country); ok {
			parts = append(parts, n)
		}
	}
	a.Text = strings.Join(parts, ", ")
}

// view turns a stored record into what readers see.
func (s *Service) view(r Record) Citizen {
	c := Citizen{Record: r, FullName: r.Name.Full()}
	// The view fills in read-only parts; copy what it fills so that the
	// record it was given stays as stored.
	for _, a := range []**Address{&c.BirthPlace, &c.BirthRegistrationPlace, &c.PlaceOfOrigin, &c.PermanentResidence,
		&c.TemporaryResidence, &c.CurrentResidence} {
		if *a != nil {
			cp := **a
			*a = &cp
		}
	}
	for _, rel := range []**Relative{&c.Father, &c.Mother, &c.Spouse, &c.LegalRepresentative} {
		if *rel != nil {
			cp := **rel
			*rel = &cp
		}
	}
	if c.Ethnicity != nil {
		e := *c.Ethnicity
		c.Ethnicity = &e
	}
	if c.TemporaryAbsence != nil {
		ab := *c.TemporaryAbsence
		if ab.Destination != nil {
			d := *ab.Destination
			ab.Destination = &d
		}
		c.TemporaryAbsence = &ab
	}
	for _, a := range []*Address{c.BirthPlace, c.BirthRegistrationPlace, c.PlaceOfOrigin, c.PermanentResidence,
		c.TemporaryResidence, c.CurrentResidence} {
		s.describe(a)
	}
	if c.TemporaryAbsence != nil {
		s.describe(c.TemporaryAbsence.Destination)
	}
	if e := c.Ethnicity; e != nil {
		if l, ok := s.codes.Ethnic(e.System); ok {
			e.Name, _ = l.Name(e.Code)
		}
	}
	return c
}

// diff lists the top-level fields that differ between two records.
func diff(before, after *Record) []Change {
	b, a := fieldsOf(before), fieldsOf(after)
	keys := make([]string, 0, len(a)+len(b))
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var out []Change
	for _, k := range keys {
		if bytes.Equal(b[k], a[k]) {
			continue
		}
		c := Change{Field: k}
		if v, ok := b[k]; ok {
			c.Before = v
		}
		if v, ok := a[k]; ok {
			c.After = v
		}
		out = append(out, c)
	}
	return out
}

// fieldsOf is a record's fields as JSON values keyed by field name, without
// the bookkeeping fields that change on every write.
func fieldsOf(r *Record) map[string]json.RawMessage {
	m := map[string]json.RawMessage{}
	if r == nil {
		return m
	}
	doc, _ := docOf(r)
	json.Unmarshal(doc, &m)
	for _, k := range []string{"pid", "version", "created_at", "updated_at"} {
		delete(m, k)
	}
	return m
}
