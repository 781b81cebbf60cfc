package workday

import (
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// day parses a date in UTC+7 for a test.
func day(t testing.TB, s string) time.Time {
	t.Helper()
	d, err := time.ParseInLocation(time.DateOnly, s, ict)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestHoliday(t *testing.T) {
	c := Vietnam()
	tests := []struct {
		date string
		want string // "" for not a holiday
	}{
		{"2025-01-01", NameNewYear},
		{"2026-02-15", ""}, // a Sunday before Tết
		{"2026-02-16", NameTet},
		{"2026-02-17", NameTet},
		{"2026-02-20", NameTet},
		{"2026-02-21", ""},
		{"2024-02-09", NameTet}, // New Year's Eve, a Friday
		{"2024-02-10", NameTet}, // a Saturday…
		{"2024-02-11", NameTet}, // …and a Sunday,
		{"2024-02-13", NameTet},
		{"2024-02-14", NameCompensatory}, // made up after the run of days off
		{"2024-02-15", NameCompensatory},
		{"2024-02-16", ""},
		{"2024-04-18", NameHungKings},
		{"2025-04-07", NameHungKings},
		{"2026-04-26", NameHungKings}, // a Sunday
		{"2026-04-27", NameCompensatory},
		{"2026-04-28", ""},
		{"2023-04-29", NameHungKings}, // Saturday, then 30 April on Sunday and 1 May
		{"2023-04-30", NameVictory},
		{"2023-05-01", NameLabour},
		{"2023-05-02", NameCompensatory},
		{"2023-05-03", NameCompensatory},
		{"2023-05-04", ""},
		{"2024-09-01", ""}, // 2 September 2024 is a Monday: 2 and 3 September
		{"2024-09-02", NameNationalDay},
		{"2024-09-03", NameNationalDay},
		{"2025-09-01", NameNationalDay}, // a Tuesday: 1 and 2 September
		{"2025-09-02", NameNationalDay},
		{"2025-09-03", ""},
		{"2029-09-01", NameNationalDay}, // Saturday and Sunday: two days made up
		{"2029-09-02", NameNationalDay},
		{"2029-09-03", NameCompensatory},
		{"2029-09-04", NameCompensatory},
		{"2029-09-05", ""},
		{"2028-01-01", NameNewYear}, // a Saturday
		{"2028-01-03", NameCompensatory},
		{"1947-04-30", NameHungKings + ", " + NameVictory}, // the one coincidence in 1900–2199
		{"2026-03-02", ""},
	}
	for _, tt := range tests {
		name, ok := c.Holiday(day(t, tt.date))
		if name != tt.want || ok != (tt.want != "") {
			t.Errorf("Holiday(%s) = %q, %v; want %q", tt.date, name, ok, tt.want)
		}
	}
}

func TestIsWorkingDay(t *testing.T) {
	c := Vietnam()
	tests := []struct {
		date string
		want bool
	}{
		{"2026-02-13", true},  // Friday
		{"2026-02-14", false}, // Saturday
		{"2026-02-15", false}, // Sunday
		{"2026-02-18", false}, // Tết
		{"2026-02-23", true},
		{"2026-04-27", false}, // compensatory day
		{"2026-04-29", true},
		{"2026-04-30", false},
	}
	for _, tt := range tests {
		if got := c.IsWorkingDay(day(t, tt.date)); got != tt.want {
			t.Errorf("IsWorkingDay(%s) = %v, want %v", tt.date, got, tt.want)
		}
	}
	// An instant is judged by its date in UTC+7.
	lateFriday := time.Date(2026, 2, 13, 16, 59, 59, 0, time.UTC) // 23:59:59 in Hà Nội
	if !c.IsWorkingDay(lateFriday) || c.IsWorkingDay(lateFriday.Add(time.Second)) {
		t.Errorf("the working day of 13 February 2026 ends at 17:00 UTC")
	}
}

// swap2025 is the government's swap around 30 April 2025: Saturday 26 April
// worked for Friday 2 May off.
var swap2025 = []Override{
	{Date: time.Date(2025, 4, 26, 0, 0, 0, 0, ict), Kind: WorkDay, Name: "for 2 May"},
	{Date: time.Date(2025, 5, 2, 0, 0, 0, 0, ict), Kind: DayOff, Name: "bridge to the weekend"},
}

func TestAddWorkingDays(t *testing.T) {
	vn := Vietnam()
	swapped := vn.With(swap2025...)
	tests := []struct {
		name string
		cal  *Calendar
		from time.Time
		n    int
		want string
	}{
		{"a working day", vn, day(t, "2026-01-07"), 1, "2026-01-08"},
		{"over a weekend", vn, day(t, "2026-01-09"), 1, "2026-01-12"},
		{"received on a Saturday", vn, day(t, "2026-01-10"), 1, "2026-01-12"},
		{"three days over a weekend", vn, day(t, "2026-01-08"), 3, "2026-01-13"},
		{"zero days, a Saturday", vn, day(t, "2026-01-10"), 0, "2026-01-10"},
		{"over Tết 2026", vn, day(t, "2026-02-13"), 1, "2026-02-23"},
		{"into Tết 2026", vn, day(t, "2026-02-12"), 2, "2026-02-23"},
		{"after Tết 2026 at 10:00", vn, time.Date(2026, 2, 13, 10, 0, 0, 0, ict), 5, "2026-02-27"},
		{"Friday in UTC+7, Thursday in UTC", vn, time.Date(2026, 2, 12, 18, 0, 0, 0, time.UTC), 1, "2026-02-23"},
		{"Thursday in UTC+7", vn, time.Date(2026, 2, 12, 16, 59, 0, 0, time.UTC), 1, "2026-02-13"},
		{"over 30 April and 1 May", vn, day(t, "2026-04-29"), 1, "2026-05-04"},
		{"over a compensatory day", vn, day(t, "2026-04-24"), 1, "2026-04-28"},
		{"over Tết 2024 and its compensatory days", vn, day(t, "2024-02-08"), 1, "2024-02-16"},
		{"over the year", vn, day(t, "2025-12-31"), 1, "2026-01-02"},
		{"over the year, two days", vn, day(t, "2025-12-31"), 2, "2026-01-05"},
		{"over the year and a weekend", vn, day(t, "2026-12-31"), 1, "2027-01-04"},
		// 2026 has 261 weekdays, 11 of them days off: 250 working days.
		{"all the working days of 2026", vn, day(t, "2026-01-01"), 250, "2026-12-31"},
		{"one more", vn, day(t, "2026-01-01"), 251, "2027-01-04"},
		{"without the 2025 swap", vn, day(t, "2025-04-25"), 1, "2025-04-28"},
		{"a Saturday made a working day", swapped, day(t, "2025-04-25"), 1, "2025-04-26"},
		{"a Saturday made a working day, 2 days", swapped, day(t, "2025-04-25"), 2, "2025-04-28"},
		{"before the bridge, without it", vn, day(t, "2025-04-29"), 1, "2025-05-02"},
		{"an added holiday", swapped, day(t, "2025-04-29"), 1, "2025-05-05"},
		{"weekends only", &Calendar{}, day(t, "2026-02-13"), 1, "2026-02-16"},
	}
	for _, tt := range tests {
		got := tt.cal.AddWorkingDays(tt.from, tt.n)
		if got.Format(time.DateOnly) != tt.want || got.Location() != ict || got.Hour() != 0 {
			t.Errorf("%s: AddWorkingDays(%v, %d) = %v, want %s", tt.name, tt.from, tt.n, got, tt.want)
		}
		if d := tt.cal.WorkingDaysBetween(tt.from, got); d != tt.n {
			t.Errorf("%s: WorkingDaysBetween(%v, %v) = %d, want %d", tt.name, tt.from, got, d, tt.n)
		}
	}
}

func TestDeadline(t *testing.T) {
	vn := Vietnam()
	tests := []struct {
		received time.Time
		n        int
		want     time.Time
	}{
		// e-ID approval within 1 working day of a Friday request before Tết
		{time.Date(2026, 2, 13, 10, 0, 0, 0, ict), 1, time.Date(2026, 2, 24, 0, 0, 0, 0, ict)},
		{time.Date(2026, 1, 9, 16, 30, 0, 0, ict), 3, time.Date(2026, 1, 15, 0, 0, 0, 0, ict)},
		// 23:30 UTC on Wednesday 29 April 2026 is 06:30 on Thursday 30 April in UTC+7
		{time.Date(2026, 4, 29, 23, 30, 0, 0, time.UTC), 1, time.Date(2026, 5, 5, 0, 0, 0, 0, ict)},
		{time.Date(2026, 1, 9, 16, 30, 0, 0, ict), 0, time.Date(2026, 1, 10, 0, 0, 0, 0, ict)},
	}
	for _, tt := range tests {
		got := vn.Deadline(tt.received, tt.n)
		if !got.Equal(tt.want) {
			t.Errorf("Deadline(%v, %d) = %v, want %v", tt.received, tt.n, got, tt.want)
		}
	}
	// The last instant before the deadline is still in the n-th working day.
	end := vn.Deadline(day(t, "2026-02-13"), 1)
	if !vn.IsWorkingDay(end.Add(-time.Nanosecond)) || vn.AddWorkingDays(day(t, "2026-02-13"), 1) != end.AddDate(0, 0, -1) {
		t.Errorf("Deadline(2026-02-13, 1) = %v is not the end of the working day", end)
	}
}

// TestWorkingDaysProperty checks AddWorkingDays and WorkingDaysBetween
// against each other and against counting day by day with IsWorkingDay, for
// many dates and counts, on the default calendar and one with overrides.
func TestWorkingDaysProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	first := civilDay(1950, time.January, 1)
	span := civilDay(2150, time.January, 1) - first
	for _, c := range []*Calendar{Vietnam(), Vietnam().With(swap2025...), {}} {
		for range 2000 {
			from := dateOf(first + rng.IntN(span)).Add(time.Duration(rng.IntN(24*60)) * time.Minute)
			n := rng.IntN(60)
			if rng.IntN(10) == 0 {
				n = rng.IntN(2000)
			}
			to := c.AddWorkingDays(from, n)
			if got := c.WorkingDaysBetween(from, to); got != n {
				t.Fatalf("WorkingDaysBetween(%v, AddWorkingDays(…, %d) = %v) = %d", from, n, to, got)
			}
			if n > 0 && !c.IsWorkingDay(to) {
				t.Fatalf("AddWorkingDays(%v, %d) = %v, not a working day", from, n, to)
			}
			if n > 0 && c.WorkingDaysBetween(from, to.AddDate(0, 0, -1)) != n-1 {
				t.Fatalf("AddWorkingDays(%v, %d) = %v is not the first day with %d working days", from, n, to, n)
			}
			if n <= 60 {
				count := 0
				for d := dayNumber(from) + 1; d <= dayNumber(to); d++ {
					if c.IsWorkingDay(dateOf(d)) {
						count++
					}
				}
				if count != n {
					t.Fatalf("from %v to %v: %d working days by counting, want %d", from, to, count, n)
				}
			}
			if got := c.WorkingDaysBetween(to, from); got != 0 {
				t.Fatalf("WorkingDaysBetween(%v, %v) = %d, want 0 backwards", to, from, got)
			}
		}
	}
}

// TestStatutoryHolidays checks the computed holidays of every year
// 1900–2199: eleven dates (ten in 1947), all in their year, each holiday on a
// weekend matched by a compensatory day.
func TestStatutoryHolidays(t *testing.T) {
	for y := 1900; y < 2200; y++ {
		h := statutoryHolidays(y)
		holidays, onWeekend, compensatory := 0, 0, 0
		for d, name := range h {
			if yearOfDay(d) != y {
				t.Errorf("%d: %s on %s", y, name, dateOf(d).Format(time.DateOnly))
			}
			if name == NameCompensatory {
				compensatory++
				if weekend(d) {
					t.Errorf("%d: compensatory day on a weekend, %s", y, dateOf(d).Format(time.DateOnly))
				}
				continue
			}
			holidays++
			if weekend(d) {
				onWeekend++
			}
		}
		want := 11
		if y == 1947 {
			want = 10
		}
		if holidays != want || compensatory != onWeekend {
			t.Errorf("%d: %d holidays (want %d), %d on weekends, %d compensatory days", y, holidays, want, onWeekend, compensatory)
		}
		tet := lunarNewYearDay(y)
		for d := tet - 1; d <= tet+3; d++ {
			if h[d] != NameTet {
				t.Errorf("%d: %s is %q, want Tết", y, dateOf(d).Format(time.DateOnly), h[d])
			}
		}
	}
}

func TestWithLeavesOriginal(t *testing.T) {
	vn := Vietnam()
	sat := day(t, "2025-04-26")
	_ = vn.IsWorkingDay(sat) // fill the cache first
	swapped := vn.With(swap2025...)
	if vn.IsWorkingDay(sat) || !swapped.IsWorkingDay(sat) {
		t.Errorf("With changed the original calendar or did not apply")
	}
	if name, ok := swapped.Holiday(day(t, "2025-05-02")); !ok || name != "bridge to the weekend" {
		t.Errorf("Holiday(2025-05-02) = %q, %v", name, ok)
	}
	// A later override of the same date wins; making a holiday worked removes it.
	again := swapped.With(Override{Date: day(t, "2025-05-02"), Kind: WorkDay}, Override{Date: day(t, "2025-04-30"), Kind: WorkDay})
	if !again.IsWorkingDay(day(t, "2025-05-02")) || !again.IsWorkingDay(day(t, "2025-04-30")) {
		t.Errorf("later overrides did not win")
	}
	if _, ok := again.Holiday(day(t, "2025-04-30")); ok {
		t.Errorf("30 April made a working day is still a holiday")
	}
	if name, _ := vn.With(Override{Date: day(t, "2025-06-02")}).Holiday(day(t, "2025-06-02")); name != NameOverride {
		t.Errorf("unnamed added holiday is called %q", name)
	}
}

func TestConcurrentUse(t *testing.T) {
	c := Vietnam()
	var wg sync.WaitGroup
	results := make([]time.Time, 8)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for y := 2000; y < 2040; y++ {
				results[i] = c.AddWorkingDays(day(t, "2000-01-03").AddDate(y-2000, 0, 0), 300)
			}
		}()
	}
	wg.Wait()
	for _, r := range results[1:] {
		if !r.Equal(results[0]) {
			t.Errorf("goroutines disagree: %v and %v", r, results[0])
		}
	}
}

func BenchmarkAddWorkingDays(b *testing.B) {
	c := Vietnam()
	start := day(b, "2026-01-01")
	for i := range 366 {
		c.AddWorkingDays(start.AddDate(0, 0, i), 30) // fill the cache
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		c.AddWorkingDays(start.AddDate(0, 0, i%366), 1+i%20)
	}
}
