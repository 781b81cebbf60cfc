package workday

import "time"

// ict is Indochina Time, UTC+7, the civil time of Vietnam since 1975 and of
// the North since 1968, without daylight saving. A fixed zone avoids
// depending on the tz database being installed.
var ict = time.FixedZone("ICT", zoneSeconds)

const (
	zoneSeconds   = 7 * 3600 // UTC+7
	secondsPerDay = 24 * 3600
)

// Date returns midnight UTC+7 beginning the given civil date. Out-of-range
// months and days are normalized as by time.Date.
func Date(year int, month time.Month, day int) time.Time {
	return time.Date(year, month, day, 0, 0, 0, 0, ict)
}

// dayNumber returns the civil date of t in UTC+7 as days since 1970-01-01.
func dayNumber(t time.Time) int {
	s := t.Unix() + zoneSeconds
	d := s / secondsPerDay
	if s%secondsPerDay < 0 {
		d--
	}
	return int(d)
}

// dateOf returns midnight UTC+7 beginning day number d.
func dateOf(d int) time.Time {
	return time.Unix(int64(d)*secondsPerDay-zoneSeconds, 0).In(ict)
}

// civilDay returns the day number of a civil date.
func civilDay(year int, month time.Month, day int) int {
	return int(time.Date(year, month, day, 0, 0, 0, 0, time.UTC).Unix() / secondsPerDay)
}

// yearOfDay returns the year of day number d.
func yearOfDay(d int) int {
	return time.Unix(int64(d)*secondsPerDay, 0).UTC().Year()
}

// weekdayOf returns the day of the week of day number d.
func weekdayOf(d int) time.Weekday {
	w := (d + 4) % 7 // 1970-01-01 was a Thursday
	if w < 0 {
		w += 7
	}
	return time.Weekday(w)
}

// weekend reports whether day number d is a Saturday or a Sunday, the weekly
// rest days of public offices.
func weekend(d int) bool {
	w := weekdayOf(d)
	return w == time.Saturday || w == time.Sunday
}

// InVietnam is t on Vietnam's civil clock (UTC+7): the one rule for the
// dates and times people read.
func InVietnam(t time.Time) time.Time { return t.In(ict) }
