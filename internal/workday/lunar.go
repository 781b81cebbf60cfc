package workday

import (
	"fmt"
	"time"

	"github.com/dancu-vn/dancu/internal/errs"
)

// The Vietnamese lunisolar calendar (âm lịch), computed rather than
// tabulated. A month begins on the civil date, in UTC+7, of a new moon. The
// month in which the December solstice falls is month 11. When 13 months
// begin between one month 11 and the next, the first of them after month 11
// in which the sun reaches no principal solar term (a multiple of 30° of
// longitude) is a leap month and takes the number of the month before it.
// Using UTC+7 instead of China's UTC+8 makes a new moon or a solstice shortly
// before midnight fall a day earlier, which is why Tết was on 21 January 1985
// and 17 February 2007 in Vietnam but on 20 February 1985 and 18 February
// 2007 in China.
//
// The calendar is computed in UTC+7 for every year, as Vietnam's has been
// since 1968; earlier dates can differ from the calendar then in use, which
// followed China's. The series are accurate to a few minutes, so a new moon
// or a principal term within minutes of midnight UTC+7 could be put on the
// wrong day. From 1900 to 2100 no date of Tết or of the Hùng Kings' day
// changes when every instant is moved by five minutes either way (by ten,
// Tết 1906 and the Hùng Kings' day of 1976 and 2086 would); after 2100 a few
// (Tết 2175, 2179 and 2199) turn on less than five minutes, within the
// uncertainty of the forecast of ΔT.

// LunarDate is a date of the Vietnamese lunar calendar. Year is the year in
// which the lunar year begins (Tết of lunar year 2026 is 17 February 2026),
// so the 11th and 12th months of a lunar year fall mostly in the next solar
// year.
type LunarDate struct {
	Year  int
	Month int  // 1–12
	Day   int  // 1–30
	Leap  bool // the leap month that repeats Month
}

// String formats the date as day/month/year, the order Vietnamese calendars
// print it in, marking a leap month.
func (l LunarDate) String() string {
	leap := ""
	if l.Leap {
		leap = " (leap)"
	}
	return fmt.Sprintf("%d/%d%s/%d", l.Day, l.Month, leap, l.Year)
}

// lunarMonth is one month of the lunar calendar: its number and the day
// number of its first day.
type lunarMonth struct {
	start int
	year  int
	month int
	leap  bool
}

// month11 returns the lunation that is month 11 of the lunar year beginning
// in the given solar year: the one during which the December solstice falls.
func month11(year int) int {
	return lunationBefore(decemberSolsticeDay(year))
}

// monthsBetweenSolstices returns the months from month 11 that contains the
// December solstice of year-1 up to and including month 11 that contains the
// December solstice of year; the last element marks the end of the one
// before. Every day of the solar year falls in one of these months or in the
// last.
func monthsBetweenSolstices(year int) []lunarMonth {
	k0, k1 := month11(year-1), month11(year)
	starts := make([]int, k1-k0+1)
	for i := range starts {
		starts[i] = newMoonDay(k0 + i)
	}
	leap := -1
	if len(starts) == 14 { // 13 months: one is a leap month
		for i := 1; i < 13; i++ {
			if termIndex(starts[i]) == termIndex(starts[i+1]) {
				leap = i
				break
			}
		}
		if leap < 0 {
			// Thirteen months hold only the twelve principal terms from one
			// solstice to the next, so one of them lacks a term.
			panic(fmt.Sprintf("workday: no month without a principal term between the solstices of %d and %d", year-1, year))
		}
	}
	months := make([]lunarMonth, len(starts))
	y, m := year-1, 11
	for i, s := range starts {
		if i > 0 && i != leap {
			m++
			if m > 12 {
				m, y = 1, y+1
			}
		}
		months[i] = lunarMonth{start: s, year: y, month: m, leap: i == leap}
	}
	return months
}

// ToLunar returns the lunar date of the civil date of t in UTC+7.
func ToLunar(t time.Time) LunarDate {
	d := dayNumber(t)
	y := yearOfDay(d)
	months := monthsBetweenSolstices(y)
	if d >= months[len(months)-1].start {
		months = monthsBetweenSolstices(y + 1)
	}
	for i := len(months) - 2; i >= 0; i-- {
		if m := months[i]; m.start <= d {
			return LunarDate{Year: m.year, Month: m.month, Day: d - m.start + 1, Leap: m.leap}
		}
	}
	panic(fmt.Sprintf("workday: day %d is before month 11 of %d", d, y-1)) // month 11 of y-1 begins before 1 January of y
}

// FromLunar returns the solar date, at midnight UTC+7, of a lunar date. The
// error, errs.Invalid, says when there is no such date: a month outside
// 1–12, a leap month the year does not have, or day 30 of a 29-day month.
func FromLunar(year, month, day int, leap bool) (time.Time, error) {
	d, err := fromLunar(year, month, day, leap)
	if err != nil {
		return time.Time{}, err
	}
	return dateOf(d), nil
}

func fromLunar(year, month, day int, leap bool) (int, error) {
	l := LunarDate{Year: year, Month: month, Day: day, Leap: leap}
	if month < 1 || month > 12 {
		return 0, errs.E(errs.Invalid, "lunar date %v: the month must be 1–12", l)
	}
	if day < 1 || day > 30 {
		return 0, errs.E(errs.Invalid, "lunar date %v: the day must be 1–30", l)
	}
	solar := year
	if month >= 11 {
		solar = year + 1
	}
	months := monthsBetweenSolstices(solar)
	for i, m := range months[:len(months)-1] {
		if m.year != year || m.month != month || m.leap != leap {
			continue
		}
		if n := months[i+1].start - m.start; day > n {
			return 0, errs.E(errs.Invalid, "lunar date %v: month %d of %d has %d days", l, month, year, n)
		}
		return m.start + day - 1, nil
	}
	return 0, errs.E(errs.Invalid, "lunar date %v: lunar year %d has no leap month %d", l, year, month)
}

// LunarNewYear returns the date, at midnight UTC+7, of Tết Nguyên đán: the
// first day of the first month of the lunar year beginning in year.
func LunarNewYear(year int) time.Time { return dateOf(lunarNewYearDay(year)) }

func lunarNewYearDay(year int) int {
	for _, m := range monthsBetweenSolstices(year) {
		if m.year == year && m.month == 1 && !m.leap {
			return m.start
		}
	}
	panic(fmt.Sprintf("workday: no first month in lunar year %d", year)) // months 12, 1 always follow month 11
}
