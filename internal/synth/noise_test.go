package synth

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/dancu-vn/dancu/internal/registry"
	"github.com/dancu-vn/dancu/internal/vnname"
)

// TestDuplicates checks that a duplicate is the same person as legacy data
// would hold them, and that the truth pairs are right.
func TestDuplicates(t *testing.T) {
	recs, pairs, _ := generate(t, Config{Count: 10000, Seed: 77, DupRate: 0.1})
	within(t, "duplicates per person", float64(len(pairs))/10000, 0.08, 0.12)
	at := make(map[string]int, len(recs))
	for i, r := range recs {
		at[r.PID] = i
	}
	var noMarks, nfd, typos, swapped, oldAddr, missing int
	for _, p := range pairs {
		i, ok1 := at[p.original]
		j, ok2 := at[p.duplicate]
		if !ok1 || !ok2 || p.original == p.duplicate {
			t.Fatalf("pair %v: not both in the output", p)
		}
		o, d := recs[i], recs[j]
		if j < i {
			t.Errorf("duplicate %s comes before its original %s", d.PID, o.PID)
		}
		if o.Household == nil || d.Household != nil || d.Father != nil || d.Mother != nil || d.Spouse != nil {
			t.Errorf("pair %v: the original must have a household and the duplicate neither household nor relatives", p)
		}
		if d.Sex != o.Sex {
			t.Errorf("pair %v: sex %s and %s", p, o.Sex, d.Sex)
		}
		switch d.BirthDate {
		case o.BirthDate:
		case o.BirthDate[:5] + o.BirthDate[8:10] + "-" + o.BirthDate[5:7]:
			swapped++
		default:
			t.Errorf("pair %v: born %s and %s", p, o.BirthDate, d.BirthDate)
		}
		a, b := vnname.Fold(o.Name.Full()), vnname.Fold(d.Name.Full())
		if a != b && editDistance(a, b) > 1 {
			t.Errorf("pair %v: %q and %q are more than one edit apart", p, o.Name.Full(), d.Name.Full())
		}
		full := d.Name.Full()
		switch {
		case a != b:
			typos++
		case !norm.NFC.IsNormalString(full):
			nfd++
		case full != o.Name.Full():
			noMarks++
		}
		if d.PermanentResidence.Scheme == "2022" {
			oldAddr++
		}
		if d.Ethnicity == nil || d.BirthRegistrationPlace == nil || d.Nationality == "" {
			missing++
		}
	}
	for what, n := range map[string]int{"without diacritics": noMarks, "in NFD": nfd, "with a typing error": typos,
		"with day and month swapped": swapped, "with a 2022 address": oldAddr, "with fields missing": missing} {
		if n < len(pairs)/50 {
			t.Errorf("only %d of %d duplicates %s", n, len(pairs), what)
		}
	}
}

// editDistance is the optimal string alignment distance of two strings:
// insertions, deletions, substitutions and swaps of neighbours.
func editDistance(a, b string) int {
	x, y := []rune(a), []rune(b)
	d := make([][]int, len(x)+1)
	for i := range d {
		d[i] = make([]int, len(y)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(x); i++ {
		for j := 1; j <= len(y); j++ {
			cost := 1
			if x[i-1] == y[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && x[i-1] == y[j-2] && x[i-2] == y[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(x)][len(y)]
}

func TestTypo(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	names := []registry.Name{
		{Family: "Nguyễn", Middle: "Thị Ngọc", Given: "Ánh"},
		{Family: "Giàng", Middle: "A", Given: "Páo"},
		{Family: "Niê", Given: "H'Hen"},
		{Family: "Lê", Given: "An"},
		{Family: "Thạch", Middle: "Thị", Given: "Sa Rết"},
	}
	for i := 0; i < 5000; i++ {
		n := names[i%len(names)]
		got := typo(r, n)
		if d := editDistance(got.Full(), n.Full()); d != 1 {
			t.Fatalf("typo(%q) = %q, %d edits", n.Full(), got.Full(), d)
		}
		for _, part := range []string{got.Family, got.Middle, got.Given} {
			if strings.Contains(part, "  ") || strings.TrimSpace(part) != part {
				t.Fatalf("typo(%q) = %q leaves a word empty", n.Full(), got.Full())
			}
			for _, c := range part {
				if !unicode.IsLetter(c) && c != ' ' && c != '\'' {
					t.Fatalf("typo(%q) = %q has %q", n.Full(), got.Full(), c)
				}
			}
		}
		if got.Family == "" || got.Given == "" {
			t.Fatalf("typo(%q) = %q", n.Full(), got.Full())
		}
	}
}

func TestStripMarksAndSwap(t *testing.T) {
	if got := stripMarks("Đặng Thị Ánh Tuyết Hòa H'Hen"); got != "Dang Thi Anh Tuyet Hoa H'Hen" {
		t.Errorf("stripMarks = %q", got)
	}
	for in, want := range map[string]string{"1990-05-07": "1990-07-05", "1990-05-13": "", "1990-05-05": "", "2001-12-01": "2001-01-12"} {
		got, ok := swapDayMonth(in)
		if got != want || ok != (want != "") {
			t.Errorf("swapDayMonth(%s) = %q, %v; want %q", in, got, ok, want)
		}
	}
}
