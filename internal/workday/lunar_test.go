package workday

import (
	"testing"
	"time"

	"github.com/dancu-vn/dancu/internal/errs"
)

func TestLunarNewYear(t *testing.T) {
	tests := []struct {
		year int
		want string
	}{
		{1968, "1968-01-29"}, // new moon 23:29 UTC+7: China, in UTC+8, kept 30 January
		{1985, "1985-01-21"}, // the solstice at about 23:20 UTC+7 on 21 December 1984 starts month 11 a month earlier than in China (Tết 20 February)
		{2007, "2007-02-17"}, // new moon 23:14 UTC+7: China 18 February
		{2020, "2020-01-25"},
		{2021, "2021-02-12"},
		{2022, "2022-02-01"},
		{2023, "2023-01-22"},
		{2024, "2024-02-10"},
		{2025, "2025-01-29"},
		{2026, "2026-02-17"},
		{2027, "2027-02-06"},
		{2028, "2028-01-26"},
		// The new moon is at 16:07 UT on 2 February 2030, 23:07 in
		// UTC+7: Tết falls on 2 February in Vietnam and on 3 February in
		// China, whose calendar is counted in UTC+8.
		{2030, "2030-02-02"},
		{2033, "2033-01-31"},
	}
	for _, tt := range tests {
		got := LunarNewYear(tt.year)
		if got.Format(time.DateOnly) != tt.want {
			t.Errorf("LunarNewYear(%d) = %s, want %s", tt.year, got.Format(time.DateOnly), tt.want)
		}
		if got.Hour() != 0 || got.Location() != ict {
			t.Errorf("LunarNewYear(%d) = %v, want midnight UTC+7", tt.year, got)
		}
	}
}

func TestHungKingsDay(t *testing.T) {
	tests := []struct {
		year int
		want string
	}{
		{2023, "2023-04-29"}, // after the leap 2nd month of 2023
		{2024, "2024-04-18"},
		{2025, "2025-04-07"},
		{2026, "2026-04-26"},
	}
	for _, tt := range tests {
		got, err := FromLunar(tt.year, 3, 10, false)
		if err != nil {
			t.Fatalf("FromLunar(%d, 3, 10): %v", tt.year, err)
		}
		if got.Format(time.DateOnly) != tt.want {
			t.Errorf("FromLunar(%d, 3, 10) = %s, want %s", tt.year, got.Format(time.DateOnly), tt.want)
		}
	}
}

func TestToLunar(t *testing.T) {
	tests := []struct {
		date string
		want LunarDate
	}{
		{"1984-11-23", LunarDate{1984, 11, 1, false}},
		{"1984-12-22", LunarDate{1984, 12, 1, false}},
		{"1985-01-20", LunarDate{1984, 12, 30, false}},
		{"2023-03-21", LunarDate{2023, 2, 30, false}},
		{"2023-03-22", LunarDate{2023, 2, 1, true}},
		{"2023-04-20", LunarDate{2023, 3, 1, false}},
		{"2024-09-17", LunarDate{2024, 8, 15, false}}, // Tết Trung thu
		{"2025-07-25", LunarDate{2025, 6, 1, true}},
		{"2025-08-23", LunarDate{2025, 7, 1, false}},
		{"2026-02-16", LunarDate{2025, 12, 29, false}}, // New Year's Eve of a 29-day 12th month
		{"2033-11-22", LunarDate{2033, 11, 1, false}},
		{"2033-12-22", LunarDate{2033, 11, 1, true}}, // the leap 11th month the Chinese calendar also has
		{"2034-01-20", LunarDate{2033, 12, 1, false}},
	}
	for _, tt := range tests {
		d, err := time.ParseInLocation(time.DateOnly, tt.date, ict)
		if err != nil {
			t.Fatal(err)
		}
		if got := ToLunar(d); got != tt.want {
			t.Errorf("ToLunar(%s) = %v, want %v", tt.date, got, tt.want)
		}
	}
}

// TestLunarRoundTrip converts every day of 1950–2100 to the lunar calendar
// and back, and checks that lunar dates advance one day at a time through
// months of 29 or 30 days numbered in order.
func TestLunarRoundTrip(t *testing.T) {
	first, last := civilDay(1950, time.January, 1), civilDay(2100, time.December, 31)
	if testing.Short() {
		last = civilDay(1960, time.December, 31)
	}
	prev := ToLunar(dateOf(first - 1))
	for d := first; d <= last; d++ {
		l := ToLunar(dateOf(d))
		back, err := FromLunar(l.Year, l.Month, l.Day, l.Leap)
		if err != nil {
			t.Fatalf("%s: FromLunar(%v): %v", dateOf(d).Format(time.DateOnly), l, err)
		}
		if got := dayNumber(back); got != d {
			t.Fatalf("%s → %v → %s", dateOf(d).Format(time.DateOnly), l, back.Format(time.DateOnly))
		}
		switch {
		case l.Day > 1:
			if l.Year != prev.Year || l.Month != prev.Month || l.Leap != prev.Leap || l.Day != prev.Day+1 {
				t.Fatalf("%s: %v follows %v", dateOf(d).Format(time.DateOnly), l, prev)
			}
		case prev.Day < 29:
			t.Fatalf("%s: month %v has only %d days", dateOf(d).Format(time.DateOnly), prev, prev.Day)
		case l.Leap:
			if l.Month != prev.Month || l.Year != prev.Year || prev.Leap {
				t.Fatalf("%s: leap month %v follows %v", dateOf(d).Format(time.DateOnly), l, prev)
			}
		default:
			next := LunarDate{prev.Year, prev.Month + 1, 1, false}
			if next.Month == 13 {
				next = LunarDate{prev.Year + 1, 1, 1, false}
			}
			if l != next {
				t.Fatalf("%s: %v follows %v", dateOf(d).Format(time.DateOnly), l, prev)
			}
		}
		if l.Day > 30 {
			t.Fatalf("%s: %v", dateOf(d).Format(time.DateOnly), l)
		}
		prev = l
	}
}

func TestFromLunarInvalid(t *testing.T) {
	tests := []struct {
		year, month, day int
		leap             bool
	}{
		{2025, 13, 1, false},
		{2025, 0, 1, false},
		{2025, 1, 0, false},
		{2025, 1, 31, false},
		{2025, 5, 1, true},    // 2025 has a leap 6th month only
		{2025, 12, 30, false}, // the 12th month of 2025 has 29 days
	}
	for _, tt := range tests {
		_, err := FromLunar(tt.year, tt.month, tt.day, tt.leap)
		if !errs.Is(err, errs.Invalid) {
			t.Errorf("FromLunar(%d, %d, %d, %v) error = %v, want invalid", tt.year, tt.month, tt.day, tt.leap, err)
		}
	}
	if _, err := FromLunar(2025, 6, 29, true); err != nil {
		t.Errorf("FromLunar(2025, 6, 29, leap): %v", err)
	}
}
