package workday

import (
	"slices"
	"sync"
	"time"
)

// Names of the public holidays, as Holiday returns them.
const (
	NameNewYear      = "Tết Dương lịch"        // 1 January
	NameTet          = "Tết"                   // Lunar New Year, five days
	NameHungKings    = "Giỗ Tổ Hùng Vương"     // 10th day of the 3rd lunar month
	NameVictory      = "Ngày Chiến thắng"      // 30 April
	NameLabour       = "Ngày Quốc tế Lao động" // 1 May
	NameNationalDay  = "Quốc khánh"            // 2 September and one adjacent day
	NameCompensatory = "compensatory day off"  // for a holiday on a weekend
	NameOverride     = "holiday"               // an Override without a name
)

// statutoryHolidays returns the public holidays of a solar year under the
// Labour Code 2019, Art. 112, by day number, compensatory days included.
// Two holidays on one date (the Hùng Kings' day can fall on 30 April after a
// leap month) give one day off; the law grants compensation only for a
// holiday on a weekly rest day.
func statutoryHolidays(year int) map[int]string {
	h := make(map[int]string, 16)
	add := func(d int, name string) {
		if old, ok := h[d]; ok && old != name {
			name = old + ", " + name
		}
		h[d] = name
	}
	add(civilDay(year, time.January, 1), NameNewYear)
	tet := lunarNewYearDay(year)
	for d := tet - 1; d <= tet+3; d++ { // New Year's Eve and days 1–4
		add(d, NameTet)
	}
	// The regular 3rd month, not a leap 3rd month, as observed.
	hung, err := fromLunar(year, 3, 10, false)
	if err != nil {
		panic("workday: " + err.Error()) // every lunar month has a 10th day
	}
	add(hung, NameHungKings)
	add(civilDay(year, time.April, 30), NameVictory)
	add(civilDay(year, time.May, 1), NameLabour)
	sep2 := civilDay(year, time.September, 2)
	add(sep2, NameNationalDay)
	if weekdayOf(sep2) == time.Monday {
		add(sep2+1, NameNationalDay)
	} else {
		add(sep2-1, NameNationalDay)
	}

	// Art. 112(3): each holiday on a Saturday or Sunday is made up on the
	// first working days after the run of days off it belongs to. No holiday
	// falls late enough in the year for this to reach the next year.
	days := make([]int, 0, len(h))
	for d := range h {
		days = append(days, d)
	}
	slices.Sort(days)
	owed := 0
	for d := days[0]; d <= days[len(days)-1] || owed > 0; d++ {
		_, holiday := h[d]
		switch {
		case holiday && weekend(d):
			owed++
		case holiday || weekend(d):
		case owed > 0:
			h[d] = NameCompensatory
			owed--
		}
	}
	return h
}

// statutory caches statutoryHolidays by year. One is shared by a calendar
// and every calendar derived from it with With, since the computed rules do
// not depend on overrides.
type statutory struct {
	mu    sync.Mutex
	years map[int]map[int]string
}

// holidays returns the statutory holidays of year; the map must not be
// modified.
func (s *statutory) holidays(year int) map[int]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if h, ok := s.years[year]; ok {
		return h
	}
	if s.years == nil {
		s.years = make(map[int]map[int]string)
	}
	h := statutoryHolidays(year)
	s.years[year] = h
	return h
}
