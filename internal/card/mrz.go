// Package card is the chip ID card (CCCD / thẻ căn cước): its machine
// readable zone in the ICAO 9303 TD1 format with the Vietnamese
// conventions, and the validity rules of Luật Căn cước 2023 Art. 21.
package card

import (
	"fmt"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/dancu-vn/dancu/internal/errs"
	"github.com/dancu-vn/dancu/internal/personalid"
)

// LineLength is the length of a TD1 line.
const LineLength = 30

// CheckDigit is the ICAO 9303 check digit of s: weights 7, 3, 1 repeating;
// digits are their value, A–Z are 10–35, '<' is 0.
func CheckDigit(s string) (byte, error) {
	sum := 0
	weights := [3]int{7, 3, 1}
	for i := 0; i < len(s); i++ {
		c := s[i]
		var v int
		switch {
		case c >= '0' && c <= '9':
			v = int(c - '0')
		case c >= 'A' && c <= 'Z':
			v = int(c-'A') + 10
		case c == '<':
			v = 0
		default:
			return 0, fmt.Errorf("character %q at %d is not allowed in an MRZ", c, i+1)
		}
		sum += v * weights[i%3]
	}
	return byte('0' + sum%10), nil
}

func check(s string) byte {
	d, err := CheckDigit(s)
	if err != nil {
		panic(err) // callers pass only MRZ characters
	}
	return d
}

// MRZ is what the machine readable zone of a card holds.
type MRZ struct {
	PID       string // the 12-digit personal ID number
	BirthDate string // YYYY-MM-DD
	Sex       string // male or female
	Expiry    string // YYYY-MM-DD, or "" for a card valid for life
	Surname   string // as written, with diacritics
	Given     string // middle and given names, as written
}

// Transliterate writes a name in MRZ characters: upper case, diacritics
// removed (Đ becomes D), words joined by '<'.
func Transliterate(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		switch {
		case r == 'đ' || r == 'Đ':
			b.WriteByte('D')
		case unicode.Is(unicode.Mn, r):
		case r >= 'a' && r <= 'z':
			b.WriteRune(unicode.ToUpper(r))
		case r >= 'A' && r <= 'Z':
			b.WriteRune(r)
		case unicode.IsSpace(r) || r == '-' || r == '\'':
			b.WriteByte('<')
		}
	}
	return strings.Trim(collapse(b.String()), "<")
}

func collapse(s string) string {
	for strings.Contains(s, "<<") {
		s = strings.ReplaceAll(s, "<<", "<")
	}
	return s
}

func pad(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s + strings.Repeat("<", n-len(s))
}

// yymmdd turns YYYY-MM-DD into YYMMDD ("" gives "<<<<<<", no date).
func yymmdd(field, d string) (string, error) {
	if d == "" {
		return "<<<<<<", nil
	}
	t, err := time.Parse(time.DateOnly, d)
	if err != nil {
		return "", errs.Field(field, "must be a date YYYY-MM-DD")
	}
	return t.Format("060102"), nil
}

// Lines writes the three TD1 lines.
func (m MRZ) Lines() ([3]string, error) {
	var f errs.Fields
	pid, err := personalid.Parse(m.PID)
	if err != nil {
		f.Add("pid", "%s", err)
	}
	dob, err := yymmdd("birth_date", m.BirthDate)
	if err != nil || m.BirthDate == "" {
		f.Add("birth_date", "must be a date YYYY-MM-DD")
	}
	exp, err := yymmdd("expiry", m.Expiry)
	if err != nil {
		f.Merge("", err)
	}
	sex := map[string]string{"male": "M", "female": "F"}[m.Sex]
	if sex == "" {
		f.Add("sex", "must be male or female")
	}
	if Transliterate(m.Surname) == "" {
		f.Add("surname", "is required")
	}
	if err := f.Err(); err != nil {
		return [3]string{}, err
	}
	doc := string(pid)[3:]
	l1 := "IDVNM" + doc + string(check(doc)) + string(pid) + "<<" + string(check(string(pid)))
	l2 := dob + string(check(dob)) + sex + exp + string(check(exp)) + "VNM" + strings.Repeat("<", 11)
	composite := l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29]
	l2 += string(check(composite))
	name := Transliterate(m.Surname) + "<<" + Transliterate(m.Given)
	return [3]string{l1, l2, pad(strings.TrimRight(name, "<"), LineLength)}, nil
}

// ParseMRZ reads and checks the three TD1 lines of a Vietnamese card. Every
// check digit must hold; an error names the field that fails. The century
// of the birth date is the one the personal ID number encodes; the expiry
// is the first date with its digits after the birth.
func ParseMRZ(lines [3]string) (MRZ, error) {
	for i, l := range lines {
		if len(l) != LineLength {
			return MRZ{}, errs.Field(fmt.Sprintf("line%d", i+1), "must be %d characters, got %d", LineLength, len(l))
		}
		if _, err := CheckDigit(l); err != nil {
			return MRZ{}, errs.Field(fmt.Sprintf("line%d", i+1), "%s", err)
		}
	}
	l1, l2, l3 := lines[0], lines[1], lines[2]
	if l1[0:5] != "IDVNM" {
		return MRZ{}, errs.Field("line1", "must start with IDVNM (a Vietnamese identity card), got %q", l1[0:5])
	}
	doc, pidText := l1[5:14], l1[15:27]
	switch {
	case check(doc) != l1[14]:
		return MRZ{}, errs.Field("document_number", "check digit %c does not match %s", l1[14], doc)
	case l1[27:29] != "<<":
		return MRZ{}, errs.Field("line1", "positions 28–29 must be <<")
	case check(pidText) != l1[29]:
		return MRZ{}, errs.Field("pid", "check digit %c does not match %s", l1[29], pidText)
	case pidText[3:] != doc:
		return MRZ{}, errs.Field("document_number", "%s is not the last 9 digits of %s", doc, pidText)
	}
	pid, err := personalid.Parse(pidText)
	if err != nil {
		return MRZ{}, errs.Field("pid", "%s", err)
	}
	if check(l2[0:6]) != l2[6] {
		return MRZ{}, errs.Field("birth_date", "check digit %c does not match %s", l2[6], l2[0:6])
	}
	if check(l2[8:14]) != l2[14] {
		return MRZ{}, errs.Field("expiry", "check digit %c does not match %s", l2[14], l2[8:14])
	}
	if l2[15:18] != "VNM" {
		return MRZ{}, errs.Field("nationality", "must be VNM, got %q", l2[15:18])
	}
	if l2[18:29] != strings.Repeat("<", 11) {
		return MRZ{}, errs.Field("line2", "positions 19–29 must be filler (<) on a Vietnamese card")
	}
	if strings.Trim(l3, "ABCDEFGHIJKLMNOPQRSTUVWXYZ<") != "" || strings.HasPrefix(l3, "<") {
		return MRZ{}, errs.Field("line3", "must be SURNAME<<GIVEN<NAMES in letters")
	}
	if check(l1[5:30]+l2[0:7]+l2[8:15]+l2[18:29]) != l2[29] {
		return MRZ{}, errs.Field("composite", "the composite check digit %c does not match", l2[29])
	}
	m := MRZ{PID: string(pid)}
	switch l2[7] {
	case 'M':
		m.Sex = "male"
	case 'F':
		m.Sex = "female"
	default:
		return MRZ{}, errs.Field("sex", "must be M or F, got %q", l2[7])
	}
	// The century of the birth date comes from the personal ID number.
	dob, err := time.Parse("060102", l2[0:6])
	if err != nil {
		return MRZ{}, errs.Field("birth_date", "%q is not a date YYMMDD", l2[0:6])
	}
	dob = time.Date(pid.BirthYear(), dob.Month(), dob.Day(), 0, 0, 0, 0, time.UTC)
	if dob.Format("060102") != l2[0:6] {
		return MRZ{}, errs.Field("birth_date", "%s does not agree with the personal ID number", l2[0:6])
	}
	m.BirthDate = dob.Format(time.DateOnly)
	if l2[8:14] != "<<<<<<" {
		exp, err := time.Parse("060102", l2[8:14])
		if err != nil {
			return MRZ{}, errs.Field("expiry", "%q is not a date YYMMDD", l2[8:14])
		}
		for exp.Before(dob) {
			exp = exp.AddDate(100, 0, 0)
		}
		m.Expiry = exp.Format(time.DateOnly)
	}
	surname, given, _ := strings.Cut(strings.TrimRight(l3, "<"), "<<")
	m.Surname, m.Given = strings.ReplaceAll(surname, "<", " "), strings.ReplaceAll(given, "<", " ")
	if m.Surname == "" {
		return MRZ{}, errs.Field("line3", "holds no name")
	}
	return m, nil
}
