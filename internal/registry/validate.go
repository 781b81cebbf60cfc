package registry

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/dancu-vn/dancu/internal/adminunit"
	"github.com/dancu-vn/dancu/internal/codelist"
	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/personalid"
)

// validator checks and normalises the fields of a record against the code
// lists and the administrative units. It holds no state of its own.
type validator struct {
	units *adminunit.Catalog
	codes *codelist.Lists
	today func() time.Time
}

// cleanText trims, collapses runs of white space and puts text in NFC, the
// form every name and address is stored in.
func cleanText(s string) string {
	return strings.Join(strings.Fields(norm.NFC.String(s)), " ")
}

// storable reports whether s can be kept as text on both engines.
// PostgreSQL refuses NUL characters and invalid UTF-8, which SQLite would
// store; the registry refuses them on either, so that both take the same
// records and neither fails inside on outside input.
func storable(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

// noNUL refuses NUL characters anywhere in v, naming the field. v is checked
// in its JSON form, which is what is stored (invalid UTF-8 becomes U+FFFD
// there); most free text (address details, other names, the "other"
// entries) has no other rule that would catch them.
func noNUL(f *errs.Fields, field string, v any) {
	b, _ := json.Marshal(v)
	if !bytes.Contains(b, []byte(`\u0000`)) {
		return
	}
	var doc any
	json.Unmarshal(b, &doc)
	walkNUL(f, field, doc)
}

func walkNUL(f *errs.Fields, field string, v any) {
	switch v := v.(type) {
	case string:
		if strings.ContainsRune(v, 0) {
			f.Add(field, "contains a NUL character")
		}
	case []any:
		for _, x := range v {
			walkNUL(f, field, x)
		}
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(v)) {
			if strings.ContainsRune(k, 0) {
				f.Add(field, "contains a NUL character")
				continue
			}
			name := k
			if field != "" {
				name = field + "." + k
			}
			walkNUL(f, name, v[k])
		}
	}
}

// checkNamePart accepts letters (any script, with their marks), spaces, and
// the apostrophe and hyphen of names such as H'Hen or Giẻ-Triêng.
func checkNamePart(f *errs.Fields, field, v string, required bool) string {
	v = cleanText(v)
	switch {
	case v == "" && required:
		f.Add(field, "is required")
	case len(v) > 100:
		f.Add(field, "must be at most 100 bytes")
	default:
		for _, r := range v {
			if !(unicode.IsLetter(r) || unicode.Is(unicode.Mn, r) || r == ' ' || r == '\'' || r == '-' || r == '’') {
				f.Add(field, "contains %q; a name has only letters, spaces, apostrophes and hyphens", r)
				break
			}
		}
	}
	return v
}

func (v *validator) name(f *errs.Fields, prefix string, n *Name) {
	n.Family = checkNamePart(f, prefix+".family", n.Family, true)
	n.Middle = checkNamePart(f, prefix+".middle", n.Middle, false)
	n.Given = checkNamePart(f, prefix+".given", n.Given, true)
}

// date parses an ISO date that must not lie in the future nor before 1850.
func (v *validator) date(f *errs.Fields, field, s string, required bool) (time.Time, bool) {
	if s == "" {
		if required {
			f.Add(field, "is required")
		}
		return time.Time{}, false
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		f.Add(field, "%q is not a date in the form YYYY-MM-DD", s)
		return time.Time{}, false
	}
	if t.After(v.today()) {
		f.Add(field, "%s is in the future", s)
		return t, false
	}
	if t.Year() < 1850 {
		f.Add(field, "%s is before 1850", s)
		return t, false
	}
	return t, true
}

// anyDate parses an ISO date with no range rule (expiry dates, periods).
func anyDate(f *errs.Fields, field, s string) {
	if s == "" {
		return
	}
	if _, err := time.Parse(time.DateOnly, s); err != nil {
		f.Add(field, "%q is not a date in the form YYYY-MM-DD", s)
	}
}

// address validates an address and clears its read-only parts. When
// needCommune is set the address must name a commune in Viet Nam.
func (v *validator) address(f *errs.Fields, field string, a *Address, needCommune bool) {
	if a == nil {
		return
	}
	a.Text, a.CurrentCommune = "", ""
	a.Detail = cleanText(a.Detail)
	a.Country = strings.ToUpper(strings.TrimSpace(a.Country))
	if len(a.Detail) > 300 {
		f.Add(field+".detail", "must be at most 300 bytes")
	}
	if a.Country == "VNM" {
		a.Country = ""
	}
	if a.Country != "" {
		if !v.codes.Nationality.Has(a.Country) {
			f.Add(field+".country", "%q is not an ISO 3166-1 alpha-3 country code", a.Country)
		}
		if a.Province != "" || a.Commune != "" || a.Scheme != "" {
			f.Add(field+".country", "an address abroad has no Vietnamese unit codes")
		}
		if needCommune {
			f.Add(field+".country", "must be an address in Viet Nam")
		}
		if a.Detail == "" {
			f.Add(field+".detail", "is required for an address abroad")
		}
		return
	}
	scheme := adminunit.Scheme(a.Scheme)
	switch scheme {
	case "":
		scheme = adminunit.Scheme2025
	case adminunit.Scheme2025, adminunit.Scheme2022:
	default:
		f.Add(field+".scheme", "must be 2025 or 2022")
		return
	}
	a.Scheme = string(scheme)
	if a.Commune == "" {
		if needCommune {
			f.Add(field+".commune", "is required")
			return
		}
		if a.Province == "" {
			f.Add(field+".province", "an address needs a commune or province code")
			return
		}
		p, ok := v.units.Province(scheme, a.Province)
		if !ok {
			f.Add(field+".province", "%q is not a province code in the %s scheme", a.Province, scheme)
			return
		}
		a.Province = p.Code
		return
	}
	c, ok := v.units.Commune(scheme, a.Commune)
	if !ok {
		f.Add(field+".commune", "%q is not a commune code in the %s scheme", a.Commune, scheme)
		return
	}
	if a.Province != "" {
		if p, ok := v.units.Province(scheme, a.Province); !ok || p.Code != c.Province {
			f.Add(field+".province", "commune %s lies in province %s, not %s", c.Code, c.Province, a.Province)
			return
		}
	}
	a.Province = c.Province
}

func (v *validator) relative(f *errs.Fields, field string, r *Relative) {
	if r == nil {
		return
	}
	r.Name = cleanText(r.Name)
	if r.PID == "" && r.Name == "" {
		f.Add(field, "needs a pid or a name")
	}
	if r.PID != "" {
		if _, err := personalid.Parse(r.PID); err != nil {
			f.Add(field+".pid", "%s", err)
		}
	}
	if len(r.Name) > 300 {
		f.Add(field+".name", "must be at most 300 bytes")
	}
	if r.OldIDNumber != "" && !allDigits(r.OldIDNumber, 9) {
		f.Add(field+".old_id_number", "must be 9 digits")
	}
	r.Nationality = strings.ToUpper(r.Nationality)
	if r.Nationality != "" && !v.codes.Nationality.Has(r.Nationality) {
		f.Add(field+".nationality", "%q is not an ISO 3166-1 alpha-3 country code", r.Nationality)
	}
}

func allDigits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// normalPhone accepts a Vietnamese mobile number as 0xxxxxxxxx or
// +84xxxxxxxxx, with spaces, dots or hyphens, and returns the 0… form.
func normalPhone(s string) (string, bool) {
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '.' || r == '-' {
			return -1
		}
		return r
	}, s)
	if strings.HasPrefix(s, "+84") {
		s = "0" + s[3:]
	}
	if !allDigits(s, 10) || s[0] != '0' || !strings.ContainsRune("35789", rune(s[1])) {
		return "", false
	}
	return s, true
}

// details validates and normalises every field of d.
func (v *validator) details(d *Details) error {
	var f errs.Fields
	v.name(&f, "name", &d.Name)
	for i, o := range d.OtherNames {
		d.OtherNames[i] = cleanText(o)
		if d.OtherNames[i] == "" || len(d.OtherNames[i]) > 300 {
			f.Add("other_names", "each other name must be 1–300 bytes")
			break
		}
	}
	v.date(&f, "birth_date", d.BirthDate, true)
	if !d.Sex.Valid() {
		f.Add("sex", "must be male or female")
	}
	v.address(&f, "birth_place", d.BirthPlace, false)
	v.address(&f, "birth_registration_place", d.BirthRegistrationPlace, false)
	v.address(&f, "place_of_origin", d.PlaceOfOrigin, false)
	if e := d.Ethnicity; e != nil {
		if e.System == "" {
			e.System = v.codes.DefaultEthnic
		}
		e.Name = ""
		if list, ok := v.codes.Ethnic(e.System); !ok {
			f.Add("ethnicity.system", "unknown code system %q (known: %s, %s)", e.System, codelist.EthnicGSO2008, codelist.EthnicGSO1979)
		} else if !list.Has(e.Code) {
			f.Add("ethnicity.code", "%q is not an ethnicity code of %s", e.Code, e.System)
		}
	}
	if d.Religion != "" && !v.codes.Religion.Has(d.Religion) {
		f.Add("religion", "%q is not a religion code: %s", d.Religion, v.codes.Religion.Hint())
	}
	d.Nationality = strings.ToUpper(strings.TrimSpace(d.Nationality))
	if d.Nationality == "" {
		d.Nationality = "VNM"
	} else if !v.codes.Nationality.Has(d.Nationality) {
		f.Add("nationality", "%q is not an ISO 3166-1 alpha-3 country code", d.Nationality)
	}
	d.BloodType = strings.ToUpper(strings.TrimSpace(d.BloodType))
	if d.BloodType != "" && !v.codes.BloodType.Has(d.BloodType) {
		f.Add("blood_type", "%q is not a blood type: %s", d.BloodType, v.codes.BloodType.Hint())
	}
	if d.OldIDNumber != "" && !allDigits(d.OldIDNumber, 9) {
		f.Add("old_id_number", "must be 9 digits")
	}
	for i := range d.PreviousCards {
		c := &d.PreviousCards[i]
		switch c.Kind {
		case "cmnd9":
			if !allDigits(c.Number, 9) {
				f.Add("previous_cards.number", "a cmnd9 number has 9 digits")
			}
		case "cmnd12", "cccd", "can_cuoc":
			if !allDigits(c.Number, 12) {
				f.Add("previous_cards.number", "a %s number has 12 digits", c.Kind)
			}
		default:
			f.Add("previous_cards.kind", "must be cmnd9, cmnd12, cccd or can_cuoc")
		}
		anyDate(&f, "previous_cards.issue_date", c.IssueDate)
		anyDate(&f, "previous_cards.valid_until", c.ValidUntil)
		c.IssuePlace = cleanText(c.IssuePlace)
	}
	v.relative(&f, "father", d.Father)
	v.relative(&f, "mother", d.Mother)
	v.relative(&f, "spouse", d.Spouse)
	v.relative(&f, "legal_representative", d.LegalRepresentative)
	v.address(&f, "permanent_residence", d.PermanentResidence, true)
	v.address(&f, "temporary_residence", d.TemporaryResidence, true)
	anyDate(&f, "temporary_residence_until", d.TemporaryResidenceUntil)
	if d.TemporaryResidenceUntil != "" && d.TemporaryResidence == nil {
		f.Add("temporary_residence_until", "is set but there is no temporary residence")
	}
	v.address(&f, "current_residence", d.CurrentResidence, false)
	if a := d.TemporaryAbsence; a != nil {
		if a.From == "" {
			f.Add("temporary_absence.from", "is required")
		}
		anyDate(&f, "temporary_absence.from", a.From)
		anyDate(&f, "temporary_absence.until", a.Until)
		if a.Until != "" && a.Until < a.From {
			f.Add("temporary_absence.until", "is before from")
		}
		v.address(&f, "temporary_absence.destination", a.Destination, false)
		a.Reason = cleanText(a.Reason)
	}
	d.ResidenceFileNumber = strings.TrimSpace(d.ResidenceFileNumber)
	if d.MaritalStatus != "" && !v.codes.MaritalStatus.Has(d.MaritalStatus) {
		f.Add("marital_status", "%q is not a marital status: %s", d.MaritalStatus, v.codes.MaritalStatus.Hint())
	}
	if d.Phone != "" {
		if p, ok := normalPhone(d.Phone); ok {
			d.Phone = p
		} else {
			f.Add("phone", "%q is not a Vietnamese mobile number (0xxxxxxxxx or +84xxxxxxxxx)", d.Phone)
		}
	}
	if d.Email != "" {
		d.Email = strings.TrimSpace(d.Email)
		if a, err := mail.ParseAddress(d.Email); err != nil || a.Address != d.Email || a.Name != "" {
			f.Add("email", "%q is not an e-mail address", d.Email)
		}
	}
	if len(d.Other) > 50 {
		f.Add("other", "at most 50 entries")
	}
	for k, val := range d.Other {
		if k == "" || len(k) > 64 || len(val) > 1000 {
			f.Add("other", "keys must be 1–64 bytes and values at most 1000 bytes")
			break
		}
	}
	noNUL(&f, "", d)
	return f.Err()
}

// agree checks that the personal ID number encodes the date of birth and
// sex of the record.
func agree(n personalid.Number, d *Details) error {
	dob, err := time.Parse(time.DateOnly, d.BirthDate)
	if err != nil {
		return errs.Field("birth_date", "%q is not a date in the form YYYY-MM-DD", d.BirthDate)
	}
	return n.Check(dob, d.Sex)
}
