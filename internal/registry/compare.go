package registry

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"
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
		return Comparison{}, errs.Field("pid", "%s", err)
	}
	if !storable(purpose) || !storable(c.Name) || !storable(c.Phone) {
		return Comparison{}, errs.Field("purpose", "must be UTF-8 text without NUL characters")
	}
	r, err := loadForCompare(ctx, s.db, pid, c)
	if err != nil && !errs.Is(err, errs.NotFound) {
		return Comparison{}, err
	}
	out := compare(heldOf(&r), err == nil, c)
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

// held is what a comparison reads of a record.
type held struct {
	Name      Name
	NameKey   string // the full name folded (vnname.Fold), as the citizen table keeps it
	BirthDate string
	Sex       personalid.Sex
	Status    Status
	Phone     string
}

func heldOf(r *Record) held {
	return held{Name: r.Name, BirthDate: r.BirthDate, Sex: r.Sex, Status: r.Status, Phone: r.Phone}
}

// nameKey is the folded full name, read with the record or folded now.
func (h held) nameKey() string {
	if h.NameKey != "" {
		return h.NameKey
	}
	return vnname.Fold(h.Name.Full())
}

// compare checks claims against a record (found false: no such record).
func compare(r held, found bool, c Claims) Comparison {
	out := Comparison{Fields: map[string]Match{}}
	all := found && r.Status == Alive
	check := func(field, claimed, held string, fold bool) {
		if claimed == "" {
			return
		}
		m := Mismatch
		switch {
		case !found:
		case claimed == held || spaced(claimed) == spaced(held):
			m = Exact
		case fold && vnname.Fold(claimed) == r.nameKey():
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

// RecordBatch records that the actor checks the people of a batch for a
// purpose: one group access event naming every well-formed number, with the
// fields claimed. A batch job records it while it runs, and its answers can
// be read only once this record is committed.
func (s *Service) RecordBatch(ctx context.Context, items []BatchItem, purpose, detail string) error {
	pids := make([]string, 0, len(items))
	claimed := map[string]bool{}
	for _, it := range items {
		pid, err := personalid.Parse(it.PID)
		if err != nil {
			continue
		}
		pids = append(pids, string(pid))
		claimed["name"] = claimed["name"] || it.Claims.Name != ""
		claimed["birth_date"] = claimed["birth_date"] || it.Claims.BirthDate != ""
		claimed["sex"] = claimed["sex"] || it.Claims.Sex != ""
		claimed["phone"] = claimed["phone"] || it.Claims.Phone != ""
	}
	if len(pids) == 0 {
		return nil
	}
	var fields []string
	for _, f := range []string{"name", "birth_date", "sex", "phone"} {
		if claimed[f] {
			fields = append(fields, f)
		}
	}
	if !storable(purpose) {
		return errs.Field("purpose", "must be UTF-8 text without NUL characters")
	}
	// Large batches are recorded as several group events of consecutive
	// numbers, written side by side.
	slices.Sort(pids)
	pids = slices.Compact(pids)
	parts := (len(pids) + groupPart - 1) / groupPart
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(2)
	now := s.clock()
	for p := 0; p < parts; p++ {
		part := pids[p*len(pids)/parts : (p+1)*len(pids)/parts]
		d := detail
		if parts > 1 {
			d = fmt.Sprintf("%s (part %d of %d)", detail, p+1, parts)
		}
		ev := audit.NewGroupEvent(ctx, now, "verify", part, fmt.Sprintf("%s; fields %s", d, strings.Join(fields, ",")))
		ev.Purpose = purpose
		g.Go(func() error { return s.audit.RecordAlone(gctx, ev) })
	}
	return g.Wait()
}

// groupPart is the most people one group access event names.
const groupPart = 50_000

// CompareMany answers a batch: the same answers as Compare, without the
// access record, which the caller makes with RecordBatch (one per batch
// job, not one per chunk: the access log then takes one sorted write per
// job). The records are read by many keys per statement.
func (s *Service) CompareMany(ctx context.Context, items []BatchItem) ([]BatchResult, error) {
	if _, err := access.Require(ctx, access.VerifyCitizen); err != nil {
		return nil, err
	}
	out := make([]BatchResult, len(items))
	pids := make([]string, 0, len(items))
	parsed := make([]string, len(items))
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
		parsed[i] = string(pid)
		pids = append(pids, parsed[i])
	}
	records, err := s.loadManyForCompare(ctx, pids)
	if err != nil {
		return nil, err
	}
	for i, it := range items {
		if out[i].Error != "" {
			continue
		}
		r, found := records[parsed[i]]
		if found && it.Claims.Phone != "" {
			// The phone has no column of its own: read the document.
			doc, err := loadRecord(ctx, s.db, personalid.Number(parsed[i]))
			if err != nil {
				return nil, err
			}
			r = heldOf(&doc)
		}
		out[i].Comparison = compare(r, found, it.Claims)
	}
	return out, nil
}

// readManyKeys is how many numbers one statement reads.
const readManyKeys = 1000

// loadManyForCompare reads the compared columns of many records, by number.
func (s *Service) loadManyForCompare(ctx context.Context, pids []string) (map[string]held, error) {
	out := make(map[string]held, len(pids))
	for len(pids) > 0 {
		n := min(len(pids), readManyKeys)
		cond, arg := s.db.Dialect.AnyOf("pid", 1, pids[:n])
		rows, err := s.db.QueryContext(ctx, `SELECT pid, family_name, middle_name, given_name, name_key, birth_date, sex, status FROM citizen WHERE `+cond, arg)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var pid string
			var r held
			if err := rows.Scan(&pid, &r.Name.Family, &r.Name.Middle, &r.Name.Given, &r.NameKey, &r.BirthDate, &r.Sex, &r.Status); err != nil {
				rows.Close()
				return nil, err
			}
			out[pid] = r
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		pids = pids[n:]
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
