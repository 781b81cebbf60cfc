// Package bulk moves whole populations in and out of the registry:
// streaming import of JSON Lines or CSV with validation, reject files and
// resumable batches, and streaming export. A row is a registry.LegacyRecord
// (a person with the number they already hold); JSON Lines carries every
// field, CSV a flat set of columns.
package bulk

import (
	"strings"

	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/registry"
)

// addrCols are the columns of one address, after its prefix.
var addrCols = []string{"scheme", "province", "commune", "detail"}

var addressFields = []struct {
	prefix string
	get    func(*registry.LegacyRecord) **registry.Address
}{
	{"birth_place", func(r *registry.LegacyRecord) **registry.Address { return &r.BirthPlace }},
	{"birth_registration_place", func(r *registry.LegacyRecord) **registry.Address { return &r.BirthRegistrationPlace }},
	{"place_of_origin", func(r *registry.LegacyRecord) **registry.Address { return &r.PlaceOfOrigin }},
	{"permanent_residence", func(r *registry.LegacyRecord) **registry.Address { return &r.PermanentResidence }},
	{"temporary_residence", func(r *registry.LegacyRecord) **registry.Address { return &r.TemporaryResidence }},
	{"current_residence", func(r *registry.LegacyRecord) **registry.Address { return &r.CurrentResidence }},
}

var relativeFields = []struct {
	prefix string
	get    func(*registry.LegacyRecord) **registry.Relative
}{
	{"father", func(r *registry.LegacyRecord) **registry.Relative { return &r.Father }},
	{"mother", func(r *registry.LegacyRecord) **registry.Relative { return &r.Mother }},
	{"spouse", func(r *registry.LegacyRecord) **registry.Relative { return &r.Spouse }},
	{"legal_representative", func(r *registry.LegacyRecord) **registry.Relative { return &r.LegalRepresentative }},
}

// scalar columns: name and how to read and write it.
var scalarFields = []struct {
	name string
	get  func(*registry.LegacyRecord) *string
}{
	{"pid", func(r *registry.LegacyRecord) *string { return &r.PID }},
	{"family_name", func(r *registry.LegacyRecord) *string { return &r.Name.Family }},
	{"middle_name", func(r *registry.LegacyRecord) *string { return &r.Name.Middle }},
	{"given_name", func(r *registry.LegacyRecord) *string { return &r.Name.Given }},
	{"birth_date", func(r *registry.LegacyRecord) *string { return &r.BirthDate }},
	{"sex", func(r *registry.LegacyRecord) *string { return (*string)(&r.Sex) }},
	{"status", func(r *registry.LegacyRecord) *string { return (*string)(&r.Status) }},
	{"status_date", func(r *registry.LegacyRecord) *string { return &r.StatusDate }},
	{"religion", func(r *registry.LegacyRecord) *string { return &r.Religion }},
	{"nationality", func(r *registry.LegacyRecord) *string { return &r.Nationality }},
	{"blood_type", func(r *registry.LegacyRecord) *string { return &r.BloodType }},
	{"old_id_number", func(r *registry.LegacyRecord) *string { return &r.OldIDNumber }},
	{"marital_status", func(r *registry.LegacyRecord) *string { return &r.MaritalStatus }},
	{"residence_file_number", func(r *registry.LegacyRecord) *string { return &r.ResidenceFileNumber }},
	{"phone", func(r *registry.LegacyRecord) *string { return &r.Phone }},
	{"email", func(r *registry.LegacyRecord) *string { return &r.Email }},
}

// CSVHeader is the column list of the CSV format, in order.
func CSVHeader() []string {
	var h []string
	for _, f := range scalarFields {
		h = append(h, f.name)
	}
	h = append(h, "other_names", "ethnicity_system", "ethnicity_code")
	for _, a := range addressFields {
		for _, c := range addrCols {
			h = append(h, a.prefix+"_"+c)
		}
	}
	for _, r := range relativeFields {
		h = append(h, r.prefix+"_pid", r.prefix+"_name")
	}
	return append(h, "household_id", "household_relationship")
}

// ToCSV flattens a record into CSV columns in CSVHeader order. Fields the
// CSV format has no column for (previous cards, temporary absence, other
// information, addresses abroad) are dropped; use JSON Lines to keep them.
func ToCSV(r *registry.LegacyRecord) []string {
	out := make([]string, 0, 64)
	for _, f := range scalarFields {
		out = append(out, *f.get(r))
	}
	eth := [2]string{}
	if r.Ethnicity != nil {
		eth = [2]string{r.Ethnicity.System, r.Ethnicity.Code}
	}
	out = append(out, strings.Join(r.OtherNames, ";"), eth[0], eth[1])
	for _, a := range addressFields {
		if p := *a.get(r); p != nil {
			out = append(out, p.Scheme, p.Province, p.Commune, p.Detail)
		} else {
			out = append(out, "", "", "", "")
		}
	}
	for _, rf := range relativeFields {
		if p := *rf.get(r); p != nil {
			out = append(out, p.PID, p.Name)
		} else {
			out = append(out, "", "")
		}
	}
	if r.Household != nil {
		return append(out, r.Household.HouseholdID, r.Household.Relationship)
	}
	return append(out, "", "")
}

// CSVReader maps a CSV header to record fields. Columns may come in any
// order and may be missing; an unknown column is an error, so that a
// misspelt header is not silently dropped.
type CSVReader struct {
	index map[string]int
}

// NewCSVReader checks a header row.
func NewCSVReader(header []string) (*CSVReader, error) {
	known := map[string]bool{}
	for _, h := range CSVHeader() {
		known[h] = true
	}
	c := &CSVReader{index: map[string]int{}}
	for i, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		if !known[h] {
			return nil, errs.E(errs.Invalid, "unknown CSV column %q (known: %s)", h, strings.Join(CSVHeader(), ", "))
		}
		if _, dup := c.index[h]; dup {
			return nil, errs.E(errs.Invalid, "CSV column %q appears twice", h)
		}
		c.index[h] = i
	}
	if _, ok := c.index["pid"]; !ok {
		return nil, errs.E(errs.Invalid, "the CSV header has no pid column")
	}
	return c, nil
}

func (c *CSVReader) col(fields []string, name string) string {
	if i, ok := c.index[name]; ok && i < len(fields) {
		return fields[i]
	}
	return ""
}

// Record builds a record from one CSV row.
func (c *CSVReader) Record(fields []string) (registry.LegacyRecord, error) {
	if len(fields) != len(c.index) {
		return registry.LegacyRecord{}, errs.Field("", "row has %d columns, the header %d", len(fields), len(c.index))
	}
	var r registry.LegacyRecord
	for _, f := range scalarFields {
		*f.get(&r) = c.col(fields, f.name)
	}
	if v := c.col(fields, "other_names"); v != "" {
		r.OtherNames = strings.Split(v, ";")
	}
	if code := c.col(fields, "ethnicity_code"); code != "" {
		r.Ethnicity = &registry.Ethnicity{System: c.col(fields, "ethnicity_system"), Code: code}
	}
	for _, a := range addressFields {
		v := [4]string{}
		for i, col := range addrCols {
			v[i] = c.col(fields, a.prefix+"_"+col)
		}
		if v != [4]string{} {
			*a.get(&r) = &registry.Address{Scheme: v[0], Province: v[1], Commune: v[2], Detail: v[3]}
		}
	}
	for _, rf := range relativeFields {
		pid, name := c.col(fields, rf.prefix+"_pid"), c.col(fields, rf.prefix+"_name")
		if pid != "" || name != "" {
			*rf.get(&r) = &registry.Relative{PID: pid, Name: name}
		}
	}
	if id := c.col(fields, "household_id"); id != "" {
		r.Household = &registry.JoinHousehold{HouseholdID: id, Relationship: c.col(fields, "household_relationship")}
	}
	return r, nil
}
