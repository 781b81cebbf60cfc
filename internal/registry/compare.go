package registry

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"golang.org/x/text/unicode/norm"

	"github.com/dancu-vn/dancu/internal/access"
	"github.com/dancu-vn/dancu/internal/audit"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/personalid"
	"github.com/dancu-vn/dancu/internal/sqldb"
	"github.com/dancu-vn/dancu/internal/vnname"
)

// Claims are what a verifying agency asserts about a person; empty fields
// are not checked.
type Claims struct {
	Name      string `json:"name,omitempty" maxLength:"300" doc:"Full name, e.g. Nguyễn Văn An (with or without diacritics)"`
	BirthDate string `json:"birth_date,omitempty" maxLength:"10" doc:"YYYY-MM-DD"`
	Sex       string `json:"sex,omitempty" enum:"male,female,"`
	Phone     string `json:"phone,omitempty" maxLength:"20"`
}

// Match is how one claimed field compares with the registry.
type Match string

// Field matches.
const (
	Exact      Match = "exact"      // identical, ignoring case and spacing
	Normalized Match = "normalized" // equal once diacritics are removed
	Mismatch   Match = "mismatch"
)

// Comparison is a yes/no answer: per claimed field, and overall. It holds
// no personal data.
type Comparison struct {
	Fields map[string]Match `json:"fields"`
	Match  bool             `json:"match" doc:"Every claimed field matches and the person is alive"`
}

func spaced(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(norm.NFC.String(s)), " "))
}

func digits(s string) string {
	s = strings.NewReplacer(" ", "", ".", "", "-", "").Replace(s)
	if rest, ok := strings.CutPrefix(s, "+84"); ok {
		s = "0" + rest
	}
	return s
}

// Compare checks claims against a record and records the verification as
// an access by the actor (an agency with citizen:verify). An unknown
// number, a person not alive and mismatching fields give the same shape of
// answer, so that the answer tells nothing beyond "these claims hold".
func (s *Service) Compare(ctx context.Context, pidText string, c Claims, purpose string) (Comparison, error) {
	if _, err := access.Require(ctx, access.VerifyCitizen); err != nil {
		return Comparison{}, err
	}
	pid, err := personalid.Parse(pidText)
	if err != nil {
		return Comparison{}, errs.Field("pid", "%s", err.Error())
	}
	if !storable(purpose) || !storable(c.Name) || !storable(c.Phone) {
		return Comparison{}, errs.Field("purpose", "must be UTF-8 text without NUL characters")
	}
	r, err := loadForCompare(ctx, s.db, pid, c)
	if err != nil && !errs.Is(err, errs.NotFound) {
		return Comparison{}, err
	}
	out := compare(&r, err == nil, c)
	ev := audit.NewEvent(ctx, s.clock(), "verify", string(pid), "fields "+strings.Join(fieldNames(out.Fields), ",")+"; "+map[bool]string{true: "match", false: "no match"}[out.Match])
	ev.Purpose = purpose
	if err := s.audit.Record(ctx, ev); err != nil {
		return Comparison{}, err
	}
	return out, nil
}

func fieldNames(m map[string]Match) []string {
	var out []string
	for _, f := range []string{"name", "birth_date", "sex", "phone"} {
		if _, ok := m[f]; ok {
			out = append(out, f)
		}
	}
	return out
}

// compare checks claims against a record (found false: no such record).
func compare(r *Record, found bool, c Claims) Comparison {
	out := Comparison{Fields: map[string]Match{}}
	all := found && r.Status == Alive
	check := func(field, claimed, held string, fold bool) {
		if claimed == "" {
			return
		}
		m := Mismatch
		switch {
		case !found:
		case spaced(claimed) == spaced(held):
			m = Exact
		case fold && vnname.Fold(claimed) == vnname.Fold(held):
			m = Normalized
		}
		out.Fields[field] = m
		all = all && m != Mismatch
	}
	check("name", c.Name, r.Name.Full(), true)
	check("birth_date", c.BirthDate, r.BirthDate, false)
	check("sex", c.Sex, string(r.Sex), false)
	if c.Phone != "" {
		check("phone", digits(c.Phone), digits(r.Phone), false)
	}
	out.Match = all && len(out.Fields) > 0
	return out
}

// BatchItem is one record of a batch verification.
type BatchItem struct {
	PID    string `json:"pid"`
	Claims Claims `json:"claims"`
}

// BatchResult is the answer for one record; Error names a record that
// could not be checked (a malformed number), which is not a mismatch.
type BatchResult struct {
	Comparison
	Error string `json:"error,omitempty"`
}

// CompareBatch checks many records at once, for a batch verification job:
// the same answers as Compare, the access records written together.
func (s *Service) CompareBatch(ctx context.Context, items []BatchItem, purpose string) ([]BatchResult, error) {
	if _, err := access.Require(ctx, access.VerifyCitizen); err != nil {
		return nil, err
	}
	if !storable(purpose) {
		return nil, errs.Field("purpose", "must be UTF-8 text without NUL characters")
	}
	out := make([]BatchResult, len(items))
	evs := make([]audit.Event, 0, len(items))
	now := s.clock()
	for i, it := range items {
		pid, err := personalid.Parse(it.PID)
		if err != nil {
			out[i].Error = "pid: " + err.Error()
			continue
		}
		if !storable(it.Claims.Name) || !storable(it.Claims.Phone) {
			out[i].Error = "claims: must be UTF-8 text without NUL characters"
			continue
		}
		r, err := loadForCompare(ctx, s.db, pid, it.Claims)
		if err != nil && !errs.Is(err, errs.NotFound) {
			return nil, err
		}
		out[i].Comparison = compare(&r, err == nil, it.Claims)
		ev := audit.NewEvent(ctx, now, "verify", string(pid), "batch; fields "+strings.Join(fieldNames(out[i].Fields), ",")+"; "+
			map[bool]string{true: "match", false: "no match"}[out[i].Match])
		ev.Purpose = purpose
		evs = append(evs, ev)
	}
	if err := s.audit.Record(ctx, evs...); err != nil {
		return nil, err
	}
	return out, nil
}

// loadForCompare reads what a comparison needs: the projections of the
// record, and the whole document only when a phone is claimed (the phone
// has no column of its own). It spares decoding the document per record in
// batches.
func loadForCompare(ctx context.Context, q sqldb.Querier, pid personalid.Number, c Claims) (Record, error) {
	if c.Phone != "" {
		return loadRecord(ctx, q, pid)
	}
	var r Record
	err := q.QueryRowContext(ctx, `SELECT family_name, middle_name, given_name, birth_date, sex, status FROM citizen WHERE pid = $1`, pid).
		Scan(&r.Name.Family, &r.Name.Middle, &r.Name.Given, &r.BirthDate, &r.Sex, &r.Status)
	if errors.Is(err, sql.ErrNoRows) {
		return Record{}, errs.E(errs.NotFound, "no citizen with personal ID number %s", pid)
	}
	r.PID = pid
	return r, err
}
