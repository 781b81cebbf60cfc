// Package workday counts the working days of Vietnamese administrative
// procedures: statutory time limits such as "within 3 working days" run over
// the days on which public offices work, which excludes Saturdays, Sundays and
// public holidays.
//
// The default calendar, Vietnam, computes the public holidays of the Labour
// Code 2019, Art. 112, for any year, the lunar ones from the Vietnamese
// lunar calendar (see ToLunar). The government moves days off every year (a
// Saturday worked to bridge a holiday, an extra day at Tết); With adds such
// decisions, which ParseOverrides reads from a text file.
//
// Dates are civil dates in Vietnam, UTC+7 without daylight saving: every
// time.Time argument is first converted to its date in UTC+7, and dates are
// returned at midnight UTC+7.
package workday

import (
	"fmt"
	"sort"
	"sync"
	"time"
)

// A Calendar says which days are working days. It is immutable once built
// and safe for concurrent use; it computes each year's days the first time
// they are asked for and keeps them. The zero value is a calendar whose only
// days off are Saturdays and Sundays.
type Calendar struct {
	rules     *statutory       // nil: no public holidays
	overrides map[int]Override // by day number

	mu    sync.Mutex
	years map[int]*yearDays
}

// yearDays is one solar year of a calendar.
type yearDays struct {
	first int // day number of 1 January
	// working[i] is the number of working days among the first i days of the
	// year, so day first+i is a working day when working[i+1] > working[i].
	working []uint16
	names   map[int]string // holidays by day number
}

// Vietnam returns the calendar of public offices in Vietnam: Saturdays and
// Sundays off, and the public holidays of the Labour Code 2019, Art. 112:
//
//   - 1 January (Tết Dương lịch);
//   - Tết: the last day of the 12th lunar month and the first four days of
//     the 1st lunar month;
//   - the 10th day of the 3rd lunar month, the regular one when the year
//     also has a leap 3rd month (Giỗ Tổ Hùng Vương);
//   - 30 April (Ngày Chiến thắng) and 1 May (Ngày Quốc tế Lao động);
//   - 2 September (Quốc khánh) and an adjacent day, which the law leaves to
//     the Prime Minister each year: by default 3 September when 2 September
//     is a Monday, so the two days join the weekend, and otherwise
//     1 September;
//   - for each of these days that falls on a Saturday or a Sunday, a
//     compensatory day off on the first working day after the holidays and
//     weekend it is part of (Art. 112(3)).
//
// The rules in force since 2021 are applied to every year; earlier law had
// fewer holidays, and the actual days off of a year are whatever the
// government decided, which With records: the day next to 2 September, an
// extra day at Tết, a Saturday worked.
func Vietnam() *Calendar {
	return &Calendar{rules: &statutory{}}
}

// With returns a calendar that is c changed by the overrides; a later
// override of a date replaces an earlier one. Overrides are final: making a
// holiday a working day does not move a compensatory day, and an added
// holiday on a weekend gives none. An Override of a Kind other than DayOff
// or WorkDay changes nothing. c is unchanged.
func (c *Calendar) With(overrides ...Override) *Calendar {
	n := &Calendar{rules: c.rules, overrides: make(map[int]Override, len(c.overrides)+len(overrides))}
	for d, o := range c.overrides {
		n.overrides[d] = o
	}
	for _, o := range overrides {
		n.overrides[dayNumber(o.Date)] = o
	}
	return n
}

// year returns the days of a solar year, computing them the first time.
func (c *Calendar) year(y int) *yearDays {
	c.mu.Lock()
	defer c.mu.Unlock()
	if yd, ok := c.years[y]; ok {
		return yd
	}
	if c.years == nil {
		c.years = make(map[int]*yearDays)
	}
	yd := c.buildYear(y)
	c.years[y] = yd
	return yd
}

func (c *Calendar) buildYear(y int) *yearDays {
	first, next := civilDay(y, time.January, 1), civilDay(y+1, time.January, 1)
	yd := &yearDays{first: first, working: make([]uint16, next-first+1), names: map[int]string{}}
	if c.rules != nil {
		for d, name := range c.rules.holidays(y) {
			yd.names[d] = name
		}
	}
	for d := first; d < next; d++ {
		working := !weekend(d)
		if _, ok := yd.names[d]; ok {
			working = false
		}
		if o, ok := c.overrides[d]; ok {
			switch o.Kind {
			case WorkDay:
				working = true
				delete(yd.names, d)
			case DayOff:
				working = false
				yd.names[d] = o.Name
				if o.Name == "" {
					yd.names[d] = NameOverride
				}
			}
		}
		yd.working[d-first+1] = yd.working[d-first]
		if working {
			yd.working[d-first+1]++
		}
	}
	return yd
}

// dayOf returns the year containing day number d and d's index in it.
func (c *Calendar) dayOf(d int) (*yearDays, int) {
	yd := c.year(yearOfDay(d))
	return yd, d - yd.first
}

// IsWorkingDay reports whether the date of t in UTC+7 is a working day.
func (c *Calendar) IsWorkingDay(t time.Time) bool {
	yd, i := c.dayOf(dayNumber(t))
	return yd.working[i+1] > yd.working[i]
}

// Holiday returns the name of the public holiday, compensatory day off or
// added day off on the date of t in UTC+7; ok is false on other days,
// including plain weekends and days an override made working.
func (c *Calendar) Holiday(t time.Time) (name string, ok bool) {
	d := dayNumber(t)
	yd, _ := c.dayOf(d)
	name, ok = yd.names[d]
	return name, ok
}

// AddWorkingDays returns the date, at midnight UTC+7, of the n-th working day
// after the date of t: the day of receipt never counts, even when it is a
// working day. For n = 0 it returns the date of t. It panics if n is
// negative.
func (c *Calendar) AddWorkingDays(t time.Time, n int) time.Time {
	return dateOf(c.addWorkingDays(dayNumber(t), n))
}

func (c *Calendar) addWorkingDays(d, n int) int {
	if n < 0 {
		panic(fmt.Sprintf("workday: AddWorkingDays with negative n = %d", n))
	}
	if n == 0 {
		return d
	}
	yd, i := c.dayOf(d)
	want := int(yd.working[i+1]) + n // the count of working days through the answer, from 1 January
	for {
		last := len(yd.working) - 1
		if total := int(yd.working[last]); want > total {
			want -= total
			yd = c.year(yearOfDay(yd.first + last))
			continue
		}
		j := sort.Search(last, func(j int) bool { return int(yd.working[j+1]) >= want })
		return yd.first + j
	}
}

// Deadline returns the instant a time limit of n working days from receipt
// ends: the end of the n-th working day after the date of receipt, which is
// midnight UTC+7 starting the day after it. It panics if n is negative.
func (c *Calendar) Deadline(received time.Time, n int) time.Time {
	return dateOf(c.addWorkingDays(dayNumber(received), n) + 1)
}

// WorkingDaysBetween returns the number of working days after the date of a
// up to and including the date of b, both in UTC+7, and 0 if b is not after
// a; so WorkingDaysBetween(t, c.AddWorkingDays(t, n)) == n.
func (c *Calendar) WorkingDaysBetween(a, b time.Time) int {
	da, db := dayNumber(a), dayNumber(b)
	if db <= da {
		return 0
	}
	ya, ia := c.dayOf(da)
	yb, ib := c.dayOf(db)
	if ya == yb {
		return int(yb.working[ib+1]) - int(ya.working[ia+1])
	}
	n := int(ya.working[len(ya.working)-1]) - int(ya.working[ia+1])
	for y := yearOfDay(da) + 1; y < yearOfDay(db); y++ {
		yd := c.year(y)
		n += int(yd.working[len(yd.working)-1])
	}
	return n + int(yb.working[ib+1])
}
