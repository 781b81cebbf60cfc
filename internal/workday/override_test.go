package workday

import (
	"strings"
	"testing"
	"time"

	"github.com/dancu-vn/dancu/internal/errs"
)

func TestParseOverrides(t *testing.T) {
	in := "\uFEFF# Tết 2026\n" +
		"2026-02-14 holiday   Tết (extra day)  \n" +
		"\n" +
		"   \t\n" +
		"2026-02-28 workday # makes up for 14 February\n" +
		"2026-12-31\tholiday\n"
	got, err := ParseOverrides(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Override{
		{Date: time.Date(2026, 2, 14, 0, 0, 0, 0, ict), Kind: DayOff, Name: "Tết (extra day)"},
		{Date: time.Date(2026, 2, 28, 0, 0, 0, 0, ict), Kind: WorkDay},
		{Date: time.Date(2026, 12, 31, 0, 0, 0, 0, ict), Kind: DayOff},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d overrides, want %d: %v", len(got), len(want), got)
	}
	for i := range want {
		if !got[i].Date.Equal(want[i].Date) || got[i].Kind != want[i].Kind || got[i].Name != want[i].Name {
			t.Errorf("override %d = %v, want %v", i, got[i], want[i])
		}
	}
	c := Vietnam().With(got...)
	if c.IsWorkingDay(want[0].Date) || !c.IsWorkingDay(want[1].Date) {
		t.Errorf("parsed overrides not applied")
	}
}

func TestParseOverridesErrors(t *testing.T) {
	tests := []struct {
		in   string
		want string // in the message
	}{
		{"2026-02-30 holiday", `line 1: bad date "2026-02-30": no such day`},
		{"# ok\n\n2026-13-01 workday", `line 3: bad date "2026-13-01": no such day`},
		{"2026-01-02 holiday\n26-02-01 holiday", `line 2: bad date "26-02-01": want YYYY-MM-DD`},
		{"2026/02/01 holiday", `line 1: bad date "2026/02/01"`},
		{"2026-02-01 holliday Tết", `line 1: unknown kind "holliday": want holiday or workday`},
		{"2026-02-01 Holiday", `line 1: unknown kind "Holiday"`},
		{"\n2026-02-01", `line 2: missing kind after 2026-02-01`},
		{"2026-02-01 holiday\n2026-02-01 workday", `line 2: 2026-02-01 is already overridden on line 1`},
		{strings.Repeat("x", 70000), `after line 0: cannot read`},
	}
	for _, tt := range tests {
		_, err := ParseOverrides(strings.NewReader(tt.in))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseOverrides(%.40q) error = %v, want one containing %q", tt.in, err, tt.want)
			continue
		}
		if !errs.Is(err, errs.Invalid) {
			t.Errorf("ParseOverrides(%.40q) error kind = %v, want invalid", tt.in, errs.KindOf(err))
		}
	}
}

// FuzzParseOverrides checks that ParseOverrides never panics and that what
// it accepts prints back, with Override.String, to text it reads the same.
func FuzzParseOverrides(f *testing.F) {
	f.Add("2026-02-14 holiday Tết\n2026-02-28 workday\n")
	f.Add("# comment\n\n2026-02-30 holiday")
	f.Add("\uFEFF2025-04-26 workday for 2 May # swap")
	f.Fuzz(func(t *testing.T, in string) {
		got, err := ParseOverrides(strings.NewReader(in))
		if err != nil {
			return
		}
		var b strings.Builder
		for _, o := range got {
			if o.Date.Hour() != 0 || o.Date.Location() != ict {
				t.Fatalf("%v: not midnight UTC+7", o)
			}
			b.WriteString(o.String() + "\n")
		}
		again, err := ParseOverrides(strings.NewReader(b.String()))
		if err != nil {
			t.Fatalf("reparsing %q: %v", b.String(), err)
		}
		if len(again) != len(got) {
			t.Fatalf("reparsing %q: %d overrides, want %d", b.String(), len(again), len(got))
		}
		for i := range got {
			if !again[i].Date.Equal(got[i].Date) || again[i].Kind != got[i].Kind || again[i].Name != got[i].Name {
				t.Fatalf("reparsing: %v, want %v", again[i], got[i])
			}
		}
	})
}
