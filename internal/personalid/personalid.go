// Package personalid is the 12-digit personal identification number (số
// định danh cá nhân): PPP G YY RRRRRR, the code of the province where the
// birth was registered, a digit for century and sex, the last two digits of
// the birth year and a random tail. There is no check digit; a number is
// valid when its parts are, and it agrees with the person's date of birth
// and sex.
package personalid

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/dancu-vn/dancu/internal/errs"
)

// Number is a syntactically valid personal ID number. Obtain one from Parse
// or New; the zero value is not a valid number.
type Number string

// Sex is recorded in the number's century digit: even for male, odd for female.
type Sex string

// The two sexes the law records.
const (
	Male   Sex = "male"
	Female Sex = "female"
)

// Valid reports whether s is one of the defined values.
func (s Sex) Valid() bool { return s == Male || s == Female }

// Parse checks that s is 12 ASCII digits with a known province code and
// returns it as a Number. The error is errs.Invalid and says what is wrong.
func Parse(s string) (Number, error) {
	if len(s) != 12 {
		return "", errs.E(errs.Invalid, "a personal ID number has 12 digits, got %d characters", len(s))
	}
	for i := 0; i < 12; i++ {
		if s[i] < '0' || s[i] > '9' {
			return "", errs.E(errs.Invalid, "a personal ID number has only digits, found %q at position %d", s[i], i+1)
		}
	}
	if _, ok := provinceNames[s[:3]]; !ok {
		return "", errs.E(errs.Invalid, "%s is not a province code of a personal ID number", s[:3])
	}
	return Number(s), nil
}

// String returns the 12 digits.
func (n Number) String() string { return string(n) }

// Province returns the 3-digit code of the province where the birth was
// registered.
func (n Number) Province() string { return string(n[:3]) }

// Sex returns the sex encoded in the century digit.
func (n Number) Sex() Sex {
	if (n[3]-'0')%2 == 0 {
		return Male
	}
	return Female
}

// BirthYear returns the year of birth: the century from the 4th digit, the
// year within it from the 5th and 6th.
func (n Number) BirthYear() int {
	g := int(n[3] - '0')
	return 1900 + 100*(g/2) + int(n[4]-'0')*10 + int(n[5]-'0')
}

// Check reports whether the number agrees with a date of birth and sex: the
// century digit and year digits must encode the year of dob and the sex.
func (n Number) Check(dob time.Time, sex Sex) error {
	var f errs.Fields
	if y := dob.Year(); y != n.BirthYear() {
		f.Add("birth_date", "year %d disagrees with personal ID number %s, which encodes %d", y, n, n.BirthYear())
	}
	if sex != n.Sex() {
		f.Add("sex", "%s disagrees with personal ID number %s, which encodes %s", sex, n, n.Sex())
	}
	return f.Err()
}

// Prefix returns the first 6 digits of every number for a birth registered
// in province (3 digits) of a person of the given sex born in year.
func Prefix(province string, sex Sex, year int) (string, error) {
	if _, ok := provinceNames[province]; !ok {
		return "", errs.E(errs.Invalid, "%s is not a province code of a personal ID number", province)
	}
	if year < 1900 || year > 2399 {
		return "", errs.E(errs.Invalid, "birth year %d is outside 1900–2399, which personal ID numbers can encode", year)
	}
	if !sex.Valid() {
		return "", errs.E(errs.Invalid, "sex must be male or female")
	}
	g := 2 * ((year - 1900) / 100)
	if sex == Female {
		g++
	}
	return fmt.Sprintf("%s%d%02d", province, g, year%100), nil
}

// New returns a number with the given prefix (from Prefix) and a random
// 6-digit tail. Uniqueness is the issuer's job: the store keeps every number
// ever issued and draws again on a collision.
func New(prefix string) Number {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	// 2^64 mod 10^6 bias is below 1e-13: negligible.
	tail := binary.LittleEndian.Uint64(b[:]) % 1_000_000
	return Number(fmt.Sprintf("%s%06d", prefix, tail))
}
