package workday

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/dancu-vn/dancu/internal/errs"
)

// Kind is what an Override makes of its date.
type Kind int

// The kinds of Override.
const (
	DayOff  Kind = iota // a holiday: not a working day, whatever the day of the week
	WorkDay             // a working day, even a Saturday, Sunday or public holiday
)

// String returns the word that ParseOverrides reads for k.
func (k Kind) String() string {
	switch k {
	case DayOff:
		return "holiday"
	case WorkDay:
		return "workday"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// An Override is a government decision about one date: a day off added to
// the statutory holidays, or a day that is worked (typically a Saturday
// worked to bridge a holiday and a weekend).
type Override struct {
	Date time.Time // its civil date in UTC+7 is the date overridden
	Kind Kind
	Name string // the holiday's name, or why the day is worked; may be empty
}

// String formats the override as a line ParseOverrides reads.
func (o Override) String() string {
	s := dateOf(dayNumber(o.Date)).Format(time.DateOnly) + " " + o.Kind.String()
	if o.Name != "" {
		s += " " + o.Name
	}
	return s
}

// ParseOverrides reads overrides, one a line:
//
//	# Tết 2026: the Prime Minister's decision
//	2026-02-14 holiday Tết (extra day)
//	2026-02-28 workday makes up for 2026-02-14
//
// Each line is a date YYYY-MM-DD, the kind (holiday or workday) and an
// optional name, separated by spaces. A # starts a comment that runs to the
// end of the line; blank lines are skipped. A date may appear only once. The
// error, errs.Invalid for bad content, names the line and what is wrong.
func ParseOverrides(r io.Reader) ([]Override, error) {
	var out []Override
	seen := make(map[string]int)
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if line == 1 {
			text = strings.TrimPrefix(text, "\uFEFF") // a byte-order mark left by an editor
		}
		if i := strings.IndexByte(text, '#'); i >= 0 {
			text = text[:i]
		}
		f := strings.Fields(text)
		if len(f) == 0 {
			continue
		}
		date, err := parseDate(f[0])
		if err != nil {
			return nil, errs.E(errs.Invalid, "overrides, line %d: %v", line, err)
		}
		if len(f) < 2 {
			return nil, errs.E(errs.Invalid, "overrides, line %d: missing kind after %s: want holiday or workday", line, f[0])
		}
		var kind Kind
		switch f[1] {
		case "holiday":
			kind = DayOff
		case "workday":
			kind = WorkDay
		default:
			return nil, errs.E(errs.Invalid, "overrides, line %d: unknown kind %q: want holiday or workday", line, f[1])
		}
		if prev, ok := seen[f[0]]; ok {
			return nil, errs.E(errs.Invalid, "overrides, line %d: %s is already overridden on line %d", line, f[0], prev)
		}
		seen[f[0]] = line
		out = append(out, Override{Date: date, Kind: kind, Name: strings.Join(f[2:], " ")})
	}
	if err := sc.Err(); err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "overrides, after line %d: cannot read", line)
	}
	return out, nil
}

// parseDate reads a date written YYYY-MM-DD.
func parseDate(s string) (time.Time, error) {
	ok := len(s) == 10 && s[4] == '-' && s[7] == '-'
	for i := 0; ok && i < len(s); i++ {
		if i != 4 && i != 7 && (s[i] < '0' || s[i] > '9') {
			ok = false
		}
	}
	if !ok {
		return time.Time{}, fmt.Errorf("bad date %q: want YYYY-MM-DD", s)
	}
	t, err := time.ParseInLocation(time.DateOnly, s, ict)
	if err != nil {
		return time.Time{}, fmt.Errorf("bad date %q: no such day", s)
	}
	return t, nil
}
