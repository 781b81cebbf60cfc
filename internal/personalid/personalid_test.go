package personalid

import (
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		ok      bool
		errPart string
		prov    string
		sex     Sex
		year    int
	}{
		{"001090123456", true, "", "001", Male, 1990},
		{"079301000001", true, "", "079", Female, 2001},
		{"096299999999", true, "", "096", Male, 2099},
		{"001400000000", true, "", "001", Male, 2100},
		{"001590000000", true, "", "001", Female, 2190},
		{"001999000000", true, "", "001", Female, 2399},
		{"001190000000", true, "", "001", Female, 1990},
		{"00109012345", false, "12 digits", "", "", 0},
		{"0010901234567", false, "12 digits", "", "", 0},
		{"00109012345a", false, "only digits", "", "", 0},
		{"００1090123456", false, "12 digits", "", "", 0}, // full-width digits are more than 12 bytes
		{"003090123456", false, "003 is not a province", "", "", 0},
		{"000090123456", false, "province", "", "", 0},
		{"097090123456", false, "province", "", "", 0},
		{"", false, "12 digits", "", "", 0},
	}
	for _, tt := range tests {
		n, err := Parse(tt.in)
		if tt.ok != (err == nil) {
			t.Errorf("Parse(%q) err = %v, want ok=%v", tt.in, err, tt.ok)
			continue
		}
		if !tt.ok {
			if !strings.Contains(err.Error(), tt.errPart) {
				t.Errorf("Parse(%q) err = %q, want it to mention %q", tt.in, err, tt.errPart)
			}
			continue
		}
		if n.Province() != tt.prov || n.Sex() != tt.sex || n.BirthYear() != tt.year {
			t.Errorf("Parse(%q) = province %s sex %s year %d, want %s %s %d", tt.in, n.Province(), n.Sex(), n.BirthYear(), tt.prov, tt.sex, tt.year)
		}
	}
}

func TestAllSixtyThreeProvinces(t *testing.T) {
	codes := ProvinceCodes()
	if len(codes) != 63 {
		t.Fatalf("%d province codes, want 63", len(codes))
	}
	for _, c := range codes {
		if _, err := Parse(c + "090123456"); err != nil {
			t.Errorf("province %s refused: %v", c, err)
		}
	}
}

func TestCheck(t *testing.T) {
	d := func(s string) time.Time { v, _ := time.Parse("2006-01-02", s); return v }
	n, _ := Parse("001090123456")
	if err := n.Check(d("1990-05-17"), Male); err != nil {
		t.Errorf("agreeing data refused: %v", err)
	}
	if err := n.Check(d("1991-05-17"), Male); err == nil || !strings.Contains(err.Error(), "birth_date") {
		t.Errorf("wrong year accepted or unnamed: %v", err)
	}
	if err := n.Check(d("1990-05-17"), Female); err == nil || !strings.Contains(err.Error(), "sex") {
		t.Errorf("wrong sex accepted or unnamed: %v", err)
	}
	// 2090 and 1990 share YY but not the century digit.
	if err := n.Check(d("2090-05-17"), Male); err == nil {
		t.Error("wrong century accepted")
	}
}

func TestPrefixAndNew(t *testing.T) {
	tests := []struct {
		prov string
		sex  Sex
		year int
		want string
	}{
		{"001", Male, 1990, "001090"},
		{"001", Female, 1990, "001190"},
		{"079", Male, 2026, "079226"},
		{"079", Female, 2000, "079300"},
		{"048", Female, 2105, "048505"},
	}
	for _, tt := range tests {
		p, err := Prefix(tt.prov, tt.sex, tt.year)
		if err != nil || p != tt.want {
			t.Errorf("Prefix(%s,%s,%d) = %q, %v; want %q", tt.prov, tt.sex, tt.year, p, err, tt.want)
			continue
		}
		n := New(p)
		back, err := Parse(string(n))
		if err != nil || back.BirthYear() != tt.year || back.Sex() != tt.sex || back.Province() != tt.prov {
			t.Errorf("New(%s) = %s does not decode back (%v)", p, n, err)
		}
	}
	for _, bad := range []struct {
		prov string
		sex  Sex
		year int
	}{{"003", Male, 1990}, {"001", Male, 1899}, {"001", Male, 2400}, {"001", "x", 1990}} {
		if _, err := Prefix(bad.prov, bad.sex, bad.year); err == nil {
			t.Errorf("Prefix(%v) accepted", bad)
		}
	}
}

func TestNewTailsSpread(t *testing.T) {
	seen := map[Number]bool{}
	for i := 0; i < 2000; i++ {
		seen[New("001090")] = true
	}
	if len(seen) < 1990 {
		t.Fatalf("only %d distinct tails in 2000 draws", len(seen))
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"001090123456", "079301000001", "003090123456", "", "abc", "0010901234567"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := Parse(s)
		if err != nil {
			return
		}
		if n.String() != s || len(s) != 12 {
			t.Fatalf("Parse(%q) = %q", s, n)
		}
		y := n.BirthYear()
		if y < 1900 || y > 2399 {
			t.Fatalf("year %d out of range for %q", y, s)
		}
		p, err := Prefix(n.Province(), n.Sex(), y)
		if err != nil || p != s[:6] {
			t.Fatalf("Prefix round trip of %q = %q, %v", s, p, err)
		}
	})
}

func BenchmarkParse(b *testing.B) {
	for b.Loop() {
		if _, err := Parse("079301000001"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNew(b *testing.B) {
	for b.Loop() {
		New("079301")
	}
}
