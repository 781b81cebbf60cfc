package card

import (
	"time"

	"github.com/dancu-vn/dancu/internal/errs"
)

// RenewalAges are the ages at which a card is renewed (Luật Căn cước 2023
// Art. 21).
var RenewalAges = []int{14, 25, 40, 60}

// GraceYears: a card issued within this many years before a renewal age
// stays valid until the next one.
const GraceYears = 2

// Expiry is the last day of validity of a card issued on issued to a
// person born on birth (both YYYY-MM-DD): the birthday at the next renewal
// age, skipping an age less than two years away; "" when the card is valid
// for life (no renewal age left: issued at 58 or older).
func Expiry(birth, issued string) (string, error) {
	b, err := time.Parse(time.DateOnly, birth)
	if err != nil {
		return "", errs.Field("birth_date", "must be a date YYYY-MM-DD")
	}
	i, err := time.Parse(time.DateOnly, issued)
	if err != nil {
		return "", errs.Field("issued", "must be a date YYYY-MM-DD")
	}
	if i.Before(b) {
		return "", errs.Field("issued", "is before the date of birth")
	}
	for _, age := range RenewalAges {
		at := birthday(b, age)
		if !at.After(i) {
			continue // that age is passed
		}
		if !i.Before(at.AddDate(-GraceYears, 0, 0)) {
			continue // issued within two years before it: valid until the next
		}
		return at.Format(time.DateOnly), nil
	}
	return "", nil
}

// birthday is the date a person born on b turns age (29 February gives
// 28 February in a common year).
func birthday(b time.Time, age int) time.Time {
	y := b.Year() + age
	d := time.Date(y, b.Month(), b.Day(), 0, 0, 0, 0, time.UTC)
	if d.Month() != b.Month() {
		d = time.Date(y, b.Month()+1, 0, 0, 0, 0, 0, time.UTC)
	}
	return d
}
